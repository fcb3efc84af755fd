//! One area-level auxiliary value (a covariate of the small-area model) of one locality.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "area_auxiliary")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub locality_code: String,
    /// The variable's name, as in the header of the imported file.
    pub variable: String,
    pub value: f64,
}

impl ActiveModelBehavior for ActiveModel {}
