//! Cluster selection over the population frame: PPS systematic draws per
//! stratum from a recorded seed, optionally with a second stage (villages,
//! desks) from a CSV frame, recorded unit by unit (`sample_draw_units`),
//! exported as CSV and written into a campaign's localities (design
//! stratum, cluster, base weight, target n); purposive units, replacement
//! lists, fieldwork outcomes and the nonresponse adjustment of the
//! campaign's weights ([`fieldwork`](super::fieldwork)). The statistics are
//! in [`crate::domain::sampling`].

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use entity::{campaign, campaign_locality, sample_draw, sample_draw_unit, sample_replacement};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

use crate::domain::locality::{LineProblem, Problems};
use crate::domain::sampling::{
    self, DrawError, FrameUnit, Method, Plan, Replacement, SecondStage, Selected, SubUnit,
};
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
    /// Rows of the second-stage frame that do not fit the hierarchy.
    #[error("{0}")]
    SecondStage(Problems),
    /// A `--purposive` code that cannot be taken.
    #[error("--purposive: {0}")]
    Purposive(String),
}

/// The second stage of a draw.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SecondStageRequest {
    /// Where the frame came from (a file name), for the record.
    pub source: String,
    #[serde(skip)]
    pub units: Vec<SubUnit>,
    /// Second-stage units drawn in each first-stage unit.
    pub per_unit: usize,
    pub method: Method,
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
    /// Interviews planned per last-stage unit (the campaign's `target_n`);
    /// the base weight is then M/(π·take).
    pub take: Option<u32>,
    pub second_stage: Option<SecondStageRequest>,
    /// Codes of units always taken (first-stage units of the frame, or
    /// second-stage units of the second-stage frame).
    pub purposive: Vec<String>,
    /// Replacements listed for each non-certain last-stage unit.
    pub replacements: usize,
}

/// A selected last-stage unit with its first-stage unit's names and its
/// respondents' base weight.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawnUnit {
    pub selected: Selected,
    pub name_vi: String,
    pub name_en: String,
    pub base_weight: f64,
    /// Its ordered replacement list.
    pub replacements: Vec<Replacement>,
}

/// A recorded draw: its id and selected units.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub id: i64,
    pub units: Vec<DrawnUnit>,
}

/// Checks each purposive code: a unit of the draw's frame, or of the
/// second-stage frame; a unit of the level outside every stratum drawn is
/// named as such.
fn check_purposive(
    req: &DrawRequest,
    hierarchy: &Hierarchy,
    frame: &[FrameUnit],
) -> Result<HashSet<String>, SamplingError> {
    let in_frame: HashSet<&str> = frame.iter().map(|u| u.code.as_str()).collect();
    let second: HashSet<&str> = req
        .second_stage
        .iter()
        .flat_map(|s| s.units.iter().map(|u| u.code.as_str()))
        .collect();
    let mut out = HashSet::new();
    for code in &req.purposive {
        let code = code.trim();
        if code.is_empty() {
            continue;
        }
        if in_frame.contains(code) || second.contains(code) {
            out.insert(code.to_owned());
            continue;
        }
        let message = match hierarchy.units.get(code) {
            Some(u) if u.level == req.level => {
                match hierarchy.ancestor_at(code, &req.stratum_level) {
                    Some(s) => format!(
                        "{code} is in {} {}, which is not among the strata drawn (--strata)",
                        req.stratum_level, s.code
                    ),
                    None => format!("{code} is in no {} (no stratum)", req.stratum_level),
                }
            }
            Some(u) => format!(
                "{code} is a {}, not a {} of the frame{}",
                u.level,
                req.level,
                if req.second_stage.is_some() {
                    " nor a unit of the second-stage frame"
                } else {
                    ""
                }
            ),
            None => format!(
                "unknown unit {code} (not a {} of the frame{})",
                req.level,
                if req.second_stage.is_some() {
                    " nor a unit of the second-stage frame"
                } else {
                    ""
                }
            ),
        };
        return Err(SamplingError::Purposive(message));
    }
    Ok(out)
}

