//! The group totals of a publication's included responses, from which its results are
//! computed (see `services::results::totals`): derived data, rebuilt from the responses
//! whenever missing or made for another plan.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "publication_totals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    /// The publication whose included set (every response with `publication <= number`)
    /// the totals describe.
    pub number: i64,
    /// What the totals were made for (items, thresholds, indices, calibration variables).
    #[sea_orm(column_type = "Text")]
    pub plan_key: String,
    /// Responses summed.
    pub responses: i64,
    /// The totals, encoded.
    #[sea_orm(column_type = "Blob")]
    pub data: Vec<u8>,
}

impl ActiveModelBehavior for ActiveModel {}
