//! XLSForms and JSON without Vietnamese (issue 14): stored as drafts that
//! need translation, shown so in the designer, editable, and refused at
//! publishing until every text has its Vietnamese.

use std::process::Command;

use reqwest::StatusCode;
use rust_xlsxwriter::Workbook;
use serde_json::{Value, json};

use crate::helpers::{count, hailong_bin, spawn_app};

/// A workbook with one `survey` sheet (first row: headers).
fn survey_book(rows: &[&[&str]]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("survey").unwrap();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if !cell.is_empty() {
                ws.write_string(r as u32, c as u16, *cell).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

/// An English-only form: a group with two questions.
const ENGLISH_ONLY: &[&[&str]] = &[
    &["type", "name", "label::English (en)"],
    &["begin group", "g", "Visit"],
    &["integer", "age", "How old are you?"],
    &["text", "remark", "Anything else?"],
    &["end group", "", ""],
];

/// Adds a Vietnamese text next to every English one that has none.
fn add_vietnamese(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(en)) = map.get("en").cloned()
                && map
                    .get("vi")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .is_empty()
            {
                map.insert("vi".to_owned(), Value::String(format!("VI {en}")));
            }
            for v in map.values_mut() {
                add_vietnamese(v);
            }
        }
        Value::Array(list) => list.iter_mut().for_each(add_vietnamese),
        _ => {}
    }
}

#[tokio::test]
async fn an_english_only_xlsform_is_stored_as_a_draft_that_cannot_be_published_until_translated() {
    let app = spawn_app().await;
    let file = app.db.dir.path().join("english form.xlsx");
    std::fs::write(&file, survey_book(ENGLISH_ONLY)).unwrap();
    let out = Command::new(hailong_bin())
        .args(["questionnaire", "import", "--database-url", &app.db.url])
        .arg(&file)
        .env("LANG", "en_US.UTF-8")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.starts_with("warning:")
                && l.contains("stored as a draft that needs translation"))
            .count(),
        1,
        "{stderr}"
    );
    let db = app.db.connect().await;
    assert_eq!(count(&db, "questionnaires").await, 1);
    assert_eq!(count(&db, "questionnaire_versions").await, 1);

    // The designer marks it and lists where the texts lack Vietnamese.
    app.add_user("designer@example.vn", "designer").await;
    let c = app.login("designer@example.vn").await;
    let list = c
        .get(app.url("/staff/questionnaires"))
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("translation needed"), "{list}");
    let token = app.token_for("api@example.vn", "designer").await;
    let index: Value = app.get_json_as("/api/v1/questionnaires", &token).await;
    let q = index
        .as_array()
        .and_then(|l| l.iter().find(|q| q["code"] == "english_form"))
        .unwrap_or_else(|| panic!("{index}"));
    let id = q["id"].as_i64().unwrap();
    assert_eq!(q["versions"][0]["needs_translation"], true, "{q}");
    let page = app.page(&c, &format!("/staff/questionnaires/{id}")).await;
    for place in ["g › age › label", "g › remark › label"] {
        assert!(page.contains(place), "{place} in {page}");
    }

    // Editing works on such a draft (the designer's form: the title).
    let csrf = app
        .page_csrf(&c, &format!("/staff/questionnaires/{id}"))
        .await;
    let res = c
        .post(app.url(&format!("/staff/questionnaires/{id}/edit")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("op", "title"),
            ("title_vi", "Chuyến thăm"),
            ("title_en", "Visit"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // Publishing is refused, on the page and in the API, and nothing changes.
    let res = c
        .post(app.url(&format!("/staff/questionnaires/{id}/publish")))
        .header("Accept-Language", "en")
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let html = res.text().await.unwrap();
    assert!(html.contains("cannot be published"), "{html}");
    let res = app
        .client
        .post(app.url(&format!("/api/v1/questionnaires/{id}/publish")))
        .bearer_auth(&token)
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "needs_translation", "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("Vietnamese")),
        "{body}"
    );
    let q: Value = app
        .get_json_as(&format!("/api/v1/questionnaires/{id}"), &token)
        .await;
    assert!(q.to_string().contains("\"status\":\"draft\""), "{q}");
    assert!(!q.to_string().contains("\"status\":\"published\""), "{q}");

    // Once every text has its Vietnamese, it publishes as usual.
    let mut def: Value = app
        .get_json_as(&format!("/api/v1/questionnaires/{id}/export"), &token)
        .await;
    add_vietnamese(&mut def);
    let res = app
        .client
        .put(app.url(&format!("/api/v1/questionnaires/{id}/draft")))
        .bearer_auth(&token)
        .json(&def)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let page = app.page(&c, &format!("/staff/questionnaires/{id}")).await;
    assert!(!page.contains("g › age › label"), "{page}");
    let res = app
        .client
        .post(app.url(&format!("/api/v1/questionnaires/{id}/publish")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let published: Value = res.json().await.unwrap();
    assert_eq!(published["status"], "published");
    assert_eq!(published["needs_translation"], false);
}

#[tokio::test]
async fn the_designer_upload_and_the_json_api_store_drafts_without_vietnamese_but_not_other_problems()
 {
    let app = spawn_app().await;
    app.add_user("designer@example.vn", "designer").await;
    let c = app.login("designer@example.vn").await;
    let csrf = app.page_csrf(&c, "/staff/questionnaires").await;
    let boundary = "----hailongtranstestboundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"visit.xlsx\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&survey_book(ENGLISH_ONLY));
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let res = c
        .post(app.url("/staff/questionnaires/import-file"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header("Accept-Language", "en")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("translation needed"), "{html}");
    let db = app.db.connect().await;
    assert_eq!(count(&db, "questionnaires").await, 1);

    // The JSON API: English-only texts are stored as a draft ...
    let token = app.token_for("api@example.vn", "designer").await;
    let def = json!({
        "code": "english-json",
        "title": {"en": "Visit"},
        "sections": [{
            "code": "s1",
            "title": {"en": "Part 1"},
            "questions": [{"code": "q1", "type": "short_text", "label": {"en": "Name?"}}]
        }]
    });
    let res = app
        .client
        .post(app.url("/api/v1/questionnaires"))
        .bearer_auth(&token)
        .json(&def)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    assert_eq!(count(&db, "questionnaires").await, 2);
    // ... validate still lists what keeps it from being published ...
    let res: Value = app
        .client
        .post(app.url("/api/v1/questionnaires/validate"))
        .bearer_auth(&token)
        .json(&def)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["valid"], false, "{res}");
    assert!(
        res["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["code"] == "missing_vietnamese"),
        "{res}"
    );
    // ... and any other problem still refuses it.
    let mut broken = def.clone();
    broken["code"] = json!("broken-json");
    broken["sections"][0]["questions"][0]["type"] = json!("scale");
    let res = app
        .client
        .post(app.url("/api/v1/questionnaires"))
        .bearer_auth(&token)
        .json(&broken)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(count(&db, "questionnaires").await, 2);
}
