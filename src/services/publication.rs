//! Published results: the only results anybody sees.
//!
//! A publication is a fixed set of included responses, numbered 1, 2, … per campaign:
//! publication N holds every response with `responses.publication <= N`, and its estimates are
//! computed once from that set and stored with it. Waiting responses are included by the k
//! rule of [`crate::domain::publication`], so between two publications every published number
//! moves by 0 or at least k people. A publication is made by the schedule (a task of `serve`,
//! see [`run_due`]), the "Publish now" button, or `hailong results publish`.
//!
//! Publishing is two steps, each safe with several processes:
//! 1. one transaction chooses the included rows, inserts the publication (without estimates)
//!    and marks the rows; a second process publishing the same number at once fails on the
//!    unique `(campaign_id, number)` (or on rows already marked) and does nothing;
//! 2. the estimates are computed from the committed set and stored. Until then readers keep
//!    the previous publication; an interrupted step 2 is finished by the next publish (the set
//!    is fixed, so the numbers are the same).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{campaign, publication, response};
use futures_util::TryStreamExt;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::domain::publication::{Trigger, due, k_for, select, vietnam_date};
use crate::error::AppError;

use super::campaigns::{self, OpenCampaign};
use super::results::{self, CampaignResults, Published};

/// A publication without its estimates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicationInfo {
    pub number: i64,
    pub published_on: NaiveDate,
    /// Responses included (cumulative).
    pub included: i64,
    /// Invitation-channel responses included (cumulative), rounded down to a multiple of k:
    /// the invitations' "answered" count.
    pub invited_answered: Option<i64>,
}

type InfoRow = (i64, NaiveDate, i64, Option<i64>);

fn info((number, published_on, included, invited_answered): InfoRow) -> PublicationInfo {
    PublicationInfo {
        number,
        published_on,
        included,
        invited_answered,
    }
}

/// The latest complete publication of a campaign (`None`: not yet published).
pub async fn latest(
    db: &impl ConnectionTrait,
    campaign_id: i64,
) -> Result<Option<PublicationInfo>, AppError> {
    let row: Option<InfoRow> = publication::Entity::find()
        .select_only()
        .columns([
            publication::Column::Number,
            publication::Column::PublishedOn,
            publication::Column::Included,
            publication::Column::InvitedAnswered,
        ])
        .filter(publication::Column::CampaignId.eq(campaign_id))
        .filter(publication::Column::Payload.is_not_null())
        .order_by_desc(publication::Column::Number)
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.map(info))
}

/// The results of a campaign's latest publication; `not_published` (404) before the first.
/// Read per request, so a publication made by another process is served at once.
pub async fn published(
    db: &impl ConnectionTrait,
    campaign: &OpenCampaign,
) -> Result<Published, AppError> {
    let row = publication::Entity::find()
        .filter(publication::Column::CampaignId.eq(campaign.campaign.id))
        .filter(publication::Column::Payload.is_not_null())
        .order_by_desc(publication::Column::Number)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("not_published"))?;
    let payload = row.payload.unwrap_or_default();
    let results: CampaignResults = serde_json::from_str(&payload)
        .map_err(|e| anyhow::anyhow!("publication {} unreadable: {e}", row.number))?;
    Ok(Published {
        results: Arc::new(results),
        number: row.number,
        published_on: row.published_on,
    })
}

/// What one locality group got in a publication (counts never shown: only whether some
/// responses were included, at least k, and whether some wait).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupOutcome {
    pub locality: String,
    pub included: bool,
    pub waiting: bool,
}

/// What a call to [`publish`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The publication made, or `None`: nothing new to include (schedule) or another process
    /// published at the same moment.
    pub number: Option<i64>,
    pub k: usize,
    pub groups: Vec<GroupOutcome>,
}

