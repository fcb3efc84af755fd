//! Model diagnostics: does the model contradict the data it was fitted to?
//!
//! Per sampled area the engine reports the shrinkage factor γᵢ and the standardised residual
//! rᵢ = (yᵢ − xᵢ'β̂)/√(σ̂²ᵥ + ψᵢ), which under the model is approximately N(0, 1) (the marginal
//! residual of the area-level model; Rao & Molina 2015, ch. 6, on model diagnostics). Two
//! checks decide whether the model may be published; each failure is a [`Reason`] with a
//! stable snake_case code (a translation key) and an English sentence.
//!
//! 1. **`too_many_large_residuals`**: K = #{i : |rᵢ| > 1.96} among the m sampled areas. Under
//!    the model K ~ Binomial(m, 0.05); the check fails when P(Binomial(m, 0.05) ≥ K) < 0.01,
//!    i.e. when more areas lie outside ±1.96 than chance allows at the 1 % level.
//! 2. **`disagrees_with_reliable_direct`**: the goodness-of-fit diagnostic of the ONS
//!    (Brown, Chambers, Heady & Heasman 2001, "Evaluation of small area estimation methods —
//!    an application to unemployment estimates from the UK LFS", Statistics Canada
//!    Symposium), restricted to the areas whose direct estimate is
//!    reliable: a coefficient of variation of at most 20 % on the reported scale (the usual
//!    publication threshold of national statistics offices). Over those k areas
//!    W = Σ (yᵢ − θ̂ᵢ)² / (ψᵢ + mseᵢ) (model scale), compared with χ²ₖ; the check fails when
//!    W exceeds the 95 % quantile of χ²ₖ. The denominator treats the direct and model-based
//!    estimates as independent, which makes the test conservative (it errs towards passing).
//!    With no reliable direct estimate this check cannot be made: a note
//!    `no_reliable_direct` says so, and it does not fail the model.

use statrs::distribution::{Binomial, ChiSquared, ContinuousCDF, DiscreteCDF};

/// Largest coefficient of variation of a direct estimate that counts as reliable.
pub const RELIABLE_CV: f64 = 0.20;
/// Two-sided 5 % normal quantile used to call a standardised residual large.
pub const LARGE_RESIDUAL: f64 = 1.96;
/// Level of the binomial test on the count of large residuals.
pub const RESIDUAL_TEST_LEVEL: f64 = 0.01;
/// Level of the χ² agreement test.
pub const AGREEMENT_TEST_LEVEL: f64 = 0.05;

/// Why a model fails its diagnostics, or a note about them.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Reason {
    /// Stable snake_case code (a translation key).
    pub code: &'static str,
    /// Plain-words explanation in English with the figures.
    pub message: String,
}

/// The outcome of the diagnostics.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Diagnostics {
    /// True when no check failed: the model may be published.
    pub passed: bool,
    /// The failed checks (empty when `passed`).
    pub reasons: Vec<Reason>,
    /// Notes that do not fail the model (e.g. a check that could not be made).
    pub notes: Vec<Reason>,
    /// Sampled areas.
    pub sampled: usize,
    /// Sampled areas with |rᵢ| > 1.96.
    pub large_residuals: usize,
    /// P(Binomial(m, 0.05) ≥ large_residuals).
    pub large_residuals_probability: f64,
    /// Areas whose direct estimate has a CV ≤ 20 %.
    pub reliable: usize,
    /// W over the reliable areas (None when there are none).
    pub agreement_statistic: Option<f64>,
    /// The 95 % quantile of χ² with `reliable` degrees of freedom.
    pub agreement_critical: Option<f64>,
}

/// What the diagnostics need from one sampled area (model scale, except `cv`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AreaCheck {
    pub(crate) standardised_residual: f64,
    pub(crate) direct: f64,
    pub(crate) psi: f64,
    pub(crate) estimate: f64,
    pub(crate) mse: f64,
    /// CV of the direct estimate on the reported scale (None when undefined, e.g. direct 0).
    pub(crate) cv: Option<f64>,
}

