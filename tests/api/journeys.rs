//! Journeys end to end in headless Chromium: a staff member from sign-in to a published
//! campaign with a kiosk registered by scanning its QR code and a poster printed; an
//! analyst who reads a commune's page. They run when `CHROMEDRIVER` is set.

use base64::Engine as _;
use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::Value;
use url::Url;

use crate::browser::{Driver, Session};
use crate::helpers::{PASSWORD, TestApp, publish, spawn_with};

/// W3C WebDriver's Print command: the page as a PDF.
#[derive(Debug)]
struct Print;

impl WebDriverCompatibleCommand for Print {
    fn endpoint(&self, base: &Url, session: Option<&str>) -> Result<Url, url::ParseError> {
        base.join(&format!("session/{}/print", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &Url) -> (http::Method, Option<String>) {
        let body = serde_json::json!({"pageRanges": [], "shrinkToFit": true});
        (http::Method::POST, Some(body.to_string()))
    }
}

/// The demo app at a known address, which is its `base_url` (links and QR codes are made
/// from it).
async fn app_with_address() -> TestApp {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    spawn_with(move |s| {
        s.bind = format!("127.0.0.1:{port}");
        s.base_url = Some(format!("http://127.0.0.1:{port}"));
    })
    .await
}

async fn sign_in(s: &Session, app: &TestApp, email: &str) {
    s.go(&app.url("/staff/login")).await;
    s.type_text("input[name=email]", email).await;
    s.type_text("input[name=password]", PASSWORD).await;
    s.submit("form button[type=submit]").await;
}

/// What a phone's camera reads from the QR code of the element at `css`.
async fn scan(s: &Session, css: &str) -> String {
    s.script(&format!(
        "document.querySelector('{css}').scrollIntoView({{block: 'center'}}); return true;"
    ))
    .await;
    let png_bytes = s.find(css).await.screenshot().await.expect("screenshot");
    if let Ok(dir) = std::env::var("HAILONG_SCREENSHOTS") {
        let name = css.replace(|c: char| !c.is_ascii_alphanumeric(), "_");
        std::fs::write(format!("{dir}/{name}.png"), &png_bytes).unwrap();
    }
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let channels = info.color_type.samples();
    let (w, h) = (info.width as usize, info.height as usize);
    // Transparent pixels are the page's white behind the code.
    let alpha = matches!(
        info.color_type,
        png::ColorType::Rgba | png::ColorType::GrayscaleAlpha
    );
    // A white margin all round: the quiet zone a reader needs.
    const MARGIN: usize = 24;
    let mut img =
        rqrr::PreparedImage::prepare_from_greyscale(w + 2 * MARGIN, h + 2 * MARGIN, |x, y| {
            if x < MARGIN || y < MARGIN || x >= w + MARGIN || y >= h + MARGIN {
                return 255;
            }
            let at = ((y - MARGIN) * w + (x - MARGIN)) * channels;
            if alpha && buf[at + channels - 1] < 128 {
                255
            } else {
                buf[at]
            }
        });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in {css}");
    grids[0].decode().expect("a readable QR code").1
}

#[tokio::test]
async fn staff_sign_in_publish_register_a_kiosk_by_its_qr_code_and_print_a_poster() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = app_with_address().await;
    app.add_user("manager@example.vn", "admin").await;
    let s = driver.session(true).await;
    sign_in(&s, &app, "manager@example.vn").await;
    // From the dashboard to the campaign's hub, by links.
    assert!(s.url().await.ends_with("/staff"), "{}", s.url().await);
    s.click("a[href='/staff/campaigns/sipas-demo']").await;
    assert!(
        s.source().await.contains("/s/sipas-demo"),
        "the survey link"
    );
    // Publish the results now (a confirmation first).
    s.click("a[href='/staff/campaigns/sipas-demo/reports']")
        .await;
    s.click("details.confirm summary").await;
    s.click("#confirm-publish").await;
    s.submit("details.confirm button[type=submit]").await;
    s.go(&app.url("/results/sipas-demo")).await;
    assert!(!s.source().await.contains("error-not_published"));
    // A kiosk: the locality picked by name, then its address scanned from the QR code.
    s.go(&app.url("/staff/campaigns/sipas-demo")).await;
    s.click("a[href='/staff/kiosks?campaign=sipas-demo']").await;
    s.click("#k-locality optgroup option").await;
    s.type_text("input[name=label]", "Quầy 1").await;
    s.submit("form:has(#k-label) button[type=submit]").await;
    let shown = s
        .script("return document.querySelector('code.token-url').textContent")
        .await;
    let scanned = scan(&s, ".kiosk-qr svg").await;
    assert_eq!(
        Value::String(scanned.clone()),
        shown,
        "the QR code is the address shown"
    );
    assert!(scanned.starts_with(&app.address), "{scanned}");
    // The tablet opens what it scanned: the kiosk's survey.
    let tablet = driver.session(true).await;
    tablet.go(&scanned).await;
    assert!(tablet.source().await.contains("data-endpoint=\"/k/"));
    tablet.close().await;
    // A poster for a locality's desk: one A4 page with the QR code of its link.
    s.go(&app.url("/staff/campaigns/sipas-demo")).await;
    let poster = s
        .script("return document.querySelector('a[href*=\"/poster?l=\"]').getAttribute('href')")
        .await;
    s.go(&app.url(poster.as_str().unwrap())).await;
    let link = s
        .script("return document.querySelector('.poster-link').textContent.trim()")
        .await;
    let on_poster = scan(&s, ".poster-qr svg").await;
    assert_eq!(Value::String(on_poster.clone()), link);
    assert!(on_poster.contains("/s/sipas-demo?l="), "{on_poster}");
    let pdf = s.client().issue_cmd(Print).await.expect("print");
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(pdf.as_str().unwrap())
        .unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    // Page objects: `/Type /Page` (with or without the space), not `/Pages`.
    let text = String::from_utf8_lossy(&pdf).replace("/Type /", "/Type/");
    let pages = text.matches("/Type/Page").count() - text.matches("/Type/Pages").count();
    assert_eq!(pages, 1, "one A4 page");
    s.close().await;
}

#[tokio::test]
async fn an_analyst_reads_a_communes_page_in_plain_words() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = app_with_address().await;
    publish(&app, "sipas-demo").await;
    app.add_user("analyst@example.vn", "analyst").await;
    let s = driver.session(true).await;
    sign_in(&s, &app, "analyst@example.vn").await;
    s.go(&app.url("/results/sipas-demo")).await;
    // The localities at commune level, then one commune's own page.
    s.click("a[href^='/results/sipas-demo/localities']").await;
    s.click("a[href*='level=commune']").await;
    let commune = crate::responses::sipas_locality(&app).await;
    s.go(&app.url(&format!("/results/sipas-demo/locality/{commune}")))
        .await;
    let page = s.source().await;
    // Either a number, or why not in words with the province's number to look at.
    let unpublished = page.contains("class=\"unpublished\"");
    if unpublished {
        let why = s
            .script("return document.querySelector('.unpublished').textContent")
            .await;
        let why = why.as_str().unwrap();
        assert!(
            !why.contains("too_few") && !why.contains("bậc tự do"),
            "{why}"
        );
        assert!(
            page.contains("/results/sipas-demo/locality/"),
            "a link to the province"
        );
    } else {
        assert!(page.contains("class=\"results breakdown\""));
    }
    s.close().await;
}
