//! Drawing clusters (communes, villages, desks) with probability
//! proportional to size, systematically, from a recorded seed, in one or two
//! stages.
//!
//! # First stage
//! Within a stratum of units with sizes M_i, drawing n:
//! 1. certainty units: while some unit has n·M_i/ΣM ≥ 1 it is taken with
//!    π_i = 1, removed, and n reduced by one (repeat on the rest, so a unit
//!    that becomes certain once larger ones are removed is certain too);
//! 2. the others get π_i = n'·M_i/ΣM' (< 1) and are drawn by systematic
//!    PPS in frame order (by code): a random start u ~ U[0, 1) and the unit
//!    whose cumulated π interval (C_{i−1}, C_i] holds u + k, k = 0…n'−1.
//!    Each unit is drawn with probability exactly π_i (Madow 1949; Cochran
//!    §9A.7; R `sampling::UPsystematic`).
//!
//! # Second stage (optional)
//! Within each drawn unit i, m second-stage units j (villages, desks) of
//! sizes M_ij are drawn either by the same PPS rule (certainty units
//! included: π_j|i = 1 when m·M_ij/ΣM_i· ≥ 1, iterated) or by simple random
//! sampling without replacement (π_j|i = m/N_i; Knuth's selection sampling,
//! Algorithm S). A unit with no more than m second-stage units takes them
//! all (π_j|i = 1). The combined inclusion probability is π_ij = π_i·π_j|i.
//!
//! # Design fields
//! A certainty unit is not sampled: it is a stratum of its own
//! (self-representing), labelled `<stratum>/<code>`, whose PSUs are the next
//! stage's units — its drawn second-stage units, or its respondents
//! themselves when there is no second stage (no cluster). A certainty
//! second-stage unit inside a certainty first-stage unit is likewise a
//! stratum of its own (`<stratum>/<code>/<unit>`) whose respondents are the
//! PSUs. Every other unit's respondents belong to the first-stage stratum
//! with the first-stage unit as their cluster (ultimate cluster).
//!
//! The base weight of a respondent is 1/π of the last-stage unit, times
//! M/m when m respondents are planned in a unit of size M (the respondents
//! being a simple random sample of its M people, π = m/M, capped at 1):
//! w = M / (π·m). With PPS at every stage and a fixed take this makes the
//! sample self-weighting within a stratum.
//!
//! # Purposive (self-representing) units
//! Units named by the user are always taken, as PAPI takes the provincial
//! capital district, the commune of the district seat and the village of the
//! commune seat. A purposive first-stage unit p of stratum h has π_p = 1 and
//! is a stratum of its own, labelled `<h>#take:<p>`; the other n_h − P_h
//! units of h (P_h purposive units) are drawn by PPS among the units of h
//! that are not purposive (certainty units included as above):
//! π_i = (n_h − P_h − C_h)·M_i / Σ_{h∖(P∪C)} M (C_h certainty units).
//! A purposive second-stage unit j of a drawn unit i (`--purposive` code or
//! `seat` = 1 in the second-stage frame) has π_j|i = 1, and the other
//! m − P_i units of i are drawn among the rest; inside a certain first-stage
//! unit it is a stratum of its own (`<h>#take:<p>#take:<j>`, or
//! `<h>/<i>#take:<j>` under a certainty unit). Its respondents' weight then
//! comes from the later stages only: w = M/m (one stage) or
//! M_j/(π_j|i·m). Because the stratum is its own, it contributes no
//! first-stage variance (R `survey`: a stratum with fpc = 1, or
//! `options(survey.lonely.psu = "certainty")` when it has one PSU).
//!
//! # Replacement lists
//! With K replacements, every non-certain last-stage unit gets an ordered
//! list of up to K substitutes from the same group (the frame stratum in a
//! one-stage draw, the drawn first-stage unit in a two-stage draw), drawn
//! after the sample: the group's unselected units of positive size are put
//! in a successive-PPS order (each next unit drawn with probability
//! proportional to size among those left; Hájek's successive sampling) by a
//! ChaCha8 generator keyed by SHA-256("hailong/replacements", seed, group),
//! and dealt in turn: the t-th unit of the order (t = 0, 1, …) goes to the
//! (t mod k)-th of the group's k units needing replacements, as its
//! replacement number ⌊t/k⌋ + 1. The lists are disjoint from the sample and
//! from each other, and asking for them does not change the sample. A group
//! with fewer than k·K units left gives shorter lists. Certainty and
//! purposive units get none: they are strata of their own, which no other
//! unit can stand for. A replacement used in the field takes its unit's
//! place (substitution): same design stratum, cluster and base weight.
//!
//! # Nonresponse adjustment
//! Each selected last-stage unit (a *slot*) ends with the outcome of its
//! last attempt ([`Outcome`]): a respondent (completed, partial), an
//! eligible nonrespondent (refused, non-contact, other, unknown
//! eligibility — counted as eligible, AAPOR's e = 1) or ineligible. Within
//! each weighting class c (the frame stratum) the respondents' weights are
//! multiplied by A_c = Σ_{eligible slots of c} w / Σ_{respondent slots of c} w
//! (Kalton & Flores-Cervantes 2003, weighting-class adjustment); the others
//! get 0. So Σ_{respondents} w' = Σ_{eligible} w: the weights still sum to
//! the frame total of each stratum, less the estimated size of its
//! ineligible units. See [`adjust_for_nonresponse`].
//!
//! Randomness: one ChaCha8 generator seeded with the draw's seed, used for
//! the strata in code order; the second stage within unit i uses its own
//! ChaCha8 generator keyed by SHA-256("hailong/stage-2", seed, code of i),
//! so a draw is reproduced from its seed and frames, and one unit's
//! second-stage draw does not depend on which other units were drawn.

