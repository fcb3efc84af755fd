//! Questionnaires and their versions: create, edit the draft, publish (which
//! freezes the definition with a checksum), read, delete unused versions.
//!
//! Rules: a definition is validated before anything is saved (a draft is never
//! stored in an invalid state, except that its texts may still lack their
//! Vietnamese: such a draft "needs translation" and cannot be published); editing a published questionnaire creates a new
//! draft version; a published version never changes; a version used by a
//! campaign that has responses can never be deleted.

use chrono::Utc;
use entity::{campaign, questionnaire, questionnaire_version};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;

use crate::domain::questionnaire::Definition;
use crate::domain::validation::FieldError;

use super::audit::{self, Actor};
use super::demo::checksum;

/// Status of a version.
pub const DRAFT: &str = "draft";
pub const PUBLISHED: &str = "published";

/// A problem with a questionnaire operation.
#[derive(Debug, thiserror::Error)]
pub enum QuestionnaireError {
    #[error("invalid definition: {0:?}")]
    Invalid(Vec<FieldError>),
    #[error("no such questionnaire or version")]
    NotFound,
    #[error("a questionnaire with the code {0} already exists")]
    DuplicateCode(String),
    #[error("the definition's code {found} does not match the questionnaire's code {expected}")]
    CodeMismatch { expected: String, found: String },
    #[error("there is no draft to publish")]
    NoDraft,
    /// The draft has texts without Vietnamese (listed): it cannot be
    /// published until they are translated.
    #[error("the draft needs a Vietnamese translation: {0:?}")]
    NeedsTranslation(Vec<FieldError>),
    #[error("this version is used by a campaign and cannot be deleted")]
    InUse,
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// A questionnaire with a summary of its versions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub id: i64,
    pub code: String,
    pub title_vi: String,
    pub title_en: String,
    pub versions: Vec<VersionInfo>,
}

impl Summary {
    /// The newest version.
    pub fn latest(&self) -> Option<&VersionInfo> {
        self.versions.last()
    }

    /// The newest published version.
    pub fn latest_published(&self) -> Option<&VersionInfo> {
        self.versions.iter().rev().find(|v| v.status == PUBLISHED)
    }
}

/// One version, without its definition.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VersionInfo {
    pub id: i64,
    pub version: i32,
    pub status: String,
    pub checksum: Option<String>,
    pub created_at: String,
    pub published_at: Option<String>,
    /// A draft whose only problem is texts without Vietnamese: stored, but
    /// not publishable until translated.
    pub needs_translation: bool,
}

impl From<&questionnaire_version::Model> for VersionInfo {
    fn from(v: &questionnaire_version::Model) -> Self {
        VersionInfo {
            id: v.id,
            version: v.version,
            status: v.status.clone(),
            checksum: v.checksum.clone(),
            created_at: v.created_at.to_rfc3339(),
            published_at: v.published_at.map(|t| t.to_rfc3339()),
            needs_translation: v.status == DRAFT
                && serde_json::from_str::<Definition>(&v.definition)
                    .is_ok_and(|d| needs_translation(&d)),
        }
    }
}

/// The texts without Vietnamese (their field paths), when they are the only
/// thing keeping the definition from being valid; None otherwise (valid, or
/// other problems too).
pub fn missing_vietnamese(definition: &Definition) -> Option<Vec<FieldError>> {
    match definition.check() {
        Ok(()) => None,
        Err(list) if !list.is_empty() && list.iter().all(|e| e.code == "missing_vietnamese") => {
            Some(list)
        }
        Err(_) => None,
    }
}

/// True when the only thing keeping a definition from being valid is text
/// without Vietnamese (an XLSForm in other languages): it can be stored as a
/// draft that needs translating, but not published.
pub fn needs_translation(definition: &Definition) -> bool {
    missing_vietnamese(definition).is_some()
}

/// The check for storing a draft: every rule, except that texts may still
/// lack their Vietnamese.
pub fn check_draft(definition: &Definition) -> Result<(), Vec<FieldError>> {
    match definition.check() {
        Err(list) if !needs_translation(definition) => Err(list),
        _ => Ok(()),
    }
}

