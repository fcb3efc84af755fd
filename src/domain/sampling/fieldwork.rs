//! What happened at each selected unit in the field (AAPOR outcome codes) and the
//! nonresponse adjustment of the weights within strata.

use super::*;

/// The final disposition of a fieldwork attempt at a unit, after AAPOR's
/// Standard Definitions (final disposition codes in brackets). Nothing
/// else is recorded about an attempt: no names, contacts, dates or times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Interviews completed (1.1).
    Completed,
    /// Interviews partly completed (1.2): a respondent.
    Partial,
    /// Refused or broke off (2.10).
    Refused,
    /// Not contacted (2.20).
    NonContact,
    /// Other eligible nonresponse (2.30).
    Other,
    /// Eligibility unknown (3.0); counted as eligible (e = 1).
    Unknown,
    /// Not eligible (4.0): out of the population (e.g. the unit no longer
    /// exists or has no residents).
    Ineligible,
}

/// What an outcome makes of its slot for weighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Respondent,
    Nonrespondent,
    Ineligible,
}

impl Outcome {
    pub const ALL: [Outcome; 7] = [
        Outcome::Completed,
        Outcome::Partial,
        Outcome::Refused,
        Outcome::NonContact,
        Outcome::Other,
        Outcome::Unknown,
        Outcome::Ineligible,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Partial => "partial",
            Outcome::Refused => "refused",
            Outcome::NonContact => "non_contact",
            Outcome::Other => "other",
            Outcome::Unknown => "unknown",
            Outcome::Ineligible => "ineligible",
        }
    }

    /// AAPOR's final disposition code.
    pub fn aapor(self) -> &'static str {
        match self {
            Outcome::Completed => "1.1",
            Outcome::Partial => "1.2",
            Outcome::Refused => "2.10",
            Outcome::NonContact => "2.20",
            Outcome::Other => "2.30",
            Outcome::Unknown => "3.0",
            Outcome::Ineligible => "4.0",
        }
    }

    /// The outcome named by its code or its AAPOR code.
    pub fn parse(text: &str) -> Option<Outcome> {
        let t = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == t || o.aapor() == t)
    }

    pub fn status(self) -> Status {
        match self {
            Outcome::Completed | Outcome::Partial => Status::Respondent,
            Outcome::Ineligible => Status::Ineligible,
            _ => Status::Nonrespondent,
        }
    }
}

/// A selected unit's place in the nonresponse adjustment.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    /// Weighting class (the frame stratum).
    pub class: String,
    /// Base weight of its respondents.
    pub weight: f64,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AdjustError {
    #[error(
        "stratum {0}: no responding unit to carry the weight of its eligible units (record more outcomes)"
    )]
    NoRespondent(String),
}

/// Weighting-class nonresponse adjustment: within each class c,
/// w'_k = w_k · Σ_{eligible k ∈ c} w / Σ_{respondents k ∈ c} w for a
/// respondent k, and 0 for a nonrespondent or an ineligible unit
/// (eligible = respondents and nonrespondents). So Σ_{respondents ∈ c} w'
/// = Σ_{eligible ∈ c} w. A class of ineligible units only adds nothing; a
/// class with eligible units but no respondent is an error naming it.
pub fn adjust_for_nonresponse(slots: &[Slot]) -> Result<Vec<f64>, AdjustError> {
    let mut sums: HashMap<&str, (f64, f64)> = HashMap::new();
    for s in slots {
        let e = sums.entry(&s.class).or_default();
        match s.status {
            Status::Respondent => {
                e.0 += s.weight;
                e.1 += s.weight;
            }
            Status::Nonrespondent => e.0 += s.weight,
            Status::Ineligible => {}
        }
    }
    let mut classes: Vec<(&str, &(f64, f64))> = sums.iter().map(|(k, v)| (*k, v)).collect();
    classes.sort_by(|a, b| a.0.cmp(b.0));
    if let Some((c, _)) = classes.iter().find(|(_, (e, r))| *e > 0.0 && *r <= 0.0) {
        return Err(AdjustError::NoRespondent((*c).to_owned()));
    }
    Ok(slots
        .iter()
        .map(|s| match (s.status, sums.get(s.class.as_str())) {
            (Status::Respondent, Some((e, r))) => s.weight * e / r,
            _ => 0.0,
        })
        .collect())
}
