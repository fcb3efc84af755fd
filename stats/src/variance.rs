//! The single pass that computes Taylor-linearised variances for every (domain, statistic) pair
//! at once (R: `svyrecvar` applied to the influence functions of `svymean` / `svyratio`).
//!
//! Rows are visited in design order (stratum, PSU, SSU, …). For every row in a domain the
//! linearised values of all statistics are added to the totals of the current leaf cluster;
//! when a cluster (or stratum) ends, its totals are folded into its parent as `Σ t` and `Σ t²`,
//! and the parent's contribution
//!
//! ```text
//! mult · (1 − f) · n/(n − 1) · (Σ_i t_i² − (Σ_i t_i)² / n)
//! ```
//!
//! is added, where `n` counts all units the design has in the parent (units without domain rows
//! have `t_i = 0`, exactly as R pads them in `onestrat`). Nothing of size #domains × #PSUs is
//! ever held: only the domains present in the current cluster are touched.
//!
//! For calibrated designs the residual variable is `x − Σ_c β_c u_c` (see `calibration.rs`).
//! Its variance expands into the plain variance of `x`, a cross term `−2 β·g` and a quadratic
//! form `β' M β`, where `g = Σ scale · (Σ_i t_i U_i − T U / n)` is accumulated in the same pass
//! from the per-cluster cell totals `U_i = Σ_{rows} u_c`, and `M = Σ scale · (Σ_i U_i U_i' −
//! U U' / n)` is the same for every domain. `β` comes from the cell sums of `x·ρ`, also
//! accumulated in the pass, by replaying R's projections on a vector of a few cells.

use crate::design::{Design, LonelyPsu, NodeInfo, NodeKind};

/// `(y_i, x_i) = (Σ_k a_k s_ik, Σ_k a_k o_ik)` of a pooled ratio on row `i`.
#[inline]
pub(crate) fn ratio_row(ratio: &[(usize, f64)], columns: &[(&[f64], f64)], i: usize) -> (f64, f64) {
    let (mut y, mut x) = (0.0, 0.0);
    for &(k, a) in ratio {
        let (col, thr) = columns[k];
        let v = col[i];
        if !v.is_nan() {
            x += a;
            if v >= thr {
                y += a;
            }
        }
    }
    (y, x)
}

/// The statistics computed per domain. Row-level targets (each with its own linearised
/// variable): for every item its mean (`0..K`) and its "satisfied" share (`K..2K`), then the
/// pooled ratios (`2K..2K + Q`); then the composite indices, linear combinations of row-level
/// targets.
pub(crate) struct Targets<'a> {
    /// Item answers, NaN = missing.
    pub columns: Vec<&'a [f64]>,
    /// "Satisfied" means `answer ≥ threshold`.
    pub thresholds: Vec<f64>,
    /// Pooled ratios as `(item, normalised weight)` lists.
    pub ratios: &'a [Vec<(usize, f64)>],
    /// Indices as `(row-level target, coefficient)` lists.
    pub indices: &'a [Vec<(usize, f64)>],
}

impl Targets<'_> {
    fn k(&self) -> usize {
        self.columns.len()
    }
    /// Row-level targets: means, shares and pooled ratios.
    pub fn r(&self) -> usize {
        2 * self.columns.len() + self.ratios.len()
    }
    /// All targets per domain.
    pub fn j(&self) -> usize {
        self.r() + self.indices.len()
    }
}

/// Point-estimate sums per (domain, item), from one pass over the rows.
///
/// Answers are summed shifted by the first answer `c` of the (domain, item), so that
/// `Σ w (y − ȳ)² = Σ w (y − c)² − (Σ w (y − c))² / Σ w` loses no precision to cancellation.
pub(crate) struct Sums {
    pub(crate) n: Vec<u64>,
    pub(crate) total: Vec<f64>,
    /// `Σ w (y − c)`.
    pub(crate) sum_dy: Vec<f64>,
    /// `Σ w (y − c)²`.
    pub(crate) sum_dy2: Vec<f64>,
    /// `Σ w` over satisfied answers.
    pub(crate) sat: Vec<f64>,
    /// `Σ w` over the other answers.
    pub(crate) unsat: Vec<f64>,
    /// The shift `c`: the first valid answer. When every answer equals it the mean is that
    /// answer exactly and its linearised variable exactly 0 (R gets the same up to rounding
    /// noise of order 1e−16).
    pub(crate) first: Vec<f64>,
    pub(crate) varies: Vec<bool>,
    /// Respondents with ≥ 1 answer among each index's items, per (domain, index).
    pub(crate) n_index: Vec<u64>,
    /// `Σ w y` and `Σ w x` of every pooled ratio, per (domain, ratio).
    pub(crate) ratio_y: Vec<f64>,
    pub(crate) ratio_x: Vec<f64>,
}

