//! `/i/{token}`: the survey opened from an emailed single-use invitation.
//! The token is never stored (with the response or anywhere): the link is
//! checked by its keyed lookup hash, and its use records only a keyed tag
//! (see `services::invitations`); the response says channel `email` only.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Utc;
use serde_json::Map;
use uuid::Uuid;

use crate::domain::flow::Step;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::routes::draft::Draft;
use crate::routes::respond::{
    Mode, StartQuery, advance, html, keep_draft, read_form, render_page, resume,
};
use crate::routes::state::AppState;
use crate::services::invitations;
use crate::services::responses::CachedCampaign;
use crate::templates;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(start).service(post_step);
}

async fn invited(state: &AppState, token: &str) -> Result<(Mode, Arc<CachedCampaign>), AppError> {
    let key = crate::secret_key::load(&state.settings)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("secret key: {e}")))?;
    let inv = invitations::open(&state.db, &key, token).await?;
    let c = state
        .campaign_cache
        .open_by_id(&state.db, inv.campaign_id, Utc::now().date_naive())
        .await?;
    let mode = Mode::for_invitation(token, &c.campaign.campaign.slug, inv);
    Ok((mode, c))
}

#[get("/i/{token}")]
pub async fn start(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<StartQuery>,
    state: web::Data<AppState>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let (mode, cached) = invited(&state, &path).await?;
    if let Some(res) = resume(&req, &state, &cached, &mode, lang, &query, "")? {
        return Ok(res);
    }
    let raw = Map::new();
    let sid = Uuid::new_v4().hyphenated().to_string();
    let page = render_page(
        &cached.campaign,
        &mode,
        lang,
        req.path(),
        &sid,
        Step::Locality,
        "",
        &raw,
        &[],
        false,
        None,
        &cached.province_names,
    );
    let mut res = html(templates::render("respond/survey.html", &page)?);
    keep_draft(
        &mut res,
        &state,
        &mode,
        &Draft::start(&sid, "", Step::Locality),
    )?;
    Ok(res)
}

#[post("/i/{token}")]
pub async fn post_step(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let fields = read_form(&req, payload).await?;
    let (mode, c) = invited(&state, &path).await?;
    advance(&req, &state, &c, &mode, lang, &fields).await
}
