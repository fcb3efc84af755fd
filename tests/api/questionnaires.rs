//! Questionnaires: API life cycle, immutability, JSON round trip, XLSForm
//! import, presets.

use std::process::Command;

use reqwest::StatusCode;
use rust_xlsxwriter::Workbook;
use serde_json::{Value, json};

use crate::helpers::{count, hailong_bin, spawn_app, spawn_app_with_demo};

const SIPAS: &str = include_str!("../../presets/sipas-2640.json");

fn small_definition(code: &str) -> Value {
    json!({
        "code": code,
        "title": {"vi": "Khảo sát nhỏ", "en": "Small survey"},
        "sections": [{
            "code": "s1",
            "title": {"vi": "Phần 1", "en": "Part 1"},
            "questions": [
                {"code": "q1", "type": "scale", "required": true, "label": {"vi": "Hài lòng không?", "en": "Satisfied?"},
                 "min": 1, "max": 3, "points": [
                    {"value": 1, "label": {"vi": "Không", "en": "No"}},
                    {"value": 2, "label": {"vi": "Bình thường", "en": "So-so"}},
                    {"value": 3, "label": {"vi": "Có", "en": "Yes"}}],
                 "index": {"element": "E1", "criterion": "C1", "satisfied_min": 3}},
                {"code": "q2", "type": "short_text", "label": {"vi": "Vì sao?"},
                 "condition": {"question": "q1", "op": "lte", "value": 2}}
            ]
        }],
        "indices": [{"code": "IDX", "name": {"vi": "Chỉ số"}, "aggregation": "mean_of_criteria",
            "elements": [{"code": "E1", "name": {"vi": "Yếu tố 1"}, "criteria": [{"code": "C1", "name": {"vi": "Tiêu chí 1"}}]}]}]
    })
}