impl Sums {
    /// `ȳ = Σ w y / Σ w`, exactly the common answer when all answers are equal.
    pub(crate) fn mean(&self, slot: usize) -> f64 {
        if self.varies[slot] {
            self.first[slot] + self.sum_dy[slot] / self.total[slot]
        } else {
            self.first[slot]
        }
    }
    /// `Σ w (y − ȳ)²`.
    pub(crate) fn ss_y(&self, slot: usize) -> f64 {
        if self.varies[slot] {
            (self.sum_dy2[slot] - self.sum_dy[slot] * self.sum_dy[slot] / self.total[slot]).max(0.0)
        } else {
            0.0
        }
    }
    /// `p = Σ w s / Σ w`.
    pub(crate) fn share(&self, slot: usize) -> f64 {
        self.sat[slot] / self.total[slot]
    }
    /// `Σ w (s − p)² = S (N − S) / N`, with `N − S` summed directly.
    pub(crate) fn ss_s(&self, slot: usize) -> f64 {
        self.sat[slot] * self.unsat[slot] / self.total[slot]
    }
}

/// The point estimates that centre the linearised variables, per (source domain, item) and
/// per (source domain, pooled ratio).
pub(crate) struct Centres {
    pub mean: Vec<f64>,
    pub share: Vec<f64>,
    /// `1 / N̂` of the (domain, item), 0 when not estimable.
    pub scale: Vec<f64>,
    /// `R = Ŷ / X̂` of the (domain, ratio).
    pub ratio: Vec<f64>,
    /// `1 / X̂` of the (domain, ratio), 0 when not estimable.
    pub ratio_scale: Vec<f64>,
}

impl Centres {
    /// The point estimate of row-level target `r` in source domain `d`.
    pub fn target(&self, r: usize, d: usize, k: usize, q: usize) -> f64 {
        if r < k {
            self.mean[d * k + r]
        } else if r < 2 * k {
            self.share[d * k + r - k]
        } else {
            self.ratio[d * q + r - 2 * k]
        }
    }
}

/// Where a row goes: `(output domain, source domain for the centres, sign)`.
pub(crate) trait RowMap: Sync {
    fn map(&self, row: usize) -> Option<(usize, usize, f64)>;
}

/// Accumulators of one level of the hierarchy (for the node currently open at that level).
pub(crate) struct Acc {
    pub(crate) sum: Vec<f64>,
    sumsq: Vec<f64>,
    pub(crate) cnt: Vec<u32>,
    pub(crate) touched: Vec<u32>,
    flag: Vec<bool>,
    u: Vec<f64>,
    u_nz: Vec<u32>,
    u_flag: Vec<bool>,
    uu: Vec<f64>,
    tu: Vec<f64>,
}

impl Acc {
    fn new(v: usize, j: usize, r: usize, c: usize, leaf: bool, presence: bool) -> Acc {
        let cal = c > 0;
        Acc {
            sum: vec![0.0; v * j],
            sumsq: if leaf { Vec::new() } else { vec![0.0; v * j] },
            cnt: if presence { vec![0; v * j] } else { Vec::new() },
            touched: Vec::new(),
            flag: vec![false; v],
            u: vec![0.0; c],
            u_nz: Vec::new(),
            u_flag: vec![false; c],
            uu: if cal && !leaf {
                vec![0.0; c * c]
            } else {
                Vec::new()
            },
            tu: if cal && !leaf {
                vec![0.0; v * r * c]
            } else {
                Vec::new()
            },
        }
    }

