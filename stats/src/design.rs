//! Sampling designs: weights, strata, clusters per stage, finite population corrections and
//! the treatment of lonely PSUs — R's `svydesign()` and `options(survey.lonely.psu=)`.
//!
//! # Variance of a total (R: `svyrecvar`, `multistage`, `onestage`, `onestrat`)
//!
//! For a linearised variable `x` (one value per row, 0 outside the domain), with `t_hi` the
//! total of `x` over PSU `i` of stratum `h`, `n_h` the number of PSUs the **whole design** has in
//! stratum `h` and `t̄_h = Σ_i t_hi / n_h` (PSUs without domain rows count as `t_hi = 0`):
//!
//! ```text
//! V = Σ_h (1 − f_h) · n_h/(n_h − 1) · Σ_i (t_hi − t̄_h)²
//! ```
//!
//! `f_h = n_h / N_h` when an fpc is given (a value ≥ 1 is the population count `N_h`, a value
//! < 1 the sampling fraction `f_h` itself, so `N_h = n_h / f_h`), otherwise `f_h = 0`
//! (with-replacement, "ultimate cluster" variance). Without a cluster column every row is its
//! own PSU.
//!
//! With several stages and an fpc at stage `s`, the next stage adds, for every sampled unit
//! `i` of stage `s` (R's default `survey.ultimate.cluster = FALSE`):
//!
//! ```text
//! (Π_{r ≤ s} n_r/N_r) · (1 − n_i/N_i) · n_i/(n_i − 1) · Σ_j (t_ij − t̄_i)²
//! ```
//!
//! where `j` runs over the stage-`s+1` clusters of unit `i`. A stage without fpc ends the
//! recursion (R's `fpc = Inf` at that stage gives the same numbers). A unit whose factor
//! `1 − n/N` is below `1e−7` (a census) adds exactly 0, as in `onestrat`.
//!
//! Lonely PSUs (`n_h = 1`) follow [`LonelyPsu`]. Clusters are nested in strata and in the
//! clusters of the previous stage (R's `nest = TRUE`): the same cluster label in two strata names
//! two different clusters.
//!
//! # Degrees of freedom (R: `degf`)
//!
//! `df = #PSUs − #strata`, both counted over rows with weight > 0, for the whole design.

use crate::error::StatsError;
use crate::factor::Factor;

/// What to do with a stratum that has a single PSU — R's `options(survey.lonely.psu=)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LonelyPsu {
    /// Stop with `Stratum (S) has only one PSU at stage 1` (R's default `"fail"`).
    #[default]
    Fail,
    /// The stratum adds nothing to the variance (`"remove"`).
    Remove,
    /// The PSU is taken with certainty and adds nothing (`"certainty"`).
    Certainty,
    /// The PSU total is centred at 0 instead of the stratum mean: the stratum adds
    /// `(1 − f_h) · t_h1²` (`"adjust"`).
    Adjust,
    /// The stratum is dropped and the variance multiplied by `#strata / #strata with ≥ 2 PSUs`,
    /// counting strata that hold rows of the domain (`"average"`). For calibrated designs R keeps
    /// every row in every domain, so all strata of the design are counted.
    Average,
}

/// One sampling stage: its clusters and, optionally, its finite population correction.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stage {
    /// The cluster of each row at this stage; `None` means every row is its own unit (only
    /// allowed for the last stage).
    pub clusters: Option<Factor>,
    /// The fpc of each row at this stage: population size of the stratum (stage 1) or of the
    /// parent cluster (later stages) when ≥ 1, sampling fraction when < 1; `f64::INFINITY` means
    /// sampling with replacement. It must be constant within the stratum / parent cluster.
    pub fpc: Option<Vec<f64>>,
}

/// Everything needed to build a [`Design`] (R: `svydesign(ids=, strata=, weights=, fpc=)`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DesignSpec {
    /// Sampling weight of each row (finite, ≥ 0). Use `vec![1.0; n]` for an unweighted sample.
    pub weights: Vec<f64>,
    /// Stratum of each row; `None` for an unstratified design.
    pub strata: Option<Factor>,
    /// Sampling stages, outermost first. Empty means one stage whose units are the rows.
    pub stages: Vec<Stage>,
    /// Treatment of strata with a single PSU.
    pub lonely_psu: LonelyPsu,
}

