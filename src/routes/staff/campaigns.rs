//! Campaign set-up for staff: list, create and edit campaigns (questionnaire
//! version, service, localities with their design fields, dates, layout,
//! publication and calibration settings).

use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDate;
use entity::{campaign, campaign_locality, questionnaire, questionnaire_version, service};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

use crate::auth::{Access, Area};
use crate::domain::campaign::{DesignSettings, default_service};
use crate::error::{AppError, field_message};
use crate::i18n::Lang;
use crate::routes::extract::{StaffForm, StaffUser};
use crate::routes::state::AppState;
use crate::services::audit::Actor;
use crate::services::campaign_setup::{self, CampaignInput, SetupError};

use crate::views::staff::campaigns::{CampaignRow, CampaignsPage, ServiceOption, VersionOption};

use super::{locality_picker, render, see_other};

/// The form's values, as shown again after a problem.
#[derive(Serialize, Deserialize, Default, Clone)]
pub struct CampaignForm {
    #[serde(default)]
    slug: String,
    #[serde(default)]
    name_vi: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    questionnaire_version: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    opens_on: String,
    #[serde(default)]
    closes_on: String,
    #[serde(default)]
    is_public: Option<String>,
    #[serde(default)]
    layout: String,
    #[serde(default)]
    localities: String,
    #[serde(default)]
    min_n: String,
    #[serde(default)]
    min_df: String,
    #[serde(default)]
    calibration: String,
    #[serde(default)]
    lonely_psu: String,
    /// `daily`, `manual` or `on_close`; empty: unchanged (or the default).
    #[serde(default)]
    publication: String,
    /// `add`: the locality picker's button (add to the lines, save nothing).
    #[serde(default)]
    act: String,
    /// The picker: a province whose communes to add, a commune to add.
    #[serde(default)]
    add_province: String,
    #[serde(default)]
    add_commune: String,
}

async fn options(
    state: &AppState,
    lang: Lang,
) -> Result<(Vec<VersionOption>, Vec<ServiceOption>), AppError> {
    let services: Vec<ServiceOption> = service::Entity::find()
        .order_by_asc(service::Column::Code)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|s| ServiceOption {
            name: lang.pick(&s.name_vi, &s.name_en).to_owned(),
            code: s.code,
        })
        .collect();
    let versions = questionnaire_version::Entity::find()
        .filter(questionnaire_version::Column::Status.eq("published"))
        .order_by_asc(questionnaire_version::Column::QuestionnaireId)
        .order_by_asc(questionnaire_version::Column::Version)
        .all(&state.db)
        .await?;
    let mut out = Vec::new();
    for v in versions {
        let code = questionnaire::Entity::find_by_id(v.questionnaire_id)
            .one(&state.db)
            .await?
            .map(|q| q.code)
            .unwrap_or_default();
        let service = default_service(&code).and_then(|d| {
            services
                .iter()
                .find(|s| s.code == d)
                .map(|s| s.name.clone())
        });
        out.push(VersionOption {
            id: v.id,
            label: format!("{code} v{}", v.version),
            service,
        });
    }
    Ok((out, services))
}

/// The service a campaign on this questionnaire version is most likely about (see
/// [`default_service`]), when it exists; `None`: staff must choose.
async fn service_of_version(state: &AppState, version: &str) -> Result<Option<String>, AppError> {
    let Ok(id) = version.trim().parse::<i64>() else {
        return Ok(None);
    };
    let Some(v) = questionnaire_version::Entity::find_by_id(id)
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    let Some(q) = questionnaire::Entity::find_by_id(v.questionnaire_id)
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    let Some(code) = default_service(&q.code) else {
        return Ok(None);
    };
    Ok(service::Entity::find()
        .filter(service::Column::Code.eq(code))
        .one(&state.db)
        .await?
        .map(|s| s.code))
}