    #[inline]
    pub(crate) fn touch(&mut self, v: usize) {
        if !self.flag[v] {
            self.flag[v] = true;
            self.touched.push(v as u32);
        }
    }

    #[inline]
    pub(crate) fn add_u(&mut self, c: usize, x: f64) {
        if !self.u_flag[c] {
            self.u_flag[c] = true;
            self.u_nz.push(c as u32);
        }
        self.u[c] += x;
    }

    fn clear_u(&mut self) {
        for &c in &self.u_nz {
            self.u[c as usize] = 0.0;
            self.u_flag[c as usize] = false;
        }
        self.u_nz.clear();
    }
}

/// Design-wide results of the pass.
pub(crate) struct Out {
    var: Vec<f64>,
    g: Vec<f64>,
    m: Vec<f64>,
    pub(crate) a: Vec<f64>,
    present: Vec<u32>,
    ok: Vec<u32>,
    poison: Vec<bool>,
}

impl Out {
    fn new(n_vdom: usize, dims: &Dims) -> Out {
        let (j_all, r_all, c_all) = (dims.j, dims.r, dims.c);
        let counts = if dims.presence { n_vdom * j_all } else { 0 };
        Out {
            var: vec![0.0; n_vdom * j_all],
            g: vec![0.0; n_vdom * r_all * c_all],
            m: vec![0.0; c_all * c_all],
            a: vec![0.0; n_vdom * r_all * c_all],
            present: vec![0; counts],
            ok: vec![0; counts],
            poison: vec![false; counts],
        }
    }

    /// Adds the sums of another run of strata.
    fn merge(&mut self, other: Out) {
        let add = |x: &mut [f64], y: &[f64]| x.iter_mut().zip(y).for_each(|(x, y)| *x += y);
        add(&mut self.var, &other.var);
        add(&mut self.g, &other.g);
        add(&mut self.m, &other.m);
        add(&mut self.a, &other.a);
        let count = |x: &mut [u32], y: &[u32]| x.iter_mut().zip(y).for_each(|(x, y)| *x += y);
        count(&mut self.present, &other.present);
        count(&mut self.ok, &other.ok);
        self.poison
            .iter_mut()
            .zip(&other.poison)
            .for_each(|(x, y)| *x |= y);
    }
}

pub(crate) struct Dims {
    pub(crate) j: usize,
    pub(crate) r: usize,
    pub(crate) c: usize,
    pub(crate) presence: bool,
}

/// Fills the totals of one leaf cluster (rows `order[a..b]`) into the leaf accumulator: the
/// row-level targets `0..R` of every touched output domain (the index totals are added by
/// the walk), the presence counts when `dims.presence`, and the calibration sums `out.a`.
pub(crate) trait LeafFill: Sync {
    /// Working memory of one walk.
    type Scratch;
    fn scratch(&self) -> Self::Scratch;
    fn fill(
        &self,
        scratch: &mut Self::Scratch,
        rows: std::ops::Range<usize>,
        acc: &mut Acc,
        out: &mut Out,
        dims: &Dims,
    );
}

/// The leaf totals from the rows themselves: every row's linearised values.
struct RowFill<'a, M> {
    design: &'a Design,
    targets: &'a Targets<'a>,
    centres: &'a Centres,
    map: &'a M,
    columns: Vec<(&'a [f64], f64)>,
}