/// Publishes a campaign now: includes what the k rule allows, stores the estimates. A
/// scheduled publication with nothing new to include makes none; the button and the command
/// always make one (estimates recomputed with the current settings).
pub async fn publish(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    trigger: Trigger,
    floor: u32,
    now: DateTime<Utc>,
) -> Result<Outcome, AppError> {
    publish_with(
        db,
        campaign,
        trigger,
        k_for(campaign.design.min_n, floor),
        now,
    )
    .await
}

/// Publishes every waiting row at once, without the k rule: only for synthetic responses
/// that no person gave (the demo's seed), so that `serve --demo` shows its whole made-up
/// history. Never called for collected responses.
pub async fn publish_synthetic(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    now: DateTime<Utc>,
) -> Result<Outcome, AppError> {
    publish_with(db, campaign, Trigger::Cli, 1, now).await
}

/// A waiting response as the k rule sees it.
struct Waiting {
    id: String,
    /// Came through an invitation (the `email` channel).
    invited: bool,
    /// Which items it answers: an index into the publication's list of distinct sets.
    set: u32,
}

async fn publish_with(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    trigger: Trigger,
    k: usize,
    now: DateTime<Utc>,
) -> Result<Outcome, AppError> {
    finish_incomplete(db, campaign).await?;
    let id = campaign.campaign.id;
    let txn = crate::db::begin_write(db).await?;
    let last = publication::Entity::find()
        .filter(publication::Column::CampaignId.eq(id))
        .order_by_desc(publication::Column::Number)
        .one(&txn)
        .await?;
    // Read as a stream, keeping per waiting row only its id, whether it came by invitation
    // and which items it answers (one shared list per distinct set of items), never its
    // answers: a million waiting responses fit in a few tens of MB.
    let plan = results::plan(&campaign.definition);
    let mut sets: Vec<Vec<u32>> = Vec::new();
    let mut set_of: HashMap<Vec<u32>, u32> = HashMap::new();
    let mut groups: BTreeMap<String, Vec<Waiting>> = BTreeMap::new();
    let mut reader = results::AnsweredItems::new(campaign, &plan);
    let mut items: Vec<u32> = Vec::new();
    {
        let mut rows = response::Entity::find()
            .select_only()
            .columns([
                response::Column::Id,
                response::Column::LocalityCode,
                response::Column::Channel,
                response::Column::Answers,
            ])
            .filter(response::Column::CampaignId.eq(id))
            .filter(response::Column::Publication.is_null())
            .into_tuple::<(String, String, String, String)>()
            .stream(&txn)
            .await?;
        while let Some((row_id, locality, channel, answers)) = rows.try_next().await? {
            reader.read(&answers, &mut items);
            let set = match set_of.get(&items) {
                Some(&s) => s,
                None => {
                    let s = sets.len() as u32;
                    sets.push(items.clone());
                    set_of.insert(items.clone(), s);
                    s
                }
            };
            groups.entry(locality).or_default().push(Waiting {
                id: row_id,
                invited: channel == "email",
                set,
            });
        }
    }
    let mut chosen: Vec<&Waiting> = Vec::new();
    let mut outcome_groups = Vec::new();
    for (locality, rows) in &groups {
        let items: Vec<&[u32]> = rows
            .iter()
            .map(|r| sets[r.set as usize].as_slice())
            .collect();
        let mask = select(&items, k);
        let before = chosen.len();
        chosen.extend(rows.iter().zip(&mask).filter(|(_, m)| **m).map(|(r, _)| r));
        outcome_groups.push(GroupOutcome {
            locality: locality.clone(),
            included: chosen.len() > before,
            waiting: mask.iter().any(|m| !m),
        });
    }
    if chosen.is_empty() && trigger == Trigger::Schedule {
        txn.rollback().await?;
        return Ok(Outcome {
            number: None,
            k,
            groups: outcome_groups,
        });
    }
    let number = last.as_ref().map_or(0, |p| p.number) + 1;
    let invited_before = response::Entity::find()
        .filter(response::Column::CampaignId.eq(id))
        .filter(response::Column::Publication.is_not_null())
        .filter(response::Column::Channel.eq("email"))
        .count(&txn)
        .await?;
    let invited_now = chosen.iter().filter(|r| r.invited).count() as u64;
    let invited = (invited_before + invited_now) / k as u64 * k as u64;
    let insert = publication::Entity::insert(publication::ActiveModel {
        campaign_id: Set(id),
        number: Set(number),
        published_on: Set(vietnam_date(now)),
        trigger: Set(trigger.as_str().to_owned()),
        included: Set(last.as_ref().map_or(0, |p| p.included) + chosen.len() as i64),
        invited_answered: Set(Some(i64::try_from(invited).unwrap_or(i64::MAX))),
        payload: Set(None),
        ..Default::default()
    })
    .exec(&txn)
    .await;
    let raced = |outcome_groups| Outcome {
        number: None,
        k,
        groups: outcome_groups,
    };
    if let Err(e) = insert {
        let _ = txn.rollback().await;
        // Another process took this number first: nothing to do. Anything else is an error.
        let taken = publication::Entity::find()
            .filter(publication::Column::CampaignId.eq(id))
            .filter(publication::Column::Number.eq(number))
            .count(db)
            .await?
            > 0;
        return if taken {
            Ok(raced(outcome_groups))
        } else {
            Err(e.into())
        };
    }
    let ids: Vec<&str> = chosen.iter().map(|r| r.id.as_str()).collect();
    for chunk in ids.chunks(500) {
        // By id alone (the ids are the campaign's, read in this transaction): with a filter on
        // the campaign too, SQLite walked the campaign's index, every row of the campaign for
        // each chunk (a million-response campaign took many minutes to publish).
        let done = response::Entity::update_many()
            .col_expr(response::Column::Publication, Expr::value(number))
            .filter(response::Column::Publication.is_null())
            .filter(response::Column::Id.is_in(chunk.iter().copied()))
            .exec(&txn)
            .await?;
        if done.rows_affected != chunk.len() as u64 {
            // Another process included some of these rows meanwhile.
            txn.rollback().await?;
            return Ok(raced(outcome_groups));
        }
    }
    if txn.commit().await.is_err() {
        return Ok(raced(outcome_groups));
    }
    fill(db, campaign, number).await?;
    Ok(Outcome {
        number: Some(number),
        k,
        groups: outcome_groups,
    })
}

