//! The area-level data of the small-area model, read from the database before it is fitted:
//! the communes of the results' provinces without respondents, the population frames'
//! margins and the auxiliary data, and from them each commune's covariates and its
//! population for benchmarking (see the parent module's documentation).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use entity::{locality, population_margin};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::error::AppError;

use super::Commune;
use crate::services::results::dataset::Dataset;
use crate::services::results::design::Hierarchy;

/// A commune of one of the results' provinces without any respondent.
#[derive(Debug, Clone)]
pub struct Unsampled {
    pub unit: locality::Model,
    pub province: String,
}

/// Area-level data read from the database before the model is fitted.
#[derive(Debug, Clone, Default)]
pub struct AreaData {
    /// Locality → variable → category → total (`total`, `sex`, `age_group`).
    pub margins: HashMap<String, BTreeMap<String, BTreeMap<String, f64>>>,
    /// Locality → variable → value.
    pub auxiliary: BTreeMap<String, BTreeMap<String, f64>>,
    /// The communes of the results' provinces without respondents, in code order.
    pub unsampled: Vec<Unsampled>,
}

/// The units whose parent is one of `parents`, as valid on `on` (one row per code).
async fn children_valid_on(
    db: &DatabaseConnection,
    parents: &[String],
    on: NaiveDate,
) -> Result<Vec<locality::Model>, AppError> {
    let mut out: BTreeMap<String, locality::Model> = BTreeMap::new();
    for chunk in parents.chunks(500) {
        let rows = locality::Entity::find()
            .filter(locality::Column::ParentCode.is_in(chunk.iter().cloned()))
            .order_by_asc(locality::Column::ValidFrom)
            .all(db)
            .await?;
        for row in rows {
            if row.valid_from <= on && row.valid_to.is_none_or(|to| on < to) {
                out.insert(row.code.clone(), row);
            }
        }
    }
    Ok(out.into_values().collect())
}

/// The communes of the hierarchy's provinces, valid on `on`, that hold no respondent.
async fn unsampled_communes(
    db: &DatabaseConnection,
    hier: &Hierarchy,
    on: NaiveDate,
) -> Result<Vec<Unsampled>, AppError> {
    let provinces: Vec<String> = hier
        .province
        .iter()
        .flatten()
        .cloned()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut found: Vec<Unsampled> = Vec::new();
    let mut districts: Vec<(String, String)> = Vec::new();
    for unit in children_valid_on(db, &provinces, on).await? {
        let province = unit.parent_code.clone().unwrap_or_default();
        match unit.level.as_str() {
            "commune" => found.push(Unsampled { unit, province }),
            "district" => districts.push((unit.code, province)),
            _ => {}
        }
    }
    if !districts.is_empty() {
        let province_of: HashMap<String, String> = districts.iter().cloned().collect();
        let codes: Vec<String> = districts.into_iter().map(|(d, _)| d).collect();
        for unit in children_valid_on(db, &codes, on).await? {
            let province = unit
                .parent_code
                .as_ref()
                .and_then(|d| province_of.get(d))
                .cloned()
                .unwrap_or_default();
            if unit.level == "commune" {
                found.push(Unsampled { unit, province });
            }
        }
    }
    // Every code that holds responses (a commune, or a code the hierarchy does not place)
    // is the results' own.
    let own: HashSet<&String> = hier.units.keys().collect();
    found.retain(|u| !own.contains(&u.unit.code));
    found.sort_by(|a, b| a.unit.code.cmp(&b.unit.code));
    found.dedup_by(|a, b| a.unit.code == b.unit.code);
    Ok(found)
}

/// Reads the population margins and auxiliary data of the hierarchy's localities and of the
/// communes of its provinces without respondents (as valid on `on`, the opening day).
pub async fn area_data(
    db: &DatabaseConnection,
    hier: &Hierarchy,
    on: NaiveDate,
) -> Result<AreaData, AppError> {
    let unsampled = unsampled_communes(db, hier, on).await?;
    let mut codes: HashSet<String> = hier.units.keys().cloned().collect();
    codes.extend(hier.province.iter().flatten().cloned());
    codes.extend(unsampled.iter().map(|u| u.unit.code.clone()));
    let codes: Vec<String> = codes.into_iter().collect();
    let mut margins: HashMap<String, BTreeMap<String, BTreeMap<String, f64>>> = HashMap::new();
    for chunk in codes.chunks(500) {
        let found = population_margin::Entity::find()
            .filter(population_margin::Column::LocalityCode.is_in(chunk.iter().cloned()))
            .filter(population_margin::Column::Variable.is_in(["total", "sex", "age_group"]))
            .all(db)
            .await?;
        for m in found {
            margins
                .entry(m.locality_code)
                .or_default()
                .entry(m.variable)
                .or_default()
                .insert(m.category, m.total);
        }
    }
    let wanted: HashSet<&String> = codes.iter().collect();
    let auxiliary = crate::services::auxiliary::all(db)
        .await?
        .into_iter()
        .filter(|(code, _)| wanted.contains(code))
        .collect();
    Ok(AreaData {
        margins,
        auxiliary,
        unsampled,
    })
}

