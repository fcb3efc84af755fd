//! A Monte-Carlo check of the Fay–Herriot engine, shared by `tests/sae_simulation.rs` (small
//! configuration, every `cargo test`) and `examples/sae_simulation.rs` (full configuration).
//!
//! The areas are fixed (covariate xᵢ, sampling variance ψᵢ or effective sample size nᵢ, and
//! which areas have no sample); each replicate draws new area effects and sampling errors from
//! the model, so the target θᵢ changes every time (the model-based MSE's frame of reference,
//! as in Datta, Rao & Smith 2005, *Biometrika* 92, 183–196):
//!
//! * **Normal** scenario: θᵢ = 1 + 2xᵢ + vᵢ, vᵢ ~ N(0, σ²ᵥ = 1), yᵢ = θᵢ + eᵢ, eᵢ ~ N(0, ψᵢ), ψᵢ
//!   spread over [0.2, 2.6] (the γᵢ then run from about 0.3 to 0.8).
//! * **Shares** scenario (arcsine transform): the true share is pᵢ = sin²(clamp(θᵢ)) with
//!   θᵢ = 0.5 + 0.6xᵢ + vᵢ, σ²ᵥ = 0.02; the direct share is Binomial(nᵢ, pᵢ)/nᵢ with nᵢ from 8
//!   to 60, and the engine is given nᵢ (ψᵢ = 1/(4nᵢ)).
//!
//! Reported per scenario: the share of the 95 % intervals (θ̂ ± 1.96√mse, or the transformed
//! interval for shares) that contain the truth, for sampled and non-sampled areas; and the
//! empirical MSE of the EBLUP divided by that of the direct estimator over the sampled areas.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use hailong_stats::sae::{AreaInput, Method, SaeOptions, Transform, estimate};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What to simulate.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Areas in all.
    pub areas: usize,
    /// Every `non_sampled_every`-th area has no sample (0: none).
    pub non_sampled_every: usize,
    /// Monte-Carlo replicates.
    pub replicates: usize,
    /// REML or ML.
    pub method: Method,
    /// Normal scenario (`None`) or shares (`Arcsin`).
    pub transform: Transform,
    /// Seed of the generator (ChaCha8).
    pub seed: u64,
}

/// Monte-Carlo figures.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    /// Share of intervals of sampled areas containing the truth.
    pub coverage_sampled: f64,
    /// Same for non-sampled areas (NaN when there are none).
    pub coverage_non_sampled: f64,
    /// Σ(θ̂ − θ)² / Σ(y − θ)² over sampled areas and replicates.
    pub mse_ratio: f64,
    /// Mean of the estimated MSEs divided by the empirical MSE of the EBLUP (sampled areas).
    pub mse_estimate_ratio: f64,
    /// Replicates whose model failed its diagnostics.
    pub failed_diagnostics: usize,
    /// Replicates with σ̂²ᵥ = 0.
    pub sigma2_zero: usize,
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller.
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn binomial(rng: &mut ChaCha8Rng, n: usize, p: f64) -> usize {
    (0..n).filter(|_| rng.random::<f64>() < p).count()
}

/// Runs the simulation.
pub fn simulate(config: &Config) -> Report {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let m = config.areas;
    let x: Vec<f64> = (0..m).map(|i| (i as f64 + 0.5) / m as f64).collect();
    // Spread the variances and sample sizes over the areas without tying them to x.
    let spread = |i: usize| ((i * 7) % m) as f64 / (m - 1).max(1) as f64;
    let psi: Vec<f64> = (0..m).map(|i| 0.2 + 2.4 * spread(i)).collect();
    let n: Vec<usize> = (0..m)
        .map(|i| 8 + (52.0 * spread(i)).round() as usize)
        .collect();
    let sampled: Vec<bool> = (0..m)
        .map(|i| config.non_sampled_every == 0 || i % config.non_sampled_every != 1)
        .collect();
    let options = SaeOptions {
        method: config.method,
        transform: config.transform,
        ..SaeOptions::default()
    };
    let (mut cover_s, mut count_s, mut cover_n, mut count_n) = (0usize, 0usize, 0usize, 0usize);
    let (mut se_eblup, mut se_direct, mut mse_sum) = (0.0, 0.0, 0.0);
    let (mut failed, mut zero) = (0, 0);
    for _ in 0..config.replicates {
        let mut truth = Vec::with_capacity(m);
        let mut input = Vec::with_capacity(m);
        for i in 0..m {
            let (t, direct) = match config.transform {
                Transform::None => {
                    let theta = 1.0 + 2.0 * x[i] + normal(&mut rng);
                    (theta, theta + psi[i].sqrt() * normal(&mut rng))
                }
                Transform::Arcsin => {
                    let theta = (0.5 + 0.6 * x[i] + 0.02f64.sqrt() * normal(&mut rng))
                        .clamp(0.0, std::f64::consts::FRAC_PI_2);
                    let p = theta.sin().powi(2);
                    (p, binomial(&mut rng, n[i], p) as f64 / n[i] as f64)
                }
            };
            truth.push(t);
            input.push(AreaInput {
                code: format!("a{i}"),
                direct: sampled[i].then_some(direct),
                variance: sampled[i].then_some(psi[i]),
                covariates: vec![x[i]],
                n: sampled[i].then_some(n[i] as f64),
            });
        }
        let result = estimate(&input, &options).expect("the simulated model fits");
        if !result.diagnostics.passed {
            failed += 1;
        }
        if result.fit.sigma2 == 0.0 {
            zero += 1;
        }
        for ((a, t), inp) in result.areas.iter().zip(&truth).zip(&input) {
            let covered = usize::from(a.ci_low <= *t && *t <= a.ci_high);
            match inp.direct {
                Some(d) => {
                    cover_s += covered;
                    count_s += 1;
                    se_eblup += (a.eblup - t).powi(2);
                    se_direct += (d - t).powi(2);
                    mse_sum += a.mse;
                }
                None => {
                    cover_n += covered;
                    count_n += 1;
                }
            }
        }
    }
    Report {
        coverage_sampled: cover_s as f64 / count_s as f64,
        coverage_non_sampled: if count_n == 0 {
            f64::NAN
        } else {
            cover_n as f64 / count_n as f64
        },
        mse_ratio: se_eblup / se_direct,
        mse_estimate_ratio: mse_sum / se_eblup,
        failed_diagnostics: failed,
        sigma2_zero: zero,
    }
}
