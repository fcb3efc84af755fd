//! A unit selected by a sample draw, with its inclusion probabilities at
//! each stage and the design fields its respondents get.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "sample_draw_units")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub draw_id: i64,
    /// Stratum of the frame the first-stage unit was drawn in.
    pub stratum: String,
    /// First-stage unit (a commune).
    pub psu_code: String,
    pub psu_size: f64,
    /// First-stage inclusion probability π_i.
    pub psu_probability: f64,
    pub psu_certainty: bool,
    /// Second-stage unit (village, desk) in a two-stage draw.
    pub unit_code: Option<String>,
    pub unit_name: Option<String>,
    pub unit_size: Option<f64>,
    /// Conditional second-stage inclusion probability π_j|i.
    pub unit_probability: Option<f64>,
    pub unit_certainty: Option<bool>,
    /// Combined inclusion probability π = π_i·π_j|i.
    pub probability: f64,
    /// Stratum for estimation (a certainty unit is its own stratum).
    pub design_stratum: String,
    /// PSU for estimation; none when every respondent is its own PSU.
    pub cluster: Option<String>,
    /// Base weight of each respondent.
    pub base_weight: f64,
}

impl ActiveModelBehavior for ActiveModel {}
