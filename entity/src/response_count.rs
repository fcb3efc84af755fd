//! How many responses a campaign holds per locality, kept by database
//! triggers on `responses` (migration 000010) in the same transaction as the
//! rows: what fieldwork progress, the results cache's staleness marker and
//! "has this campaign any answers" read, without touching `responses`.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "response_counts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub campaign_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub locality_code: String,
    pub n: i64,
}

impl ActiveModelBehavior for ActiveModel {}
