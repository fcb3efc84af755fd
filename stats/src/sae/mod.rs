//! # Small-area estimation: the Fay–Herriot area-level model
//!
//! Areas too small for a reliable direct estimate (communes in a survey sized for provinces)
//! borrow strength from area-level covariates. For each area i with a direct estimate yᵢ of
//! known sampling variance ψᵢ, the model is
//!
//! yᵢ = xᵢ'β + vᵢ + eᵢ, vᵢ ~ N(0, σ²ᵥ), eᵢ ~ N(0, ψᵢ)
//!
//! (Fay & Herriot 1979, *JASA* 74, 269–277; Rao & Molina 2015, *Small Area Estimation*, 2nd
//! ed., Wiley, ch. 6). [`estimate`] fits σ²ᵥ by REML or ML and β by GLS ([`fit`]), predicts
//! every area by its EBLUP — or, with no direct estimate, by the synthetic xᵢ'β̂ — with the
//! Prasad–Rao / Datta–Lahiri MSE ([`mse`]), optionally on the arcsine-square-root scale for
//! shares ([`transform`]), and checks the model against the data ([`diagnostics`]).
//! [`benchmark`] ratio-adjusts estimates to a higher level's direct estimate.
//!
//! σ̂²ᵥ, β̂, EBLUPs and MSEs match Python `samplics` 0.6.1 (`EblupAreaModel`) to about 1e-13
//! relative (the test requires 1e-6): `stats/tests/sae_fixtures.rs`, with the script that made
//! the fixtures in `stats/tests/fixtures/sae/`. `stats/tests/sae_simulation.rs` checks the
//! intervals' coverage by simulation.
//!
//! ```
//! use hailong_stats::sae::{AreaInput, SaeOptions, estimate};
//!
//! # fn main() -> Result<(), hailong_stats::sae::SaeError> {
//! let areas: Vec<AreaInput> = [
//!     ("c1", Some(3.1), 0.4, 1.0), ("c2", Some(2.2), 0.9, 0.2), ("c3", Some(3.9), 0.5, 1.4),
//!     ("c4", Some(1.8), 0.7, 0.1), ("c5", Some(3.0), 0.3, 0.9), ("c6", None, 0.0, 0.6),
//! ]
//! .into_iter()
//! .map(|(code, direct, variance, x)| AreaInput {
//!     code: code.into(),
//!     direct,
//!     variance: direct.map(|_| variance),
//!     covariates: vec![x],
//!     n: None,
//! })
//! .collect();
//! let result = estimate(&areas, &SaeOptions::default())?;
//! assert_eq!(result.areas.len(), 6);
//! assert!(!result.areas[5].sampled); // c6: synthetic estimate x'β̂
//! # Ok(())
//! # }
//! ```

pub mod benchmark;
pub mod diagnostics;
pub mod error;
pub mod fit;
mod linalg;
pub mod mse;
pub mod transform;

use std::collections::HashSet;

pub use benchmark::{Benchmarked, ratio_benchmark};
pub use diagnostics::{Diagnostics, Reason};
pub use error::{Field, SaeError};
pub use fit::Fit;
pub use mse::Prediction;

use diagnostics::AreaCheck;
use fit::Data;
use mse::MseParts;

/// How σ²ᵥ is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Restricted maximum likelihood (MSE: g1 + g2 + 2·g3).
    #[default]
    Reml,
    /// Maximum likelihood (MSE with the bias term of σ̂²ᵥ).
    Ml,
}

/// The scale the model is fitted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transform {
    /// The direct estimates as given, with their given variances.
    #[default]
    None,
    /// Shares: y = asin(√p), ψ = 1/(4n) from an effective sample size n; estimates are
    /// reported back on the share scale ([`transform`]).
    Arcsin,
}

/// Options of [`estimate`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SaeOptions {
    /// REML (default) or ML.
    pub method: Method,
    /// No transform (default) or arcsine square root.
    pub transform: Transform,
    /// Confidence level of the intervals (default 0.95).
    pub level: f64,
    /// Change of σ²ᵥ, relative to max(σ²ᵥ, mean ψ), at which Fisher scoring stops (default
    /// 1e-12; see [`fit`]).
    pub tolerance: f64,
    /// Largest number of Fisher-scoring iterations (default 200).
    pub max_iterations: usize,
}

impl Default for SaeOptions {
    fn default() -> SaeOptions {
        SaeOptions {
            method: Method::Reml,
            transform: Transform::None,
            level: 0.95,
            tolerance: 1e-12,
            max_iterations: 200,
        }
    }
}

