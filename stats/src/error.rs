//! Errors of the estimation engine.

use thiserror::Error;

/// An error of the pure estimation engine (designs, calibration, estimators).
///
/// Rows are 0-based positions in the columnar data; the CLI translates them into line numbers
/// of the input file (see [`crate::cli::StatsCliError`]).
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StatsError {
    /// A value in one row is not acceptable (negative weight, inconsistent fpc, …).
    #[error("row {}, column \"{column}\": {message}", row + 1)]
    Value {
        /// 0-based row index.
        row: usize,
        /// Name of the column (or role, e.g. `weight`, `fpc stage 1`).
        column: String,
        /// What is wrong with the value.
        message: String,
    },
    /// Two columns that must describe the same rows have different lengths.
    #[error("{what} has {got} rows but the design has {expected}")]
    Length {
        /// Which column.
        what: String,
        /// Number of rows of the design.
        expected: usize,
        /// Number of rows given.
        got: usize,
    },
    /// A stratum (or, at later stages, a cluster) with a single sampled unit under
    /// `LonelyPsu::Fail`; the message is the one R's `survey` package gives.
    #[error("Stratum ({stratum}) has only one PSU at stage {stage}")]
    LonelyPsu {
        /// Label of the stratum as R names it (`stratum.psu` at stage 2).
        stratum: String,
        /// 1-based sampling stage.
        stage: usize,
    },
    /// Raking did not reach the tolerance within the allowed number of sweeps.
    #[error(
        "raking did not converge after {sweeps} sweeps (largest relative change of a weight or margin in the last sweep: {change:e})"
    )]
    RakingNotConverged {
        /// Sweeps done.
        sweeps: usize,
        /// Largest relative change of a weight, or relative miss of a margin, in the last sweep.
        change: f64,
    },
    /// Calibration margins that do not fit the data.
    #[error("calibration: {0}")]
    Calibration(String),
    /// An invalid specification (unknown item, empty index, level outside (0, 1), …).
    #[error("{0}")]
    Invalid(String),
}

impl StatsError {
    /// The 0-based row the error is about, if any.
    pub fn row(&self) -> Option<usize> {
        match self {
            StatsError::Value { row, .. } => Some(*row),
            _ => None,
        }
    }
}
