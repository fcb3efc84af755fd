//! Kiosks: registering a device for a campaign, locality and service, and
//! recognising it by its secret token. Only the token's SHA-256 is stored.

use chrono::NaiveDate;
use entity::{campaign, kiosk, service};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};

use crate::auth::random_token;
use crate::domain::validation::FieldError;
use crate::error::AppError;

use super::campaigns;

/// What staff fill in to register a kiosk.
#[derive(Debug, Clone)]
pub struct NewKiosk {
    pub campaign_slug: String,
    pub locality_code: String,
    /// Defaults to the campaign's service.
    pub service_code: Option<String>,
    pub label: String,
}

/// A kiosk as staff see it in the list.
#[derive(Debug, Clone)]
pub struct KioskInfo {
    pub kiosk: kiosk::Model,
    pub campaign_slug: String,
}

/// The SHA-256 of a token, as lowercase hex (the same as a staff token's).
pub use crate::auth::token_hash;

/// Registers a kiosk; returns it with its plaintext device token, which is
/// shown once and never stored.
pub async fn register_kiosk(
    db: &impl ConnectionTrait,
    new: &NewKiosk,
    today: NaiveDate,
) -> Result<(kiosk::Model, String), AppError> {
    let mut errors = Vec::new();
    let label = new.label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        errors.push(FieldError::new("label", "invalid_length"));
    }
    let campaign = match campaigns::by_slug(db, &new.campaign_slug).await {
        Ok(c) => Some(c),
        Err(AppError::NotFound(_)) => {
            errors.push(FieldError::new("campaign", "campaign_not_found"));
            None
        }
        Err(e) => return Err(e),
    };
    if let Some(c) = &campaign
        && !c.localities.iter().any(|l| l.code == new.locality_code)
    {
        errors.push(FieldError::new("locality", "unknown_locality"));
    }
    let service_id = match (
        &campaign,
        new.service_code.as_deref().filter(|s| !s.is_empty()),
    ) {
        (Some(_), Some(code)) => {
            match service::Entity::find()
                .filter(service::Column::Code.eq(code))
                .one(db)
                .await?
            {
                Some(s) => Some(s.id),
                None => {
                    errors.push(FieldError::new("service", "service_not_found"));
                    None
                }
            }
        }
        (Some(c), None) => Some(c.service.id),
        (None, _) => None,
    };
    let (Some(campaign), Some(service_id), true) = (campaign, service_id, errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let token = random_token().map_err(|e| AppError::Internal(e.into()))?;
    let model = kiosk::ActiveModel {
        campaign_id: Set(campaign.campaign.id),
        locality_code: Set(new.locality_code.clone()),
        service_id: Set(service_id),
        token_hash: Set(token_hash(&token)),
        label: Set(label.to_owned()),
        created_on: Set(today),
        revoked: Set(false),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((model, token))
}

/// The active kiosk holding this token.
pub async fn by_token(db: &impl ConnectionTrait, token: &str) -> Result<kiosk::Model, AppError> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound("kiosk_not_found"));
    }
    kiosk::Entity::find()
        .filter(kiosk::Column::TokenHash.eq(token_hash(&token.to_ascii_lowercase())))
        .filter(kiosk::Column::Revoked.eq(false))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("kiosk_not_found"))
}

/// Every kiosk, newest first.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<KioskInfo>, AppError> {
    let kiosks = kiosk::Entity::find()
        .order_by_desc(kiosk::Column::Id)
        .all(db)
        .await?;
    let campaigns = campaign::Entity::find().all(db).await?;
    Ok(kiosks
        .into_iter()
        .map(|k| KioskInfo {
            campaign_slug: campaigns
                .iter()
                .find(|c| c.id == k.campaign_id)
                .map(|c| c.slug.clone())
                .unwrap_or_default(),
            kiosk: k,
        })
        .collect())
}

/// Revokes a kiosk: its token stops working at once.
pub async fn revoke(db: &impl ConnectionTrait, id: i64) -> Result<(), AppError> {
    let k = kiosk::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("kiosk_not_found"))?;
    let mut active: kiosk::ActiveModel = k.into();
    active.revoked = Set(true);
    active.update(db).await?;
    Ok(())
}