/// Parses a draft's JSON with [`check_draft`] (texts may lack Vietnamese).
pub fn parse_draft(json: &str) -> Result<Definition, Vec<FieldError>> {
    let def: Definition = serde_json::from_str(json)
        .map_err(|e| vec![FieldError::new("", "invalid_json").with("detail", e.to_string())])?;
    check_draft(&def)?;
    Ok(def)
}

fn to_json(def: &Definition) -> String {
    serde_json::to_string(def).unwrap_or_default()
}

async fn summary(db: &impl ConnectionTrait, q: questionnaire::Model) -> Result<Summary, DbErr> {
    let versions = questionnaire_version::Entity::find()
        .filter(questionnaire_version::Column::QuestionnaireId.eq(q.id))
        .order_by_asc(questionnaire_version::Column::Version)
        .all(db)
        .await?;
    Ok(Summary {
        id: q.id,
        code: q.code,
        title_vi: q.title_vi,
        title_en: q.title_en,
        versions: versions.iter().map(VersionInfo::from).collect(),
    })
}

/// Every questionnaire, by code.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<Summary>, DbErr> {
    let rows = questionnaire::Entity::find()
        .order_by_asc(questionnaire::Column::Code)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for q in rows {
        out.push(summary(db, q).await?);
    }
    Ok(out)
}

/// One questionnaire.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Summary, QuestionnaireError> {
    let q = questionnaire::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(QuestionnaireError::NotFound)?;
    Ok(summary(db, q).await?)
}

/// A questionnaire by its numeric id or its code.
pub async fn find(
    db: &impl ConnectionTrait,
    id_or_code: &str,
) -> Result<Summary, QuestionnaireError> {
    if let Ok(id) = id_or_code.parse::<i64>() {
        return get(db, id).await;
    }
    let q = questionnaire::Entity::find()
        .filter(questionnaire::Column::Code.eq(id_or_code))
        .one(db)
        .await?
        .ok_or(QuestionnaireError::NotFound)?;
    Ok(summary(db, q).await?)
}

/// One version with its parsed definition.
pub async fn version(
    db: &impl ConnectionTrait,
    id: i64,
    version: i32,
) -> Result<(questionnaire_version::Model, Definition), QuestionnaireError> {
    let row = questionnaire_version::Entity::find()
        .filter(questionnaire_version::Column::QuestionnaireId.eq(id))
        .filter(questionnaire_version::Column::Version.eq(version))
        .one(db)
        .await?
        .ok_or(QuestionnaireError::NotFound)?;
    let def = parse_draft(&row.definition).map_err(QuestionnaireError::Invalid)?;
    Ok((row, def))
}