#[tokio::test]
async fn create_edit_validate_publish_and_new_draft() {
    let app = spawn_app().await;
    let token = app.token_for("designer@example.vn", "designer").await;
    let c = &app.client;
    let res = c
        .post(app.url("/api/v1/questionnaires"))
        .bearer_auth(&token)
        .json(&small_definition("small"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["versions"][0]["status"], "draft");

    // Edit the draft: same version.
    let mut def = small_definition("small");
    def["title"]["en"] = json!("Small survey, edited");
    let res = c
        .put(app.url(&format!("/api/v1/questionnaires/{id}/draft")))
        .bearer_auth(&token)
        .json(&def)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["version"], 1);

    // Validate without saving.
    let mut bad = def.clone();
    bad["sections"][0]["questions"][1]["code"] = json!("q1");
    let res = c
        .post(app.url("/api/v1/questionnaires/validate"))
        .bearer_auth(&token)
        .json(&bad)
        .send()
        .await
        .unwrap();
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["valid"], false);
    assert!(
        v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["code"] == "duplicate_code")
    );

    // Publish: frozen with a checksum.
    let res = c
        .post(app.url(&format!("/api/v1/questionnaires/{id}/publish")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let published: Value = res.json().await.unwrap();
    assert_eq!(published["status"], "published");
    assert_eq!(published["checksum"].as_str().unwrap().len(), 64);
    let res = c
        .post(app.url(&format!("/api/v1/questionnaires/{id}/publish")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CONFLICT,
        "nothing left to publish"
    );

    // Editing a published questionnaire starts version 2; version 1 is unchanged.
    let mut v2 = def.clone();
    v2["title"]["vi"] = json!("Khảo sát nhỏ (bản 2)");
    let res = c
        .put(app.url(&format!("/api/v1/questionnaires/{id}/draft")))
        .bearer_auth(&token)
        .json(&v2)
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["version"], 2);
    let v1: Value = c
        .get(app.url(&format!("/api/v1/questionnaires/{id}/versions/1")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v1["status"], "published");
    assert_eq!(v1["definition"]["title"]["vi"], "Khảo sát nhỏ");
    assert_eq!(v1["checksum"], published["checksum"]);
    let list: Value = c
        .get(app.url("/api/v1/questionnaires"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["versions"].as_array().unwrap().len(), 2);

    // A draft nobody uses can be deleted; the audit log has it all.
    let res = c
        .delete(app.url(&format!("/api/v1/questionnaires/{id}/versions/2")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let db = app.db.connect().await;
    assert!(count(&db, "audit_log").await >= 5);
}

#[tokio::test]
async fn bad_definitions_are_refused_with_every_problem_and_nothing_saved() {
    let app = spawn_app().await;
    let token = app.token_for("designer@example.vn", "designer").await;
    let mut def = small_definition("bad");
    def["sections"][0]["questions"][1]["code"] = json!("q1"); // duplicate code
    def["sections"][0]["questions"][0]["condition"] = json!({"question": "q9", "op": "answered"}); // unknown
    def["sections"][0]["questions"][0]["points"] = json!([]); // scale without labels
    def["sections"][0]["questions"][0]["index"]["weight"] = json!(0); // weight <= 0
    def["title"] = json!({"en": "No Vietnamese"}); // missing vi
    let res = app
        .client
        .post(app.url("/api/v1/questionnaires"))
        .bearer_auth(&token)
        .header("Accept-Language", "en")
        .json(&def)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    let codes: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    for expected in [
        "duplicate_code",
        "condition_not_earlier",
        "scale_without_labels",
        "weight_not_positive",
        "missing_vietnamese",
    ] {
        assert!(codes.contains(&expected), "{expected} in {codes:?}");
    }
    assert!(
        body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["field"].is_string() && f["message"].is_string())
    );
    let db = app.db.connect().await;
    assert_eq!(count(&db, "questionnaires").await, 0);
    // Not JSON at all, or the wrong content type.
    let res = app
        .client
        .post(app.url("/api/v1/questionnaires"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .client
        .post(app.url("/api/v1/questionnaires"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body(SIPAS)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn only_staff_with_the_right_role_reach_the_api() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/questionnaires").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let analyst = app.token_for("analyst@example.vn", "analyst").await;
    let res = app.get_as("/api/v1/questionnaires", &analyst).await;
    assert_eq!(res.status(), StatusCode::OK, "analysts read");
    let res = app
        .client
        .post(app.url("/api/v1/questionnaires"))
        .bearer_auth(&analyst)
        .json(&small_definition("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "but do not write");
}

#[tokio::test]
async fn versions_used_by_a_campaign_cannot_be_deleted() {
    let app = spawn_app_with_demo().await;
    let token = app.token_for("admin@example.vn", "admin").await;
    let list: Value = app.get_json_as("/api/v1/questionnaires", &token).await;
    let sipas = list
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["code"] == "sipas-2640")
        .unwrap();
    let id = sipas["id"].as_i64().unwrap();
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/questionnaires/{id}/versions/1")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let db = app.db.connect().await;
    assert!(count(&db, "responses").await > 0, "responses intact");
    assert_eq!(count(&db, "questionnaire_versions").await, 3);
}

#[tokio::test]
async fn json_export_and_import_round_trip_exactly() {
    let app = spawn_app_with_demo().await;
    let token = app.token_for("designer@example.vn", "designer").await;
    let list: Value = app.get_json_as("/api/v1/questionnaires", &token).await;
    let id = list[0]["id"].as_i64().unwrap();
    let exported = app
        .get_as(&format!("/api/v1/questionnaires/{id}/export"), &token)
        .await
        .text()
        .await
        .unwrap();
    let file = app.db.dir.path().join("q.json");
    std::fs::write(&file, &exported).unwrap();
    let out = Command::new(hailong_bin())
        .args(["questionnaire", "import", "--format", "json", "--dry-run"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: Value = serde_json::from_str(&exported).unwrap();
    let b: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a, b);
    // And the CLI export of the stored version is the same definition.
    let out = Command::new(hailong_bin())
        .args([
            "questionnaire",
            "export",
            &id.to_string(),
            "--database-url",
            &app.db.url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a, c);
}

/// Writes an ODK/KoboToolbox-style XLSForm, as those tools produce them.
fn write_xlsform(path: &std::path::Path, extra_type: Option<&str>) {
    let mut wb = Workbook::new();
    let survey = wb.add_worksheet().set_name("survey").unwrap();
    let header = [
        "type",
        "name",
        "label::Tiếng Việt (vi)",
        "label::English (en)",
        "hint::Tiếng Việt (vi)",
        "required",
        "relevant",
        "constraint",
        "appearance",
    ];
    for (c, h) in header.iter().enumerate() {
        survey.write_string(0, c as u16, *h).unwrap();
    }
    let mut rows: Vec<[&str; 9]> = vec![
        ["start", "start", "", "", "", "", "", "", ""],
        [
            "begin group",
            "about",
            "Thông tin chung",
            "About you",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            "select_one sex",
            "sex",
            "Giới tính",
            "Sex",
            "",
            "yes",
            "",
            "",
            "",
        ],
        [
            "integer",
            "age",
            "Tuổi",
            "Age",
            "Số năm tròn",
            "yes",
            "",
            ". >= 18 and . <= 120",
            "",
        ],
        ["end group", "", "", "", "", "", "", "", ""],
        [
            "begin group",
            "visit",
            "Lần đến làm thủ tục",
            "Your visit",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            "select_one sat5",
            "q1",
            "Hài lòng với thái độ cán bộ?",
            "Satisfied with the staff?",
            "",
            "yes",
            "",
            "",
            "likert",
        ],
        [
            "select_one yes_no",
            "complained",
            "Có khiếu nại không?",
            "Did you complain?",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            "text",
            "why",
            "Vì sao?",
            "Why?",
            "",
            "",
            "${complained} = 'yes'",
            "",
            "multiline",
        ],
        [
            "select_multiple docs",
            "docs",
            "Giấy tờ đã nộp",
            "Documents submitted",
            "",
            "",
            "${q1} <= 3",
            "",
            "",
        ],
        [
            "geopoint",
            "where",
            "Vị trí",
            "Location",
            "",
            "",
            "",
            "",
            "",
        ],
        ["calculate", "score", "", "", "", "", "", "", ""],
        ["end group", "", "", "", "", "", "", "", ""],
    ];
    if let Some(t) = extra_type {
        rows.push([t, "odd", "Lạ", "Odd", "", "", "", "", ""]);
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                survey.write_string(r as u32 + 1, c as u16, *v).unwrap();
            }
        }
    }
    let choices = wb.add_worksheet().set_name("choices").unwrap();
    for (c, h) in [
        "list_name",
        "name",
        "label::Tiếng Việt (vi)",
        "label::English (en)",
    ]
    .iter()
    .enumerate()
    {
        choices.write_string(0, c as u16, *h).unwrap();
    }
    let list = [
        ("sex", "F", "Nữ", "Female"),
        ("sex", "M", "Nam", "Male"),
        ("sat5", "1", "Rất không hài lòng", "Very dissatisfied"),
        ("sat5", "2", "Không hài lòng", "Dissatisfied"),
        ("sat5", "3", "Bình thường", "Neither"),
        ("sat5", "4", "Hài lòng", "Satisfied"),
        ("sat5", "5", "Rất hài lòng", "Very satisfied"),
        ("yes_no", "yes", "Có", "Yes"),
        ("yes_no", "no", "Không", "No"),
        ("docs", "id_card", "Căn cước", "ID card"),
        ("docs", "form", "Tờ khai", "Form"),
    ];
    for (r, (l, n, vi, en)) in list.iter().enumerate() {
        for (c, v) in [l, n, vi, en].iter().enumerate() {
            choices.write_string(r as u32 + 1, c as u16, **v).unwrap();
        }
    }
    let settings = wb.add_worksheet().set_name("settings").unwrap();
    for (c, (h, v)) in [
        ("form_title::Tiếng Việt (vi)", "Khảo sát Một cửa"),
        ("form_title::English (en)", "One-stop survey"),
        ("form_id", "kobo_one_stop"),
        ("default_language", "Tiếng Việt (vi)"),
    ]
    .iter()
    .enumerate()
    {
        settings.write_string(0, c as u16, *h).unwrap();
        settings.write_string(1, c as u16, *v).unwrap();
    }
    wb.save(path).unwrap();
}

#[tokio::test]
async fn an_odk_kobo_xlsform_imports_with_warnings_for_what_cannot_be_mapped() {
    let app = spawn_app().await;
    let file = app.db.dir.path().join("kobo_one_stop.xlsx");
    write_xlsform(&file, None);
    let out = Command::new(hailong_bin())
        .args([
            "questionnaire",
            "import",
            "--format",
            "json",
            "--database-url",
            &app.db.url,
        ])
        .arg(&file)
        .env("LANG", "en_US.UTF-8")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("survey row 2") && stderr.contains("start"),
        "{stderr}"
    );
    assert!(
        stderr.contains("survey row 12") && stderr.contains("geopoint"),
        "{stderr}"
    );
    assert!(
        stderr.contains("survey row 13") && stderr.contains("calculate"),
        "{stderr}"
    );
    let def: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(def["code"], "kobo_one_stop");
    assert_eq!(def["title"]["en"], "One-stop survey");
    let sections = def["sections"].as_array().unwrap();
    assert_eq!(sections.len(), 2);
    assert_eq!(sections[0]["code"], "about");
    let q = |code: &str| {
        sections
            .iter()
            .flat_map(|s| s["questions"].as_array().unwrap())
            .find(|q| q["code"] == code)
            .cloned()
            .unwrap()
    };
    assert_eq!(q("sex")["type"], "single_choice");
    assert_eq!(q("sex")["required"], true);
    assert_eq!(q("age")["type"], "number");
    assert_eq!(
        (q("age")["min"].as_i64(), q("age")["max"].as_i64()),
        (Some(18), Some(120))
    );
    assert_eq!(q("age")["help"]["vi"], "Số năm tròn");
    assert_eq!(q("q1")["type"], "scale");
    assert_eq!(q("q1")["points"].as_array().unwrap().len(), 5);
    assert_eq!(q("q1")["label"]["en"], "Satisfied with the staff?");
    assert_eq!(q("why")["type"], "long_text");
    assert_eq!(
        q("why")["condition"],
        json!({"question": "complained", "op": "eq", "value": "yes"})
    );
    assert_eq!(q("docs")["type"], "multiple_choice");
    assert_eq!(q("docs")["condition"]["op"], "lte");
    // Stored as a draft.
    let db = app.db.connect().await;
    assert_eq!(count(&db, "questionnaires").await, 1);
    assert_eq!(count(&db, "questionnaire_versions").await, 1);
}

#[tokio::test]
async fn an_unknown_xlsform_type_or_a_non_xlsform_is_an_error() {
    let app = spawn_app().await;
    let file = app.db.dir.path().join("odd.xlsx");
    write_xlsform(&file, Some("hologram"));
    let out = Command::new(hailong_bin())
        .args(["questionnaire", "import", "--database-url", &app.db.url])
        .arg(&file)
        .env("LANG", "en_US.UTF-8")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("survey row 15") && stderr.contains("hologram"),
        "{stderr}"
    );
    let db = app.db.connect().await;
    assert_eq!(count(&db, "questionnaires").await, 0, "nothing imported");

    let not_form = app.db.dir.path().join("budget.xlsx");
    let mut wb = Workbook::new();
    wb.add_worksheet()
        .set_name("Sheet1")
        .unwrap()
        .write_string(0, 0, "total")
        .unwrap();
    wb.save(&not_form).unwrap();
    let out = Command::new(hailong_bin())
        .args(["questionnaire", "import", "--dry-run"])
        .arg(&not_form)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an XLSForm"));
    let garbage = app.db.dir.path().join("garbage.xlsx");
    std::fs::write(&garbage, b"not a zip file").unwrap();
    let out = Command::new(hailong_bin())
        .args(["questionnaire", "import", "--dry-run"])
        .arg(&garbage)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn presets_are_valid_in_both_languages() {
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/presets")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).unwrap();
            let def = hailong::domain::questionnaire::Definition::parse(&text)
                .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
            for q in def.questions() {
                assert!(
                    q.label.0.contains_key("vi") && q.label.0.contains_key("en"),
                    "{} {}",
                    path.display(),
                    q.code
                );
            }
            assert!(!def.indices.is_empty(), "{}", path.display());
        }
    }
}

#[tokio::test]
async fn the_openapi_document_is_public_and_lists_the_api() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/openapi.json").await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    // Exactly these operations: one added to api::configure shows up here.
    let mut expected = vec![
        ("get", "/api/v1/campaigns"),
        ("get", "/api/v1/openapi.json"),
        ("get", "/api/v1/staff/me"),
        ("get", "/api/v1/questionnaires"),
        ("post", "/api/v1/questionnaires"),
        ("post", "/api/v1/questionnaires/validate"),
        ("get", "/api/v1/questionnaires/{id}"),
        ("put", "/api/v1/questionnaires/{id}/draft"),
        ("post", "/api/v1/questionnaires/{id}/publish"),
        ("get", "/api/v1/questionnaires/{id}/versions/{version}"),
        ("delete", "/api/v1/questionnaires/{id}/versions/{version}"),
        ("get", "/api/v1/questionnaires/{id}/export"),
        ("post", "/api/v1/campaigns/{slug}/responses"),
        ("get", "/api/v1/campaigns/{slug}/results"),
        ("get", "/api/v1/campaigns/{slug}/compare"),
        ("get", "/api/v1/campaigns/{slug}/targets"),
        ("get", "/api/v1/campaigns/{slug}/small-area"),
    ];
    expected.sort_unstable();
    let mut documented = operations(&doc);
    documented.sort_unstable();
    let documented: Vec<(&str, &str)> = documented
        .iter()
        .map(|(m, p)| (m.as_str(), p.as_str()))
        .collect();
    assert_eq!(documented, expected);
    for tag in ["public", "questionnaires", "results", "staff"] {
        assert!(
            doc["tags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["name"] == tag),
            "tag {tag}"
        );
    }
    assert_eq!(
        doc["paths"]["/api/v1/questionnaires/{id}"]["get"]["security"],
        json!([{"session": []}, {"token": []}])
    );
    assert!(doc["components"]["schemas"]["Definition"].is_object());
    let row = &doc["components"]["schemas"]["ResultJson"]["properties"];
    for key in [
        "locality",
        "name",
        "index",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "df",
        "n",
        "deff",
        "suppressed",
        "reason",
    ] {
        assert!(row[key].is_object(), "ResultJson.{key}");
    }
    assert!(doc["components"]["securitySchemes"]["token"].is_object());
    assert!(doc["components"]["securitySchemes"]["session"].is_object());
}

/// The (method, path) of every operation of an OpenAPI document.
fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                ops.push((method.clone(), path.clone()));
            }
        }
    }
    ops
}

/// Whether `path` (concrete) matches `pattern` (`{name}` matches a segment).
fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, path): (Vec<_>, Vec<_>) =
        (pattern.split('/').collect(), path.split('/').collect());
    pattern.len() == path.len()
        && pattern
            .iter()
            .zip(&path)
            .all(|(p, s)| p == s || (p.starts_with('{') && p.ends_with('}')))
}

