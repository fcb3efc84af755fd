//! The overview: the national headline, provinces, fieldwork and targets.

use serde::Serialize;

use crate::i18n::{Arg, Lang, t};
use crate::services::campaigns::OpenCampaign;
use crate::services::results::{CampaignResults, Fieldwork, Level, Published};
use crate::views::Chrome;

use super::{ResultsHeader, RowView};

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
    pub waves: super::WavePicker,
    /// The tile map of the provinces.
    pub map: Option<super::map::MapView>,
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
            waves: super::WavePicker::default(),
            // Maps read shares and scores (0–1); a value index (a mean, a PAPI sum) has none.
            map: r
                .node(index)
                .is_none_or(|n| n.range.is_none())
                .then(|| super::map::provinces(lang, r, slug, index)),
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
