//! Demo data: real localities of four provinces, the SIPAS and hospital
//! questionnaires, two open public campaigns and a few thousand synthetic
//! responses drawn from a realistic stratified cluster design.
//!
//! Generated reproducibly from [`SEED`]; seeding twice changes nothing.

use std::collections::{BTreeMap, HashSet};

use chrono::{Duration, NaiveDate, Utc};
use entity::{
    campaign, campaign_locality, locality, population_margin, questionnaire, questionnaire_version,
    response, service,
};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::domain::campaign::{Channel, DesignSettings, Layout};
use crate::domain::questionnaire::{Definition, Question, QuestionType};
use crate::domain::validation::FieldError;

/// Seed of the synthetic responses.
pub const SEED: u64 = 20_261_122;
/// Slug of the SIPAS demo campaign (listed first).
pub const SIPAS_SLUG: &str = "sipas-demo";
/// Slug of the hospital demo campaign.
pub const HEALTH_SLUG: &str = "health-demo";
/// Slug of the demo campaign of SIPAS as measured since 2021 (three families of indicators).
pub const SIPAS_1001_SLUG: &str = "sipas-1001-demo";
/// The SIPAS one-stop desk questionnaire preset.
pub const SIPAS_PRESET: &str = include_str!("../../presets/sipas-2640.json");
/// The public hospital patient satisfaction preset.
pub const HEALTH_PRESET: &str = include_str!("../../presets/health-hospital.json");
/// SIPAS under Decision 1001/QĐ-BNV (2023): perception, satisfaction and expectation.
pub const SIPAS_1001_PRESET: &str = include_str!("../../presets/sipas-1001.json");
const LOCALITIES_CSV: &str = include_str!("../demo/localities.csv");
/// The date the 2025 reform's units took effect.
const REFORM_DATE: (i32, u32, u32) = (2025, 7, 1);

/// What seeding did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedOutcome {
    Seeded { responses: usize },
    AlreadyPresent,
}

/// A problem building the demo data.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("preset {name} is invalid: {errors:?}")]
    Preset {
        name: &'static str,
        errors: Vec<FieldError>,
    },
    #[error("demo locality list, line {line}: {message}")]
    Localities { line: usize, message: String },
    #[error("publishing the demo results: {0}")]
    Publish(String),
}

struct DemoUnit {
    code: String,
    level: String,
    parent: Option<String>,
    name_vi: String,
    name_en: String,
    unit_type_vi: String,
    unit_type_en: String,
}

fn demo_units() -> Result<Vec<DemoUnit>, DemoError> {
    let mut out = Vec::new();
    for (i, line) in LOCALITIES_CSV.lines().enumerate() {
        if line.starts_with('#') || line.starts_with("code,") || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 7 {
            return Err(DemoError::Localities {
                line: i + 1,
                message: format!("expected 7 fields, found {}", f.len()),
            });
        }
        out.push(DemoUnit {
            code: f[0].to_owned(),
            level: f[1].to_owned(),
            parent: Some(f[2].to_owned()).filter(|p| !p.is_empty()),
            name_vi: f[3].to_owned(),
            name_en: f[4].to_owned(),
            unit_type_vi: f[5].to_owned(),
            unit_type_en: f[6].to_owned(),
        });
    }
    Ok(out)
}

