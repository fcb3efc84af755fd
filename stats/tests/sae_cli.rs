//! `hailong sae`: the output is exactly one JSON object of the documented shape, and bad input
//! gives one clear line naming the line and column, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use clap::Parser;
use hailong_stats::cli::sae::{self, SaeArgs};
use serde_json::Value;

#[derive(Parser)]
struct Command {
    #[command(flatten)]
    args: SaeArgs,
}

fn temp_file(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hailong-sae-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn args(input: &Path, rest: &[&str]) -> SaeArgs {
    let mut argv = vec![
        "sae".to_owned(),
        "--input".to_owned(),
        input.to_string_lossy().into_owned(),
        "--area".to_owned(),
        "code".to_owned(),
        "--direct".to_owned(),
        "y".to_owned(),
    ];
    argv.extend(rest.iter().map(|s| (*s).to_owned()));
    Command::try_parse_from(argv).unwrap().args
}

fn run(args: &SaeArgs) -> Result<Value, String> {
    let mut out = Vec::new();
    sae::run(args, &mut out, &mut Vec::new()).map_err(|e| e.to_string())?;
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text.lines().count(),
        1,
        "one JSON object on one line: {text}"
    );
    Ok(serde_json::from_str(&text).unwrap())
}

fn error(args: &SaeArgs) -> String {
    match run(args) {
        Ok(v) => panic!("expected an error, got {v}"),
        Err(e) => e,
    }
}

/// 12 communes: share satisfied `y`, its variance `v`, effective size `n`, covariates `urban`,
/// `pop`; commune c12 unsampled. Line = row + 2.
fn areas_csv(edit: impl Fn(usize, &mut Vec<String>)) -> String {
    let mut text = String::from("code,y,v,n,urban,pop\n");
    for row in 0..12 {
        let urban = (row % 4) as f64 / 4.0;
        let y = 0.45 + 0.3 * urban + 0.04 * (((row * 7) % 5) as f64 - 2.0);
        let n = 20.0 + 10.0 * (row % 3) as f64;
        let mut fields = vec![
            format!("c{}", row + 1),
            format!("{y:.4}"),
            format!("{:.6}", y * (1.0 - y) / n),
            format!("{n}"),
            format!("{urban}"),
            format!("{}", 1000 + 37 * row),
        ];
        if row == 11 {
            fields[1] = String::new();
            fields[2] = String::new();
            fields[3] = String::new();
        }
        edit(row, &mut fields);
        text.push_str(&fields.join(","));
        text.push('\n');
    }
    text
}

#[test]
fn output_is_one_object_with_the_documented_fields() {
    let input = temp_file("ok.csv", &areas_csv(|_, _| {}));
    let v = run(&args(
        &input,
        &["--variance", "v", "--covariates", "urban,pop"],
    ))
    .unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["areas", "beta", "method", "sigma2"]);
    assert_eq!(v["method"], "reml");
    assert_eq!(v["beta"].as_array().unwrap().len(), 3);
    let areas = v["areas"].as_array().unwrap();
    assert_eq!(areas.len(), 12);
    for a in areas {
        let keys: Vec<&String> = a.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["area", "ci_high", "ci_low", "direct", "eblup", "mse"]
        );
        let (lo, est, hi) = (
            a["ci_low"].as_f64().unwrap(),
            a["eblup"].as_f64().unwrap(),
            a["ci_high"].as_f64().unwrap(),
        );
        assert!(lo <= est && est <= hi && a["mse"].as_f64().unwrap() >= 0.0);
    }
    assert_eq!(areas[11]["area"], "c12");
    assert!(areas[11]["direct"].is_null());
}

#[test]
fn arcsin_transform_reports_shares() {
    let input = temp_file("arcsin.csv", &areas_csv(|_, _| {}));
    let v = run(&args(
        &input,
        &[
            "--transform",
            "arcsin",
            "--n",
            "n",
            "--covariates",
            "urban",
            "--method",
            "ml",
        ],
    ))
    .unwrap();
    assert_eq!(v["method"], "ml");
    for a in v["areas"].as_array().unwrap() {
        let (lo, est, hi) = (
            a["ci_low"].as_f64().unwrap(),
            a["eblup"].as_f64().unwrap(),
            a["ci_high"].as_f64().unwrap(),
        );
        assert!(
            (0.0..=1.0).contains(&lo) && lo < est && est < hi && hi <= 1.0,
            "{a}"
        );
    }
}

