//! A locality's indices by family (perception, satisfaction, expectation) side by side, and
//! the expectation–performance view: each element that an expectation index and a
//! satisfaction index share (by code) placed in a quadrant only when both intervals clear the
//! cut-offs.
//!
//! Cut-offs: on each axis the mean of the paired elements' estimates in the locality (the
//! usual centre of an importance–performance grid). An element is "high" on an axis when its
//! whole 95% interval lies above the cut-off, "low" when it lies below, and otherwise it is
//! not placed (shown as "not clear"), so that no element is ranked on noise.

use serde::Serialize;

use crate::i18n::{Lang, t};
use crate::services::results::{CampaignResults, IndexNode, ResultRow};

/// One family with its indices' results in the locality.
#[derive(Debug, Serialize)]
pub struct FamilyView {
    pub name: String,
    pub indices: Vec<FamilyIndex>,
}

#[derive(Debug, Serialize)]
pub struct FamilyIndex {
    pub key: String,
    pub name: String,
    /// The estimate and interval in the index's unit, or why there is none.
    pub text: String,
}

/// An estimate and its interval as text, in the node's unit.
pub fn estimate_text(
    node: &IndexNode,
    row: Option<&ResultRow>,
    r: &CampaignResults,
    lang: Lang,
) -> String {
    let Some(row) = row else {
        return "–".to_owned();
    };
    if row.suppressed {
        let why = row.reason.map(|s| s.words(r, lang)).unwrap_or_default();
        return format!("{} ({why})", t(lang, "results-suppressed", &[]));
    }
    let (scale, digits, suffix) = if node.range.is_some() {
        (1.0, 2, "")
    } else if node.score {
        (100.0, 1, "")
    } else {
        (100.0, 1, "%")
    };
    let f = |v: Option<f64>| match v {
        Some(x) if x.is_finite() => format!("{:.*}", digits, x * scale),
        _ => "–".to_owned(),
    };
    format!(
        "{}{suffix} [{}–{}]",
        f(row.estimate),
        f(row.ci_low),
        f(row.ci_high)
    )
}

/// The locality's top-level indices grouped by family, when the questionnaire names more
/// than one family (empty otherwise).
pub fn families(r: &CampaignResults, code: &str, lang: Lang) -> Vec<FamilyView> {
    let tops: Vec<&IndexNode> = r.nodes.iter().filter(|n| n.depth == 0).collect();
    let mut out = Vec::new();
    for family in ["perception", "satisfaction", "expectation"] {
        let indices: Vec<FamilyIndex> = tops
            .iter()
            .filter(|n| n.family.as_deref() == Some(family))
            .map(|n| FamilyIndex {
                key: n.key.clone(),
                name: n.name(lang).to_owned(),
                text: estimate_text(n, r.row(code, &n.key), r, lang),
            })
            .collect();
        if !indices.is_empty() {
            out.push(FamilyView {
                name: t(lang, &format!("results-family-{family}"), &[]),
                indices,
            });
        }
    }
    if out.len() < 2 { Vec::new() } else { out }
}

/// The expectation–performance view of one locality.
#[derive(Debug, Serialize)]
pub struct QuadrantView {
    pub expectation: String,
    pub satisfaction: String,
    pub elements: Vec<QuadrantElement>,
    /// The cut-offs, as text in each axis' unit.
    pub cut_expectation: String,
    pub cut_satisfaction: String,
}

#[derive(Debug, Serialize)]
pub struct QuadrantElement {
    pub code: String,
    pub name: String,
    pub expectation: String,
    pub satisfaction: String,
    /// `improve`, `keep`, `low`, `surplus`, or `unclear`.
    pub quadrant: &'static str,
    pub words: String,
}

/// Where an interval lies against a cut-off: above (1), below (−1) or across it (0).
fn side(row: &ResultRow, cut: f64) -> i8 {
    match (row.ci_low, row.ci_high) {
        (Some(lo), _) if lo > cut => 1,
        (_, Some(hi)) if hi < cut => -1,
        _ => 0,
    }
}

