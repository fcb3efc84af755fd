//! The kiosk in headless Chromium (see `browser.rs` for the driver): one
//! section per screen, offline after a reload (service worker), the queue
//! that drains once, the language link that keeps the answers.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use sea_orm::EntityTrait;
use serde_json::{Value, json};
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::browser::{Driver, Session, wait_for_count};
use crate::helpers::{TestApp, count, spawn_app_with_demo};
use crate::kiosk::register;

const ON_SCREEN: &str = "return Array.from(document.querySelectorAll('[data-section]')).filter(s => !s.hidden && !s.classList.contains('kiosk-off')).map(s => s.dataset.section)";
const QUEUED: &str = "return Object.keys(localStorage).filter(k => k.startsWith('hailong-kiosk-queue:')).map(k => JSON.parse(localStorage.getItem(k)).length).reduce((a, b) => a + b, 0)";
const FORM_SHOWN: &str = "return [document.getElementById('survey').hidden, document.querySelectorAll('#survey input:checked').length]";

/// Presses Next until the section `code` is the one on screen.
async fn kiosk_screen(s: &Session, code: &str) {
    for _ in 0..12 {
        if s.script(ON_SCREEN).await == json!([code]) {
            return;
        }
        s.click("#kiosk-next").await;
    }
    panic!("section {code} never came on screen");
}

/// Presses Next to the last screen, then "send".
async fn kiosk_send(s: &Session) {
    for _ in 0..12 {
        if s.script("return document.getElementById('kiosk-next').hidden")
            .await
            == json!(true)
        {
            s.click("button[value=submit]").await;
            return;
        }
        s.click("#kiosk-next").await;
    }
    panic!("no last screen");
}

fn hidden(css: &str) -> String {
    format!("return document.querySelector('{css}').hidden")
}

async fn rows(app: &TestApp) -> Vec<entity::response::Model> {
    let db = app.db.connect().await;
    entity::response::Entity::find().all(&db).await.unwrap()
}

#[tokio::test]
async fn a_kiosk_serves_two_respondents_and_sends_offline_answers_later() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = spawn_app_with_demo().await;
    let (token, _) = register(&app).await;
    let db = app.db.connect().await;
    let before = count(&db, "responses").await;
    let existing: HashSet<String> = rows(&app).await.into_iter().map(|r| r.id).collect();
    let s = driver.session(true).await;
    s.go(&app.url(&format!("/k/{token}"))).await;

    // First respondent.
    s.click("label[for=q-sex-F]").await;
    s.click("label[for=q-age_group-18-34]").await;
    s.click("#kiosk-next").await;
    s.click("label[for=q-e1_1-5]").await;
    kiosk_send(&s).await;
    assert_eq!(s.script(&hidden("#kiosk-thanks")).await, json!(false));
    wait_for_count(&app, before + 1, 15).await;
    // Back to a blank first screen after the thank-you (6 s): the next person
    // sees no previous answers.
    s.wait_until(FORM_SHOWN, json!([false, 0]), 20).await;
    assert_eq!(s.script(ON_SCREEN).await, json!(["about"]));

    // Second respondent: a conditional question appears without the network.
    s.click("label[for=q-sex-M]").await;
    s.click("label[for=q-age_group-55plus]").await;
    kiosk_screen(&s, "e5").await;
    assert_eq!(s.script(&hidden("[data-q=e5_3]")).await, json!(true));
    s.click("label[for=q-e5_gave-yes]").await;
    assert_eq!(s.script(&hidden("[data-q=e5_3]")).await, json!(false));
    s.click("label[for=q-e5_3-4]").await;
    kiosk_send(&s).await;
    wait_for_count(&app, before + 2, 15).await;
    s.wait_until(FORM_SHOWN, json!([false, 0]), 20).await;

    // Third respondent while the network is down: queued, then sent.
    s.offline(true).await;
    s.click("label[for=q-sex-F]").await;
    s.click("label[for=q-age_group-35-54]").await;
    kiosk_send(&s).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(
        s.script(QUEUED).await,
        json!(1),
        "kept in the browser while offline"
    );
    assert_eq!(count(&db, "responses").await, before + 2);
    s.offline(false).await;
    wait_for_count(&app, before + 3, 40).await;
    s.wait_until(QUEUED, json!(0), 10).await;
    let new_rows: Vec<_> = rows(&app)
        .await
        .into_iter()
        .filter(|r| !existing.contains(&r.id))
        .collect();
    assert_eq!(new_rows.len(), 3);
    assert!(new_rows.iter().all(|r| r.channel == "kiosk"));
    assert!(new_rows.iter().any(|r| r.answers.contains("\"e5_3\":4")));
    s.close().await;
}

