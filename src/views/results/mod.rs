//! Results as the pages show them (the JSON row of the API and the downloads is
//! [`crate::services::results::ResultJson`]).

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

pub(super) fn reason_text(r: Option<Suppression>, results: &CampaignResults, lang: Lang) -> String {
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

mod compare;
mod forest;
mod locality;
mod overview;
mod ranks;
mod table;

pub use compare::{ChangeView, ComparePage};
pub use forest::{ForestPage, ForestRow, Tick};
pub use locality::{BreakdownRow, LocalityPage, RowLink};
pub use overview::{FieldworkView, OverviewPage, TargetView};
pub use ranks::{RankView, RanksPage};
pub use table::{SortKey, TablePage, sort_rows};
