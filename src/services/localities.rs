//! Looking up administrative units: which codes exist, and the units as valid on a date.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use entity::locality;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// The distinct codes among `codes` that name a unit (in any validity period), asked 500 at
/// a time.
pub async fn known_codes(
    db: &impl ConnectionTrait,
    codes: &[String],
) -> Result<HashSet<String>, DbErr> {
    let mut known = HashSet::new();
    for chunk in codes.chunks(500) {
        let found: Vec<String> = locality::Entity::find()
            .select_only()
            .column(locality::Column::Code)
            .distinct()
            .filter(locality::Column::Code.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        known.extend(found);
    }
    Ok(known)
}

/// The units with these codes as valid on `on`; a code with no row valid
/// that day falls back to its latest row.
pub async fn valid_on(
    db: &impl ConnectionTrait,
    codes: &[String],
    on: NaiveDate,
) -> Result<HashMap<String, locality::Model>, DbErr> {
    let rows = locality::Entity::find()
        .filter(locality::Column::Code.is_in(codes.iter().cloned()))
        .order_by_asc(locality::Column::ValidFrom)
        .all(db)
        .await?;
    let mut out: HashMap<String, locality::Model> = HashMap::new();
    for row in rows {
        let valid = row.valid_from <= on && row.valid_to.is_none_or(|to| on < to);
        let keep = match out.get(&row.code) {
            None => true,
            Some(prev) => {
                let prev_valid = prev.valid_from <= on && prev.valid_to.is_none_or(|to| on < to);
                valid || !prev_valid
            }
        };
        if keep {
            out.insert(row.code.clone(), row);
        }
    }
    Ok(out)
}
