//! Results for analysts: every index of a campaign (and its elements and criteria) at every
//! level of the locality hierarchy, estimated for the campaign's sampling design by
//! `hailong_stats`, with the small-numbers rule applied, stored with each publication.
//!
//! # From a questionnaire to the estimation engine
//!
//! Every scale question with an index mapping is an [`Item`]: its answer as a number (`"dk"`,
//! `"na"`, text or no answer are missing), mirrored on the scale (`min + max − v`) when the
//! mapping says `reverse`, "satisfied" from the mapping's `satisfied_min`. An index is a linear
//! combination of the items' satisfied shares, so it is one [`IndexSpec`] whose weights are the
//! products down the tree:
//!
//! * `mean_of_criteria` (SIPAS): criterion = mean of its questions' shares (weighted by the
//!   mappings' `weight`), element = mean of its criteria, index = mean of its elements;
//! * `weighted_mean`: the same tree with the elements' and criteria's weights, normalised at
//!   each level.
//!
//! * `dimension_score` (PAPI-style): the same tree with its weights, but over the questions'
//!   mean scores rescaled to 0–1, `(ȳ − min) / (max − min)`, instead of their satisfied
//!   shares (shown as 0–100 points; a PAPI dimension on 1–10 is `1 + 9 ×` this); linear in the
//!   item means ([`IndexKind::Score`]);
//! * `share_satisfied`: satisfied answers over all answers given to the questions of the index
//!   (or element, criterion), each answer counting with its mapping's `weight` (1 by default):
//!   a ratio of weighted totals, not a mean of shares ([`IndexKind::PooledShare`], R's
//!   `svyratio`).
//!
//! Elements and criteria are estimated as indices of their own (`SIPAS/E1`, `SIPAS/E1/E1.1`)
//! for the breakdown page. Criteria or elements without any mapped question are left out and
//! the weights renormalised; an index without any is listed in
//! [`CampaignResults::skipped_indices`].
//!
//! # Design
//!
//! Base weights, strata (`stratum`; a missing stratum is one stratum of its own) and clusters
//! (`cluster`; a response without one is its own PSU), the campaign's lonely-PSU rule, and
//! calibration: for every variable in the campaign's `calibration` list, the population margins
//! are given per province, so the weights are raked to the joint cells `<province>|<category>`
//! of each variable (one variable: post-stratification). Calibration needs every response in a
//! cell with a population total: when a response has no value for a calibration variable, or its
//! province/category has no population total, or the raking does not converge, the results are
//! computed on the base weights and [`CampaignResults::calibration`] says why (shown on the
//! pages); nothing is guessed.
//!
//! # Small numbers
//!
//! An estimate is suppressed (no number, a reason) when fewer than `min_n` respondents answered
//! any of its questions, or when its locality has fewer than `min_df` own PSUs minus own strata.
//! Confidence intervals use the whole design's degrees of freedom (R's `degf`), as R does.
//!
//! # Publication
//!
//! Nobody sees live numbers: results are computed only when a campaign is published, from the
//! publication's fixed set of responses, and stored with it (see [`super::publication`]).
//! Every page, download and API answer reads the latest publication.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;
use entity::population_margin;
use futures_util::TryStreamExt;
use hailong_stats::{
    Calibration, CiMethod, Design, DesignSpec, Domains, EstimateOptions, Estimator, Factor,
    IndexKind, IndexSpec, Item, LonelyPsu, Margin, Stage, Statistic,
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

use crate::domain::questionnaire::{Aggregation, Definition, QuestionType};
use crate::error::AppError;
use crate::i18n::Lang;

use super::campaigns::OpenCampaign;
use super::localities;

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
        match lang {
            Lang::En if !self.name_en.is_empty() => self.name_en.clone(),
            _ => self.name_vi.clone(),
        }
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
}

