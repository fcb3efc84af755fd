//! `GET /api/v1/staff/me`: who the session or API token belongs to.

use actix_web::{HttpResponse, get};
use serde_json::json;

use crate::routes::extract::ApiUser;

#[utoipa::path(tag = "staff",
    security(("session" = []), ("token" = [])),
    responses((status = 200, description = "{id, email, role, localities}"), (status = 401, body = crate::routes::problem::ProblemBody)))]
#[get("/staff/me")]
pub async fn me(user: ApiUser) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "id": user.id,
        "email": user.email,
        "role": user.role.as_str(),
        "localities": user.localities,
    }))
}