async fn rows(state: &AppState, lang: Lang) -> Result<Vec<CampaignRow>, AppError> {
    let list = campaign::Entity::find()
        .order_by_asc(campaign::Column::SortOrder)
        .order_by_asc(campaign::Column::Id)
        .all(&state.db)
        .await?;
    let mut out = Vec::new();
    for c in list {
        let version = questionnaire_version::Entity::find_by_id(c.questionnaire_version_id)
            .one(&state.db)
            .await?;
        let code = match &version {
            Some(v) => questionnaire::Entity::find_by_id(v.questionnaire_id)
                .one(&state.db)
                .await?
                .map(|q| format!("{} v{}", q.code, v.version))
                .unwrap_or_default(),
            None => String::new(),
        };
        let service = service::Entity::find_by_id(c.service_id)
            .one(&state.db)
            .await?
            .map(|s| lang.pick(&s.name_vi, &s.name_en).to_owned())
            .unwrap_or_default();
        let localities = campaign_locality::Entity::find()
            .filter(campaign_locality::Column::CampaignId.eq(c.id))
            .count(&state.db)
            .await?;
        // As published (a live count would tell when someone answered).
        let responses = crate::services::publication::latest(&state.db, c.id)
            .await?
            .map_or(0, |p| u64::try_from(p.included).unwrap_or(0));
        out.push(CampaignRow {
            name: lang.pick(&c.name_vi, &c.name_en).to_owned(),
            slug: c.slug,
            version: code,
            service,
            opens_on: c.opens_on.to_string(),
            closes_on: c.closes_on.to_string(),
            is_public: c.is_public,
            localities,
            responses,
        });
    }
    Ok(out)
}

async fn page(
    state: &AppState,
    user: &StaffUser,
    editing: Option<String>,
    form: CampaignForm,
    errors: Vec<String>,
    notice: Option<String>,
) -> Result<HttpResponse, AppError> {
    let lang = user.lang;
    let (versions, services) = options(state, lang).await?;
    let picker = locality_picker::picker(state, user).await?;
    let campaigns = rows(state, lang).await?;
    let path = match &editing {
        Some(s) => format!("/staff/campaigns/{s}/settings"),
        None => "/staff/campaigns".to_owned(),
    };
    let failed = !errors.is_empty();
    let ctx = CampaignsPage {
        campaigns,
        versions,
        services,
        can_write: user.role.can(Area::Campaigns, Access::Write),
        can_results: user.role.can(Area::Results, Access::Write),
        editing,
        form,
        errors,
        notice,
        provinces: picker.provinces,
        communes: picker.communes,
        offer_national: picker.offer_national,
    };
    let mut res = render(user, "staff/campaigns.html", &path, ctx)?;
    if failed {
        *res.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

fn blank_form() -> CampaignForm {
    let d = DesignSettings::default();
    CampaignForm {
        layout: "per_section".to_owned(),
        min_n: d.min_n.to_string(),
        min_df: d.min_df.to_string(),
        lonely_psu: d.lonely_psu,
        publication: d.publication.as_str().to_owned(),
        ..CampaignForm::default()
    }
}

#[get("/campaigns")]
pub async fn index(state: web::Data<AppState>, user: StaffUser) -> Result<HttpResponse, AppError> {
    user.require(Area::Campaigns, Access::Read)?;
    page(&state, &user, None, blank_form(), vec![], None).await
}

/// `GET /staff/campaigns/{slug}/settings`: the campaign's settings form (its hub is
/// `/staff/campaigns/{slug}`; the form still posts there).
#[get("/campaigns/{slug}/settings")]
pub async fn show(
    state: web::Data<AppState>,
    user: StaffUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    user.require(Area::Campaigns, Access::Read)?;
    let slug = path.into_inner();
    let c = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq(slug.as_str()))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("campaign_not_found"))?;
    let lines = campaign_locality::Entity::find()
        .filter(campaign_locality::Column::CampaignId.eq(c.id))
        .order_by_asc(campaign_locality::Column::LocalityCode)
        .all(&state.db)
        .await?;
    let design: DesignSettings = serde_json::from_str(&c.design).unwrap_or_default();
    let service = service::Entity::find_by_id(c.service_id)
        .one(&state.db)
        .await?
        .map(|s| s.code)
        .unwrap_or_default();
    let form = CampaignForm {
        slug: c.slug.clone(),
        name_vi: c.name_vi.clone(),
        name_en: c.name_en.clone(),
        questionnaire_version: c.questionnaire_version_id.to_string(),
        service,
        opens_on: c.opens_on.to_string(),
        closes_on: c.closes_on.to_string(),
        is_public: c.is_public.then(|| "1".to_owned()),
        layout: c.layout.clone(),
        localities: campaign_setup::locality_lines_text(&lines),
        min_n: design.min_n.to_string(),
        min_df: design.min_df.to_string(),
        calibration: design.calibration.join(", "),
        lonely_psu: design.lonely_psu.clone(),
        publication: design.publication.as_str().to_owned(),
        ..CampaignForm::default()
    };
    page(&state, &user, Some(c.slug), form, vec![], None).await
}

