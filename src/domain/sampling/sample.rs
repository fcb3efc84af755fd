//! One draw as a whole: the plan (frame, seed, second stage, purposive units, replacements),
//! the sample it gives and the replacement lists dealt from their own seeded stream.

use super::*;

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
