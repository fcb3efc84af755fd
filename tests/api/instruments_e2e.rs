//! The Ministry of Health's forms end to end, as staff would use them: the preset imported
//! and published through the API, a campaign set up on the staff pages, answers sent by the
//! public API (with "not used" answers and G1 above 100), a publication, and the microdata
//! export whose design.R reproduces every published indicator of the form (the satisfaction
//! rate, the comprehensive index, the means per area, G1 and G2) to 1e-6.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, count, publish, spawn_app_with_demo};
use crate::results_indices::{hailong, r_script_agrees_on};

/// Random answers to every question of a definition: scales 1–5 (one in ten "not used"
/// where offered), G1 from 40 to 120, a random option of a choice.
fn answers(def: &Value, rng: &mut ChaCha8Rng, level: f64) -> Value {
    // Three patients in ten are pleased with everything (so that the comprehensive index is
    // not 0), the others answer around the commune's level.
    let pleased = rng.random_range(0..10) < 3;
    let (level, spread) = if pleased { (4.6, 0.7) } else { (level, 1.6) };
    let mut out = serde_json::Map::new();
    for s in def["sections"].as_array().unwrap() {
        for q in s["questions"].as_array().unwrap() {
            let code = q["code"].as_str().unwrap().to_owned();
            let v = match q["type"].as_str().unwrap() {
                "scale" if q["not_applicable"] == true && rng.random_range(0..10) == 0 => {
                    json!("na")
                }
                "scale" => {
                    let x: f64 = level + rng.random_range(-spread..spread);
                    json!(x.round().clamp(1.0, 5.0) as i64)
                }
                "number" => json!(rng.random_range(40..=120)),
                "single_choice" => {
                    let opts = q["options"].as_array().unwrap();
                    opts[rng.random_range(0..opts.len())]["value"].clone()
                }
                _ => continue,
            };
            out.insert(code, v);
        }
    }
    Value::Object(out)
}

