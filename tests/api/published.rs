//! Published results: nobody sees live numbers; between two publications every published
//! number moves by 0 or at least k people; the command's publication reaches a running
//! server; the schedule; who may change what decides the results.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Statement};
use serde_json::Value;

use crate::helpers::{TestApp, attr, hailong_bin, publish, spawn_app_with_demo, text};
use crate::responses::{post_json, valid_body};

const SLUG: &str = "sipas-demo";

/// Every published number of the campaign through the API: per level and index/element/
/// criterion, the rows by locality.
async fn snapshot(app: &TestApp) -> BTreeMap<String, Value> {
    let db = app.db.connect().await;
    let campaign = hailong::services::campaigns::by_slug(&db, SLUG)
        .await
        .unwrap();
    let keys: Vec<String> = hailong::services::results::plan(&campaign.definition)
        .nodes
        .into_iter()
        .map(|n| n.key)
        .collect();
    assert!(keys.len() > 3, "the demo has elements and criteria");
    let mut out = BTreeMap::new();
    for level in ["national", "province", "commune"] {
        for key in &keys {
            let res = app
                .get(&format!(
                    "/api/v1/campaigns/{SLUG}/results?level={level}&index={key}"
                ))
                .await;
            assert_eq!(res.status(), 200, "{level} {key}");
            let rows: Vec<Value> = res.json().await.unwrap();
            for row in rows {
                let loc = row["locality"].as_str().unwrap().to_owned();
                out.insert(format!("{level}|{key}|{loc}"), row);
            }
        }
    }
    out
}

/// A commune of the campaign with no response waiting (all of its rows were published).
async fn settled_commune(app: &TestApp) -> (String, String) {
    let db = app.db.connect().await;
    let campaign = hailong::services::campaigns::by_slug(&db, SLUG)
        .await
        .unwrap();
    for l in campaign.localities.iter().filter(|l| l.level == "commune") {
        let waiting = entity::response::Entity::find()
            .filter(entity::response::Column::CampaignId.eq(campaign.campaign.id))
            .filter(entity::response::Column::LocalityCode.eq(l.code.as_str()))
            .filter(entity::response::Column::Publication.is_null())
            .count(&db)
            .await
            .unwrap();
        let published = entity::response::Entity::find()
            .filter(entity::response::Column::CampaignId.eq(campaign.campaign.id))
            .filter(entity::response::Column::LocalityCode.eq(l.code.as_str()))
            .filter(entity::response::Column::Publication.is_not_null())
            .count(&db)
            .await
            .unwrap();
        if waiting == 0 && published > 0 {
            return (l.code.clone(), l.parent_code.clone().unwrap());
        }
    }
    panic!("no settled commune in the demo");
}

async fn submit(app: &TestApp, locality: &str, n: usize) {
    for _ in 0..n {
        let id = uuid::Uuid::new_v4().to_string();
        let res = post_json(app, &valid_body(&id, locality)).await;
        assert_eq!(res.status(), 201);
    }
}

