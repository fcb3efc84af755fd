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
//! Elements and criteria are estimated as indices of their own (`SIPAS/E1`, `SIPAS/E1/E1.1`)
//! for the breakdown page. Criteria or elements without any mapped question are left out and
//! the weights renormalised; an index without any is listed in
//! [`CampaignResults::skipped_indices`](super::CampaignResults::skipped_indices).

use std::collections::HashMap;

use hailong_stats::{IndexKind, IndexSpec};

use crate::domain::questionnaire::{Aggregation, Definition, QuestionType};

use super::model::IndexNode;

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
                // Not a scale: never an item, whatever its mapping.
                json!({"code": "n1", "type": "number", "label": {"vi": "n"},
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
}
