//! The one error type of the small-area engine.

use thiserror::Error;

/// Which value of an area's input an error is about (the CLI maps it to a column name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The area's code.
    Code,
    /// The direct estimate.
    Direct,
    /// The variance of the direct estimate.
    Variance,
    /// The effective sample size (arcsine transform).
    N,
    /// The covariate at this 0-based position.
    Covariate(usize),
}

/// An error of the Fay–Herriot engine: bad input, or a model that cannot be fitted.
///
/// Rows are 0-based positions in the slice of areas given to [`super::estimate`].
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SaeError {
    /// One area's value cannot be used (negative variance, share outside [0, 1], …).
    #[error("area {} ({code}): {message}", row + 1)]
    Value {
        /// 0-based position of the area.
        row: usize,
        /// The area's code.
        code: String,
        /// Which value.
        field: Field,
        /// What is wrong, in plain words.
        message: String,
    },
    /// The same area code twice.
    #[error("area {}: the code \"{code}\" is used twice", row + 1)]
    DuplicateArea {
        /// 0-based position of the second occurrence.
        row: usize,
        /// The code.
        code: String,
    },
    /// Not enough areas with a direct estimate for the number of regression coefficients.
    #[error(
        "{sampled} area(s) with a direct estimate cannot fit a model with {parameters} regression coefficient(s): at least {} are needed",
        parameters + 1
    )]
    TooFewAreas {
        /// Areas with a direct estimate.
        sampled: usize,
        /// Coefficients including the intercept.
        parameters: usize,
    },
    /// The covariates are collinear (or constant) over the sampled areas: X'V⁻¹X is singular.
    #[error(
        "the covariates are collinear over the areas with a direct estimate (one is constant or a combination of the others)"
    )]
    Collinear,
    /// Fisher scoring for σ²ᵥ did not converge.
    #[error(
        "the area-effect variance did not converge after {iterations} Fisher-scoring iterations (last relative change {change:e})"
    )]
    NotConverged {
        /// Iterations done.
        iterations: usize,
        /// Last relative change of σ²ᵥ.
        change: f64,
    },
    /// Invalid options or arguments (confidence level, benchmarking input, …).
    #[error("{0}")]
    Invalid(String),
}

impl SaeError {
    /// The 0-based area position the error is about, if any.
    pub fn row(&self) -> Option<usize> {
        match self {
            SaeError::Value { row, .. } | SaeError::DuplicateArea { row, .. } => Some(*row),
            _ => None,
        }
    }
}
