//! From a questionnaire to the estimation engine: the plan of what to estimate.
//!
//! Every scale question with an index mapping is an [`Item`](hailong_stats::Item): its answer
//! as a number (`"dk"`, `"na"`, text or no answer are missing), mirrored on the scale
//! (`min + max − v`) when the mapping says `reverse`, "satisfied" from the mapping's
//! `satisfied_min`. An index is a linear combination of the items' satisfied shares, so it is
//! one [`IndexSpec`] whose weights are the products down the tree:
//!
//! * `mean_of_criteria` (SIPAS): criterion = mean of its questions' shares (weighted by the
//!   mappings' `weight`), element = mean of its criteria, index = mean of its elements;
//! * `weighted_mean`: the same tree with the elements' and criteria's weights, normalised at
//!   each level.
//! * `dimension_score` (PAPI-style): the same tree with its weights, but over the questions'
//!   mean scores rescaled to 0–1, `(ȳ − min) / (max − min)`, instead of their satisfied
//!   shares (shown as 0–100 points; a PAPI dimension on 1–10 is `1 + 9 ×` this); linear in the
//!   item means ([`IndexKind::Score`]);
//! * `share_satisfied`: satisfied answers over all answers given to the questions of the index
//!   (or element, criterion), each answer counting with its mapping's `weight` (1 by default):
//!   a ratio of weighted totals, not a mean of shares ([`IndexKind::PooledShare`], R's
//!   `svyratio`).
//!
//! * `mean`: the same tree with its weights over the questions' means on their own scale
//!   (a 1–5 mean, a share of yes, a number's mean): a normalised [`IndexKind::Linear`];
//! * `sum` (PAPI): every question's mean rescaled to 0–1 (`(ȳ − min) / (max − min)`; a 0/1
//!   indicator is its share), a criterion is `b_c · (lo + (hi − lo) · Σ_q a_q u_q)` with its
//!   normalised weight `b_c` in the element and the index's `range` `[lo, hi]`, an element is
//!   the sum of its criteria (so it lies in `[lo, hi]`), the index the sum of its elements
//!   (times their weights): all [`IndexKind::Linear`] in the item means, so every level has
//!   the covariance of its parts (R: `svycontrast`);
//! * `all_satisfied` (the MoH comprehensive index): per node a derived 0/1 item "satisfied
//!   with every question of the node answered" (missing when none is answered;
//!   [`hailong_stats::derive::all_satisfied`]) and its share ([`IndexKind::Proportion`]).
//!
//! Yes/no questions are 1 for yes (0 for no; mirrored when `reverse`), choice questions 1 for
//! one of the mapping's `options`, number questions their answer capped at `cap`; they enter
//! the shares with threshold 1. An index with a `basis` uses that index's tree and mappings.
//!
//! Elements and criteria are estimated as indices of their own (`SIPAS/E1`, `SIPAS/E1/E1.1`)
//! for the breakdown page. Criteria or elements without any mapped question are left out and
//! the weights renormalised; an index without any is listed in
//! [`CampaignResults::skipped_indices`](super::CampaignResults::skipped_indices).

use std::collections::HashMap;

use hailong_stats::{IndexKind, IndexSpec};

use crate::domain::questionnaire::{
    Aggregation, Definition, IndexDefinition, IndexMapping, Question, QuestionType,
};

use super::model::IndexNode;

/// Where an item's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemSource {
    /// A scale question's answer.
    Scale,
    /// A number question's answer, capped.
    Number { cap: Option<f64> },
    /// A yes/no question: 1 for yes.
    YesNo,
    /// A choice question: 1 when the answer (one of the answers) is one of these.
    Choice { options: Vec<String> },
    /// Derived after reading: 1 when every answered item of `parts` is satisfied.
    AllSatisfied { parts: Vec<String> },
}

/// An item the engine estimates: a question that feeds an index, or a derived indicator.
#[derive(Debug, Clone)]
pub struct ItemPlan {
    pub code: String,
    pub min: i64,
    pub max: i64,
    pub reverse: bool,
    pub satisfied_min: i64,
    pub source: ItemSource,
}

