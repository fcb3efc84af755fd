//! Staff journeys that join up (issue 16): every staff page is reachable by links from the
//! dashboard, a campaign's hub shows what exists for it (fieldwork only as published), a
//! kiosk is registered by picking a locality and shown as a QR code, and the forms that
//! cannot work say why.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use scraper::{Html, Selector};

use crate::helpers::{TestApp, attr, attrs, browser_fields, count, spawn_with, text};
use crate::responses::{post_json, sipas_locality, valid_body};

const BASE: &str = "https://khaosat.example.vn";
const SLUG: &str = "sipas-demo";

/// A GET route under `/staff` as registered in the source: `(pattern, file)`.
type Route = (String, PathBuf);

/// The files whose routes are mounted in the `/staff` scope: every file of
/// `src/routes/staff/`, and the modules `staff/mod.rs` configures from elsewhere
/// (`crate::routes::results::staff::configure(cfg)`).
fn staff_route_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let staff = root.join("src/routes/staff");
    let mut files = Vec::new();
    walk(&staff, &mut files);
    let scope = std::fs::read_to_string(staff.join("mod.rs")).unwrap();
    for (at, _) in scope.match_indices("crate::routes::") {
        let rest = &scope[at + "crate::routes::".len()..];
        let path: Vec<&str> = rest
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .next()
            .unwrap()
            .split("::")
            .collect();
        if path.last() == Some(&"configure") && path.len() >= 2 {
            let module = path[..path.len() - 1].join("/");
            files.push(root.join(format!("src/routes/{module}.rs")));
        }
    }
    files.sort();
    files.dedup();
    files
}

/// The string literal that starts right after `from` in `text`.
fn literal_after(text: &str, from: usize) -> Option<String> {
    let rest = &text[from..];
    let open = rest.find('"')?;
    let close = rest[open + 1..].find('"')?;
    Some(rest[open + 1..open + 1 + close].to_owned())
}

/// Every GET route of the `/staff` scope, read from how handlers are registered:
/// `#[get("…")]` on a handler, or `web::resource("…")` with a `web::get()` route.
fn staff_get_routes() -> Vec<Route> {
    let mut routes = Vec::new();
    for file in staff_route_files() {
        let source = std::fs::read_to_string(&file).unwrap();
        for (at, _) in source.match_indices("#[get(") {
            let pattern = literal_after(&source, at).unwrap();
            routes.push((format!("/staff{pattern}"), file.clone()));
        }
        for (at, _) in source.match_indices("web::resource(") {
            let pattern = literal_after(&source, at).unwrap();
            // The resource's routes: up to the next resource or the statement's end.
            let rest = &source[at + "web::resource(".len()..];
            let end = rest
                .find("web::resource(")
                .into_iter()
                .chain(rest.find(';'))
                .min()
                .unwrap_or(rest.len());
            if rest[..end].contains("web::get()") {
                routes.push((format!("/staff{pattern}"), file.clone()));
            }
        }
    }
    routes.sort();
    routes.dedup();
    routes
}

/// Pages for visitors who are not signed in: a signed-in crawl never links to them (the
/// sign-in page links to the reset request; `tests/api/staff.rs` covers them).
const SIGNED_OUT: [&str; 3] = [
    "/staff/login",
    "/staff/password-reset",
    "/staff/password-reset/{token}",
];

/// `path` (without its query) is an address of `pattern` (`{name}` is one segment).
fn matches(pattern: &str, path: &str) -> bool {
    let (p, a): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), path.split('/').collect());
    p.len() == a.len()
        && p.iter()
            .zip(&a)
            .all(|(p, a)| p == a || (p.starts_with('{') && p.ends_with('}') && !a.is_empty()))
}

/// The same-origin staff address of a link on a page, without its fragment.
fn staff_link(app: &TestApp, href: &str) -> Option<String> {
    let href = href.split('#').next().unwrap_or_default();
    let href = href.strip_prefix(&app.address).unwrap_or(href);
    (href == "/staff" || href.starts_with("/staff/") || href.starts_with("/staff?"))
        .then(|| href.to_owned())
}

