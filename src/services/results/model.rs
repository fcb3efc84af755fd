//! The results as they are stored with a publication and read by every page, download and
//! API answer: the rows of estimates, the localities and index nodes they belong to, and the
//! flat JSON row of the API and the downloads.

use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::i18n::Lang;

/// Code of the national level.
pub const NATIONAL: &str = "VN";

/// A level of the locality hierarchy results are given for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    National,
    Province,
    Commune,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::National, Level::Province, Level::Commune];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::National => "national",
            Level::Province => "province",
            Level::Commune => "commune",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The `level` of a query string: `None` when absent or empty (each caller has its
    /// default), a 400 naming the value when it is not a level.
    pub fn from_query(level: Option<&str>) -> Result<Option<Level>, AppError> {
        match level {
            None | Some("") => Ok(None),
            Some(l) => Level::parse(l)
                .map(Some)
                .ok_or_else(|| AppError::BadRequest {
                    code: "invalid_level",
                    detail: l.to_owned(),
                }),
        }
    }
}

/// Why an estimate is not shown as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Suppression {
    /// Fewer respondents than the campaign's `min_n`.
    TooFewRespondents,
    /// Fewer own PSUs − strata than the campaign's `min_df`.
    TooFewPsus,
    /// No answer at all to some of its questions.
    NotEstimable,
}

impl Suppression {
    pub fn as_str(self) -> &'static str {
        match self {
            Suppression::TooFewRespondents => "too_few_respondents",
            Suppression::TooFewPsus => "too_few_psus",
            Suppression::NotEstimable => "not_estimable",
        }
    }

    /// The reason in a few plain words, as the pages and downloads give it (the API keeps
    /// [`Suppression::as_str`]).
    pub fn words(self, results: &CampaignResults, lang: Lang) -> String {
        self.message("results-reason", results, lang)
    }

    /// Why there is no number, in sentences for a lay reader: `one` for a single locality
    /// ("this area"), otherwise for a whole view ("these areas").
    pub fn explanation(self, results: &CampaignResults, lang: Lang, one: bool) -> String {
        let prefix = if one {
            "results-why-one"
        } else {
            "results-why-all"
        };
        self.message(prefix, results, lang)
    }

    fn message(self, prefix: &str, results: &CampaignResults, lang: Lang) -> String {
        let key = format!("{prefix}-{}", self.as_str().replace('_', "-"));
        crate::i18n::t(
            lang,
            &key,
            &[
                ("min", crate::i18n::Arg::from(u64::from(results.min_n))),
                ("min_df", crate::i18n::Arg::from(u64::from(results.min_df))),
            ],
        )
    }
}

/// One estimate of an index, element or criterion for one locality.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultRow {
    pub level: Level,
    pub locality: String,
    /// `SIPAS`, `SIPAS/E1` (element) or `SIPAS/E1/E1.1` (criterion).
    pub index: String,
    pub estimate: Option<f64>,
    pub se: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// Degrees of freedom of the interval (the whole design's PSUs − strata).
    pub df: i64,
    /// Respondents who answered at least one of its questions.
    pub n: u64,
    pub deff: Option<f64>,
    /// The locality's own PSUs − strata (the small-numbers rule).
    pub own_df: i64,
    pub suppressed: bool,
    pub reason: Option<Suppression>,
}

/// A locality that has results, with its names as valid at the campaign's dates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultLocality {
    pub code: String,
    pub level: Level,
    pub parent: Option<String>,
    pub name_vi: String,
    pub name_en: String,
    /// Responses from this locality (all of them, answered or not).
    pub responses: u64,
}

impl ResultLocality {
    pub fn name(&self, lang: Lang) -> String {
        if self.level == Level::National {
            return crate::i18n::t(lang, "results-national", &[]);
        }
        lang.pick(&self.name_vi, &self.name_en).to_owned()
    }
}

/// A node of an index tree (index, element or criterion), for labels and the breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexNode {
    /// The key used in [`ResultRow::index`].
    pub key: String,
    /// 0 = index, 1 = element, 2 = criterion.
    pub depth: u8,
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    /// A node of a dimension-score index: its estimates are points out of 100
    /// (shown ×100 without "%"), not shares.
    #[serde(default)]
    pub score: bool,
    /// A node whose estimates are values on their own scale (a mean on 1–5, a PAPI
    /// dimension on 1–10), shown as numbers with this range, not as shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<[f64; 2]>,
    /// The family of its index (`perception`, `satisfaction`, `expectation`), if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
}

impl IndexNode {
    pub fn name(&self, lang: Lang) -> &str {
        lang.pick(&self.name_vi, &self.name_en)
    }
}

