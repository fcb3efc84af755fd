//! The questionnaire designer for survey staff: list, create from a preset
//! or from scratch (`list`), import (`upload`), edit sections and
//! questions ([`edit`]: texts per language, type, bounds, options,
//! conditions' targets, index mapping, reorder, delete), publish
//! ([`publish`]) and preview ([`preview`]). Every change goes through
//! [`questionnaires::save_draft`], so an edit that would make the definition
//! invalid is refused with every problem listed and nothing saved; editing a
//! published questionnaire starts a new draft version. The editor's
//! operations themselves are pure: [`crate::domain::editor`].

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;

use crate::auth::{Access, Area};
use crate::domain::questionnaire::{Condition, ConditionFn, ConditionOp, Question};
use crate::error::{AppError, field_message};
use crate::i18n::{self, Lang};
use crate::routes::extract::{StaffForm, StaffUser};
use crate::routes::state::AppState;
use crate::services::audit::Actor;
use crate::services::questionnaires::{self, QuestionnaireError};

use super::see_other;

pub mod edit;
mod list;
mod logic;
pub mod preview;
pub mod publish;
mod upload;
mod words;

use list::list_page;
pub use list::{CreateForm, create, index};
pub use logic::describe;
pub use upload::{ImportForm, import, import_file};

/// The problems of a refused definition, one line each (`field: message`),
/// in the staff member's language; other errors pass through.
fn problems(lang: Lang, e: QuestionnaireError) -> Result<Vec<String>, AppError> {
    match AppError::from(e) {
        AppError::Validation(list) => Ok(list
            .iter()
            .map(|f| {
                if f.field.is_empty() {
                    field_message(lang, f)
                } else {
                    format!("{}: {}", f.field, field_message(lang, f))
                }
            })
            .collect()),
        other => Err(other),
    }
}
