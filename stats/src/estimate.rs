//! Domain estimates of item means, "satisfied" shares and composite indices, with
//! Taylor-linearised standard errors, design effects and confidence intervals.
//!
//! # Estimators (R: `svyby(~y, ~domain, design, svymean, na.rm = TRUE, deff = TRUE)`)
//!
//! For domain `D` and item `y`, over the *valid* rows (in `D`, answer present):
//!
//! * `N̂ = Σ w`, mean `ȳ = Σ w y / N̂` (Hájek ratio); linearised variable
//!   `x_i = w_i (y_i − ȳ) / N̂` on valid rows and 0 on **every other row of the whole sample**
//!   (domain estimation, not subsetting: every domain's variance uses all PSUs of the design).
//! * "satisfied" share `p`: the mean of `s = 1[y ≥ threshold]` (threshold per item, default 4).
//! * composite index with items `k` and weights `a_k` (normalised to sum 1):
//!   `I = Σ_k a_k p_k`, each `p_k` on its own respondents; linearised
//!   `z = Σ_k a_k w o_k (s_k − p_k) / N̂_k` (`o_k = 1` if item `k` answered), so the covariances
//!   between items are included (R: `svycontrast(svyratio(~s1+…, ~o1+…, covmat = TRUE), a)`).
//!   An index is not estimable in a domain where one of its items has no answer.
//! * difference of two domains `A − B`: linearised `x_A − x_B` on the whole design (R:
//!   `svycontrast(svyby(…, covmat = TRUE), c(1, −1))`).
//!
//! # Uncertainty
//!
//! * `se = √V` with `V` from [`crate::design`] (R: `svyrecvar`).
//! * `df = degf(design)` for every domain (unchanged by the lonely-PSU option); means, indices
//!   and differences use `estimate ± qt(1 − α/2, df) · se`; shares use [`CiMethod`].
//! * `deff` exactly as `svymean(deff = TRUE)`: `V / [s² (N̂ − n) / (N̂ n)]` with
//!   `s² = n/(n − 1) · Σ w (y − ȳ)² / N̂` over the valid rows and `n` their number (rows with
//!   weight > 0). It is not finite for an unweighted sample (`N̂ = n`) and missing when
//!   `N̂ < n`. Indices and differences have no deff.
//! * effective sample size `n_eff`: for a mean `s² / V` (the sample size of a simple random
//!   sample with replacement with the same variance, `= n / deff_replace`); for a share and an
//!   index `p (1 − p) / V` (the `n_eff` of `svyciprop`'s Wilson and beta intervals).
//!
//! Missing answers drop out of that item only. A domain with no valid answer gives `n = 0`
//! and no numbers.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::compact::{Compact, CompactFill};

use crate::design::Design;
use crate::error::StatsError;
use crate::grouped::{self, GroupFill, Groups};

use crate::intervals::{proportion_interval, t_quantile, wald};
use crate::variance::{Centres, RowMap, Sums, Targets, ratio_row, variances, variances_with};

pub use crate::spec::{Domains, Estimate, EstimateOptions, IndexKind, IndexSpec, Item, Statistic};

/// Computes estimates for a design, a set of items and indices; reusable for several domain
/// partitions (e.g. commune, province, national).
#[derive(Debug, Clone)]
pub struct Estimator<'a> {
    design: &'a Design,
    items: &'a [Item],
    /// Every index, checked.
    indices: Vec<Composite>,
    /// Each index as a linear combination of row-level targets, for the variance pass.
    lins: Vec<Vec<(usize, f64)>>,
    /// `[(item, normalised weight)]` of every pooled ratio (row-level targets `2K + q`).
    ratios: Vec<Vec<(usize, f64)>>,
    options: EstimateOptions,
    /// The answers coded for the fast path (see [`crate::compact`]), made by the first
    /// [`Estimator::estimate`]; `None` inside when the answers or the design do not allow it.
    compact: OnceLock<Option<Compact>>,
    /// Grouped data (see [`crate::grouped`]): the groups, and per index its respondent counts.
    grouped: Option<(&'a Groups, Vec<&'a [u64]>)>,
    /// The answers are only in `compact` ([`Estimator::from_answer_codes`]).
    codes_only: bool,
}

