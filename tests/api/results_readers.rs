//! Results a commune leader understands (issue 16): suppression said in plain words with the
//! level above to look at instead, all-suppressed views said once, error pages with a human
//! headline and a way to sign in, a wave picker, downloads in the reader's language with names
//! and rounded numbers, and the emailed-report form that says when mail cannot be sent.

use entity::campaign;
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use crate::helpers::{PASSWORD, TestApp, attr, attrs, client, spawn_app_with_demo, text};

async fn page(app: &TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

async fn api(app: &TestApp, path: &str) -> Vec<Value> {
    app.get(path).await.json().await.unwrap()
}

async fn make_private(app: &TestApp, slug: &str) {
    let db = app.db.connect().await;
    let c = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq(slug))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let mut active: campaign::ActiveModel = c.into();
    active.is_public = Set(false);
    active.update(&db).await.unwrap();
}

fn pct(v: &Value) -> String {
    format!("{:.1}", v.as_f64().unwrap() * 100.0)
}

#[tokio::test]
async fn an_all_suppressed_commune_view_is_said_once_with_the_provinces_to_look_at() {
    let app = spawn_app_with_demo().await;
    let provinces = api(
        &app,
        "/api/v1/campaigns/sipas-demo/results?level=province&index=SIPAS",
    )
    .await;
    let communes = api(
        &app,
        "/api/v1/campaigns/sipas-demo/results?level=commune&index=SIPAS",
    )
    .await;
    assert!(
        communes.iter().all(|c| c["suppressed"] == true),
        "the demo's communes are all suppressed"
    );
    for path in [
        "/results/sipas-demo/forest?level=commune&index=SIPAS",
        "/results/sipas-demo/ranks?level=commune&index=SIPAS",
        "/results/sipas-demo/localities?level=commune&index=SIPAS",
    ] {
        let html = page(&app, path).await;
        let title = text(&html, ".unpublished h2");
        assert_eq!(title, "Chưa có con số riêng cho từng xã, phường", "{path}");
        let why = text(&html, ".unpublished p");
        assert!(
            why.contains("quá ít nơi được chọn khảo sát"),
            "{path}: {why}"
        );
        assert!(!html.contains("bậc tự do riêng của địa bàn"), "no jargon");
        // The provinces instead, each linked with its number as the pages show it.
        let links = attrs(&html, ".unpublished ul.instead a", "href");
        assert_eq!(links.len(), provinces.len(), "{path}");
        for p in &provinces {
            let code = p["locality"].as_str().unwrap();
            assert!(
                links.contains(&format!("/results/sipas-demo/locality/{code}?index=SIPAS")),
                "{path}: {code} in {links:?}"
            );
            assert!(
                html.contains(&format!("{}%", pct(&p["estimate"]))),
                "{path}"
            );
        }
    }
    // The forest draws no empty rows; the ranks no table.
    let forest = page(&app, "/results/sipas-demo/forest?level=commune").await;
    assert!(!forest.contains("class=\"frow"), "no empty plot rows");
    let ranks = page(&app, "/results/sipas-demo/ranks?level=commune").await;
    assert!(!ranks.contains("<table"), "no rows without a band");
    // In English too.
    let en = page(&app, "/results/sipas-demo/forest?level=commune&lang=en").await;
    assert_eq!(
        text(&en, ".unpublished h2"),
        "No number yet for each commune on its own"
    );
    assert!(text(&en, ".unpublished p").contains("too few of the places chosen"));
    // Provinces with numbers are drawn as before.
    let provinces_forest = page(&app, "/results/sipas-demo/forest?level=province").await;
    assert!(!provinces_forest.contains("class=\"unpublished\""));
}

#[tokio::test]
async fn a_commune_page_explains_why_and_shows_its_province_instead() {
    let app = spawn_app_with_demo().await;
    let province = api(
        &app,
        "/api/v1/campaigns/sipas-demo/results?level=province&index=SIPAS",
    )
    .await
    .into_iter()
    .find(|p| p["locality"] == "01")
    .unwrap();
    let html = page(&app, "/results/sipas-demo/locality/00004?index=SIPAS").await;
    assert_eq!(
        text(&html, ".unpublished h2"),
        "Chưa có con số đáng tin cậy cho Ba Đình"
    );
    let body = text(&html, ".unpublished");
    assert!(body.contains("quá ít nơi được chọn khảo sát"), "{body}");
    assert!(body.contains("Hà Nội"), "{body}");
    assert!(
        body.contains(&format!("{}%", pct(&province["estimate"]))),
        "{body}"
    );
    assert_eq!(
        attr(&html, ".unpublished a", "href"),
        "/results/sipas-demo/locality/01?index=SIPAS"
    );
    // A breakdown is shown only for the marked model-based estimates (issue 19).
    if html.contains("class=\"results breakdown\"") {
        assert!(
            html.contains("class=\"model-based\""),
            "no table of rows without numbers"
        );
    }
    // A province with its number has no such box, and its breakdown.
    let hanoi = page(&app, "/results/sipas-demo/locality/01?index=SIPAS").await;
    assert!(!hanoi.contains("class=\"unpublished\""));
    assert!(hanoi.contains("class=\"results breakdown\""));
}