use std::collections::{HashMap, HashSet};

use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use crate::domain::csv_rows::CsvRows;
use crate::domain::locality::{LineProblem, Problems, is_code};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DrawError {
    #[error("stratum {stratum}: {wanted} units wanted but only {available} have a positive size")]
    TooFewUnits {
        stratum: String,
        wanted: usize,
        available: usize,
    },
    #[error("unit {0} has no measure of size")]
    NoSize(String),
    #[error("unit {0} was drawn but the second-stage frame has no units in it")]
    NoSubUnits(String),
    #[error("--per-unit must be at least 1")]
    NoPerUnit,
    #[error(
        "--purposive: {within} has {purposive} purposive units but only {wanted} are to be drawn there"
    )]
    TooManyPurposive {
        within: String,
        purposive: usize,
        wanted: usize,
    },
}

/// A unit of the frame.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameUnit {
    pub code: String,
    pub stratum: String,
    pub size: Option<f64>,
}

/// A drawn unit.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Drawn {
    pub code: String,
    pub stratum: String,
    pub size: f64,
    /// Inclusion probability π_i.
    pub probability: f64,
    pub certainty: bool,
    /// Named by the user (always taken; `certainty` is then true too).
    pub purposive: bool,
}

impl Drawn {
    /// 1/π_i.
    pub fn base_weight(&self) -> f64 {
        1.0 / self.probability
    }
}

/// Inclusion probabilities of drawing `n` of units with `sizes` by PPS,
/// with certainty units; `true` marks a certainty unit.
pub fn inclusion_probabilities(sizes: &[f64], n: usize) -> Vec<(f64, bool)> {
    let mut out: Vec<(f64, bool)> = vec![(0.0, false); sizes.len()];
    let mut rest: Vec<usize> = (0..sizes.len()).filter(|i| sizes[*i] > 0.0).collect();
    let mut left = n.min(rest.len());
    loop {
        let total: f64 = rest.iter().map(|i| sizes[*i]).sum();
        let certain: Vec<usize> = rest
            .iter()
            .copied()
            .filter(|i| left as f64 * sizes[*i] / total >= 1.0)
            .collect();
        if certain.is_empty() || left == 0 {
            for i in &rest {
                out[*i] = (left as f64 * sizes[*i] / total, false);
            }
            return out;
        }
        // Take the largest first: removing it may lower the others' share.
        let Some(&biggest) = certain
            .iter()
            .max_by(|a, b| sizes[**a].total_cmp(&sizes[**b]).then(b.cmp(a)))
        else {
            return out;
        };
        out[biggest] = (1.0, true);
        rest.retain(|i| *i != biggest);
        left -= 1;
    }
}

