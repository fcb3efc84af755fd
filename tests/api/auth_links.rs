//! Links from configuration only, password reset (poisoning, timing, single
//! use, revocation of older links), revocation of tokens and sessions,
//! anti-forgery on the cookie-authenticated JSON API, and who may claim
//! which channel on the public submission API (issue 13).

use std::time::{Duration, Instant};

use hailong::services::audit::Actor;
use hailong::services::staff as staff_service;
use qrcode::QrCode;
use qrcode::render::svg;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Inbox, PASSWORD, Received, TestApp, client, count, csrf_of, decoded, smtp_on, spawn_with,
    spawn_with_outbox, start_slow_sink,
};
use crate::responses::{sipas_locality, valid_body};

const BASE: &str = "https://khaosat.example.vn";
const RESET_PATH: &str = "/staff/password-reset";

/// An app whose mail goes to an in-memory outbox, with the given `base_url`.
async fn app_with_mail(base_url: Option<&str>) -> (TestApp, Inbox) {
    let base_url = base_url.map(str::to_owned);
    spawn_with_outbox(move |s| {
        s.mail_from = "Hailong <no-reply@example.vn>".into();
        s.base_url = base_url;
    })
    .await
}

/// Requests a reset for `email` with extra headers; the response.
async fn request_reset(
    app: &TestApp,
    c: &Client,
    email: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let token = app.page_csrf(c, RESET_PATH).await;
    let mut req = c
        .post(app.url(RESET_PATH))
        .form(&[("email", email), ("csrf_token", token.as_str())]);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap()
}

/// The absolute reset link in a quoted-printable message.
fn reset_link(message: &Received) -> String {
    let text = decoded(&message.data);
    let at = text.find("/staff/password-reset/").expect("a reset link");
    let start = text[..at]
        .rfind(char::is_whitespace)
        .map(|i| i + 1)
        .unwrap_or(0);
    let end = at + "/staff/password-reset/".len() + 64;
    text[start..end].to_owned()
}

