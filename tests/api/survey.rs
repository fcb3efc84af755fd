//! The phone survey pages at `/s/{slug}`: plain HTML forms, no JavaScript.

use chrono::{Duration, Utc};
use entity::{campaign, response};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, attr, attrs, browser_fields, count, follow_step, hidden_fields, spawn_app_with_demo,
};
use crate::responses::sipas_locality;

/// Posts a survey page as a browser does: a redirect to the next page of the survey
/// (`?step=`) is followed; the redirect to the thanks page is returned as it is.
pub async fn post_form(
    app: &TestApp,
    path: &str,
    fields: &[(String, String)],
) -> reqwest::Response {
    let res = app
        .client
        .post(app.url(path))
        .form(fields)
        .send()
        .await
        .unwrap();
    follow_step(&app.client, &app.address, res).await
}

/// Submits the page's form with `answers` added and `nav` pressed.
pub async fn submit(
    app: &TestApp,
    path: &str,
    html: &str,
    answers: &[(&str, &str)],
    nav: &str,
) -> reqwest::Response {
    let mut fields = browser_fields(html);
    for (k, v) in answers {
        let name = format!("a.{k}");
        fields.retain(|(n, _)| *n != name);
        fields.push((name, (*v).to_owned()));
    }
    fields.push(("nav".to_owned(), nav.to_owned()));
    post_form(app, path, &fields).await
}

pub fn section_code(html: &str) -> String {
    attrs(html, "h2[id^=s-]", "id")
        .first()
        .map(|id| id["s-".len()..].to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_first_page_offers_localities_by_province_and_stays_small() {
    let app = spawn_app_with_demo().await;
    let res = app.get("/s/sipas-demo").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.unwrap();
    assert!(html.len() < 50 * 1024, "first page is {} bytes", html.len());
    assert!(html.contains("<html lang=\"vi\">"));
    assert!(html.contains("<select id=\"locality\" name=\"l\""));
    assert!(html.matches("<optgroup label=").count() >= 4);
    assert!(html.contains("<label for=\"locality\">"));
    // No inline script; the only script is the list's optional search (the form
    // works without it: every test here posts it without JavaScript).
    let scripts = crate::helpers::attrs(&html, "script", "src");
    assert_eq!(scripts, ["/static/locality.js"]);
    assert_eq!(html.matches("<script").count(), 1);
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
    // Choosing no locality is refused next to the field.
    let res = submit(&app, "/s/sipas-demo", &html, &[], "next").await;
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"locality-err\""), "{html}");
}

#[tokio::test]
async fn a_respondent_completes_the_per_section_survey_without_javascript() {
    let app = spawn_app_with_demo().await;
    let locality = sipas_locality(&app).await;
    let db = app.db.connect().await;
    let before = count(&db, "responses").await;
    let path = "/s/sipas-demo";

    // Locality first, then section "about".
    let html = app.get(path).await.text().await.unwrap();
    let mut fields = hidden_fields(&html);
    fields.push(("l".into(), locality.clone()));
    fields.push(("nav".into(), "next".into()));
    let html = post_form(&app, path, &fields).await.text().await.unwrap();
    assert_eq!(section_code(&html), "about");
    assert!(html.contains("<progress max=\"7\" value=\"1\""), "progress");
    assert!(html.contains("<fieldset"), "choices are fieldsets");
    assert!(html.contains("<legend>"));

    // A missing required answer keeps us here with a message by the question.
    let html2 = submit(&app, path, &html, &[("sex", "F")], "next")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(section_code(&html2), "about");
    assert!(html2.contains("id=\"q-age_group-err\">Vui lòng trả lời câu hỏi này."));
    assert!(
        html2.contains("id=\"q-sex-F\" name=\"a.sex\" value=\"F\" checked"),
        "answer kept"
    );

    let html = submit(&app, path, &html2, &[("age_group", "55plus")], "next")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(section_code(&html), "e1");
    let html = submit(&app, path, &html, &[("e1_1", "4"), ("e1_2", "dk")], "next")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(section_code(&html), "e2");

    // Back to e1: the answers given there are shown again.
    let back = submit(&app, path, &html, &[("e2_1", "5")], "back")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(section_code(&back), "e1");
    assert!(back.contains("id=\"q-e1_1-4\" name=\"a.e1_1\" value=\"4\" checked"));
    assert!(back.contains("id=\"q-e1_2-dk\" name=\"a.e1_2\" value=\"dk\" checked"));
    let html = submit(&app, path, &back, &[], "next")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(section_code(&html), "e2");
    assert!(
        html.contains("value=\"5\" checked"),
        "e2_1 kept across back/next"
    );

    let html = submit(&app, path, &html, &[], "next")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(section_code(&html), "e3");
    let html = submit(&app, path, &html, &[("e3_1", "3")], "next")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(section_code(&html), "e4");
    let html = submit(&app, path, &html, &[], "next")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(section_code(&html), "e5");
    assert!(
        !html.contains("name=\"a.e5_3\""),
        "conditional question hidden at first"
    );

    // Saying "yes" opens the follow-up questions on the same page.
    let html = submit(&app, path, &html, &[("e5_gave", "yes")], "next")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(section_code(&html), "e5");
    assert!(html.contains("name=\"a.e5_3\""), "follow-up now shown");
    let html = submit(&app, path, &html, &[("e5_3", "5")], "next")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(section_code(&html), "comments");
    assert!(html.contains("value=\"submit\""), "last page submits");
    let res = submit(
        &app,
        path,
        &html,
        &[("comment", "Rất tốt <b>&</b>")],
        "submit",
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/s/sipas-demo/thanks");
    let sid = hidden_fields(&html)
        .into_iter()
        .find(|(k, _)| k == "sid")
        .unwrap()
        .1;
    // Sending the last page again (a double tap, a retry) stores nothing new.
    let again = submit(
        &app,
        path,
        &html,
        &[("comment", "Rất tốt <b>&</b>")],
        "submit",
    )
    .await;
    assert_eq!(again.status(), 303);
    assert_eq!(count(&db, "responses").await, before + 1);

    let row = response::Entity::find_by_id(sid)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.channel, "web");
    assert_eq!(row.locality_code, locality);
    let answers: Value = serde_json::from_str(&row.answers).unwrap();
    assert_eq!(
        answers,
        json!({"sex": "F", "age_group": "55plus", "e1_1": 4, "e1_2": "dk", "e2_1": 5,
               "e3_1": 3, "e5_gave": true, "e5_3": 5, "comment": "Rất tốt <b>&</b>"})
    );
    let thanks = app.get("/s/sipas-demo/thanks").await;
    assert_eq!(thanks.status(), 200);
    assert!(thanks.text().await.unwrap().contains("Xin cảm ơn"));
}

