//! Estimation from sufficient statistics: responses summarised per group, where a group is a
//! set of responses that share everything the design knows of them (stratum, the cluster of
//! every stage, domain, calibration cells). A [`Groups`] holds, per group and item, a few
//! additive totals; the [`crate::Estimator`] made by [`crate::Estimator::grouped`] over a
//! design whose rows are the groups gives the same estimates, standard errors, intervals and
//! design effects as the row-by-row estimator on the responses (up to rounding; a test
//! compares both on random designs), in time and memory proportional to groups × items.
//!
//! # Why the totals suffice
//!
//! With `w_i` the base weight of response `i`, `a_i` its "answered" indicator for an item,
//! `y_i` its answer and `s_i = 1[y_i ≥ threshold]`, a group `g` keeps
//! `W = Σ w a`, `Σ w a y`, `Σ w a y²`, `Σ w a s`, `Σ w a (1 − s)`, the number of answers (all,
//! and with `w > 0`), `Σ a y` and `Σ a s` over the answers with `w > 0`, and the smallest and
//! largest answer; per group also the number of responses (all, and with `w > 0`), `Σ w` and
//! `Σ w²`, and per index the responses with `w > 0` that answer at least one of its items.
//!
//! * Point estimates and `deff`: domain sums of `γ_g` times the group's totals, where
//!   `γ_g` is the calibration factor of the group (calibrated weight / base weight, the same
//!   for every response of the group: post-stratification and raking multiply a response's
//!   weight by factors of its cells only); `Σ w (y − c)² = Σ w y² − 2c Σ w y + c² Σ w`.
//! * Variance: the linearised variable of a mean, `x_i = γ w_i a_i (y_i − ȳ) / N̂`, sums over a
//!   group to `γ (Σ w a y − ȳ Σ w a) / N̂`; the variance pass (`variance.rs`) needs
//!   only such sums per leaf cluster, and a leaf cluster is a union of whole groups.
//! * Calibration residuals (see [`crate::calibration`]) need per cell the sums `Σ x_i ρ_i`.
//!   Post-stratification: `ρ_i = w_i⁰ / w_i = 1/γ`, so a group adds its own `x ρ`. Raking:
//!   `ρ_i = 1/u_i` with `u_i = w_i⁰ G` (`G` the factors up to that margin, one per group), so
//!   `x_i ρ_i = (γ/G) a_i (y_i − ȳ) / N̂`: the group adds `(γ/G)(Σ a y − ȳ Σ a) / N̂` over its
//!   answers with `w > 0`; R's unweighted cell averages count responses, which is why the
//!   design must know them ([`crate::Design::with_group_counts`]).
//!
//! Where no individual-level pass is needed: everything above. Where it still is: a design
//! whose last stage is the response itself (no clusters, or an unclustered last stage) — then
//! a group must be a single response, and nothing is gained.

use crate::spec::Item;
use crate::variance::{Acc, Centres, Dims, LeafFill, Out, RowMap, Sums};

/// The totals of one item in one group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Cell {
    /// Answers, whatever their weight.
    pub answered: u64,
    /// Answers with a weight > 0.
    pub positive: u64,
    /// `Σ w`, `Σ w y`, `Σ w y²`, `Σ w s`, `Σ w (1 − s)` over the answers.
    pub w: f64,
    pub wy: f64,
    pub wy2: f64,
    pub ws: f64,
    pub wn: f64,
    /// `Σ y` and `Σ s` over the answers with a weight > 0.
    pub y: f64,
    pub s: f64,
    pub min: f64,
    pub max: f64,
}

