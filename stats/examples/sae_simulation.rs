//! The full simulation of the Fay–Herriot engine (see `tests/support/sae_sim.rs` for the
//! model): 100 areas of which 20 are non-sampled, 5,000 replicates per scenario, REML and ML,
//! plain and arcsine-transformed shares. Prints coverage of the 95 % intervals and the
//! EBLUP's empirical MSE relative to the direct estimator's.
//!
//! ```sh
//! cargo run --release -p hailong-stats --example sae_simulation [-- REPLICATES]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/sae_sim.rs"]
mod sae_sim;

use std::time::Instant;

use hailong_stats::sae::{Method, Transform};
use sae_sim::{Config, simulate};

fn main() {
    let replicates: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5_000);
    println!(
        "Fay–Herriot simulation: 100 areas (20 non-sampled), {replicates} replicates per scenario, 95 % intervals"
    );
    println!(
        "{:<6} {:<7} {:>17} {:>21} {:>20} {:>22} {:>12} {:>9}",
        "method",
        "scale",
        "coverage sampled",
        "coverage non-sampled",
        "MSE EBLUP / direct",
        "mean mse est / emp.",
        "diag. failed",
        "time"
    );
    for transform in [Transform::None, Transform::Arcsin] {
        for method in [Method::Reml, Method::Ml] {
            let started = Instant::now();
            let r = simulate(&Config {
                areas: 100,
                non_sampled_every: 5,
                replicates,
                method,
                transform,
                seed: 2026,
            });
            println!(
                "{:<6} {:<7} {:>17.4} {:>21.4} {:>20.3} {:>22.3} {:>12} {:>8.1}s",
                format!("{method:?}").to_lowercase(),
                format!("{transform:?}").to_lowercase(),
                r.coverage_sampled,
                r.coverage_non_sampled,
                r.mse_ratio,
                r.mse_estimate_ratio,
                r.failed_diagnostics,
                started.elapsed().as_secs_f64()
            );
        }
    }
}
