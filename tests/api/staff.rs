//! Staff accounts, sessions, roles, CSRF, API tokens, audit log, headers.

use std::io::Write;
use std::process::{Command, Stdio};

use hailong::services::staff;
use reqwest::StatusCode;

use crate::helpers::{PASSWORD, client, count, csrf_of, hailong_bin, spawn_app};

#[tokio::test]
async fn anonymous_staff_requests_are_sent_to_sign_in_or_refused() {
    let app = spawn_app().await;
    for path in [
        "/staff",
        "/staff/users",
        "/staff/tokens",
        "/staff/audit",
        "/staff/account",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        let location = res.headers()["location"].to_str().unwrap();
        assert!(location.starts_with("/staff/login"), "{path} -> {location}");
    }
    assert_eq!(app.get("/staff/login").await.status(), StatusCode::OK);
    let res = app.get("/api/v1/staff/me").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized");
}

#[tokio::test]
async fn first_admin_from_the_cli_signs_in() {
    let app = spawn_app().await;
    let mut child = Command::new(hailong_bin())
        .args([
            "user",
            "add",
            "--email",
            "Admin@Example.VN",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .arg("--database-url")
        .arg(&app.db.url)
        .current_dir(app.db.dir.path())
        .env("HAILONG_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db = app.db.connect().await;
    let user = staff::by_email(&db, "admin@example.vn")
        .await
        .unwrap()
        .unwrap();
    assert!(user.password_hash.starts_with("$argon2id$v=19$"));
    assert!(!user.password_hash.contains(PASSWORD));

    let c = app.login("admin@example.vn").await;
    let res = c.get(app.url("/staff")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("admin@example.vn"));

    // A short password from the CLI is refused with a message naming the field.
    let mut child = Command::new(hailong_bin())
        .args([
            "user",
            "add",
            "--email",
            "b@example.vn",
            "--role",
            "analyst",
            "--password-stdin",
        ])
        .arg("--database-url")
        .arg(&app.db.url)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"short\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--password") && err.contains("12"), "{err}");
}

#[tokio::test]
async fn unknown_user_and_wrong_password_look_the_same_and_are_limited() {
    let app = spawn_app().await;
    app.add_user("d@example.vn", "designer").await;
    let c = client();
    let unknown = app.try_login(&c, "nobody@example.vn", PASSWORD).await;
    let wrong = app
        .try_login(&c, "d@example.vn", "wrong password here")
        .await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let (a, b) = (unknown.text().await.unwrap(), wrong.text().await.unwrap());
    assert!(a.contains("Email hoặc mật khẩu không đúng."));
    assert!(b.contains("Email hoặc mật khẩu không đúng."));
    for _ in 0..4 {
        app.try_login(&c, "d@example.vn", "wrong password here")
            .await;
    }
    // Blocked now, even with the right password.
    let res = app.try_login(&c, "d@example.vn", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Đăng nhập sai quá nhiều lần")
    );
}

#[tokio::test]
async fn sign_in_without_the_csrf_token_is_refused() {
    let app = spawn_app().await;
    app.add_user("a@example.vn", "admin").await;
    let c = client();
    let res = c
        .post(app.url("/staff/login"))
        .form(&[("email", "a@example.vn"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn each_role_reaches_only_its_areas() {
    let app = spawn_app().await;
    app.add_user("admin@example.vn", "admin").await;
    for (email, role) in [
        ("designer@example.vn", "designer"),
        ("field@example.vn", "field_manager"),
        ("analyst@example.vn", "analyst"),
    ] {
        app.add_user(email, role).await;
        let c = app.login(email).await;
        for path in ["/staff/users", "/staff/audit"] {
            let res = c.get(app.url(path)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{role} {path}");
        }
        for path in ["/staff", "/staff/tokens", "/staff/account"] {
            let res = c.get(app.url(path)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{role} {path}");
        }
        // A forged admin action with a valid token of one's own is still refused.
        let token = app.page_csrf(&c, "/staff/tokens").await;
        let res = c
            .post(app.url("/staff/users"))
            .form(&[
                ("csrf_token", token.as_str()),
                ("email", "x@example.vn"),
                ("role", "admin"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{role} creating users");
    }
    let admin = app.login("admin@example.vn").await;
    for path in ["/staff/users", "/staff/audit"] {
        assert_eq!(
            admin.get(app.url(path)).send().await.unwrap().status(),
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn admin_creates_accounts_with_csrf_and_it_is_audited() {
    let app = spawn_app().await;
    app.add_user("admin@example.vn", "admin").await;
    let admin = app.login("admin@example.vn").await;
    let db = app.db.connect().await;
    let before = count(&db, "staff_users").await;

    // Without the token: refused, nothing stored.
    let res = admin
        .post(app.url("/staff/users"))
        .form(&[
            ("email", "new@example.vn"),
            ("role", "designer"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&db, "staff_users").await, before);

    // Bad input: every problem listed, nothing stored.
    let token = app.page_csrf(&admin, "/staff/users").await;
    let res = admin
        .post(app.url("/staff/users"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "not-an-email"),
            ("role", "boss"),
            ("password", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("Email không hợp lệ."));
    assert!(html.contains("Vai trò không hợp lệ."));
    assert!(html.contains("Mật khẩu cần ít nhất 12 ký tự."));
    assert_eq!(count(&db, "staff_users").await, before);

    let res = admin
        .post(app.url("/staff/users"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "new@example.vn"),
            ("role", "designer"),
            ("password", PASSWORD),
            ("localities", "01, 48"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let created = staff::by_email(&db, "new@example.vn")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(created.role, "designer");
    assert_eq!(created.localities.as_deref(), Some("[\"01\",\"48\"]"));
    let designer = app.login("new@example.vn").await;
    assert_eq!(
        designer
            .get(app.url("/staff"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    let audit = app.page(&admin, "/staff/audit").await;
    assert!(audit.contains("user.create"));
    assert!(audit.contains("user.login"));
    assert!(audit.contains("new@example.vn as designer"));
}

#[tokio::test]
async fn a_stolen_cookie_stops_working_after_logout_and_password_change() {
    let app = spawn_app().await;
    app.add_user("a@example.vn", "analyst").await;
    let c = app.login("a@example.vn").await;
    let stolen = c.get(app.url("/staff")).send().await.unwrap();
    assert_eq!(stolen.status(), StatusCode::OK);
    // Copy the session cookie into another client, as a thief would.
    let second = app.login("a@example.vn").await;
    let token = app.page_csrf(&c, "/staff").await;
    let res = c
        .post(app.url("/staff/logout"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        c.get(app.url("/staff")).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    // The other session still works until the password changes.
    assert_eq!(
        second.get(app.url("/staff")).send().await.unwrap().status(),
        StatusCode::OK
    );
    let third = app.login("a@example.vn").await;
    let token = app.page_csrf(&third, "/staff/account").await;
    let res = third
        .post(app.url("/staff/account/password"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("current_password", PASSWORD),
            ("new_password", "another long passphrase"),
            ("confirm_password", "another long passphrase"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        second.get(app.url("/staff")).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let db = app.db.connect().await;
    assert_eq!(count(&db, "staff_sessions").await, 0);
}

#[tokio::test]
async fn a_replayed_session_cookie_is_useless_after_logout() {
    let app = spawn_app().await;
    app.add_user("a@example.vn", "analyst").await;
    let c = client();
    let token = app.page_csrf(&c, "/staff/login").await;
    let res = c
        .post(app.url("/staff/login"))
        .form(&[
            ("email", "a@example.vn"),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|h| h.to_str().unwrap().to_owned())
        .find(|h| h.starts_with("hailong_staff="))
        .expect("session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();
    let raw = client();
    let res = raw
        .get(app.url("/staff"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the cookie works while signed in"
    );
    let token = app.page_csrf(&c, "/staff").await;
    c.post(app.url("/staff/logout"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    let res = raw
        .get(app.url("/staff"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "and not after logout");
    // A tampered cookie is ignored.
    let res = raw
        .get(app.url("/staff"))
        .header("cookie", "hailong_staff=AAAAtampered")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn api_tokens_are_shown_once_stored_hashed_and_revocable() {
    let app = spawn_app().await;
    app.add_user("an@example.vn", "analyst").await;
    let c = app.login("an@example.vn").await;
    let csrf = app.page_csrf(&c, "/staff/tokens").await;
    let html = c
        .post(app.url("/staff/tokens"))
        .form(&[("csrf_token", csrf.as_str()), ("name", "R script")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html.find("hl_").expect("token shown once");
    let token: String = html[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    assert_eq!(token.len(), 3 + 64);
    let again = app.page(&c, "/staff/tokens").await;
    assert!(!again.contains(&token), "never shown again");
    let db = app.db.connect().await;
    let rows = entity::api_token::Entity::find().all(&db).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_ne!(rows[0].token_hash, token);
    assert!(!rows[0].token_hash.contains(&token[3..]));

    let res = client()
        .get(app.url("/api/v1/staff/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let me: serde_json::Value = res.json().await.unwrap();
    assert_eq!(me["email"], "an@example.vn");
    assert_eq!(me["role"], "analyst");

    let res = c
        .post(app.url(&format!("/staff/tokens/{}/revoke", rows[0].id)))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = client()
        .get(app.url("/api/v1/staff/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn security_headers_are_on_every_response_and_head_works() {
    let app = spawn_app().await;
    let c = client();
    for (method, path, status) in [
        ("GET", "/", 200),
        ("HEAD", "/", 200),
        ("HEAD", "/healthz", 200),
        ("GET", "/nope", 404),
        ("HEAD", "/nope", 404),
        ("GET", "/staff", 303),
        ("GET", "/api/v1/staff/me", 401),
        ("POST", "/staff/login", 415),
        ("GET", "/static/app.css", 200),
    ] {
        let res = c
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                app.url(path),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), status, "{method} {path}");
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        if method == "HEAD" {
            assert!(res.bytes().await.unwrap().is_empty());
        }
    }
}

use sea_orm::EntityTrait;

#[tokio::test]
async fn a_forgotten_password_is_reset_by_an_emailed_single_use_link() {
    let (app, inbox) = crate::helpers::spawn_with_outbox(move |s| {
        s.mail_from = "Hailong <no-reply@example.vn>".into();
        s.base_url = Some("https://khaosat.example.vn".into());
    })
    .await;
    app.add_user("lost@example.vn", "designer").await;
    let c = client();
    let request = |email: &'static str| {
        let c = c.clone();
        let url = app.url("/staff/password-reset");
        async move {
            let html = c.get(&url).send().await.unwrap().text().await.unwrap();
            let token = csrf_of(&html);
            c.post(&url)
                .form(&[("email", email), ("csrf_token", token.as_str())])
                .send()
                .await
                .unwrap()
        }
    };
    // Known and unknown addresses get the same answer; only the known one gets mail.
    let known = request("lost@example.vn").await;
    let unknown = request("nobody@example.vn").await;
    assert_eq!(known.status(), StatusCode::OK);
    assert_eq!(unknown.status(), StatusCode::OK);
    let (a, b) = (known.text().await.unwrap(), unknown.text().await.unwrap());
    assert!(
        a.contains("Nếu có tài khoản với địa chỉ này")
            && b.contains("Nếu có tài khoản với địa chỉ này")
    );
    // Mail goes out after the answer.
    let messages = inbox.wait_for(1).await;
    assert_eq!(messages[0].to, ["lost@example.vn"]);
    let text = crate::helpers::decoded(&messages[0].data);
    let at = text.find("/staff/password-reset/").expect("a link");
    let link = text[at..at + "/staff/password-reset/".len() + 64].to_owned();
    let db = app.db.connect().await;
    let stored = entity::password_reset::Entity::find()
        .all(&db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(
        !link.contains(&stored[0].token_hash),
        "only the hash is stored"
    );

    // A session from before the reset ends with it.
    let before = app.login("lost@example.vn").await;
    let token = app.page_csrf(&c, &link).await;
    let res = c
        .post(app.url(&link))
        .form(&[
            ("new_password", "a brand new passphrase"),
            ("confirm_password", "a brand new passphrase"),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        before.get(app.url("/staff")).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let fresh = client();
    assert_eq!(
        app.try_login(&fresh, "lost@example.vn", "a brand new passphrase")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // Single use.
    assert_eq!(
        c.get(app.url(&link)).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}
