//! Authentication as extractor types: a handler that takes [`StaffUser`]
//! cannot run for an anonymous visitor, one that takes [`StaffForm`] cannot
//! run without a valid CSRF token, and [`ApiUser`] accepts a session or a
//! bearer API token (a session changing state only with the `X-CSRF-Token`
//! header).

use actix_web::http::header::{AUTHORIZATION, LOCATION};
use actix_web::http::{Method, StatusCode};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, dev::Payload, web};
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use crate::error::AppError;
use crate::i18n::Lang;
use crate::routes::state::AppState;

use crate::auth::Role;
use crate::auth::session::{self, Authenticated, SESSION_COOKIE};
pub use crate::auth::user::{ApiUser, StaffUser, StaffView};

/// Why a staff page was refused: anonymous visitors are sent to sign in.
#[derive(Debug, thiserror::Error)]
pub enum StaffRejection {
    #[error("sign-in required")]
    SignIn { next: String },
    #[error(transparent)]
    Problem(#[from] AppError),
}

impl ResponseError for StaffRejection {
    fn status_code(&self) -> StatusCode {
        match self {
            StaffRejection::SignIn { .. } => StatusCode::SEE_OTHER,
            StaffRejection::Problem(p) => p.status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            StaffRejection::SignIn { next } => {
                let target = if next == "/staff" || next.is_empty() {
                    "/staff/login".to_owned()
                } else {
                    format!("/staff/login?next={}", crate::views::encode_path(next))
                };
                HttpResponse::SeeOther()
                    .insert_header((LOCATION, target))
                    .finish()
            }
            StaffRejection::Problem(p) => p.error_response(),
        }
    }
}

fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("application state missing")))
}

async fn from_cookie(req: &HttpRequest) -> Result<Option<Authenticated>, AppError> {
    let state = state_of(req)?;
    let Some(cookie) = req.cookie(SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some(value) = session::open_cookie(&state.cookie_key, &cookie) else {
        return Ok(None);
    };
    Ok(session::lookup(&state.db, &value).await?)
}

fn to_staff(auth: Authenticated, lang: Lang) -> Option<StaffUser> {
    let session = auth.session?;
    let localities = session::localities_of(&auth.user);
    Some(StaffUser {
        id: auth.user.id,
        email: auth.user.email,
        role: auth.role,
        localities,
        session_id: session.id,
        csrf_token: session.csrf_token,
        lang,
    })
}

impl FromRequest for StaffUser {
    type Error = StaffRejection;
    type Future = LocalBoxFuture<'static, Result<StaffUser, StaffRejection>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let lang = Lang::of_request(&req);
            let auth = from_cookie(&req).await?;
            auth.and_then(|a| to_staff(a, lang))
                .ok_or_else(|| StaffRejection::SignIn {
                    next: req.uri().path().to_owned(),
                })
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_of(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
}

/// The caller named by an API token only (a session cookie does not count):
/// `None` without an `Authorization: Bearer` header, 401 for a token that
/// is unknown, revoked or belongs to an inactive account.
pub async fn bearer_user(req: &HttpRequest) -> Result<Option<(i64, Role)>, AppError> {
    let Some(token) = bearer_of(req) else {
        return Ok(None);
    };
    let state = state_of(req)?;
    session::lookup_token(&state.db, &token)
        .await?
        .map(|a| Some((a.user.id, a.role)))
        .ok_or(AppError::Unauthorized)
}

/// The API caller, if any (for endpoints that are public for some objects).
pub async fn api_user(req: &HttpRequest) -> Result<Option<ApiUser>, AppError> {
    let lang = Lang::of_request(req);
    let bearer = bearer_of(req);
    let auth = match bearer {
        Some(token) => {
            let state = state_of(req)?;
            session::lookup_token(&state.db, &token).await?
        }
        None => {
            let auth = from_cookie(req).await?;
            if let Some(session) = auth.as_ref().and_then(|a| a.session.as_ref())
                && changes_state(req)
                && !csrf_header_ok(req, &session.csrf_token)
            {
                // A page on another site can make the browser send the
                // cookie, but cannot read or set this header.
                return Err(AppError::Forbidden);
            }
            auth
        }
    };
    Ok(auth.map(|a| ApiUser {
        localities: session::localities_of(&a.user),
        id: a.user.id,
        email: a.user.email,
        role: a.role,
        lang,
    }))
}

impl FromRequest for ApiUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<ApiUser, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { api_user(&req).await?.ok_or_else(|| AppError::Unauthorized) })
    }
}

/// The header a cookie-authenticated state change on `/api/v1` must carry,
/// equal to the session's CSRF token (the one staff pages embed).
pub const CSRF_HEADER: &str = "x-csrf-token";

/// POST, PUT, PATCH, DELETE (anything but a safe method) on the JSON API.
fn changes_state(req: &HttpRequest) -> bool {
    req.path().starts_with("/api/")
        && !matches!(
            *req.method(),
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        )
}

fn csrf_header_ok(req: &HttpRequest, expected: &str) -> bool {
    req.headers()
        .get(CSRF_HEADER)
        .is_some_and(|v| constant_time_eq(v.as_bytes(), expected.as_bytes()))
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf_token: String,
}

/// A form posted by a signed-in staff member, its CSRF token checked.
pub struct StaffForm<T> {
    pub user: StaffUser,
    pub form: T,
}

/// Largest staff form accepted.
const FORM_LIMIT: usize = 256 * 1024;

impl<T: DeserializeOwned + 'static> FromRequest for StaffForm<T> {
    type Error = StaffRejection;
    type Future = LocalBoxFuture<'static, Result<StaffForm<T>, StaffRejection>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let user = StaffUser::from_request(&req, &mut Payload::None).await?;
            let body = body.await.map_err(|e| AppError::BadRequest {
                code: "bad_form",
                detail: e.to_string(),
            })?;
            if body.len() > FORM_LIMIT {
                return Err(AppError::PayloadTooLarge.into());
            }
            let csrf: CsrfField =
                serde_urlencoded::from_bytes(&body).map_err(|e| AppError::BadRequest {
                    code: "bad_form",
                    detail: e.to_string(),
                })?;
            if !constant_time_eq(csrf.csrf_token.as_bytes(), user.csrf_token.as_bytes()) {
                return Err(AppError::Forbidden.into());
            }
            let form: T =
                serde_urlencoded::from_bytes(&body).map_err(|e| AppError::BadRequest {
                    code: "bad_form",
                    detail: e.to_string(),
                })?;
            Ok(StaffForm { user, form })
        })
    }
}

/// Compares secrets without revealing where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    !a.is_empty() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn tokens_match_only_when_equal_and_not_empty() {
        assert!(constant_time_eq(b"abc123", b"abc123"));
        assert!(!constant_time_eq(b"abc123", b"abc124"));
        assert!(!constant_time_eq(b"abc", b"abc123"));
        assert!(!constant_time_eq(b"", b""));
    }
}
