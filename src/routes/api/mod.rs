//! The JSON API, version 1.

pub mod campaigns;
pub mod openapi;
pub mod questionnaires;
pub mod responses;
pub mod results;
pub mod staff;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
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
        .service(results::targets);
}
