//! Hostile input to every public (unauthenticated) endpoint: malformed and
//! wrongly typed bodies, bodies over the limits, deeply nested JSON, invalid
//! UTF-8, overlong fields, huge numbers, NUL bytes, SQL/HTML/template
//! injection-shaped strings, path traversal, bad query strings and headers,
//! and malformed HTTP. Every answer must come in time and be below 500 (a 4xx
//! where the input is malformed), nothing may be stored, anything echoed in a
//! page must be escaped, and `/healthz` must be healthy afterwards.

use std::time::Duration;

use chrono::Utc;
use entity::invitation;
use reqwest::{Client, Method, StatusCode};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{TestApp, count};
use crate::responses::{sipas_locality, valid_body};

/// No answer may take longer than this.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Injection-shaped strings. The markers (`hl`) let a test tell an escaped
/// echo from an interpreted one.
const INJECTIONS: [&str; 12] = [
    "<script>alert(\"hl\")</script>",
    "\"><img src=x onerror=alert(\"hl\")>",
    "{{ 7*7 }}hl{% if true %}hl-{% endif %}tpl",
    "${7*7}hl #{7*7}hl",
    "' OR '1'='1' --",
    "'; DROP TABLE responses; --",
    "\" OR \"\"=\"",
    "../../../../etc/passwd",
    "..\\..\\..\\windows\\win.ini",
    "%00%ff%2e%2e%2f",
    "a\u{0}b",
    "\u{202e}\u{feff}\u{fffd}𝕳𝖆𝖎",
];

/// What must never appear in any answer: a marker left unescaped in a page,
/// or evaluated by a template engine, or a file read through a traversal.
const NEVER: [&str; 7] = [
    "<script>alert(\"hl\")",
    "<img src=x onerror=alert(\"hl\")>",
    "49hl",
    "hl-tpl",
    "root:x:0:0",
    "[workspace]",
    "[fonts]",
];