/// How a node of the design hierarchy enters the variance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeKind {
    /// At least two sampled units below: centred sum of squares.
    Normal,
    /// `1 − n/N < 1e−7`: adds exactly 0 (R's `if (all(f < 1e-7)) return(0)`).
    Census,
    /// A single sampled unit below (lonely PSU).
    Lonely,
}

/// A stratum (level 0) or a sampled cluster (level ≥ 1) that has units of the next stage below.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct NodeInfo {
    /// Number of units of the next stage the design has in this node (`n_h`).
    pub n_children: u32,
    /// `1 − n/N` (R's `f` in `onestrat`), 1 without fpc.
    pub fpc_factor: f64,
    /// `n/N`, 0 without fpc: the weight of the next stage's contribution.
    pub frac: f64,
    /// Product of `frac` over the ancestors: multiplies this node's contribution.
    pub mult: f64,
    /// How the node enters the variance.
    pub kind: NodeKind,
}

/// One level of the hierarchy: level 0 = strata, level `s` = stage-`s` clusters.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Level {
    /// Node `k` covers `order[starts[k]..starts[k + 1]]`.
    pub starts: Vec<u32>,
    /// Per node, for levels that have a level below (empty at the leaf level).
    pub nodes: Vec<NodeInfo>,
}

/// One calibration projection (a post-stratification or one raking margin), in R's
/// `svyrecvar` form `x ← x − u · (Σ_c x·ρ) / κ_c` per cell `c`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Projection {
    /// Global cell index (offset into the calibration's cell space) of each row.
    pub cell: Vec<u32>,
    /// `u_i`: the weights after this projection (R's `attr(, "weights")`).
    pub u: Vec<f64>,
    /// `ρ_i`: `oldweights / weights` for post-stratification, `1 / weights` for raking.
    pub rho: Vec<f64>,
}

/// The calibration part of a design: projections, the order R applies them in `svyrecvar`,
/// and the design-level matrices the variance needs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CalibrationState {
    /// Total number of cells over all projections (`C`).
    pub n_cells: usize,
    /// Distinct projections (one per margin).
    pub projections: Vec<Projection>,
    /// Projections in the order they are applied (10 sweeps of the margins for raking).
    pub sequence: Vec<usize>,
    /// Start of each projection's cells in the cell space.
    pub offsets: Vec<usize>,
    /// `κ_c`: denominator of each cell.
    pub kappa: Vec<f64>,
    /// `X[c, c'] = Σ_{i ∈ c} u_{q(c')}(i)·[i ∈ c']·ρ_{p(c)}(i)`, C×C row-major.
    pub cross: Vec<f64>,
    /// The projection sequence as one C×C matrix, `β = S a` (see `CalibrationState::solve`).
    pub solver: Vec<f64>,
    /// Human-readable description (for reports).
    pub description: String,
}

/// A sampling design over `n` rows, ready for estimation.
///
/// Built once per data set (one sort of the rows by stratum and clusters); every estimate
/// then makes a single pass over the rows in that order.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    n: usize,
    pub(crate) weights: Vec<f64>,
    pub(crate) order: Vec<u32>,
    pub(crate) levels: Vec<Level>,
    df: i64,
    n_psu: usize,
    n_strata: usize,
    pub(crate) lonely_psu: LonelyPsu,
    pub(crate) calibration: Option<CalibrationState>,
    /// Level-0 nodes and how many of them are lonely (for `average` on calibrated designs).
    pub(crate) strata_total: usize,
    pub(crate) strata_lonely: usize,
    /// True when a lonely unit below stage 1 exists under `average` (R gives NaN there).
    pub(crate) lonely_below_stage1: bool,
    /// When every row stands for a group of responses (see [`crate::grouped`]): the responses
    /// of each row, and those of them with a weight > 0.
    pub(crate) groups: Option<GroupCounts>,
}

/// Responses per row of a design over groups.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GroupCounts {
    pub rows: Vec<f64>,
    pub positive: Vec<f64>,
}

