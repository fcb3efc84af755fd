//! `POST /api/v1/campaigns/{slug}/responses`: strict JSON, validation,
//! idempotency, anonymity of the stored row.

use chrono::{Duration, Utc};
use entity::{campaign, campaign_locality, response};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{TestApp, count, spawn_app_with_demo};

const PATH: &str = "/api/v1/campaigns/sipas-demo/responses";

/// A commune of the SIPAS demo campaign.
pub async fn sipas_locality(app: &TestApp) -> String {
    let list: Vec<Value> = app.get("/api/v1/campaigns").await.json().await.unwrap();
    list[0]["localities"][0]["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub fn valid_body(id: &str, locality: &str) -> Value {
    json!({
        "submission_id": id,
        "locality": locality,
        "answers": {"sex": "F", "age_group": "35-54", "e1_1": 5, "e1_2": "dk",
                    "e5_gave": true, "e5_3": 4, "comment": "Cán bộ nhiệt tình"}
    })
}

async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut req = app.client.post(app.url(path)).body(body);
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    req.send().await.unwrap()
}

pub async fn post_json(app: &TestApp, body: &Value) -> reqwest::Response {
    post_raw(
        app,
        PATH,
        Some("application/json"),
        body.to_string().into_bytes(),
    )
    .await
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn a_valid_response_is_stored_anonymously_with_its_design_fields() {
    let app = spawn_app_with_demo().await;
    let locality = sipas_locality(&app).await;
    let db = app.db.connect().await;
    let before = count(&db, "responses").await;
    let id = new_id();
    let res = post_json(&app, &valid_body(&id, &locality)).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({"submission_id": id, "status": "received"}));
    assert_eq!(count(&db, "responses").await, before + 1);

    let row = response::Entity::find_by_id(id.clone())
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let link = campaign_locality::Entity::find()
        .filter(campaign_locality::Column::CampaignId.eq(row.campaign_id))
        .filter(campaign_locality::Column::LocalityCode.eq(locality.clone()))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.locality_code, locality);
    assert_eq!(row.channel, "api");
    assert_eq!(row.response_date, Utc::now().date_naive());
    assert_eq!(row.stratum, link.stratum);
    assert_eq!(row.cluster, link.cluster);
    assert_eq!(Some(row.base_weight), link.base_weight);
    let cells: Value = serde_json::from_str(row.cells.as_deref().unwrap()).unwrap();
    assert_eq!(cells, json!({"sex": "F", "age_group": "35-54"}));
    let answers: Value = serde_json::from_str(&row.answers).unwrap();
    assert_eq!(answers, valid_body(&id, &locality)["answers"]);
}

#[tokio::test]
async fn a_repeated_submission_id_returns_the_first_result_and_stores_nothing() {
    let app = spawn_app_with_demo().await;
    let locality = sipas_locality(&app).await;
    let db = app.db.connect().await;
    let before = count(&db, "responses").await;
    let id = new_id();
    let first = post_json(&app, &valid_body(&id, &locality)).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let mut changed = valid_body(&id, &locality);
    changed["answers"]["e1_1"] = json!(1);
    let again = post_json(&app, &changed).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(count(&db, "responses").await, before + 1);
    let row = response::Entity::find_by_id(id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.answers.contains("\"e1_1\":5"), "{}", row.answers);
}