/// Every table a public request could write to (result caches excepted:
/// a public results page may fill them).
const TABLES: [&str; 14] = [
    "responses",
    "staff_users",
    "staff_sessions",
    "password_resets",
    "api_tokens",
    "audit_log",
    "invitations",
    "kiosks",
    "campaigns",
    "campaign_localities",
    "questionnaires",
    "questionnaire_versions",
    "localities",
    "result_targets",
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Want {
    /// A 4xx.
    Refused,
    /// Anything but a 5xx (e.g. a page shown again with its messages).
    Answered,
}

struct Sweep {
    app: TestApp,
    db: DatabaseConnection,
    http: Client,
    kiosk: String,
    invitation: String,
    locality: String,
    before: Vec<i64>,
    checked: usize,
}

impl Sweep {
    async fn new() -> Sweep {
        // QR codes are drawn only with a configured address.
        Sweep::on(
            crate::helpers::spawn_with(|s| s.base_url = Some("https://khaosat.example.vn".into()))
                .await,
        )
        .await
    }

    async fn on(app: TestApp) -> Sweep {
        let (kiosk, locality) = crate::kiosk::register(&app).await;
        let db = app.db.connect().await;
        let sipas = hailong::services::campaigns::by_slug(&db, "sipas-demo")
            .await
            .unwrap();
        let key = crate::invitation_privacy::key_of(&app);
        let nonce = "ab".repeat(32);
        let invitation = hailong::services::invitations::token_for(&key, &nonce);
        invitation::ActiveModel {
            campaign_id: Set(sipas.campaign.id),
            email: Set("invited@example.vn".into()),
            lookup_hash: Set(Some(hailong::services::invitations::lookup_hash(
                &key,
                &invitation,
            ))),
            nonce: Set(nonce),
            sent: Set(true),
            reminded: Set(false),
            created_on: Set(Utc::now().date_naive()),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        assert_eq!(locality, sipas_locality(&app).await);
        let mut before = Vec::new();
        for t in TABLES {
            before.push(count(&db, t).await);
        }
        let http = Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Sweep {
            app,
            db,
            http,
            kiosk,
            invitation,
            locality,
            before,
            checked: 0,
        }
    }

    /// Sends one request and checks its answer.
    async fn send(
        &mut self,
        what: &str,
        req: reqwest::RequestBuilder,
        want: Want,
    ) -> (u16, String) {
        let res = req
            .timeout(TIMEOUT)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: no answer in time: {e}"));
        let status = res.status();
        let html = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("text/html"));
        let bytes = res.bytes().await.unwrap_or_default();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        self.checked += 1;
        assert!(
            !status.is_server_error(),
            "{what}: {status}: {}",
            body.chars().take(400).collect::<String>()
        );
        if want == Want::Refused {
            assert!(
                status.is_client_error(),
                "{what}: {status} where a 4xx was due"
            );
        }
        assert_clean(what, &body);
        if html {
            assert!(body.contains("</html>"), "{what}: a page cut short");
        }
        (status.as_u16(), body)
    }

    fn url(&self, path: &str) -> String {
        self.app.url(path)
    }

    async fn get(&mut self, path: &str, want: Want) -> (u16, String) {
        let req = self.http.get(self.url(path));
        self.send(&format!("GET {path}"), req, want).await
    }

    async fn post(&mut self, path: &str, ct: Option<&str>, body: Vec<u8>, want: Want) -> u16 {
        let mut req = self.http.post(self.url(path)).body(body);
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        self.send(&format!("POST {path} ({ct:?})"), req, want)
            .await
            .0
    }

    /// Nothing was stored anywhere and the service is healthy.
    async fn finish(self) {
        for (t, before) in TABLES.iter().zip(&self.before) {
            assert_eq!(count(&self.db, t).await, *before, "rows stored in {t}");
        }
        let res = self.http.get(self.url("/healthz")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let health: Value = res.json().await.unwrap();
        assert_eq!(health, json!({"status": "ok", "database": "ok"}));
        // The service still does its job.
        let list: Vec<Value> = self
            .http
            .get(self.url("/api/v1/campaigns"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(!list.is_empty());
        eprintln!("hostile sweep: {} answers checked", self.checked);
    }
}

fn assert_clean(what: &str, body: &str) {
    for never in NEVER {
        assert!(
            !body.contains(never),
            "{what}: the answer contains {never:?}: {}",
            body.chars().take(400).collect::<String>()
        );
    }
}

/// Percent-encodes everything but unreserved characters.
fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Bodies that are not acceptable JSON submissions, each with what it is.
fn bad_json_bodies(locality: &str) -> Vec<(String, Vec<u8>)> {
    let id = "6f1c1f7e-3f5b-4b53-9d1e-6a1c8f0b2a11";
    let mut out: Vec<(String, Vec<u8>)> = [
        "",
        "{",
        "}",
        "{\"a\":}",
        "[]",
        "null",
        "\"text\"",
        "42",
        "{} {}",
        "{\"a\":1,}",
        "{'submission_id':'x'}",
        "{\"answers\": NaN}",
        "{/* comment */}",
        "{\"a\":\"\\ud800\"}",
        "{\"a\":\"\\u0000\"",
        "{\"e1_1\": 1e999}",
        "{\"sex\":\"F\",\"sex\":\"M\"}",
    ]
    .iter()
    .map(|s| (format!("malformed {s:?}"), s.as_bytes().to_vec()))
    .collect();
    let valid = valid_body(id, locality).to_string();
    out.push((
        "BOM".into(),
        [&b"\xEF\xBB\xBF"[..], valid.as_bytes()].concat(),
    ));
    out.push((
        "invalid UTF-8".into(),
        [
            &b"{\"submission_id\":\""[..],
            id.as_bytes(),
            b"\",\"locality\":\"\xff\xfe\"}",
        ]
        .concat(),
    ));
    out.push((
        "overlong UTF-8 and a surrogate".into(),
        [
            &b"{\"submission_id\":\""[..],
            id.as_bytes(),
            b"\",\"locality\":\"\xC0\xAF\xED\xA0\x80\"}",
        ]
        .concat(),
    ));
    out.push(("a raw NUL byte".into(), b"{\"a\":\"\0\"}".to_vec()));
    out.push((
        "NUL after the object".into(),
        [valid.as_bytes(), b"\0"].concat(),
    ));
    // Deep nesting within the size limit: 30,000 levels of arrays, 10,000 of objects.
    out.push((
        "30,000 nested arrays".into(),
        format!(
            "{{\"submission_id\":\"{id}\",\"locality\":\"{locality}\",\"answers\":{{\"comment\":{}{}}}}}",
            "[".repeat(30_000),
            "]".repeat(30_000)
        )
        .into_bytes(),
    ));
    out.push((
        "10,000 nested objects".into(),
        format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000)).into_bytes(),
    ));
    out
}

/// Well-formed JSON submissions that break the rules (422 expected).
fn invalid_submissions(locality: &str) -> Vec<(String, Value)> {
    let id = "6f1c1f7e-3f5b-4b53-9d1e-6a1c8f0b2a11";
    let mut out = Vec::new();
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = valid_body(id, locality);
        // Never complete: no answer to the required age group.
        v["answers"].as_object_mut().unwrap().remove("age_group");
        f(&mut v);
        v
    };
    for (i, s) in INJECTIONS.iter().enumerate() {
        out.push((
            format!("injection {i} as id"),
            with(&|v| v["submission_id"] = json!(s)),
        ));
        out.push((
            format!("injection {i} as locality"),
            with(&|v| v["locality"] = json!(s)),
        ));
        out.push((
            format!("injection {i} as channel"),
            with(&|v| v["channel"] = json!(s)),
        ));
        out.push((
            format!("injection {i} as an answer"),
            with(&|v| v["answers"]["sex"] = json!(s)),
        ));
        out.push((
            format!("injection {i} as a scale answer"),
            with(&|v| v["answers"]["e1_1"] = json!(s)),
        ));
        out.push((
            format!("injection {i} as a comment"),
            with(&|v| v["answers"]["comment"] = json!(s)),
        ));
        out.push((
            format!("injection {i} as a key"),
            with(&|v| v["answers"][*s] = json!(1)),
        ));
        out.push((
            format!("injection {i} as a top key"),
            with(&|v| v[*s] = json!(s)),
        ));
    }
    for n in [
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1e308),
        json!(-0.0),
        json!(4.0),
        json!("4"),
        json!([4]),
        json!({"value": 4}),
        json!(null),
        json!(true),
    ] {
        out.push((
            format!("scale answer {n}"),
            with(&|v| v["answers"]["e1_1"] = n.clone()),
        ));
    }
    out.push((
        "123456789012345678901234567890 as an answer".into(),
        with(&|v| {
            v["answers"]["e1_1"] = serde_json::from_str("123456789012345678901234567890").unwrap()
        }),
    ));
    out.push((
        "overlong comment".into(),
        with(&|v| v["answers"]["comment"] = json!("ệ".repeat(5_001))),
    ));
    out.push((
        "overlong id".into(),
        with(&|v| v["submission_id"] = json!("a".repeat(10_000))),
    ));
    out.push((
        "overlong locality".into(),
        with(&|v| v["locality"] = json!("9".repeat(50_000))),
    ));
    out.push((
        "a thousand unknown answers".into(),
        with(&|v| {
            for k in 0..1_000 {
                v["answers"][format!("x{k}")] = json!(k);
            }
        }),
    ));
    out.push((
        "answers not an object".into(),
        with(&|v| v["answers"] = json!([1, 2])),
    ));
    out.push(("answers null".into(), with(&|v| v["answers"] = json!(null))));
    out.push((
        "id as a number".into(),
        with(&|v| v["submission_id"] = json!(12345)),
    ));
    out.push(("complete but at an unknown locality".into(), {
        let mut v = valid_body(id, locality);
        v["locality"] = json!("<script>alert(\"hl\")</script>");
        v
    }));
    out
}