/// Systematic PPS of units with probabilities `pi` (each ≤ 1, summing to
/// an integer) in the given order: the indices drawn.
pub fn systematic(pi: &[f64], rng: &mut impl Rng) -> Vec<usize> {
    let total: f64 = pi.iter().sum();
    let n = total.round() as usize;
    if n == 0 {
        return vec![];
    }
    let start: f64 = rng.random::<f64>();
    let mut out = Vec::with_capacity(n);
    let mut cumulated = 0.0;
    let mut k = 0usize;
    let last = pi.iter().rposition(|p| *p > 0.0).unwrap_or(0);
    for (i, p) in pi.iter().enumerate() {
        cumulated += p;
        // Float sums can fall short of n by an ulp: the last unit closes it.
        let upper = if i == last { f64::INFINITY } else { cumulated };
        while k < n && start + (k as f64) < upper && *p > 0.0 {
            out.push(i);
            k += 1;
        }
    }
    out.dedup();
    out
}

/// Draws `wanted(stratum)` units in each stratum of `frame`, from `seed`.
pub fn draw(
    frame: &[FrameUnit],
    wanted: impl Fn(&str) -> usize,
    seed: u64,
) -> Result<Vec<Drawn>, DrawError> {
    draw_first(frame, wanted, seed, &HashSet::new())
}

/// Draws `wanted(stratum)` units in each stratum of `frame`, from `seed`,
/// the units whose codes are in `purposive` always (π = 1) and counted in
/// their stratum's `wanted`.
pub fn draw_first(
    frame: &[FrameUnit],
    wanted: impl Fn(&str) -> usize,
    seed: u64,
    purposive: &HashSet<String>,
) -> Result<Vec<Drawn>, DrawError> {
    if let Some(u) = frame.iter().find(|u| u.size.is_none()) {
        return Err(DrawError::NoSize(u.code.clone()));
    }
    let mut units: Vec<&FrameUnit> = frame.iter().collect();
    units.sort_by(|a, b| a.stratum.cmp(&b.stratum).then(a.code.cmp(&b.code)));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    for group in units.chunk_by(|a, b| a.stratum == b.stratum) {
        let stratum = &group[0].stratum;
        let n = wanted(stratum);
        let taken: Vec<bool> = group.iter().map(|u| purposive.contains(&u.code)).collect();
        let n_taken = taken.iter().filter(|t| **t).count();
        if n_taken > n {
            return Err(DrawError::TooManyPurposive {
                within: format!("stratum {stratum}"),
                purposive: n_taken,
                wanted: n,
            });
        }
        let n = n - n_taken;
        // Purposive units are out of the PPS draw (size 0 there).
        let sizes: Vec<f64> = group
            .iter()
            .zip(&taken)
            .map(|(u, t)| if *t { 0.0 } else { u.size.unwrap_or(0.0) })
            .collect();
        let available = sizes.iter().filter(|s| **s > 0.0).count();
        if n > available {
            return Err(DrawError::TooFewUnits {
                stratum: stratum.clone(),
                wanted: n + n_taken,
                available: available + n_taken,
            });
        }
        let mut pis = inclusion_probabilities(&sizes, n);
        for (p, t) in pis.iter_mut().zip(&taken) {
            if *t {
                *p = (1.0, true);
            }
        }
        let random: Vec<f64> = pis.iter().map(|(p, c)| if *c { 0.0 } else { *p }).collect();
        let mut chosen = systematic(&random, &mut rng);
        chosen.extend(
            pis.iter()
                .enumerate()
                .filter(|(_, (_, c))| *c)
                .map(|(i, _)| i),
        );
        chosen.sort_unstable();
        for i in chosen {
            out.push(Drawn {
                code: group[i].code.clone(),
                stratum: stratum.clone(),
                size: group[i].size.unwrap_or(0.0),
                probability: pis[i].0,
                certainty: pis[i].1,
                purposive: taken[i],
            });
        }
    }
    Ok(out)
}