impl IndexNode {
    pub fn name(&self, lang: Lang) -> &str {
        match lang {
            Lang::En if !self.name_en.is_empty() => &self.name_en,
            _ => &self.name_vi,
        }
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

    /// True when a locality's results may be shown to an account restricted to `allowed`
    /// (`None`: not restricted): the locality itself or its parent is in the list. So a
    /// province account sees its province and that province's communes, a commune account
    /// its commune; the national row only unrestricted accounts (callers pass `None` for a
    /// public campaign, which everyone may read in full).
    pub fn visible_to(&self, allowed: Option<&[String]>, code: &str) -> bool {
        let Some(allowed) = allowed else {
            return true;
        };
        let parent = self.locality(code).and_then(|l| l.parent.as_deref());
        allowed
            .iter()
            .any(|a| a == code || Some(a.as_str()) == parent)
    }

    /// The results as an account restricted to `allowed` may see them: only the rows and
    /// localities of [`CampaignResults::visible_to`], and the response count of those
    /// localities (the national total is not theirs to see). `None` returns a copy of all.
    pub fn restricted_to(&self, allowed: Option<&[String]>) -> CampaignResults {
        let Some(list) = allowed else {
            return self.clone();
        };
        let shown: HashSet<&str> = self
            .localities
            .iter()
            .filter(|l| self.visible_to(Some(list), &l.code))
            .map(|l| l.code.as_str())
            .collect();
        // Responses of the shown localities whose parent is not shown too (no double count).
        let responses = self
            .localities
            .iter()
            .filter(|l| shown.contains(l.code.as_str()))
            .filter(|l| !l.parent.as_deref().is_some_and(|p| shown.contains(p)))
            .map(|l| l.responses)
            .sum();
        CampaignResults {
            rows: self
                .rows
                .iter()
                .filter(|r| shown.contains(r.locality.as_str()))
                .cloned()
                .collect(),
            localities: self
                .localities
                .iter()
                .filter(|l| shown.contains(l.code.as_str()))
                .cloned()
                .collect(),
            responses,
            ..self.clone_without_rows()
        }
    }

    fn clone_without_rows(&self) -> CampaignResults {
        CampaignResults {
            rows: Vec::new(),
            localities: Vec::new(),
            nodes: self.nodes.clone(),
            main_index: self.main_index.clone(),
            responses: self.responses,
            df: self.df,
            min_n: self.min_n,
            min_df: self.min_df,
            calibration: self.calibration.clone(),
            skipped_indices: self.skipped_indices.clone(),
        }
    }
}

impl Published {
    /// The same results restricted to what an account may see (see
    /// [`CampaignResults::restricted_to`]).
    pub fn restricted_to(&self, allowed: Option<&[String]>) -> Published {
        match allowed {
            None => self.clone(),
            Some(_) => Published {
                results: Arc::new(self.results.restricted_to(allowed)),
                ..self.clone()
            },
        }
    }
}

/// The results of one publication: the only results anybody sees (see
/// [`super::publication`]). Its date is the only time it tells.
#[derive(Debug, Clone)]
pub struct Published {
    pub results: Arc<CampaignResults>,
    /// 1, 2, … per campaign.
    pub number: i64,
    /// The date (Asia/Ho_Chi_Minh), never the time of day.
    pub published_on: NaiveDate,
}

// ------------------------------------------------------------------------------------------
// The plan: what to estimate, from the questionnaire.
// ------------------------------------------------------------------------------------------

/// A question that feeds an index, as the engine sees it.
#[derive(Debug, Clone)]
pub struct ItemPlan {
    pub code: String,
    pub min: i64,
    pub max: i64,
    pub reverse: bool,
    pub satisfied_min: i64,
}

impl ItemPlan {
    /// The answer as a number on the (mirrored) scale, or NaN when missing.
    pub fn value(&self, answer: Option<&serde_json::Value>) -> f64 {
        let v = match answer {
            Some(serde_json::Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
            Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().unwrap_or(f64::NAN),
            _ => f64::NAN,
        };
        if self.reverse && v.is_finite() {
            (self.min + self.max) as f64 - v
        } else {
            v
        }
    }
}

impl ItemPlan {
    /// [`ItemPlan::value`] from the streaming reader's answer.
    fn mirrored(&self, answer: Option<RawAnswer>) -> f64 {
        match answer {
            Some(RawAnswer::Number(v)) if self.reverse => (self.min + self.max) as f64 - v,
            Some(RawAnswer::Number(v)) => v,
            _ => f64::NAN,
        }
    }
}

/// Items and indices of a questionnaire.
#[derive(Debug, Clone)]
pub struct Plan {
    pub items: Vec<ItemPlan>,
    pub indices: Vec<IndexSpec>,
    pub nodes: Vec<IndexNode>,
    pub skipped: Vec<String>,
}

/// A criterion (by position in its element) and its questions with their weights.
type MappedCriterion = (usize, Vec<(String, f64)>);

/// Builds the items and index specifications of a questionnaire (see the module docs).
pub fn plan(def: &Definition) -> Plan {
    let mut items = Vec::new();
    // (index, element, criterion) → [(question, weight)]
    let mut mapped: HashMap<(String, String, String), Vec<(String, f64)>> = HashMap::new();
    let first_index = def.indices.first().map(|i| i.code.clone());
    for q in def.questions() {
        let (QuestionType::Scale, Some(m)) = (q.kind, &q.index) else {
            continue;
        };
        let Some(ix) = m.index.clone().or_else(|| first_index.clone()) else {
            continue;
        };
        items.push(ItemPlan {
            code: q.code.clone(),
            min: q.min.unwrap_or(1),
            max: q.max.unwrap_or(5),
            reverse: m.reverse,
            satisfied_min: m.satisfied_min,
        });
        mapped
            .entry((ix, m.element.clone(), m.criterion.clone()))
            .or_default()
            .push((q.code.clone(), m.weight));
    }
    let mut indices = Vec::new();
    let mut nodes = Vec::new();
    let mut skipped = Vec::new();
    for ix in &def.indices {
        let (weighted, kind) = match ix.aggregation {
            Aggregation::MeanOfCriteria => (false, IndexKind::Shares),
            Aggregation::WeightedMean => (true, IndexKind::Shares),
            Aggregation::DimensionScore => (true, IndexKind::Score),
            Aggregation::ShareSatisfied => (false, IndexKind::PooledShare),
        };
        // A pooled share counts every answer with its question's weight, whatever the tree.
        let pooled = kind == IndexKind::PooledShare;
        let w = |x: f64| if weighted { x } else { 1.0 };
        // Element → its criteria → its questions, keeping only parts with questions.
        let mut elements: Vec<(usize, Vec<MappedCriterion>)> = Vec::new();
        for (ei, el) in ix.elements.iter().enumerate() {
            let mut crits = Vec::new();
            for (ci, cr) in el.criteria.iter().enumerate() {
                let key = (ix.code.clone(), el.code.clone(), cr.code.clone());
                if let Some(qs) = mapped.get(&key).filter(|qs| !qs.is_empty()) {
                    crits.push((ci, qs.clone()));
                }
            }
            if !crits.is_empty() {
                elements.push((ei, crits));
            }
        }
        if elements.is_empty() {
            skipped.push(ix.code.clone());
            continue;
        }
        let norm = |ws: &[f64]| -> Vec<f64> {
            let s: f64 = ws.iter().sum();
            ws.iter()
                .map(|x| if s > 0.0 { x / s } else { 0.0 })
                .collect()
        };
        let el_w = norm(
            &elements
                .iter()
                .map(|(ei, _)| w(ix.elements[*ei].weight))
                .collect::<Vec<_>>(),
        );
        let mut index_items: Vec<(String, f64)> = Vec::new();
        nodes.push(IndexNode {
            key: ix.code.clone(),
            depth: 0,
            code: ix.code.clone(),
            name_vi: ix.name.get("vi").to_owned(),
            name_en: ix.name.get("en").to_owned(),
            score: kind == IndexKind::Score,
        });
        let mut element_specs = Vec::new();
        for ((ei, crits), ew) in elements.iter().zip(&el_w) {
            let el = &ix.elements[*ei];
            let el_key = format!("{}/{}", ix.code, el.code);
            nodes.push(IndexNode {
                key: el_key.clone(),
                depth: 1,
                code: el.code.clone(),
                name_vi: el.name.get("vi").to_owned(),
                name_en: el.name.get("en").to_owned(),
                score: kind == IndexKind::Score,
            });
            let cr_w = norm(
                &crits
                    .iter()
                    .map(|(ci, _)| w(el.criteria[*ci].weight))
                    .collect::<Vec<_>>(),
            );
            let mut el_items = Vec::new();
            for ((ci, qs), cw) in crits.iter().zip(&cr_w) {
                let cr = &el.criteria[*ci];
                let cr_key = format!("{el_key}/{}", cr.code);
                nodes.push(IndexNode {
                    key: cr_key.clone(),
                    depth: 2,
                    code: cr.code.clone(),
                    name_vi: cr.name.get("vi").to_owned(),
                    name_en: cr.name.get("en").to_owned(),
                    score: kind == IndexKind::Score,
                });
                let q_w = norm(&qs.iter().map(|(_, x)| *x).collect::<Vec<_>>());
                let mut cr_items = Vec::new();
                for ((code, raw), qw) in qs.iter().zip(&q_w) {
                    if pooled {
                        cr_items.push((code.clone(), *raw));
                        el_items.push((code.clone(), *raw));
                        index_items.push((code.clone(), *raw));
                    } else {
                        cr_items.push((code.clone(), *qw));
                        el_items.push((code.clone(), cw * qw));
                        index_items.push((code.clone(), ew * cw * qw));
                    }
                }
                element_specs.push(IndexSpec {
                    name: cr_key,
                    items: cr_items,
                    kind,
                });
            }
            element_specs.push(IndexSpec {
                name: el_key,
                items: el_items,
                kind,
            });
        }
        indices.push(IndexSpec {
            name: ix.code.clone(),
            items: index_items,
            kind,
        });
        indices.extend(element_specs);
    }
    Plan {
        items,
        indices,
        nodes,
        skipped,
    }
}

// ------------------------------------------------------------------------------------------
// The data: responses in columns.
// ------------------------------------------------------------------------------------------

/// Text labels interned as dense codes.
#[derive(Debug, Clone, Default)]
pub struct Interner {
    index: HashMap<String, u32>,
    pub labels: Vec<String>,
}

impl Interner {
    pub fn code(&mut self, label: &str) -> u32 {
        if let Some(&c) = self.index.get(label) {
            return c;
        }
        let c = self.labels.len() as u32;
        self.index.insert(label.to_owned(), c);
        self.labels.push(label.to_owned());
        c
    }
}

/// A campaign's responses in columns, ready for the design.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub n: usize,
    /// Locality code of each response (as stored: normally a commune).
    pub locality: Vec<u32>,
    pub localities: Interner,
    pub stratum: Vec<u32>,
    pub strata: Interner,
    pub cluster: Vec<u32>,
    pub clusters: Interner,
    pub weight: Vec<f64>,
    /// Per calibration variable: the category of each response (`u32::MAX` = missing).
    pub cells: Vec<(String, Vec<u32>, Interner)>,
    /// Per item of the plan: the values (NaN = missing).
    pub values: Vec<Vec<f64>>,
    /// All answers of each response, when kept (microdata export).
    pub answers: Vec<serde_json::Map<String, serde_json::Value>>,
}

struct Parser {
    data: Dataset,
    items: Vec<ItemPlan>,
    /// Item position by question code.
    index: HashMap<String, usize>,
    keep_answers: bool,
    /// Calibration variable position by name.
    cell_index: HashMap<String, usize>,
    /// Scratch space for one row.
    raw: Vec<Option<RawAnswer>>,
    cell_raw: Vec<u32>,
    /// Which id range this parser reads.
    part: usize,
}

/// Reads only the items' answers out of a response's JSON object, without building a map:
/// the hot loop of a large campaign. Question codes never need JSON escapes (they are
/// checked codes); a response whose answers cannot be read this way counts as unanswered.
struct ItemAnswers<'a> {
    index: &'a HashMap<String, usize>,
    out: &'a mut [Option<RawAnswer>],
}

