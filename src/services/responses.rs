//! Recording a response: check it against its campaign, build the anonymous
//! row (design fields from the campaign's locality), hand it to the writer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use entity::campaign_locality;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Map, Value};

use crate::domain::answers::{self, Answers};
use crate::domain::campaign::Channel;
use crate::domain::submission::Submission;
use crate::domain::validation::FieldError;
use crate::error::AppError;

use super::campaigns::{self, OpenCampaign};
use super::invitations::{self, Invited};
use super::writer::{NewResponse, ResponseWriter, Stored, WriteError};

/// Refuses a campaign that is not accepting answers on `today`.
pub fn ensure_open(campaign: &OpenCampaign, today: NaiveDate) -> Result<(), AppError> {
    if today < campaign.campaign.opens_on {
        Err(AppError::Conflict("campaign_not_open"))
    } else if today > campaign.campaign.closes_on {
        Err(AppError::Conflict("campaign_closed"))
    } else {
        Ok(())
    }
}

/// Checks a submission against its campaign and the campaign's row for the
/// submission's locality (design fields), and builds the row to store.
pub fn build_row(
    campaign: &OpenCampaign,
    link: Option<&campaign_locality::Model>,
    submission: &Submission,
    channel: Channel,
    today: NaiveDate,
) -> Result<NewResponse, AppError> {
    ensure_open(campaign, today)?;
    let mut errors: Vec<FieldError> = Vec::new();
    let known = campaign
        .localities
        .iter()
        .any(|l| l.code == submission.locality);
    let link = link.filter(|_| known);
    if link.is_none() {
        errors.push(FieldError::new("locality", "unknown_locality"));
    }
    let parsed = match answers::parse(&campaign.definition, &submission.answers) {
        Ok(a) => Some(a),
        Err(mut e) => {
            errors.append(&mut e);
            None
        }
    };
    let (Some(parsed), Some(link), true) = (parsed, link, errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    Ok(NewResponse {
        id: submission.id.hyphenated().to_string(),
        campaign_id: campaign.campaign.id,
        locality_code: submission.locality.clone(),
        channel: channel.as_str().to_owned(),
        response_date: today,
        stratum: link.stratum.clone(),
        cluster: link.cluster.clone(),
        base_weight: link.base_weight.unwrap_or(1.0),
        cells: cells(&campaign.design.calibration, &parsed),
        answers: parsed.to_json_string(),
    })
}

/// Where a finished response comes from.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub channel: Channel,
    /// A kiosk's locality: the response must be for it.
    pub fixed_locality: Option<&'a str>,
    /// The single-use invitation link that opened the survey: its keyed tag
    /// is recorded (nothing else) before the response is stored.
    pub invitation: Option<&'a Invited>,
}

/// Accepts one finished response, whatever brought it (the JSON API, the
/// kiosk's script, the phone form, an invitation link): checks it against
/// its campaign, spends the invitation link, stores the anonymous row.
/// Returns the submission id and whether it was new.
pub async fn accept(
    db: &impl ConnectionTrait,
    writer: &ResponseWriter,
    cached: &CachedCampaign,
    submission: &Submission,
    origin: Origin<'_>,
    today: NaiveDate,
) -> Result<(String, Stored), AppError> {
    if origin
        .fixed_locality
        .is_some_and(|fixed| fixed != submission.locality)
    {
        return Err(AppError::Validation(vec![FieldError::new(
            "locality",
            "unknown_locality",
        )]));
    }
    let row = build_row(
        &cached.campaign,
        cached.links.get(&submission.locality),
        submission,
        origin.channel,
        today,
    )?;
    let id = row.id.clone();
    if let Some(inv) = origin.invitation
        && !invitations::claim(db, inv).await?
    {
        return Err(AppError::Conflict("invitation_used"));
    }
    match store(writer, row).await {
        Ok(stored) => Ok((id, stored)),
        Err(e) => {
            if let Some(inv) = origin.invitation {
                invitations::unclaim(db, inv).await?;
            }
            Err(e)
        }
    }
}

/// A campaign ready to check submissions against, with its localities'
/// design fields.
#[derive(Debug)]
pub struct CachedCampaign {
    pub campaign: OpenCampaign,
    pub links: HashMap<String, campaign_locality::Model>,
    /// Names (vi, en) of the provinces the campaign's communes belong to,
    /// for grouping the locality list.
    pub province_names: HashMap<String, (String, String)>,
    /// Which load of a campaign this is, unique in the process: whatever is
    /// kept about a campaign as loaded (such as a rendered first page) is
    /// kept under it, so that a reload never serves it again.
    pub load: u64,
}

/// Numbers the loads of campaigns ([`CachedCampaign::load`]).
static LOADS: AtomicU64 = AtomicU64::new(0);

/// Bumped by every change to a campaign made in this process, so the cache
/// never serves a campaign this process changed.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Forgets every cached campaign of this process: call after changing a
/// campaign, its localities or its questionnaire link.
pub fn campaigns_changed() {
    GENERATION.fetch_add(1, Ordering::Release);
}

