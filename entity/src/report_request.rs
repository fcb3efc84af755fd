//! A staff member's request for a results export by email, and its outcome.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "report_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    pub staff_user_id: i64,
    /// `csv` or `xlsx`.
    pub format: String,
    /// A level, or none for every level.
    pub level: Option<String>,
    /// An index key, or none for every index.
    pub index_code: Option<String>,
    pub with_microdata: bool,
    /// Language of the email.
    pub lang: String,
    /// `queued`, `sent` or `failed`.
    pub status: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    pub requested_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
