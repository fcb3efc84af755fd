//! Staff pages for kiosks: list, register (the device URL with its secret
//! token is shown once), revoke. Mounted by the staff scope, which adds login,
//! roles and CSRF protection.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use entity::service;
use sea_orm::{EntityTrait, QueryOrder};
use serde::Deserialize;

use crate::auth::{Access, Area};
use crate::error::{AppError, field_message};
use crate::i18n::{self, Lang};
use crate::routes::extract::{StaffForm, StaffUser};
use crate::routes::state::AppState;
use crate::services::audit::{self, Actor};
use crate::services::campaigns::{self, OpenCampaign};
use crate::services::kiosks::KioskInfo;
use crate::services::kiosks::{self, NewKiosk};
use crate::templates;
use crate::views::Chrome;
use crate::views::staff::hub::inline_qr;
use crate::views::staff::kiosks::{
    CampaignOption, KioskRow, KiosksPage, LocalityGroup, LocalityOption, Registered, ServiceChoice,
};

/// Registers `GET /kiosks`, `POST /kiosks`, `POST /kiosks/{id}/revoke`
/// relative to the scope it is mounted in.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/kiosks")
            .route(web::get().to(list))
            .route(web::post().to(register)),
    )
    .service(web::resource("/kiosks/{id}/revoke").route(web::post().to(revoke)));
}

#[derive(Debug, Deserialize)]
pub struct KioskForm {
    campaign: String,
    locality: String,
    #[serde(default)]
    service: String,
    label: String,
}

/// `?campaign=slug`: the campaign whose localities the picker lists.
#[derive(Debug, Default, Deserialize)]
pub struct KioskQuery {
    #[serde(default)]
    campaign: Option<String>,
}

/// The picker of `c`'s localities, by province (names, not codes).
async fn locality_groups(
    state: &AppState,
    c: &OpenCampaign,
    lang: Lang,
) -> Result<Vec<LocalityGroup>, AppError> {
    let provinces = campaigns::province_names(&state.db, c).await?;
    let mut groups: BTreeMap<String, LocalityGroup> = BTreeMap::new();
    for l in &c.localities {
        let parent = l.parent_code.clone().unwrap_or_default();
        let label = provinces
            .get(&parent)
            .map(|(vi, en)| lang.pick(vi, en).to_owned())
            .unwrap_or_else(|| i18n::t(lang, "hub-no-province", &[]));
        groups
            .entry(parent)
            .or_insert_with(|| LocalityGroup {
                label,
                options: Vec::new(),
            })
            .options
            .push(LocalityOption {
                code: l.code.clone(),
                name: l.name(lang).to_owned(),
            });
    }
    Ok(groups.into_values().collect())
}

async fn services(state: &AppState, lang: Lang) -> Result<Vec<ServiceChoice>, AppError> {
    Ok(service::Entity::find()
        .order_by_asc(service::Column::Code)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|s| ServiceChoice {
            name: lang.pick(&s.name_vi, &s.name_en).to_owned(),
            code: s.code,
        })
        .collect())
}