#[tokio::test]
async fn hostile_json_submissions_are_refused_and_store_nothing() {
    let mut s = Sweep::new().await;
    let locality = s.locality.clone();
    let endpoints = [
        "/api/v1/campaigns/sipas-demo/responses".to_owned(),
        format!("/k/{}/responses", s.kiosk),
    ];
    for path in &endpoints {
        for (what, body) in bad_json_bodies(&locality) {
            let status = s
                .post(path, Some("application/json"), body, Want::Refused)
                .await;
            assert!([400, 413, 422].contains(&status), "{path} {what}: {status}");
        }
        for (what, body) in invalid_submissions(&locality) {
            let status = s
                .post(
                    path,
                    Some("application/json"),
                    body.to_string().into_bytes(),
                    Want::Refused,
                )
                .await;
            assert_eq!(status, 422, "{path} {what}");
        }
        let valid = valid_body("6f1c1f7e-3f5b-4b53-9d1e-6a1c8f0b2a11", &locality)
            .to_string()
            .into_bytes();
        // Wrong or missing content types: 415, whatever the body.
        for ct in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/json; charset=latin1"),
            Some("application/jsonx"),
            Some("<script>alert(\"hl\")</script>"),
        ] {
            let status = s.post(path, ct, b"{}".to_vec(), Want::Refused).await;
            assert_eq!(status, 415, "{path} {ct:?}");
        }
        // Over the 64 KiB limit: declared, and streamed without a length.
        let mut big = valid_body("6f1c1f7e-3f5b-4b53-9d1e-6a1c8f0b2a11", &locality);
        big["answers"]["comment"] = json!("x".repeat(64 * 1024));
        let status = s
            .post(
                path,
                Some("application/json"),
                big.to_string().into_bytes(),
                Want::Refused,
            )
            .await;
        assert_eq!(status, 413, "{path}");
        let status = s
            .post(
                path,
                Some("application/json"),
                format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
                Want::Refused,
            )
            .await;
        assert_eq!(status, 413, "{path}: 100,000 levels of nesting");
        // Wrong methods.
        for m in [Method::GET, Method::PUT, Method::DELETE, Method::PATCH] {
            let req = s.http.request(m.clone(), s.url(path)).body(valid.clone());
            s.send(&format!("{m} {path}"), req, Want::Refused).await;
        }
    }
    // Hostile campaign slugs and kiosk tokens: 404 with a valid body.
    let valid = valid_body("6f1c1f7e-3f5b-4b53-9d1e-6a1c8f0b2a11", &locality).to_string();
    let long = "a".repeat(8_000);
    for slug in INJECTIONS
        .iter()
        .copied()
        .chain([long.as_str(), "%00", " ", "sipas-demo "])
    {
        for path in [
            format!("/api/v1/campaigns/{}/responses", enc(slug)),
            format!("/k/{}/responses", enc(slug)),
        ] {
            let status = s
                .post(
                    &path,
                    Some("application/json"),
                    valid.clone().into_bytes(),
                    Want::Refused,
                )
                .await;
            assert_eq!(status, 404, "{path}");
        }
    }
    s.finish().await;
}