#[tokio::test]
async fn the_one_page_survey_validates_server_side_and_stores_once() {
    let app = spawn_app_with_demo().await;
    let list: Vec<Value> = app.get("/api/v1/campaigns").await.json().await.unwrap();
    let locality = list[1]["localities"][0]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let db = app.db.connect().await;
    let before = count(&db, "responses").await;
    let path = "/s/health-demo";
    let res = app
        .client
        .get(app.url(&format!("{path}?l={locality}")))
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap();
    let html = res.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">"));
    assert!(
        html.contains("id=\"s-about\"") && html.contains("id=\"s-overall\""),
        "all sections"
    );
    assert!(!html.contains("<progress"));

    // A tampered value out of range is refused, in English, next to the question.
    let res = app
        .client
        .post(app.url(path))
        .header("Accept-Language", "en")
        .form(&{
            let mut f = hidden_fields(&html);
            f.extend(
                [
                    ("a.patient_type", "outpatient"),
                    ("a.sex", "M"),
                    ("a.age_group", "35-54"),
                    ("a.a1", "9"),
                    ("nav", "submit"),
                ]
                .map(|(k, v)| (k.to_owned(), v.to_owned())),
            );
            f
        })
        .send()
        .await
        .unwrap();
    // The browser follows the redirect, asking in English again.
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    let res = app
        .client
        .get(app.url(to.split('#').next().unwrap()))
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html2 = res.text().await.unwrap();
    assert!(
        html2.contains("id=\"q-a1-err\">Please give a value from 1 to 5."),
        "{html2}"
    );
    assert_eq!(count(&db, "responses").await, before);

    let patient = attr(&html, "input[name='a.patient_type']", "value");
    let res = submit(
        &app,
        path,
        &html,
        &[
            ("patient_type", &patient),
            ("sex", "M"),
            ("age_group", "35-54"),
            ("a1", "4"),
            ("return", "5"),
        ],
        "submit",
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(count(&db, "responses").await, before + 1);
}

#[tokio::test]
async fn closed_and_unknown_campaigns_show_a_clear_page() {
    let app = spawn_app_with_demo().await;
    let res = app.get("/s/no-such-survey").await;
    assert_eq!(res.status(), 404);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Không tìm thấy cuộc khảo sát này.")
    );

    let db = app.db.connect().await;
    let sipas = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq("sipas-demo"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let mut closed: campaign::ActiveModel = sipas.into();
    closed.closes_on = Set(Utc::now().date_naive() - Duration::days(1));
    closed.update(&db).await.unwrap();
    let res = app.get("/s/sipas-demo").await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(html.contains("đã kết thúc"), "{html}");
    let before = count(&db, "responses").await;
    let res = post_form(
        &app,
        "/s/sipas-demo",
        &[("step".into(), "0".into()), ("nav".into(), "submit".into())],
    )
    .await;
    assert_eq!(res.status(), 409);
    assert_eq!(count(&db, "responses").await, before);
}

