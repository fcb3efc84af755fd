//! The list of questionnaires, and creating one from a preset or from
//! scratch.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use crate::auth::{Access, Area};
use crate::domain::editor;
use crate::domain::text::Text;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::presets;
use crate::routes::extract::{StaffForm, StaffUser};
use crate::routes::staff::{render, see_other};
use crate::routes::state::AppState;
use crate::services::audit::Actor;
use crate::services::questionnaires;
use crate::views::staff::questionnaires::{ListPage, PresetOption};

use super::problems;

fn presets_for(lang: Lang) -> Vec<PresetOption> {
    presets::all()
        .into_iter()
        .map(|(file, def)| PresetOption {
            file,
            title: def.title.get(lang.code()).to_owned(),
        })
        .collect()
}

#[get("/questionnaires")]
pub async fn index(state: web::Data<AppState>, user: StaffUser) -> Result<HttpResponse, AppError> {
    user.require(Area::Questionnaires, Access::Read)?;
    list_page(&state, &user, vec![], vec![], None).await
}

/// The list of questionnaires, with the problems of a refused create or
/// import (then answered 422).
pub(super) async fn list_page(
    state: &AppState,
    user: &StaffUser,
    errors: Vec<String>,
    warnings: Vec<String>,
    imported: Option<i64>,
) -> Result<HttpResponse, AppError> {
    let lang = user.lang;
    let list = questionnaires::list(&state.db).await?;
    let failed = !errors.is_empty();
    let page = ListPage {
        questionnaires: list,
        presets: presets_for(lang),
        can_write: user.role.can(Area::Questionnaires, Access::Write),
        errors,
        warnings,
        imported,
    };
    let mut res = render(
        user,
        "staff/questionnaires.html",
        "/staff/questionnaires",
        page,
    )?;
    if failed {
        *res.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    preset: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    title_vi: String,
    #[serde(default)]
    title_en: String,
}

#[post("/questionnaires")]
pub async fn create(
    state: web::Data<AppState>,
    form: StaffForm<CreateForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { user, form } = form;
    user.require(Area::Questionnaires, Access::Write)?;
    let lang = user.lang;
    let mut def = match presets::all().into_iter().find(|(f, _)| *f == form.preset) {
        Some((_, def)) => def,
        None => editor::blank(form.code.trim(), Text::default()),
    };
    if !form.code.trim().is_empty() {
        def.code = form.code.trim().to_owned();
    }
    // A title typed replaces the preset's in that language only: an English title left
    // blank keeps the preset's.
    if !form.title_vi.trim().is_empty() {
        def.title
            .0
            .insert("vi".to_owned(), form.title_vi.trim().to_owned());
    }
    if !form.title_en.trim().is_empty() {
        def.title
            .0
            .insert("en".to_owned(), form.title_en.trim().to_owned());
    }
    match questionnaires::create(&state.db, &Actor::staff(user.id, &user.email), &def).await {
        Ok(created) => Ok(see_other(&format!("/staff/questionnaires/{}", created.id))),
        Err(e) => {
            let errors = problems(lang, e)?;
            list_page(&state, &user, errors, vec![], None).await
        }
    }
}
