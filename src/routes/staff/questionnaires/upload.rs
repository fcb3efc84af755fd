//! Importing a questionnaire into the designer: pasted JSON, or an uploaded XLSForm file
//! whose warnings and problems are listed by sheet row.

use actix_multipart::Multipart;
use futures_util::StreamExt;

use super::*;
use crate::error::warning_line;

#[derive(Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    json: String,
}

/// Imports a questionnaire pasted as Hailong JSON (what the export gives):
/// a new questionnaire, or a new draft of the one with the same code.
#[post("/questionnaires/import")]
pub async fn import(
    state: web::Data<AppState>,
    form: StaffForm<ImportForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { user, form } = form;
    user.require(Area::Questionnaires, Access::Write)?;
    let lang = user.lang;
    let result = match questionnaires::parse_draft(&form.json) {
        Ok(def) => crate::services::questionnaire_io::store(
            &state.db,
            &Actor::staff(user.id, &user.email),
            &def,
        )
        .await
        .map(|(id, _)| id),
        Err(list) => Err(QuestionnaireError::Invalid(list)),
    };
    match result {
        Ok(id) => Ok(see_other(&format!("/staff/questionnaires/{id}?done=saved"))),
        Err(e) => {
            let errors = problems(lang, e)?;
            list_page(&state, &user, errors, vec![], None).await
        }
    }
}

/// Largest XLSForm upload: real forms are a few hundred kilobytes.
const XLSFORM_LIMIT: usize = 10 * 1024 * 1024;

/// One field of an upload form.
struct Part {
    name: String,
    file_name: Option<String>,
    bytes: Vec<u8>,
}

/// The fields of a `multipart/form-data` body, at most `limit` bytes of
/// content in all (413 past it).
async fn form_parts(mut form: Multipart, limit: usize) -> Result<Vec<Part>, AppError> {
    let unreadable = |e: actix_multipart::MultipartError| AppError::BadRequest {
        code: "invalid_form",
        detail: e.to_string(),
    };
    let mut parts = Vec::new();
    let mut total = 0usize;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(unreadable)?;
        let disposition = field.content_disposition();
        let name = disposition
            .and_then(|d| d.get_name())
            .unwrap_or_default()
            .to_owned();
        let file_name = disposition
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(unreadable)?;
            total += chunk.len();
            if total > limit {
                return Err(AppError::PayloadTooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        parts.push(Part {
            name,
            file_name,
            bytes,
        });
    }
    Ok(parts)
}

/// Imports an uploaded XLSForm (or Hailong JSON file) as a draft and shows
/// every warning with its sheet, row, XLSForm name and column; a refusal
/// shows the problems and the warnings, and stores nothing.
#[post("/questionnaires/import-file")]
pub async fn import_file(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    user: StaffUser,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    use crate::services::questionnaire_io::{self, Parsed};
    let lang = user.lang;
    user.require(Area::Questionnaires, Access::Write)?;
    let parts = form_parts(Multipart::new(req.headers(), payload), XLSFORM_LIMIT).await?;
    let csrf = parts
        .iter()
        .find(|p| p.name == "csrf_token")
        .map(|p| p.bytes.as_slice())
        .unwrap_or_default();
    if !crate::routes::extract::constant_time_eq(csrf, user.csrf_token.as_bytes()) {
        return Err(AppError::Forbidden);
    }
    let Some(Part {
        file_name, bytes, ..
    }) = parts
        .iter()
        .find(|p| p.name == "file" && p.file_name.is_some() && !p.bytes.is_empty())
    else {
        let errors = vec![i18n::t(lang, "designer-import-file-missing", &[])];
        return list_page(&state, &user, errors, vec![], None).await;
    };
    let file_name = file_name.clone().unwrap_or_default();
    let (definition, warnings) = match questionnaire_io::parse_file(&file_name, bytes) {
        Parsed::Ok {
            definition,
            warnings,
        } => (definition, warnings),
        Parsed::Problems { problems, warnings } => {
            let mut errors = vec![i18n::t(lang, "designer-import-refused", &[])];
            errors.extend(problems.iter().map(|p| {
                if p.field.is_empty() {
                    field_message(lang, p)
                } else {
                    format!("{}: {}", p.field, field_message(lang, p))
                }
            }));
            let warnings = warnings.iter().map(|w| warning_line(lang, w)).collect();
            return list_page(&state, &user, errors, warnings, None).await;
        }
        Parsed::NotAQuestionnaire(why) => {
            return list_page(&state, &user, vec![why], vec![], None).await;
        }
    };
    let mut seen = std::collections::HashSet::new();
    let warnings: Vec<String> = warnings
        .iter()
        .map(|w| warning_line(lang, w))
        .filter(|w| seen.insert(w.clone()))
        .collect();
    match questionnaire_io::store(&state.db, &Actor::staff(user.id, &user.email), &definition).await
    {
        Ok((id, _)) => list_page(&state, &user, vec![], warnings, Some(id)).await,
        Err(e) => {
            let errors = problems(lang, e)?;
            list_page(&state, &user, errors, warnings, None).await
        }
    }
}