impl<M: RowMap> LeafFill for RowFill<'_, M> {
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
        let (targets, centres, map) = (self.targets, self.centres, self.map);
        let k = targets.k();
        let q_all = targets.ratios.len();
        let (j_all, r_all, c_all) = (dims.j, dims.r, dims.c);
        let cal = self.design.calibration.as_ref();
        let weights = &self.design.weights;
        for &row in &self.design.order[rows] {
            let i = row as usize;
            if let Some(cal) = cal {
                for p in &cal.projections {
                    acc.add_u(p.cell[i] as usize, p.u[i]);
                }
            }
            let Some((v, d, sign)) = map.map(i) else {
                continue;
            };
            acc.touch(v);
            let w = weights[i] * sign;
            let base_v = v * j_all;
            let base_d = d * k;
            for (kk, col) in targets.columns.iter().enumerate() {
                let y = col[i];
                if y.is_nan() {
                    continue;
                }
                let ws = w * centres.scale[base_d + kk];
                let zm = (y - centres.mean[base_d + kk]) * ws;
                let s = if y >= targets.thresholds[kk] {
                    1.0
                } else {
                    0.0
                };
                let zs = (s - centres.share[base_d + kk]) * ws;
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
                        let c = p.cell[i] as usize;
                        out.a[am + c] += zm * p.rho[i];
                        out.a[as_ + c] += zs * p.rho[i];
                    }
                }
            }
            // Pooled ratios: z = w (y − R x) / X̂ on rows with an answer.
            for (q, ratio) in targets.ratios.iter().enumerate() {
                // Every row of the domain counts as present (R: the ratio on
                // design[domain, ]), answered or not.
                let r = 2 * k + q;
                if dims.presence {
                    acc.cnt[base_v + r] += 1;
                }
                let (y, x) = ratio_row(ratio, &self.columns, i);
                if x == 0.0 {
                    continue;
                }
                let slot = d * q_all + q;
                let z = w * centres.ratio_scale[slot] * (y - centres.ratio[slot] * x);
                acc.sum[base_v + r] += z;
                if let Some(cal) = cal {
                    let ar = (v * r_all + r) * c_all;
                    for p in &cal.projections {
                        out.a[ar + p.cell[i] as usize] += z * p.rho[i];
                    }
                }
            }
            if dims.presence {
                for ix in 0..targets.indices.len() {
                    acc.cnt[base_v + r_all + ix] += 1;
                }
            }
        }
    }
}

/// Computes the variance of every target in every output domain: a `n_vdom × J` row-major
/// vector (NaN where R would give NaN, e.g. `average` with no stratum of ≥ 2 PSUs).
pub(crate) fn variances<M: RowMap>(
    design: &Design,
    targets: &Targets<'_>,
    centres: &Centres,
    map: &M,
    n_vdom: usize,
) -> Vec<f64> {
    let columns: Vec<(&[f64], f64)> = targets
        .columns
        .iter()
        .zip(&targets.thresholds)
        .map(|(c, t)| (*c, *t))
        .collect();
    let fill = RowFill {
        design,
        targets,
        centres,
        map,
        columns,
    };
    variances_with(design, targets, &fill, n_vdom)
}

/// Strata are independent: the walk runs on chunks of whole strata, each on its own thread,
/// and the chunks' sums are added in chunk order. The chunks depend only on the design (not on
/// the number of threads), so the results are the same on every machine.
const WALK_CHUNKS: usize = 8;

/// Memory the runs' sums may take together, about.
const RUN_MEMORY: usize = 64 << 20;

/// The variances with leaf totals from `fill` (see [`variances`]).
pub(crate) fn variances_with<F: LeafFill>(
    design: &Design,
    targets: &Targets<'_>,
    fill: &F,
    n_vdom: usize,
) -> Vec<f64> {
    use rayon::prelude::*;
    let cal = design.calibration.as_ref();
    let dims = Dims {
        j: targets.j(),
        r: targets.r(),
        c: cal.map_or(0, |c| c.n_cells),
        presence: design.lonely_psu == LonelyPsu::Average,
    };
    // Each run holds its own n_vdom × J sums (and its accumulators while it runs): fewer runs
    // when they are large, so that many domains do not multiply the memory.
    let per_run = n_vdom * (dims.j + dims.r * dims.c) * 8;
    let runs = (RUN_MEMORY / per_run.max(1)).clamp(1, WALK_CHUNKS);
    let chunks = stratum_chunks(design, runs);

    let mut parts: Vec<Out> = chunks
        .par_windows(2)
        .map(|w| walk(design, targets, fill, &dims, n_vdom, w[0]..w[1]))
        .collect();
    let mut out = parts.remove(0);
    for part in parts {
        out.merge(part);
    }
    finish(design, targets, &dims, out, n_vdom)
}