#[tokio::test]
async fn a_form_post_needs_the_form_content_type() {
    let app = spawn_app_with_demo().await;
    let res = app
        .client
        .post(app.url("/s/sipas-demo"))
        .header("Content-Type", "text/plain")
        .body("nav=next")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    let res = app
        .client
        .post(app.url("/s/sipas-demo"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("step=locality&l=%FF%FE&nav=next")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("UTF-8"));
}

#[tokio::test]
async fn the_language_switch_keeps_the_answers() {
    let app = spawn_app_with_demo().await;
    let locality = sipas_locality(&app).await;
    let html = app
        .get(&format!("/s/sipas-demo?l={locality}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Giới tính"));
    let mut fields = browser_fields(&html);
    fields.push(("a.sex".into(), "M".into()));
    fields.push(("nav".into(), "lang-en".into()));
    let res = app
        .client
        .post(app.url("/s/sipas-demo"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "post/redirect/get");
    let cookies: Vec<&str> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("hailong_lang=en")),
        "{cookies:?}"
    );
    let html = follow_step(&app.client, &app.address, res)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("Your sex"));
    assert!(html.contains("id=\"q-sex-M\" name=\"a.sex\" value=\"M\" checked"));
}

#[tokio::test]
async fn qr_codes_point_at_the_survey() {
    // Drawn from base_url only (or a qr_hosts entry): see auth_links.
    let app =
        crate::helpers::spawn_with(|s| s.base_url = Some("https://khaosat.example.vn".into()))
            .await;
    let svg = app.get("/s/sipas-demo/qr.svg").await;
    assert_eq!(svg.status(), 200);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("<svg"));
    let png = app.get("/s/sipas-demo/qr.png").await;
    assert_eq!(png.status(), 200);
    assert_eq!(png.headers()["content-type"], "image/png");
    assert!(png.bytes().await.unwrap().starts_with(b"\x89PNG"));
    assert_eq!(app.get("/s/nope/qr.svg").await.status(), 404);
}

#[tokio::test]
async fn every_first_page_gets_its_own_submission_id() {
    let app = spawn_app_with_demo().await;
    let locality = sipas_locality(&app).await;
    let path = format!("/s/sipas-demo?l={locality}");
    let mut pages = Vec::new();
    for _ in 0..3 {
        pages.push(app.get(&path).await.text().await.unwrap());
    }
    let sid_of = |html: &str| attr(html, "input[name=sid]", "value");
    let sids: Vec<String> = pages.iter().map(|p| sid_of(p)).collect();
    for sid in &sids {
        assert!(uuid::Uuid::try_parse(sid).is_ok(), "{sid}");
    }
    assert_ne!(sids[0], sids[1]);
    assert_ne!(sids[1], sids[2]);
    // Apart from the id the pages are the same (and hold no placeholder).
    assert_eq!(
        pages[0].replace(&sids[0], ""),
        pages[1].replace(&sids[1], "")
    );
    assert!(!pages[2].contains('\u{1}'));
}

#[tokio::test]
async fn statements_come_with_their_lead_in_and_problems_read_as_sentences() {
    let app = spawn_app_with_demo().await;
    let locality = sipas_locality(&app).await;
    let path = "/s/sipas-demo";
    let html = app.get(path).await.text().await.unwrap();
    let mut fields = hidden_fields(&html);
    fields.push(("l".into(), locality));
    fields.push(("nav".into(), "next".into()));
    let about = post_form(&app, path, &fields).await.text().await.unwrap();
    // A question ending in "?" is not followed by ":" in the list of problems.
    let problems = submit(&app, path, &about, &[("sex", "F")], "next")
        .await
        .text()
        .await
        .unwrap();
    let summary = crate::helpers::text(&problems, "#problems li a");
    assert!(
        summary.starts_with("Ông/Bà thuộc nhóm tuổi nào? "),
        "{summary}"
    );
    assert!(!summary.contains("?:"), "{summary}");
    // The statements of e1 are led in.
    let e1 = submit(&app, path, &problems, &[("age_group", "55plus")], "next")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(section_code(&e1), "e1");
    assert_eq!(
        crate::helpers::text(&e1, "#survey section p.lead-in"),
        "Ông/Bà đánh giá thế nào về từng nội dung sau?"
    );
}