/// How second-stage units are drawn within a first-stage unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Systematic PPS on the units' sizes, with certainty units.
    Pps,
    /// Simple random sampling without replacement (equal probabilities).
    Srs,
}

impl Method {
    pub fn parse(text: &str) -> Option<Method> {
        match text.trim().to_ascii_lowercase().as_str() {
            "pps" => Some(Method::Pps),
            "srs" | "equal" => Some(Method::Srs),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Pps => "pps",
            Method::Srs => "srs",
        }
    }
}

/// A unit of a second-stage frame (a village or service desk of a commune).
#[derive(Debug, Clone, PartialEq)]
pub struct SubUnit {
    /// Line of the frame's CSV file.
    pub line: u64,
    /// Code of the first-stage unit it lies in.
    pub parent: String,
    pub code: String,
    pub name: String,
    /// Measure of size (> 0).
    pub size: f64,
    /// Always taken within its first-stage unit (the frame's `seat` = 1).
    pub seat: bool,
}

/// Parses a second-stage frame, `commune_code, unit_code, name, size`
/// and an optional `seat` (1: the unit is always taken, 0 or empty: drawn):
/// every problem with its line (missing or malformed code, duplicate
/// unit code, a size that is not a positive number). Unit codes are unique
/// across the file: they become the campaign's locality codes.
pub fn parse_second_stage(input: &[u8]) -> Result<Vec<SubUnit>, Problems> {
    let mut file = CsvRows::open(input, &["commune_code", "unit_code", "name", "size"])?;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    while let Some(row) = file.next_row(&mut problems) {
        let line = row.line;
        let before = problems.len();
        let parent = row.field("commune_code").unwrap_or_default();
        if parent.is_empty() {
            problems.push(LineProblem::new(line, "commune_code", "missing"));
        }
        let code = row.field("unit_code").unwrap_or_default();
        if !is_code(&code) {
            problems.push(LineProblem::new(
                line,
                "unit_code",
                format!("not a code (letters, digits, - or _, at most 20): {code:?}"),
            ));
        } else if let Some(first) = seen.get(&code) {
            problems.push(LineProblem::new(
                line,
                "unit_code",
                format!("duplicate code {code} (first on line {first})"),
            ));
        } else {
            seen.insert(code.clone(), line);
        }
        let text = row.field("size").unwrap_or_default();
        let size = text
            .replace(['_', ' '], "")
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0);
        if size.is_none() {
            problems.push(LineProblem::new(
                line,
                "size",
                format!("not a positive number: {text:?}"),
            ));
        }
        let seat = match row.field("seat").as_deref().map(str::trim) {
            None | Some("" | "0") => false,
            Some("1") => true,
            Some(other) => {
                problems.push(LineProblem::new(
                    line,
                    "seat",
                    format!("not 1 (always taken) or 0: {other:?}"),
                ));
                false
            }
        };
        if problems.len() > before {
            continue;
        }
        let name = row.field("name").unwrap_or_else(|| code.clone());
        out.push(SubUnit {
            line,
            parent,
            code,
            name,
            size: size.unwrap_or_default(),
            seat,
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(Problems(problems))
    }
}

/// A drawn second-stage unit.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SubDrawn {
    pub code: String,
    pub name: String,
    pub size: f64,
    /// Conditional inclusion probability π_j|i.
    pub probability: f64,
    pub certainty: bool,
    /// Always taken (`seat` = 1 or named by the user).
    pub purposive: bool,
}