pub(crate) fn diagnose(areas: &[AreaCheck]) -> Diagnostics {
    let m = areas.len();
    let mut reasons = Vec::new();
    let mut notes = Vec::new();
    let large = areas
        .iter()
        .filter(|a| a.standardised_residual.abs() > LARGE_RESIDUAL)
        .count();
    let probability = if large == 0 {
        1.0
    } else {
        Binomial::new(0.05, m as u64).map_or(f64::NAN, |b| b.sf(large as u64 - 1))
    };
    if probability < RESIDUAL_TEST_LEVEL {
        reasons.push(Reason {
            code: "too_many_large_residuals",
            message: format!(
                "{large} of {m} areas have a direct estimate more than 1.96 standard deviations from the model; about {:.1} are expected by chance, and {large} or more would happen with probability {probability:.2e} (< {RESIDUAL_TEST_LEVEL})",
                0.05 * m as f64
            ),
        });
    }
    let reliable: Vec<&AreaCheck> = areas
        .iter()
        .filter(|a| a.cv.is_some_and(|cv| cv <= RELIABLE_CV))
        .collect();
    let k = reliable.len();
    let (statistic, critical) = if k == 0 {
        notes.push(Reason {
            code: "no_reliable_direct",
            message: format!(
                "no area has a direct estimate with a coefficient of variation of at most {:.0} %, so the model could not be compared with reliable direct estimates",
                RELIABLE_CV * 100.0
            ),
        });
        (None, None)
    } else {
        let w: f64 = reliable
            .iter()
            .map(|a| (a.direct - a.estimate).powi(2) / (a.psi + a.mse))
            .sum();
        let critical = ChiSquared::new(k as f64)
            .map_or(f64::NAN, |c| c.inverse_cdf(1.0 - AGREEMENT_TEST_LEVEL));
        if w > critical {
            reasons.push(Reason {
                code: "disagrees_with_reliable_direct",
                message: format!(
                    "the model-based estimates differ from the {k} reliable direct estimates (CV ≤ {:.0} %) more than sampling error allows: goodness-of-fit statistic {w:.2} > {critical:.2}, the 95 % point of chi-squared with {k} degrees of freedom",
                    RELIABLE_CV * 100.0
                ),
            });
        }
        (Some(w), Some(critical))
    };
    Diagnostics {
        passed: reasons.is_empty(),
        reasons,
        notes,
        sampled: m,
        large_residuals: large,
        large_residuals_probability: probability,
        reliable: k,
        agreement_statistic: statistic,
        agreement_critical: critical,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(r: f64, direct: f64, estimate: f64, cv: Option<f64>) -> AreaCheck {
        AreaCheck {
            standardised_residual: r,
            direct,
            psi: 0.01,
            estimate,
            mse: 0.005,
            cv,
        }
    }

    #[test]
    fn a_well_behaved_model_passes() {
        let areas: Vec<AreaCheck> = (0..40)
            .map(|i| {
                let r = if i == 3 { 2.1 } else { (i as f64 / 40.0) - 0.5 };
                area(r, 1.0, 1.0 + 0.05 * r, Some(if i < 10 { 0.1 } else { 0.4 }))
            })
            .collect();
        let d = diagnose(&areas);
        assert!(d.passed, "{d:?}");
        assert_eq!((d.large_residuals, d.reliable), (1, 10));
    }

    #[test]
    fn many_large_residuals_fail_with_a_stable_code() {
        let areas: Vec<AreaCheck> = (0..40)
            .map(|i| area(if i % 4 == 0 { 2.5 } else { 0.0 }, 1.0, 1.0, None))
            .collect();
        let d = diagnose(&areas);
        assert!(!d.passed);
        assert_eq!(d.reasons[0].code, "too_many_large_residuals");
        assert_eq!(d.notes[0].code, "no_reliable_direct");
    }

    #[test]
    fn disagreement_with_reliable_direct_estimates_fails() {
        // Reliable areas whose direct estimates sit 0.5 away from the model (sd ≈ 0.12).
        let areas: Vec<AreaCheck> = (0..20)
            .map(|i| area(0.5, 1.0, if i < 5 { 1.5 } else { 1.0 }, Some(0.05)))
            .collect();
        let d = diagnose(&areas);
        assert!(!d.passed);
        assert_eq!(d.reasons[0].code, "disagrees_with_reliable_direct");
        assert!(d.agreement_statistic.unwrap_or(0.0) > d.agreement_critical.unwrap_or(f64::MAX));
    }
}