/// Leaf-index boundaries of `runs` (or fewer) runs of whole strata with about the same number
/// of rows.
fn stratum_chunks(design: &Design, runs: usize) -> Vec<usize> {
    let depth = design.levels.len() - 1;
    let leaf_starts = &design.levels[depth].starts;
    let strata = &design.levels[0].starts;
    let n = design.n_rows() as u64;
    let mut bounds = vec![0usize];
    let mut next = 1u64;
    for &s in &strata[1..strata.len() - 1] {
        if u64::from(s) * runs as u64 >= next * n {
            // Every stratum starts a leaf.
            let leaf = leaf_starts.partition_point(|&x| x < s);
            bounds.push(leaf);
            while next * n <= u64::from(s) * runs as u64 {
                next += 1;
            }
        }
    }
    bounds.push(leaf_starts.len() - 1);
    bounds
}

/// The pass over the leaves `leaves` (whole strata): totals folded up the hierarchy and the
/// contributions of every closed node.
fn walk<F: LeafFill>(
    design: &Design,
    targets: &Targets<'_>,
    fill: &F,
    dims: &Dims,
    n_vdom: usize,
    leaves: std::ops::Range<usize>,
) -> Out {
    let depth = design.levels.len() - 1;
    let (j_all, r_all, c_all) = (dims.j, dims.r, dims.c);
    let mut accs: Vec<Acc> = (0..=depth)
        .map(|l| Acc::new(n_vdom, j_all, r_all, c_all, l == depth, dims.presence))
        .collect();
    let mut out = Out::new(n_vdom, dims);
    let leaf_starts = &design.levels[depth].starts;
    // The node open at every level when the first leaf starts.
    let first = leaf_starts[leaves.start];
    let mut cur: Vec<usize> = (0..depth)
        .map(|l| design.levels[l].starts.partition_point(|&x| x < first))
        .collect();
    let mut scratch = fill.scratch();
    for leaf in leaves {
        let (a, b) = (leaf_starts[leaf] as usize, leaf_starts[leaf + 1] as usize);
        {
            let acc = &mut accs[depth];
            fill.fill(&mut scratch, a..b, acc, &mut out, dims);
            // Index totals of the leaf: linear combinations of the row-level totals.
            if !targets.indices.is_empty() {
                for &v in &acc.touched {
                    let base = v as usize * j_all;
                    for (ix, lin) in targets.indices.iter().enumerate() {
                        let t: f64 = lin.iter().map(|&(r, a)| a * acc.sum[base + r]).sum();
                        acc.sum[base + r_all + ix] = t;
                    }
                }
            }
        }
        push_up(&mut accs, depth, dims);
        for level in (0..depth).rev() {
            let node = cur[level];
            let lv = &design.levels[level];
            if lv.starts[node + 1] as usize != b {
                break;
            }
            let info = lv.nodes[node];
            contribute(
                &mut accs[level],
                &info,
                level,
                design.lonely_psu,
                dims,
                &mut out,
            );
            if level > 0 {
                push_up(&mut accs, level, dims);
            } else {
                let acc = &mut accs[0];
                for &v in &acc.touched {
                    let base = v as usize * j_all;
                    acc.sum[base..base + j_all]
                        .iter_mut()
                        .for_each(|x| *x = 0.0);
                    if dims.presence {
                        acc.cnt[base..base + j_all].iter_mut().for_each(|x| *x = 0);
                    }
                    acc.flag[v as usize] = false;
                }
                acc.touched.clear();
                acc.clear_u();
            }
            cur[level] += 1;
        }
    }
    let _ = c_all;
    out
}

/// Folds the totals of the node just closed at `level` into its parent and resets them.
fn push_up(accs: &mut [Acc], level: usize, dims: &Dims) {
    let (lo, hi) = accs.split_at_mut(level);
    let (Some(parent), Some(child)) = (lo.last_mut(), hi.first_mut()) else {
        return;
    };
    let (j_all, r_all, c_all) = (dims.j, dims.r, dims.c);
    for &v in &child.touched {
        let v = v as usize;
        parent.touch(v);
        let base = v * j_all;
        if c_all > 0 {
            for r in 0..r_all {
                let t = child.sum[base + r];
                if t != 0.0 {
                    let tb = (v * r_all + r) * c_all;
                    for &c in &child.u_nz {
                        parent.tu[tb + c as usize] += t * child.u[c as usize];
                    }
                }
            }
        }
        for jj in 0..j_all {
            let t = child.sum[base + jj];
            parent.sum[base + jj] += t;
            parent.sumsq[base + jj] += t * t;
            child.sum[base + jj] = 0.0;
        }
        if dims.presence {
            for jj in 0..j_all {
                parent.cnt[base + jj] += child.cnt[base + jj];
                child.cnt[base + jj] = 0;
            }
        }
        child.flag[v] = false;
    }
    child.touched.clear();
    if c_all > 0 {
        for &c in &child.u_nz {
            let uc = child.u[c as usize];
            parent.add_u(c as usize, uc);
            for &c2 in &child.u_nz {
                parent.uu[c as usize * c_all + c2 as usize] += uc * child.u[c2 as usize];
            }
        }
        child.clear_u();
    }
}

