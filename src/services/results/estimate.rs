//! From a data set and its design to the rows of results: every index, element and
//! criterion of the plan at the national, province and commune levels, by `hailong_stats`,
//! with the small-numbers rule.
//!
//! # Small numbers
//!
//! An estimate is suppressed (no number, a reason) when fewer than `min_n` respondents answered
//! any of its questions, or when its locality has fewer than `min_df` own PSUs minus own strata.
//! Confidence intervals use the whole design's degrees of freedom (R's `degf`), as R does.

use std::collections::{HashMap, HashSet};

use entity::population_margin;
use hailong_stats::{
    CiMethod, Domains, Estimate, EstimateOptions, Estimator, Item, Statistic, StatsError,
};

use crate::domain::campaign::DesignSettings;
use crate::error::AppError;
use crate::services::campaigns::OpenCampaign;

use super::dataset::{Dataset, Interner};
use super::design::{Built, Hierarchy, build_design};
use super::grouping::item_header;
use super::model::{
    CalibrationNote, CampaignResults, Level, NATIONAL, ResultLocality, ResultRow, Suppression,
};
use super::plan::{ItemSource, Plan};
use super::small_area::{CommuneDirect, ModelInputs};

/// Design, estimates, suppression: the pure part of [`super::compute`].
pub fn estimate_all(
    campaign: &OpenCampaign,
    plan: &Plan,
    data: &Dataset,
    hier: &Hierarchy,
    margins: &[population_margin::Model],
) -> Result<CampaignResults, AppError> {
    estimate_on(campaign, plan, data, hier, |c, d, h| {
        build_design(c, d, h, margins)
    })
}

fn stats(e: StatsError) -> AppError {
    AppError::Internal(anyhow::anyhow!("{e}"))
}

/// [`estimate_all`] with the design made by `build`: the items and the three levels'
/// domains are estimated in one run, then each index estimate becomes a row (suppressed
/// where the numbers are too small) and each domain a locality.
pub(super) fn estimate_on(
    campaign: &OpenCampaign,
    plan: &Plan,
    data: &Dataset,
    hier: &Hierarchy,
    build: impl FnOnce(&OpenCampaign, &Dataset, &Hierarchy) -> Result<Built, AppError>,
) -> Result<CampaignResults, AppError> {
    estimate_capturing(
        campaign,
        plan,
        data,
        hier,
        build,
        &mut ModelInputs::default(),
    )
}

/// [`estimate_on`], also keeping every commune's index estimates before suppression and the
/// design's (calibrated) weights in `captured`: the small-area model's input
/// ([`super::small_area`]), never stored as such.
pub(super) fn estimate_capturing(
    campaign: &OpenCampaign,
    plan: &Plan,
    data: &Dataset,
    hier: &Hierarchy,
    build: impl FnOnce(&OpenCampaign, &Dataset, &Hierarchy) -> Result<Built, AppError>,
    captured: &mut ModelInputs,
) -> Result<CampaignResults, AppError> {
    let settings = &campaign.design;
    let main_index = main_index(campaign, plan);
    let results = |rows, localities, df, calibration| CampaignResults {
        rows,
        localities,
        nodes: plan.nodes.clone(),
        main_index: main_index.clone(),
        responses: data.responses(),
        df,
        min_n: settings.min_n,
        min_df: settings.min_df,
        calibration,
        skipped_indices: plan.skipped.clone(),
        small_area: Default::default(),
    };
    if data.n == 0 || plan.items.is_empty() {
        return Ok(results(Vec::new(), Vec::new(), 0, CalibrationNote::None));
    }
    let built = build(campaign, data, hier)?;
    captured.weights = built.design.weights().to_vec();
    let options = EstimateOptions {
        ci: CiMethod::Logit,
        level: 0.95,
    };
    let items;
    let estimator = match &data.groups {
        Some(groups) => Estimator::grouped(&built.design, groups, &plan.indices, options),
        None => {
            items = self::items(plan, data);
            Estimator::new(&built.design, &items, &plan.indices, options)
        }
    }
    .map_err(stats)?;
    let domains = LevelDomains::new(data, hier);
    let [national, provinces, communes] = domains.all()?;
    let levels = estimator
        .estimate_levels(&[&national, &provinces, &communes])
        .map_err(stats)?;
    let design_df = built.design.df();
    let own = domains.own_dfs(data, design_df);
    let mut rows = Vec::new();
    for (level, estimates) in Level::ALL.into_iter().zip(levels) {
        for e in estimates {
            if e.statistic != Statistic::Index {
                continue;
            }
            let own_df = own.get(&(level, e.domain.clone())).copied().unwrap_or(0);
            if level == Level::Commune {
                captured.directs.push(CommuneDirect {
                    estimate: e.clone(),
                    own_df,
                });
            }
            rows.push(result_row(level, e, own_df, settings));
        }
    }
    rows.sort_by(|a, b| (a.level as u8, &a.locality).cmp(&(b.level as u8, &b.locality)));
    let localities = domains.localities(data, hier);
    Ok(results(rows, localities, design_df, built.note))
}

