//! A list of administrative units as published (CSV with `code`, `level`,
//! `parent_code`, `name_vi`, `name_en`, and optionally `full_name_vi`,
//! `full_name_en`, `unit_type_vi`, `unit_type_en`), parsed and checked as a
//! whole: every problem is reported with its line number, and a list with
//! any problem is refused.

use std::collections::HashMap;
use std::io::Read;

use super::csv_rows::CsvRows;

/// Levels of the hierarchy, from the top. Since 1 July 2025 Vietnam uses
/// only `province` and `commune`; older lists also have `district`; a
/// campaign may go down to `village`.
pub const LEVELS: [&str; 4] = ["province", "district", "commune", "village"];

/// Vietnam's national list of provinces and communes after the 2025 reform, embedded (source,
/// licence and attribution: `reference/localities/README.md`).
pub const NATIONAL_2025: &str = include_str!("../../reference/localities/vn-2025.csv");

/// The day the 2025 list came into force (Resolution 202/2025/QH15): the default date of
/// an import of [`NATIONAL_2025`].
pub fn national_2025_from() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2025, 7, 1).unwrap_or_default()
}

/// Rank of a level (0 = province), if it is one.
pub fn level_rank(level: &str) -> Option<usize> {
    LEVELS.iter().position(|l| *l == level)
}

/// One unit of a list, with the CSV line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRow {
    pub line: u64,
    pub code: String,
    pub level: String,
    pub parent_code: Option<String>,
    pub name_vi: String,
    pub name_en: String,
    pub full_name_vi: Option<String>,
    pub full_name_en: Option<String>,
    pub unit_type_vi: Option<String>,
    pub unit_type_en: Option<String>,
}

pub use super::csv_rows::{LineProblem, Problems};

/// Whether `code` looks like a unit code: 1–20 ASCII letters, digits, `-` or `_`.
pub fn is_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 20
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Parses and checks a whole list: codes unique, levels known, names
/// present, every parent in the list and above its child, no cycles.
/// `name_en` falls back to `name_vi` when empty.
pub fn parse_list<R: Read>(input: R) -> Result<Vec<UnitRow>, Problems> {
    let mut file = CsvRows::open(input, &["code", "level", "parent_code", "name_vi"])?;
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    while let Some(row) = file.next_row(&mut problems) {
        let line = row.line;
        let code = row.field("code").unwrap_or_default();
        if !is_code(&code) {
            problems.push(LineProblem::new(
                line,
                "code",
                format!("not a unit code: {code:?}"),
            ));
            continue;
        }
        let level = row.field("level").unwrap_or_default();
        if level_rank(&level).is_none() {
            problems.push(LineProblem::new(
                line,
                "level",
                format!(
                    "unknown level {level:?} (expected one of {})",
                    LEVELS.join(", ")
                ),
            ));
        }
        let Some(name_vi) = row.field("name_vi") else {
            problems.push(LineProblem::new(line, "name_vi", "name missing"));
            continue;
        };
        rows.push(UnitRow {
            line,
            code,
            level,
            parent_code: row.field("parent_code"),
            name_en: row.field("name_en").unwrap_or_else(|| name_vi.clone()),
            name_vi,
            full_name_vi: row.field("full_name_vi"),
            full_name_en: row.field("full_name_en"),
            unit_type_vi: row.field("unit_type_vi"),
            unit_type_en: row.field("unit_type_en"),
        });
    }
    check_tree(&rows, &mut problems);
    if rows.is_empty() && problems.is_empty() {
        problems.push(LineProblem::new(0, "file", "the list has no units"));
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        problems.sort_by_key(|p| p.line);
        Err(Problems(problems))
    }
}

