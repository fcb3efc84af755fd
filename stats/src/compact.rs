//! The fast path of [`crate::Estimator::estimate`] for answers that take few distinct values
//! (a 1–5 scale, 0/1 indicators, capped counts): the same estimators, computed from weight
//! tables instead of row by row.
//!
//! Every item's answers are coded as the index of their value among the item's distinct
//! values (at most [`MAX_LEVELS`]), one byte per answer, the rows of all items side by side in
//! the design's order (stratum, clusters), with the weights in the same order. Then:
//!
//! * the point estimates come from `W[d, k, c] = Σ w` over the rows of domain `d` whose answer
//!   to item `k` is value `c` (with the counts of those rows): `Σ w y = Σ_c W_c v_c` and so on;
//! * the total of a leaf cluster of the linearised variable `w (y − ȳ) / N̂` of every domain is
//!   `Σ_c W_c (v_c − ȳ) / N̂` with `W_c` summed over the cluster's rows: one addition per answer
//!   instead of a multiplication, a subtraction and two table lookups.
//!
//! Both are the row-by-row sums regrouped (exact up to rounding); the rows are read in design
//! order from one compact array, so memory is read sequentially, and the passes run on
//! several threads ([`crate::variance`] splits the design into runs of whole strata).
//!
//! Calibrated designs keep the row-by-row path (their projections are row-level).

use rayon::prelude::*;

use crate::design::Design;
use crate::spec::Domains;
use crate::variance::{Acc, Centres, Dims, LeafFill, Out};

/// Largest number of (domain, item, answer) slots on the fast path (its tables and
/// coefficients take about 32 bytes a slot): more domains take the row-by-row path.
pub(crate) const MAX_SLOTS: usize = 1 << 22;

/// Largest number of distinct answers of an item on the fast path.
pub(crate) const MAX_LEVELS: usize = 32;

/// A missing answer in the reader's codes (see [`raw_code`]).
pub(crate) const RAW_MISSING: u8 = u8::MAX;

/// The reader's code of an answer: the answer itself when it is an integer 0–63 (not −0).
#[inline]
pub(crate) fn raw_code(x: f64) -> Option<u8> {
    let i = x as i64;
    ((0..64).contains(&i) && (i as f64).to_bits() == x.to_bits()).then_some(i as u8)
}

/// The answer of a reader's code (NaN when missing).
#[inline]
pub(crate) fn answer(c: u8) -> f64 {
    if c == RAW_MISSING {
        f64::NAN
    } else {
        f64::from(c)
    }
}

/// Rows per block when the work is split over threads.
const BLOCK: usize = 1 << 14;

/// The answers of all items as level codes, rows in design order.
#[derive(Debug, Clone)]
pub(crate) struct Compact {
    /// Number of items.
    pub k: usize,
    /// Slots per (domain, item) in a table: the levels, then one slot for missing answers.
    pub width: usize,
    /// `codes[p * k + item]` for the row at design position `p`; `width − 1` = missing.
    pub codes: Vec<u8>,
    /// Per item, its distinct answers in increasing order.
    pub levels: Vec<Vec<f64>>,
    /// The weights in design order.
    pub weights: Vec<f64>,
}

/// The distinct answers of a column (NaN = missing), sorted; `None` when there are more than
/// [`MAX_LEVELS`].
fn levels_of(col: &[f64]) -> Option<Vec<f64>> {
    let mut small: u64 = 0;
    let mut other: Vec<f64> = Vec::new();
    for &v in col {
        if v.is_nan() {
            continue;
        }
        let i = v as i64;
        if (0..64).contains(&i) && i as f64 == v {
            small |= 1 << i;
        } else if !other.contains(&v) {
            other.push(v);
            if other.len() > MAX_LEVELS {
                return None;
            }
        }
    }
    let mut levels: Vec<f64> = (0..64)
        .filter(|i| (small >> i) & 1 == 1)
        .map(|i| i as f64)
        .collect();
    levels.extend(other);
    levels.sort_by(f64::total_cmp);
    (levels.len() <= MAX_LEVELS).then_some(levels)
}

