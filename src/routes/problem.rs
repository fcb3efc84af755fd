//! The one edge where an error becomes what the client sees. Handlers and
//! extractors return [`AppError`] and use `?`; [`render`], a middleware
//! around every route, turns an error response into a page or a JSON
//! problem in the request's language: JSON under `/api/` and for requests
//! that send JSON (the kiosk script's submissions), a page otherwise.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, mime};
use serde::Serialize;

use crate::error::{AppError, field_message};
use crate::i18n::{self, Arg, Lang};
use crate::routes::extract::StaffRejection;
use crate::templates;
use crate::views::Chrome;

/// A problem as the JSON API answers it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemBody {
    /// Stable snake_case code of the error.
    #[schema(example = "validation_failed")]
    pub error: &'static str,
    /// What went wrong, in the request's language.
    pub message: String,
    /// For invalid input: every problem, by field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldProblem>,
}

/// One problem with one field of the input.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    /// Path of the field, e.g. `answers.q3` or `sections[0].questions[2].label.vi`.
    pub field: String,
    /// Stable snake_case code of the problem.
    pub code: String,
    /// The problem in the request's language.
    pub message: String,
}

#[derive(Serialize)]
struct ErrorPage<'a> {
    #[serde(flatten)]
    chrome: Chrome,
    status: u16,
    title: String,
    /// The status code in small print ("Mã lỗi 404").
    code_line: String,
    message: String,
    fields: &'a [FieldProblem],
    /// For a 401 on a page: the sign-in page, which comes back here.
    sign_in: Option<String>,
}

/// Whether a request is answered in JSON: under `/api/`, or when it sends
/// JSON itself.
pub fn wants_json(req: &HttpRequest) -> bool {
    req.path().starts_with("/api/")
        || req
            .mime_type()
            .ok()
            .flatten()
            .is_some_and(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
}

/// What the answer to an error depends on: the request's language, whether
/// it is answered in JSON, and whether a respondent asked.
struct Asker {
    lang: Lang,
    json: bool,
    respondent: bool,
    /// The path and query of a GET (or HEAD) request: where the error page's language
    /// links and sign-in link come back to. `None` for other methods.
    back: Option<String>,
}

impl Asker {
    fn of(req: &HttpRequest) -> Asker {
        let method = req.method();
        let back = (method == actix_web::http::Method::GET
            || method == actix_web::http::Method::HEAD)
            .then(|| match req.query_string() {
                "" => req.path().to_owned(),
                q => format!("{}?{q}", req.path()),
            });
        Asker {
            lang: Lang::of_request(req),
            json: wants_json(req),
            respondent: super::is_respondent_path(req.path()),
            back,
        }
    }
}

/// The response to `error` for this request.
pub fn respond(req: &HttpRequest, error: &AppError) -> HttpResponse {
    answer(&Asker::of(req), error)
}

fn answer(asker: &Asker, error: &AppError) -> HttpResponse {
    let status = error.status();
    if let AppError::Internal(e) = error {
        if asker.respondent {
            // No line at the default level carries a respondent's time.
            tracing::debug!(error = format!("{e:#}"), "internal error");
        } else {
            tracing::error!(error = format!("{e:#}"), "internal error");
        }
    }
    let lang = asker.lang;
    let body = problem_body(error, lang);
    if asker.json {
        return HttpResponse::build(status).json(body);
    }
    let code = [("status", Arg::from(u64::from(status.as_u16())))];
    let page = ErrorPage {
        chrome: Chrome::new(lang, asker.back.as_deref().unwrap_or("/")),
        status: status.as_u16(),
        title: i18n::t(lang, "error-title", &code),
        code_line: i18n::t(lang, "error-status-code", &code),
        message: body.message,
        fields: &body.fields,
        sign_in: asker
            .back
            .as_deref()
            .filter(|_| status == StatusCode::UNAUTHORIZED)
            .map(|back| format!("/staff/login?next={}", crate::views::encode_path(back))),
    };
    match templates::render("error.html", &page) {
        Ok(html) => HttpResponse::build(status)
            .content_type(ContentType::html())
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "cannot render error page");
            HttpResponse::build(status)
                .content_type(ContentType::plaintext())
                .body(page.title)
        }
    }
}

/// The problem's code, message and field problems in a language.
pub fn problem_body(error: &AppError, lang: Lang) -> ProblemBody {
    let code = error.code();
    let detail = match error {
        AppError::BadRequest { detail, .. } => detail.clone(),
        _ => String::new(),
    };
    let message = i18n::t(
        lang,
        &format!("error-{code}"),
        &[("detail", Arg::from(detail))],
    );
    let fields = match error {
        AppError::Validation(list) => list
            .iter()
            .map(|f| FieldProblem {
                field: f.field.clone(),
                code: f.code.clone(),
                message: field_message(lang, f),
            })
            .collect(),
        _ => Vec::new(),
    };
    ProblemBody {
        error: code,
        message,
        fields,
    }
}

/// Headers every response carries, error pages and 404s included (names in lower case).
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    (
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
];

