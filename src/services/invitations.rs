//! Email invitations: an address list per campaign, kept apart from responses.
//!
//! Each address gets a single-use link `/i/{token}`; only the token's SHA-256
//! is stored. Reminders go only to addresses whose link is unused (with a
//! second token; the first link stays valid). Using a link marks the
//! invitation used — the date only, in a transaction of its own, without
//! recording which response it produced. The list is deleted on demand or
//! once the campaign has closed.

use std::collections::HashSet;

use chrono::NaiveDate;
use entity::{campaign, invitation};
use lettre::Address;
use rand::RngExt;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
};

use crate::error::AppError;
use crate::i18n::{self, Arg, Lang};
use crate::mail::Mailer;

use super::campaigns::OpenCampaign;
use super::kiosks::token_hash;

/// Most addresses in one upload.
pub const MAX_UPLOAD: usize = 50_000;

/// What an upload did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadOutcome {
    pub added: usize,
    pub already_listed: usize,
    /// Lines that are not email addresses (at most 20 shown).
    pub invalid: Vec<String>,
}

/// How far a campaign's invitations have got.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: u64,
    pub sent: u64,
    pub reminded: u64,
    pub used: u64,
}

/// What a sending round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendOutcome {
    pub sent: usize,
    pub failed: usize,
}

fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// Adds the addresses in `text` (one per line, or separated by commas or
/// semicolons) to a campaign's list; repeated and already listed addresses
/// are skipped.
pub async fn upload(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    text: &str,
    today: NaiveDate,
) -> Result<UploadOutcome, AppError> {
    let mut outcome = UploadOutcome::default();
    let existing: HashSet<String> = invitation::Entity::find()
        .filter(invitation::Column::CampaignId.eq(campaign_id))
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.email)
        .collect();
    let mut seen = HashSet::new();
    let mut rows = Vec::new();
    for raw in text
        .split(['\n', ',', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match raw.parse::<Address>() {
            Ok(addr) => {
                let email = addr.to_string().to_lowercase();
                if existing.contains(&email) || !seen.insert(email.clone()) {
                    outcome.already_listed += 1;
                    continue;
                }
                rows.push(invitation::ActiveModel {
                    campaign_id: Set(campaign_id),
                    email: Set(email),
                    // A placeholder nobody knows; the real token is made when sending.
                    token_hash: Set(token_hash(&new_token())),
                    reminder_token_hash: Set(None),
                    sent: Set(false),
                    reminded: Set(false),
                    used_on: Set(None),
                    created_on: Set(today),
                    ..Default::default()
                });
            }
            Err(_) => {
                if outcome.invalid.len() < 20 {
                    outcome.invalid.push(raw.chars().take(100).collect());
                }
            }
        }
    }
    if rows.len() > MAX_UPLOAD {
        return Err(AppError::PayloadTooLarge);
    }
    outcome.added = rows.len();
    for chunk in rows.chunks(500) {
        invitation::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    Ok(outcome)
}

fn message(lang_key: &str, campaign: &OpenCampaign, link: &str) -> (String, String) {
    let args = |lang: Lang| {
        let name = match lang {
            Lang::En if !campaign.campaign.name_en.is_empty() => &campaign.campaign.name_en,
            _ => &campaign.campaign.name_vi,
        };
        vec![
            ("campaign", Arg::from(name.clone())),
            ("link", Arg::from(link.to_owned())),
            (
                "closes",
                Arg::from(campaign.campaign.closes_on.format("%d/%m/%Y").to_string()),
            ),
        ]
    };
    let subject = i18n::t(Lang::Vi, &format!("{lang_key}-subject"), &args(Lang::Vi));
    let body = format!(
        "{}\n\n-- \n\n{}\n",
        i18n::t(Lang::Vi, &format!("{lang_key}-body"), &args(Lang::Vi)),
        i18n::t(Lang::En, &format!("{lang_key}-body"), &args(Lang::En)),
    );
    (subject, body)
}

/// Sends the link to every listed address not yet invited.
pub async fn send_pending(
    db: &DatabaseConnection,
    mailer: &Mailer,
    campaign: &OpenCampaign,
    base_url: &str,
) -> Result<SendOutcome, AppError> {
    let pending = invitation::Entity::find()
        .filter(invitation::Column::CampaignId.eq(campaign.campaign.id))
        .filter(invitation::Column::Sent.eq(false))
        .all(db)
        .await?;
    let mut outcome = SendOutcome::default();
    for inv in pending {
        let token = new_token();
        let link = format!("{}/i/{token}", base_url.trim_end_matches('/'));
        let (subject, body) = message("invitation", campaign, &link);
        let email = inv.email.clone();
        let mut active: invitation::ActiveModel = inv.into();
        active.token_hash = Set(token_hash(&token));
        match mailer.send(&email, &subject, body).await {
            Ok(()) => {
                active.sent = Set(true);
                active.update(db).await?;
                outcome.sent += 1;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot send an invitation");
                outcome.failed += 1;
            }
        }
    }
    Ok(outcome)
}

/// Sends a reminder to every invited address whose link is still unused
/// and that has not been reminded yet.
pub async fn remind(
    db: &DatabaseConnection,
    mailer: &Mailer,
    campaign: &OpenCampaign,
    base_url: &str,
) -> Result<SendOutcome, AppError> {
    let due = invitation::Entity::find()
        .filter(invitation::Column::CampaignId.eq(campaign.campaign.id))
        .filter(invitation::Column::Sent.eq(true))
        .filter(invitation::Column::Reminded.eq(false))
        .filter(invitation::Column::UsedOn.is_null())
        .all(db)
        .await?;
    let mut outcome = SendOutcome::default();
    for inv in due {
        let token = new_token();
        let link = format!("{}/i/{token}", base_url.trim_end_matches('/'));
        let (subject, body) = message("invitation-reminder", campaign, &link);
        let email = inv.email.clone();
        match mailer.send(&email, &subject, body).await {
            Ok(()) => {
                let mut active: invitation::ActiveModel = inv.into();
                active.reminder_token_hash = Set(Some(token_hash(&token)));
                active.reminded = Set(true);
                active.update(db).await?;
                outcome.sent += 1;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot send a reminder");
                outcome.failed += 1;
            }
        }
    }
    Ok(outcome)
}

/// The invitation a link's token belongs to (used or not).
pub async fn by_token(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<invitation::Model, AppError> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound("invitation_not_found"));
    }
    let hash = token_hash(&token.to_ascii_lowercase());
    invitation::Entity::find()
        .filter(
            Condition::any()
                .add(invitation::Column::TokenHash.eq(hash.clone()))
                .add(invitation::Column::ReminderTokenHash.eq(hash)),
        )
        .filter(invitation::Column::Sent.eq(true))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("invitation_not_found"))
}

