//! Official instruments: the presets transcribed from an issuing decision keep
//! their `source` (decision, where the text was found, which item lists were
//! verified) through import and export, and their structure stays pinned to
//! the transcribed lists (see also the unit tests in src/presets.rs).

use std::process::Command;

use serde_json::Value;

use crate::helpers::{hailong_bin, spawn_app_with_demo};

fn preset_path(name: &str) -> String {
    format!("{}/presets/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `hailong questionnaire import --dry-run` on a preset and returns the
/// definition it would store.
fn dry_run(name: &str) -> Value {
    let out = Command::new(hailong_bin())
        .args(["questionnaire", "import", "--format", "json", "--dry-run"])
        .arg(preset_path(name))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn item_counts(def: &Value) -> Vec<(String, usize)> {
    def["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["code"].as_str().unwrap().to_owned(),
                s["questions"].as_array().unwrap().len(),
            )
        })
        .collect()
}

/// The Ministry of Health's forms (Decision 56/QĐ-BYT, 2024) as transcribed
/// from secondary copies in public GitHub repositories (stored-index files
/// 53298102643, 56952012855, 24423536838): inpatient A5 B7 C11 D7 E6 + G1 G2,
/// outpatient A5 B10 C8 D4 E4 + G1. Import keeps the source and its
/// `verified: false` flags; nothing claims a check that was not made.
#[test]
fn moh_presets_import_with_their_source_and_item_lists() {
    for (name, counts) in [
        (
            "moh-56-inpatient.json",
            vec![("a", 5), ("b", 7), ("c", 11), ("d", 7), ("e", 6), ("g", 2)],
        ),
        (
            "moh-56-outpatient.json",
            vec![("a", 5), ("b", 10), ("c", 8), ("d", 4), ("e", 4), ("g", 1)],
        ),
    ] {
        let file: Value =
            serde_json::from_str(&std::fs::read_to_string(preset_path(name)).unwrap()).unwrap();
        let imported = dry_run(name);
        assert_eq!(imported["source"], file["source"], "{name}: source kept");
        assert_eq!(imported["source"]["decision"], "56/QĐ-BYT");
        let want: Vec<(String, usize)> =
            counts.into_iter().map(|(c, n)| (c.to_owned(), n)).collect();
        assert_eq!(item_counts(&imported), want, "{name}");
        let verified = imported["source"]["verified"].as_object().unwrap();
        assert!(
            verified.values().all(|v| v == false),
            "{name}: no list is verified against the decision's own text"
        );
    }
}

/// The SIPAS 2017–2020 preset names Decision 2640/QĐ-BNV of 10 Oct 2017
/// (found at hieuluat.vn) and keeps its 22 criteria in 5 elements; the demo
/// questionnaire built from it exports the source unchanged.
#[tokio::test]
async fn the_sipas_2640_source_survives_publishing_and_export() {
    let imported = dry_run("sipas-2640.json");
    assert_eq!(imported["source"]["decision"], "2640/QĐ-BNV");
    assert_eq!(imported["source"]["date"], "2017-10-10");
    let criteria: Vec<usize> = imported["indices"][0]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["criteria"].as_array().unwrap().len())
        .collect();
    assert_eq!(criteria, [4, 5, 6, 3, 4]);

    let app = spawn_app_with_demo().await;
    let token = app.token_for("designer@example.vn", "designer").await;
    let list: Value = app.get_json_as("/api/v1/questionnaires", &token).await;
    let sipas = list
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["code"] == "sipas-2640")
        .expect("the demo publishes the SIPAS preset");
    let id = sipas["id"].as_i64().unwrap();
    let exported: Value = app
        .get_json_as(&format!("/api/v1/questionnaires/{id}/export"), &token)
        .await;
    assert_eq!(exported["source"], imported["source"]);
}

/// SIPAS under Decision 1001/QĐ-BNV (11 Dec 2023; summary of the decision at
/// tintuc.thuvienphapluat.com, …/email/56987/…), transcribed from a secondary
/// copy of the Ministry of Home Affairs' form in a public GitHub repository
/// (stored-index files 30410924217 and 30866220720). Import keeps the source
/// with every item list unverified, and the structure of the copy: Câu 9's 33
/// satisfaction items in two indices (policies A–D: 2, 2, 8, 2; administrative
/// services I–V: 4, 4, 5, 3, 3) and Câu 10's nine expectation items.
#[test]
fn sipas_1001_imports_with_its_source_and_item_lists() {
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(preset_path("sipas-1001.json")).unwrap())
            .unwrap();
    let imported = dry_run("sipas-1001.json");
    assert_eq!(imported["source"], file["source"], "source kept");
    assert_eq!(imported["source"]["decision"], "1001/QĐ-BNV");
    assert_eq!(imported["source"]["date"], "2023-12-11");
    let verified = imported["source"]["verified"].as_object().unwrap();
    assert_eq!(verified.len(), 6);
    assert!(verified.values().all(|v| v == false));
    let counts = item_counts(&imported);
    let c9: usize = counts
        .iter()
        .filter(|(c, _)| c.starts_with("c9_"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(c9, 33);
    assert!(counts.contains(&("c10".to_owned(), 9)));
    assert!(counts.contains(&("c1".to_owned(), 8)));
    assert!(counts.contains(&("c8".to_owned(), 7)));
    let criteria = |i: usize| -> (String, Vec<usize>) {
        let index = &imported["indices"][i];
        (
            index["code"].as_str().unwrap().to_owned(),
            index["elements"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["criteria"].as_array().unwrap().len())
                .collect(),
        )
    };
    assert_eq!(criteria(0), ("ADMIN".to_owned(), vec![4, 4, 5, 3, 3]));
    assert_eq!(criteria(1), ("POLICY".to_owned(), vec![2, 2, 8, 2]));
}