/// Form bodies that must never be stored (the survey is never complete).
fn hostile_forms(complete_elsewhere: bool) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let sid = "sid=6f1c1f7e-3f5b-4b53-9d1e-6a1c8f0b2a11";
    for (i, s) in INJECTIONS.iter().enumerate() {
        let v = enc(s);
        for field in [
            "l",
            "step",
            "sid",
            "nav",
            "seen",
            "a.sex",
            "a.e1_1",
            "a.comment",
            "a.e5_gave",
        ] {
            out.push((
                format!("injection {i} in {field}"),
                format!("{sid}&step=all&l=00000&a.e1_1=4&{field}={v}").into_bytes(),
            ));
        }
        out.push((
            format!("injection {i} as a field name"),
            format!("{sid}&step=all&{v}={v}").into_bytes(),
        ));
    }
    if complete_elsewhere {
        // Everything answered but the locality is hostile: shown again, never stored.
        out.push((
            "complete with a hostile locality".into(),
            format!(
                "{sid}&step=all&l={}&a.sex=F&a.age_group=18-34&a.e1_1=4&a.e5_gave=no&nav=next",
                enc("<script>alert(\"hl\")</script>")
            )
            .into_bytes(),
        ));
    }
    for (what, body) in [
        (
            "huge number",
            "step=all&a.e1_1=99999999999999999999999999999".to_owned(),
        ),
        (
            "negative huge number",
            format!("step=all&a.e1_1=-{}", "9".repeat(400)),
        ),
        (
            "overlong comment",
            format!("step=all&a.comment={}", "x".repeat(200_000)),
        ),
        ("10,000 repeated fields", "a.e1_1=1&".repeat(10_000)),
        (
            "30,000 brackets",
            format!("step=all&a.comment={}", "%5B".repeat(30_000)),
        ),
        (
            "bad percent escapes",
            "a.comment=%zz%&%=%%&=&&&==".to_owned(),
        ),
        (
            "section out of range",
            format!("{sid}&step=section-99999999999999999999&nav=next"),
        ),
        (
            "section overflow",
            format!("{sid}&step=section-18446744073709551615&nav=back"),
        ),
        (
            "language switch to nowhere",
            format!("{sid}&nav=lang-{}", enc("<script>alert(\"hl\")</script>")),
        ),
        (
            "NUL in every field",
            "sid=%00&l=%00&step=%00&nav=%00&a.comment=%00".to_owned(),
        ),
        ("empty", String::new()),
    ] {
        out.push((what.to_owned(), body.into_bytes()));
    }
    out
}