/// One area's input.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaInput {
    /// The area's code (unique).
    pub code: String,
    /// Direct estimate (a share in [0, 1] with [`Transform::Arcsin`]); `None` for an area
    /// without sample, which gets the synthetic estimate.
    pub direct: Option<f64>,
    /// Sampling variance ψᵢ > 0 of the direct estimate; required for a sampled area with
    /// [`Transform::None`], unused with [`Transform::Arcsin`] (ψᵢ = 1/(4nᵢ)).
    pub variance: Option<f64>,
    /// Area-level covariates, the same number for every area (an intercept is added).
    pub covariates: Vec<f64>,
    /// Effective sample size nᵢ > 0, required for a sampled area with [`Transform::Arcsin`].
    pub n: Option<f64>,
}

/// One area's result. `eblup`, `mse` and the interval are on the reported scale (shares with
/// the arcsine transform); `model` has the model-scale figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AreaEstimate {
    /// The area's code.
    pub code: String,
    /// Whether the area had a direct estimate (otherwise the estimate is synthetic).
    pub sampled: bool,
    /// The direct estimate as given.
    pub direct: Option<f64>,
    /// Model-based estimate: EBLUP, or synthetic for a non-sampled area (back-transformed
    /// and bias-corrected with the arcsine transform).
    pub eblup: f64,
    /// Its estimated MSE.
    pub mse: f64,
    /// Lower end of the interval at the chosen level.
    pub ci_low: f64,
    /// Upper end.
    pub ci_high: f64,
    /// Shrinkage factor γᵢ (weight of the direct estimate; 0 for a non-sampled area).
    pub gamma: f64,
    /// (yᵢ − xᵢ'β̂)/√(σ̂²ᵥ + ψᵢ) on the model scale, for a sampled area.
    pub standardised_residual: Option<f64>,
    /// Coefficient of variation of the direct estimate on the reported scale.
    pub direct_cv: Option<f64>,
    /// ψᵢ, the sampling variance on the model scale, for a sampled area.
    pub psi: Option<f64>,
    /// The EBLUP and its MSE terms on the model scale.
    pub model: Prediction,
}

/// Everything [`estimate`] returns.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SaeResult {
    /// The fitted model (model scale).
    pub fit: Fit,
    /// The scale the model was fitted on.
    pub transform: Transform,
    /// Confidence level of the intervals.
    pub level: f64,
    /// One result per input area, in input order.
    pub areas: Vec<AreaEstimate>,
    /// Whether the model may be published, and why not.
    pub diagnostics: Diagnostics,
}

fn value_error(row: usize, area: &AreaInput, field: Field, message: String) -> SaeError {
    SaeError::Value {
        row,
        code: area.code.clone(),
        field,
        message,
    }
}

/// Checks the input and puts the sampled areas on the model scale.
fn prepare(
    areas: &[AreaInput],
    options: &SaeOptions,
) -> Result<(Data, Vec<Option<f64>>), SaeError> {
    if !(options.level > 0.0 && options.level < 1.0) {
        return Err(SaeError::Invalid(format!(
            "the confidence level must lie strictly between 0 and 1, not {}",
            options.level
        )));
    }
    if !(options.tolerance > 0.0 && options.tolerance.is_finite()) || options.max_iterations == 0 {
        return Err(SaeError::Invalid(
            "the tolerance must be a positive number and at least one iteration allowed".into(),
        ));
    }
    let k = areas.first().map_or(0, |a| a.covariates.len());
    let mut seen = HashSet::new();
    let mut data = Data {
        y: Vec::new(),
        psi: Vec::new(),
        x: Vec::new(),
    };
    let mut psi_of = Vec::with_capacity(areas.len());
    for (row, area) in areas.iter().enumerate() {
        if area.code.trim().is_empty() {
            return Err(value_error(
                row,
                area,
                Field::Code,
                "empty area code".into(),
            ));
        }
        if !seen.insert(area.code.as_str()) {
            return Err(SaeError::DuplicateArea {
                row,
                code: area.code.clone(),
            });
        }
        if area.covariates.len() != k {
            return Err(value_error(
                row,
                area,
                Field::Covariate(area.covariates.len().min(k)),
                format!(
                    "{} covariate(s) where the first area has {k}",
                    area.covariates.len()
                ),
            ));
        }
        if let Some(j) = area.covariates.iter().position(|c| !c.is_finite()) {
            return Err(value_error(
                row,
                area,
                Field::Covariate(j),
                "covariate is not a finite number".into(),
            ));
        }
        let Some(direct) = area.direct else {
            psi_of.push(None);
            continue;
        };
        if !direct.is_finite() {
            return Err(value_error(
                row,
                area,
                Field::Direct,
                "not a finite number".into(),
            ));
        }
        let (y, psi) = match options.transform {
            Transform::None => {
                let psi = area.variance.ok_or_else(|| {
                    value_error(
                        row,
                        area,
                        Field::Variance,
                        "a direct estimate needs its variance".into(),
                    )
                })?;
                if !(psi.is_finite() && psi > 0.0) {
                    return Err(value_error(
                        row,
                        area,
                        Field::Variance,
                        format!("variance {psi} must be a positive number"),
                    ));
                }
                (direct, psi)
            }
            Transform::Arcsin => {
                if !(0.0..=1.0).contains(&direct) {
                    return Err(value_error(
                        row,
                        area,
                        Field::Direct,
                        format!(
                            "share {direct} must lie between 0 and 1 for the arcsine transform"
                        ),
                    ));
                }
                let n = area.n.ok_or_else(|| {
                    value_error(
                        row,
                        area,
                        Field::N,
                        "a direct estimate needs its effective sample size for the arcsine transform"
                            .into(),
                    )
                })?;
                if !(n.is_finite() && n > 0.0) {
                    return Err(value_error(
                        row,
                        area,
                        Field::N,
                        format!("effective sample size {n} must be a positive number"),
                    ));
                }
                (
                    transform::arcsin_sqrt(direct),
                    transform::arcsin_variance(n),
                )
            }
        };
        let mut x = Vec::with_capacity(k + 1);
        x.push(1.0);
        x.extend_from_slice(&area.covariates);
        data.y.push(y);
        data.psi.push(psi);
        data.x.push(x);
        psi_of.push(Some(psi));
    }
    if data.m() <= k + 1 {
        return Err(SaeError::TooFewAreas {
            sampled: data.m(),
            parameters: k + 1,
        });
    }
    Ok((data, psi_of))
}