/// Seeds the demo unless it is already there. Everything happens in one
/// transaction: either all of the demo is stored or none of it.
pub async fn seed(db: &DatabaseConnection, today: NaiveDate) -> Result<SeedOutcome, DemoError> {
    let txn = crate::db::begin_write(db).await?;
    let exists = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq(SIPAS_SLUG))
        .one(&txn)
        .await?
        .is_some();
    if exists {
        txn.rollback().await?;
        return Ok(SeedOutcome::AlreadyPresent);
    }
    let units = demo_units()?;
    insert_localities(&txn, &units).await?;
    let one_stop = ensure_service(&txn, "one_stop", "Bộ phận Một cửa", "One-stop desk").await?;
    let hospital =
        ensure_service(&txn, "hospital", "Bệnh viện công lập", "Public hospital").await?;
    ensure_service(&txn, "school", "Trường học công lập", "Public school").await?;
    let sipas = ensure_published(&txn, "sipas-2640.json", SIPAS_PRESET).await?;
    let health = ensure_published(&txn, "health-hospital.json", HEALTH_PRESET).await?;
    let sipas_1001 = ensure_published(&txn, "sipas-1001.json", SIPAS_1001_PRESET).await?;

    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let communes: Vec<&DemoUnit> = units.iter().filter(|u| u.level == "commune").collect();
    let provinces: Vec<&DemoUnit> = units.iter().filter(|u| u.level == "province").collect();
    let opens = today - Duration::days(30);
    let closes = today + Duration::days(60);

    let sipas_plan = CampaignPlan {
        slug: SIPAS_SLUG,
        name: (
            "Khảo sát SIPAS tại Bộ phận Một cửa (demo)",
            "SIPAS survey at one-stop desks (demo)",
        ),
        service_id: one_stop,
        version: &sipas,
        sort_order: 0,
        layout: Layout::PerSection,
        communes: communes.clone(),
        per_commune: (35, 90),
        calibrate: true,
    };
    let health_communes: Vec<&DemoUnit> = communes
        .iter()
        .copied()
        .filter(|c| matches!(c.parent.as_deref(), Some("01") | Some("92")))
        .collect();
    let health_plan = CampaignPlan {
        slug: HEALTH_SLUG,
        name: (
            "Khảo sát hài lòng người bệnh (demo)",
            "Patient satisfaction survey (demo)",
        ),
        service_id: hospital,
        version: &health,
        sort_order: 1,
        layout: Layout::OnePage,
        communes: health_communes,
        per_commune: (20, 45),
        calibrate: true,
    };
    let sipas_1001_plan = CampaignPlan {
        slug: SIPAS_1001_SLUG,
        name: (
            "Khảo sát SIPAS theo Quyết định 1001/QĐ-BNV (demo)",
            "SIPAS survey under Decision 1001/QĐ-BNV (demo)",
        ),
        service_id: one_stop,
        version: &sipas_1001,
        sort_order: 2,
        layout: Layout::PerSection,
        communes: communes.clone(),
        per_commune: (20, 40),
        calibrate: false,
    };
    let mut total = 0;
    for plan in [sipas_plan, health_plan] {
        total += create_campaign(&txn, &plan, &mut rng, today, (opens, closes)).await?;
    }
    insert_margins(&txn, &provinces, &mut rng).await?;
    // Its own stream, so that the first two campaigns and the margins stay as they were.
    let mut rng_1001 = ChaCha8Rng::seed_from_u64(SEED ^ 1001);
    total += create_campaign(
        &txn,
        &sipas_1001_plan,
        &mut rng_1001,
        today,
        (opens, closes),
    )
    .await?;
    txn.commit().await?;
    // Published once, so that `serve --demo` shows results: the synthetic rows all at once
    // (no person gave them; responses collected afterwards follow the k rule).
    for slug in [SIPAS_SLUG, HEALTH_SLUG, SIPAS_1001_SLUG] {
        let published = async {
            let c = super::campaigns::by_slug(db, slug).await?;
            super::publication::publish_synthetic(db, &c, chrono::Utc::now()).await
        };
        published
            .await
            .map_err(|e| DemoError::Publish(e.to_string()))?;
    }
    Ok(SeedOutcome::Seeded { responses: total })
}

fn reform_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(REFORM_DATE.0, REFORM_DATE.1, REFORM_DATE.2).unwrap_or_default()
}

async fn insert_localities(db: &impl ConnectionTrait, units: &[DemoUnit]) -> Result<(), DemoError> {
    let codes: Vec<String> = units.iter().map(|u| u.code.clone()).collect();
    let present: HashSet<String> = locality::Entity::find()
        .filter(locality::Column::Code.is_in(codes))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.code)
        .collect();
    let rows: Vec<locality::ActiveModel> = units
        .iter()
        .filter(|u| !present.contains(&u.code))
        .map(|u| locality::ActiveModel {
            code: Set(u.code.clone()),
            level: Set(u.level.clone()),
            parent_code: Set(u.parent.clone()),
            name_vi: Set(u.name_vi.clone()),
            name_en: Set(u.name_en.clone()),
            full_name_vi: Set(None),
            full_name_en: Set(None),
            unit_type_vi: Set(Some(u.unit_type_vi.clone())),
            unit_type_en: Set(Some(u.unit_type_en.clone())),
            valid_from: Set(reform_date()),
            valid_to: Set(None),
            ..Default::default()
        })
        .collect();
    if !rows.is_empty() {
        locality::Entity::insert_many(rows).exec(db).await?;
    }
    Ok(())
}

