//! The home page and the language switch.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use chrono::Utc;
use serde::Deserialize;

use crate::error::AppError;
use crate::i18n::{LANG_COOKIE, Lang};
use crate::routes::state::AppState;
use crate::services::campaigns;
use crate::templates;
use crate::views::home::HomePage;

#[get("/")]
pub async fn home(state: web::Data<AppState>, lang: Lang) -> Result<HttpResponse, AppError> {
    let today = Utc::now().date_naive();
    let open = campaigns::list_open(&state.db, today).await?;
    let page = HomePage::new(lang, "/", &open);
    let body = templates::render("home.html", &page)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body))
}

#[derive(Deserialize)]
pub struct SwitchQuery {
    next: Option<String>,
}

/// `GET /lang/{code}?next=/path`: remembers the choice in a cookie and goes back.
#[get("/lang/{code}")]
pub async fn switch_language(
    path: web::Path<String>,
    query: web::Query<SwitchQuery>,
) -> Result<HttpResponse, AppError> {
    let chosen =
        Lang::parse(&path).ok_or(crate::error::AppError::NotFound("language_not_found"))?;
    // Only local paths: never redirect to another site. No control
    // characters: a CR/LF or NUL cannot go into the Location header.
    let next = query
        .next
        .as_deref()
        .filter(|n| {
            n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control)
        })
        .unwrap_or("/");
    let cookie = Cookie::build(LANG_COOKIE, chosen.code())
        .path("/")
        .same_site(SameSite::Lax)
        .http_only(true)
        .max_age(actix_web::cookie::time::Duration::days(365))
        .finish();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, next.to_owned()))
        .cookie(cookie)
        .finish())
}
