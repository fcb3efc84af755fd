//! Two waves side by side: the publications of both campaigns as the reader may see them,
//! the earlier one in today's units if need be, for the comparison page and
//! `GET /api/v1/campaigns/{slug}/compare`.

use std::sync::Arc;

use entity::campaign;
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};

use crate::error::AppError;
use crate::services::campaigns::{self, OpenCampaign};
use crate::services::publication::published;
use crate::services::results::{self, Audience, Published};

/// The two waves of a comparison, as the API and the page use them.
pub struct Comparison {
    /// This wave, as the reader may see it.
    pub current: Published,
    /// The earlier wave, in today's units if need be, as the reader may see it.
    pub previous: Published,
    pub index: String,
    pub campaign: OpenCampaign,
    pub previous_campaign: OpenCampaign,
    /// The earlier wave was collected in units no longer valid and was
    /// re-aggregated to today's units through the crosswalk.
    pub reaggregated: bool,
}

/// Both campaigns of a wave comparison (`slug` now, `with` earlier), each readable by
/// whoever asks (`audience_of` a campaign, see [`Audience::reading`]), and the index asked
/// for (default the main one), which both must have. A restricted reader sees the localities
/// of its list in both waves (see [`Audience::together`]). An earlier wave collected under
/// older units is re-aggregated to today's units through the crosswalk ([`results::in_units_of`],
/// computed per request from its publication's responses, not stored).
pub async fn comparison(
    db: &DatabaseConnection,
    slug: &str,
    with: Option<&str>,
    index: Option<&str>,
    audience_of: impl AsyncFn(&OpenCampaign) -> Result<Audience, AppError>,
) -> Result<Comparison, AppError> {
    let other = with
        .filter(|w| !w.is_empty())
        .ok_or_else(|| AppError::BadRequest {
            code: "comparison_needs_with",
            detail: String::new(),
        })?;
    let campaign = campaigns::by_slug(db, slug).await?;
    let audience_a = audience_of(&campaign).await?;
    let previous = campaigns::by_slug(db, other).await?;
    let audience_b = audience_of(&previous).await?;
    let audience = audience_a.together(audience_b);
    let a = audience.published(&published(db, &campaign).await?);
    let b = published(db, &previous).await?;
    let mapped = results::in_units_of(db, &campaign, &previous, b.number).await?;
    let reaggregated = mapped.is_some();
    let b = match mapped {
        Some(mapped) => Published {
            results: Arc::new(mapped),
            ..b
        },
        None => b,
    };
    let b = audience.published(&b);
    let index = results::resolve_index(&a.results, index)?;
    if b.results.node(&index).is_none() {
        return Err(AppError::BadRequest {
            code: "index_not_in_both_waves",
            detail: index,
        });
    }
    Ok(Comparison {
        current: a,
        previous: b,
        index,
        campaign,
        previous_campaign: previous,
        reaggregated,
    })
}

/// The campaigns `campaign` can be compared with on `index`, for the wave picker: every other
/// campaign that opened no later than it, has a publication, has the index, and whose
/// results the reader may see (`audience_of` a campaign, see [`Audience::reading`]); the
/// latest first.
pub async fn comparable(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    index: &str,
    audience_of: impl AsyncFn(&OpenCampaign) -> Result<Audience, AppError>,
) -> Result<Vec<OpenCampaign>, AppError> {
    let rows = campaign::Entity::find()
        .order_by_desc(campaign::Column::OpensOn)
        .order_by_asc(campaign::Column::SortOrder)
        .order_by_asc(campaign::Column::Id)
        .all(db)
        .await?;
    let mut out = Vec::new();
    for row in rows {
        if row.id == campaign.campaign.id || row.opens_on > campaign.campaign.opens_on {
            continue;
        }
        let other = campaigns::by_slug(db, &row.slug).await?;
        if !results::plan(&other.definition)
            .nodes
            .iter()
            .any(|n| n.key == index)
        {
            continue;
        }
        if crate::services::publication::latest(db, row.id)
            .await?
            .is_none()
        {
            continue;
        }
        // Refused (401/403): a campaign this reader may not see is not offered.
        if audience_of(&other).await.is_ok() {
            out.push(other);
        }
    }
    Ok(out)
}