/// Fits the Fay–Herriot model to `areas` and predicts every area (see the module doc).
pub fn estimate(areas: &[AreaInput], options: &SaeOptions) -> Result<SaeResult, SaeError> {
    let (data, psi_of) = prepare(areas, options)?;
    let fit = fit::fit(
        &data,
        options.method,
        options.tolerance,
        options.max_iterations,
    )?;
    let parts = MseParts::new(&data, &fit);
    let z = statrs::distribution::ContinuousCDF::inverse_cdf(
        &statrs::distribution::Normal::standard(),
        0.5 + options.level / 2.0,
    );
    let mut out = Vec::with_capacity(areas.len());
    let mut checks = Vec::with_capacity(data.m());
    for (area, psi) in areas.iter().zip(&psi_of) {
        let mut x = Vec::with_capacity(area.covariates.len() + 1);
        x.push(1.0);
        x.extend_from_slice(&area.covariates);
        let (prediction, y) = match (area.direct, psi) {
            (Some(direct), Some(psi)) => {
                let y = match options.transform {
                    Transform::None => direct,
                    Transform::Arcsin => transform::arcsin_sqrt(direct),
                };
                (parts.sampled(y, *psi, &x), Some(y))
            }
            _ => (parts.non_sampled(&x), None),
        };
        let standardised_residual = y
            .zip(*psi)
            .map(|(y, psi)| (y - prediction.synthetic) / (fit.sigma2 + psi).sqrt());
        let (eblup, mse, ci_low, ci_high, direct_cv) = match options.transform {
            Transform::None => {
                let half = z * prediction.mse.max(0.0).sqrt();
                let cv = area
                    .direct
                    .zip(*psi)
                    .filter(|(d, _)| *d != 0.0)
                    .map(|(d, psi)| psi.sqrt() / d.abs());
                (
                    prediction.estimate,
                    prediction.mse,
                    prediction.estimate - half,
                    prediction.estimate + half,
                    cv,
                )
            }
            Transform::Arcsin => {
                let b = transform::back_transform(
                    prediction.estimate,
                    prediction.g1,
                    prediction.mse,
                    z,
                );
                // Var(p̂) = p(1−p)/n = 4p(1−p)ψ on the share scale.
                let cv = area
                    .direct
                    .zip(*psi)
                    .filter(|(d, _)| *d > 0.0)
                    .map(|(d, psi)| (4.0 * d * (1.0 - d) * psi).sqrt() / d);
                (b.estimate, b.mse, b.ci_low, b.ci_high, cv)
            }
        };
        if let (Some(y), Some(psi), Some(r)) = (y, psi, standardised_residual) {
            checks.push(AreaCheck {
                standardised_residual: r,
                direct: y,
                psi: *psi,
                estimate: prediction.estimate,
                mse: prediction.mse,
                cv: direct_cv,
            });
        }
        out.push(AreaEstimate {
            code: area.code.clone(),
            sampled: y.is_some(),
            direct: area.direct,
            eblup,
            mse,
            ci_low,
            ci_high,
            gamma: prediction.gamma,
            standardised_residual,
            direct_cv,
            psi: *psi,
            model: prediction,
        });
    }
    Ok(SaeResult {
        fit,
        transform: options.transform,
        level: options.level,
        areas: out,
        diagnostics: diagnostics::diagnose(&checks),
    })
}