#[tokio::test]
async fn hostile_survey_kiosk_and_invitation_forms_store_nothing() {
    let mut s = Sweep::new().await;
    let pages = [
        "/s/sipas-demo".to_owned(),
        "/s/health-demo".to_owned(),
        format!("/k/{}", s.kiosk),
        format!("/i/{}", s.invitation),
    ];
    let form = Some("application/x-www-form-urlencoded");
    for page in &pages {
        let kiosk = page.starts_with("/k/");
        for (what, body) in hostile_forms(!kiosk) {
            let before = s.checked;
            s.post(page, form, body, Want::Answered).await;
            assert_eq!(s.checked, before + 1, "{page} {what}");
        }
        // Malformed: 400, 413, 415.
        for (what, ct, body, status) in [
            (
                "invalid UTF-8 escaped",
                form,
                b"a.comment=%FF%FE".to_vec(),
                400,
            ),
            (
                "invalid UTF-8 raw",
                form,
                b"a.comment=\xff\xfe".to_vec(),
                400,
            ),
            ("overlong UTF-8", form, b"a.comment=%C0%AF".to_vec(), 400),
            (
                "JSON to a form",
                Some("application/json"),
                b"{}".to_vec(),
                415,
            ),
            ("no content type", None, b"a=1".to_vec(), 415),
            ("text", Some("text/plain"), b"a=1".to_vec(), 415),
            (
                "over 256 KiB",
                form,
                format!("a.comment={}", "x".repeat(300_000)).into_bytes(),
                413,
            ),
        ] {
            let got = s.post(page, ct, body, Want::Refused).await;
            assert_eq!(got, status, "{page} {what}");
        }
    }
    // Unknown, hostile or NUL slugs and tokens: 404 pages.
    let long = "b".repeat(8_000);
    for t in INJECTIONS.iter().copied().chain([long.as_str(), "%00"]) {
        for page in [
            format!("/s/{}", enc(t)),
            format!("/k/{}", enc(t)),
            format!("/i/{}", enc(t)),
        ] {
            let got = s
                .post(&page, form, b"nav=next".to_vec(), Want::Refused)
                .await;
            assert_eq!(got, 404, "{page}");
        }
    }
    s.post(
        &format!("/k/{}", "0".repeat(64)),
        form,
        b"nav=next".to_vec(),
        Want::Refused,
    )
    .await;
    s.post(
        &format!("/i/{}", "c".repeat(64)),
        form,
        b"nav=next".to_vec(),
        Want::Refused,
    )
    .await;
    s.finish().await;
}

