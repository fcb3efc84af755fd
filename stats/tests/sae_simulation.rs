//! Simulation test of the Fay–Herriot engine (small configuration; the full one is
//! `cargo run --release -p hailong-stats --example sae_simulation`): over 500 replicates of 60
//! areas (10 without sample) drawn from the model, the 95 % intervals of sampled areas cover
//! the true values 93–97 % of the time (non-sampled: 90–97 %), the EBLUP's empirical MSE is
//! below the direct estimator's, and the diagnostics rarely reject the true model.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support {
    pub mod sae_sim;
}

use hailong_stats::sae::{Method, Transform};
use support::sae_sim::{Config, simulate};

/// Band for the coverage of nominal 95 % intervals of sampled areas: the Prasad–Rao MSE is
/// second-order unbiased, so coverage is close to 95 % with 50 sampled areas; the band allows
/// for Monte-Carlo error (25,000 intervals, correlated within a replicate) and the normal
/// approximation.
const BAND: (f64, f64) = (0.93, 0.97);
/// Band for non-sampled areas: their MSE σ̂²ᵥ + g2 has no term for the uncertainty of σ̂²ᵥ
/// (g3 vanishes as ψ → ∞), so with tens of areas the interval undercovers by a few points
/// (about 92 % here; the full simulation with 80 sampled areas is closer to 95 %).
const BAND_NON_SAMPLED: (f64, f64) = (0.90, 0.97);
/// Largest share of replicates, drawn from the model itself, whose diagnostics may fail.
const FALSE_ALARMS: f64 = 0.03;

fn config(method: Method, transform: Transform) -> Config {
    Config {
        areas: 60,
        non_sampled_every: 6,
        replicates: 500,
        method,
        transform,
        seed: 19,
    }
}

fn check(method: Method, transform: Transform) {
    let r = simulate(&config(method, transform));
    eprintln!("{method:?} {transform:?}: {r:?}");
    for (what, c, band) in [
        ("sampled", r.coverage_sampled, BAND),
        ("non-sampled", r.coverage_non_sampled, BAND_NON_SAMPLED),
    ] {
        assert!(
            (band.0..=band.1).contains(&c),
            "{method:?} {transform:?}: coverage of {what} areas {c} outside {band:?}"
        );
    }
    assert!(
        r.mse_ratio < 0.9,
        "EBLUP not better than direct: {}",
        r.mse_ratio
    );
    assert!(
        r.failed_diagnostics as f64 <= FALSE_ALARMS * 500.0,
        "diagnostics failed {} of 500 models drawn from the model",
        r.failed_diagnostics
    );
}

#[test]
fn reml_intervals_cover_and_eblup_beats_direct() {
    check(Method::Reml, Transform::None);
}

#[test]
fn ml_intervals_cover_and_eblup_beats_direct() {
    check(Method::Ml, Transform::None);
}

#[test]
fn arcsin_intervals_cover_shares_and_eblup_beats_direct() {
    check(Method::Reml, Transform::Arcsin);
}