/// Every result of one campaign, as cached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignResults {
    pub rows: Vec<ResultRow>,
    pub localities: Vec<ResultLocality>,
    pub nodes: Vec<IndexNode>,
    pub main_index: Option<String>,
    pub responses: u64,
    /// The whole design's PSUs − strata.
    pub df: i64,
    pub min_n: u32,
    pub min_df: u32,
    /// How the weights were calibrated, or why they were not.
    pub calibration: CalibrationNote,
    /// Indices of the questionnaire that are not computed, with their aggregation.
    pub skipped_indices: Vec<String>,
    /// Model-based commune estimates (results stored before they existed read as none).
    #[serde(default)]
    pub small_area: super::small_area::SmallArea,
}

/// What happened to the calibration step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CalibrationNote {
    /// The campaign asks for none.
    None,
    /// Raked (or post-stratified) on these variables' province × category cells.
    Calibrated { variables: Vec<String> },
    /// Asked for but impossible; estimates use the base weights.
    Skipped { reason: String },
}

impl CampaignResults {
    /// The row of one locality and index.
    pub fn row(&self, locality: &str, index: &str) -> Option<&ResultRow> {
        self.rows
            .iter()
            .find(|r| r.locality == locality && r.index == index)
    }

    /// Rows of one level and index, in locality code order.
    pub fn level_rows(&self, level: Level, index: &str) -> Vec<&ResultRow> {
        self.rows
            .iter()
            .filter(|r| r.level == level && r.index == index)
            .collect()
    }

    pub fn locality(&self, code: &str) -> Option<&ResultLocality> {
        self.localities.iter().find(|l| l.code == code)
    }

    pub fn node(&self, key: &str) -> Option<&IndexNode> {
        self.nodes.iter().find(|n| n.key == key)
    }
}

/// The results of one publication: the only results anybody sees (see
/// [`crate::services::publication`]). Its date is the only time it tells.
#[derive(Debug, Clone)]
pub struct Published {
    pub results: Arc<CampaignResults>,
    /// 1, 2, … per campaign.
    pub number: i64,
    /// The date (Asia/Ho_Chi_Minh), never the time of day.
    pub published_on: NaiveDate,
}

/// The index key to show: the requested one if the campaign has it, else the main index.
pub fn resolve_index(
    results: &CampaignResults,
    requested: Option<&str>,
) -> Result<String, AppError> {
    match requested {
        Some(code) if results.nodes.iter().any(|n| n.key == code) => Ok(code.to_owned()),
        Some(code) => Err(AppError::BadRequest {
            code: "unknown_index",
            detail: code.to_owned(),
        }),
        None => results
            .main_index
            .clone()
            .ok_or(AppError::NotFound("index_not_found")),
    }
}