/// The addresses a browser may open from a page: links, and GET forms as sent with their
/// current values.
fn links_of(app: &TestApp, html: &str) -> Vec<String> {
    let mut out: Vec<String> = attrs(html, "a[href]", "href")
        .iter()
        .filter_map(|h| staff_link(app, h))
        .collect();
    let doc = Html::parse_document(html);
    let forms = Selector::parse("form").unwrap();
    for form in doc.select(&forms) {
        let method = form.value().attr("method").unwrap_or("get");
        if !method.eq_ignore_ascii_case("get") {
            continue;
        }
        let Some(action) = form.value().attr("action").and_then(|a| staff_link(app, a)) else {
            continue;
        };
        let fields = browser_fields(&form.html());
        let query: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", v.replace(' ', "+")))
            .collect();
        out.push(if query.is_empty() {
            action
        } else {
            format!("{action}?{}", query.join("&"))
        });
    }
    out
}

/// What a browser sends with the form `css` of a page (its own fields only).
fn form_fields(html: &str, css: &str) -> Vec<(String, String)> {
    let doc = Html::parse_document(html);
    let form = doc.select(&Selector::parse(css).unwrap()).next().unwrap();
    browser_fields(&form.html())
}

#[tokio::test]
async fn every_staff_page_is_reachable_by_links_from_the_dashboard() {
    let app = spawn_with(|s| s.base_url = Some(BASE.into())).await;
    app.add_user("admin@example.vn", "admin").await;
    let c = app.login("admin@example.vn").await;

    let routes = staff_get_routes();
    assert!(
        routes.len() >= 15,
        "the staff routes should be read from the source: {routes:?}"
    );
    // Follow links breadth-first from the dashboard; a few addresses per path are enough
    // (the per-locality posters differ only by `?l=`).
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut per_path: HashMap<String, usize> = HashMap::new();
    let mut queue = VecDeque::from([("/staff".to_owned(), "(start)".to_owned())]);
    let mut visited: Vec<String> = Vec::new();
    while let Some((url, from)) = queue.pop_front() {
        if !seen.insert(url.clone()) {
            continue;
        }
        let path = url.split('?').next().unwrap().to_owned();
        let n = per_path.entry(path.clone()).or_default();
        *n += 1;
        if *n > 3 {
            continue;
        }
        assert!(seen.len() < 600, "the crawl does not end");
        let res = c.get(app.url(&url)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{url} (linked from {from})");
        visited.push(path);
        let html = res
            .headers()
            .get("content-type")
            .is_some_and(|t| t.to_str().unwrap_or_default().starts_with("text/html"));
        if html {
            let body = res.text().await.unwrap();
            for link in links_of(&app, &body) {
                queue.push_back((link, url.clone()));
            }
        }
    }
    let missing: Vec<&Route> = routes
        .iter()
        .filter(|(pattern, _)| !SIGNED_OUT.contains(&pattern.as_str()))
        .filter(|(pattern, _)| !visited.iter().any(|path| matches(pattern, path)))
        .collect();
    assert!(
        missing.is_empty(),
        "staff pages no link leads to from /staff (link them, e.g. from the dashboard or a \
         campaign's hub): {missing:?}"
    );
}

#[test]
fn the_staff_routes_are_read_from_their_registration() {
    let routes: Vec<String> = staff_get_routes().into_iter().map(|(p, _)| p).collect();
    for expected in [
        "/staff",
        "/staff/kiosks",
        "/staff/campaigns/{slug}",
        "/staff/campaigns/{slug}/settings",
        "/staff/campaigns/{slug}/invitations",
        "/staff/campaigns/{slug}/targets",
        "/staff/campaigns/{slug}/poster",
    ] {
        assert!(
            routes.iter().any(|r| r == expected),
            "{expected}: {routes:?}"
        );
    }
    assert!(
        !routes.iter().any(|r| r == "/staff/kiosks/{id}/revoke"),
        "a POST only"
    );
    assert!(matches(
        "/staff/campaigns/{slug}",
        "/staff/campaigns/sipas-demo"
    ));
    assert!(!matches(
        "/staff/campaigns/{slug}",
        "/staff/campaigns/a/settings"
    ));
}

#[tokio::test]
async fn a_campaign_hub_links_everything_and_counts_only_as_published() {
    let app = spawn_with(|s| s.base_url = Some(BASE.into())).await;
    app.add_user("admin@example.vn", "admin").await;
    let c = app.login("admin@example.vn").await;
    let hub = format!("/staff/campaigns/{SLUG}");
    let html = app.page(&c, &hub).await;
    let hrefs = attrs(&html, "a[href]", "href");
    for page in [
        format!("/staff/kiosks?campaign={SLUG}"),
        format!("/staff/campaigns/{SLUG}/invitations"),
        format!("/staff/campaigns/{SLUG}/targets"),
        format!("/staff/campaigns/{SLUG}/reports"),
        format!("/results/{SLUG}"),
        format!("/staff/campaigns/{SLUG}/settings"),
        format!("/s/{SLUG}/qr.svg"),
        format!("{BASE}/s/{SLUG}"),
    ] {
        assert!(hrefs.contains(&page), "{page} on the hub: {hrefs:?}");
    }
    let locality = sipas_locality(&app).await;
    assert!(hrefs.contains(&format!("{BASE}/s/{SLUG}?l={locality}")));
    assert!(hrefs.contains(&format!("/staff/campaigns/{SLUG}/poster?l={locality}")));

    // The count is the latest publication's, not the live one: a new response changes
    // nothing until the next publication.
    let published = text(&html, "#hub-published");
    let db = app.db.connect().await;
    let before = count(&db, "responses").await;
    let id = uuid::Uuid::new_v4().to_string();
    let res = post_json(&app, &valid_body(&id, &locality)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(count(&db, "responses").await, before + 1);
    let again = app.page(&c, &hub).await;
    assert_eq!(text(&again, "#hub-published"), published);
    let cells = |h: &str| -> Vec<String> {
        let doc = Html::parse_document(h);
        let sel = Selector::parse("table.hub-localities td").unwrap();
        doc.select(&sel).map(|e| e.text().collect()).collect()
    };
    assert_eq!(cells(&again), cells(&html), "no live count on the hub");

    // The poster: the campaign's name, the locality's link and its QR code inline.
    let poster = app
        .page(&c, &format!("/staff/campaigns/{SLUG}/poster?l={locality}"))
        .await;
    assert!(text(&poster, ".poster-link").contains(&format!("{BASE}/s/{SLUG}?l={locality}")));
    assert_eq!(attr(&poster, ".poster-qr svg", "role"), "img");
    let qr = c
        .get(app.url(&format!("/staff/campaigns/{SLUG}/qr.svg?l={locality}")))
        .send()
        .await
        .unwrap();
    assert_eq!(qr.status(), StatusCode::OK);
    assert_eq!(qr.headers()["content-type"], "image/svg+xml");
    // A locality the campaign does not have: no poster.
    let res = c
        .get(app.url(&format!("/staff/campaigns/{SLUG}/poster?l=99999")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // The settings form moved, and the dashboard lists the campaign's hub.
    let settings = app.page(&c, &format!("{hub}/settings")).await;
    assert_eq!(attr(&settings, "form.stack", "action"), hub);
    let dashboard = app.page(&c, "/staff").await;
    assert!(attrs(&dashboard, "a[href]", "href").contains(&hub));
}

#[tokio::test]
async fn without_base_url_the_hub_shows_the_path_and_says_why() {
    let app = spawn_with(|_| {}).await;
    app.add_user("admin@example.vn", "admin").await;
    let c = app.login("admin@example.vn").await;
    let html = app.page(&c, &format!("/staff/campaigns/{SLUG}")).await;
    assert_eq!(text(&html, "code.hub-url"), format!("/s/{SLUG}"));
    assert!(html.contains("base_url"));
    assert!(!html.contains("qr.svg"), "no QR code of a path");
}

#[tokio::test]
async fn staff_pages_all_carry_the_staff_menu() {
    let app = spawn_with(|s| s.base_url = Some(BASE.into())).await;
    app.add_user("admin@example.vn", "admin").await;
    let c = app.login("admin@example.vn").await;
    for path in [
        "/staff".to_owned(),
        "/staff/kiosks".to_owned(),
        format!("/staff/campaigns/{SLUG}"),
        format!("/staff/campaigns/{SLUG}/invitations"),
        format!("/staff/campaigns/{SLUG}/poster"),
    ] {
        let html = app.page(&c, &path).await;
        let menu = attrs(&html, "nav.staff-nav a", "href");
        assert!(
            menu.contains(&"/staff/kiosks".to_owned()) && menu.contains(&"/staff".to_owned()),
            "{path}: {menu:?}"
        );
    }
}

#[tokio::test]
async fn a_kiosk_is_registered_by_picking_a_locality_and_shown_as_a_qr_code() {
    let app = spawn_with(|s| s.base_url = Some(BASE.into())).await;
    app.add_user("field@example.vn", "field_manager").await;
    let c = app.login("field@example.vn").await;
    let page = app
        .page(&c, &format!("/staff/kiosks?campaign={SLUG}"))
        .await;
    // Localities by province, by name.
    let groups = attrs(&page, "select[name=locality] optgroup", "label");
    assert!(groups.iter().any(|g| g == "Hà Nội"), "{groups:?}");
    let locality = sipas_locality(&app).await;
    let doc = Html::parse_document(&page);
    let sel = Selector::parse(&format!(
        "select[name=locality] option[value=\"{locality}\"]"
    ))
    .unwrap();
    let name: String = doc.select(&sel).next().unwrap().text().collect();
    assert!(
        !name.is_empty() && name != locality,
        "a name, not a code: {name}"
    );

    let mut form = form_fields(&page, "form[method=post][action=\"/staff/kiosks\"]");
    assert!(form.contains(&("campaign".into(), SLUG.into())), "{form:?}");
    form.retain(|(k, _)| k != "locality" && k != "label");
    form.push(("locality".into(), locality.clone()));
    form.push(("label".into(), "Quầy 1".into()));
    let res = c
        .post(app.url("/staff/kiosks"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body = res.text().await.unwrap();
    let url = text(&body, "code.token-url");
    assert!(url.starts_with(&format!("{BASE}/k/")), "{url}");
    assert_eq!(attr(&body, ".kiosk-qr svg", "role"), "img");
    assert_eq!(attr(&body, "button[data-copy]", "data-copy"), "kiosk-url");
    assert!(attrs(&body, "script", "src").contains(&"/static/copy.js".to_owned()));
    let script = app.get("/static/copy.js").await;
    assert_eq!(script.status(), StatusCode::OK);
    // Shown once: the list does not show it again.
    let again = app.page(&c, "/staff/kiosks").await;
    assert!(!again.contains("/k/"), "the address is a secret");
}

#[tokio::test]
async fn invitation_sending_is_disabled_with_the_reason_without_smtp() {
    let app = spawn_with(|_| {}).await;
    app.add_user("admin@example.vn", "admin").await;
    let c = app.login("admin@example.vn").await;
    let path = format!("/staff/campaigns/{SLUG}/invitations");
    let html = app.page(&c, &path).await;
    let disabled = attrs(&html, "button[disabled]", "aria-describedby");
    assert_eq!(disabled, ["send-off", "send-off"], "send and remind");
    assert!(text(&html, "#send-off").contains("SMTP"));
    // Deleting asks for a confirmation the browser enforces.
    assert_eq!(
        attr(
            &html,
            "form[action$=\"/delete\"] input[name=confirm]",
            "required"
        ),
        ""
    );
    // Posting anyway is refused with a message, never a 500.
    let csrf = crate::helpers::csrf_of(&html);
    let res = c
        .post(app.url(&format!("{path}/send")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_new_campaign_s_service_follows_its_questionnaire() {
    let app = spawn_with(|_| {}).await;
    app.add_user("designer@example.vn", "designer").await;
    let c = app.login("designer@example.vn").await;
    let page = app.page(&c, "/staff/campaigns").await;
    // "From the questionnaire" is the default choice, and each version says its service.
    assert_eq!(
        attr(&page, "select[name=service] option[selected]", "value"),
        ""
    );
    let db = app.db.connect().await;
    let sipas = hailong::services::questionnaires::find(&db, "sipas-2640")
        .await
        .unwrap();
    let version = sipas.latest_published().unwrap().id.to_string();
    let today = chrono::Utc::now().date_naive();
    let mut form = form_fields(&page, "form.stack");
    form.retain(|(k, _)| {
        !matches!(
            k.as_str(),
            "slug" | "name_vi" | "questionnaire_version" | "opens_on" | "closes_on" | "localities"
        )
    });
    for (k, v) in [
        ("slug", "sipas-2027".to_owned()),
        ("name_vi", "SIPAS 2027".to_owned()),
        ("questionnaire_version", version),
        ("opens_on", today.to_string()),
        (
            "closes_on",
            (today + chrono::Duration::days(30)).to_string(),
        ),
        ("localities", "00004,01-U,,1250,40".to_owned()),
    ] {
        form.push((k.to_owned(), v));
    }
    let res = c
        .post(app.url("/staff/campaigns"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    let stored = hailong::services::campaigns::by_slug(&db, "sipas-2027")
        .await
        .unwrap();
    assert_eq!(stored.service.code, "one_stop", "not a hospital survey");
    // Settings are shown by name.
    let settings = app.page(&c, "/staff/campaigns/sipas-2027/settings").await;
    let lonely = Html::parse_document(&settings);
    let sel = Selector::parse("select[name=lonely_psu] option[value=adjust]").unwrap();
    let shown: String = lonely.select(&sel).next().unwrap().text().collect();
    assert_ne!(shown, "adjust");
    let list = app.page(&c, "/staff/campaigns").await;
    assert!(list.contains("Bộ phận Một cửa") && !list.contains(">one_stop<"));
}

#[tokio::test]
async fn designer_problems_are_in_words_at_the_field_and_keep_what_was_typed() {
    let app = spawn_with(|_| {}).await;
    app.add_user("designer@example.vn", "designer").await;
    let d = app.login("designer@example.vn").await;
    let html = app.page(&d, "/staff/questionnaires").await;
    let csrf = crate::helpers::csrf_of(&html);
    // From a preset with the English title left blank: the preset's is kept.
    let res = d
        .post(app.url("/staff/questionnaires"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("preset", "sipas-2640.json"),
            ("code", "sipas-2027"),
            ("title_vi", "SIPAS 2027"),
            ("title_en", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = res.headers()["location"].to_str().unwrap().to_owned();
    let db = app.db.connect().await;
    let created = hailong::services::questionnaires::find(&db, "sipas-2027")
        .await
        .unwrap();
    let id = page.rsplit('/').next().unwrap().to_owned();
    let (_, def) = hailong::services::questionnaires::latest(&db, id.parse().unwrap())
        .await
        .unwrap();
    let preset = hailong::presets::all()
        .into_iter()
        .find(|(f, _)| *f == "sipas-2640.json")
        .unwrap()
        .1;
    assert_eq!(def.title.get("vi"), "SIPAS 2027");
    assert_eq!(
        def.title.0.get("en"),
        preset.title.0.get("en"),
        "{created:?}"
    );
    assert!(def.title.0.get("en").is_some_and(|t| !t.is_empty()));

    // A change that breaks a rule: the problem in words inside the question's form, the
    // text as typed kept.
    let res = d
        .post(app.url(&format!("/staff/questionnaires/{id}/edit")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("op", "edit_question"),
            ("section", "1"),
            ("question", "0"),
            ("label_vi", "Chỗ ngồi chờ đủ rộng (đã sửa)"),
            ("label_en", ""),
            ("element", "E1"),
            ("criterion", "E1.1"),
            ("satisfied_min", "9"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(!body.contains("sections["), "no paths: {body}");
    let at = text(&body, "#q-1-0-errors");
    assert!(at.contains("Từ mức này trở lên"), "{at}");
    assert!(text(&body, "ul.field-errors").contains("Phần 2, câu"));
    assert_eq!(
        text(&body, "#q-1-0-lvi"),
        "Chỗ ngồi chờ đủ rộng (đã sửa)",
        "what was typed is shown again"
    );
    // Publishing asks for a confirmation the browser enforces.
    let editor = app.page(&d, &page).await;
    assert_eq!(
        attr(
            &editor,
            "form[action$=\"/publish\"] input[name=confirm]",
            "required"
        ),
        ""
    );
}
