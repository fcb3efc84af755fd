//! Results as the API, the downloads and the pages show them.

use serde::Serialize;

use crate::i18n::Lang;
use crate::services::results::{CampaignResults, ResultRow};

/// One row of `GET /api/v1/campaigns/{slug}/results` and of the CSV/XLSX downloads.
/// Suppressed rows keep every key, with null numbers.
#[derive(Debug, Clone, Serialize)]
pub struct ResultJson {
    pub locality: String,
    pub name: String,
    pub index: String,
    pub estimate: Option<f64>,
    pub se: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub df: i64,
    pub n: u64,
    pub deff: Option<f64>,
    pub suppressed: bool,
    pub reason: Option<&'static str>,
}

impl ResultJson {
    pub fn new(row: &ResultRow, results: &CampaignResults, lang: Lang) -> ResultJson {
        ResultJson {
            locality: row.locality.clone(),
            name: results
                .locality(&row.locality)
                .map(|l| l.name(lang))
                .unwrap_or_else(|| row.locality.clone()),
            index: row.index.clone(),
            estimate: row.estimate,
            se: row.se,
            ci_low: row.ci_low,
            ci_high: row.ci_high,
            df: row.df,
            n: row.n,
            deff: row.deff,
            suppressed: row.suppressed,
            reason: row.reason.map(|r| r.as_str()),
        }
    }
}