/// An answer as far as estimation cares.
#[derive(Debug, Clone, Copy)]
enum RawAnswer {
    Number(f64),
    Other,
}

impl<'de> serde::de::DeserializeSeed<'de> for ItemAnswers<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ItemAnswers<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object of answers")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<&'de str>()? {
            match self.index.get(key) {
                Some(&k) => {
                    let v = map.next_value::<AnswerValue>()?;
                    if let Some(slot) = self.out.get_mut(k) {
                        *slot = Some(v.0);
                    }
                }
                None => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct AnswerValue(RawAnswer);

impl<'de> Deserialize<'de> for AnswerValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = AnswerValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an answer")
            }
            fn visit_i64<E>(self, v: i64) -> Result<AnswerValue, E> {
                Ok(AnswerValue(RawAnswer::Number(v as f64)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<AnswerValue, E> {
                Ok(AnswerValue(RawAnswer::Number(v as f64)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<AnswerValue, E> {
                Ok(AnswerValue(RawAnswer::Number(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<AnswerValue, E> {
                Ok(AnswerValue(match v.trim().parse::<f64>() {
                    Ok(x) => RawAnswer::Number(x),
                    Err(_) => RawAnswer::Other,
                }))
            }
            fn visit_bool<E>(self, _: bool) -> Result<AnswerValue, E> {
                Ok(AnswerValue(RawAnswer::Other))
            }
            fn visit_unit<E>(self) -> Result<AnswerValue, E> {
                Ok(AnswerValue(RawAnswer::Other))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut s: A,
            ) -> Result<AnswerValue, A::Error> {
                while s.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(AnswerValue(RawAnswer::Other))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<AnswerValue, A::Error> {
                while m
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(AnswerValue(RawAnswer::Other))
            }
        }
        d.deserialize_any(V)
    }
}

impl Parser {
    fn new(campaign: &OpenCampaign, plan: &Plan, keep_answers: bool, part: usize) -> Parser {
        Parser {
            data: Dataset {
                cells: campaign
                    .design
                    .calibration
                    .iter()
                    .map(|v| (v.clone(), Vec::new(), Interner::default()))
                    .collect(),
                values: vec![Vec::new(); plan.items.len()],
                ..Dataset::default()
            },
            items: plan.items.clone(),
            index: plan
                .items
                .iter()
                .enumerate()
                .map(|(k, i)| (i.code.clone(), k))
                .collect(),
            keep_answers,
            cell_index: campaign
                .design
                .calibration
                .iter()
                .enumerate()
                .map(|(k, v)| (v.clone(), k))
                .collect(),
            raw: Vec::new(),
            cell_raw: Vec::new(),
            part,
        }
    }

    /// Adds one response, its text fields borrowed from the database row.
    fn push_row(
        &mut self,
        locality: &str,
        stratum: Option<&str>,
        cluster: Option<&str>,
        weight: f64,
        cells: Option<&str>,
        answers: &str,
    ) {
        let d = &mut self.data;
        let row = d.n;
        d.n += 1;
        d.locality.push(d.localities.code(locality));
        d.stratum.push(d.strata.code(stratum.unwrap_or("")));
        let cl = match cluster {
            Some(c) if !c.is_empty() => d.clusters.code(c),
            // A response without a cluster is its own PSU (unique across the parts read).
            _ => d.clusters.code(&format!("\u{1}row{}-{row}", self.part)),
        };
        d.cluster.push(cl);
        d.weight.push(weight);
        // Calibration cells: only the campaign's variables, read without building a map.
        self.cell_raw.clear();
        self.cell_raw.resize(d.cells.len(), u32::MAX);
        if let Some(text) = cells
            && !d.cells.is_empty()
        {
            let mut de = serde_json::Deserializer::from_str(text);
            let read = serde::de::DeserializeSeed::deserialize(
                CellsSeed {
                    index: &self.cell_index,
                    cells: &mut d.cells,
                    out: &mut self.cell_raw,
                },
                &mut de,
            );
            if read.is_err() {
                self.cell_raw.iter_mut().for_each(|c| *c = u32::MAX);
            }
        }
        for ((_, codes, _), code) in d.cells.iter_mut().zip(&self.cell_raw) {
            codes.push(*code);
        }
        if self.keep_answers {
            let answers: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(answers).unwrap_or_default();
            for (k, item) in self.items.iter().enumerate() {
                if let Some(col) = d.values.get_mut(k) {
                    col.push(item.value(answers.get(&item.code)));
                }
            }
            d.answers.push(answers);
        } else {
            self.raw.clear();
            self.raw.resize(self.items.len(), None);
            let mut de = serde_json::Deserializer::from_str(answers);
            let read = serde::de::DeserializeSeed::deserialize(
                ItemAnswers {
                    index: &self.index,
                    out: &mut self.raw,
                },
                &mut de,
            );
            if read.is_err() {
                self.raw.iter_mut().for_each(|r| *r = None);
            }
            for ((item, col), r) in self.items.iter().zip(d.values.iter_mut()).zip(&self.raw) {
                col.push(item.mirrored(*r));
            }
        }
    }
}

/// Reads the calibration variables' categories out of a response's `cells` object.
struct CellsSeed<'a> {
    index: &'a HashMap<String, usize>,
    cells: &'a mut [(String, Vec<u32>, Interner)],
    out: &'a mut [u32],
}

impl<'de> serde::de::DeserializeSeed<'de> for CellsSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for CellsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object of cells")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let Some(&k) = self.index.get(key.as_ref()) else {
                map.next_value::<serde::de::IgnoredAny>()?;
                continue;
            };
            let code = match map.next_value::<serde_json::Value>()? {
                serde_json::Value::String(s) if !s.is_empty() => {
                    self.cells.get_mut(k).map(|c| c.2.code(&s))
                }
                serde_json::Value::Number(n) => {
                    self.cells.get_mut(k).map(|c| c.2.code(&n.to_string()))
                }
                _ => None,
            };
            if let (Some(slot), Some(code)) = (self.out.get_mut(k), code) {
                *slot = code;
            }
        }
        Ok(())
    }
}

/// Lower bounds of the id ranges read in parallel (response ids are random UUIDs in
/// lowercase hex, so four ranges hold about a quarter each; any other id still falls in
/// exactly one range).
const SPLITS: [&str; 3] = ["4", "8", "c"];

/// How the responses are split into ranges read in parallel.
#[derive(Debug, Clone, Copy)]
enum Ranges {
    /// By id: on PostgreSQL through its `(campaign_id, id)` index; on SQLite only when
    /// the rows are wanted in id order (exports), through the `campaign_id` index and a
    /// sort per range.
    Ids,
    /// SQLite: by rowid, in storage order, between the campaign's first and last rows.
    /// Bounds: `[lo, hi)` per part. `indexed`: through the `campaign_id` index (whose
    /// entries within a campaign are in rowid order), for a campaign that fills less than
    /// half of its span of the table; otherwise scanning the table and filtering the
    /// campaign, three times cheaper per row.
    Rowids {
        bounds: [(i64, i64); 4],
        indexed: bool,
    },
}

/// The SQL of one id range ([`Ranges::Ids`]): `?N` placeholders for SQLite, `$N` for
/// PostgreSQL. (Rowid ranges are read by [`read_packed`].)
fn range_sql(part: usize, postgres: bool, ordered: bool) -> (String, Vec<&'static str>) {
    let p = |n: usize| {
        if postgres {
            format!("${n}")
        } else {
            format!("?{n}")
        }
    };
    let mut sql = format!(
        "SELECT locality_code, stratum, cluster, base_weight, cells, answers FROM responses \
         WHERE campaign_id = {} AND publication <= {}",
        p(1),
        p(2)
    );
    let mut binds = Vec::new();
    if part > 0 {
        binds.push(SPLITS[part - 1]);
        sql.push_str(&format!(" AND id >= {}", p(binds.len() + 2)));
    }
    if part < SPLITS.len() {
        binds.push(SPLITS[part]);
        sql.push_str(&format!(" AND id < {}", p(binds.len() + 2)));
    }
    if ordered {
        sql.push_str(" ORDER BY id");
    }
    (sql, binds)
}

/// Streams one query's rows into a parser, borrowing each row's text (no copies).
macro_rules! stream_into {
    ($pool:expr, $sql:expr, $binds:expr, $campaign:expr, $upto:expr, $parser:expr) => {{
        use sqlx::Row;
        // Built only from constants (see range_sql); the values are bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe($sql))
            .bind($campaign)
            .bind($upto);
        for b in $binds {
            q = q.bind(b);
        }
        let mut rows = q.fetch($pool);
        let err = |e: sqlx::Error| AppError::Internal(anyhow::anyhow!("reading responses: {e}"));
        while let Some(row) = rows.try_next().await.map_err(err)? {
            $parser.push_row(
                row.try_get::<&str, _>(0).map_err(err)?,
                row.try_get::<Option<&str>, _>(1).map_err(err)?,
                row.try_get::<Option<&str>, _>(2).map_err(err)?,
                row.try_get::<f64, _>(3).map_err(err)?,
                row.try_get::<Option<&str>, _>(4).map_err(err)?,
                row.try_get::<&str, _>(5).map_err(err)?,
            );
        }
    }};
}

/// Reads the responses of a campaign's publication `upto` (every row with
/// `publication <= upto`, see [`super::publication`]) into columns: four id ranges read and
/// parsed concurrently (each on its own connection, with raw sqlx so that every row's text
/// is parsed in place, only the items' answers and the calibration cells read out of the
/// JSON), then joined in id order.
pub async fn load_dataset(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    plan: &Plan,
    keep_answers: bool,
    upto: i64,
) -> Result<Dataset, AppError> {
    let postgres = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => true,
        sea_orm::DatabaseBackend::Sqlite => false,
        other => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "unsupported database {other:?}"
            )));
        }
    };
    let campaign_id = campaign.campaign.id;
    let ranges = if postgres || keep_answers {
        Ranges::Ids
    } else {
        sqlite_ranges(db, campaign_id).await?
    };
    let mut tasks = Vec::new();
    for part in 0..=SPLITS.len() {
        let mut parser = Parser::new(campaign, plan, keep_answers, part);
        let (sql, binds) = range_sql(part, postgres, keep_answers);
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            if let Ranges::Rowids { bounds, indexed } = ranges {
                let (lo, hi) = bounds[part];
                read_packed(
                    db.get_sqlite_connection_pool(),
                    (campaign_id, upto),
                    (lo, hi),
                    indexed,
                    &mut parser,
                )
                .await?;
            } else if postgres {
                stream_into!(
                    db.get_postgres_connection_pool(),
                    sql,
                    binds,
                    campaign_id,
                    upto,
                    parser
                );
            } else {
                stream_into!(
                    db.get_sqlite_connection_pool(),
                    sql,
                    binds,
                    campaign_id,
                    upto,
                    parser
                );
            }
            Ok::<_, AppError>(parser.data)
        }));
    }
    let mut parts = Vec::with_capacity(tasks.len());
    for t in tasks {
        parts.push(
            t.await
                .map_err(|e| anyhow::anyhow!("reading responses: {e}"))??,
        );
    }
    Ok(join_parts(parts))
}

