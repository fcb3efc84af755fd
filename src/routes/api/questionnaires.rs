//! `/api/v1/questionnaires`: list, create, update the draft, validate,
//! publish, read and delete versions. Staff only (session or API token);
//! reading needs the questionnaires area, changing needs write access.

use actix_web::{HttpMessage, HttpRequest, HttpResponse, delete, get, mime, post, put, web};
use serde_json::json;

use crate::auth::{Access, Area};
use crate::domain::questionnaire::Definition;
use crate::domain::validation::FieldError;
use crate::error::AppError;
use crate::routes::extract::ApiUser;
use crate::routes::state::AppState;
use crate::services::audit::Actor;
use crate::services::questionnaires::{self, QuestionnaireError};

use crate::routes::problem::ProblemBody;

impl From<QuestionnaireError> for AppError {
    fn from(e: QuestionnaireError) -> Self {
        match e {
            QuestionnaireError::Invalid(list) => AppError::Validation(list),
            QuestionnaireError::NotFound => AppError::NotFound("questionnaire_not_found"),
            QuestionnaireError::DuplicateCode(code) => AppError::Validation(vec![
                FieldError::new("code", "duplicate_questionnaire").with("code", code),
            ]),
            QuestionnaireError::CodeMismatch { expected, found } => AppError::Validation(vec![
                FieldError::new("code", "code_mismatch")
                    .with("expected", expected)
                    .with("found", found),
            ]),
            QuestionnaireError::NoDraft => AppError::Conflict("no_draft"),
            QuestionnaireError::NeedsTranslation(_) => AppError::Conflict("needs_translation"),
            QuestionnaireError::InUse => AppError::Conflict("version_in_use"),
            QuestionnaireError::Db(e) => AppError::from(e),
        }
    }
}

/// Parses a JSON request body as a definition; a body that is not
/// `application/json` is refused (415), so no HTML form can post here.
pub fn definition_from(req: &HttpRequest, body: &[u8]) -> Result<Definition, AppError> {
    let json = mime::APPLICATION_JSON.essence_str();
    if req
        .mime_type()
        .ok()
        .flatten()
        .is_none_or(|m| m.essence_str() != json)
    {
        return Err(AppError::UnsupportedMediaType);
    }
    let text = std::str::from_utf8(body).map_err(|e| AppError::BadRequest {
        code: "invalid_utf8",
        detail: e.to_string(),
    })?;
    // A draft may still lack its Vietnamese texts (it then needs translation
    // and cannot be published); every other rule is checked.
    questionnaires::parse_draft(text).map_err(AppError::Validation)
}

fn actor(user: &ApiUser) -> Actor {
    Actor::staff(user.id, &user.email)
}

#[utoipa::path(tag = "questionnaires",
    security(("session" = []), ("token" = [])),
    responses((status = 200, description = "Every questionnaire with its versions", body = [questionnaires::Summary]),
        (status = 401, description = "Not signed in", body = ProblemBody)))]
#[get("/questionnaires")]
pub async fn index(state: web::Data<AppState>, user: ApiUser) -> Result<HttpResponse, AppError> {
    user.require(Area::Questionnaires, Access::Read)?;
    let list = questionnaires::list(&state.db).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(tag = "questionnaires",
    security(("session" = []), ("token" = [])), request_body = Definition,
    responses((status = 201, description = "Created with a first draft version", body = questionnaires::Summary),
        (status = 415, description = "Not application/json", body = ProblemBody),
        (status = 422, description = "Every problem, with its field path", body = ProblemBody)))]
#[post("/questionnaires")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    user.require(Area::Questionnaires, Access::Write)?;
    let def = definition_from(&req, &body)?;
    let created = questionnaires::create(&state.db, &actor(&user), &def).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/questionnaires/{}", created.id)))
        .json(created))
}

#[utoipa::path(tag = "questionnaires",
    security(("session" = []), ("token" = [])), params(("id" = i64, Path, description = "Questionnaire id")),
    responses((status = 200, description = "Versions and the newest definition"), (status = 404, body = ProblemBody)))]
#[get("/questionnaires/{id}")]
pub async fn show(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    user.require(Area::Questionnaires, Access::Read)?;
    let id = path.into_inner();
    let summary = questionnaires::get(&state.db, id).await?;
    let (latest, def) = questionnaires::latest(&state.db, id).await?;
    Ok(HttpResponse::Ok().json(json!({
        "id": summary.id,
        "code": summary.code,
        "versions": summary.versions,
        "latest": { "version": latest.version, "status": latest.status, "definition": def },
    })))
}

