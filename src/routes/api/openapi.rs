//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the JSON API,
//! generated from the handlers' annotations (utoipa), public.

use actix_web::{HttpResponse, get};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::domain::questionnaire::{
    Aggregation, Choice, ChoiceFilter, Comparison, Condition, ConditionFn, ConditionOp, Definition,
    FilterOp, IndexCriterion, IndexDefinition, IndexElement, IndexMapping, Question, QuestionType,
    ScalePoint, Section,
};
use crate::domain::text::Text;
use crate::domain::validation::FieldError;
use crate::routes::problem::{FieldProblem, ProblemBody};
use crate::services::questionnaires::{Summary, VersionInfo};
use crate::views::api::{CampaignJson, LocalityJson, QuestionJson, QuestionnaireJson, SectionJson};

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A personal API token from /staff/tokens"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("hailong_staff"))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hailong API",
        version = "1",
        description = "Citizen-satisfaction surveys of public services: open campaigns, questionnaires, responses and results."
    ),
    paths(
        document,
        super::campaigns::list,
        super::responses::submit,
        super::results::campaign_results,
        super::results::compare,
        super::results::targets,
        super::staff::me,
        super::questionnaires::index,
        super::questionnaires::create,
        super::questionnaires::validate,
        super::questionnaires::show,
        super::questionnaires::save_draft,
        super::questionnaires::publish,
        super::questionnaires::show_version,
        super::questionnaires::export,
        super::questionnaires::delete_version,
    ),
    components(schemas(
        ProblemBody, FieldProblem, FieldError, Text, Definition, Section, Question, QuestionType, Choice,
        ScalePoint, Condition, Comparison, ConditionOp, ConditionFn, ChoiceFilter, FilterOp,
        IndexMapping, IndexDefinition, IndexElement,
        IndexCriterion, Aggregation, Summary, VersionInfo, CampaignJson, LocalityJson,
        QuestionnaireJson, SectionJson, QuestionJson, crate::services::results::ResultJson
    )),
    modifiers(&Security),
    tags(
        (name = "public", description = "No account needed"),
        (name = "questionnaires", description = "Staff: designers write, other staff read"),
        (name = "results", description = "Public for public campaigns; otherwise analysts (session or token)"),
        (name = "staff", description = "Staff accounts")
    )
)]
pub struct ApiDoc;

#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "public",
    responses((status = 200, description = "This document")))]
#[get("/openapi.json")]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
