//! Fieldwork of a recorded sample draw: the attempts at each selected unit
//! (the unit itself, then its listed replacements, each with an outcome
//! code only), and the nonresponse adjustment of the weights of the draw's
//! campaign (see [`crate::domain::sampling::adjust_for_nonresponse`]).

use std::collections::HashMap;

use entity::{
    campaign, campaign_locality, response, sample_attempt, sample_draw, sample_draw_unit,
    sample_replacement,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    sea_query::Expr,
};

use crate::domain::fieldwork::AttemptRow;
use crate::domain::locality::{LineProblem, Problems};
use crate::domain::sampling::{AdjustError, Outcome, Slot, Status, adjust_for_nonresponse};

#[derive(Debug, thiserror::Error)]
pub enum FieldworkError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error("no sample draw {0}")]
    NoDraw(i64),
    #[error("campaign {0} has no sample draw")]
    NoCampaignDraw(String),
    #[error("no campaign {0}")]
    NoCampaign(String),
    /// Rows of the attempts file that do not fit the draw.
    #[error("{0}")]
    Rows(Problems),
    #[error("{count} selected units have no outcome yet: {first}")]
    Pending { count: usize, first: String },
    #[error(transparent)]
    Adjust(#[from] AdjustError),
}

/// The draw named by its id, or the latest draw of a campaign.
pub async fn find_draw(
    db: &impl ConnectionTrait,
    id: Option<i64>,
    campaign_slug: Option<&str>,
) -> Result<sample_draw::Model, FieldworkError> {
    if let Some(id) = id {
        return sample_draw::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or(FieldworkError::NoDraw(id));
    }
    let slug = campaign_slug.unwrap_or_default();
    let camp = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq(slug))
        .one(db)
        .await?
        .ok_or_else(|| FieldworkError::NoCampaign(slug.to_owned()))?;
    sample_draw::Entity::find()
        .filter(sample_draw::Column::CampaignId.eq(camp.id))
        .order_by_desc(sample_draw::Column::Id)
        .one(db)
        .await?
        .ok_or_else(|| FieldworkError::NoCampaignDraw(slug.to_owned()))
}

/// A selected unit of a draw with its replacement list.
struct DrawSlot {
    unit: sample_draw_unit::Model,
    /// Replacement codes by rank (index 0 = rank 1).
    replacements: Vec<String>,
}

impl DrawSlot {
    fn code(&self) -> &str {
        self.unit
            .unit_code
            .as_deref()
            .unwrap_or(self.unit.psu_code.as_str())
    }

    /// Rank of `used` for this slot: 0 itself, k its k-th replacement.
    fn rank_of(&self, used: &str) -> Option<usize> {
        if used == self.code() {
            return Some(0);
        }
        self.replacements
            .iter()
            .position(|r| r == used)
            .map(|k| k + 1)
    }

    fn code_at(&self, rank: i32) -> String {
        match usize::try_from(rank) {
            Ok(0) | Err(_) => self.code().to_owned(),
            Ok(k) => self
                .replacements
                .get(k - 1)
                .cloned()
                .unwrap_or_else(|| self.code().to_owned()),
        }
    }
}

async fn slots(db: &impl ConnectionTrait, draw_id: i64) -> Result<Vec<DrawSlot>, FieldworkError> {
    let units = sample_draw_unit::Entity::find()
        .filter(sample_draw_unit::Column::DrawId.eq(draw_id))
        .order_by_asc(sample_draw_unit::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = units.iter().map(|u| u.id).collect();
    let mut lists: HashMap<i64, Vec<sample_replacement::Model>> = HashMap::new();
    for chunk in ids.chunks(500) {
        for r in sample_replacement::Entity::find()
            .filter(sample_replacement::Column::DrawUnitId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            lists.entry(r.draw_unit_id).or_default().push(r);
        }
    }
    Ok(units
        .into_iter()
        .map(|unit| {
            let mut list = lists.remove(&unit.id).unwrap_or_default();
            list.sort_by_key(|r| r.rank);
            DrawSlot {
                unit,
                replacements: list.into_iter().map(|r| r.code).collect(),
            }
        })
        .collect())
}

/// The `take` (interviews per unit) a draw was made with.
fn take_of(draw: &sample_draw::Model) -> Option<i32> {
    serde_json::from_str::<serde_json::Value>(&draw.parameters)
        .ok()
        .and_then(|p| p.get("take").and_then(serde_json::Value::as_i64))
        .and_then(|t| i32::try_from(t).ok())
}

/// What recording attempts did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// Selected units whose attempts were (re)written.
    pub units: usize,
    pub attempts: usize,
    /// Attempts the draw now holds in all.
    pub all_attempts: usize,
    /// Replacement units added to the draw's campaign.
    pub localities_added: usize,
}