impl Design {
    /// Builds a design (R: `svydesign(ids = ~psu + ssu, strata = ~stratum, weights = ~w,
    /// fpc = ~N1 + N2, nest = TRUE)`), checking lengths, weights, fpc and lonely PSUs.
    pub fn new(spec: DesignSpec) -> Result<Design, StatsError> {
        let DesignSpec {
            weights,
            strata,
            mut stages,
            lonely_psu,
        } = spec;
        let n = weights.len();
        if n == 0 {
            return Err(StatsError::Invalid("the design has no rows".into()));
        }
        if n > u32::MAX as usize - 1 {
            return Err(StatsError::Invalid("too many rows".into()));
        }
        for (row, &w) in weights.iter().enumerate() {
            if !w.is_finite() || w < 0.0 {
                return Err(StatsError::Value {
                    row,
                    column: "weight".into(),
                    message: if w < 0.0 {
                        format!("negative weight {w}")
                    } else {
                        format!("weight {w} is not a finite number")
                    },
                });
            }
        }
        if let Some(s) = &strata {
            check_len("strata", n, s.len())?;
        }
        if stages.is_empty() {
            stages.push(Stage::default());
        }
        for (s, stage) in stages.iter().enumerate() {
            if let Some(c) = &stage.clusters {
                check_len(&format!("clusters of stage {}", s + 1), n, c.len())?;
            } else if s + 1 < stages.len() {
                return Err(StatsError::Invalid(format!(
                    "stage {} has no cluster column but is followed by another stage",
                    s + 1
                )));
            }
            if let Some(f) = &stage.fpc {
                check_len(&format!("fpc of stage {}", s + 1), n, f.len())?;
            }
        }
        // Stages that enter the variance: stage s+1 only when stage s has an fpc.
        let mut depth = 1;
        while depth < stages.len() && stages[depth - 1].fpc.is_some() {
            depth += 1;
        }
        stages.truncate(depth);

        let zeros;
        let strata_codes: &[u32] = match &strata {
            Some(s) => s.codes(),
            None => {
                zeros = vec![0u32; n];
                &zeros
            }
        };
        let n_strata_levels = strata.as_ref().map_or(1, Factor::n_levels);

        // Sort rows by (stratum, c1, c2, …) with stable counting sorts, innermost key first.
        let mut order: Vec<u32> = (0..n as u32).collect();
        for stage in stages.iter().rev() {
            if let Some(c) = &stage.clusters {
                order = counting_sort(&order, c.codes(), c.n_levels());
            }
        }
        order = counting_sort(&order, strata_codes, n_strata_levels);

        // Node boundaries at every level.
        let leaf_is_row = stages[depth - 1].clusters.is_none();
        let mut starts: Vec<Vec<u32>> = vec![Vec::new(); depth + 1];
        for p in 0..n {
            let first_new = if p == 0 {
                0
            } else {
                let i = order[p] as usize;
                let j = order[p - 1] as usize;
                if strata_codes[i] != strata_codes[j] {
                    0
                } else {
                    let mut level = depth + 1;
                    for (s, stage) in stages.iter().enumerate() {
                        if let Some(c) = &stage.clusters
                            && c.codes()[i] != c.codes()[j]
                        {
                            level = s + 1;
                            break;
                        }
                    }
                    if level > depth && leaf_is_row {
                        depth
                    } else {
                        level
                    }
                }
            };
            for level_starts in starts.iter_mut().skip(first_new) {
                level_starts.push(p as u32);
            }
        }
        for level_starts in &mut starts {
            level_starts.push(n as u32);
        }

        // Node information for every level that has a level below.
        let mut levels: Vec<Level> = Vec::with_capacity(depth + 1);
        let mut parent_mult: Vec<f64> = Vec::new(); // mult·frac of each node of the level above
        let mut strata_lonely = 0;
        let mut lonely_below_stage1 = false;
        for level in 0..depth {
            let here = &starts[level];
            let below = &starts[level + 1];
            let n_nodes = here.len() - 1;
            let stage = &stages[level];
            let fpc_mode = match &stage.fpc {
                Some(f) => Some(fpc_mode(f, level + 1)?),
                None => None,
            };
            let mut nodes = Vec::with_capacity(n_nodes);
            let mut child = 0usize;
            let mut parent = 0usize;
            for k in 0..n_nodes {
                let (a, b) = (here[k], here[k + 1]);
                let first_child = child;
                while child + 1 < below.len() && below[child] < b {
                    child += 1;
                }
                let n_children = (child - first_child) as u32;
                let (fpc_factor, frac) = match (&stage.fpc, fpc_mode) {
                    (Some(f), Some(is_fraction)) => node_fpc(
                        f,
                        &order[a as usize..b as usize],
                        n_children,
                        is_fraction,
                        level,
                    )?,
                    _ => (1.0, 0.0),
                };
                let mult = if level == 0 {
                    1.0
                } else {
                    let above = &levels[level - 1].starts;
                    while parent + 1 < above.len() - 1 && above[parent + 1] <= a {
                        parent += 1;
                    }
                    parent_mult.get(parent).copied().unwrap_or(0.0)
                };
                let kind = if fpc_factor < 1e-7 {
                    NodeKind::Census
                } else if n_children <= 1 {
                    NodeKind::Lonely
                } else {
                    NodeKind::Normal
                };
                if kind == NodeKind::Lonely {
                    if lonely_psu == LonelyPsu::Fail {
                        let row = order[a as usize] as usize;
                        return Err(StatsError::LonelyPsu {
                            stratum: node_name(strata.as_ref(), &stages, row, level),
                            stage: level + 1,
                        });
                    }
                    if level == 0 {
                        strata_lonely += 1;
                    } else if lonely_psu == LonelyPsu::Average {
                        lonely_below_stage1 = true;
                    }
                }
                nodes.push(NodeInfo {
                    n_children,
                    fpc_factor,
                    frac,
                    mult,
                    kind,
                });
            }
            parent_mult = nodes.iter().map(|nd| nd.mult * nd.frac).collect();
            levels.push(Level {
                starts: std::mem::take(&mut starts[level]),
                nodes,
            });
        }
        levels.push(Level {
            starts: std::mem::take(&mut starts[depth]),
            nodes: Vec::new(),
        });
        let strata_total = levels[0].starts.len() - 1;

        let mut design = Design {
            n,
            weights,
            order,
            levels,
            df: 0,
            n_psu: 0,
            n_strata: 0,
            lonely_psu,
            calibration: None,
            strata_total,
            strata_lonely,
            lonely_below_stage1,
            groups: None,
        };
        design.count_df();
        Ok(design)
    }

