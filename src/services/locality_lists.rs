//! Importing official lists of administrative units with a validity date,
//! keeping history, and reading the hierarchy as valid on a date.
//!
//! Re-import rules (one transaction, decided here and documented in the
//! README):
//! - a unit whose code is in the list and whose current row has the same
//!   fields stays as it is;
//! - a unit whose current row began on the list's date (e.g. the demo's
//!   units, valid from 2025-07-01, when the national list of that date is
//!   imported) is updated in place: same code, same validity, new names;
//! - a unit whose current row began earlier and changed (name, level,
//!   parent…) gets its current row closed on the list's date and a new row
//!   opened from it;
//! - a current unit missing from the list is closed on the list's date
//!   (never deleted: responses keep their code and its history). Only a row
//!   that began on the list's date itself and that no response, campaign or
//!   population margin references is deleted, since it never existed;
//! - lists are imported in date order: a list dated before an already
//!   imported one is refused.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use entity::{campaign_locality, locality, population_margin};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, QuerySelect,
};

use crate::domain::locality::{UnitRow, level_rank};

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub added: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub closed: usize,
    pub removed: usize,
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} added, {} changed, {} unchanged, {} closed, {} removed",
            self.added, self.changed, self.unchanged, self.closed, self.removed
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error("a list valid from {0} or later is already imported; import lists in date order")]
    LaterList(NaiveDate),
}

const CHUNK: usize = 500;

fn same(m: &locality::Model, r: &UnitRow) -> bool {
    m.level == r.level
        && m.parent_code == r.parent_code
        && m.name_vi == r.name_vi
        && m.name_en == r.name_en
        && m.full_name_vi == r.full_name_vi
        && m.full_name_en == r.full_name_en
        && m.unit_type_vi == r.unit_type_vi
        && m.unit_type_en == r.unit_type_en
}

fn fill(am: &mut locality::ActiveModel, r: &UnitRow) {
    am.level = Set(r.level.clone());
    am.parent_code = Set(r.parent_code.clone());
    am.name_vi = Set(r.name_vi.clone());
    am.name_en = Set(r.name_en.clone());
    am.full_name_vi = Set(r.full_name_vi.clone());
    am.full_name_en = Set(r.full_name_en.clone());
    am.unit_type_vi = Set(r.unit_type_vi.clone());
    am.unit_type_en = Set(r.unit_type_en.clone());
}

/// Imports a checked list valid from `valid_from` in one transaction, recorded in the
/// audit log as done by `actor`.
pub async fn import_recorded(
    db: &sea_orm::DatabaseConnection,
    rows: &[UnitRow],
    valid_from: NaiveDate,
    actor: &crate::services::audit::Actor,
) -> Result<ImportSummary, ListError> {
    let txn = crate::db::begin_write(db).await?;
    let summary = import_list(&txn, rows, valid_from).await?;
    crate::services::audit::record(
        &txn,
        actor,
        "localities.import",
        "localities",
        &valid_from.to_string(),
        &summary.to_string(),
    )
    .await?;
    txn.commit().await?;
    Ok(summary)
}

/// Imports a checked list valid from `valid_from`. Run it inside a
/// transaction: it makes many statements.
pub async fn import_list(
    db: &impl ConnectionTrait,
    rows: &[UnitRow],
    valid_from: NaiveDate,
) -> Result<ImportSummary, ListError> {
    let later = locality::Entity::find()
        .filter(
            Condition::any()
                .add(locality::Column::ValidFrom.gt(valid_from))
                .add(locality::Column::ValidTo.gt(valid_from)),
        )
        .one(db)
        .await?;
    if let Some(l) = later {
        return Err(ListError::LaterList(
            l.valid_to
                .filter(|to| *to > l.valid_from)
                .unwrap_or(l.valid_from),
        ));
    }
    let current: HashMap<String, locality::Model> = locality::Entity::find()
        .filter(locality::Column::ValidTo.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.code.clone(), m))
        .collect();
    // Rows that began and ended on this very date (retired by an earlier
    // import of the same date): reopened rather than duplicated.
    let empty_periods: HashMap<String, locality::Model> = locality::Entity::find()
        .filter(locality::Column::ValidFrom.eq(valid_from))
        .filter(locality::Column::ValidTo.is_not_null())
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.code.clone(), m))
        .collect();

    let mut summary = ImportSummary::default();
    let mut to_close: Vec<i64> = Vec::new();
    let mut to_insert: Vec<locality::ActiveModel> = Vec::new();
    let mut in_list: HashSet<&str> = HashSet::new();
    for r in rows {
        in_list.insert(&r.code);
        match current.get(&r.code) {
            Some(m) if same(m, r) => summary.unchanged += 1,
            Some(m) if m.valid_from == valid_from => {
                let mut am = m.clone().into_active_model();
                fill(&mut am, r);
                am.update(db).await?;
                summary.changed += 1;
            }
            Some(m) => {
                to_close.push(m.id);
                to_insert.push(new_row(r, valid_from));
                summary.changed += 1;
            }
            None => {
                if let Some(m) = empty_periods.get(&r.code) {
                    let mut am = m.clone().into_active_model();
                    fill(&mut am, r);
                    am.valid_to = Set(None);
                    am.update(db).await?;
                } else {
                    to_insert.push(new_row(r, valid_from));
                }
                summary.added += 1;
            }
        }
    }
    let gone: Vec<&locality::Model> = current
        .values()
        .filter(|m| !in_list.contains(m.code.as_str()))
        .collect();
    let same_day: Vec<String> = gone
        .iter()
        .filter(|m| m.valid_from >= valid_from)
        .map(|m| m.code.clone())
        .collect();
    let referenced = referenced_codes(db, &same_day).await?;
    let mut to_delete: Vec<i64> = Vec::new();
    for m in gone {
        if m.valid_from >= valid_from && !referenced.contains(&m.code) {
            to_delete.push(m.id);
            summary.removed += 1;
        } else {
            to_close.push(m.id);
            summary.closed += 1;
        }
    }
    // Close before inserting: (code, valid_from) is unique, and closing
    // never touches the new rows.
    for chunk in to_close.chunks(CHUNK) {
        locality::Entity::update_many()
            .col_expr(locality::Column::ValidTo, Expr::value(valid_from))
            .filter(locality::Column::Id.is_in(chunk.iter().copied()))
            .exec(db)
            .await?;
    }
    for chunk in to_delete.chunks(CHUNK) {
        locality::Entity::delete_many()
            .filter(locality::Column::Id.is_in(chunk.iter().copied()))
            .exec(db)
            .await?;
    }
    let mut batch = Vec::with_capacity(CHUNK);
    for row in to_insert {
        batch.push(row);
        if batch.len() == CHUNK {
            locality::Entity::insert_many(std::mem::take(&mut batch))
                .exec(db)
                .await?;
        }
    }
    if !batch.is_empty() {
        locality::Entity::insert_many(batch).exec(db).await?;
    }
    Ok(summary)
}

