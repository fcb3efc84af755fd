//! The computed results of one campaign, kept until its responses change.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "result_caches")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub campaign_id: i64,
    /// What the results were computed from; a different marker means stale.
    pub marker: String,
    pub computed_at: DateTimeUtc,
    /// Every estimate of the campaign as one JSON document.
    #[sea_orm(column_type = "Text")]
    pub payload: String,
}

impl ActiveModelBehavior for ActiveModel {}
