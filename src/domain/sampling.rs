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

/// Everything a draw needs besides the allocation.
#[derive(Debug, Clone, Copy)]
pub struct Plan<'a> {
    pub frame: &'a [FrameUnit],
    pub seed: u64,
    pub second: Option<SecondStage<'a>>,
    /// Codes of units always taken, first- or second-stage.
    pub purposive: &'a HashSet<String>,
    /// Replacements listed for each non-certain last-stage unit (K).
    pub replacements: usize,
}

/// A substitute for a selected unit, in the order it is to be used.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Replacement {
    /// 1 for the first substitute, …, K.
    pub rank: usize,
    pub code: String,
    pub name: String,
    pub size: f64,
}

/// A drawn sample: the selected last-stage units and, for each (same
/// index), its ordered replacement list.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub selected: Vec<Selected>,
    pub replacements: Vec<Vec<Replacement>>,
}

/// Draws the sample of `plan` with `wanted(stratum)` first-stage units per
/// stratum: purposive units, the PPS draw, the second stage and the
/// replacement lists (see the module's documentation).
pub fn draw_sample(plan: &Plan<'_>, wanted: impl Fn(&str) -> usize) -> Result<Sample, DrawError> {
    let first = draw_first(plan.frame, wanted, plan.seed, plan.purposive)?;
    let Some(stage) = plan.second else {
        let selected: Vec<Selected> = first
            .into_iter()
            .map(|d| Selected {
                first: d,
                second: None,
            })
            .collect();
        let mut replacements = vec![Vec::new(); selected.len()];
        if plan.replacements > 0 {
            let chosen: HashSet<&str> = selected.iter().map(|s| s.first.code.as_str()).collect();
            let mut by_stratum: HashMap<&str, Vec<Candidate<'_>>> = HashMap::new();
            for u in plan.frame {
                if !chosen.contains(u.code.as_str()) && u.size.is_some_and(|s| s > 0.0) {
                    by_stratum.entry(&u.stratum).or_default().push(Candidate {
                        code: &u.code,
                        name: "",
                        size: u.size.unwrap_or(0.0),
                    });
                }
            }
            let mut needing: HashMap<&str, Vec<usize>> = HashMap::new();
            for (k, s) in selected.iter().enumerate() {
                if !s.last_certain() {
                    needing.entry(&s.first.stratum).or_default().push(k);
                }
            }
            for (stratum, slots) in needing {
                let mut pool = by_stratum.remove(stratum).unwrap_or_default();
                pool.sort_by(|a, b| a.code.cmp(b.code));
                let mut rng = keyed_rng(b"hailong/replacements\0", plan.seed, stratum);
                deal(
                    &mut pool,
                    &slots,
                    plan.replacements,
                    &mut rng,
                    &mut replacements,
                );
            }
        }
        return Ok(Sample {
            selected,
            replacements,
        });
    };
    if stage.per_unit == 0 {
        return Err(DrawError::NoPerUnit);
    }
    let drawn: HashSet<&str> = first.iter().map(|d| d.code.as_str()).collect();
    let mut within: HashMap<&str, Vec<&SubUnit>> = HashMap::new();
    for u in stage.frame {
        if drawn.contains(u.parent.as_str()) {
            within.entry(u.parent.as_str()).or_default().push(u);
        }
    }
    let mut selected = Vec::new();
    let mut replacements = Vec::new();
    for d in first {
        let Some(units) = within.get_mut(d.code.as_str()) else {
            return Err(DrawError::NoSubUnits(d.code));
        };
        units.sort_by(|a, b| a.code.cmp(&b.code));
        let mut rng = stage_rng(plan.seed, &d.code);
        let subs = draw_within(
            units,
            stage.per_unit,
            stage.method,
            plan.purposive,
            &mut rng,
        )?;
        let start = selected.len();
        let taken: HashSet<&str> = subs.iter().map(|s| s.code.as_str()).collect();
        let mut pool: Vec<Candidate<'_>> = units
            .iter()
            .filter(|u| !taken.contains(u.code.as_str()))
            .map(|u| Candidate {
                code: &u.code,
                name: &u.name,
                size: u.size,
            })
            .collect();
        let slots: Vec<usize> = subs
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.certainty)
            .map(|(k, _)| start + k)
            .collect();
        replacements.extend(std::iter::repeat_n(Vec::new(), subs.len()));
        if plan.replacements > 0 && !slots.is_empty() {
            let mut rng = keyed_rng(b"hailong/replacements/2\0", plan.seed, &d.code);
            deal(
                &mut pool,
                &slots,
                plan.replacements,
                &mut rng,
                &mut replacements,
            );
        }
        for s in subs {
            selected.push(Selected {
                first: d.clone(),
                second: Some(s),
            });
        }
    }
    Ok(Sample {
        selected,
        replacements,
    })
}