/// Sets a new password through a reset link (its path); the status.
async fn use_link(app: &TestApp, c: &Client, path: &str, password: &str) -> StatusCode {
    let html = c.get(app.url(path)).send().await.unwrap();
    if html.status() != StatusCode::OK {
        return html.status();
    }
    let token = csrf_of(&html.text().await.unwrap());
    c.post(app.url(path))
        .form(&[
            ("new_password", password),
            ("confirm_password", password),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

fn path_of(link: &str) -> String {
    link.strip_prefix(BASE)
        .expect("a link on base_url")
        .to_owned()
}

#[tokio::test]
async fn reset_links_are_built_from_base_url_whatever_the_host_headers_say() {
    let (app, inbox) = app_with_mail(Some(BASE)).await;
    app.add_user("admin2@example.vn", "admin").await;
    let forged: [&[(&str, &str)]; 4] = [
        &[("Host", "evil.example")],
        &[
            ("X-Forwarded-Host", "evil.example"),
            ("X-Forwarded-Proto", "http"),
        ],
        &[("Forwarded", "host=evil.example;proto=http")],
        &[
            ("Host", "evil.example"),
            ("X-Forwarded-Host", "evil.example"),
            ("Forwarded", "for=1.2.3.4;host=evil.example;proto=http"),
        ],
    ];
    let c = client();
    for (n, headers) in forged.iter().enumerate() {
        let res = request_reset(&app, &c, "admin2@example.vn", headers).await;
        assert_eq!(res.status(), StatusCode::OK, "{headers:?}");
        let messages = inbox.wait_for(n + 1).await;
        let link = reset_link(&messages[n]);
        assert!(
            link.starts_with(&format!("{BASE}/staff/password-reset/")),
            "{headers:?} gave {link}"
        );
        assert!(!messages[n].data.contains("evil"), "{headers:?}");
    }
}

#[tokio::test]
async fn without_base_url_the_reset_page_refuses_and_no_mail_is_sent() {
    let (app, inbox) = app_with_mail(None).await;
    app.add_user("lost@example.vn", "designer").await;
    let c = client();
    let form = c.get(app.url(RESET_PATH)).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    assert!(
        form.text()
            .await
            .unwrap()
            .contains("chưa cấu hình địa chỉ công khai (base_url)"),
        "the form says why before anyone types"
    );
    for headers in [
        &[][..],
        &[("Host", "evil.example")][..],
        &[("X-Forwarded-Host", "evil.example")][..],
    ] {
        let res = request_reset(&app, &c, "lost@example.vn", headers).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        let html = res.text().await.unwrap();
        assert!(
            html.contains("chưa cấu hình địa chỉ công khai (base_url)"),
            "the page says why: {html}"
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        inbox.messages().await.is_empty(),
        "no mail without base_url"
    );
    let db = app.db.connect().await;
    assert_eq!(count(&db, "password_resets").await, 0);
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::test]
async fn reset_requests_take_the_same_time_for_known_and_unknown_accounts() {
    let (port, inbox) = start_slow_sink(Duration::from_millis(100));
    // A real SMTP server: the time a slow one takes must not show in the answer.
    let app = spawn_with(move |s| {
        smtp_on(s, port);
        s.base_url = Some(BASE.into());
    })
    .await;
    // Nine of each, every address once (per-account limits stay out of
    // it), 18 requests in all (under the per-address limit of 20).
    const N: usize = 9;
    for i in 0..N {
        app.add_user(&format!("known{i}@example.vn"), "analyst")
            .await;
    }
    let c = client();
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..N {
        for is_known in [i % 2 == 0, i % 2 == 1] {
            let email = if is_known {
                format!("known{i}@example.vn")
            } else {
                format!("nobody{i}@example.vn")
            };
            let token = app.page_csrf(&c, RESET_PATH).await;
            let started = Instant::now();
            let res = c
                .post(app.url(RESET_PATH))
                .form(&[("email", email.as_str()), ("csrf_token", token.as_str())])
                .send()
                .await
                .unwrap();
            let status = res.status();
            let _ = res.bytes().await.unwrap();
            let took = started.elapsed();
            assert_eq!(status, StatusCode::OK, "{email}");
            if is_known { &mut known } else { &mut unknown }.push(took);
            // Let the background work (lookup, link, a mail that takes the
            // slow server 200 ms) finish before the next measurement, so
            // neither kind of request pays for the other's.
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
    }
    let (k, u) = (median(known), median(unknown));
    let (lo, hi) = (k.min(u), k.max(u));
    assert!(
        hi - lo < Duration::from_millis(20),
        "medians known {k:?}, unknown {u:?}"
    );
    assert!(
        hi < lo.max(Duration::from_millis(5)) * 2,
        "medians known {k:?}, unknown {u:?}"
    );
    // The known accounts did get their mail (after the answer).
    inbox.wait_for(N).await;
}

#[tokio::test]
async fn a_reset_link_used_concurrently_works_exactly_once() {
    let (app, inbox) = app_with_mail(Some(BASE)).await;
    app.add_user("race@example.vn", "designer").await;
    let c = client();
    request_reset(&app, &c, "race@example.vn", &[]).await;
    let link = path_of(&reset_link(&inbox.wait_for(1).await[0]));
    let token = app.page_csrf(&c, &link).await;
    let attempts = (0..8).map(|i| {
        let c = c.clone();
        let url = app.url(&link);
        let token = token.clone();
        async move {
            let password = format!("a new passphrase number {i}");
            let status = c
                .post(url)
                .form(&[
                    ("new_password", password.as_str()),
                    ("confirm_password", password.as_str()),
                    ("csrf_token", token.as_str()),
                ])
                .send()
                .await
                .unwrap()
                .status();
            (status, password)
        }
    });
    let results = futures_util::future::join_all(attempts).await;
    let winners: Vec<&(StatusCode, String)> = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::SEE_OTHER)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|(s, _)| *s == StatusCode::SEE_OTHER || *s == StatusCode::NOT_FOUND),
        "{results:?}"
    );
    // The password is the winner's.
    let db = app.db.connect().await;
    let user = staff_service::by_email(&db, "race@example.vn")
        .await
        .unwrap()
        .unwrap();
    assert!(hailong::auth::password::verify(
        &winners[0].1,
        &user.password_hash
    ));
}

#[tokio::test]
async fn a_newer_reset_link_voids_the_older_one() {
    let (app, inbox) = app_with_mail(Some(BASE)).await;
    app.add_user("twice@example.vn", "designer").await;
    let c = client();
    request_reset(&app, &c, "twice@example.vn", &[]).await;
    let older = path_of(&reset_link(&inbox.wait_for(1).await[0]));
    request_reset(&app, &c, "twice@example.vn", &[]).await;
    let newer = path_of(&reset_link(&inbox.wait_for(2).await[1]));
    assert_ne!(older, newer);
    assert_eq!(
        use_link(&app, &c, &older, "the older link's passphrase").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        use_link(&app, &c, &newer, "the newer link's passphrase").await,
        StatusCode::SEE_OTHER
    );
    // Used once: gone.
    assert_eq!(
        use_link(&app, &c, &newer, "yet another passphrase").await,
        StatusCode::NOT_FOUND
    );
    // A refused password does not spend a link.
    request_reset(&app, &c, "twice@example.vn", &[]).await;
    let third = path_of(&reset_link(&inbox.wait_for(3).await[2]));
    assert_eq!(
        use_link(&app, &c, &third, "short").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        use_link(&app, &c, &third, "a long enough passphrase").await,
        StatusCode::SEE_OTHER
    );
}

/// A fresh API token of the account.
async fn token_of(app: &TestApp, email: &str) -> String {
    let db = app.db.connect().await;
    let user = staff_service::by_email(&db, email).await.unwrap().unwrap();
    staff_service::create_token(&db, &Actor::cli(), user.id, "script")
        .await
        .unwrap()
        .1
}

/// The status of `GET /api/v1/staff/me` with this token.
async fn me_with(app: &TestApp, token: &str) -> StatusCode {
    client()
        .get(app.url("/api/v1/staff/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

/// The status of a staff page with this signed-in client (303: signed out).
async fn staff_home(app: &TestApp, c: &Client) -> StatusCode {
    c.get(app.url("/staff")).send().await.unwrap().status()
}

#[tokio::test]
async fn a_password_change_revokes_api_tokens_and_sessions() {
    let (app, _inbox) = app_with_mail(Some(BASE)).await;
    app.add_user("changer@example.vn", "designer").await;
    let token = token_of(&app, "changer@example.vn").await;
    let other_session = app.login("changer@example.vn").await;
    assert_eq!(me_with(&app, &token).await, StatusCode::OK);
    let c = app.login("changer@example.vn").await;
    let csrf = app.page_csrf(&c, "/staff/account").await;
    let res = c
        .post(app.url("/staff/account/password"))
        .form(&[
            ("current_password", PASSWORD),
            ("new_password", "another long passphrase"),
            ("confirm_password", "another long passphrase"),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(me_with(&app, &token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        staff_home(&app, &other_session).await,
        StatusCode::SEE_OTHER
    );
    // A token made afterwards works.
    let fresh = token_of(&app, "changer@example.vn").await;
    assert_eq!(me_with(&app, &fresh).await, StatusCode::OK);
}

#[tokio::test]
async fn a_password_reset_revokes_api_tokens_and_sessions() {
    let (app, inbox) = app_with_mail(Some(BASE)).await;
    app.add_user("resetter@example.vn", "analyst").await;
    let token = token_of(&app, "resetter@example.vn").await;
    let session = app.login("resetter@example.vn").await;
    assert_eq!(me_with(&app, &token).await, StatusCode::OK);
    let c = client();
    request_reset(&app, &c, "resetter@example.vn", &[]).await;
    let link = path_of(&reset_link(&inbox.wait_for(1).await[0]));
    assert_eq!(
        use_link(&app, &c, &link, "a reset passphrase here").await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(me_with(&app, &token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(staff_home(&app, &session).await, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn deactivation_revokes_api_tokens_and_sessions_and_reactivation_does_not_restore_them() {
    let (app, _inbox) = app_with_mail(Some(BASE)).await;
    app.add_user("boss@example.vn", "admin").await;
    app.add_user("leaver@example.vn", "field_manager").await;
    let token = token_of(&app, "leaver@example.vn").await;
    let session = app.login("leaver@example.vn").await;
    assert_eq!(me_with(&app, &token).await, StatusCode::OK);
    let db = app.db.connect().await;
    let id = staff_service::by_email(&db, "leaver@example.vn")
        .await
        .unwrap()
        .unwrap()
        .id;
    let admin = app.login("boss@example.vn").await;
    let set_active = async |active: bool| {
        let csrf = app.page_csrf(&admin, "/staff/users").await;
        let mut form = vec![("role", "field_manager"), ("csrf_token", csrf.as_str())];
        if active {
            form.push(("active", "on"));
        }
        let res = admin
            .post(app.url(&format!("/staff/users/{id}")))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    };
    set_active(false).await;
    assert_eq!(me_with(&app, &token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(staff_home(&app, &session).await, StatusCode::SEE_OTHER);
    set_active(true).await;
    assert_eq!(
        me_with(&app, &token).await,
        StatusCode::UNAUTHORIZED,
        "reactivation brings no old token back"
    );
    assert_eq!(staff_home(&app, &session).await, StatusCode::SEE_OTHER);
    // The account itself works again.
    let again = app.login("leaver@example.vn").await;
    assert_eq!(staff_home(&app, &again).await, StatusCode::OK);
}

fn small_questionnaire() -> Value {
    json!({
        "code": "csrfcheck",
        "title": {"vi": "Khảo sát nhỏ", "en": "Small survey"},
        "sections": [{
            "code": "s1",
            "title": {"vi": "Phần 1"},
            "questions": [
                {"code": "q1", "type": "scale", "required": true, "label": {"vi": "Hài lòng không?"},
                 "min": 1, "max": 3, "points": [
                    {"value": 1, "label": {"vi": "Không"}},
                    {"value": 2, "label": {"vi": "Bình thường"}},
                    {"value": 3, "label": {"vi": "Có"}}],
                 "index": {"element": "E1", "criterion": "C1", "satisfied_min": 3}}
            ]
        }],
        "indices": [{"code": "IDX", "name": {"vi": "Chỉ số"}, "aggregation": "mean_of_criteria",
            "elements": [{"code": "E1", "name": {"vi": "Yếu tố 1"}, "criteria": [{"code": "C1", "name": {"vi": "Tiêu chí 1"}}]}]}]
    })
}

#[tokio::test]
async fn cookie_authenticated_api_changes_need_the_anti_forgery_header() {
    let app = spawn_with(|_| {}).await;
    app.add_user("maker@example.vn", "designer").await;
    let c = app.login("maker@example.vn").await;
    let db = app.db.connect().await;
    let before = count(&db, "questionnaires").await;
    // Reading with the cookie needs nothing more.
    let res = c
        .get(app.url("/api/v1/questionnaires"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // A change without the header (what a forged cross-site request sends).
    for wrong in [None, Some("not-the-token")] {
        let mut req = c
            .post(app.url("/api/v1/questionnaires"))
            .header("Accept-Language", "en")
            .json(&small_questionnaire());
        if let Some(v) = wrong {
            req = req.header("X-CSRF-Token", v);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{wrong:?}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "forbidden");
        assert_eq!(body["message"], "You are not allowed to do this.");
    }
    assert_eq!(count(&db, "questionnaires").await, before);
    // The session's CSRF token (as staff pages carry it) lets it through.
    let csrf = app.page_csrf(&c, "/staff/account").await;
    let res = c
        .post(app.url("/api/v1/questionnaires"))
        .header("X-CSRF-Token", csrf)
        .json(&small_questionnaire())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(count(&db, "questionnaires").await, before + 1);
}

async fn submit(app: &TestApp, channel: &str, token: Option<&str>) -> reqwest::Response {
    let locality = sipas_locality(app).await;
    let mut body = valid_body(&uuid::Uuid::new_v4().to_string(), &locality);
    body["channel"] = json!(channel);
    let mut req = client()
        .post(app.url("/api/v1/campaigns/sipas-demo/responses"))
        .header("Accept-Language", "en")
        .json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

async fn field_codes(res: reqwest::Response) -> Vec<String> {
    let body: Value = res.json().await.unwrap();
    body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert!(!f["message"].as_str().unwrap().is_empty());
            format!(
                "{}:{}",
                f["field"].as_str().unwrap(),
                f["code"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn the_public_api_accepts_only_the_channels_its_caller_may_claim() {
    let app = spawn_with(|_| {}).await;
    app.add_user("field@example.vn", "field_manager").await;
    app.add_user("boss@example.vn", "admin").await;
    app.add_user("numbers@example.vn", "analyst").await;
    let field = token_of(&app, "field@example.vn").await;
    let admin = token_of(&app, "boss@example.vn").await;
    let analyst = token_of(&app, "numbers@example.vn").await;
    let db = app.db.connect().await;
    let stored = |channel: &'static str| {
        let db = db.clone();
        async move {
            use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
            entity::response::Entity::find()
                .filter(entity::response::Column::Channel.eq(channel))
                .count(&db)
                .await
                .unwrap()
        }
    };
    let before = count(&db, "responses").await;
    let (kiosk0, email0) = (stored("kiosk").await, stored("email").await);
    let (interview0, paper0) = (stored("interview").await, stored("paper").await);

    // Anyone: web and api.
    for channel in ["web", "api"] {
        let was = stored(if channel == "web" { "web" } else { "api" }).await;
        assert_eq!(
            submit(&app, channel, None).await.status(),
            StatusCode::CREATED
        );
        let now = stored(if channel == "web" { "web" } else { "api" }).await;
        assert_eq!(now, was + 1, "{channel}");
    }
    // Never here: kiosk and email (their own routes only), even with a token.
    for (channel, token) in [
        ("kiosk", None),
        ("email", None),
        ("kiosk", Some(admin.as_str())),
        ("email", Some(field.as_str())),
    ] {
        let res = submit(&app, channel, token).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{channel}");
        assert_eq!(field_codes(res).await, ["channel:channel_own_route"]);
    }
    // Interview and paper: a field manager's or an administrator's token.
    for channel in ["interview", "paper"] {
        let res = submit(&app, channel, None).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{channel}");
        assert_eq!(
            field_codes(res).await,
            ["channel:channel_needs_field_token"]
        );
        let res = submit(&app, channel, Some(&analyst)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{channel} as analyst");
        let res = submit(&app, channel, Some("hl_not-a-real-token")).await;
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "{channel} bad token"
        );
    }
    assert_eq!(
        count(&db, "responses").await,
        before + 2,
        "refused: none stored"
    );
    assert_eq!(
        submit(&app, "interview", Some(&field)).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        submit(&app, "paper", Some(&admin)).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(stored("interview").await, interview0 + 1);
    assert_eq!(stored("paper").await, paper0 + 1);
    assert_eq!(
        (stored("kiosk").await, stored("email").await),
        (kiosk0, email0)
    );
}

/// The SVG the server draws for `url`.
fn qr_svg_of(url: &str) -> String {
    QrCode::new(url.as_bytes())
        .unwrap()
        .render::<svg::Color>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build()
}

#[tokio::test]
async fn qr_codes_come_from_base_url_whatever_the_host_headers_say() {
    let app = spawn_with(|s| s.base_url = Some(format!("{BASE}/"))).await;
    for headers in [
        &[][..],
        &[("Host", "evil.example")][..],
        &[
            ("X-Forwarded-Host", "evil.example"),
            ("X-Forwarded-Proto", "http"),
        ][..],
        &[("Forwarded", "host=evil.example;proto=http")][..],
    ] {
        let mut req = client().get(app.url("/s/sipas-demo/qr.svg"));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{headers:?}");
        assert!(
            res.headers()["cache-control"]
                .to_str()
                .unwrap()
                .starts_with("public")
        );
        assert_eq!(
            res.text().await.unwrap(),
            qr_svg_of(&format!("{BASE}/s/sipas-demo")),
            "{headers:?}"
        );
    }
}

#[tokio::test]
async fn without_base_url_qr_codes_are_drawn_only_for_allowed_hosts() {
    let app = spawn_with(|s| s.qr_hosts = vec!["192.168.1.10:8080".into()]).await;
    for headers in [
        &[][..],
        &[("Host", "evil.example")][..],
        &[("X-Forwarded-Host", "192.168.1.10:8080")][..],
        &[("Forwarded", "host=192.168.1.10:8080")][..],
    ] {
        for path in ["/s/sipas-demo/qr.svg", "/s/sipas-demo/qr.png"] {
            let mut req = client()
                .get(app.url(path))
                .header("Accept-Language", "en")
                .header("Cookie", "hailong_lang=en");
            for (name, value) in headers {
                req = req.header(*name, *value);
            }
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path} {headers:?}");
            let html = res.text().await.unwrap();
            assert!(html.contains("qr_hosts"), "the page says why: {html}");
        }
    }
    let res = client()
        .get(app.url("/s/sipas-demo/qr.svg"))
        .header("Host", "192.168.1.10:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("private")
    );
    assert_eq!(
        res.text().await.unwrap(),
        qr_svg_of("http://192.168.1.10:8080/s/sipas-demo")
    );
}

/// Registers a kiosk through the staff page with a forged Host; the page.
async fn register_kiosk_page(app: &TestApp) -> String {
    app.add_user("desk@example.vn", "field_manager").await;
    let c = app.login("desk@example.vn").await;
    let csrf = app.page_csrf(&c, "/staff/kiosks").await;
    let locality = sipas_locality(app).await;
    let res = c
        .post(app.url("/staff/kiosks"))
        .header("Host", "evil.example")
        .header("X-Forwarded-Host", "evil.example")
        .form(&[
            ("campaign", "sipas-demo"),
            ("locality", locality.as_str()),
            ("service", ""),
            ("label", "Quầy 9"),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.text().await.unwrap()
}

fn shown_kiosk_address(html: &str) -> String {
    let marker = "<code class=\"token-url\">";
    let at = html.find(marker).expect("the kiosk address") + marker.len();
    html[at..].split('<').next().unwrap().replace("&#x2f;", "/")
}

#[tokio::test]
async fn kiosk_addresses_shown_to_staff_come_from_base_url() {
    let app = spawn_with(|s| s.base_url = Some(BASE.into())).await;
    let html = register_kiosk_page(&app).await;
    let url = shown_kiosk_address(&html);
    assert!(url.starts_with(&format!("{BASE}/k/")), "{url}");
    assert!(!html.contains("evil"));

    let app = spawn_with(|_| {}).await;
    let html = register_kiosk_page(&app).await;
    let url = shown_kiosk_address(&html);
    assert!(url.starts_with("/k/"), "a path only: {url}");
    assert!(html.contains("base_url"), "says why");
    assert!(!html.contains("evil"));
}

/// Runs `hailong serve` with `args` until `/healthz` answers; its stderr and
/// the base address.
async fn serve_and_read_log(args: &[&str]) -> (String, String) {
    let db = crate::helpers::TestDb::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let err_path = db.dir.path().join("err.log");
    let mut child = std::process::Command::new(crate::helpers::hailong_bin())
        .arg("serve")
        .args(args)
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .arg("--database-url")
        .arg(&db.url)
        .current_dir(db.dir.path())
        .env_remove("HAILONG_DATABASE_URL")
        .env_remove("HAILONG_BASE_URL")
        .env("HAILONG_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::from(
            std::fs::File::create(&err_path).unwrap(),
        ))
        .spawn()
        .unwrap();
    let mut up = false;
    for _ in 0..150 {
        if client().get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let qr = if up && args.contains(&"--demo") {
        let res = client()
            .get(format!("{base}/s/sipas-demo/qr.svg"))
            .header("Host", "evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        Some(res.text().await.unwrap())
    } else {
        None
    };
    child.kill().ok();
    child.wait().ok();
    assert!(up, "server up");
    if let Some(svg) = qr {
        assert_eq!(svg, qr_svg_of(&format!("{base}/s/sipas-demo")));
    }
    (std::fs::read_to_string(&err_path).unwrap(), base)
}

#[tokio::test]
async fn serve_says_once_what_needs_base_url_and_demo_uses_the_bind_address() {
    let (log, _) = serve_and_read_log(&[]).await;
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("base_url is not set"))
        .collect();
    assert_eq!(warnings.len(), 1, "{log}");
    assert!(warnings[0].contains("password reset"), "{log}");

    let (log, base) = serve_and_read_log(&["--demo"]).await;
    assert!(!log.contains("base_url is not set"), "{log}");
    assert!(
        log.lines().any(|l| l.contains("demo") && l.contains(&base)),
        "{log}"
    );
}