#[utoipa::path(tag = "questionnaires",
    security(("session" = []), ("token" = [])), params(("id" = i64, Path)), request_body = Definition,
    responses((status = 200, description = "Saved as the draft (a new draft version if the newest is published)"),
        (status = 422, body = ProblemBody)))]
#[put("/questionnaires/{id}/draft")]
pub async fn save_draft(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    user.require(Area::Questionnaires, Access::Write)?;
    let def = definition_from(&req, &body)?;
    let number =
        questionnaires::save_draft(&state.db, &actor(&user), path.into_inner(), &def).await?;
    Ok(HttpResponse::Ok().json(json!({ "version": number, "status": "draft" })))
}

/// Checks a definition without saving it: `{valid, errors: [{field, code, message}]}`.
#[utoipa::path(tag = "questionnaires",
    security(("session" = []), ("token" = [])), request_body = Definition,
    responses((status = 200, description = "{valid, errors: [{field, code, message}]}; nothing is saved")))]
#[post("/questionnaires/validate")]
pub async fn validate(
    req: HttpRequest,
    user: ApiUser,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    user.require(Area::Questionnaires, Access::Read)?;
    let lang = user.lang;
    // Valid means publishable: texts without Vietnamese are listed too.
    let checked =
        definition_from(&req, &body).and_then(|def| def.check().map_err(AppError::Validation));
    match checked {
        Ok(()) => Ok(HttpResponse::Ok().json(json!({ "valid": true, "errors": [] }))),
        Err(AppError::Validation(problems)) => {
            let errors: Vec<_> = problems
                .iter()
                .map(|f| json!({ "field": f.field, "code": f.code, "message": crate::error::field_message(lang, f) }))
                .collect();
            Ok(HttpResponse::Ok().json(json!({ "valid": false, "errors": errors })))
        }
        Err(e) => Err(e),
    }
}

#[utoipa::path(tag = "questionnaires",
    security(("session" = []), ("token" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "The frozen version with its SHA-256 checksum", body = questionnaires::VersionInfo),
        (status = 409, description = "No draft to publish (no_draft), or the draft's texts lack Vietnamese (needs_translation)", body = ProblemBody)))]
#[post("/questionnaires/{id}/publish")]
pub async fn publish(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    user.require(Area::Questionnaires, Access::Write)?;
    let v = questionnaires::publish(&state.db, &actor(&user), path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(v))
}

#[utoipa::path(tag = "questionnaires",
    security(("session" = []), ("token" = [])), params(("id" = i64, Path), ("version" = i32, Path)),
    responses((status = 200, description = "The version's definition, status and checksum"), (status = 404, body = ProblemBody)))]
#[get("/questionnaires/{id}/versions/{version}")]
pub async fn show_version(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(i64, i32)>,
) -> Result<HttpResponse, AppError> {
    user.require(Area::Questionnaires, Access::Read)?;
    let (id, number) = path.into_inner();
    let (row, def) = questionnaires::version(&state.db, id, number).await?;
    Ok(HttpResponse::Ok().json(json!({
        "version": row.version,
        "status": row.status,
        "checksum": row.checksum,
        "published_at": row.published_at.map(|t| t.to_rfc3339()),
        "definition": def,
    })))
}

/// The newest version's definition as a file: `questionnaire import` reads it back.
#[utoipa::path(tag = "questionnaires",
    security(("session" = []), ("token" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "The newest definition as a JSON file", body = Definition)))]
#[get("/questionnaires/{id}/export")]
pub async fn export(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    user.require(Area::Questionnaires, Access::Read)?;
    let (_, def) = questionnaires::latest(&state.db, path.into_inner()).await?;
    let body = serde_json::to_string_pretty(&def).map_err(|e| AppError::Internal(e.into()))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(crate::routes::attachment(&format!("{}.json", def.code)))
        .body(body))
}

#[utoipa::path(tag = "questionnaires",
    security(("session" = []), ("token" = [])), params(("id" = i64, Path), ("version" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 409, description = "Used by a campaign", body = ProblemBody)))]
#[delete("/questionnaires/{id}/versions/{version}")]
pub async fn delete_version(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(i64, i32)>,
) -> Result<HttpResponse, AppError> {
    user.require(Area::Questionnaires, Access::Write)?;
    let (id, number) = path.into_inner();
    questionnaires::delete_version(&state.db, &actor(&user), id, number).await?;
    Ok(HttpResponse::NoContent().finish())
}