/// The newest version with its definition.
pub async fn latest(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<(questionnaire_version::Model, Definition), QuestionnaireError> {
    let row = questionnaire_version::Entity::find()
        .filter(questionnaire_version::Column::QuestionnaireId.eq(id))
        .order_by_desc(questionnaire_version::Column::Version)
        .one(db)
        .await?
        .ok_or(QuestionnaireError::NotFound)?;
    let def = parse_draft(&row.definition).map_err(QuestionnaireError::Invalid)?;
    Ok((row, def))
}

/// Creates a questionnaire with a first draft version.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    def: &Definition,
) -> Result<Summary, QuestionnaireError> {
    check_draft(def).map_err(QuestionnaireError::Invalid)?;
    let txn = crate::db::begin_write(db).await?;
    let exists = questionnaire::Entity::find()
        .filter(questionnaire::Column::Code.eq(def.code.as_str()))
        .count(&txn)
        .await?
        > 0;
    if exists {
        return Err(QuestionnaireError::DuplicateCode(def.code.clone()));
    }
    let now = Utc::now();
    let q = questionnaire::ActiveModel {
        code: Set(def.code.clone()),
        title_vi: Set(def.title.get("vi").to_owned()),
        title_en: Set(def.title.get("en").to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    questionnaire_version::ActiveModel {
        questionnaire_id: Set(q.id),
        version: Set(1),
        status: Set(DRAFT.to_owned()),
        definition: Set(to_json(def)),
        checksum: Set(None),
        created_at: Set(now),
        published_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        "questionnaire.create",
        "questionnaire",
        &q.id.to_string(),
        &def.code,
    )
    .await?;
    txn.commit().await?;
    Ok(summary(db, q).await?)
}

/// Replaces the draft's definition, or starts a new draft version when the
/// newest version is published. Returns the draft's version number.
pub async fn save_draft(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    def: &Definition,
) -> Result<i32, QuestionnaireError> {
    check_draft(def).map_err(QuestionnaireError::Invalid)?;
    let txn = crate::db::begin_write(db).await?;
    let q = questionnaire::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(QuestionnaireError::NotFound)?;
    if q.code != def.code {
        return Err(QuestionnaireError::CodeMismatch {
            expected: q.code,
            found: def.code.clone(),
        });
    }
    let newest = questionnaire_version::Entity::find()
        .filter(questionnaire_version::Column::QuestionnaireId.eq(id))
        .order_by_desc(questionnaire_version::Column::Version)
        .one(&txn)
        .await?;
    let version = match newest {
        Some(v) if v.status == DRAFT => {
            let number = v.version;
            let mut m: questionnaire_version::ActiveModel = v.into();
            m.definition = Set(to_json(def));
            m.update(&txn).await?;
            number
        }
        other => {
            let number = other.map(|v| v.version + 1).unwrap_or(1);
            questionnaire_version::ActiveModel {
                questionnaire_id: Set(id),
                version: Set(number),
                status: Set(DRAFT.to_owned()),
                definition: Set(to_json(def)),
                checksum: Set(None),
                created_at: Set(Utc::now()),
                published_at: Set(None),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            number
        }
    };
    let mut qm: questionnaire::ActiveModel = q.into();
    qm.title_vi = Set(def.title.get("vi").to_owned());
    qm.title_en = Set(def.title.get("en").to_owned());
    qm.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        "questionnaire.save_draft",
        "questionnaire",
        &id.to_string(),
        &format!("version {version}"),
    )
    .await?;
    txn.commit().await?;
    Ok(version)
}

/// Publishes the draft: the definition is frozen with its SHA-256.
pub async fn publish(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> Result<VersionInfo, QuestionnaireError> {
    let txn = crate::db::begin_write(db).await?;
    let draft = questionnaire_version::Entity::find()
        .filter(questionnaire_version::Column::QuestionnaireId.eq(id))
        .order_by_desc(questionnaire_version::Column::Version)
        .one(&txn)
        .await?
        .filter(|v| v.status == DRAFT)
        .ok_or(QuestionnaireError::NoDraft)?;
    let def = parse_draft(&draft.definition).map_err(QuestionnaireError::Invalid)?;
    if let Some(missing) = missing_vietnamese(&def) {
        return Err(QuestionnaireError::NeedsTranslation(missing));
    }
    let json = to_json(&def);
    let mut m: questionnaire_version::ActiveModel = draft.into();
    m.status = Set(PUBLISHED.to_owned());
    m.checksum = Set(Some(checksum(&json)));
    m.definition = Set(json);
    m.published_at = Set(Some(Utc::now()));
    let published = m.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        "questionnaire.publish",
        "questionnaire",
        &id.to_string(),
        &format!("version {}", published.version),
    )
    .await?;
    txn.commit().await?;
    Ok(VersionInfo::from(&published))
}

/// Deletes a version that no campaign uses; a version with responses is
/// always used by its campaign, so it can never be deleted.
pub async fn delete_version(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    version: i32,
) -> Result<(), QuestionnaireError> {
    let txn = crate::db::begin_write(db).await?;
    let row = questionnaire_version::Entity::find()
        .filter(questionnaire_version::Column::QuestionnaireId.eq(id))
        .filter(questionnaire_version::Column::Version.eq(version))
        .one(&txn)
        .await?
        .ok_or(QuestionnaireError::NotFound)?;
    // A version a campaign uses (and so any version with responses) stays.
    let used = campaign::Entity::find()
        .filter(campaign::Column::QuestionnaireVersionId.eq(row.id))
        .count(&txn)
        .await?
        > 0;
    if used {
        return Err(QuestionnaireError::InUse);
    }
    questionnaire_version::Entity::delete_by_id(row.id)
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        actor,
        "questionnaire.delete_version",
        "questionnaire",
        &id.to_string(),
        &format!("version {version}"),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
