//! Calibration of the weights to known population totals: post-stratification (R:
//! `postStratify`) and raking (R: `rake`), with the variance adjusted the way `svyrecvar` does.
//!
//! # Post-stratification (one margin)
//!
//! For every cell `c` (a value of the margin's variable; a joint cell such as sex × age is one
//! column with values like `F|18-34`): `w_i = w0_i · N_c / Σ_{j ∈ c} w0_j`.
//!
//! Before the variance step each linearised variable is replaced by its residual within the
//! post-strata (R: `svyrecvar`, `postStrata` branch):
//!
//! ```text
//! x_i ← x_i − w_i · (Σ_{j ∈ c} x_j · w0_j / w_j) / (Σ_{j ∈ c} w0_j)
//! ```
//!
//! over all rows of the cell (rows outside the domain have `x = 0`).
//!
//! # Raking (several margins)
//!
//! Post-stratify on each margin in turn (in the order the margins are given) and repeat the
//! sweep until no weight changes by more than `tolerance` (relative, default 1e−12) in a sweep
//! and every margin's weighted totals match its population totals to the same relative
//! tolerance; after `max_sweeps` (default 100) sweeps without reaching it, fail with
//! [`StatsError::RakingNotConverged`] (inconsistent margins, or cells too sparse to fit).
//!
//! The variance then applies, as R's `svyrecvar` does for a `rake()` design, exactly 10 sweeps
//! of the per-margin projection, in margin order, with `u_m` the weights right after margin `m`
//! was adjusted in the last sweep and `ave` the unweighted mean within the margin's category:
//!
//! ```text
//! x_i ← x_i − u_m,i · ave_{j ∈ c_m(i)}(x_j / u_m,j)
//! ```
//!
//! (A row with weight 0 has `x = 0`; its `x/u` is taken as 0 where R would give NaN.)
//!
//! Both are carried out without touching the rows again: every projection subtracts
//! `u · β_c` per cell, so the residual of `x` is `x − Σ_c β_c u_c` with a small vector `β` solved
//! from the cell sums `Σ_{i ∈ c} x_i ρ_i` (see `variance.rs`).

use std::collections::HashMap;

use crate::design::{CalibrationState, Design, Projection};
use crate::error::StatsError;
use crate::factor::Factor;

/// Known population totals of one variable: `(category, total)` pairs, and the variable's value
/// for every row of the design (compared as text with the categories).
#[derive(Debug, Clone, PartialEq)]
pub struct Margin {
    /// Name of the variable (for messages).
    pub variable: String,
    /// The variable's value for each row.
    pub values: Factor,
    /// Population total of each category.
    pub totals: Vec<(String, f64)>,
}

/// Calibration to one margin (post-stratification) or several (raking).
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// The margins, in the order raking visits them.
    pub margins: Vec<Margin>,
    /// Largest number of raking sweeps (default 100).
    pub max_sweeps: usize,
    /// Raking stops when no weight changes by more than this, relative (default 1e−12).
    pub tolerance: f64,
}

/// The number of projection sweeps R's `svyrecvar` applies for a raked design.
const RAKE_VARIANCE_SWEEPS: usize = 10;

impl Calibration {
    /// Calibration to the given margins with the default raking control (100 sweeps, 1e−12).
    pub fn new(margins: Vec<Margin>) -> Self {
        Calibration {
            margins,
            max_sweeps: 100,
            tolerance: 1e-12,
        }
    }
}

/// A margin mapped onto the rows: the cell of each row and the population total of each cell.
struct Cells {
    cell: Vec<u32>,
    totals: Vec<f64>,
}

