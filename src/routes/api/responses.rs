//! `POST /api/v1/campaigns/{slug}/responses`: submit one anonymous response.

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, mime, post, web};
use chrono::Utc;
use futures_util::StreamExt;
use serde::Serialize;

use crate::auth::Role;
use crate::domain::campaign::Channel;
use crate::domain::json::{StrictJsonError, parse_strict_object};
use crate::domain::submission::{Submission, parse_envelope};
use crate::domain::validation::FieldError;
use crate::error::AppError;
use crate::routes::extract::bearer_user;
use crate::routes::state::AppState;
use crate::services::responses::{self, Origin};
use crate::services::writer::Stored;

/// Largest accepted request body.
pub const MAX_BODY: usize = 64 * 1024;

/// The answer to a stored (or already stored) submission; a retry gets the
/// same body.
#[derive(Debug, Serialize)]
pub struct Receipt {
    pub submission_id: String,
    pub status: &'static str,
}

#[utoipa::path(tag = "public",
    params(("slug" = String, Path, description = "The campaign")),
    request_body(content = Object, content_type = "application/json",
        description = "{submission_id (UUID), locality, answers: {code: value}, channel?}; strict JSON, at most 64 KiB. \
channel: `api` (default) or `web` from anyone; `interview` or `paper` (face-to-face and paper entry) only with \
`Authorization: Bearer <token>` of a field manager or administrator; `kiosk` and `email` are refused (422): \
they come only from /k/… and /i/…"),
    responses((status = 201, description = "Stored (acknowledged after the commit)"),
        (status = 200, description = "Already stored under this submission_id; nothing new stored"),
        (status = 400, description = "Malformed JSON, BOM, trailing data, duplicate keys, invalid UTF-8", body = crate::routes::problem::ProblemBody),
        (status = 404, description = "Unknown campaign", body = crate::routes::problem::ProblemBody),
        (status = 401, description = "The Bearer token is unknown or revoked", body = crate::routes::problem::ProblemBody),
        (status = 403, description = "channel interview or paper with a token of a role other than field manager or administrator", body = crate::routes::problem::ProblemBody),
        (status = 409, description = "Campaign closed or not yet open", body = crate::routes::problem::ProblemBody),
        (status = 413, description = "Over 64 KiB", body = crate::routes::problem::ProblemBody),
        (status = 415, description = "Not application/json", body = crate::routes::problem::ProblemBody),
        (status = 422, description = "Invalid answers, each named; a channel this client may not claim", body = crate::routes::problem::ProblemBody),
        (status = 429, description = "Too many submissions from this address", body = crate::routes::problem::ProblemBody)))]
#[post("/campaigns/{slug}/responses")]
pub async fn submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    handle(req, &path, payload, &state, Channel::Api).await
}

async fn handle(
    req: HttpRequest,
    slug: &str,
    payload: web::Payload,
    state: &AppState,
    default_channel: Channel,
) -> Result<HttpResponse, AppError> {
    let submission = read_submission(&req, payload).await?;
    let cached = state.campaign_cache.get(&state.db, slug).await?;
    let today = Utc::now().date_naive();
    let channel = submission.channel.unwrap_or(default_channel);
    allow_channel(&req, channel).await?;
    let origin = Origin {
        channel,
        fixed_locality: None,
        invitation: None,
    };
    let accepted = responses::accept(
        &state.db,
        &state.writer,
        &cached,
        &submission,
        origin,
        today,
    )
    .await?;
    Ok(receipt(accepted))
}

/// A submission's JSON envelope from a request body: `application/json`, at
/// most [`MAX_BODY`], strict JSON (no duplicate keys, BOM or trailing data).
pub async fn read_submission(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Submission, AppError> {
    require_json(req)?;
    let body = read_limited(req, payload, MAX_BODY).await?;
    let map = parse_strict_object(&body).map_err(json_error)?;
    parse_envelope(map).map_err(AppError::Validation)
}

/// The answer to an accepted submission: 201 when new, 200 for a retry of
/// one already stored, with the same body.
pub fn receipt((submission_id, stored): (String, Stored)) -> HttpResponse {
    let receipt = Receipt {
        submission_id,
        status: "received",
    };
    match stored {
        Stored::New => HttpResponse::Created().json(receipt),
        Stored::Duplicate => HttpResponse::Ok().json(receipt),
    }
}

/// The channels a client of the public API may claim: `web` and `api` by
/// anyone; `kiosk` and `email` never (they come only from `/k/…` and `/i/…`);
/// `interview` and `paper` (face-to-face and paper entry) only with a field
/// manager's or an administrator's API token.
async fn allow_channel(req: &HttpRequest, channel: Channel) -> Result<(), AppError> {
    let refuse = |code: &str| AppError::Validation(vec![FieldError::new("channel", code)]);
    match channel {
        Channel::Web | Channel::Api => Ok(()),
        Channel::Kiosk | Channel::Email => Err(refuse("channel_own_route")),
        Channel::Interview | Channel::Paper => match bearer_user(req).await? {
            Some((_, Role::Admin | Role::FieldManager)) => Ok(()),
            Some(_) => Err(AppError::Forbidden),
            None => Err(refuse("channel_needs_field_token")),
        },
    }
}

/// `Content-Type: application/json` (optionally `; charset=utf-8`), else 415.
pub fn require_json(req: &HttpRequest) -> Result<(), AppError> {
    match req.mime_type() {
        Ok(Some(m))
            if m.essence_str() == mime::APPLICATION_JSON.essence_str()
                && m.get_param(mime::CHARSET).is_none_or(|c| c == mime::UTF_8) =>
        {
            Ok(())
        }
        _ => Err(AppError::UnsupportedMediaType),
    }
}

/// Reads the body, refusing more than `limit` bytes (413) without buffering them.
pub async fn read_limited(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::BytesMut, AppError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(AppError::PayloadTooLarge);
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(1024).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| AppError::BadRequest {
            code: "invalid_json",
            detail: e.to_string(),
        })?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub fn json_error(e: StrictJsonError) -> AppError {
    match e {
        StrictJsonError::Bom => AppError::BadRequest {
            code: "json_bom",
            detail: String::new(),
        },
        StrictJsonError::InvalidUtf8 => AppError::BadRequest {
            code: "invalid_utf8",
            detail: String::new(),
        },
        StrictJsonError::DuplicateKey(key) => AppError::BadRequest {
            code: "duplicate_key",
            detail: key,
        },
        StrictJsonError::NotAnObject => AppError::BadRequest {
            code: "expected_object",
            detail: String::new(),
        },
        StrictJsonError::Syntax(detail) => AppError::BadRequest {
            code: "invalid_json",
            detail,
        },
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    fn accepted(content_type: Option<&str>) -> bool {
        let mut req = TestRequest::default();
        if let Some(ct) = content_type {
            req = req.insert_header(("content-type", ct));
        }
        super::require_json(&req.to_http_request()).is_ok()
    }

    #[test]
    fn only_json_in_utf8_is_accepted() {
        for ok in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/json;charset=UTF-8",
            "application/json; charset=\"utf-8\"",
            "application/json; profile=x",
        ] {
            assert!(accepted(Some(ok)), "{ok}");
        }
        assert!(!accepted(None));
        for refused in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/json; charset=latin1",
            "application/jsonx",
            "<script>alert(\"hl\")</script>",
            "",
        ] {
            assert!(!accepted(Some(refused)), "{refused}");
        }
    }
}
