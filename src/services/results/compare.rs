//! Reading results side by side: rank bands of the localities of a level, the change of
//! each locality since an earlier wave, and that earlier wave re-aggregated to today's units
//! when it was collected under older ones.

use std::collections::HashMap;

use sea_orm::DatabaseConnection;
use serde::Serialize;

use crate::error::AppError;
use crate::services::campaigns::OpenCampaign;

use super::dataset::Dataset;
use super::design::{Built, Hierarchy, base_design, build_design, hierarchy, population_margins};
use super::estimate::estimate_on;
use super::loader::load_dataset;
use super::model::{CampaignResults, Level, ResultRow, Suppression};
use super::plan::plan;

/// A rank band: the best and worst rank a locality can have given the intervals of all
/// (ranks 1 = highest). `best` = 1 + the number of localities whose interval lies entirely
/// above this one's; `worst` = the number of localities minus those entirely below. Two
/// localities with overlapping intervals are not told apart (a conservative comparison by
/// interval overlap, not a strict ranking).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RankBand {
    pub best: usize,
    pub worst: usize,
}

/// Rank bands of the shown (not suppressed) rows, in the rows' order.
pub fn rank_bands(rows: &[&ResultRow]) -> Vec<Option<RankBand>> {
    let shown: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|r| r.ci_low.zip(r.ci_high))
        .collect();
    let m = shown.len();
    rows.iter()
        .map(|r| {
            let (lo, hi) = r.ci_low.zip(r.ci_high)?;
            let above = shown.iter().filter(|(l, _)| *l > hi).count();
            let below = shown.iter().filter(|(_, h)| *h < lo).count();
            Some(RankBand {
                best: above + 1,
                worst: m - below,
            })
        })
        .collect()
}

/// The change of one locality's estimate between two waves (`a` this campaign, `b` the
/// earlier one).
///
/// The waves are separate samples, so the difference's variance is the sum of the two
/// variances, `se = √(se_a² + se_b²)`, and the interval is `diff ± qt(0.975, ν) · se` with the
/// Welch–Satterthwaite `ν = (v_a + v_b)² / (v_a²/df_a + v_b²/df_b)`. When the waves share
/// PSUs (a panel), the positive covariance this ignores makes the interval conservative: a
/// change is then flagged less often, never more. A change is flagged only when its interval
/// excludes zero. Suppressed in either wave means suppressed here, with that reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub locality: String,
    pub index: String,
    pub current: Option<f64>,
    pub previous: Option<f64>,
    pub difference: Option<f64>,
    pub se: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub df: Option<f64>,
    /// The interval excludes zero.
    pub flagged: bool,
    pub suppressed: bool,
    pub reason: Option<Suppression>,
}

/// The change of a row between two waves (see [`Change`]).
pub fn change(current: &ResultRow, previous: Option<&ResultRow>) -> Change {
    let mut c = Change {
        locality: current.locality.clone(),
        index: current.index.clone(),
        current: current.estimate,
        previous: previous.and_then(|p| p.estimate),
        difference: None,
        se: None,
        ci_low: None,
        ci_high: None,
        df: None,
        flagged: false,
        suppressed: true,
        reason: None,
    };
    let Some(prev) = previous else {
        c.reason = Some(Suppression::NotEstimable);
        return c;
    };
    if let Some(r) = current.reason.or(prev.reason) {
        c.reason = Some(r);
        return c;
    }
    let (Some(ea), Some(sa), Some(eb), Some(sb)) =
        (current.estimate, current.se, prev.estimate, prev.se)
    else {
        c.reason = Some(Suppression::NotEstimable);
        return c;
    };
    let (va, vb) = (sa * sa, sb * sb);
    let (dfa, dfb) = (current.df as f64, prev.df as f64);
    let df = if va + vb > 0.0 && dfa >= 1.0 && dfb >= 1.0 {
        (va + vb).powi(2) / (va * va / dfa + vb * vb / dfb)
    } else {
        dfa.min(dfb)
    };
    let diff = ea - eb;
    let se = (va + vb).sqrt();
    c.suppressed = false;
    c.difference = Some(diff);
    c.se = Some(se);
    c.df = Some(df);
    if let Some(t) = hailong_stats::intervals::t_quantile(0.975, df) {
        let (lo, hi) = (diff - t * se, diff + t * se);
        c.ci_low = Some(lo);
        c.ci_high = Some(hi);
        c.flagged = lo > 0.0 || hi < 0.0;
    }
    c
}