/// The results settings a form asks for: each field sent replaces the one of `base` (the
/// stored campaign, or the defaults for a new one); a field left out keeps it.
fn results_settings_of(
    form: &CampaignForm,
    base: &campaign_setup::ResultsSettings,
) -> Result<campaign_setup::ResultsSettings, String> {
    let number = |s: &str, keep: u32| -> Result<u32, String> {
        match s.trim() {
            "" => Ok(keep),
            t => t.parse().map_err(|_| "invalid_min_n".to_owned()),
        }
    };
    Ok(campaign_setup::ResultsSettings {
        is_public: match form.is_public.as_deref().map(str::trim) {
            None | Some("") => base.is_public,
            Some("0") | Some("false") => false,
            Some(_) => true,
        },
        min_n: number(&form.min_n, base.min_n)?,
        min_df: number(&form.min_df, base.min_df)?,
        publication: match form.publication.trim() {
            "" => base.publication,
            s => crate::domain::publication::Schedule::parse(s)
                .ok_or_else(|| "invalid_publication".to_owned())?,
        },
    })
}

/// The results settings of a form, refused (403) when they change `base` and the user is
/// not an administrator or analyst.
fn checked_results_settings(
    user: &StaffUser,
    form: &CampaignForm,
    base: &campaign_setup::ResultsSettings,
) -> Result<campaign_setup::ResultsSettings, Result<String, AppError>> {
    let wanted = results_settings_of(form, base).map_err(Ok)?;
    if wanted != *base && !user.role.can(Area::Results, Access::Write) {
        return Err(Err(AppError::Forbidden));
    }
    Ok(wanted)
}

/// Turns the form into the service's input; problems are listed.
fn input_of(
    form: &CampaignForm,
    results: &campaign_setup::ResultsSettings,
    lang: Lang,
) -> Result<CampaignInput, Vec<String>> {
    let mut errors = Vec::new();
    let date = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok();
    let localities = match campaign_setup::parse_locality_lines(&form.localities) {
        Ok(l) => l,
        Err(list) => {
            errors.extend(list.iter().map(|f| {
                format!(
                    "{}: {}",
                    field_label(lang, &f.field),
                    field_message(lang, f)
                )
            }));
            vec![]
        }
    };
    let defaults = DesignSettings::default();
    let design = DesignSettings {
        min_n: results.min_n,
        min_df: results.min_df,
        publication: results.publication,
        calibration: form
            .calibration
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        lonely_psu: if form.lonely_psu.is_empty() {
            defaults.lonely_psu.clone()
        } else {
            form.lonely_psu.clone()
        },
        ..defaults
    };
    let input = CampaignInput {
        slug: form.slug.trim().to_owned(),
        name_vi: form.name_vi.clone(),
        name_en: form.name_en.clone(),
        questionnaire_version_id: form.questionnaire_version.trim().parse().unwrap_or(0),
        service_code: form.service.trim().to_owned(),
        opens_on: date(&form.opens_on),
        closes_on: date(&form.closes_on),
        is_public: results.is_public,
        layout: form.layout.clone(),
        localities,
        design,
    };
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(errors)
    }
}

/// A field of the campaign form as its label reads, in the reader's language (a locality
/// line by its number).
fn field_label(lang: Lang, field: &str) -> String {
    if let Some(line) = field
        .strip_prefix("localities line ")
        .and_then(|n| n.parse::<u64>().ok())
    {
        return crate::i18n::t(lang, "campaigns-locality-line", &[("line", line.into())]);
    }
    let key = match field {
        "slug" => "campaigns-slug",
        "name_vi" => "campaigns-name-vi",
        "name_en" => "campaigns-name-en",
        "questionnaire_version" => "campaigns-version",
        "service" => "campaigns-service",
        "opens_on" => "campaigns-opens",
        "closes_on" => "campaigns-closes",
        "layout" => "campaigns-layout",
        "localities" => "campaigns-localities-field",
        "lonely_psu" => "campaigns-lonely",
        "calibration" => "campaigns-calibration-field",
        "min_n" => "campaigns-min-n",
        "min_df" => "campaigns-min-df",
        other => return other.to_owned(),
    };
    crate::i18n::t(lang, key, &[])
}

fn problems(lang: Lang, e: SetupError) -> Result<Vec<String>, AppError> {
    match e {
        SetupError::Invalid(list) => Ok(list
            .iter()
            .map(|f| {
                format!(
                    "{}: {}",
                    field_label(lang, &f.field),
                    field_message(lang, f)
                )
            })
            .collect()),
        SetupError::NotFound => Err(AppError::NotFound("campaign_not_found")),
        SetupError::Db(e) => Err(AppError::from(e)),
    }
}