/// A unit that may become a replacement.
#[derive(Debug, Clone, Copy)]
struct Candidate<'a> {
    code: &'a str,
    name: &'a str,
    size: f64,
}

/// Orders up to `slots.len()·k` units of `pool` (in code order) by
/// successive PPS and deals them in turn to `slots` (indices into `out`).
fn deal(
    pool: &mut Vec<Candidate<'_>>,
    slots: &[usize],
    k: usize,
    rng: &mut impl Rng,
    out: &mut [Vec<Replacement>],
) {
    let wanted = slots.len().saturating_mul(k);
    let mut t = 0usize;
    while t < wanted && !pool.is_empty() {
        let total: f64 = pool.iter().map(|c| c.size).sum();
        let point = rng.random::<f64>() * total;
        let mut cumulated = 0.0;
        let mut pick = pool.len() - 1;
        for (i, c) in pool.iter().enumerate() {
            cumulated += c.size;
            if point < cumulated {
                pick = i;
                break;
            }
        }
        let c = pool.remove(pick);
        if let Some(list) = slots.get(t % slots.len()).and_then(|s| out.get_mut(*s)) {
            list.push(Replacement {
                rank: t / slots.len() + 1,
                code: c.code.to_owned(),
                name: c.name.to_owned(),
                size: c.size,
            });
        }
        t += 1;
    }
}

