//! Fieldwork outcomes of a sample draw, as staff record them: for each
//! selected unit, its attempts in order — which unit was tried (the unit
//! itself or one of its listed replacements) and the outcome
//! ([`Outcome`]). Nothing else is recorded: no names, contacts, dates or
//! times of day.
//!
//! The file is `code,attempt,used,outcome`: `code` the selected unit,
//! `attempt` 1, 2, … in the order the units were tried, `used` the unit
//! tried (empty: `code` itself), `outcome` a code of [`Outcome`] (or its
//! AAPOR number). The slot ends with its last attempt's outcome; a unit
//! that responded is not replaced afterwards.

use std::collections::HashMap;

use crate::domain::csv_rows::CsvRows;
use crate::domain::locality::{LineProblem, Problems};
use crate::domain::sampling::{Outcome, Status};

/// One attempt as read from the file.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRow {
    pub line: u64,
    /// The selected unit.
    pub code: String,
    pub attempt: u32,
    /// The unit tried (the selected unit itself when empty in the file).
    pub used: String,
    pub outcome: Outcome,
}

fn outcome_list() -> String {
    Outcome::ALL
        .iter()
        .map(|o| o.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads the attempts file; every problem with its line: missing code, an
/// attempt that is not a whole number ≥ 1, an unknown outcome, a repeated
/// attempt number or unit within a slot, attempts not numbered 1…k, a
/// respondent that is not the slot's last attempt.
pub fn parse_attempts(input: &[u8]) -> Result<Vec<AttemptRow>, Problems> {
    let mut file = CsvRows::open(input, &["code", "attempt", "outcome"])?;
    let mut out: Vec<AttemptRow> = Vec::new();
    let mut problems = Vec::new();
    while let Some(row) = file.next_row(&mut problems) {
        let line = row.line;
        let before = problems.len();
        let code = row.field("code").unwrap_or_default();
        if code.is_empty() {
            problems.push(LineProblem::new(line, "code", "missing"));
        }
        let text = row.field("attempt").unwrap_or_default();
        let attempt = text.trim().parse::<u32>().ok().filter(|a| *a >= 1);
        if attempt.is_none() {
            problems.push(LineProblem::new(
                line,
                "attempt",
                format!("not a whole number from 1: {text:?}"),
            ));
        }
        let text = row.field("outcome").unwrap_or_default();
        let outcome = Outcome::parse(&text);
        if outcome.is_none() {
            problems.push(LineProblem::new(
                line,
                "outcome",
                format!("unknown outcome {text:?} ({})", outcome_list()),
            ));
        }
        let used = row
            .field("used")
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| code.clone());
        if let (Some(attempt), Some(outcome), true) = (attempt, outcome, problems.len() == before) {
            out.push(AttemptRow {
                line,
                code,
                attempt,
                used: used.trim().to_owned(),
                outcome,
            });
        }
    }
    let mut slots: HashMap<&str, Vec<&AttemptRow>> = HashMap::new();
    for r in &out {
        slots.entry(&r.code).or_default().push(r);
    }
    for rows in slots.values_mut() {
        rows.sort_by_key(|r| (r.attempt, r.line));
        let mut seen: HashMap<&str, u64> = HashMap::new();
        for (k, r) in rows.iter().enumerate() {
            let expected = u32::try_from(k + 1).unwrap_or(u32::MAX);
            if r.attempt != expected {
                problems.push(LineProblem::new(
                    r.line,
                    "attempt",
                    format!(
                        "attempts of {} must be numbered 1, 2, … without gaps or repeats: {} where {expected} was expected",
                        r.code, r.attempt
                    ),
                ));
            }
            if let Some(first) = seen.insert(&r.used, r.line) {
                problems.push(LineProblem::new(
                    r.line,
                    "used",
                    format!("{} was already tried for {} (line {first})", r.used, r.code),
                ));
            }
            if r.outcome.status() == Status::Respondent && k + 1 < rows.len() {
                problems.push(LineProblem::new(
                    r.line,
                    "outcome",
                    format!(
                        "{} responded at attempt {}, so it is not replaced afterwards",
                        r.used, r.attempt
                    ),
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        problems.sort_by_key(|p| p.line);
        Err(Problems(problems))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn attempts_are_read_and_checked_line_by_line() {
        let ok = parse_attempts(
            b"code,attempt,used,outcome\nA,1,,refused\nA,2,R1,completed\nB,1,B,2.20\n",
        )
        .unwrap();
        assert_eq!(ok.len(), 3);
        assert_eq!(ok[0].used, "A");
        assert_eq!(ok[1].outcome, Outcome::Completed);
        assert_eq!(ok[2].outcome, Outcome::NonContact);
        let bad = parse_attempts(
            b"code,attempt,used,outcome\nA,1,,completed\nA,2,R1,refused\nB,0,,refused\nC,1,,maybe\nD,1,,refused\nD,3,,refused\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            bad.contains("line 2, outcome: A responded at attempt 1"),
            "{bad}"
        );
        assert!(bad.contains("line 4, attempt: not a whole number"), "{bad}");
        assert!(
            bad.contains("line 5, outcome: unknown outcome \"maybe\""),
            "{bad}"
        );
        assert!(bad.contains("line 7, attempt: attempts of D"), "{bad}");
        assert!(bad.contains("line 7, used: D was already tried"), "{bad}");
    }
}
