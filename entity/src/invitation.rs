//! An email invitation to a campaign: the address list, stored apart from
//! responses and deleted on demand or when the campaign closes. A used
//! invitation records the date only, never which response it produced.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "invitations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    pub email: String,
    /// SHA-256 (hex) of the link's token; the token itself is only in the email.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// SHA-256 of the token sent in the reminder (the first link stays valid).
    pub reminder_token_hash: Option<String>,
    pub sent: bool,
    pub reminded: bool,
    /// The date the link was used (no time of day).
    pub used_on: Option<Date>,
    pub created_on: Date,
}

impl ActiveModelBehavior for ActiveModel {}
