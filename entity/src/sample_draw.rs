//! A recorded sample draw: its seed and parameters, so it can be reproduced.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "sample_draws")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The campaign the selection was written to, if any.
    pub campaign_id: Option<i64>,
    /// The random seed (a u64 as decimal text).
    pub seed: String,
    /// The draw's parameters as JSON (level, strata, sizes, clusters).
    pub parameters: String,
    /// Number of units selected.
    pub selected: i32,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
