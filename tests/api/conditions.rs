//! The condition language on the live server: section conditions, compound
//! conditions, constraints with their own messages, cascading lists and
//! read-only answers, through the JSON API and the kiosk page.

use entity::{campaign, questionnaire_version, response};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with_demo};
use crate::responses::{post_json, sipas_locality, valid_body};

/// Adds a section using the condition language to the demo questionnaire
/// (in its stored version, before the campaign is first read).
pub async fn add_logic_section(app: &TestApp) {
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
    let text = |s: &str| json!({"vi": s, "en": s});
    let option =
        |v: &str, filters: Value| json!({"value": v, "label": text(v), "filters": filters});
    def["sections"].as_array_mut().unwrap().push(json!({
        "code": "x",
        "title": text("Extra"),
        "condition": {"all": [
            {"question": "sex", "op": "eq", "value": "F"},
            {"not": {"question": "age_group", "op": "eq", "value": "18-34"}}
        ]},
        "questions": [
            {"code": "x_prov", "type": "single_choice", "label": text("Province"),
             "options": [{"value": "hn", "label": text("Hà Nội")}, {"value": "hcm", "label": text("HCM")}]},
            {"code": "x_city", "type": "single_choice", "label": text("City"),
             "choice_filter": {"column": "prov", "question": "x_prov", "op": "eq"},
             "options": [option("hn1", json!({"prov": "hn"})), option("sg1", json!({"prov": "hcm"}))]},
            {"code": "x_code", "type": "short_text", "label": text("Code"),
             "constraint": {"question": ".", "op": "matches", "value": "^[0-9]{3}$"},
             "constraint_message": {"vi": "Ba chữ số", "en": "Three digits"}},
            {"code": "x_ro", "type": "short_text", "label": text("Office"),
             "read_only": true, "default": "fixed"},
            {"code": "x_req", "type": "short_text", "label": text("Why"),
             "required_if": {"question": "x_prov", "op": "eq", "value": "hcm"},
             "required_message": {"vi": "Hãy cho biết lý do", "en": "Tell us why"}}
        ]
    }));
    let mut active: questionnaire_version::ActiveModel = v.into();
    active.definition = Set(def.to_string());
    active.update(&db).await.unwrap();
}

fn body(locality: &str, extra: Value) -> Value {
    let mut b = valid_body(&uuid::Uuid::new_v4().to_string(), locality);
    for (k, v) in extra.as_object().unwrap() {
        b["answers"][k] = v.clone();
    }
    b
}

