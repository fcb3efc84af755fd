//! Model-based commune estimates (Fay–Herriot) as a reader of the demo sees them: in the
//! API, marked; synthetic only for communes under `min_n`.

use serde_json::Value;

use crate::helpers::{TestApp, spawn_app_with_demo};

async fn json(app: &TestApp, path: &str) -> Vec<Value> {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn demo_communes_get_marked_model_based_estimates() {
    let app = spawn_app_with_demo().await;
    for slug in ["sipas-demo", "health-demo", "sipas-1001-demo"] {
        let rows = json(
            &app,
            &format!("/api/v1/campaigns/{slug}/results?level=commune"),
        )
        .await;
        let with: Vec<&Value> = rows
            .iter()
            .filter(|r| r.get("model_based").is_some())
            .collect();
        eprintln!(
            "NOTE {slug}: {} of {} communes model-based",
            with.len(),
            rows.len()
        );
        for f in json(&app, &format!("/api/v1/campaigns/{slug}/small-area"))
            .await
            .iter()
            .take(8)
        {
            eprintln!("NOTE fit {f}");
        }
        for r in rows.iter().take(3) {
            eprintln!("NOTE {r}");
        }
    }
}