#[tokio::test]
async fn hostile_paths_queries_and_headers_on_public_pages_never_fail() {
    let mut s = Sweep::new().await;
    let k = s.kiosk.clone();
    let i = s.invitation.clone();
    let l = s.locality.clone();
    let mut answered = vec![
        "/".to_owned(),
        "/healthz".to_owned(),
        "/readyz".to_owned(),
        "/livez".to_owned(),
        "/metrics".to_owned(),
        "/static/app.css".to_owned(),
        "/static/kiosk.js".to_owned(),
        "/api/v1/campaigns".to_owned(),
        "/api/v1/openapi.json".to_owned(),
        "/s/sipas-demo".to_owned(),
        format!("/s/sipas-demo?l={l}"),
        "/s/sipas-demo/thanks".to_owned(),
        "/s/sipas-demo/qr.svg".to_owned(),
        "/s/sipas-demo/qr.png".to_owned(),
        format!("/k/{k}"),
        format!("/k/{k}/thanks"),
        format!("/i/{i}"),
        "/staff/login".to_owned(),
        "/staff/password-reset".to_owned(),
    ];
    for r in [
        "",
        "/localities",
        "/forest",
        "/ranks",
        "/compare",
        "/results.csv",
        "/results.xlsx",
    ] {
        answered.push(format!("/results/sipas-demo{r}"));
    }
    answered.push(format!("/results/sipas-demo/locality/{l}"));
    for r in ["results", "compare", "targets"] {
        answered.push(format!("/api/v1/campaigns/sipas-demo/{r}"));
    }
    // Each page, plain and with hostile query strings.
    for page in &answered {
        s.get(page, Want::Answered).await;
        for inj in INJECTIONS {
            let v = enc(inj);
            let q = format!(
                "{page}{}lang={v}&l={v}&level={v}&index={v}&sort={v}&next={v}&a={v}&b={v}&{v}={v}",
                if page.contains('?') { "&" } else { "?" }
            );
            s.get(&q, Want::Answered).await;
        }
        for q in [
            "?%ZZ=%&&&==&",
            "?l=%FF%FE&level=%C0%AF",
            "?level=1&level=2&index=a&index=b",
            "?index=%00&level=%00&sort=%00",
        ] {
            s.get(&format!("{page}{q}"), Want::Answered).await;
        }
        let long = format!("{page}?l={}", "9".repeat(6_000));
        s.get(&long, Want::Answered).await;
    }
    // Unknown or hostile resources: 4xx.
    let long = "c".repeat(6_000);
    for t in INJECTIONS
        .iter()
        .copied()
        .chain([long.as_str(), "%00", "%FF%FE"])
    {
        let t = if t.starts_with('%') {
            t.to_owned()
        } else {
            enc(t)
        };
        for path in [
            format!("/s/{t}"),
            format!("/s/{t}/thanks"),
            format!("/s/{t}/qr.svg"),
            format!("/s/{t}/qr.png"),
            format!("/k/{t}"),
            format!("/k/{t}/thanks"),
            format!("/i/{t}"),
            format!("/results/{t}"),
            format!("/results/{t}/results.csv"),
            format!("/results/sipas-demo/locality/{t}"),
            format!("/api/v1/campaigns/{t}/results"),
            format!("/api/v1/campaigns/{t}/targets"),
            format!("/staff/password-reset/{t}"),
            format!("/lang/{t}?next=/"),
            format!("/static/{t}"),
            format!("/{t}"),
        ] {
            s.get(&path, Want::Refused).await;
        }
    }
    // Path traversal, encoded so the client does not resolve it.
    for path in [
        "/static/..%2F..%2FCargo.toml",
        "/static/%2e%2e/%2e%2e/Cargo.toml",
        "/s/..%2F..%2F..%2Fetc%2Fpasswd",
        "/results/..%2F..%2FCargo.toml/results.csv",
        "/k/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    ] {
        s.get(path, Want::Refused).await;
    }
    // The language switch and the sign-in page with hostile `next`.
    for next in [
        "/%0d%0aSet-Cookie:%20hl=1",
        "/%00",
        "/staff%0aX:%201",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "%2F%2Fevil.example",
    ] {
        let (status, _) = s
            .get(&format!("/lang/en?next={next}"), Want::Answered)
            .await;
        assert_eq!(status, 303, "/lang/en?next={next}");
        let res = s
            .http
            .get(s.url(&format!("/lang/en?next={next}")))
            .send()
            .await
            .unwrap();
        let location = res.headers()["location"].to_str().unwrap();
        assert!(
            location.starts_with('/') && !location.starts_with("//") && !location.contains('\\'),
            "{next} -> {location}"
        );
        assert!(
            res.headers()
                .get_all("set-cookie")
                .iter()
                .all(|c| !c.to_str().unwrap_or("").starts_with("hl="))
        );
        s.get(&format!("/staff/login?next={next}"), Want::Answered)
            .await;
    }
    // Hostile headers.
    let long = "x".repeat(6_000);
    for path in [
        "/",
        "/s/sipas-demo",
        "/s/sipas-demo/qr.svg",
        "/s/sipas-demo/qr.png",
        "/api/v1/campaigns",
    ] {
        for (name, value) in [
            ("accept-language", long.as_str()),
            (
                "accept-language",
                "en;q=NaN, vi;q=-1, *;q=99999999999999999999",
            ),
            ("accept-language", "<script>alert(\"hl\")</script>"),
            ("cookie", "hailong_lang=<script>; hailong_session=%00%FF; x"),
            ("cookie", long.as_str()),
            ("host", long.as_str()),
            ("host", "<script>alert(\"hl\")</script>"),
            ("x-forwarded-for", "' OR 1=1 --, 999.999.999.999"),
            ("x-forwarded-proto", "javascript"),
            ("forwarded", "for=\"<script>\";proto=gopher;host=\"evil\""),
        ] {
            let req = s.http.get(s.url(path)).header(name, value);
            s.send(&format!("GET {path} with {name}"), req, Want::Answered)
                .await;
        }
    }
    s.finish().await;
}