/// Changes of every locality of a level between two waves of the same index.
pub fn compare(
    current: &CampaignResults,
    previous: &CampaignResults,
    level: Level,
    index: &str,
) -> Vec<Change> {
    current
        .level_rows(level, index)
        .into_iter()
        .map(|row| change(row, previous.row(&row.locality, index)))
        .collect()
}

/// The results of an earlier wave (`previous`) re-aggregated to the units of `current`
/// (valid on its opening day), when some of the earlier wave's responses were collected in
/// units that are no longer valid then (e.g. the 63 provinces and their districts before
/// 1 July 2025); `None` when every unit is still valid (its own results then compare as
/// they are).
///
/// Method. The earlier wave's design is built as for its own results (its hierarchy, its
/// calibration); then each response is placed in today's units by the imported crosswalk
/// ([`to_level`](crate::services::crosswalk::to_level), following several reforms if need be): a
/// response of an old unit that went whole to one new commune counts there; one of an old unit
/// split with shares counts in each new commune with its (calibrated) weight multiplied by the
/// share, so the weights of one response still sum to its weight. A unit that maps to a province
/// only (no commune link) counts in that province and not in any commune; a unit the crosswalk
/// cannot place is left out. The copies of a response keep its stratum and PSU, so the variance
/// (Taylor linearisation, per domain) adds them up within their PSU; the calibrated weights are
/// then taken as fixed (the calibration's variance reduction is not credited, so the intervals are
/// slightly conservative). The estimates are the campaign's own estimators (indices, elements,
/// criteria), domain by domain, with the small-numbers rule; a locality's `responses` counts the
/// response copies in it. The earlier wave's responses are those of its publication
/// `previous_publication`.
pub async fn in_units_of(
    db: &DatabaseConnection,
    current: &OpenCampaign,
    previous: &OpenCampaign,
    previous_publication: i64,
) -> Result<Option<CampaignResults>, AppError> {
    use crate::services::locality_lists::Hierarchy as Units;
    // A cheap look at the earlier wave's units first: usually they are all valid today.
    let codes: Vec<String> =
        crate::services::responses::counts_by_locality(db, previous.campaign.id)
            .await?
            .into_keys()
            .collect();
    let today = Units::on(db, current.campaign.opens_on).await?;
    if codes.iter().all(|c| today.units.contains_key(c)) {
        return Ok(None);
    }
    let plan = plan(&previous.definition);
    let data = load_dataset(db, previous, &plan, false, previous_publication).await?;
    let crosswalk = crate::services::crosswalk::load(db).await?;
    let old_hier = hierarchy(db, previous, &data).await?;
    let margins = population_margins(db, &previous.design.calibration).await?;
    let previous = previous.clone();
    tokio::task::spawn_blocking(move || {
        let built = build_design(&previous, &data, &old_hier, &margins)?;
        let (expanded, hier) = expand(&data, built.design.weights(), &crosswalk, &today);
        let note = built.note;
        estimate_on(&previous, &plan, &expanded, &hier, |c, d, _| {
            Ok(Built {
                design: base_design(c, d)?,
                note,
                margins: Vec::new(),
            })
        })
    })
    .await
    .map_err(|e| anyhow::anyhow!("re-aggregation task: {e}"))?
    .map(Some)
}

