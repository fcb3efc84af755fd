//! Looking up administrative units as valid on a date.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::locality;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

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
