//! `hailong estimate` through the real binary: R's numbers, CSV output, one-line errors.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::helpers::hailong_bin;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("stats/tests/fixtures")
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-12) || (a - b).abs() < 1e-12
}

#[test]
fn estimate_reproduces_r_survey_on_apiclus2() {
    let dir = fixtures();
    let cases: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    let case = cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "apiclus2_by_stype_logit")
        .expect("fixture case");
    let args: Vec<String> = case["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    let out = Command::new(hailong_bin())
        .arg("estimate")
        .arg("--input")
        .arg(dir.join(case["input"].as_str().unwrap()))
        .args(&args)
        .args(["--format", "json"])
        .env("HAILONG_DATABASE_URL", "mysql://estimate-opens-no-database")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<Value> = serde_json::from_slice(&out.stdout).expect("one JSON array on stdout");
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(case["expected"].as_str().unwrap())).unwrap(),
    )
    .unwrap();
    let expected = expected["records"].as_array().unwrap();
    assert_eq!(got.len(), expected.len());
    let mut compared = 0;
    for e in expected {
        let g = got
            .iter()
            .find(|g| {
                g["domain"] == e["domain"]
                    && g["item"] == e["item"]
                    && g["statistic"] == e["statistic"]
            })
            .unwrap_or_else(|| panic!("missing record {e}"));
        assert_eq!(g["n"], e["n"]);
        for (key, tol) in [
            ("estimate", 1e-9),
            ("se", 1e-9),
            ("ci_low", 1e-6),
            ("ci_high", 1e-6),
        ] {
            match (g[key].as_f64(), e[key].as_f64()) {
                (Some(a), Some(b)) => {
                    assert!(close(a, b, tol), "{key} {a} vs R {b} in {e}");
                    compared += 1;
                }
                (None, None) => {}
                (a, b) => panic!("{key}: {a:?} vs R {b:?} in {e}"),
            }
        }
    }
    assert!(compared > 20, "{compared}");
}

#[test]
fn estimate_writes_csv_and_fails_with_one_line() {
    let dir = fixtures();
    let out = Command::new(hailong_bin())
        .args([
            "estimate", "--items", "q1,q2", "--weight", "pw", "--format", "csv", "--input",
        ])
        .arg(dir.join("data/apistrat.csv"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with("domain,item,statistic,n,estimate,se,df,ci_low,ci_high,deff"));
    assert_eq!(csv.lines().count(), 1 + 2 * 2);

    let out = Command::new(hailong_bin())
        .args(["estimate", "--items", "q1,nope", "--input"])
        .arg(dir.join("data/apistrat.csv"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("nope"), "{err}");
}