    /// `#PSUs − #strata` over rows with weight > 0 (R: `degf()`).
    fn count_df(&mut self) {
        let positive = |range: std::ops::Range<usize>| {
            self.order[range]
                .iter()
                .any(|&i| self.weights[i as usize] > 0.0)
        };
        let count = |level: &Level| {
            level
                .starts
                .windows(2)
                .filter(|w| positive(w[0] as usize..w[1] as usize))
                .count()
        };
        self.n_strata = count(&self.levels[0]);
        self.n_psu = count(&self.levels[1]);
        self.df = self.n_psu as i64 - self.n_strata as i64;
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.n
    }

    /// The (calibrated, if [`Design::calibrate`] was used) weight of each row.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Degrees of freedom: PSUs − strata over rows with weight > 0 (R: `degf(design)`).
    pub fn df(&self) -> i64 {
        self.df
    }

    /// Number of PSUs holding a row with weight > 0.
    pub fn n_psu(&self) -> usize {
        self.n_psu
    }

    /// Number of strata holding a row with weight > 0.
    pub fn n_strata(&self) -> usize {
        self.n_strata
    }

    /// Treatment of lonely PSUs.
    pub fn lonely_psu(&self) -> LonelyPsu {
        self.lonely_psu
    }

    /// A one-line description of the calibration, if any.
    pub fn calibration_description(&self) -> Option<&str> {
        self.calibration.as_ref().map(|c| c.description.as_str())
    }

    pub(crate) fn with_calibration(&self, weights: Vec<f64>, cal: CalibrationState) -> Design {
        let mut d = Design {
            n: self.n,
            weights,
            order: self.order.clone(),
            levels: self.levels.clone(),
            df: 0,
            n_psu: 0,
            n_strata: 0,
            lonely_psu: self.lonely_psu,
            calibration: Some(cal),
            strata_total: self.strata_total,
            strata_lonely: self.strata_lonely,
            lonely_below_stage1: self.lonely_below_stage1,
            groups: self.groups.clone(),
        };
        d.count_df();
        d
    }

    /// The same design with every row standing for a group of responses (see
    /// [`crate::grouped::Groups`]): `rows` responses each, `positive` of them with a
    /// positive weight (the row's weight being their sum). Raking counts responses, not rows, so this must
    /// come before [`Design::calibrate`]; the [`crate::Estimator`] of grouped data requires it.
    pub fn with_group_counts(
        mut self,
        rows: &[u64],
        positive: &[u64],
    ) -> Result<Design, StatsError> {
        if self.calibration.is_some() {
            return Err(StatsError::Calibration(
                "group counts must be given before calibrating".into(),
            ));
        }
        check_len("responses per group", self.n, rows.len())?;
        check_len("responses with a weight per group", self.n, positive.len())?;
        if let Some(row) = (0..self.n).find(|&g| positive[g] > rows[g] || rows[g] == 0) {
            return Err(StatsError::Value {
                row,
                column: "responses".into(),
                message: format!(
                    "a group of {} responses with {} of positive weight",
                    rows[row], positive[row]
                ),
            });
        }
        self.groups = Some(GroupCounts {
            rows: rows.iter().map(|&x| x as f64).collect(),
            positive: positive.iter().map(|&x| x as f64).collect(),
        });
        Ok(self)
    }
}

