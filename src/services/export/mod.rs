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
use std::sync::Arc;

use rand::RngExt;
use rand::seq::SliceRandom;

use sea_orm::DatabaseConnection;

use crate::domain::cells::{self};
use crate::domain::questionnaire::{Question, QuestionType};
use crate::error::AppError;
use crate::services::campaigns::OpenCampaign;
use crate::services::results::{self, DesignColumns};

mod archive;
mod codebook;
mod scripts;
mod small_area;
mod stream;
mod tables;

pub use archive::zip;
use codebook::codebook;
use scripts::{design_do, design_r};
pub use stream::{DirSink, ExportSink, ZipSink};
pub use tables::{RESULT_COLUMNS, results_csv, results_xlsx};

/// What a microdata export wrote.
#[derive(Debug, Clone)]
pub struct MicrodataExport {
    /// The files, in the order written.
    pub files: Vec<&'static str>,
    /// Rows of `microdata.csv`.
    pub rows: usize,
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

/// The answer cells of one question, each handed to `push` in column order.
fn answer_cells_into(q: &Question, a: Option<&serde_json::Value>, push: &mut dyn FnMut(&str)) {
    use serde_json::Value;
    let missing = |a: Option<&Value>| {
        matches!(a, None | Some(Value::Null))
            || a.and_then(Value::as_str)
                .is_some_and(|s| s == "dk" || s == "na")
    };
    match q.kind {
        QuestionType::ShortText | QuestionType::LongText => {}
        QuestionType::MultipleChoice => {
            let picked: Option<Vec<&str>> = a
                .and_then(Value::as_array)
                .map(|v| v.iter().filter_map(Value::as_str).collect());
            for o in &q.options {
                push(match &picked {
                    Some(p) if p.contains(&o.value.as_str()) => "1",
                    Some(_) => "0",
                    None => "",
                });
            }
        }
        _ if missing(a) => push(""),
        QuestionType::YesNo => push(match a {
            Some(Value::Bool(true)) => "1",
            Some(Value::Bool(false)) => "0",
            _ => "",
        }),
        QuestionType::Scale | QuestionType::Number => match a {
            Some(Value::Number(n)) => push(&n.to_string()),
            Some(Value::String(s)) if s.trim().parse::<f64>().is_ok() => push(s.trim()),
            _ => push(""),
        },
        QuestionType::SingleChoice => match a {
            Some(Value::String(s)) => push(s),
            Some(Value::Number(n)) => push(&n.to_string()),
            _ => push(""),
        },
    }
}

/// Said in every `notes.txt`.
const CELL_NOTE: &str = "Rows are in the order of their random submission identifiers (which \
     says nothing of when, where or how anyone answered) and PSU identifiers are random (they \
     change from one export to the next). Text cells beginning with =, +, -, @, tab or carriage return \
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

/// Writes the anonymised microdata of a campaign with its codebook and design scripts to
/// `sink`, with fresh randomness (PSU identifiers differ from one export to the next).
pub async fn microdata(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    sink: &mut dyn ExportSink,
) -> Result<MicrodataExport, AppError> {
    microdata_seeded(db, campaign, None, sink).await
}

/// [`microdata`] with the randomness (PSU identifiers, pseudonyms) drawn from ChaCha20
/// seeded with `seed` when given (e.g. a secret per publication, so exports of one
/// publication agree), else from the operating system's generator. The seed must be secret:
/// whoever knows it can tell the pseudonyms apart.
///
/// Bounded memory: the responses are read once, in id order ([`results::scan_by_id`]);
/// what the design needs of each row (locality, stratum, cluster, weight, calibration cells:
/// a few numbers) is kept, and its answer cells go to a temporary file. Then the design,
/// the calibrated weights and the small-numbers rule are computed exactly as the results
/// are, and `microdata.csv` is written row by row, each row's weights and codes joined
/// to its answer cells read back.
pub async fn microdata_seeded(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    seed: Option<[u8; 32]>,
    sink: &mut dyn ExportSink,
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

    // One read of the responses, in id order: design columns kept, answer cells set aside.
    let questions: Vec<Question> = campaign.definition.questions().cloned().collect();
    let shared = Arc::new(stream::Questions::new(questions.clone()));
    let tails = (0..results::loader::PARTS)
        .map(|part| {
            stream::AnswerTail::new(DesignColumns::new(campaign, part), Arc::clone(&shared))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let tails = results::scan_by_id(db, campaign.campaign.id, upto, tails).await?;
    let mut designs = Vec::with_capacity(tails.len());
    let mut readers = Vec::with_capacity(tails.len());
    for t in tails {
        let (design, reader) = t.into_parts()?;
        readers.push((design.len(), reader));
        designs.push(design);
    }
    let data = DesignColumns::join(designs);

    let hier = results::hierarchy(db, campaign, &data).await?;
    let margins = results::population_margins(db, &campaign.design.calibration).await?;
    let built = results::build_design(campaign, &data, &hier, &margins)?;
    let weights = built.design.weights();
    let min_n = campaign.design.min_n as usize;

    // Per stored locality (code of `data.localities`): its province and commune, and rows.
    let province_at = |loc: usize| -> Option<String> { hier.province.get(loc).cloned().flatten() };
    let commune_at = |loc: usize| -> Option<String> { hier.commune.get(loc).cloned().flatten() };
    let locs = data.localities.labels.len();
    let mut rows_at = vec![0usize; locs];
    for &loc in &data.locality {
        if let Some(n) = rows_at.get_mut(loc as usize) {
            *n += 1;
        }
    }
    // Respondents per commune and province.
    let mut per_commune: HashMap<String, usize> = HashMap::new();
    let mut per_province: HashMap<String, usize> = HashMap::new();
    for (loc, &n) in rows_at.iter().enumerate().filter(|(_, n)| **n > 0) {
        if let Some(c) = commune_at(loc) {
            *per_commune.entry(c).or_default() += n;
        }
        if let Some(p) = province_at(loc) {
            *per_province.entry(p).or_default() += n;
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
    for loc in (0..locs).filter(|&loc| rows_at[loc] > 0) {
        let (Some(c), p) = (commune_at(loc), province_at(loc).unwrap_or_default()) else {
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
    let answer_columns: Vec<String> = questions.iter().flat_map(answer_columns).collect();
    header.extend(answer_columns.iter().cloned());
    // PSUs get random identifiers (not numbered in order of appearance, which followed
    // the stored order).
    let mut psu_names: Vec<Option<String>> = vec![None; data.clusters.labels.len()];
    let mut used_names: std::collections::HashSet<String> = std::collections::HashSet::new();
    for &cluster in &data.cluster {
        let Some(slot) = psu_names.get_mut(cluster as usize) else {
            continue;
        };
        if slot.is_some() {
            continue;
        }
        let name = loop {
            let candidate = format!("P{:08x}", rng.random::<u32>());
            if used_names.insert(candidate.clone()) {
                break candidate;
            }
        };
        *slot = Some(name);
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
    let hidden_unit_at: Vec<Option<String>> = (0..locs)
        .map(|loc| {
            let province = province_at(loc).unwrap_or_default();
            if pseudonym.contains_key(&province) {
                return Some(commune_at(loc).unwrap_or(province));
            }
            commune_at(loc).filter(|c| per_commune.get(c).is_some_and(|n| *n < min_n))
        })
        .collect();
    let hidden: Vec<Hidden> = (0..data.n)
        .filter_map(|row| {
            let loc = data.locality[row] as usize;
            hidden_unit_at
                .get(loc)
                .cloned()
                .flatten()
                .map(|unit| Hidden {
                    row,
                    unit,
                    stratum: stratum_label(row),
                    province: province_at(loc).unwrap_or_default(),
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
                // A purposive unit's stratum keeps its mark (see design.R).
                let mark = if h.stratum.contains("#take:") {
                    "#take:"
                } else {
                    ""
                };
                let candidate = format!("S{:08x}{mark}", rng.random::<u32>());
                if !data.strata.labels.contains(&candidate)
                    && !hidden_strata.values().any(|v| *v == candidate)
                {
                    break candidate;
                }
            };
            hidden_strata.insert(h.stratum.clone(), label);
        }
    }
    drop(hidden);
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

    // The rows, in id order, numbered: each row's codes, as shown, per stored locality,
    // stratum, cluster and calibration cell.
    let shown_province_at: Vec<String> = (0..locs)
        .map(|loc| {
            let province = province_at(loc).unwrap_or_default();
            if pseudonym.contains_key(&province) {
                String::new()
            } else {
                province
            }
        })
        .collect();
    let shown_commune_at: Vec<String> = (0..locs)
        .map(|loc| {
            commune_at(loc)
                .filter(|c| {
                    per_commune.get(c).is_some_and(|n| *n >= min_n)
                        && !shown_province_at[loc].is_empty()
                })
                .unwrap_or_default()
        })
        .collect();
    let shown_stratum: Vec<String> = data
        .strata
        .labels
        .iter()
        .map(|s| hidden_strata.get(s).cloned().unwrap_or_else(|| mask(s)))
        .collect();
    let shown_cells: Vec<(&[u32], Vec<String>)> = built
        .margins
        .iter()
        .map(|m| {
            let levels = m.values.levels().iter().map(|l| mask(l)).collect();
            (m.values.codes(), levels)
        })
        .collect();
    // Every label as its escaped cell (`,label`), once; each row is then put together from
    // them, its row number and weights (plain numerals, never quoted) and its answer cells,
    // escaped while they were read.
    let mut esc = stream::CsvCells::default();
    let mut escaped =
        |labels: &[String]| -> Vec<Vec<u8>> { labels.iter().map(|l| esc.one(l)).collect() };
    let province_cell = escaped(&shown_province_at);
    let commune_cell = escaped(&shown_commune_at);
    let stratum_cell = escaped(&shown_stratum);
    let psu_cell = escaped(
        &psu_names
            .iter()
            .map(|p| p.clone().unwrap_or_default())
            .collect::<Vec<_>>(),
    );
    let level_cells: Vec<(&[u32], Vec<Vec<u8>>)> = shown_cells
        .iter()
        .map(|(codes, levels)| (*codes, escaped(levels)))
        .collect();
    /// The escaped cell of a code, or an empty one.
    fn pick<'a>(cells: &'a [Vec<u8>], code: Option<&u32>) -> &'a [u8] {
        code.and_then(|&c| cells.get(c as usize))
            .map_or(b",", Vec::as_slice)
    }
    let write_err =
        |e: std::io::Error| AppError::Internal(anyhow::anyhow!("writing microdata.csv: {e}"));
    {
        use std::io::Write as _;
        let out = sink.file("microdata.csv")?;
        // The header as the csv writer writes it: without a leading comma, with its
        // terminator.
        let mut header_row = Vec::new();
        for h in &header {
            esc.cell(&mut header_row, h);
        }
        header_row.push(b'\n');
        out.write_all(header_row.get(1..).unwrap_or_default())
            .map_err(write_err)?;
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
        let mut row = 0usize;
        for (n, mut reader) in readers {
            for _ in 0..n {
                let loc = data.locality.get(row);
                write!(buf, "{}", row + 1).map_err(write_err)?;
                buf.extend_from_slice(pick(&province_cell, loc));
                buf.extend_from_slice(pick(&commune_cell, loc));
                buf.extend_from_slice(pick(&stratum_cell, data.stratum.get(row)));
                buf.extend_from_slice(pick(&psu_cell, data.cluster.get(row)));
                for w in [base_weight.get(row), final_weight.get(row)] {
                    buf.push(b',');
                    if let Some(v) = w.filter(|v| v.is_finite()) {
                        write!(buf, "{v}").map_err(write_err)?;
                    }
                }
                for (codes, levels) in &level_cells {
                    buf.extend_from_slice(pick(levels, codes.get(row)));
                }
                reader.next_row(&mut buf)?;
                buf.push(b'\n');
                row += 1;
                if buf.len() >= 1 << 20 {
                    out.write_all(&buf).map_err(write_err)?;
                    buf.clear();
                }
            }
            if !reader.at_end()? {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "microdata: answer cells left over after {row} rows"
                )));
            }
        }
        out.write_all(&buf)
            .and_then(|()| out.flush())
            .map_err(write_err)?;
    }

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

    let question_refs: Vec<&Question> = questions.iter().collect();
    let codebook_csv = codebook(campaign, &question_refs, &cal_vars)?;
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
    let mut files = vec!["microdata.csv"];
    let small_area_files = small_area::files(db, campaign).await?;
    for (name, content) in [
        ("codebook.csv", codebook_csv),
        ("margins.csv", margins_csv),
        ("indices.csv", indices_csv),
        ("design.R", design_r),
        ("design.do", design_do),
        ("notes.txt", notes_txt),
    ]
    .into_iter()
    .chain(small_area_files)
    {
        sink.file(name)?
            .write_all(content.as_bytes())
            .map_err(|e| AppError::Internal(anyhow::anyhow!("writing {name}: {e}")))?;
        files.push(name);
    }
    sink.finish()?;
    Ok(MicrodataExport {
        files,
        rows: data.n,
        notes,
    })
}
