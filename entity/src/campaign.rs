//! A campaign: one published questionnaire version asked about one service
//! in a set of localities between two dates.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "campaigns")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub slug: String,
    pub name_vi: String,
    pub name_en: String,
    pub questionnaire_version_id: i64,
    pub service_id: i64,
    /// First day answers are accepted.
    pub opens_on: Date,
    /// Last day answers are accepted (inclusive).
    pub closes_on: Date,
    pub is_public: bool,
    /// `one_page` or `per_section`.
    pub layout: String,
    /// Sampling design and publication settings as JSON.
    #[sea_orm(column_type = "Text")]
    pub design: String,
    /// Lower sorts first in listings.
    pub sort_order: i32,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
