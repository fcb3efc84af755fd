//! A replacement listed for a selected unit of a sample draw, in the order
//! it is to be used.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "sample_replacements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The selected unit it may replace (`sample_draw_units.id`).
    pub draw_unit_id: i64,
    /// 1 for the first replacement, 2 for the second, …
    pub rank: i32,
    /// Code of the replacement unit (a commune, or a village or desk).
    pub code: String,
    pub name: Option<String>,
    pub size: f64,
}

impl ActiveModelBehavior for ActiveModel {}
