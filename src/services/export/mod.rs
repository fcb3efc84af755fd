//! Exports of results (CSV, XLSX) and of anonymised microdata with a codebook and scripts
//! that declare the design for R (`survey`) and Stata (`svyset`).
//!
//! # Microdata
//!
//! One row per response, in an arbitrary but stable order (by submission id, which is
//! random), numbered from 1; no submission id, date, channel or free text. Columns:
//!
//! * `row`, `province`, `commune`: locality codes; a commune with fewer responses than the
//!   campaign's `min_n` has an empty `commune` (merged up into its province), a province with
//!   fewer has an empty `province` too and pseudonymous stratum and calibration cells;
//! * `stratum`, `psu` (pseudonymous cluster numbers `PSU1`, `PSU2`, … in order of first
//!   appearance), `base_weight`, `weight` (after calibration);
//! * `cal_<variable>`: the `<province>|<category>` calibration cell, when the campaign is
//!   calibrated (with `margins.csv` holding their population totals);
//! * answers: scale and number questions as numbers, single choices as their value, yes/no as
//!   1/0, multiple choices as one 0/1 column per option (`<code>.<option>`); no answer,
//!   "don't know" and "not applicable" are empty. Text answers are never exported.
//!
//! `indices.csv` lists the weight of every item in every index, element and criterion
//! (`index,item,weight,min,max,reverse,satisfied_min,kind,source,options,cap,offset`; a
//! `linear` index's weights are its coefficients and `offset` its constant; see
//! [`item_source`] for `source` and `options`), which `design.R` reads.

use std::collections::{BTreeMap, HashMap};

use rand::RngExt;
use rand::seq::SliceRandom;

use sea_orm::DatabaseConnection;

use crate::domain::cells::{self};
use crate::domain::questionnaire::{Question, QuestionType};
use crate::error::AppError;
use crate::services::campaigns::OpenCampaign;
use crate::services::results::{self};

mod archive;
mod codebook;
mod scripts;
mod small_area;
mod tables;

pub use archive::zip;
use codebook::codebook;
use scripts::{design_do, design_r};
pub use tables::{RESULT_COLUMNS, results_csv, results_xlsx};

/// The files of a microdata export, by name.
#[derive(Debug, Clone)]
pub struct MicrodataExport {
    pub files: Vec<(&'static str, String)>,
    /// What the small-numbers rule did, one line each.
    pub notes: Vec<String>,
}

fn csv_err(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("writing CSV: {e}"))
}

/// Rows as CSV; every cell goes through [`cells::text`] (formula injection
/// neutralised, numerals kept).
fn csv_string(rows: &[Vec<String>]) -> Result<String, AppError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(cells::record(r)).map_err(csv_err)?;
    }
    let bytes = w.into_inner().map_err(csv_err)?;
    String::from_utf8(bytes).map_err(csv_err)
}

/// A number as CSV text: shortest round-trip form, empty when missing.
fn num(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v}"),
        _ => String::new(),
    }
}

/// How `design.R` makes an item's value from the microdata (`indices.csv`'s `source`,
/// `options` and `cap`): a scale or number column as it is (capped), a yes/no column's 1/0,
/// a choice's options that count (`a|b`), or, for a derived "all satisfied" item, its parts
/// as `code:min:max:reverse:satisfied_min` separated by `|`.
fn item_source(
    p: &results::ItemPlan,
    items: &HashMap<&str, &results::ItemPlan>,
) -> (&'static str, String, Option<f64>) {
    match &p.source {
        results::ItemSource::Scale => ("scale", String::new(), None),
        results::ItemSource::Number { cap } => ("number", String::new(), *cap),
        results::ItemSource::YesNo => ("yes_no", String::new(), None),
        results::ItemSource::Choice { options } => ("choice", options.join("|"), None),
        results::ItemSource::AllSatisfied { parts } => (
            "all",
            parts
                .iter()
                .filter_map(|c| items.get(c.as_str()))
                .map(|q| {
                    format!(
                        "{}:{}:{}:{}:{}",
                        q.code,
                        q.min,
                        q.max,
                        u8::from(q.reverse),
                        q.satisfied_min
                    )
                })
                .collect::<Vec<_>>()
                .join("|"),
            None,
        ),
    }
}