/// Codes of one item: a table for the integers 0–63, a search for the other values.
struct Coder<'a> {
    small: [u8; 64],
    levels: &'a [f64],
    missing: u8,
}

impl Coder<'_> {
    #[inline]
    fn code(&self, v: f64) -> u8 {
        if v.is_nan() {
            return self.missing;
        }
        let i = v as i64;
        if (0..64).contains(&i) && i as f64 == v {
            return self.small[i as usize];
        }
        self.levels
            .iter()
            .position(|&l| l == v)
            .map_or(self.missing, |c| c as u8)
    }
}

impl Compact {
    /// Codes the items of an uncalibrated design; `None` when an item has too many distinct
    /// answers (or the design is calibrated, or there are no items or more than 64).
    pub(crate) fn build(design: &Design, columns: &[&[f64]]) -> Option<Compact> {
        let k = columns.len();
        if design.calibration.is_some() || k == 0 || k > 64 {
            return None;
        }
        let levels: Vec<Vec<f64>> = columns
            .par_iter()
            .map(|c| levels_of(c))
            .collect::<Option<_>>()?;
        let width = levels.iter().map(Vec::len).max()? + 1;
        let missing = (width - 1) as u8;
        let coders: Vec<Coder<'_>> = levels
            .iter()
            .map(|l| {
                let mut small = [missing; 64];
                for (c, &v) in l.iter().enumerate() {
                    let i = v as i64;
                    if (0..64).contains(&i) && i as f64 == v {
                        small[i as usize] = c as u8;
                    }
                }
                Coder {
                    small,
                    levels: l,
                    missing,
                }
            })
            .collect();
        let n = design.n_rows();
        // Row-major in file order (each column read sequentially), then rows permuted.
        let mut by_row = vec![0u8; n * k];
        by_row
            .par_chunks_mut(BLOCK * k)
            .enumerate()
            .for_each(|(b, chunk)| {
                let first = b * BLOCK;
                for (kk, (col, coder)) in columns.iter().zip(&coders).enumerate() {
                    let col = &col[first..first + chunk.len() / k];
                    for (row, &v) in chunk.chunks_exact_mut(k).zip(col) {
                        row[kk] = coder.code(v);
                    }
                }
            });
        let order = &design.order;
        let mut codes = vec![0u8; n * k];
        codes
            .par_chunks_mut(BLOCK * k)
            .zip(order.par_chunks(BLOCK))
            .for_each(|(chunk, rows)| {
                for (dst, &i) in chunk.chunks_exact_mut(k).zip(rows) {
                    let i = i as usize;
                    dst.copy_from_slice(&by_row[i * k..(i + 1) * k]);
                }
            });
        let weights = order
            .par_iter()
            .map(|&i| design.weights[i as usize])
            .collect();
        Some(Compact {
            k,
            width,
            codes,
            levels,
            weights,
        })
    }

    /// Whether [`Compact::from_raw`] takes `k` items with codes up to `max` on `design`.
    pub(crate) fn raw_fits(design: &Design, k: usize, max: u8) -> bool {
        design.calibration.is_none() && (1..=64).contains(&k) && usize::from(max) < MAX_LEVELS
    }