/// Adds the variance contribution of the node just closed at `level` (its children are the
/// units of stage `level + 1`), then clears its squares.
fn contribute(
    acc: &mut Acc,
    info: &NodeInfo,
    level: usize,
    lonely: LonelyPsu,
    dims: &Dims,
    out: &mut Out,
) {
    let (j_all, r_all, c_all) = (dims.j, dims.r, dims.c);
    let n = f64::from(info.n_children);
    // (scale, centred) or None when the node adds nothing.
    let how: Option<(f64, bool)> = match info.kind {
        NodeKind::Census => None,
        NodeKind::Normal => Some((info.mult * info.fpc_factor * n / (n - 1.0), true)),
        NodeKind::Lonely => match lonely {
            LonelyPsu::Adjust => Some((info.mult * info.fpc_factor, false)),
            _ => None,
        },
    };
    if dims.presence {
        let is_lonely = info.kind == NodeKind::Lonely;
        for &v in &acc.touched {
            let base = v as usize * j_all;
            for jj in 0..j_all {
                if acc.cnt[base + jj] == 0 {
                    continue;
                }
                if level == 0 {
                    out.present[base + jj] += 1;
                    if !is_lonely {
                        out.ok[base + jj] += 1;
                    }
                } else if is_lonely {
                    out.poison[base + jj] = true;
                }
            }
        }
    }
    if let Some((scale, centred)) = how {
        for &v in &acc.touched {
            let v = v as usize;
            let base = v * j_all;
            for jj in 0..j_all {
                let t = acc.sum[base + jj];
                let q = acc.sumsq[base + jj];
                out.var[base + jj] += scale * if centred { q - t * t / n } else { q };
            }
            if c_all > 0 {
                for r in 0..r_all {
                    let t = acc.sum[base + r];
                    let tb = (v * r_all + r) * c_all;
                    for &c in &acc.u_nz {
                        let c = c as usize;
                        let centre = if centred { t * acc.u[c] / n } else { 0.0 };
                        out.g[tb + c] += scale * (acc.tu[tb + c] - centre);
                    }
                }
            }
        }
        if c_all > 0 {
            for &c in &acc.u_nz {
                let c = c as usize;
                for &c2 in &acc.u_nz {
                    let c2 = c2 as usize;
                    let centre = if centred {
                        acc.u[c] * acc.u[c2] / n
                    } else {
                        0.0
                    };
                    out.m[c * c_all + c2] += scale * (acc.uu[c * c_all + c2] - centre);
                }
            }
        }
    }
    for &v in &acc.touched {
        let base = v as usize * j_all;
        acc.sumsq[base..base + j_all]
            .iter_mut()
            .for_each(|x| *x = 0.0);
        if c_all > 0 {
            let tb = v as usize * r_all * c_all;
            acc.tu[tb..tb + r_all * c_all]
                .iter_mut()
                .for_each(|x| *x = 0.0);
        }
    }
    if c_all > 0 {
        for &c in &acc.u_nz {
            for &c2 in &acc.u_nz {
                acc.uu[c as usize * c_all + c2 as usize] = 0.0;
            }
        }
    }
}