/// Records attempts: each selected unit named in `rows` gets exactly these
/// attempts (earlier ones are replaced). Every row must name a selected
/// last-stage unit of the draw and, as `used`, the unit itself or one of
/// its replacements; otherwise every bad row is returned with its line and
/// nothing is written. A replacement tried for a campaign's draw becomes a
/// locality of the campaign with its unit's design stratum, cluster, base
/// weight and target (substitution), so its respondents can be recorded.
pub async fn record(
    db: &impl ConnectionTrait,
    draw: &sample_draw::Model,
    rows: &[AttemptRow],
) -> Result<Recorded, FieldworkError> {
    let slots = slots(db, draw.id).await?;
    let by_code: HashMap<&str, &DrawSlot> = slots.iter().map(|s| (s.code(), s)).collect();
    let mut problems = Vec::new();
    let mut accepted: Vec<(&DrawSlot, &AttemptRow, usize)> = Vec::new();
    for r in rows {
        let Some(slot) = by_code.get(r.code.as_str()) else {
            problems.push(LineProblem::new(
                r.line,
                "code",
                format!("{} is not a selected unit of draw {}", r.code, draw.id),
            ));
            continue;
        };
        match slot.rank_of(&r.used) {
            Some(rank) => accepted.push((slot, r, rank)),
            None if slot.replacements.is_empty() => problems.push(LineProblem::new(
                r.line,
                "used",
                format!(
                    "{} has no replacements (a certainty or purposive unit, or none were drawn): only {} itself can be tried",
                    r.code, r.code
                ),
            )),
            None => problems.push(LineProblem::new(
                r.line,
                "used",
                format!(
                    "{} is not on the replacement list of {} ({})",
                    r.used,
                    r.code,
                    slot.replacements.join(", ")
                ),
            )),
        }
    }
    if !problems.is_empty() {
        return Err(FieldworkError::Rows(Problems(problems)));
    }
    let mut touched: Vec<i64> = accepted.iter().map(|(s, _, _)| s.unit.id).collect();
    touched.sort_unstable();
    touched.dedup();
    // Every attempt of the draw is rewritten in unit order, so neither row
    // ids nor their order tell which unit was recorded when.
    let ids: Vec<i64> = slots.iter().map(|s| s.unit.id).collect();
    // (selected unit, attempt, rank, outcome)
    let mut all: Vec<(i64, i32, i32, String)> = Vec::new();
    for chunk in ids.chunks(500) {
        for a in sample_attempt::Entity::find()
            .filter(sample_attempt::Column::DrawUnitId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            if touched.binary_search(&a.draw_unit_id).is_err() {
                all.push((a.draw_unit_id, a.attempt, a.rank, a.outcome));
            }
        }
        sample_attempt::Entity::delete_many()
            .filter(sample_attempt::Column::DrawUnitId.is_in(chunk.to_vec()))
            .exec(db)
            .await?;
    }
    all.extend(accepted.iter().map(|(slot, r, rank)| {
        (
            slot.unit.id,
            i32::try_from(r.attempt).unwrap_or(i32::MAX),
            i32::try_from(*rank).unwrap_or(i32::MAX),
            r.outcome.as_str().to_owned(),
        )
    }));
    all.sort();
    let models: Vec<sample_attempt::ActiveModel> = all
        .into_iter()
        .map(
            |(unit, attempt, rank, outcome)| sample_attempt::ActiveModel {
                draw_unit_id: Set(unit),
                attempt: Set(attempt),
                rank: Set(rank),
                outcome: Set(outcome),
                ..Default::default()
            },
        )
        .collect();
    let total = models.len();
    for chunk in models.chunks(500) {
        sample_attempt::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    let mut added = 0;
    if let Some(campaign_id) = draw.campaign_id {
        let take = take_of(draw);
        for (slot, r, rank) in &accepted {
            if *rank == 0 {
                continue;
            }
            let exists = campaign_locality::Entity::find_by_id((campaign_id, r.used.clone()))
                .one(db)
                .await?
                .is_some();
            if exists {
                continue;
            }
            campaign_locality::Entity::insert(campaign_locality::ActiveModel {
                campaign_id: Set(campaign_id),
                locality_code: Set(r.used.clone()),
                stratum: Set(Some(slot.unit.design_stratum.clone())),
                cluster: Set(slot.unit.cluster.clone()),
                base_weight: Set(Some(slot.unit.base_weight)),
                target_n: Set(take),
            })
            .exec(db)
            .await?;
            added += 1;
        }
        if added > 0 {
            super::responses::campaigns_changed();
        }
    }
    Ok(Recorded {
        units: touched.len(),
        attempts: accepted.len(),
        all_attempts: total,
        localities_added: added,
    })
}

/// A selected unit after the nonresponse adjustment.
#[derive(Debug, Clone, PartialEq)]
pub struct AdjustedUnit {
    /// Frame stratum (the weighting class).
    pub stratum: String,
    /// The selected unit.
    pub code: String,
    /// The unit of its last attempt (itself or a replacement).
    pub used: String,
    pub outcome: Outcome,
    pub base_weight: f64,
    /// w' (0 for a nonrespondent or an ineligible unit).
    pub adjusted_weight: f64,
}

/// Adjusts the draw's base weights for nonresponse, within frame strata
/// (`w' = w · Σ_eligible w / Σ_respondents w`), once every selected unit
/// has an outcome. For a campaign's draw, each responding unit's locality
/// (the selected unit or the replacement that stood in for it) gets w' as
/// its base weight, and so do the responses already recorded there.
pub async fn adjust(
    db: &impl ConnectionTrait,
    draw: &sample_draw::Model,
) -> Result<Vec<AdjustedUnit>, FieldworkError> {
    let slots = slots(db, draw.id).await?;
    let ids: Vec<i64> = slots.iter().map(|s| s.unit.id).collect();
    let mut last: HashMap<i64, sample_attempt::Model> = HashMap::new();
    for chunk in ids.chunks(500) {
        for a in sample_attempt::Entity::find()
            .filter(sample_attempt::Column::DrawUnitId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            let newer = last
                .get(&a.draw_unit_id)
                .is_none_or(|b| b.attempt < a.attempt);
            if newer {
                last.insert(a.draw_unit_id, a);
            }
        }
    }
    let pending: Vec<&str> = slots
        .iter()
        .filter(|s| !last.contains_key(&s.unit.id))
        .map(|s| s.code())
        .collect();
    if !pending.is_empty() {
        let mut first = pending
            .iter()
            .take(10)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        if pending.len() > 10 {
            first.push_str(", …");
        }
        return Err(FieldworkError::Pending {
            count: pending.len(),
            first,
        });
    }
    let mut finals = Vec::new();
    for s in &slots {
        let Some(a) = last.get(&s.unit.id) else {
            continue;
        };
        // Outcomes were checked when recorded; an unknown one counts as unknown eligibility.
        let outcome = Outcome::parse(&a.outcome).unwrap_or(Outcome::Unknown);
        finals.push((s, a, outcome));
    }
    let input: Vec<Slot> = finals
        .iter()
        .map(|(s, _, o)| Slot {
            class: s.unit.stratum.clone(),
            weight: s.unit.base_weight,
            status: o.status(),
        })
        .collect();
    let weights = adjust_for_nonresponse(&input)?;
    let out: Vec<AdjustedUnit> = finals
        .iter()
        .zip(&weights)
        .map(|((s, a, o), w)| AdjustedUnit {
            stratum: s.unit.stratum.clone(),
            code: s.code().to_owned(),
            used: s.code_at(a.rank),
            outcome: *o,
            base_weight: s.unit.base_weight,
            adjusted_weight: *w,
        })
        .collect();
    if let Some(campaign_id) = draw.campaign_id {
        let take = take_of(draw);
        for ((s, _, o), u) in finals.iter().zip(&out) {
            if o.status() != Status::Respondent {
                continue;
            }
            let key = (campaign_id, u.used.clone());
            let row = campaign_locality::ActiveModel {
                campaign_id: Set(campaign_id),
                locality_code: Set(u.used.clone()),
                stratum: Set(Some(s.unit.design_stratum.clone())),
                cluster: Set(s.unit.cluster.clone()),
                base_weight: Set(Some(u.adjusted_weight)),
                target_n: Set(take),
            };
            if campaign_locality::Entity::find_by_id(key)
                .one(db)
                .await?
                .is_some()
            {
                campaign_locality::Entity::update(row).exec(db).await?;
            } else {
                campaign_locality::Entity::insert(row).exec(db).await?;
            }
            response::Entity::update_many()
                .col_expr(response::Column::BaseWeight, Expr::value(u.adjusted_weight))
                .filter(response::Column::CampaignId.eq(campaign_id))
                .filter(response::Column::LocalityCode.eq(u.used.as_str()))
                .exec(db)
                .await?;
        }
        super::responses::campaigns_changed();
    }
    Ok(out)
}

/// The adjustment as CSV: `stratum, code, used, outcome, aapor, base_weight,
/// adjusted_weight`.
pub fn to_csv(units: &[AdjustedUnit]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "stratum",
        "code",
        "used",
        "outcome",
        "aapor",
        "base_weight",
        "adjusted_weight",
    ])?;
    for u in units {
        w.write_record(crate::domain::cells::record(&[
            u.stratum.clone(),
            u.code.clone(),
            u.used.clone(),
            u.outcome.as_str().to_owned(),
            u.outcome.aapor().to_owned(),
            format!("{}", u.base_weight),
            format!("{}", u.adjusted_weight),
        ]))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
