//! The sampling design of a campaign over its data set: where each stored locality sits in
//! the hierarchy, the base design, and calibration.
//!
//! Base weights, strata (`stratum`; a missing stratum is one stratum of its own) and clusters
//! (`cluster`; a response without one is its own PSU), the campaign's lonely-PSU rule, and
//! calibration: for every variable in the campaign's `calibration` list, the population margins
//! are given per province, so the weights are raked to the joint cells `<province>|<category>`
//! of each variable (one variable: post-stratification). Calibration needs every response in a
//! cell with a population total: when a response has no value for a calibration variable, or its
//! province/category has no population total, or the raking does not converge, the results are
//! computed on the base weights and [`CalibrationNote`] says why (shown on the pages); nothing is
//! guessed.

use std::collections::{HashMap, HashSet};

use entity::population_margin;
use hailong_stats::{Calibration, Design, DesignSpec, Factor, LonelyPsu, Margin, Stage};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::error::AppError;
use crate::services::campaigns::OpenCampaign;
use crate::services::localities;

use super::dataset::Dataset;
use super::model::CalibrationNote;

/// Where each stored locality sits: its commune (if it is one) and its province.
#[derive(Debug, Clone, Default)]
pub struct Hierarchy {
    /// Per code of [`Dataset::localities`]: the commune code (None for a province).
    pub commune: Vec<Option<String>>,
    /// Per code of [`Dataset::localities`]: the province code.
    pub province: Vec<Option<String>>,
    pub units: HashMap<String, entity::locality::Model>,
}

/// Resolves communes to provinces with the hierarchy valid on the campaign's opening day
/// (following a district level when there is one).
pub async fn hierarchy(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    data: &Dataset,
) -> Result<Hierarchy, AppError> {
    let on = campaign.campaign.opens_on;
    let mut units: HashMap<String, entity::locality::Model> = HashMap::new();
    let mut wanted: Vec<String> = data.localities.labels.clone();
    for _ in 0..4 {
        let missing: Vec<String> = wanted
            .iter()
            .filter(|c| !units.contains_key(*c))
            .cloned()
            .collect();
        if missing.is_empty() {
            break;
        }
        let found = localities::valid_on(db, &missing, on).await?;
        wanted = found
            .values()
            .filter_map(|u| u.parent_code.clone())
            .collect();
        units.extend(found);
    }
    Ok(Hierarchy::place(&data.localities.labels, units))
}

impl Hierarchy {
    /// Places stored locality codes with `units` (each with its ancestors): a code is a
    /// commune when its unit is one, and its province is the first province up its parents
    /// (at most four levels up). A code without a unit has neither.
    pub fn place(codes: &[String], units: HashMap<String, entity::locality::Model>) -> Hierarchy {
        let mut commune = Vec::new();
        let mut province = Vec::new();
        for code in codes {
            let mut cur = units.get(code);
            let is_commune = cur.is_some_and(|u| u.level == "commune");
            commune.push(is_commune.then(|| code.clone()));
            let mut prov = None;
            for _ in 0..4 {
                match cur {
                    Some(u) if u.level == "province" => {
                        prov = Some(u.code.clone());
                        break;
                    }
                    Some(u) => cur = u.parent_code.as_ref().and_then(|p| units.get(p)),
                    None => break,
                }
            }
            province.push(prov);
        }
        Hierarchy {
            commune,
            province,
            units,
        }
    }
}

/// The design of a campaign over its data, calibrated when possible.
pub struct Built {
    pub design: Design,
    pub note: CalibrationNote,
    /// Per calibration variable: the joint cell label of each row and the population totals.
    pub margins: Vec<Margin>,
}

/// Population margins of the sample's provinces for the campaign's calibration variables.
pub async fn population_margins(
    db: &DatabaseConnection,
    variables: &[String],
) -> Result<Vec<population_margin::Model>, AppError> {
    if variables.is_empty() {
        return Ok(Vec::new());
    }
    Ok(population_margin::Entity::find()
        .filter(population_margin::Column::Variable.is_in(variables.iter().cloned()))
        .order_by_asc(population_margin::Column::Id)
        .all(db)
        .await?)
}

/// Builds the design (and calibration) for a data set.
pub fn build_design(
    campaign: &OpenCampaign,
    data: &Dataset,
    hier: &Hierarchy,
    margins: &[population_margin::Model],
) -> Result<Built, AppError> {
    let design = base_design(campaign, data)?;
    if campaign.design.calibration.is_empty() {
        return Ok(Built {
            design,
            note: CalibrationNote::None,
            margins: Vec::new(),
        });
    }
    calibrated(campaign, data, hier, margins, design)
}

