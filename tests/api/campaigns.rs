use std::collections::HashSet;

use chrono::{Duration, Utc};
use entity::campaign;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use crate::helpers::{count, spawn_app, spawn_app_with_demo};

const TYPES: [&str; 7] = [
    "scale",
    "single_choice",
    "multiple_choice",
    "yes_no",
    "number",
    "short_text",
    "long_text",
];

#[tokio::test]
async fn no_campaigns_gives_an_empty_array() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/campaigns").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, serde_json::json!([]));
}

#[tokio::test]
async fn demo_campaigns_are_listed_in_the_documented_shape() {
    let app = spawn_app_with_demo().await;
    let res = app.get("/api/v1/campaigns").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let list: Vec<Value> = res.json().await.unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["slug"], "sipas-demo", "SIPAS is listed first");
    assert_eq!(list[1]["slug"], "health-demo");
    assert_eq!(list[2]["slug"], "sipas-1001-demo");
    for c in &list {
        assert!(c["name"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(c["service"].as_str().is_some_and(|s| !s.is_empty()));
        let localities = c["localities"].as_array().unwrap();
        assert!(localities.len() >= 20);
        let mut codes = HashSet::new();
        for l in localities {
            let code = l["code"].as_str().unwrap();
            assert!(
                code.len() == 5 && code.chars().all(|c| c.is_ascii_digit()),
                "{code}"
            );
            assert!(codes.insert(code.to_owned()), "duplicate {code}");
            assert_eq!(l["level"], "commune");
            assert!(l["name"].as_str().is_some_and(|s| !s.is_empty()));
        }
        let q = &c["questionnaire"];
        assert!(q["version"].as_i64().unwrap() >= 1);
        let sections = q["sections"].as_array().unwrap();
        assert!(!sections.is_empty());
        let mut question_codes = HashSet::new();
        for s in sections {
            assert!(s["code"].is_string());
            assert!(s["title"]["vi"].is_string());
            for question in s["questions"].as_array().unwrap() {
                let code = question["code"].as_str().unwrap();
                assert!(question_codes.insert(code.to_owned()), "duplicate {code}");
                let kind = question["type"].as_str().unwrap();
                assert!(TYPES.contains(&kind), "{kind}");
                assert!(question["required"].is_boolean());
                assert!(
                    question["label"]["vi"]
                        .as_str()
                        .is_some_and(|s| !s.is_empty())
                );
                assert!(
                    question["label"]["en"]
                        .as_str()
                        .is_some_and(|s| !s.is_empty())
                );
                if kind == "scale" || kind == "number" {
                    assert!(
                        question["min"].is_i64() && question["max"].is_i64(),
                        "{code}"
                    );
                }
                if kind.ends_with("_choice") {
                    let options = question["options"].as_array().unwrap();
                    assert!(options.len() >= 2);
                    assert!(
                        options
                            .iter()
                            .all(|o| o["value"].is_string() && o["label"]["vi"].is_string())
                    );
                }
                if let Some(cond) = question.get("condition") {
                    assert!(question_codes.contains(cond["question"].as_str().unwrap()));
                }
            }
        }
    }
    // SIPAS: 22 criteria questions on a 1–5 scale, one of them conditional.
    let sipas = &list[0]["questionnaire"]["sections"];
    let scales: Vec<&Value> = sipas
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["questions"].as_array().unwrap())
        .filter(|q| q["type"] == "scale")
        .collect();
    assert_eq!(scales.len(), 22);
    assert!(scales.iter().all(|q| q["min"] == 1 && q["max"] == 5));
    assert!(scales.iter().any(|q| q.get("condition").is_some()));
}

#[tokio::test]
async fn names_follow_the_requested_language() {
    let app = spawn_app_with_demo().await;
    let vi: Vec<Value> = app.get("/api/v1/campaigns").await.json().await.unwrap();
    let en: Vec<Value> = app
        .client
        .get(app.url("/api/v1/campaigns"))
        .header("Accept-Language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(vi[0]["name"].as_str().unwrap().contains("Khảo sát"));
    assert!(en[0]["name"].as_str().unwrap().contains("survey"));
    assert_eq!(
        vi[0]["localities"][0]["code"],
        en[0]["localities"][0]["code"]
    );
}

#[tokio::test]
async fn closed_and_future_campaigns_are_not_listed() {
    let app = spawn_app_with_demo().await;
    let db = app.db.connect().await;
    let today = Utc::now().date_naive();
    let health = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq("health-demo"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let mut closed: campaign::ActiveModel = health.into();
    closed.closes_on = Set(today - Duration::days(1));
    closed.update(&db).await.unwrap();
    let list: Vec<Value> = app.get("/api/v1/campaigns").await.json().await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["slug"], "sipas-demo");
    assert_eq!(list[1]["slug"], "sipas-1001-demo");

    let sipas = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq("sipas-demo"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let mut future: campaign::ActiveModel = sipas.into();
    future.opens_on = Set(today + Duration::days(1));
    future.update(&db).await.unwrap();
    let list: Vec<Value> = app.get("/api/v1/campaigns").await.json().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["slug"], "sipas-1001-demo");
}

#[tokio::test]
async fn demo_data_has_a_realistic_design() {
    let app = spawn_app_with_demo().await;
    let db = app.db.connect().await;
    let responses = count(&db, "responses").await;
    assert!((2_000..15_000).contains(&responses), "{responses}");
    // Every province has at least ten clusters, every stratum at least two.
    let rows = entity::response::Entity::find().all(&db).await.unwrap();
    let mut clusters: std::collections::BTreeMap<(i64, String), HashSet<String>> =
        Default::default();
    let mut strata: std::collections::BTreeMap<(i64, String), HashSet<String>> = Default::default();
    let mut weights = HashSet::new();
    let mut missing = 0;
    for r in &rows {
        let stratum = r.stratum.clone().unwrap();
        let province = stratum[..2].to_owned();
        let cluster = r.cluster.clone().unwrap();
        clusters
            .entry((r.campaign_id, province))
            .or_default()
            .insert(cluster.clone());
        strata
            .entry((r.campaign_id, stratum))
            .or_default()
            .insert(cluster);
        weights.insert(r.base_weight.to_bits());
        let answers: serde_json::Map<String, Value> = serde_json::from_str(&r.answers).unwrap();
        if !answers.contains_key("e1_1") && r.campaign_id == rows[0].campaign_id {
            missing += 1;
        }
    }
    assert!(clusters.values().all(|c| c.len() >= 10), "{clusters:?}");
    assert!(strata.values().all(|c| c.len() >= 2), "{strata:?}");
    assert!(weights.len() > 20, "weights are unequal");
    assert!(missing > 0, "some answers are missing");
    assert!(count(&db, "population_margins").await > 0);
}
