//! Targets local governments set per locality and index ("SIPAS above 90%", "+5 points on
//! last year", "top 5 of the province"), and whether each is met, missed or not yet decidable
//! at 95% confidence.
//!
//! * `at_least v`: met when the interval's lower end is ≥ v, missed when its upper end is < v;
//! * `gain v` (on the campaign `baseline`): the same with the interval of the change between
//!   the waves ([`results::change`]);
//! * `top k`: among the localities of the same level with the same parent (communes of a
//!   province, provinces of the country), met when the worst rank of the locality's rank band
//!   is ≤ k, missed when its best rank is > k ([`results::rank_bands`]).
//!
//! Anything else (a suppressed estimate, an interval across the target) is undecided.

use entity::result_target;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;

use crate::domain::validation::FieldError;
use crate::error::AppError;

use super::results::{self, Audience, CampaignResults, Level};

/// What a target asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    AtLeast,
    Gain,
    Top,
}

impl TargetKind {
    pub fn parse(s: &str) -> Option<TargetKind> {
        match s {
            "at_least" => Some(TargetKind::AtLeast),
            "gain" => Some(TargetKind::Gain),
            "top" => Some(TargetKind::Top),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::AtLeast => "at_least",
            TargetKind::Gain => "gain",
            TargetKind::Top => "top",
        }
    }
}

/// Whether a target is reached, at 95% confidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetStatus {
    Met,
    Missed,
    Undecided,
}

/// A target with its status.
#[derive(Debug, Clone, Serialize)]
pub struct TargetOutcome {
    pub id: i64,
    pub locality: String,
    pub index: String,
    pub kind: TargetKind,
    /// A share (0.9 = 90%) for `at_least`, a change in shares (0.05 = 5 points) for `gain`,
    /// a rank for `top`.
    pub value: f64,
    pub baseline: Option<String>,
    pub status: TargetStatus,
    /// Why undecided: `suppressed`, `no_baseline`, `interval_contains_target`.
    pub reason: Option<&'static str>,
}

/// Decides one target from the campaign's results (and the baseline's, for `gain`).
pub fn evaluate(
    t: &result_target::Model,
    current: &CampaignResults,
    baseline: Option<&CampaignResults>,
) -> TargetOutcome {
    let kind = TargetKind::parse(&t.kind).unwrap_or(TargetKind::AtLeast);
    let (status, reason) = decide(kind, t, current, baseline);
    TargetOutcome {
        id: t.id,
        locality: t.locality_code.clone(),
        index: t.index_code.clone(),
        kind,
        value: t.value,
        baseline: t.baseline_slug.clone(),
        status,
        reason,
    }
}

fn against(lo: Option<f64>, hi: Option<f64>, v: f64) -> (TargetStatus, Option<&'static str>) {
    match (lo, hi) {
        (Some(lo), _) if lo >= v => (TargetStatus::Met, None),
        (_, Some(hi)) if hi < v => (TargetStatus::Missed, None),
        (Some(_), Some(_)) => (TargetStatus::Undecided, Some("interval_contains_target")),
        _ => (TargetStatus::Undecided, Some("suppressed")),
    }
}

fn decide(
    kind: TargetKind,
    t: &result_target::Model,
    current: &CampaignResults,
    baseline: Option<&CampaignResults>,
) -> (TargetStatus, Option<&'static str>) {
    let undecided = |r| (TargetStatus::Undecided, Some(r));
    let Some(row) = current.row(&t.locality_code, &t.index_code) else {
        return undecided("suppressed");
    };
    match kind {
        TargetKind::AtLeast => against(row.ci_low, row.ci_high, t.value),
        TargetKind::Gain => {
            let Some(base) = baseline else {
                return undecided("no_baseline");
            };
            let c = results::change(row, base.row(&t.locality_code, &t.index_code));
            against(c.ci_low, c.ci_high, t.value)
        }
        TargetKind::Top => {
            if row.suppressed {
                return undecided("suppressed");
            }
            let parent = current
                .locality(&t.locality_code)
                .and_then(|l| l.parent.clone());
            let siblings: Vec<&results::ResultRow> = current
                .level_rows(row.level, &t.index_code)
                .into_iter()
                .filter(|r| {
                    row.level == Level::National
                        || current.locality(&r.locality).and_then(|l| l.parent.clone()) == parent
                })
                .collect();
            let bands = results::rank_bands(&siblings);
            let band = siblings
                .iter()
                .zip(bands)
                .find(|(r, _)| r.locality == t.locality_code)
                .and_then(|(_, b)| b);
            let k = t.value.round() as usize;
            match band {
                Some(b) if b.worst <= k => (TargetStatus::Met, None),
                Some(b) if b.best > k => (TargetStatus::Missed, None),
                Some(_) => undecided("interval_contains_target"),
                None => undecided("suppressed"),
            }
        }
    }
}

