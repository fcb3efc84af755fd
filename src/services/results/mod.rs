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
//! * [`audience`]: who sees which localities, the one rule every reader goes through.
//!
//! # Publication
//!
//! Nobody sees live numbers: results are computed only when a campaign is published, from the
//! publication's fixed set of responses, and stored with it (see
//! [`crate::services::publication`]). Every page, download and API answer reads the latest
//! publication, as its reader's [`Audience`] may see it.

pub mod audience;
pub mod compare;
pub mod dataset;
pub mod design;
pub mod estimate;
pub mod grouping;
pub mod loader;
pub mod model;
pub mod plan;
pub mod small_area;
#[cfg(test)]
mod testkit;
pub mod totals;

use entity::campaign_locality;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use crate::error::AppError;
use crate::services::campaigns::OpenCampaign;

pub use audience::{Audience, Reader};
pub use compare::{Change, RankBand, change, compare, in_units_of, rank_bands};
pub use dataset::{AnsweredItems, Dataset, DesignColumns, Interner};
pub use design::{Built, Hierarchy, build_design, hierarchy, population_margins};
pub use estimate::estimate_all;
pub use loader::{ResponseRow, RowSink, load_dataset, load_groups, scan_by_id};
pub use model::{
    CalibrationNote, CampaignResults, IndexNode, Level, NATIONAL, Published, ResultJson,
    ResultLocality, ResultRow, Suppression, resolve_index,
};
pub use plan::{ItemPlan, ItemSource, Plan, plan};

/// Computes every result of a campaign's publication `upto` (its set of responses).
pub async fn compute(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    upto: i64,
) -> Result<CampaignResults, AppError> {
    Ok(compute_with_totals(db, campaign, upto).await?.0)
}

/// [`compute`], also returning the group totals it used and where they came from (see
/// [`totals`]).
pub async fn compute_with_totals(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    upto: i64,
) -> Result<(CampaignResults, Dataset, totals::Source), AppError> {
    let plan = plan(&campaign.definition);
    let (data, source) = totals::groups_of(db, campaign, &plan, upto).await?;
    let (results, data) = compute_from(db, campaign, plan, data).await?;
    Ok((results, data, source))
}

/// Every result of a campaign from a data set (of responses or of groups) made with `plan`.
pub async fn compute_from(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    plan: Plan,
    data: Dataset,
) -> Result<(CampaignResults, Dataset), AppError> {
    let hier = hierarchy(db, campaign, &data).await?;
    let margins = population_margins(db, &campaign.design.calibration).await?;
    let area = small_area::area_data(db, &hier, campaign.campaign.opens_on).await?;
    let campaign = campaign.clone();
    tokio::task::spawn_blocking(move || {
        let mut inputs = small_area::ModelInputs::default();
        let mut results = estimate::estimate_capturing(
            &campaign,
            &plan,
            &data,
            &hier,
            |c, d, h| build_design(c, d, h, &margins),
            &mut inputs,
        )?;
        results.small_area = small_area::fit_all(&results, &inputs, &data, &hier, &area);
        small_area::place_unsampled(&mut results, &area);
        Ok((results, data))
    })
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

/// Responses per locality of the campaign as published (never the live count: it would tell
/// when each response arrived) and the targets, for the localities `audience` sees.
pub async fn fieldwork(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    published: &CampaignResults,
    audience: &Audience,
) -> Result<Vec<Fieldwork>, AppError> {
    let links = campaign_locality::Entity::find()
        .filter(campaign_locality::Column::CampaignId.eq(campaign.campaign.id))
        .order_by_asc(campaign_locality::Column::LocalityCode)
        .all(db)
        .await?;
    Ok(fieldwork_of(links, campaign, published, audience))
}

/// [`fieldwork`] of the campaign's localities `links`: a locality's parent is the one the
/// campaign lists (it may have no results yet).
fn fieldwork_of(
    links: Vec<campaign_locality::Model>,
    campaign: &OpenCampaign,
    published: &CampaignResults,
    audience: &Audience,
) -> Vec<Fieldwork> {
    links
        .into_iter()
        .filter(|l| {
            let parent = campaign
                .localities
                .iter()
                .find(|c| c.code == l.locality_code)
                .and_then(|c| c.parent_code.as_deref());
            audience.sees(&l.locality_code, parent)
        })
        .map(|l| Fieldwork {
            responses: published
                .locality(&l.locality_code)
                .map(|x| x.responses)
                .unwrap_or(0),
            target: l.target_n.and_then(|t| u64::try_from(t).ok()),
            code: l.locality_code,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::campaign::DesignSettings;
    use crate::services::campaigns::CampaignLocality;

    fn link(code: &str, target: Option<i32>) -> campaign_locality::Model {
        campaign_locality::Model {
            campaign_id: 1,
            locality_code: code.to_owned(),
            stratum: None,
            cluster: None,
            base_weight: None,
            target_n: target,
        }
    }

    #[test]
    fn fieldwork_counts_published_responses_of_the_localities_one_may_see() {
        let mut campaign = testkit::campaign(testkit::sipas(), DesignSettings::default());
        campaign.localities = [("00004", "01"), ("00007", "01"), ("26734", "79")]
            .into_iter()
            .map(|(code, parent)| CampaignLocality {
                code: code.to_owned(),
                level: "commune".to_owned(),
                parent_code: Some(parent.to_owned()),
                name_vi: code.to_owned(),
                name_en: String::new(),
            })
            .collect();
        let published = CampaignResults {
            rows: Vec::new(),
            localities: vec![ResultLocality {
                code: "00004".to_owned(),
                level: Level::Commune,
                parent: Some("01".to_owned()),
                name_vi: String::new(),
                name_en: String::new(),
                responses: 17,
            }],
            nodes: Vec::new(),
            main_index: None,
            responses: 17,
            df: 0,
            min_n: 30,
            min_df: 8,
            calibration: CalibrationNote::None,
            skipped_indices: Vec::new(),
            small_area: Default::default(),
        };
        let links = || {
            vec![
                link("00004", Some(40)),
                link("00007", None),
                link("26734", Some(-1)),
            ]
        };
        let everyone = fieldwork_of(links(), &campaign, &published, &Audience::everyone());
        assert_eq!(
            everyone,
            [
                Fieldwork {
                    code: "00004".to_owned(),
                    responses: 17,
                    target: Some(40)
                },
                // No response published yet; the parent still comes from the campaign.
                Fieldwork {
                    code: "00007".to_owned(),
                    responses: 0,
                    target: None
                },
                Fieldwork {
                    code: "26734".to_owned(),
                    responses: 0,
                    target: None
                },
            ]
        );
        let province = Audience::account(Some(vec!["01".to_owned()]));
        let shown: Vec<String> = fieldwork_of(links(), &campaign, &published, &province)
            .into_iter()
            .map(|f| f.code)
            .collect();
        assert_eq!(shown, ["00004", "00007"]);
    }
}
