//! One anonymous response. Deliberately holds no IP address, user agent,
//! token, or time of day: nothing that links it to a person.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "responses")]
pub struct Model {
    /// The client's random submission id, lowercase hyphenated UUID text.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub campaign_id: i64,
    pub locality_code: String,
    /// `web`, `kiosk`, `email`, `interview`, `paper`, `api`.
    pub channel: String,
    /// The date only, never the time of day.
    pub response_date: Date,
    pub stratum: Option<String>,
    pub cluster: Option<String>,
    pub base_weight: f64,
    /// Demographic cells for calibration as a JSON object, e.g. `{"sex_age":"F|18-34"}`.
    #[sea_orm(column_type = "Text", nullable)]
    pub cells: Option<String>,
    /// All answers in one compact JSON object `{question code: value}`:
    /// a single append per response keeps submission fast.
    #[sea_orm(column_type = "Text")]
    pub answers: String,
    /// The number of the publication that first included this response (`None`: waiting
    /// for one; see `hailong::services::publication`).
    pub publication: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
