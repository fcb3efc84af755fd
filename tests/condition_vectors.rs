//! One set of test vectors for the condition language
//! (`tests/fixtures/conditions/vectors.json`), run on the server's code and,
//! through Node, on the kiosk's script: both must give the listed sections,
//! questions, problems and offered options.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use hailong::domain::answers::{offered_options, parse, shown_answers};
use hailong::domain::questionnaire::Definition;
use serde_json::Value;

fn vectors() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conditions/vectors.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_server_gives_every_vector_its_expected_result() {
    let v = vectors();
    let def =
        Definition::parse(&v["definition"].to_string()).expect("the vectors' definition is valid");
    let mut failures = Vec::new();
    for case in v["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let raw = case["answers"].as_object().unwrap().clone();
        let walk = shown_answers(&def, &raw);
        let sections: Vec<String> = walk
            .sections
            .iter()
            .map(|i| def.sections[*i].code.clone())
            .collect();
        let questions: Vec<String> = def
            .questions()
            .filter(|q| walk.shown.contains(&q.code))
            .map(|q| q.code.clone())
            .collect();
        let mut problems: Vec<String> = match parse(&def, &raw) {
            Ok(_) => Vec::new(),
            Err(errors) => errors
                .iter()
                .map(|e| format!("{}:{}", e.field.trim_start_matches("answers."), e.code))
                .collect(),
        };
        problems.sort();
        let mut diffs = Vec::new();
        if sections != strings(&case["sections"]) {
            diffs.push(format!("sections {sections:?}"));
        }
        if questions != strings(&case["questions"]) {
            diffs.push(format!("questions {questions:?}"));
        }
        if problems != strings(&case["problems"]) {
            diffs.push(format!("problems {problems:?}"));
        }
        if let Some(offered) = case.get("offered").and_then(Value::as_object) {
            for (code, expected) in offered {
                let q = def.question(code).unwrap();
                let got: Vec<String> = offered_options(q, &walk.answers)
                    .iter()
                    .map(|o| o.value.clone())
                    .collect();
                if got != strings(expected) {
                    diffs.push(format!("offered {code} {got:?}"));
                }
            }
        }
        if !diffs.is_empty() {
            failures.push(format!("{name}: {}", diffs.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_kiosk_script_gives_every_vector_its_expected_result() {
    let runner = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conditions/run.mjs");
    let out = Command::new("node")
        .arg(&runner)
        .output()
        .expect("node must be installed to test the kiosk's condition script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the kiosk script differs from the vectors:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}
