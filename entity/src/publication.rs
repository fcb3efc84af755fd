//! One publication of a campaign's results: the estimates computed from every response
//! with `responses.publication <= number`, and the date (never the time) it was made.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "publications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    /// 1, 2, … per campaign (unique with the campaign).
    pub number: i64,
    /// The date in Asia/Ho_Chi_Minh, without the time of day.
    pub published_on: Date,
    /// `schedule`, `manual`, `close` or `cli`.
    pub trigger: String,
    /// Responses included (cumulative).
    pub included: i64,
    /// Invitation-channel responses included (cumulative), rounded down to a multiple of k.
    pub invited_answered: Option<i64>,
    /// Every estimate as one JSON document; `None` while being computed.
    #[sea_orm(column_type = "Text", nullable)]
    pub payload: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
