//! Results as the pages show them (the JSON row of the API and the downloads is
//! [`crate::services::results::ResultJson`]).

use serde::Serialize;

use crate::i18n::{Arg, Lang, t};
use crate::services::campaigns::OpenCampaign;
use crate::services::results::{
    CampaignResults, Fieldwork, Level, Published, RankBand, ResultRow, Suppression, rank_bands,
};

use super::Chrome;

/// What every results page shows at the top: campaign, index choice, publication.
#[derive(Debug, Serialize)]
pub struct ResultsHeader {
    pub slug: String,
    pub campaign: String,
    pub index: String,
    pub index_name: String,
    /// The index is a dimension score (points out of 100), not a share (%).
    pub score: bool,
    pub indices: Vec<IndexOption>,
    pub level: &'static str,
    /// The publication shown: its number and date (never a time of day).
    pub publication: i64,
    pub published_on: String,
    pub calibration: String,
    pub min_n: u32,
    pub min_df: u32,
}

#[derive(Debug, Serialize)]
pub struct IndexOption {
    pub key: String,
    pub name: String,
    pub current: bool,
}

impl ResultsHeader {
    pub fn new(
        campaign: &OpenCampaign,
        fresh: &Published,
        index: &str,
        level: Level,
        lang: Lang,
    ) -> ResultsHeader {
        let r = &fresh.results;
        let campaign_name = lang
            .pick(&campaign.campaign.name_vi, &campaign.campaign.name_en)
            .to_owned();
        let calibration = match &r.calibration {
            crate::services::results::CalibrationNote::None => {
                t(lang, "results-calibration-none", &[])
            }
            crate::services::results::CalibrationNote::Calibrated { variables } => t(
                lang,
                "results-calibration-done",
                &[("variables", Arg::from(variables.join(", ")))],
            ),
            crate::services::results::CalibrationNote::Skipped { reason } => t(
                lang,
                "results-calibration-skipped",
                &[("reason", Arg::from(reason.clone()))],
            ),
        };
        ResultsHeader {
            slug: campaign.campaign.slug.clone(),
            campaign: campaign_name,
            index: index.to_owned(),
            index_name: r
                .node(index)
                .map(|n| n.name(lang).to_owned())
                .unwrap_or_default(),
            score: r.node(index).is_some_and(|n| n.score),
            indices: r
                .nodes
                .iter()
                .filter(|n| n.depth == 0)
                .map(|n| IndexOption {
                    key: n.key.clone(),
                    name: n.name(lang).to_owned(),
                    current: n.key == index,
                })
                .collect(),
            level: level.as_str(),
            publication: fresh.number,
            published_on: fresh.published_on.format("%Y-%m-%d").to_string(),
            calibration,
            min_n: r.min_n,
            min_df: r.min_df,
        }
    }
}

/// One estimate as a page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RowView {
    pub code: String,
    pub name: String,
    pub estimate: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub se: Option<f64>,
    pub n: u64,
    pub suppressed: bool,
    pub reason: String,
    pub href: Option<String>,
}

fn reason_text(r: Option<Suppression>, results: &CampaignResults, lang: Lang) -> String {
    match r {
        None => String::new(),
        Some(Suppression::TooFewRespondents) => t(
            lang,
            "results-reason-too-few-respondents",
            &[("min", Arg::from(u64::from(results.min_n)))],
        ),
        Some(Suppression::TooFewPsus) => t(
            lang,
            "results-reason-too-few-psus",
            &[("min", Arg::from(u64::from(results.min_df)))],
        ),
        Some(Suppression::NotEstimable) => t(lang, "results-reason-not-estimable", &[]),
    }
}

