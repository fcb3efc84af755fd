//! Limits that hold: body and header deadlines, the per-client cap on
//! requests in progress, one proxy-aware client address (IPv6 by /64) for
//! every limit, and sign-in limits checked and counted in one step that never
//! lock the account's owner out.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::spawn_with;
use crate::helpers::{PASSWORD, TestApp, client, csrf_of};
use crate::responses::{sipas_locality, valid_body};

/// The server's `host:port`.
fn authority(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

/// Opens a connection, sends the headers of a POST declaring a 60,000-byte
/// body, then one byte of it every second. Returns what the server answered
/// and how long until it closed the connection (`None`: still open after
/// `give_up`).
async fn trickle(authority: &str, path: &str, content_type: &str, give_up: Duration) -> Trickle {
    let mut stream = TcpStream::connect(authority).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: {content_type}\r\n\
         Content-Length: 60000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    read_while_trickling(stream, give_up).await
}

struct Trickle {
    answer: String,
    closed_after: Option<Duration>,
}

impl Trickle {
    fn status(&self) -> Option<u16> {
        self.answer.split(' ').nth(1).and_then(|s| s.parse().ok())
    }
}

async fn read_while_trickling(stream: TcpStream, give_up: Duration) -> Trickle {
    let started = Instant::now();
    let (mut reader, mut writer) = stream.into_split();
    let feeder = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if writer.write_all(b"1").await.is_err() {
                break;
            }
        }
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let closed_after = loop {
        let left = give_up.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, reader.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break Some(started.elapsed()),
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => break None,
        }
    };
    feeder.abort();
    Trickle {
        answer: String::from_utf8_lossy(&answer).into_owned(),
        closed_after,
    }
}

