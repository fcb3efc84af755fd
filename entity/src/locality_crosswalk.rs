//! One link from an old administrative unit to a unit that replaced it, with
//! the share of the old unit's population that went there.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "locality_crosswalk")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub old_code: String,
    pub new_code: String,
    /// Share of the old unit that the new unit took over (shares of one old
    /// unit sum to 1).
    pub share: f64,
}

impl ActiveModelBehavior for ActiveModel {}
