//! Kiosk mode at `/k/{token}`: the survey on a tablet at a service desk.
//!
//! The token in the URL identifies a registered kiosk (campaign, locality,
//! service). It is never stored with a response: a kiosk response carries
//! the channel `kiosk` only. Request logs name the route pattern, not the
//! path, so the token does not reach the logs either. The page works without
//! JavaScript; with it (`/static/kiosk.js`), answers are queued in the browser
//! when the network is down and sent when it returns, each with its own
//! client-generated submission id so a retry never creates a duplicate, and
//! shows one section per screen. Its service worker (`/k/sw.js`) keeps the
//! page, stylesheet and scripts so a reload or restart offline still works.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Utc;
use serde_json::Map;
use uuid::Uuid;

use crate::domain::campaign::Channel;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::routes::api::responses::{read_submission, receipt};
use crate::routes::respond::{Mode, advance, html, offers, read_form, render_page};
use crate::routes::state::AppState;
use crate::services::responses::{CachedCampaign, Origin};
use crate::services::{kiosks, responses};
use crate::templates;
use crate::views::Chrome;
use crate::views::respond::ThanksPage;

/// The kiosk script, embedded.
pub const SCRIPT: &str = include_str!("../../templates/static/kiosk.js");
/// The condition evaluator the kiosk script uses, embedded.
pub const CONDITIONS: &str = include_str!("../../templates/static/conditions.js");
/// The kiosk's service worker (offline after a reload or restart), embedded.
pub const WORKER: &str = include_str!("../../templates/static/kiosk-sw.js");

pub fn configure(cfg: &mut web::ServiceConfig) {
    // The worker before `/k/{token}`, which would take `sw.js` for a token.
    cfg.service(script)
        .service(conditions_script)
        .service(worker)
        .service(start)
        .service(post_step)
        .service(thanks)
        .service(submit);
}

#[get("/static/kiosk.js")]
pub async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(SCRIPT)
}

#[get("/static/conditions.js")]
pub async fn conditions_script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(CONDITIONS)
}

/// `GET /k/sw.js`: the kiosk's service worker. Served under `/k/` so its
/// default scope covers the kiosk pages (no `Service-Worker-Allowed` needed);
/// `no-cache` so a new version reaches the tablets at their next check.
#[get("/k/sw.js")]
pub async fn worker() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(WORKER)
}

/// The kiosk and its open campaign.
async fn kiosk_campaign(
    state: &AppState,
    token: &str,
) -> Result<(entity::kiosk::Model, Arc<CachedCampaign>), AppError> {
    let kiosk = kiosks::by_token(&state.db, token).await?;
    let c = state
        .campaign_cache
        .open_by_id(&state.db, kiosk.campaign_id, Utc::now().date_naive())
        .await?;
    Ok((kiosk, c))
}

#[get("/k/{token}")]
pub async fn start(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let (kiosk, cached) = kiosk_campaign(&state, &path).await?;
    let c = &cached.campaign;
    let mode = Mode::for_kiosk(&path, &kiosk.locality_code);
    let raw = Map::new();
    let sid = Uuid::new_v4().hyphenated().to_string();
    let offered = offers(c);
    let step = mode.survey(c, &offered).start(None);
    let page = render_page(
        c,
        &mode,
        lang,
        req.path(),
        &sid,
        step,
        &kiosk.locality_code,
        &raw,
        &[],
        false,
        None,
        &cached.province_names,
    );
    Ok(html(templates::render("respond/survey.html", &page)?))
}

/// Without JavaScript the kiosk posts its form like the phone survey.
#[post("/k/{token}")]
pub async fn post_step(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let fields = read_form(&req, payload).await?;
    let (kiosk, c) = kiosk_campaign(&state, &path).await?;
    let mode = Mode::for_kiosk(&path, &kiosk.locality_code);
    advance(&req, &state, &c, &mode, lang, &fields).await
}

/// The thanks page returns to a fresh start after a few seconds (meta refresh).
#[get("/k/{token}/thanks")]
pub async fn thanks(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let (_, cached) = kiosk_campaign(&state, &path).await?;
    let c = &cached.campaign;
    let page = ThanksPage {
        chrome: Chrome::new(lang, req.path()),
        campaign: lang
            .pick(&c.campaign.name_vi, &c.campaign.name_en)
            .to_owned(),
        again: Some(format!("/k/{}", path.as_str())),
        results: None,
        kiosk: true,
    };
    Ok(html(templates::render("respond/thanks.html", &page)?))
}

/// `POST /k/{token}/responses`: the kiosk script's JSON submission (the same
/// envelope and rules as the public API; locality must be the kiosk's, the
/// channel is always `kiosk`).
#[post("/k/{token}/responses")]
pub async fn submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let submission = read_submission(&req, payload).await?;
    let (kiosk, c) = kiosk_campaign(&state, &path).await?;
    let origin = Origin {
        channel: Channel::Kiosk,
        fixed_locality: Some(&kiosk.locality_code),
        invitation: None,
    };
    let today = Utc::now().date_naive();
    let accepted =
        responses::accept(&state.db, &state.writer, &c, &submission, origin, today).await?;
    Ok(receipt(accepted))
}