fn new_row(r: &UnitRow, valid_from: NaiveDate) -> locality::ActiveModel {
    let mut am = locality::ActiveModel {
        code: Set(r.code.clone()),
        valid_from: Set(valid_from),
        valid_to: Set(None),
        ..Default::default()
    };
    fill(&mut am, r);
    am
}

/// Which of `codes` a response, a campaign or a population margin uses.
pub async fn referenced_codes(
    db: &impl ConnectionTrait,
    codes: &[String],
) -> Result<HashSet<String>, DbErr> {
    let mut out = HashSet::new();
    for chunk in codes.chunks(CHUNK) {
        let found: Vec<String> = entity::response_count::Entity::find()
            .select_only()
            .column(entity::response_count::Column::LocalityCode)
            .distinct()
            .filter(entity::response_count::Column::LocalityCode.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(found);
        let found: Vec<String> = campaign_locality::Entity::find()
            .select_only()
            .column(campaign_locality::Column::LocalityCode)
            .distinct()
            .filter(campaign_locality::Column::LocalityCode.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(found);
        let found: Vec<String> = population_margin::Entity::find()
            .select_only()
            .column(population_margin::Column::LocalityCode)
            .distinct()
            .filter(population_margin::Column::LocalityCode.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(found);
    }
    Ok(out)
}

/// The hierarchy as valid on one date.
#[derive(Debug, Clone, Default)]
pub struct Hierarchy {
    pub units: HashMap<String, locality::Model>,
}

impl Hierarchy {
    /// Every unit valid on `on`.
    pub async fn on(db: &impl ConnectionTrait, on: NaiveDate) -> Result<Hierarchy, DbErr> {
        let units = locality::Entity::find()
            .filter(locality::Column::ValidFrom.lte(on))
            .filter(
                Condition::any()
                    .add(locality::Column::ValidTo.is_null())
                    .add(locality::Column::ValidTo.gt(on)),
            )
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.code.clone(), m))
            .collect();
        Ok(Hierarchy { units })
    }

    /// Units of one level, ordered by code.
    pub fn at_level(&self, level: &str) -> Vec<&locality::Model> {
        let mut out: Vec<&locality::Model> =
            self.units.values().filter(|m| m.level == level).collect();
        out.sort_by(|a, b| a.code.cmp(&b.code));
        out
    }

    /// A unit's name in `lang`, if it is valid.
    pub fn name(&self, code: &str, lang: crate::i18n::Lang) -> Option<&str> {
        self.units.get(code).map(|u| match lang {
            crate::i18n::Lang::Vi => u.name_vi.as_str(),
            crate::i18n::Lang::En => u.name_en.as_str(),
        })
    }

    /// The unit itself if it is at `level`, else its ancestor at `level`.
    pub fn ancestor_at(&self, code: &str, level: &str) -> Option<&locality::Model> {
        let target = level_rank(level)?;
        let mut current = self.units.get(code)?;
        for _ in 0..=self.units.len() {
            if current.level == level {
                return Some(current);
            }
            if level_rank(&current.level).is_some_and(|r| r < target) {
                return None;
            }
            current = self.units.get(current.parent_code.as_deref()?)?;
        }
        None
    }
}
