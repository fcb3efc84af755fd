//! EBLUP and its MSE (Prasad–Rao with the Datta–Lahiri form), and the synthetic estimate of
//! a non-sampled area, on the model's scale.
//!
//! For a sampled area i (samplics 0.6.1 `EblupAreaModel._eb_estimates`, b = 1; Rao & Molina
//! 2015, ch. 6; Prasad & Rao 1990, *JASA* 85, 163–171; Datta & Lahiri 2000, *Statistica Sinica* 10, 613–627), with vᵢ = σ̂²ᵥ + ψᵢ,
//! γᵢ = σ̂²ᵥ/vᵢ and A = X'V̂⁻¹X over the m sampled areas:
//!
//! * EBLUP θ̂ᵢ = γᵢyᵢ + (1 − γᵢ)xᵢ'β̂;
//! * g1ᵢ = γᵢψᵢ, g2ᵢ = (1 − γᵢ)² xᵢ'A⁻¹xᵢ, g3ᵢ = (1 − γᵢ)² · (2 / Σⱼ vⱼ⁻²) / vᵢ
//!   (2/Σⱼvⱼ⁻² is the asymptotic variance of σ̂²ᵥ, the same for REML and ML);
//! * REML: mse = g1 + g2 + 2·g3;
//! * ML: mse = g1 − (1 − γᵢ)²·b̂ + g2 + 2·g3, where b̂ = −tr(A⁻¹ X'V̂⁻²X) / (2·I) is the
//!   first-order bias of the ML estimator of σ²ᵥ and I = ½Σⱼvⱼ⁻² its Fisher information
//!   (samplics: `b_sigma2_v = -(1/2 * sigma2_v_cov) * b_term_ml`, `g1_partial = (1−γ)²·b`;
//!   (1 − γᵢ)² = ∂g1ᵢ/∂σ²ᵥ).
//!
//! For a non-sampled area l (no direct estimate) the predictor is the synthetic xₗ'β̂, and its
//! MSE is the limit ψₗ → ∞ of the formula above (γₗ → 0, g1ₗ → σ²ᵥ, g3ₗ → 0):
//! mse = σ̂²ᵥ + xₗ'A⁻¹xₗ (the MSE of the synthetic estimator, Rao & Molina 2015, ch. 6, on
//! areas with no sample; the σ̂²ᵥ-estimation term is of smaller order), and for ML minus b̂ (the ψ → ∞ limit of the bias term).
//! samplics 0.6.1 does not predict non-sampled areas; its fixtures' values for them are
//! computed by the fixture script from samplics' fit with this formula.

use super::Method;
use super::fit::{Data, Fit};
use super::linalg::Sym;

/// The EBLUP of one area and the terms of its MSE, on the model's scale.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Prediction {
    /// θ̂ᵢ (EBLUP, or synthetic xᵢ'β̂ for a non-sampled area).
    pub estimate: f64,
    /// xᵢ'β̂, the synthetic (regression) part.
    pub synthetic: f64,
    /// γᵢ = σ̂²ᵥ/(σ̂²ᵥ + ψᵢ), the weight of the direct estimate (0 for a non-sampled area).
    pub gamma: f64,
    /// g1ᵢ (σ̂²ᵥ for a non-sampled area).
    pub g1: f64,
    /// g2ᵢ.
    pub g2: f64,
    /// g3ᵢ (0 for a non-sampled area).
    pub g3: f64,
    /// The ML bias correction subtracted from g1 ((1 − γᵢ)²·b̂; 0 for REML).
    pub bias_term: f64,
    /// The estimated MSE of θ̂ᵢ.
    pub mse: f64,
}

/// Shared pieces of the MSE: A⁻¹, Σⱼ vⱼ⁻², and b̂ (ML).
pub(crate) struct MseParts {
    a_inv: Sym,
    sigma2: f64,
    beta: Vec<f64>,
    g3_scale: f64,
    bias: f64,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl MseParts {
    pub(crate) fn new(data: &Data, fit: &Fit) -> MseParts {
        let p = fit.parameters();
        let a_inv = Sym {
            p,
            a: fit.beta_cov.clone(),
        };
        let mut sum_inv2 = 0.0;
        let mut b2 = Sym::zeros(p);
        for (x, &psi) in data.x.iter().zip(&data.psi) {
            let v = fit.sigma2 + psi;
            sum_inv2 += 1.0 / (v * v);
            b2.add_outer(1.0 / (v * v), x);
        }
        let bias = match fit.method {
            Method::Reml => 0.0,
            // I = ½Σvⱼ⁻², the ML information at σ̂²ᵥ.
            Method::Ml => -a_inv.trace_prod(&b2) / (2.0 * (0.5 * sum_inv2)),
        };
        MseParts {
            a_inv,
            sigma2: fit.sigma2,
            beta: fit.beta.clone(),
            g3_scale: 2.0 / sum_inv2,
            bias,
        }
    }

    /// A sampled area: direct estimate `y`, variance `psi`, design row `x`.
    pub(crate) fn sampled(&self, y: f64, psi: f64, x: &[f64]) -> Prediction {
        let v = self.sigma2 + psi;
        let gamma = self.sigma2 / v;
        let synthetic = dot(x, &self.beta);
        let shrink2 = (1.0 - gamma) * (1.0 - gamma);
        let g1 = gamma * psi;
        let g2 = shrink2 * self.a_inv.quad(x);
        let g3 = shrink2 * self.g3_scale / v;
        let bias_term = shrink2 * self.bias;
        Prediction {
            estimate: gamma * y + (1.0 - gamma) * synthetic,
            synthetic,
            gamma,
            g1,
            g2,
            g3,
            bias_term,
            mse: g1 - bias_term + g2 + 2.0 * g3,
        }
    }

    /// A non-sampled area with design row `x`.
    pub(crate) fn non_sampled(&self, x: &[f64]) -> Prediction {
        let synthetic = dot(x, &self.beta);
        let g2 = self.a_inv.quad(x);
        Prediction {
            estimate: synthetic,
            synthetic,
            gamma: 0.0,
            g1: self.sigma2,
            g2,
            g3: 0.0,
            bias_term: self.bias,
            mse: self.sigma2 - self.bias + g2,
        }
    }
}