/// Rowids per packed query of [`read_packed`].
const PACK: i64 = 8192;

/// SQLite: reads a rowid range as a few packed rows, each concatenating up to [`PACK`]
/// responses (fields separated by U+001F, responses by U+001E; JSON and codes never hold
/// raw control characters; the weight printed with 17 significant digits, which reads
/// back to the same number). One row per response through sqlx costs a thread hand-off
/// each, which made reading a million responses take seconds more than parsing them.
async fn read_packed(
    pool: &sqlx::SqlitePool,
    (campaign_id, upto): (i64, i64),
    (lo, hi): (i64, i64),
    indexed: bool,
    parser: &mut Parser,
) -> Result<(), AppError> {
    let err = |e: sqlx::Error| AppError::Internal(anyhow::anyhow!("reading responses: {e}"));
    const PACKED: &str = "SELECT group_concat(locality_code || char(31) || ifnull(stratum, '') \
         || char(31) || ifnull(cluster, '') || char(31) || printf('%.17g', base_weight) \
         || char(31) || ifnull(cells, '') || char(31) || answers, char(30)) FROM responses ";
    // `+campaign_id` keeps SQLite off the index: a scan of the rowid range.
    let sql = if indexed {
        format!(
            "{PACKED}WHERE campaign_id = ?1 AND rowid >= ?2 AND rowid < ?3 AND publication <= ?4"
        )
    } else {
        format!(
            "{PACKED}WHERE +campaign_id = ?1 AND rowid >= ?2 AND rowid < ?3 AND publication <= ?4"
        )
    };
    let mut start = lo;
    while start < hi {
        let end = (start + PACK).min(hi);
        let packed: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(campaign_id)
            .bind(start)
            .bind(end)
            .bind(upto)
            .fetch_one(pool)
            .await
            .map_err(err)?;
        for record in packed.as_deref().unwrap_or("").split('\u{1e}') {
            let mut f = record.splitn(6, '\u{1f}');
            let (Some(loc), Some(st), Some(cl), Some(w), Some(cells), Some(answers)) =
                (f.next(), f.next(), f.next(), f.next(), f.next(), f.next())
            else {
                continue;
            };
            let weight = w.parse::<f64>().map_err(|e| {
                AppError::Internal(anyhow::anyhow!("reading responses: weight {w:?}: {e}"))
            })?;
            parser.push_row(
                loc,
                non_empty(st),
                non_empty(cl),
                weight,
                non_empty(cells),
                answers,
            );
        }
        start = end;
    }
    Ok(())
}

fn non_empty(x: &str) -> Option<&str> {
    (!x.is_empty()).then_some(x)
}