/// Runs one preset end to end and returns the published province rows of `indices`, after
/// checking them against design.R.
async fn run_form(
    app: &TestApp,
    token: &str,
    preset: &str,
    slug: &str,
    indices: &[&str],
) -> HashMap<String, HashMap<String, Value>> {
    let def: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{}/presets/{preset}", env!("CARGO_MANIFEST_DIR")))
            .unwrap(),
    )
    .unwrap();
    // Imported and published by a designer through the API (no idle connection kept: R
    // runs for seconds between two forms).
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let res = client
        .post(app.url("/api/v1/questionnaires"))
        .bearer_auth(token)
        .json(&def)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "{preset}");
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = client
        .post(app.url(&format!("/api/v1/questionnaires/{id}/publish")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let version = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    // A campaign on the hospital demo's communes: two provinces, one stratum each.
    let list: Vec<Value> = app.get("/api/v1/campaigns").await.json().await.unwrap();
    let health = list.iter().find(|c| c["slug"] == "health-demo").unwrap();
    let communes: Vec<(String, String)> = health["localities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["code"].as_str().unwrap().to_owned(),
                l["parent"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let lines: Vec<String> = communes
        .iter()
        .map(|(c, p)| format!("{c},{p},{c},150,30"))
        .collect();
    let today = Utc::now().date_naive();
    let d = app.login("designer@example.vn").await;
    let csrf = app.page_csrf(&d, "/staff/campaigns").await;
    let res = d
        .post(app.url("/staff/campaigns"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("slug", slug),
            ("name_vi", "Khảo sát người bệnh"),
            ("name_en", "Patient survey"),
            ("questionnaire_version", version.to_string().as_str()),
            ("service", "hospital"),
            ("opens_on", today.to_string().as_str()),
            (
                "closes_on",
                (today + Duration::days(30)).to_string().as_str(),
            ),
            ("layout", "one_page"),
            ("localities", lines.join("\n").as_str()),
            ("lonely_psu", "adjust"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    let a = app.login("analyst@example.vn").await;
    let acsrf = app.page_csrf(&a, "/staff/campaigns").await;
    let res = a
        .post(app.url(&format!("/staff/campaigns/{slug}/results-settings")))
        .form(&[
            ("csrf_token", acsrf.as_str()),
            ("is_public", "1"),
            // k = 10 (the floor): a commune's 22 answers reach it for every item.
            ("min_n", "10"),
            ("min_df", "2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Answers through the public API (stored by the writer in batches: wait for all).
    let db = app.db.connect().await;
    let before = count(&db, "responses").await;
    let mut rng = ChaCha8Rng::seed_from_u64(56);
    for (k, (commune, _)) in communes.iter().enumerate() {
        let level = 3.4 + 0.1 * (k % 5) as f64;
        for _ in 0..22 {
            let body = json!({
                "submission_id": uuid::Uuid::new_v4().to_string(),
                "locality": commune,
                "answers": answers(&def, &mut rng, level),
            });
            let res = client
                .post(app.url(&format!("/api/v1/campaigns/{slug}/responses")))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success(), "{}", res.text().await.unwrap());
        }
    }
    let sent = i64::try_from(communes.len() * 22).unwrap();
    for _ in 0..100 {
        if count(&db, "responses").await >= before + sent {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(count(&db, "responses").await, before + sent);
    let number = publish(app, slug).await;
    assert!(number.is_some(), "published");
    let mut api: HashMap<String, HashMap<String, Value>> = HashMap::new();
    for index in indices {
        let rows: Vec<Value> = app
            .get(&format!(
                "/api/v1/campaigns/{slug}/results?level=province&index={index}"
            ))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(rows.len(), 2, "{index}: {rows:?}");
        for r in &rows {
            assert!(r["estimate"].as_f64().is_some(), "{index}: {r}");
        }
        api.insert(
            (*index).to_owned(),
            rows.into_iter()
                .map(|r| (r["locality"].as_str().unwrap().to_owned(), r))
                .collect(),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let o = hailong(
        app,
        &["export", "microdata", "--campaign", slug, "--out", "."],
        dir.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let compared = r_script_agrees_on(dir.path(), &api);
    assert!(compared == 0 || compared == 2 * indices.len(), "{compared}");
    api
}

/// The comprehensive index lies below the satisfaction rate; G1 is a mean of percentages
/// (not capped); the mean per area is on 1–5.
fn moh_indicators_are_plausible(api: &HashMap<String, HashMap<String, Value>>) {
    for p in api["SATISFACTION"].keys() {
        let get = |k: &str| api[k][p]["estimate"].as_f64().unwrap();
        assert!(get("COMPREHENSIVE") > 0.1, "{p}");
        assert!(get("COMPREHENSIVE") < get("SATISFACTION"), "{p}");
        assert!((40.0..=120.0).contains(&get("G1")), "{p}");
        assert!((1.0..=5.0).contains(&get("MEAN")), "{p}");
    }
}

#[tokio::test]
async fn the_moh_forms_publish_their_indicators_and_design_r_reproduces_them() {
    let app = spawn_app_with_demo().await;
    let token = app.token_for("designer@example.vn", "designer").await;
    app.add_user("analyst@example.vn", "analyst").await;
    let inpatient = run_form(
        &app,
        &token,
        "moh-56-inpatient.json",
        "moh-inpatient",
        &[
            "SATISFACTION",
            "SATISFACTION/A",
            "COMPREHENSIVE",
            "COMPREHENSIVE/C",
            "MEAN",
            "MEAN/E",
            "G1",
            "G2",
        ],
    )
    .await;
    moh_indicators_are_plausible(&inpatient);
    let outpatient = run_form(
        &app,
        &token,
        "moh-56-outpatient.json",
        "moh-outpatient",
        &["SATISFACTION", "COMPREHENSIVE", "MEAN", "MEAN/B", "G1"],
    )
    .await;
    moh_indicators_are_plausible(&outpatient);
}

/// The PAPI-style and education presets the same way: a PAPI-style dimension is a sum on
/// 1–10 and the index on 8–80.
#[tokio::test]
async fn the_papi_style_and_education_presets_publish_and_design_r_reproduces_them() {
    let app = spawn_app_with_demo().await;
    let token = app.token_for("designer@example.vn", "designer").await;
    app.add_user("analyst@example.vn", "analyst").await;
    let papi = run_form(
        &app,
        &token,
        "papi-governance.json",
        "papi-style",
        &["PAPI", "PAPI/D1", "PAPI/D8"],
    )
    .await;
    for row in papi["PAPI/D1"].values() {
        let e = row["estimate"].as_f64().unwrap();
        assert!((1.0..=10.0).contains(&e), "{e}");
    }
    for row in papi["PAPI"].values() {
        let e = row["estimate"].as_f64().unwrap();
        assert!((8.0..=80.0).contains(&e), "{e}");
    }
    run_form(
        &app,
        &token,
        "education-school-parents.json",
        "edu-parents",
        &["EDU", "EDU/A"],
    )
    .await;
}