#[tokio::test]
async fn concurrent_submissions_are_each_committed_once() {
    let app = spawn_app_with_demo().await;
    let locality = sipas_locality(&app).await;
    let db = app.db.connect().await;
    let before = count(&db, "responses").await;
    let dup = new_id();
    let mut tasks = Vec::new();
    for i in 0..120 {
        let id = if i % 4 == 0 { dup.clone() } else { new_id() };
        let body = valid_body(&id, &locality);
        let client = app.client.clone();
        let url = app.url(PATH);
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut created = 0;
    let mut repeated = 0;
    for t in tasks {
        match t.await.unwrap() {
            201 => created += 1,
            200 => repeated += 1,
            other => panic!("status {other}"),
        }
    }
    assert_eq!(
        created, 91,
        "90 distinct ids plus the first of the repeated one"
    );
    assert_eq!(repeated, 29);
    assert_eq!(count(&db, "responses").await, before + 91);
    // The demo's rows and these, each counted once by the trigger (duplicates not at all).
    crate::helpers::response_counts_agree(&db).await;
}

#[tokio::test]
async fn only_application_json_is_accepted() {
    let app = spawn_app_with_demo().await;
    let locality = sipas_locality(&app).await;
    let body = valid_body(&new_id(), &locality).to_string().into_bytes();
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/json; charset=latin1"),
    ] {
        let res = post_raw(&app, PATH, ct, body.clone()).await;
        assert_eq!(res.status(), 415, "{ct:?}");
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["error"], "unsupported_media_type");
    }
    let res = post_raw(&app, PATH, Some("application/json; charset=UTF-8"), body).await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn malformed_json_is_refused_with_400_and_nothing_is_stored() {
    let app = spawn_app_with_demo().await;
    let locality = sipas_locality(&app).await;
    let db = app.db.connect().await;
    let before = count(&db, "responses").await;
    let good = valid_body(&new_id(), &locality).to_string();
    let dup_key = good.replacen('{', "{\"locality\":\"x\",", 1);
    let nested_dup = good.replacen("\"sex\":", "\"e1_1\":3,\"sex\":", 1);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "json_bom",
            [b"\xEF\xBB\xBF".as_slice(), good.as_bytes()].concat(),
        ),
        ("invalid_json", format!("{good} {{}}").into_bytes()),
        ("invalid_json", format!("{good}x").into_bytes()),
        ("invalid_json", good.as_bytes()[..good.len() - 1].to_vec()),
        ("duplicate_key", dup_key.into_bytes()),
        ("duplicate_key", nested_dup.into_bytes()),
        (
            "invalid_utf8",
            good.replace("Cán", "C\u{1}n")
                .into_bytes()
                .into_iter()
                .map(|b| if b == 1 { 0xFF } else { b })
                .collect(),
        ),
        ("expected_object", b"[1,2]".to_vec()),
    ];
    for (code, body) in cases {
        let res = post_raw(&app, PATH, Some("application/json"), body).await;
        assert_eq!(res.status(), 400, "{code}");
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["error"], code);
        assert!(problem["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(count(&db, "responses").await, before);
}

#[tokio::test]
async fn a_body_over_64_kib_is_refused_with_413() {
    let app = spawn_app_with_demo().await;
    let locality = sipas_locality(&app).await;
    let mut body = valid_body(&new_id(), &locality);
    body["answers"]["comment"] = json!("x".repeat(70 * 1024));
    let res = post_json(&app, &body).await;
    assert_eq!(res.status(), 413);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["error"], "payload_too_large");
}

#[tokio::test]
async fn unknown_and_closed_campaigns_refuse_answers() {
    let app = spawn_app_with_demo().await;
    let locality = sipas_locality(&app).await;
    let db = app.db.connect().await;
    let before = count(&db, "responses").await;
    let res = post_raw(
        &app,
        "/api/v1/campaigns/nope/responses",
        Some("application/json"),
        valid_body(&new_id(), &locality).to_string().into_bytes(),
    )
    .await;
    assert_eq!(res.status(), 404);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "campaign_not_found"
    );

    let sipas = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq("sipas-demo"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let mut closed: campaign::ActiveModel = sipas.into();
    closed.closes_on = Set(Utc::now().date_naive() - Duration::days(1));
    closed.update(&db).await.unwrap();
    let res = app
        .client
        .post(app.url(PATH))
        .header("Accept-Language", "en")
        .json(&valid_body(&new_id(), &locality))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["error"], "campaign_closed");
    assert!(problem["message"].as_str().unwrap().contains("closed"));
    assert_eq!(count(&db, "responses").await, before);
}

