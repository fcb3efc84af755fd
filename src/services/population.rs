//! Population frames from census tables: counts per locality by sex × age
//! group, stored as calibration margins (`sex`, `age_group`, `sex_age` with
//! categories like `F|18-34`) and as the measure of size (`total`, category
//! `all`).
//!
//! Census CSV: `locality_code,sex,age_group,population`; a row with empty
//! `sex` and `age_group` (or `total`) gives the locality's total population,
//! which then is its measure of size instead of the sum of its cells.
//! Re-importing a locality replaces its margins of these four variables.

use std::collections::{BTreeMap, HashMap, HashSet};

use entity::population_margin;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::domain::csv_rows::CsvRows;
use crate::domain::locality::{LineProblem, Problems};

pub const VARIABLES: [&str; 4] = ["total", "sex", "age_group", "sex_age"];

/// One census cell.
#[derive(Debug, Clone, PartialEq)]
pub struct CensusRow {
    pub line: u64,
    pub locality_code: String,
    /// `None` for a locality's total row.
    pub cell: Option<(String, String)>,
    pub population: f64,
}

fn is_total(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|v| v.eq_ignore_ascii_case("total"))
}

/// Parses a census table; every problem with its line.
pub fn parse_census(input: &[u8]) -> Result<Vec<CensusRow>, Problems> {
    let mut file = CsvRows::open(input, &["locality_code", "sex", "age_group", "population"])?;
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut seen: HashMap<(String, Option<(String, String)>), u64> = HashMap::new();
    while let Some(row) = file.next_row(&mut problems) {
        let line = row.line;
        let Some(code) = row.field("locality_code") else {
            problems.push(LineProblem::new(line, "locality_code", "missing"));
            continue;
        };
        let sex = row.field("sex");
        let age = row.field("age_group");
        let cell = match (is_total(&sex), is_total(&age), sex, age) {
            (true, true, _, _) => None,
            (false, false, Some(s), Some(a)) => Some((s, a)),
            _ => {
                problems.push(LineProblem::new(
                    line,
                    "age_group",
                    "give both sex and age_group, or neither for the total",
                ));
                continue;
            }
        };
        let text = row.field("population").unwrap_or_default();
        let Some(population) = text
            .replace(['_', ' '], "")
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
        else {
            problems.push(LineProblem::new(
                line,
                "population",
                format!("not a count: {text:?}"),
            ));
            continue;
        };
        if let Some(first) = seen.insert((code.clone(), cell.clone()), line) {
            problems.push(LineProblem::new(
                line,
                "locality_code",
                format!("duplicate cell (first on line {first})"),
            ));
            continue;
        }
        rows.push(CensusRow {
            line,
            locality_code: code,
            cell,
            population,
        });
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(Problems(problems))
    }
}

/// What an import wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PopulationSummary {
    pub localities: usize,
    pub margins: usize,
}

/// Checks that every locality exists (in any period), then replaces their
/// margins. Run inside a transaction.
pub async fn import(
    db: &impl ConnectionTrait,
    rows: &[CensusRow],
    reference_year: Option<i32>,
) -> Result<Result<PopulationSummary, Problems>, DbErr> {
    let codes: Vec<String> = rows
        .iter()
        .map(|r| r.locality_code.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let known = super::localities::known_codes(db, &codes).await?;
    let unknown: Vec<LineProblem> = rows
        .iter()
        .filter(|r| !known.contains(&r.locality_code))
        .map(|r| {
            LineProblem::new(
                r.line,
                "locality_code",
                format!("unknown locality {}", r.locality_code),
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Ok(Err(Problems(unknown)));
    }
    // Per locality: variable → category → total.
    let mut margins: BTreeMap<&str, BTreeMap<&str, BTreeMap<String, f64>>> = BTreeMap::new();
    let mut explicit_total: HashSet<&str> = HashSet::new();
    for r in rows {
        let m = margins.entry(&r.locality_code).or_default();
        match &r.cell {
            None => {
                explicit_total.insert(&r.locality_code);
                m.entry("total")
                    .or_default()
                    .insert("all".into(), r.population);
            }
            Some((sex, age)) => {
                *m.entry("sex").or_default().entry(sex.clone()).or_default() += r.population;
                *m.entry("age_group")
                    .or_default()
                    .entry(age.clone())
                    .or_default() += r.population;
                m.entry("sex_age")
                    .or_default()
                    .insert(format!("{sex}|{age}"), r.population);
            }
        }
    }
    for (code, m) in margins.iter_mut() {
        if !explicit_total.contains(code) {
            let sum: f64 = m.get("sex").map(|s| s.values().sum()).unwrap_or(0.0);
            m.entry("total").or_default().insert("all".into(), sum);
        }
    }
    let mut new_rows = Vec::new();
    for (code, m) in &margins {
        for (variable, cats) in m {
            for (category, total) in cats {
                new_rows.push(population_margin::ActiveModel {
                    locality_code: Set((*code).to_owned()),
                    variable: Set((*variable).to_owned()),
                    category: Set(category.clone()),
                    total: Set(*total),
                    reference_year: Set(reference_year),
                    ..Default::default()
                });
            }
        }
    }
    let touched: Vec<String> = margins.keys().map(|c| (*c).to_owned()).collect();
    for chunk in touched.chunks(500) {
        population_margin::Entity::delete_many()
            .filter(population_margin::Column::LocalityCode.is_in(chunk.iter().cloned()))
            .filter(population_margin::Column::Variable.is_in(VARIABLES))
            .exec(db)
            .await?;
    }
    let written = new_rows.len();
    let mut batch = Vec::new();
    for row in new_rows {
        batch.push(row);
        if batch.len() == 500 {
            population_margin::Entity::insert_many(std::mem::take(&mut batch))
                .exec(db)
                .await?;
        }
    }
    if !batch.is_empty() {
        population_margin::Entity::insert_many(batch)
            .exec(db)
            .await?;
    }
    Ok(Ok(PopulationSummary {
        localities: touched.len(),
        margins: written,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn census_rows_parse_and_bad_ones_are_reported() {
        let rows = parse_census(
            b"locality_code,sex,age_group,population\n01,F,18-34,100\n01,M,18-34,90\n01,,,1000\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[2].cell, None);
        let p = parse_census(
            b"locality_code,sex,age_group,population\n01,F,18-34,x\n01,F,,5\n01,F,18-34,1\n01,F,18-34,2\n",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            p,
            "line 2, population: not a count: \"x\"; \
             line 3, age_group: give both sex and age_group, or neither for the total; \
             line 5, locality_code: duplicate cell (first on line 4)"
        );
    }
}
