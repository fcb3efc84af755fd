//! One application error with a small set of kinds, rendered as an HTML page
//! or a JSON problem in the requester's language.

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::validation::FieldError;
use crate::i18n::{self, Arg, Lang};
use crate::templates;
use crate::views::Chrome;

/// What went wrong, in terms the user can act on.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Nothing at this address; the code says what was looked for.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// The input broke rules; every problem is listed.
    #[error("invalid input: {0:?}")]
    Validation(Vec<FieldError>),
    /// The request itself is malformed (bad JSON, bad encoding…).
    #[error("bad request: {code}")]
    BadRequest { code: &'static str, detail: String },
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("payload too large")]
    PayloadTooLarge,
    /// Too many requests from one client address in a short time.
    #[error("too many requests")]
    TooManyRequests,
    #[error("unauthorized")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    /// The request conflicts with the current state (e.g. a closed campaign).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// Anything else: logged with its chain, shown as a plain page.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        AppError::Internal(anyhow::Error::new(e))
    }
}

impl From<templates::RenderError> for AppError {
    fn from(e: templates::RenderError) -> Self {
        AppError::Internal(anyhow::Error::new(e))
    }
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable snake_case code; also the translation key `error-<code>`.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound(what) => what,
            AppError::Validation(_) => "validation_failed",
            AppError::BadRequest { code, .. } => code,
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::TooManyRequests => "too_many_requests",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::Conflict(code) => code,
            AppError::Internal(_) => "internal",
        }
    }

    /// Renders as a JSON problem.
    pub fn api(self, lang: Lang) -> Problem {
        Problem {
            error: self,
            lang,
            html: false,
        }
    }

    /// Renders as an HTML page.
    pub fn page(self, lang: Lang) -> Problem {
        Problem {
            error: self,
            lang,
            html: true,
        }
    }
}

/// The translated message of a field error.
pub fn field_message(lang: Lang, e: &FieldError) -> String {
    // A questionnaire's own message for a question (`constraint_message`,
    // `required_message`), carried as `message.<lang>` parameters.
    if let Some(own) = e
        .params
        .get(&format!("message.{}", lang.code()))
        .or_else(|| e.params.get("message.vi"))
    {
        return own.clone();
    }
    let args: Vec<(&str, Arg)> = e
        .params
        .iter()
        .map(|(k, v)| (k.as_str(), Arg::from(v.clone())))
        .collect();
    i18n::t(lang, &format!("error-{}", e.code), &args)
}

/// An [`AppError`] on its way to the client, with its language and format.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct Problem {
    pub error: AppError,
    pub lang: Lang,
    pub html: bool,
}

#[derive(Serialize)]
struct FieldView {
    field: String,
    code: String,
    message: String,
}

#[derive(Serialize)]
struct ProblemBody {
    error: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<FieldView>,
}

#[derive(Serialize)]
struct ErrorPage<'a> {
    #[serde(flatten)]
    chrome: Chrome,
    status: u16,
    title: String,
    message: String,
    fields: &'a [FieldView],
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        self.error.status()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.error.status();
        if let AppError::Internal(e) = &self.error {
            tracing::error!(error = format!("{e:#}"), "internal error");
        }
        let lang = self.lang;
        let code = self.error.code();
        let detail = match &self.error {
            AppError::BadRequest { detail, .. } => detail.clone(),
            _ => String::new(),
        };
        let message = i18n::t(
            lang,
            &format!("error-{code}"),
            &[("detail", Arg::from(detail))],
        );
        let fields: Vec<FieldView> = match &self.error {
            AppError::Validation(list) => list
                .iter()
                .map(|f| FieldView {
                    field: f.field.clone(),
                    code: f.code.clone(),
                    message: field_message(lang, f),
                })
                .collect(),
            _ => Vec::new(),
        };
        if self.html {
            let page = ErrorPage {
                chrome: Chrome::new(lang, "/"),
                status: status.as_u16(),
                title: i18n::t(
                    lang,
                    "error-title",
                    &[("status", Arg::from(u64::from(status.as_u16())))],
                ),
                message,
                fields: &fields,
            };
            match templates::render("error.html", &page) {
                Ok(body) => HttpResponse::build(status)
                    .content_type(ContentType::html())
                    .body(body),
                Err(e) => {
                    tracing::error!(error = %e, "cannot render error page");
                    HttpResponse::build(status)
                        .content_type(ContentType::plaintext())
                        .body(page.title)
                }
            }
        } else {
            HttpResponse::build(status).json(ProblemBody {
                error: code,
                message,
                fields,
            })
        }
    }
}