    /// [`Compact::build`] from the reader's codes ([`raw_code`], row after row in file order;
    /// `max` the largest answer): the levels of every item are `0..=max`, some perhaps unused
    /// (they then hold no weight), so the codes are the answers themselves.
    pub(crate) fn from_raw(design: &Design, raw: &[u8], k: usize, max: u8) -> Option<Compact> {
        if !Compact::raw_fits(design, k, max) || raw.len() != k * design.n_rows() {
            return None;
        }
        let width = usize::from(max) + 2;
        let missing = (width - 1) as u8;
        let levels = vec![(0..=max).map(f64::from).collect::<Vec<f64>>(); k];
        let order = &design.order;
        let mut codes = vec![0u8; raw.len()];
        let mut weights = vec![0.0; design.n_rows()];
        codes
            .par_chunks_mut(BLOCK * k)
            .zip(weights.par_chunks_mut(BLOCK))
            .zip(order.par_chunks(BLOCK))
            .for_each(|((chunk, w), rows)| {
                // A plain copy per row first: many rows' reads in flight at once.
                for ((dst, w), &i) in chunk.chunks_exact_mut(k).zip(w.iter_mut()).zip(rows) {
                    let i = i as usize;
                    dst.copy_from_slice(&raw[i * k..(i + 1) * k]);
                    *w = design.weights[i];
                }
                for c in chunk.iter_mut() {
                    *c = (*c).min(missing);
                }
            });
        Some(Compact {
            k,
            width,
            codes,
            levels,
            weights,
        })
    }

    /// Weight sums and row counts per (domain, item, level), and the number of respondents
    /// with weight > 0 who answered some item of every index mask.
    /// Also returns the domain of every row in design order (`order`: the design's rows;
    /// `domains`: the domain of every row in file order).
    pub(crate) fn tables(
        &self,
        order: &[u32],
        domains: &[u32],
        n_dom: usize,
        index_masks: &[u64],
    ) -> (Tables, Vec<u32>) {
        let (k, width) = (self.k, self.width);
        let n = order.len();
        let mut dom = vec![0u32; n];
        // A fixed split (not one per thread): the sums are added in the same order everywhere;
        // one part when the tables are large.
        let parts = if n_dom * k * width > 1 << 20 { 1 } else { 4 };
        let part = n.div_ceil(parts).max(1);
        let parts: Vec<Tables> = dom
            .par_chunks_mut(part)
            .enumerate()
            .map(|(b, dom)| {
                let first = b * part;
                let len = dom.len();
                for (slot, &i) in dom.iter_mut().zip(&order[first..first + len]) {
                    *slot = domains[i as usize];
                }
                let mut t = Tables::new(n_dom * k * width, n_dom * index_masks.len());
                for (j, &d) in dom.iter().enumerate() {
                    let p = first + j;
                    if d == Domains::OUTSIDE {
                        continue;
                    }
                    let w = self.weights[p];
                    let row = &self.codes[p * k..(p + 1) * k];
                    let base = d as usize * k * width;
                    for (kk, &c) in row.iter().enumerate() {
                        let s = base + kk * width + c as usize;
                        t.w[s] += w;
                        t.rows[s] += 1;
                    }
                    if w == 0.0 {
                        for (kk, &c) in row.iter().enumerate() {
                            t.zero[base + kk * width + c as usize] += 1;
                        }
                    } else if !index_masks.is_empty() {
                        let missing = (width - 1) as u8;
                        let answered = row
                            .iter()
                            .enumerate()
                            .fold(0u64, |m, (kk, &c)| m | (u64::from(c != missing) << kk));
                        let base = d as usize * index_masks.len();
                        for (ix, &mask) in index_masks.iter().enumerate() {
                            t.n_index[base + ix] += u64::from(answered & mask != 0);
                        }
                    }
                }
                t
            })
            .collect();
        let mut parts = parts.into_iter();
        let mut total = parts
            .next()
            .unwrap_or_else(|| Tables::new(n_dom * k * width, n_dom * index_masks.len()));
        for t in parts {
            total.add(&t);
        }
        (total, dom)
    }
}

/// Per (domain, item, level) slot: the weight sum, the number of rows and of rows with weight
/// 0; per (domain, index): respondents with an answer to some of its items.
pub(crate) struct Tables {
    pub w: Vec<f64>,
    pub rows: Vec<u32>,
    pub zero: Vec<u32>,
    pub n_index: Vec<u64>,
}

