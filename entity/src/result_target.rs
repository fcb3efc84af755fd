//! A target a local government set for one locality and index.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "result_targets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    pub locality_code: String,
    pub index_code: String,
    /// `at_least`, `gain` or `top`.
    pub kind: String,
    pub value: f64,
    /// For `gain`: the earlier campaign compared with.
    pub baseline_slug: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
