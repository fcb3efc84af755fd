//! One administrative unit during one validity period.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "localities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// National statistics code (2-digit province, 5-digit commune).
    pub code: String,
    /// `province`, `district` or `commune`.
    pub level: String,
    pub parent_code: Option<String>,
    pub name_vi: String,
    pub name_en: String,
    pub full_name_vi: Option<String>,
    pub full_name_en: Option<String>,
    pub unit_type_vi: Option<String>,
    pub unit_type_en: Option<String>,
    /// First day the unit exists in this form.
    pub valid_from: Date,
    /// First day it no longer exists (exclusive); `None` while current.
    pub valid_to: Option<Date>,
}

impl ActiveModelBehavior for ActiveModel {}
