//! Publishing the newest draft of a questionnaire.

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;

use crate::auth::{Access, Area};
use crate::error::AppError;
use crate::i18n;
use crate::routes::extract::StaffForm;
use crate::routes::staff::see_other;
use crate::routes::state::AppState;
use crate::services::audit::Actor;
use crate::services::questionnaires::{self, QuestionnaireError};

use super::edit::edit_page;
use super::words::placed;

#[derive(Deserialize)]
pub struct Empty {}

#[post("/questionnaires/{id}/publish")]
pub async fn publish(
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: StaffForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let user = form.user;
    user.require(Area::Questionnaires, Access::Write)?;
    let lang = user.lang;
    let id = path.into_inner();
    match questionnaires::publish(&state.db, &Actor::staff(user.id, &user.email), id).await {
        Ok(_) => Ok(see_other(&format!(
            "/staff/questionnaires/{id}?done=published"
        ))),
        Err(QuestionnaireError::NoDraft) => {
            let msg = i18n::t(lang, "error-no_draft", &[]);
            edit_page(&state, &user, id, None, (vec![msg], vec![]), None).await
        }
        Err(QuestionnaireError::NeedsTranslation(missing)) => {
            let count = i18n::Arg::from(missing.len() as u64);
            let msg = i18n::t(lang, "error-needs_translation_count", &[("count", count)]);
            let mut res = edit_page(&state, &user, id, None, (vec![msg], vec![]), None).await?;
            *res.status_mut() = actix_web::http::StatusCode::CONFLICT;
            Ok(res)
        }
        Err(e) => match AppError::from(e) {
            AppError::Validation(list) => {
                let (_, def) = questionnaires::latest(&state.db, id).await?;
                let at = placed(&def, lang, &list);
                let errors = at.iter().map(|p| p.summary.clone()).collect();
                edit_page(&state, &user, id, None, (errors, at), None).await
            }
            other => Err(other),
        },
    }
}
