//! What every handler shares.

use std::sync::Arc;

use actix_web::cookie::Key;
use sea_orm::DatabaseConnection;

use crate::auth::limiter::LoginLimiter;
use crate::config::Settings;

/// Shared application state (templates and translations are process-wide statics).
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    /// Encrypts and signs the staff session cookie.
    pub cookie_key: Key,
    pub login_limiter: Arc<LoginLimiter>,
}
