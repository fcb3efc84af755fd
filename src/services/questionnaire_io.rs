//! Reading questionnaires from files (Hailong JSON, XLSForm) and writing them
//! out, for the command line and the designer. Printing is the caller's
//! (see `cli::questionnaire`).

use std::path::Path;

use sea_orm::DatabaseConnection;

use crate::domain::questionnaire::Definition;
use crate::domain::validation::FieldError;
use crate::domain::xlsform::{self, Warning, XlsFormError};

use super::audit::Actor;
use super::questionnaires::{self, QuestionnaireError};

/// A file's questionnaire, or why it could not be read.
#[derive(Debug)]
pub enum Parsed {
    Ok {
        definition: Definition,
        warnings: Vec<Warning>,
    },
    /// Refused: the problems, and the warnings found before (shown too).
    Problems {
        problems: Vec<FieldError>,
        warnings: Vec<Warning>,
    },
    NotAQuestionnaire(String),
}

pub use super::questionnaires::needs_translation;

/// Reads a questionnaire from a file's bytes; the name's extension decides the format.
pub fn parse_file(name: &str, bytes: &[u8]) -> Parsed {
    let lower = name.to_lowercase();
    if lower.ends_with(".xlsx") || lower.ends_with(".xls") || lower.ends_with(".ods") {
        let stem = Path::new(name)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("questionnaire")
            .to_owned();
        return match xlsform::read(bytes, &stem) {
            Ok(imported) => Parsed::Ok {
                definition: imported.definition,
                warnings: imported.warnings,
            },
            Err(refused) => match refused.error {
                XlsFormError::Invalid(problems) => Parsed::Problems {
                    problems,
                    warnings: refused.warnings,
                },
                e @ (XlsFormError::NotXlsForm(_) | XlsFormError::TooLarge { .. }) => {
                    Parsed::NotAQuestionnaire(e.to_string())
                }
            },
        };
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => match questionnaires::parse_draft(text) {
            Ok(definition) => Parsed::Ok {
                definition,
                warnings: vec![],
            },
            Err(problems) => Parsed::Problems {
                problems,
                warnings: vec![],
            },
        },
        Err(e) => Parsed::NotAQuestionnaire(format!("not UTF-8 text ({e})")),
    }
}

/// Stores an imported definition: a new questionnaire, or a new draft of
/// the questionnaire with the same code. Returns (id, draft version).
pub async fn store(
    db: &DatabaseConnection,
    actor: &Actor,
    definition: &Definition,
) -> Result<(i64, i32), QuestionnaireError> {
    match questionnaires::find(db, &definition.code).await {
        Ok(existing) => {
            let version = questionnaires::save_draft(db, actor, existing.id, definition).await?;
            Ok((existing.id, version))
        }
        Err(QuestionnaireError::NotFound) => {
            let created = questionnaires::create(db, actor, definition).await?;
            Ok((created.id, 1))
        }
        Err(e) => Err(e),
    }
}

/// The newest version of a questionnaire, by id or code.
pub async fn latest_definition(
    db: &DatabaseConnection,
    id_or_code: &str,
) -> Result<Definition, QuestionnaireError> {
    let summary = questionnaires::find(db, id_or_code).await?;
    let (_, def) = questionnaires::latest(db, summary.id).await?;
    Ok(def)
}
