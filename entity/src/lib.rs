//! SeaORM entities: how Hailong's data is stored, and nothing more.
//!
//! Business rules live in the `hailong` crate's `domain` and `services`
//! modules; the schema's source of truth is the `migration` crate.

pub mod api_token;
pub mod app_secret;
pub mod area_auxiliary;
pub mod audit_log;
pub mod campaign;
pub mod campaign_locality;
pub mod invitation;
pub mod kiosk;
pub mod locality;
pub mod locality_crosswalk;
pub mod password_reset;
pub mod population_margin;
pub mod publication;
pub mod publication_totals;
pub mod questionnaire;
pub mod questionnaire_version;
pub mod report_request;
pub mod response;
pub mod response_count;
pub mod result_cache;
pub mod result_target;
pub mod sample_attempt;
pub mod sample_draw;
pub mod sample_draw_unit;
pub mod sample_replacement;
pub mod service;
pub mod spent_invitation;
pub mod staff_session;
pub mod staff_user;

pub mod prelude {
    pub use super::campaign::Entity as Campaign;
    pub use super::campaign_locality::Entity as CampaignLocality;
    pub use super::invitation::Entity as Invitation;
    pub use super::kiosk::Entity as Kiosk;
    pub use super::locality::Entity as Locality;
    pub use super::population_margin::Entity as PopulationMargin;
    pub use super::questionnaire::Entity as Questionnaire;
    pub use super::questionnaire_version::Entity as QuestionnaireVersion;
    pub use super::response::Entity as Response;
    pub use super::result_cache::Entity as ResultCache;
    pub use super::result_target::Entity as ResultTarget;
    pub use super::service::Entity as Service;
}
