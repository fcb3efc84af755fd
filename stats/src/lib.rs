//! # hailong-stats: design-based estimation for satisfaction surveys
//!
//! A pure, deterministic engine (no database, no HTTP) that computes, per domain, the
//! weighted mean of each item, the weighted share "satisfied" (answer ≥ a threshold) and
//! composite indices, with Taylor-linearised standard errors, design effects and confidence
//! intervals that reproduce R's `survey` package (Lumley) — `svydesign`, `svymean`, `svyby`,
//! `svyratio`, `svycontrast`, `svyciprop`, `postStratify`, `rake`, `degf` — to the last digits.
//!
//! The data are columnar: a [`Design`] (weights, strata, clusters per stage, fpc), optionally
//! [`Design::calibrate`]d to population [`Margin`]s, [`Item`] columns of answers (NaN =
//! missing) and a [`Domains`] assignment of rows. An [`Estimator`] makes one pass over the
//! rows for the point estimates and one for every variance, never materialising
//! cross-domain covariances. The same estimates come from responses summarised per group
//! ([`Groups`]: a few additive totals per group and item, see [`grouped`]) through
//! [`Estimator::grouped`], in time and memory proportional to the groups.
//!
//! ```
//! use hailong_stats::{Design, DesignSpec, Domains, EstimateOptions, Estimator, Factor, Item, Stage};
//!
//! # fn main() -> Result<(), hailong_stats::StatsError> {
//! let design = Design::new(DesignSpec {
//!     weights: vec![10.0, 12.0, 8.0, 9.0, 11.0, 10.0],
//!     strata: Some(Factor::from_labels(["U", "U", "U", "R", "R", "R"])),
//!     stages: vec![Stage {
//!         clusters: Some(Factor::from_labels(["c1", "c1", "c2", "c3", "c4", "c4"])),
//!         fpc: None,
//!     }],
//!     ..DesignSpec::default()
//! })?;
//! let items = vec![Item::new("q1", vec![5.0, 4.0, 2.0, 3.0, f64::NAN, 4.0])];
//! let estimator = Estimator::new(&design, &items, &[], EstimateOptions::default())?;
//! let results = estimator.estimate(&Domains::all(design.n_rows()))?;
//! assert_eq!(results.len(), 2); // mean and "satisfied" of q1 in domain ALL
//! # Ok(())
//! # }
//! ```
//!
//! The formulas are documented where they are implemented: [`design`] (variance, fpc,
//! lonely PSUs, df), [`calibration`] (post-stratification, raking), [`estimate`] (domain
//! estimators, indices, differences, deff, effective sample size) and [`intervals`].
//! [`cli`] is the `hailong estimate` command over a CSV file.
//!
//! [`sae`] is the model-based side: Fay–Herriot small-area estimates (EBLUP with MSE) for
//! areas too small for direct estimates, matching Python `samplics`; `hailong sae` is its
//! command ([`cli::sae`]).

pub mod calibration;
pub mod cli;
mod compact;
pub mod derive;
pub mod design;
pub mod encoding;
pub mod error;
pub mod estimate;
pub mod factor;
pub mod grouped;
pub mod intervals;
pub mod sae;
pub mod spec;
mod variance;

pub use calibration::{Calibration, Margin};
pub use design::{Design, DesignSpec, LonelyPsu, Stage};
pub use error::StatsError;
pub use estimate::{
    Domains, Estimate, EstimateOptions, Estimator, IndexKind, IndexSpec, Item, Statistic,
};
pub use factor::Factor;
pub use grouped::Groups;
pub use intervals::CiMethod;