/// Computes and stores the estimates of publication `number` (if not stored yet).
///
/// Once per publication, whatever the number of processes: on PostgreSQL the process that
/// computes holds a transaction-scoped advisory lock on the publication
/// (`pg_try_advisory_xact_lock(campaign id, number)`, the two-key form, whose keys never
/// meet the one-key migration lock of [`crate::db::migrate`]); another process that finds it taken leaves the work to it
/// (readers go on serving the previous publication until the payload is stored), and a
/// process that dies while computing loses the lock with its connection, so the next attempt
/// (the next publication, or `finish_incomplete` on any process) computes it. Nothing about
/// the claim is stored: no time of day is kept. On SQLite (one serving process) no lock is
/// taken; the store below still writes only the first payload.
async fn fill(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    number: i64,
) -> Result<(), AppError> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
    let id = campaign.campaign.id;
    let claim = if db.get_database_backend() == DbBackend::Postgres {
        let txn = db.begin().await?;
        let row = txn
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_try_advisory_xact_lock($1, $2) AS got",
                [
                    i32::try_from(id).unwrap_or(i32::MAX).into(),
                    i32::try_from(number).unwrap_or(i32::MAX).into(),
                ],
            ))
            .await?;
        let got = row
            .map(|r| r.try_get::<bool>("", "got"))
            .transpose()?
            .unwrap_or(false);
        if !got {
            txn.rollback().await?;
            tracing::debug!(campaign = %campaign.campaign.slug, number, "results being computed by another process");
            return Ok(());
        }
        Some(txn)
    } else {
        None
    };
    // Another process may have stored it between our look and the lock.
    let waiting = publication::Entity::find()
        .filter(publication::Column::CampaignId.eq(id))
        .filter(publication::Column::Number.eq(number))
        .filter(publication::Column::Payload.is_null())
        .count(db)
        .await?
        > 0;
    if waiting {
        tracing::info!(campaign = %campaign.campaign.slug, number, "computing results");
        let (results, totals, source) = results::compute_with_totals(db, campaign, number).await?;
        let payload = serde_json::to_string(&results).map_err(|e| anyhow::anyhow!("{e}"))?;
        let stored = publication::Entity::update_many()
            .col_expr(publication::Column::Payload, Expr::value(payload))
            .filter(publication::Column::CampaignId.eq(id))
            .filter(publication::Column::Number.eq(number))
            .filter(publication::Column::Payload.is_null())
            .exec(db)
            .await?;
        if stored.rows_affected == 1 {
            tracing::info!(campaign = %campaign.campaign.slug, number, ?source, "results stored");
        }
        if source != results::totals::Source::Stored {
            let plan = results::plan(&campaign.definition);
            results::totals::store(db, campaign, &plan, number, &totals).await?;
        }
    }
    if let Some(txn) = claim {
        txn.commit().await?;
    }
    Ok(())
}