/// Duplicate codes, unknown parents, parents at the wrong level, cycles.
fn check_tree(rows: &[UnitRow], problems: &mut Vec<LineProblem>) {
    let mut by_code: HashMap<&str, &UnitRow> = HashMap::new();
    for row in rows {
        if let Some(first) = by_code.get(row.code.as_str()) {
            problems.push(LineProblem::new(
                row.line,
                "code",
                format!("duplicate code {} (first on line {})", row.code, first.line),
            ));
        } else {
            by_code.insert(&row.code, row);
        }
    }
    // Cycles: follow parents from each unit; a unit met twice on one walk
    // closes a cycle, reported once on its first line.
    let mut in_cycle: HashMap<&str, bool> = HashMap::new();
    for row in rows {
        if in_cycle.contains_key(row.code.as_str()) {
            continue;
        }
        let mut path: Vec<&str> = vec![&row.code];
        let mut current = row;
        while let Some(parent) = current.parent_code.as_deref() {
            let Some(next) = by_code.get(parent) else {
                break;
            };
            if let Some(start) = path.iter().position(|c| *c == parent) {
                let cycle = &path[start..];
                let first_line = cycle
                    .iter()
                    .filter_map(|c| by_code.get(c).map(|r| r.line))
                    .min()
                    .unwrap_or(row.line);
                if !cycle
                    .iter()
                    .any(|c| in_cycle.get(c).copied().unwrap_or(false))
                {
                    let mut members: Vec<&str> = cycle.to_vec();
                    members.push(parent);
                    problems.push(LineProblem::new(
                        first_line,
                        "parent_code",
                        format!("cycle of parents: {}", members.join(" → ")),
                    ));
                }
                for c in cycle {
                    in_cycle.insert(c, true);
                }
                break;
            }
            if in_cycle.contains_key(parent) {
                break;
            }
            path.push(parent);
            current = next;
        }
        for c in path {
            in_cycle.entry(c).or_insert(false);
        }
    }
    for row in rows {
        let rank = level_rank(&row.level);
        match (row.parent_code.as_deref(), rank) {
            (None, Some(0)) | (None, None) => {}
            (None, Some(_)) => problems.push(LineProblem::new(
                row.line,
                "parent_code",
                format!("a {} needs a parent", row.level),
            )),
            (Some(parent), _) => match by_code.get(parent) {
                None => problems.push(LineProblem::new(
                    row.line,
                    "parent_code",
                    format!("unknown parent {parent}"),
                )),
                Some(p) => {
                    let cyclic = in_cycle.get(row.code.as_str()).copied().unwrap_or(false);
                    let parent_rank = level_rank(&p.level);
                    if !cyclic
                        && let (Some(r), Some(pr)) = (rank, parent_rank)
                        && pr >= r
                    {
                        problems.push(LineProblem::new(
                            row.line,
                            "parent_code",
                            format!(
                                "parent {parent} is a {}, not above a {}",
                                p.level, row.level
                            ),
                        ));
                    }
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const HEAD: &str = "code,level,parent_code,name_vi,name_en\n";

    fn problems(body: &str) -> Vec<String> {
        parse_list(format!("{HEAD}{body}").as_bytes())
            .unwrap_err()
            .0
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_good_list_parses_with_line_numbers() {
        let rows = parse_list(
            format!("# comment\n{HEAD}01,province,,Hà Nội,Hanoi\n00004,commune,01,Ba Đình,\n")
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 3);
        assert_eq!(rows[1].line, 4);
        assert_eq!(rows[1].name_en, "Ba Đình");
        assert_eq!(rows[1].parent_code.as_deref(), Some("01"));
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let p = problems(
            "01,province,,Hà Nội,Hanoi\n\
             00004,commune,99,Ba Đình,Ba Dinh\n\
             00004,commune,01,Again,Again\n\
             00008,hamlet,01,X,X\n\
             00010,commune,01,,Y\n",
        );
        assert_eq!(
            p,
            vec![
                "line 3, parent_code: unknown parent 99",
                "line 4, code: duplicate code 00004 (first on line 3)",
                "line 5, level: unknown level \"hamlet\" (expected one of province, district, commune, village)",
                "line 6, name_vi: name missing",
            ]
        );
    }

    #[test]
    fn a_cycle_is_reported_once() {
        let p = problems(
            "01,province,,A,A\n\
             100,district,300,B,B\n\
             200,district,100,C,C\n\
             300,district,200,D,D\n",
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("line 3, parent_code: cycle of parents"),
            "{p:?}"
        );
    }

    #[test]
    fn a_parent_must_be_above_its_child() {
        let p = problems("01,province,,A,A\n00004,commune,01,B,B\n00008,commune,00004,C,C\n");
        assert_eq!(
            p,
            vec!["line 4, parent_code: parent 00004 is a commune, not above a commune"]
        );
        let p = problems("00004,commune,,B,B\n");
        assert_eq!(p, vec!["line 2, parent_code: a commune needs a parent"]);
    }

    #[test]
    fn a_missing_column_is_reported() {
        let p = parse_list("code,level,name_vi\n01,province,A\n".as_bytes()).unwrap_err();
        assert_eq!(
            p.to_string(),
            "line 1, parent_code: column missing from the header"
        );
    }
}