fn map_margin(m: &Margin, weights: &[f64]) -> Result<Cells, StatsError> {
    if m.values.len() != weights.len() {
        return Err(StatsError::Length {
            what: format!("calibration variable \"{}\"", m.variable),
            expected: weights.len(),
            got: m.values.len(),
        });
    }
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (c, (cat, total)) in m.totals.iter().enumerate() {
        if !total.is_finite() || *total < 0.0 {
            return Err(StatsError::Calibration(format!(
                "variable \"{}\", category \"{cat}\": total {total} is not a number ≥ 0",
                m.variable
            )));
        }
        if index.insert(cat.as_str(), c).is_some() {
            return Err(StatsError::Calibration(format!(
                "variable \"{}\": category \"{cat}\" is given twice",
                m.variable
            )));
        }
    }
    // Level code of the factor → category index.
    let mut level_to_cat = Vec::with_capacity(m.values.n_levels());
    for level in m.values.levels() {
        level_to_cat.push(index.get(level.as_str()).copied());
    }
    let mut sample_total = vec![0.0; m.totals.len()];
    let mut cell = Vec::with_capacity(weights.len());
    for (row, &code) in m.values.codes().iter().enumerate() {
        match level_to_cat.get(code as usize).copied().flatten() {
            Some(c) => {
                sample_total[c] += weights[row];
                cell.push(c as u32);
            }
            None => {
                return Err(StatsError::Value {
                    row,
                    column: m.variable.clone(),
                    message: format!(
                        "category \"{}\" has no population total in the margins",
                        m.values.label(row).unwrap_or_default()
                    ),
                });
            }
        }
    }
    // Categories absent from both sample and population are dropped (R: postStratify).
    let mut keep = vec![u32::MAX; m.totals.len()];
    let mut totals = Vec::new();
    for (c, (cat, total)) in m.totals.iter().enumerate() {
        let sample_zero = sample_total[c] == 0.0;
        let pop_zero = *total == 0.0;
        match (sample_zero, pop_zero) {
            (true, true) => {
                if cell.contains(&(c as u32)) {
                    // Rows exist but all have weight 0: keep the cell, its weights stay 0.
                    keep[c] = totals.len() as u32;
                    totals.push(0.0);
                }
            }
            (true, false) => {
                return Err(StatsError::Calibration(format!(
                    "variable \"{}\", category \"{cat}\": population total {total} but no respondent with a positive weight",
                    m.variable
                )));
            }
            (false, true) => {
                return Err(StatsError::Calibration(format!(
                    "variable \"{}\", category \"{cat}\": respondents in the sample but a population total of 0",
                    m.variable
                )));
            }
            (false, false) => {
                keep[c] = totals.len() as u32;
                totals.push(*total);
            }
        }
    }
    for c in &mut cell {
        *c = keep[*c as usize];
    }
    Ok(Cells { cell, totals })
}

/// Largest relative difference between a margin's weighted totals and its population totals.
fn margin_discrepancy(weights: &[f64], cells: &Cells) -> f64 {
    let mut sums = vec![0.0; cells.totals.len()];
    for (w, &c) in weights.iter().zip(&cells.cell) {
        sums[c as usize] += *w;
    }
    sums.iter()
        .zip(&cells.totals)
        .filter(|(_, t)| **t > 0.0)
        .map(|(s, t)| ((s - t) / t).abs())
        .fold(0.0, f64::max)
}

/// One post-stratification step: `w ← w · N_c / Σ_c w`.
fn post_stratify(weights: &mut [f64], cells: &Cells) {
    let mut sums = vec![0.0; cells.totals.len()];
    for (w, &c) in weights.iter().zip(&cells.cell) {
        sums[c as usize] += *w;
    }
    let factor: Vec<f64> = sums
        .iter()
        .zip(&cells.totals)
        .map(|(&s, &t)| if s > 0.0 { t / s } else { 0.0 })
        .collect();
    for (w, &c) in weights.iter_mut().zip(&cells.cell) {
        *w *= factor[c as usize];
    }
}

