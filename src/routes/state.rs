//! What every handler shares.

use std::sync::Arc;

use actix_web::cookie::Key;
use sea_orm::DatabaseConnection;

use crate::auth::limiter::LoginLimiter;
use crate::config::Settings;
use crate::routes::rate_limit::RateLimiter;
use crate::services::writer::ResponseWriter;

/// Shared application state (templates and translations are process-wide statics).
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    /// Encrypts and signs the staff session cookie.
    pub cookie_key: Key,
    pub login_limiter: Arc<LoginLimiter>,
    /// The group-commit writer that owns the write path for responses.
    pub writer: ResponseWriter,
    /// Per-address limits on submissions, in memory only.
    pub limiter: Arc<RateLimiter>,
    /// Campaigns as the submission API last loaded them (a few seconds).
    pub campaign_cache: Arc<crate::services::responses::CampaignCache>,
    /// Survey first pages as rendered, by campaign load, language and locality.
    pub first_pages: Arc<crate::routes::first_page::FirstPages>,
    /// Sends invitations, password resets and reports (`None`: no SMTP server is set).
    pub mailer: Option<crate::mail::Mailer>,
}
