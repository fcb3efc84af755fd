//! Email invitations: an address list per campaign, kept apart from
//! responses, built so that nobody holding the database file and the logs
//! (but not the server key, kept outside the database) can tell which
//! invitee answered, let alone link an invitee to a response.
//!
//! - Each row holds a random `nonce`; the link's token is
//!   `HMAC(key, "token"|nonce)`, derived again whenever it is needed (a
//!   reminder carries the same link), never stored.
//! - The row is found from a link by `lookup_hash = HMAC(key, "lookup"|token)`.
//! - A used link adds `HMAC(key, "spent"|token)` to `spent_invitations`
//!   (no date, no reference to the row); its uniqueness makes the link
//!   single-use. Nothing on the invitation row changes when it is used.
//! - The server does not know who answered, so the one reminder round goes
//!   to every invited address, saying "if you have already answered, thank
//!   you"; staff pages show no used count (it is published with results).
//!
//! The list is deleted on demand or once the campaign has closed; on SQLite
//! the deletion is then scrubbed from the file and its log
//! ([`crate::db::scrub_deleted`]).

use std::collections::HashSet;

use chrono::NaiveDate;
use entity::{campaign, invitation, spent_invitation};
use lettre::Address;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter,
};

use crate::auth::random_token;
use crate::error::AppError;
use crate::i18n::{self, Arg, Lang};
use crate::mail::Mailer;
use crate::secret_key::SecretKey;

use super::campaigns::OpenCampaign;

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

/// How far a campaign's invitations have got. There is deliberately no
/// "used" count: the server must not show who or how many answered live.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: u64,
    pub sent: u64,
    pub reminded: u64,
}

/// What a sending round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendOutcome {
    pub sent: usize,
    pub failed: usize,
}

/// An open invitation link: the campaign and the tag its use will record.
/// Carries nothing that names the invitation row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invited {
    pub campaign_id: i64,
    spent_tag: String,
}

/// The link token of an invitation row.
pub fn token_for(key: &SecretKey, nonce: &str) -> String {
    key.tag("token", nonce.as_bytes())
}

/// What the row stores to be found from its token.
pub fn lookup_hash(key: &SecretKey, token: &str) -> String {
    key.tag("lookup", token.as_bytes())
}

/// What `spent_invitations` records when the token is used.
pub fn spent_tag(key: &SecretKey, token: &str) -> String {
    key.tag("spent", token.as_bytes())
}