/// The targets of a campaign, in the order they were set.
pub async fn list(
    db: &impl ConnectionTrait,
    campaign_id: i64,
) -> Result<Vec<result_target::Model>, AppError> {
    Ok(result_target::Entity::find()
        .filter(result_target::Column::CampaignId.eq(campaign_id))
        .order_by_asc(result_target::Column::Id)
        .all(db)
        .await?)
}

/// A target as a staff member enters it (percentages and points as typed).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct TargetForm {
    pub locality: String,
    pub index: String,
    pub kind: String,
    /// `at_least`: percent (90); `gain`: points (5); `top`: rank (5).
    pub value: String,
    #[serde(default)]
    pub baseline: Option<String>,
}

/// Checks and stores a target; every problem is listed.
pub async fn create(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    results: &CampaignResults,
    form: &TargetForm,
) -> Result<i64, AppError> {
    let mut errors = Vec::new();
    if results.locality(form.locality.trim()).is_none() {
        errors.push(FieldError::new("locality", "target_locality_unknown"));
    }
    if results.node(form.index.trim()).is_none() {
        errors.push(FieldError::new("index", "unknown_index_key"));
    }
    let kind = TargetKind::parse(form.kind.trim());
    if kind.is_none() {
        errors.push(FieldError::new("kind", "unknown_target_kind"));
    }
    let typed: Option<f64> = form
        .value
        .trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite());
    let value = match (kind, typed) {
        (Some(TargetKind::AtLeast), Some(v)) if (0.0..=100.0).contains(&v) => Some(v / 100.0),
        (Some(TargetKind::Gain), Some(v)) if (-100.0..=100.0).contains(&v) => Some(v / 100.0),
        (Some(TargetKind::Top), Some(v)) if v >= 1.0 && v.fract() == 0.0 => Some(v),
        _ => None,
    };
    if value.is_none() {
        errors.push(FieldError::new("value", "invalid_target_value"));
    }
    let baseline = form
        .baseline
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(str::to_owned);
    if kind == Some(TargetKind::Gain) && baseline.is_none() {
        errors.push(FieldError::new("baseline", "baseline_required"));
    }
    let (Some(kind), Some(value), true) = (kind, value, errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let id = result_target::Entity::insert(result_target::ActiveModel {
        campaign_id: Set(campaign_id),
        locality_code: Set(form.locality.trim().to_owned()),
        index_code: Set(form.index.trim().to_owned()),
        kind: Set(kind.as_str().to_owned()),
        value: Set(value),
        baseline_slug: Set(if kind == TargetKind::Gain {
            baseline
        } else {
            None
        }),
        ..Default::default()
    })
    .exec(db)
    .await?
    .last_insert_id;
    Ok(id)
}

/// Removes a target of a campaign.
pub async fn delete(db: &impl ConnectionTrait, campaign_id: i64, id: i64) -> Result<(), AppError> {
    let done = result_target::Entity::delete_many()
        .filter(result_target::Column::CampaignId.eq(campaign_id))
        .filter(result_target::Column::Id.eq(id))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(AppError::NotFound("target_not_found"));
    }
    Ok(())
}

/// Every target of a campaign with its status, loading baselines' results as needed.
pub async fn outcomes(
    db: &sea_orm::DatabaseConnection,
    campaign_id: i64,
    current: &CampaignResults,
) -> Result<Vec<TargetOutcome>, AppError> {
    let targets = list(db, campaign_id).await?;
    let mut baselines: std::collections::HashMap<String, Option<std::sync::Arc<CampaignResults>>> =
        std::collections::HashMap::new();
    let mut out = Vec::with_capacity(targets.len());
    for t in &targets {
        let base = match &t.baseline_slug {
            Some(slug) => {
                if !baselines.contains_key(slug) {
                    // The baseline's published results (none yet: undecided).
                    let loaded = match super::campaigns::by_slug(db, slug).await {
                        Ok(c) => match super::publication::published(db, &c).await {
                            Ok(p) => Some(p.results),
                            Err(AppError::NotFound(_)) => None,
                            Err(e) => return Err(e),
                        },
                        Err(AppError::NotFound(_)) => None,
                        Err(e) => return Err(e),
                    };
                    baselines.insert(slug.clone(), loaded);
                }
                baselines.get(slug).cloned().flatten()
            }
            None => None,
        };
        out.push(evaluate(t, current, base.as_deref()));
    }
    Ok(out)
}

/// The targets `audience` may see, those of the localities it sees, each evaluated on the
/// full results (a "top 5 of the province" needs every sibling, shown or not).
pub async fn outcomes_for(
    db: &sea_orm::DatabaseConnection,
    campaign_id: i64,
    full: &CampaignResults,
    audience: &Audience,
) -> Result<Vec<TargetOutcome>, AppError> {
    Ok(outcomes(db, campaign_id, full)
        .await?
        .into_iter()
        .filter(|o| audience.sees_in(full, &o.locality))
        .collect())
}
