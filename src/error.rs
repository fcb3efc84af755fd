//! One application error with a small set of kinds, rendered as an HTML page
//! or a JSON problem in the requester's language.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, ResponseError};

use crate::domain::validation::FieldError;
use crate::domain::xlsform::{self, Warning};
use crate::i18n::{self, Arg, Lang};
use crate::templates;

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
    /// One client address has too many requests in progress at once.
    #[error("too many connections")]
    TooManyConnections,
    /// The request's body did not arrive in time.
    #[error("request timeout")]
    RequestTimeout,
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
            AppError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            AppError::TooManyConnections => StatusCode::TOO_MANY_REQUESTS,
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
            AppError::RequestTimeout => "request_timeout",
            AppError::TooManyConnections => "too_many_connections",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::Conflict(code) => code,
            AppError::Internal(_) => "internal",
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

/// A warning of the XLSForm importer in `lang`, with where it is:
/// `survey row 45 (a12), column relevant: …` / `trang survey, dòng 45
/// (a12), cột relevant: …`. Sheet, column and XLSForm names are the form's
/// own, kept as written.
pub fn warning_line(lang: Lang, w: &Warning) -> String {
    let mut line = place(lang, w.sheet, w.row, &w.name, false);
    if !w.column.is_empty() {
        line.push_str(", ");
        line.push_str(&i18n::t(
            lang,
            "xlsform-column",
            &[("column", Arg::from(w.column.as_str()))],
        ));
    }
    line.push_str(": ");
    line.push_str(&xlsform_message(lang, w.code, &w.params, ""));
    line
}

/// `survey row 45 (a12)`, `choices row 10 (of a12)`, `settings`.
fn place(lang: Lang, sheet: &str, row: usize, name: &str, of: bool) -> String {
    let sheet_arg = ("sheet", Arg::from(sheet));
    let mut out = if row > 0 {
        i18n::t(
            lang,
            "xlsform-sheet_row",
            &[sheet_arg, ("row", Arg::from(row.to_string()))],
        )
    } else {
        i18n::t(lang, "xlsform-sheet", &[sheet_arg])
    };
    if !name.is_empty() {
        let name = if of {
            i18n::t(lang, "xlsform-of", &[("name", Arg::from(name))])
        } else {
            name.to_owned()
        };
        out.push_str(&format!(" ({name})"));
    }
    out
}

/// The message `xlsform-<code>` with the parameters under `prefix`; the
/// nested parts (`why`, `then`, `first`: see [`xlsform::NESTED`]) are
/// translated in turn.
fn xlsform_message(
    lang: Lang,
    code: &str,
    params: &BTreeMap<String, String>,
    prefix: &str,
) -> String {
    let param = |key: &str| params.get(&format!("{prefix}{key}")).map(String::as_str);
    if code == xlsform::code::PLACE {
        let field = param("field").unwrap_or_default();
        let Some(sheet) = param("sheet") else {
            return field.to_owned();
        };
        let row = param("row").and_then(|r| r.parse().ok()).unwrap_or(0);
        let (name, of) = match param("of") {
            Some(of) => (of, true),
            None => (param("name").unwrap_or_default(), false),
        };
        let mut out = place(lang, sheet, row, name, of);
        if !field.is_empty() {
            out.push_str(", ");
            out.push_str(field);
        }
        return out;
    }
    let args: Vec<(&str, Arg)> = params
        .iter()
        .filter_map(|(k, v)| {
            let key = k.strip_prefix(prefix).filter(|k| !k.contains('.'))?;
            let value = if xlsform::NESTED.contains(&key) {
                xlsform_message(lang, v, params, &format!("{prefix}{key}."))
            } else {
                v.clone()
            };
            Some((key, Arg::from(value)))
        })
        .collect();
    i18n::t(lang, &format!("xlsform-{code}"), &args)
}

/// The bare answer of an error that escapes `routes::problem::render`
/// (which answers every route with a page or a JSON problem in the
/// request's language).
impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status())
            .content_type(ContentType::plaintext())
            .body(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::xlsform::{Reason, code};

    #[test]
    fn a_warning_reads_in_the_language_asked_for_nested_parts_included() {
        let w = Warning::new("survey", 45, "a12", "relevant", code::CONDITION_NOT_KEPT)
            .with("text", "${calc} > 3")
            .with_part(
                "why",
                Reason::new(code::COND_NOT_ASKED)
                    .with("name", "calc")
                    .with_part("why", Reason::new(code::NOT_ASKED_CALCULATION)),
            )
            .with_part("then", Reason::new(code::THEN_QUESTION_SHOWN));
        assert_eq!(
            warning_line(Lang::En, &w),
            "survey row 45 (a12), column relevant: \"${calc} > 3\" cannot be kept \
             (${calc} is not asked here (a calculation)): the question is always shown"
        );
        assert_eq!(
            warning_line(Lang::Vi, &w),
            "trang survey, dòng 45 (a12), cột relevant: không giữ được \"${calc} > 3\" \
             (${calc} không được hỏi ở đây (một phép tính)): câu hỏi luôn được hiển thị"
        );
    }

    #[test]
    fn a_place_inside_a_warning_is_translated_and_the_form_names_are_kept() {
        let first = Reason::new(code::PLACE)
            .with("sheet", "choices")
            .with("row", "10")
            .with("of", "a12")
            .with("field", "label.en");
        let w = Warning::new("settings", 0, "", "label", code::NO_VIETNAMESE)
            .with("count", "2")
            .with_part("first", first);
        assert_eq!(
            warning_line(Lang::En, &w),
            "settings, column label: 2 text(s) have no Vietnamese (the first: choices row 10 \
             (of a12), label.en): the questionnaire is imported as a draft that needs \
             translation before it can be published"
        );
        let vi = warning_line(Lang::Vi, &w);
        assert!(
            vi.starts_with(
                "trang settings, cột label: 2 văn bản chưa có tiếng Việt (văn bản đầu tiên: \
                 trang choices, dòng 10 (của a12), label.en): "
            ),
            "{vi}"
        );
        // Outside a row: the path alone; without a column: no column.
        let w = Warning::new("survey", 0, "", "", code::NO_VIETNAMESE)
            .with("count", "1")
            .with_part("first", Reason::new(code::PLACE).with("field", "title.vi"));
        assert!(
            warning_line(Lang::En, &w)
                .starts_with("survey: 1 text(s) have no Vietnamese (the first: title.vi): "),
            "{}",
            warning_line(Lang::En, &w)
        );
    }
}