impl RowView {
    pub fn new(row: &ResultRow, results: &CampaignResults, slug: &str, lang: Lang) -> RowView {
        RowView {
            code: row.locality.clone(),
            name: results
                .locality(&row.locality)
                .map(|l| l.name(lang))
                .unwrap_or_else(|| row.locality.clone()),
            estimate: row.estimate,
            ci_low: row.ci_low,
            ci_high: row.ci_high,
            se: row.se,
            n: row.n,
            suppressed: row.suppressed,
            reason: reason_text(row.reason, results, lang),
            href: Some(format!("/results/{slug}/locality/{}", row.locality)),
        }
    }
}

/// `/results/{slug}`.
#[derive(Debug, Serialize)]
pub struct OverviewPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub head: ResultsHeader,
    pub national: Option<RowView>,
    pub responses: u64,
    pub provinces: Vec<RowView>,
    pub fieldwork: Vec<FieldworkView>,
    pub fieldwork_total: u64,
    pub fieldwork_target: u64,
    pub skipped: Vec<String>,
    pub targets: Vec<TargetView>,
}

#[derive(Debug, Serialize)]
pub struct FieldworkView {
    pub code: String,
    pub name: String,
    pub responses: u64,
    pub target: Option<u64>,
    /// Percentage of the target reached, capped at 100 for the bar.
    pub pct: Option<f64>,
    pub bar: f64,
}

impl OverviewPage {
    pub fn new(
        lang: Lang,
        path: &str,
        campaign: &OpenCampaign,
        fresh: &Published,
        index: &str,
        fieldwork: &[Fieldwork],
    ) -> OverviewPage {
        let r = &fresh.results;
        let slug = &campaign.campaign.slug;
        let national = r
            .row(crate::services::results::NATIONAL, index)
            .map(|row| RowView::new(row, r, slug, lang));
        let provinces = r
            .level_rows(Level::Province, index)
            .into_iter()
            .map(|row| RowView::new(row, r, slug, lang))
            .collect();
        let names: std::collections::HashMap<&str, &str> = campaign
            .localities
            .iter()
            .map(|l| (l.code.as_str(), l.name(lang)))
            .collect();
        let fieldwork: Vec<FieldworkView> = fieldwork
            .iter()
            .map(|f| {
                let pct = f
                    .target
                    .filter(|t| *t > 0)
                    .map(|t| f.responses as f64 / t as f64 * 100.0);
                FieldworkView {
                    code: f.code.clone(),
                    name: names
                        .get(f.code.as_str())
                        .map_or_else(|| f.code.clone(), |s| (*s).to_owned()),
                    responses: f.responses,
                    target: f.target,
                    pct,
                    bar: pct.unwrap_or(0.0).min(100.0),
                }
            })
            .collect();
        OverviewPage {
            chrome: Chrome::new(lang, path),
            head: ResultsHeader::new(campaign, fresh, index, Level::National, lang),
            national,
            responses: r.responses,
            provinces,
            fieldwork_total: fieldwork.iter().map(|f| f.responses).sum(),
            fieldwork_target: fieldwork.iter().filter_map(|f| f.target).sum(),
            fieldwork,
            skipped: r.skipped_indices.clone(),
            targets: Vec::new(),
        }
    }
}

/// How the locality table is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    EstimateDesc,
    EstimateAsc,
    Name,
    N,
}

impl SortKey {
    pub fn parse(s: Option<&str>) -> SortKey {
        match s {
            Some("estimate") => SortKey::EstimateAsc,
            Some("name") => SortKey::Name,
            Some("n") => SortKey::N,
            _ => SortKey::EstimateDesc,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::EstimateDesc => "-estimate",
            SortKey::EstimateAsc => "estimate",
            SortKey::Name => "name",
            SortKey::N => "n",
        }
    }
}

/// Sorts rows; suppressed rows always go last (they have no number to sort by).
pub fn sort_rows(rows: &mut [RowView], key: SortKey) {
    rows.sort_by(|a, b| {
        let ea = a.estimate.unwrap_or(f64::NAN);
        let eb = b.estimate.unwrap_or(f64::NAN);
        a.suppressed.cmp(&b.suppressed).then_with(|| match key {
            SortKey::EstimateDesc => eb.total_cmp(&ea),
            SortKey::EstimateAsc => ea.total_cmp(&eb),
            SortKey::Name => a.name.cmp(&b.name),
            SortKey::N => b.n.cmp(&a.n),
        })
    });
}