/// Middleware: an error response (from a handler, an extractor or an inner
/// middleware) carrying an [`AppError`] is answered by [`respond`]; the
/// headers the error response already had (such as `Connection: close` or
/// `Retry-After`) are kept.
pub async fn render(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // Read before routing: the router needs the request to itself.
    let asker = Asker::of(req.request());
    match next.call(req).await {
        Ok(res) => {
            let Some(error) = res.response().error().and_then(app_error) else {
                return Ok(res.map_into_boxed_body());
            };
            let mut fresh = answer(&asker, error);
            for (name, value) in res.response().headers() {
                if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                    fresh.headers_mut().insert(name.clone(), value.clone());
                }
            }
            Ok(res.into_response(fresh))
        }
        // An inner middleware failed: the error goes past the middleware outside
        // this one (the security headers), so its answer carries them itself.
        Err(e) => match app_error(&e) {
            Some(error) => {
                let mut res = answer(&asker, error);
                for (name, value) in SECURITY_HEADERS {
                    res.headers_mut().insert(
                        header::HeaderName::from_static(name),
                        header::HeaderValue::from_static(value),
                    );
                }
                Err(InternalError::from_response(error.code(), res).into())
            }
            None => Err(e),
        },
    }
}

/// The [`AppError`] an actix error carries, if any (a staff page's
/// rejection carries one unless it sends the visitor to sign in).
fn app_error(e: &actix_web::Error) -> Option<&AppError> {
    e.as_error::<AppError>()
        .or_else(|| match e.as_error::<StaffRejection>() {
            Some(StaffRejection::Problem(inner)) => Some(inner),
            _ => None,
        })
}

/// A status code from an extractor's rejection as the error it stands for.
pub fn from_status(status: StatusCode, detail: String) -> AppError {
    match status {
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType,
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        StatusCode::NOT_FOUND => AppError::NotFound("page_not_found"),
        _ => AppError::BadRequest {
            code: "bad_request",
            detail,
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use actix_web::middleware::{DefaultHeaders, from_fn};
    use actix_web::{App, HttpResponse, test, web};

    use super::*;

    /// A middleware that fails before the handler, as the submission limit or a body
    /// deadline may.
    async fn failing(
        _req: ServiceRequest,
        _next: Next<impl MessageBody + 'static>,
    ) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
        Err(AppError::NotFound("page_not_found").into())
    }

    #[actix_web::test]
    async fn an_error_from_an_inner_middleware_still_gets_the_security_headers() {
        let app = test::init_service(
            App::new()
                .route("/", web::get().to(HttpResponse::Ok))
                .wrap(from_fn(failing))
                .wrap(from_fn(render))
                .wrap(DefaultHeaders::new().add(("X-Test", "outer"))),
        )
        .await;
        // The error passes the outer middleware as an error; actix renders it at the edge.
        let req = test::TestRequest::get().uri("/").to_request();
        let res = match test::try_call_service(&app, req).await {
            Ok(r) => r.into_parts().1,
            Err(e) => e.error_response(),
        };
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(res.headers().get("x-frame-options").unwrap(), "DENY");
        assert!(res.headers().contains_key("content-security-policy"));
        let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        assert!(
            String::from_utf8_lossy(&body).contains("<html"),
            "the error page"
        );
    }

    async fn missing() -> Result<HttpResponse, AppError> {
        Err(AppError::Unauthorized)
    }

    #[actix_web::test]
    async fn routed_requests_pass_the_edge_and_a_401_page_offers_to_sign_in_and_come_back() {
        let app = test::init_service(
            App::new()
                .route("/", web::get().to(HttpResponse::Ok))
                .route("/results/private", web::get().to(missing))
                .wrap(from_fn(render)),
        )
        .await;
        let res = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
        assert_eq!(res.status(), StatusCode::OK, "routed through the edge");
        let req = test::TestRequest::get()
            .uri("/results/private?index=A")
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let body = String::from_utf8_lossy(&test::read_body(res).await).into_owned();
        assert!(body.contains("<h1>Cần đăng nhập</h1>"), "{body}");
        assert!(body.contains("Mã lỗi 401"), "{body}");
        assert!(
            body.contains("/staff/login?next=&#x2f;results&#x2f;private%3Findex%3DA")
                || body
                    .contains("&#x2f;staff&#x2f;login?next=&#x2f;results&#x2f;private%3Findex%3DA"),
            "{body}"
        );
    }

    #[actix_web::test]
    async fn every_status_has_a_human_headline() {
        let title =
            |lang, status: u64| i18n::t(lang, "error-title", &[("status", Arg::from(status))]);
        assert_eq!(title(Lang::Vi, 404), "Không tìm thấy trang");
        assert_eq!(title(Lang::En, 401), "Sign-in needed");
        assert_eq!(title(Lang::Vi, 409), "Chưa thể thực hiện");
        assert_eq!(title(Lang::En, 500), "Something went wrong");
        for status in [400, 401, 403, 404, 408, 409, 413, 415, 422, 429, 500, 503] {
            for lang in [Lang::Vi, Lang::En] {
                let t = title(lang, status);
                assert!(!t.contains(&status.to_string()), "{t}");
            }
        }
    }
}
