//! `GET /healthz`: the process is up and the database answers.

use actix_web::{HttpResponse, get, web};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::state::AppState;

/// `GET /livez`: the process answers (no dependency is checked), for
/// restarting a stuck process.
#[get("/livez")]
pub async fn livez() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// `GET /metrics`: Prometheus / OpenMetrics text.
#[get("/metrics")]
pub async fn metrics() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(crate::metrics::METRICS.render())
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
