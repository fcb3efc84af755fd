//! Results as the pages show them (the JSON row of the API and the downloads is
//! [`crate::services::results::ResultJson`]).

pub mod map;

use serde::Serialize;

use crate::i18n::{Arg, Lang, t};
use crate::services::campaigns::OpenCampaign;
use crate::services::results::{CampaignResults, Level, Published, ResultRow, Suppression};

/// What every results page shows at the top: campaign, index choice, publication.
#[derive(Debug, Serialize)]
pub struct ResultsHeader {
    pub slug: String,
    pub campaign: String,
    pub index: String,
    pub index_name: String,
    /// The index is a dimension score (points out of 100), not a share (%).
    pub score: bool,
    /// How its estimates read: `share` (×100, "%"), `points` (×100 out of 100) or `value`
    /// (a mean or a sum on its own scale, e.g. 1–10), for the `est` filter.
    pub unit: &'static str,
    /// After a number: "%" for a share, nothing otherwise.
    pub suffix: &'static str,
    /// The scale of a value index, e.g. "1–10" (empty otherwise).
    pub scale: String,
    /// Words for this unit: the estimate column's header, the note beside a big number,
    /// the forest plot's legend and the method.
    pub estimate_col: String,
    pub unit_note: String,
    pub forest_legend: String,
    pub method: String,
    /// The family of the index (perception, satisfaction, expectation), in words.
    pub family: String,
    pub indices: Vec<IndexOption>,
    pub level: &'static str,
    /// The publication shown: its number and date (never a time of day).
    pub publication: i64,
    pub published_on: String,
    pub calibration: String,
    pub min_n: u32,
    pub min_df: u32,
    /// What the model-based mark means, when some commune has a model-based estimate.
    pub model_note: Option<String>,
    /// Why this index has no model-based commune estimates, when its model failed.
    pub model_reason: Option<String>,
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
        let node = r.node(index);
        let unit = Unit::of(node);
        ResultsHeader {
            unit: unit.kind,
            suffix: if unit.kind == "share" { "%" } else { "" },
            estimate_col: unit.words(lang, "col"),
            unit_note: unit.words(lang, "note"),
            forest_legend: unit.words(lang, "legend"),
            method: unit.words(lang, "method"),
            scale: unit.scale.clone(),
            family: node
                .and_then(|n| n.family.as_deref())
                .map(|f| t(lang, &format!("results-family-{f}"), &[]))
                .unwrap_or_default(),
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
                    name: match n.family.as_deref() {
                        Some(f) => format!(
                            "{} · {}",
                            t(lang, &format!("results-family-{f}"), &[]),
                            n.name(lang)
                        ),
                        None => n.name(lang).to_owned(),
                    },
                    current: n.key == index,
                })
                .collect(),
            level: level.as_str(),
            publication: fresh.number,
            published_on: crate::domain::publication::vietnam_date_text(fresh.published_on),
            calibration,
            min_n: r.min_n,
            min_df: r.min_df,
            model_note: (!r.small_area.rows.is_empty()).then(|| t(lang, "sae-note-general", &[])),
            model_reason: r.small_area.fit(index).filter(|f| !f.published).map(|f| {
                let words: Vec<String> = f
                    .reasons
                    .iter()
                    .map(|c| t(lang, &format!("sae-reason-{}", c.replace('_', "-")), &[]))
                    .collect();
                t(
                    lang,
                    "sae-not-published",
                    &[("reason", Arg::from(words.join("; ")))],
                )
            }),
        }
    }
}

/// The unit an index's estimates are read in, from its nodes.
struct Unit {
    kind: &'static str,
    /// `1–10`, for a value.
    scale: String,
    /// A share of some answers, not of satisfied ones (perception, expectation, indicators).
    plain_share: bool,
}

impl Unit {
    fn of(node: Option<&crate::services::results::IndexNode>) -> Unit {
        let plain_share = node
            .and_then(|n| n.family.as_deref())
            .is_some_and(|f| f != "satisfaction");
        match node {
            Some(n) if n.score => Unit {
                kind: "points",
                scale: String::new(),
                plain_share,
            },
            Some(n) => match n.range {
                Some([lo, hi]) => Unit {
                    kind: "value",
                    scale: format!("{}–{}", short(lo), short(hi)),
                    plain_share,
                },
                None => Unit {
                    kind: "share",
                    scale: String::new(),
                    plain_share,
                },
            },
            None => Unit {
                kind: "share",
                scale: String::new(),
                plain_share,
            },
        }
    }

    /// The words of `what` (`col`, `note`, `legend`, `method`) for this unit.
    fn words(&self, lang: Lang, what: &str) -> String {
        let range = [("range", Arg::from(self.scale.clone()))];
        let key = match (self.kind, what) {
            ("points", "col") => "results-score-estimate-ci",
            ("points", "note") => "results-points",
            ("points", "legend") => "results-score-forest-legend",
            ("points", _) => "results-method-score",
            ("value", "col") => "results-value-estimate-ci",
            ("value", "note") => "results-value-scale",
            ("value", "legend") => "results-value-forest-legend",
            ("value", _) => "results-method-value",
            (_, "col") if self.plain_share => "results-share-estimate-ci",
            (_, "col") => "results-estimate-ci",
            (_, "note") => "results-percent",
            (_, "legend") => "results-forest-legend",
            _ if self.plain_share => "results-method-share",
            _ => "results-method-ci",
        };
        t(lang, key, &range)
    }
}

