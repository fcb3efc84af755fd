//! The crosswalk from old administrative units (63 provinces, districts,
//! pre-2025 communes) to the units that replaced them, with the share of
//! each old unit's population that went to each new one.
//!
//! CSV: `old_code,new_code[,share]`. Shares of one old unit must sum to 1;
//! when none of its rows gives a share, the old unit is split equally.
//! Every new code must be a known locality (of any period). Re-importing an
//! old code replaces its links.
//!
//! Re-aggregation: a respondent of old unit o with weight w counts as
//! w · share(o → n) in each new unit n ([`split`]); units without links
//! map to themselves. Weighted totals and Hájek means per new unit then
//! compare across waves.

use std::collections::{BTreeMap, HashMap, HashSet};

use entity::locality_crosswalk;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::domain::csv_rows::CsvRows;
use crate::domain::locality::{LineProblem, Problems, is_code};

/// A link as read: line, old code, new code, share if given.
type RawLink = (u64, String, String, Option<f64>);

/// One link of a crosswalk file.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub line: u64,
    pub old_code: String,
    pub new_code: String,
    pub share: f64,
}

/// Parses and checks a crosswalk.
pub fn parse(input: &[u8]) -> Result<Vec<Link>, Problems> {
    let mut file = CsvRows::open(input, &["old_code", "new_code"])?;
    let mut problems = Vec::new();
    let mut raw: Vec<RawLink> = Vec::new();
    let mut seen: HashMap<(String, String), u64> = HashMap::new();
    while let Some(row) = file.next_row(&mut problems) {
        let line = row.line;
        let old = row.field("old_code").unwrap_or_default();
        let new = row.field("new_code").unwrap_or_default();
        if !is_code(&old) {
            problems.push(LineProblem::new(
                line,
                "old_code",
                format!("not a unit code: {old:?}"),
            ));
            continue;
        }
        if !is_code(&new) {
            problems.push(LineProblem::new(
                line,
                "new_code",
                format!("not a unit code: {new:?}"),
            ));
            continue;
        }
        let share = match row.field("share") {
            None => None,
            Some(t) => match t.parse::<f64>() {
                Ok(v) if v > 0.0 && v <= 1.0 => Some(v),
                _ => {
                    problems.push(LineProblem::new(
                        line,
                        "share",
                        format!("not a share in (0, 1]: {t:?}"),
                    ));
                    continue;
                }
            },
        };
        if let Some(first) = seen.insert((old.clone(), new.clone()), line) {
            problems.push(LineProblem::new(
                line,
                "new_code",
                format!("duplicate link {old} → {new} (first on line {first})"),
            ));
            continue;
        }
        raw.push((line, old, new, share));
    }
    let mut by_old: BTreeMap<&str, Vec<&RawLink>> = BTreeMap::new();
    for r in &raw {
        by_old.entry(&r.1).or_default().push(r);
    }
    let mut links = Vec::new();
    for (old, rows) in by_old {
        let given = rows.iter().filter(|r| r.3.is_some()).count();
        let first_line = rows.iter().map(|r| r.0).min().unwrap_or(0);
        if given != 0 && given != rows.len() {
            problems.push(LineProblem::new(
                first_line,
                "share",
                format!("give a share on every link of {old} or on none"),
            ));
            continue;
        }
        let sum: f64 = rows.iter().filter_map(|r| r.3).sum();
        if given > 0 && (sum - 1.0).abs() > 1e-6 {
            problems.push(LineProblem::new(
                first_line,
                "share",
                format!("the shares of {old} sum to {sum}, not 1"),
            ));
            continue;
        }
        for r in rows {
            links.push(Link {
                line: r.0,
                old_code: r.1.clone(),
                new_code: r.2.clone(),
                share: r.3.unwrap_or(0.0),
            });
        }
    }
    // Equal split where no share was given.
    let mut counts: HashMap<String, usize> = HashMap::new();
    for l in &links {
        *counts.entry(l.old_code.clone()).or_default() += 1;
    }
    let given: HashSet<String> = raw
        .iter()
        .filter(|r| r.3.is_some())
        .map(|r| r.1.clone())
        .collect();
    for l in &mut links {
        if !given.contains(&l.old_code) {
            l.share = 1.0 / counts[&l.old_code] as f64;
        }
    }
    if problems.is_empty() {
        links.sort_by_key(|l| l.line);
        Ok(links)
    } else {
        problems.sort_by_key(|p| p.line);
        Err(Problems(problems))
    }
}

