//! The respondent's draft (post/redirect/get): every step redirects to a GET of the next
//! page, the answers kept in an encrypted cookie in the respondent's own browser, so Back,
//! reload and the language links keep every answer; nothing of it on the server.

use reqwest::StatusCode;

use crate::helpers::{
    TestApp, browser_fields, count, follow_step, hidden_fields, spawn_app_with_demo,
};
use crate::responses::sipas_locality;
use crate::survey::{section_code, submit};

const PATH: &str = "/s/sipas-demo";

/// The `Set-Cookie` headers of a response.
fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// Posts the page's form as a browser would, with `answers` (question code, value) added
/// and Next pressed; the answer itself (the redirect is not followed).
async fn next_with(app: &TestApp, html: &str, answers: &[(&str, &str)]) -> reqwest::Response {
    let mut fields = browser_fields(html);
    for (code, value) in answers {
        fields.push((format!("a.{code}"), (*value).to_owned()));
    }
    fields.push(("nav".to_owned(), "next".to_owned()));
    app.client
        .post(app.url(PATH))
        .form(&fields)
        .send()
        .await
        .unwrap()
}

/// Chooses the locality and answers section "about"; the page of section e1.
async fn to_first_section(app: &TestApp, locality: &str) -> String {
    let html = app.get(PATH).await.text().await.unwrap();
    let mut fields = hidden_fields(&html);
    fields.push(("l".into(), locality.to_owned()));
    fields.push(("nav".into(), "next".into()));
    let html = crate::survey::post_form(app, PATH, &fields)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(section_code(&html), "about");
    let html = submit(
        app,
        PATH,
        &html,
        &[("sex", "F"), ("age_group", "55plus")],
        "next",
    )
    .await
    .text()
    .await
    .unwrap();
    assert_eq!(section_code(&html), "e1");
    html
}

