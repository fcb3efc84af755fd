//! The JSON API, version 1.

pub mod campaigns;
pub mod openapi;
pub mod questionnaires;
pub mod responses;
pub mod results;
pub mod staff;

use actix_web::web;
use utoipa_actix_web::service_config::ServiceConfig;

/// Where the API is mounted; the document's paths carry it too.
pub const PREFIX: &str = "/api/v1";

/// Mounts the API under [`PREFIX`] with its OpenAPI document: both the actix
/// routes and the document's paths come from [`configure`].
pub fn mount(cfg: &mut web::ServiceConfig) {
    let scope = utoipa_actix_web::scope(PREFIX).configure(configure);
    let document = openapi::Document::of(&scope);
    cfg.service(scope.app_data(web::Data::new(document)));
}

/// The API's one registration list. Each handler's method and path come from
/// its actix attribute (`#[get("/campaigns")]`); registering it here routes it
/// and adds its `#[utoipa::path]` operation (and the schemas it names) to the
/// document, so a handler without an operation does not compile.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(campaigns::list)
        .service(openapi::document)
        .service(staff::me)
        .service(questionnaires::index)
        .service(questionnaires::create)
        .service(questionnaires::validate)
        .service(questionnaires::show)
        .service(questionnaires::save_draft)
        .service(questionnaires::publish)
        .service(questionnaires::show_version)
        .service(questionnaires::export)
        .service(questionnaires::delete_version)
        .service(responses::submit)
        .service(results::campaign_results)
        .service(results::compare)
        .service(results::targets)
        .service(results::small_area);
}