impl Tables {
    fn new(slots: usize, index_slots: usize) -> Tables {
        Tables {
            w: vec![0.0; slots],
            rows: vec![0; slots],
            zero: vec![0; slots],
            n_index: vec![0; index_slots],
        }
    }

    fn add(&mut self, other: &Tables) {
        self.w.iter_mut().zip(&other.w).for_each(|(x, y)| *x += y);
        self.rows
            .iter_mut()
            .zip(&other.rows)
            .for_each(|(x, y)| *x += y);
        self.zero
            .iter_mut()
            .zip(&other.zero)
            .for_each(|(x, y)| *x += y);
        self.n_index
            .iter_mut()
            .zip(&other.n_index)
            .for_each(|(x, y)| *x += y);
    }
}

/// Leaf totals from the compact answers: per domain of the leaf, `W_c` per (item, level), then
/// the linearised totals as `Σ_c W_c · coefficient`.
pub(crate) struct CompactFill<'a> {
    pub compact: &'a Compact,
    /// Domain of every row in design order.
    pub dom: &'a [u32],
    pub n_dom: usize,
    /// Per (domain, item, level): `(v_c − ȳ) / N̂` and `(s_c − p) / N̂`.
    mean_coef: Vec<f64>,
    share_coef: Vec<f64>,
    /// Per (domain, ratio): per (item, level) `a_k (s_k(c) − R) / X̂`, items of the ratio only.
    ratio_coef: Vec<f64>,
    /// The items of every ratio.
    ratio_items: Vec<Vec<usize>>,
    ratio_offsets: Vec<usize>,
    ratio_len: usize,
}

impl<'a> CompactFill<'a> {
    /// The coefficients of every (domain, item, level) from the centres.
    pub(crate) fn new(
        compact: &'a Compact,
        dom: &'a [u32],
        n_dom: usize,
        centres: &Centres,
        thresholds: &[f64],
        ratios: &[Vec<(usize, f64)>],
    ) -> CompactFill<'a> {
        let (k, width) = (compact.k, compact.width);
        let mut mean_coef = vec![0.0; n_dom * k * width];
        let mut share_coef = vec![0.0; n_dom * k * width];
        for d in 0..n_dom {
            for (kk, (levels, &thr)) in compact.levels.iter().zip(thresholds).enumerate() {
                let slot = d * k + kk;
                let scale = centres.scale[slot];
                let base = slot * width;
                for (c, &v) in levels.iter().enumerate() {
                    let s = if v >= thr { 1.0 } else { 0.0 };
                    mean_coef[base + c] = (v - centres.mean[slot]) * scale;
                    share_coef[base + c] = (s - centres.share[slot]) * scale;
                }
            }
        }
        let mut ratio_offsets = Vec::with_capacity(ratios.len());
        let mut ratio_len = 0;
        for r in ratios {
            ratio_offsets.push(ratio_len);
            ratio_len += r.len() * width;
        }
        let q_all = ratios.len();
        let mut ratio_coef = vec![0.0; n_dom * ratio_len];
        for d in 0..n_dom {
            for (q, ratio) in ratios.iter().enumerate() {
                let slot = d * q_all + q;
                let (rs, big_r) = (centres.ratio_scale[slot], centres.ratio[slot]);
                let base = d * ratio_len + ratio_offsets[q];
                for (j, &(kk, a)) in ratio.iter().enumerate() {
                    for (c, &v) in compact.levels[kk].iter().enumerate() {
                        let s = if v >= thresholds[kk] { 1.0 } else { 0.0 };
                        ratio_coef[base + j * width + c] = a * rs * (s - big_r);
                    }
                }
            }
        }
        CompactFill {
            compact,
            dom,
            n_dom,
            mean_coef,
            share_coef,
            ratio_coef,
            ratio_items: ratios
                .iter()
                .map(|r| r.iter().map(|&(kk, _)| kk).collect())
                .collect(),
            ratio_offsets,
            ratio_len,
        }
    }
}

