//! Campaigns as citizens and API clients see them.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::{campaign, campaign_locality, questionnaire_version, service};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use crate::domain::campaign::{DesignSettings, Layout};
use crate::domain::questionnaire::Definition;
use crate::error::AppError;
use crate::i18n::Lang;

use super::localities;

/// A campaign with everything needed to answer it.
#[derive(Debug, Clone)]
pub struct OpenCampaign {
    pub campaign: campaign::Model,
    pub service: service::Model,
    pub version: questionnaire_version::Model,
    pub definition: Definition,
    pub design: DesignSettings,
    pub layout: Layout,
    pub localities: Vec<CampaignLocality>,
}

/// A locality a campaign collects in, with its name as valid at the campaign's dates.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignLocality {
    pub code: String,
    pub level: String,
    pub parent_code: Option<String>,
    pub name_vi: String,
    pub name_en: String,
}

impl CampaignLocality {
    pub fn name(&self, lang: Lang) -> &str {
        lang.pick(&self.name_vi, &self.name_en)
    }
}

/// Campaigns accepting answers on `today`, in listing order.
pub async fn list_open(
    db: &impl ConnectionTrait,
    today: NaiveDate,
) -> Result<Vec<OpenCampaign>, AppError> {
    let rows = campaign::Entity::find()
        .filter(campaign::Column::OpensOn.lte(today))
        .filter(campaign::Column::ClosesOn.gte(today))
        .order_by_asc(campaign::Column::SortOrder)
        .order_by_asc(campaign::Column::Id)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(load(db, row).await?);
    }
    Ok(out)
}

/// Names (vi, en) of the parents of a campaign's localities (the provinces of
/// its communes), as valid at the campaign's opening.
pub async fn province_names(
    db: &impl ConnectionTrait,
    c: &OpenCampaign,
) -> Result<HashMap<String, (String, String)>, AppError> {
    let mut parents: Vec<String> = c
        .localities
        .iter()
        .filter_map(|l| l.parent_code.clone())
        .collect();
    parents.sort_unstable();
    parents.dedup();
    let units = localities::valid_on(db, &parents, c.campaign.opens_on).await?;
    Ok(units
        .into_iter()
        .map(|(code, u)| (code, (u.name_vi, u.name_en)))
        .collect())
}

/// The campaign with this slug, open or not.
pub async fn by_slug(db: &impl ConnectionTrait, slug: &str) -> Result<OpenCampaign, AppError> {
    // No slug has a NUL, and PostgreSQL refuses one in a query (a 500 otherwise).
    if slug.contains('\0') {
        return Err(AppError::NotFound("campaign_not_found"));
    }
    let row = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq(slug))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("campaign_not_found"))?;
    load(db, row).await
}

async fn load(db: &impl ConnectionTrait, row: campaign::Model) -> Result<OpenCampaign, AppError> {
    let broken = |what: &str| anyhow::anyhow!("campaign {} has no {what}", row.slug);
    let service = service::Entity::find_by_id(row.service_id)
        .one(db)
        .await?
        .ok_or_else(|| broken("service"))?;
    let version = questionnaire_version::Entity::find_by_id(row.questionnaire_version_id)
        .one(db)
        .await?
        .ok_or_else(|| broken("questionnaire version"))?;
    let definition = Definition::parse(&version.definition).map_err(|errors| {
        anyhow::anyhow!(
            "stored definition of questionnaire version {} is invalid: {errors:?}",
            version.id
        )
    })?;
    let design: DesignSettings = serde_json::from_str(&row.design)
        .map_err(|e| anyhow::anyhow!("campaign {} design settings: {e}", row.slug))?;
    let layout = Layout::parse(&row.layout).ok_or_else(|| broken("valid layout"))?;
    let links = campaign_locality::Entity::find()
        .filter(campaign_locality::Column::CampaignId.eq(row.id))
        .all(db)
        .await?;
    let codes: Vec<String> = links.iter().map(|l| l.locality_code.clone()).collect();
    let units = localities::valid_on(db, &codes, row.opens_on).await?;
    let mut localities: Vec<CampaignLocality> = codes
        .iter()
        .map(|code| match units.get(code) {
            Some(u) => CampaignLocality {
                code: code.clone(),
                level: u.level.clone(),
                parent_code: u.parent_code.clone(),
                name_vi: u.name_vi.clone(),
                name_en: u.name_en.clone(),
            },
            None => CampaignLocality {
                code: code.clone(),
                level: "unknown".to_owned(),
                parent_code: None,
                name_vi: code.clone(),
                name_en: code.clone(),
            },
        })
        .collect();
    localities.sort_by(|a, b| {
        (a.parent_code.is_some(), &a.code).cmp(&(b.parent_code.is_some(), &b.code))
    });
    Ok(OpenCampaign {
        campaign: row,
        service,
        version,
        definition,
        design,
        layout,
        localities,
    })
}
