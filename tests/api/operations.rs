//! Operations: metrics, liveness and readiness, backups and their restore.

use std::process::Command;

use crate::helpers::{TestDb, count, hailong_bin, spawn_app, spawn_app_with_demo};
use crate::responses::{post_json, sipas_locality, valid_body};

/// An administrator's API token (`/metrics` needs one).
async fn admin_token(app: &crate::helpers::TestApp) -> String {
    app.token_for("metrics-admin@example.vn", "admin").await
}

/// The value of a metric line that starts with `prefix`.
fn metric(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_count_requests_and_submissions_without_personal_data() {
    let app = spawn_app_with_demo().await;
    let token = admin_token(&app).await;
    let metrics = async || app.get_as("/metrics", &token).await;
    let before = metrics().await.text().await.unwrap();
    app.get("/").await;
    app.get("/").await;
    let locality = sipas_locality(&app).await;
    let id = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        post_json(&app, &valid_body(&id, &locality)).await.status(),
        201
    );
    assert_eq!(
        post_json(&app, &valid_body(&id, &locality)).await.status(),
        200
    );
    let res = metrics().await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = res.text().await.unwrap();
    let home = r#"hailong_http_requests_total{method="GET",route="/",status="200"}"#;
    assert!(metric(&text, home) >= metric(&before, home) + 2.0, "{text}");
    assert!(metric(&text, r#"hailong_submissions_total{outcome="new"}"#) >= 1.0);
    assert!(metric(&text, r#"hailong_submissions_total{outcome="duplicate"}"#) >= 1.0);
    assert!(text.contains("hailong_http_request_duration_seconds_bucket"));
    // The writer's batches: the two submissions went through it (metrics are per
    // process, and other tests' apps share it, so at least two).
    assert!(
        metric(&text, "hailong_writer_batch_rows_count") >= 2.0,
        "{text}"
    );
    assert!(metric(&text, "hailong_writer_batch_duration_seconds_count") >= 2.0);
    assert!(
        text.contains(r#"route="<respondent>""#),
        "a respondent's routes count under one label"
    );
    assert!(!text.contains(&id) && !text.contains("127.0.0.1"));
}

#[tokio::test]
async fn liveness_and_readiness_answer() {
    let app = spawn_app().await;
    assert_eq!(app.get("/livez").await.status(), 200);
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["database"], "ok");
}

#[tokio::test]
async fn a_backup_is_consistent_and_restores() {
    let db = TestDb::new().await;
    let out = db.dir.path().join("backup.db");
    let run = |args: &[&str]| {
        Command::new(hailong_bin())
            .args(args)
            .arg("--database-url")
            .arg(&db.url)
            .env("HAILONG_LOG", "warn")
            .output()
            .unwrap()
    };
    assert!(run(&["seed", "--demo"]).status.success());
    let res = run(&["backup", "--out", out.to_str().unwrap()]);
    if db.url.starts_with("postgres") {
        assert!(!res.status.success());
        let err = String::from_utf8_lossy(&res.stderr);
        assert!(err.contains("pg_dump"), "{err}");
        assert_eq!(err.trim().lines().count(), 1);
        return;
    }
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    assert!(String::from_utf8_lossy(&res.stdout).contains("integrity check: ok"));
    // Restoring is pointing Hailong at the copy: same data, schema current.
    let restored_url = format!("sqlite://{}", out.display());
    let migrate = Command::new(hailong_bin())
        .args(["migrate", "--database-url", &restored_url])
        .output()
        .unwrap();
    assert!(migrate.status.success());
    let original = db.connect().await;
    let restored = hailong::db::connect(&restored_url, 1).await.unwrap();
    for table in [
        "responses",
        "campaigns",
        "localities",
        "questionnaire_versions",
    ] {
        assert_eq!(
            count(&original, table).await,
            count(&restored, table).await,
            "{table}"
        );
    }
    // Never over an existing file.
    let again = run(&["backup", "--out", out.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}