/// The routes and the document agree: every documented operation reaches a
/// handler, and no other method on a documented path does (a routing miss is
/// the fallback's `page_not_found` 404, or a 405). Each `{param}` is `1`.
#[tokio::test]
async fn every_documented_operation_is_routed_and_no_other() {
    let app = spawn_app().await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let documented = operations(&doc);
    assert!(documented.len() >= 16, "{documented:?}");
    let params = regex::Regex::new(r"\{[^}/]+\}").unwrap();
    let paths: std::collections::BTreeSet<&String> = documented.iter().map(|(_, p)| p).collect();
    for pattern in paths {
        assert!(pattern.starts_with("/api/v1/"), "{pattern}");
        let path = params.replace_all(pattern, "1").into_owned();
        for method in ["get", "post", "put", "delete", "patch"] {
            let own = documented.iter().any(|(m, p)| m == method && p == pattern);
            let other = documented
                .iter()
                .any(|(m, p)| m == method && p != pattern && matches(p, &path));
            if !own && other {
                continue; // another documented route takes it
            }
            let res = app
                .client
                .request(method.to_uppercase().parse().unwrap(), app.url(&path))
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            let missed = status == StatusCode::METHOD_NOT_ALLOWED
                || (status == StatusCode::NOT_FOUND && body["error"] == "page_not_found");
            assert_eq!(
                !missed, own,
                "{method} {path} (documented: {own}): {status} {body}"
            );
        }
    }
}
