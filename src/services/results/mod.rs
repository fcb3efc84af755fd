//! Results for analysts: every index of a campaign (and its elements and criteria) at every
//! level of the locality hierarchy, estimated for the campaign's sampling design by
//! `hailong_stats`, with the small-numbers rule applied, stored with each publication.
//!
//! The way from a publication's responses to its results, a file each:
//!
//! * [`plan`](mod@plan): the questionnaire's index trees as items and index specifications;
//! * [`loader`] and [`dataset`]: the responses read from the database into columns;
//! * [`design`]: the hierarchy of their localities, the sampling design and calibration;
//! * [`estimate`]: estimates at the three levels, with suppression of small numbers;
//! * [`model`]: the results as stored and shown, and the JSON row of the API and downloads;
//! * [`compare`](mod@compare): rank bands, changes between waves, an earlier wave in
//!   today's units;
//!
//! # Publication
//!
//! Nobody sees live numbers: results are computed only when a campaign is published, from the
//! publication's fixed set of responses, and stored with it (see
//! [`crate::services::publication`]). Every page, download and API answer reads the latest
//! publication.

pub mod compare;
pub mod dataset;
pub mod design;
pub mod estimate;
pub mod loader;
pub mod model;
pub mod plan;
#[cfg(test)]
mod testkit;

use entity::campaign_locality;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use crate::error::AppError;
use crate::services::campaigns::OpenCampaign;

pub use compare::{Change, RankBand, change, compare, in_units_of, rank_bands};
pub use dataset::{Dataset, Interner};
pub use design::{Built, Hierarchy, build_design, hierarchy, population_margins};
pub use estimate::estimate_all;
pub use loader::load_dataset;
pub use model::{
    CalibrationNote, CampaignResults, IndexNode, Level, NATIONAL, Published, ResultJson,
    ResultLocality, ResultRow, Suppression, resolve_index,
};
pub use plan::{ItemPlan, Plan, plan};

/// Computes every result of a campaign's publication `upto` (its set of responses).
pub async fn compute(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    upto: i64,
) -> Result<CampaignResults, AppError> {
    let plan = plan(&campaign.definition);
    let data = load_dataset(db, campaign, &plan, false, upto).await?;
    let hier = hierarchy(db, campaign, &data).await?;
    let margins = population_margins(db, &campaign.design.calibration).await?;
    let campaign = campaign.clone();
    tokio::task::spawn_blocking(move || estimate_all(&campaign, &plan, &data, &hier, &margins))
        .await
        .map_err(|e| anyhow::anyhow!("estimation task: {e}"))?
}

/// Fieldwork of one locality: responses in the publication against the plan's target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fieldwork {
    pub code: String,
    pub responses: u64,
    pub target: Option<u64>,
}

/// Responses per locality as published (never the live count: it would tell when each
/// response arrived) and the targets.
pub async fn fieldwork(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    published: &CampaignResults,
) -> Result<Vec<Fieldwork>, AppError> {
    let links = campaign_locality::Entity::find()
        .filter(campaign_locality::Column::CampaignId.eq(campaign.campaign.id))
        .order_by_asc(campaign_locality::Column::LocalityCode)
        .all(db)
        .await?;
    Ok(links
        .into_iter()
        .map(|l| Fieldwork {
            responses: published
                .locality(&l.locality_code)
                .map(|x| x.responses)
                .unwrap_or(0),
            target: l.target_n.and_then(|t| u64::try_from(t).ok()),
            code: l.locality_code,
        })
        .collect())
}