#[tokio::test]
async fn hostile_sign_in_and_password_reset_input_changes_nothing() {
    let (app, _inbox) = crate::helpers::spawn_with_outbox(|settings| {
        settings.base_url = Some("https://khaosat.example.vn".into());
    })
    .await;
    let mut s = Sweep::on(app).await;
    let form = Some("application/x-www-form-urlencoded");
    // Without the CSRF cookie: 403, whatever the body.
    for path in ["/staff/login", "/staff/password-reset"] {
        for inj in INJECTIONS {
            let body = format!("email={0}&password={0}&csrf_token={0}&next={0}", enc(inj));
            s.post(path, form, body.into_bytes(), Want::Refused).await;
        }
    }
    // With a valid CSRF pair: hostile emails, passwords and `next`.
    let c = Client::builder()
        .cookie_store(true)
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let csrf_of = |html: &str| crate::helpers::csrf_of(html);
    let long = "x".repeat(100_000);
    // NUL first: sign-in failures are limited per address (20), and a
    // limited request never reaches the database.
    let mut values: Vec<String> = vec![
        "\0".into(),
        "admin@example.vn\0".into(),
        long.clone(),
        String::new(),
    ];
    values.extend(INJECTIONS.iter().map(|v| v.to_string()));
    for (n, v) in values.iter().enumerate() {
        for path in ["/staff/login", "/staff/password-reset"] {
            let page = c
                .get(s.url(path))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let token = csrf_of(&page);
            let req = c.post(s.url(path)).form(&[
                ("email", v.as_str()),
                ("password", if n % 2 == 0 { v.as_str() } else { "x" }),
                ("csrf_token", token.as_str()),
                ("next", v.as_str()),
            ]);
            let (status, _) = s
                .send(&format!("POST {path} with value {n}"), req, Want::Answered)
                .await;
            assert_ne!(status, 303, "{path} with value {n} signed in");
        }
    }
    // Malformed bodies with a valid CSRF cookie.
    for path in ["/staff/login", "/staff/password-reset"] {
        for (what, ct, body) in [
            ("invalid UTF-8", form, b"email=%FF%FE&csrf_token=x".to_vec()),
            (
                "JSON",
                Some("application/json"),
                b"{\"email\":\"x\"}".to_vec(),
            ),
            ("no content type", None, b"email=x".to_vec()),
            (
                "over 256 KiB",
                form,
                format!("email={}", "x".repeat(300_000)).into_bytes(),
            ),
            (
                "duplicate fields",
                form,
                b"email=a&email=b&csrf_token=x&csrf_token=y".to_vec(),
            ),
        ] {
            let mut req = c.post(s.url(path)).body(body);
            if let Some(ct) = ct {
                req = req.header("content-type", ct);
            }
            s.send(&format!("POST {path} {what}"), req, Want::Refused)
                .await;
        }
    }
    // Setting a password through a link that does not exist.
    for t in INJECTIONS.iter().copied().chain(["%00"]) {
        let path = format!("/staff/password-reset/{}", enc(t));
        let body = format!("password={0}&password_confirm={0}&csrf_token=x", enc(t));
        s.post(&path, form, body.into_bytes(), Want::Refused).await;
    }
    let path = format!("/staff/password-reset/{}", "d".repeat(64));
    s.post(&path, form, b"password=x".to_vec(), Want::Refused)
        .await;
    // No account exists, so nothing may have been stored: no session, no
    // reset link, no audit line.
    s.finish().await;
}