/// The campaign's main index if the plan has it, else the questionnaire's first index that
/// the plan has.
fn main_index(campaign: &OpenCampaign, plan: &Plan) -> Option<String> {
    let planned = |code: &String| plan.indices.iter().any(|i| &i.name == code);
    campaign
        .design
        .main_index
        .clone()
        .filter(planned)
        .or_else(|| {
            campaign
                .definition
                .indices
                .iter()
                .map(|i| i.code.clone())
                .find(planned)
        })
}

/// The plan's items with the data's values; a derived item ("satisfied with every answered
/// question") from its parts' values.
pub(super) fn items(plan: &Plan, data: &Dataset) -> Vec<Item> {
    let mut out: Vec<Item> = Vec::with_capacity(plan.items.len());
    for (k, p) in plan.items.iter().enumerate() {
        let values = match &p.source {
            ItemSource::AllSatisfied { parts } => {
                let parts: Vec<&Item> = parts
                    .iter()
                    .filter_map(|c| out.iter().find(|i| &i.name == c))
                    .collect();
                let derived = hailong_stats::derive::all_satisfied(p.code.clone(), &parts);
                if derived.values.len() == data.n {
                    derived.values
                } else {
                    vec![f64::NAN; data.n]
                }
            }
            _ => data
                .values
                .get(k)
                .cloned()
                .unwrap_or_else(|| vec![f64::NAN; data.n]),
        };
        let mut item = item_header(p);
        item.values = values;
        out.push(item);
    }
    out
}

/// The communes and provinces of a data set as estimation domains, with the rows of each.
struct LevelDomains {
    n: usize,
    communes: Interner,
    provinces: Interner,
    commune_codes: Vec<u32>,
    province_codes: Vec<u32>,
    /// Rows of each commune, by its code in `communes`.
    commune_rows: Vec<Vec<usize>>,
    /// Rows of each province, by its code in `provinces`.
    province_rows: Vec<Vec<usize>>,
}

impl LevelDomains {
    /// Each row in its commune and province as the hierarchy places its locality; a row
    /// that is in none is outside that level's domains.
    fn new(data: &Dataset, hier: &Hierarchy) -> LevelDomains {
        let mut communes = Interner::default();
        let mut provinces = Interner::default();
        let mut commune_codes = Vec::with_capacity(data.n);
        let mut province_codes = Vec::with_capacity(data.n);
        for &l in &data.locality {
            let l = l as usize;
            commune_codes.push(match hier.commune.get(l).cloned().flatten() {
                Some(c) => communes.code(&c),
                None => Domains::OUTSIDE,
            });
            province_codes.push(match hier.province.get(l).cloned().flatten() {
                Some(p) => provinces.code(&p),
                None => Domains::OUTSIDE,
            });
        }
        LevelDomains {
            n: data.n,
            commune_rows: group_rows(&commune_codes, communes.labels.len()),
            province_rows: group_rows(&province_codes, provinces.labels.len()),
            communes,
            provinces,
            commune_codes,
            province_codes,
        }
    }

