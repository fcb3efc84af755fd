//! Benchmarking: making the area estimates add up to a reliable higher-level estimate.
//!
//! Ratio benchmarking (Rao & Molina 2015, ch. 6, on benchmarking; Pfeffermann 2013, *Stat.
//! Sci.* 28, 40–68): given area estimates θ̂ᵢ, population shares wᵢ of the areas within the
//! higher level (normalised here to sum to 1, so counts can be given) and the higher level's
//! direct estimate t, each estimate is multiplied by the same factor
//!
//! f = t / Σᵢ wᵢθ̂ᵢ, θ̂ᵢᴮ = f·θ̂ᵢ, so that Σᵢ wᵢθ̂ᵢᴮ = t.
//!
//! The areas must cover the higher level (every area of it, sampled or not). The factor says
//! how far the model's total drifts from the direct one (close to 1 for a sound model). The
//! MSE of θ̂ᵢᴮ is not that of θ̂ᵢ: f²·mseᵢ is a common first approximation, and it ignores the
//! variability of f; the caller decides whether to report it.

use super::error::SaeError;

/// Benchmarked estimates and the factor applied.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Benchmarked {
    /// f = t / Σ wᵢθ̂ᵢ.
    pub factor: f64,
    /// f·θ̂ᵢ, in the order given.
    pub estimates: Vec<f64>,
}

/// Ratio-benchmarks `estimates` with population `weights` (shares or counts) to `target`.
pub fn ratio_benchmark(
    estimates: &[f64],
    weights: &[f64],
    target: f64,
) -> Result<Benchmarked, SaeError> {
    if estimates.len() != weights.len() {
        return Err(SaeError::Invalid(format!(
            "benchmarking: {} estimates but {} population weights",
            estimates.len(),
            weights.len()
        )));
    }
    if estimates.is_empty() {
        return Err(SaeError::Invalid("benchmarking: no areas".into()));
    }
    if !target.is_finite() {
        return Err(SaeError::Invalid(
            "benchmarking: the higher-level estimate is not a number".into(),
        ));
    }
    if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
        return Err(SaeError::Invalid(format!(
            "benchmarking: population weight {w} is not a non-negative number"
        )));
    }
    if let Some(e) = estimates.iter().find(|e| !e.is_finite()) {
        return Err(SaeError::Invalid(format!(
            "benchmarking: area estimate {e} is not a number"
        )));
    }
    let total_weight: f64 = weights.iter().sum();
    if total_weight <= 0.0 {
        return Err(SaeError::Invalid(
            "benchmarking: the population weights sum to 0".into(),
        ));
    }
    let aggregate: f64 = estimates
        .iter()
        .zip(weights)
        .map(|(e, w)| e * w / total_weight)
        .sum();
    if aggregate == 0.0 {
        return Err(SaeError::Invalid(
            "benchmarking: the weighted sum of the area estimates is 0, no ratio can be taken"
                .into(),
        ));
    }
    let factor = target / aggregate;
    Ok(Benchmarked {
        factor,
        estimates: estimates.iter().map(|e| e * factor).collect(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn benchmarked_estimates_add_up_to_the_target() {
        let estimates = [0.62, 0.71, 0.55, 0.80];
        let population = [1200.0, 800.0, 1500.0, 500.0];
        let b = ratio_benchmark(&estimates, &population, 0.66).unwrap();
        let total: f64 = b
            .estimates
            .iter()
            .zip(&population)
            .map(|(e, w)| e * w / 4000.0)
            .sum();
        assert!((total - 0.66).abs() < 1e-15);
        // Every estimate moves by the same factor.
        for (before, after) in estimates.iter().zip(&b.estimates) {
            assert!((after / before - b.factor).abs() < 1e-14);
        }
        // Already benchmarked estimates stay as they are.
        let again = ratio_benchmark(&b.estimates, &population, 0.66).unwrap();
        assert!((again.factor - 1.0).abs() < 1e-14);
    }

    #[test]
    fn bad_benchmarking_input_is_refused() {
        assert!(ratio_benchmark(&[1.0], &[1.0, 2.0], 1.0).is_err());
        assert!(ratio_benchmark(&[1.0, 2.0], &[-1.0, 2.0], 1.0).is_err());
        assert!(ratio_benchmark(&[1.0, 2.0], &[0.0, 0.0], 1.0).is_err());
        assert!(ratio_benchmark(&[0.0, 0.0], &[1.0, 1.0], 1.0).is_err());
        assert!(ratio_benchmark(&[], &[], 1.0).is_err());
        assert!(ratio_benchmark(&[1.0], &[1.0], f64::NAN).is_err());
    }
}