/// `/results/{slug}/localities`.
#[derive(Debug, Serialize)]
pub struct TablePage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub head: ResultsHeader,
    pub sort: &'static str,
    pub rows: Vec<RowView>,
    pub levels: Vec<&'static str>,
}

impl TablePage {
    pub fn new(
        lang: Lang,
        path: &str,
        campaign: &OpenCampaign,
        fresh: &Published,
        index: &str,
        level: Level,
        sort: SortKey,
    ) -> TablePage {
        let r = &fresh.results;
        let mut rows: Vec<RowView> = r
            .level_rows(level, index)
            .into_iter()
            .map(|row| RowView::new(row, r, &campaign.campaign.slug, lang))
            .collect();
        sort_rows(&mut rows, sort);
        TablePage {
            chrome: Chrome::new(lang, path),
            head: ResultsHeader::new(campaign, fresh, index, level, lang),
            sort: sort.as_str(),
            rows,
            levels: vec!["province", "commune"],
        }
    }
}

/// `/results/{slug}/forest`: each locality's estimate with its interval as an SVG bar.
#[derive(Debug, Serialize)]
pub struct ForestPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub head: ResultsHeader,
    pub rows: Vec<ForestRow>,
    /// Position (0–100) of the national estimate, if shown.
    pub national_x: Option<f64>,
    pub national: Option<f64>,
    pub ticks: Vec<Tick>,
    pub levels: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct ForestRow {
    pub row: RowView,
    pub x: Option<f64>,
    pub x_low: Option<f64>,
    pub x_high: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Tick {
    pub x: f64,
    pub label: String,
}

impl ForestPage {
    pub fn new(
        lang: Lang,
        path: &str,
        campaign: &OpenCampaign,
        fresh: &Published,
        index: &str,
        level: Level,
    ) -> ForestPage {
        let r = &fresh.results;
        let mut rows: Vec<RowView> = r
            .level_rows(level, index)
            .into_iter()
            .map(|row| RowView::new(row, r, &campaign.campaign.slug, lang))
            .collect();
        sort_rows(&mut rows, SortKey::EstimateDesc);
        let national = r
            .row(crate::services::results::NATIONAL, index)
            .and_then(|n| n.estimate);
        // Axis: 5-point steps around every interval and the national line.
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for v in rows
            .iter()
            .flat_map(|r| [r.ci_low, r.ci_high])
            .chain([national])
            .flatten()
        {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        let lo = ((lo * 20.0).floor() / 20.0).max(0.0);
        let mut hi = ((hi * 20.0).ceil() / 20.0).min(1.0).max(lo + 0.05);
        let mut steps = ((hi - lo) / 0.05).round() as usize;
        let every = if steps > 8 { 2 } else { 1 };
        // Labels are spread evenly, so the last tick must fall on the axis' end.
        if !steps.is_multiple_of(every) {
            steps += 1;
            hi = lo + steps as f64 * 0.05;
        }
        let x = |v: f64| (v - lo) / (hi - lo) * 100.0;
        let mut ticks = Vec::new();
        for i in (0..=steps).step_by(every) {
            let v = lo + i as f64 * 0.05;
            ticks.push(Tick {
                x: x(v),
                label: format!("{:.0}", v * 100.0),
            });
        }
        ForestPage {
            chrome: Chrome::new(lang, path),
            head: ResultsHeader::new(campaign, fresh, index, level, lang),
            rows: rows
                .into_iter()
                .map(|row| ForestRow {
                    x: row.estimate.map(x),
                    x_low: row.ci_low.map(x),
                    x_high: row.ci_high.map(x),
                    row,
                })
                .collect(),
            national_x: national.map(x),
            national,
            ticks,
            levels: vec!["province", "commune"],
        }
    }
}

/// `/results/{slug}/locality/{code}`: the index, its elements and criteria in one locality.
#[derive(Debug, Serialize)]
pub struct LocalityPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub head: ResultsHeader,
    pub code: String,
    pub name: String,
    pub parent: Option<RowLink>,
    pub responses: u64,
    pub rows: Vec<BreakdownRow>,
}

#[derive(Debug, Serialize)]
pub struct RowLink {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct BreakdownRow {
    pub depth: u8,
    pub code: String,
    pub name: String,
    pub row: Option<RowView>,
    /// Bar length 0–100 of the estimate and its interval.
    pub x: Option<f64>,
    pub x_low: Option<f64>,
    pub x_high: Option<f64>,
}

impl LocalityPage {
    pub fn new(
        lang: Lang,
        path: &str,
        campaign: &OpenCampaign,
        fresh: &Published,
        index: &str,
        code: &str,
    ) -> Option<LocalityPage> {
        let r = &fresh.results;
        let loc = r.locality(code)?;
        let prefix = format!("{index}/");
        let rows = r
            .nodes
            .iter()
            .filter(|n| n.key == index || n.key.starts_with(&prefix))
            .map(|n| {
                let row = r
                    .row(code, &n.key)
                    .map(|row| RowView::new(row, r, &campaign.campaign.slug, lang));
                let pct = |v: Option<f64>| v.map(|v| (v * 100.0).clamp(0.0, 100.0));
                BreakdownRow {
                    depth: n.depth,
                    code: n.code.clone(),
                    name: n.name(lang).to_owned(),
                    x: pct(row.as_ref().and_then(|r| r.estimate)),
                    x_low: pct(row.as_ref().and_then(|r| r.ci_low)),
                    x_high: pct(row.as_ref().and_then(|r| r.ci_high)),
                    row,
                }
            })
            .collect();
        Some(LocalityPage {
            chrome: Chrome::new(lang, path),
            head: ResultsHeader::new(campaign, fresh, index, loc.level, lang),
            code: code.to_owned(),
            name: loc.name(lang),
            parent: loc
                .parent
                .as_deref()
                .and_then(|p| r.locality(p))
                .map(|p| RowLink {
                    code: p.code.clone(),
                    name: p.name(lang),
                }),
            responses: loc.responses,
            rows,
        })
    }
}

/// `/results/{slug}/ranks`: rank bands instead of a false strict ranking.
#[derive(Debug, Serialize)]
pub struct RanksPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub head: ResultsHeader,
    pub rows: Vec<RankView>,
    pub count: usize,
    pub levels: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct RankView {
    pub row: RowView,
    pub band: Option<RankBand>,
    /// Where the band starts and ends on a 0–100 bar of ranks 1..count.
    pub x_best: Option<f64>,
    pub x_worst: Option<f64>,
}

impl RanksPage {
    pub fn new(
        lang: Lang,
        path: &str,
        campaign: &OpenCampaign,
        fresh: &Published,
        index: &str,
        level: Level,
    ) -> RanksPage {
        let r = &fresh.results;
        let rows = r.level_rows(level, index);
        let bands = rank_bands(&rows);
        let count = bands.iter().flatten().count();
        // Rank r occupies the cell [(r − 1)/count, r/count] of the bar.
        let cell = 100.0 / count.max(1) as f64;
        let mut views: Vec<RankView> = rows
            .iter()
            .zip(bands)
            .map(|(row, band)| RankView {
                row: RowView::new(row, r, &campaign.campaign.slug, lang),
                x_best: band.map(|b| (b.best - 1) as f64 * cell),
                x_worst: band.map(|b| b.worst as f64 * cell),
                band,
            })
            .collect();
        views.sort_by(|a, b| {
            let ka = a
                .band
                .map_or((usize::MAX, usize::MAX), |b| (b.best, b.worst));
            let kb = b
                .band
                .map_or((usize::MAX, usize::MAX), |b| (b.best, b.worst));
            ka.cmp(&kb).then_with(|| {
                b.row
                    .estimate
                    .unwrap_or(f64::NAN)
                    .total_cmp(&a.row.estimate.unwrap_or(f64::NAN))
            })
        });
        RanksPage {
            chrome: Chrome::new(lang, path),
            head: ResultsHeader::new(campaign, fresh, index, level, lang),
            rows: views,
            count,
            levels: vec!["province", "commune"],
        }
    }
}

/// `/results/{slug}/compare?with=OTHER`: the change of every locality since another wave.
#[derive(Debug, Serialize)]
pub struct ComparePage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub head: ResultsHeader,
    pub with: String,
    pub with_name: String,
    pub rows: Vec<ChangeView>,
    pub levels: Vec<&'static str>,
    /// The earlier wave was re-aggregated to today's units (see the page's note).
    pub reaggregated: bool,
}

#[derive(Debug, Serialize)]
pub struct ChangeView {
    pub name: String,
    pub change: crate::services::results::Change,
    pub reason: String,
}

impl ComparePage {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        lang: Lang,
        path: &str,
        campaign: &OpenCampaign,
        fresh: &Published,
        previous: &CampaignResults,
        with: (&str, String),
        index: &str,
        level: Level,
    ) -> ComparePage {
        let r = &fresh.results;
        let rows = crate::services::results::compare(r, previous, level, index)
            .into_iter()
            .map(|c| ChangeView {
                name: r
                    .locality(&c.locality)
                    .map(|l| l.name(lang))
                    .unwrap_or_else(|| c.locality.clone()),
                reason: reason_text(c.reason, r, lang),
                change: c,
            })
            .collect();
        ComparePage {
            chrome: Chrome::new(lang, path),
            head: ResultsHeader::new(campaign, fresh, index, level, lang),
            with: with.0.to_owned(),
            with_name: with.1,
            rows,
            levels: vec!["national", "province", "commune"],
            reaggregated: false,
        }
    }
}