    /// The domains of [`Level::ALL`], in that order.
    fn all(&self) -> Result<[Domains; 3], AppError> {
        Ok([
            Domains::new(vec![0; self.n], vec![NATIONAL.to_owned()]).map_err(stats)?,
            Domains::new(self.province_codes.clone(), self.provinces.labels.clone())
                .map_err(stats)?,
            Domains::new(self.commune_codes.clone(), self.communes.labels.clone())
                .map_err(stats)?,
        ])
    }

    /// Own PSUs − own strata of every locality (the whole design's for the country).
    fn own_dfs(&self, data: &Dataset, design_df: i64) -> HashMap<(Level, String), i64> {
        let mut own = HashMap::new();
        own.insert((Level::National, NATIONAL.to_owned()), design_df);
        for (level, labels, rows) in [
            (Level::Province, &self.provinces, &self.province_rows),
            (Level::Commune, &self.communes, &self.commune_rows),
        ] {
            for (code, rows) in labels.labels.iter().zip(rows) {
                own.insert((level, code.clone()), own_df(rows, data));
            }
        }
        own
    }

    /// The country, then the provinces and communes, with their names and responses, in
    /// level and code order.
    fn localities(&self, data: &Dataset, hier: &Hierarchy) -> Vec<ResultLocality> {
        let mut localities = vec![ResultLocality {
            code: NATIONAL.to_owned(),
            level: Level::National,
            parent: None,
            name_vi: String::new(),
            name_en: String::new(),
            responses: data.responses(),
        }];
        let responses = |rows: &[usize]| rows.iter().map(|&r| data.count(r)).sum::<u64>();
        let named = |code: &str, level: Level, responses: u64| {
            let unit = hier.units.get(code);
            ResultLocality {
                code: code.to_owned(),
                level,
                parent: match level {
                    Level::Province => Some(NATIONAL.to_owned()),
                    _ => unit.and_then(|u| u.parent_code.clone()),
                },
                name_vi: unit.map_or_else(|| code.to_owned(), |u| u.name_vi.clone()),
                name_en: unit.map_or_else(|| code.to_owned(), |u| u.name_en.clone()),
                responses,
            }
        };
        for (code, r) in self.provinces.labels.iter().zip(&self.province_rows) {
            localities.push(named(code, Level::Province, responses(r)));
        }
        for (code, r) in self.communes.labels.iter().zip(&self.commune_rows) {
            let mut l = named(code, Level::Commune, responses(r));
            // The commune's province as resolved through the hierarchy (skipping districts).
            if let Some(first) = r.first() {
                l.parent = hier
                    .province
                    .get(data.locality[*first] as usize)
                    .cloned()
                    .flatten();
            }
            localities.push(l);
        }
        localities.sort_by(|a, b| (a.level as u8, &a.code).cmp(&(b.level as u8, &b.code)));
        localities
    }
}

/// Own PSUs − own strata of a set of rows.
fn own_df(rows: &[usize], data: &Dataset) -> i64 {
    let mut psus = HashSet::new();
    let mut strata = HashSet::new();
    for &r in rows {
        psus.insert((data.stratum[r], data.cluster[r]));
        strata.insert(data.stratum[r]);
    }
    psus.len() as i64 - strata.len() as i64
}

/// The rows of each code `0..n` (rows outside every code are left out).
fn group_rows(codes: &[u32], n: usize) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); n];
    for (row, &c) in codes.iter().enumerate() {
        if let Some(v) = out.get_mut(c as usize) {
            v.push(row);
        }
    }
    out
}

