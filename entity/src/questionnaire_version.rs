//! One version of a questionnaire: a draft, or a published, frozen definition.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "questionnaire_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub questionnaire_id: i64,
    /// 1, 2, 3… within the questionnaire.
    pub version: i32,
    /// `draft` or `published`.
    pub status: String,
    /// The validated definition as JSON.
    #[sea_orm(column_type = "Text")]
    pub definition: String,
    /// SHA-256 (hex) of `definition`, set when published.
    pub checksum: Option<String>,
    pub created_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
