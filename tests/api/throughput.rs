//! A rough throughput measurement of the submission API (acknowledged =
//! committed): 64 concurrent clients for a few seconds. Ignored by default;
//! run with `cargo test --release --test api throughput -- --ignored --nocapture`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::helpers::count;
use crate::helpers::spawn_with;
use crate::responses::{sipas_locality, valid_body};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check; run on demand"]
async fn submissions_per_second_at_64_concurrent_clients() {
    let app = spawn_with(|s| s.max_connections = 16).await;
    let locality = sipas_locality(&app).await;
    let db = app.db.connect().await;
    let before = count(&db, "responses").await;
    let ok = Arc::new(AtomicU64::new(0));
    let seconds = std::env::var("SECONDS_TO_RUN")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let url = app.url("/api/v1/campaigns/sipas-demo/responses");
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let client = app.client.clone();
        let url = url.clone();
        let locality = locality.clone();
        let ok = ok.clone();
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let body = valid_body(&uuid::Uuid::new_v4().to_string(), &locality);
                let res = client.post(&url).json(&body).send().await.unwrap();
                assert_eq!(res.status(), 201);
                ok.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let n = ok.load(Ordering::Relaxed);
    println!(
        "{n} submissions acknowledged in {seconds} s: {:.0}/s",
        n as f64 / seconds as f64
    );
    assert_eq!(count(&db, "responses").await, before + n as i64);
}