/// The answer columns of one question.
fn answer_columns(q: &Question) -> Vec<String> {
    match q.kind {
        QuestionType::MultipleChoice => q
            .options
            .iter()
            .map(|o| format!("{}.{}", q.code, o.value))
            .collect(),
        QuestionType::ShortText | QuestionType::LongText => Vec::new(),
        _ => vec![q.code.clone()],
    }
}

fn answer_cells(q: &Question, a: Option<&serde_json::Value>) -> Vec<String> {
    use serde_json::Value;
    let missing = |a: Option<&Value>| {
        matches!(a, None | Some(Value::Null))
            || a.and_then(Value::as_str)
                .is_some_and(|s| s == "dk" || s == "na")
    };
    match q.kind {
        QuestionType::ShortText | QuestionType::LongText => Vec::new(),
        QuestionType::MultipleChoice => {
            let picked: Option<Vec<&str>> = a
                .and_then(Value::as_array)
                .map(|v| v.iter().filter_map(Value::as_str).collect());
            q.options
                .iter()
                .map(|o| match &picked {
                    Some(p) => if p.contains(&o.value.as_str()) {
                        "1"
                    } else {
                        "0"
                    }
                    .to_owned(),
                    None => String::new(),
                })
                .collect()
        }
        _ if missing(a) => vec![String::new()],
        QuestionType::YesNo => vec![match a {
            Some(Value::Bool(true)) => "1".to_owned(),
            Some(Value::Bool(false)) => "0".to_owned(),
            _ => String::new(),
        }],
        QuestionType::Scale | QuestionType::Number => vec![match a {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) if s.trim().parse::<f64>().is_ok() => s.trim().to_owned(),
            _ => String::new(),
        }],
        QuestionType::SingleChoice => vec![match a {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }],
    }
}

/// Said in every `notes.txt`.
const CELL_NOTE: &str = "Rows are in random order and PSU identifiers are random (both change \
     from one export to the next). Text cells beginning with =, +, -, @, tab or carriage return \
     start with ' so that spreadsheet programs do not run them as formulas.\n";

/// A row of a hidden unit (merged-up commune or left-out province).
struct Hidden {
    row: usize,
    unit: String,
    stratum: String,
    province: String,
}

/// What [`blend_weights`] did.
#[derive(Debug, Default)]
struct Blended {
    /// Provinces whose rows got blended weights.
    provinces: std::collections::BTreeSet<String>,
    /// A group of a single unit was left as it was (nothing to blend with).
    unblended: bool,
}

/// Replaces the base and final weights of hidden rows by their group's mean, which keeps the
/// group's total weight (so totals over the stratum, province and country stay the same),
/// and leaves every other row alone, so provinces without hidden rows keep their published
/// numbers exactly. A group is the hidden rows of a stratum when they come from at least two
/// units; a stratum holding one hidden unit only joins the province's pool, and a province
/// with one only, the national pool (blending one unit with itself would leave its own
/// weight, which with a known population finds the unit again).
fn blend_weights(hidden: &[Hidden], base: &mut [f64], fin: &mut [f64]) -> Blended {
    use std::collections::{BTreeMap, BTreeSet};
    let units = |rows: &[&Hidden]| rows.iter().map(|h| &h.unit).collect::<BTreeSet<_>>().len();
    let mut by_stratum: BTreeMap<&str, Vec<&Hidden>> = BTreeMap::new();
    for h in hidden {
        by_stratum.entry(&h.stratum).or_default().push(h);
    }
    let mut groups: Vec<Vec<&Hidden>> = Vec::new();
    let mut by_province: BTreeMap<&str, Vec<&Hidden>> = BTreeMap::new();
    for (_, rows) in by_stratum {
        if units(&rows) >= 2 {
            groups.push(rows);
        } else {
            for h in rows {
                by_province.entry(&h.province).or_default().push(h);
            }
        }
    }
    let mut national: Vec<&Hidden> = Vec::new();
    for (_, rows) in by_province {
        if units(&rows) >= 2 {
            groups.push(rows);
        } else {
            national.extend(rows);
        }
    }
    let mut out = Blended::default();
    if !national.is_empty() {
        out.unblended = units(&national) < 2;
        groups.push(national);
    }
    for g in groups {
        let n = g.len() as f64;
        let mean = |w: &[f64]| g.iter().filter_map(|h| w.get(h.row)).sum::<f64>() / n;
        let (b, f) = (mean(base), mean(fin));
        for h in &g {
            if let Some(x) = base.get_mut(h.row) {
                *x = b;
            }
            if let Some(x) = fin.get_mut(h.row) {
                *x = f;
            }
            out.provinces.insert(h.province.clone());
        }
    }
    out
}