/// Adds the addresses in `text` (one per line, or separated by commas or
/// semicolons) to a campaign's list; repeated and already listed addresses
/// are skipped.
pub async fn upload(
    db: &impl ConnectionTrait,
    key: &SecretKey,
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
                let nonce = random_token().map_err(|e| AppError::Internal(e.into()))?;
                let lookup = lookup_hash(key, &token_for(key, &nonce));
                rows.push(invitation::ActiveModel {
                    campaign_id: Set(campaign_id),
                    email: Set(email),
                    nonce: Set(nonce),
                    lookup_hash: Set(Some(lookup)),
                    sent: Set(false),
                    reminded: Set(false),
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
        let name = lang.pick(&campaign.campaign.name_vi, &campaign.campaign.name_en);
        vec![
            ("campaign", Arg::from(name)),
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

/// What a sending round needs.
struct Round<'a> {
    db: &'a DatabaseConnection,
    key: &'a SecretKey,
    mailer: &'a Mailer,
    campaign: &'a OpenCampaign,
    link: &'a dyn Fn(&str) -> String,
}

impl Round<'_> {
    /// Sends each row its link (derived again from its nonce) and marks it
    /// with `mark`; rows without a lookup hash (listed before migration
    /// 000004) get one now.
    async fn send(
        &self,
        rows: Vec<invitation::Model>,
        lang_key: &str,
        mark: fn(&mut invitation::ActiveModel),
    ) -> Result<SendOutcome, AppError> {
        let mut outcome = SendOutcome::default();
        for inv in rows {
            let token = token_for(self.key, &inv.nonce);
            let (subject, body) = message(lang_key, self.campaign, &(self.link)(&token));
            let email = inv.email.clone();
            match self.mailer.send(&email, &subject, body).await {
                Ok(()) => {
                    let lookup = lookup_hash(self.key, &token);
                    let mut active: invitation::ActiveModel = inv.into();
                    active.lookup_hash = Set(Some(lookup));
                    mark(&mut active);
                    active.update(self.db).await?;
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
}

/// Sends the link to every listed address not yet invited. `link` turns a
/// token into the full link (built from the configured public URL).
pub async fn send_pending(
    db: &DatabaseConnection,
    key: &SecretKey,
    mailer: &Mailer,
    campaign: &OpenCampaign,
    link: &dyn Fn(&str) -> String,
) -> Result<SendOutcome, AppError> {
    let pending = invitation::Entity::find()
        .filter(invitation::Column::CampaignId.eq(campaign.campaign.id))
        .filter(invitation::Column::Sent.eq(false))
        .all(db)
        .await?;
    let round = Round {
        db,
        key,
        mailer,
        campaign,
        link,
    };
    round
        .send(pending, "invitation", |a| a.sent = Set(true))
        .await
}

/// The one reminder round: to EVERY invited address not yet reminded,
/// answered or not (the server cannot know who answered), with the same
/// link and "if you have already answered, thank you".
pub async fn remind(
    db: &DatabaseConnection,
    key: &SecretKey,
    mailer: &Mailer,
    campaign: &OpenCampaign,
    link: &dyn Fn(&str) -> String,
) -> Result<SendOutcome, AppError> {
    let due = invitation::Entity::find()
        .filter(invitation::Column::CampaignId.eq(campaign.campaign.id))
        .filter(invitation::Column::Sent.eq(true))
        .filter(invitation::Column::Reminded.eq(false))
        .all(db)
        .await?;
    let round = Round {
        db,
        key,
        mailer,
        campaign,
        link,
    };
    round
        .send(due, "invitation-reminder-all", |a| a.reminded = Set(true))
        .await
}

/// Opens a link: the campaign it invites to, or `invitation_not_found`
/// (unknown, unsent or deleted) or `invitation_used`.
pub async fn open(
    db: &impl ConnectionTrait,
    key: &SecretKey,
    token: &str,
) -> Result<Invited, AppError> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound("invitation_not_found"));
    }
    let token = token.to_ascii_lowercase();
    let inv = invitation::Entity::find()
        .filter(invitation::Column::LookupHash.eq(lookup_hash(key, &token)))
        .filter(invitation::Column::Sent.eq(true))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("invitation_not_found"))?;
    let invited = Invited {
        campaign_id: inv.campaign_id,
        spent_tag: spent_tag(key, &token),
    };
    let spent = spent_invitation::Entity::find_by_id(invited.spent_tag.clone())
        .one(db)
        .await?;
    if spent.is_some() {
        return Err(AppError::Conflict("invitation_used"));
    }
    Ok(invited)
}

/// Records the link as used (its tag, nothing else); false when it already
/// was, so two submissions cannot both use one link.
pub async fn claim(db: &impl ConnectionTrait, invited: &Invited) -> Result<bool, AppError> {
    let res = spent_invitation::Entity::insert(spent_invitation::ActiveModel {
        tag: Set(invited.spent_tag.clone()),
        campaign_id: Set(invited.campaign_id),
    })
    .on_conflict(
        OnConflict::column(spent_invitation::Column::Tag)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(res == 1)
}

/// Gives a claimed link back (the response could not be stored).
pub async fn unclaim(db: &impl ConnectionTrait, invited: &Invited) -> Result<(), AppError> {
    spent_invitation::Entity::delete_by_id(invited.spent_tag.clone())
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
    })
}

/// Deletes campaigns' address lists and spent tags, then scrubs the
/// deletion from the SQLite file and its log.
async fn delete_lists(db: &impl ConnectionTrait, campaign_ids: Vec<i64>) -> Result<u64, AppError> {
    let n = invitation::Entity::delete_many()
        .filter(invitation::Column::CampaignId.is_in(campaign_ids.clone()))
        .exec(db)
        .await?
        .rows_affected;
    let spent = spent_invitation::Entity::delete_many()
        .filter(spent_invitation::Column::CampaignId.is_in(campaign_ids))
        .exec(db)
        .await?
        .rows_affected;
    if n + spent > 0 {
        crate::db::scrub_deleted(db).await?;
    }
    Ok(n)
}

/// Deletes a campaign's address list (and its spent tags).
pub async fn delete_for_campaign(
    db: &impl ConnectionTrait,
    campaign_id: i64,
) -> Result<u64, AppError> {
    delete_lists(db, vec![campaign_id]).await
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
    delete_lists(db, closed).await
}
