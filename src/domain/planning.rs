//! Sample planning: how many respondents a campaign needs, and how to share
//! them across strata (provinces). Pure arithmetic, no I/O.
//!
//! The precision target is a margin of error `e` (as a proportion: ±3
//! points = 0.03) at confidence `1 − α` for a share expected near `p` (the
//! satisfaction index treated as a proportion — conservative for an index
//! that averages several shares):
//!
//! - n₀ = deff · z² · p(1 − p) / e², with z = Φ⁻¹(1 − α/2)
//!   (Cochran, *Sampling Techniques*, 3rd ed., eq. 4.1 times the design effect);
//! - finite population correction: n = n₀ / (1 + (n₀ − 1)/N) (Cochran 4.2);
//! - respondents to contact: ⌈n / r⌉ for an expected response rate r.
//!
//! The inverse, the expected margin of error with m contacted in a stratum
//! of N: e = z · √(deff · p(1 − p) · (N − n) / ((N − 1) · n)) with n = m · r.
//!
//! Allocation of a total across strata h with sizes N_h (Cochran ch. 5):
//! equal n/H; proportional n·N_h/ΣN; square-root n·√N_h/Σ√N (Kish's
//! compromise between provinces and the nation); Neyman n·N_h·S_h/ΣN·S_h
//! with prior standard deviations S_h = √(p_h(1 − p_h)). Minimums (and
//! the stratum size as a maximum) are honoured by fixing the strata that
//! violate them and re-sharing the rest, repeatedly; integer counts by the
//! largest-remainder method so they sum to the total exactly.

use statrs::distribution::{ContinuousCDF, Normal};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("{0} must be between {1} and {2}")]
    OutOfRange(&'static str, f64, f64),
    #[error("the budget {budget} is below the minimums ({needed} = {strata} strata × {minimum})")]
    BudgetBelowMinimums {
        budget: u64,
        needed: u64,
        strata: usize,
        minimum: u64,
    },
    #[error("no strata to allocate to")]
    NoStrata,
    #[error("Neyman allocation needs a prior share for stratum {0}")]
    MissingPrior(String),
    #[error("stratum {0} has no population")]
    NoPopulation(String),
}

/// What the planner assumes about the survey.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assumptions {
    /// Confidence level, e.g. 0.95.
    pub confidence: f64,
    /// Expected share satisfied, e.g. 0.8.
    pub p: f64,
    /// Design effect of the clustered design (≥ 1 usually).
    pub deff: f64,
    /// Expected response rate, in (0, 1].
    pub response_rate: f64,
}

fn check(name: &'static str, v: f64, lo: f64, hi: f64, open_lo: bool) -> Result<(), PlanError> {
    let ok = v.is_finite() && v <= hi && if open_lo { v > lo } else { v >= lo };
    if ok {
        Ok(())
    } else {
        Err(PlanError::OutOfRange(name, lo, hi))
    }
}

impl Assumptions {
    pub fn new(
        confidence: f64,
        p: f64,
        deff: f64,
        response_rate: f64,
    ) -> Result<Assumptions, PlanError> {
        check("confidence", confidence, 0.5, 0.9999, false)?;
        check("p", p, 0.0, 1.0, false)?;
        check("deff", deff, 0.0, 100.0, true)?;
        check("response_rate", response_rate, 0.0, 1.0, true)?;
        Ok(Assumptions {
            confidence,
            p,
            deff,
            response_rate,
        })
    }

    /// Kish's design effect of a cluster sample with `take` interviews per
    /// cluster and intra-cluster correlation `icc`: 1 + (take − 1)·ρ.
    pub fn cluster_deff(take: u64, icc: f64) -> f64 {
        1.0 + (take.max(1) - 1) as f64 * icc
    }

    /// z = Φ⁻¹(1 − α/2).
    pub fn z(&self) -> f64 {
        Normal::standard().inverse_cdf(1.0 - (1.0 - self.confidence) / 2.0)
    }

    /// n₀ = deff · z² · p(1 − p) / e² (completed interviews, infinite population).
    pub fn n0(&self, moe: f64) -> f64 {
        let z = self.z();
        self.deff * z * z * self.p * (1.0 - self.p) / (moe * moe)
    }

    /// Completed interviews after the finite population correction.
    pub fn completes(&self, moe: f64, population: Option<f64>) -> f64 {
        let n0 = self.n0(moe);
        match population {
            Some(n) if n >= 1.0 => n0 / (1.0 + (n0 - 1.0) / n),
            _ => n0,
        }
    }