#[tokio::test]
async fn invalid_answers_are_refused_with_a_message_naming_the_field() {
    let app = spawn_app_with_demo().await;
    let locality = sipas_locality(&app).await;
    let db = app.db.connect().await;
    let before = count(&db, "responses").await;
    let cases = [
        ("answers.e1_1", json!("5"), "expected_integer"),
        ("answers.e1_1", json!(4.5), "expected_integer"),
        ("answers.e1_1", json!(9), "out_of_range"),
        ("answers.e2_1", json!("dk"), "dont_know_not_offered"),
        ("answers.comment", json!(""), "empty_answer"),
        (
            "answers.comment",
            json!("x".repeat(5_001)),
            "answer_too_long",
        ),
        ("answers.sex", json!("X"), "unknown_option"),
        ("answers.e5_gave", json!(1), "expected_boolean"),
        ("answers.bogus", json!(1), "unknown_question"),
    ];
    for (field, value, code) in cases {
        let mut body = valid_body(&new_id(), &locality);
        let key = field.trim_start_matches("answers.");
        body["answers"][key] = value;
        if key == "e5_gave" {
            // Its follow-up is hidden when it has no valid answer.
            body["answers"].as_object_mut().unwrap().remove("e5_3");
        }
        let res = post_json(&app, &body).await;
        assert_eq!(res.status(), 422, "{field} {code}");
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["error"], "validation_failed");
        let fields = problem["fields"].as_array().unwrap();
        assert_eq!(fields.len(), 1, "{problem}");
        assert_eq!(fields[0]["field"], field);
        assert_eq!(fields[0]["code"], code);
        assert!(fields[0]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // A hidden question answered; a required one missing; envelope problems.
    let mut body = valid_body(&new_id(), &locality);
    body["answers"]["e5_gave"] = json!(false);
    body["answers"].as_object_mut().unwrap().remove("age_group");
    body["locality"] = json!("99999");
    let res = post_json(&app, &body).await;
    assert_eq!(res.status(), 422);
    let problem: Value = res.json().await.unwrap();
    let got: Vec<(String, String)> = problem["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().into(),
                f["code"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("locality".to_owned(), "unknown_locality".to_owned()),
            ("answers.age_group".to_owned(), "answer_required".to_owned()),
            (
                "answers.e5_3".to_owned(),
                "answer_to_hidden_question".to_owned()
            ),
        ]
    );
    let res = post_json(
        &app,
        &json!({"submission_id": "not-a-uuid", "locality": locality, "answers": {}}),
    )
    .await;
    assert_eq!(res.status(), 422);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["fields"][0]["field"], "submission_id");
    assert_eq!(count(&db, "responses").await, before);
}

#[tokio::test]
async fn messages_follow_the_requesters_language() {
    let app = spawn_app_with_demo().await;
    let locality = sipas_locality(&app).await;
    let mut body = valid_body(&new_id(), &locality);
    body["answers"]["e1_1"] = json!(9);
    let vi: Value = post_json(&app, &body).await.json().await.unwrap();
    assert!(
        vi["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Vui lòng"),
        "{vi}"
    );
    let en: Value = app
        .client
        .post(app.url(PATH))
        .header("Accept-Language", "en")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        en["fields"][0]["message"],
        "Please give a value from 1 to 5."
    );
}

#[tokio::test]
async fn a_stored_response_has_only_the_documented_columns() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app_with_demo().await;
    let locality = sipas_locality(&app).await;
    let id = new_id();
    assert_eq!(
        post_json(&app, &valid_body(&id, &locality)).await.status(),
        201
    );
    let db = app.db.connect().await;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT * FROM responses WHERE id = '{id}'"),
        ))
        .await
        .unwrap()
        .unwrap();
    let mut columns = row.column_names();
    columns.sort();
    assert_eq!(
        columns,
        [
            "answers",
            "base_weight",
            "campaign_id",
            "cells",
            "channel",
            "cluster",
            "id",
            "locality_code",
            "publication",
            "response_date",
            "stratum"
        ],
        "no address, agent, token or time of day"
    );
    let date: chrono::NaiveDate = row.try_get("", "response_date").unwrap();
    assert_eq!(date, Utc::now().date_naive());
    // The publication that first included it: none yet (one response waits for k).
    let publication: Option<i64> = row.try_get("", "publication").unwrap();
    assert_eq!(publication, None);
}
