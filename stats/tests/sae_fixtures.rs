//! The Fay–Herriot engine against Python `samplics` 0.6.1 (`EblupAreaModel`): σ²ᵥ, β, EBLUPs
//! and MSEs to 1e-6 relative, for REML and ML, on samplics' own milk data and on generated
//! data with non-sampled areas. The fixtures and the script that made them are in
//! `tests/fixtures/sae/` (see its README).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use clap::Parser;
use hailong_stats::cli::sae::{self, SaeArgs};
use serde_json::Value;

#[derive(Parser)]
struct Command {
    #[command(flatten)]
    args: SaeArgs,
}

const TOLERANCE: f64 = 1e-6;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sae")
}

/// Relative difference, with an absolute floor of 1e-12 for values near 0.
fn relative(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs().max(1e-12)
}

/// Runs `hailong sae` on the case's CSV and compares with its samplics fixture; returns the
/// largest relative difference.
fn check(case: &str, method: &str) -> f64 {
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join(format!("{case}_{method}.json"))).unwrap(),
    )
    .unwrap();
    let covariates: Vec<&str> = expected["covariates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let input = fixtures().join(format!("{case}.csv"));
    let argv = [
        "sae",
        "--input",
        input.to_str().unwrap(),
        "--area",
        "area",
        "--direct",
        "direct",
        "--variance",
        "variance",
        "--covariates",
        &covariates.join(","),
        "--method",
        method,
    ];
    let args = Command::try_parse_from(argv).unwrap().args;
    let mut out = Vec::new();
    sae::run(&args, &mut out, &mut Vec::new()).unwrap();
    let got: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(got["method"], method);

    let mut worst: f64 = 0.0;
    let mut compare = |what: String, g: &Value, w: &Value| {
        let (g, w) = (g.as_f64().unwrap(), w.as_f64().unwrap());
        let d = relative(g, w);
        assert!(
            d <= TOLERANCE,
            "{case} {method} {what}: {g} vs samplics {w} ({d:e})"
        );
        worst = worst.max(d);
    };
    compare("sigma2".into(), &got["sigma2"], &expected["sigma2"]);
    let (gb, wb) = (
        got["beta"].as_array().unwrap(),
        expected["beta"].as_array().unwrap(),
    );
    assert_eq!(gb.len(), wb.len());
    for (j, (g, w)) in gb.iter().zip(wb).enumerate() {
        compare(format!("beta[{j}]"), g, w);
    }
    let (ga, wa) = (
        got["areas"].as_array().unwrap(),
        expected["areas"].as_array().unwrap(),
    );
    assert_eq!(ga.len(), wa.len());
    for (g, w) in ga.iter().zip(wa) {
        assert_eq!(g["area"], w["area"]);
        let area = w["area"].as_str().unwrap();
        compare(format!("eblup of {area}"), &g["eblup"], &w["eblup"]);
        compare(format!("mse of {area}"), &g["mse"], &w["mse"]);
    }
    eprintln!("{case} {method}: largest relative difference from samplics {worst:.1e}");
    worst
}

#[test]
fn milk_reml_matches_samplics() {
    check("milk", "reml");
}

#[test]
fn milk_ml_matches_samplics() {
    check("milk", "ml");
}

#[test]
fn generated_reml_with_non_sampled_areas_matches_samplics() {
    check("generated", "reml");
}

#[test]
fn generated_ml_with_non_sampled_areas_matches_samplics() {
    check("generated", "ml");
}
