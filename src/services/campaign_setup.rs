//! Setting up campaigns: a published questionnaire version asked about a
//! service in a set of localities between two dates, with the sampling
//! design (stratum, cluster, base weight and target per locality;
//! calibration variables; publication thresholds).

use std::collections::HashSet;

use chrono::{NaiveDate, Utc};
use entity::{campaign, campaign_locality, population_margin, questionnaire_version, service};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};

use crate::domain::campaign::{DesignSettings, Layout};
use crate::domain::text::is_code;
use crate::domain::validation::FieldError;

use super::audit::{self, Actor};
use super::localities;
use super::questionnaires::PUBLISHED;

/// A problem setting up a campaign.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("invalid campaign: {0:?}")]
    Invalid(Vec<FieldError>),
    #[error("no such campaign")]
    NotFound,
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

/// One locality of a campaign with its design fields.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalityLine {
    pub code: String,
    pub stratum: Option<String>,
    pub cluster: Option<String>,
    pub base_weight: Option<f64>,
    pub target_n: Option<i32>,
}

/// Everything a campaign is set up with.
#[derive(Debug, Clone)]
pub struct CampaignInput {
    pub slug: String,
    pub name_vi: String,
    pub name_en: String,
    pub questionnaire_version_id: i64,
    pub service_code: String,
    pub opens_on: Option<NaiveDate>,
    pub closes_on: Option<NaiveDate>,
    pub is_public: bool,
    pub layout: String,
    pub localities: Vec<LocalityLine>,
    pub design: DesignSettings,
}

