//! A campaign's responses in columns, ready for the design: the labels (localities, strata,
//! clusters, calibration categories) interned as dense codes, and the items' answers as
//! numbers. `Parser` reads one response at a time from its stored text, taking out of the
//! answers' JSON only what estimation needs; [`super::loader`] feeds it from the database.

use std::collections::HashMap;

use crate::services::campaigns::OpenCampaign;

use super::plan::{ItemPlan, Plan};

/// Text labels interned as dense codes. Looked up a few times per response read, so hashed
/// with foldhash rather than SipHash (the codes follow the order of first appearance, never
/// the hash).
#[derive(Debug, Clone, Default)]
pub struct Interner {
    index: HashMap<String, u32, foldhash::fast::RandomState>,
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
    /// When every row is a group of responses ([`super::grouping`]): their totals (and no
    /// `values`).
    pub groups: Option<hailong_stats::Groups>,
}

impl Dataset {
    /// The number of responses.
    pub fn responses(&self) -> u64 {
        match &self.groups {
            Some(g) => g.rows().iter().sum(),
            None => self.n as u64,
        }
    }

    /// The responses of row `r`.
    pub fn count(&self, r: usize) -> u64 {
        self.groups
            .as_ref()
            .map_or(1, |g| g.rows().get(r).copied().unwrap_or(0))
    }

    /// `Σ w²` over the responses of row `r`.
    pub fn weight_squared(&self, r: usize) -> f64 {
        match &self.groups {
            Some(g) => g.weights_squared().get(r).copied().unwrap_or(0.0),
            None => self.weight.get(r).map_or(0.0, |w| w * w),
        }
    }
}

pub(super) struct Parser {
    pub(super) data: Dataset,
    items: Vec<ItemPlan>,
    /// Item position by question code.
    index: HashMap<String, usize>,
    keep_answers: bool,
    /// Calibration variable position by name.
    cell_index: HashMap<String, usize>,
    /// Scratch space for one row.
    raw: Vec<f64>,
    cell_raw: Vec<u32>,
    /// Which id range this parser reads.
    part: usize,
}

