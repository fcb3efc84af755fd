//! The one stylesheet and the small scripts (the survey's locality search, the staff
//! pages' copy buttons), embedded: no external fonts, scripts or CDNs.

use actix_web::http::header;
use actix_web::{HttpResponse, get};

/// The stylesheet's contents.
pub const CSS: &str = include_str!("../../templates/static/app.css");

#[get("/static/app.css")]
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(CSS)
}

/// The locality list's search (`templates/static/locality.js`).
pub const LOCALITY_JS: &str = include_str!("../../templates/static/locality.js");

#[get("/static/locality.js")]
pub async fn locality_script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(LOCALITY_JS)
}

/// The copy buttons of the staff pages (progressive enhancement).
pub const COPY_SCRIPT: &str = include_str!("../../templates/static/copy.js");

#[get("/static/copy.js")]
pub async fn copy_script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(COPY_SCRIPT)
}
