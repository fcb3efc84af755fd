//! A campaign's hub (`/staff/campaigns/{slug}`): status, fieldwork as of the latest
//! publication (never a live count: it would date the responses), the survey's link with
//! its QR code, a link, QR code and printable poster per locality, and links to every
//! other page of the campaign. Its settings form is at `/staff/campaigns/{slug}/settings`.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, get, web};
use entity::campaign_locality;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

use crate::auth::{Access, Area};
use crate::error::AppError;
use crate::i18n;
use crate::routes::extract::StaffUser;
use crate::routes::respond::{public_address, qr_svg_answer};
use crate::routes::state::AppState;
use crate::services::campaigns::{self, OpenCampaign};
use crate::services::publication;
use crate::services::results::{self, Audience};
use crate::views::staff::hub::{
    HubLink, HubPage, LocalityLine, PosterPage, ProvinceGroup, PublishedView, inline_qr, status_of,
};

use super::render;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(show).service(qr_svg).service(poster);
}

/// `?l=CODE`: one locality of the campaign.
#[derive(Debug, Default, Deserialize)]
pub struct LocalityQuery {
    #[serde(default)]
    l: Option<String>,
}

fn survey_path(slug: &str, locality: Option<&str>) -> String {
    match locality {
        Some(code) => format!("/s/{slug}?l={code}"),
        None => format!("/s/{slug}"),
    }
}

/// What a role may open from the hub, in the order shown.
fn links(user: &StaffUser, slug: &str) -> Vec<HubLink> {
    let role = user.role;
    let mut out = Vec::new();
    let mut add = |ok: bool, href: String, key: &'static str, hint: &'static str| {
        if ok {
            out.push(HubLink { href, key, hint });
        }
    };
    add(
        role.can(Area::Kiosks, Access::Read),
        format!("/staff/kiosks?campaign={slug}"),
        "hub-link-kiosks",
        "hub-link-kiosks-hint",
    );
    add(
        role.can(Area::Invitations, Access::Read),
        format!("/staff/campaigns/{slug}/invitations"),
        "hub-link-invitations",
        "hub-link-invitations-hint",
    );
    add(
        role.can(Area::Results, Access::Read),
        format!("/staff/campaigns/{slug}/targets"),
        "hub-link-targets",
        "hub-link-targets-hint",
    );
    add(
        role.can(Area::Results, Access::Read),
        format!("/staff/campaigns/{slug}/reports"),
        "hub-link-reports",
        "hub-link-reports-hint",
    );
    add(
        true,
        format!("/results/{slug}"),
        "hub-link-results",
        "hub-link-results-hint",
    );
    add(
        role.can(Area::Results, Access::Read),
        format!("/staff/campaigns/{slug}/reports#pub-h"),
        "hub-link-publication",
        "hub-link-publication-hint",
    );
    add(
        role.can(Area::Campaigns, Access::Read),
        format!("/staff/campaigns/{slug}/settings"),
        "hub-link-settings",
        "hub-link-settings-hint",
    );
    out
}

/// Responses as a whole percent of the target, at most 100 (for the bar).
fn percent(responses: Option<u64>, target: Option<u64>) -> Option<u64> {
    match (responses, target) {
        (Some(r), Some(t)) if t > 0 => Some((r.saturating_mul(100) / t).min(100)),
        _ => None,
    }
}

/// The localities `user` may see, grouped by province, with their links and fieldwork as
/// of `published` (`None`: nothing published yet).
async fn groups(
    req: &HttpRequest,
    state: &AppState,
    user: &StaffUser,
    c: &OpenCampaign,
    published: Option<&results::Published>,
) -> Result<Vec<ProvinceGroup>, AppError> {
    let lang = user.lang;
    let slug = &c.campaign.slug;
    let audience = Audience::account(user.localities.clone());
    // Responses as published, and the plan's targets, per locality.
    let fieldwork: BTreeMap<String, (Option<u64>, Option<u64>)> = match published {
        Some(p) => results::fieldwork(&state.db, c, &p.results, &audience)
            .await?
            .into_iter()
            .map(|f| (f.code, (Some(f.responses), f.target)))
            .collect(),
        None => campaign_locality::Entity::find()
            .filter(campaign_locality::Column::CampaignId.eq(c.campaign.id))
            .all(&state.db)
            .await?
            .into_iter()
            .filter(|l| {
                let parent = c
                    .localities
                    .iter()
                    .find(|x| x.code == l.locality_code)
                    .and_then(|x| x.parent_code.as_deref());
                audience.sees(&l.locality_code, parent)
            })
            .map(|l| {
                let target = l.target_n.and_then(|t| u64::try_from(t).ok());
                (l.locality_code, (None, target))
            })
            .collect(),
    };
    let provinces = campaigns::province_names(&state.db, c).await?;
    let mut by_province: BTreeMap<String, ProvinceGroup> = BTreeMap::new();
    for l in &c.localities {
        let Some((responses, target)) = fieldwork.get(&l.code).copied() else {
            continue;
        };
        let parent = l.parent_code.clone().unwrap_or_default();
        let name = provinces
            .get(&parent)
            .map(|(vi, en)| lang.pick(vi, en).to_owned())
            .unwrap_or_default();
        let path = survey_path(slug, Some(&l.code));
        let group = by_province.entry(parent).or_insert_with(|| ProvinceGroup {
            name,
            localities: Vec::new(),
            responses: published.map(|_| 0),
            target: None,
        });
        group.responses = group.responses.map(|n| n + responses.unwrap_or(0));
        if let Some(t) = target {
            group.target = Some(group.target.unwrap_or(0) + t);
        }
        group.localities.push(LocalityLine {
            code: l.code.clone(),
            name: l.name(lang).to_owned(),
            link: public_address(req, state, &path)
                .map(|(url, _)| url)
                .unwrap_or(path),
            qr: format!("/staff/campaigns/{slug}/qr.svg?l={}", l.code),
            poster: format!("/staff/campaigns/{slug}/poster?l={}", l.code),
            responses,
            target,
            percent: percent(responses, target),
        });
    }
    Ok(by_province.into_values().collect())
}

