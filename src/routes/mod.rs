//! HTTP handlers by audience: public pages, the JSON API, health checks.

pub mod api;
pub mod assets;
pub mod audience;
pub mod extract;
pub mod first_page;
pub mod health;
pub mod home;
pub mod invite;
pub mod kiosk;
pub mod rate_limit;
pub mod respond;
pub mod results;
pub mod staff;
pub mod state;

use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::AppError;
use crate::i18n::Lang;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(health::livez)
        .service(health::metrics)
        .service(home::home)
        .service(home::switch_language)
        .service(assets::stylesheet)
        .configure(results::configure)
        .configure(respond::configure)
        .configure(kiosk::configure)
        .configure(invite::configure)
        .service(web::scope("/api/v1").configure(api::configure))
        .service(web::scope("/staff").configure(staff::configure));
}

/// The answer to an unknown address: a page, or a JSON problem under `/api/`.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, crate::error::Problem> {
    let lang = Lang::of_request(&req);
    let err = AppError::NotFound("page_not_found");
    if req.path().starts_with("/api/") {
        Err(err.api(lang))
    } else {
        Err(err.page(lang))
    }
}