/// A checked index. Row-level targets are numbered: item means `0..K`, satisfied shares
/// `K..2K`, pooled ratios `2K..2K + Q`.
#[derive(Debug, Clone)]
struct Composite {
    name: String,
    /// `(item, normalised weight)`.
    items: Vec<(usize, f64)>,
    /// `estimate = Σ coefficient · target + offset`.
    lin: Vec<(usize, f64)>,
    offset: f64,
    /// The pooled ratio of a [`IndexKind::PooledShare`] index.
    ratio: Option<usize>,
    /// A share (an effective sample size `p (1 − p) / V` makes sense).
    share_like: bool,
    /// One item's share with the share interval ([`IndexKind::Proportion`]).
    proportion: bool,
}

struct Identity<'a>(&'a [u32]);

impl RowMap for Identity<'_> {
    #[inline]
    fn map(&self, row: usize) -> Option<(usize, usize, f64)> {
        let d = self.0[row];
        (d != Domains::OUTSIDE).then_some((d as usize, d as usize, 1.0))
    }
}

struct Contrast<'a> {
    codes: &'a [u32],
    a: u32,
    b: u32,
}

impl RowMap for Contrast<'_> {
    #[inline]
    fn map(&self, row: usize) -> Option<(usize, usize, f64)> {
        let d = self.codes[row];
        if d == self.a {
            Some((0, d as usize, 1.0))
        } else if d == self.b {
            Some((0, d as usize, -1.0))
        } else {
            None
        }
    }
}