    /// People to contact for margin `moe`: ⌈n / r⌉.
    pub fn required(&self, moe: f64, population: Option<f64>) -> Result<u64, PlanError> {
        check("moe", moe, 0.0, 0.5, true)?;
        let n = (self.completes(moe, population) / self.response_rate - 1e-9).ceil();
        Ok(n.max(1.0) as u64)
    }

    /// Expected margin of error with `contacted` people in a stratum of
    /// size `population`; `None` when nobody is expected to answer.
    pub fn expected_moe(&self, contacted: u64, population: Option<f64>) -> Option<f64> {
        let n = contacted as f64 * self.response_rate;
        if n <= 0.0 {
            return None;
        }
        let fpc = match population {
            Some(big_n) if big_n > 1.0 => ((big_n - n) / (big_n - 1.0)).max(0.0),
            _ => 1.0,
        };
        Some(self.z() * (self.deff * self.p * (1.0 - self.p) * fpc / n).sqrt())
    }
}

/// How a total is shared across strata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocation {
    Equal,
    Proportional,
    SquareRoot,
    Neyman,
}

impl Allocation {
    pub const ALL: [Allocation; 4] = [
        Allocation::Equal,
        Allocation::Proportional,
        Allocation::SquareRoot,
        Allocation::Neyman,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Allocation::Equal => "equal",
            Allocation::Proportional => "proportional",
            Allocation::SquareRoot => "sqrt",
            Allocation::Neyman => "neyman",
        }
    }

    pub fn parse(s: &str) -> Option<Allocation> {
        Allocation::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// A stratum to allocate to.
#[derive(Debug, Clone, PartialEq)]
pub struct Stratum {
    pub code: String,
    /// Population size N_h (measure of size).
    pub population: f64,
    /// Prior expected share p_h for Neyman allocation.
    pub prior_p: Option<f64>,
}

/// Shares `total` across `strata` by `method`, each stratum getting at
/// least `minimum` and at most its population (when ≥ 1).
pub fn allocate(
    strata: &[Stratum],
    total: u64,
    method: Allocation,
    minimum: u64,
) -> Result<Vec<u64>, PlanError> {
    if strata.is_empty() {
        return Err(PlanError::NoStrata);
    }
    let needed = minimum.saturating_mul(strata.len() as u64);
    if needed > total {
        return Err(PlanError::BudgetBelowMinimums {
            budget: total,
            needed,
            strata: strata.len(),
            minimum,
        });
    }
    let mut weights = Vec::with_capacity(strata.len());
    for s in strata {
        if method != Allocation::Equal && !(s.population > 0.0 && s.population.is_finite()) {
            return Err(PlanError::NoPopulation(s.code.clone()));
        }
        let w = match method {
            Allocation::Equal => 1.0,
            Allocation::Proportional => s.population,
            Allocation::SquareRoot => s.population.sqrt(),
            Allocation::Neyman => {
                let p = s
                    .prior_p
                    .filter(|p| (0.0..=1.0).contains(p))
                    .ok_or_else(|| PlanError::MissingPrior(s.code.clone()))?;
                // A stratum expected at 0 % or 100 % still gets its minimum.
                s.population * (p * (1.0 - p)).sqrt().max(1e-9)
            }
        };
        weights.push(w);
    }
    let caps: Vec<f64> = strata
        .iter()
        .map(|s| {
            if s.population >= 1.0 {
                s.population.floor().max(minimum as f64)
            } else {
                f64::INFINITY
            }
        })
        .collect();
    // Fixed allocations (at a minimum or a cap), re-sharing the rest.
    let mut fixed: Vec<Option<f64>> = vec![None; strata.len()];
    let shares = loop {
        let left = total as f64 - fixed.iter().flatten().sum::<f64>();
        let free_weight: f64 = weights
            .iter()
            .zip(&fixed)
            .filter(|(_, f)| f.is_none())
            .map(|(w, _)| *w)
            .sum();
        let shares: Vec<f64> = weights
            .iter()
            .zip(&fixed)
            .map(|(w, f)| match f {
                Some(v) => *v,
                None if free_weight > 0.0 => left * w / free_weight,
                None => 0.0,
            })
            .collect();
        let mut changed = false;
        for i in 0..strata.len() {
            if fixed[i].is_some() {
                continue;
            }
            if shares[i] < minimum as f64 {
                fixed[i] = Some(minimum as f64);
                changed = true;
            } else if shares[i] > caps[i] {
                fixed[i] = Some(caps[i]);
                changed = true;
            }
        }
        if !changed {
            break shares;
        }
    };
    Ok(largest_remainder(&shares, total))
}

/// Rounds non-negative shares to integers summing to `total` (when the
/// shares do): floors, then one more to the largest remainders (earlier
/// strata first on ties).
fn largest_remainder(shares: &[f64], total: u64) -> Vec<u64> {
    let mut out: Vec<u64> = shares.iter().map(|s| s.max(0.0).floor() as u64).collect();
    let assigned: u64 = out.iter().sum();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|a, b| {
        let ra = shares[*a] - shares[*a].floor();
        let rb = shares[*b] - shares[*b].floor();
        rb.total_cmp(&ra).then(a.cmp(b))
    });
    let missing = total.saturating_sub(assigned) as usize;
    for i in order.into_iter().take(missing) {
        out[i] += 1;
    }
    out
}