/// The second stage of a draw: its frame, units per first-stage unit and method.
#[derive(Debug, Clone, Copy)]
pub struct SecondStage<'a> {
    pub frame: &'a [SubUnit],
    pub per_unit: usize,
    pub method: Method,
}

/// A selected last-stage unit: its first-stage unit and, in a two-stage
/// draw, the second-stage unit; with its design fields.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Selected {
    pub first: Drawn,
    pub second: Option<SubDrawn>,
}

impl Selected {
    /// Combined inclusion probability π = π_i·π_j|i.
    pub fn probability(&self) -> f64 {
        self.first.probability * self.second.as_ref().map_or(1.0, |s| s.probability)
    }

    /// Code of the last-stage unit (the campaign's locality).
    pub fn code(&self) -> &str {
        self.second
            .as_ref()
            .map_or(self.first.code.as_str(), |s| s.code.as_str())
    }

    /// Size of the last-stage unit.
    pub fn size(&self) -> f64 {
        self.second.as_ref().map_or(self.first.size, |s| s.size)
    }

    /// The stratum its respondents belong to for estimation: the frame's
    /// stratum, or a stratum of its own under a certainty unit.
    /// A size-certain unit is marked `/<code>`, a purposive one
    /// `#take:<code>`.
    pub fn design_stratum(&self) -> String {
        let mark = |purposive: bool, code: &str| {
            if purposive {
                format!("#take:{code}")
            } else {
                format!("/{code}")
            }
        };
        match (&self.first, &self.second) {
            (f, Some(s)) if f.certainty && s.certainty => format!(
                "{}{}{}",
                f.stratum,
                mark(f.purposive, &f.code),
                mark(s.purposive, &s.code)
            ),
            (f, _) if f.certainty => format!("{}{}", f.stratum, mark(f.purposive, &f.code)),
            (f, _) => f.stratum.clone(),
        }
    }

    /// Whether its unit at the last stage was taken with certainty (no
    /// replacement can stand for it).
    pub fn last_certain(&self) -> bool {
        self.second
            .as_ref()
            .map_or(self.first.certainty, |s| s.certainty)
    }

    /// The PSU its respondents belong to: the first-stage unit; under a
    /// certainty unit the second-stage unit; `None` (each respondent its
    /// own PSU) when every stage above the respondents was certain.
    pub fn cluster(&self) -> Option<String> {
        match (&self.first, &self.second) {
            (f, _) if !f.certainty => Some(f.code.clone()),
            (_, Some(s)) if !s.certainty => Some(s.code.clone()),
            _ => None,
        }
    }

    /// Base weight of its respondents: 1/π, times M/m when `take` = m
    /// respondents are planned in the last-stage unit of size M > m.
    pub fn base_weight(&self, take: Option<u32>) -> f64 {
        let within = match take {
            Some(m) if m > 0 && self.size() > f64::from(m) => self.size() / f64::from(m),
            _ => 1.0,
        };
        within / self.probability()
    }
}

/// The generator of the second stage within first-stage unit `code`.
pub fn stage_rng(seed: u64, code: &str) -> ChaCha8Rng {
    let digest = Sha256::new()
        .chain_update(b"hailong/stage-2\0")
        .chain_update(seed.to_le_bytes())
        .chain_update(code.as_bytes())
        .finalize();
    let mut key = [0u8; 32];
    for (k, d) in key.iter_mut().zip(digest.iter()) {
        *k = *d;
    }
    ChaCha8Rng::from_seed(key)
}

/// Equal inclusion probabilities of `m` among `count` units: m/N each, or
/// every unit with certainty when m ≥ N.
pub fn srs_probabilities(count: usize, m: usize) -> Vec<(f64, bool)> {
    if m >= count {
        vec![(1.0, true); count]
    } else {
        vec![(m as f64 / count as f64, false); count]
    }
}

