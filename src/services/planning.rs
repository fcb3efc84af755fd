//! The population frame of a level as valid on a date: each unit with its
//! measure of size, read from the population margins.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::population_margin;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::services::locality_lists::Hierarchy;

/// A unit of a frame.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameUnit {
    pub code: String,
    pub parent_code: Option<String>,
    pub name_vi: String,
    pub name_en: String,
    /// Measure of size; `None` when no margin covers the unit.
    pub population: Option<f64>,
}

/// Each unit's own population: its `total` margin (category `all`), or
/// else the sum of its `sex` margins.
pub async fn own_sizes(db: &impl ConnectionTrait) -> Result<HashMap<String, f64>, DbErr> {
    let rows = population_margin::Entity::find()
        .filter(population_margin::Column::Variable.is_in(["total", "sex"]))
        .all(db)
        .await?;
    let mut total: HashMap<String, f64> = HashMap::new();
    let mut by_sex: HashMap<String, f64> = HashMap::new();
    for r in rows {
        if r.variable == "total" {
            *total.entry(r.locality_code).or_default() += r.total;
        } else {
            *by_sex.entry(r.locality_code).or_default() += r.total;
        }
    }
    for (code, n) in by_sex {
        total.entry(code).or_insert(n);
    }
    Ok(total)
}

/// Units of `level` valid on `on`, ordered by code, each with its own size
/// or else the sum of its descendants' sizes.
pub async fn frame(
    db: &impl ConnectionTrait,
    level: &str,
    on: NaiveDate,
) -> Result<Vec<FrameUnit>, DbErr> {
    let hierarchy = Hierarchy::on(db, on).await?;
    let own = own_sizes(db).await?;
    // Roll sizes up: each unit without its own size adds to its ancestors'
    // sums only through units that lack one themselves.
    let mut rolled: HashMap<String, f64> = HashMap::new();
    for (code, unit) in &hierarchy.units {
        let Some(size) = own.get(code) else {
            continue;
        };
        let mut parent = unit.parent_code.as_deref();
        let mut guard = 0;
        while let Some(p) = parent {
            guard += 1;
            if guard > hierarchy.units.len() {
                break;
            }
            if own.contains_key(p) {
                break;
            }
            *rolled.entry(p.to_owned()).or_default() += size;
            parent = hierarchy
                .units
                .get(p)
                .and_then(|u| u.parent_code.as_deref());
        }
    }
    Ok(hierarchy
        .at_level(level)
        .into_iter()
        .map(|u| FrameUnit {
            code: u.code.clone(),
            parent_code: u.parent_code.clone(),
            name_vi: u.name_vi.clone(),
            name_en: u.name_en.clone(),
            population: own.get(&u.code).or(rolled.get(&u.code)).copied(),
        })
        .collect())
}