/// Parses `code[,stratum[,cluster[,base_weight[,target_n]]]]` lines; problems
/// name the line.
pub fn parse_locality_lines(text: &str) -> Result<Vec<LocalityLine>, Vec<FieldError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let path = format!("localities line {}", i + 1);
        let opt = |k: usize| {
            f.get(k)
                .copied()
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let base_weight = match opt(3).map(|w| w.parse::<f64>()) {
            Some(Ok(w)) if w.is_finite() && w > 0.0 => Some(w),
            Some(_) => {
                errors.push(FieldError::new(path.clone(), "weight_not_positive"));
                None
            }
            None => None,
        };
        let target_n = match opt(4).map(|n| n.parse::<i32>()) {
            Some(Ok(n)) if n > 0 => Some(n),
            Some(_) => {
                errors.push(FieldError::new(path.clone(), "invalid_target"));
                None
            }
            None => None,
        };
        out.push(LocalityLine {
            code: f[0].to_owned(),
            stratum: opt(1),
            cluster: opt(2),
            base_weight,
            target_n,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The lines of a campaign's localities, for editing.
pub fn locality_lines_text(rows: &[campaign_locality::Model]) -> String {
    rows.iter()
        .map(|r| {
            format!(
                "{},{},{},{},{}",
                r.locality_code,
                r.stratum.clone().unwrap_or_default(),
                r.cluster.clone().unwrap_or_default(),
                r.base_weight.map(|w| w.to_string()).unwrap_or_default(),
                r.target_n.map(|n| n.to_string()).unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn check(
    db: &DatabaseConnection,
    input: &CampaignInput,
    existing: Option<&campaign::Model>,
    floor: u32,
) -> Result<(i64, Vec<FieldError>), SetupError> {
    let mut errors = min_n_errors(input.design.min_n, floor);
    if !is_code(&input.slug) {
        errors.push(FieldError::new("slug", "invalid_code"));
    } else if existing.is_none() {
        let taken = campaign::Entity::find()
            .filter(campaign::Column::Slug.eq(input.slug.as_str()))
            .count(db)
            .await?
            > 0;
        if taken {
            errors.push(FieldError::new("slug", "duplicate_code").with("code", input.slug.clone()));
        }
    }
    if input.name_vi.trim().is_empty() {
        errors.push(FieldError::new("name_vi", "missing_vietnamese"));
    }
    let version = questionnaire_version::Entity::find_by_id(input.questionnaire_version_id)
        .one(db)
        .await?;
    match &version {
        Some(v) if v.status == PUBLISHED => {}
        _ => errors.push(FieldError::new(
            "questionnaire_version",
            "version_not_published",
        )),
    }
    if let Some(c) = existing
        && c.questionnaire_version_id != input.questionnaire_version_id
    {
        let answered = super::responses::count(db, c.id).await? > 0;
        if answered {
            errors.push(FieldError::new(
                "questionnaire_version",
                "version_fixed_by_responses",
            ));
        }
    }
    let service = service::Entity::find()
        .filter(service::Column::Code.eq(input.service_code.as_str()))
        .one(db)
        .await?;
    if service.is_none() {
        errors.push(FieldError::new("service", "unknown_service"));
    }
    match (input.opens_on, input.closes_on) {
        (Some(o), Some(c)) if o <= c => {}
        (Some(_), Some(_)) => errors.push(FieldError::new("closes_on", "closes_before_opening")),
        _ => errors.push(FieldError::new("opens_on", "invalid_dates")),
    }
    if Layout::parse(&input.layout).is_none() {
        errors.push(FieldError::new("layout", "invalid_layout"));
    }
    if input.localities.is_empty() {
        errors.push(FieldError::new("localities", "no_localities"));
    }
    let mut seen = HashSet::new();
    let codes: Vec<String> = input.localities.iter().map(|l| l.code.clone()).collect();
    let on = input.opens_on.unwrap_or_else(|| Utc::now().date_naive());
    let known = localities::valid_on(db, &codes, on).await?;
    for l in &input.localities {
        if !seen.insert(l.code.as_str()) {
            errors
                .push(FieldError::new("localities", "duplicate_code").with("code", l.code.clone()));
        } else if !known.contains_key(&l.code) {
            errors.push(
                FieldError::new("localities", "campaign_locality_unknown")
                    .with("code", l.code.clone()),
            );
        }
    }
    if !["fail", "remove", "certainty", "adjust", "average"]
        .contains(&input.design.lonely_psu.as_str())
    {
        errors.push(FieldError::new("lonely_psu", "invalid_lonely_psu"));
    }
    for variable in &input.design.calibration {
        let has = population_margin::Entity::find()
            .filter(population_margin::Column::Variable.eq(variable.as_str()))
            .count(db)
            .await?
            > 0;
        if !has {
            errors
                .push(FieldError::new("calibration", "no_margins").with("code", variable.clone()));
        }
    }
    Ok((service.map(|s| s.id).unwrap_or_default(), errors))
}

/// `min_n` must be at least the server's floor (never below 10).
fn min_n_errors(min_n: u32, floor: u32) -> Vec<FieldError> {
    let floor = floor.max(crate::domain::publication::MIN_N_FLOOR);
    if min_n < floor {
        vec![FieldError::new("min_n", "min_n_below_floor").with("floor", floor.to_string())]
    } else {
        Vec::new()
    }
}

/// The settings only administrators and analysts may change: who may read the results, the
/// small-numbers rule (the publication's k) and the publication schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultsSettings {
    pub is_public: bool,
    pub min_n: u32,
    pub min_df: u32,
    pub publication: crate::domain::publication::Schedule,
}

impl ResultsSettings {
    pub fn of(is_public: bool, design: &DesignSettings) -> ResultsSettings {
        ResultsSettings {
            is_public,
            min_n: design.min_n,
            min_df: design.min_df,
            publication: design.publication,
        }
    }

    /// The settings of a stored campaign (defaults where its design cannot be read).
    pub fn of_campaign(c: &campaign::Model) -> ResultsSettings {
        let design: DesignSettings = serde_json::from_str(&c.design).unwrap_or_default();
        ResultsSettings::of(c.is_public, &design)
    }
}

/// Old and new value of every setting that differs between two versions of a campaign
/// (columns, each design setting, the locality lines), for the audit log:
/// `{"slug": …, "changes": {"min_n": {"old": 30, "new": 10}, …}}`.
pub fn audit_changes(
    old: &campaign::Model,
    new: &campaign::Model,
    localities: Option<(String, String)>,
) -> String {
    use serde_json::{Map, Value, json};
    let mut changes = Map::new();
    let mut put = |name: &str, a: Value, b: Value| {
        if a != b {
            changes.insert(name.to_owned(), json!({"old": a, "new": b}));
        }
    };
    put("name_vi", json!(old.name_vi), json!(new.name_vi));
    put("name_en", json!(old.name_en), json!(new.name_en));
    put(
        "questionnaire_version_id",
        json!(old.questionnaire_version_id),
        json!(new.questionnaire_version_id),
    );
    put("service_id", json!(old.service_id), json!(new.service_id));
    put("opens_on", json!(old.opens_on), json!(new.opens_on));
    put("closes_on", json!(old.closes_on), json!(new.closes_on));
    put("is_public", json!(old.is_public), json!(new.is_public));
    put("layout", json!(old.layout), json!(new.layout));
    let design = |text: &str| -> Map<String, Value> {
        let d: DesignSettings = serde_json::from_str(text).unwrap_or_default();
        match serde_json::to_value(d) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    };
    let (a, b) = (design(&old.design), design(&new.design));
    for (key, va) in &a {
        put(key, va.clone(), b.get(key).cloned().unwrap_or(Value::Null));
    }
    if let Some((a, b)) = localities {
        put("localities", json!(a), json!(b));
    }
    json!({"slug": new.slug, "changes": changes}).to_string()
}

/// Changes only the [`ResultsSettings`] of a campaign (administrators and analysts), with
/// the old and new values in the audit log.
pub async fn update_results_settings(
    db: &DatabaseConnection,
    actor: &Actor,
    slug: &str,
    settings: &ResultsSettings,
    floor: u32,
) -> Result<campaign::Model, SetupError> {
    let existing = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq(slug))
        .one(db)
        .await?
        .ok_or(SetupError::NotFound)?;
    let mut design: DesignSettings = serde_json::from_str(&existing.design).unwrap_or_default();
    // A campaign stored before the floor keeps its min_n until someone changes it.
    if settings.min_n != design.min_n {
        let errors = min_n_errors(settings.min_n, floor);
        if !errors.is_empty() {
            return Err(SetupError::Invalid(errors));
        }
    }
    design.min_n = settings.min_n;
    design.min_df = settings.min_df;
    design.publication = settings.publication;
    let txn = crate::db::begin_write(db).await?;
    let mut m: campaign::ActiveModel = existing.clone().into();
    m.is_public = Set(settings.is_public);
    m.design = Set(serde_json::to_string(&design).unwrap_or_else(|_| "{}".to_owned()));
    let row = m.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        "campaign.results_settings",
        "campaign",
        &row.id.to_string(),
        &audit_changes(&existing, &row, None),
    )
    .await?;
    txn.commit().await?;
    super::responses::campaigns_changed();
    Ok(row)
}

/// Creates a campaign; every problem is listed and nothing is saved.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &CampaignInput,
    floor: u32,
) -> Result<campaign::Model, SetupError> {
    let (service_id, errors) = check(db, input, None, floor).await?;
    if !errors.is_empty() {
        return Err(SetupError::Invalid(errors));
    }
    let txn = crate::db::begin_write(db).await?;
    let row = campaign::ActiveModel {
        slug: Set(input.slug.clone()),
        name_vi: Set(input.name_vi.trim().to_owned()),
        name_en: Set(input.name_en.trim().to_owned()),
        questionnaire_version_id: Set(input.questionnaire_version_id),
        service_id: Set(service_id),
        opens_on: Set(input.opens_on.unwrap_or_default()),
        closes_on: Set(input.closes_on.unwrap_or_default()),
        is_public: Set(input.is_public),
        layout: Set(input.layout.clone()),
        design: Set(serde_json::to_string(&input.design).unwrap_or_else(|_| "{}".to_owned())),
        sort_order: Set(100),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    write_localities(&txn, row.id, &input.localities).await?;
    let design: serde_json::Value =
        serde_json::from_str(&row.design).unwrap_or(serde_json::Value::Null);
    audit::record(
        &txn,
        actor,
        "campaign.create",
        "campaign",
        &row.id.to_string(),
        &serde_json::json!({
            "slug": row.slug,
            "settings": {"is_public": row.is_public, "design": design},
        })
        .to_string(),
    )
    .await?;
    txn.commit().await?;
    super::responses::campaigns_changed();
    Ok(row)
}

/// Changes a campaign (its slug stays); every problem is listed and nothing is saved.
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    slug: &str,
    input: &CampaignInput,
    floor: u32,
) -> Result<campaign::Model, SetupError> {
    let existing = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq(slug))
        .one(db)
        .await?
        .ok_or(SetupError::NotFound)?;
    let input = CampaignInput {
        slug: existing.slug.clone(),
        ..input.clone()
    };
    let (service_id, mut errors) = check(db, &input, Some(&existing), floor).await?;
    // A campaign stored before the floor keeps its min_n until someone changes it.
    let stored: DesignSettings = serde_json::from_str(&existing.design).unwrap_or_default();
    if stored.min_n == input.design.min_n {
        errors.retain(|e| e.code != "min_n_below_floor");
    }
    if !errors.is_empty() {
        return Err(SetupError::Invalid(errors));
    }
    let old_lines = campaign_locality::Entity::find()
        .filter(campaign_locality::Column::CampaignId.eq(existing.id))
        .order_by_asc(campaign_locality::Column::LocalityCode)
        .all(db)
        .await?;
    let txn = crate::db::begin_write(db).await?;
    let id = existing.id;
    let old = existing.clone();
    let mut m: campaign::ActiveModel = existing.into();
    m.name_vi = Set(input.name_vi.trim().to_owned());
    m.name_en = Set(input.name_en.trim().to_owned());
    m.questionnaire_version_id = Set(input.questionnaire_version_id);
    m.service_id = Set(service_id);
    m.opens_on = Set(input.opens_on.unwrap_or_default());
    m.closes_on = Set(input.closes_on.unwrap_or_default());
    m.is_public = Set(input.is_public);
    m.layout = Set(input.layout.clone());
    m.design = Set(serde_json::to_string(&input.design).unwrap_or_else(|_| "{}".to_owned()));
    let row = m.update(&txn).await?;
    campaign_locality::Entity::delete_many()
        .filter(campaign_locality::Column::CampaignId.eq(id))
        .exec(&txn)
        .await?;
    write_localities(&txn, id, &input.localities).await?;
    let new_lines = campaign_locality::Entity::find()
        .filter(campaign_locality::Column::CampaignId.eq(id))
        .order_by_asc(campaign_locality::Column::LocalityCode)
        .all(&txn)
        .await?;
    audit::record(
        &txn,
        actor,
        "campaign.update",
        "campaign",
        &id.to_string(),
        &audit_changes(
            &old,
            &row,
            Some((
                locality_lines_text(&old_lines),
                locality_lines_text(&new_lines),
            )),
        ),
    )
    .await?;
    txn.commit().await?;
    super::responses::campaigns_changed();
    Ok(row)
}

async fn write_localities(
    db: &impl sea_orm::ConnectionTrait,
    campaign_id: i64,
    lines: &[LocalityLine],
) -> Result<(), sea_orm::DbErr> {
    let rows: Vec<campaign_locality::ActiveModel> = lines
        .iter()
        .map(|l| campaign_locality::ActiveModel {
            campaign_id: Set(campaign_id),
            locality_code: Set(l.code.clone()),
            stratum: Set(l.stratum.clone()),
            cluster: Set(Some(l.cluster.clone().unwrap_or_else(|| l.code.clone()))),
            base_weight: Set(l.base_weight),
            target_n: Set(l.target_n),
        })
        .collect();
    if !rows.is_empty() {
        campaign_locality::Entity::insert_many(rows)
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
    fn locality_lines_parse_with_defaults_and_line_numbers() {
        let lines = parse_locality_lines("00004,01-U,,120.5,40\n\n00103\n").unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].stratum.as_deref(), Some("01-U"));
        assert_eq!(lines[0].cluster, None);
        assert_eq!(lines[0].base_weight, Some(120.5));
        assert_eq!(lines[0].target_n, Some(40));
        assert_eq!(lines[1].code, "00103");
        let err = parse_locality_lines("00004,,,0\n00008,,,2,-3").unwrap_err();
        assert_eq!(err[0].field, "localities line 1");
        assert_eq!(err[1].field, "localities line 2");
    }
}
