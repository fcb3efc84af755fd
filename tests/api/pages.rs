use crate::helpers::{spawn_app, spawn_app_with_demo};

const SECURITY_HEADERS: [&str; 3] = [
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
];

#[tokio::test]
async fn home_page_is_vietnamese_by_default() {
    let app = spawn_app_with_demo().await;
    let res = app.get("/").await;
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    assert!(body.contains("<html lang=\"vi\">"));
    assert!(body.contains("Khảo sát sự hài lòng của người dân về dịch vụ công"));
    assert!(body.contains("Khảo sát SIPAS tại Bộ phận Một cửa (demo)"));
}

#[tokio::test]
async fn home_page_speaks_english_when_asked() {
    let app = spawn_app_with_demo().await;
    let body = app
        .client
        .get(app.url("/"))
        .header("Accept-Language", "en-US,en;q=0.9,vi;q=0.5")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("<html lang=\"en\">"));
    assert!(body.contains("Surveys open now"));
    assert!(body.contains("SIPAS survey at one-stop desks (demo)"));
    let body = app.get("/?lang=en").await.text().await.unwrap();
    assert!(body.contains("Surveys open now"));
}

#[tokio::test]
async fn language_switch_remembers_the_choice() {
    let app = spawn_app().await;
    let res = app.get("/lang/en?next=/").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/");
    let body = app.get("/").await.text().await.unwrap();
    assert!(body.contains("<html lang=\"en\">"), "cookie keeps English");
    // Never redirects off-site.
    let res = app.get("/lang/vi?next=//evil.example").await;
    assert_eq!(res.headers()["location"], "/");
    let res = app.get("/lang/fr").await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn unknown_pages_get_a_translated_404_with_security_headers() {
    let app = spawn_app().await;
    let res = app.get("/no/such/page").await;
    assert_eq!(res.status(), 404);
    for h in SECURITY_HEADERS {
        assert!(res.headers().contains_key(h), "{h}");
    }
    let body = res.text().await.unwrap();
    assert!(body.contains("Không tìm thấy trang này."));

    let res = app.get("/api/v1/nothing").await;
    assert_eq!(res.status(), 404);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "page_not_found");
    assert!(body["message"].as_str().is_some());
}

#[tokio::test]
async fn pages_use_no_external_resources() {
    let app = spawn_app_with_demo().await;
    let res = app.get("/").await;
    for h in SECURITY_HEADERS {
        assert!(res.headers().contains_key(h), "{h}");
    }
    let body = res.text().await.unwrap();
    assert!(
        !body.contains("http://") && !body.contains("https://"),
        "{body}"
    );
    let css = app.get("/static/app.css").await;
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}