/// The quadrant of an element from the sides of its expectation and satisfaction intervals.
pub fn quadrant(expectation: i8, satisfaction: i8) -> &'static str {
    match (expectation, satisfaction) {
        (1, -1) => "improve",
        (1, 1) => "keep",
        (-1, -1) => "low",
        (-1, 1) => "surplus",
        _ => "unclear",
    }
}

/// The view for a locality: the first expectation index paired with the satisfaction index
/// sharing most element codes with it; `None` without such a pair or without two elements
/// estimated on both axes.
pub fn expectation_performance(
    r: &CampaignResults,
    code: &str,
    lang: Lang,
) -> Option<QuadrantView> {
    let tops = |f: &str| -> Vec<&IndexNode> {
        r.nodes
            .iter()
            .filter(|n| n.depth == 0 && n.family.as_deref() == Some(f))
            .collect()
    };
    let elements_of = |ix: &IndexNode| -> Vec<&IndexNode> {
        let prefix = format!("{}/", ix.key);
        r.nodes
            .iter()
            .filter(|n| n.depth == 1 && n.key.starts_with(&prefix))
            .collect()
    };
    let exp = *tops("expectation").first()?;
    let exp_elements = elements_of(exp);
    let sat = tops("satisfaction").into_iter().max_by_key(|s| {
        elements_of(s)
            .iter()
            .filter(|e| exp_elements.iter().any(|x| x.code == e.code))
            .count()
    })?;
    let sat_elements = elements_of(sat);
    let mut pairs = Vec::new();
    for e in &exp_elements {
        let Some(s) = sat_elements.iter().find(|s| s.code == e.code) else {
            continue;
        };
        let (Some(er), Some(sr)) = (r.row(code, &e.key), r.row(code, &s.key)) else {
            continue;
        };
        if er.suppressed || sr.suppressed || er.estimate.is_none() || sr.estimate.is_none() {
            continue;
        }
        pairs.push((*e, *s, er, sr));
    }
    if pairs.len() < 2 {
        return None;
    }
    let n = pairs.len() as f64;
    let cut_e = pairs.iter().filter_map(|p| p.2.estimate).sum::<f64>() / n;
    let cut_s = pairs.iter().filter_map(|p| p.3.estimate).sum::<f64>() / n;
    let as_text = |node: &IndexNode, v: f64| {
        if node.range.is_some() {
            format!("{v:.2}")
        } else {
            format!("{:.1}", v * 100.0)
        }
    };
    let elements = pairs
        .iter()
        .map(|(e, s, er, sr)| {
            let q = quadrant(side(er, cut_e), side(sr, cut_s));
            QuadrantElement {
                code: s.code.clone(),
                name: s.name(lang).to_owned(),
                expectation: estimate_text(e, Some(er), r, lang),
                satisfaction: estimate_text(s, Some(sr), r, lang),
                quadrant: q,
                words: t(lang, &format!("results-quadrant-{q}"), &[]),
            }
        })
        .collect();
    Some(QuadrantView {
        expectation: exp.name(lang).to_owned(),
        satisfaction: sat.name(lang).to_owned(),
        cut_expectation: as_text(exp, cut_e),
        cut_satisfaction: as_text(sat, cut_s),
        elements,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_element_is_placed_only_when_both_intervals_clear_the_cut_offs() {
        assert_eq!(quadrant(1, -1), "improve");
        assert_eq!(quadrant(1, 1), "keep");
        assert_eq!(quadrant(-1, -1), "low");
        assert_eq!(quadrant(-1, 1), "surplus");
        for (e, s) in [(0, 1), (1, 0), (0, 0), (-1, 0)] {
            assert_eq!(quadrant(e, s), "unclear");
        }
    }
}
