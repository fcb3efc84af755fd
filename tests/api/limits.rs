//! Abuse limits: per-address rate limits in memory, loopback exempt by default.

use serde_json::json;

use crate::helpers::{count, spawn_app_with_demo, spawn_with};
use crate::responses::{post_json, sipas_locality, valid_body};

#[tokio::test]
async fn submissions_beyond_the_per_address_limit_get_429_and_are_not_stored() {
    let app = spawn_with(|s| {
        s.rate_limit_per_minute = 5;
        s.rate_limit_loopback = true;
    })
    .await;
    let locality = sipas_locality(&app).await;
    let db = app.db.connect().await;
    let before = count(&db, "responses").await;
    for _ in 0..5 {
        let res = post_json(
            &app,
            &valid_body(&uuid::Uuid::new_v4().to_string(), &locality),
        )
        .await;
        assert_eq!(res.status(), 201);
    }
    let res = app
        .client
        .post(app.url("/api/v1/campaigns/sipas-demo/responses"))
        .header("Accept-Language", "en")
        .json(&valid_body(&uuid::Uuid::new_v4().to_string(), &locality))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    // The refusal passes through the same edge as any error: security headers kept.
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let problem: serde_json::Value = res.json().await.unwrap();
    assert_eq!(problem["error"], "too_many_requests");
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .contains("wait a minute")
    );
    let page = app
        .client
        .post(app.url("/s/sipas-demo"))
        .form(&[("nav", "next")])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 429, "survey form posts count too");
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.headers().contains_key("content-security-policy"));
    assert_eq!(count(&db, "responses").await, before + 5);
}

#[tokio::test]
async fn loopback_clients_are_not_limited_by_default() {
    let app = spawn_app_with_demo().await;
    let body = json!({"submission_id": "x", "locality": "y"});
    for _ in 0..150 {
        let res = post_json(&app, &body).await;
        assert_eq!(res.status(), 422);
    }
}