#[post("/campaigns")]
pub async fn create(
    state: web::Data<AppState>,
    form: StaffForm<CampaignForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { user, mut form } = form;
    user.require(Area::Campaigns, Access::Write)?;
    if form.act == "add" {
        return picked(&state, &user, None, form).await;
    }
    let lang = user.lang;
    // "From the questionnaire": the service its instrument is about.
    if form.service.trim().is_empty()
        && let Some(code) = service_of_version(&state, &form.questionnaire_version).await?
    {
        form.service = code;
    }
    let base = campaign_setup::ResultsSettings::of(false, &DesignSettings::default());
    let results = match checked_results_settings(&user, &form, &base) {
        Ok(r) => Ok(r),
        Err(Err(forbidden)) => return Err(forbidden),
        Err(Ok(code)) => Err(vec![crate::i18n::t(lang, &format!("error-{code}"), &[])]),
    };
    let floor = state.settings.min_n_floor;
    let errors = match results.and_then(|r| input_of(&form, &r, lang)) {
        Ok(input) => {
            match campaign_setup::create(
                &state.db,
                &Actor::staff(user.id, &user.email),
                &input,
                floor,
            )
            .await
            {
                Ok(c) => return Ok(see_other(&format!("/staff/campaigns/{}", c.slug))),
                Err(e) => problems(lang, e)?,
            }
        }
        Err(errors) => errors,
    };
    page(&state, &user, None, form, errors, None).await
}

#[post("/campaigns/{slug}")]
pub async fn update(
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: StaffForm<CampaignForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { user, form } = form;
    user.require(Area::Campaigns, Access::Write)?;
    let lang = user.lang;
    let slug = path.into_inner();
    if form.act == "add" {
        return picked(&state, &user, Some(slug), form).await;
    }
    let base = stored_results_settings(&state, &slug).await?;
    let results = match checked_results_settings(&user, &form, &base) {
        Ok(r) => Ok(r),
        Err(Err(forbidden)) => return Err(forbidden),
        Err(Ok(code)) => Err(vec![crate::i18n::t(lang, &format!("error-{code}"), &[])]),
    };
    let floor = state.settings.min_n_floor;
    let errors = match results.and_then(|r| input_of(&form, &r, lang)) {
        Ok(input) => {
            match campaign_setup::update(
                &state.db,
                &Actor::staff(user.id, &user.email),
                &slug,
                &input,
                floor,
            )
            .await
            {
                Ok(c) => return Ok(see_other(&format!("/staff/campaigns/{}", c.slug))),
                Err(e) => problems(lang, e)?,
            }
        }
        Err(errors) => errors,
    };
    page(&state, &user, Some(slug), form, errors, None).await
}

/// The form again with the picker's localities added to its lines (nothing is saved).
async fn picked(
    state: &AppState,
    user: &StaffUser,
    editing: Option<String>,
    mut form: CampaignForm,
) -> Result<HttpResponse, AppError> {
    let province = std::mem::take(&mut form.add_province);
    let commune = std::mem::take(&mut form.add_commune);
    form.act.clear();
    let added =
        locality_picker::add(state, user.lang, &mut form.localities, &province, &commune).await?;
    match added {
        Ok(notice) => page(state, user, editing, form, vec![], Some(notice)).await,
        Err(problem) => page(state, user, editing, form, vec![problem], None).await,
    }
}

async fn stored_results_settings(
    state: &AppState,
    slug: &str,
) -> Result<campaign_setup::ResultsSettings, AppError> {
    let c = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq(slug))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("campaign_not_found"))?;
    Ok(campaign_setup::ResultsSettings::of_campaign(&c))
}

/// `POST /staff/campaigns/{slug}/results-settings`: public/private, min_n, min_df and the
/// publication schedule, for administrators and analysts (designers keep the rest).
#[post("/campaigns/{slug}/results-settings")]
pub async fn update_results_settings(
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: StaffForm<CampaignForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { user, form } = form;
    user.require(Area::Results, Access::Write)?;
    let lang = user.lang;
    let slug = path.into_inner();
    let base = stored_results_settings(&state, &slug).await?;
    let errors = match results_settings_of(&form, &base) {
        Ok(wanted) => {
            match campaign_setup::update_results_settings(
                &state.db,
                &Actor::staff(user.id, &user.email),
                &slug,
                &wanted,
                state.settings.min_n_floor,
            )
            .await
            {
                Ok(c) => return Ok(see_other(&format!("/staff/campaigns/{}", c.slug))),
                Err(e) => problems(lang, e)?,
            }
        }
        Err(code) => vec![crate::i18n::t(lang, &format!("error-{code}"), &[])],
    };
    // Shown again on the campaign's page with the problems.
    let mut shown = form.clone();
    shown.slug = slug.clone();
    page(&state, &user, Some(slug), shown, errors, None).await
}