/// The (field, code) pairs of a refusal, and the refusal itself.
async fn refusal(res: reqwest::Response) -> (Vec<(String, String)>, Value) {
    assert_eq!(res.status(), 422);
    let problem: Value = res.json().await.unwrap();
    let fields = problem["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_owned(),
                f["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (fields, problem)
}

fn pair(field: &str, code: &str) -> (String, String) {
    (field.to_owned(), code.to_owned())
}

#[tokio::test]
async fn a_section_hidden_by_its_compound_condition_takes_no_answers() {
    let app = spawn_app_with_demo().await;
    add_logic_section(&app).await;
    let locality = sipas_locality(&app).await;
    // Women of 18-34 do not see the section: not(age_group = 18-34) fails.
    let mut b = body(&locality, json!({"x_code": "123"}));
    b["answers"]["age_group"] = json!("18-34");
    let (fields, _) = refusal(post_json(&app, &b).await).await;
    assert_eq!(
        fields,
        vec![pair("answers.x_code", "answer_to_hidden_question")]
    );
    // Women of 35-54 do.
    let res = post_json(&app, &body(&locality, json!({"x_code": "123"}))).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
}

#[tokio::test]
async fn a_failed_constraint_is_refused_with_the_questions_own_message() {
    let app = spawn_app_with_demo().await;
    add_logic_section(&app).await;
    let locality = sipas_locality(&app).await;
    let (fields, problem) =
        refusal(post_json(&app, &body(&locality, json!({"x_code": "12a"}))).await).await;
    assert_eq!(fields, vec![pair("answers.x_code", "constraint_failed")]);
    assert_eq!(problem["fields"][0]["message"], "Ba chữ số", "{problem}");
}

#[tokio::test]
async fn required_if_asks_for_an_answer_only_when_it_holds() {
    let app = spawn_app_with_demo().await;
    add_logic_section(&app).await;
    let locality = sipas_locality(&app).await;
    let res = post_json(&app, &body(&locality, json!({"x_prov": "hn"}))).await;
    assert_eq!(res.status(), 201);
    let (fields, _) =
        refusal(post_json(&app, &body(&locality, json!({"x_prov": "hcm"}))).await).await;
    assert_eq!(fields, vec![pair("answers.x_req", "answer_required")]);
}

#[tokio::test]
async fn a_cascading_list_refuses_an_option_of_another_branch() {
    let app = spawn_app_with_demo().await;
    add_logic_section(&app).await;
    let locality = sipas_locality(&app).await;
    let (fields, _) = refusal(
        post_json(
            &app,
            &body(&locality, json!({"x_prov": "hn", "x_city": "sg1"})),
        )
        .await,
    )
    .await;
    assert_eq!(fields, vec![pair("answers.x_city", "option_not_offered")]);
    let res = post_json(
        &app,
        &body(&locality, json!({"x_prov": "hn", "x_city": "hn1"})),
    )
    .await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn a_read_only_answer_cannot_be_changed_and_its_default_is_stored() {
    let app = spawn_app_with_demo().await;
    add_logic_section(&app).await;
    let locality = sipas_locality(&app).await;
    let (fields, _) =
        refusal(post_json(&app, &body(&locality, json!({"x_ro": "mine"}))).await).await;
    assert_eq!(fields, vec![pair("answers.x_ro", "read_only_changed")]);
    let b = body(&locality, json!({}));
    let res = post_json(&app, &b).await;
    assert_eq!(res.status(), 201);
    let db = app.db.connect().await;
    let row = response::Entity::find_by_id(b["submission_id"].as_str().unwrap().to_owned())
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let stored: Value = serde_json::from_str(&row.answers).unwrap();
    assert_eq!(stored["x_ro"], "fixed");
}

#[tokio::test]
async fn the_kiosk_page_hands_its_script_the_logic_and_the_evaluator() {
    let app = spawn_app_with_demo().await;
    add_logic_section(&app).await;
    let (token, _) = crate::kiosk::register(&app).await;
    let html = app.get(&format!("/k/{token}")).await.text().await.unwrap();
    assert!(html.contains("<script src=\"/static/conditions.js\" defer></script>"));
    assert!(
        html.contains("data-section=\"x\" data-cond="),
        "section condition for the script"
    );
    assert!(
        html.contains("data-logic="),
        "question logic for the script"
    );
    assert!(html.contains("data-constraint-msg=\"Ba chữ số\""));
    // Cascading options are in the page, hidden until their province is chosen.
    assert!(html.contains("for=\"q-x_city-hn1\" hidden>"), "{html}");
    let js = app.get("/static/conditions.js").await;
    assert_eq!(js.status(), 200);
    assert!(js.text().await.unwrap().contains("function evaluate"));
}

#[tokio::test]
async fn a_phone_page_offers_only_the_cascading_options_of_the_earlier_answer() {
    let app = spawn_app_with_demo().await;
    add_logic_section(&app).await;
    let list: Vec<Value> = app.get("/api/v1/campaigns").await.json().await.unwrap();
    let sipas = &list[0];
    assert_eq!(sipas["slug"], "sipas-demo");
    let locality = sipas["localities"][0]["code"].as_str().unwrap().to_owned();
    let sections = sipas["questionnaire"]["sections"].as_array().unwrap();
    let x = sections.len() - 1;
    assert_eq!(sections[x]["code"], "x");
    assert!(
        sections[x]["condition"]["all"].is_array(),
        "the API shows the section condition"
    );
    let path = "/s/sipas-demo";
    let first = app
        .get(&format!("{path}?l={locality}"))
        .await
        .text()
        .await
        .unwrap();
    let mut fields: Vec<(String, String)> = crate::helpers::hidden_fields(&first)
        .into_iter()
        .filter(|(k, _)| k != "step")
        .collect();
    for (k, v) in [
        ("step", x.to_string()),
        ("a.sex", "F".to_owned()),
        ("a.age_group", "35-54".to_owned()),
        ("a.x_prov", "hn".to_owned()),
        // Tampered: a city of another province.
        ("a.x_city", "sg1".to_owned()),
        ("a.x_code", "123".to_owned()),
        ("nav", "next".to_owned()),
    ] {
        fields.push((k.to_owned(), v));
    }
    let html = crate::survey::post_form(&app, path, &fields)
        .await
        .text()
        .await
        .unwrap();
    // The other province's city was dropped, and the page is shown again
    // with the cities the chosen province offers.
    assert!(html.contains("id=\"q-x_city-hn1\""), "{html}");
    assert!(!html.contains("id=\"q-x_city-sg1\""));
    assert!(!html.contains("value=\"sg1\""));
    // The read-only question shows its default, not editable.
    assert!(html.contains("value=\"fixed\" maxlength=\"500\" readonly"));
}