#[tokio::test]
async fn error_pages_have_a_human_headline_and_the_code_in_small_print() {
    let app = spawn_app_with_demo().await;
    let res = app.get("/results/no-such-campaign").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let html = res.text().await.unwrap();
    assert_eq!(text(&html, "h1"), "Không tìm thấy trang");
    assert_eq!(text(&html, ".status-code"), "Mã lỗi 404");
    assert!(!html.contains("Lỗi 404"));
    let html = app
        .get("/results/no-such-campaign?lang=en")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(text(&html, "h1"), "Page not found");
    assert_eq!(text(&html, ".status-code"), "Error code 404");
    // The language links of an error page stay on the page asked for.
    assert!(
        attrs(&html, "a[hreflang=vi]", "href")
            .iter()
            .all(|h| h.contains("no-such-campaign")),
        "{html}"
    );
}

#[tokio::test]
async fn the_401_page_of_a_private_campaign_signs_in_and_comes_back() {
    let app = spawn_app_with_demo().await;
    make_private(&app, "sipas-demo").await;
    app.add_user("analyst@example.vn", "analyst").await;
    let c = client();
    let path = "/results/sipas-demo/localities?level=province&index=SIPAS";
    let res = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let html = res.text().await.unwrap();
    assert_eq!(text(&html, "h1"), "Cần đăng nhập");
    assert_eq!(text(&html, ".status-code"), "Mã lỗi 401");
    let sign_in = attr(&html, "a.button", "href");
    assert_eq!(
        sign_in,
        "/staff/login?next=/results/sipas-demo/localities%3Flevel%3Dprovince%26index%3DSIPAS"
    );
    // The sign-in page keeps where to come back to, and comes back there.
    let login = c.get(app.url(&sign_in)).send().await.unwrap();
    let login = login.text().await.unwrap();
    assert_eq!(attr(&login, "input[name=next]", "value"), path);
    let token = attr(&login, "input[name=csrf_token]", "value");
    let res = c
        .post(app.url("/staff/login"))
        .form(&[
            ("email", "analyst@example.vn"),
            ("password", PASSWORD),
            ("csrf_token", &token),
            ("next", path),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], path);
    assert_eq!(
        c.get(app.url(path)).send().await.unwrap().status(),
        StatusCode::OK
    );
    // Only local staff and results paths: anything else goes to the dashboard.
    for next in [
        "//evil.example/results/x",
        "https://evil.example/results/",
        "/results\\@evil.example",
        "/resultsX",
        "/",
    ] {
        let login = c
            .get(app.url("/staff/login"))
            .query(&[("next", next)])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(
            attr(&login, "input[name=next]", "value"),
            "/staff",
            "{next}"
        );
    }
}

#[tokio::test]
async fn the_wave_picker_offers_the_earlier_waves_the_reader_may_see() {
    let app = spawn_app_with_demo().await;
    let html = page(&app, "/results/sipas-demo").await;
    assert!(
        !html.contains("name=\"with\""),
        "no picker without another wave"
    );
    crate::results_waves::earlier_wave(&app.db.connect().await).await;
    let html = page(&app, "/results/sipas-demo?index=SIPAS").await;
    assert_eq!(
        attr(&html, "form.wave-pick", "action"),
        "/results/sipas-demo/compare"
    );
    assert_eq!(attr(&html, "form.wave-pick", "method"), "get");
    assert_eq!(
        attrs(&html, "form.wave-pick select[name=with] option", "value"),
        vec!["sipas-earlier".to_owned()]
    );
    assert_eq!(
        attr(&html, "form.wave-pick input[name=index]", "value"),
        "SIPAS"
    );
    // Every tab of the results offers it, a locality's page too.
    let locality = crate::responses::sipas_locality(&app).await;
    for tab in [
        "localities?level=province&index=SIPAS".to_owned(),
        "forest?level=province&index=SIPAS".to_owned(),
        "ranks?level=province&index=SIPAS".to_owned(),
        format!("locality/{locality}?index=SIPAS"),
    ] {
        let html = page(&app, &format!("/results/sipas-demo/{tab}")).await;
        assert_eq!(
            attrs(&html, "form.wave-pick select[name=with] option", "value"),
            vec!["sipas-earlier".to_owned()],
            "{tab}"
        );
    }
    // What the form sends (no JavaScript) is the comparison page, the wave selected there.
    let compare = page(
        &app,
        "/results/sipas-demo/compare?index=SIPAS&level=province&with=sipas-earlier",
    )
    .await;
    assert_eq!(
        attr(
            &compare,
            "form.wave-pick select[name=with] option[selected]",
            "value"
        ),
        "sipas-earlier"
    );
    // A wave the reader may not see is not offered.
    make_private(&app, "sipas-earlier").await;
    let html = page(&app, "/results/sipas-demo").await;
    assert!(!html.contains("sipas-earlier"));
}

