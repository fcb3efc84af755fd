//! The JSON API, version 1.

pub mod campaigns;
pub mod results;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(campaigns::list);
    cfg.service(results::campaign_results);
    cfg.service(results::compare);
    cfg.service(results::targets);
}