impl Default for Cell {
    fn default() -> Cell {
        Cell {
            answered: 0,
            positive: 0,
            w: 0.0,
            wy: 0.0,
            wy2: 0.0,
            ws: 0.0,
            wn: 0.0,
            y: 0.0,
            s: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

impl Cell {
    fn merge(&mut self, o: &Cell) {
        self.answered += o.answered;
        self.positive += o.positive;
        self.w += o.w;
        self.wy += o.wy;
        self.wy2 += o.wy2;
        self.ws += o.ws;
        self.wn += o.wn;
        self.y += o.y;
        self.s += o.s;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }
}

/// Responses summarised per group (see the module documentation). Groups are numbered
/// `0..len()` by whoever adds responses; the design over the groups has one row per group,
/// with the group's `Σ w` as its weight ([`Groups::weights`]) and its counts
/// ([`crate::Design::with_group_counts`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Groups {
    /// The items: name, threshold and scale (their `values` are not used).
    pub(crate) items: Vec<Item>,
    pub(crate) rows: Vec<u64>,
    pub(crate) positive: Vec<u64>,
    pub(crate) weight: Vec<f64>,
    pub(crate) weight_sq: Vec<f64>,
    /// `cells[g * K + k]`.
    pub(crate) cells: Vec<Cell>,
    /// Item sets whose respondents are counted (sorted positions), and the counts per group:
    /// responses with a weight > 0 answering at least one item of the set.
    pub(crate) index_sets: Vec<Vec<usize>>,
    pub(crate) index_rows: Vec<Vec<u64>>,
}

impl Groups {
    /// No group yet, for `items` (their values are dropped) and the item sets of the indices
    /// to be estimated (positions in `items`).
    pub fn new(items: Vec<Item>, index_sets: Vec<Vec<usize>>) -> Groups {
        let items = items
            .into_iter()
            .map(|mut i| {
                i.values = Vec::new();
                i
            })
            .collect();
        let mut index_sets: Vec<Vec<usize>> = index_sets
            .into_iter()
            .map(|mut s| {
                s.sort_unstable();
                s.dedup();
                s
            })
            .collect();
        index_sets.sort();
        index_sets.dedup();
        let index_rows = vec![Vec::new(); index_sets.len()];
        Groups {
            items,
            rows: Vec::new(),
            positive: Vec::new(),
            weight: Vec::new(),
            weight_sq: Vec::new(),
            cells: Vec::new(),
            index_sets,
            index_rows,
        }
    }

    /// No group, for the same items and index sets as `self`.
    pub fn empty_like(&self) -> Groups {
        Groups::new(self.items.clone(), self.index_sets.clone())
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The items.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// Responses per group.
    pub fn rows(&self) -> &[u64] {
        &self.rows
    }

    /// Responses with a weight > 0 per group.
    pub fn positive(&self) -> &[u64] {
        &self.positive
    }

    /// `Σ w` per group: the weights of the design over the groups.
    pub fn weights(&self) -> &[f64] {
        &self.weight
    }

    /// `Σ w²` per group.
    pub fn weights_squared(&self) -> &[f64] {
        &self.weight_sq
    }

    fn grow(&mut self, n: usize) {
        if n <= self.rows.len() {
            return;
        }
        let k = self.items.len();
        self.rows.resize(n, 0);
        self.positive.resize(n, 0);
        self.weight.resize(n, 0.0);
        self.weight_sq.resize(n, 0.0);
        self.cells.resize(n * k, Cell::default());
        for r in &mut self.index_rows {
            r.resize(n, 0);
        }
    }

    /// Adds one response to group `group`: its weight and its answer to every item (NaN =
    /// missing; `values` in the order of the items, missing ones at the end count as
    /// missing).
    pub fn add(&mut self, group: usize, weight: f64, values: &[f64]) {
        self.grow(group + 1);
        let pos = weight > 0.0;
        self.rows[group] += 1;
        self.positive[group] += u64::from(pos);
        self.weight[group] += weight;
        self.weight_sq[group] += weight * weight;
        let k = self.items.len();
        for (item, (cell, &y)) in self.items.iter().zip(
            self.cells[group * k..(group + 1) * k]
                .iter_mut()
                .zip(values),
        ) {
            if y.is_nan() {
                continue;
            }
            let sat = y >= item.satisfied_min;
            cell.answered += 1;
            cell.w += weight;
            cell.wy += weight * y;
            cell.wy2 += weight * y * y;
            if sat {
                cell.ws += weight;
            } else {
                cell.wn += weight;
            }
            if pos {
                cell.positive += 1;
                cell.y += y;
                cell.s += f64::from(u8::from(sat));
            }
            cell.min = cell.min.min(y);
            cell.max = cell.max.max(y);
        }
        if pos {
            for (set, counts) in self.index_sets.iter().zip(&mut self.index_rows) {
                if set
                    .iter()
                    .any(|&k| values.get(k).is_some_and(|v| !v.is_nan()))
                {
                    counts[group] += 1;
                }
            }
        }
    }

    /// Adds the groups of `other` (same items and index sets), its group `g` into this one's
    /// group `into[g]`.
    pub fn absorb(&mut self, other: &Groups, into: &[usize]) {
        let k = self.items.len();
        if let Some(&top) = into.iter().max() {
            self.grow(top + 1);
        }
        for (g, &t) in into.iter().enumerate().take(other.len()) {
            self.rows[t] += other.rows[g];
            self.positive[t] += other.positive[g];
            self.weight[t] += other.weight[g];
            self.weight_sq[t] += other.weight_sq[g];
            for kk in 0..k {
                let o = other.cells[g * k + kk];
                self.cells[t * k + kk].merge(&o);
            }
            for (mine, theirs) in self.index_rows.iter_mut().zip(&other.index_rows) {
                mine[t] += theirs[g];
            }
        }
    }

    /// Every total of group `g` as numbers, in a fixed order: responses, those with a
    /// weight, `Σ w`, `Σ w²`; per item its answers, those with a weight, `Σ w`, `Σ w y`,
    /// `Σ w y²`, `Σ w s`, `Σ w (1 − s)`, `Σ y`, `Σ s`, smallest and largest answer; per index
    /// item set its respondents. For comparing totals kept apart with a recount.
    pub fn group_totals(&self, g: usize) -> Vec<f64> {
        let mut out = vec![
            self.rows[g] as f64,
            self.positive[g] as f64,
            self.weight[g],
            self.weight_sq[g],
        ];
        for k in 0..self.items.len() {
            let c = self.cell(g, k);
            out.extend([
                c.answered as f64,
                c.positive as f64,
                c.w,
                c.wy,
                c.wy2,
                c.ws,
                c.wn,
                c.y,
                c.s,
                c.min,
                c.max,
            ]);
        }
        out.extend(self.index_rows.iter().map(|r| r[g] as f64));
        out
    }

    /// The totals of item `k` in group `g`.
    #[inline]
    pub(crate) fn cell(&self, g: usize, k: usize) -> &Cell {
        &self.cells[g * self.items.len() + k]
    }

    /// The counts of the respondents of an index over the items `set` (sorted positions).
    pub(crate) fn index_counts(&self, set: &[usize]) -> Option<&[u64]> {
        self.index_sets
            .iter()
            .position(|s| s == set)
            .map(|i| self.index_rows[i].as_slice())
    }
}

/// The leaf totals of a design over groups (see the module documentation): the grouped
/// counterpart of the row-by-row fill of [`crate::variance`].
pub(crate) struct GroupFill<'a, M> {
    pub design: &'a crate::design::Design,
    pub groups: &'a Groups,
    pub centres: &'a Centres,
    pub ratios: &'a [Vec<(usize, f64)>],
    pub n_indices: usize,
    pub map: &'a M,
}

impl<M: RowMap> LeafFill for GroupFill<'_, M> {
    type Scratch = ();
    fn scratch(&self) {}
    fn fill(
        &self,
        (): &mut (),
        rows: std::ops::Range<usize>,
        acc: &mut Acc,
        out: &mut Out,
        dims: &Dims,
    ) {
        let (groups, centres) = (self.groups, self.centres);
        let k = groups.items.len();
        let q_all = self.ratios.len();
        let (j_all, r_all, c_all) = (dims.j, dims.r, dims.c);
        let cal = self.design.calibration.as_ref();
        let raked = cal.is_some_and(|c| c.projections.len() > 1);
        let weights = &self.design.weights;
        for &row in &self.design.order[rows] {
            let g = row as usize;
            if let Some(cal) = cal {
                for p in &cal.projections {
                    acc.add_u(p.cell[g] as usize, p.u[g]);
                }
            }
            let Some((v, d, sign)) = self.map.map(g) else {
                continue;
            };
            acc.touch(v);
            let base_w = groups.weight[g];
            // γ: the calibration factor of the group's responses (1 when uncalibrated).
            let gamma = if base_w > 0.0 {
                weights[g] / base_w * sign
            } else {
                0.0
            };
            let base_v = v * j_all;
            let base_d = d * k;
            // What a response's `x ρ` comes to over the group, per unit of the weighted or
            // unweighted sums: post-stratification `ρ = 1/γ` (per projection), raking
            // `ρ_i w_i = γ ρ_g W` applied to the unweighted sums.
            for kk in 0..k {
                let c = groups.cell(g, kk);
                if c.answered == 0 {
                    continue;
                }
                let scale = centres.scale[base_d + kk];
                let (mean, share) = (centres.mean[base_d + kk], centres.share[base_d + kk]);
                let zm = gamma * scale * (c.wy - mean * c.w);
                let zs = gamma * scale * (c.ws - share * c.w);
                acc.sum[base_v + kk] += zm;
                acc.sum[base_v + k + kk] += zs;
                if dims.presence {
                    acc.cnt[base_v + kk] += 1;
                    acc.cnt[base_v + k + kk] += 1;
                }
                if let Some(cal) = cal {
                    let am = (v * r_all + kk) * c_all;
                    let as_ = (v * r_all + k + kk) * c_all;
                    for p in &cal.projections {
                        let cell = p.cell[g] as usize;
                        if raked {
                            let f = gamma * scale * p.rho[g] * base_w;
                            out.a[am + cell] += f * (c.y - mean * c.positive as f64);
                            out.a[as_ + cell] += f * (c.s - share * c.positive as f64);
                        } else {
                            out.a[am + cell] += zm * p.rho[g];
                            out.a[as_ + cell] += zs * p.rho[g];
                        }
                    }
                }
            }
            for (q, ratio) in self.ratios.iter().enumerate() {
                let r = 2 * k + q;
                if dims.presence {
                    acc.cnt[base_v + r] += 1;
                }
                let slot = d * q_all + q;
                let (big_r, scale) = (centres.ratio[slot], centres.ratio_scale[slot]);
                let (mut z, mut zu) = (0.0, 0.0);
                for &(kk, a) in ratio {
                    let c = groups.cell(g, kk);
                    z += a * (c.ws - big_r * c.w);
                    zu += a * (c.s - big_r * c.positive as f64);
                }
                let z = gamma * scale * z;
                acc.sum[base_v + r] += z;
                if let Some(cal) = cal {
                    let ar = (v * r_all + r) * c_all;
                    for p in &cal.projections {
                        out.a[ar + p.cell[g] as usize] += if raked {
                            gamma * scale * p.rho[g] * base_w * zu
                        } else {
                            z * p.rho[g]
                        };
                    }
                }
            }
            if dims.presence {
                for ix in 0..self.n_indices {
                    acc.cnt[base_v + r_all + ix] += 1;
                }
            }
        }
    }
}

/// The point-estimate sums of every (domain, item) from the groups' totals: the grouped
/// counterpart of the row-by-row sums of [`crate::Estimator`]. `codes` is the domain of each
/// group, `index_counts` the respondent counts of each index's item set.
pub(crate) fn sums(
    design: &crate::design::Design,
    groups: &Groups,
    codes: &[u32],
    n_dom: usize,
    index_counts: &[&[u64]],
    ratios: &[Vec<(usize, f64)>],
) -> Sums {
    let k_all = groups.items.len();
    let size = n_dom * k_all;
    let n_q = ratios.len();
    let n_ix = index_counts.len();
    let mut s = Sums {
        n: vec![0; size],
        total: vec![0.0; size],
        sum_dy: vec![0.0; size],
        sum_dy2: vec![0.0; size],
        sat: vec![0.0; size],
        unsat: vec![0.0; size],
        first: vec![f64::NAN; size],
        varies: vec![false; size],
        n_index: vec![0; n_dom * n_ix],
        ratio_y: vec![0.0; n_dom * n_q],
        ratio_x: vec![0.0; n_dom * n_q],
    };
    let weights = &design.weights;
    for (g, &d) in codes.iter().enumerate() {
        if d == crate::spec::Domains::OUTSIDE {
            continue;
        }
        let d = d as usize;
        let base_w = groups.weight[g];
        let gamma = if base_w > 0.0 {
            weights[g] / base_w
        } else {
            0.0
        };
        let counted = weights[g] > 0.0;
        for k in 0..k_all {
            let c = groups.cell(g, k);
            if c.answered == 0 {
                continue;
            }
            let slot = d * k_all + k;
            if s.first[slot].is_nan() {
                s.first[slot] = c.min;
            }
            let first = s.first[slot];
            s.varies[slot] |= c.min != first || c.max != first;
            if counted {
                s.n[slot] += c.positive;
            }
            s.total[slot] += gamma * c.w;
            s.sum_dy[slot] += gamma * (c.wy - first * c.w);
            s.sum_dy2[slot] += gamma * (c.wy2 - 2.0 * first * c.wy + first * first * c.w);
            s.sat[slot] += gamma * c.ws;
            s.unsat[slot] += gamma * c.wn;
        }
        if counted {
            for (ix, counts) in index_counts.iter().enumerate() {
                s.n_index[d * n_ix + ix] += counts[g];
            }
        }
        for (q, ratio) in ratios.iter().enumerate() {
            for &(k, a) in ratio {
                let c = groups.cell(g, k);
                s.ratio_y[d * n_q + q] += gamma * a * c.ws;
                s.ratio_x[d * n_q + q] += gamma * a * c.w;
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::HashMap;

    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::Groups;
    use crate::calibration::{Calibration, Margin};
    use crate::design::{Design, DesignSpec, LonelyPsu, Stage};
    use crate::estimate::{
        Domains, Estimate, EstimateOptions, Estimator, IndexKind, IndexSpec, Item,
    };
    use crate::factor::Factor;
    use crate::intervals::CiMethod;

    /// A sample as the rows give it: every column the design, the calibration and the domains
    /// are made of.
    struct Sample {
        stratum: Vec<usize>,
        psu: Vec<usize>,
        ssu: Vec<usize>,
        weight: Vec<f64>,
        /// 0: no clusters; 1: PSUs; 2: PSUs with fpc; 3: two stages with fpc.
        stages: usize,
        stratified: bool,
        lonely: LonelyPsu,
        /// Calibration categories: none, one margin (post-stratification) or two (raking).
        cells: Vec<Vec<usize>>,
        domain: Vec<u32>,
        n_dom: usize,
        items: Vec<Item>,
    }

    fn label(v: &[usize], prefix: &str) -> Factor {
        Factor::from_labels(v.iter().map(|x| format!("{prefix}{x}")))
    }

    const TOTALS: [&[f64]; 2] = [&[500.0, 700.0], &[300.0, 400.0, 500.0]];

    impl Sample {
        fn random(rng: &mut ChaCha8Rng, case: u64) -> Sample {
            let n = 5 + rng.random_range(0..400);
            let n_strata = 1 + rng.random_range(0..5);
            let per = 1 + rng.random_range(0..8);
            let missing = 0.5 * rng.random::<f64>();
            let answer = |rng: &mut ChaCha8Rng, values: &[f64]| {
                if rng.random::<f64>() < missing {
                    f64::NAN
                } else {
                    values[rng.random_range(0..values.len())]
                }
            };
            let scale = [1.0, 2.0, 3.0, 4.0, 5.0];
            let mut items: Vec<Item> = (0..3)
                .map(|k| {
                    let v = (0..n).map(|_| answer(rng, &scale)).collect();
                    Item::new(format!("q{k}"), v).with_scale(1.0, 5.0)
                })
                .collect();
            items.push(Item::new(
                "yes",
                (0..n).map(|_| answer(rng, &[0.0, 1.0])).collect(),
            ));
            items.push(
                Item::new(
                    "odd",
                    (0..n)
                        .map(|_| answer(rng, &[-2.5, 0.25, 7.0, 100.0, 1e3 / 3.0]))
                        .collect(),
                )
                .with_satisfied_min(0.25),
            );
            let constant = if case.is_multiple_of(5) {
                f64::NAN
            } else {
                3.0
            };
            items.push(Item::new(
                "same",
                (0..n)
                    .map(|_| {
                        if rng.random::<f64>() < 0.5 {
                            constant
                        } else {
                            f64::NAN
                        }
                    })
                    .collect(),
            ));
            let n_dom = 1 + rng.random_range(0..6);
            let margins = match case % 3 {
                0 => 0,
                1 => 1,
                _ => 2,
            };
            Sample {
                stratum: (0..n).map(|_| rng.random_range(0..n_strata)).collect(),
                psu: (0..n).map(|_| rng.random_range(0..per)).collect(),
                ssu: (0..n).map(|_| rng.random_range(0..3)).collect(),
                weight: (0..n)
                    .map(|_| {
                        if rng.random::<f64>() < 0.03 {
                            0.0
                        } else {
                            1.0 + 20.0 * rng.random::<f64>()
                        }
                    })
                    .collect(),
                stages: rng.random_range(0..4),
                stratified: n_strata > 1 || rng.random::<f64>() < 0.5,
                lonely: [
                    LonelyPsu::Remove,
                    LonelyPsu::Certainty,
                    LonelyPsu::Adjust,
                    LonelyPsu::Average,
                    LonelyPsu::Fail,
                ][rng.random_range(0..5)],
                cells: (0..margins)
                    .map(|m| {
                        (0..n)
                            .map(|_| rng.random_range(0..TOTALS[m].len()))
                            .collect()
                    })
                    .collect(),
                domain: (0..n)
                    .map(|_| {
                        if rng.random::<f64>() < 0.1 {
                            Domains::OUTSIDE
                        } else {
                            rng.random_range(0..n_dom) as u32
                        }
                    })
                    .collect(),
                n_dom,
                items,
            }
        }

        /// The design over the rows `rows` (each standing for itself, or for a group).
        fn design(&self, rows: &[usize], weights: Vec<f64>) -> Result<Design, crate::StatsError> {
            let pick = |v: &[usize]| rows.iter().map(|&i| v[i]).collect::<Vec<_>>();
            let fpc1: Vec<f64> = rows
                .iter()
                .map(|&i| 40.0 + 7.0 * self.stratum[i] as f64)
                .collect();
            let psu = || Some(label(&pick(&self.psu), "p"));
            let stages = match self.stages {
                0 => vec![],
                1 => vec![Stage {
                    clusters: psu(),
                    fpc: None,
                }],
                2 => vec![Stage {
                    clusters: psu(),
                    fpc: Some(fpc1),
                }],
                _ => vec![
                    Stage {
                        clusters: psu(),
                        fpc: Some(fpc1),
                    },
                    Stage {
                        clusters: Some(label(&pick(&self.ssu), "s")),
                        fpc: Some(vec![0.5; rows.len()]),
                    },
                ],
            };
            Design::new(DesignSpec {
                weights,
                strata: self.stratified.then(|| label(&pick(&self.stratum), "h")),
                stages,
                lonely_psu: self.lonely,
            })
        }

        fn calibration(&self, rows: &[usize]) -> Option<Calibration> {
            if self.cells.is_empty() {
                return None;
            }
            let margins = self
                .cells
                .iter()
                .enumerate()
                .map(|(m, c)| Margin {
                    variable: format!("m{m}"),
                    values: label(&rows.iter().map(|&i| c[i]).collect::<Vec<_>>(), ""),
                    totals: TOTALS[m]
                        .iter()
                        .enumerate()
                        .map(|(j, t)| (j.to_string(), *t))
                        .collect(),
                })
                .collect();
            Some(Calibration::new(margins))
        }

        /// The rows' groups: responses alike in everything the design and the domains see
        /// (a response is its own group when the design's last stage is the response).
        fn groups(&self, index_sets: Vec<Vec<usize>>) -> (Vec<usize>, Groups) {
            let n = self.weight.len();
            let mut ids: HashMap<Vec<usize>, usize> = HashMap::new();
            let mut first_row = Vec::new();
            let mut groups = Groups::new(self.items.clone(), index_sets);
            for i in 0..n {
                let mut key = vec![self.stratum[i], self.domain[i] as usize];
                match self.stages {
                    0 => key.push(i),
                    1 | 2 => key.push(self.psu[i]),
                    _ => key.extend([self.psu[i], self.ssu[i]]),
                }
                key.extend(self.cells.iter().map(|c| c[i]));
                let next = ids.len();
                let g = *ids.entry(key).or_insert(next);
                if g == next {
                    first_row.push(i);
                }
                let values: Vec<f64> = self.items.iter().map(|it| it.values[i]).collect();
                groups.add(g, self.weight[i], &values);
            }
            (first_row, groups)
        }
    }

    fn close(a: Option<f64>, b: Option<f64>, what: &str, case: u64) {
        match (a, b) {
            (None, None) => {}
            (Some(x), Some(y)) => {
                let tol = 1e-9 * x.abs().max(y.abs()) + 1e-12;
                assert!((x - y).abs() <= tol, "case {case}: {what} {x} vs {y}");
            }
            _ => panic!("case {case}: {what} {a:?} vs {b:?}"),
        }
    }

    fn same(grouped: &[Estimate], rows: &[Estimate], case: u64, ci_tol: f64) {
        assert_eq!(grouped.len(), rows.len(), "case {case}");
        for (g, r) in grouped.iter().zip(rows) {
            let what = format!("{} {} {:?}", g.domain, g.item, g.statistic);
            assert_eq!(
                (&g.domain, &g.item, g.statistic, g.n, g.df),
                (&r.domain, &r.item, r.statistic, r.n, r.df),
                "case {case}"
            );
            close(g.estimate, r.estimate, &format!("{what} estimate"), case);
            // A variance that is 0 in exact arithmetic comes out of a calibrated design's
            // variance expansion as noise of about 1e−8 of the uncalibrated standard error,
            // different noise on each path: then only its smallness is compared, and the
            // numbers made from it (design effect, effective size) are noise on both paths.
            let size = g.estimate.map_or(1.0, |e| e.abs().max(1.0));
            let noise = |x: Option<f64>| x.is_none_or(|x| x < 1e-7 * size);
            if g.estimate.is_some() && noise(g.se) && noise(r.se) {
                continue;
            }
            close(g.se, r.se, &format!("{what} se"), case);
            close(g.deff, r.deff, &format!("{what} deff"), case);
            close(g.n_eff, r.n_eff, &format!("{what} n_eff"), case);
            for (x, y, name) in [
                (g.ci_low, r.ci_low, "ci_low"),
                (g.ci_high, r.ci_high, "ci_high"),
            ] {
                match (x, y) {
                    (Some(x), Some(y)) => assert!(
                        (x - y).abs() <= ci_tol * x.abs().max(y.abs()).max(1.0),
                        "case {case}: {what} {name} {x} vs {y}"
                    ),
                    _ => assert_eq!(x.is_some(), y.is_some(), "case {case}: {what} {name}"),
                }
            }
        }
    }

    /// Estimates, standard errors, design effects and intervals from the groups' totals equal
    /// those from the responses, on random designs: strata or none, one or two stages, fpc,
    /// lonely PSUs of every kind, zero weights, post-stratification and raking, small and
    /// empty domains, missing answers, every kind of index, and a difference of domains.
    #[test]
    fn the_totals_of_groups_give_the_estimates_of_the_responses() {
        let (mut compared, mut calibrated, mut compressed) = (0, 0, 0);
        for case in 0..600u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(case + 7);
            let sample = Sample::random(&mut rng, case);
            let n = sample.weight.len();
            let all: Vec<usize> = (0..n).collect();
            let indices = vec![
                IndexSpec::shares("idx", vec![("q0".into(), 1.0), ("q1".into(), 2.0)]),
                IndexSpec::shares("pool", vec![("q1".into(), 1.0), ("q2".into(), 3.0)])
                    .with_kind(IndexKind::PooledShare),
                IndexSpec::shares("score", vec![("q0".into(), 1.0), ("q2".into(), 1.0)])
                    .with_kind(IndexKind::Score),
                IndexSpec::linear("lin", vec![("q0".into(), 2.0), ("odd".into(), -1.0)], 3.0),
                IndexSpec::shares("prop", vec![("yes".into(), 1.0)])
                    .with_kind(IndexKind::Proportion),
            ];
            let sets = vec![vec![0, 1], vec![1, 2], vec![0, 2], vec![0, 4], vec![3]];
            let ci = [
                CiMethod::Logit,
                CiMethod::Wilson,
                CiMethod::Beta,
                CiMethod::T,
            ][rng.random_range(0..4)];
            let options = EstimateOptions { ci, level: 0.95 };
            let labels: Vec<String> = (0..=sample.n_dom).map(|d| format!("D{d}")).collect();

            let row_design = sample
                .design(&all, sample.weight.clone())
                .and_then(|d| match sample.calibration(&all) {
                    Some(c) => d.calibrate(&c),
                    None => Ok(d),
                });
            let (first, groups) = sample.groups(sets);
            let group_design = sample
                .design(&first, groups.weights().to_vec())
                .and_then(|d| d.with_group_counts(groups.rows(), groups.positive()))
                .and_then(|d| match sample.calibration(&first) {
                    Some(c) => d.calibrate(&c),
                    None => Ok(d),
                });
            let (row_design, group_design) = match (row_design, group_design) {
                (Ok(r), Ok(g)) => (r, g),
                (Err(_), Err(_)) => continue,
                (r, g) => panic!("case {case}: {:?} vs {:?}", r.err(), g.err()),
            };
            assert_eq!(row_design.df(), group_design.df(), "case {case}");
            let rows = Estimator::new(&row_design, &sample.items, &indices, options).unwrap();
            let grouped = Estimator::grouped(&group_design, &groups, &indices, options).unwrap();
            let row_domains = Domains::new(sample.domain.clone(), labels.clone()).unwrap();
            let group_codes = first.iter().map(|&i| sample.domain[i]).collect();
            let group_domains = Domains::new(group_codes, labels).unwrap();
            // Intervals of shares by the beta method go through an incomplete beta inverse,
            // whose own precision is about 1e−10.
            let ci_tol = if ci == CiMethod::Beta { 1e-6 } else { 1e-9 };
            match (
                grouped.estimate(&group_domains),
                rows.estimate_with(&row_domains, false),
            ) {
                (Ok(g), Ok(r)) => same(&g, &r, case, ci_tol),
                (Err(g), Err(r)) => assert_eq!(g.to_string(), r.to_string(), "case {case}"),
                (g, r) => panic!("case {case}: {g:?} vs {r:?}"),
            }
            if sample.n_dom > 1 {
                let g = grouped.difference(&group_domains, "D0", "D1");
                let r = rows.difference(&row_domains, "D0", "D1");
                same(&g.unwrap(), &r.unwrap(), case, 1e-9);
            }
            compared += 1;
            calibrated += usize::from(!sample.cells.is_empty());
            compressed += usize::from(groups.len() * 2 < n);
        }
        assert!(compared > 300, "only {compared} designs compared");
        assert!(calibrated > 150, "only {calibrated} calibrated designs");
        assert!(
            compressed > 100,
            "only {compressed} designs with groups of several responses"
        );
    }

    #[test]
    fn groups_read_in_parts_add_up_to_the_groups_read_at_once() {
        let items = vec![Item::new("a", Vec::new()), Item::new("b", Vec::new())];
        let rows = [
            (0, 2.0, [5.0, f64::NAN]),
            (1, 0.0, [3.0, 4.0]),
            (0, 1.5, [2.0, 1.0]),
            (2, 3.0, [f64::NAN, f64::NAN]),
        ];
        let mut whole = Groups::new(items.clone(), vec![vec![1, 0]]);
        for (g, w, v) in rows {
            whole.add(g, w, &v);
        }
        let (mut a, mut b) = (
            Groups::new(items.clone(), vec![vec![0, 1]]),
            Groups::new(items, vec![vec![0, 1]]),
        );
        // Part a numbers groups 0 → 0, 2 → 1; part b numbers group 1 → 0, 0 → 1.
        a.add(0, 2.0, &rows[0].2);
        a.add(1, 3.0, &rows[3].2);
        b.add(0, 0.0, &rows[1].2);
        b.add(1, 1.5, &rows[2].2);
        let mut joined = Groups::new(whole.items.clone(), vec![vec![0, 1]]);
        joined.absorb(&a, &[0, 2]);
        joined.absorb(&b, &[1, 0]);
        assert_eq!(joined, whole);
        assert_eq!(whole.rows(), [2, 1, 1]);
        assert_eq!(whole.positive(), [2, 0, 1]);
        assert_eq!(whole.weights(), [3.5, 0.0, 3.0]);
        assert_eq!(whole.weights_squared(), [6.25, 0.0, 9.0]);
        let c = whole.cell(0, 0);
        assert_eq!((c.answered, c.positive, c.w, c.wy), (2, 2, 3.5, 13.0));
        assert_eq!(
            (c.ws, c.wn, c.y, c.s, c.min, c.max),
            (2.0, 1.5, 7.0, 1.0, 2.0, 5.0)
        );
        let b1 = whole.cell(1, 1);
        assert_eq!((b1.answered, b1.positive, b1.w), (1, 0, 0.0));
        assert_eq!(whole.index_counts(&[0, 1]), Some(&[2, 0, 0][..]));
        assert_eq!(whole.index_counts(&[0]), None);
    }

    #[test]
    fn a_design_without_group_counts_or_an_uncounted_index_is_refused() {
        let items = vec![Item::new("a", Vec::new())];
        let mut groups = Groups::new(items, vec![]);
        groups.add(0, 1.0, &[4.0]);
        groups.add(1, 1.0, &[5.0]);
        let design = Design::new(DesignSpec {
            weights: groups.weights().to_vec(),
            ..DesignSpec::default()
        })
        .unwrap();
        let err = Estimator::grouped(&design, &groups, &[], EstimateOptions::default());
        assert!(err.unwrap_err().to_string().contains("with_group_counts"));
        let design = design
            .with_group_counts(groups.rows(), groups.positive())
            .unwrap();
        let index = IndexSpec::shares("i", vec![("a".into(), 1.0)]);
        let err = Estimator::grouped(&design, &groups, &[index], EstimateOptions::default());
        assert!(err.unwrap_err().to_string().contains("do not count"));
        assert!(design.with_group_counts(&[1, 0], &[1, 0]).is_err());
    }
}
