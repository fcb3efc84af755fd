//! Importing a questionnaire into the designer: pasted JSON, or an uploaded XLSForm file
//! whose warnings and problems are listed by sheet row.

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

/// The parts of a `multipart/form-data` body: (field name, file name, bytes).
fn multipart_parts<'a>(body: &'a [u8], boundary: &str) -> Vec<(String, Option<String>, &'a [u8])> {
    let find = |hay: &[u8], needle: &[u8], from: usize| -> Option<usize> {
        hay.get(from..)?
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| p + from)
    };
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let Some(mut at) = find(body, delimiter.as_bytes(), 0) else {
        return parts;
    };
    let next_delimiter = format!("\r\n--{boundary}");
    loop {
        let start = at + delimiter.len();
        if body.get(start..start + 2) == Some(b"--") {
            break;
        }
        let Some(head_end) = find(body, b"\r\n\r\n", start) else {
            break;
        };
        let Some(end) = find(body, next_delimiter.as_bytes(), head_end + 4) else {
            break;
        };
        let head = String::from_utf8_lossy(&body[start..head_end]);
        let param = |key: &str| -> Option<String> {
            let pattern = format!("{key}=\"");
            let i = head.find(&pattern)? + pattern.len();
            let j = head[i..].find('"')? + i;
            Some(head[i..j].to_owned())
        };
        if let Some(name) = param(" name") {
            parts.push((name, param("filename"), &body[head_end + 4..end]));
        }
        at = end + 2;
    }
    parts
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
    let body = crate::routes::api::responses::read_limited(&req, payload, XLSFORM_LIMIT).await?;
    let boundary = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(';')
                .find_map(|p| p.trim().strip_prefix("boundary="))
        })
        .map(|b| b.trim_matches('"').to_owned())
        .unwrap_or_default();
    let parts = multipart_parts(&body, &boundary);
    let csrf = parts
        .iter()
        .find(|(n, _, _)| n == "csrf_token")
        .map(|(_, _, v)| *v)
        .unwrap_or_default();
    if !crate::routes::extract::constant_time_eq(csrf, user.csrf_token.as_bytes()) {
        return Err(AppError::Forbidden);
    }
    let Some((_, file_name, bytes)) = parts
        .iter()
        .find(|(n, f, v)| n == "file" && f.is_some() && !v.is_empty())
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