/// A variance that is 0 in exact arithmetic comes out of the sums as rounding noise (R shows
/// the same, around 1e−32); a standard error below `1e−12 · max(1, |estimate|)` is reported as
/// exactly 0, so that no interval or design effect is computed from noise. The noise can be
/// negative (a sum of terms that cancel), so its size is what is compared.
fn rounding_zero(v: f64, estimate: f64) -> f64 {
    if v.is_finite() && v.abs().sqrt() <= 1e-12 * estimate.abs().max(1.0) {
        0.0
    } else {
        v
    }
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

impl<'a> Estimator<'a> {
    /// Checks the items and indices against the design.
    pub fn new(
        design: &'a Design,
        items: &'a [Item],
        indices: &[IndexSpec],
        options: EstimateOptions,
    ) -> Result<Estimator<'a>, StatsError> {
        Self::build(design, items, indices, options, true)
    }

    /// The estimator of responses summarised per group (see [`crate::grouped`]): `design` has
    /// a row per group, the groups' weights ([`Groups::weights`]) and their counts
    /// ([`Design::with_group_counts`], before any calibration); every index's item set must be
    /// one whose respondents `groups` counts. Domains then assign groups, not responses.
    pub fn grouped(
        design: &'a Design,
        groups: &'a Groups,
        indices: &[IndexSpec],
        options: EstimateOptions,
    ) -> Result<Estimator<'a>, StatsError> {
        if groups.len() != design.n_rows() {
            return Err(StatsError::Length {
                what: "groups".into(),
                expected: design.n_rows(),
                got: groups.len(),
            });
        }
        let counted = design.groups.as_ref().is_some_and(|c| {
            c.rows
                .iter()
                .zip(&groups.rows)
                .all(|(a, &b)| *a == b as f64)
        });
        if !counted {
            return Err(StatsError::Invalid(
                "the design does not count the groups' responses (Design::with_group_counts)"
                    .into(),
            ));
        }
        let mut e = Self::build(design, &groups.items, indices, options, false)?;
        let mut counts = Vec::with_capacity(e.indices.len());
        for c in &e.indices {
            let mut set: Vec<usize> = c.items.iter().map(|&(k, _)| k).collect();
            set.sort_unstable();
            set.dedup();
            let found = groups.index_counts(&set).ok_or_else(|| {
                StatsError::Invalid(format!(
                    "index \"{}\": the groups do not count the respondents of its items",
                    c.name
                ))
            })?;
            counts.push(found);
        }
        e.grouped = Some((groups, counts));
        Ok(e)
    }

    fn build(
        design: &'a Design,
        items: &'a [Item],
        indices: &[IndexSpec],
        options: EstimateOptions,
        values_given: bool,
    ) -> Result<Estimator<'a>, StatsError> {
        if !(options.level > 0.0 && options.level < 1.0) {
            return Err(StatsError::Invalid(format!(
                "confidence level must be in (0, 1), got {}",
                options.level
            )));
        }
        let mut by_name = HashMap::new();
        for (k, item) in items.iter().enumerate() {
            if values_given && item.values.len() != design.n_rows() {
                return Err(StatsError::Length {
                    what: format!("item \"{}\"", item.name),
                    expected: design.n_rows(),
                    got: item.values.len(),
                });
            }
            if item.satisfied_min.is_nan() {
                return Err(StatsError::Invalid(format!(
                    "item \"{}\": the satisfied threshold is not a number",
                    item.name
                )));
            }
            if let Some(row) = item.values.iter().position(|v| v.is_infinite()) {
                return Err(StatsError::Value {
                    row,
                    column: item.name.clone(),
                    message: "answer is not a finite number".into(),
                });
            }
            if by_name.insert(item.name.as_str(), k).is_some() {
                return Err(StatsError::Invalid(format!(
                    "item \"{}\" is given twice",
                    item.name
                )));
            }
        }
        let k_all = items.len();
        let mut composites = Vec::with_capacity(indices.len());
        let mut ratios = Vec::new();
        for spec in indices {
            if spec.items.is_empty() {
                return Err(StatsError::Invalid(format!(
                    "index \"{}\" has no items",
                    spec.name
                )));
            }
            // A linear index takes its coefficients as given; the others are weighted means.
            let linear = spec.kind == IndexKind::Linear;
            let total: f64 = if linear {
                1.0
            } else {
                spec.items.iter().map(|(_, w)| *w).sum()
            };
            let mut lin = Vec::with_capacity(spec.items.len());
            for (name, w) in &spec.items {
                let Some(&k) = by_name.get(name.as_str()) else {
                    return Err(StatsError::Invalid(format!(
                        "index \"{}\": \"{name}\" is not one of the items",
                        spec.name
                    )));
                };
                let ok = if linear {
                    w.is_finite() && *w != 0.0
                } else {
                    w.is_finite() && *w > 0.0
                };
                if !ok {
                    let need = if linear {
                        "a number other than 0"
                    } else {
                        "a positive number"
                    };
                    return Err(StatsError::Invalid(format!(
                        "index \"{}\": weight {w} of \"{name}\" must be {need}",
                        spec.name
                    )));
                }
                lin.push((k, w / total));
            }
            if !spec.offset.is_finite() || (!linear && spec.offset != 0.0) {
                return Err(StatsError::Invalid(format!(
                    "index \"{}\": only a linear index has a constant (got {})",
                    spec.name, spec.offset
                )));
            }
            let mut c = Composite {
                name: spec.name.clone(),
                items: lin.clone(),
                lin: Vec::new(),
                offset: 0.0,
                ratio: None,
                share_like: true,
                proportion: false,
            };
            match spec.kind {
                IndexKind::Shares => {
                    c.lin = lin.iter().map(|&(k, a)| (k_all + k, a)).collect();
                }
                IndexKind::Score => {
                    c.share_like = false;
                    for &(k, a) in &lin {
                        let item = &items[k];
                        let (lo, hi) = item
                            .scale
                            .filter(|(lo, hi)| hi > lo && lo.is_finite() && hi.is_finite())
                            .ok_or_else(|| {
                                StatsError::Invalid(format!(
                                    "index \"{}\": item \"{}\" needs a scale with min < max",
                                    spec.name, item.name
                                ))
                            })?;
                        c.lin.push((k, a / (hi - lo)));
                        c.offset -= a * lo / (hi - lo);
                    }
                }
                IndexKind::PooledShare => {
                    c.ratio = Some(ratios.len());
                    c.lin = vec![(2 * k_all + ratios.len(), 1.0)];
                    ratios.push(lin);
                }
                IndexKind::Linear => {
                    c.share_like = false;
                    c.lin = lin.clone();
                    c.offset = spec.offset;
                }
                IndexKind::Proportion => {
                    let [(k, _)] = lin[..] else {
                        return Err(StatsError::Invalid(format!(
                            "index \"{}\": a proportion has exactly one item, got {}",
                            spec.name,
                            lin.len()
                        )));
                    };
                    c.lin = vec![(k_all + k, 1.0)];
                    c.proportion = true;
                }
            }
            composites.push(c);
        }
        let lins = composites.iter().map(|c| c.lin.clone()).collect();
        Ok(Estimator {
            design,
            items,
            indices: composites,
            lins,
            ratios,
            options,
            compact: OnceLock::new(),
            grouped: None,
            codes_only: false,
        })
    }

    /// Whether [`Estimator::from_answer_codes`] takes `k` items whose answers are codes up to
    /// `max` on `design`, for `domains` domains (else the answers are needed as numbers).
    pub(crate) fn answer_codes_fit(design: &Design, k: usize, max: u8, domains: usize) -> bool {
        Compact::raw_fits(design, k, max)
            && domains * k * (usize::from(max) + 2) <= crate::compact::MAX_SLOTS
    }

    /// An estimator of items whose answers are given only as bytes, row after row, as the CSV
    /// reader makes them (the items in order; the integer answer 0–63,
    /// [`crate::compact::RAW_MISSING`] when missing; `max` the largest answer): the items'
    /// `values` may be empty. The fast path is prepared from the bytes; anything that needs the
    /// answers as numbers (a difference, more domains than
    /// [`Estimator::answer_codes_fit`] allows) is refused.
    pub(crate) fn from_answer_codes(
        design: &'a Design,
        items: &'a [Item],
        indices: &[IndexSpec],
        options: EstimateOptions,
        codes: &[u8],
        max: u8,
    ) -> Result<Estimator<'a>, StatsError> {
        let compact = Compact::from_raw(design, codes, items.len(), max).ok_or_else(|| {
            StatsError::Invalid("the answers cannot be estimated from their codes".into())
        })?;
        let mut e = Self::build(design, items, indices, options, false)?;
        let _ = e.compact.set(Some(compact));
        e.codes_only = true;
        Ok(e)
    }

    /// The error of a computation that needs the answers as numbers on an estimator that has
    /// only their codes.
    fn needs_values(&self) -> Result<(), StatsError> {
        if self.codes_only {
            return Err(StatsError::Invalid(
                "this estimate needs the answers as numbers, and only their codes were given"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The design.
    pub fn design(&self) -> &Design {
        self.design
    }

    fn check_domains(&self, domains: &Domains) -> Result<(), StatsError> {
        if domains.codes.len() != self.design.n_rows() {
            return Err(StatsError::Length {
                what: "domain column".into(),
                expected: self.design.n_rows(),
                got: domains.codes.len(),
            });
        }
        Ok(())
    }

    /// Sums for the point estimates and `deff`: one pass over the rows.
    fn sums(&self, domains: &Domains) -> Sums {
        if let Some((groups, counts)) = &self.grouped {
            return grouped::sums(
                self.design,
                groups,
                &domains.codes,
                domains.len(),
                counts,
                &self.ratios,
            );
        }
        let n_dom = domains.len();
        let k_all = self.items.len();
        let w = self.design.weights();
        let codes = &domains.codes;
        let size = n_dom * k_all;
        let mut s = Sums {
            n: vec![0; size],
            total: vec![0.0; size],
            sum_dy: vec![0.0; size],
            sum_dy2: vec![0.0; size],
            sat: vec![0.0; size],
            unsat: vec![0.0; size],
            first: vec![f64::NAN; size],
            varies: vec![false; size],
            n_index: vec![0; n_dom * self.indices.len()],
            ratio_y: vec![0.0; n_dom * self.ratios.len()],
            ratio_x: vec![0.0; n_dom * self.ratios.len()],
        };
        let columns: Vec<(&[f64], f64)> = self
            .items
            .iter()
            .map(|i| (i.values.as_slice(), i.satisfied_min))
            .collect();
        for (i, (&d, &wi)) in codes.iter().zip(w).enumerate() {
            if d == Domains::OUTSIDE {
                continue;
            }
            let base = d as usize * k_all;
            for (k, &(col, thr)) in columns.iter().enumerate() {
                let y = col[i];
                if y.is_nan() {
                    continue;
                }
                let slot = base + k;
                if s.first[slot].is_nan() {
                    s.first[slot] = y;
                }
                let dy = y - s.first[slot];
                s.varies[slot] |= dy != 0.0;
                s.n[slot] += u64::from(wi > 0.0);
                s.total[slot] += wi;
                s.sum_dy[slot] += wi * dy;
                s.sum_dy2[slot] += wi * dy * dy;
                if y >= thr {
                    s.sat[slot] += wi;
                } else {
                    s.unsat[slot] += wi;
                }
            }
            if !self.indices.is_empty() && wi > 0.0 {
                let n_ix = self.indices.len();
                for (ix, c) in self.indices.iter().enumerate() {
                    if c.items.iter().any(|&(k, _)| !columns[k].0[i].is_nan()) {
                        s.n_index[d as usize * n_ix + ix] += 1;
                    }
                }
            }
            let n_q = self.ratios.len();
            for (q, ratio) in self.ratios.iter().enumerate() {
                let (y, x) = ratio_row(ratio, &columns, i);
                s.ratio_y[d as usize * n_q + q] += wi * y;
                s.ratio_x[d as usize * n_q + q] += wi * x;
            }
        }
        s
    }

    /// [`Estimator::sums`] from the compact answers' weight tables.
    /// Also returns the domain of every row in design order.
    fn sums_compact(&self, cp: &Compact, domains: &[u32], n_dom: usize) -> (Sums, Vec<u32>) {
        let k_all = self.items.len();
        let masks: Vec<u64> = self
            .indices
            .iter()
            .map(|c| c.items.iter().fold(0u64, |m, &(k, _)| m | 1 << k))
            .collect();
        let (t, dom) = cp.tables(&self.design.order, domains, n_dom, &masks);
        let size = n_dom * k_all;
        let mut s = Sums {
            n: vec![0; size],
            total: vec![0.0; size],
            sum_dy: vec![0.0; size],
            sum_dy2: vec![0.0; size],
            sat: vec![0.0; size],
            unsat: vec![0.0; size],
            first: vec![f64::NAN; size],
            varies: vec![false; size],
            n_index: t.n_index,
            ratio_y: vec![0.0; n_dom * self.ratios.len()],
            ratio_x: vec![0.0; n_dom * self.ratios.len()],
        };
        let width = cp.width;
        for d in 0..n_dom {
            for (k, item) in self.items.iter().enumerate() {
                let slot = d * k_all + k;
                let base = slot * width;
                let levels = &cp.levels[k];
                let present = |c: usize| t.rows[base + c] > 0;
                let Some(first) = (0..levels.len()).find(|&c| present(c)) else {
                    continue;
                };
                let c0 = levels[first];
                s.first[slot] = c0;
                for (c, &v) in levels.iter().enumerate() {
                    if !present(c) {
                        continue;
                    }
                    let w = t.w[base + c];
                    let dy = v - c0;
                    s.varies[slot] |= dy != 0.0;
                    s.n[slot] += u64::from(t.rows[base + c] - t.zero[base + c]);
                    s.total[slot] += w;
                    s.sum_dy[slot] += w * dy;
                    s.sum_dy2[slot] += w * dy * dy;
                    if v >= item.satisfied_min {
                        s.sat[slot] += w;
                    } else {
                        s.unsat[slot] += w;
                    }
                }
            }
            let n_q = self.ratios.len();
            for (q, ratio) in self.ratios.iter().enumerate() {
                for &(k, a) in ratio {
                    let base = (d * k_all + k) * width;
                    let thr = self.items[k].satisfied_min;
                    for (c, &v) in cp.levels[k].iter().enumerate() {
                        let w = t.w[base + c];
                        s.ratio_x[d * n_q + q] += w * a;
                        if v >= thr {
                            s.ratio_y[d * n_q + q] += w * a;
                        }
                    }
                }
            }
        }
        (s, dom)
    }

    /// The variances of every target with rows mapped by `map`: row by row, or from the
    /// groups' totals.
    fn variances<M: RowMap>(
        &self,
        targets: &Targets<'_>,
        centres: &Centres,
        map: &M,
        n_vdom: usize,
    ) -> Vec<f64> {
        match &self.grouped {
            Some((groups, _)) => {
                let fill = GroupFill {
                    design: self.design,
                    groups,
                    centres,
                    ratios: &self.ratios,
                    n_indices: self.indices.len(),
                    map,
                };
                variances_with(self.design, targets, &fill, n_vdom)
            }
            None => variances(self.design, targets, centres, map, n_vdom),
        }
    }

    fn centres(&self, s: &Sums) -> Centres {
        let len = s.total.len();
        let mut c = Centres {
            mean: vec![0.0; len],
            share: vec![0.0; len],
            scale: vec![0.0; len],
            ratio: vec![0.0; s.ratio_x.len()],
            ratio_scale: vec![0.0; s.ratio_x.len()],
        };
        for (slot, (&y, &x)) in s.ratio_y.iter().zip(&s.ratio_x).enumerate() {
            if x > 0.0 {
                c.ratio[slot] = y / x;
                c.ratio_scale[slot] = 1.0 / x;
            }
        }
        for slot in 0..len {
            if s.total[slot] > 0.0 {
                c.mean[slot] = s.mean(slot);
                c.share[slot] = s.share(slot);
                c.scale[slot] = 1.0 / s.total[slot];
            }
        }
        c
    }

    fn targets(&self) -> Targets<'_> {
        Targets {
            columns: self.items.iter().map(|i| i.values.as_slice()).collect(),
            thresholds: self.items.iter().map(|i| i.satisfied_min).collect(),
            ratios: &self.ratios,
            indices: &self.lins,
        }
    }

    /// The point estimate of an index in source domain `d`, if estimable: every item answered
    /// in the domain (a pooled share: some answer).
    fn composite(&self, c: &Composite, sums: &Sums, centres: &Centres, d: usize) -> Option<f64> {
        let k_all = self.items.len();
        if let Some(q) = c.ratio {
            let slot = d * self.ratios.len() + q;
            return (sums.ratio_x[slot] > 0.0).then(|| centres.ratio[slot]);
        }
        if !c.items.iter().all(|&(k, _)| sums.n[d * k_all + k] > 0) {
            return None;
        }
        Some(
            c.lin
                .iter()
                .map(|&(r, a)| a * centres.target(r, d, k_all, self.ratios.len()))
                .sum::<f64>()
                + c.offset,
        )
    }

    /// Estimates for every domain: for each domain (in label order) the mean and "satisfied"
    /// share of every item, then every index. One pass over the rows for the point estimates
    /// and one for all variances.
    pub fn estimate(&self, domains: &Domains) -> Result<Vec<Estimate>, StatsError> {
        self.estimate_with(domains, true)
    }

    /// [`Estimator::estimate`], on the compact fast path when `fast` and the answers allow it,
    /// else row by row (the two agree up to rounding; a test compares them).
    pub(crate) fn estimate_with(
        &self,
        domains: &Domains,
        fast: bool,
    ) -> Result<Vec<Estimate>, StatsError> {
        self.check_domains(domains)?;
        let targets = self.targets();
        let compact = if fast && self.grouped.is_none() {
            self.compact
                .get_or_init(|| Compact::build(self.design, &targets.columns))
                .as_ref()
        } else {
            None
        };
        // Many domains: the tables per (domain, item, answer) would be too large.
        let compact =
            compact.filter(|c| domains.len() * c.k * c.width <= crate::compact::MAX_SLOTS);
        let (sums, centres, var) = match compact {
            Some(compact) => {
                let (sums, dom) = self.sums_compact(compact, &domains.codes, domains.len());
                let centres = self.centres(&sums);
                let fill = CompactFill::new(
                    compact,
                    &dom,
                    domains.len(),
                    &centres,
                    &targets.thresholds,
                    &self.ratios,
                );
                let var = variances_with(self.design, &targets, &fill, domains.len());
                (sums, centres, var)
            }
            None => {
                self.needs_values()?;
                let sums = self.sums(domains);
                let centres = self.centres(&sums);
                let var =
                    self.variances(&targets, &centres, &Identity(&domains.codes), domains.len());
                (sums, centres, var)
            }
        };
        let df = self.design.df();
        let t = t_quantile(1.0 - (1.0 - self.options.level) / 2.0, df as f64);
        let k_all = self.items.len();
        let j_all = targets.j();
        let mut out = Vec::with_capacity(domains.len() * j_all);
        for (d, label) in domains.labels.iter().enumerate() {
            for (k, item) in self.items.iter().enumerate() {
                let slot = d * k_all + k;
                let n = sums.n[slot];
                let estimable = n > 0 && sums.total[slot] > 0.0;
                let base = Estimate {
                    domain: label.clone(),
                    item: item.name.clone(),
                    statistic: Statistic::Mean,
                    n,
                    estimate: None,
                    se: None,
                    df,
                    ci_low: None,
                    ci_high: None,
                    deff: None,
                    n_eff: None,
                };
                if !estimable {
                    out.push(base.clone());
                    out.push(Estimate {
                        statistic: Statistic::Satisfied,
                        ..base
                    });
                    continue;
                }
                let total = sums.total[slot];
                let nf = n as f64;
                // svymean(deff = TRUE): vsrs = s² (N̂ − n) / (N̂ n), s² = n/(n−1) Σw(y−ȳ)²/N̂.
                let deff_of = |v: f64, ss: f64| -> (Option<f64>, f64) {
                    let s2 = nf / (nf - 1.0) * ss / total;
                    let deff = if total < nf || v == 0.0 {
                        None
                    } else {
                        finite(v / (s2 * (total - nf) / (total * nf)))
                    };
                    (deff, s2)
                };
                // Mean.
                let m = centres.mean[slot];
                let v = rounding_zero(var[d * j_all + k], m);
                let se = v.sqrt();
                let (deff, s2) = deff_of(v, sums.ss_y(slot));
                let (lo, hi) = wald(m, se, t);
                out.push(Estimate {
                    estimate: finite(m),
                    se: finite(se),
                    ci_low: lo.and_then(finite),
                    ci_high: hi.and_then(finite),
                    deff,
                    n_eff: (v > 0.0).then(|| s2 / v).and_then(finite),
                    ..base.clone()
                });
                // Satisfied share.
                let p = centres.share[slot];
                let v = rounding_zero(var[d * j_all + k_all + k], p);
                let se = v.sqrt();
                let (deff, _) = deff_of(v, sums.ss_s(slot));
                let ci =
                    proportion_interval(self.options.ci, p, v, t, self.options.level, n, df as f64);
                out.push(Estimate {
                    statistic: Statistic::Satisfied,
                    estimate: finite(p),
                    se: finite(se),
                    ci_low: ci.and_then(|c| finite(c.0)),
                    ci_high: ci.and_then(|c| finite(c.1)),
                    deff,
                    n_eff: (v > 0.0).then(|| p * (1.0 - p) / v).and_then(finite),
                    ..base
                });
            }
            let r_all = targets.r();
            for (ix, c) in self.indices.iter().enumerate() {
                let n = sums.n_index[d * self.indices.len() + ix];
                let mut e = Estimate {
                    domain: label.clone(),
                    item: c.name.clone(),
                    statistic: Statistic::Index,
                    n,
                    estimate: None,
                    se: None,
                    df,
                    ci_low: None,
                    ci_high: None,
                    deff: None,
                    n_eff: None,
                };
                if let Some(est) = self.composite(c, &sums, &centres, d) {
                    let v = rounding_zero(var[d * j_all + r_all + ix], est);
                    let se = v.sqrt();
                    let (lo, hi) = if c.proportion {
                        let n_item = c.items.first().map_or(0, |&(k, _)| sums.n[d * k_all + k]);
                        match proportion_interval(
                            self.options.ci,
                            est,
                            v,
                            t,
                            self.options.level,
                            n_item,
                            df as f64,
                        ) {
                            Some((lo, hi)) => (Some(lo), Some(hi)),
                            None => (None, None),
                        }
                    } else {
                        wald(est, se, t)
                    };
                    e.estimate = finite(est);
                    e.se = finite(se);
                    e.ci_low = lo.and_then(finite);
                    e.ci_high = hi.and_then(finite);
                    e.n_eff = (v > 0.0 && c.share_like)
                        .then(|| est * (1.0 - est) / v)
                        .and_then(finite);
                }
                out.push(e);
            }
        }
        Ok(out)
    }

    /// Estimates for several domain partitions of the same rows (e.g. commune, province,
    /// national), one [`Estimator::estimate`] per partition, each on its own thread (the
    /// results do not depend on that: every partition is computed exactly as alone).
    pub fn estimate_levels(&self, levels: &[&Domains]) -> Result<Vec<Vec<Estimate>>, StatsError> {
        if levels.len() < 2 {
            return levels.iter().map(|d| self.estimate(d)).collect();
        }
        std::thread::scope(|scope| {
            let running: Vec<_> = levels
                .iter()
                .map(|d| scope.spawn(move || self.estimate(d)))
                .collect();
            running
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(StatsError::Invalid("an estimation thread panicked".into()))
                    })
                })
                .collect()
        })
    }

    /// The difference `a − b` between two domains of the same partition (or two waves coded
    /// as domains) for every item's mean and share and every index, with the standard error of
    /// the contrast on the whole design (covariance included) and the interval
    /// `diff ± qt(1 − α/2, df) · se`. `n` is the number of respondents in both domains.
    pub fn difference(
        &self,
        domains: &Domains,
        a: &str,
        b: &str,
    ) -> Result<Vec<Estimate>, StatsError> {
        self.check_domains(domains)?;
        let code = |l: &str| {
            domains
                .code_of(l)
                .ok_or_else(|| StatsError::Invalid(format!("no domain \"{l}\"")))
        };
        let (ca, cb) = (code(a)?, code(b)?);
        if ca == cb {
            return Err(StatsError::Invalid(format!(
                "a difference needs two different domains, got \"{a}\" twice"
            )));
        }
        self.needs_values()?;
        let sums = self.sums(domains);
        let centres = self.centres(&sums);
        let targets = self.targets();
        let var = self.variances(
            &targets,
            &centres,
            &Contrast {
                codes: &domains.codes,
                a: ca,
                b: cb,
            },
            1,
        );
        let df = self.design.df();
        let t = t_quantile(1.0 - (1.0 - self.options.level) / 2.0, df as f64);
        let k_all = self.items.len();
        let label = format!("{a} - {b}");
        let (sa, sb) = (ca as usize * k_all, cb as usize * k_all);
        let ok = |k: usize| sums.n[sa + k] > 0 && sums.n[sb + k] > 0;
        let mut out = Vec::new();
        let mut push = |item: &str, statistic, n: u64, est: Option<f64>, v: f64| {
            let se = rounding_zero(v, est.unwrap_or(0.0)).sqrt();
            let (lo, hi) = match est {
                Some(e) => wald(e, se, t),
                None => (None, None),
            };
            out.push(Estimate {
                domain: label.clone(),
                item: item.to_owned(),
                statistic,
                n,
                estimate: est.and_then(finite),
                se: est.and_then(|_| finite(se)),
                df,
                ci_low: lo.and_then(finite),
                ci_high: hi.and_then(finite),
                deff: None,
                n_eff: None,
            });
        };
        for (k, item) in self.items.iter().enumerate() {
            let n = sums.n[sa + k] + sums.n[sb + k];
            let e_m = ok(k).then(|| centres.mean[sa + k] - centres.mean[sb + k]);
            push(&item.name, Statistic::Mean, n, e_m, var[k]);
            let e_s = ok(k).then(|| centres.share[sa + k] - centres.share[sb + k]);
            push(&item.name, Statistic::Satisfied, n, e_s, var[k_all + k]);
        }
        let n_ix = self.indices.len();
        let r_all = targets.r();
        for (ix, c) in self.indices.iter().enumerate() {
            let n = sums.n_index[ca as usize * n_ix + ix] + sums.n_index[cb as usize * n_ix + ix];
            let est = self
                .composite(c, &sums, &centres, ca as usize)
                .zip(self.composite(c, &sums, &centres, cb as usize))
                .map(|(ea, eb)| ea - eb);
            push(&c.name, Statistic::Index, n, est, var[r_all + ix]);
        }
        Ok(out)
    }
}
