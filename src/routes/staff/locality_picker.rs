//! Picking a campaign's localities instead of typing codes: the provinces and communes in
//! force today for the campaign form's picker ("add every commune of a province", "add one
//! commune" found by name with or without accents), the CSV template of the bulk lines,
//! and the administrators' button that loads the national list that comes with Hailong.

use std::collections::HashSet;

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use chrono::Utc;

use crate::auth::Role;
use crate::domain::locality;
use crate::error::AppError;
use crate::i18n::{self, Arg, Lang};
use crate::routes::extract::{StaffForm, StaffUser};
use crate::routes::state::AppState;
use crate::services::audit::Actor;
use crate::services::locality_lists::{self, Hierarchy};
use crate::views::staff::campaigns::PickOption;

use super::see_other;

/// Fewer communes than this in force: only the demo's subset is known.
const NATIONAL_AT_LEAST: usize = 1_000;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(template).service(load_national);
}

/// What the campaign form's picker offers.
pub struct Picker {
    pub provinces: Vec<PickOption>,
    pub communes: Vec<PickOption>,
    pub offer_national: bool,
}

/// The picker for a reader: provinces and communes in force today.
pub async fn picker(state: &AppState, user: &StaffUser) -> Result<Picker, AppError> {
    let h = Hierarchy::on(&state.db, Utc::now().date_naive()).await?;
    let lang = user.lang;
    let provinces = h
        .at_level("province")
        .into_iter()
        .map(|p| PickOption {
            code: p.code.clone(),
            name: lang.pick(&p.name_vi, &p.name_en).to_owned(),
        })
        .collect();
    let communes: Vec<PickOption> = h
        .at_level("commune")
        .into_iter()
        .map(|c| {
            let province = c
                .parent_code
                .as_deref()
                .and_then(|p| h.name(p, lang))
                .unwrap_or_default();
            PickOption {
                code: c.code.clone(),
                // The English name is the Vietnamese one without accents: typing
                // "ba dinh" finds "Ba Đình" in the browser's list.
                name: format!("{} · {} · {} · {province}", c.code, c.name_vi, c.name_en),
            }
        })
        .collect();
    Ok(Picker {
        offer_national: communes.len() < NATIONAL_AT_LEAST && user.role == Role::Admin,
        provinces,
        communes,
    })
}

/// Adds to the locality lines every commune of `province` and the commune `commune` names
/// (its code first, as the picker's list shows it), skipping those already listed; the
/// notice to show, or the problem.
pub async fn add(
    state: &AppState,
    lang: Lang,
    lines: &mut String,
    province: &str,
    commune: &str,
) -> Result<Result<String, String>, AppError> {
    let h = Hierarchy::on(&state.db, Utc::now().date_naive()).await?;
    let listed: HashSet<String> = lines
        .lines()
        .filter_map(|l| l.split(',').next())
        .map(|c| c.trim().to_owned())
        .collect();
    let mut wanted: Vec<String> = Vec::new();
    let province = province.trim();
    if !province.is_empty() {
        wanted.extend(
            h.at_level("commune")
                .into_iter()
                .filter(|c| c.parent_code.as_deref() == Some(province))
                .map(|c| c.code.clone()),
        );
    }
    let code = commune
        .split(['·', ' ', ','])
        .find(|s| !s.is_empty())
        .unwrap_or_default();
    if !code.is_empty() {
        match h.units.get(code) {
            Some(u) if u.level == "commune" => wanted.push(code.to_owned()),
            _ => {
                return Ok(Err(i18n::t(
                    lang,
                    "picker-unknown",
                    &[("code", Arg::from(code.to_owned()))],
                )));
            }
        }
    }
    let new: Vec<String> = wanted.into_iter().filter(|c| !listed.contains(c)).collect();
    if !new.is_empty() {
        if !lines.is_empty() && !lines.ends_with('\n') {
            lines.push('\n');
        }
        for c in &new {
            lines.push_str(c);
            lines.push('\n');
        }
    }
    Ok(Ok(i18n::t(
        lang,
        "picker-added",
        &[("count", Arg::from(new.len() as u64))],
    )))
}

/// The template of the bulk lines, as a CSV file to fill in a spreadsheet.
#[get("/campaigns/localities-template.csv")]
pub async fn template(user: StaffUser) -> Result<HttpResponse, AppError> {
    let lang = user.lang;
    let body = format!(
        "# {}\ncode,stratum,cluster,base_weight,target_n\n00004,01-U,,1250,40\n00103,01-U,,980,40\n",
        i18n::t(lang, "picker-template-note", &[])
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(crate::routes::attachment("localities-template.csv"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

#[derive(serde::Deserialize)]
pub struct NationalForm {
    /// Where to come back to (a staff page).
    #[serde(default)]
    back: String,
}

/// `POST /staff/localities/national`: administrators load the national list of 2025.
#[post("/localities/national")]
pub async fn load_national(
    state: web::Data<AppState>,
    form: StaffForm<NationalForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { user, form } = form;
    if user.role != Role::Admin {
        return Err(AppError::Forbidden);
    }
    let rows = locality::parse_list(locality::NATIONAL_2025.as_bytes())
        .map_err(|p| AppError::Internal(anyhow::anyhow!("the national list: {p}")))?;
    locality_lists::import_recorded(
        &state.db,
        &rows,
        locality::national_2025_from(),
        &Actor::staff(user.id, &user.email),
    )
    .await
    .map_err(|e| match e {
        locality_lists::ListError::LaterList(_) => AppError::Conflict("national_list_later"),
        locality_lists::ListError::Db(e) => AppError::from(e),
    })?;
    let back = if form.back.starts_with("/staff/") && !form.back.contains("//") {
        form.back
    } else {
        "/staff/campaigns".to_owned()
    };
    Ok(see_other(&back))
}