impl Design {
    /// Calibrates the weights to the margins: post-stratification for one margin (R:
    /// `postStratify(design, ~cell, totals)`), raking for several (R: `rake(design,
    /// list(~a, ~b), list(totals_a, totals_b))` iterated to convergence). Returns a new design
    /// whose variances include the calibration residuals; see the module documentation.
    pub fn calibrate(&self, calibration: &Calibration) -> Result<Design, StatsError> {
        if self.calibration.is_some() {
            return Err(StatsError::Calibration(
                "the design is already calibrated".into(),
            ));
        }
        if calibration.margins.is_empty() {
            return Err(StatsError::Calibration("no margins given".into()));
        }
        let base = &self.weights;
        let cells: Vec<Cells> = calibration
            .margins
            .iter()
            .map(|m| map_margin(m, base))
            .collect::<Result<_, _>>()?;
        let n = base.len();
        let mut offsets = Vec::with_capacity(cells.len());
        let mut n_cells = 0usize;
        for c in &cells {
            offsets.push(n_cells);
            n_cells += c.totals.len();
        }

        let (weights, projections, sequence, kappa, description) = if cells.len() == 1 {
            let c = &cells[0];
            let mut w = base.clone();
            post_stratify(&mut w, c);
            let mut kappa = vec![0.0; n_cells];
            let mut rho = Vec::with_capacity(n);
            for i in 0..n {
                kappa[c.cell[i] as usize] += base[i];
                let psw = if w[i] == 0.0 && base[i] == 0.0 {
                    1.0
                } else {
                    w[i]
                };
                rho.push(if psw == 0.0 { 0.0 } else { base[i] / psw });
            }
            let projection = Projection {
                cell: c.cell.clone(),
                u: w.clone(),
                rho,
            };
            let description = format!(
                "post-stratified on \"{}\" ({} cells)",
                calibration.margins[0].variable,
                c.totals.len()
            );
            (w, vec![projection], vec![0], kappa, description)
        } else {
            let mut w = base.clone();
            let mut after_margin: Vec<Vec<f64>> = vec![Vec::new(); cells.len()];
            let mut sweeps = 0;
            loop {
                let before = w.clone();
                for (m, c) in cells.iter().enumerate() {
                    post_stratify(&mut w, c);
                    after_margin[m].clone_from(&w);
                }
                sweeps += 1;
                let moved = before
                    .iter()
                    .zip(&w)
                    .filter(|(b, _)| **b > 0.0)
                    .map(|(b, a)| ((a - b) / b).abs())
                    .fold(0.0, f64::max);
                // Inconsistent margins can leave the weights unchanged from sweep to sweep
                // while an earlier margin stays off: require every margin to hold as well.
                let off = cells
                    .iter()
                    .map(|c| margin_discrepancy(&w, c))
                    .fold(0.0, f64::max);
                let change = moved.max(off);
                if change <= calibration.tolerance {
                    break;
                }
                if sweeps >= calibration.max_sweeps {
                    return Err(StatsError::RakingNotConverged { sweeps, change });
                }
            }
            let mut kappa = vec![0.0; n_cells];
            let mut projections = Vec::with_capacity(cells.len());
            for (m, c) in cells.iter().enumerate() {
                for (i, &cell) in c.cell.iter().enumerate() {
                    // R's unweighted average counts responses: a group row counts its own.
                    kappa[offsets[m] + cell as usize] +=
                        self.groups.as_ref().map_or(1.0, |g| g.rows[i]);
                }
                let u = std::mem::take(&mut after_margin[m]);
                let rho = u
                    .iter()
                    .map(|&x| if x > 0.0 { 1.0 / x } else { 0.0 })
                    .collect();
                projections.push(Projection {
                    cell: c.cell.clone(),
                    u,
                    rho,
                });
            }
            let sequence: Vec<usize> = (0..RAKE_VARIANCE_SWEEPS)
                .flat_map(|_| 0..cells.len())
                .collect();
            let names: Vec<&str> = calibration
                .margins
                .iter()
                .map(|m| m.variable.as_str())
                .collect();
            let description = format!(
                "raked on {} in {sweeps} sweeps",
                names
                    .iter()
                    .map(|s| format!("\"{s}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            (w, projections, sequence, kappa, description)
        };

        // Globalise cell indices and build the cross matrix X.
        let mut projections = projections;
        for (m, p) in projections.iter_mut().enumerate() {
            for c in &mut p.cell {
                *c += offsets[m] as u32;
            }
        }
        // For raking `u_q ρ_p = u_q / u_p` is the same for every response of a group (both are
        // its base weight times the cells' factors): a group row adds it once per response
        // with a weight. Post-stratification's `u ρ` is the base weight: the group's sum.
        let raked = projections.len() > 1;
        let mut cross = vec![0.0; n_cells * n_cells];
        for i in 0..n {
            let times = match &self.groups {
                Some(g) if raked => g.positive[i],
                _ => 1.0,
            };
            for p in &projections {
                let row = p.cell[i] as usize * n_cells;
                let rho = p.rho[i];
                for q in &projections {
                    cross[row + q.cell[i] as usize] += q.u[i] * rho * times;
                }
            }
        }
        let mut state = CalibrationState {
            n_cells,
            projections,
            sequence,
            offsets,
            kappa,
            cross,
            solver: Vec::new(),
            description,
        };
        state.solver = state.solver_matrix();
        Ok(self.with_calibration(weights, state))
    }
}

impl CalibrationState {
    /// Given the cell sums `a_c = Σ_{i ∈ c} x_i ρ_i` of one linearised variable, returns `β`
    /// such that the residual is `x − Σ_c β_c u_c`: `β = S a` with the matrix `S` of
    /// [`CalibrationState::solver_matrix`] (the projection sequence is linear in `a`), `C²`
    /// operations instead of the sequence's `sweeps × C²`, for each of the (domain, statistic)
    /// pairs of a variance pass.
    pub(crate) fn solve(&self, a: &[f64], beta: &mut [f64]) {
        let c_total = self.n_cells;
        for (i, b) in beta.iter_mut().enumerate().take(c_total) {
            let row = &self.solver[i * c_total..(i + 1) * c_total];
            *b = row.iter().zip(a).map(|(s, x)| s * x).sum();
        }
    }

    /// `S`, row-major: column `j` is the sequence's `β` for the unit vector `a = e_j`.
    fn solver_matrix(&self) -> Vec<f64> {
        let c_total = self.n_cells;
        let mut s = vec![0.0; c_total * c_total];
        let mut unit = vec![0.0; c_total];
        let mut beta = vec![0.0; c_total];
        for j in 0..c_total {
            unit.iter_mut().for_each(|u| *u = 0.0);
            unit[j] = 1.0;
            self.solve_sequence(&unit, &mut beta);
            for (i, b) in beta.iter().enumerate() {
                s[i * c_total + j] = *b;
            }
        }
        s
    }

    /// Replays R's projection sequence on the cell sums `a` (see the module documentation).
    fn solve_sequence(&self, a: &[f64], beta: &mut [f64]) {
        let c_total = self.n_cells;
        beta.iter_mut().for_each(|b| *b = 0.0);
        let mut alpha = vec![0.0; c_total];
        for &p in &self.sequence {
            let start = self.offsets[p];
            let end = self.offsets.get(p + 1).copied().unwrap_or(c_total);
            for c in start..end {
                let row = &self.cross[c * c_total..(c + 1) * c_total];
                let adj: f64 = row.iter().zip(beta.iter()).map(|(x, b)| x * b).sum();
                alpha[c] = if self.kappa[c] > 0.0 {
                    (a[c] - adj) / self.kappa[c]
                } else {
                    0.0
                };
            }
            for c in start..end {
                beta[c] += alpha[c];
            }
        }
    }
}
