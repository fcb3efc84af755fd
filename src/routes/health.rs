//! `GET /healthz`: the process is up and the database answers.

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, web};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::auth::Role;
use crate::error::AppError;
use crate::routes::extract::ApiUser;
use crate::routes::state::AppState;

/// `GET /livez`: the process answers (no dependency is checked), for
/// restarting a stuck process.
#[get("/livez")]
pub async fn livez() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// `GET /metrics`: Prometheus / OpenMetrics text, for an administrator's API
/// token only (`Authorization: Bearer hl_…`): 401 without one, 403 for other
/// roles. A session cookie is not enough.
#[get("/metrics")]
pub async fn metrics(req: HttpRequest) -> Result<HttpResponse, AppError> {
    let bearer = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| h.starts_with("Bearer "));
    if !bearer {
        return Err(AppError::Unauthorized);
    }
    let user = ApiUser::from_request(&req, &mut Payload::None).await?;
    if user.role != Role::Admin {
        return Err(AppError::Forbidden);
    }
    Ok(HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(crate::metrics::METRICS.render()))
}

/// `GET /healthz` and `GET /readyz`: ready to serve, the database answers
/// (503 otherwise), for taking a process out of a load balancer.
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    healthz_inner(&state).await
}

#[get("/healthz")]
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    healthz_inner(&state).await
}

async fn healthz_inner(state: &AppState) -> HttpResponse {
    let backend = state.db.get_database_backend();
    let probe = sea_orm::Statement::from_string(backend, "SELECT 1");
    match state.db.query_one_raw(probe).await {
        Ok(_) => HttpResponse::Ok().json(json!({"status": "ok", "database": "ok"})),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            HttpResponse::ServiceUnavailable()
                .json(json!({"status": "unavailable", "database": "unreachable"}))
        }
    }
}