/// Marks an invitation used on `today`, in a transaction of its own; false
/// when it was already used (so two submissions cannot both use one link).
pub async fn claim(db: &DatabaseConnection, id: i64, today: NaiveDate) -> Result<bool, AppError> {
    let txn = crate::db::begin_write(db).await?;
    let res = invitation::Entity::update_many()
        .col_expr(invitation::Column::UsedOn, Expr::value(today))
        .filter(invitation::Column::Id.eq(id))
        .filter(invitation::Column::UsedOn.is_null())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(res.rows_affected == 1)
}

/// Gives a claimed invitation back (the response could not be stored).
pub async fn unclaim(db: &DatabaseConnection, id: i64) -> Result<(), AppError> {
    invitation::Entity::update_many()
        .col_expr(
            invitation::Column::UsedOn,
            Expr::value(Option::<NaiveDate>::None),
        )
        .filter(invitation::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn counts(db: &impl ConnectionTrait, campaign_id: i64) -> Result<Counts, AppError> {
    let base = || invitation::Entity::find().filter(invitation::Column::CampaignId.eq(campaign_id));
    Ok(Counts {
        total: base().count(db).await?,
        sent: base()
            .filter(invitation::Column::Sent.eq(true))
            .count(db)
            .await?,
        reminded: base()
            .filter(invitation::Column::Reminded.eq(true))
            .count(db)
            .await?,
        used: base()
            .filter(invitation::Column::UsedOn.is_not_null())
            .count(db)
            .await?,
    })
}

/// Deletes a campaign's address list.
pub async fn delete_for_campaign(
    db: &impl ConnectionTrait,
    campaign_id: i64,
) -> Result<u64, AppError> {
    Ok(invitation::Entity::delete_many()
        .filter(invitation::Column::CampaignId.eq(campaign_id))
        .exec(db)
        .await?
        .rows_affected)
}

/// Deletes the address lists of campaigns that closed before `today`.
pub async fn purge_closed(db: &impl ConnectionTrait, today: NaiveDate) -> Result<u64, AppError> {
    let closed: Vec<i64> = campaign::Entity::find()
        .filter(campaign::Column::ClosesOn.lt(today))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    if closed.is_empty() {
        return Ok(0);
    }
    Ok(invitation::Entity::delete_many()
        .filter(invitation::Column::CampaignId.is_in(closed))
        .exec(db)
        .await?
        .rows_affected)
}
