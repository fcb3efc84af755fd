//! A kiosk (tablet at a service desk) registered for a campaign, locality and
//! service. Only the SHA-256 hash of its secret device token is kept.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "kiosks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    pub locality_code: String,
    pub service_id: i64,
    /// Lowercase hex SHA-256 of the device token.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// A staff-chosen name, e.g. "Desk 2, Ba Đình one-stop office".
    pub label: String,
    /// The date only.
    pub created_on: Date,
    pub revoked: bool,
}

impl ActiveModelBehavior for ActiveModel {}
