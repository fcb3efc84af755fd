//! Browser tests with headless Chromium through chromedriver (W3C WebDriver,
//! with the fantoccini client). They run only when `CHROMEDRIVER` names the driver
//! binary (`.ci/run` installs it and sets it); otherwise they say so and pass.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use url::Url;

use crate::helpers::{TestApp, count, spawn_app_with_demo};
use crate::responses::sipas_locality;

/// A chromedriver process on a free port; stopped when dropped.
pub(crate) struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    pub(crate) async fn start() -> Option<Driver> {
        let Ok(path) = std::env::var("CHROMEDRIVER") else {
            eprintln!("CHROMEDRIVER is not set: browser test skipped");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let status = format!("{}/status", driver.url);
        for _ in 0..100 {
            if let Ok(r) = reqwest::get(&status).await
                && r.status().is_success()
            {
                return Some(driver);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start");
    }

    /// A new headless Chromium at phone size (390×844), in Vietnamese.
    pub(crate) async fn session(&self, javascript: bool) -> Session {
        self.session_sized(javascript, 390, 844).await
    }

    /// A new headless Chromium at the given window size, in Vietnamese.
    pub(crate) async fn session_sized(&self, javascript: bool, width: u32, height: u32) -> Session {
        let mut options = json!({
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     format!("--window-size={width},{height}"), "--lang=vi"],
        });
        if let Ok(bin) = std::env::var("CHROME_BIN") {
            options["binary"] = json!(bin);
        }
        if !javascript {
            options["prefs"] = json!({"profile.managed_default_content_settings.javascript": 2});
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a WebDriver session");
        Session { client }
    }
}

/// Chromium's own command for network conditions (not part of W3C WebDriver).
#[derive(Debug)]
struct NetworkConditions {
    offline: bool,
}

impl WebDriverCompatibleCommand for NetworkConditions {
    fn endpoint(&self, base: &Url, session: Option<&str>) -> Result<Url, url::ParseError> {
        base.join(&format!(
            "session/{}/chromium/network_conditions",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &Url) -> (http::Method, Option<String>) {
        let body = json!({"network_conditions": {"offline": self.offline, "latency": 0,
            "download_throughput": -1, "upload_throughput": -1}});
        (http::Method::POST, Some(body.to_string()))
    }
}

/// One browser window, with the few steps these tests take.
pub(crate) struct Session {
    pub(crate) client: Client,
}

impl Session {
    /// Clicks a submit button and waits until the next page has replaced this one.
    pub(crate) async fn submit(&self, css: &str) {
        let old = self.find(css).await;
        old.click().await.expect("click");
        for _ in 0..100 {
            // The old page's button is stale once the next page is in.
            if old.tag_name().await.is_err() && self.client.find(Locator::Css("main")).await.is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no new page after clicking {css}");
    }

    pub(crate) async fn go(&self, url: &str) {
        self.client.goto(url).await.expect("goto");
    }

    pub(crate) async fn find(&self, css: &str) -> Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
    }

    pub(crate) async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    pub(crate) async fn type_text(&self, css: &str, text: &str) {
        self.find(css)
            .await
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    pub(crate) async fn script(&self, js: &str) -> Value {
        self.client.execute(js, vec![]).await.expect("script")
    }

    /// Runs an asynchronous script: it calls `arguments[arguments.length - 1]` with its
    /// result.
    pub(crate) async fn script_async(&self, js: &str) -> Value {
        self.client
            .execute_async(js, vec![])
            .await
            .expect("async script")
    }

    /// The browser's Back button.
    pub(crate) async fn back(&self) {
        self.client.back().await.expect("back");
    }

    pub(crate) async fn url(&self) -> String {
        self.client.current_url().await.expect("url").to_string()
    }

    pub(crate) async fn source(&self) -> String {
        self.client.source().await.expect("source")
    }

    pub(crate) async fn offline(&self, offline: bool) {
        self.client
            .issue_cmd(NetworkConditions { offline })
            .await
            .expect("network conditions");
    }

    /// Polls a script until it returns `expected` (or fails after `secs`).
    pub(crate) async fn wait_until(&self, js: &str, expected: Value, secs: u64) {
        let mut last = Value::Null;
        for _ in 0..secs * 10 {
            last = self.script(js).await;
            if last == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{js} gave {last}, expected {expected}");
    }

    /// The WebDriver client, for commands these helpers do not wrap.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) async fn close(self) {
        self.client.close().await.expect("close");
    }
}

pub(crate) async fn wait_for_count(app: &TestApp, expected: i64, secs: u64) {
    let db = app.db.connect().await;
    for _ in 0..secs * 10 {
        if count(&db, "responses").await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(count(&db, "responses").await, expected);
}

async fn fill_phone_survey(app: &TestApp, s: &Session, locality: &str) {
    s.go(&app.url("/s/sipas-demo")).await;
    s.click(&format!("option[value='{locality}']")).await;
    s.submit("button[value=next]").await;
    // Section "about": a required answer missing first.
    s.click("label[for=q-sex-F]").await;
    s.submit("button[value=next]").await;
    assert!(
        s.source().await.contains("q-age_group-err"),
        "message by the question"
    );
    s.click("label[for=q-age_group-18-34]").await;
    s.submit("button[value=next]").await;
    s.click("label[for=q-e1_1-4]").await;
    s.submit("button[value=next]").await;
    // Back, and the answer is still there.
    s.submit("button[value=back]").await;
    let checked = s.find("#q-e1_1-4").await.prop("checked").await.unwrap();
    assert_eq!(
        checked.as_deref(),
        Some("true"),
        "answer kept after going back"
    );
    for _ in 0..4 {
        s.submit("button[value=next]").await; // e1 → e2 → e3 → e4 → e5
    }
    assert!(s.source().await.contains("id=\"s-e5\""));
    s.click("label[for=q-e5_gave-yes]").await;
    s.submit("button[value=next]").await;
    s.click("label[for=q-e5_3-5]").await;
    s.submit("button[value=next]").await;
    s.type_text("#q-comment", "Tốt").await;
    s.submit("button[value=submit]").await;
    assert!(s.url().await.ends_with("/s/sipas-demo/thanks"));
}

#[tokio::test]
async fn a_phone_sized_browser_fills_the_survey_with_and_without_javascript() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = spawn_app_with_demo().await;
    let locality = sipas_locality(&app).await;
    let db = app.db.connect().await;
    let before = count(&db, "responses").await;
    for (i, javascript) in [false, true].into_iter().enumerate() {
        let s = driver.session(javascript).await;
        fill_phone_survey(&app, &s, &locality).await;
        s.close().await;
        wait_for_count(&app, before + 1 + i as i64, 15).await;
    }
}

/// A citizen presses Back and switches language mid-survey: every answer is kept (no
/// "Confirm form resubmission"), and the response is stored with all of them.
#[tokio::test]
async fn back_and_the_language_link_mid_survey_keep_every_answer() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = spawn_app_with_demo().await;
    let locality = sipas_locality(&app).await;
    let db = app.db.connect().await;
    let before = count(&db, "responses").await;
    let s = driver.session(false).await;
    s.go(&app.url("/s/sipas-demo")).await;
    s.click(&format!("option[value='{locality}']")).await;
    s.submit("button[value=next]").await;
    s.click("label[for=q-sex-F]").await;
    s.click("label[for=q-age_group-18-34]").await;
    s.submit("button[value=next]").await;
    s.click("label[for=q-e1_1-4]").await;
    s.submit("button[value=next]").await;
    s.click("label[for=q-e2_1-5]").await;
    s.submit("button[value=next]").await;
    // Back twice: section e1 with its answer, straight from the history.
    s.back().await;
    s.back().await;
    assert!(s.source().await.contains("id=\"s-e1\""), "back to e1");
    let checked = s.find("#q-e1_1-4").await.prop("checked").await.unwrap();
    assert_eq!(checked.as_deref(), Some("true"), "e1's answer kept");
    // The header's language link: the same page in the other language, answers kept.
    let lang = "return document.documentElement.lang";
    let was = s.script(lang).await;
    s.click("header a.lang").await;
    assert_ne!(s.script(lang).await, was, "the other language");
    assert!(s.source().await.contains("id=\"s-e1\""));
    let checked = s.find("#q-e1_1-4").await.prop("checked").await.unwrap();
    assert_eq!(
        checked.as_deref(),
        Some("true"),
        "kept across the language switch"
    );
    // On to the end.
    for _ in 0..12 {
        if s.url().await.ends_with("/thanks") {
            break;
        }
        let last = s.source().await.contains("value=\"submit\"");
        s.submit(if last {
            "button[value=submit]"
        } else {
            "button[value=next]"
        })
        .await;
    }
    assert!(s.url().await.ends_with("/s/sipas-demo/thanks"));
    s.close().await;
    wait_for_count(&app, before + 1, 15).await;
    let stored = entity::response::Entity::find().all(&db).await.unwrap();
    assert!(
        stored.iter().any(|r| r.answers.contains("\"e1_1\":4")
            && r.answers.contains("\"e2_1\":5")
            && r.answers.contains("\"sex\":\"F\"")),
        "every answer stored"
    );
}

/// The locality list is searchable as one types, without diacritics.
#[tokio::test]
async fn the_locality_list_finds_ba_dinh_typed_without_accents() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = spawn_app_with_demo().await;
    let s = driver.session(true).await;
    s.go(&app.url("/s/sipas-demo")).await;
    s.type_text("#locality-search", "ba dinh").await;
    let options = "return Array.from(document.querySelectorAll('#locality option')).filter(o => o.value).map(o => o.value)";
    assert_eq!(s.script(options).await, json!(["00004"]));
    assert_eq!(
        s.script("return document.getElementById('locality').value")
            .await,
        json!("00004"),
        "the one match is chosen"
    );
    s.submit("button[value=next]").await;
    assert!(s.source().await.contains("id=\"s-about\""));
    s.close().await;
}
