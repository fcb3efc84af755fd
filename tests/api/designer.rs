//! The questionnaire designer pages, as a new user would go through them.

use std::io::Write;
use std::process::{Command, Stdio};

use reqwest::StatusCode;

use crate::helpers::{count, csrf_of, hailong_bin, spawn_app};

const PASSWORD: &str = "correct horse battery staple";

async fn post(c: &reqwest::Client, url: String, fields: &[(&str, &str)]) -> reqwest::Response {
    c.post(url).form(fields).send().await.unwrap()
}

#[tokio::test]
async fn first_admin_creates_a_designer_who_builds_and_publishes_a_questionnaire() {
    let app = spawn_app().await;
    // 1. The first administrator, from the command line.
    let mut child = Command::new(hailong_bin())
        .args([
            "user",
            "add",
            "--email",
            "admin@example.vn",
            "--role",
            "admin",
            "--password-stdin",
            "--database-url",
            &app.db.url,
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
    // 2. The administrator signs in and creates a designer.
    let admin = app.login("admin@example.vn").await;
    let csrf = app.page_csrf(&admin, "/staff/users").await;
    let res = post(
        &admin,
        app.url("/staff/users"),
        &[
            ("csrf_token", &csrf),
            ("email", "designer@example.vn"),
            ("role", "designer"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // 3. The designer starts from the SIPAS preset.
    let d = app.login("designer@example.vn").await;
    let html = app.page(&d, "/staff/questionnaires").await;
    assert!(html.contains("sipas-2640.json"), "presets offered");
    let csrf = csrf_of(&html);
    let res = post(
        &d,
        app.url("/staff/questionnaires"),
        &[
            ("csrf_token", &csrf),
            ("preset", "sipas-2640.json"),
            ("code", "sipas-2027"),
            ("title_vi", "SIPAS 2027"),
            ("title_en", "SIPAS 2027"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = res.headers()["location"].to_str().unwrap().to_owned();
    let id: i64 = page.rsplit('/').next().unwrap().parse().unwrap();
    let edit = app.url(&format!("/staff/questionnaires/{id}/edit"));
    let html = app.page(&d, &page).await;
    assert!(html.contains("sipas-2027") && html.contains("Nơi ngồi chờ có đủ chỗ ngồi"));

    // 4. Edit a question's text, move it, add one, add a section.
    let r = post(
        &d,
        edit.clone(),
        &[
            ("csrf_token", &csrf),
            ("op", "edit_question"),
            ("section", "1"),
            ("question", "0"),
            ("label_vi", "Chỗ ngồi chờ đủ rộng"),
            ("label_en", "The waiting area is big enough"),
            ("element", "E1"),
            ("criterion", "E1.1"),
            ("satisfied_min", "4"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = post(
        &d,
        edit.clone(),
        &[
            ("csrf_token", &csrf),
            ("op", "move_question"),
            ("section", "1"),
            ("question", "0"),
            ("dir", "down"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = post(
        &d,
        edit.clone(),
        &[
            ("csrf_token", &csrf),
            ("op", "add_question"),
            ("section", "1"),
            ("code", "e1_wifi"),
            ("type", "yes_no"),
            ("label_vi", "Có wifi miễn phí không?"),
            ("label_en", "Is there free wifi?"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = post(
        &d,
        edit.clone(),
        &[
            ("csrf_token", &csrf),
            ("op", "add_section"),
            ("code", "extra"),
            ("title_vi", "Thêm"),
            ("title_en", "Extra"),
            ("question_code", "visits"),
            ("type", "number"),
            ("label_vi", "Số lần đến"),
            ("label_en", "Visits"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // 5. An edit that breaks a rule is refused with the problem and not saved.
    let r = post(
        &d,
        edit.clone(),
        &[
            ("csrf_token", &csrf),
            ("op", "add_question"),
            ("section", "1"),
            ("code", "e1_1"),
            ("type", "short_text"),
            ("label_vi", ""),
            ("label_en", "Dup"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains("Mã e1_1 bị trùng."), "duplicate code listed");
    assert!(
        body.contains("Thiếu nội dung tiếng Việt."),
        "missing Vietnamese listed"
    );
    // Without the CSRF token: refused.
    let r = post(
        &d,
        edit.clone(),
        &[("op", "delete_section"), ("section", "0")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // 6. Publish; the stored definition has every change.
    let r = post(
        &d,
        app.url(&format!("/staff/questionnaires/{id}/publish")),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let db = app.db.connect().await;
    let (row, def) = hailong::services::questionnaires::latest(&db, id)
        .await
        .unwrap();
    assert_eq!(row.status, "published");
    assert_eq!(row.version, 1);
    let e1 = &def.sections[1];
    assert_eq!(e1.questions[1].code, "e1_1", "moved down");
    assert_eq!(e1.questions[1].label.get("vi"), "Chỗ ngồi chờ đủ rộng");
    assert!(e1.questions.iter().any(|q| q.code == "e1_wifi"));
    assert_eq!(def.sections.last().unwrap().questions[0].code, "visits");

    // 7. Editing the published questionnaire starts version 2; version 1 stays.
    let r = post(
        &d,
        edit.clone(),
        &[
            ("csrf_token", &csrf),
            ("op", "title"),
            ("title_vi", "SIPAS 2027 (sửa)"),
            ("title_en", "SIPAS 2027 (edited)"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (v2, _) = hailong::services::questionnaires::latest(&db, id)
        .await
        .unwrap();
    assert_eq!((v2.version, v2.status.as_str()), (2, "draft"));
    let (v1, d1) = hailong::services::questionnaires::version(&db, id, 1)
        .await
        .unwrap();
    assert_eq!(v1.status, "published");
    assert_eq!(d1.title.get("vi"), "SIPAS 2027");

    // Analysts see the questionnaire but cannot change it.
    app.add_user("analyst@example.vn", "analyst").await;
    let a = app.login("analyst@example.vn").await;
    let html = app.page(&a, &page).await;
    assert!(!html.contains("op\" value=\"edit_question"));
    let acsrf = app.page_csrf(&a, &page).await;
    let r = post(
        &a,
        edit,
        &[
            ("csrf_token", &acsrf),
            ("op", "delete_section"),
            ("section", "0"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&db, "questionnaire_versions").await, 2);
    let actions: Vec<String> = entity::audit_log::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    for a in [
        "user.create",
        "questionnaire.create",
        "questionnaire.save_draft",
        "questionnaire.publish",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} audited");
    }
}

use sea_orm::EntityTrait;

#[tokio::test]
async fn the_designer_previews_a_draft_as_citizens_see_it_on_phone_and_kiosk() {
    let app = crate::helpers::spawn_app_with_demo().await;
    app.add_user("designer@example.vn", "designer").await;
    let d = app.login("designer@example.vn").await;
    let list = app.page(&d, "/staff/questionnaires").await;
    assert!(list.contains("sipas-2640"));
    let db = app.db.connect().await;
    let sipas = hailong::services::questionnaires::find(&db, "sipas-2640")
        .await
        .unwrap();
    let base = format!("/staff/questionnaires/{}/preview", sipas.id);
    let phone = d
        .get(app.url(&format!("{base}?mode=phone&section=1&lang=vi")))
        .send()
        .await
        .unwrap();
    assert_eq!(phone.status(), 200);
    let html = phone.text().await.unwrap();
    assert!(html.contains("Xem trước"));
    assert!(
        html.contains("Nơi ngồi chờ có đủ chỗ ngồi"),
        "section 2 of the SIPAS form"
    );
    assert!(
        !html.contains("Công chức có thái độ giao tiếp lịch sự"),
        "one section at a time"
    );
    let kiosk = app.page(&d, &format!("{base}?mode=kiosk&lang=en")).await;
    assert!(kiosk.contains("The waiting area has enough seats"));
    assert!(
        kiosk.contains("The civil servant was polite"),
        "the kiosk shows everything at once"
    );
    assert!(kiosk.contains("kiosk"));
    // Anonymous visitors cannot preview drafts.
    assert_eq!(app.get(&base).await.status(), StatusCode::SEE_OTHER);
    let before = count(&db, "responses").await;
    let res = d
        .post(app.url(&base))
        .form(&[("x", "1")])
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_client_error(),
        "nothing can be submitted from a preview"
    );
    assert_eq!(count(&db, "responses").await, before);
}

#[tokio::test]
async fn conditions_and_reverse_coding_are_edited_and_json_imports_in_the_designer() {
    let app = crate::helpers::spawn_app_with_demo().await;
    app.add_user("designer@example.vn", "designer").await;
    let d = app.login("designer@example.vn").await;
    let db = app.db.connect().await;
    let sipas = hailong::services::questionnaires::find(&db, "sipas-2640")
        .await
        .unwrap();
    let csrf = app
        .page_csrf(&d, &format!("/staff/questionnaires/{}", sipas.id))
        .await;
    let edit = app.url(&format!("/staff/questionnaires/{}/edit", sipas.id));
    // e1_2 shown only when e1_1 is at least 3, and reverse-coded.
    let r = post(
        &d,
        edit.clone(),
        &[
            ("csrf_token", &csrf),
            ("op", "edit_question"),
            ("section", "1"),
            ("question", "1"),
            ("label_vi", "Trang thiết bị đầy đủ"),
            ("label_en", "Equipment is adequate"),
            ("element", "E1"),
            ("criterion", "E1.2"),
            ("satisfied_min", "4"),
            ("reverse", "1"),
            ("dont_know", "1"),
            ("cond_question", "e1_1"),
            ("cond_op", "gte"),
            ("cond_value", "3"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, def) = hailong::services::questionnaires::latest(&db, sipas.id)
        .await
        .unwrap();
    let q = def.question("e1_2").unwrap();
    let c = q.condition.as_ref().unwrap().as_leaf().unwrap();
    assert_eq!(
        (
            c.question.as_str(),
            c.value.as_ref().and_then(|v| v.as_i64())
        ),
        ("e1_1", Some(3))
    );
    assert!(q.index.as_ref().unwrap().reverse);
    // Saving the text again keeps the reverse flag the form shows checked.
    let page = app
        .page(&d, &format!("/staff/questionnaires/{}", sipas.id))
        .await;
    assert!(page.contains("name=\"reverse\" value=\"1\" checked"));
    // A condition on a later question is refused with the problem.
    let r = post(
        &d,
        edit.clone(),
        &[
            ("csrf_token", &csrf),
            ("op", "edit_question"),
            ("section", "1"),
            ("question", "0"),
            ("label_vi", "Nơi ngồi chờ"),
            ("cond_question", "e5_4"),
            ("cond_op", "answered"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Điều kiện phải dựa vào một câu hỏi đứng trước")
    );

    // Import pasted JSON: a new questionnaire from an exported one with a new code.
    let mut json: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&def).unwrap()).unwrap();
    json["code"] = serde_json::json!("sipas-copy");
    let lcsrf = app.page_csrf(&d, "/staff/questionnaires").await;
    let r = post(
        &d,
        app.url("/staff/questionnaires/import"),
        &[("csrf_token", &lcsrf), ("json", &json.to_string())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let copy = hailong::services::questionnaires::find(&db, "sipas-copy")
        .await
        .unwrap();
    assert_eq!(copy.versions.len(), 1);
    let r = post(
        &d,
        app.url("/staff/questionnaires/import"),
        &[("csrf_token", &lcsrf), ("json", "{\"code\": 1}")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_compound_condition_is_shown_in_words_and_kept_when_the_question_is_saved() {
    use hailong::domain::questionnaire::{Condition, ConditionOp};
    use serde_json::json;
    let app = crate::helpers::spawn_app_with_demo().await;
    app.add_user("designer@example.vn", "designer").await;
    let d = app.login("designer@example.vn").await;
    let db = app.db.connect().await;
    let sipas = hailong::services::questionnaires::find(&db, "sipas-2640")
        .await
        .unwrap();
    let (_, mut def) = hailong::services::questionnaires::latest(&db, sipas.id)
        .await
        .unwrap();
    let compound = Condition::All {
        all: vec![
            Condition::leaf("e1_1", ConditionOp::Gte, Some(json!(3))),
            Condition::Any {
                any: vec![
                    Condition::leaf("sex", ConditionOp::Eq, Some(json!("F"))),
                    Condition::leaf("age_group", ConditionOp::Selected, Some(json!("18-34"))),
                ],
            },
        ],
    };
    def.sections[1].questions[1].condition = Some(compound.clone());
    assert_eq!(def.sections[1].questions[1].code, "e1_2");
    hailong::services::questionnaires::save_draft(
        &db,
        &hailong::services::audit::Actor::cli(),
        sipas.id,
        &def,
    )
    .await
    .unwrap();
    let page_url = format!("/staff/questionnaires/{}", sipas.id);
    let html = app.page(&d, &page_url).await;
    assert!(
        html.contains("e1_1 ≥ 3 và (sex = F hoặc age_group có chọn 18-34)"),
        "the condition in words"
    );
    let csrf = app.page_csrf(&d, &page_url).await;
    // The simple form sends an empty condition: the compound one stays.
    let r = post(
        &d,
        app.url(&format!("/staff/questionnaires/{}/edit", sipas.id)),
        &[
            ("csrf_token", &csrf),
            ("op", "edit_question"),
            ("section", "1"),
            ("question", "1"),
            ("label_vi", "Trang thiết bị đầy đủ"),
            ("element", "E1"),
            ("criterion", "E1.2"),
            ("satisfied_min", "4"),
            ("cond_question", ""),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, def) = hailong::services::questionnaires::latest(&db, sipas.id)
        .await
        .unwrap();
    let q = def.question("e1_2").unwrap();
    assert_eq!(
        q.label.get("vi"),
        "Trang thiết bị đầy đủ",
        "the save happened"
    );
    assert_eq!(q.condition, Some(compound));
}

/// A questionnaire to map: index "ix" with element "E" and the criteria YN, CH and NUM
/// (each fed by a scale, so that it is valid before the other questions are mapped),
/// then an unmapped yes/no `yn`, choice `ch` (options a, b, c) and number `num`.
fn mappable() -> serde_json::Value {
    use serde_json::json;
    let text = |s: &str| json!({"vi": s, "en": s});
    let points: Vec<_> = (1..=5)
        .map(|v| json!({"value": v, "label": text(&v.to_string())}))
        .collect();
    let criteria = ["YN", "CH", "NUM"];
    let mut questions: Vec<_> = criteria
        .iter()
        .map(|c| {
            json!({"code": format!("s_{c}"), "type": "scale", "label": text(c), "min": 1,
                   "max": 5, "points": points, "index": {"element": "E", "criterion": c}})
        })
        .collect();
    questions.push(json!({"code": "yn", "type": "yes_no", "label": text("Có wifi?")}));
    questions.push(
        json!({"code": "ch", "type": "single_choice", "label": text("Chọn"),
        "options": [{"value": "a", "label": text("A")}, {"value": "b", "label": text("Bê")},
                    {"value": "c", "label": text("Xê")}]}),
    );
    questions.push(json!({"code": "num", "type": "number", "label": text("% mong đợi"), "min": 0}));
    json!({
        "code": "mapped",
        "title": text("Chỉ số"),
        "sections": [{"code": "s1", "title": text("Phần 1"), "questions": questions}],
        "indices": [{"code": "ix", "name": text("Chỉ số"), "aggregation": "mean",
            "elements": [{"code": "E", "name": text("Yếu tố"), "criteria":
                criteria.iter().map(|c| json!({"code": c, "name": text(c)})).collect::<Vec<_>>()}]}],
    })
}

/// Imports [`mappable`] as the designer `d`; its id.
async fn import_mappable(app: &crate::helpers::TestApp, d: &reqwest::Client) -> i64 {
    let csrf = app.page_csrf(d, "/staff/questionnaires").await;
    let r = post(
        d,
        app.url("/staff/questionnaires/import"),
        &[("csrf_token", &csrf), ("json", &mappable().to_string())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap();
    location
        .trim_start_matches("/staff/questionnaires/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn yes_no_choice_and_number_questions_are_mapped_to_the_index_in_the_designer() {
    let app = spawn_app().await;
    app.add_user("designer@example.vn", "designer").await;
    let d = app.login("designer@example.vn").await;
    let id = import_mappable(&app, &d).await;
    let page_url = format!("/staff/questionnaires/{id}");
    let html = app.page(&d, &page_url).await;
    // Every type that can feed an index shows the mapping fields, with its own.
    assert_eq!(html.matches("name=\"element\"").count(), 6);
    assert!(html.contains("name=\"counts\" value=\"yes\" checked"));
    assert!(html.contains("name=\"count.b\" value=\"1\""));
    assert!(html.contains("name=\"cap\""));
    assert!(html.contains("Các phương án được tính là 1"));
    let csrf = csrf_of(&html);
    let edit = app.url(&format!("/staff/questionnaires/{id}/edit"));
    let question = |at: &'static str, label: &'static str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("op", "edit_question".to_owned()),
            ("section", "0".to_owned()),
            ("question", at.to_owned()),
            ("label_vi", label.to_owned()),
            ("label_en", label.to_owned()),
        ]
    };
    let send = |fields: Vec<(&'static str, String)>, url: String| {
        let d = d.clone();
        async move { d.post(url).form(&fields).send().await.unwrap() }
    };
    let mut yn = question("3", "Có wifi?");
    yn.extend([
        ("element", "E".to_owned()),
        ("criterion", "YN".to_owned()),
        ("counts", "no".to_owned()),
    ]);
    let mut ch = question("4", "Chọn");
    ch.extend([
        ("options", "a | A\nb | Bê\nc | Xê".to_owned()),
        ("element", "E".to_owned()),
        ("criterion", "CH".to_owned()),
        ("count.c", "1".to_owned()),
        ("count.a", "1".to_owned()),
    ]);
    let mut num = question("5", "% mong đợi");
    num.extend([
        ("min", "0".to_owned()),
        ("element", "E".to_owned()),
        ("criterion", "NUM".to_owned()),
        ("cap", "100".to_owned()),
    ]);
    for form in [yn, ch.clone(), num] {
        let r = send(form, edit.clone()).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }

    // The API gives the mappings as stored.
    let api = format!("/api/v1/questionnaires/{id}");
    let stored = |api: String| {
        let d = d.clone();
        let url = app.url(&api);
        async move {
            let v: serde_json::Value = d.get(url).send().await.unwrap().json().await.unwrap();
            let questions = v["latest"]["definition"]["sections"][0]["questions"].clone();
            let index_of = |code: &str| {
                questions
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|q| q["code"] == code)
                    .unwrap()["index"]
                    .clone()
            };
            (index_of("yn"), index_of("ch"), index_of("num"))
        }
    };
    let (yn, ch_index, num) = stored(api.clone()).await;
    assert_eq!(
        (&yn["element"], &yn["criterion"], &yn["reverse"]),
        (&"E".into(), &"YN".into(), &true.into()),
        "\"no\" counts: {yn}"
    );
    assert!(yn.get("options").is_none() && yn.get("cap").is_none());
    assert_eq!(ch_index["criterion"], "CH");
    assert_eq!(ch_index["options"], serde_json::json!(["a", "c"]));
    assert_eq!(num["criterion"], "NUM");
    assert_eq!(num["cap"], 100.0);
    // The page shows them back.
    let html = app.page(&d, &page_url).await;
    assert!(html.contains("name=\"counts\" value=\"no\" checked"));
    assert!(
        html.contains("name=\"count.a\" value=\"1\" aria-describedby=\"q-0-4-count-help\" checked")
    );
    assert!(html.contains("name=\"count.b\" value=\"1\" aria-describedby=\"q-0-4-count-help\">"));
    assert!(
        html.contains(
            "name=\"cap\" type=\"number\" step=\"any\" inputmode=\"decimal\" value=\"100\""
        )
    );

    // Changed: "yes" counts, and b only; cleared: the number.
    let mut yn = question("3", "Có wifi?");
    yn.extend([
        ("element", "E".to_owned()),
        ("criterion", "YN".to_owned()),
        ("counts", "yes".to_owned()),
    ]);
    let mut ch_b = question("4", "Chọn");
    ch_b.extend([
        ("options", "a | A\nb | Bê\nc | Xê".to_owned()),
        ("element", "E".to_owned()),
        ("criterion", "CH".to_owned()),
        ("count.b", "1".to_owned()),
    ]);
    let mut num = question("5", "% mong đợi");
    num.extend([("element", String::new()), ("criterion", String::new())]);
    for form in [yn, ch_b, num] {
        let r = send(form, edit.clone()).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let (yn, ch_index, num) = stored(api.clone()).await;
    assert_eq!(yn["reverse"], false);
    assert_eq!(ch_index["options"], serde_json::json!(["b"]));
    assert!(num.is_null(), "the number's mapping is removed: {num}");

    // An option the question does not have: 422, named, in Vietnamese and in English.
    let mut bad = ch.clone();
    bad.push(("count.zz", "1".to_owned()));
    let r = send(bad.clone(), edit.clone()).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(
        body.contains(
            "Các phương án được tính là 1: &quot;zz&quot; không phải là một phương án của câu hỏi."
        ),
        "at the field, in Vietnamese"
    );
    assert!(
        body.contains("name=\"count.zz\" value=\"1\""),
        "shown, ticked, to untick"
    );
    let r = send(bad, format!("{edit}?lang=en")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(
        body.contains(
            "Options that count as 1: &quot;zz&quot; is not one of the question&#x27;s options."
        ),
        "at the field, in English"
    );
    // Nothing stored.
    let (_, ch_index, _) = stored(api).await;
    assert_eq!(ch_index["options"], serde_json::json!(["b"]));
}

/// The mapping fields of a yes/no, a choice and a number question on a phone (390×844):
/// nothing wider than the screen. With `HAILONG_SCREENSHOTS=dir`, a picture of each question's open form.
#[tokio::test]
async fn the_mapping_fields_fit_a_phone_screen() {
    let Some(driver) = crate::browser::Driver::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.add_user("designer@example.vn", "designer").await;
    let d = app.login("designer@example.vn").await;
    let id = import_mappable(&app, &d).await;
    let s = driver.session(true).await;
    s.go(&app.url("/staff/login")).await;
    s.type_text("input[name=email]", "designer@example.vn")
        .await;
    s.type_text("input[name=password]", PASSWORD).await;
    s.submit("button[type=submit]").await;
    s.go(&app.url(&format!("/staff/questionnaires/{id}"))).await;
    for (name, at) in [("yes-no", 3), ("choice", 4), ("number", 5)] {
        let width = s
            .script(&format!(
                "const d = document.querySelectorAll('ol.designer-questions > li > details')[{at}];
                 d.open = true; d.querySelector('fieldset').scrollIntoView();
                 return Math.max(...Array.from(d.querySelectorAll('input, label, legend'))
                   .map(e => e.getBoundingClientRect().right))
                   - document.documentElement.clientWidth;"
            ))
            .await
            .as_f64()
            .unwrap();
        if let Ok(dir) = std::env::var("HAILONG_SCREENSHOTS") {
            let png = s.client().screenshot().await.unwrap();
            std::fs::write(format!("{dir}/designer-{name}-390.png"), png).unwrap();
        }
        assert!(
            width <= 0.5,
            "{name}: a field reaches {width}px past the screen"
        );
    }
    let wider = s
        .script("const e = document.documentElement; return e.scrollWidth - e.clientWidth;")
        .await
        .as_f64()
        .unwrap();
    assert!(wider <= 0.5, "the page scrolls sideways by {wider}px");
    s.close().await;
}
