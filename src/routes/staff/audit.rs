//! The audit log, for administrators.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;

use crate::auth::{Access, Area};
use crate::error::AppError;
use crate::routes::extract::StaffUser;
use crate::routes::state::AppState;
use crate::services::audit;
use crate::views::staff::audit::{AuditPage, AuditRow};

use super::render;

const PER_PAGE: u64 = 100;

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<u64>,
}

#[get("/audit")]
pub async fn index(
    state: web::Data<AppState>,
    user: StaffUser,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    user.require(Area::Audit, Access::Read)?;
    let page = q.page.unwrap_or(1).max(1);
    let (rows, total) = audit::page(&state.db, page - 1, PER_PAGE).await?;
    let entries = rows
        .into_iter()
        .map(|r| AuditRow {
            at: r.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            staff: r.staff_email,
            action: r.action,
            object: format!("{} {}", r.object_type, r.object_id),
            detail: r.detail,
        })
        .collect();
    render(
        &user,
        "staff/audit.html",
        "/staff/audit",
        AuditPage {
            entries,
            page,
            pages: total.div_ceil(PER_PAGE).max(1),
            total,
        },
    )
}