/// The kiosk's condition script in a real browser: a section gated by a
/// compound condition, a cascading list, a constraint with its own message
/// checked before sending, and a read-only default stored.
#[tokio::test]
async fn the_kiosk_evaluates_section_conditions_cascading_lists_and_constraints() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = spawn_app_with_demo().await;
    crate::conditions::add_logic_section(&app).await;
    let (token, _) = register(&app).await;
    let db = app.db.connect().await;
    let before = count(&db, "responses").await;
    let s = driver.session(true).await;
    s.go(&app.url(&format!("/k/{token}"))).await;
    assert_eq!(s.script(&hidden("[data-section=x]")).await, json!(true));
    s.click("label[for=q-sex-F]").await;
    s.click("label[for=q-age_group-35-54]").await;
    assert_eq!(s.script(&hidden("[data-section=x]")).await, json!(false));
    kiosk_screen(&s, "x").await;
    assert_eq!(
        s.script(&hidden("label[for=q-x_city-hn1]")).await,
        json!(true)
    );
    s.click("label[for=q-x_prov-hn]").await;
    assert_eq!(
        s.script(&hidden("label[for=q-x_city-hn1]")).await,
        json!(false)
    );
    assert_eq!(
        s.script(&hidden("label[for=q-x_city-sg1]")).await,
        json!(true)
    );
    s.click("label[for=q-x_city-hn1]").await;
    s.type_text("#q-x_code", "12a").await;
    s.click("button[value=submit]").await;
    // The question's own message, in the browser's language.
    let message = s
        .script("return document.getElementById('q-x_code-kerr').textContent")
        .await;
    assert!(
        message == json!("Ba chữ số") || message == json!("Three digits"),
        "{message}"
    );
    assert_eq!(s.script(&hidden("#kiosk-thanks")).await, json!(true));
    s.script("document.getElementById('q-x_code').value = '123'; return null")
        .await;
    s.click("button[value=submit]").await;
    wait_for_count(&app, before + 1, 15).await;
    assert!(
        rows(&app)
            .await
            .iter()
            .any(|r| r.answers.contains("\"x_city\":\"hn1\"")
                && r.answers.contains("\"x_code\":\"123\"")
                && r.answers.contains("\"x_ro\":\"fixed\"")),
        "the kiosk's answers are stored with the read-only default"
    );
    s.close().await;
}