/// Checks new codes against the localities and replaces the old codes'
/// links. Run inside a transaction.
pub async fn import(
    db: &impl ConnectionTrait,
    links: &[Link],
) -> Result<Result<usize, Problems>, DbErr> {
    let new_codes: Vec<String> = links
        .iter()
        .map(|l| l.new_code.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let known = super::localities::known_codes(db, &new_codes).await?;
    let unknown: Vec<LineProblem> = links
        .iter()
        .filter(|l| !known.contains(&l.new_code))
        .map(|l| {
            LineProblem::new(
                l.line,
                "new_code",
                format!("unknown locality {}", l.new_code),
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Ok(Err(Problems(unknown)));
    }
    let old: Vec<String> = links
        .iter()
        .map(|l| l.old_code.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    for chunk in old.chunks(500) {
        locality_crosswalk::Entity::delete_many()
            .filter(locality_crosswalk::Column::OldCode.is_in(chunk.iter().cloned()))
            .exec(db)
            .await?;
    }
    let rows: Vec<locality_crosswalk::ActiveModel> = links
        .iter()
        .map(|l| locality_crosswalk::ActiveModel {
            old_code: Set(l.old_code.clone()),
            new_code: Set(l.new_code.clone()),
            share: Set(l.share),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(500) {
        locality_crosswalk::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    Ok(Ok(links.len()))
}

/// The crosswalk as a map old code → [(new code, share)].
pub async fn load(db: &impl ConnectionTrait) -> Result<HashMap<String, Vec<(String, f64)>>, DbErr> {
    let mut out: HashMap<String, Vec<(String, f64)>> = HashMap::new();
    for l in locality_crosswalk::Entity::find().all(db).await? {
        out.entry(l.old_code)
            .or_default()
            .push((l.new_code, l.share));
    }
    Ok(out)
}

/// A weight of old unit `code` split across the units that replaced it.
pub fn split(
    crosswalk: &HashMap<String, Vec<(String, f64)>>,
    code: &str,
    weight: f64,
) -> Vec<(String, f64)> {
    match crosswalk.get(code) {
        Some(links) => links.iter().map(|(n, s)| (n.clone(), weight * s)).collect(),
        None => vec![(code.to_owned(), weight)],
    }
}

/// Where a response of unit `code` counts today: follows the crosswalk
/// (over several reforms if need be) until units valid in `hierarchy`, then
/// climbs to their ancestors at `level`; the shares multiply and the
/// weights of one target are summed. A unit that is neither valid nor
/// linked maps to nothing (it cannot be placed).
pub fn to_level(
    crosswalk: &HashMap<String, Vec<(String, f64)>>,
    hierarchy: &crate::services::locality_lists::Hierarchy,
    code: &str,
    level: &str,
) -> Vec<(String, f64)> {
    let mut out: BTreeMap<String, f64> = BTreeMap::new();
    let mut frontier = vec![(code.to_owned(), 1.0)];
    // Each hop crosses one reform; a crosswalk with a cycle stops here.
    for _ in 0..16 {
        let mut next = Vec::new();
        for (c, share) in frontier {
            if hierarchy.units.contains_key(&c) {
                if let Some(a) = hierarchy.ancestor_at(&c, level) {
                    *out.entry(a.code.clone()).or_default() += share;
                }
            } else if let Some(links) = crosswalk.get(&c) {
                next.extend(links.iter().map(|(n, s)| (n.clone(), share * s)));
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn shares_default_to_an_equal_split_and_must_sum_to_one() {
        let links = parse(
            b"old_code,new_code,share\n001,01,\n002,01,0.25\n002,02,0.75\n003,02,\n003,03,\n",
        )
        .unwrap();
        let shares: Vec<(&str, &str, f64)> = links
            .iter()
            .map(|l| (l.old_code.as_str(), l.new_code.as_str(), l.share))
            .collect();
        assert_eq!(
            shares,
            vec![
                ("001", "01", 1.0),
                ("002", "01", 0.25),
                ("002", "02", 0.75),
                ("003", "02", 0.5),
                ("003", "03", 0.5)
            ]
        );
        let err = parse(b"old_code,new_code,share\n002,01,0.5\n002,02,0.25\n004,01,0.5\n004,02,\n005,01,2\n005,01,1\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "line 2, share: the shares of 002 sum to 0.75, not 1; \
             line 4, share: give a share on every link of 004 or on none; \
             line 6, share: not a share in (0, 1]: \"2\""
        );
    }

    #[test]
    fn a_weight_is_split_by_the_shares() {
        let links = parse(b"old_code,new_code,share\n002,01,0.25\n002,02,0.75\n").unwrap();
        let mut map: HashMap<String, Vec<(String, f64)>> = HashMap::new();
        for l in links {
            map.entry(l.old_code)
                .or_default()
                .push((l.new_code, l.share));
        }
        assert_eq!(
            split(&map, "002", 8.0),
            vec![("01".to_owned(), 2.0), ("02".to_owned(), 6.0)]
        );
        assert_eq!(split(&map, "09", 3.0), vec![("09".to_owned(), 3.0)]);
    }

    #[test]
    fn old_units_reach_todays_provinces_through_several_reforms() {
        use crate::services::locality_lists::Hierarchy;
        use chrono::NaiveDate;
        let day = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
        let unit = |code: &str, level: &str, parent: Option<&str>| entity::locality::Model {
            id: 0,
            code: code.into(),
            level: level.into(),
            parent_code: parent.map(Into::into),
            name_vi: code.into(),
            name_en: code.into(),
            full_name_vi: None,
            full_name_en: None,
            unit_type_vi: None,
            unit_type_en: None,
            valid_from: day,
            valid_to: None,
        };
        let mut h = Hierarchy::default();
        for u in [
            unit("01", "province", None),
            unit("02", "province", None),
            unit("00010", "commune", Some("01")),
            unit("00020", "commune", Some("02")),
        ] {
            h.units.insert(u.code.clone(), u);
        }
        // 2008 district 269 → 2019 communes A (0.5) and B (0.5); A → 00010,
        // B split 00010 (0.2) and 00020 (0.8).
        let mut cw: HashMap<String, Vec<(String, f64)>> = HashMap::new();
        cw.insert("269".into(), vec![("A".into(), 0.5), ("B".into(), 0.5)]);
        cw.insert("A".into(), vec![("00010".into(), 1.0)]);
        cw.insert(
            "B".into(),
            vec![("00010".into(), 0.2), ("00020".into(), 0.8)],
        );
        let r = to_level(&cw, &h, "269", "province");
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].0, "01");
        assert!((r[0].1 - 0.6).abs() < 1e-12);
        assert!((r[1].1 - 0.4).abs() < 1e-12);
        assert_eq!(
            to_level(&cw, &h, "00020", "province"),
            vec![("02".into(), 1.0)]
        );
        assert!(to_level(&cw, &h, "nowhere", "province").is_empty());
    }
}
