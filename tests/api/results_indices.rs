//! Indices aggregated as `share_satisfied` (pooled ratio) and `dimension_score` (rescaled
//! means): the API's numbers equal the estimation engine run directly on the exported
//! microdata (`hailong estimate --pooled / --score`), and the generated R script reproduces
//! them.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output};

use entity::{campaign, questionnaire_version};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use crate::helpers::{TestApp, hailong_bin, spawn_app_with_demo};

pub(crate) fn hailong(app: &TestApp, args: &[&str], dir: &Path) -> Output {
    Command::new(hailong_bin())
        .args(args)
        .arg("--database-url")
        .arg(&app.db.url)
        .current_dir(dir)
        .env_remove("HAILONG_DATABASE_URL")
        .env("HAILONG_LOG", "warn")
        .output()
        .expect("run hailong")
}

/// Changes the aggregation of the sipas-demo questionnaire's SIPAS index (in the stored
/// version), then publishes again.
async fn set_aggregation(app: &TestApp, aggregation: &str) {
    edit_definition(app, |def| {
        assert_eq!(def["indices"][0]["code"], "SIPAS");
        def["indices"][0]["aggregation"] = Value::from(aggregation);
    })
    .await;
}

/// Edits the sipas-demo questionnaire's stored definition, then publishes again (the same
/// responses).
async fn edit_definition(app: &TestApp, edit: impl FnOnce(&mut Value)) {
    let db = app.db.connect().await;
    let c = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq("sipas-demo"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let v = questionnaire_version::Entity::find_by_id(c.questionnaire_version_id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let mut def: Value = serde_json::from_str(&v.definition).unwrap();
    edit(&mut def);
    let mut active: questionnaire_version::ActiveModel = v.into();
    active.definition = Set(def.to_string());
    active.update(&db).await.unwrap();
    // Published again with the new aggregation (the same responses).
    crate::helpers::publish(app, "sipas-demo").await;
}

async fn rows(app: &TestApp, level: &str, index: &str) -> HashMap<String, Value> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let res = client
        .get(app.url(&format!(
            "/api/v1/campaigns/sipas-demo/results?level={level}&index={index}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let rows: Vec<Value> = res.json().await.unwrap();
    rows.into_iter()
        .map(|r| (r["locality"].as_str().unwrap().to_owned(), r))
        .collect()
}

/// Exports the microdata and runs `hailong estimate` on it with the SIPAS index declared by
/// `flag` (`--pooled` or `--score`) from `indices.csv`; returns the index records by province
/// and the export directory.
fn engine_on_microdata(app: &TestApp, flag: &str, kind: &str) -> (Vec<Value>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let o = hailong(
        app,
        &[
            "export",
            "microdata",
            "--campaign",
            "sipas-demo",
            "--out",
            ".",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let indices = std::fs::read_to_string(dir.path().join("indices.csv")).unwrap();
    let mut lines = indices.lines();
    assert_eq!(
        lines.next().unwrap(),
        "index,item,weight,min,max,reverse,satisfied_min,kind,source,options,cap,offset"
    );
    let mut items = Vec::new();
    let mut spec = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        if f[0] == "SIPAS" {
            assert_eq!(f[7], kind);
            assert_eq!((f[3], f[4], f[5]), ("1", "5", "0"), "{line}");
            items.push(f[1].to_owned());
            spec.push(format!("{}:{}", f[1], f[2]));
        }
    }
    assert_eq!(items.len(), 22);
    let index_arg = format!("SIPAS={}", spec.join(","));
    let o = hailong(
        app,
        &[
            "estimate",
            "--input",
            "microdata.csv",
            "--items",
            &items.join(","),
            "--weight",
            "base_weight",
            "--strata",
            "stratum",
            "--psu",
            "psu",
            "--by",
            "province",
            "--calibrate",
            "margins.csv",
            "--lonely-psu",
            "adjust",
            flag,
            &index_arg,
            "--scale",
            "1,5",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let estimates: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    let index = estimates
        .into_iter()
        .filter(|e| e["statistic"] == "index")
        .collect();
    (index, dir)
}

fn assert_same(engine: &[Value], api: &HashMap<String, Value>) {
    assert_eq!(engine.len(), 4);
    for e in engine {
        let a = &api[e["domain"].as_str().unwrap()];
        for k in ["estimate", "se", "ci_low", "ci_high"] {
            let (x, y) = (e[k].as_f64().unwrap(), a[k].as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-9,
                "{} {k}: engine {x} api {y}",
                e["domain"]
            );
        }
        assert_eq!(e["n"], a["n"]);
    }
}

/// Runs design.R (when R with `survey` is installed) and compares its SIPAS rows.
fn r_script_agrees(dir: &Path, api: &HashMap<String, Value>) {
    let by_index = HashMap::from([("SIPAS".to_owned(), api.clone())]);
    assert_eq!(r_script_agrees_on(dir, &by_index), 4);
}

/// Runs design.R (when R with `survey` is installed) and compares its province rows of the
/// given indices with the API's; returns how many were compared.
pub(crate) fn r_script_agrees_on(
    dir: &Path,
    api: &HashMap<String, HashMap<String, Value>>,
) -> usize {
    let has_r = Command::new("Rscript")
        .args(["-e", "library(survey)"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !has_r {
        assert!(
            std::env::var("HAILONG_REQUIRE_R").is_err(),
            "HAILONG_REQUIRE_R is set but Rscript with the survey package is missing"
        );
        eprintln!("NOTE: Rscript with the survey package is not installed; R check skipped");
        return 0;
    }
    let o = Command::new("Rscript")
        .arg("design.R")
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(dir.join("r_estimates.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut compared = 0;
    for rec in reader.records() {
        let rec = rec.unwrap();
        let Some(rows) = api.get(&rec[1]) else {
            continue;
        };
        let a = &rows[&rec[0]];
        for (i, k) in ["estimate", "se", "ci_low", "ci_high"].iter().enumerate() {
            let (r, h) = (rec[i + 2].parse::<f64>().ok(), a[*k].as_f64());
            assert_eq!(
                r.is_some(),
                h.is_some(),
                "{} {} {k}: R {} Hailong {h:?}\n{text}",
                &rec[0],
                &rec[1],
                &rec[i + 2]
            );
            let (Some(r), Some(h)) = (r, h) else { continue };
            assert!(
                (r - h).abs() <= 1e-6 * h.abs().max(1.0),
                "{} {} {k}: R {r} Hailong {h}",
                &rec[0],
                &rec[1]
            );
        }
        compared += 1;
    }
    compared
}

#[tokio::test]
async fn share_satisfied_index_is_the_pooled_ratio_of_satisfied_answers() {
    let app = spawn_app_with_demo().await;
    set_aggregation(&app, "share_satisfied").await;
    let api = rows(&app, "province", "SIPAS").await;
    let (engine, dir) = engine_on_microdata(&app, "--pooled", "pooled_share");
    assert_same(&engine, &api);
    // Elements are pooled too, and the national row has a number.
    let national = rows(&app, "national", "SIPAS/E1").await;
    assert!(national["VN"]["estimate"].as_f64().is_some());
    r_script_agrees(dir.path(), &api);
}

#[tokio::test]
async fn dimension_score_index_is_the_rescaled_mean_score() {
    let app = spawn_app_with_demo().await;
    set_aggregation(&app, "dimension_score").await;
    let api = rows(&app, "province", "SIPAS").await;
    let (engine, dir) = engine_on_microdata(&app, "--score", "score");
    assert_same(&engine, &api);
    for a in api.values() {
        let e = a["estimate"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&e), "{e}");
    }
    r_script_agrees(dir.path(), &api);
    // Pages show points out of 100, not a percentage.
    let national = rows(&app, "national", "SIPAS").await;
    let points = format!(
        "{:.1}",
        national["VN"]["estimate"].as_f64().unwrap() * 100.0
    );
    let page = app
        .get("/results/sipas-demo?lang=en")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("{points} <small>points out of 100</small>")),
        "{points}: {page}"
    );
    assert!(!page.contains(&format!("{points}%")), "{page}");
    assert!(page.contains("Score (0–100) [95% CI]"), "{page}");
    let forest = app
        .get("/results/sipas-demo/forest?lang=vi")
        .await
        .text()
        .await
        .unwrap();
    assert!(forest.contains("trên thang 0–100"), "{forest}");
}

#[tokio::test]
async fn the_three_aggregations_give_different_numbers_from_the_same_answers() {
    let mut national = Vec::new();
    for aggregation in ["mean_of_criteria", "share_satisfied", "dimension_score"] {
        let app = spawn_app_with_demo().await;
        set_aggregation(&app, aggregation).await;
        let r = rows(&app, "national", "SIPAS").await;
        national.push(r["VN"]["estimate"].as_f64().unwrap());
        // Nothing is skipped any more.
        let page = app
            .get("/results/sipas-demo?lang=en")
            .await
            .text()
            .await
            .unwrap();
        assert!(!page.contains("not computed"), "{aggregation}");
    }
    assert!((national[0] - national[1]).abs() > 1e-6, "{national:?}");
    assert!((national[0] - national[2]).abs() > 1e-6, "{national:?}");
}

/// The indicator algebra of the official instruments on the demo's answers: a mean on the
/// questions' own 1–5 scale and the MoH's comprehensive index (the share satisfied with every
/// answered question) over the SIPAS tree (`basis`), and a PAPI-style `sum` on 1–10 per
/// dimension over a yes/no and two choice indicators. The API's numbers equal `hailong
/// estimate --all-satisfied` on the exported microdata, the sums add up, and design.R
/// reproduces every one of them (estimates, SEs, intervals).
#[tokio::test]
async fn means_all_satisfied_shares_and_sums_are_published_and_reproduced_by_r() {
    let app = spawn_app_with_demo().await;
    edit_definition(&app, |def| {
        let indices = def["indices"].as_array_mut().unwrap();
        indices.push(serde_json::json!({
            "code": "MEAN", "name": {"vi": "Điểm trung bình", "en": "Mean score"},
            "aggregation": "mean", "family": "perception", "basis": "SIPAS"}));
        indices.push(serde_json::json!({
            "code": "ALL", "name": {"vi": "Hài lòng toàn diện", "en": "Satisfied with everything"},
            "aggregation": "all_satisfied", "basis": "SIPAS"}));
        indices.push(serde_json::json!({
            "code": "P", "name": {"vi": "Điểm kiểu PAPI", "en": "PAPI-style score"},
            "aggregation": "sum", "range": [1.0, 10.0],
            "elements": [
                {"code": "D1", "name": {"vi": "D1"}, "criteria": [
                    {"code": "S1", "name": {"vi": "S1"}}, {"code": "S2", "name": {"vi": "S2"}}]},
                {"code": "D2", "name": {"vi": "D2"}, "criteria": [
                    {"code": "S3", "name": {"vi": "S3"}}]}]}));
        for section in def["sections"].as_array_mut().unwrap() {
            for q in section["questions"].as_array_mut().unwrap() {
                let mapping = match q["code"].as_str().unwrap() {
                    "e5_gave" => {
                        serde_json::json!({"index": "P", "element": "D1", "criterion": "S1"})
                    }
                    "sex" => serde_json::json!({"index": "P", "element": "D1", "criterion": "S2",
                                                "options": ["F"]}),
                    "age_group" => serde_json::json!({"index": "P", "element": "D2",
                                                      "criterion": "S3", "options": ["18-34"]}),
                    _ => continue,
                };
                q["index"] = mapping;
            }
        }
        hailong::domain::questionnaire::Definition::parse(&def.to_string())
            .expect("the edited questionnaire is valid");
    })
    .await;
    let keys = [
        "MEAN", "MEAN/E1", "ALL", "ALL/E2", "P", "P/D1", "P/D1/S2", "P/D2",
    ];
    let mut api = HashMap::new();
    for k in keys {
        api.insert(k.to_owned(), rows(&app, "province", k).await);
    }
    for (p, row) in &api["P"] {
        let get = |k: &str| api[k][p]["estimate"].as_f64().unwrap();
        let (total, d1, d2) = (get("P"), get("P/D1"), get("P/D2"));
        assert!(
            (total - d1 - d2).abs() < 1e-12,
            "{p}: {total} ≠ {d1} + {d2}"
        );
        assert!((1.0..=10.0).contains(&d1) && (1.0..=10.0).contains(&d2));
        assert!((0.5..=5.0).contains(&get("P/D1/S2")));
        assert!((1.0..=5.0).contains(&get("MEAN")));
        // A dimension's interval comes from the covariance of its parts: not the sum of theirs.
        assert!(row["se"].as_f64().unwrap() > 0.0);
    }
    // A sum reads on its own scale: the aggregate of two dimensions on 1–10 is on 2–20.
    let page = app
        .get("/results/sipas-demo?index=P&lang=en")
        .await
        .text()
        .await
        .unwrap();
    let national = rows(&app, "national", "P").await;
    let value = format!("{:.2}", national["VN"]["estimate"].as_f64().unwrap());
    assert!(
        page.contains(&format!("{value} <small>on a 2–20 scale</small>")),
        "{value}: {page}"
    );
    assert!(page.contains("Value (scale 2–20) [95% CI]"), "{page}");
    let forest = app
        .get("/results/sipas-demo/forest?index=P/D1&lang=en")
        .await
        .text()
        .await
        .unwrap();
    assert!(forest.contains("on a 1–10 scale"), "{forest}");
    // The comprehensive index is estimated as `hailong estimate --all-satisfied` does it.
    let dir = tempfile::tempdir().unwrap();
    let o = hailong(
        &app,
        &[
            "export",
            "microdata",
            "--campaign",
            "sipas-demo",
            "--out",
            ".",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let indices = std::fs::read_to_string(dir.path().join("indices.csv")).unwrap();
    let sipas_items: Vec<&str> = indices
        .lines()
        .filter(|l| l.starts_with("SIPAS,"))
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(sipas_items.len(), 22);
    assert!(indices.contains(",proportion,all,"), "{indices}");
    assert!(indices.contains(",linear,choice,F,"), "{indices}");
    let all_arg = format!("ALL={}", sipas_items.join(","));
    let o = hailong(
        &app,
        &[
            "estimate",
            "--input",
            "microdata.csv",
            "--items",
            &sipas_items.join(","),
            "--weight",
            "base_weight",
            "--strata",
            "stratum",
            "--psu",
            "psu",
            "--by",
            "province",
            "--calibrate",
            "margins.csv",
            "--lonely-psu",
            "adjust",
            "--all-satisfied",
            &all_arg,
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let estimates: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    let engine: Vec<&Value> = estimates
        .iter()
        .filter(|e| e["item"] == "ALL" && e["statistic"] == "satisfied")
        .collect();
    assert_eq!(engine.len(), 4);
    for e in engine {
        let a = &api["ALL"][e["domain"].as_str().unwrap()];
        for k in ["estimate", "se", "ci_low", "ci_high"] {
            let (x, y) = (e[k].as_f64().unwrap(), a[k].as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-9,
                "{} {k}: engine {x} api {y}",
                e["domain"]
            );
        }
    }
    // The logit interval of a share is not symmetric around it.
    let one = api["ALL"].values().next().unwrap();
    let (e, lo, hi) = (
        one["estimate"].as_f64().unwrap(),
        one["ci_low"].as_f64().unwrap(),
        one["ci_high"].as_f64().unwrap(),
    );
    assert!(((e - lo) - (hi - e)).abs() > 1e-6);
    let compared = r_script_agrees_on(dir.path(), &api);
    assert!(compared == 0 || compared == 4 * 7, "{compared}");
}