/// A client whose connections come from another loopback address, so the
/// server sees another client than the test's 127.0.0.1 connections.
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_trickling_body_gets_408_and_is_cut_off_on_every_kind_of_reader() {
    let app = spawn_with(|s| s.body_timeout_secs = 2).await;
    let cases = [
        // The submission API's strict JSON reader.
        ("/api/v1/campaigns/sipas-demo/responses", "application/json"),
        // Survey form posts.
        ("/s/sipas-demo", "application/x-www-form-urlencoded"),
        // The sign-in form.
        ("/staff/login", "application/x-www-form-urlencoded"),
        // A staff form read as bytes (anonymous: refused, but never held).
        ("/staff/logout", "application/x-www-form-urlencoded"),
    ];
    let mut runs = Vec::new();
    for (path, content_type) in cases {
        let authority = authority(&app);
        runs.push(tokio::spawn(async move {
            (
                path,
                trickle(&authority, path, content_type, Duration::from_secs(8)).await,
            )
        }));
    }
    for run in runs {
        let (path, t) = run.await.unwrap();
        let closed = t
            .closed_after
            .unwrap_or_else(|| panic!("{path} still open"));
        assert!(
            closed < Duration::from_millis(4_000),
            "{path} closed after {closed:?}"
        );
        // A handler that refuses before reading (e.g. no session) may answer
        // sooner, but never waits for the trickle to finish.
        if path != "/staff/logout" {
            assert_eq!(t.status(), Some(408), "{path}: {}", t.answer);
            assert!(
                t.answer.to_ascii_lowercase().contains("connection: close"),
                "{path}: {}",
                t.answer
            );
        }
    }
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn headers_that_never_finish_are_cut_off() {
    let app = spawn_with(|s| s.header_timeout_secs = 2).await;
    let started = Instant::now();
    let mut stream = TcpStream::connect(authority(&app)).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let t = read_while_trickling(stream, Duration::from_secs(8)).await;
    let closed = t.closed_after.expect("the connection is closed");
    assert!(
        closed < Duration::from_millis(4_000) && started.elapsed() >= Duration::from_secs(1),
        "closed after {closed:?}"
    );
}

#[tokio::test]
async fn three_hundred_trickles_from_one_client_leave_the_service_healthy() {
    let app = spawn_with(|s| {
        s.body_timeout_secs = 2;
        // Loopback is exempt by default; this test is the one client.
        s.connection_limit_loopback = true;
    })
    .await;
    let mut runs = Vec::new();
    for _ in 0..300 {
        let authority = authority(&app);
        runs.push(tokio::spawn(async move {
            trickle(
                &authority,
                "/api/v1/campaigns/sipas-demo/responses",
                "application/json",
                Duration::from_secs(10),
            )
            .await
        }));
    }
    // While they trickle, another client is served at once.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let other = client_from("127.0.0.2");
    let started = Instant::now();
    let res = other.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(1));
    let (mut capped, mut timed_out) = (0, 0);
    for run in runs {
        let t = run.await.unwrap();
        let closed = t.closed_after.expect("every trickle is cut off");
        assert!(closed < Duration::from_secs(5), "closed after {closed:?}");
        match t.status() {
            Some(429) => {
                assert!(t.answer.contains("too_many_connections"), "{}", t.answer);
                capped += 1;
            }
            Some(408) => timed_out += 1,
            other => panic!("unexpected answer {other:?}: {}", t.answer),
        }
    }
    assert!(
        timed_out <= 256 && capped >= 44,
        "{capped} capped, {timed_out} timed out"
    );
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn one_client_has_at_most_the_configured_requests_in_progress() {
    let app = spawn_with(|s| {
        s.body_timeout_secs = 4;
        s.max_connections_per_client = 3;
        s.connection_limit_loopback = true;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = TcpStream::connect(authority(&app)).await.unwrap();
        let head = format!(
            "POST /api/v1/campaigns/sipas-demo/responses HTTP/1.1\r\nHost: {}\r\n\
             Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n",
            authority(&app)
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        held.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let res = app
        .client
        .get(app.url("/api/v1/campaigns"))
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "too_many_connections");
    assert!(body["message"].as_str().unwrap().contains("in progress"));
    // Another client is not affected.
    let res = client_from("127.0.0.3")
        .get(app.url("/api/v1/campaigns"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Once the held requests end, the client is served again.
    drop(held);
    let mut ok = false;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if app.get("/api/v1/campaigns").await.status() == StatusCode::OK {
            ok = true;
            break;
        }
    }
    assert!(ok, "the cap is released when requests end");
}

#[tokio::test]
async fn loopback_is_not_capped_unless_configured() {
    let app = spawn_with(|s| {
        s.body_timeout_secs = 4;
        s.max_connections_per_client = 1;
    })
    .await;
    let mut stream = TcpStream::connect(authority(&app)).await.unwrap();
    stream
        .write_all(
            b"POST /api/v1/campaigns/sipas-demo/responses HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n",
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.get("/api/v1/campaigns").await.status(), StatusCode::OK);
    drop(stream);
}

#[tokio::test]
async fn addresses_of_one_ipv6_slash_64_share_one_rate_limit() {
    let app = spawn_with(|s| {
        s.rate_limit_per_minute = 5;
        s.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    let locality = sipas_locality(&app).await;
    let mut stored = 0;
    let mut refused = 0;
    for i in 1..=30 {
        let res = app
            .client
            .post(app.url("/api/v1/campaigns/sipas-demo/responses"))
            .header("X-Forwarded-For", format!("2001:db8:77:1::{i:x}"))
            .json(&valid_body(&uuid::Uuid::new_v4().to_string(), &locality))
            .send()
            .await
            .unwrap();
        match res.status().as_u16() {
            201 => stored += 1,
            429 => refused += 1,
            s => panic!("unexpected {s}"),
        }
    }
    assert_eq!((stored, refused), (5, 25), "one /64 is one client");
    // Forwarded by the standard header as well.
    let res = app
        .client
        .post(app.url("/api/v1/campaigns/sipas-demo/responses"))
        .header("Forwarded", "for=\"[2001:db8:77:1:abcd::1]:443\"")
        .json(&valid_body(&uuid::Uuid::new_v4().to_string(), &locality))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // The next /64 is another client.
    let res = app
        .client
        .post(app.url("/api/v1/campaigns/sipas-demo/responses"))
        .header("X-Forwarded-For", "2001:db8:77:2::1")
        .json(&valid_body(&uuid::Uuid::new_v4().to_string(), &locality))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

/// Posts the sign-in form with a fresh client, forwarded for `forwarded_for`.
async fn sign_in_as(
    app: &TestApp,
    forwarded_for: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let c = client();
    let token = app.page_csrf(&c, "/staff/login").await;
    c.post(app.url("/staff/login"))
        .header("X-Forwarded-For", forwarded_for)
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn failures_from_other_forwarded_clients_never_refuse_the_owners_password() {
    let app = spawn_with(|s| s.trusted_proxies = vec!["127.0.0.1".into()]).await;
    app.add_user("admin@example.vn", "admin").await;
    for i in 1..=20 {
        let res = sign_in_as(&app, &format!("203.0.113.{i}"), "admin@example.vn", "wrong").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // The owner, from a clean address behind the same proxy.
    let res = sign_in_as(&app, "198.51.100.7", "admin@example.vn", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Attackers are still slowed: an address that failed, once the account is
    // over its limit, is refused without its password being checked.
    for i in 1..=6 {
        sign_in_as(&app, "203.0.113.1", "admin@example.vn", "wrong").await;
        let _ = i;
    }
    let res = sign_in_as(&app, "203.0.113.1", "admin@example.vn", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // The reset form keys on the same forwarded address.
    let c = client();
    let token = app.page_csrf(&c, "/staff/password-reset").await;
    let res = c
        .post(app.url("/staff/password-reset"))
        .header("X-Forwarded-For", "203.0.113.1")
        .form(&[("email", "admin@example.vn"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_burst_of_wrong_passwords_is_counted_before_any_is_checked() {
    let app = spawn_with(|s| s.trusted_proxies = vec!["127.0.0.1".into()]).await;
    app.add_user("victim@example.vn", "designer").await;
    // Each attempt with its own sign-in form, then all sent at once.
    let mut ready = Vec::new();
    for _ in 0..16 {
        let c = client();
        let page = app.page(&c, "/staff/login").await;
        ready.push((c, csrf_of(&page)));
    }
    let mut runs = Vec::new();
    for (c, token) in ready {
        let url = app.url("/staff/login");
        runs.push(tokio::spawn(async move {
            c.post(url)
                .header("X-Forwarded-For", "192.0.2.44")
                .form(&[
                    ("email", "victim@example.vn"),
                    ("password", "wrong"),
                    ("csrf_token", &token),
                ])
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let (mut checked, mut refused) = (0, 0);
    for run in runs {
        match run.await.unwrap() {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            s => panic!("unexpected {s}"),
        }
    }
    // A limit of 5 per account; the address's first attempt is always
    // checked (it had no failure of its own), so at most 6.
    assert!(checked <= 6, "{checked} checked, {refused} refused");
    assert_eq!(checked + refused, 16);
}

#[tokio::test]
async fn a_trickling_chunked_body_is_cut_off_even_where_nobody_reads_it() {
    let app = spawn_with(|s| s.body_timeout_secs = 2).await;
    let authority = authority(&app);
    let mut runs = Vec::new();
    for path in [
        "/api/v1/campaigns/sipas-demo/responses",
        "/no-such-page",
        "/healthz",
    ] {
        let authority = authority.clone();
        runs.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(&authority).await.unwrap();
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
                 Transfer-Encoding: chunked\r\n\r\nEA60\r\n"
            );
            stream.write_all(head.as_bytes()).await.unwrap();
            (
                path,
                read_while_trickling(stream, Duration::from_secs(8)).await,
            )
        }));
    }
    for run in runs {
        let (path, t) = run.await.unwrap();
        let closed = t
            .closed_after
            .unwrap_or_else(|| panic!("{path} still open: {}", t.answer));
        assert!(
            closed < Duration::from_millis(4_000),
            "{path} closed after {closed:?}"
        );
    }
}

#[tokio::test]
async fn bodies_that_arrived_whole_keep_the_connection_alive() {
    let app = spawn_with(|s| s.body_timeout_secs = 2).await;
    let locality = sipas_locality(&app).await;
    let json = valid_body(&uuid::Uuid::new_v4().to_string(), &locality).to_string();
    let mut stream = TcpStream::connect(authority(&app)).await.unwrap();
    // Read by its handler; not read at all (an unknown page); no body.
    let requests = format!(
        "POST /api/v1/campaigns/sipas-demo/responses HTTP/1.1\r\nHost: x\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}\
         POST /no-such-page HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
         GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        json.len()
    );
    stream.write_all(requests.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("answered")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    let statuses: Vec<&str> = answer
        .match_indices("HTTP/1.1 ")
        .map(|(i, _)| &answer[i + 9..i + 12])
        .collect();
    assert_eq!(statuses, ["201", "404", "200"], "{answer}");
}
