//! Staff pages under `/staff`. Every handler takes a [`StaffUser`] or
//! [`StaffForm`] (so anonymous visitors are sent to `/staff/login`, forms
//! without a valid CSRF token are refused) and checks its role.
//!
//! [`StaffUser`]: crate::routes::extract::StaffUser
//! [`StaffForm`]: crate::routes::extract::StaffForm

pub mod account;
pub mod audit;
pub mod campaigns;
pub mod hub;
pub mod invitations;
pub mod kiosks;
pub mod locality_picker;
pub mod login;
pub mod planning;
pub mod questionnaires;
pub mod reset;
pub mod tokens;
pub mod users;

use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::error::AppError;
use crate::routes::extract::StaffUser;
use crate::templates;
use crate::views::staff::StaffPage;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(login::show)
        .service(login::submit)
        .service(login::logout)
        .service(reset::request_form)
        .service(reset::request)
        .service(reset::new_password_form)
        .service(reset::set_new_password)
        .service(account::dashboard)
        .service(account::show)
        .service(account::change_password)
        .service(users::index)
        .service(users::create)
        .service(users::update)
        .service(tokens::index)
        .service(tokens::create)
        .service(tokens::revoke)
        .service(audit::index)
        .service(campaigns::index)
        .configure(locality_picker::configure)
        .service(campaigns::create)
        .service(campaigns::show)
        .configure(hub::configure)
        .service(campaigns::update)
        .service(campaigns::update_results_settings)
        .service(questionnaires::index)
        .service(questionnaires::create)
        .service(questionnaires::import)
        .service(questionnaires::import_file)
        .service(questionnaires::edit::show)
        .service(questionnaires::edit::edit)
        .service(questionnaires::publish::publish)
        .service(questionnaires::preview::preview)
        .configure(kiosks::configure)
        .configure(invitations::configure);
    planning::configure(cfg);
    crate::routes::results::staff::configure(cfg);
}

/// Renders a staff page for the signed-in user.
pub fn render<T: Serialize>(
    user: &StaffUser,
    template: &str,
    path: &str,
    page: T,
) -> Result<HttpResponse, AppError> {
    let ctx = StaffPage::new(user, path, page);
    let body = templates::render(template, &ctx)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(body))
}

/// 303 to a staff page after a successful POST.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", location.to_owned()))
        .finish()
}