/// Why an estimate of `n` respondents in a locality with `own_df` is not shown, if it is
/// not: too few respondents first, then too few PSUs, then no estimate at all.
fn suppression(
    n: u64,
    own_df: i64,
    estimable: bool,
    settings: &DesignSettings,
) -> Option<Suppression> {
    if n < u64::from(settings.min_n) {
        Some(Suppression::TooFewRespondents)
    } else if own_df < i64::from(settings.min_df) {
        Some(Suppression::TooFewPsus)
    } else if !estimable {
        Some(Suppression::NotEstimable)
    } else {
        None
    }
}

/// One index estimate as a row: its numbers only when it is not suppressed (the counts and
/// degrees of freedom always).
fn result_row(level: Level, e: Estimate, own_df: i64, settings: &DesignSettings) -> ResultRow {
    let reason = suppression(e.n, own_df, e.estimate.is_some(), settings);
    let shown = reason.is_none();
    ResultRow {
        level,
        locality: e.domain,
        index: e.item,
        estimate: e.estimate.filter(|_| shown),
        se: e.se.filter(|_| shown),
        ci_low: e.ci_low.filter(|_| shown),
        ci_high: e.ci_high.filter(|_| shown),
        df: e.df,
        n: e.n,
        deff: e.deff.filter(|_| shown),
        own_df,
        suppressed: !shown,
        reason,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::services::results::plan::plan;
    use crate::services::results::testkit::{
        Row, campaign, communes_of, dataset, definition, index, scale, sipas,
    };

    /// A questionnaire with one index `I` of one question `q1`.
    fn one_question() -> crate::domain::questionnaire::Definition {
        definition(
            vec![index("I", "mean_of_criteria", &[("E", 1.0, &[("C", 1.0)])])],
            vec![scale("q1", "E", "C")],
        )
    }

    fn settings(min_n: u32, min_df: u32) -> DesignSettings {
        DesignSettings {
            min_n,
            min_df,
            ..DesignSettings::default()
        }
    }

    fn row<'a>(locality: &'a str, cluster: &'a str, weight: f64, values: &'a [f64]) -> Row<'a> {
        Row {
            locality,
            stratum: "",
            cluster,
            weight,
            values,
        }
    }

    /// Runs the estimation of `rows` (communes of `provinces`) for `definition`.
    fn run(
        definition: crate::domain::questionnaire::Definition,
        design: DesignSettings,
        rows: &[Row],
        provinces: &[(&str, &str)],
    ) -> CampaignResults {
        let c = campaign(definition, design);
        let p = plan(&c.definition);
        let data = dataset(p.items.len(), rows);
        let hier = communes_of(&data, provinces);
        estimate_all(&c, &p, &data, &hier, &[]).unwrap()
    }

    fn close(got: Option<f64>, want: f64) {
        let got = got.unwrap();
        assert!((got - want).abs() < 1e-12, "{got} ≠ {want}");
    }

    /// Four respondents of one commune, one PSU each, weights 1–4, answers 5, 4, 2, 1: the
    /// first two satisfied.
    fn four() -> CampaignResults {
        run(
            one_question(),
            settings(1, 0),
            &[
                row("00004", "c1", 1.0, &[5.0]),
                row("00004", "c2", 2.0, &[4.0]),
                row("00004", "c3", 3.0, &[2.0]),
                row("00004", "c4", 4.0, &[1.0]),
            ],
            &[("00004", "01")],
        )
    }

    #[test]
    fn a_weighted_share_and_its_linearised_standard_error() {
        let r = four();
        let national = r.row(NATIONAL, "I").unwrap();
        // p = (1 + 2) / 10. Linearised z_i = w_i (s_i − p) / 10 = .07, .14, −.09, −.12;
        // V = n/(n − 1) Σ z² = 4/3 · 0.047.
        close(national.estimate, 0.3);
        close(national.se, (4.0 / 3.0 * 0.047f64).sqrt());
        assert_eq!((national.n, national.df, national.own_df), (4, 3, 3));
        // An index's interval is p ± t₀.₉₇₅,₃ · se (not the logit one of a single share).
        let t = hailong_stats::intervals::t_quantile(0.975, 3.0).unwrap();
        close(national.ci_low, 0.3 - t * national.se.unwrap());
        close(national.ci_high, 0.3 + t * national.se.unwrap());
        assert_eq!(r.df, 3);
        assert_eq!(r.responses, 4);
    }

    #[test]
    fn every_level_gets_a_row_of_every_node_in_level_and_locality_order() {
        let r = four();
        let keys: Vec<(Level, &str, &str)> = r
            .rows
            .iter()
            .map(|x| (x.level, x.locality.as_str(), x.index.as_str()))
            .collect();
        // Within a locality in the plan's order: the index, then each element's criteria
        // and the element.
        assert_eq!(
            keys,
            [
                (Level::National, NATIONAL, "I"),
                (Level::National, NATIONAL, "I/E/C"),
                (Level::National, NATIONAL, "I/E"),
                (Level::Province, "01", "I"),
                (Level::Province, "01", "I/E/C"),
                (Level::Province, "01", "I/E"),
                (Level::Commune, "00004", "I"),
                (Level::Commune, "00004", "I/E/C"),
                (Level::Commune, "00004", "I/E"),
            ]
        );
        // One commune is the whole sample: the same estimate at every level.
        for x in &r.rows {
            close(x.estimate, 0.3);
        }
        assert_eq!(r.main_index.as_deref(), Some("I"));
        assert_eq!(r.calibration, CalibrationNote::None);
    }

    #[test]
    fn localities_carry_their_names_parents_and_responses() {
        let r = run(
            one_question(),
            settings(1, 0),
            &[
                row("00004", "c1", 1.0, &[5.0]),
                row("00007", "c2", 1.0, &[4.0]),
                row("00007", "c3", 1.0, &[f64::NAN]),
                row("26734", "c4", 1.0, &[1.0]),
                // Placed nowhere: counted in the country only.
                row("99999", "c5", 1.0, &[3.0]),
            ],
            &[("00004", "01"), ("00007", "01"), ("26734", "79")],
        );
        let got: Vec<(&str, Level, Option<&str>, u64)> = r
            .localities
            .iter()
            .map(|l| (l.code.as_str(), l.level, l.parent.as_deref(), l.responses))
            .collect();
        assert_eq!(
            got,
            [
                (NATIONAL, Level::National, None, 5),
                ("01", Level::Province, Some(NATIONAL), 3),
                ("79", Level::Province, Some(NATIONAL), 1),
                ("00004", Level::Commune, Some("01"), 1),
                ("00007", Level::Commune, Some("01"), 2),
                ("26734", Level::Commune, Some("79"), 1),
            ]
        );
        assert_eq!(r.locality("01").unwrap().name_vi, "Tên 01");
        // Respondents are those who answered: 2 of the 3 responses of province 01.
        assert_eq!(r.row("01", "I").unwrap().n, 2);
        close(r.row("01", "I").unwrap().estimate, 1.0);
        close(r.row(NATIONAL, "I").unwrap().estimate, 0.5);
        // Own PSUs − strata: province 01 has 3 PSUs in one stratum.
        assert_eq!(r.row("01", "I").unwrap().own_df, 2);
        assert_eq!(r.row("26734", "I").unwrap().own_df, 0);
    }

    #[test]
    fn small_numbers_are_suppressed_with_their_reason() {
        let rows = [
            row("00004", "c1", 1.0, &[5.0]),
            row("00004", "c2", 1.0, &[4.0]),
            row("00004", "c3", 1.0, &[2.0]),
            row("00007", "c4", 1.0, &[1.0]),
        ];
        let provinces = [("00004", "01"), ("00007", "01")];
        // At least 2 respondents and 2 own PSUs − strata.
        let r = run(one_question(), settings(2, 2), &rows, &provinces);
        let national = r.row(NATIONAL, "I").unwrap();
        assert!(!national.suppressed);
        close(national.estimate, 0.5);
        let few = r.row("00007", "I").unwrap();
        assert!(few.suppressed);
        assert_eq!(few.reason, Some(Suppression::TooFewRespondents));
        assert_eq!(
            (few.estimate, few.se, few.ci_low, few.ci_high),
            (None, None, None, None)
        );
        assert_eq!((few.n, few.df), (1, 3));
        let commune = r.row("00004", "I").unwrap();
        assert_eq!(commune.reason, None);
        close(commune.estimate, 2.0 / 3.0);
        // With 3 own PSUs − strata wanted, the commune (2) is suppressed too.
        let r = run(one_question(), settings(2, 3), &rows, &provinces);
        let commune = r.row("00004", "I").unwrap();
        assert_eq!(commune.reason, Some(Suppression::TooFewPsus));
        assert_eq!(commune.n, 3);
    }

    #[test]
    fn respondents_come_before_psus_and_psus_before_estimability() {
        let s = settings(30, 8);
        assert_eq!(
            suppression(29, 0, false, &s),
            Some(Suppression::TooFewRespondents)
        );
        assert_eq!(suppression(30, 7, false, &s), Some(Suppression::TooFewPsus));
        assert_eq!(
            suppression(30, 8, false, &s),
            Some(Suppression::NotEstimable)
        );
        assert_eq!(suppression(30, 8, true, &s), None);
    }

    #[test]
    fn an_index_with_a_question_nobody_answered_is_not_estimable() {
        // q1..q4 of the test questionnaire, q3 never answered: I and E1 need it.
        let rows = [
            row("00004", "c1", 1.0, &[5.0, 5.0, f64::NAN, 5.0]),
            row("00004", "c2", 1.0, &[1.0, 1.0, f64::NAN, 1.0]),
        ];
        let r = run(sipas(), settings(1, 0), &rows, &[("00004", "01")]);
        assert_eq!(
            r.row(NATIONAL, "I").unwrap().reason,
            Some(Suppression::NotEstimable)
        );
        assert_eq!(
            r.row(NATIONAL, "I/E1").unwrap().reason,
            Some(Suppression::NotEstimable)
        );
        close(r.row(NATIONAL, "I/E2").unwrap().estimate, 0.5);
        close(r.row(NATIONAL, "I/E1/C1").unwrap().estimate, 0.5);
    }

    #[test]
    fn no_responses_give_no_rows_but_the_tree_and_main_index() {
        let r = run(sipas(), settings(1, 0), &[], &[]);
        assert!(r.rows.is_empty() && r.localities.is_empty());
        assert_eq!((r.responses, r.df), (0, 0));
        assert_eq!(r.nodes.len(), 6);
        assert_eq!(r.main_index.as_deref(), Some("I"));
    }

    #[test]
    fn the_main_index_must_be_one_the_plan_estimates() {
        let def = definition(
            vec![
                index("A", "mean_of_criteria", &[("E", 1.0, &[("C", 1.0)])]),
                index("B", "mean_of_criteria", &[("E", 1.0, &[("C", 1.0)])]),
            ],
            vec![{
                let mut q = scale("q1", "E", "C");
                q["index"]["index"] = serde_json::json!("B");
                q
            }],
        );
        let with_main = |main: Option<&str>| {
            let c = campaign(
                def.clone(),
                DesignSettings {
                    main_index: main.map(str::to_owned),
                    ..DesignSettings::default()
                },
            );
            main_index(&c, &plan(&def))
        };
        // A has no question: B, the first index estimated, whatever is asked.
        assert_eq!(with_main(None).as_deref(), Some("B"));
        assert_eq!(with_main(Some("A")).as_deref(), Some("B"));
        assert_eq!(with_main(Some("B")).as_deref(), Some("B"));
    }

    #[test]
    fn rows_are_grouped_by_code_and_outsiders_left_out() {
        assert_eq!(
            group_rows(&[1, 0, Domains::OUTSIDE, 1], 2),
            [vec![1], vec![0, 3]]
        );
    }
}