/// Four rowid ranges over the campaign's first to last row (found through the
/// `campaign_id` index), read through that index when the campaign holds less than half of
/// the rows in between.
async fn sqlite_ranges(db: &DatabaseConnection, campaign_id: i64) -> Result<Ranges, AppError> {
    let pool = db.get_sqlite_connection_pool();
    let err = |e: sqlx::Error| AppError::Internal(anyhow::anyhow!("reading responses: {e}"));
    let (lo, hi): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT min(rowid), max(rowid) FROM responses WHERE campaign_id = ?1")
            .bind(campaign_id)
            .fetch_one(pool)
            .await
            .map_err(err)?;
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Ok(Ranges::Ids);
    };
    let count = i64::try_from(super::responses::count(db, campaign_id).await?).unwrap_or(i64::MAX);
    let span = hi - lo + 1;
    let indexed = count.saturating_mul(2) < span;
    let step = span / 4 + 1;
    let mut bounds = [(0i64, 0i64); 4];
    for (k, b) in bounds.iter_mut().enumerate() {
        let k = k as i64;
        *b = (
            lo + k * step,
            if k == 3 { hi + 1 } else { lo + (k + 1) * step },
        );
    }
    Ok(Ranges::Rowids { bounds, indexed })
}

/// Concatenates datasets read separately, re-coding their labels.
fn join_parts(parts: Vec<Dataset>) -> Dataset {
    let Some(first) = parts.first() else {
        return Dataset::default();
    };
    let total: usize = parts.iter().map(|p| p.n).sum();
    let mut out = Dataset {
        cells: first
            .cells
            .iter()
            .map(|(v, _, _)| (v.clone(), Vec::with_capacity(total), Interner::default()))
            .collect(),
        values: vec![Vec::with_capacity(total); first.values.len()],
        ..Dataset::default()
    };
    out.locality.reserve(total);
    out.stratum.reserve(total);
    out.cluster.reserve(total);
    out.weight.reserve(total);
    for p in parts {
        let remap = |labels: &[String], into: &mut Interner| -> Vec<u32> {
            labels.iter().map(|l| into.code(l)).collect()
        };
        let loc = remap(&p.localities.labels, &mut out.localities);
        let st = remap(&p.strata.labels, &mut out.strata);
        let cl = remap(&p.clusters.labels, &mut out.clusters);
        out.locality
            .extend(p.locality.iter().map(|&c| loc[c as usize]));
        out.stratum
            .extend(p.stratum.iter().map(|&c| st[c as usize]));
        out.cluster
            .extend(p.cluster.iter().map(|&c| cl[c as usize]));
        out.weight.extend_from_slice(&p.weight);
        for ((_, codes, interner), (_, src, src_labels)) in out.cells.iter_mut().zip(&p.cells) {
            let map = remap(&src_labels.labels, interner);
            codes.extend(
                src.iter()
                    .map(|&c| map.get(c as usize).copied().unwrap_or(u32::MAX)),
            );
        }
        for (col, src) in out.values.iter_mut().zip(&p.values) {
            col.extend_from_slice(src);
        }
        out.answers.extend(p.answers);
        out.n += p.n;
    }
    out
}

/// Where each stored locality sits: its commune (if it is one) and its province.
#[derive(Debug, Clone, Default)]
pub struct Hierarchy {
    /// Per code of [`Dataset::localities`]: the commune code (None for a province).
    pub commune: Vec<Option<String>>,
    /// Per code of [`Dataset::localities`]: the province code.
    pub province: Vec<Option<String>>,
    pub units: HashMap<String, entity::locality::Model>,
}

/// Resolves communes to provinces with the hierarchy valid on the campaign's opening day
/// (following a district level when there is one).
pub async fn hierarchy(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    data: &Dataset,
) -> Result<Hierarchy, AppError> {
    let on = campaign.campaign.opens_on;
    let mut units: HashMap<String, entity::locality::Model> = HashMap::new();
    let mut wanted: Vec<String> = data.localities.labels.clone();
    for _ in 0..4 {
        let missing: Vec<String> = wanted
            .iter()
            .filter(|c| !units.contains_key(*c))
            .cloned()
            .collect();
        if missing.is_empty() {
            break;
        }
        let found = localities::valid_on(db, &missing, on).await?;
        wanted = found
            .values()
            .filter_map(|u| u.parent_code.clone())
            .collect();
        units.extend(found);
    }
    let mut commune = Vec::new();
    let mut province = Vec::new();
    for code in &data.localities.labels {
        let mut cur = units.get(code);
        let is_commune = cur.is_some_and(|u| u.level == "commune");
        commune.push(is_commune.then(|| code.clone()));
        let mut prov = None;
        for _ in 0..4 {
            match cur {
                Some(u) if u.level == "province" => {
                    prov = Some(u.code.clone());
                    break;
                }
                Some(u) => cur = u.parent_code.as_ref().and_then(|p| units.get(p)),
                None => break,
            }
        }
        province.push(prov);
    }
    Ok(Hierarchy {
        commune,
        province,
        units,
    })
}

/// The design of a campaign over its data, calibrated when possible.
pub struct Built {
    pub design: Design,
    pub note: CalibrationNote,
    /// Per calibration variable: the joint cell label of each row and the population totals.
    pub margins: Vec<Margin>,
}

/// Population margins of the sample's provinces for the campaign's calibration variables.
pub async fn population_margins(
    db: &DatabaseConnection,
    variables: &[String],
) -> Result<Vec<population_margin::Model>, AppError> {
    if variables.is_empty() {
        return Ok(Vec::new());
    }
    Ok(population_margin::Entity::find()
        .filter(population_margin::Column::Variable.is_in(variables.iter().cloned()))
        .order_by_asc(population_margin::Column::Id)
        .all(db)
        .await?)
}

/// Builds the design (and calibration) for a data set.
pub fn build_design(
    campaign: &OpenCampaign,
    data: &Dataset,
    hier: &Hierarchy,
    margins: &[population_margin::Model],
) -> Result<Built, AppError> {
    let design = base_design(campaign, data)?;
    if campaign.design.calibration.is_empty() {
        return Ok(Built {
            design,
            note: CalibrationNote::None,
            margins: Vec::new(),
        });
    }
    calibrated(campaign, data, hier, margins, design)
}

/// The design on the data's own weights, strata and clusters (no calibration).
fn base_design(campaign: &OpenCampaign, data: &Dataset) -> Result<Design, AppError> {
    let lonely = <LonelyPsu as clap::ValueEnum>::from_str(&campaign.design.lonely_psu, true)
        .unwrap_or(LonelyPsu::Adjust);
    let stats = |e: hailong_stats::StatsError| AppError::Internal(anyhow::anyhow!("{e}"));
    Design::new(DesignSpec {
        weights: data.weight.clone(),
        strata: Some(
            Factor::from_codes(data.stratum.clone(), data.strata.labels.clone()).map_err(stats)?,
        ),
        stages: vec![Stage {
            clusters: Some(
                Factor::from_codes(data.cluster.clone(), data.clusters.labels.clone())
                    .map_err(stats)?,
            ),
            fpc: None,
        }],
        lonely_psu: lonely,
    })
    .map_err(stats)
}

