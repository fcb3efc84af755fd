//! The staff pages for kiosks and invitations, mounted the way the staff
//! scope will mount them (login, roles and CSRF are the staff scope's job).

use std::sync::Arc;

use actix_web::{App, test, web};
use hailong::config::Settings;
use hailong::routes::{staff_invitations, staff_kiosks};
use hailong::state::AppState;

use crate::helpers::{TestApp, count};
use crate::limits::spawn_with;
use crate::responses::sipas_locality;

async fn state(app: &TestApp) -> AppState {
    let db = app.db.connect().await;
    AppState {
        writer: hailong::services::writer::ResponseWriter::start(db.clone()),
        limiter: Arc::new(hailong::rate_limit::RateLimiter::new(&Settings::default())),
        settings: Arc::new(Settings::default()),
        campaign_cache: Arc::new(hailong::services::responses::CampaignCache::new(
            std::time::Duration::from_secs(2),
        )),
        db,
    }
}

#[tokio::test]
async fn staff_register_list_and_revoke_kiosks() {
    let app = spawn_with(|_| {}).await;
    let locality = sipas_locality(&app).await;
    let svc = test::init_service(
        App::new()
            .app_data(web::Data::new(state(&app).await))
            .service(web::scope("/staff").configure(staff_kiosks::configure)),
    )
    .await;
    let res = test::call_service(
        &svc,
        test::TestRequest::get().uri("/staff/kiosks").to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(body.contains("Chưa có kiosk nào"));

    let res = test::call_service(
        &svc,
        test::TestRequest::post()
            .uri("/staff/kiosks")
            .set_form([
                ("campaign", "sipas-demo"),
                ("locality", locality.as_str()),
                ("service", ""),
                ("label", "Quầy 2"),
            ])
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    let at = body
        .find("&#x2f;k&#x2f;")
        .expect("the kiosk address is shown once");
    let token: String = body[at + 13..].chars().take(64).collect();
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()), "{token}");
    assert_eq!(app.get(&format!("/k/{token}")).await.status(), 200);

    let res = test::call_service(
        &svc,
        test::TestRequest::post()
            .uri("/staff/kiosks")
            .set_form([
                ("campaign", "sipas-demo"),
                ("locality", "99999"),
                ("label", ""),
            ])
            .to_request(),
    )
    .await;
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(body.contains("error-summary"));

    let db = app.db.connect().await;
    assert_eq!(count(&db, "kiosks").await, 1);
    let id = hailong::services::kiosks::list(&db).await.unwrap()[0]
        .kiosk
        .id;
    let res = test::call_service(
        &svc,
        test::TestRequest::post()
            .uri(&format!("/staff/kiosks/{id}/revoke"))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers().get("location").unwrap(), "/staff/kiosks");
    assert_eq!(app.get(&format!("/k/{token}")).await.status(), 404);
}

#[tokio::test]
async fn staff_upload_and_delete_an_address_list() {
    let app = spawn_with(|_| {}).await;
    let svc = test::init_service(
        App::new()
            .app_data(web::Data::new(state(&app).await))
            .service(web::scope("/staff").configure(staff_invitations::configure)),
    )
    .await;
    let res = test::call_service(
        &svc,
        test::TestRequest::get()
            .uri("/staff/campaigns/health-demo/invitations")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(body.contains("Chưa cấu hình máy chủ SMTP"));
    let res = test::call_service(
        &svc,
        test::TestRequest::post()
            .uri("/staff/campaigns/health-demo/invitations/upload")
            .set_form([("addresses", "p@example.vn\nq@example.vn\nbad")])
            .to_request(),
    )
    .await;
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(body.contains("Đã thêm 2 địa chỉ"), "{body}");
    let db = app.db.connect().await;
    assert_eq!(count(&db, "invitations").await, 2);
    let res = test::call_service(
        &svc,
        test::TestRequest::post()
            .uri("/staff/campaigns/health-demo/invitations/delete")
            .set_form([("addresses", "")])
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(count(&db, "invitations").await, 0);
}