/// One stratum's line of a plan.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlanRow {
    pub code: String,
    pub population: f64,
    /// People to contact for the target margin in this stratum alone.
    pub required: Option<u64>,
    /// Its share of the budget, when a budget is given.
    pub allocated: Option<u64>,
    /// Expected margin of error (as a proportion) with the allocated
    /// number, or with the required one when there is no budget.
    pub expected_moe: Option<f64>,
    /// Clusters (communes) to draw: ⌈n / take⌉ for `take` interviews each.
    pub clusters: Option<u64>,
}

/// A budget to allocate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub total: u64,
    pub method: Allocation,
    pub minimum: u64,
}

/// The plan for each stratum: the required number for `moe` (if given) and
/// the allocation of `budget` (if given), with the expected margins.
pub fn plan(
    assumptions: &Assumptions,
    strata: &[Stratum],
    moe: Option<f64>,
    budget: Option<Budget>,
    take: Option<u64>,
) -> Result<Vec<PlanRow>, PlanError> {
    let allocated = match budget {
        Some(b) => Some(allocate(strata, b.total, b.method, b.minimum)?),
        None => None,
    };
    let mut rows = Vec::with_capacity(strata.len());
    for (i, s) in strata.iter().enumerate() {
        let pop = (s.population >= 1.0).then_some(s.population);
        let required = match moe {
            Some(e) => Some(assumptions.required(e, pop)?),
            None => None,
        };
        let alloc = allocated.as_ref().map(|a| a[i]);
        let expected_moe = alloc
            .or(required)
            .and_then(|n| assumptions.expected_moe(n, pop));
        rows.push(PlanRow {
            code: s.code.clone(),
            population: s.population,
            required,
            allocated: alloc,
            expected_moe,
            clusters: take
                .filter(|t| *t > 0)
                .and_then(|t| alloc.or(required).map(|n| n.div_ceil(t))),
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn a(confidence: f64, p: f64, deff: f64, rr: f64) -> Assumptions {
        Assumptions::new(confidence, p, deff, rr).unwrap()
    }

    fn strata(pops: &[f64]) -> Vec<Stratum> {
        pops.iter()
            .enumerate()
            .map(|(i, p)| Stratum {
                code: format!("{i}"),
                population: *p,
                prior_p: None,
            })
            .collect()
    }

    // Hand values: z(0.975) = 1.959963984540054 (any normal table);
    // n0 = 1.959964² · 0.25 / 0.03² = 1067.0719.
    #[test]
    fn sample_sizes_match_the_textbook_formula() {
        let plan = a(0.95, 0.5, 1.0, 1.0);
        assert!((plan.z() - 1.959_963_984_540_054).abs() < 1e-9);
        assert!((plan.n0(0.03) - 1_067.071_894_637_256_5).abs() < 1e-6);
        assert_eq!(plan.required(0.03, None).unwrap(), 1068);
        // Finite population: 1067.0719 / (1 + 1066.0719/10000) = 964.2734.
        assert!((plan.completes(0.03, Some(10_000.0)) - 964.273_415_894_190_5).abs() < 1e-6);
        assert_eq!(plan.required(0.03, Some(10_000.0)).unwrap(), 965);
        // deff 1.5, p 0.8, response rate 0.7: 1024.3890 / 0.7 = 1463.41.
        assert_eq!(a(0.95, 0.8, 1.5, 0.7).required(0.03, None).unwrap(), 1464);
        // All together: deff 2, p 0.8, N 5000, rr 0.6:
        // n0 = 1365.8520, n = 1072.9645, /0.6 = 1788.27.
        assert_eq!(
            a(0.95, 0.8, 2.0, 0.6).required(0.03, Some(5000.0)).unwrap(),
            1789
        );
        // 90 % confidence: z = 1.644854; 1.644854² · 0.25 / 0.05² = 270.56.
        assert_eq!(a(0.90, 0.5, 1.0, 1.0).required(0.05, None).unwrap(), 271);
    }

    #[test]
    fn the_expected_margin_inverts_the_sample_size() {
        let plan = a(0.95, 0.8, 2.0, 0.6);
        let n = plan.required(0.03, Some(5000.0)).unwrap();
        let at_n = plan.expected_moe(n, Some(5000.0)).unwrap();
        let below = plan.expected_moe(n - 2, Some(5000.0)).unwrap();
        assert!(at_n <= 0.03 && below > 0.03, "{at_n} {below}");
        // Infinite population, no deff, full response: z·√(p(1−p)/n).
        let simple = a(0.95, 0.5, 1.0, 1.0).expected_moe(400, None).unwrap();
        assert!((simple - 1.959_963_984_540_054 * (0.25f64 / 400.0).sqrt()).abs() < 1e-12);
        assert_eq!(plan.expected_moe(0, None), None);
    }

    #[test]
    fn clusters_and_the_cluster_design_effect() {
        // 20 interviews per commune, ρ = 0.05: deff = 1 + 19·0.05 = 1.95.
        assert!((Assumptions::cluster_deff(20, 0.05) - 1.95).abs() < 1e-12);
        let plan_ = a(0.95, 0.5, 1.0, 1.0);
        let s = strata(&[1.0e6, 1.0e6]);
        let rows = plan(&plan_, &s, Some(0.03), None, Some(20)).unwrap();
        // 1067.07 / (1 + 1066.07/10⁶) = 1065.94 → 1066; / 20 → 54 communes.
        assert_eq!(rows[0].required, Some(1066));
        assert_eq!(rows[0].clusters, Some(54));
        let rows = plan(
            &plan_,
            &s,
            None,
            Some(Budget {
                total: 1000,
                method: Allocation::Equal,
                minimum: 0,
            }),
            Some(20),
        )
        .unwrap();
        assert_eq!(rows[1].allocated, Some(500));
        assert_eq!(rows[1].clusters, Some(25));
    }

    #[test]
    fn allocations_follow_their_rules() {
        let s = strata(&[100.0, 300.0, 600.0]);
        assert_eq!(
            allocate(&s, 90, Allocation::Equal, 0).unwrap(),
            vec![30, 30, 30]
        );
        assert_eq!(
            allocate(&s, 100, Allocation::Proportional, 0).unwrap(),
            vec![10, 30, 60]
        );
        let s = strata(&[100.0, 400.0, 900.0, 1600.0]);
        assert_eq!(
            allocate(&s, 1000, Allocation::SquareRoot, 0).unwrap(),
            vec![100, 200, 300, 400]
        );
        // Minimum 150: 33 and 133 are raised; the other two share 700 as 900:1600.
        assert_eq!(
            allocate(&s, 1000, Allocation::Proportional, 150).unwrap(),
            vec![150, 150, 252, 448]
        );
        // Rounding keeps the total.
        let r = allocate(
            &strata(&[1.0e6, 1.0e6, 1.0e6]),
            100,
            Allocation::Proportional,
            0,
        )
        .unwrap();
        assert_eq!(r.iter().sum::<u64>(), 100);
        assert_eq!(r, vec![34, 33, 33]);
    }

    #[test]
    fn neyman_uses_prior_standard_deviations() {
        let mut s = strata(&[100.0, 200.0]);
        s[0].prior_p = Some(0.5); // S = 0.5, N·S = 50
        s[1].prior_p = Some((1.0 - (0.75f64).sqrt()) / 2.0); // p(1−p) = 1/16, S = 0.25, N·S = 50
        assert_eq!(
            allocate(&s, 100, Allocation::Neyman, 0).unwrap(),
            vec![50, 50]
        );
        s[1].prior_p = None;
        assert_eq!(
            allocate(&s, 100, Allocation::Neyman, 0),
            Err(PlanError::MissingPrior("1".into()))
        );
    }

    #[test]
    fn a_budget_below_the_minimums_is_refused_and_caps_hold() {
        let s = strata(&[100.0, 300.0, 600.0]);
        assert!(matches!(
            allocate(&s, 100, Allocation::Equal, 50),
            Err(PlanError::BudgetBelowMinimums { .. })
        ));
        // A stratum of 20 people cannot take more than 20.
        let s = strata(&[20.0, 1.0e6]);
        assert_eq!(
            allocate(&s, 200, Allocation::Equal, 0).unwrap(),
            vec![20, 180]
        );
    }
}
