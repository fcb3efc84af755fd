//! A known population total for one category of one variable in a locality,
//! used to calibrate weights (post-stratification, raking).
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "population_margins")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub locality_code: String,
    /// Variable name, e.g. `sex`, `age_group`, `sex_age`.
    pub variable: String,
    /// Category of the variable, compared as text, e.g. `F|18-34`.
    pub category: String,
    pub total: f64,
    /// Reference year of the census or estimate.
    pub reference_year: Option<i32>,
}

impl ActiveModelBehavior for ActiveModel {}
