//! Signing in and out.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;

use crate::auth::{password, random_token, session};
use crate::error::AppError;
use crate::i18n::{self, Arg, Lang};
use crate::routes::extract::{StaffForm, constant_time_eq};
use crate::routes::limits::ClientIp;
use crate::routes::state::AppState;
use crate::services::{audit, staff};
use crate::templates;
use crate::views::staff::login::LoginPage;

/// The double-submit cookie that protects the forms used before sign-in.
const LOGIN_CSRF_COOKIE: &str = "hailong_login_csrf";

/// The cookie that carries the CSRF token of a form shown before sign-in.
pub fn anonymous_csrf_cookie(token: &str) -> Cookie<'static> {
    Cookie::build(LOGIN_CSRF_COOKIE, token.to_owned())
        .path("/staff")
        .http_only(true)
        .same_site(SameSite::Strict)
        .finish()
}

/// True when a form posted before sign-in carries the token of its cookie.
pub fn anonymous_csrf_ok(req: &HttpRequest, submitted: &str) -> bool {
    req.cookie(LOGIN_CSRF_COOKIE)
        .is_some_and(|c| constant_time_eq(c.value().as_bytes(), submitted.as_bytes()))
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only local staff and results paths (the 401 page of a private campaign's results sends
/// here): never redirect to another site. No control characters: a CR/LF or NUL cannot go
/// into the Location header.
fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| {
        (n.starts_with("/staff") || n.starts_with("/results/"))
            && !n.starts_with("//")
            && !n.contains('\\')
            && !n.chars().any(char::is_control)
    })
    .unwrap_or("/staff")
    .to_owned()
}

fn render_login(
    page: &LoginPage,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, AppError> {
    let body = templates::render("staff/login.html", page)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .cookie(anonymous_csrf_cookie(&page.csrf_token))
        .body(body))
}

#[get("/login")]
pub async fn show(query: web::Query<NextQuery>, lang: Lang) -> Result<HttpResponse, AppError> {
    let token = random_token().map_err(|e| AppError::Internal(e.into()))?;
    let page = LoginPage::new(lang, token, safe_next(query.next.as_deref()));
    render_login(&page, actix_web::http::StatusCode::OK)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf_token: String,
    next: Option<String>,
}

#[post("/login")]
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
    client: ClientIp,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    if !anonymous_csrf_ok(&req, &form.csrf_token) {
        return Err(AppError::Forbidden);
    }
    let email = form.email.trim().to_lowercase();
    // The proxy-aware client address (IPv6 by /64), the same one every limit
    // keys on; counted by a keyed hash only, never logged or stored as such.
    let address = client.key();
    let token = random_token().map_err(|e| AppError::Internal(e.into()))?;
    let mut page = LoginPage::new(lang, token, safe_next(form.next.as_deref()));
    page.email = email.clone();
    // Checked and counted in one step; a correct password takes it back.
    let attempt = state
        .login_limiter
        .attempt(&state.db, &email, &address)
        .await?;
    let reservation = match attempt {
        Ok(reservation) => reservation,
        Err(wait) => {
            let minutes = wait.as_secs().div_ceil(60);
            page.error = Some(i18n::t(
                lang,
                "login-too-many",
                &[("minutes", Arg::from(minutes))],
            ));
            return render_login(&page, actix_web::http::StatusCode::TOO_MANY_REQUESTS);
        }
    };
    let user = staff::by_email(&state.db, &email).await?;
    // Verify against a dummy hash when there is no such account, so both
    // cases take the same time and give the same message.
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| password::DUMMY_HASH.clone());
    let valid = password::verify(&form.password, &hash);
    let user = user.filter(|u| valid && u.active);
    let Some(user) = user else {
        // The attempt stays counted as a failure.
        page.error = Some(i18n::t(lang, "login-failed", &[]));
        return render_login(&page, actix_web::http::StatusCode::UNAUTHORIZED);
    };
    state
        .login_limiter
        .succeeded(&state.db, reservation)
        .await?;
    let secure = state.settings.cookies_secure();
    let cookie = session::create(&state.db, &state.cookie_key, user.id, secure)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    audit::record(
        &state.db,
        &audit::Actor::staff(user.id, &user.email),
        "user.login",
        "user",
        &user.id.to_string(),
        "",
    )
    .await?;
    let mut remove_csrf = Cookie::build(LOGIN_CSRF_COOKIE, "").path("/staff").finish();
    remove_csrf.make_removal();
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", page.next.clone()))
        .cookie(cookie)
        .cookie(remove_csrf)
        .finish())
}

#[derive(Deserialize)]
pub struct Empty {}

#[post("/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    form: StaffForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let user = form.user;
    session::revoke(&state.db, &user.session_id).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/staff/login"))
        .cookie(session::removal())
        .finish())
}