/// One section per screen at tablet size: a progress bar, Next that refuses a
/// missing required answer with the message on that screen, Back that keeps
/// the answers, "send" only on the last screen, big targets and text; the
/// response is stored whole, and the next person starts on a blank first screen.
#[tokio::test]
async fn the_kiosk_shows_one_section_per_screen_and_next_checks_it() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = spawn_app_with_demo().await;
    let (token, _) = register(&app).await;
    let db = app.db.connect().await;
    let before = count(&db, "responses").await;
    let s = driver.session_sized(true, 800, 1280).await;
    s.go(&app.url(&format!("/k/{token}?lang=vi"))).await;

    let progress = "return [document.getElementById('kiosk-progress').hidden, \
         document.getElementById('kiosk-progress-text').textContent, \
         document.getElementById('kiosk-bar').value, document.getElementById('kiosk-bar').max]";
    assert_eq!(s.script(ON_SCREEN).await, json!(["about"]));
    assert_eq!(s.script(progress).await, json!([false, "Phần 1 / 7", 0, 7]));
    let buttons = "return ['#kiosk-back', '#kiosk-next', 'button[value=submit]'].map(c => document.querySelector(c).hidden)";
    assert_eq!(s.script(buttons).await, json!([true, false, true]));
    let sizes = "return [parseFloat(getComputedStyle(document.querySelector('[data-q=sex] legend')).fontSize), \
         document.getElementById('kiosk-next').getBoundingClientRect().height]";
    let sizes = s.script(sizes).await;
    assert!(sizes[0].as_f64().unwrap() >= 22.0, "question text {sizes}");
    assert!(sizes[1].as_f64().unwrap() >= 56.0, "Next button {sizes}");

    // Next with a required answer missing: refused, the message on this screen.
    s.click("label[for=q-sex-F]").await;
    s.click("#kiosk-next").await;
    assert_eq!(s.script(ON_SCREEN).await, json!(["about"]));
    assert_eq!(
        s.script("return !!document.getElementById('q-age_group-kerr')")
            .await,
        json!(true)
    );
    assert_eq!(s.script(&hidden("#kiosk-check")).await, json!(false));
    s.click("label[for=q-age_group-18-34]").await;
    s.click("#kiosk-next").await;
    assert_eq!(s.script(ON_SCREEN).await, json!(["e1"]));
    assert_eq!(s.script(progress).await, json!([false, "Phần 2 / 7", 1, 7]));
    assert_eq!(s.script(buttons).await, json!([false, false, true]));
    // The faces of a scale share one row that fills the width.
    let row = "return Array.from(document.querySelectorAll('[data-q=e1_1] .choice:not(.aside)')).map(c => Math.round(c.getBoundingClientRect().top))";
    let tops = s.script(row).await;
    let tops = tops.as_array().unwrap();
    assert_eq!(tops.len(), 5);
    assert!(tops.iter().all(|t| *t == tops[0]), "one row: {tops:?}");
    s.click("label[for=q-e1_1-4]").await;
    // Back keeps the answers.
    s.click("#kiosk-back").await;
    assert_eq!(s.script(ON_SCREEN).await, json!(["about"]));
    assert_eq!(
        s.script("return document.getElementById('q-age_group-18-34').checked")
            .await,
        json!(true)
    );
    kiosk_screen(&s, "e2").await;
    s.click("label[for=q-e2_1-5]").await;
    kiosk_screen(&s, "comments").await;
    assert_eq!(s.script(buttons).await, json!([false, true, false]));
    assert_eq!(s.script(progress).await, json!([false, "Phần 7 / 7", 6, 7]));
    s.type_text("#q-comment", "Nhanh").await;
    s.click("button[value=submit]").await;
    assert_eq!(s.script(&hidden("#kiosk-thanks")).await, json!(false));
    wait_for_count(&app, before + 1, 15).await;
    assert!(
        rows(&app).await.iter().any(|r| r.channel == "kiosk"
            && r.answers.contains("\"sex\":\"F\"")
            && r.answers.contains("\"e1_1\":4")
            && r.answers.contains("\"e2_1\":5")
            && r.answers.contains("\"comment\":\"Nhanh\"")),
        "every answer stored"
    );
    s.wait_until(FORM_SHOWN, json!([false, 0]), 20).await;
    assert_eq!(s.script(ON_SCREEN).await, json!(["about"]));
    assert_eq!(
        s.script("return document.getElementById('q-comment').value")
            .await,
        json!("")
    );
    s.close().await;
}

/// The language link mid-kiosk: the same screen in the other language with
/// the answers given, then nothing kept (the next person cannot get them back).
#[tokio::test]
async fn the_kiosk_language_link_keeps_the_answers_once() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = spawn_app_with_demo().await;
    let (token, _) = register(&app).await;
    let db = app.db.connect().await;
    let before = count(&db, "responses").await;
    let s = driver.session(true).await;
    s.go(&app.url(&format!("/k/{token}?lang=vi"))).await;
    s.click("label[for=q-sex-M]").await;
    s.click("label[for=q-age_group-35-54]").await;
    s.click("#kiosk-next").await;
    s.click("label[for=q-e1_2-2]").await;
    let lang = "return document.documentElement.lang";
    assert_eq!(s.script(lang).await, json!("vi"));
    s.click("header a.lang").await;
    s.wait_until(lang, json!("en"), 10).await;
    s.wait_until(ON_SCREEN, json!(["e1"]), 10).await;
    let checked =
        "return Array.from(document.querySelectorAll('#survey input:checked')).map(i => i.id)";
    assert_eq!(
        s.script(checked).await,
        json!(["q-sex-M", "q-age_group-35-54", "q-e1_2-2"])
    );
    assert_eq!(
        s.script("return sessionStorage.length").await,
        json!(0),
        "nothing kept once restored"
    );
    // A reload now starts blank: the answers are not kept twice.
    s.go(&app.url(&format!("/k/{token}?lang=en"))).await;
    s.wait_until(ON_SCREEN, json!(["about"]), 10).await;
    assert_eq!(s.script(checked).await, json!([]));
    // The in-form language button works the same way.
    s.click("label[for=q-sex-F]").await;
    s.click("label[for=q-age_group-18-34]").await;
    s.click(".inform-lang button").await;
    s.wait_until(lang, json!("vi"), 10).await;
    s.wait_until(checked, json!(["q-sex-F", "q-age_group-18-34"]), 10)
        .await;
    kiosk_send(&s).await;
    wait_for_count(&app, before + 1, 15).await;
    assert_eq!(s.script("return sessionStorage.length").await, json!(0));
    s.close().await;
}