async fn ensure_service(
    db: &impl ConnectionTrait,
    code: &str,
    vi: &str,
    en: &str,
) -> Result<i64, DemoError> {
    if let Some(s) = service::Entity::find()
        .filter(service::Column::Code.eq(code))
        .one(db)
        .await?
    {
        return Ok(s.id);
    }
    let res = service::Entity::insert(service::ActiveModel {
        code: Set(code.to_owned()),
        name_vi: Set(vi.to_owned()),
        name_en: Set(en.to_owned()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(res.last_insert_id)
}

/// SHA-256 of a definition's JSON, hex-encoded: the checksum of a published version.
pub fn checksum(definition_json: &str) -> String {
    hex::encode(Sha256::digest(definition_json.as_bytes()))
}

struct Published {
    version_id: i64,
    definition: Definition,
}

async fn ensure_published(
    db: &impl ConnectionTrait,
    name: &'static str,
    preset: &str,
) -> Result<Published, DemoError> {
    let definition =
        Definition::parse(preset).map_err(|errors| DemoError::Preset { name, errors })?;
    let json = serde_json::to_string(&definition).map_err(|e| DemoError::Preset {
        name,
        errors: vec![FieldError::new("", "invalid_json").with("detail", e.to_string())],
    })?;
    let now = Utc::now();
    let qid = match questionnaire::Entity::find()
        .filter(questionnaire::Column::Code.eq(definition.code.as_str()))
        .one(db)
        .await?
    {
        Some(q) => q.id,
        None => {
            questionnaire::Entity::insert(questionnaire::ActiveModel {
                code: Set(definition.code.clone()),
                title_vi: Set(definition.title.get("vi").to_owned()),
                title_en: Set(definition.title.get("en").to_owned()),
                created_at: Set(now),
                ..Default::default()
            })
            .exec(db)
            .await?
            .last_insert_id
        }
    };
    let existing = questionnaire_version::Entity::find()
        .filter(questionnaire_version::Column::QuestionnaireId.eq(qid))
        .filter(questionnaire_version::Column::Status.eq("published"))
        .filter(questionnaire_version::Column::Checksum.eq(checksum(&json)))
        .one(db)
        .await?;
    if let Some(v) = existing {
        return Ok(Published {
            version_id: v.id,
            definition,
        });
    }
    let next = questionnaire_version::Entity::find()
        .filter(questionnaire_version::Column::QuestionnaireId.eq(qid))
        .all(db)
        .await?
        .iter()
        .map(|v| v.version)
        .max()
        .unwrap_or(0)
        + 1;
    let res = questionnaire_version::Entity::insert(questionnaire_version::ActiveModel {
        questionnaire_id: Set(qid),
        version: Set(next),
        status: Set("published".to_owned()),
        checksum: Set(Some(checksum(&json))),
        definition: Set(json),
        created_at: Set(now),
        published_at: Set(Some(now)),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(Published {
        version_id: res.last_insert_id,
        definition,
    })
}

struct CampaignPlan<'a> {
    slug: &'static str,
    name: (&'static str, &'static str),
    service_id: i64,
    version: &'a Published,
    sort_order: i32,
    layout: Layout,
    communes: Vec<&'a DemoUnit>,
    per_commune: (u32, u32),
    /// Calibrated to the demo's sex × age margins (their categories are the 2640 form's).
    calibrate: bool,
}

/// Standard normal draw (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn stratum_of(unit: &DemoUnit) -> String {
    let parent = unit.parent.as_deref().unwrap_or("00");
    // Wards (phường) are urban; communes (xã) and special zones rural.
    let urban = unit.unit_type_en == "Ward";
    format!("{parent}-{}", if urban { "U" } else { "R" })
}

async fn create_campaign(
    db: &impl ConnectionTrait,
    plan: &CampaignPlan<'_>,
    rng: &mut ChaCha8Rng,
    today: NaiveDate,
    (opens, closes): (NaiveDate, NaiveDate),
) -> Result<usize, DemoError> {
    let design = DesignSettings {
        calibration: if plan.calibrate {
            vec!["sex".to_owned(), "age_group".to_owned()]
        } else {
            Vec::new()
        },
        ..DesignSettings::default()
    };
    let design_json = serde_json::to_string(&design).unwrap_or_else(|_| "{}".to_owned());
    let campaign_id = campaign::Entity::insert(campaign::ActiveModel {
        slug: Set(plan.slug.to_owned()),
        name_vi: Set(plan.name.0.to_owned()),
        name_en: Set(plan.name.1.to_owned()),
        questionnaire_version_id: Set(plan.version.version_id),
        service_id: Set(plan.service_id),
        opens_on: Set(opens),
        closes_on: Set(closes),
        is_public: Set(true),
        layout: Set(plan.layout.as_str().to_owned()),
        design: Set(design_json),
        sort_order: Set(plan.sort_order),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec(db)
    .await?
    .last_insert_id;

    let mut links = Vec::new();
    let mut rows = Vec::new();
    let mut province_effect: BTreeMap<String, f64> = BTreeMap::new();
    for commune in &plan.communes {
        let parent = commune.parent.clone().unwrap_or_default();
        let p_eff = *province_effect
            .entry(parent.clone())
            .or_insert_with(|| 0.35 * normal(rng));
        let c_eff = 0.3 * normal(rng);
        let span = plan.per_commune.1 - plan.per_commune.0;
        let n = plan.per_commune.0 + rng.random_range(0..=span);
        let population = 4_000.0 + 50_000.0 * rng.random::<f64>();
        let weight = (population / f64::from(n) * 100.0).round() / 100.0;
        let stratum = stratum_of(commune);
        links.push(campaign_locality::ActiveModel {
            campaign_id: Set(campaign_id),
            locality_code: Set(commune.code.clone()),
            stratum: Set(Some(stratum.clone())),
            cluster: Set(Some(commune.code.clone())),
            base_weight: Set(Some(weight)),
            target_n: Set(Some(i32::try_from(plan.per_commune.1).unwrap_or(100))),
        });
        for _ in 0..n {
            let answers = synthetic_answers(&plan.version.definition, rng, 3.75 + p_eff + c_eff);
            let cells = json!({
                "sex": answers.get("sex").cloned().unwrap_or(Value::Null),
                "age_group": answers.get("age_group").cloned().unwrap_or(Value::Null),
            });
            let mut bytes = [0u8; 16];
            rng.fill_bytes(&mut bytes);
            let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
            let days_ago = rng.random_range(0..30);
            let channel = match rng.random_range(0..20) {
                0 => Channel::Interview,
                1..=5 => Channel::Kiosk,
                _ => Channel::Web,
            };
            rows.push(response::ActiveModel {
                id: Set(id.hyphenated().to_string()),
                campaign_id: Set(campaign_id),
                locality_code: Set(commune.code.clone()),
                channel: Set(channel.as_str().to_owned()),
                response_date: Set((today - Duration::days(days_ago)).max(opens)),
                stratum: Set(Some(stratum.clone())),
                cluster: Set(Some(commune.code.clone())),
                base_weight: Set(weight),
                cells: Set(Some(cells.to_string())),
                answers: Set(Value::Object(answers).to_string()),
                publication: Set(None),
            });
        }
    }
    let count = rows.len();
    campaign_locality::Entity::insert_many(links)
        .exec(db)
        .await?;
    for chunk in rows.chunks(500) {
        response::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    Ok(count)
}

const COMMENTS: [&str; 6] = [
    "Cán bộ nhiệt tình, hướng dẫn rõ ràng.",
    "Nên có thêm ghế ngồi chờ.",
    "Thủ tục còn rườm rà, phải đi lại nhiều lần.",
    "Rất hài lòng.",
    "Cần niêm yết phí rõ hơn.",
    "Thời gian chờ hơi lâu.",
];

/// One respondent's answers: a latent satisfaction level plus item noise,
/// with some missing answers, "don't know" / "not applicable", and
/// conditional questions asked only when their condition holds.
fn synthetic_answers(def: &Definition, rng: &mut ChaCha8Rng, level: f64) -> Map<String, Value> {
    let person = level + 0.55 * normal(rng);
    let mut answers = Map::new();
    for (si, section) in def.sections.iter().enumerate() {
        let section_effect = [0.25, 0.2, -0.05, 0.15, 0.1, -0.45, 0.0][si % 7];
        for q in &section.questions {
            if let Some(cond) = q.condition.as_ref().and_then(|c| c.as_leaf()) {
                let shown = match (answers.get(&cond.question), &cond.value) {
                    (Some(a), Some(v)) => a == v,
                    (Some(_), None) => true,
                    _ => false,
                };
                if !shown {
                    continue;
                }
            }
            if let Some(v) = synthetic_value(q, rng, person + section_effect) {
                answers.insert(q.code.clone(), v);
            }
        }
    }
    answers
}

fn synthetic_value(q: &Question, rng: &mut ChaCha8Rng, level: f64) -> Option<Value> {
    if !q.required && rng.random_range(0..100) < 3 {
        return None;
    }
    match q.kind {
        QuestionType::Scale => {
            if q.not_applicable && rng.random_range(0..100) < 10 {
                return Some(json!("na"));
            }
            if q.dont_know && rng.random_range(0..100) < 3 {
                return Some(json!("dk"));
            }
            let min = q.min.unwrap_or(1);
            let max = q.max.unwrap_or(5);
            let raw = (level + 0.7 * normal(rng)).round() as i64;
            Some(json!(raw.clamp(min, max)))
        }
        QuestionType::SingleChoice => {
            let i = rng.random_range(0..q.options.len().max(1));
            q.options.get(i).map(|o| json!(o.value))
        }
        QuestionType::MultipleChoice => {
            let picked: Vec<&str> = q
                .options
                .iter()
                .filter(|_| rng.random_range(0..3) == 0)
                .map(|o| o.value.as_str())
                .collect();
            Some(json!(picked))
        }
        QuestionType::YesNo => Some(json!(rng.random_range(0..10) < 3)),
        QuestionType::Number => {
            let min = q.min.unwrap_or(0);
            let max = q.max.unwrap_or(min + 100);
            Some(json!(rng.random_range(min..=max)))
        }
        QuestionType::ShortText | QuestionType::LongText => {
            if rng.random_range(0..100) < 8 {
                Some(json!(COMMENTS[rng.random_range(0..COMMENTS.len())]))
            } else {
                None
            }
        }
    }
}

async fn insert_margins(
    db: &impl ConnectionTrait,
    provinces: &[&DemoUnit],
    rng: &mut ChaCha8Rng,
) -> Result<(), DemoError> {
    let mut rows = Vec::new();
    for p in provinces {
        let present = population_margin::Entity::find()
            .filter(population_margin::Column::LocalityCode.eq(p.code.as_str()))
            .one(db)
            .await?
            .is_some();
        if present {
            continue;
        }
        let adults = 600_000.0 + 5_000_000.0 * rng.random::<f64>();
        let female = (adults * (0.5 + 0.03 * normal(rng))).round();
        let shares = [0.38, 0.37, 0.25];
        let mut add = |variable: &str, category: &str, total: f64| {
            rows.push(population_margin::ActiveModel {
                locality_code: Set(p.code.clone()),
                variable: Set(variable.to_owned()),
                category: Set(category.to_owned()),
                total: Set(total),
                reference_year: Set(Some(2024)),
                ..Default::default()
            });
        };
        add("sex", "F", female);
        add("sex", "M", adults - female);
        let mut assigned = 0.0;
        for (i, cat) in ["18-34", "35-54", "55plus"].iter().enumerate() {
            let total = if i == 2 {
                adults - assigned
            } else {
                (adults * shares[i]).round()
            };
            assigned += total;
            add("age_group", cat, total);
        }
    }
    if !rows.is_empty() {
        population_margin::Entity::insert_many(rows)
            .exec(db)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn presets_are_valid() {
        let sipas = Definition::parse(SIPAS_PRESET).unwrap();
        assert_eq!(sipas.indices[0].elements.len(), 5);
        let criteria: usize = sipas.indices[0]
            .elements
            .iter()
            .map(|e| e.criteria.len())
            .sum();
        assert_eq!(criteria, 22);
        Definition::parse(HEALTH_PRESET).unwrap();
    }

    #[test]
    fn answers_are_reproducible() {
        let def = Definition::parse(SIPAS_PRESET).unwrap();
        let a = synthetic_answers(&def, &mut ChaCha8Rng::seed_from_u64(1), 3.8);
        let b = synthetic_answers(&def, &mut ChaCha8Rng::seed_from_u64(1), 3.8);
        assert_eq!(a, b);
        assert!(a.contains_key("sex"));
    }
}