/// Sends raw bytes over TCP; returns the status of the answer, or None when
/// the server closed the connection without one. Panics on a hang.
async fn raw(address: &str, request: &[u8]) -> Option<u16> {
    let host = address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let _ = stream.write_all(request).await;
    let mut buf = Vec::new();
    let read = tokio::time::timeout(TIMEOUT, async {
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "no answer in time to {:?}",
        String::from_utf8_lossy(&request[..request.len().min(120)])
    );
    let text = String::from_utf8_lossy(&buf);
    text.strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
}

#[tokio::test]
async fn malformed_http_gets_a_4xx_or_a_closed_connection() {
    let s = Sweep::new().await;
    let big_header = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(100_000)
    );
    let requests: Vec<(&str, Vec<u8>)> = vec![
        ("traversal", b"GET /static/../../../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("traversal to the repository", b"GET /static/../Cargo.toml HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("backslash traversal", b"GET /static/..\\..\\Cargo.toml HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("invalid UTF-8 path", b"GET /s/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("NUL in the path", b"GET /s/sipas\0demo HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("garbage request line", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n".to_vec()),
        ("no version", b"GET /\r\n\r\n".to_vec()),
        ("unknown method", b"BREW /s/sipas-demo HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("100 KB header", big_header.into_bytes()),
        ("NUL in a header", b"GET / HTTP/1.1\r\nHost: x\r\nAccept-Language: e\0n\r\n\r\n".to_vec()),
        (
            "declared length over the limit",
            b"POST /api/v1/campaigns/sipas-demo/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\n\r\n{".to_vec(),
        ),
        (
            "length that is not a number",
            b"POST /api/v1/campaigns/sipas-demo/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n{}".to_vec(),
        ),
        (
            "length past u64",
            b"POST /api/v1/campaigns/sipas-demo/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999999999999999\r\n\r\n{}".to_vec(),
        ),
        (
            "two lengths",
            b"POST /s/sipas-demo HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\na=1".to_vec(),
        ),
        (
            "chunked with a bad size",
            b"POST /api/v1/campaigns/sipas-demo/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n".to_vec(),
        ),
        (
            "chunked with a huge size",
            b"POST /api/v1/campaigns/sipas-demo/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n".to_vec(),
        ),
        (
            "400 KB chunked, no length",
            [
                &b"POST /api/v1/campaigns/sipas-demo/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
                &format!("1000\r\n{}\r\n", " ".repeat(4096)).repeat(100).into_bytes(),
                b"0\r\n\r\n",
            ]
            .concat(),
        ),
        (
            "length and chunked together",
            b"POST /s/sipas-demo HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(),
        ),
    ];
    for (what, request) in requests {
        let status = raw(&s.app.address, &request).await;
        match status {
            // A large but well-formed request may be served.
            Some(code) if what == "100 KB header" => assert!(code < 500, "{what}: {code}"),
            Some(code) => assert!((400..500).contains(&code), "{what}: {code}"),
            None => {}
        }
    }
    s.finish().await;
}