impl ItemPlan {
    /// The item of a mapped question.
    fn of(q: &Question, m: &IndexMapping) -> ItemPlan {
        let (min, max, satisfied_min, source) = match q.kind {
            QuestionType::YesNo => (0, 1, 1, ItemSource::YesNo),
            QuestionType::SingleChoice | QuestionType::MultipleChoice => (
                0,
                1,
                1,
                ItemSource::Choice {
                    options: m.options.clone(),
                },
            ),
            // Without a maximum a number's scale ends at its cap, if any (max ≤ min: none).
            QuestionType::Number => (
                q.min.unwrap_or(0),
                q.max
                    .or(m.cap.filter(|c| c.is_finite()).map(|c| c.floor() as i64))
                    .unwrap_or(0),
                m.satisfied_min,
                ItemSource::Number { cap: m.cap },
            ),
            _ => (
                q.min.unwrap_or(1),
                q.max.unwrap_or(5),
                m.satisfied_min,
                ItemSource::Scale,
            ),
        };
        ItemPlan {
            code: q.code.clone(),
            min,
            max,
            reverse: m.reverse,
            satisfied_min,
            source,
        }
    }

    /// A number answer as the item's value (mirrored on the scale when `reverse`, capped).
    pub fn from_number(&self, v: f64) -> f64 {
        let v = match self.source {
            ItemSource::Scale => v,
            ItemSource::Number { cap: Some(c) } if v > c => c,
            ItemSource::Number { .. } => v,
            _ => return f64::NAN,
        };
        self.mirror(v)
    }

    /// A yes/no answer as the item's value.
    pub fn from_bool(&self, b: bool) -> f64 {
        match self.source {
            ItemSource::YesNo => self.mirror(if b { 1.0 } else { 0.0 }),
            _ => f64::NAN,
        }
    }

    /// A text answer: a chosen option, or a number written as text; "dk"/"na" are missing.
    pub fn from_text(&self, s: &str) -> f64 {
        let s = s.trim();
        match &self.source {
            ItemSource::Choice { options } => {
                if s == crate::domain::answer::DONT_KNOW
                    || s == crate::domain::answer::NOT_APPLICABLE
                {
                    f64::NAN
                } else {
                    self.mirror(if options.iter().any(|o| o == s) {
                        1.0
                    } else {
                        0.0
                    })
                }
            }
            _ => s.parse::<f64>().map_or(f64::NAN, |v| self.from_number(v)),
        }
    }