/// A TCP relay in front of the app that can be cut: while it is down, every
/// connection (open ones too) closes at once, which is how a lost network
/// looks to the page and to its service worker alike (Chromium's offline
/// emulation applies to the page, not to the worker's own fetches).
struct Relay {
    address: String,
    up: watch::Sender<bool>,
}

impl Relay {
    async fn start(app: &TestApp) -> Relay {
        let target: SocketAddr = app.address.trim_start_matches("http://").parse().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let (up, watching) = watch::channel(true);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut watching = watching.clone();
                if !*watching.borrow() {
                    continue; // dropped: closed at once
                }
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = watching.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Relay { address, up }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    fn set(&self, up: bool) {
        self.up.send_replace(up);
    }
}

/// Loaded online, then the network goes down and the tablet reloads: the
/// service worker shows the form from its cache, two people answer, their
/// answers wait in the queue, and both arrive exactly once when the network
/// returns.
#[tokio::test]
async fn a_kiosk_reloaded_offline_collects_two_responses_that_arrive_once() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = spawn_app_with_demo().await;
    let (token, _) = register(&app).await;
    let relay = Relay::start(&app).await;
    let db = app.db.connect().await;
    let before = count(&db, "responses").await;
    let existing: HashSet<String> = rows(&app).await.into_iter().map(|r| r.id).collect();
    let s = driver.session(true).await;
    let page = format!("/k/{token}");
    s.go(&relay.url(&page)).await;
    s.wait_until(
        "return !!navigator.serviceWorker.controller",
        json!(true),
        15,
    )
    .await;
    // The worker has the page (in each language), the stylesheet and scripts.
    let cached = "const done = arguments[arguments.length - 1]; \
        caches.open('hailong-kiosk-v1').then(c => c.keys()).then(ks => done(ks.map(r => { \
        const u = new URL(r.url); return u.pathname + u.search; }).sort()))";
    let mut keys = Value::Null;
    let want = json!([
        page.clone(),
        format!("{page}?lang=en"),
        format!("{page}?lang=vi"),
        "/static/app.css",
        "/static/conditions.js",
        "/static/kiosk.js"
    ]);
    for _ in 0..100 {
        keys = s.client.execute_async(cached, vec![]).await.unwrap();
        if keys == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(keys, want);

    // The network goes down (for the page and for the worker), the tablet reloads.
    relay.set(false);
    assert!(
        reqwest::get(relay.url(&page)).await.is_err(),
        "the network is really down"
    );
    s.offline(true).await;
    s.client.refresh().await.unwrap();
    s.wait_until(ON_SCREEN, json!(["about"]), 15).await;
    assert_eq!(
        s.script("return [!!navigator.serviceWorker.controller, navigator.onLine, !!document.querySelector('#survey[data-endpoint]')]")
            .await,
        json!([true, false, true]),
        "the form, from the worker's cache"
    );
    assert_eq!(
        s.script("return getComputedStyle(document.getElementById('kiosk-next')).minHeight")
            .await,
        json!("72px"),
        "the stylesheet, from the cache too"
    );
    for (sex, age) in [("F", "18-34"), ("M", "55plus")] {
        s.click(&format!("label[for=q-sex-{sex}]")).await;
        s.click(&format!("label[for=q-age_group-{age}]")).await;
        s.click("#kiosk-next").await;
        s.click("label[for=q-e1_1-3]").await;
        kiosk_send(&s).await;
        s.wait_until(FORM_SHOWN, json!([false, 0]), 20).await;
    }
    assert_eq!(s.script(QUEUED).await, json!(2), "both queued");
    assert_eq!(count(&db, "responses").await, before);

    // Back online: both arrive, once.
    relay.set(true);
    s.offline(false).await;
    wait_for_count(&app, before + 2, 40).await;
    s.wait_until(QUEUED, json!(0), 15).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(count(&db, "responses").await, before + 2, "no duplicates");
    let new_rows: Vec<_> = rows(&app)
        .await
        .into_iter()
        .filter(|r| !existing.contains(&r.id))
        .collect();
    assert_eq!(new_rows.len(), 2);
    for who in ["\"sex\":\"F\"", "\"sex\":\"M\""] {
        assert_eq!(
            new_rows.iter().filter(|r| r.answers.contains(who)).count(),
            1,
            "{who} once"
        );
    }
    assert!(new_rows.iter().all(|r| r.channel == "kiosk"));
    s.close().await;
}