/// The design calibrated to the campaign's margins, or the reason it cannot be.
fn calibrated(
    campaign: &OpenCampaign,
    data: &Dataset,
    hier: &Hierarchy,
    margins: &[population_margin::Model],
    design: Design,
) -> Result<Built, AppError> {
    match calibration_margins(data, hier, margins) {
        Ok(ms) => match design.calibrate(&Calibration::new(ms.clone())) {
            Ok(calibrated) => Ok(Built {
                design: calibrated,
                note: CalibrationNote::Calibrated {
                    variables: campaign.design.calibration.clone(),
                },
                margins: ms,
            }),
            Err(e) => Ok(Built {
                design,
                note: CalibrationNote::Skipped {
                    reason: e.to_string(),
                },
                margins: Vec::new(),
            }),
        },
        Err(reason) => Ok(Built {
            design,
            note: CalibrationNote::Skipped { reason },
            margins: Vec::new(),
        }),
    }
}

/// The joint `<province>|<category>` margins, or why they cannot be formed.
fn calibration_margins(
    data: &Dataset,
    hier: &Hierarchy,
    margins: &[population_margin::Model],
) -> Result<Vec<Margin>, String> {
    let provinces_in_sample: HashSet<&str> =
        hier.province.iter().flatten().map(String::as_str).collect();
    let mut out = Vec::new();
    for (variable, codes, interner) in &data.cells {
        let mut totals: Vec<(String, f64)> = margins
            .iter()
            .filter(|m| {
                &m.variable == variable && provinces_in_sample.contains(m.locality_code.as_str())
            })
            .map(|m| (format!("{}|{}", m.locality_code, m.category), m.total))
            .collect();
        totals.sort_by(|a, b| a.0.cmp(&b.0));
        if totals.is_empty() {
            return Err(format!("no population margins for \"{variable}\""));
        }
        let known: HashSet<&str> = totals.iter().map(|(c, _)| c.as_str()).collect();
        let mut labels = Vec::with_capacity(data.n);
        let mut missing = 0usize;
        let mut unknown = 0usize;
        for (&loc, &code) in data.locality.iter().zip(codes) {
            let prov = hier.province.get(loc as usize).cloned().flatten();
            let cat = interner.labels.get(code as usize);
            match (prov, cat) {
                (Some(p), Some(c)) => {
                    let label = format!("{p}|{c}");
                    if !known.contains(label.as_str()) {
                        unknown += 1;
                    }
                    labels.push(label);
                }
                _ => {
                    missing += 1;
                    labels.push(String::new());
                }
            }
        }
        if missing > 0 {
            return Err(format!(
                "{missing} responses have no value of \"{variable}\" (or no province)"
            ));
        }
        if unknown > 0 {
            return Err(format!(
                "{unknown} responses fall in a \"{variable}\" category without a population total"
            ));
        }
        // Cells with a population total but no respondent cannot be calibrated to.
        let present: HashSet<&str> = labels.iter().map(String::as_str).collect();
        if let Some((empty, _)) = totals
            .iter()
            .find(|(c, t)| *t > 0.0 && !present.contains(c.as_str()))
        {
            return Err(format!("no respondent in the population cell \"{empty}\""));
        }
        out.push(Margin {
            variable: variable.clone(),
            values: Factor::from_labels(labels),
            totals,
        });
    }
    Ok(out)
}

// ------------------------------------------------------------------------------------------
// Computing.
// ------------------------------------------------------------------------------------------

/// Own PSUs − own strata of a set of rows.
fn own_df(rows: impl Iterator<Item = usize>, data: &Dataset) -> i64 {
    let mut psus = HashSet::new();
    let mut strata = HashSet::new();
    for r in rows {
        psus.insert((data.stratum[r], data.cluster[r]));
        strata.insert(data.stratum[r]);
    }
    psus.len() as i64 - strata.len() as i64
}

/// Computes every result of a campaign's publication `upto` (its set of responses).
pub async fn compute(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    upto: i64,
) -> Result<CampaignResults, AppError> {
    let plan = plan(&campaign.definition);
    let data = load_dataset(db, campaign, &plan, false, upto).await?;
    let hier = hierarchy(db, campaign, &data).await?;
    let margins = population_margins(db, &campaign.design.calibration).await?;
    let campaign = campaign.clone();
    tokio::task::spawn_blocking(move || estimate_all(&campaign, &plan, &data, &hier, &margins))
        .await
        .map_err(|e| anyhow::anyhow!("estimation task: {e}"))?
}

/// The pure part of [`compute`]: design, estimates, suppression.
pub fn estimate_all(
    campaign: &OpenCampaign,
    plan: &Plan,
    data: &Dataset,
    hier: &Hierarchy,
    margins: &[population_margin::Model],
) -> Result<CampaignResults, AppError> {
    estimate_on(campaign, plan, data, hier, |c, d, h| {
        build_design(c, d, h, margins)
    })
}