/// Campaigns as survey pages and the submission API last loaded them, for a
/// short time, so a burst of respondents does not reload the questionnaire,
/// localities and names for each page and submission. A change made in this
/// process is seen at once ([`campaigns_changed`]); one made by another
/// process on the same database (another `hailong serve`, the command line)
/// within `ttl`.
/// When an entry was loaded, at which [`GENERATION`], and the campaign.
type Entry = (Instant, u64, Arc<CachedCampaign>);

#[derive(Debug)]
pub struct CampaignCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl CampaignCache {
    pub fn new(ttl: Duration) -> CampaignCache {
        CampaignCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// An entry loaded at the current generation, within the time to live.
    fn fresh(&self, (at, seen, _): &Entry, generation: u64) -> bool {
        *seen == generation && at.elapsed() < self.ttl
    }

    /// The campaign with this slug (unknown slugs are not cached).
    pub async fn get(
        &self,
        db: &impl ConnectionTrait,
        slug: &str,
    ) -> Result<Arc<CachedCampaign>, AppError> {
        let generation = GENERATION.load(Ordering::Acquire);
        if let Ok(entries) = self.entries.lock()
            && let Some(entry) = entries.get(slug)
            && self.fresh(entry, generation)
        {
            return Ok(entry.2.clone());
        }
        let campaign = campaigns::by_slug(db, slug).await?;
        let links = campaign_locality::Entity::find()
            .filter(campaign_locality::Column::CampaignId.eq(campaign.campaign.id))
            .all(db)
            .await?
            .into_iter()
            .map(|l| (l.locality_code.clone(), l))
            .collect();
        let province_names = campaigns::province_names(db, &campaign).await?;
        let cached = Arc::new(CachedCampaign {
            campaign,
            links,
            province_names,
            load: LOADS.fetch_add(1, Ordering::Relaxed),
        });
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() > 1_000 {
                entries.clear();
            }
            entries.insert(
                slug.to_owned(),
                (Instant::now(), generation, cached.clone()),
            );
        }
        Ok(cached)
    }

    /// The campaign with this id, refused unless open on `today`: kiosks and
    /// invitations hold a campaign's id where pages hold its slug. A cached
    /// entry is found by id; otherwise the slug is looked up.
    pub async fn open_by_id(
        &self,
        db: &impl ConnectionTrait,
        id: i64,
        today: NaiveDate,
    ) -> Result<Arc<CachedCampaign>, AppError> {
        let generation = GENERATION.load(Ordering::Acquire);
        let hit = self.entries.lock().ok().and_then(|entries| {
            entries
                .values()
                .find(|entry| entry.2.campaign.campaign.id == id && self.fresh(entry, generation))
                .map(|(_, _, c)| c.clone())
        });
        let c = match hit {
            Some(c) => c,
            None => {
                let row = entity::campaign::Entity::find_by_id(id)
                    .one(db)
                    .await?
                    .ok_or(AppError::NotFound("campaign_not_found"))?;
                self.get(db, &row.slug).await?
            }
        };
        ensure_open(&c.campaign, today)?;
        Ok(c)
    }
}

/// Responses a campaign holds, per locality code, as the database's trigger
/// counted them (`response_counts`: a few rows, never a scan of `responses`).
pub async fn counts_by_locality(
    db: &impl ConnectionTrait,
    campaign_id: i64,
) -> Result<HashMap<String, i64>, sea_orm::DbErr> {
    Ok(entity::response_count::Entity::find()
        .filter(entity::response_count::Column::CampaignId.eq(campaign_id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.locality_code, c.n))
        .collect())
}

/// Responses a campaign holds.
pub async fn count(db: &impl ConnectionTrait, campaign_id: i64) -> Result<u64, sea_orm::DbErr> {
    let counts = counts_by_locality(db, campaign_id).await?;
    Ok(counts
        .values()
        .map(|&n| u64::try_from(n).unwrap_or(0))
        .sum())
}

/// Demographic cells for calibration: the answers to the campaign's
/// calibration variables (question codes such as `sex`, `age_group`).
pub fn cells(calibration: &[String], answers: &Answers) -> Option<String> {
    let map: Map<String, Value> = calibration
        .iter()
        .filter_map(|var| {
            answers
                .get(var)
                .and_then(|a| a.cell_value())
                .map(|v| (var.clone(), Value::String(v)))
        })
        .collect();
    (!map.is_empty()).then(|| Value::Object(map).to_string())
}

/// Stores a prepared row through the group-commit writer.
pub async fn store(writer: &ResponseWriter, row: NewResponse) -> Result<Stored, AppError> {
    writer.store(row).await.map_err(|e| match e {
        WriteError::Stopped => AppError::Internal(anyhow::anyhow!("response writer stopped")),
        WriteError::Db(msg) => AppError::Internal(anyhow::anyhow!("storing a response: {msg}")),
    })
}