    /// A multiple choice's chosen options: 1 when one of them counts.
    pub fn from_list<'a>(&self, chosen: impl IntoIterator<Item = &'a str>) -> f64 {
        match &self.source {
            ItemSource::Choice { options } => {
                let hit = chosen.into_iter().any(|c| options.iter().any(|o| o == c));
                self.mirror(if hit { 1.0 } else { 0.0 })
            }
            _ => f64::NAN,
        }
    }

    fn mirror(&self, v: f64) -> f64 {
        if self.reverse && v.is_finite() {
            (self.min + self.max) as f64 - v
        } else {
            v
        }
    }

    /// The answer as the item's value, or NaN when missing.
    pub fn value(&self, answer: Option<&serde_json::Value>) -> f64 {
        use serde_json::Value;
        match answer {
            Some(Value::Number(n)) => n.as_f64().map_or(f64::NAN, |v| self.from_number(v)),
            Some(Value::String(s)) => self.from_text(s),
            Some(Value::Bool(b)) => self.from_bool(*b),
            Some(Value::Array(list)) => {
                if list.iter().all(Value::is_string) {
                    self.from_list(list.iter().filter_map(Value::as_str))
                } else {
                    f64::NAN
                }
            }
            _ => f64::NAN,
        }
    }

    /// True for a derived item (computed from other items, not read from answers).
    pub fn is_derived(&self) -> bool {
        matches!(self.source, ItemSource::AllSatisfied { .. })
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

fn norm(ws: &[f64]) -> Vec<f64> {
    let s: f64 = ws.iter().sum();
    ws.iter()
        .map(|x| if s > 0.0 { x / s } else { 0.0 })
        .collect()
}

/// A linear combination of item means being built: coefficients by item, and a constant.
#[derive(Debug, Clone, Default)]
struct Linear {
    terms: Vec<(String, f64)>,
    offset: f64,
}

impl Linear {
    fn add(&mut self, code: &str, coef: f64) {
        match self.terms.iter_mut().find(|(c, _)| c == code) {
            Some((_, a)) => *a += coef,
            None => self.terms.push((code.to_owned(), coef)),
        }
    }
    fn plus(&mut self, other: &Linear, times: f64) {
        for (c, a) in &other.terms {
            self.add(c, a * times);
        }
        self.offset += other.offset * times;
    }
    fn spec(self, name: String) -> IndexSpec {
        IndexSpec::linear(name, self.terms, self.offset)
    }
}

/// Builds the items and index specifications of a questionnaire (see the module docs).
pub fn plan(def: &Definition) -> Plan {
    let mut items: Vec<ItemPlan> = Vec::new();
    // (tree index, element, criterion) → [(question, weight)]
    let mut mapped: HashMap<(String, String, String), Vec<(String, f64)>> = HashMap::new();
    let first_index = def.indices.first().map(|i| i.code.clone());
    for q in def.questions() {
        let Some(m) = &q.index else { continue };
        if matches!(q.kind, QuestionType::ShortText | QuestionType::LongText) {
            continue;
        }
        let Some(ix) = m.index.clone().or_else(|| first_index.clone()) else {
            continue;
        };
        items.push(ItemPlan::of(q, m));
        mapped
            .entry((ix, m.element.clone(), m.criterion.clone()))
            .or_default()
            .push((q.code.clone(), m.weight));
    }
    let by_code: HashMap<String, ItemPlan> =
        items.iter().map(|i| (i.code.clone(), i.clone())).collect();
    let mut indices = Vec::new();
    let mut nodes = Vec::new();
    let mut skipped = Vec::new();
    for ix in &def.indices {
        let tree: &IndexDefinition = match &ix.basis {
            Some(b) => match def.indices.iter().find(|i| &i.code == b) {
                Some(t) => t,
                None => {
                    skipped.push(ix.code.clone());
                    continue;
                }
            },
            None => ix,
        };
        // Element → its criteria → its questions, keeping only parts with questions.
        let mut elements: Vec<(usize, Vec<MappedCriterion>)> = Vec::new();
        for (ei, el) in tree.elements.iter().enumerate() {
            let mut crits = Vec::new();
            for (ci, cr) in el.criteria.iter().enumerate() {
                let key = (tree.code.clone(), el.code.clone(), cr.code.clone());
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
        let mut builder = TreeBuilder {
            ix,
            tree,
            items: &by_code,
            derived: Vec::new(),
            nodes: Vec::new(),
            specs: Vec::new(),
        };
        builder.build(&elements);
        for d in builder.derived {
            if !items.iter().any(|i| i.code == d.code) {
                items.push(d);
            }
        }
        nodes.extend(builder.nodes);
        indices.extend(builder.specs);
    }
    Plan {
        items,
        indices,
        nodes,
        skipped,
    }
}

/// One index's nodes and specifications.
struct TreeBuilder<'a> {
    ix: &'a IndexDefinition,
    tree: &'a IndexDefinition,
    items: &'a HashMap<String, ItemPlan>,
    derived: Vec<ItemPlan>,
    nodes: Vec<IndexNode>,
    /// The index first, then each element's criteria and the element.
    specs: Vec<IndexSpec>,
}

impl TreeBuilder<'_> {
    fn node(
        &mut self,
        key: &str,
        depth: u8,
        code: &str,
        name: &crate::domain::text::Text,
        range: Option<[f64; 2]>,
    ) {
        self.nodes.push(IndexNode {
            key: key.to_owned(),
            depth,
            code: code.to_owned(),
            name_vi: name.get("vi").to_owned(),
            name_en: name.get("en").to_owned(),
            score: self.ix.aggregation == Aggregation::DimensionScore,
            range,
            family: self.ix.family.map(|f| f.as_str().to_owned()),
        });
    }

    /// A derived "satisfied with every answered question" item over `questions`, and its
    /// share as the node's spec.
    fn all_satisfied(&mut self, key: &str, questions: &[(String, f64)]) -> IndexSpec {
        let code = format!("{key}#all");
        self.derived.push(ItemPlan {
            code: code.clone(),
            min: 0,
            max: 1,
            reverse: false,
            satisfied_min: 1,
            source: ItemSource::AllSatisfied {
                parts: questions.iter().map(|(q, _)| q.clone()).collect(),
            },
        });
        IndexSpec::shares(key.to_owned(), vec![(code, 1.0)]).with_kind(IndexKind::Proportion)
    }

    /// `(ȳ − min) / (max − min)` of an item as a linear term.
    fn unit(&self, code: &str, times: f64) -> Linear {
        let mut l = Linear::default();
        if let Some(p) = self.items.get(code) {
            let span = (p.max - p.min) as f64;
            if span > 0.0 {
                l.add(code, times / span);
                l.offset -= times * p.min as f64 / span;
            }
        }
        l
    }

    fn build(&mut self, elements: &[(usize, Vec<MappedCriterion>)]) {
        let ix = self.ix;
        let tree = self.tree;
        let agg = ix.aggregation;
        let weighted = matches!(
            agg,
            Aggregation::WeightedMean
                | Aggregation::DimensionScore
                | Aggregation::Mean
                | Aggregation::Sum
        );
        let w = |x: f64| if weighted { x } else { 1.0 };
        let kind = match agg {
            Aggregation::MeanOfCriteria | Aggregation::WeightedMean => IndexKind::Shares,
            Aggregation::DimensionScore => IndexKind::Score,
            Aggregation::ShareSatisfied => IndexKind::PooledShare,
            Aggregation::Mean | Aggregation::Sum => IndexKind::Linear,
            Aggregation::AllSatisfied => IndexKind::Proportion,
        };
        let [lo, hi] = ix.range.unwrap_or([0.0, 1.0]);
        let mean_range = |codes: &mut dyn Iterator<Item = &String>| -> Option<[f64; 2]> {
            // A mean's range: the common scale of its questions, when they share one (a
            // number question without a maximum has none).
            let mut r: Option<[f64; 2]> = None;
            for c in codes {
                let p = self.items.get(c)?;
                if p.max <= p.min {
                    return Some([f64::NAN, f64::NAN]);
                }
                let this = [p.min as f64, p.max as f64];
                match r {
                    None => r = Some(this),
                    Some(x) if x == this => {}
                    Some(_) => return Some([f64::NAN, f64::NAN]),
                }
            }
            r
        };
        let el_w = norm(
            &elements
                .iter()
                .map(|(ei, _)| w(tree.elements[*ei].weight))
                .collect::<Vec<_>>(),
        );
        let n_el = elements.len() as f64;
        let index_range = match agg {
            Aggregation::Sum => {
                let total: f64 = elements
                    .iter()
                    .map(|(ei, _)| tree.elements[*ei].weight)
                    .sum();
                Some([lo * total, hi * total])
            }
            Aggregation::Mean => mean_range(
                &mut elements
                    .iter()
                    .flat_map(|(_, c)| c.iter().flat_map(|(_, qs)| qs.iter().map(|(q, _)| q))),
            ),
            _ => None,
        };
        let _ = n_el;
        self.node(
            &ix.code,
            0,
            &ix.code,
            &ix.name,
            index_range.filter(|r| r[0].is_finite()),
        );
        let mut index_items: Vec<(String, f64)> = Vec::new();
        let mut index_lin = Linear::default();
        let mut index_questions: Vec<(String, f64)> = Vec::new();
        let mut element_specs = Vec::new();
        for ((ei, crits), ew) in elements.iter().zip(&el_w) {
            let el = &tree.elements[*ei];
            let el_key = format!("{}/{}", ix.code, el.code);
            let el_range = match agg {
                Aggregation::Sum => Some([lo, hi]),
                Aggregation::Mean => {
                    mean_range(&mut crits.iter().flat_map(|(_, qs)| qs.iter().map(|(q, _)| q)))
                }
                _ => None,
            };
            self.node(
                &el_key,
                1,
                &el.code,
                &el.name,
                el_range.filter(|r| r[0].is_finite()),
            );
            let cr_w = norm(
                &crits
                    .iter()
                    .map(|(ci, _)| w(el.criteria[*ci].weight))
                    .collect::<Vec<_>>(),
            );
            let mut el_items = Vec::new();
            let mut el_lin = Linear::default();
            let mut el_questions = Vec::new();
            for ((ci, qs), cw) in crits.iter().zip(&cr_w) {
                let cr = &el.criteria[*ci];
                let cr_key = format!("{el_key}/{}", cr.code);
                let cr_range = match agg {
                    Aggregation::Sum => Some([cw * lo, cw * hi]),
                    Aggregation::Mean => mean_range(&mut qs.iter().map(|(q, _)| q)),
                    _ => None,
                };
                self.node(
                    &cr_key,
                    2,
                    &cr.code,
                    &cr.name,
                    cr_range.filter(|r| r[0].is_finite()),
                );
                let q_w = norm(&qs.iter().map(|(_, x)| *x).collect::<Vec<_>>());
                let mut cr_items = Vec::new();
                let mut cr_lin = Linear::default();
                for ((code, raw), qw) in qs.iter().zip(&q_w) {
                    match agg {
                        Aggregation::ShareSatisfied => {
                            cr_items.push((code.clone(), *raw));
                            el_items.push((code.clone(), *raw));
                            index_items.push((code.clone(), *raw));
                        }
                        Aggregation::Mean => {
                            cr_lin.add(code, *qw);
                        }
                        Aggregation::Sum => {
                            cr_lin.plus(&self.unit(code, cw * (hi - lo) * qw), 1.0);
                        }
                        _ => {
                            cr_items.push((code.clone(), *qw));
                            el_items.push((code.clone(), cw * qw));
                            index_items.push((code.clone(), ew * cw * qw));
                        }
                    }
                }
                el_questions.extend(qs.iter().cloned());
                let spec = match agg {
                    Aggregation::Mean => {
                        el_lin.plus(&cr_lin, *cw);
                        cr_lin.spec(cr_key)
                    }
                    Aggregation::Sum => {
                        cr_lin.offset += cw * lo;
                        el_lin.plus(&cr_lin, 1.0);
                        cr_lin.spec(cr_key)
                    }
                    Aggregation::AllSatisfied => self.all_satisfied(&cr_key, qs),
                    _ => IndexSpec::shares(cr_key, cr_items).with_kind(kind),
                };
                element_specs.push(spec);
            }
            index_questions.extend(el_questions.iter().cloned());
            let spec = match agg {
                Aggregation::Mean => {
                    index_lin.plus(&el_lin, *ew);
                    el_lin.spec(el_key)
                }
                Aggregation::Sum => {
                    index_lin.plus(&el_lin, el.weight);
                    el_lin.spec(el_key)
                }
                Aggregation::AllSatisfied => self.all_satisfied(&el_key, &el_questions),
                _ => IndexSpec::shares(el_key, el_items).with_kind(kind),
            };
            element_specs.push(spec);
        }
        let spec = match agg {
            Aggregation::Mean | Aggregation::Sum => index_lin.spec(ix.code.clone()),
            Aggregation::AllSatisfied => self.all_satisfied(&ix.code, &index_questions),
            _ => IndexSpec::shares(ix.code.clone(), index_items).with_kind(kind),
        };
        self.specs.push(spec);
        self.specs.extend(element_specs);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;
    use crate::services::results::testkit::{Tree, definition, index, scale, sipas};

    /// The weights of an index's items, by question code.
    fn weights(plan: &Plan, name: &str) -> Vec<(String, f64)> {
        plan.indices
            .iter()
            .find(|i| i.name == name)
            .map(|i| i.items.clone())
            .unwrap_or_default()
    }

    fn close(got: &[(String, f64)], want: &[(&str, f64)]) {
        assert_eq!(got.len(), want.len(), "{got:?}");
        for ((gc, gw), (wc, ww)) in got.iter().zip(want) {
            assert_eq!(gc, wc);
            assert!((gw - ww).abs() < 1e-12, "{gc}: {gw} ≠ {ww}");
        }
    }

    #[test]
    fn a_mean_of_criteria_weighs_each_level_equally() {
        let p = plan(&sipas());
        // I = ½ E1 + ½ E2; E1 = ½ C1 + ½ C2; C1 of E1 = ½ q1 + ½ q2.
        close(
            &weights(&p, "I"),
            &[("q1", 0.125), ("q2", 0.125), ("q3", 0.25), ("q4", 0.5)],
        );
        close(
            &weights(&p, "I/E1"),
            &[("q1", 0.25), ("q2", 0.25), ("q3", 0.5)],
        );
        close(&weights(&p, "I/E1/C1"), &[("q1", 0.5), ("q2", 0.5)]);
        close(&weights(&p, "I/E2/C1"), &[("q4", 1.0)]);
        assert!(p.indices.iter().all(|i| i.kind == IndexKind::Shares));
        let items: Vec<&str> = p.items.iter().map(|i| i.code.as_str()).collect();
        assert_eq!(items, ["q1", "q2", "q3", "q4"]);
    }

    #[test]
    fn nodes_follow_the_tree_with_their_keys_and_depths() {
        let p = plan(&sipas());
        let nodes: Vec<(&str, u8)> = p.nodes.iter().map(|n| (n.key.as_str(), n.depth)).collect();
        assert_eq!(
            nodes,
            [
                ("I", 0),
                ("I/E1", 1),
                ("I/E1/C1", 2),
                ("I/E1/C2", 2),
                ("I/E2", 1),
                ("I/E2/C1", 2)
            ]
        );
        assert_eq!(p.nodes[0].name_en, "Index I");
        // A node without an English name falls back to the Vietnamese one.
        assert_eq!(p.nodes[1].name_en, "Yếu tố E1");
        // Every node is also an index of its own, the index first.
        assert_eq!(p.indices.len(), p.nodes.len());
        assert_eq!(p.indices[0].name, "I");
    }

    #[test]
    fn a_weighted_mean_uses_the_weights_of_elements_criteria_and_questions() {
        let mut q2 = scale("q2", "E1", "C1");
        q2["index"]["weight"] = json!(3.0);
        let def = definition(
            vec![index(
                "W",
                "weighted_mean",
                &[
                    ("E1", 3.0, &[("C1", 1.0), ("C2", 3.0)]),
                    ("E2", 1.0, &[("C1", 1.0)]),
                ],
            )],
            vec![
                scale("q1", "E1", "C1"),
                q2,
                scale("q3", "E1", "C2"),
                scale("q4", "E2", "C1"),
            ],
        );
        let p = plan(&def);
        // E1 ¾ (C1 ¼: q1 ¼, q2 ¾; C2 ¾), E2 ¼.
        close(
            &weights(&p, "W"),
            &[
                ("q1", 0.75 * 0.25 * 0.25),
                ("q2", 0.75 * 0.25 * 0.75),
                ("q3", 0.75 * 0.75),
                ("q4", 0.25),
            ],
        );
    }

    #[test]
    fn the_element_and_criterion_weights_count_only_in_a_weighted_mean() {
        let mut def = sipas();
        def.indices[0].elements[0].weight = 9.0;
        close(
            &weights(&plan(&def), "I"),
            &[("q1", 0.125), ("q2", 0.125), ("q3", 0.25), ("q4", 0.5)],
        );
    }

    #[test]
    fn a_pooled_share_keeps_the_raw_question_weights() {
        let mut q1 = scale("q1", "E1", "C1");
        q1["index"]["weight"] = json!(2.0);
        let def = definition(
            vec![index(
                "P",
                "share_satisfied",
                &[("E1", 5.0, &[("C1", 1.0)]), ("E2", 1.0, &[("C1", 1.0)])],
            )],
            vec![q1, scale("q2", "E1", "C1"), scale("q3", "E2", "C1")],
        );
        let p = plan(&def);
        close(&weights(&p, "P"), &[("q1", 2.0), ("q2", 1.0), ("q3", 1.0)]);
        close(&weights(&p, "P/E1"), &[("q1", 2.0), ("q2", 1.0)]);
        assert!(p.indices.iter().all(|i| i.kind == IndexKind::PooledShare));
        assert!(p.nodes.iter().all(|n| !n.score));
    }

    #[test]
    fn a_dimension_score_is_marked_as_points() {
        let def = definition(
            vec![index(
                "D",
                "dimension_score",
                &[("E1", 1.0, &[("C1", 1.0)])],
            )],
            vec![scale("q1", "E1", "C1")],
        );
        let p = plan(&def);
        assert_eq!(p.indices[0].kind, IndexKind::Score);
        assert!(p.nodes.iter().all(|n| n.score));
    }

    #[test]
    fn parts_without_questions_are_left_out_and_an_empty_index_is_skipped() {
        let mut q = scale("q1", "E1", "C1");
        q["index"]["index"] = json!("B");
        let def = definition(
            vec![
                index("A", "mean_of_criteria", &[("E1", 1.0, &[("C1", 1.0)])]),
                index(
                    "B",
                    "mean_of_criteria",
                    &[("E1", 1.0, &[("C1", 1.0), ("C2", 1.0)]), ("E2", 1.0, &[])],
                ),
            ],
            vec![
                q,
                // A text answer: never an item, whatever its mapping.
                json!({"code": "n1", "type": "short_text", "label": {"vi": "n"},
                       "index": {"element": "E1", "criterion": "C1"}}),
            ],
        );
        let p = plan(&def);
        assert_eq!(p.skipped, ["A"]);
        let keys: Vec<&str> = p.nodes.iter().map(|n| n.key.as_str()).collect();
        assert_eq!(keys, ["B", "B/E1", "B/E1/C1"]);
        close(&weights(&p, "B"), &[("q1", 1.0)]);
        assert_eq!(p.items.len(), 1);
    }

    #[test]
    fn a_question_without_an_index_feeds_the_first_one() {
        let mut q2 = scale("q2", "E1", "C1");
        q2["index"]["index"] = json!("B");
        let tree: &Tree = &[("E1", 1.0, &[("C1", 1.0)])];
        let def = definition(
            vec![
                index("A", "mean_of_criteria", tree),
                index("B", "mean_of_criteria", tree),
            ],
            vec![scale("q1", "E1", "C1"), q2],
        );
        let p = plan(&def);
        close(&weights(&p, "A"), &[("q1", 1.0)]);
        close(&weights(&p, "B"), &[("q2", 1.0)]);
    }

    #[test]
    fn an_answer_is_a_number_on_the_mirrored_scale_or_missing() {
        let item = ItemPlan {
            code: "q".to_owned(),
            min: 1,
            max: 5,
            reverse: false,
            satisfied_min: 4,
            source: ItemSource::Scale,
        };
        let reversed = ItemPlan {
            reverse: true,
            ..item.clone()
        };
        assert_eq!(item.value(Some(&json!(4))), 4.0);
        assert_eq!(item.value(Some(&json!(" 2 "))), 2.0);
        assert_eq!(reversed.value(Some(&json!(4))), 2.0);
        assert_eq!(reversed.value(Some(&json!("5"))), 1.0);
        for missing in [
            json!("dk"),
            json!("na"),
            json!(null),
            json!([4]),
            json!(true),
        ] {
            assert!(item.value(Some(&missing)).is_nan(), "{missing}");
            assert!(reversed.value(Some(&missing)).is_nan(), "{missing}");
        }
        assert!(item.value(None).is_nan());
    }

    fn spec<'a>(plan: &'a Plan, name: &str) -> &'a IndexSpec {
        plan.indices.iter().find(|i| i.name == name).unwrap()
    }

    /// A PAPI-like index: dimension D1 on 1–10 with two sub-dimensions, one of a yes/no and a
    /// 1–5 scale, one of a choice indicator; D2 with a number on 0–100.
    fn papi() -> Definition {
        let mut ix = index(
            "P",
            "sum",
            &[
                ("D1", 1.0, &[("S1", 1.0), ("S2", 1.0)]),
                ("D2", 1.0, &[("S1", 1.0)]),
            ],
        );
        ix["range"] = json!([1.0, 10.0]);
        definition(
            vec![ix],
            vec![
                json!({"code": "y", "type": "yes_no", "label": {"vi": "y"},
                       "index": {"element": "D1", "criterion": "S1"}}),
                scale("s", "D1", "S1"),
                json!({"code": "c", "type": "single_choice", "label": {"vi": "c"},
                       "options": [{"value": "a", "label": {"vi": "a"}},
                                   {"value": "b", "label": {"vi": "b"}},
                                   {"value": "z", "label": {"vi": "z"}}],
                       "index": {"element": "D1", "criterion": "S2", "options": ["a", "b"]}}),
                json!({"code": "n", "type": "number", "label": {"vi": "n"}, "min": 0, "max": 100,
                       "index": {"element": "D2", "criterion": "S1", "cap": 100.0}}),
            ],
        )
    }

    /// The value of a linear spec at given item means.
    fn at(spec: &IndexSpec, means: &[(&str, f64)]) -> f64 {
        spec.offset
            + spec
                .items
                .iter()
                .map(|(c, a)| a * means.iter().find(|(m, _)| m == c).unwrap().1)
                .sum::<f64>()
    }

    #[test]
    fn a_sum_places_sub_dimensions_in_their_part_of_the_range_and_adds_them_up() {
        let p = plan(&papi());
        assert!(p.indices.iter().all(|i| i.kind == IndexKind::Linear));
        // Means: y share 0.6, s 3.4 on 1–5 (0.6 rescaled), c share 0.2, n 55.
        let m = [("y", 0.6), ("s", 3.4), ("c", 0.2), ("n", 55.0)];
        // S1 of D1: ½ · (1 + 9 · (½ · 0.6 + ½ · 0.6)) = 3.2; S2: ½ · (1 + 9 · 0.2) = 1.4.
        assert!((at(spec(&p, "P/D1/S1"), &m) - 3.2).abs() < 1e-12);
        assert!((at(spec(&p, "P/D1/S2"), &m) - 1.4).abs() < 1e-12);
        // The dimension is their sum; D2 = 1 + 9 · 0.55; the index the sum of dimensions.
        assert!((at(spec(&p, "P/D1"), &m) - 4.6).abs() < 1e-12);
        assert!((at(spec(&p, "P/D2"), &m) - 5.95).abs() < 1e-12);
        assert!((at(spec(&p, "P"), &m) - 10.55).abs() < 1e-12);
        let ranges: Vec<(&str, Option<[f64; 2]>)> =
            p.nodes.iter().map(|n| (n.key.as_str(), n.range)).collect();
        assert_eq!(
            ranges,
            [
                ("P", Some([2.0, 20.0])),
                ("P/D1", Some([1.0, 10.0])),
                ("P/D1/S1", Some([0.5, 5.0])),
                ("P/D1/S2", Some([0.5, 5.0])),
                ("P/D2", Some([1.0, 10.0])),
                ("P/D2/S1", Some([1.0, 10.0])),
            ]
        );
    }

    #[test]
    fn yes_no_choice_and_number_answers_become_values() {
        let p = plan(&papi());
        let item = |c: &str| p.items.iter().find(|i| i.code == c).unwrap();
        assert_eq!(item("y").value(Some(&json!(true))), 1.0);
        assert_eq!(item("y").value(Some(&json!(false))), 0.0);
        assert!(item("y").value(Some(&json!("dk"))).is_nan());
        assert_eq!(item("c").value(Some(&json!("b"))), 1.0);
        assert_eq!(item("c").value(Some(&json!("z"))), 0.0);
        assert!(item("c").value(Some(&json!("na"))).is_nan());
        assert_eq!(item("n").value(Some(&json!(140))), 100.0);
        assert_eq!(item("n").value(Some(&json!(40))), 40.0);
        let multi = ItemPlan {
            source: ItemSource::Choice {
                options: vec!["a".into()],
            },
            ..item("c").clone()
        };
        assert_eq!(multi.value(Some(&json!(["z", "a"]))), 1.0);
        assert_eq!(multi.value(Some(&json!([]))), 0.0);
        let reversed = ItemPlan {
            reverse: true,
            ..item("y").clone()
        };
        assert_eq!(reversed.value(Some(&json!(false))), 1.0);
    }

    #[test]
    fn a_mean_keeps_the_questions_scale_and_an_all_satisfied_index_derives_one_item_per_node() {
        let mut mean = index("M", "mean", &[("E1", 1.0, &[("C1", 1.0), ("C2", 3.0)])]);
        mean["family"] = json!("satisfaction");
        let all = json!({"code": "ALL", "name": {"vi": "Hài lòng toàn diện"},
                         "aggregation": "all_satisfied", "basis": "M"});
        let def = definition(
            vec![mean, all],
            vec![
                scale("q1", "E1", "C1"),
                scale("q2", "E1", "C1"),
                scale("q3", "E1", "C2"),
            ],
        );
        let p = plan(&def);
        assert_eq!(spec(&p, "M").kind, IndexKind::Linear);
        close(
            &spec(&p, "M").items,
            &[("q1", 0.125), ("q2", 0.125), ("q3", 0.75)],
        );
        let node = p.nodes.iter().find(|n| n.key == "M").unwrap();
        assert_eq!(node.range, Some([1.0, 5.0]));
        assert_eq!(node.family.as_deref(), Some("satisfaction"));
        // The comprehensive index reuses M's tree: one derived item per node.
        assert_eq!(spec(&p, "ALL").kind, IndexKind::Proportion);
        close(&spec(&p, "ALL").items, &[("ALL#all", 1.0)]);
        close(&spec(&p, "ALL/E1/C1").items, &[("ALL/E1/C1#all", 1.0)]);
        let derived = p.items.iter().find(|i| i.code == "ALL#all").unwrap();
        assert_eq!(
            derived.source,
            ItemSource::AllSatisfied {
                parts: vec!["q1".into(), "q2".into(), "q3".into()]
            }
        );
        // The questions are items once, however many indices use them.
        assert_eq!(p.items.iter().filter(|i| i.code == "q1").count(), 1);
    }

    #[test]
    fn a_mean_of_a_number_has_the_range_of_its_maximum_or_cap_or_none() {
        let range = |number: serde_json::Value| {
            let def = definition(
                vec![index("G", "mean", &[("E1", 1.0, &[("C1", 1.0)])])],
                vec![number],
            );
            plan(&def)
                .nodes
                .iter()
                .find(|n| n.key == "G")
                .unwrap()
                .range
        };
        let g1 = |extra: serde_json::Value| {
            let mut q = json!({"code": "g1", "type": "number", "label": {"vi": "G1"}, "min": 0,
                               "index": {"element": "E1", "criterion": "C1"}});
            for (k, v) in extra.as_object().unwrap() {
                if k == "cap" {
                    q["index"]["cap"] = v.clone();
                } else {
                    q[k] = v.clone();
                }
            }
            q
        };
        assert_eq!(range(g1(json!({"max": 150}))), Some([0.0, 150.0]));
        assert_eq!(range(g1(json!({"cap": 100.0}))), Some([0.0, 100.0]));
        // MoH's G1 as its preset has it: no maximum, no cap: no scale to state.
        assert_eq!(range(g1(json!({}))), None);
    }
}
