//! A publication's responses summarised per group, in one streaming pass: the input of the
//! results ([`super::compute`]). A group is the responses that share locality, stratum,
//! cluster and calibration cells, everything the design and the domains see of them; per
//! group and item only a few additive totals are kept ([`hailong_stats::Groups`]), so the
//! memory and the estimation time grow with the groups (about clusters × cells), not with the
//! responses. The estimates are the same as from the responses themselves, to rounding (see
//! `hailong_stats::grouped` for the formulas, and the tests here and there).
//!
//! A [`Dataset`] of groups has one row per group: its locality, stratum, cluster, cells and
//! `Σ w` as the row's weight, and the totals in [`Dataset::groups`] (no item columns).

use std::collections::HashMap;

use hailong_stats::{Groups, Item};

use crate::services::campaigns::OpenCampaign;

use super::dataset::{Dataset, Interner, Parser};
use super::plan::{ItemPlan, ItemSource, Plan};

type Keys = HashMap<Box<[u32]>, u32, foldhash::fast::RandomState>;

/// The item of the estimator for a planned item, without values: name, "satisfied" threshold
/// (1 for a derived "satisfied with every answer", whose values are 0/1) and scale.
pub(super) fn item_header(p: &ItemPlan) -> Item {
    let threshold = match p.source {
        ItemSource::AllSatisfied { .. } => 1.0,
        _ => p.satisfied_min as f64,
    };
    Item::new(p.code.clone(), Vec::new())
        .with_satisfied_min(threshold)
        .with_scale(p.min as f64, p.max as f64)
}

/// The item positions of every index of the plan (whose respondents the groups count).
fn index_sets(plan: &Plan) -> Vec<Vec<usize>> {
    plan.indices
        .iter()
        .map(|ix| {
            ix.items
                .iter()
                .filter_map(|(name, _)| plan.items.iter().position(|i| &i.code == name))
                .collect()
        })
        .collect()
}

/// Reads responses of one id range into groups.
pub(super) struct GroupParser {
    parser: Parser,
    keys: Keys,
    key: Vec<u32>,
    groups: Groups,
    /// Derived items: position, and its parts' positions and thresholds.
    derived: Vec<(usize, Vec<(usize, f64)>)>,
    rows: usize,
}

impl GroupParser {
    pub(super) fn new(campaign: &OpenCampaign, plan: &Plan, part: usize) -> GroupParser {
        let headers: Vec<Item> = plan.items.iter().map(item_header).collect();
        let derived = plan
            .items
            .iter()
            .enumerate()
            .filter_map(|(k, p)| match &p.source {
                ItemSource::AllSatisfied { parts } => Some((
                    k,
                    parts
                        .iter()
                        .filter_map(|c| {
                            let j = plan.items[..k].iter().position(|i| &i.code == c)?;
                            Some((j, headers[j].satisfied_min))
                        })
                        .collect(),
                )),
                _ => None,
            })
            .collect();
        GroupParser {
            parser: Parser::new(campaign, plan, false, part),
            keys: Keys::default(),
            key: Vec::new(),
            groups: Groups::new(headers, index_sets(plan)),
            derived,
            rows: 0,
        }
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
        let row = self.rows;
        self.rows += 1;
        let (l, s, c) = self
            .parser
            .design_codes(locality, stratum, cluster, cells, row);
        self.key.clear();
        self.key.extend([l, s, c]);
        self.key.extend_from_slice(self.parser.cell_codes());
        let group = match self.keys.get(self.key.as_slice()) {
            Some(&g) => g,
            None => {
                let g = self.parser.data.n as u32;
                self.parser.push_codes(l, s, c, 0.0);
                self.keys.insert(self.key.as_slice().into(), g);
                g
            }
        };
        self.parser.read_items(answers);
        let values = self.parser.item_values();
        for (k, parts) in &self.derived {
            values[*k] = hailong_stats::derive::all_satisfied_row(
                parts.iter().map(|&(j, threshold)| (values[j], threshold)),
            );
        }
        self.groups.add(group as usize, weight, values);
    }

    /// The groups read, as a data set of groups.
    pub(super) fn finish(self) -> Dataset {
        let mut data = self.parser.data;
        let groups = self.groups;
        data.weight = groups.weights().to_vec();
        data.values = Vec::new();
        data.groups = Some(groups);
        data
    }
}