/// Finishes publications whose estimates were never stored (a process stopped between the
/// two steps).
async fn finish_incomplete(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
) -> Result<(), AppError> {
    let numbers: Vec<i64> = publication::Entity::find()
        .select_only()
        .column(publication::Column::Number)
        .filter(publication::Column::CampaignId.eq(campaign.campaign.id))
        .filter(publication::Column::Payload.is_null())
        .order_by_asc(publication::Column::Number)
        .into_tuple()
        .all(db)
        .await?;
    for n in numbers {
        fill(db, campaign, n).await?;
    }
    Ok(())
}

/// Publishes every campaign whose schedule is due at `now` (see
/// [`crate::domain::publication::due`]); `tried` remembers, per campaign, the Vietnamese
/// day it was last tried, so a day with nothing new to include is not tried every minute.
/// Returns the campaigns published, by slug.
pub async fn run_due(
    db: &DatabaseConnection,
    floor: u32,
    now: DateTime<Utc>,
    tried: &mut std::collections::HashMap<i64, NaiveDate>,
) -> Result<Vec<(String, i64)>, AppError> {
    let today = vietnam_date(now);
    let rows: Vec<(i64, String)> = campaign::Entity::find()
        .select_only()
        .columns([campaign::Column::Id, campaign::Column::Slug])
        .order_by_asc(campaign::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut out = Vec::new();
    for (id, slug) in rows {
        if tried.get(&id) == Some(&today) {
            continue;
        }
        let campaign = campaigns::by_slug(db, &slug).await?;
        let last = latest(db, id).await?.map(|p| p.published_on);
        let Some(trigger) = due(
            campaign.design.publication,
            now,
            campaign.campaign.closes_on,
            last,
        ) else {
            continue;
        };
        tried.insert(id, today);
        let outcome = publish(db, &campaign, trigger, floor, now).await?;
        if let Some(n) = outcome.number {
            out.push((slug, n));
        }
    }
    Ok(out)
}

/// The background task of `serve`: checks each minute which campaigns are due.
pub async fn scheduler(db: DatabaseConnection, floor: u32) {
    let mut tried = std::collections::HashMap::new();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        match run_due(&db, floor, Utc::now(), &mut tried).await {
            Ok(done) => {
                for (slug, number) in done {
                    tracing::info!(campaign = %slug, number, "results published");
                }
            }
            Err(e) => tracing::error!(error = %e, "scheduled publication failed"),
        }
    }
}