/// A target as the overview shows it.
#[derive(Debug, Serialize)]
pub struct TargetView {
    pub id: i64,
    pub locality: String,
    pub index: String,
    pub goal: String,
    pub status: &'static str,
    pub status_text: String,
    pub reason: String,
}

impl TargetView {
    pub fn new(
        o: &crate::services::targets::TargetOutcome,
        results: &CampaignResults,
        lang: Lang,
    ) -> TargetView {
        use crate::services::targets::{TargetKind, TargetStatus};
        let goal = match o.kind {
            TargetKind::AtLeast => t(
                lang,
                "targets-goal-at-least",
                &[("value", Arg::from(format!("{:.1}", o.value * 100.0)))],
            ),
            TargetKind::Gain => t(
                lang,
                "targets-goal-gain",
                &[
                    ("value", Arg::from(format!("{:+.1}", o.value * 100.0))),
                    (
                        "baseline",
                        Arg::from(o.baseline.clone().unwrap_or_default()),
                    ),
                ],
            ),
            TargetKind::Top => t(
                lang,
                "targets-goal-top",
                &[("value", Arg::from(o.value.round() as u64))],
            ),
        };
        let status = match o.status {
            TargetStatus::Met => "met",
            TargetStatus::Missed => "missed",
            TargetStatus::Undecided => "undecided",
        };
        TargetView {
            id: o.id,
            locality: results
                .locality(&o.locality)
                .map(|l| l.name(lang))
                .unwrap_or_else(|| o.locality.clone()),
            index: results
                .node(&o.index)
                .map(|n| n.name(lang).to_owned())
                .unwrap_or_else(|| o.index.clone()),
            goal,
            status,
            status_text: t(lang, &format!("targets-status-{status}"), &[]),
            reason: o
                .reason
                .map(|r| {
                    t(
                        lang,
                        &format!("targets-reason-{}", r.replace('_', "-")),
                        &[],
                    )
                })
                .unwrap_or_default(),
        }
    }
}
