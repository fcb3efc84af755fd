//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the JSON API,
//! generated from the handlers' annotations (utoipa), public. Its paths are
//! the operations registered in [`super::configure`]; this file adds the
//! rest: info, the schemas no operation names, security schemes, tags.

use actix_web::{HttpResponse, get, web};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::OpenApiFactory;

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
    components(schemas(
        ProblemBody, FieldProblem, FieldError, Text, Definition, Section, Question, QuestionType, Choice,
        ScalePoint, Condition, Comparison, ConditionOp, ConditionFn, ChoiceFilter, FilterOp,
        IndexMapping, IndexDefinition, IndexElement,
        IndexCriterion, Aggregation, Summary, VersionInfo, CampaignJson, LocalityJson,
        QuestionnaireJson, SectionJson, QuestionJson, crate::services::results::ResultJson,
        crate::services::results::small_area::ModelBasedJson
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

/// The document served, built once per worker when the API is mounted.
pub struct Document(pub utoipa::openapi::OpenApi);

impl Document {
    /// [`ApiDoc`] with the paths and schemas collected by registering the
    /// API's handlers on `registered` (the mounted scope).
    pub fn of(registered: &impl OpenApiFactory) -> Self {
        let mut doc = ApiDoc::openapi();
        doc.paths = registered.paths();
        let mut schemas = Vec::new();
        registered.schemas(&mut schemas);
        let components = doc.components.get_or_insert_with(Default::default);
        for (name, schema) in schemas {
            components.schemas.entry(name).or_insert(schema);
        }
        Self(doc)
    }
}

#[utoipa::path(tag = "public",
    responses((status = 200, description = "This document")))]
#[get("/openapi.json")]
pub async fn document(doc: web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok().json(&doc.0)
}