/// The latest publication's results, `None` before the first.
async fn latest(
    state: &AppState,
    c: &OpenCampaign,
) -> Result<Option<results::Published>, AppError> {
    match publication::published(&state.db, c).await {
        Ok(p) => Ok(Some(p)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `GET /staff/campaigns/{slug}`: the campaign's hub.
#[get("/campaigns/{slug}")]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: StaffUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    user.require(Area::Campaigns, Access::Read)?;
    let lang = user.lang;
    let c = campaigns::by_slug(&state.db, &path).await?;
    let slug = c.campaign.slug.clone();
    let published = latest(&state, &c).await?;
    let groups = groups(&req, &state, &user, &c, published.as_ref()).await?;
    let target: Option<u64> = groups.iter().filter_map(|g| g.target).reduce(|a, b| a + b);
    let survey = survey_path(&slug, None);
    let address = public_address(&req, &state, &survey).map(|(url, _)| url);
    let page = HubPage {
        name: lang
            .pick(&c.campaign.name_vi, &c.campaign.name_en)
            .to_owned(),
        status: status_of(
            chrono::Utc::now().date_naive(),
            c.campaign.opens_on,
            c.campaign.closes_on,
        ),
        opens_on: c.campaign.opens_on.format("%d/%m/%Y").to_string(),
        closes_on: c.campaign.closes_on.format("%d/%m/%Y").to_string(),
        is_public: c.campaign.is_public,
        questionnaire: format!(
            "{} v{}",
            c.definition.title.get(lang.code()),
            c.version.version
        ),
        service: lang.pick(&c.service.name_vi, &c.service.name_en).to_owned(),
        published: published.as_ref().map(|p| PublishedView {
            number: p.number,
            date: p.published_on.format("%d/%m/%Y").to_string(),
            // The localities this account sees, as published.
            responses: groups.iter().filter_map(|g| g.responses).sum(),
            target,
        }),
        has_address: address.is_some(),
        link: address.unwrap_or(survey),
        qr: format!("/s/{slug}/qr.svg"),
        poster: format!("/staff/campaigns/{slug}/poster"),
        groups,
        links: links(&user, &slug),
        slug,
    };
    render(
        &user,
        "staff/hub.html",
        &format!("/staff/campaigns/{}", page.slug),
        page,
    )
}

/// The campaign and the survey address of `?l=` (a locality of the campaign, or none).
async fn address_of(
    req: &HttpRequest,
    state: &AppState,
    slug: &str,
    q: &LocalityQuery,
    lang: i18n::Lang,
) -> Result<(OpenCampaign, Option<String>, String), AppError> {
    let c = campaigns::by_slug(&state.db, slug).await?;
    let locality = match q.l.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(code) => Some(
            c.localities
                .iter()
                .find(|l| l.code == code)
                .ok_or(AppError::NotFound("page_not_found"))?
                .name(lang)
                .to_owned(),
        ),
    };
    let code = q.l.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let path = survey_path(&c.campaign.slug, code);
    let (url, _) = public_address(req, state, &path).ok_or(AppError::NotFound("qr_no_base_url"))?;
    Ok((c, locality, url))
}

/// `GET /staff/campaigns/{slug}/qr.svg?l=CODE`: the QR code of a locality's survey link.
#[get("/campaigns/{slug}/qr.svg")]
pub async fn qr_svg(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: StaffUser,
    path: web::Path<String>,
    q: web::Query<LocalityQuery>,
) -> Result<HttpResponse, AppError> {
    user.require(Area::Campaigns, Access::Read)?;
    let (_, _, url) = address_of(&req, &state, &path, &q, user.lang).await?;
    let code = qrcode::QrCode::new(url.as_bytes())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("QR code: {e}")))?;
    // A staff page's image: never in a shared cache.
    Ok(qr_svg_answer(&code, "private, max-age=3600"))
}

/// `GET /staff/campaigns/{slug}/poster?l=CODE`: an A4 sheet to print (the campaign's name,
/// the locality, the QR code and the short link).
#[get("/campaigns/{slug}/poster")]
pub async fn poster(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: StaffUser,
    path: web::Path<String>,
    q: web::Query<LocalityQuery>,
) -> Result<HttpResponse, AppError> {
    user.require(Area::Campaigns, Access::Read)?;
    let lang = user.lang;
    let (c, locality, url) = address_of(&req, &state, &path, &q, lang).await?;
    let label = i18n::t(lang, "hub-qr-label", &[]);
    let svg = inline_qr(&url, &label)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("survey address too long")))?;
    let slug = c.campaign.slug.clone();
    let page = PosterPage {
        campaign: lang
            .pick(&c.campaign.name_vi, &c.campaign.name_en)
            .to_owned(),
        locality,
        link: url,
        svg,
        closes_on: c.campaign.closes_on.format("%d/%m/%Y").to_string(),
        hub: format!("/staff/campaigns/{slug}"),
        slug,
    };
    let here = match q.l.as_deref() {
        Some(code) => format!("/staff/campaigns/{}/poster?l={code}", page.slug),
        None => format!("/staff/campaigns/{}/poster", page.slug),
    };
    render(&user, "staff/poster.html", &here, page)
}