fn csv_rows(csv: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

#[tokio::test]
async fn downloads_speak_the_readers_language_with_names_and_rounded_numbers() {
    let app = spawn_app_with_demo().await;
    let csv = page(
        &app,
        "/results/sipas-demo/results.csv?level=province&index=SIPAS",
    )
    .await;
    let (header, rows) = csv_rows(&csv);
    let col = |h: &[String], name: &str| h.iter().position(|c| c == name).unwrap();
    assert_eq!(header[0], "Cấp");
    assert_eq!(header[col(&header, "Tên địa bàn")], "Tên địa bàn");
    let api_rows = api(
        &app,
        "/api/v1/campaigns/sipas-demo/results?level=province&index=SIPAS",
    )
    .await;
    assert_eq!(rows.len(), api_rows.len());
    let table = page(
        &app,
        "/results/sipas-demo/localities?level=province&index=SIPAS",
    )
    .await;
    for (row, a) in rows.iter().zip(&api_rows) {
        assert_eq!(row[col(&header, "Cấp")], "Tỉnh");
        assert_eq!(
            row[col(&header, "Mã địa bàn")],
            a["locality"].as_str().unwrap()
        );
        assert_eq!(
            row[col(&header, "Tên địa bàn")],
            a["name"].as_str().unwrap()
        );
        assert_eq!(
            row[col(&header, "Chỉ số, yếu tố hoặc tiêu chí")],
            "Chỉ số hài lòng về sự phục vụ hành chính"
        );
        // Rounded as the page shows it; the exact estimate kept for analysts.
        let shown = &row[col(&header, "Kết quả (làm tròn như trên trang)")];
        assert_eq!(shown, &pct(&a["estimate"]));
        assert!(table.contains(&format!("<strong>{shown}</strong>")));
        let exact: f64 = row[col(&header, "Ước lượng (thang 0–1, chính xác)")]
            .parse()
            .unwrap();
        assert_eq!(exact, a["estimate"].as_f64().unwrap());
    }
    // English with ?lang=en; element and criterion names beside their codes.
    let en = page(&app, "/results/sipas-demo/results.csv?lang=en").await;
    let (header, rows) = csv_rows(&en);
    assert_eq!(header[1], "Locality code");
    let index = col(&header, "Index code");
    let name = col(&header, "Index, element or criterion");
    let criterion = rows
        .iter()
        .find(|r| r[index].matches('/').count() == 2)
        .unwrap();
    assert!(!criterion[name].is_empty() && criterion[name] != criterion[index]);
    // Suppressed rows: a reason in words, no number anywhere.
    let commune = rows
        .iter()
        .find(|r| r[col(&header, "Level")] == "Commune")
        .unwrap();
    assert_eq!(commune[col(&header, "Not published")], "Yes");
    let reason = &commune[col(&header, "Why not published")];
    assert!(
        !reason.contains('_') && reason.contains("surveyed places"),
        "{reason}"
    );
    for h in [
        "Result (rounded as on the pages)",
        "95% CI lower (rounded)",
        "95% CI upper (rounded)",
        "Estimate (0–1 scale, exact)",
        "Standard error",
        "95% CI lower (exact)",
        "95% CI upper (exact)",
        "Design effect (deff)",
    ] {
        assert_eq!(commune[col(&header, h)], "", "{h}");
    }
    // The JSON API keeps its field names and reason codes.
    let api_commune = api(&app, "/api/v1/campaigns/sipas-demo/results?level=commune").await;
    assert_eq!(api_commune[0]["reason"], "too_few_psus");
    assert!(api_commune[0].get("ci_low").is_some());
}

#[tokio::test]
async fn without_smtp_the_report_form_says_why_and_a_post_is_refused() {
    // No SMTP server configured.
    let app = spawn_app_with_demo().await;
    app.add_user("analyst@example.vn", "analyst").await;
    let c = app.login("analyst@example.vn").await;
    let html = app.page(&c, "/results/sipas-demo").await;
    let why = text(&html, ".report-off");
    assert!(why.contains("smtp_host"), "{why}");
    assert!(
        html.contains("<fieldset disabled"),
        "the form is shown disabled"
    );
    let reports = app
        .page(&c, "/staff/campaigns/sipas-demo/reports?lang=en")
        .await;
    assert!(text(&reports, ".report-off").contains("cannot be emailed"));
    let token = crate::helpers::csrf_of(&html);
    let res = c
        .post(app.url("/staff/campaigns/sipas-demo/reports"))
        .form(&[("csrf_token", token.as_str()), ("format", "csv")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body = res.text().await.unwrap();
    assert_eq!(text(&body, "h1"), "Chưa thể thực hiện");
    assert!(body.contains("chưa được ghi nhận"), "{body}");
    let db = app.db.connect().await;
    assert_eq!(crate::helpers::count(&db, "report_requests").await, 0);
}
