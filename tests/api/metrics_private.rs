//! Private metrics: `/metrics` needs an administrator's API token, and no
//! counter tells one channel or respondent route from another.

use reqwest::StatusCode;

use crate::helpers::spawn_app_with_demo;
use crate::responses::{post_json, sipas_locality, valid_body};

#[tokio::test]
async fn metrics_need_an_administrators_token_and_name_no_channel() {
    let app = spawn_app_with_demo().await;
    let admin = app.token_for("admin@example.vn", "admin").await;
    let locality = sipas_locality(&app).await;
    let res = post_json(
        &app,
        &valid_body(&uuid::Uuid::new_v4().to_string(), &locality),
    )
    .await;
    assert_eq!(res.status(), 201);
    app.get("/s/sipas-demo").await;

    let res = app.get("/metrics").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .client
        .get(app.url("/metrics"))
        .header("Authorization", "Bearer hl_not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    for role in ["designer", "analyst", "field_manager"] {
        let token = app.token_for(&format!("{role}@example.vn"), role).await;
        let res = app.get_as("/metrics", &token).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{role}");
    }
    // An administrator's session cookie is not an API token.
    let cookie = app.login("admin@example.vn").await;
    let res = cookie.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let res = app.get_as("/metrics", &admin).await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert!(
        text.contains("hailong_submissions_total{outcome=\"new\"}"),
        "{text}"
    );
    assert!(text.contains("route=\"<respondent>\""), "{text}");
    // Metrics are per process (other tests' apps share them): staff routes
    // may appear, a respondent's never.
    for leak in ["channel", "/s/{", "/k/{", "/i/{", "{slug}/responses\""] {
        assert!(!text.contains(leak), "metrics mention {leak}: {text}");
    }
}