/// The design on the data's own weights, strata and clusters (no calibration).
pub(super) fn base_design(campaign: &OpenCampaign, data: &Dataset) -> Result<Design, AppError> {
    let lonely = <LonelyPsu as clap::ValueEnum>::from_str(&campaign.design.lonely_psu, true)
        .unwrap_or(LonelyPsu::Adjust);
    let stats = |e: hailong_stats::StatsError| AppError::Internal(anyhow::anyhow!("{e}"));
    Design::new(DesignSpec {
        weights: data.weight.clone(),
        strata: Some(
            Factor::from_codes(data.stratum.clone(), data.strata.labels.clone()).map_err(stats)?,
        ),
        stages: vec![Stage {
            clusters: Some(
                Factor::from_codes(data.cluster.clone(), data.clusters.labels.clone())
                    .map_err(stats)?,
            ),
            fpc: certainty_fpc(data),
        }],
        lonely_psu: lonely,
    })
    .and_then(|d| match &data.groups {
        Some(g) => d.with_group_counts(g.rows(), g.positive()),
        None => Ok(d),
    })
    .map_err(stats)
}

/// Marks a drawn purposive unit's stratum (`<stratum>#take:<code>`, see
/// [`crate::domain::sampling`]).
const TAKEN: &str = "#take:";

/// The stage-1 fpc that makes a purposive unit's stratum with a single PSU
/// a census (population 1 PSU, sampled with certainty: R `survey`'s fpc =
/// 1, which contributes no variance whatever `survey.lonely.psu` says),
/// and leaves every other stratum with replacement (fpc = ∞, as without
/// fpc). `None` when there is no such stratum, so other designs are
/// unchanged. A purposive stratum with two PSUs or more keeps its
/// between-PSU variance: its PSUs are the next stage's units.
fn certainty_fpc(data: &Dataset) -> Option<Vec<f64>> {
    let marked: Vec<bool> = data
        .strata
        .labels
        .iter()
        .map(|l| l.contains(TAKEN))
        .collect();
    if !marked.iter().any(|m| *m) {
        return None;
    }
    let mut psus: HashMap<u32, HashSet<u32>> = HashMap::new();
    for (s, c) in data.stratum.iter().zip(&data.cluster) {
        if marked.get(*s as usize).copied().unwrap_or(false) {
            psus.entry(*s).or_default().insert(*c);
        }
    }
    let single: HashSet<u32> = psus
        .into_iter()
        .filter(|(_, c)| c.len() == 1)
        .map(|(s, _)| s)
        .collect();
    if single.is_empty() {
        return None;
    }
    Some(
        data.stratum
            .iter()
            .map(|s| {
                if single.contains(s) {
                    1.0
                } else {
                    f64::INFINITY
                }
            })
            .collect(),
    )
}

/// The design calibrated to the campaign's margins, or the reason it cannot be.
fn calibrated(
    campaign: &OpenCampaign,
    data: &Dataset,
    hier: &Hierarchy,
    margins: &[population_margin::Model],
    design: Design,
) -> Result<Built, AppError> {
    match calibration_margins(data, hier, margins) {
        Ok(ms) => match design.calibrate(&Calibration::new(ms.clone())) {
            Ok(calibrated) => Ok(Built {
                design: calibrated,
                note: CalibrationNote::Calibrated {
                    variables: campaign.design.calibration.clone(),
                },
                margins: ms,
            }),
            Err(e) => Ok(Built {
                design,
                note: CalibrationNote::Skipped {
                    reason: e.to_string(),
                },
                margins: Vec::new(),
            }),
        },
        Err(reason) => Ok(Built {
            design,
            note: CalibrationNote::Skipped { reason },
            margins: Vec::new(),
        }),
    }
}

