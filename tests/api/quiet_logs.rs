//! Quiet logs: at the default log level the real binary writes no line at all
//! for a respondent's requests (survey pages, kiosks, invitations, the
//! submission API), whatever their outcome; staff requests are still logged.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use hailong::services::kiosks::{self, NewKiosk};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::hidden_fields;
use crate::helpers::{TestDb, hailong_bin};

/// Bytes the server has written to its two log files so far.
fn log_len(out: &Path, err: &Path) -> (usize, usize) {
    (
        std::fs::read(out).map(|b| b.len()).unwrap_or(0),
        std::fs::read(err).map(|b| b.len()).unwrap_or(0),
    )
}

/// What the server wrote after `from`.
fn log_since(out: &Path, err: &Path, from: (usize, usize)) -> String {
    let o = std::fs::read(out).unwrap_or_default();
    let e = std::fs::read(err).unwrap_or_default();
    format!(
        "{}{}",
        String::from_utf8_lossy(&o[from.0.min(o.len())..]),
        String::from_utf8_lossy(&e[from.1.min(e.len())..])
    )
}

#[tokio::test]
async fn a_respondents_requests_leave_no_log_line_at_the_default_level() {
    let db = TestDb::new().await;
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out_path = db.dir.path().join("out.log");
    let err_path = db.dir.path().join("err.log");
    let mut child = Command::new(hailong_bin())
        .args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}")])
        .arg("--database-url")
        .arg(&db.url)
        .current_dir(db.dir.path())
        .env_remove("HAILONG_DATABASE_URL")
        .env_remove("HAILONG_LOG")
        .env_remove("RUST_LOG")
        .env("HAILONG_BODY_TIMEOUT_SECS", "2")
        .env("HAILONG_RATE_LIMIT_PER_MINUTE", "3")
        .env("HAILONG_TRUSTED_PROXIES", "127.0.0.1")
        .stdout(Stdio::from(std::fs::File::create(&out_path).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&err_path).unwrap()))
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut campaigns = None;
    for _ in 0..150 {
        if let Ok(res) = client.get(format!("{base}/api/v1/campaigns")).send().await {
            campaigns = Some(res.json::<Vec<Value>>().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let campaigns = campaigns.expect("server up");
    let locality = campaigns[0]["localities"][0]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let conn = db.connect().await;
    let (_, kiosk) = kiosks::register_kiosk(
        &conn,
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
    tokio::time::sleep(Duration::from_millis(800)).await;
    let start = log_len(&out_path, &err_path);

    // A phone journey: first page, locality, a section, the thanks page, QR.
    let html = client
        .get(format!("{base}/s/sipas-demo"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut fields = hidden_fields(&html);
    fields.push(("l".into(), locality.clone()));
    fields.push(("nav".into(), "next".into()));
    let res = client
        .post(format!("{base}/s/sipas-demo"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    let res = crate::helpers::follow_step(&client, &base, res).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let mut fields = hidden_fields(&html);
    fields.push(("a.sex".into(), "F".into()));
    fields.push(("nav".into(), "next".into()));
    client
        .post(format!("{base}/s/sipas-demo"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    for path in [
        "/s/sipas-demo/thanks",
        "/s/sipas-demo/qr.svg",
        "/s/no-such-campaign",
        "/static/app.css",
    ] {
        client.get(format!("{base}{path}")).send().await.unwrap();
    }
    // A kiosk: its page and a submission.
    client
        .get(format!("{base}/k/{kiosk}"))
        .send()
        .await
        .unwrap();
    let res = client
        .post(format!("{base}/k/{kiosk}/responses"))
        .json(
            &json!({"submission_id": uuid::Uuid::new_v4().to_string(), "locality": locality,
                      "answers": {"sex": "M", "age_group": "18-34"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    // An invitation link (unknown token: refused) and its form post.
    let token = "ab".repeat(32);
    let res = client
        .get(format!("{base}/i/{token}"))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error());
    client
        .post(format!("{base}/i/{token}"))
        .form(&[("nav", "next")])
        .send()
        .await
        .unwrap();
    // The submission API: stored, malformed, refused by the rate limit.
    let api = format!("{base}/api/v1/campaigns/sipas-demo/responses");
    let body = json!({"submission_id": uuid::Uuid::new_v4().to_string(), "locality": locality,
                      "answers": {"sex": "F", "age_group": "18-34"}});
    assert_eq!(
        client.post(&api).json(&body).send().await.unwrap().status(),
        201
    );
    let res = client
        .post(&api)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let body = json!({"submission_id": uuid::Uuid::new_v4().to_string(),
                          "locality": locality, "answers": {"sex": "F"}});
        let res = client
            .post(&api)
            .header("X-Forwarded-For", "203.0.113.50")
            .json(&body)
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    // A body that never finishes: 408.
    let mut stream = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    stream
        .write_all(
            b"POST /api/v1/campaigns/sipas-demo/responses HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n{",
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(6), stream.read_to_end(&mut answer))
        .await
        .expect("cut off")
        .ok();
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let quiet = log_since(&out_path, &err_path, start);

    // Staff requests are still logged, by route pattern.
    let mark = log_len(&out_path, &err_path);
    client
        .get(format!("{base}/staff/login"))
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let staff = log_since(&out_path, &err_path, mark);
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    child.wait().unwrap();
    assert_eq!(quiet, "", "a respondent's requests were logged");
    assert!(staff.contains("/staff/login"), "staff requests are logged");
}
