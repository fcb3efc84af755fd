//! The staff pages for kiosks and invitations, behind sign-in, roles and CSRF.

use reqwest::StatusCode;

use crate::helpers::count;
use crate::helpers::spawn_with;
use crate::responses::sipas_locality;

#[tokio::test]
async fn field_managers_register_list_and_revoke_kiosks() {
    let app = spawn_with(|_| {}).await;
    let locality = sipas_locality(&app).await;
    assert_eq!(
        app.get("/staff/kiosks").await.status(),
        StatusCode::SEE_OTHER,
        "sign-in first"
    );
    app.add_user("field@example.vn", "field_manager").await;
    app.add_user("designer@example.vn", "designer").await;
    let c = app.login("field@example.vn").await;
    let res = c.get(app.url("/staff/kiosks")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    assert!(body.contains("Chưa có kiosk nào"));
    let csrf = app.page_csrf(&c, "/staff/kiosks").await;

    // Without the CSRF token: refused, nothing registered.
    let res = c
        .post(app.url("/staff/kiosks"))
        .form(&[
            ("campaign", "sipas-demo"),
            ("locality", locality.as_str()),
            ("label", "Quầy 1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let db = app.db.connect().await;
    assert_eq!(count(&db, "kiosks").await, 0);

    let res = c
        .post(app.url("/staff/kiosks"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("campaign", "sipas-demo"),
            ("locality", locality.as_str()),
            ("service", ""),
            ("label", "Quầy 2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    let url = crate::helpers::text(&body, "code.token-url");
    let (_, token) = url
        .split_once("/k/")
        .expect("the kiosk address is shown once");
    let token = token.to_owned();
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()), "{token}");
    assert_eq!(app.get(&format!("/k/{token}")).await.status(), 200);

    let res = c
        .post(app.url("/staff/kiosks"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("campaign", "sipas-demo"),
            ("locality", "99999"),
            ("label", ""),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("error-summary"));
    assert_eq!(count(&db, "kiosks").await, 1);

    // A designer may look but not register or revoke.
    let designer = app.login("designer@example.vn").await;
    assert_eq!(
        designer
            .get(app.url("/staff/kiosks"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let dcsrf = app.page_csrf(&designer, "/staff/kiosks").await;
    let id = hailong::services::kiosks::list(&db).await.unwrap()[0]
        .kiosk
        .id;
    let res = designer
        .post(app.url(&format!("/staff/kiosks/{id}/revoke")))
        .form(&[("csrf_token", dcsrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get(&format!("/k/{token}")).await.status(), 200);

    let res = c
        .post(app.url(&format!("/staff/kiosks/{id}/revoke")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers().get("location").unwrap(), "/staff/kiosks");
    assert_eq!(app.get(&format!("/k/{token}")).await.status(), 404);
    let audit: Vec<String> = entity::audit_log::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert!(
        audit.contains(&"kiosk.register".to_owned()) && audit.contains(&"kiosk.revoke".to_owned()),
        "{audit:?}"
    );
}

#[tokio::test]
async fn field_managers_upload_and_delete_an_address_list() {
    let app = spawn_with(|_| {}).await;
    app.add_user("field@example.vn", "field_manager").await;
    app.add_user("analyst@example.vn", "analyst").await;
    let analyst = app.login("analyst@example.vn").await;
    let res = analyst
        .get(app.url("/staff/campaigns/health-demo/invitations"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "address lists are not the analysts'"
    );

    let c = app.login("field@example.vn").await;
    let res = c
        .get(app.url("/staff/campaigns/health-demo/invitations"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Chưa cấu hình máy chủ SMTP")
    );
    let csrf = app
        .page_csrf(&c, "/staff/campaigns/health-demo/invitations")
        .await;
    let res = c
        .post(app.url("/staff/campaigns/health-demo/invitations/upload"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("addresses", "p@example.vn\nq@example.vn\nbad"),
        ])
        .send()
        .await
        .unwrap();
    let body = res.text().await.unwrap();
    assert!(body.contains("Đã thêm 2 địa chỉ"), "{body}");
    let db = app.db.connect().await;
    assert_eq!(count(&db, "invitations").await, 2);
    let res = c
        .post(app.url("/staff/campaigns/health-demo/invitations/delete"))
        .form(&[("csrf_token", csrf.as_str()), ("addresses", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(count(&db, "invitations").await, 0);
}

use sea_orm::EntityTrait;
