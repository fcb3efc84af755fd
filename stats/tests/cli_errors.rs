//! The errors of `hailong estimate`: one clear line naming the line and column, and the
//! edge cases of the output (nulls, exactly one JSON array).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use clap::Parser;
use hailong_stats::cli::{self, EstimateArgs, StatsCliError};
use serde_json::Value;

#[derive(Parser)]
struct Command {
    #[command(flatten)]
    args: EstimateArgs,
}

/// Writes `content` to a fresh file in the temporary directory.
fn temp_file(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hailong-stats-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn args(input: &Path, rest: &[&str]) -> EstimateArgs {
    let mut argv = vec![
        "estimate".to_owned(),
        "--input".to_owned(),
        input.to_string_lossy().into_owned(),
    ];
    argv.extend(rest.iter().map(|s| (*s).to_owned()));
    Command::try_parse_from(argv).unwrap().args
}

fn run(args: &EstimateArgs) -> Result<Value, StatsCliError> {
    let mut out = Vec::new();
    cli::run(args, &mut out, &mut Vec::new())?;
    Ok(serde_json::from_slice(&out).unwrap())
}

fn error(args: &EstimateArgs) -> String {
    match run(args) {
        Ok(v) => panic!("expected an error, got {v}"),
        Err(e) => e.to_string(),
    }
}

/// 20 respondents in 2 strata × 3 clusters; line = row + 2.
fn survey_csv(edit: impl Fn(usize, &mut Vec<String>)) -> String {
    let mut text = String::from("id,stratum,psu,weight,region,sex,q1,q2\n");
    for row in 0..20 {
        let mut fields = vec![
            row.to_string(),
            if row < 10 { "A" } else { "B" }.to_owned(),
            format!("c{}", row % 3 + if row < 10 { 0 } else { 3 }),
            format!("{}", 1.0 + (row % 4) as f64),
            if row % 2 == 0 { "N" } else { "S" }.to_owned(),
            if row % 3 == 0 { "F" } else { "M" }.to_owned(),
            format!("{}", 1 + row % 5),
            format!("{}", 1 + (row * 7) % 5),
        ];
        edit(row, &mut fields);
        text.push_str(&fields.join(","));
        text.push('\n');
    }
    text
}

#[test]
fn missing_column_is_named() {
    let input = temp_file("missing.csv", &survey_csv(|_, _| {}));
    let message = error(&args(&input, &["--items", "q1,q9"]));
    assert!(message.contains("no column \"q9\""), "{message}");
    let message = error(&args(&input, &["--items", "q1", "--weight", "w"]));
    assert!(message.contains("no column \"w\""), "{message}");
}

#[test]
fn non_numeric_answer_names_line_and_column() {
    let input = temp_file(
        "text.csv",
        &survey_csv(|row, f| {
            if row == 1 {
                f[7] = "good".into();
            }
        }),
    );
    assert_eq!(
        error(&args(&input, &["--items", "q1,q2"])),
        "line 3, column \"q2\": answer \"good\" is not a number"
    );
}

#[test]
fn negative_weight_names_line_and_column() {
    let input = temp_file(
        "negative.csv",
        &survey_csv(|row, f| {
            if row == 15 {
                f[3] = "-2".into();
            }
        }),
    );
    assert_eq!(
        error(&args(&input, &["--items", "q1", "--weight", "weight"])),
        "line 17, column \"weight\": negative weight -2"
    );
}

#[test]
fn line_numbers_count_lines_of_the_file_even_with_quoted_newlines() {
    let mut text = survey_csv(|row, f| {
        if row == 0 {
            f[4] = "\"North\nEast\"".into();
        }
        if row == 2 {
            f[3] = "-1".into();
        }
    });
    text = text.replace("\r\n", "\n");
    let input = temp_file("quoted.csv", &text);
    // Row 2 starts on line 5: header, row 0 on lines 2–3, row 1 on line 4.
    assert_eq!(
        error(&args(&input, &["--items", "q1", "--weight", "weight"])),
        "line 5, column \"weight\": negative weight -1"
    );
}

#[test]
fn empty_by_value_is_an_error() {
    let input = temp_file(
        "emptyby.csv",
        &survey_csv(|row, f| {
            if row == 4 {
                f[4] = String::new();
            }
        }),
    );
    assert_eq!(
        error(&args(&input, &["--items", "q1", "--by", "region"])),
        "line 6, column \"region\": empty value in the --by column"
    );
}

#[test]
fn lonely_psu_under_fail_names_the_stratum() {
    let input = temp_file(
        "lonely.csv",
        &survey_csv(|row, f| {
            if row >= 10 {
                f[2] = "only".into();
            }
        }),
    );
    let a = args(
        &input,
        &["--items", "q1", "--strata", "stratum", "--psu", "psu"],
    );
    assert_eq!(error(&a), "Stratum (B) has only one PSU at stage 1");
    let mut ok = a.clone();
    ok.lonely_psu = hailong_stats::LonelyPsu::Certainty;
    assert!(run(&ok).is_ok());
}

#[test]
fn raking_that_does_not_converge_is_an_error() {
    let input = temp_file("rake.csv", &survey_csv(|_, _| {}));
    // Sex margins add up to 100, region margins to 300: no weights satisfy both.
    let margins = temp_file(
        "rake_margins.csv",
        "variable,category,total\nsex,F,40\nsex,M,60\nregion,N,100\nregion,S,200\n",
    );
    let message = error(&args(
        &input,
        &["--items", "q1", "--calibrate", margins.to_str().unwrap()],
    ));
    assert!(
        message.starts_with("raking did not converge after 100 sweeps"),
        "{message}"
    );
}

#[test]
fn margins_must_cover_every_category() {
    let input = temp_file("ps.csv", &survey_csv(|_, _| {}));
    let margins = temp_file("ps_margins.csv", "variable,category,total\nsex,F,40\n");
    let message = error(&args(
        &input,
        &["--items", "q1", "--calibrate", margins.to_str().unwrap()],
    ));
    assert_eq!(
        message,
        "line 3, column \"sex\": category \"M\" has no population total in the margins"
    );
}

#[test]
fn too_many_fpc_columns_is_an_error() {
    let input = temp_file("fpc.csv", &survey_csv(|_, _| {}));
    let message = error(&args(
        &input,
        &["--items", "q1", "--psu", "psu", "--fpc", "weight,weight"],
    ));
    assert!(message.contains("--fpc gives 2 columns"), "{message}");
}

#[test]
fn fpc_must_be_constant_within_a_stratum() {
    let input = temp_file("fpcvar.csv", &survey_csv(|_, _| {}));
    let message = error(&args(
        &input,
        &["--items", "q1", "--strata", "stratum", "--fpc", "weight"],
    ));
    assert!(
        message.starts_with("line ")
            && message.contains("column \"weight\"")
            && message.contains("differs"),
        "{message}"
    );
}

#[test]
fn item_without_answers_in_a_domain_gives_n_0_and_nulls() {
    let input = temp_file(
        "noanswer.csv",
        &survey_csv(|row, f| {
            if row % 2 == 1 {
                f[7] = String::new();
            }
        }),
    );
    let out = run(&args(
        &input,
        &[
            "--items",
            "q1,q2",
            "--by",
            "region",
            "--index",
            "both=q1,q2",
            "--index",
            "first=q1",
        ],
    ))
    .unwrap();
    let records = out.as_array().unwrap();
    assert_eq!(records.len(), 2 * (2 * 2 + 2));
    for r in records {
        let empty = r["domain"] == "S" && (r["item"] == "q2" || r["item"] == "both");
        if empty {
            assert_eq!(r["n"], if r["item"] == "both" { 10 } else { 0 }, "{r}");
            for field in ["estimate", "se", "ci_low", "ci_high", "deff"] {
                assert!(r[field].is_null(), "{r}");
            }
        } else {
            assert!(r["estimate"].is_number(), "{r}");
        }
        assert_eq!(r["df"], 19);
    }
}

#[test]
fn json_output_is_exactly_one_array() {
    let input = temp_file("array.csv", &survey_csv(|_, _| {}));
    let mut out = Vec::new();
    let mut err = Vec::new();
    cli::run(&args(&input, &["--items", "q1"]), &mut out, &mut err).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.trim_start().starts_with('[') && text.trim_end().ends_with(']'));
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[0]["domain"], "ALL");
    assert_eq!(
        v[0].as_object().unwrap().keys().collect::<Vec<_>>(),
        [
            "ci_high",
            "ci_low",
            "deff",
            "df",
            "domain",
            "estimate",
            "item",
            "n",
            "se",
            "statistic"
        ]
    );
    // An unweighted sample has no finite deff (svymean(deff = TRUE) gives Inf): null.
    assert!(v[0]["deff"].is_null());
    assert!(String::from_utf8(err).unwrap().contains("20 rows"));
}

#[test]
fn index_argument_parses_weights() {
    let spec = cli::parse_index("access=q1:2,q2, q3:0.5").unwrap();
    assert_eq!(spec.name, "access");
    assert_eq!(
        spec.items,
        vec![
            ("q1".to_owned(), 2.0),
            ("q2".to_owned(), 1.0),
            ("q3".to_owned(), 0.5)
        ]
    );
    assert!(cli::parse_index("noequals").is_err());
    assert!(cli::parse_index("x=q1:-1").is_err());
    assert!(cli::parse_index("x=").is_err());
}