/// Working memory of a [`CompactFill`] walk: the leaf's tables, one per domain present.
pub(crate) struct LeafTables {
    slot_of: Vec<u32>,
    domains: Vec<u32>,
    w: Vec<f64>,
    valid: Vec<u32>,
    rows: Vec<u32>,
}

impl LeafFill for CompactFill<'_> {
    type Scratch = LeafTables;

    fn scratch(&self) -> LeafTables {
        LeafTables {
            slot_of: vec![u32::MAX; self.n_dom],
            domains: Vec::new(),
            w: Vec::new(),
            valid: Vec::new(),
            rows: Vec::new(),
        }
    }

    fn fill(
        &self,
        t: &mut LeafTables,
        rows: std::ops::Range<usize>,
        acc: &mut Acc,
        _out: &mut Out,
        dims: &Dims,
    ) {
        let cp = self.compact;
        let (k, width) = (cp.k, cp.width);
        let stride = k * width;
        for p in rows {
            let d = self.dom[p];
            if d == Domains::OUTSIDE {
                continue;
            }
            let mut s = t.slot_of[d as usize];
            if s == u32::MAX {
                s = t.domains.len() as u32;
                t.slot_of[d as usize] = s;
                t.domains.push(d);
                t.w.resize(t.w.len() + stride, 0.0);
                t.rows.push(0);
                if dims.presence {
                    t.valid.resize(t.valid.len() + stride, 0);
                }
            }
            let s = s as usize;
            let w = cp.weights[p];
            let row = &cp.codes[p * k..(p + 1) * k];
            let tab = &mut t.w[s * stride..(s + 1) * stride];
            for (kk, &c) in row.iter().enumerate() {
                tab[kk * width + c as usize] += w;
            }
            t.rows[s] += 1;
            if dims.presence {
                let cnt = &mut t.valid[s * stride..(s + 1) * stride];
                for (kk, &c) in row.iter().enumerate() {
                    cnt[kk * width + c as usize] += 1;
                }
            }
        }
        let levels = width - 1;
        let j_all = dims.j;
        let r_all = dims.r;
        for (s, &d) in t.domains.iter().enumerate() {
            let d = d as usize;
            acc.touch(d);
            let tab = &t.w[s * stride..(s + 1) * stride];
            let coef = d * stride;
            let base_v = d * j_all;
            for kk in 0..k {
                let wk = &tab[kk * width..kk * width + levels];
                let m = &self.mean_coef[coef + kk * width..coef + kk * width + levels];
                let sh = &self.share_coef[coef + kk * width..coef + kk * width + levels];
                let tm: f64 = wk.iter().zip(m).map(|(w, c)| w * c).sum();
                let ts: f64 = wk.iter().zip(sh).map(|(w, c)| w * c).sum();
                acc.sum[base_v + kk] += tm;
                acc.sum[base_v + k + kk] += ts;
            }
            for (q, items) in self.ratio_items.iter().enumerate() {
                let base = d * self.ratio_len + self.ratio_offsets[q];
                let mut z = 0.0;
                for (j, &kk) in items.iter().enumerate() {
                    let wk = &tab[kk * width..kk * width + levels];
                    let rc = &self.ratio_coef[base + j * width..base + j * width + levels];
                    z += wk.iter().zip(rc).map(|(w, c)| w * c).sum::<f64>();
                }
                acc.sum[base_v + 2 * k + q] += z;
            }
            if dims.presence {
                let cnt = &t.valid[s * stride..(s + 1) * stride];
                for kk in 0..k {
                    let valid: u32 = cnt[kk * width..kk * width + levels].iter().sum();
                    acc.cnt[base_v + kk] += valid;
                    acc.cnt[base_v + k + kk] += valid;
                }
                for r in 2 * k..j_all {
                    acc.cnt[base_v + r] += t.rows[s];
                }
            }
            t.slot_of[d] = u32::MAX;
        }
        let _ = r_all;
        t.domains.clear();
        t.w.clear();
        t.valid.clear();
        t.rows.clear();
    }
}