/// [`estimate_all`] with the design made by `build`.
fn estimate_on(
    campaign: &OpenCampaign,
    plan: &Plan,
    data: &Dataset,
    hier: &Hierarchy,
    build: impl FnOnce(&OpenCampaign, &Dataset, &Hierarchy) -> Result<Built, AppError>,
) -> Result<CampaignResults, AppError> {
    let settings = &campaign.design;
    let main_index = settings
        .main_index
        .clone()
        .filter(|m| plan.indices.iter().any(|i| &i.name == m))
        .or_else(|| {
            campaign
                .definition
                .indices
                .iter()
                .map(|i| i.code.clone())
                .find(|c| plan.indices.iter().any(|i| &i.name == c))
        });
    let empty = |note| CampaignResults {
        rows: Vec::new(),
        localities: Vec::new(),
        nodes: plan.nodes.clone(),
        main_index: main_index.clone(),
        responses: data.n as u64,
        df: 0,
        min_n: settings.min_n,
        min_df: settings.min_df,
        calibration: note,
        skipped_indices: plan.skipped.clone(),
    };
    if data.n == 0 || plan.items.is_empty() {
        return Ok(empty(CalibrationNote::None));
    }
    let built = build(campaign, data, hier)?;
    let stats = |e: hailong_stats::StatsError| AppError::Internal(anyhow::anyhow!("{e}"));
    let items: Vec<Item> = plan
        .items
        .iter()
        .zip(&data.values)
        .map(|(p, v)| {
            Item::new(p.code.clone(), v.clone())
                .with_satisfied_min(p.satisfied_min as f64)
                .with_scale(p.min as f64, p.max as f64)
        })
        .collect();
    let estimator = Estimator::new(
        &built.design,
        &items,
        &plan.indices,
        EstimateOptions {
            ci: CiMethod::Logit,
            level: 0.95,
        },
    )
    .map_err(stats)?;

    // Domains of the three levels.
    let mut communes = Interner::default();
    let mut provinces = Interner::default();
    let mut commune_codes = Vec::with_capacity(data.n);
    let mut province_codes = Vec::with_capacity(data.n);
    for &l in &data.locality {
        let l = l as usize;
        commune_codes.push(match hier.commune.get(l).cloned().flatten() {
            Some(c) => communes.code(&c),
            None => Domains::OUTSIDE,
        });
        province_codes.push(match hier.province.get(l).cloned().flatten() {
            Some(p) => provinces.code(&p),
            None => Domains::OUTSIDE,
        });
    }
    let commune_rows = group_rows(&commune_codes, communes.labels.len());
    let province_rows = group_rows(&province_codes, provinces.labels.len());
    let d_commune = Domains::new(commune_codes, communes.labels.clone()).map_err(stats)?;
    let d_province = Domains::new(province_codes, provinces.labels.clone()).map_err(stats)?;
    let d_national = Domains::new(vec![0; data.n], vec![NATIONAL.to_owned()]).map_err(stats)?;
    let levels = estimator
        .estimate_levels(&[&d_national, &d_province, &d_commune])
        .map_err(stats)?;

    let design_df = built.design.df();
    let mut own: HashMap<(Level, String), i64> = HashMap::new();
    own.insert((Level::National, NATIONAL.to_owned()), design_df);
    for (code, rows) in provinces.labels.iter().zip(&province_rows) {
        own.insert(
            (Level::Province, code.clone()),
            own_df(rows.iter().copied(), data),
        );
    }
    for (code, rows) in communes.labels.iter().zip(&commune_rows) {
        own.insert(
            (Level::Commune, code.clone()),
            own_df(rows.iter().copied(), data),
        );
    }

    let mut rows = Vec::new();
    for (level, estimates) in [Level::National, Level::Province, Level::Commune]
        .into_iter()
        .zip(levels)
    {
        for e in estimates {
            if e.statistic != Statistic::Index {
                continue;
            }
            let own_df = own.get(&(level, e.domain.clone())).copied().unwrap_or(0);
            let reason = if e.n < u64::from(settings.min_n) {
                Some(Suppression::TooFewRespondents)
            } else if own_df < i64::from(settings.min_df) {
                Some(Suppression::TooFewPsus)
            } else if e.estimate.is_none() {
                Some(Suppression::NotEstimable)
            } else {
                None
            };
            let shown = reason.is_none();
            rows.push(ResultRow {
                level,
                locality: e.domain,
                index: e.item,
                estimate: e.estimate.filter(|_| shown),
                se: e.se.filter(|_| shown),
                ci_low: e.ci_low.filter(|_| shown),
                ci_high: e.ci_high.filter(|_| shown),
                df: e.df,
                n: e.n,
                deff: e.deff.filter(|_| shown),
                own_df,
                suppressed: !shown,
                reason,
            });
        }
    }

    // Localities with names and response counts.
    let mut localities = vec![ResultLocality {
        code: NATIONAL.to_owned(),
        level: Level::National,
        parent: None,
        name_vi: String::new(),
        name_en: String::new(),
        responses: data.n as u64,
    }];
    let named = |code: &str, level: Level, responses: usize| {
        let unit = hier.units.get(code);
        ResultLocality {
            code: code.to_owned(),
            level,
            parent: match level {
                Level::Province => Some(NATIONAL.to_owned()),
                _ => unit.and_then(|u| u.parent_code.clone()),
            },
            name_vi: unit.map_or_else(|| code.to_owned(), |u| u.name_vi.clone()),
            name_en: unit.map_or_else(|| code.to_owned(), |u| u.name_en.clone()),
            responses: responses as u64,
        }
    };
    for (code, r) in provinces.labels.iter().zip(&province_rows) {
        localities.push(named(code, Level::Province, r.len()));
    }
    for (code, r) in communes.labels.iter().zip(&commune_rows) {
        let mut l = named(code, Level::Commune, r.len());
        // The commune's province as resolved through the hierarchy (skipping districts).
        if let Some(first) = r.first() {
            l.parent = hier
                .province
                .get(data.locality[*first] as usize)
                .cloned()
                .flatten();
        }
        localities.push(l);
    }
    localities.sort_by(|a, b| (a.level as u8, &a.code).cmp(&(b.level as u8, &b.code)));
    rows.sort_by(|a, b| (a.level as u8, &a.locality).cmp(&(b.level as u8, &b.locality)));

    Ok(CampaignResults {
        rows,
        localities,
        nodes: plan.nodes.clone(),
        main_index,
        responses: data.n as u64,
        df: design_df,
        min_n: settings.min_n,
        min_df: settings.min_df,
        calibration: built.note,
        skipped_indices: plan.skipped.clone(),
    })
}

fn group_rows(codes: &[u32], n: usize) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); n];
    for (row, &c) in codes.iter().enumerate() {
        if let Some(v) = out.get_mut(c as usize) {
            v.push(row);
        }
    }
    out
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

/// Names of the tree nodes by key, for labels.
pub fn node_names(results: &CampaignResults, lang: Lang) -> BTreeMap<String, String> {
    results
        .nodes
        .iter()
        .map(|n| (n.key.clone(), n.name(lang).to_owned()))
        .collect()
}

/// Fieldwork of one locality: responses in the publication against the plan's target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fieldwork {
    pub code: String,
    pub responses: u64,
    pub target: Option<u64>,
}

/// Responses per locality as published (never the live count: it would tell when each
/// response arrived) and the targets.
pub async fn fieldwork(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    published: &CampaignResults,
) -> Result<Vec<Fieldwork>, AppError> {
    use entity::campaign_locality;
    let links = campaign_locality::Entity::find()
        .filter(campaign_locality::Column::CampaignId.eq(campaign.campaign.id))
        .order_by_asc(campaign_locality::Column::LocalityCode)
        .all(db)
        .await?;
    Ok(links
        .into_iter()
        .map(|l| Fieldwork {
            responses: published
                .locality(&l.locality_code)
                .map(|x| x.responses)
                .unwrap_or(0),
            target: l.target_n.and_then(|t| u64::try_from(t).ok()),
            code: l.locality_code,
        })
        .collect())
}

/// A rank band: the best and worst rank a locality can have given the intervals of all
/// (ranks 1 = highest). `best` = 1 + the number of localities whose interval lies entirely
/// above this one's; `worst` = the number of localities minus those entirely below. Two
/// localities with overlapping intervals are not told apart (a conservative comparison by
/// interval overlap, not a strict ranking).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RankBand {
    pub best: usize,
    pub worst: usize,
}

/// Rank bands of the shown (not suppressed) rows, in the rows' order.
pub fn rank_bands(rows: &[&ResultRow]) -> Vec<Option<RankBand>> {
    let shown: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|r| r.ci_low.zip(r.ci_high))
        .collect();
    let m = shown.len();
    rows.iter()
        .map(|r| {
            let (lo, hi) = r.ci_low.zip(r.ci_high)?;
            let above = shown.iter().filter(|(l, _)| *l > hi).count();
            let below = shown.iter().filter(|(_, h)| *h < lo).count();
            Some(RankBand {
                best: above + 1,
                worst: m - below,
            })
        })
        .collect()
}

// ------------------------------------------------------------------------------------------
// Comparing two waves.
// ------------------------------------------------------------------------------------------

/// The change of one locality's estimate between two waves (`a` this campaign, `b` the
/// earlier one).
///
/// The waves are separate samples, so the difference's variance is the sum of the two
/// variances, `se = √(se_a² + se_b²)`, and the interval is `diff ± qt(0.975, ν) · se` with the
/// Welch–Satterthwaite `ν = (v_a + v_b)² / (v_a²/df_a + v_b²/df_b)`. When the waves share
/// PSUs (a panel), the positive covariance this ignores makes the interval conservative: a
/// change is then flagged less often, never more. A change is flagged only when its interval
/// excludes zero. Suppressed in either wave means suppressed here, with that reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub locality: String,
    pub index: String,
    pub current: Option<f64>,
    pub previous: Option<f64>,
    pub difference: Option<f64>,
    pub se: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub df: Option<f64>,
    /// The interval excludes zero.
    pub flagged: bool,
    pub suppressed: bool,
    pub reason: Option<Suppression>,
}

