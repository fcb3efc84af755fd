//! Cluster selection over the population frame: PPS systematic draws per
//! stratum from a recorded seed, exported as CSV and written into a
//! campaign's localities (stratum, cluster, base weight 1/π, target n).

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use entity::{campaign, campaign_locality, response, sample_draw};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
};

use crate::domain::sampling::{self, DrawError, Drawn, FrameUnit};
use crate::services::locality_lists::Hierarchy;
use crate::services::planning::own_sizes;

#[derive(Debug, thiserror::Error)]
pub enum SamplingError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Draw(#[from] DrawError),
    #[error("no campaign {0}")]
    NoCampaign(String),
    #[error("campaign {0} already has responses: its sample can no longer change")]
    CampaignHasResponses(String),
    #[error("no {0} units valid on {1}")]
    NoUnits(String, NaiveDate),
}

/// What to draw.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DrawRequest {
    /// Level of the units drawn (e.g. `commune`).
    pub level: String,
    /// Level of the strata (e.g. `province`).
    pub stratum_level: String,
    /// Hierarchy date; a campaign's opening day when not given.
    pub on: Option<NaiveDate>,
    /// Units per stratum, unless `per_stratum` names the stratum.
    pub clusters: usize,
    pub per_stratum: HashMap<String, usize>,
    /// Only these strata (all when empty).
    pub strata: Vec<String>,
    pub seed: u64,
    /// Campaign slug to write the selection to.
    pub campaign: Option<String>,
    /// Interviews planned per drawn unit (the campaign's `target_n`).
    pub take: Option<u32>,
}

/// A drawn unit with its names.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawnUnit {
    pub drawn: Drawn,
    pub name_vi: String,
    pub name_en: String,
}

/// Draws, records the draw (seed and parameters) and, for a campaign,
/// replaces its localities with the selection. Run inside a transaction.
pub async fn draw(
    db: &impl ConnectionTrait,
    req: &DrawRequest,
) -> Result<Vec<DrawnUnit>, SamplingError> {
    let campaign = match &req.campaign {
        Some(slug) => Some(
            campaign::Entity::find()
                .filter(campaign::Column::Slug.eq(slug.as_str()))
                .one(db)
                .await?
                .ok_or_else(|| SamplingError::NoCampaign(slug.clone()))?,
        ),
        None => None,
    };
    let on = req
        .on
        .or(campaign.as_ref().map(|c| c.opens_on))
        .unwrap_or_else(|| Utc::now().date_naive());
    let hierarchy = Hierarchy::on(db, on).await?;
    let sizes = own_sizes(db).await?;
    let mut frame = Vec::new();
    for unit in hierarchy.at_level(&req.level) {
        let Some(stratum) = hierarchy.ancestor_at(&unit.code, &req.stratum_level) else {
            continue;
        };
        if !req.strata.is_empty() && !req.strata.contains(&stratum.code) {
            continue;
        }
        frame.push(FrameUnit {
            code: unit.code.clone(),
            stratum: stratum.code.clone(),
            size: sizes.get(&unit.code).copied(),
        });
    }
    if frame.is_empty() {
        return Err(SamplingError::NoUnits(req.level.clone(), on));
    }
    let drawn = sampling::draw(
        &frame,
        |s| req.per_stratum.get(s).copied().unwrap_or(req.clusters),
        req.seed,
    )?;
    let out: Vec<DrawnUnit> = drawn
        .into_iter()
        .map(|d| {
            let unit = hierarchy.units.get(&d.code);
            DrawnUnit {
                name_vi: unit.map(|u| u.name_vi.clone()).unwrap_or_default(),
                name_en: unit.map(|u| u.name_en.clone()).unwrap_or_default(),
                drawn: d,
            }
        })
        .collect();
    if let Some(c) = &campaign {
        let answered = response::Entity::find()
            .filter(response::Column::CampaignId.eq(c.id))
            .count(db)
            .await?;
        if answered > 0 {
            return Err(SamplingError::CampaignHasResponses(c.slug.clone()));
        }
        campaign_locality::Entity::delete_many()
            .filter(campaign_locality::Column::CampaignId.eq(c.id))
            .exec(db)
            .await?;
        let rows: Vec<campaign_locality::ActiveModel> = out
            .iter()
            .map(|u| campaign_locality::ActiveModel {
                campaign_id: Set(c.id),
                locality_code: Set(u.drawn.code.clone()),
                stratum: Set(Some(u.drawn.stratum.clone())),
                cluster: Set(Some(u.drawn.code.clone())),
                base_weight: Set(Some(u.drawn.base_weight())),
                target_n: Set(req.take.and_then(|t| i32::try_from(t).ok())),
            })
            .collect();
        for chunk in rows.chunks(500) {
            campaign_locality::Entity::insert_many(chunk.to_vec())
                .exec(db)
                .await?;
        }
    }
    let mut parameters = serde_json::to_value(req).unwrap_or_default();
    if let Some(map) = parameters.as_object_mut() {
        map.insert("on".into(), serde_json::Value::String(on.to_string()));
        map.insert(
            "seed".into(),
            serde_json::Value::String(req.seed.to_string()),
        );
    }
    sample_draw::Entity::insert(sample_draw::ActiveModel {
        campaign_id: Set(campaign.as_ref().map(|c| c.id)),
        seed: Set(req.seed.to_string()),
        parameters: Set(parameters.to_string()),
        selected: Set(i32::try_from(out.len()).unwrap_or(i32::MAX)),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(out)
}

/// The selection as CSV: stratum, code, names, size, π, certainty, 1/π.
pub fn to_csv(units: &[DrawnUnit]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "stratum",
        "code",
        "name_vi",
        "name_en",
        "size",
        "probability",
        "certainty",
        "base_weight",
    ])?;
    for u in units {
        w.write_record([
            u.drawn.stratum.clone(),
            u.drawn.code.clone(),
            u.name_vi.clone(),
            u.name_en.clone(),
            format!("{}", u.drawn.size),
            format!("{}", u.drawn.probability),
            if u.drawn.certainty { "1" } else { "0" }.to_owned(),
            format!("{}", u.drawn.base_weight()),
        ])?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