/// Simple random sample of `m` of `count` indices (Knuth's Algorithm S:
/// index i is taken with probability (m − taken)/(count − i)).
fn selection_sample(count: usize, m: usize, rng: &mut impl Rng) -> Vec<usize> {
    let mut out = Vec::with_capacity(m);
    for i in 0..count {
        if out.len() >= m {
            break;
        }
        let need = (m - out.len()) as f64;
        let left = (count - i) as f64;
        if rng.random::<f64>() * left < need {
            out.push(i);
        }
    }
    out
}

/// Draws `m` of `units` (in code order) by `method` with `rng`; the units
/// marked `seat` or named in `purposive` are always taken (π_j|i = 1) and
/// count towards `m`, the rest are drawn among the others.
pub fn draw_within(
    units: &[&SubUnit],
    m: usize,
    method: Method,
    purposive: &HashSet<String>,
    rng: &mut impl Rng,
) -> Result<Vec<SubDrawn>, DrawError> {
    let taken = |u: &SubUnit| u.seat || purposive.contains(&u.code);
    let fixed: Vec<&SubUnit> = units.iter().copied().filter(|u| taken(u)).collect();
    if fixed.is_empty() {
        return Ok(draw_random_within(units, m, method, rng));
    }
    if fixed.len() > m {
        return Err(DrawError::TooManyPurposive {
            within: format!("unit {}", fixed[0].parent),
            purposive: fixed.len(),
            wanted: m,
        });
    }
    let others: Vec<&SubUnit> = units.iter().copied().filter(|u| !taken(u)).collect();
    let mut out: Vec<SubDrawn> = fixed
        .iter()
        .map(|u| SubDrawn {
            code: u.code.clone(),
            name: u.name.clone(),
            size: u.size,
            probability: 1.0,
            certainty: true,
            purposive: true,
        })
        .collect();
    if m > fixed.len() && !others.is_empty() {
        out.extend(draw_random_within(&others, m - fixed.len(), method, rng));
    }
    out.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(out)
}

/// Draws `m` of `units` (in code order) by `method` with `rng`.
fn draw_random_within(
    units: &[&SubUnit],
    m: usize,
    method: Method,
    rng: &mut impl Rng,
) -> Vec<SubDrawn> {
    let pis = match method {
        Method::Pps => {
            let sizes: Vec<f64> = units.iter().map(|u| u.size).collect();
            inclusion_probabilities(&sizes, m)
        }
        Method::Srs => srs_probabilities(units.len(), m),
    };
    let mut chosen: Vec<usize> = pis
        .iter()
        .enumerate()
        .filter(|(_, (_, c))| *c)
        .map(|(i, _)| i)
        .collect();
    match method {
        Method::Pps => {
            let random: Vec<f64> = pis.iter().map(|(p, c)| if *c { 0.0 } else { *p }).collect();
            chosen.extend(systematic(&random, rng));
        }
        Method::Srs if chosen.is_empty() => chosen = selection_sample(units.len(), m, rng),
        Method::Srs => {}
    }
    chosen.sort_unstable();
    chosen.dedup();
    chosen
        .into_iter()
        .map(|i| SubDrawn {
            code: units[i].code.clone(),
            name: units[i].name.clone(),
            size: units[i].size,
            probability: pis[i].0,
            certainty: pis[i].1,
            purposive: false,
        })
        .collect()
}

/// Draws the first stage (see [`draw`]) and, when `second` is given, its
/// second-stage units within each drawn unit.
pub fn draw_stages(
    frame: &[FrameUnit],
    wanted: impl Fn(&str) -> usize,
    seed: u64,
    second: Option<SecondStage<'_>>,
) -> Result<Vec<Selected>, DrawError> {
    let plan = Plan {
        frame,
        seed,
        second,
        purposive: &HashSet::new(),
        replacements: 0,
    };
    Ok(draw_sample(&plan, wanted)?.selected)
}

mod fieldwork;
mod sample;

pub use fieldwork::*;
pub use sample::*;

#[cfg(test)]
mod tests;
