//! Password reset by an emailed single-use link (valid for an hour).
//! The answer to a request is the same whether or not the account exists.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;

use crate::auth::random_token;
use crate::config::Settings;
use crate::error::{AppError, field_message};
use crate::i18n::{self, Arg, Lang};
use crate::mail::Mailer;
use crate::routes::limits::ClientIp;
use crate::routes::state::AppState;
use crate::services::staff::{self, RESET_MINUTES, StaffError};
use crate::templates;
use crate::views::Chrome;
use crate::views::staff::login::ResetPage;

use super::login::{anonymous_csrf_cookie, anonymous_csrf_ok};

fn page(
    lang: Lang,
    template: &str,
    status: StatusCode,
    notice: Option<String>,
    errors: Vec<String>,
    token: Option<String>,
) -> Result<HttpResponse, AppError> {
    let csrf = random_token().map_err(|e| AppError::Internal(e.into()))?;
    let ctx = ResetPage {
        chrome: Chrome::new(lang, "/staff/password-reset"),
        csrf_token: csrf.clone(),
        notice,
        errors,
        token,
    };
    let body = templates::render(template, &ctx)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .cookie(anonymous_csrf_cookie(&csrf))
        .body(body))
}

#[get("/password-reset")]
pub async fn request_form(
    state: web::Data<AppState>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    // Said before anyone types an address: no link can be sent.
    let errors = if state.settings.base_url_missing() {
        vec![i18n::t(lang, "auth-reset-no-base-url", &[])]
    } else {
        vec![]
    };
    page(
        lang,
        "staff/reset_request.html",
        StatusCode::OK,
        None,
        errors,
        None,
    )
}

#[derive(Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    csrf_token: String,
}

#[post("/password-reset")]
pub async fn request(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<RequestForm>,
    client: ClientIp,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    if !anonymous_csrf_ok(&req, &form.csrf_token) {
        return Err(AppError::Forbidden);
    }
    let email = form.email.trim().to_lowercase();
    // Requests count against the same limits as failed sign-ins, on the same
    // proxy-aware client address, checked and counted in one step.
    let address = client.key();
    let attempt = state
        .login_limiter
        .attempt(&state.db, &email, &address)
        .await?;
    if let Err(wait) = attempt {
        let minutes = wait.as_secs().div_ceil(60);
        let msg = i18n::t(lang, "login-too-many", &[("minutes", Arg::from(minutes))]);
        return page(
            lang,
            "staff/reset_request.html",
            StatusCode::TOO_MANY_REQUESTS,
            None,
            vec![msg],
            None,
        );
    }
    let mailer = match &state.mailer {
        Some(m) => m.clone(),
        None => {
            let msg = i18n::t(lang, "reset-no-mail", &[]);
            return page(
                lang,
                "staff/reset_request.html",
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                vec![msg],
                None,
            );
        }
    };
    // The link is built from `base_url` only; a request's Host,
    // X-Forwarded-Host or Forwarded never choose where a live token goes.
    if state.settings.base_url_missing() {
        let msg = i18n::t(lang, "auth-reset-no-base-url", &[]);
        return page(
            lang,
            "staff/reset_request.html",
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            vec![msg],
            None,
        );
    }
    // Looking the account up, storing the link and mailing it happen after
    // the answer, so a request takes the same time whether or not the
    // account exists.
    let db = state.db.clone();
    let settings = state.settings.clone();
    actix_web::rt::spawn(async move {
        if let Err(e) = send_reset(&db, &settings, &mailer, &email).await {
            // The address stays out of the log.
            tracing::error!(error = %e, "cannot send a password reset email");
        }
    });
    let notice = i18n::t(lang, "reset-sent", &[]);
    page(
        lang,
        "staff/reset_request.html",
        StatusCode::OK,
        Some(notice),
        vec![],
        None,
    )
}

/// Starts a reset for `email` if it names an active account and mails the
/// link (built from `base_url`); does nothing for any other address.
async fn send_reset(
    db: &sea_orm::DatabaseConnection,
    settings: &Settings,
    mailer: &Mailer,
    email: &str,
) -> anyhow::Result<()> {
    let Some((user, token)) = staff::start_reset(db, email).await? else {
        return Ok(());
    };
    let link = settings
        .public_url(&format!("/staff/password-reset/{token}"))
        .ok_or_else(|| anyhow::anyhow!("base_url is not set"))?;
    let args = [
        ("link", Arg::from(link)),
        ("minutes", Arg::from(RESET_MINUTES as u64)),
    ];
    let body = format!(
        "{}\n\n{}",
        i18n::t(Lang::Vi, "reset-mail-body", &args),
        i18n::t(Lang::En, "reset-mail-body", &args)
    );
    let subject = format!(
        "{} / {}",
        i18n::t(Lang::Vi, "reset-mail-subject", &[]),
        i18n::t(Lang::En, "reset-mail-subject", &[])
    );
    mailer.send(&user.email, &subject, body).await?;
    Ok(())
}

#[get("/password-reset/{token}")]
pub async fn new_password_form(
    state: web::Data<AppState>,
    path: web::Path<String>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let pending = staff::pending_reset(&state.db, &token).await?;
    if pending.is_none() {
        return Err(AppError::NotFound("reset_link_invalid"));
    }
    page(
        lang,
        "staff/reset_form.html",
        StatusCode::OK,
        None,
        vec![],
        Some(token),
    )
}

#[derive(Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
    #[serde(default)]
    csrf_token: String,
}

#[post("/password-reset/{token}")]
pub async fn set_new_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<NewPasswordForm>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    if !anonymous_csrf_ok(&req, &form.csrf_token) {
        return Err(AppError::Forbidden);
    }
    let token = path.into_inner();
    if form.new_password != form.confirm_password {
        let msg = i18n::t(lang, "account-mismatch", &[]);
        return page(
            lang,
            "staff/reset_form.html",
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            vec![msg],
            Some(token),
        );
    }
    match staff::finish_reset(&state.db, &token, &form.new_password).await {
        Ok(()) => Ok(HttpResponse::SeeOther()
            .insert_header(("Location", "/staff/login"))
            .finish()),
        Err(StaffError::NotFound) => Err(AppError::NotFound("reset_link_invalid")),
        Err(StaffError::Invalid(list)) => {
            let errors = list.iter().map(|f| field_message(lang, f)).collect();
            page(
                lang,
                "staff/reset_form.html",
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                errors,
                Some(token),
            )
        }
        Err(e) => Err(AppError::Internal(e.into())),
    }
}