#[cfg(test)]
mod tests {
    //! The fast path against the row-by-row path on random designs.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::Compact;
    use crate::calibration::{Calibration, Margin};
    use crate::design::{Design, DesignSpec, LonelyPsu, Stage};
    use crate::estimate::{Domains, EstimateOptions, Estimator, IndexKind, IndexSpec, Item};
    use crate::factor::Factor;
    use crate::intervals::CiMethod;

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        }
        fn below(&mut self, n: usize) -> usize {
            ((self.next() * n as f64) as usize).min(n - 1)
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

    /// A random design: strata or none, one or two stages with or without fpc, weights with
    /// some zeros, a lonely-PSU option, sometimes post-stratified or raked.
    fn design(rng: &mut Rng, n: usize, case: u64) -> Option<Design> {
        let n_strata = 1 + rng.below(5);
        let stratum: Vec<usize> = (0..n).map(|_| rng.below(n_strata)).collect();
        let kind = rng.below(4);
        let lonely = [
            LonelyPsu::Remove,
            LonelyPsu::Certainty,
            LonelyPsu::Adjust,
            LonelyPsu::Average,
            LonelyPsu::Fail,
        ][rng.below(5)];
        let per = 1 + rng.below(6);
        let psu: Vec<usize> = (0..n).map(|_| rng.below(per)).collect();
        let ssu: Vec<usize> = (0..n).map(|_| rng.below(3)).collect();
        let label = |v: &[usize], prefix: &str| {
            Factor::from_labels(v.iter().map(|x| format!("{prefix}{x}")))
        };
        let fpc1: Vec<f64> = stratum.iter().map(|&h| 40.0 + 7.0 * h as f64).collect();
        let fpc2: Vec<f64> = (0..n).map(|_| 0.5).collect();
        let stages = match kind {
            0 => vec![],
            1 => vec![Stage {
                clusters: Some(label(&psu, "p")),
                fpc: None,
            }],
            2 => vec![Stage {
                clusters: Some(label(&psu, "p")),
                fpc: Some(fpc1),
            }],
            _ => vec![
                Stage {
                    clusters: Some(label(&psu, "p")),
                    fpc: Some(fpc1),
                },
                Stage {
                    clusters: Some(label(&ssu, "s")),
                    fpc: Some(fpc2),
                },
            ],
        };
        let weights: Vec<f64> = (0..n)
            .map(|_| {
                if rng.next() < 0.03 {
                    0.0
                } else {
                    1.0 + 20.0 * rng.next()
                }
            })
            .collect();
        let strata = (n_strata > 1 || rng.next() < 0.5).then(|| label(&stratum, "h"));
        let design = Design::new(DesignSpec {
            weights,
            strata,
            stages,
            lonely_psu: lonely,
        })
        .ok()?;
        match case % 7 {
            0 => {
                let sex: Vec<usize> = (0..n).map(|_| rng.below(2)).collect();
                let margin = Margin {
                    variable: "sex".into(),
                    values: label(&sex, ""),
                    totals: vec![("0".into(), 600.0), ("1".into(), 700.0)],
                };
                design.calibrate(&Calibration::new(vec![margin])).ok()
            }
            1 => {
                let a: Vec<usize> = (0..n).map(|_| rng.below(2)).collect();
                let b: Vec<usize> = (0..n).map(|_| rng.below(3)).collect();
                let margins = vec![
                    Margin {
                        variable: "a".into(),
                        values: label(&a, ""),
                        totals: vec![("0".into(), 500.0), ("1".into(), 700.0)],
                    },
                    Margin {
                        variable: "b".into(),
                        values: label(&b, ""),
                        totals: vec![
                            ("0".into(), 300.0),
                            ("1".into(), 400.0),
                            ("2".into(), 500.0),
                        ],
                    },
                ];
                design.calibrate(&Calibration::new(margins)).ok()
            }
            _ => Some(design),
        }
    }

    #[test]
    fn the_fast_path_agrees_with_the_row_by_row_path() {
        let mut fast_cases = 0;
        for case in 0..400u64 {
            let mut rng = Rng(case + 1);
            let n = 5 + rng.below(300);
            let Some(design) = design(&mut rng, n, case) else {
                continue;
            };
            let missing = 0.5 * rng.next();
            let answer = |rng: &mut Rng, values: &[f64]| {
                if rng.next() < missing {
                    f64::NAN
                } else {
                    values[rng.below(values.len())]
                }
            };
            let scale = [1.0, 2.0, 3.0, 4.0, 5.0];
            let mut items: Vec<Item> = (0..3)
                .map(|k| {
                    let v = (0..n).map(|_| answer(&mut rng, &scale)).collect();
                    Item::new(format!("q{k}"), v).with_scale(1.0, 5.0)
                })
                .collect();
            items.push(Item::new(
                "yes",
                (0..n).map(|_| answer(&mut rng, &[0.0, 1.0])).collect(),
            ));
            items.push(
                Item::new(
                    "odd",
                    (0..n)
                        .map(|_| answer(&mut rng, &[-2.5, 0.25, 7.0, 100.0]))
                        .collect(),
                )
                .with_satisfied_min(0.25),
            );
            // Sometimes an item with one answer only, or none at all.
            let constant = if case % 5 == 0 { f64::NAN } else { 3.0 };
            items.push(Item::new(
                "same",
                (0..n)
                    .map(|_| if rng.next() < 0.5 { constant } else { f64::NAN })
                    .collect(),
            ));
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
            let ci = [
                CiMethod::Logit,
                CiMethod::Wilson,
                CiMethod::Beta,
                CiMethod::T,
            ][rng.below(4)];
            let options = EstimateOptions { ci, level: 0.95 };
            let estimator = Estimator::new(&design, &items, &indices, options).unwrap();
            // Domains: a few, some empty, some rows outside every domain.
            let n_dom = 1 + rng.below(6);
            let codes: Vec<u32> = (0..n)
                .map(|_| {
                    if rng.next() < 0.1 {
                        Domains::OUTSIDE
                    } else {
                        rng.below(n_dom) as u32
                    }
                })
                .collect();
            let labels = (0..n_dom + 1).map(|d| format!("D{d}")).collect();
            let domains = Domains::new(codes, labels).unwrap();
            let columns: Vec<&[f64]> = items.iter().map(|i| i.values.as_slice()).collect();
            if Compact::build(&design, &columns).is_some() {
                fast_cases += 1;
            }
            let fast = estimator.estimate_with(&domains, true);
            let rows = estimator.estimate_with(&domains, false);
            let (fast, rows) = match (fast, rows) {
                (Ok(f), Ok(r)) => (f, r),
                (Err(f), Err(r)) => {
                    assert_eq!(f.to_string(), r.to_string(), "case {case}");
                    continue;
                }
                (f, r) => panic!("case {case}: {f:?} vs {r:?}"),
            };
            same_estimates(&fast, &rows, case);
        }
        assert!(fast_cases > 100, "only {fast_cases} cases on the fast path");
    }

    fn same_estimates(
        fast: &[crate::estimate::Estimate],
        rows: &[crate::estimate::Estimate],
        case: u64,
    ) {
        {
            assert_eq!(fast.len(), rows.len(), "case {case}");
            for (f, r) in fast.iter().zip(rows) {
                let what = format!("{} {} {:?}", f.domain, f.item, f.statistic);
                assert_eq!(
                    (&f.domain, &f.item, f.statistic, f.n, f.df),
                    (&r.domain, &r.item, r.statistic, r.n, r.df),
                    "case {case}"
                );
                close(f.estimate, r.estimate, &format!("{what} estimate"), case);
                close(f.se, r.se, &format!("{what} se"), case);
                close(f.ci_low, r.ci_low, &format!("{what} ci_low"), case);
                close(f.ci_high, r.ci_high, &format!("{what} ci_high"), case);
                close(f.deff, r.deff, &format!("{what} deff"), case);
                close(f.n_eff, r.n_eff, &format!("{what} n_eff"), case);
            }
        }
    }

    /// The fast path prepared from the reader's byte codes (levels `0..=max`, some unused)
    /// against the row-by-row path.
    #[test]
    fn the_fast_path_from_the_readers_codes_agrees_with_the_row_by_row_path() {
        let mut fast_cases = 0;
        for case in 0..200u64 {
            let mut rng = Rng(case + 1000);
            let n = 5 + rng.below(300);
            let Some(design) = design(&mut rng, n, case) else {
                continue;
            };
            let max = [1u8, 5, 10, 15][rng.below(4)];
            let k = 1 + rng.below(4);
            let raw: Vec<u8> = (0..n * k)
                .map(|_| {
                    if rng.next() < 0.2 {
                        super::RAW_MISSING
                    } else {
                        rng.below(usize::from(max) + 1) as u8
                    }
                })
                .collect();
            let items: Vec<Item> = (0..k)
                .map(|kk| {
                    let values = (0..n)
                        .map(|i| match raw[i * k + kk] {
                            super::RAW_MISSING => f64::NAN,
                            c => f64::from(c),
                        })
                        .collect();
                    Item::new(format!("q{kk}"), values).with_satisfied_min(f64::from(max) / 2.0)
                })
                .collect();
            let names: Vec<(String, f64)> = (0..k).map(|kk| (format!("q{kk}"), 1.0)).collect();
            let indices = vec![
                IndexSpec::shares("idx", names.clone()),
                IndexSpec::shares("pool", names).with_kind(IndexKind::PooledShare),
            ];
            let options = EstimateOptions::default();
            let n_dom = 1 + rng.below(4);
            let codes: Vec<u32> = (0..n).map(|_| rng.below(n_dom) as u32).collect();
            let labels = (0..n_dom).map(|d| format!("D{d}")).collect();
            let domains = Domains::new(codes, labels).unwrap();
            let plain = Estimator::new(&design, &items, &indices, options).unwrap();
            // The codes alone: the items without their answers as numbers.
            let bare: Vec<Item> = items
                .iter()
                .map(|i| Item {
                    values: Vec::new(),
                    ..i.clone()
                })
                .collect();
            let coded = Estimator::from_answer_codes(&design, &bare, &indices, options, &raw, max);
            if !Estimator::answer_codes_fit(&design, k, max, n_dom) {
                assert!(coded.is_err(), "case {case}");
                continue;
            }
            fast_cases += 1;
            let coded = coded.unwrap();
            match (
                coded.estimate(&domains),
                plain.estimate_with(&domains, false),
            ) {
                (Ok(f), Ok(r)) => same_estimates(&f, &r, case),
                (Err(f), Err(r)) => assert_eq!(f.to_string(), r.to_string(), "case {case}"),
                (f, r) => panic!("case {case}: {f:?} vs {r:?}"),
            }
            // What needs the answers as numbers is refused, not computed from empty columns.
            assert!(coded.estimate_with(&domains, false).is_err(), "case {case}");
            if n_dom > 1 {
                assert!(
                    coded.difference(&domains, "D0", "D1").is_err(),
                    "case {case}"
                );
            }
        }
        assert!(fast_cases > 50, "only {fast_cases} cases on the fast path");
    }
}
