//! The real binary's log lines carry no client address, forwarded address,
//! user agent, token or answer from the public routes.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestDb, hailong_bin};

#[tokio::test]
async fn public_routes_log_no_address_agent_token_or_answer() {
    let db = TestDb::new().await;
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Files, not pipes: a full pipe would stall the server's logging.
    let log_path = db.dir.path().join("out.log");
    let err_path = db.dir.path().join("err.log");
    let mut child = Command::new(hailong_bin())
        .args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}")])
        .arg("--database-url")
        .arg(&db.url)
        .current_dir(db.dir.path())
        .env_remove("HAILONG_DATABASE_URL")
        .env("HAILONG_LOG", "debug")
        .env("HAILONG_TRUSTED_PROXIES", "127.0.0.1")
        .stdout(Stdio::from(std::fs::File::create(&log_path).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&err_path).unwrap()))
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .user_agent("HailongProbe/9.9 (secret-agent)")
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
    let locality = campaigns[0]["localities"][0]["code"].as_str().unwrap();
    let token = "ab".repeat(32);
    let probe = |req: reqwest::RequestBuilder| {
        req.header("X-Forwarded-For", "203.0.113.77")
            .header("X-Real-IP", "198.51.100.88")
            .send()
    };
    probe(client.get(format!("{base}/s/sipas-demo")))
        .await
        .unwrap();
    probe(client.post(format!("{base}/s/sipas-demo")).form(&[
        ("l", locality),
        ("step", "locality"),
        ("nav", "next"),
    ]))
    .await
    .unwrap();
    let res = probe(
        client
            .post(format!("{base}/api/v1/campaigns/sipas-demo/responses"))
            .json(&json!({"submission_id": uuid::Uuid::new_v4().to_string(), "locality": locality,
                          "answers": {"sex": "F", "age_group": "18-34", "comment": "UniqueComment4711"}})),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 201);
    probe(client.get(format!("{base}/k/{token}")))
        .await
        .unwrap();
    probe(client.get(format!("{base}/i/{token}")))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = child.id();
    let _ = Command::new("kill").arg(pid.to_string()).status();
    child.wait().unwrap();
    let log = format!(
        "{}{}",
        std::fs::read_to_string(&log_path).unwrap(),
        std::fs::read_to_string(&err_path).unwrap()
    );
    assert!(
        log.contains("/api/v1/campaigns"),
        "other requests are logged by route pattern: {log}"
    );
    assert!(
        !log.contains("/s/{slug}") && !log.contains("/k/{token}") && !log.contains("/i/{token}"),
        "a respondent's requests are not logged, even at debug level: {log}"
    );
    for secret in [
        "203.0.113.77",
        "198.51.100.88",
        "HailongProbe",
        "secret-agent",
        token.as_str(),
        "UniqueComment4711",
    ] {
        assert!(!log.contains(secret), "log contains {secret}");
    }
    for line in log.lines().filter(|l| l.contains("hailong::http")) {
        assert!(!line.contains("127.0.0.1"), "client address in {line}");
    }
}