/// Waits until the writer has stored `n` more responses than `before`.
async fn stored(app: &TestApp, before: i64, n: i64) {
    let db = app.db.connect().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while crate::helpers::count(&db, "responses").await < before + n {
        assert!(Instant::now() < deadline, "responses stored");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn one_response_moves_nothing_and_k_in_one_commune_move_it_and_its_parents() {
    let app = spawn_app_with_demo().await;
    let db = app.db.connect().await;
    let before = snapshot(&app).await;
    let (commune, province) = settled_commune(&app).await;

    // One person answers; a publication follows: not one published number moved.
    let rows = crate::helpers::count(&db, "responses").await;
    submit(&app, &commune, 1).await;
    stored(&app, rows, 1).await;
    assert_eq!(publish(&app, SLUG).await, Some(2));
    let after_one = snapshot(&app).await;
    assert_eq!(before.len(), after_one.len());
    for (key, row) in &before {
        assert_eq!(
            Some(row),
            after_one.get(key),
            "{key} moved after one response"
        );
    }

    // k = max(min_n 30, 10) more in the same commune, answering alike: included together.
    let rows = crate::helpers::count(&db, "responses").await;
    submit(&app, &commune, 30).await;
    stored(&app, rows, 30).await;
    assert_eq!(publish(&app, SLUG).await, Some(3));
    let after_k = snapshot(&app).await;
    let n = |s: &BTreeMap<String, Value>, key: &str| s[key]["n"].as_u64().unwrap();
    for (level, code) in [
        ("commune", commune.as_str()),
        ("province", province.as_str()),
        ("national", "VN"),
    ] {
        let key = format!("{level}|SIPAS|{code}");
        assert!(
            n(&after_k, &key) >= n(&after_one, &key) + 30,
            "{key}: {} then {}",
            n(&after_one, &key),
            n(&after_k, &key)
        );
    }
    // Every n in the whole campaign moved by 0 or at least k.
    for (key, row) in &after_k {
        let was = after_one.get(key).map_or(0, |r| r["n"].as_u64().unwrap());
        let now = row["n"].as_u64().unwrap();
        assert!(now == was || now >= was + 30, "{key}: {was} then {now}");
    }
}

#[tokio::test]
async fn no_header_or_field_tells_a_time_more_precise_than_the_publication_date() {
    let app = spawn_app_with_demo().await;
    let res = app
        .get(&format!("/api/v1/campaigns/{SLUG}/results?level=province"))
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("x-results-computed-at").is_none());
    assert!(res.headers().get("x-results-stale").is_none());
    assert_eq!(res.headers()["hailong-publication"], "1");
    let date = res.headers()["hailong-published-on"].to_str().unwrap();
    assert_eq!(date.len(), 10, "a date only: {date}");
    let html = app
        .get(&format!("/results/{SLUG}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Công bố ngày"),
        "the page names the publication"
    );
    assert!(!html.contains(" UTC"), "no time of day on the page");
}

#[tokio::test]
async fn before_the_first_publication_pages_and_api_say_not_published() {
    let app = spawn_app_with_demo().await;
    let db = app.db.connect().await;
    // The demo publishes when seeded; undo that for this campaign.
    let backend = db.get_database_backend();
    let id = hailong::services::campaigns::by_slug(&db, SLUG)
        .await
        .unwrap()
        .campaign
        .id;
    for sql in [
        format!("DELETE FROM publications WHERE campaign_id = {id}"),
        format!("UPDATE responses SET publication = NULL WHERE campaign_id = {id}"),
    ] {
        db.execute_raw(Statement::from_string(backend, sql))
            .await
            .unwrap();
    }
    let res = app.get(&format!("/api/v1/campaigns/{SLUG}/results")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "not_published", "{body}");
    let res = app.get(&format!("/results/{SLUG}")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let html = res.text().await.unwrap();
    assert!(html.contains("chưa được công bố"), "{html}");
    // Published again: served.
    assert_eq!(publish(&app, SLUG).await, Some(1));
    assert_eq!(app.get(&format!("/results/{SLUG}")).await.status(), 200);
}

#[tokio::test]
async fn the_command_publishes_and_the_running_server_serves_it_within_5_seconds() {
    let app = spawn_app_with_demo().await;
    let db = app.db.connect().await;
    let (commune, _) = settled_commune(&app).await;
    let path = format!("/api/v1/campaigns/{SLUG}/results?level=commune");
    let n_of = |rows: &Vec<Value>| {
        rows.iter()
            .find(|r| r["locality"] == commune.as_str())
            .map(|r| r["n"].as_u64().unwrap())
            .unwrap()
    };
    let first: Vec<Value> = app.get(&path).await.json().await.unwrap();
    let rows = crate::helpers::count(&db, "responses").await;
    submit(&app, &commune, 30).await;
    stored(&app, rows, 30).await;
    // Not before the publication.
    let still: Vec<Value> = app.get(&path).await.json().await.unwrap();
    assert_eq!(n_of(&first), n_of(&still));

    let out = std::process::Command::new(hailong_bin())
        .args(["results", "publish", "--campaign", SLUG])
        .env("HAILONG_DATABASE_URL", &app.db.url)
        .env("HAILONG_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("publication 2"), "{printed}");
    assert!(
        printed.contains(&format!("{commune}: included >= 30")),
        "{printed}"
    );
    let t = Instant::now();
    loop {
        let now: Vec<Value> = app.get(&path).await.json().await.unwrap();
        if n_of(&now) >= n_of(&first) + 30 {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "served within 5 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The audit log names the command.
    let audit = entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::Action.eq("results.publish"))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(audit, 1);
}

#[tokio::test]
async fn the_schedule_publishes_once_per_vietnamese_day_and_manual_campaigns_wait() {
    let app = spawn_app_with_demo().await;
    let db = app.db.connect().await;
    let (commune, _) = settled_commune(&app).await;
    let rows = crate::helpers::count(&db, "responses").await;
    submit(&app, &commune, 30).await;
    stored(&app, rows, 30).await;
    // The demo was published on its seeding day: not due again that day (Hanoi time). The
    // clock is faked at noon of that day, so the test holds across midnight in Hanoi.
    let mut tried = std::collections::HashMap::new();
    let id = hailong::services::campaigns::by_slug(&db, SLUG)
        .await
        .unwrap()
        .campaign
        .id;
    let day = hailong::services::publication::latest(&db, id)
        .await
        .unwrap()
        .unwrap()
        .published_on;
    let now = Utc.from_utc_datetime(&day.and_hms_opt(5, 0, 0).unwrap());
    let done = hailong::services::publication::run_due(&db, 10, now, &mut tried)
        .await
        .unwrap();
    assert!(done.is_empty(), "{done:?}");
    // The next day in Hanoi: due, and published with the 30 new responses.
    let tomorrow = now + chrono::Duration::days(1);
    let done = hailong::services::publication::run_due(&db, 10, tomorrow, &mut tried)
        .await
        .unwrap();
    assert_eq!(done, vec![(SLUG.to_owned(), 2)]);
    // Same day again: nothing.
    let done = hailong::services::publication::run_due(&db, 10, tomorrow, &mut tried)
        .await
        .unwrap();
    assert!(done.is_empty());
    // A manual campaign waits for the button or the command, whatever arrives.
    let backend = db.get_database_backend();
    db.execute_raw(Statement::from_string(
        backend,
        format!(
            "UPDATE campaigns SET design = '{}' WHERE slug = '{SLUG}'",
            r#"{"min_n":30,"min_df":8,"calibration":["sex","age_group"],"publication":"manual"}"#
        ),
    ))
    .await
    .unwrap();
    let rows = crate::helpers::count(&db, "responses").await;
    submit(&app, &commune, 30).await;
    stored(&app, rows, 30).await;
    let later = now + chrono::Duration::days(3);
    let done = hailong::services::publication::run_due(&db, 10, later, &mut tried)
        .await
        .unwrap();
    assert!(done.is_empty(), "{done:?}");
    // 00:00 in Hanoi is 17:00 UTC the day before.
    let midnight = Utc.with_ymd_and_hms(2026, 12, 3, 17, 0, 0).unwrap();
    assert_eq!(
        hailong::domain::publication::vietnam_date(midnight).to_string(),
        "2026-12-04"
    );
}

#[tokio::test]
async fn only_administrators_and_analysts_change_what_decides_the_results() {
    let app = spawn_app_with_demo().await;
    app.add_user("designer@example.vn", "designer").await;
    app.add_user("analyst@example.vn", "analyst").await;
    app.add_user("admin@example.vn", "admin").await;
    let db = app.db.connect().await;
    // The form is at …/settings and still posts to the campaign's address.
    let path = format!("/staff/campaigns/{SLUG}");
    let form_page = format!("{path}/settings");
    let d = app.login("designer@example.vn").await;
    let csrf = app.page_csrf(&d, &form_page).await;
    let stored_design = || async {
        let c = entity::campaign::Entity::find()
            .filter(entity::campaign::Column::Slug.eq(SLUG))
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        (c.is_public, c.design)
    };
    let before = stored_design().await;
    let version = entity::campaign::Entity::find()
        .filter(entity::campaign::Column::Slug.eq(SLUG))
        .one(&db)
        .await
        .unwrap()
        .unwrap()
        .questionnaire_version_id
        .to_string();
    // The designer's form carries the other fields as they are.
    let html = app.page(&d, &form_page).await;
    let field = |name: &str| attr(&html, &format!("input[name={name}]"), "value");
    let (name_vi, opens, closes) = (field("name_vi"), field("opens_on"), field("closes_on"));
    let localities = text(&html, "textarea[name=localities]");
    let base = vec![
        ("csrf_token", csrf.clone()),
        ("name_vi", name_vi),
        ("questionnaire_version", version),
        ("service", "one_stop".to_owned()),
        ("opens_on", opens),
        ("closes_on", closes),
        ("layout", "per_section".to_owned()),
        ("localities", localities.replace("&#x2f;", "/")),
        ("calibration", "sex, age_group".to_owned()),
    ];
    for (name, value) in [
        ("min_n", "10"),
        ("min_df", "0"),
        ("is_public", "0"),
        ("publication", "manual"),
    ] {
        let mut form = base.clone();
        form.push((name, value.to_owned()));
        let res = d.post(app.url(&path)).form(&form).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "designer sets {name}");
    }
    // Nor targets.
    let tpath = format!("/staff/campaigns/{SLUG}/targets");
    let res = d
        .post(app.url(&tpath))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("locality", "01"),
            ("index", "SIPAS"),
            ("kind", "at_least"),
            ("value", "50"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(stored_design().await, before);

    // An analyst may; min_n below 10 is refused with a translated message.
    let a = app.login("analyst@example.vn").await;
    let acsrf = app.page_csrf(&a, &form_page).await;
    let settings = format!("{path}/results-settings");
    let res = a
        .post(app.url(&settings))
        .form(&[("csrf_token", acsrf.as_str()), ("min_n", "5")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("không được nhỏ hơn 10"), "{html}");
    assert_eq!(stored_design().await, before);
    let res = a
        .post(app.url(&settings))
        .form(&[
            ("csrf_token", acsrf.as_str()),
            ("min_n", "12"),
            ("min_df", "2"),
            ("is_public", "0"),
            ("publication", "manual"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (public, design) = stored_design().await;
    assert!(!public);
    let design: Value = serde_json::from_str(&design).unwrap();
    assert_eq!(design["min_n"], 12);
    assert_eq!(design["min_df"], 2);
    assert_eq!(design["publication"], "manual");

    // The audit log holds the old and new values.
    let entry = entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::Action.eq("campaign.results_settings"))
        .one(&db)
        .await
        .unwrap()
        .expect("audited");
    let detail: Value = serde_json::from_str(&entry.detail).unwrap();
    assert_eq!(detail["changes"]["min_n"]["old"], 30, "{detail}");
    assert_eq!(detail["changes"]["min_n"]["new"], 12);
    assert_eq!(detail["changes"]["is_public"]["old"], true);
    assert_eq!(detail["changes"]["is_public"]["new"], false);
    assert_eq!(detail["changes"]["publication"]["new"], "manual");

    // An administrator may use the full form; a designer's own change is audited with its
    // old and new value too.
    let m = app.login("admin@example.vn").await;
    let mcsrf = app.page_csrf(&m, &form_page).await;
    let mut form = base.clone();
    form[0] = ("csrf_token", mcsrf);
    form.push(("min_n", "15".to_owned()));
    let res = m.post(app.url(&path)).form(&form).send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    let errs = text
        .find("field-errors")
        .map_or("", |i| &text[i..(i + 800).min(text.len())]);
    assert_eq!(status, StatusCode::SEE_OTHER, "{errs}");
    let mut form = base.clone();
    form[1] = ("name_vi", "Tên mới".to_owned());
    let res = d.post(app.url(&path)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let entries = entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::Action.eq("campaign.update"))
        .all(&db)
        .await
        .unwrap();
    let details: Vec<Value> = entries
        .iter()
        .map(|e| serde_json::from_str(&e.detail).unwrap())
        .collect();
    assert!(
        details
            .iter()
            .any(|d| d["changes"]["min_n"]["old"] == 12 && d["changes"]["min_n"]["new"] == 15),
        "{details:?}"
    );
    assert!(
        details
            .iter()
            .any(|d| d["changes"]["name_vi"]["new"] == "Tên mới"),
        "{details:?}"
    );
}

#[tokio::test]
async fn targets_of_a_private_campaign_are_hidden_from_those_who_may_not_read_its_results() {
    let app = spawn_app_with_demo().await;
    app.add_user("designer@example.vn", "designer").await;
    app.add_user("analyst@example.vn", "analyst").await;
    let db = app.db.connect().await;
    let c = entity::campaign::Entity::find()
        .filter(entity::campaign::Column::Slug.eq(SLUG))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        format!("UPDATE campaigns SET is_public = false WHERE id = {}", c.id),
    ))
    .await
    .unwrap();
    let a = app.login("analyst@example.vn").await;
    let tpath = format!("/staff/campaigns/{SLUG}/targets");
    let csrf = app.page_csrf(&a, &tpath).await;
    let res = a
        .post(app.url(&tpath))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("locality", "01"),
            ("index", "SIPAS"),
            ("kind", "at_least"),
            ("value", "50"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let api = format!("/api/v1/campaigns/{SLUG}/targets");
    // Nobody signed in: 401; a designer: 403 on the API and the staff page.
    assert_eq!(app.get(&api).await.status(), StatusCode::UNAUTHORIZED);
    let d = app.login("designer@example.vn").await;
    assert_eq!(
        d.get(app.url(&api)).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        d.get(app.url(&tpath)).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // The analyst sees it.
    let list: Vec<Value> = a
        .get(app.url(&api))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
}

#[tokio::test]
async fn two_processes_publishing_at_once_make_one_publication() {
    let app = spawn_app_with_demo().await;
    let db = app.db.connect().await;
    let (commune, _) = settled_commune(&app).await;
    let rows = crate::helpers::count(&db, "responses").await;
    submit(&app, &commune, 30).await;
    stored(&app, rows, 30).await;
    // Two connections (as two processes would have), publishing on schedule at once.
    let (one, two) = (app.db.connect().await, app.db.connect().await);
    let campaign = hailong::services::campaigns::by_slug(&db, SLUG)
        .await
        .unwrap();
    let trigger = hailong::domain::publication::Trigger::Schedule;
    let (a, b) = tokio::join!(
        hailong::services::publication::publish(&one, &campaign, trigger, 10, Utc::now()),
        hailong::services::publication::publish(&two, &campaign, trigger, 10, Utc::now()),
    );
    let made: Vec<i64> = [a.unwrap().number, b.unwrap().number]
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(made, vec![2], "exactly one publication");
    let marked = entity::response::Entity::find()
        .filter(entity::response::Column::Publication.eq(2))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(marked, 30);
    let latest = hailong::services::publication::latest(&db, campaign.campaign.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.number, 2);
}

#[tokio::test]
async fn publish_now_is_a_button_for_analysts_and_administrators_only() {
    let app = spawn_app_with_demo().await;
    app.add_user("designer@example.vn", "designer").await;
    app.add_user("analyst@example.vn", "analyst").await;
    let db = app.db.connect().await;
    let reports = format!("/staff/campaigns/{SLUG}/reports");
    let action = format!("/staff/campaigns/{SLUG}/publish");
    let d = app.login("designer@example.vn").await;
    let dcsrf = app.page_csrf(&d, "/staff/campaigns").await;
    let res = d
        .post(app.url(&action))
        .form(&[("csrf_token", dcsrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let a = app.login("analyst@example.vn").await;
    let page = app.page(&a, &reports).await;
    assert!(page.contains(&format!("action=\"{action}\"")), "the button");
    assert!(page.contains("lần công bố thứ 1"), "the latest publication");
    // Without the anti-forgery token: refused, nothing published.
    let res = a.post(app.url(&action)).send().await.unwrap();
    assert!(res.status().is_client_error());
    let csrf = app.page_csrf(&a, &reports).await;
    let res = a
        .post(app.url(&action))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], format!("{reports}?published=2"));
    let page = app.page(&a, &format!("{reports}?published=2")).await;
    assert!(page.contains("Đã công bố lần thứ 2"), "{page}");
    let entry = entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::Action.eq("results.publish"))
        .one(&db)
        .await
        .unwrap()
        .expect("audited");
    assert_eq!(entry.staff_email, "analyst@example.vn");
    let publications = entity::publication::Entity::find()
        .count(&db)
        .await
        .unwrap();
    assert_eq!(publications, 4, "three demo publications and the button's");
}
