//! The arcsine-square-root transform for shares, and the way back.
//!
//! For a share pᵢ ∈ [0, 1] estimated from an effective sample of nᵢ, the model is fitted to
//! yᵢ = asin(√pᵢ), whose sampling variance is ψᵢ = 1/(4nᵢ) whatever pᵢ is (the variance-
//! stabilising property: Var(asin √p̂) ≈ [1/(2√(p(1−p)))]²·p(1−p)/n by the delta method).
//! This is the transform of R `emdi::fh(transformation = "arcsin")` (Kreutzmann et al. 2019,
//! *J. Stat. Softw.* 91(7); Casas-Cordero, Encina & Lahiri 2016, *JRSS A* 179, 257–281).
//!
//! Back to the share scale, for an area whose EBLUP on the model scale is θ̂ᵢ:
//!
//! * **Point estimate, bias-corrected**: p̃ᵢ = E[sin²X] for X ~ N(θ̂ᵢ, sᵢ²), in closed form
//!   p̃ᵢ = ½ − ½·e^(−2sᵢ²)·cos(2θ̂ᵢ) (since sin²x = ½ − ½cos 2x and E[cos 2X] = e^(−2s²)cos 2μ).
//!   sᵢ² is the variance of θᵢ given the data under the model, g1ᵢ = σ̂²ᵥ(1 − γᵢ) for a sampled
//!   area and σ̂²ᵥ for a non-sampled one — the choice of Slud & Maiti (2006, *JRSS B* 68,
//!   239–257) for the log transform and of `emdi`'s arcsine back-transformation `"bc"` (which
//!   integrates numerically over [0, π/2]; here over the whole line, where sin² is still a
//!   share). With σ̂²ᵥ = 0 there is nothing to correct.
//! * **Interval**: the interval on the model scale, θ̂ᵢ ± z·√mseᵢ, clamped to [0, π/2], with
//!   both endpoints transformed by sin² (a transform is monotone there, so the coverage is
//!   that of the model-scale interval).
//! * **MSE on the share scale**: the delta method, mse(p̃ᵢ) ≈ [d sin²θ/dθ]²·mseᵢ =
//!   sin²(2θ̂ᵢ)·mseᵢ, with θ̂ᵢ clamped to [0, π/2]. Chosen over a parametric bootstrap because
//!   it is deterministic, needs no random numbers in this pure library and costs nothing for
//!   thousands of communes; its weakness is near shares of 0 and 1, where the derivative
//!   vanishes and the MSE is understated — which is why the interval is not built from it.

use std::f64::consts::FRAC_PI_2;

/// y = asin(√p) for a share p ∈ [0, 1].
pub fn arcsin_sqrt(p: f64) -> f64 {
    p.sqrt().asin()
}

/// ψ = 1/(4n), the variance of asin(√p̂) for an effective sample size n.
pub fn arcsin_variance(n: f64) -> f64 {
    1.0 / (4.0 * n)
}

/// E[sin²X] for X ~ N(mu, s2): ½ − ½·e^(−2·s2)·cos(2·mu).
pub fn expected_sin2(mu: f64, s2: f64) -> f64 {
    0.5 - 0.5 * (-2.0 * s2).exp() * (2.0 * mu).cos()
}

/// A model-scale estimate taken back to the share scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackTransformed {
    /// Bias-corrected share.
    pub estimate: f64,
    /// Delta-method MSE on the share scale.
    pub mse: f64,
    /// Lower end of the interval (share scale).
    pub ci_low: f64,
    /// Upper end of the interval (share scale).
    pub ci_high: f64,
}

/// Back-transforms θ̂ with conditional variance `s2` (g1, or σ²ᵥ for a non-sampled area),
/// model-scale `mse` and normal quantile `z` (see the module doc).
pub fn back_transform(theta: f64, s2: f64, mse: f64, z: f64) -> BackTransformed {
    let clamp = |t: f64| t.clamp(0.0, FRAC_PI_2);
    let half = z * mse.max(0.0).sqrt();
    let sin2 = |t: f64| clamp(t).sin().powi(2);
    BackTransformed {
        estimate: expected_sin2(theta, s2.max(0.0)),
        mse: (2.0 * clamp(theta)).sin().powi(2) * mse,
        ci_low: sin2(theta - half),
        ci_high: sin2(theta + half),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transform_round_trips_without_variance() {
        for p in [0.0, 0.03, 0.5, 0.81, 1.0] {
            let b = back_transform(arcsin_sqrt(p), 0.0, 0.0, 1.96);
            assert!((b.estimate - p).abs() < 1e-15, "{p} {b:?}");
            assert!((b.ci_low - p).abs() < 1e-15 && (b.ci_high - p).abs() < 1e-15);
        }
        assert_eq!(arcsin_variance(25.0), 0.01);
    }

    /// The closed form of E[sin²X] against a numerical integral (Simpson, ±10 sd).
    #[test]
    fn bias_correction_is_the_normal_expectation_of_sin_squared() {
        for (mu, s2) in [(0.3, 0.01), (1.2, 0.05), (0.05, 0.02), (1.5, 0.2)] {
            let sd = f64::sqrt(s2);
            let (a, b, n) = (mu - 10.0 * sd, mu + 10.0 * sd, 20_000);
            let h = (b - a) / n as f64;
            let f = |x: f64| {
                x.sin().powi(2) * (-(x - mu).powi(2) / (2.0 * s2)).exp()
                    / (sd * (2.0 * std::f64::consts::PI).sqrt())
            };
            let mut total = f(a) + f(b);
            for k in 1..n {
                total += f(a + k as f64 * h) * if k % 2 == 1 { 4.0 } else { 2.0 };
            }
            let integral = total * h / 3.0;
            assert!(
                (expected_sin2(mu, s2) - integral).abs() < 1e-10,
                "{mu} {s2}"
            );
        }
    }

    #[test]
    fn interval_endpoints_are_clamped_to_shares() {
        let b = back_transform(0.1, 0.01, 0.04, 1.96);
        assert_eq!(b.ci_low, 0.0);
        assert!(b.ci_high > b.estimate && b.ci_high < 1.0);
        let b = back_transform(1.5, 0.01, 0.04, 1.96);
        assert_eq!(b.ci_high, 1.0);
        // Delta method: sin²(2θ)·mse.
        let b = back_transform(0.6, 0.01, 0.04, 1.96);
        assert!((b.mse - (1.2f64).sin().powi(2) * 0.04).abs() < 1e-15);
    }
}