/// Joins data sets of groups read separately: their labels re-coded, and groups alike in
/// every code made one.
pub(super) fn join_groups(parts: Vec<Dataset>) -> Dataset {
    let Some(first) = parts.first() else {
        return Dataset::default();
    };
    let mut out = Dataset {
        cells: first
            .cells
            .iter()
            .map(|(v, _, _)| (v.clone(), Vec::new(), Interner::default()))
            .collect(),
        ..Dataset::default()
    };
    let mut groups = match &first.groups {
        Some(g) => g.empty_like(),
        None => return Dataset::default(),
    };
    let mut keys = Keys::default();
    let mut key = Vec::new();
    for p in &parts {
        let Some(part_groups) = &p.groups else {
            continue;
        };
        let remap = |labels: &[String], into: &mut Interner| -> Vec<u32> {
            labels.iter().map(|l| into.code(l)).collect()
        };
        let loc = remap(&p.localities.labels, &mut out.localities);
        let st = remap(&p.strata.labels, &mut out.strata);
        let cl = remap(&p.clusters.labels, &mut out.clusters);
        let cells: Vec<Vec<u32>> = out
            .cells
            .iter_mut()
            .zip(&p.cells)
            .map(|((_, _, into), (_, _, from))| remap(&from.labels, into))
            .collect();
        let mut into = Vec::with_capacity(p.n);
        for g in 0..p.n {
            let (l, s, c) = (
                loc[p.locality[g] as usize],
                st[p.stratum[g] as usize],
                cl[p.cluster[g] as usize],
            );
            key.clear();
            key.extend([l, s, c]);
            key.extend(p.cells.iter().zip(&cells).map(|((_, codes, _), map)| {
                map.get(codes[g] as usize).copied().unwrap_or(u32::MAX)
            }));
            let id = match keys.get(key.as_slice()) {
                Some(&id) => id,
                None => {
                    let id = out.n as u32;
                    out.n += 1;
                    out.locality.push(l);
                    out.stratum.push(s);
                    out.cluster.push(c);
                    for ((_, codes, _), code) in out.cells.iter_mut().zip(&key[3..]) {
                        codes.push(*code);
                    }
                    keys.insert(key.as_slice().into(), id);
                    id
                }
            };
            into.push(id as usize);
        }
        groups.absorb(part_groups, &into);
    }
    out.weight = groups.weights().to_vec();
    out.groups = Some(groups);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::HashMap;

    use entity::population_margin;
    use serde_json::{Value, json};

    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::domain::campaign::DesignSettings;
    use crate::services::results::dataset::join_parts;
    use crate::services::results::design::{Hierarchy, build_design};
    use crate::services::results::estimate::estimate_capturing;
    use crate::services::results::plan::plan;
    use crate::services::results::small_area::{self, AreaData, ModelInputs};
    use crate::services::results::testkit::{campaign, definition, index, scale, unit};

    /// A stored response, as the loader reads it.
    struct Stored {
        locality: String,
        stratum: Option<String>,
        cluster: Option<String>,
        weight: f64,
        cells: Option<String>,
        answers: String,
    }

    const COMMUNES: [(&str, &str); 6] = [
        ("00004", "01"),
        ("00007", "01"),
        ("00010", "01"),
        ("26734", "79"),
        ("26737", "79"),
        ("26740", "79"),
    ];

    fn responses(rng: &mut ChaCha8Rng, n: usize, clustered: bool) -> Vec<Stored> {
        (0..n)
            .map(|_| {
                let c = rng.random_range(0..COMMUNES.len());
                let (commune, province) = COMMUNES[c];
                let mut answers = serde_json::Map::new();
                for q in ["q1", "q2", "q3", "q4"] {
                    if rng.random::<f64>() < 0.85 {
                        answers.insert(q.to_owned(), json!(1 + rng.random_range(0..5)));
                    }
                }
                if rng.random::<f64>() < 0.7 {
                    answers.insert("yn".to_owned(), json!(rng.random::<f64>() < 0.6));
                }
                Stored {
                    locality: commune.to_owned(),
                    stratum: Some(format!("{province}-{}", rng.random_range(0..2))),
                    cluster: clustered.then(|| format!("{commune}-{}", rng.random_range(0..3))),
                    weight: if rng.random::<f64>() < 0.02 {
                        0.0
                    } else {
                        1.0 + 30.0 * rng.random::<f64>()
                    },
                    cells: Some({
                        let sex = ["F", "M"][rng.random_range(0..2)];
                        json!({"sex": sex, "age": 1 + rng.random_range(0..3)}).to_string()
                    }),
                    answers: Value::Object(answers).to_string(),
                }
            })
            .collect()
    }

    fn margins() -> Vec<population_margin::Model> {
        let mut out = Vec::new();
        for (p, scale) in [("01", 1.0), ("79", 1.7)] {
            for (variable, category, total) in [
                ("sex", "F", 5200.0),
                ("sex", "M", 4800.0),
                ("age", "1", 3000.0),
                ("age", "2", 4000.0),
                ("age", "3", 3000.0),
            ] {
                out.push(population_margin::Model {
                    id: 0,
                    locality_code: p.to_owned(),
                    variable: variable.to_owned(),
                    category: category.to_owned(),
                    total: total * scale,
                    reference_year: None,
                });
            }
        }
        out
    }

    fn hierarchy(data: &Dataset) -> Hierarchy {
        let mut units = HashMap::new();
        for (c, p) in COMMUNES {
            units.insert(c.to_owned(), unit(c, "commune", Some(p)));
            units.insert(p.to_owned(), unit(p, "province", None));
        }
        Hierarchy::place(&data.localities.labels, units)
    }

    /// Every number of two JSON documents equal to 1e-9 relative, everything else exactly.
    fn close(a: &Value, b: &Value, path: &str) {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                assert!(
                    (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
                    "{path}: {x} vs {y}"
                );
            }
            (Value::Array(x), Value::Array(y)) => {
                assert_eq!(x.len(), y.len(), "{path}");
                for (i, (x, y)) in x.iter().zip(y).enumerate() {
                    close(x, y, &format!("{path}[{i}]"));
                }
            }
            (Value::Object(x), Value::Object(y)) => {
                assert_eq!(
                    x.keys().collect::<Vec<_>>(),
                    y.keys().collect::<Vec<_>>(),
                    "{path}"
                );
                for (k, v) in x {
                    close(v, &y[k], &format!("{path}.{k}"));
                }
            }
            _ => assert_eq!(a, b, "{path}"),
        }
    }

    /// The results of a campaign from its responses read row by row, and from the same
    /// responses read into groups in two parts: every published number (rows, localities,
    /// the small-area model) agrees to 1e-9, for uncalibrated, post-stratified and raked
    /// designs, clustered or not, with a derived "satisfied with every answer" item.
    #[test]
    fn results_from_groups_equal_results_from_responses() {
        let def = definition(
            vec![index(
                "I",
                "mean_of_criteria",
                &[
                    ("E1", 1.0, &[("C1", 1.0), ("C2", 1.0)]),
                    ("E2", 1.0, &[("C1", 1.0)]),
                ],
            )],
            vec![
                scale("q1", "E1", "C1"),
                scale("q2", "E1", "C1"),
                scale("q3", "E1", "C2"),
                scale("q4", "E2", "C1"),
                json!({"code": "yn", "type": "yes_no", "label": {"vi": "yn"}}),
            ],
        );
        for (case, calibration) in [
            vec![],
            vec!["sex".to_owned()],
            vec!["sex".to_owned(), "age".to_owned()],
        ]
        .into_iter()
        .enumerate()
        {
            for clustered in [true, false] {
                let mut rng = ChaCha8Rng::seed_from_u64(case as u64 * 2 + u64::from(clustered));
                let c = campaign(
                    def.clone(),
                    DesignSettings {
                        calibration: calibration.clone(),
                        min_n: 5,
                        min_df: 1,
                        ..DesignSettings::default()
                    },
                );
                let p = plan(&c.definition);
                let rows = responses(&mut rng, 700, clustered);
                let mut parser = Parser::new(&c, &p, false, 0);
                let mut halves = [GroupParser::new(&c, &p, 0), GroupParser::new(&c, &p, 1)];
                for (i, r) in rows.iter().enumerate() {
                    let args = (
                        r.locality.as_str(),
                        r.stratum.as_deref(),
                        r.cluster.as_deref(),
                        r.weight,
                        r.cells.as_deref(),
                        r.answers.as_str(),
                    );
                    parser.push_row(args.0, args.1, args.2, args.3, args.4, args.5);
                    halves[i % 2].push_row(args.0, args.1, args.2, args.3, args.4, args.5);
                }
                let by_rows = join_parts(vec![parser.data]);
                let [a, b] = halves;
                let grouped = join_groups(vec![a.finish(), b.finish()]);
                assert_eq!(grouped.responses(), 700);
                if clustered {
                    assert!(grouped.n < 300, "{} groups", grouped.n);
                }
                let margins = margins();
                let results = |data: &Dataset| {
                    let hier = hierarchy(data);
                    let mut inputs = ModelInputs::default();
                    let mut r = estimate_capturing(
                        &c,
                        &p,
                        data,
                        &hier,
                        |c, d, h| build_design(c, d, h, &margins),
                        &mut inputs,
                    )
                    .unwrap();
                    r.small_area =
                        small_area::fit_all(&r, &inputs, data, &hier, &AreaData::default());
                    serde_json::to_value(&r).unwrap()
                };
                let (want, got) = (results(&by_rows), results(&grouped));
                let what = format!("calibration {calibration:?}, clustered {clustered}");
                if !calibration.is_empty() {
                    assert!(
                        want["calibration"].to_string().contains("calibrated"),
                        "{what}: {}",
                        want["calibration"]
                    );
                }
                assert!(want["rows"].as_array().unwrap().len() > 20, "{what}");
                close(&got, &want, &what);
            }
        }
    }
}
