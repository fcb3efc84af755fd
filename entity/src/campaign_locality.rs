//! A locality a campaign collects in, with its design fields.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "campaign_localities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub campaign_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub locality_code: String,
    /// Sampling stratum responses from this locality belong to.
    pub stratum: Option<String>,
    /// Primary sampling unit (cluster) responses from this locality belong to.
    pub cluster: Option<String>,
    /// Base weight (inverse selection probability) for its respondents.
    pub base_weight: Option<f64>,
    /// Number of responses the fieldwork plan aims for.
    pub target_n: Option<i32>,
}

impl ActiveModelBehavior for ActiveModel {}