/// One row of `GET /api/v1/campaigns/{slug}/results` and of the CSV/XLSX downloads.
/// Suppressed rows keep every key, with null numbers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
    /// The model-based (small-area) estimate of a commune, when its model is published;
    /// absent otherwise (the direct fields above are unchanged by it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_based: Option<super::small_area::ModelBasedJson>,
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
            model_based: results
                .small_area
                .row(&row.locality, &row.index)
                .map(|m| super::small_area::ModelBasedJson::new(m, lang)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn node(key: &str, name_vi: &str, name_en: &str) -> IndexNode {
        IndexNode {
            key: key.to_owned(),
            depth: key.matches('/').count() as u8,
            code: key.rsplit('/').next().unwrap_or(key).to_owned(),
            name_vi: name_vi.to_owned(),
            name_en: name_en.to_owned(),
            score: false,
            range: None,
            family: None,
        }
    }

    fn row(level: Level, locality: &str, index: &str, estimate: Option<f64>) -> ResultRow {
        ResultRow {
            level,
            locality: locality.to_owned(),
            index: index.to_owned(),
            estimate,
            se: estimate.map(|_| 0.02),
            ci_low: estimate.map(|e| e - 0.04),
            ci_high: estimate.map(|e| e + 0.04),
            df: 30,
            n: if estimate.is_some() { 120 } else { 12 },
            deff: None,
            own_df: 9,
            suppressed: estimate.is_none(),
            reason: estimate.is_none().then_some(Suppression::TooFewRespondents),
        }
    }

    fn results() -> CampaignResults {
        CampaignResults {
            rows: vec![
                row(Level::National, NATIONAL, "SIPAS", Some(0.8)),
                row(Level::Province, "01", "SIPAS", Some(0.7)),
                row(Level::Province, "79", "SIPAS", None),
                row(Level::Province, "01", "SIPAS/E1", Some(0.6)),
            ],
            localities: vec![ResultLocality {
                code: "01".to_owned(),
                level: Level::Province,
                parent: Some(NATIONAL.to_owned()),
                name_vi: "Hà Nội".to_owned(),
                name_en: String::new(),
                responses: 140,
            }],
            nodes: vec![
                node("SIPAS", "Chỉ số hài lòng", "Satisfaction index"),
                node("SIPAS/E1", "Tiếp cận", ""),
            ],
            main_index: Some("SIPAS".to_owned()),
            responses: 150,
            df: 30,
            min_n: 30,
            min_df: 8,
            calibration: CalibrationNote::None,
            skipped_indices: Vec::new(),
            small_area: Default::default(),
        }
    }

    #[test]
    fn levels_parse_from_their_names_and_nothing_else() {
        for level in Level::ALL {
            assert_eq!(Level::parse(level.as_str()), Some(level));
        }
        assert_eq!(Level::parse("district"), None);
        assert_eq!(Level::parse("Province"), None);
    }

    #[test]
    fn a_query_level_is_optional_and_a_bad_one_is_named_in_a_400() {
        assert_eq!(Level::from_query(None).unwrap(), None);
        assert_eq!(Level::from_query(Some("")).unwrap(), None);
        assert_eq!(
            Level::from_query(Some("commune")).unwrap(),
            Some(Level::Commune)
        );
        match Level::from_query(Some("ward")) {
            Err(AppError::BadRequest { code, detail }) => {
                assert_eq!(code, "invalid_level");
                assert_eq!(detail, "ward");
            }
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn rows_are_found_by_locality_index_and_level() {
        let r = results();
        assert_eq!(r.row("01", "SIPAS/E1").and_then(|x| x.estimate), Some(0.6));
        assert!(r.row("01", "SIPAS/E2").is_none());
        let provinces: Vec<&str> = r
            .level_rows(Level::Province, "SIPAS")
            .iter()
            .map(|x| x.locality.as_str())
            .collect();
        assert_eq!(provinces, ["01", "79"]);
        assert_eq!(r.level_rows(Level::Commune, "SIPAS").len(), 0);
        assert_eq!(r.locality("01").map(|l| l.responses), Some(140));
        assert!(r.locality("79").is_none());
    }

    #[test]
    fn names_fall_back_to_vietnamese_when_there_is_no_english() {
        let r = results();
        let hanoi = r.locality("01").unwrap();
        assert_eq!(hanoi.name(Lang::En), "Hà Nội");
        assert_eq!(hanoi.name(Lang::Vi), "Hà Nội");
        assert_eq!(
            r.node("SIPAS").unwrap().name(Lang::En),
            "Satisfaction index"
        );
        assert_eq!(r.node("SIPAS/E1").unwrap().name(Lang::En), "Tiếp cận");
        // The national level is named by the translations, not by the stored names.
        let national = ResultLocality {
            code: NATIONAL.to_owned(),
            level: Level::National,
            parent: None,
            name_vi: String::new(),
            name_en: String::new(),
            responses: 150,
        };
        assert!(!national.name(Lang::Vi).is_empty());
        assert_eq!(
            national.name(Lang::En),
            crate::i18n::t(Lang::En, "results-national", &[])
        );
    }

    #[test]
    fn the_index_shown_is_the_requested_one_or_the_main_one() {
        let r = results();
        assert_eq!(resolve_index(&r, None).unwrap(), "SIPAS");
        assert_eq!(resolve_index(&r, Some("SIPAS/E1")).unwrap(), "SIPAS/E1");
        assert!(matches!(
            resolve_index(&r, Some("PAPI")),
            Err(AppError::BadRequest {
                code: "unknown_index",
                ..
            })
        ));
        let none = CampaignResults {
            main_index: None,
            ..results()
        };
        assert!(matches!(
            resolve_index(&none, None),
            Err(AppError::NotFound("index_not_found"))
        ));
    }

    #[test]
    fn a_json_row_keeps_every_key_of_a_suppressed_estimate() {
        let r = results();
        let shown = ResultJson::new(r.row("01", "SIPAS").unwrap(), &r, Lang::En);
        assert_eq!(shown.name, "Hà Nội");
        assert_eq!(shown.estimate, Some(0.7));
        assert_eq!(shown.reason, None);
        let hidden = ResultJson::new(r.row("79", "SIPAS").unwrap(), &r, Lang::En);
        // A locality without a name is shown by its code.
        assert_eq!(hidden.name, "79");
        assert!(hidden.suppressed);
        assert_eq!(hidden.reason, Some("too_few_respondents"));
        let json = serde_json::to_value(&hidden).unwrap();
        for key in ["estimate", "se", "ci_low", "ci_high", "deff"] {
            assert!(json[key].is_null(), "{key} is null");
        }
        assert_eq!(json["n"], 12);
    }

    /// The results are stored as JSON with each publication: what was written by an earlier
    /// version (no `score` on the nodes) still reads back.
    #[test]
    fn stored_results_read_back_as_they_were_written() {
        let r = CampaignResults {
            calibration: CalibrationNote::Calibrated {
                variables: vec!["sex".to_owned()],
            },
            ..results()
        };
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.contains(r#""calibration":{"status":"calibrated","variables":["sex"]}"#));
        assert!(text.contains(r#""reason":"too_few_respondents""#));
        assert_eq!(serde_json::from_str::<CampaignResults>(&text).unwrap(), r);
        let old: IndexNode = serde_json::from_str(
            r#"{"key":"SIPAS","depth":0,"code":"SIPAS","name_vi":"A","name_en":"B"}"#,
        )
        .unwrap();
        assert!(!old.score);
    }
}
