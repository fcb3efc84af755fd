//! Drawing clusters (communes, villages, desks) with probability
//! proportional to size, systematically, from a recorded seed.
//!
//! Within a stratum of units with sizes M_i, drawing n:
//! 1. certainty units: while some unit has n·M_i/ΣM ≥ 1 it is taken with
//!    π_i = 1, removed, and n reduced by one (repeat on the rest);
//! 2. the others get π_i = n'·M_i/ΣM' (< 1) and are drawn by systematic
//!    PPS in frame order (by code): a random start u ~ U[0, 1) and the unit
//!    whose cumulated π interval (C_{i−1}, C_i] holds u + k, k = 0…n'−1.
//!    Each unit is drawn with probability exactly π_i (Madow 1949; Cochran
//!    §9A.7; R `sampling::UPsystematic`).
//!
//! The base weight of a respondent is 1/π_i times the within-cluster
//! weight (M_i / m_i for m_i interviews among M_i people).
//!
//! Randomness: one ChaCha8 generator seeded with the draw's seed, used for
//! the strata in code order, so a draw is reproduced from its seed and
//! frame.

use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

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
        let sizes: Vec<f64> = group.iter().map(|u| u.size.unwrap_or(0.0)).collect();
        let available = sizes.iter().filter(|s| **s > 0.0).count();
        if n > available {
            return Err(DrawError::TooFewUnits {
                stratum: stratum.clone(),
                wanted: n,
                available,
            });
        }
        let pis = inclusion_probabilities(&sizes, n);
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
                size: sizes[i],
                probability: pis[i].0,
                certainty: pis[i].1,
            });
        }
    }
    Ok(out)
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
}