#[test]
fn missing_column_is_named() {
    let input = temp_file("missing.csv", &areas_csv(|_, _| {}));
    let message = error(&args(
        &input,
        &["--variance", "v", "--covariates", "urban,rural"],
    ));
    assert!(message.contains("no column \"rural\""), "{message}");
}

#[test]
fn non_numeric_cells_name_line_and_column() {
    let input = temp_file(
        "text.csv",
        &areas_csv(|row, f| {
            if row == 3 {
                f[1] = "high".into();
            }
        }),
    );
    assert_eq!(
        error(&args(&input, &["--variance", "v", "--covariates", "urban"])),
        "line 5, column \"y\": direct estimate \"high\" is not a number"
    );
    let input = temp_file(
        "cov.csv",
        &areas_csv(|row, f| {
            if row == 11 {
                f[4] = String::new();
            }
        }),
    );
    assert_eq!(
        error(&args(&input, &["--variance", "v", "--covariates", "urban"])),
        "line 13, column \"urban\": empty covariate: every area, sampled or not, needs its covariates"
    );
}

#[test]
fn bad_values_name_line_and_column() {
    let input = temp_file(
        "negvar.csv",
        &areas_csv(|row, f| {
            if row == 6 {
                f[2] = "-0.01".into();
            }
        }),
    );
    assert_eq!(
        error(&args(&input, &["--variance", "v", "--covariates", "urban"])),
        "line 8, column \"v\": variance -0.01 must be a positive number"
    );
    let input = temp_file(
        "novar.csv",
        &areas_csv(|row, f| {
            if row == 2 {
                f[2] = String::new();
            }
        }),
    );
    assert_eq!(
        error(&args(&input, &["--variance", "v", "--covariates", "urban"])),
        "line 4, column \"v\": a direct estimate needs its variance"
    );
    let input = temp_file(
        "share.csv",
        &areas_csv(|row, f| {
            if row == 0 {
                f[1] = "1.2".into();
            }
        }),
    );
    assert_eq!(
        error(&args(
            &input,
            &["--transform", "arcsin", "--n", "n", "--covariates", "urban"]
        )),
        "line 2, column \"y\": share 1.2 must lie between 0 and 1 for the arcsine transform"
    );
    let input = temp_file(
        "dup.csv",
        &areas_csv(|row, f| {
            if row == 9 {
                f[0] = "c2".into();
            }
        }),
    );
    assert_eq!(
        error(&args(&input, &["--variance", "v", "--covariates", "urban"])),
        "line 11, column \"code\": area \"c2\" appears twice"
    );
}

#[test]
fn models_that_cannot_be_fitted_say_why() {
    let input = temp_file("ok2.csv", &areas_csv(|_, _| {}));
    // A constant covariate is collinear with the intercept.
    let constant = temp_file(
        "const.csv",
        &areas_csv(|_, f| {
            f[4] = "1".into();
        }),
    );
    let message = error(&args(
        &constant,
        &["--variance", "v", "--covariates", "urban"],
    ));
    assert!(message.contains("collinear"), "{message}");
    let message = error(&args(&input, &["--covariates", "urban"]));
    assert!(message.contains("--variance"), "{message}");
    let message = error(&args(
        &input,
        &["--transform", "arcsin", "--covariates", "urban"],
    ));
    assert!(message.contains("--n"), "{message}");
    let few = temp_file("few.csv", "code,y,v,urban\na,1,0.1,0\nb,2,0.1,1\nc,,,2\n");
    let message = error(&args(&few, &["--variance", "v", "--covariates", "urban"]));
    assert!(
        message.contains("2 area(s) with a direct estimate"),
        "{message}"
    );
    let message = error(&args(
        &input,
        &["--variance", "v", "--covariates", "urban", "--level", "1.5"],
    ));
    assert!(message.contains("confidence level"), "{message}");
}

#[test]
fn malformed_csv_and_missing_file_do_not_panic() {
    let ragged = temp_file("ragged.csv", "code,y,v,urban\na,1,0.1,0\nb,2,0.1\n");
    let message = error(&args(
        &ragged,
        &["--variance", "v", "--covariates", "urban"],
    ));
    assert!(message.contains("line 3"), "{message}");
    let none = temp_file("header.csv", "code,y,v,urban\n");
    let message = error(&args(&none, &["--variance", "v", "--covariates", "urban"]));
    assert!(message.contains("no areas"), "{message}");
    let message = error(&args(
        Path::new("/nonexistent/areas.csv"),
        &["--variance", "v", "--covariates", "urban"],
    ));
    assert!(message.starts_with("cannot read"), "{message}");
}