/// Checks that every second-stage unit lies in a `level` unit valid in
/// `hierarchy`; every problem with its line.
fn check_second_stage(
    hierarchy: &Hierarchy,
    level: &str,
    units: &[SubUnit],
) -> Result<(), SamplingError> {
    let problems: Vec<LineProblem> = units
        .iter()
        .filter(|u| {
            hierarchy
                .units
                .get(&u.parent)
                .is_none_or(|p| p.level != level)
        })
        .map(|u| {
            LineProblem::new(
                u.line,
                "commune_code",
                format!("unknown {level} {}", u.parent),
            )
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(SamplingError::SecondStage(Problems(problems)))
    }
}

/// SHA-256 of the second-stage frame as used (parent, code, size per unit in
/// file order), recorded so a reproduction can check it has the same frame.
fn frame_digest(units: &[SubUnit]) -> String {
    let mut h = Sha256::new();
    for u in units {
        h.update(format!("{},{},{}\n", u.parent, u.code, u.size).as_bytes());
    }
    hex::encode(h.finalize())
}

/// Draws, records the draw (seed and parameters) and, for a campaign,
/// replaces its localities with the selection. Run inside a transaction.
pub async fn draw(db: &impl ConnectionTrait, req: &DrawRequest) -> Result<Recorded, SamplingError> {
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
    if let Some(second) = &req.second_stage {
        check_second_stage(&hierarchy, &req.level, &second.units)?;
    }
    let purposive = check_purposive(req, &hierarchy, &frame)?;
    let plan = Plan {
        frame: &frame,
        seed: req.seed,
        second: req.second_stage.as_ref().map(|s| SecondStage {
            frame: &s.units,
            per_unit: s.per_unit,
            method: s.method,
        }),
        purposive: &purposive,
        replacements: req.replacements,
    };
    let sample = sampling::draw_sample(&plan, |s| {
        req.per_stratum.get(s).copied().unwrap_or(req.clusters)
    })?;
    let out: Vec<DrawnUnit> = sample
        .selected
        .into_iter()
        .zip(sample.replacements)
        .map(|(s, mut replacements)| {
            let unit = hierarchy.units.get(&s.first.code);
            if s.second.is_none() {
                for r in &mut replacements {
                    r.name = hierarchy
                        .units
                        .get(&r.code)
                        .map(|u| u.name_vi.clone())
                        .unwrap_or_default();
                }
            }
            DrawnUnit {
                name_vi: unit.map(|u| u.name_vi.clone()).unwrap_or_default(),
                name_en: unit.map(|u| u.name_en.clone()).unwrap_or_default(),
                base_weight: s.base_weight(req.take),
                selected: s,
                replacements,
            }
        })
        .collect();
    if let Some(c) = &campaign {
        let answered = super::responses::count(db, c.id).await?;
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
                locality_code: Set(u.selected.code().to_owned()),
                stratum: Set(Some(u.selected.design_stratum())),
                cluster: Set(u.selected.cluster()),
                base_weight: Set(Some(u.base_weight)),
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
        if let (Some(second), Some(serde_json::Value::Object(stage))) =
            (&req.second_stage, map.get_mut("second_stage"))
        {
            stage.insert("units".into(), second.units.len().into());
            stage.insert("frame_sha256".into(), frame_digest(&second.units).into());
        }
    }
    let recorded = sample_draw::Entity::insert(sample_draw::ActiveModel {
        campaign_id: Set(campaign.as_ref().map(|c| c.id)),
        seed: Set(req.seed.to_string()),
        parameters: Set(parameters.to_string()),
        selected: Set(i32::try_from(out.len()).unwrap_or(i32::MAX)),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    for u in &out {
        let (first, second) = (&u.selected.first, u.selected.second.as_ref());
        let row = sample_draw_unit::ActiveModel {
            draw_id: Set(recorded.last_insert_id),
            stratum: Set(first.stratum.clone()),
            psu_code: Set(first.code.clone()),
            psu_size: Set(first.size),
            psu_probability: Set(first.probability),
            psu_certainty: Set(first.certainty),
            unit_code: Set(second.map(|s| s.code.clone())),
            unit_name: Set(second.map(|s| s.name.clone())),
            unit_size: Set(second.map(|s| s.size)),
            unit_probability: Set(second.map(|s| s.probability)),
            unit_certainty: Set(second.map(|s| s.certainty)),
            probability: Set(u.selected.probability()),
            design_stratum: Set(u.selected.design_stratum()),
            cluster: Set(u.selected.cluster()),
            base_weight: Set(u.base_weight),
            ..Default::default()
        };
        let id = sample_draw_unit::Entity::insert(row)
            .exec(db)
            .await?
            .last_insert_id;
        let listed: Vec<sample_replacement::ActiveModel> = u
            .replacements
            .iter()
            .map(|r| sample_replacement::ActiveModel {
                draw_unit_id: Set(id),
                rank: Set(i32::try_from(r.rank).unwrap_or(i32::MAX)),
                code: Set(r.code.clone()),
                name: Set((!r.name.is_empty()).then(|| r.name.clone())),
                size: Set(r.size),
                ..Default::default()
            })
            .collect();
        if !listed.is_empty() {
            sample_replacement::Entity::insert_many(listed)
                .exec(db)
                .await?;
        }
    }
    if campaign.is_some() {
        super::responses::campaigns_changed();
    }
    Ok(Recorded {
        id: recorded.last_insert_id,
        units: out,
    })
}

fn num(v: Option<f64>) -> String {
    v.map(|v| format!("{v}")).unwrap_or_default()
}

fn flag(v: Option<bool>) -> String {
    v.map(|c| if c { "1" } else { "0" }.to_owned())
        .unwrap_or_default()
}

/// The selection as CSV, one row per last-stage unit: the first stage
/// (stratum, code, names, size, π_i, certainty), the second stage when there
/// is one (unit code, name, size, π_j|i, certainty), the combined π, and the
/// design fields its respondents get (design stratum, cluster, base weight),
/// and its replacement list (codes in order, separated by `;`).
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
        "unit_code",
        "unit_name",
        "unit_size",
        "unit_probability",
        "unit_certainty",
        "inclusion_probability",
        "design_stratum",
        "cluster",
        "base_weight",
        "replacements",
    ])?;
    for u in units {
        let (first, second) = (&u.selected.first, u.selected.second.as_ref());
        // Names and codes come from uploaded frames: neutralised against
        // formula injection (numbers are numerals and stay as they are).
        w.write_record(crate::domain::cells::record(&[
            first.stratum.clone(),
            first.code.clone(),
            u.name_vi.clone(),
            u.name_en.clone(),
            num(Some(first.size)),
            num(Some(first.probability)),
            flag(Some(first.certainty)),
            second.map(|s| s.code.clone()).unwrap_or_default(),
            second.map(|s| s.name.clone()).unwrap_or_default(),
            num(second.map(|s| s.size)),
            num(second.map(|s| s.probability)),
            flag(second.map(|s| s.certainty)),
            num(Some(u.selected.probability())),
            u.selected.design_stratum(),
            u.selected.cluster().unwrap_or_default(),
            num(Some(u.base_weight)),
            u.replacements
                .iter()
                .map(|r| r.code.as_str())
                .collect::<Vec<_>>()
                .join(";"),
        ]))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