#[tokio::test]
async fn each_step_redirects_to_a_page_that_back_and_reload_show_again_with_its_answers() {
    let app = spawn_app_with_demo().await;
    let locality = sipas_locality(&app).await;
    let html = to_first_section(&app, &locality).await;
    // The step itself answers with a redirect to a GET of the next page.
    let res = next_with(&app, &html, &[("e1_1", "4")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.starts_with("/s/sipas-demo?step="), "{to}");
    let e2 = app.get(&to).await;
    assert_eq!(e2.status(), 200);
    assert_eq!(e2.headers()["cache-control"], "no-store");
    let e2 = e2.text().await.unwrap();
    assert_eq!(section_code(&e2), "e2");
    // Reload: the same page.
    assert_eq!(
        section_code(&app.get(&to).await.text().await.unwrap()),
        "e2"
    );
    // Back (the browser's history: the earlier addresses) shows e1 and "about" with
    // their answers, and the locality.
    let e1_step = crate::helpers::attr(&html, "input[name=step]", "value");
    let back = app
        .get(&format!("{PATH}?step={e1_step}"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(section_code(&back), "e1");
    assert!(back.contains("id=\"q-e1_1-4\" name=\"a.e1_1\" value=\"4\" checked"));
    assert!(back.contains(&format!("name=\"l\" value=\"{locality}\"")));
    let about = app
        .get(&format!("{PATH}?step=0"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(section_code(&about), "about");
    assert!(about.contains("id=\"q-sex-F\" name=\"a.sex\" value=\"F\" checked"));
    // A made-up step shows the draft's own page.
    let odd = app
        .get(&format!("{PATH}?step=99"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(section_code(&odd), "e2");
}

#[tokio::test]
async fn the_header_language_link_keeps_the_answers_and_the_locality() {
    let app = spawn_app_with_demo().await;
    let locality = sipas_locality(&app).await;
    let html = to_first_section(&app, &locality).await;
    // The header's "English" link names the page with its step.
    let link = crate::helpers::attrs(&html, "a[hreflang=en], a[lang=en]", "href");
    let link = link
        .iter()
        .find(|h| h.starts_with("/lang/en"))
        .unwrap_or_else(|| panic!("an English link: {link:?}"));
    assert!(link.contains("step%3D"), "{link}");
    let res = app.get(link).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    let page = app.get(&to).await.text().await.unwrap();
    assert!(page.contains("<html lang=\"en\">"));
    assert_eq!(section_code(&page), "e1");
    // The answers of "about" travel on, and the locality.
    let hidden = hidden_fields(&page);
    assert!(
        hidden.contains(&("a.sex".to_owned(), "F".to_owned())),
        "{hidden:?}"
    );
    assert!(hidden.contains(&("l".to_owned(), locality.clone())));
}

#[tokio::test]
async fn the_draft_is_an_encrypted_cookie_of_the_survey_removed_once_stored() {
    let app = spawn_app_with_demo().await;
    let locality = sipas_locality(&app).await;
    let db = app.db.connect().await;
    let before = count(&db, "responses").await;
    let first = app.get(PATH).await;
    let cookies = set_cookies(&first);
    let draft = cookies
        .iter()
        .find(|c| c.starts_with("hl_draft="))
        .unwrap_or_else(|| panic!("{cookies:?}"));
    for attribute in [
        "HttpOnly",
        "SameSite=Lax",
        "Path=/s/sipas-demo",
        "Max-Age=7200",
    ] {
        assert!(draft.contains(attribute), "{attribute} in {draft}");
    }
    let html = first.text().await.unwrap();
    let mut fields = hidden_fields(&html);
    fields.push(("l".into(), locality.clone()));
    fields.push(("nav".into(), "next".into()));
    let res = app
        .client
        .post(app.url(PATH))
        .form(&fields)
        .send()
        .await
        .unwrap();
    let cookies = set_cookies(&res);
    let draft = cookies.iter().find(|c| c.starts_with("hl_draft=")).unwrap();
    let value = draft.split(';').next().unwrap();
    assert!(
        !value.contains(&locality),
        "the locality is not readable: {value}"
    );
    let sid = crate::helpers::attr(&html, "input[name=sid]", "value");
    assert!(!value.contains(&sid), "nor the submission id");
    // Answer everything, submit: the draft goes with the stored response.
    let mut html = follow_step(&app.client, &app.address, res)
        .await
        .text()
        .await
        .unwrap();
    let answers = [
        ("sex", "M"),
        ("age_group", "18-34"),
        ("e1_1", "4"),
        ("e5_gave", "no"),
    ];
    for _ in 0..12 {
        let res = submit(&app, PATH, &html, &answers, "next").await;
        if res.status() == StatusCode::SEE_OTHER {
            assert_eq!(res.headers()["location"], "/s/sipas-demo/thanks");
            let removal = set_cookies(&res)
                .into_iter()
                .find(|c| c.starts_with("hl_draft="))
                .expect("the draft is removed");
            assert!(removal.contains("Max-Age=0"), "{removal}");
            assert!(removal.contains("Path=/s/sipas-demo"), "{removal}");
            assert_eq!(count(&db, "responses").await, before + 1);
            // A personal phone is not invited to answer again.
            let thanks = app.get("/s/sipas-demo/thanks").await.text().await.unwrap();
            assert!(!thanks.contains("id=\"again\""), "{thanks}");
            // The survey's address starts afresh (a new submission id).
            let again = app.get(PATH).await.text().await.unwrap();
            assert_ne!(
                crate::helpers::attr(&again, "input[name=sid]", "value"),
                sid
            );
            return;
        }
        html = res.text().await.unwrap();
    }
    panic!("never stored: {html}");
}

#[tokio::test]
async fn a_browser_without_cookies_gets_each_page_in_answer_to_its_post() {
    let app = spawn_app_with_demo().await;
    let locality = sipas_locality(&app).await;
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let html = plain
        .get(app.url(PATH))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut fields = hidden_fields(&html);
    fields.push(("l".into(), locality));
    fields.push(("nav".into(), "next".into()));
    let res = plain
        .post(app.url(PATH))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "no redirect to a page it could not show");
    assert_eq!(section_code(&res.text().await.unwrap()), "about");
}

#[tokio::test]
async fn a_kiosk_keeps_no_draft() {
    let app = spawn_app_with_demo().await;
    let (token, _) = crate::kiosk::register(&app).await;
    let res = app.get(&format!("/k/{token}")).await;
    assert_eq!(res.status(), 200);
    assert!(
        set_cookies(&res)
            .iter()
            .all(|c| !c.starts_with("hl_draft=")),
        "a shared device never keeps answers"
    );
}

#[tokio::test]
async fn a_question_opened_by_an_answer_is_where_the_next_page_scrolls_to() {
    let app = spawn_app_with_demo().await;
    let locality = sipas_locality(&app).await;
    let mut html = to_first_section(&app, &locality).await;
    while section_code(&html) != "e5" {
        html = submit(&app, PATH, &html, &[], "next")
            .await
            .text()
            .await
            .unwrap();
    }
    let res = next_with(&app, &html, &[("e5_gave", "yes")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap();
    assert!(to.ends_with("#q-e5_3"), "{to}");
    let page = follow_step(&app.client, &app.address, res)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"q-e5_3\""), "the question has that id");
    // A problem scrolls to the list of problems.
    let res = next_with(&app, &page, &[("e5_3", "9")]).await;
    let to = res.headers()["location"].to_str().unwrap();
    assert!(to.ends_with("#problems"), "{to}");
    let page = follow_step(&app.client, &app.address, res)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"problems\""));
}

/// The SIPAS demo campaign over every commune of Hà Nội and Hồ Chí Minh City (from the
/// national list that comes with Hailong): too long a list for one `<select>`.
async fn app_with_a_long_locality_list() -> (TestApp, Vec<String>) {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
    let app = spawn_app_with_demo().await;
    let out = std::process::Command::new(crate::helpers::hailong_bin())
        .args([
            "localities",
            "import",
            "--national",
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
    let db = app.db.connect().await;
    let sipas = entity::campaign::Entity::find()
        .filter(entity::campaign::Column::Slug.eq("sipas-demo"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let communes = entity::locality::Entity::find()
        .filter(entity::locality::Column::ParentCode.is_in(["01", "79"]))
        .all(&db)
        .await
        .unwrap();
    assert!(communes.len() > 100);
    let existing: Vec<String> = entity::campaign_locality::Entity::find()
        .filter(entity::campaign_locality::Column::CampaignId.eq(sipas.id))
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.locality_code)
        .collect();
    let mut added = Vec::new();
    for c in communes.iter().filter(|c| !existing.contains(&c.code)) {
        entity::campaign_locality::ActiveModel {
            campaign_id: Set(sipas.id),
            locality_code: Set(c.code.clone()),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        added.push(c.code.clone());
    }
    (app, added)
}

#[tokio::test]
async fn a_long_locality_list_comes_in_two_steps_province_then_commune() {
    let (app, _) = app_with_a_long_locality_list().await;
    let html = app.get(PATH).await.text().await.unwrap();
    // First the provinces only, in the national order.
    let provinces = crate::helpers::attrs(&html, "select[name=p] option", "value");
    assert!(provinces.contains(&"01".to_owned()) && provinces.contains(&"79".to_owned()));
    assert!(crate::helpers::attrs(&html, "select[name=l]", "name").is_empty());
    assert!(html.len() < 40_000, "a light page: {} bytes", html.len());
    // Choosing Hồ Chí Minh City lists its communes, and nothing else.
    let mut fields = hidden_fields(&html);
    fields.extend([
        ("p".to_owned(), "79".to_owned()),
        ("nav".to_owned(), "next".to_owned()),
    ]);
    let res = app
        .client
        .post(app.url(PATH))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.contains("p=79"), "{to}");
    let page = follow_step(&app.client, &app.address, res)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("field-error"),
        "no error for a province chosen"
    );
    let communes = crate::helpers::attrs(&page, "select[name=l] option", "value");
    assert!(communes.len() > 50, "{}", communes.len());
    assert!(
        !communes.contains(&"00004".to_owned()),
        "no commune of Hà Nội"
    );
    assert!(
        page.contains("step=locality"),
        "a link to choose another province"
    );
    // Then a commune of it: on to the survey.
    let mut fields = browser_fields(&page);
    fields.extend([
        ("l".to_owned(), communes[1].clone()),
        ("nav".to_owned(), "next".to_owned()),
    ]);
    let about = crate::survey::post_form(&app, PATH, &fields)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(section_code(&about), "about");
    // Sending no province at all is an error by the list.
    let fresh = reqwest::Client::new();
    let html = fresh
        .get(app.url(PATH))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut fields = hidden_fields(&html);
    fields.push(("nav".to_owned(), "next".to_owned()));
    let page = fresh
        .post(app.url(PATH))
        .form(&fields)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"locality-err\""), "{page}");
    assert!(page.contains("name=\"p\""), "still the province list");
}
