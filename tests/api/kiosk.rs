//! Kiosk mode at `/k/{token}`.

use chrono::Utc;
use entity::response;
use hailong::services::kiosks::{self, NewKiosk};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::browser_fields;
use crate::helpers::{TestApp, count, spawn_app_with_demo};
use crate::responses::sipas_locality;
use crate::survey::post_form;

pub async fn register(app: &TestApp) -> (String, String) {
    let locality = sipas_locality(app).await;
    let db = app.db.connect().await;
    let (kiosk, token) = kiosks::register_kiosk(
        &db,
        &NewKiosk {
            campaign_slug: "sipas-demo".into(),
            locality_code: locality.clone(),
            service_code: None,
            label: "Quầy 1".into(),
        },
        Utc::now().date_naive(),
    )
    .await
    .unwrap();
    assert_eq!(token.len(), 64);
    assert_ne!(kiosk.token_hash, token, "only the hash is stored");
    assert_eq!(kiosk.token_hash, kiosks::token_hash(&token));
    (token, locality)
}

#[tokio::test]
async fn registering_a_kiosk_checks_campaign_locality_and_label() {
    let app = spawn_app_with_demo().await;
    let db = app.db.connect().await;
    let err = kiosks::register_kiosk(
        &db,
        &NewKiosk {
            campaign_slug: "sipas-demo".into(),
            locality_code: "99999".into(),
            service_code: Some("nope".into()),
            label: " ".into(),
        },
        Utc::now().date_naive(),
    )
    .await
    .unwrap_err();
    let hailong::error::AppError::Validation(errors) = err else {
        panic!("{err:?}")
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["label", "locality", "service"]);
}

#[tokio::test]
async fn the_kiosk_page_has_big_faces_a_fixed_locality_and_its_script() {
    let app = spawn_app_with_demo().await;
    let (token, locality) = register(&app).await;
    let res = app.get(&format!("/k/{token}")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.unwrap();
    assert!(html.contains("<body class=\"survey kiosk\">"));
    assert!(html.contains("<script src=\"/static/kiosk.js\" defer></script>"));
    assert!(html.contains(&format!(
        "data-endpoint=\"&#x2f;k&#x2f;{token}&#x2f;responses\""
    )));
    assert!(html.contains(&format!("data-locality=\"{locality}\"")));
    assert!(html.contains("face face-5"), "five-point scales as faces");
    assert!(!html.contains("id=\"locality\""), "no locality question");
    // Conditional questions are in the page, hidden, for the script.
    assert!(html.contains("data-q=\"e5_3\""));
    assert!(html.contains("hidden>"));
    let js = app.get("/static/kiosk.js").await;
    assert_eq!(js.status(), 200);
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(js.text().await.unwrap().contains("localStorage"));
    // One section per screen with the script: its buttons and progress bar
    // are in the page, hidden until the script shows them; the plain form
    // (every section, one "send") stays as it was without the script.
    assert!(html.contains("id=\"kiosk-next\" class=\"primary\" hidden"));
    assert!(html.contains("id=\"kiosk-back\" class=\"secondary\" hidden"));
    assert!(html.contains("id=\"kiosk-progress\" hidden"));
    assert!(html.contains("data-pattern=\"Phần {current} &#x2f; {total}\""));
    assert_eq!(html.matches("data-section=").count(), 7);
    assert_eq!(html.matches("value=\"submit\"").count(), 1);
    assert!(html.contains("data-worker=\"/k/sw.js\""));
}

#[tokio::test]
async fn the_kiosk_service_worker_is_served_under_k_and_never_cached_stale() {
    let app = spawn_app_with_demo().await;
    let res = app.get("/k/sw.js").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert_eq!(res.headers()["cache-control"], "no-cache");
    // Its default scope is /k/: no wider scope is asked for.
    assert!(res.headers().get("service-worker-allowed").is_none());
    let js = res.text().await.unwrap();
    for part in [
        "/static/app.css",
        "/static/conditions.js",
        "/static/kiosk.js",
    ] {
        assert!(js.contains(part), "{part} kept for offline use");
    }
    assert!(js.contains("caches.delete"), "forgets a revoked kiosk");
    // The worker caches what it is given by the network, never answers: no
    // POST, no timestamps.
    assert!(js.contains("request.method !== \"GET\""));
    assert!(!js.contains("Date.now"));
}

#[tokio::test]
async fn kiosk_submissions_are_stored_with_the_kiosk_channel_only() {
    let app = spawn_app_with_demo().await;
    let (token, locality) = register(&app).await;
    let db = app.db.connect().await;
    let before = count(&db, "responses").await;
    let id = uuid::Uuid::new_v4().to_string();
    let body = json!({"submission_id": id, "locality": locality, "channel": "kiosk",
                      "answers": {"sex": "M", "age_group": "18-34", "e1_1": 2}});
    let url = app.url(&format!("/k/{token}/responses"));
    let res = app.client.post(&url).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let first: Value = res.json().await.unwrap();
    // The queued retry after a lost acknowledgement.
    let res = app.client.post(&url).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), first);
    assert_eq!(count(&db, "responses").await, before + 1);
    let row = response::Entity::find_by_id(id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.channel, "kiosk");
    assert_eq!(row.locality_code, locality);
    let stored = format!("{row:?}");
    assert!(!stored.contains(&token) && !stored.contains(&kiosks::token_hash(&token)));

    let mut other = body.clone();
    other["submission_id"] = json!(uuid::Uuid::new_v4().to_string());
    other["locality"] = json!("00103");
    let res = app.client.post(&url).json(&other).send().await.unwrap();
    assert_eq!(
        res.status(),
        422,
        "a kiosk answers for its own locality only"
    );
}

#[tokio::test]
async fn unknown_and_revoked_kiosks_are_refused() {
    let app = spawn_app_with_demo().await;
    let (token, _) = register(&app).await;
    assert_eq!(
        app.get(&format!("/k/{}", "0".repeat(64))).await.status(),
        404
    );
    assert_eq!(app.get("/k/short").await.status(), 404);
    let db = app.db.connect().await;
    let list = kiosks::list(&db).await.unwrap();
    kiosks::revoke(&db, list[0].kiosk.id).await.unwrap();
    let res = app.get(&format!("/k/{token}")).await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("thu hồi"));
}

#[tokio::test]
async fn without_javascript_the_kiosk_posts_its_form_and_returns_to_the_start() {
    let app = spawn_app_with_demo().await;
    let (token, locality) = register(&app).await;
    let db = app.db.connect().await;
    let before = count(&db, "responses").await;
    let path = format!("/k/{token}");
    let html = app.get(&path).await.text().await.unwrap();
    let mut fields = browser_fields(&html);
    fields.extend(
        [
            ("a.sex", "F"),
            ("a.age_group", "18-34"),
            ("a.e1_1", "5"),
            ("nav", "submit"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let res = post_form(&app, &path, &fields).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], format!("/k/{token}/thanks"));
    assert_eq!(count(&db, "responses").await, before + 1);
    let thanks = app
        .get(&format!("/k/{token}/thanks"))
        .await
        .text()
        .await
        .unwrap();
    assert!(thanks.contains(&format!(
        "<meta http-equiv=\"refresh\" content=\"8;url=&#x2f;k&#x2f;{token}\">"
    )));
    // The next person's page is blank.
    let next = app.get(&path).await.text().await.unwrap();
    assert!(!next.contains(" checked"));
    let _ = locality;
}