/// Reads only the items' answers out of a response's JSON object, without building a map:
/// the hot loop of a large campaign. Question codes never need JSON escapes (they are
/// checked codes); a response whose answers cannot be read this way counts as unanswered.
struct ItemAnswers<'a> {
    index: &'a HashMap<String, usize>,
    items: &'a [ItemPlan],
    out: &'a mut [f64],
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
            match self
                .index
                .get(key)
                .and_then(|&k| Some((k, self.items.get(k)?)))
            {
                Some((k, item)) => {
                    let v = map.next_value_seed(AnswerSeed(item))?;
                    if let Some(slot) = self.out.get_mut(k) {
                        *slot = v;
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

/// One answer read as its item's value ([`ItemPlan::value`] without building a JSON value).
struct AnswerSeed<'a>(&'a ItemPlan);

impl<'de> serde::de::DeserializeSeed<'de> for AnswerSeed<'_> {
    type Value = f64;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<f64, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for AnswerSeed<'_> {
    type Value = f64;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an answer")
    }
    fn visit_i64<E>(self, v: i64) -> Result<f64, E> {
        Ok(self.0.from_number(v as f64))
    }
    fn visit_u64<E>(self, v: u64) -> Result<f64, E> {
        Ok(self.0.from_number(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<f64, E> {
        Ok(self.0.from_number(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<f64, E> {
        Ok(self.0.from_text(v))
    }
    fn visit_bool<E>(self, b: bool) -> Result<f64, E> {
        Ok(self.0.from_bool(b))
    }
    fn visit_unit<E>(self) -> Result<f64, E> {
        Ok(f64::NAN)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<f64, A::Error> {
        // A multiple choice: its chosen options (anything else makes the answer missing).
        let mut chosen: Vec<std::borrow::Cow<'de, str>> = Vec::new();
        let mut strings = true;
        while let Some(v) = s.next_element::<serde_json::Value>()? {
            match v {
                serde_json::Value::String(x) => chosen.push(x.into()),
                _ => strings = false,
            }
        }
        Ok(if strings {
            self.0.from_list(chosen.iter().map(|c| c.as_ref()))
        } else {
            f64::NAN
        })
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<f64, A::Error> {
        while m
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(f64::NAN)
    }
}

impl Parser {
    pub(super) fn new(
        campaign: &OpenCampaign,
        plan: &Plan,
        keep_answers: bool,
        part: usize,
    ) -> Parser {
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

    /// Adds the design fields of one response (no answers): locality, stratum, cluster,
    /// weight and calibration cells.
    fn push_design(
        &mut self,
        locality: &str,
        stratum: Option<&str>,
        cluster: Option<&str>,
        weight: f64,
        cells: Option<&str>,
    ) {
        let row = self.data.n;
        let (l, s, c) = self.design_codes(locality, stratum, cluster, cells, row);
        self.push_codes(l, s, c, weight);
    }

    /// The codes of one response's locality, stratum and cluster (interned), its calibration
    /// cells left in `cell_codes()`; `row` numbers the response within this part (a response
    /// without a cluster is a PSU of its own, named after it).
    pub(super) fn design_codes(
        &mut self,
        locality: &str,
        stratum: Option<&str>,
        cluster: Option<&str>,
        cells: Option<&str>,
        row: usize,
    ) -> (u32, u32, u32) {
        let d = &mut self.data;
        let l = d.localities.code(locality);
        let s = d.strata.code(stratum.unwrap_or(""));
        let c = match cluster {
            Some(c) if !c.is_empty() => d.clusters.code(c),
            // A response without a cluster is its own PSU (unique across the parts read).
            _ => d.clusters.code(&format!("\u{1}row{}-{row}", self.part)),
        };
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
        (l, s, c)
    }

    /// The calibration cells found by the last [`Parser::design_codes`].
    pub(super) fn cell_codes(&self) -> &[u32] {
        &self.cell_raw
    }

    /// Adds a row with these codes and the cells of the last [`Parser::design_codes`].
    pub(super) fn push_codes(&mut self, locality: u32, stratum: u32, cluster: u32, weight: f64) {
        let d = &mut self.data;
        d.n += 1;
        d.locality.push(locality);
        d.stratum.push(stratum);
        d.cluster.push(cluster);
        d.weight.push(weight);
        for ((_, codes, _), code) in d.cells.iter_mut().zip(&self.cell_raw) {
            codes.push(*code);
        }
    }

    /// Reads the items' answers of one response into `item_values()` (NaN = missing).
    pub(super) fn read_items(&mut self, answers: &str) {
        self.raw.clear();
        self.raw.resize(self.items.len(), f64::NAN);
        let mut de = serde_json::Deserializer::from_str(answers);
        let read = serde::de::DeserializeSeed::deserialize(
            ItemAnswers {
                index: &self.index,
                items: &self.items,
                out: &mut self.raw,
            },
            &mut de,
        );
        if read.is_err() {
            self.raw.iter_mut().for_each(|r| *r = f64::NAN);
        }
    }

    /// The values read by the last [`Parser::read_items`], mutable (derived items).
    pub(super) fn item_values(&mut self) -> &mut [f64] {
        &mut self.raw
    }

    /// Adds one response, its text fields borrowed from the database row.
    pub(super) fn push_row(
        &mut self,
        locality: &str,
        stratum: Option<&str>,
        cluster: Option<&str>,
        weight: f64,
        cells: Option<&str>,
        answers: &str,
    ) {
        self.push_design(locality, stratum, cluster, weight, cells);
        let d = &mut self.data;
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
            self.read_items(answers);
            for (col, r) in self.data.values.iter_mut().zip(&self.raw) {
                col.push(*r);
            }
        }
    }
}

/// The design columns of responses read one at a time, without their answers (locality,
/// stratum, cluster, weight, calibration cells): what a streaming export keeps of every row
/// to build the design, while it writes the answers elsewhere. One per range read; joined in
/// range order they are the [`Dataset`] `load_dataset` reads (answers aside), code for code.
pub struct DesignColumns(Parser);

impl DesignColumns {
    /// Columns of the id range `part` (see [`super::loader::scan_by_id`]).
    pub fn new(campaign: &OpenCampaign, part: usize) -> DesignColumns {
        let no_items = Plan {
            items: Vec::new(),
            indices: Vec::new(),
            nodes: Vec::new(),
            skipped: Vec::new(),
        };
        DesignColumns(Parser::new(campaign, &no_items, false, part))
    }

    /// Adds one response's design fields.
    pub fn push(
        &mut self,
        locality: &str,
        stratum: Option<&str>,
        cluster: Option<&str>,
        weight: f64,
        cells: Option<&str>,
    ) {
        self.0
            .push_design(locality, stratum, cluster, weight, cells);
    }

    /// Responses added so far.
    pub fn len(&self) -> usize {
        self.0.data.n
    }

    pub fn is_empty(&self) -> bool {
        self.0.data.n == 0
    }

    /// The ranges' columns as one data set, in the order given.
    pub fn join(parts: Vec<DesignColumns>) -> Dataset {
        join_parts(parts.into_iter().map(|p| p.0.data).collect())
    }
}

/// Which of a plan's items a response answers, read exactly as the results read the answers
/// (the publication's k rule, which must count what the estimates will count), without
/// building the answers' JSON.
pub struct AnsweredItems(Parser);

impl AnsweredItems {
    pub fn new(campaign: &OpenCampaign, plan: &Plan) -> AnsweredItems {
        AnsweredItems(Parser::new(campaign, plan, false, 0))
    }

    /// The positions of the items `answers` (a response's stored JSON) answers, in `out`.
    pub fn read(&mut self, answers: &str, out: &mut Vec<u32>) {
        self.0.read_items(answers);
        out.clear();
        out.extend(
            self.0
                .raw
                .iter()
                .enumerate()
                .filter(|(_, v)| !v.is_nan())
                .map(|(k, _)| k as u32),
        );
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
            let code = match map.next_value::<CellValue<'de>>()? {
                CellValue::Text(s) if !s.is_empty() => self.cells.get_mut(k).map(|c| c.2.code(&s)),
                CellValue::Number(n) => self.cells.get_mut(k).map(|c| c.2.code(&n.to_string())),
                _ => None,
            };
            if let (Some(slot), Some(code)) = (self.out.get_mut(k), code) {
                *slot = code;
            }
        }
        Ok(())
    }
}

/// A calibration cell's value as read: text (borrowed from the row when it holds no escape),
/// a number (written as `serde_json` writes it), or anything else (no category).
enum CellValue<'a> {
    Text(std::borrow::Cow<'a, str>),
    Number(serde_json::Number),
    Other,
}

impl<'de> serde::Deserialize<'de> for CellValue<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<CellValue<'de>, D::Error> {
        d.deserialize_any(CellVisitor)
    }
}

struct CellVisitor;

impl<'de> serde::de::Visitor<'de> for CellVisitor {
    type Value = CellValue<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a calibration category")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<CellValue<'de>, E> {
        Ok(CellValue::Text(v.into()))
    }
    fn visit_str<E>(self, v: &str) -> Result<CellValue<'de>, E> {
        Ok(CellValue::Text(v.to_owned().into()))
    }
    fn visit_string<E>(self, v: String) -> Result<CellValue<'de>, E> {
        Ok(CellValue::Text(v.into()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<CellValue<'de>, E> {
        Ok(CellValue::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<CellValue<'de>, E> {
        Ok(CellValue::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<CellValue<'de>, E> {
        Ok(serde_json::Number::from_f64(v).map_or(CellValue::Other, CellValue::Number))
    }
    fn visit_bool<E>(self, _: bool) -> Result<CellValue<'de>, E> {
        Ok(CellValue::Other)
    }
    fn visit_unit<E>(self) -> Result<CellValue<'de>, E> {
        Ok(CellValue::Other)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<CellValue<'de>, A::Error> {
        while s.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(CellValue::Other)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<CellValue<'de>, A::Error> {
        while m
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(CellValue::Other)
    }
}

/// Concatenates datasets read separately, re-coding their labels.
pub(super) fn join_parts(parts: Vec<Dataset>) -> Dataset {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::domain::campaign::DesignSettings;
    use crate::services::results::plan::plan;
    use crate::services::results::testkit::{campaign, labels, scale, sipas};

    #[test]
    fn an_interner_gives_each_label_one_dense_code() {
        let mut i = Interner::default();
        assert_eq!(i.code("01"), 0);
        assert_eq!(i.code("79"), 1);
        assert_eq!(i.code("01"), 0);
        assert_eq!(i.code(""), 2);
        assert_eq!(labels(&i), ["01", "79", ""]);
    }

    /// A parser over the test questionnaire with q2 reverse-coded and the calibration
    /// variables `sex` and `age`.
    fn parser(keep_answers: bool, part: usize) -> Parser {
        let mut def = sipas();
        if let Some(m) = def.sections[0].questions[1].index.as_mut() {
            m.reverse = true;
        }
        let c = campaign(
            def,
            DesignSettings {
                calibration: vec!["sex".to_owned(), "age".to_owned()],
                ..DesignSettings::default()
            },
        );
        Parser::new(&c, &plan(&c.definition), keep_answers, part)
    }

    /// Answers of the test rows, and the values of q1..q4 they give (q2 mirrored on 1–5).
    const ANSWERS: [(&str, [f64; 4]); 7] = [
        (
            r#"{"q1": 5, "q2": "2", "name": {"x": [1, 2]}, "q4": 4.5}"#,
            [5.0, 4.0, f64::NAN, 4.5],
        ),
        (
            r#"{"q1": "dk", "q2": null, "q3": " 3 ", "q4": "na"}"#,
            [f64::NAN, f64::NAN, 3.0, f64::NAN],
        ),
        (
            r#"{"q1": [4], "q2": 1, "q3": true, "q4": {"v": 4}}"#,
            [f64::NAN, 5.0, f64::NAN, f64::NAN],
        ),
        (r#"{"q1": 1, "q1": 2}"#, [2.0, f64::NAN, f64::NAN, f64::NAN]),
        (r#"{}"#, [f64::NAN; 4]),
        ("not json", [f64::NAN; 4]),
        // Cut short after q1: nothing of the response counts.
        (r#"{"q1": 3, "q2": "#, [f64::NAN; 4]),
    ];

    fn same(got: f64, want: f64) -> bool {
        got == want || (got.is_nan() && want.is_nan())
    }

    #[test]
    fn the_answers_become_item_values_on_the_mirrored_scale() {
        for keep_answers in [false, true] {
            let mut p = parser(keep_answers, 0);
            for (answers, _) in ANSWERS {
                p.push_row("00004", None, None, 1.0, None, answers);
            }
            for (row, (answers, want)) in ANSWERS.iter().enumerate() {
                for (k, w) in want.iter().enumerate() {
                    let got = p.data.values[k][row];
                    assert!(
                        same(got, *w),
                        "keep={keep_answers} {answers} q{}: {got} ≠ {w}",
                        k + 1
                    );
                }
            }
            assert_eq!(p.data.n, ANSWERS.len());
            assert_eq!(p.data.answers.len(), if keep_answers { 7 } else { 0 });
        }
    }

    #[test]
    fn kept_answers_are_the_whole_object() {
        let mut p = parser(true, 0);
        p.push_row("00004", None, None, 1.0, None, ANSWERS[0].0);
        assert_eq!(p.data.answers[0]["name"]["x"][1], 2);
        assert_eq!(p.data.answers[0].len(), 4);
    }

    #[test]
    fn design_fields_are_interned_and_a_missing_cluster_is_a_psu_of_its_own() {
        let mut p = parser(false, 2);
        p.push_row("00004", Some("urban"), Some("c1"), 1.5, None, "{}");
        p.push_row("00007", None, Some("c1"), 2.0, None, "{}");
        p.push_row("00004", Some("urban"), None, 2.5, None, "{}");
        p.push_row("00004", Some("urban"), Some(""), 3.0, None, "{}");
        let d = &p.data;
        assert_eq!(labels(&d.localities), ["00004", "00007"]);
        assert_eq!(d.locality, [0, 1, 0, 0]);
        // A missing stratum is one stratum of its own, named "".
        assert_eq!(labels(&d.strata), ["urban", ""]);
        assert_eq!(d.stratum, [0, 1, 0, 0]);
        assert_eq!(d.cluster[0], d.cluster[1]);
        assert_eq!(d.clusters.labels.len(), 3);
        assert_ne!(d.cluster[2], d.cluster[3]);
        // Named after the part read, so that parts joined later do not share them.
        assert!(d.clusters.labels[1].contains("row2-2"));
        assert_eq!(d.weight, [1.5, 2.0, 2.5, 3.0]);
    }

    #[test]
    fn calibration_cells_read_only_the_campaign_variables() {
        let mut p = parser(false, 0);
        let rows = [
            Some(r#"{"sex": "F", "age": 3, "region": "north"}"#),
            Some(r#"{"age": "3", "sex": ""}"#),
            None,
            Some(r#"{"sex": "M", "age": "#),
            Some(r#"{"sex": "M", "age": null}"#),
        ];
        for cells in rows {
            p.push_row("00004", None, None, 1.0, cells, "{}");
        }
        let (sex, sexes) = (&p.data.cells[0].1, &p.data.cells[0].2);
        let (age, ages) = (&p.data.cells[1].1, &p.data.cells[1].2);
        assert_eq!(p.data.cells[0].0, "sex");
        const NONE: u32 = u32::MAX;
        assert_eq!(sex, &[0, NONE, NONE, NONE, 1]);
        assert_eq!(labels(sexes), ["F", "M"]);
        // A number and the same text are the same category.
        assert_eq!(age, &[0, 0, NONE, NONE, NONE]);
        assert_eq!(labels(ages), ["3"]);
    }

    #[test]
    fn parts_joined_share_one_set_of_codes() {
        let mut a = parser(false, 0);
        a.push_row(
            "00004",
            Some("s1"),
            Some("c1"),
            1.0,
            Some(r#"{"sex": "F"}"#),
            r#"{"q1": 5}"#,
        );
        a.push_row(
            "00007",
            Some("s2"),
            Some("c2"),
            2.0,
            Some(r#"{"sex": "M"}"#),
            r#"{"q1": 4}"#,
        );
        let mut b = parser(false, 1);
        b.push_row(
            "00007",
            Some("s2"),
            Some("c2"),
            3.0,
            Some(r#"{"sex": "M"}"#),
            r#"{"q1": 3}"#,
        );
        b.push_row("00010", Some("s1"), Some("c3"), 4.0, None, r#"{"q1": 2}"#);
        let d = join_parts(vec![a.data, b.data]);
        assert_eq!(d.n, 4);
        assert_eq!(labels(&d.localities), ["00004", "00007", "00010"]);
        assert_eq!(d.locality, [0, 1, 1, 2]);
        assert_eq!(d.stratum, [0, 1, 1, 0]);
        assert_eq!(d.cluster, [0, 1, 1, 2]);
        assert_eq!(d.weight, [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(d.values[0], [5.0, 4.0, 3.0, 2.0]);
        assert_eq!(d.cells[0].1, [0, 1, 1, u32::MAX]);
        assert_eq!(labels(&d.cells[0].2), ["F", "M"]);
        assert_eq!(join_parts(Vec::new()).n, 0);
    }

    #[test]
    fn an_item_not_in_the_plan_is_not_read() {
        let c = campaign(
            crate::services::results::testkit::definition(Vec::new(), vec![scale("q1", "E", "C")]),
            DesignSettings::default(),
        );
        let mut p = Parser::new(&c, &plan(&c.definition), false, 0);
        p.push_row("00004", None, None, 1.0, None, r#"{"q1": 5}"#);
        assert!(p.data.values.is_empty());
        assert_eq!(p.data.n, 1);
    }
}
