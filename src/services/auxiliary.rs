//! Area-level auxiliary data: covariates of the small-area model
//! ([`crate::services::results::small_area`]) that the population frames do not hold, e.g. a
//! census share, an urbanity index, an administrative count.
//!
//! CSV: `code,var1,var2,…` — one row per locality, one column per variable, every value a
//! finite number (an empty cell leaves that variable unknown for the locality). A variable is
//! named by its header: letters, digits and `_`. Re-importing a locality replaces the values
//! of the variables the file names. The whole file is checked (each problem with its line and
//! column) before anything is stored, and stored in one transaction.

use std::collections::{BTreeMap, HashMap, HashSet};

use entity::area_auxiliary;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::domain::locality::{LineProblem, Problems};

/// One value of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct AuxiliaryValue {
    pub line: u64,
    pub locality_code: String,
    pub variable: String,
    pub value: f64,
}

/// A parsed file: its variables (in header order) and values.
#[derive(Debug, Clone, PartialEq)]
pub struct AuxiliaryFile {
    pub variables: Vec<String>,
    pub values: Vec<AuxiliaryValue>,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
}

/// Parses an auxiliary file; every problem with its line and column.
pub fn parse(input: &[u8]) -> Result<AuxiliaryFile, Problems> {
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(input);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| Problems(vec![LineProblem::new(1, "header", e.to_string())]))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_owned())
        .collect();
    let mut problems = Vec::new();
    if headers.first().map(String::as_str) != Some("code") {
        problems.push(LineProblem::new(
            1,
            "code",
            "the first column must be `code`",
        ));
    }
    let variables: Vec<String> = headers.iter().skip(1).cloned().collect();
    if variables.is_empty() {
        problems.push(LineProblem::new(1, "header", "no variable columns"));
    }
    let mut seen_vars = HashSet::new();
    for v in &variables {
        if !valid_name(v) {
            problems.push(LineProblem::new(
                1,
                v,
                "a variable name must start with a letter and hold only letters, digits and _",
            ));
        } else if !seen_vars.insert(v.clone()) {
            problems.push(LineProblem::new(1, v, "this column is named twice"));
        }
    }
    if !problems.is_empty() {
        return Err(Problems(problems));
    }
    let mut values = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(LineProblem::new(line, "row", e.to_string()));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.len() > headers.len() {
            problems.push(LineProblem::new(
                line,
                "row",
                format!("{} fields but {} columns", record.len(), headers.len()),
            ));
            continue;
        }
        let Some(code) = record.get(0).filter(|c| !c.is_empty()) else {
            problems.push(LineProblem::new(line, "code", "missing"));
            continue;
        };
        if let Some(first) = seen.insert(code.to_owned(), line) {
            problems.push(LineProblem::new(
                line,
                "code",
                format!("{code} is already on line {first}"),
            ));
            continue;
        }
        for (k, variable) in variables.iter().enumerate() {
            let text = record.get(k + 1).unwrap_or_default();
            if text.is_empty() {
                continue;
            }
            match text.parse::<f64>().ok().filter(|v| v.is_finite()) {
                Some(value) => values.push(AuxiliaryValue {
                    line,
                    locality_code: code.to_owned(),
                    variable: variable.clone(),
                    value,
                }),
                None => problems.push(LineProblem::new(
                    line,
                    variable,
                    format!("not a number: {text:?}"),
                )),
            }
        }
    }
    if problems.is_empty() {
        Ok(AuxiliaryFile { variables, values })
    } else {
        Err(Problems(problems))
    }
}

/// What an import wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuxiliarySummary {
    pub localities: usize,
    pub values: usize,
}

/// Checks that every locality exists (in any period), then replaces the file's variables of
/// its localities. Run inside a transaction: on a problem nothing is written.
pub async fn import(
    db: &impl ConnectionTrait,
    file: &AuxiliaryFile,
) -> Result<Result<AuxiliarySummary, Problems>, DbErr> {
    let codes: Vec<String> = file
        .values
        .iter()
        .map(|v| v.locality_code.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let known = super::localities::known_codes(db, &codes).await?;
    let mut unknown: BTreeMap<u64, LineProblem> = BTreeMap::new();
    for v in file
        .values
        .iter()
        .filter(|v| !known.contains(&v.locality_code))
    {
        unknown.entry(v.line).or_insert_with(|| {
            LineProblem::new(
                v.line,
                "code",
                format!("unknown locality {}", v.locality_code),
            )
        });
    }
    if !unknown.is_empty() {
        return Ok(Err(Problems(unknown.into_values().collect())));
    }
    for chunk in codes.chunks(500) {
        area_auxiliary::Entity::delete_many()
            .filter(area_auxiliary::Column::LocalityCode.is_in(chunk.iter().cloned()))
            .filter(area_auxiliary::Column::Variable.is_in(file.variables.iter().cloned()))
            .exec(db)
            .await?;
    }
    let rows: Vec<area_auxiliary::ActiveModel> = file
        .values
        .iter()
        .map(|v| area_auxiliary::ActiveModel {
            locality_code: Set(v.locality_code.clone()),
            variable: Set(v.variable.clone()),
            value: Set(v.value),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(500) {
        area_auxiliary::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    Ok(Ok(AuxiliarySummary {
        localities: codes.len(),
        values: rows.len(),
    }))
}

/// Every stored value: locality → variable → value.
pub async fn all(
    db: &impl ConnectionTrait,
) -> Result<BTreeMap<String, BTreeMap<String, f64>>, DbErr> {
    let mut out: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for m in area_auxiliary::Entity::find().all(db).await? {
        out.entry(m.locality_code)
            .or_default()
            .insert(m.variable, m.value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_file_parses_into_values_by_locality_and_variable() {
        let f = parse(b"code,urban,internet\n00004,1,0.8\n00007,,0.5\n").unwrap();
        assert_eq!(f.variables, ["urban", "internet"]);
        assert_eq!(f.values.len(), 3);
        assert_eq!(f.values[2].locality_code, "00007");
        assert_eq!(f.values[2].line, 3);
    }

    #[test]
    fn bad_values_are_named_by_line_and_column() {
        let e = parse(b"code,urban,internet\n00004,1,0.8\n00007,x,0.5\n00004,0,0\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3, urban: not a number"), "{e}");
        assert!(
            e.contains("line 4, code: 00004 is already on line 2"),
            "{e}"
        );
        let e = parse(b"locality,urban\n1,2\n").unwrap_err().to_string();
        assert!(e.contains("line 1, code"), "{e}");
        let e = parse(b"code,bad name\n1,2\n").unwrap_err().to_string();
        assert!(e.contains("line 1, bad name"), "{e}");
    }
}
