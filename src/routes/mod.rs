//! HTTP handlers by audience: public pages, the JSON API, health checks.

pub mod api;
pub mod assets;
pub mod audience;
pub mod draft;
pub mod extract;
pub mod first_page;
pub mod health;
pub mod home;
pub mod invite;
pub mod kiosk;
pub mod limits;
pub mod problem;
pub mod rate_limit;
pub mod respond;
pub mod results;
pub mod staff;
pub mod state;

use actix_web::http::header::{Charset, ContentDisposition, DispositionParam, ExtendedValue};
use actix_web::{HttpResponse, web};

use crate::error::AppError;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(health::livez)
        .service(health::metrics)
        .service(home::home)
        .service(home::switch_language)
        .service(assets::stylesheet)
        .service(assets::locality_script)
        .service(assets::copy_script)
        .configure(results::configure)
        .configure(respond::configure)
        .configure(kiosk::configure)
        .configure(invite::configure)
        .configure(api::mount)
        .service(web::scope("/staff").configure(staff::configure));
}

/// Paths a respondent's browser or device uses: survey pages (`/s/…`), kiosks
/// (`/k/…`), invitations (`/i/…`), the submission API and the static files
/// their pages load. Nothing about these requests is logged.
pub fn is_respondent_path(path: &str) -> bool {
    path.starts_with("/s/")
        || path.starts_with("/k/")
        || path.starts_with("/i/")
        || path.starts_with("/static/")
        || (path.starts_with("/api/v1/campaigns/")
            && path.trim_end_matches('/').ends_with("/responses"))
}

/// The answer to an unknown address (a page, or a JSON problem under `/api/`).
pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound("page_not_found"))
}

/// `Content-Disposition: attachment` for a download named `filename`: its
/// `filename` quoted (with `"` and `\\` escaped), plus RFC 6266's
/// `filename*=UTF-8''…` when the name is not ASCII.
pub fn attachment(filename: &str) -> ContentDisposition {
    let mut header = ContentDisposition::attachment(filename);
    if !filename.is_ascii() {
        header
            .parameters
            .push(DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".to_owned()),
                language_tag: None,
                value: filename.as_bytes().to_vec(),
            }));
    }
    header
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::TryIntoHeaderValue;

    fn shown(filename: &str) -> String {
        let value = super::attachment(filename).try_into_value();
        String::from_utf8(value.map(|v| v.as_bytes().to_vec()).unwrap_or_default())
            .unwrap_or_default()
    }

    #[test]
    fn downloads_are_attachments_with_a_quoted_name() {
        assert_eq!(shown("sipas.json"), "attachment; filename=\"sipas.json\"");
        assert_eq!(shown("a\"b.json"), "attachment; filename=\"a\\\"b.json\"");
        assert_eq!(
            shown("hà nội.csv"),
            "attachment; filename=\"hà nội.csv\"; filename*=UTF-8''h%C3%A0%20n%E1%BB%99i.csv"
        );
    }
}