/// Builds the anonymised microdata of a campaign with its codebook and design scripts, with
/// fresh randomness (PSU identifiers and row order differ from one export to the next).
pub async fn microdata(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
) -> Result<MicrodataExport, AppError> {
    microdata_seeded(db, campaign, None).await
}

/// [`microdata`] with the randomness (PSU identifiers, row order) drawn from ChaCha20 seeded
/// with `seed` when given (e.g. a secret per publication, so exports of one publication agree),
/// else from the operating system's generator. The seed must be secret: whoever knows it can
/// undo the shuffle.
pub async fn microdata_seeded(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    seed: Option<[u8; 32]>,
) -> Result<MicrodataExport, AppError> {
    use rand::SeedableRng;
    let mut rng = match seed {
        Some(seed) => rand_chacha::ChaCha20Rng::from_seed(seed),
        None => rand_chacha::ChaCha20Rng::from_rng(&mut rand::rng()),
    };
    let plan = results::plan(&campaign.definition);
    // The responses of the latest publication, the set its published numbers come from.
    let upto = super::publication::latest(db, campaign.campaign.id)
        .await?
        .ok_or(AppError::NotFound("not_published"))?
        .number;
    let data = results::load_dataset(db, campaign, &plan, true, upto).await?;
    let hier = results::hierarchy(db, campaign, &data).await?;
    let margins = results::population_margins(db, &campaign.design.calibration).await?;
    let built = results::build_design(campaign, &data, &hier, &margins)?;
    let weights = built.design.weights();
    let min_n = campaign.design.min_n as usize;

    // Respondents per commune and province.
    let province_of = |row: usize| -> Option<String> {
        hier.province
            .get(data.locality[row] as usize)
            .cloned()
            .flatten()
    };
    let commune_of = |row: usize| -> Option<String> {
        hier.commune
            .get(data.locality[row] as usize)
            .cloned()
            .flatten()
    };
    let mut per_commune: HashMap<String, usize> = HashMap::new();
    let mut per_province: HashMap<String, usize> = HashMap::new();
    for row in 0..data.n {
        if let Some(c) = commune_of(row) {
            *per_commune.entry(c).or_default() += 1;
        }
        if let Some(p) = province_of(row) {
            *per_province.entry(p).or_default() += 1;
        }
    }
    // What the small-numbers rule hides is said without naming a hidden unit or printing
    // its size (a size, a name or a sorted pseudonym would find its rows again).
    let mut notes = Vec::new();
    let mut hidden_provinces: Vec<&String> = per_province
        .iter()
        .filter(|(_, n)| **n < min_n)
        .map(|(p, _)| p)
        .collect();
    hidden_provinces.shuffle(&mut rng);
    let pseudonym: HashMap<String, String> = hidden_provinces
        .iter()
        .enumerate()
        .map(|(i, p)| ((*p).clone(), format!("X{}", i + 1)))
        .collect();
    if !hidden_provinces.is_empty() {
        notes.push(format!(
            "{} province(s) with fewer than {min_n} responses left out (province and commune \
             empty, strata and calibration cells pseudonymous X1, X2, … in random order)",
            hidden_provinces.len()
        ));
    }
    let mut merged_per_province: BTreeMap<String, std::collections::BTreeSet<String>> =
        BTreeMap::new();
    for row in 0..data.n {
        let (Some(c), p) = (commune_of(row), province_of(row).unwrap_or_default()) else {
            continue;
        };
        if per_commune.get(&c).is_some_and(|n| *n < min_n) && !pseudonym.contains_key(&p) {
            merged_per_province.entry(p).or_default().insert(c);
        }
    }
    for (p, communes) in &merged_per_province {
        let k = communes.len();
        notes.push(format!(
            "province {p}: {k} commune(s) with fewer than {min_n} responses merged up into the \
             province (commune empty; sizes not shown)"
        ));
    }
    let mask = |code: &str| -> String {
        let mut s = code.to_owned();
        for (p, x) in &pseudonym {
            if s.starts_with(p.as_str()) {
                s = format!("{x}{}", &s[p.len()..]);
            }
        }
        s
    };

    // Header.
    let cal_vars: Vec<String> = if built.margins.is_empty() {
        Vec::new()
    } else {
        built.margins.iter().map(|m| m.variable.clone()).collect()
    };
    let questions: Vec<&Question> = campaign.definition.questions().collect();
    let mut header: Vec<String> = [
        "row",
        "province",
        "commune",
        "stratum",
        "psu",
        "base_weight",
        "weight",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    header.extend(cal_vars.iter().map(|v| format!("cal_{v}")));
    for q in &questions {
        header.extend(answer_columns(q));
    }
    // PSUs get random identifiers (not numbered in order of appearance, which followed
    // the stored order).
    let mut psu_names: HashMap<u32, String> = HashMap::new();
    let mut used_names: std::collections::HashSet<String> = std::collections::HashSet::new();
    for row in 0..data.n {
        if psu_names.contains_key(&data.cluster[row]) {
            continue;
        }
        let name = loop {
            let candidate = format!("P{:08x}", rng.random::<u32>());
            if used_names.insert(candidate.clone()) {
                break candidate;
            }
        };
        psu_names.insert(data.cluster[row], name);
    }
    let stratum_label = |row: usize| -> String {
        data.strata
            .labels
            .get(data.stratum[row] as usize)
            .cloned()
            .unwrap_or_default()
    };
    // Rows of hidden units (a merged-up commune, a left-out province): their own base
    // weights would find them again, so they are blended (see `blend_weights`).
    let hidden_unit = |row: usize| -> Option<String> {
        let province = province_of(row).unwrap_or_default();
        if pseudonym.contains_key(&province) {
            return Some(commune_of(row).unwrap_or(province));
        }
        commune_of(row).filter(|c| per_commune.get(c).is_some_and(|n| *n < min_n))
    };
    let hidden: Vec<Hidden> = (0..data.n)
        .filter_map(|row| {
            hidden_unit(row).map(|unit| Hidden {
                row,
                unit,
                stratum: stratum_label(row),
                province: province_of(row).unwrap_or_default(),
            })
        })
        .collect();
    let mut base_weight: Vec<f64> = data.weight.clone();
    let mut final_weight: Vec<f64> = weights.to_vec();
    let blended = blend_weights(&hidden, &mut base_weight, &mut final_weight);
    // A stratum named after a hidden commune (a design stratified by commune)
    // would name it again: such strata get random labels (the same label for
    // every row of the stratum, so the design is unchanged).
    let mut hidden_strata: HashMap<String, String> = HashMap::new();
    for h in &hidden {
        if !h.unit.is_empty()
            && h.stratum.contains(h.unit.as_str())
            && !hidden_strata.contains_key(&h.stratum)
        {
            let label = loop {
                let candidate = format!("S{:08x}", rng.random::<u32>());
                if !data.strata.labels.contains(&candidate)
                    && !hidden_strata.values().any(|v| *v == candidate)
                {
                    break candidate;
                }
            };
            hidden_strata.insert(h.stratum.clone(), label);
        }
    }
    for p in &blended.provinces {
        if !pseudonym.contains_key(p) {
            notes.push(format!(
                "province {p}: weights blended: the rows of its merged-up communes carry the \
                 average weight of their group (the group's total weight is kept), so estimates \
                 for this province from these files differ slightly from the published ones; \
                 other provinces are not affected"
            ));
        }
    }
    if blended.unblended {
        notes.push(
            "one merged-up unit only: its weight could not be blended with another's".to_owned(),
        );
    }

    let mut body = Vec::with_capacity(data.n);
    for row in 0..data.n {
        let province = province_of(row).unwrap_or_default();
        let shown_province = if pseudonym.contains_key(&province) {
            String::new()
        } else {
            province.clone()
        };
        let commune = commune_of(row)
            .filter(|c| {
                per_commune.get(c).is_some_and(|n| *n >= min_n) && !shown_province.is_empty()
            })
            .unwrap_or_default();
        let psu = psu_names
            .get(&data.cluster[row])
            .cloned()
            .unwrap_or_default();
        let stratum = stratum_label(row);
        let mut r = vec![
            String::new(),
            shown_province,
            commune,
            hidden_strata
                .get(&stratum)
                .cloned()
                .unwrap_or_else(|| mask(&stratum)),
            psu,
            num(base_weight.get(row).copied()),
            num(final_weight.get(row).copied()),
        ];
        for m in &built.margins {
            r.push(mask(m.values.label(row).unwrap_or_default()));
        }
        let answers = data.answers.get(row);
        for q in &questions {
            r.extend(answer_cells(q, answers.and_then(|a| a.get(&q.code))));
        }
        body.push(r);
    }
    // Rows in random order, numbered afterwards.
    body.shuffle(&mut rng);
    let mut rows = Vec::with_capacity(body.len() + 1);
    rows.push(header);
    for (i, mut r) in body.into_iter().enumerate() {
        r[0] = (i + 1).to_string();
        rows.push(r);
    }
    let microdata_csv = csv_string(&rows)?;

    // Margins of the calibration cells.
    let mut margin_rows = vec![vec![
        "variable".to_owned(),
        "category".to_owned(),
        "total".to_owned(),
    ]];
    for m in &built.margins {
        for (cat, total) in &m.totals {
            margin_rows.push(vec![
                format!("cal_{}", m.variable),
                mask(cat),
                num(Some(*total)),
            ]);
        }
    }
    let margins_csv = csv_string(&margin_rows)?;

    // Index weights.
    let items: HashMap<&str, &results::ItemPlan> =
        plan.items.iter().map(|i| (i.code.as_str(), i)).collect();
    let mut index_rows = vec![
        [
            "index",
            "item",
            "weight",
            "min",
            "max",
            "reverse",
            "satisfied_min",
            "kind",
            "source",
            "options",
            "cap",
            "offset",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect::<Vec<_>>(),
    ];
    for spec in &plan.indices {
        let linear = spec.kind == hailong_stats::IndexKind::Linear;
        let total: f64 = if linear {
            1.0
        } else {
            spec.items.iter().map(|(_, w)| w).sum()
        };
        for (item, w) in &spec.items {
            let Some(p) = items.get(item.as_str()) else {
                continue;
            };
            let (source, options, cap) = item_source(p, &items);
            index_rows.push(vec![
                spec.name.clone(),
                item.clone(),
                num(Some(w / total)),
                p.min.to_string(),
                p.max.to_string(),
                if p.reverse { "1" } else { "0" }.to_owned(),
                p.satisfied_min.to_string(),
                match spec.kind {
                    hailong_stats::IndexKind::Shares => "shares",
                    hailong_stats::IndexKind::Score => "score",
                    hailong_stats::IndexKind::PooledShare => "pooled_share",
                    hailong_stats::IndexKind::Linear => "linear",
                    hailong_stats::IndexKind::Proportion => "proportion",
                }
                .to_owned(),
                source.to_owned(),
                options,
                num(cap),
                num(Some(spec.offset)),
            ]);
        }
    }
    let indices_csv = csv_string(&index_rows)?;

    let codebook_csv = codebook(campaign, &questions, &cal_vars)?;
    let lonely = campaign.design.lonely_psu.to_lowercase();
    let main = campaign
        .design
        .main_index
        .clone()
        .or_else(|| campaign.definition.indices.first().map(|i| i.code.clone()))
        .unwrap_or_default();
    let design_r = design_r(&campaign.campaign.slug, &lonely, &cal_vars, &main)?;
    let design_do = design_do(&campaign.campaign.slug, &lonely, &plan, &main)?;
    if let results::CalibrationNote::Skipped { reason } = &built.note {
        notes.push(format!("not calibrated: {reason}"));
    }
    let notes_txt = if notes.is_empty() {
        format!("No locality was merged up or left out.\n{CELL_NOTE}")
    } else {
        notes.join("\n") + "\n" + CELL_NOTE
    };
    let small_area_files = small_area::files(db, campaign).await?;
    Ok(MicrodataExport {
        files: vec![
            ("microdata.csv", microdata_csv),
            ("codebook.csv", codebook_csv),
            ("margins.csv", margins_csv),
            ("indices.csv", indices_csv),
            ("design.R", design_r),
            ("design.do", design_do),
            ("notes.txt", notes_txt),
        ]
        .into_iter()
        .chain(small_area_files)
        .collect(),
        notes,
    })
}