/// A locality's population in the frames: its `total`, else the sum of its `sex` margin
/// (positive, or none).
fn frame_total(area: &AreaData, code: &str) -> Option<f64> {
    let m = area.margins.get(code)?;
    m.get("total")
        .and_then(|t| t.values().next().copied())
        .or_else(|| m.get("sex").map(|s| s.values().sum()))
        .filter(|t| *t > 0.0)
}

/// The covariates of `communes` (in order): names, and one row per commune — `None` for a
/// commune past the first `decided_by` that lacks one of them. A covariate is kept when it is
/// known for each of the first `decided_by` communes (those with respondents).
pub(super) fn covariates(
    communes: &[Commune],
    decided_by: usize,
    hier: &Hierarchy,
    area: &AreaData,
) -> (Vec<String>, Vec<Option<Vec<f64>>>) {
    let unsampled: HashMap<&str, &locality::Model> = area
        .unsampled
        .iter()
        .map(|u| (u.unit.code.as_str(), &u.unit))
        .collect();
    let decided = &communes[..decided_by.min(communes.len())];
    let mut columns: Vec<(String, Vec<Option<f64>>)> = Vec::new();
    columns.push((
        "urban".to_owned(),
        communes
            .iter()
            .map(|(c, _)| {
                let unit = hier
                    .units
                    .get(c)
                    .or_else(|| unsampled.get(c.as_str()).copied())?;
                let ward = unit
                    .unit_type_en
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case("ward"))
                    || unit
                        .unit_type_vi
                        .as_deref()
                        .is_some_and(|t| t.starts_with("Phường"));
                Some(if ward { 1.0 } else { 0.0 })
            })
            .collect(),
    ));
    let frame = |code: &str| -> [Option<f64>; 3] {
        let Some(m) = area.margins.get(code) else {
            return [None; 3];
        };
        let total = frame_total(area, code);
        let female = m.get("sex").and_then(|s| {
            let sum: f64 = s.values().sum();
            s.get("F").map(|f| f / sum).filter(|v| v.is_finite())
        });
        let young = m.get("age_group").and_then(|a| {
            let sum: f64 = a.values().sum();
            a.values().next().map(|f| f / sum).filter(|v| v.is_finite())
        });
        [total.map(f64::ln), female, young]
    };
    let own: Vec<[Option<f64>; 3]> = communes.iter().map(|(c, _)| frame(c)).collect();
    let province: Vec<[Option<f64>; 3]> = communes
        .iter()
        .map(|(_, p)| p.as_deref().map_or([None; 3], frame))
        .collect();
    for (k, name) in ["log_population", "share_female", "share_first_age_group"]
        .iter()
        .enumerate()
    {
        if own[..decided.len()].iter().all(|v| v[k].is_some()) {
            columns.push(((*name).to_owned(), own.iter().map(|v| v[k]).collect()));
        } else {
            columns.push((
                format!("province_{name}"),
                province.iter().map(|v| v[k]).collect(),
            ));
        }
    }
    let mut aux_names: Vec<&String> = area
        .auxiliary
        .values()
        .flat_map(|m| m.keys())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    aux_names.sort();
    for name in aux_names {
        columns.push((
            name.clone(),
            communes
                .iter()
                .map(|(c, _)| area.auxiliary.get(c).and_then(|m| m.get(name)).copied())
                .collect(),
        ));
    }
    let known: Vec<(String, Vec<Option<f64>>)> = columns
        .into_iter()
        .filter(|(_, values)| values[..decided.len()].iter().all(Option::is_some))
        .collect();
    let names = known.iter().map(|(n, _)| n.clone()).collect();
    let rows = (0..communes.len())
        .map(|i| known.iter().map(|(_, v)| v[i]).collect())
        .collect();
    (names, rows)
}

/// The population of each commune for benchmarking (see the module's documentation): per
/// province, the frame's totals when every one of its `communes` has one, otherwise the sums
/// of `weights` over each commune's rows.
pub(super) fn benchmark_populations(
    communes: &[Commune],
    weights: &[f64],
    data: &Dataset,
    hier: &Hierarchy,
    area: &AreaData,
) -> HashMap<String, f64> {
    let mut estimated: HashMap<&str, f64> = HashMap::new();
    for (r, &l) in data.locality.iter().enumerate() {
        if let (Some(Some(c)), Some(w)) = (hier.commune.get(l as usize), weights.get(r)) {
            *estimated.entry(c.as_str()).or_default() += w;
        }
    }
    let frame = |code: &str| frame_total(area, code);
    let mut by_province: BTreeMap<Option<&str>, Vec<&str>> = BTreeMap::new();
    for (c, p) in communes {
        by_province.entry(p.as_deref()).or_default().push(c);
    }
    let mut out = HashMap::new();
    for codes in by_province.values() {
        let from_frame = codes.iter().all(|c| frame(c).is_some());
        for c in codes {
            let n = if from_frame {
                frame(c).unwrap_or(0.0)
            } else {
                estimated.get(c).copied().unwrap_or(0.0)
            };
            out.insert((*c).to_owned(), n);
        }
    }
    out
}