async fn render(
    req: &HttpRequest,
    state: &AppState,
    user: &StaffUser,
    chosen: Option<&str>,
    registered: Option<Registered>,
    errors: Vec<(String, String)>,
    form: Option<&KioskForm>,
) -> Result<HttpResponse, AppError> {
    let lang = user.lang;
    let rows: Vec<KioskInfo> = kiosks::list(&state.db).await?;
    let open = campaigns::list_open(&state.db, Utc::now().date_naive()).await?;
    let current = open
        .iter()
        .find(|c| Some(c.campaign.slug.as_str()) == chosen)
        .or_else(|| open.first());
    let localities = match current {
        Some(c) => locality_groups(state, c, lang).await?,
        None => Vec::new(),
    };
    // Names of the localities of the open campaigns, for the list.
    let name_of = |slug: &str, code: &str| {
        open.iter()
            .find(|c| c.campaign.slug == slug)
            .and_then(|c| c.localities.iter().find(|l| l.code == code))
            .map_or_else(|| code.to_owned(), |l| l.name(lang).to_owned())
    };
    let page = KiosksPage {
        chrome: Chrome::new(lang, req.path()),
        staff: user.view(),
        action: list_path(req),
        kiosks: rows
            .into_iter()
            .map(|k| KioskRow {
                id: k.kiosk.id,
                label: k.kiosk.label,
                locality_name: name_of(&k.campaign_slug, &k.kiosk.locality_code),
                campaign: k.campaign_slug,
                locality: k.kiosk.locality_code,
                created_on: k.kiosk.created_on.format("%d/%m/%Y").to_string(),
                revoked: k.kiosk.revoked,
            })
            .collect(),
        campaigns: open
            .iter()
            .map(|c| CampaignOption {
                slug: c.campaign.slug.clone(),
                name: lang
                    .pick(&c.campaign.name_vi, &c.campaign.name_en)
                    .to_owned(),
            })
            .collect(),
        campaign: current.map(|c| c.campaign.slug.clone()),
        localities,
        services: services(state, lang).await?,
        registered,
        problems: errors,
        form: form.map_or_else(Default::default, |f| {
            (
                f.campaign.clone(),
                f.locality.clone(),
                f.service.clone(),
                f.label.clone(),
            )
        }),
    };
    // The page may hold a kiosk's secret address: never kept by a cache.
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(templates::render("staff/kiosks.html", &page)?))
}

/// The list's path, whatever scope this module is mounted in.
fn list_path(req: &HttpRequest) -> String {
    let path = req.path();
    match path.find("/kiosks") {
        Some(at) => format!("{}/kiosks", &path[..at]),
        None => path.to_owned(),
    }
}

async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: StaffUser,
    q: web::Query<KioskQuery>,
) -> Result<HttpResponse, AppError> {
    user.require(Area::Kiosks, Access::Read)?;
    render(
        &req,
        &state,
        &user,
        q.campaign.as_deref(),
        None,
        Vec::new(),
        None,
    )
    .await
}

async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: StaffForm<KioskForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { user, form } = form;
    user.require(Area::Kiosks, Access::Write)?;
    let lang = user.lang;
    let new = NewKiosk {
        campaign_slug: form.campaign.clone(),
        locality_code: form.locality.trim().to_owned(),
        service_code: Some(form.service.trim().to_owned()).filter(|s| !s.is_empty()),
        label: form.label.clone(),
    };
    match kiosks::register_kiosk(&state.db, &new, Utc::now().date_naive()).await {
        Ok((kiosk, token)) => {
            audit::record(
                &state.db,
                &Actor::staff(user.id, &user.email),
                "kiosk.register",
                "kiosk",
                &kiosk.id.to_string(),
                &format!("{} {} {}", form.campaign, kiosk.locality_code, kiosk.label),
            )
            .await?;
            // The address comes from `base_url` only; without it staff
            // see the path and are told why (never the request's Host).
            let path = format!("/k/{token}");
            let url = state.settings.public_url(&path);
            let label = i18n::t(lang, "hub-kiosk-qr-label", &[]);
            let registered = Registered {
                label: kiosk.label,
                no_base_url: url.is_none(),
                qr: url.as_deref().and_then(|u| inline_qr(u, &label)),
                url: url.unwrap_or(path),
            };
            let chosen = Some(form.campaign.as_str());
            render(
                &req,
                &state,
                &user,
                chosen,
                Some(registered),
                Vec::new(),
                None,
            )
            .await
        }
        Err(AppError::Validation(errors)) => {
            let errors = errors
                .iter()
                .map(|e| (e.field.clone(), field_message(lang, e)))
                .collect();
            let chosen = Some(form.campaign.as_str());
            render(&req, &state, &user, chosen, None, errors, Some(&form)).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct Empty {}

async fn revoke(
    req: HttpRequest,
    path: web::Path<i64>,
    state: web::Data<AppState>,
    form: StaffForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let user = form.user;
    user.require(Area::Kiosks, Access::Write)?;
    let id = path.into_inner();
    kiosks::revoke(&state.db, id).await?;
    audit::record(
        &state.db,
        &Actor::staff(user.id, &user.email),
        "kiosk.revoke",
        "kiosk",
        &id.to_string(),
        "",
    )
    .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, list_path(&req)))
        .finish())
}