/// Calibration terms, the `average` multiplier, and NaN where R gives NaN.
fn finish(
    design: &Design,
    targets: &Targets<'_>,
    dims: &Dims,
    mut out: Out,
    n_vdom: usize,
) -> Vec<f64> {
    let (j_all, r_all, c_all) = (dims.j, dims.r, dims.c);
    if let Some(cal) = &design.calibration {
        let mut beta = vec![0.0; r_all * c_all];
        let mut beta_ix = vec![0.0; c_all];
        let mut g_ix = vec![0.0; c_all];
        let mut mb = vec![0.0; c_all];
        for v in 0..n_vdom {
            let ab = v * r_all * c_all;
            for r in 0..r_all {
                let (a, b) = (
                    &out.a[ab + r * c_all..ab + (r + 1) * c_all],
                    &mut beta[r * c_all..(r + 1) * c_all],
                );
                cal.solve(a, b);
            }
            // V = V_plain − 2 β·g + β'Mβ. When the calibration explains (almost) all of the
            // variance the three terms cancel; a result below the rounding level of the terms
            // (1e−10 of their size) is a variance that is 0 in exact arithmetic.
            let add = |plain: &mut f64, b: &[f64], g: &[f64], mb: &mut [f64]| {
                for (c, slot) in mb.iter_mut().enumerate() {
                    *slot = out.m[c * c_all..(c + 1) * c_all]
                        .iter()
                        .zip(b)
                        .map(|(m, x)| m * x)
                        .sum();
                }
                let bg: f64 = b.iter().zip(g).map(|(x, y)| x * y).sum();
                let bmb: f64 = b.iter().zip(mb.iter()).map(|(x, y)| x * y).sum();
                let size = plain.abs() + 2.0 * bg.abs() + bmb.abs();
                let total = *plain + bmb - 2.0 * bg;
                *plain = if total.abs() <= 1e-10 * size {
                    0.0
                } else {
                    total
                };
            };
            for r in 0..r_all {
                let b = &beta[r * c_all..(r + 1) * c_all];
                let g = &out.g[ab + r * c_all..ab + (r + 1) * c_all];
                add(&mut out.var[v * j_all + r], b, g, &mut mb);
            }
            for (ix, lin) in targets.indices.iter().enumerate() {
                beta_ix.iter_mut().for_each(|x| *x = 0.0);
                g_ix.iter_mut().for_each(|x| *x = 0.0);
                for &(r, w) in lin {
                    for c in 0..c_all {
                        beta_ix[c] += w * beta[r * c_all + c];
                        g_ix[c] += w * out.g[ab + r * c_all + c];
                    }
                }
                add(
                    &mut out.var[v * j_all + r_all + ix],
                    &beta_ix,
                    &g_ix,
                    &mut mb,
                );
            }
        }
    }
    if dims.presence {
        if design.calibration.is_some() {
            let ok = design.strata_total - design.strata_lonely;
            let mult = design.strata_total as f64 / ok as f64;
            for x in &mut out.var {
                *x = if design.lonely_below_stage1 {
                    f64::NAN
                } else {
                    *x * mult
                };
            }
        } else {
            for (idx, x) in out.var.iter_mut().enumerate() {
                if out.poison[idx] {
                    *x = f64::NAN;
                } else if out.present[idx] > 0 {
                    *x *= f64::from(out.present[idx]) / f64::from(out.ok[idx]);
                }
            }
        }
    }
    out.var
}

#[cfg(test)]
mod tests {
    use super::ratio_row;

    /// A pooled ratio counts each answered item's weight below the line and, when the answer
    /// reaches the item's threshold, above it; a missing answer (NaN) counts in neither.
    #[test]
    fn ratio_row_sums_the_weights_of_answered_and_satisfied_items() {
        let q1 = [5.0, 2.0, f64::NAN];
        let q2 = [3.0, 4.0, 1.0];
        let columns: [(&[f64], f64); 2] = [(&q1, 4.0), (&q2, 3.0)];
        let ratio = [(0, 2.0), (1, 0.5)];
        assert_eq!(ratio_row(&ratio, &columns, 0), (2.5, 2.5));
        assert_eq!(ratio_row(&ratio, &columns, 1), (0.5, 2.5));
        assert_eq!(ratio_row(&ratio, &columns, 2), (0.0, 0.5));
        // Only the items named in the ratio count.
        assert_eq!(ratio_row(&[(1, 1.0)], &columns, 0), (1.0, 1.0));
    }
}