/// The joint `<province>|<category>` margins, or why they cannot be formed.
fn calibration_margins(
    data: &Dataset,
    hier: &Hierarchy,
    margins: &[population_margin::Model],
) -> Result<Vec<Margin>, String> {
    let provinces_in_sample: HashSet<&str> =
        hier.province.iter().flatten().map(String::as_str).collect();
    let mut out = Vec::new();
    for (variable, codes, interner) in &data.cells {
        let mut totals: Vec<(String, f64)> = margins
            .iter()
            .filter(|m| {
                &m.variable == variable && provinces_in_sample.contains(m.locality_code.as_str())
            })
            .map(|m| (format!("{}|{}", m.locality_code, m.category), m.total))
            .collect();
        totals.sort_by(|a, b| a.0.cmp(&b.0));
        if totals.is_empty() {
            return Err(format!("no population margins for \"{variable}\""));
        }
        let known: HashSet<&str> = totals.iter().map(|(c, _)| c.as_str()).collect();
        let mut labels = Vec::with_capacity(data.n);
        let mut missing = 0u64;
        let mut unknown = 0u64;
        for (r, (&loc, &code)) in data.locality.iter().zip(codes).enumerate() {
            let prov = hier.province.get(loc as usize).cloned().flatten();
            let cat = interner.labels.get(code as usize);
            match (prov, cat) {
                (Some(p), Some(c)) => {
                    let label = format!("{p}|{c}");
                    if !known.contains(label.as_str()) {
                        unknown += data.count(r);
                    }
                    labels.push(label);
                }
                _ => {
                    missing += data.count(r);
                    labels.push(String::new());
                }
            }
        }
        if missing > 0 {
            return Err(format!(
                "{missing} responses have no value of \"{variable}\" (or no province)"
            ));
        }
        if unknown > 0 {
            return Err(format!(
                "{unknown} responses fall in a \"{variable}\" category without a population total"
            ));
        }
        // Cells with a population total but no respondent cannot be calibrated to.
        let present: HashSet<&str> = labels.iter().map(String::as_str).collect();
        if let Some((empty, _)) = totals
            .iter()
            .find(|(c, t)| *t > 0.0 && !present.contains(c.as_str()))
        {
            return Err(format!("no respondent in the population cell \"{empty}\""));
        }
        out.push(Margin {
            variable: variable.clone(),
            values: Factor::from_labels(labels),
            totals,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::domain::campaign::DesignSettings;
    use crate::services::results::dataset::Interner;
    use crate::services::results::testkit::{Row, campaign, communes_of, dataset, sipas, unit};

    #[test]
    fn a_commune_finds_its_province_through_a_district() {
        let units: HashMap<String, entity::locality::Model> = [
            unit("00004", "commune", Some("001")),
            unit("001", "district", Some("01")),
            unit("01", "province", None),
            unit("26734", "commune", Some("79")),
            unit("79", "province", None),
        ]
        .into_iter()
        .map(|u| (u.code.clone(), u))
        .collect();
        let codes = ["00004", "26734", "79", "99999"].map(str::to_owned);
        let h = Hierarchy::place(&codes, units);
        assert_eq!(
            h.commune,
            [
                Some("00004".to_owned()),
                Some("26734".to_owned()),
                None,
                None
            ]
        );
        assert_eq!(
            h.province,
            [
                Some("01".to_owned()),
                Some("79".to_owned()),
                Some("79".to_owned()),
                None
            ]
        );
    }

    fn row<'a>(stratum: &'a str, cluster: &'a str) -> Row<'a> {
        Row {
            locality: "00004",
            stratum,
            cluster,
            weight: 1.0,
            values: &[],
        }
    }

    #[test]
    fn the_base_design_counts_psus_minus_strata_with_the_campaign_lonely_rule() {
        let data = dataset(
            0,
            &[
                row("A", "a1"),
                row("A", "a1"),
                row("A", "a2"),
                row("A", "a3"),
                row("B", "b1"),
                row("B", "b2"),
                row("B", "b3"),
            ],
        );
        let certainty = campaign(
            sipas(),
            DesignSettings {
                lonely_psu: "Certainty".to_owned(),
                ..DesignSettings::default()
            },
        );
        let d = base_design(&certainty, &data).unwrap();
        assert_eq!(d.df(), 6 - 2);
        assert_eq!(d.lonely_psu(), LonelyPsu::Certainty);
        let unknown = campaign(
            sipas(),
            DesignSettings {
                lonely_psu: "ask me".to_owned(),
                ..DesignSettings::default()
            },
        );
        assert_eq!(
            base_design(&unknown, &data).unwrap().lonely_psu(),
            LonelyPsu::Adjust
        );
        let built = build_design(&unknown, &data, &Hierarchy::default(), &[]).unwrap();
        assert_eq!(built.note, CalibrationNote::None);
        assert_eq!(built.design.weights(), data.weight.as_slice());
    }

    /// A purposive unit's stratum (`#take:`) with a single PSU is a census at
    /// stage 1 (R: fpc = 1): no lonely-PSU failure, no variance; any other
    /// lonely stratum still follows the campaign's rule.
    #[test]
    fn a_purposive_stratum_with_one_psu_is_a_census() {
        let fail = campaign(
            sipas(),
            DesignSettings {
                lonely_psu: "Fail".to_owned(),
                ..DesignSettings::default()
            },
        );
        let rows = [
            row("01#take:00004", "v1"),
            row("01#take:00004", "v1"),
            row("01", "a1"),
            row("01", "a2"),
            row("01#take:00008", "w1"),
            row("01#take:00008", "w2"),
        ];
        let data = dataset(0, &rows);
        assert_eq!(
            certainty_fpc(&data),
            Some(vec![
                1.0,
                1.0,
                f64::INFINITY,
                f64::INFINITY,
                f64::INFINITY,
                f64::INFINITY
            ])
        );
        let d = base_design(&fail, &data).unwrap();
        assert_eq!(d.lonely_psu(), LonelyPsu::Fail);
        // Without a marked stratum nothing changes; a plain lonely stratum fails.
        let plain = dataset(0, &[row("01", "a1"), row("01", "a2"), row("02", "b1")]);
        assert_eq!(certainty_fpc(&plain), None);
        assert!(base_design(&fail, &plain).is_err());
    }

    fn margin(locality: &str, category: &str, total: f64) -> population_margin::Model {
        population_margin::Model {
            id: 0,
            locality_code: locality.to_owned(),
            variable: "sex".to_owned(),
            category: category.to_owned(),
            total,
            reference_year: None,
        }
    }

    /// Four responses of commune 00004 (province 01), one PSU each, with these sexes
    /// (`None`: not known).
    fn sexed(sexes: [Option<&str>; 4]) -> (Dataset, Hierarchy) {
        let clusters = ["c1", "c2", "c3", "c4"];
        let rows: Vec<Row> = clusters.iter().map(|c| row("", c)).collect();
        let mut data = dataset(0, &rows);
        let mut categories = Interner::default();
        let codes = sexes
            .iter()
            .map(|s| s.map_or(u32::MAX, |s| categories.code(s)))
            .collect();
        data.cells = vec![("sex".to_owned(), codes, categories)];
        let hier = communes_of(&data, &[("00004", "01")]);
        (data, hier)
    }

    fn calibrating() -> OpenCampaign {
        campaign(
            sipas(),
            DesignSettings {
                calibration: vec!["sex".to_owned()],
                ..DesignSettings::default()
            },
        )
    }

    #[test]
    fn one_variable_post_stratifies_to_the_province_totals() {
        let (data, hier) = sexed([Some("F"), Some("F"), Some("M"), Some("M")]);
        let margins = [
            margin("01", "F", 60.0),
            margin("01", "M", 40.0),
            // Not a province of the sample: ignored.
            margin("79", "F", 1000.0),
        ];
        let built = build_design(&calibrating(), &data, &hier, &margins).unwrap();
        assert_eq!(
            built.note,
            CalibrationNote::Calibrated {
                variables: vec!["sex".to_owned()]
            }
        );
        let w = built.design.weights();
        for (got, want) in w.iter().zip([30.0, 30.0, 20.0, 20.0]) {
            assert!((got - want).abs() < 1e-9, "{w:?}");
        }
        assert_eq!(
            built.margins[0].totals,
            [("01|F".to_owned(), 60.0), ("01|M".to_owned(), 40.0)]
        );
    }

    /// The reason the calibration is skipped, with the weights left as they were.
    fn skipped(sexes: [Option<&str>; 4], margins: &[population_margin::Model]) -> String {
        let (data, hier) = sexed(sexes);
        let built = build_design(&calibrating(), &data, &hier, margins).unwrap();
        assert_eq!(built.design.weights(), [1.0; 4]);
        assert!(built.margins.is_empty());
        match built.note {
            CalibrationNote::Skipped { reason } => reason,
            other => panic!("not skipped: {other:?}"),
        }
    }

    #[test]
    fn calibration_is_skipped_with_its_reason_rather_than_guessed() {
        let f = Some("F");
        let m = Some("M");
        let both = [margin("01", "F", 60.0), margin("01", "M", 40.0)];
        assert_eq!(
            skipped([f, f, m, m], &[margin("79", "F", 60.0)]),
            "no population margins for \"sex\""
        );
        assert_eq!(
            skipped([f, None, m, m], &both),
            "1 responses have no value of \"sex\" (or no province)"
        );
        assert_eq!(
            skipped([f, Some("X"), Some("X"), m], &both),
            "2 responses fall in a \"sex\" category without a population total"
        );
        assert_eq!(
            skipped([f, f, f, f], &both),
            "no respondent in the population cell \"01|M\""
        );
    }

    #[test]
    fn a_response_without_a_province_cannot_be_calibrated() {
        let (data, _) = sexed([Some("F"), Some("F"), Some("M"), Some("M")]);
        let nowhere = Hierarchy::place(&data.localities.labels, HashMap::new());
        let margins = [margin("01", "F", 60.0), margin("01", "M", 40.0)];
        let built = build_design(&calibrating(), &data, &nowhere, &margins).unwrap();
        // No province in the sample, so no margin of its provinces either.
        assert_eq!(
            built.note,
            CalibrationNote::Skipped {
                reason: "no population margins for \"sex\"".to_owned()
            }
        );
    }
}