/// The rows of `data` placed in today's units (see [`in_units_of`]), with `weights` split by
/// the crosswalk's shares, and where those units sit.
fn expand(
    data: &Dataset,
    weights: &[f64],
    crosswalk: &HashMap<String, Vec<(String, f64)>>,
    today: &crate::services::locality_lists::Hierarchy,
) -> (Dataset, Hierarchy) {
    use crate::services::crosswalk::to_level;
    // Per old unit: [(today's commune or province, share)].
    let targets: Vec<Vec<(String, f64)>> = data
        .localities
        .labels
        .iter()
        .map(|code| {
            let communes = to_level(crosswalk, today, code, "commune");
            let placed: f64 = communes.iter().map(|(_, s)| s).sum();
            let mut out = communes;
            // What does not reach a commune counts in its province only.
            if placed < 1.0 - 1e-9 {
                let provinces = to_level(crosswalk, today, code, "province");
                let in_communes: HashMap<String, f64> = {
                    let mut m: HashMap<String, f64> = HashMap::new();
                    for (c, s) in &out {
                        if let Some(p) = today.ancestor_at(c, "province") {
                            *m.entry(p.code.clone()).or_default() += s;
                        }
                    }
                    m
                };
                for (p, s) in provinces {
                    let rest = s - in_communes.get(&p).copied().unwrap_or(0.0);
                    if rest > 1e-12 {
                        out.push((p, rest));
                    }
                }
            }
            out
        })
        .collect();
    let mut out = Dataset {
        values: vec![Vec::new(); data.values.len()],
        strata: data.strata.clone(),
        clusters: data.clusters.clone(),
        ..Dataset::default()
    };
    for row in 0..data.n {
        let w = weights.get(row).copied().unwrap_or(0.0);
        for (unit, share) in &targets[data.locality[row] as usize] {
            out.n += 1;
            out.locality.push(out.localities.code(unit));
            out.stratum.push(data.stratum[row]);
            out.cluster.push(data.cluster[row]);
            out.weight.push(w * share);
            for (col, src) in out.values.iter_mut().zip(&data.values) {
                col.push(src[row]);
            }
        }
    }
    let mut hier = Hierarchy::default();
    for code in &out.localities.labels {
        let unit = today.units.get(code);
        let is_commune = unit.is_some_and(|u| u.level == "commune");
        hier.commune.push(is_commune.then(|| code.clone()));
        hier.province
            .push(today.ancestor_at(code, "province").map(|p| p.code.clone()));
        for u in [unit, today.ancestor_at(code, "province")]
            .into_iter()
            .flatten()
        {
            hier.units.insert(u.code.clone(), u.clone());
        }
    }
    (out, hier)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::services::results::model::{CalibrationNote, NATIONAL};
    use crate::services::results::testkit::{Row, dataset, labels, unit};

    fn row(locality: &str, estimate: Option<f64>, se: Option<f64>, df: i64) -> ResultRow {
        ResultRow {
            level: Level::Province,
            locality: locality.to_owned(),
            index: "I".to_owned(),
            estimate,
            se,
            ci_low: None,
            ci_high: None,
            df,
            n: 100,
            deff: None,
            own_df: 10,
            suppressed: estimate.is_none(),
            reason: estimate.is_none().then_some(Suppression::TooFewRespondents),
        }
    }

    fn interval(locality: &str, ci: Option<(f64, f64)>) -> ResultRow {
        ResultRow {
            ci_low: ci.map(|c| c.0),
            ci_high: ci.map(|c| c.1),
            ..row(locality, ci.map(|c| (c.0 + c.1) / 2.0), Some(0.01), 30)
        }
    }

    #[test]
    fn rank_bands_count_the_intervals_entirely_above_and_below() {
        let rows = [
            interval("A", Some((0.80, 0.90))),
            interval("B", Some((0.70, 0.85))),
            interval("C", Some((0.50, 0.60))),
            interval("D", None),
            interval("E", Some((0.55, 0.75))),
        ];
        let refs: Vec<&ResultRow> = rows.iter().collect();
        let band = |best, worst| Some(RankBand { best, worst });
        // A: nothing above, C and E below (of 4 shown); B: C below; C: A and B above;
        // E: A above. The suppressed D has no band and does not count.
        assert_eq!(
            rank_bands(&refs),
            [band(1, 2), band(1, 3), band(3, 4), None, band(2, 4)]
        );
        assert!(rank_bands(&[]).is_empty());
    }

    fn close(got: Option<f64>, want: f64) {
        let got = got.unwrap();
        assert!((got - want).abs() < 1e-12, "{got} ≠ {want}");
    }

    #[test]
    fn a_change_adds_the_variances_with_welch_degrees_of_freedom() {
        let now = row("01", Some(0.80), Some(0.03), 20);
        let c = change(&now, Some(&row("01", Some(0.70), Some(0.04), 10)));
        // v = .0009 + .0016 = .0025; ν = .0025² / (.0009²/20 + .0016²/10).
        close(c.difference, 0.1);
        close(c.se, 0.05);
        let df = 0.0025f64.powi(2) / (0.0009f64.powi(2) / 20.0 + 0.0016f64.powi(2) / 10.0);
        close(c.df, df);
        let t = hailong_stats::intervals::t_quantile(0.975, df).unwrap();
        close(c.ci_low, 0.1 - t * 0.05);
        close(c.ci_high, 0.1 + t * 0.05);
        // t ≈ 2.08: the interval holds zero.
        assert!(!c.flagged && !c.suppressed);
        assert_eq!((c.current, c.previous), (Some(0.80), Some(0.70)));
        let c = change(&now, Some(&row("01", Some(0.65), Some(0.04), 10)));
        assert!(c.flagged);
        assert!(c.ci_low.unwrap() > 0.0);
        let c = change(&row("01", Some(0.5), Some(0.04), 10), Some(&now));
        assert!(c.flagged);
        assert!(c.ci_high.unwrap() < 0.0);
    }

    #[test]
    fn without_variance_the_smaller_df_is_kept() {
        let c = change(
            &row("01", Some(0.8), Some(0.0), 20),
            Some(&row("01", Some(0.7), Some(0.0), 10)),
        );
        close(c.df, 10.0);
        close(c.ci_low, 0.8 - 0.7);
        assert!(c.flagged);
    }

    #[test]
    fn a_change_is_suppressed_when_either_wave_is() {
        let now = row("01", Some(0.8), Some(0.03), 20);
        let c = change(&now, None);
        assert!(c.suppressed);
        assert_eq!(c.reason, Some(Suppression::NotEstimable));
        assert_eq!(c.previous, None);
        let mut few = row("01", None, None, 20);
        few.reason = Some(Suppression::TooFewPsus);
        let c = change(&now, Some(&few));
        assert_eq!(c.reason, Some(Suppression::TooFewPsus));
        assert_eq!((c.difference, c.se, c.flagged), (None, None, false));
        let c = change(&few, Some(&now));
        assert_eq!(c.reason, Some(Suppression::TooFewPsus));
        // No reason, but no standard error either.
        let c = change(&now, Some(&row("01", Some(0.7), None, 10)));
        assert_eq!(c.reason, Some(Suppression::NotEstimable));
        assert!(c.suppressed);
    }

    fn results(rows: Vec<ResultRow>) -> CampaignResults {
        CampaignResults {
            rows,
            localities: Vec::new(),
            nodes: Vec::new(),
            main_index: Some("I".to_owned()),
            responses: 0,
            df: 30,
            min_n: 30,
            min_df: 8,
            calibration: CalibrationNote::None,
            skipped_indices: Vec::new(),
            small_area: Default::default(),
        }
    }

    #[test]
    fn compare_pairs_each_locality_of_the_level_with_its_earlier_row() {
        let mut national = row(NATIONAL, Some(0.9), Some(0.01), 30);
        national.level = Level::National;
        let current = results(vec![
            national,
            row("01", Some(0.8), Some(0.02), 30),
            row("79", Some(0.6), Some(0.02), 30),
        ]);
        let previous = results(vec![row("01", Some(0.7), Some(0.02), 30)]);
        let changes = compare(&current, &previous, Level::Province, "I");
        let got: Vec<(&str, bool)> = changes
            .iter()
            .map(|c| (c.locality.as_str(), c.suppressed))
            .collect();
        assert_eq!(got, [("01", false), ("79", true)]);
        close(changes[0].difference, 0.1);
        assert!(compare(&current, &previous, Level::Province, "I/E").is_empty());
    }

    /// Today's units: communes 00004 and 00007 of province 01, commune 00010 of 01, and
    /// province 79 without communes.
    fn today() -> crate::services::locality_lists::Hierarchy {
        crate::services::locality_lists::Hierarchy {
            units: [
                unit("01", "province", None),
                unit("79", "province", None),
                unit("00004", "commune", Some("01")),
                unit("00007", "commune", Some("01")),
                unit("00010", "commune", Some("01")),
            ]
            .into_iter()
            .map(|u| (u.code.clone(), u))
            .collect(),
        }
    }

    #[test]
    fn an_earlier_wave_is_placed_in_todays_units_with_its_weights_split() {
        let links = |l: &[(&str, f64)]| l.iter().map(|(c, s)| ((*c).to_owned(), *s)).collect();
        let crosswalk: HashMap<String, Vec<(String, f64)>> = [
            ("OLD1", links(&[("00004", 1.0)])),
            ("OLD2", links(&[("00004", 0.25), ("00007", 0.75)])),
            ("OLD3", links(&[("00007", 0.5), ("79", 0.5)])),
            ("OLDP", links(&[("79", 1.0)])),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let r = |locality, cluster, value: &'static [f64]| Row {
            locality,
            stratum: "S",
            cluster,
            weight: 1.0,
            values: value,
        };
        let data = dataset(
            1,
            &[
                r("OLD1", "p1", &[5.0]),
                r("OLD2", "p2", &[4.0]),
                r("OLD3", "p3", &[3.0]),
                r("OLDP", "p4", &[2.0]),
                r("LOST", "p5", &[1.0]),
                r("00010", "p6", &[5.0]),
            ],
        );
        // The (calibrated) weights of the earlier wave's design.
        let weights = [2.0, 4.0, 2.0, 1.0, 7.0, 3.0];
        let (out, hier) = expand(&data, &weights, &crosswalk, &today());
        assert_eq!(labels(&out.localities), ["00004", "00007", "79", "00010"]);
        let placed: Vec<(u32, f64, u32, f64)> = (0..out.n)
            .map(|i| {
                (
                    out.locality[i],
                    out.weight[i],
                    out.cluster[i],
                    out.values[0][i],
                )
            })
            .collect();
        assert_eq!(
            placed,
            [
                (0, 2.0, 0, 5.0),
                // Split 1/4 – 3/4, both copies in the same PSU.
                (0, 1.0, 1, 4.0),
                (1, 3.0, 1, 4.0),
                // Half to a commune; the other half in its province only.
                (1, 1.0, 2, 3.0),
                (2, 1.0, 2, 3.0),
                (2, 1.0, 3, 2.0),
                // LOST cannot be placed; 00010 is still valid.
                (3, 3.0, 5, 5.0),
            ]
        );
        assert!(out.stratum.iter().all(|&s| s == 0));
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            hier.commune,
            [some("00004"), some("00007"), None, some("00010")]
        );
        assert_eq!(
            hier.province,
            [some("01"), some("01"), some("79"), some("01")]
        );
        assert!(hier.units.contains_key("01") && hier.units.contains_key("00007"));
    }
}