/// A ChaCha8 generator keyed by SHA-256(`label`, seed, `key`).
fn keyed_rng(label: &[u8], seed: u64, key: &str) -> ChaCha8Rng {
    let digest = Sha256::new()
        .chain_update(label)
        .chain_update(seed.to_le_bytes())
        .chain_update(key.as_bytes())
        .finalize();
    let mut bytes = [0u8; 32];
    for (k, d) in bytes.iter_mut().zip(digest.iter()) {
        *k = *d;
    }
    ChaCha8Rng::from_seed(bytes)
}

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn frame(sizes: &[f64]) -> Vec<FrameUnit> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, s)| FrameUnit {
                code: format!("{i:03}"),
                stratum: "S".into(),
                size: Some(*s),
            })
            .collect()
    }

    #[test]
    fn probabilities_are_proportional_to_size_with_certainty_units() {
        // 100 of 200 in total: the 100-unit is certain, then 2 of [50, 30, 20].
        let p = inclusion_probabilities(&[100.0, 50.0, 30.0, 20.0], 3);
        assert_eq!(p[0], (1.0, true));
        assert!((p[1].0 - 1.0).abs() < 1e-12 && p[1].1, "{p:?}");
        // After 50 is also certain (2·50/100 = 1): 1 of [30, 20].
        assert!((p[2].0 - 0.6).abs() < 1e-12);
        assert!((p[3].0 - 0.4).abs() < 1e-12);
        let sum: f64 = p.iter().map(|x| x.0).sum();
        assert!((sum - 3.0).abs() < 1e-12);
        // Zero sizes are never drawn.
        let p = inclusion_probabilities(&[0.0, 10.0, 30.0], 1);
        assert_eq!(p[0].0, 0.0);
        assert!((p[2].0 - 0.75).abs() < 1e-12);
    }

    #[test]
    fn a_draw_is_reproducible_from_its_seed_and_has_the_wanted_size() {
        let f = frame(&[5.0, 9.0, 1.0, 40.0, 12.0, 7.0, 3.0, 22.0, 8.0, 15.0]);
        let a = draw(&f, |_| 4, 42).unwrap();
        let b = draw(&f, |_| 4, 42).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 4);
        let mut codes: Vec<&str> = a.iter().map(|d| d.code.as_str()).collect();
        codes.dedup();
        assert_eq!(codes.len(), 4);
        assert!(matches!(
            draw(&f, |_| 11, 1),
            Err(DrawError::TooFewUnits {
                wanted: 11,
                available: 10,
                ..
            })
        ));
    }

    /// Over many seeded draws, each unit's frequency of selection matches
    /// its π within 4.5 binomial standard errors.
    #[test]
    fn empirical_inclusion_frequencies_match_the_probabilities() {
        let sizes = [
            5.0, 9.0, 1.0, 120.0, 12.0, 7.0, 3.0, 22.0, 8.0, 15.0, 30.0, 2.0, 18.0, 11.0, 6.0,
        ];
        let n = 5;
        let f = frame(&sizes);
        let pis = inclusion_probabilities(&sizes, n);
        assert!(pis[3].1, "the 120-unit is a certainty unit");
        let runs = 20_000u64;
        let mut hits = vec![0u64; sizes.len()];
        for seed in 0..runs {
            let d = draw(&f, |_| n, seed).unwrap();
            assert_eq!(d.len(), n);
            for unit in d {
                hits[unit.code.parse::<usize>().unwrap()] += 1;
            }
        }
        for (i, (pi, _)) in pis.iter().enumerate() {
            let freq = hits[i] as f64 / runs as f64;
            let se = (pi * (1.0 - pi) / runs as f64).sqrt();
            assert!(
                (freq - pi).abs() <= 4.5 * se + 1e-12,
                "unit {i}: frequency {freq} vs π {pi} (se {se})"
            );
        }
    }

    fn sub(parent: &str, sizes: &[f64]) -> Vec<SubUnit> {
        sizes
            .iter()
            .enumerate()
            .map(|(j, s)| SubUnit {
                line: 0,
                parent: parent.to_owned(),
                code: format!("{parent}-{j:02}"),
                name: String::new(),
                size: *s,
                seat: false,
            })
            .collect()
    }

    #[test]
    fn second_stage_rows_are_checked_line_by_line() {
        let ok = parse_second_stage(
            b"commune_code,unit_code,name,size\n001,V1,Village 1,120\n001,V2,,80.5\n",
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(
            (ok[1].line, ok[1].name.as_str(), ok[1].size),
            (3, "V2", 80.5)
        );
        let bad = parse_second_stage(
            b"commune_code,unit_code,name,size\n001,V1,a,10\n001,V1,b,10\n002,V3,c,0\n,V4,d,x\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            bad.contains("line 3, unit_code: duplicate code V1 (first on line 2)"),
            "{bad}"
        );
        assert!(bad.contains("line 4, size: not a positive number"), "{bad}");
        assert!(bad.contains("line 5, commune_code: missing"), "{bad}");
        assert!(bad.contains("line 5, size"), "{bad}");
    }

    #[test]
    fn design_fields_follow_the_certainty_of_each_stage() {
        let first = |certainty| Drawn {
            code: "C".into(),
            stratum: "P".into(),
            size: 1000.0,
            probability: if certainty { 1.0 } else { 0.25 },
            certainty,
            purposive: false,
        };
        let second = |certainty| SubDrawn {
            code: "V".into(),
            name: String::new(),
            size: 200.0,
            probability: if certainty { 1.0 } else { 0.5 },
            certainty,
            purposive: false,
        };
        let one = Selected {
            first: first(false),
            second: None,
        };
        assert_eq!(
            (one.design_stratum(), one.cluster()),
            ("P".into(), Some("C".into()))
        );
        assert_eq!(one.base_weight(None), 4.0);
        assert_eq!(one.base_weight(Some(10)), 4.0 * 100.0);
        let sure = Selected {
            first: first(true),
            second: None,
        };
        assert_eq!(
            (sure.design_stratum(), sure.cluster()),
            ("P/C".into(), None)
        );
        let two = Selected {
            first: first(false),
            second: Some(second(false)),
        };
        assert_eq!(
            (two.design_stratum(), two.cluster()),
            ("P".into(), Some("C".into()))
        );
        assert_eq!(two.probability(), 0.125);
        assert_eq!(two.base_weight(Some(20)), 8.0 * 10.0);
        let under = Selected {
            first: first(true),
            second: Some(second(false)),
        };
        assert_eq!(
            (under.design_stratum(), under.cluster()),
            ("P/C".into(), Some("V".into()))
        );
        let both = Selected {
            first: first(true),
            second: Some(second(true)),
        };
        assert_eq!(
            (both.design_stratum(), both.cluster()),
            ("P/C/V".into(), None)
        );
        // More respondents planned than people: everyone, weight 1/π.
        assert_eq!(both.base_weight(Some(500)), 1.0);
    }

    /// Both stages: each second-stage unit's frequency over many seeded
    /// draws matches π_i·π_j|i within 4 binomial standard errors; certainty
    /// units are always drawn; SRS gives m/N.
    #[test]
    fn two_stage_frequencies_match_the_combined_probabilities() {
        let sizes = [40.0, 300.0, 25.0, 60.0, 35.0, 50.0];
        let f = frame(&sizes);
        let mut villages = Vec::new();
        for (i, u) in f.iter().enumerate() {
            let v: Vec<f64> = (0..(3 + i % 3))
                .map(|j| (j * 7 % 5 + 1) as f64 * 10.0)
                .collect();
            villages.extend(sub(&u.code, &v));
        }
        for method in [Method::Pps, Method::Srs] {
            let stage = SecondStage {
                frame: &villages,
                per_unit: 2,
                method,
            };
            let pi1 = inclusion_probabilities(&sizes, 3);
            assert!(pi1[1].1);
            let runs = 4_000u64;
            let mut hits: HashMap<String, u64> = HashMap::new();
            let mut expected: HashMap<String, f64> = HashMap::new();
            for seed in 0..runs {
                for s in draw_stages(&f, |_| 3, seed, Some(stage)).unwrap() {
                    *hits.entry(s.code().to_owned()).or_default() += 1;
                    expected.insert(s.code().to_owned(), s.probability());
                }
            }
            for (i, u) in f.iter().enumerate() {
                let within: Vec<&SubUnit> =
                    villages.iter().filter(|v| v.parent == u.code).collect();
                let pi2 = match method {
                    Method::Pps => {
                        let s: Vec<f64> = within.iter().map(|v| v.size).collect();
                        inclusion_probabilities(&s, 2)
                    }
                    Method::Srs => srs_probabilities(within.len(), 2),
                };
                for (v, (p2, _)) in within.iter().zip(&pi2) {
                    let pi = pi1[i].0 * p2;
                    if let Some(e) = expected.get(&v.code) {
                        assert!((e - pi).abs() < 1e-12, "{} {e} {pi}", v.code);
                    }
                    let freq = hits.get(&v.code).copied().unwrap_or(0) as f64 / runs as f64;
                    let se = (pi * (1.0 - pi) / runs as f64).sqrt();
                    assert!(
                        (freq - pi).abs() <= 4.0 * se + 1e-12,
                        "{method:?} {}: frequency {freq} vs π {pi}",
                        v.code
                    );
                }
            }
        }
    }

    /// A unit's second stage depends on the seed and its code only: the
    /// certainty unit 000 gets the same villages whatever else is drawn.
    #[test]
    fn a_units_second_stage_does_not_depend_on_the_other_units_drawn() {
        let small = frame(&[500.0, 10.0, 12.0, 9.0]);
        let large = frame(&[500.0, 3.0, 40.0, 2.0, 25.0, 30.0]);
        let mut villages = sub("000", &[5.0, 7.0, 9.0, 11.0, 13.0, 4.0]);
        for code in ["001", "002", "003", "004", "005"] {
            villages.extend(sub(code, &[1.0, 2.0, 3.0]));
        }
        let stage = SecondStage {
            frame: &villages,
            per_unit: 2,
            method: Method::Pps,
        };
        let mut seen = HashSet::new();
        for seed in 0..50 {
            let of_000 = |f: &[FrameUnit], n: usize| -> Vec<String> {
                draw_stages(f, |_| n, seed, Some(stage))
                    .unwrap()
                    .into_iter()
                    .filter(|s| s.first.code == "000")
                    .map(|s| s.code().to_owned())
                    .collect()
            };
            let a = of_000(&small, 2);
            assert_eq!(a.len(), 2);
            assert_eq!(a, of_000(&large, 3), "seed {seed}");
            seen.insert(a);
        }
        assert!(seen.len() > 1, "the villages drawn vary with the seed");
    }

    #[test]
    fn a_drawn_unit_without_second_stage_units_is_an_error() {
        let f = frame(&[10.0, 10.0]);
        let villages = sub("000", &[5.0, 6.0]);
        let stage = SecondStage {
            frame: &villages,
            per_unit: 1,
            method: Method::Pps,
        };
        let r = draw_stages(&f, |_| 2, 1, Some(stage));
        assert_eq!(r, Err(DrawError::NoSubUnits("001".into())));
    }

    fn strata_frame() -> Vec<FrameUnit> {
        (0..3)
            .flat_map(|h| {
                (0..12).map(move |i| FrameUnit {
                    code: format!("{h}{i:02}"),
                    stratum: format!("P{h}"),
                    size: Some(((h * 37 + i * 53) % 90 + 10) as f64 * 10.0),
                })
            })
            .collect()
    }

    /// A purposive unit is taken in every draw with π = 1 in a stratum of
    /// its own; the rest of its stratum is n − 1 units drawn by PPS among
    /// the others, whose frequencies match (n − 1)·M/ΣM'.
    #[test]
    fn a_purposive_unit_is_always_taken_and_the_rest_drawn_among_the_others() {
        let f = strata_frame();
        let taken: HashSet<String> = ["005".to_owned(), "111".to_owned()].into();
        let others: Vec<&FrameUnit> = f
            .iter()
            .filter(|u| u.stratum == "P0" && u.code != "005")
            .collect();
        let sizes: Vec<f64> = others.iter().map(|u| u.size.unwrap()).collect();
        let pis = inclusion_probabilities(&sizes, 2);
        let runs = 6_000u64;
        let mut hits: HashMap<String, u64> = HashMap::new();
        for seed in 0..runs {
            let plan = Plan {
                frame: &f,
                seed,
                second: None,
                purposive: &taken,
                replacements: 0,
            };
            let sample = draw_sample(&plan, |_| 3).unwrap();
            assert_eq!(sample.selected.len(), 9);
            for code in ["005", "111"] {
                let s = sample
                    .selected
                    .iter()
                    .find(|s| s.first.code == code)
                    .unwrap_or_else(|| panic!("seed {seed}: {code} missing"));
                assert_eq!(s.probability(), 1.0);
                assert!(s.first.purposive && s.first.certainty);
                assert_eq!(
                    s.design_stratum(),
                    format!("{}#take:{code}", s.first.stratum)
                );
                assert_eq!(s.cluster(), None);
            }
            for s in &sample.selected {
                *hits.entry(s.first.code.clone()).or_default() += 1;
            }
        }
        for (u, (pi, _)) in others.iter().zip(&pis) {
            let freq = hits.get(&u.code).copied().unwrap_or(0) as f64 / runs as f64;
            let se = (pi * (1.0 - pi) / runs as f64).sqrt();
            assert!(
                (freq - pi).abs() <= 4.5 * se + 1e-12,
                "{}: {freq} vs {pi}",
                u.code
            );
        }
        // More purposive units than the stratum's allocation: refused.
        let two: HashSet<String> = ["001".to_owned(), "002".to_owned()].into();
        let plan = Plan {
            frame: &f,
            seed: 1,
            second: None,
            purposive: &two,
            replacements: 0,
        };
        assert_eq!(
            draw_sample(&plan, |_| 1).unwrap_err(),
            DrawError::TooManyPurposive {
                within: "stratum P0".into(),
                purposive: 2,
                wanted: 1
            }
        );
        // Without purposive units the draw is the plain draw.
        let none = HashSet::new();
        let plan = Plan {
            frame: &f,
            seed: 9,
            second: None,
            purposive: &none,
            replacements: 0,
        };
        let plain: Vec<Drawn> = draw(&f, |_| 3, 9).unwrap();
        let firsts: Vec<Drawn> = draw_sample(&plan, |_| 3)
            .unwrap()
            .selected
            .into_iter()
            .map(|s| s.first)
            .collect();
        assert_eq!(firsts, plain);
    }

    /// Replacement lists: reproducible, K per non-certain unit in rank
    /// order, disjoint from the sample and from each other, within the
    /// unit's stratum; asking for them leaves the sample as it was.
    #[test]
    fn replacement_lists_are_disjoint_ordered_and_leave_the_sample_unchanged() {
        let f = strata_frame();
        let taken: HashSet<String> = ["005".to_owned()].into();
        let stratum_of: HashMap<&str, &str> = f
            .iter()
            .map(|u| (u.code.as_str(), u.stratum.as_str()))
            .collect();
        for seed in 0..200 {
            let plan = |k| Plan {
                frame: &f,
                seed,
                second: None,
                purposive: &taken,
                replacements: k,
            };
            let a = draw_sample(&plan(2), |_| 3).unwrap();
            assert_eq!(a, draw_sample(&plan(2), |_| 3).unwrap());
            assert_eq!(a.selected, draw_sample(&plan(0), |_| 3).unwrap().selected);
            let mut seen: HashSet<&str> = a.selected.iter().map(|s| s.code()).collect();
            for (s, list) in a.selected.iter().zip(&a.replacements) {
                if s.first.certainty {
                    assert!(list.is_empty());
                    continue;
                }
                assert_eq!(list.iter().map(|r| r.rank).collect::<Vec<_>>(), [1, 2]);
                for r in list {
                    assert!(seen.insert(&r.code), "seed {seed}: {} twice", r.code);
                    assert_eq!(stratum_of[r.code.as_str()], s.first.stratum);
                }
            }
        }
        // Second stage: replacements from the unit's own first-stage unit;
        // a `seat` village always taken with π_j|i = 1.
        let mut villages = Vec::new();
        for u in &f {
            let mut v = sub(&u.code, &[30.0, 50.0, 20.0, 40.0, 60.0, 10.0, 25.0]);
            v[3].seat = true;
            villages.extend(v);
        }
        let plan = Plan {
            frame: &f,
            seed: 4,
            second: Some(SecondStage {
                frame: &villages,
                per_unit: 2,
                method: Method::Pps,
            }),
            purposive: &taken,
            replacements: 3,
        };
        let b = draw_sample(&plan, |_| 3).unwrap();
        assert_eq!(b.selected.len(), 18);
        let mut seen: HashSet<&str> = b.selected.iter().map(|s| s.code()).collect();
        for (s, list) in b.selected.iter().zip(&b.replacements) {
            let v = s.second.as_ref().unwrap();
            if v.code.ends_with("-03") {
                assert!(v.purposive && v.probability == 1.0 && list.is_empty());
                let label = if s.first.purposive {
                    format!("P0#take:005#take:{}", v.code)
                } else {
                    s.first.stratum.clone()
                };
                assert_eq!(s.design_stratum(), label);
            } else {
                assert_eq!(list.len(), 3);
            }
            for r in list {
                assert!(r.code.starts_with(&s.first.code));
                assert!(seen.insert(&r.code));
            }
        }
    }

    /// On a generated frame with respondents, nonrespondents and ineligible
    /// units, the adjusted weights of the respondents sum to each
    /// stratum's frame total less its ineligible units' weight (the frame
    /// total itself when none is ineligible), to 1e-9.
    #[test]
    fn adjusted_weights_sum_to_the_frame_totals() {
        let f = strata_frame();
        let taken: HashSet<String> = ["005".to_owned(), "207".to_owned()].into();
        for seed in 0..50 {
            let plan = Plan {
                frame: &f,
                seed,
                second: None,
                purposive: &taken,
                replacements: 0,
            };
            let sample = draw_sample(&plan, |s| if s == "P1" { 5 } else { 4 }).unwrap();
            // Unit-level weights M/π (a take of m people: w·m = M/π).
            let statuses = [
                Status::Respondent,
                Status::Nonrespondent,
                Status::Respondent,
            ];
            let slots: Vec<Slot> = sample
                .selected
                .iter()
                .enumerate()
                .map(|(k, s)| Slot {
                    class: s.first.stratum.clone(),
                    weight: s.size() / s.probability(),
                    status: if (k as u64 + seed) % 7 == 3 {
                        Status::Ineligible
                    } else {
                        statuses[(k + seed as usize) % 3]
                    },
                })
                .collect();
            let adjusted = adjust_for_nonresponse(&slots).unwrap();
            for h in ["P0", "P1", "P2"] {
                let frame_total: f64 = f
                    .iter()
                    .filter(|u| u.stratum == h)
                    .map(|u| u.size.unwrap())
                    .sum();
                let in_h = |s: &&Slot| s.class == h;
                let sample_total: f64 = slots.iter().filter(in_h).map(|s| s.weight).sum();
                assert!((sample_total / frame_total - 1.0).abs() < 1e-9);
                let ineligible: f64 = slots
                    .iter()
                    .filter(in_h)
                    .filter(|s| s.status == Status::Ineligible)
                    .map(|s| s.weight)
                    .sum();
                let respondents: f64 = slots
                    .iter()
                    .zip(&adjusted)
                    .filter(|(s, _)| s.class == h)
                    .map(|(_, w)| *w)
                    .sum();
                assert!(
                    (respondents - (frame_total - ineligible)).abs() < 1e-9 * frame_total,
                    "seed {seed} {h}: {respondents} vs {frame_total} − {ineligible}"
                );
            }
            for (s, w) in slots.iter().zip(&adjusted) {
                assert_eq!(*w == 0.0, s.status != Status::Respondent);
            }
        }
        let lost = [Slot {
            class: "P9".into(),
            weight: 3.0,
            status: Status::Nonrespondent,
        }];
        assert_eq!(
            adjust_for_nonresponse(&lost),
            Err(AdjustError::NoRespondent("P9".into()))
        );
    }

    #[test]
    fn outcomes_parse_from_their_codes_and_aapor_numbers() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
            assert_eq!(Outcome::parse(o.aapor()), Some(o));
        }
        assert_eq!(Outcome::parse("Non-contact"), Some(Outcome::NonContact));
        assert_eq!(Outcome::parse("gone"), None);
    }
}