fn check_len(what: &str, expected: usize, got: usize) -> Result<(), StatsError> {
    if expected == got {
        Ok(())
    } else {
        Err(StatsError::Length {
            what: what.into(),
            expected,
            got,
        })
    }
}

/// Stable counting sort of `order` by `codes[order[p]]`.
fn counting_sort(order: &[u32], codes: &[u32], n_levels: usize) -> Vec<u32> {
    let mut counts = vec![0u32; n_levels + 1];
    for &i in order {
        counts[codes[i as usize] as usize + 1] += 1;
    }
    for l in 1..counts.len() {
        counts[l] += counts[l - 1];
    }
    let mut out = vec![0u32; order.len()];
    for &i in order {
        let slot = &mut counts[codes[i as usize] as usize];
        out[*slot as usize] = i;
        *slot += 1;
    }
    out
}

/// Whether a stage's fpc column holds sampling fractions (all ≤ 1) or population sizes
/// (all ≥ 1, some > 1), as R's `as.fpc` decides.
fn fpc_mode(fpc: &[f64], stage: usize) -> Result<bool, StatsError> {
    let column = format!("fpc stage {stage}");
    let mut any_big = None;
    let mut any_small = None;
    for (row, &f) in fpc.iter().enumerate() {
        if f.is_nan() || f <= 0.0 {
            return Err(StatsError::Value {
                row,
                column,
                message: format!(
                    "fpc must be a population size ≥ 1 or a fraction in (0, 1], got {f}"
                ),
            });
        }
        if f > 1.0 && any_big.is_none() {
            any_big = Some(row);
        }
        if f < 1.0 && any_small.is_none() {
            any_small = Some(row);
        }
    }
    match (any_big, any_small) {
        (Some(_), Some(row)) => Err(StatsError::Value {
            row,
            column,
            message: format!(
                "fpc {} is a sampling fraction but other rows give population sizes: must have all fpc ≥ 1 or all fpc ≤ 1",
                fpc[row]
            ),
        }),
        (Some(_), None) => Ok(false),
        (None, _) => Ok(true),
    }
}

/// `(1 − n/N, n/N)` for one node, as `onestrat` computes it from `popsize`.
fn node_fpc(
    fpc: &[f64],
    rows: &[u32],
    n_children: u32,
    is_fraction: bool,
    level: usize,
) -> Result<(f64, f64), StatsError> {
    let column = format!("fpc stage {}", level + 1);
    let first = rows.first().map_or(0, |&r| r as usize);
    let value = fpc[first];
    if let Some(&r) = rows.iter().find(|&&r| fpc[r as usize] != value) {
        return Err(StatsError::Value {
            row: r as usize,
            column,
            message: format!(
                "fpc {} differs from {value} elsewhere in the same {}",
                fpc[r as usize],
                if level == 0 { "stratum" } else { "cluster" }
            ),
        });
    }
    let n = f64::from(n_children);
    let popsize = if is_fraction { n / value } else { value };
    if popsize.is_infinite() {
        return Ok((1.0, 0.0));
    }
    if popsize < n {
        return Err(StatsError::Value {
            row: first,
            column,
            message: format!(
                "population size {popsize} is smaller than the {n_children} units sampled"
            ),
        });
    }
    Ok(((popsize - n) / popsize, n / popsize))
}

/// The name R gives the stratum of a node: the stratum label, then `.cluster` per stage.
fn node_name(strata: Option<&Factor>, stages: &[Stage], row: usize, level: usize) -> String {
    let mut name = strata.and_then(|s| s.label(row)).unwrap_or("1").to_owned();
    for stage in stages.iter().take(level) {
        if let Some(label) = stage.clusters.as_ref().and_then(|c| c.label(row)) {
            name.push('.');
            name.push_str(label);
        }
    }
    name
}