/// The change of a row between two waves (see [`Change`]).
pub fn change(current: &ResultRow, previous: Option<&ResultRow>) -> Change {
    let mut c = Change {
        locality: current.locality.clone(),
        index: current.index.clone(),
        current: current.estimate,
        previous: previous.and_then(|p| p.estimate),
        difference: None,
        se: None,
        ci_low: None,
        ci_high: None,
        df: None,
        flagged: false,
        suppressed: true,
        reason: None,
    };
    let Some(prev) = previous else {
        c.reason = Some(Suppression::NotEstimable);
        return c;
    };
    if let Some(r) = current.reason.or(prev.reason) {
        c.reason = Some(r);
        return c;
    }
    let (Some(ea), Some(sa), Some(eb), Some(sb)) =
        (current.estimate, current.se, prev.estimate, prev.se)
    else {
        c.reason = Some(Suppression::NotEstimable);
        return c;
    };
    let (va, vb) = (sa * sa, sb * sb);
    let (dfa, dfb) = (current.df as f64, prev.df as f64);
    let df = if va + vb > 0.0 && dfa >= 1.0 && dfb >= 1.0 {
        (va + vb).powi(2) / (va * va / dfa + vb * vb / dfb)
    } else {
        dfa.min(dfb)
    };
    let diff = ea - eb;
    let se = (va + vb).sqrt();
    c.suppressed = false;
    c.difference = Some(diff);
    c.se = Some(se);
    c.df = Some(df);
    if let Some(t) = hailong_stats::intervals::t_quantile(0.975, df) {
        let (lo, hi) = (diff - t * se, diff + t * se);
        c.ci_low = Some(lo);
        c.ci_high = Some(hi);
        c.flagged = lo > 0.0 || hi < 0.0;
    }
    c
}

/// Changes of every locality of a level between two waves of the same index.
pub fn compare(
    current: &CampaignResults,
    previous: &CampaignResults,
    level: Level,
    index: &str,
) -> Vec<Change> {
    current
        .level_rows(level, index)
        .into_iter()
        .map(|row| change(row, previous.row(&row.locality, index)))
        .collect()
}

// ------------------------------------------------------------------------------------------
// An earlier wave collected under older units, in today's units.
// ------------------------------------------------------------------------------------------

/// The results of an earlier wave (`previous`) re-aggregated to the units of `current`
/// (valid on its opening day), when some of the earlier wave's responses were collected in
/// units that are no longer valid then (e.g. the 63 provinces and their districts before
/// 1 July 2025); `None` when every unit is still valid (its own results then compare as
/// they are).
///
/// Method. The earlier wave's design is built as for its own results (its hierarchy, its
/// calibration); then each response is placed in today's units by the imported crosswalk
/// ([`super::crosswalk::to_level`], following several reforms if need be): a response of an
/// old unit that went whole to one new commune counts there; one of an old unit split with
/// shares counts in each new commune with its (calibrated) weight multiplied by the share,
/// so the weights of one response still sum to its weight. A unit that maps to a province
/// only (no commune link) counts in that province and not in any commune; a unit the
/// crosswalk cannot place is left out. The copies of a response keep its stratum and PSU,
/// so the variance (Taylor linearisation, per domain) adds them up within their PSU; the
/// calibrated weights are then taken as fixed (the calibration's variance reduction is not
/// credited, so the intervals are slightly conservative). The estimates are the campaign's
/// own estimators (indices, elements, criteria), domain by domain, with the small-numbers
/// rule; a locality's `responses` counts the response copies in it. The earlier wave's
/// responses are those of its publication `previous_publication`.
pub async fn in_units_of(
    db: &DatabaseConnection,
    current: &OpenCampaign,
    previous: &OpenCampaign,
    previous_publication: i64,
) -> Result<Option<CampaignResults>, AppError> {
    use super::locality_lists::Hierarchy as Units;
    // A cheap look at the earlier wave's units first: usually they are all valid today.
    let codes: Vec<String> = super::responses::counts_by_locality(db, previous.campaign.id)
        .await?
        .into_keys()
        .collect();
    let today = Units::on(db, current.campaign.opens_on).await?;
    if codes.iter().all(|c| today.units.contains_key(c)) {
        return Ok(None);
    }
    let plan = plan(&previous.definition);
    let data = load_dataset(db, previous, &plan, false, previous_publication).await?;
    let crosswalk = super::crosswalk::load(db).await?;
    let old_hier = hierarchy(db, previous, &data).await?;
    let margins = population_margins(db, &previous.design.calibration).await?;
    let previous = previous.clone();
    tokio::task::spawn_blocking(move || {
        let built = build_design(&previous, &data, &old_hier, &margins)?;
        let (expanded, hier) = expand(&data, built.design.weights(), &crosswalk, &today);
        let note = built.note;
        estimate_on(&previous, &plan, &expanded, &hier, |c, d, _| {
            Ok(Built {
                design: base_design(c, d)?,
                note,
                margins: Vec::new(),
            })
        })
    })
    .await
    .map_err(|e| anyhow::anyhow!("re-aggregation task: {e}"))?
    .map(Some)
}

/// The rows of `data` placed in today's units (see [`in_units_of`]), with `weights` split by
/// the crosswalk's shares, and where those units sit.
fn expand(
    data: &Dataset,
    weights: &[f64],
    crosswalk: &HashMap<String, Vec<(String, f64)>>,
    today: &super::locality_lists::Hierarchy,
) -> (Dataset, Hierarchy) {
    use super::crosswalk::to_level;
    // Per old unit: [(today's commune or province, share)].
    let targets: Vec<Vec<(String, f64)>> = data
        .localities
        .labels
        .iter()
        .map(|code| {
            let communes = to_level(crosswalk, today, code, "commune");
            let placed: f64 = communes.iter().map(|(_, s)| s).sum();
            let mut out = communes;
            // What does not reach a commune counts in its province only.
            if placed < 1.0 - 1e-9 {
                let provinces = to_level(crosswalk, today, code, "province");
                let in_communes: HashMap<String, f64> = {
                    let mut m: HashMap<String, f64> = HashMap::new();
                    for (c, s) in &out {
                        if let Some(p) = today.ancestor_at(c, "province") {
                            *m.entry(p.code.clone()).or_default() += s;
                        }
                    }
                    m
                };
                for (p, s) in provinces {
                    let rest = s - in_communes.get(&p).copied().unwrap_or(0.0);
                    if rest > 1e-12 {
                        out.push((p, rest));
                    }
                }
            }
            out
        })
        .collect();
    let mut out = Dataset {
        values: vec![Vec::new(); data.values.len()],
        strata: data.strata.clone(),
        clusters: data.clusters.clone(),
        ..Dataset::default()
    };
    for row in 0..data.n {
        let w = weights.get(row).copied().unwrap_or(0.0);
        for (unit, share) in &targets[data.locality[row] as usize] {
            out.n += 1;
            out.locality.push(out.localities.code(unit));
            out.stratum.push(data.stratum[row]);
            out.cluster.push(data.cluster[row]);
            out.weight.push(w * share);
            for (col, src) in out.values.iter_mut().zip(&data.values) {
                col.push(src[row]);
            }
        }
    }
    let mut hier = Hierarchy::default();
    for code in &out.localities.labels {
        let unit = today.units.get(code);
        let is_commune = unit.is_some_and(|u| u.level == "commune");
        hier.commune.push(is_commune.then(|| code.clone()));
        hier.province
            .push(today.ancestor_at(code, "province").map(|p| p.code.clone()));
        for u in [unit, today.ancestor_at(code, "province")]
            .into_iter()
            .flatten()
        {
            hier.units.insert(u.code.clone(), u.clone());
        }
    }
    (out, hier)
}