/// A bound as written: `10`, not `10.0`; `0.5` as it is.
fn short(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{}", (x * 100.0).round() / 100.0)
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
    /// Why there is no number, in a few plain words (empty when there is one).
    pub reason: String,
    pub href: Option<String>,
    /// For a suppressed row: the level above, to look at instead.
    pub instead: Option<ParentView>,
    /// The commune's model-based estimate, if its model is published.
    pub model: Option<ModelView>,
}

/// A model-based (small-area) estimate as a page shows it, beside the direct one.
#[derive(Debug, Clone, Serialize)]
pub struct ModelView {
    pub estimate: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Synthetic only (fewer than `min_n` respondents).
    pub synthetic: bool,
    /// What it is, in plain words.
    pub note: String,
}

impl ModelView {
    pub fn of(
        results: &CampaignResults,
        locality: &str,
        index: &str,
        lang: Lang,
    ) -> Option<ModelView> {
        let m = results.small_area.row(locality, index)?;
        Some(ModelView {
            estimate: m.estimate,
            ci_low: m.ci_low,
            ci_high: m.ci_high,
            synthetic: !m.sampled,
            note: t(lang, m.note_key(), &[]),
        })
    }
}

/// The result of the level above a locality (its province, or the whole country), shown
/// where the locality's own number is not published.
#[derive(Debug, Clone, Serialize)]
pub struct ParentView {
    pub code: String,
    pub name: String,
    pub href: String,
    pub estimate: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub suppressed: bool,
}

pub(super) fn reason_text(r: Option<Suppression>, results: &CampaignResults, lang: Lang) -> String {
    r.map(|r| r.words(results, lang)).unwrap_or_default()
}

/// The link to a locality's page (the overview for the whole country).
fn locality_href(slug: &str, code: &str, index: &str) -> String {
    if code == crate::services::results::NATIONAL {
        format!("/results/{slug}?index={}", crate::views::encode_path(index))
    } else {
        format!(
            "/results/{slug}/locality/{code}?index={}",
            crate::views::encode_path(index)
        )
    }
}

impl ParentView {
    /// The result one level above `locality` for the same index, if it has one.
    pub fn of(
        results: &CampaignResults,
        locality: &str,
        index: &str,
        slug: &str,
        lang: Lang,
    ) -> Option<ParentView> {
        let loc = results.locality(locality)?;
        let parent = match loc.level {
            Level::National => return None,
            Level::Province => crate::services::results::NATIONAL,
            Level::Commune => loc.parent.as_deref()?,
        };
        let row = results.row(parent, index)?;
        Some(ParentView {
            code: parent.to_owned(),
            name: results
                .locality(parent)
                .map(|l| l.name(lang))
                .unwrap_or_else(|| parent.to_owned()),
            href: locality_href(slug, parent, index),
            estimate: row.estimate,
            ci_low: row.ci_low,
            ci_high: row.ci_high,
            suppressed: row.suppressed,
        })
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
            instead: row
                .suppressed
                .then(|| ParentView::of(results, &row.locality, &row.index, slug, lang))
                .flatten(),
            model: ModelView::of(results, &row.locality, &row.index, lang),
        }
    }
}

/// A view whose every row is suppressed, said once instead of row by row: why, and the
/// results of the level above to look at instead.
#[derive(Debug, Serialize)]
pub struct Collapsed {
    pub title: String,
    pub why: String,
    /// The distinct levels above the rows, in the order of the rows.
    pub instead: Vec<ParentView>,
}

impl Collapsed {
    /// `None` unless there are rows and none of them has a number.
    pub fn of(
        rows: &[&ResultRow],
        results: &CampaignResults,
        level: Level,
        slug: &str,
        lang: Lang,
    ) -> Option<Collapsed> {
        if rows.is_empty() || rows.iter().any(|r| !r.suppressed) {
            return None;
        }
        // The most frequent reason speaks for the view.
        let mut counts: Vec<(Suppression, usize)> = Vec::new();
        for reason in rows.iter().filter_map(|r| r.reason) {
            match counts.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, n)) => *n += 1,
                None => counts.push((reason, 1)),
            }
        }
        let reason = counts
            .iter()
            .max_by_key(|(_, n)| *n)
            .map_or(Suppression::NotEstimable, |(r, _)| *r);
        let mut instead: Vec<ParentView> = Vec::new();
        for r in rows {
            if let Some(p) = ParentView::of(results, &r.locality, &r.index, slug, lang)
                && !instead.iter().any(|q| q.code == p.code)
            {
                instead.push(p);
            }
        }
        Some(Collapsed {
            title: t(
                lang,
                "results-none-shown",
                &[("level", Arg::from(level.as_str()))],
            ),
            why: reason.explanation(results, lang, false),
            instead,
        })
    }
}

mod compare;
mod families;
mod forest;
mod locality;
mod overview;
mod ranks;
mod table;

pub use compare::{ChangeView, ComparePage, WaveOption, WavePicker};
pub use forest::{ForestPage, ForestRow, Tick};
pub use locality::{BreakdownRow, LocalityPage, RowLink};
pub use overview::{FieldworkView, OverviewPage, TargetView};
pub use ranks::{RankView, RanksPage};
pub use table::{SortKey, TablePage, sort_rows};
