//! `hailong estimate`: design-based estimates from a CSV file, as JSON or CSV on stdout.
//!
//! ```text
//! hailong estimate --input FILE.csv --items q1,q2,… [--weight COL] [--strata COL]
//!   [--psu COL[,COL2]] [--fpc COL[,COL2]] [--by COL] [--satisfied-min 4]
//!   [--index NAME=ITEM[:WEIGHT],…]… [--pooled NAME=…]… [--score NAME=…]… [--scale 1,5]
//!   [--calibrate MARGINS.csv] [--ci logit|wilson|beta|t]
//!   [--level 0.95] [--lonely-psu fail|remove|certainty|adjust|average] [--format json|csv]
//! ```
//!
//! * Empty cells are missing answers. Line numbers in errors are lines of the file (the header
//!   is line 1).
//! * `MARGINS.csv` has the header `variable,category,total`; `variable` names an input column,
//!   `category` one of its values (compared as text). One variable means post-stratification,
//!   several mean raking (in the order the variables first appear).
//! * `--format json` writes exactly one JSON array of records `{domain, item, statistic, n,
//!   estimate, se, df, ci_low, ci_high, deff}`; `--format csv` the same columns with empty
//!   cells for nulls. Warnings and progress go to the error stream.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use thiserror::Error;

use crate::calibration::{Calibration, Margin};
use crate::design::{Design, DesignSpec, LonelyPsu, Stage};
use crate::error::StatsError;
use crate::estimate::{
    Domains, Estimate, EstimateOptions, Estimator, IndexKind, IndexSpec, Item, Statistic,
};
use crate::factor::Factor;
use crate::intervals::CiMethod;

/// Output format of `hailong estimate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// One JSON array of records.
    #[default]
    Json,
    /// CSV with a header row; empty cells for nulls.
    Csv,
}

/// Arguments of `hailong estimate` (flatten into the application's clap command).
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct EstimateArgs {
    /// CSV file, one row per respondent, header first; empty cells are missing answers.
    #[arg(long, value_name = "FILE.csv")]
    pub input: PathBuf,
    /// Item columns to estimate, comma-separated (answers are numbers, e.g. 1–5).
    #[arg(long, value_delimiter = ',', required = true, value_name = "q1,q2,…")]
    pub items: Vec<String>,
    /// Column of sampling weights (default: every weight 1).
    #[arg(long, value_name = "COL")]
    pub weight: Option<String>,
    /// Column of strata.
    #[arg(long, value_name = "COL")]
    pub strata: Option<String>,
    /// Cluster columns, one per sampling stage (default: every row is its own PSU).
    #[arg(long, value_delimiter = ',', value_name = "COL[,COL2]")]
    pub psu: Vec<String>,
    /// Finite population correction per stage: population size, or sampling fraction when < 1.
    #[arg(long, value_delimiter = ',', value_name = "COL[,COL2]")]
    pub fpc: Vec<String>,
    /// Column whose values define the domains (default: one domain, ALL).
    #[arg(long, value_name = "COL")]
    pub by: Option<String>,
    /// Smallest answer that counts as "satisfied".
    #[arg(long, default_value_t = 4.0, value_name = "X")]
    pub satisfied_min: f64,
    /// Composite index: weighted mean of the items' "satisfied" shares (repeatable).
    #[arg(long = "index", value_parser = parse_index, value_name = "NAME=ITEM[:WEIGHT],…")]
    pub index: Vec<IndexSpec>,
    /// Pooled share satisfied: satisfied answers over all answers of the items, a ratio of
    /// weighted totals (repeatable; R: `svyratio`).
    #[arg(long = "pooled", value_parser = parse_index, value_name = "NAME=ITEM[:WEIGHT],…")]
    pub pooled: Vec<IndexSpec>,
    /// Score: weighted mean of the items' means rescaled to 0–1 by `--scale` (repeatable).
    #[arg(long = "score", value_parser = parse_index, value_name = "NAME=ITEM[:WEIGHT],…")]
    pub score: Vec<IndexSpec>,
    /// Answer scale of every item, for `--score`.
    #[arg(long, value_delimiter = ',', default_values_t = [1.0, 5.0], value_name = "MIN,MAX")]
    pub scale: Vec<f64>,
    /// Population margins (variable,category,total) to post-stratify (one variable) or rake to.
    #[arg(long, value_name = "MARGINS.csv")]
    pub calibrate: Option<PathBuf>,
    /// Interval for "satisfied" shares.
    #[arg(long, value_enum, default_value_t = CiMethod::Logit)]
    pub ci: CiMethod,
    /// Confidence level.
    #[arg(long, default_value_t = 0.95, value_name = "P")]
    pub level: f64,
    /// Treatment of strata with a single PSU (as R's options(survey.lonely.psu=)).
    #[arg(long, value_enum, default_value_t = LonelyPsu::Fail)]
    pub lonely_psu: LonelyPsu,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
    pub format: OutputFormat,
}

/// Parses `NAME=ITEM[:WEIGHT],…` (weights default to 1).
pub fn parse_index(text: &str) -> Result<IndexSpec, String> {
    let (name, list) = text
        .split_once('=')
        .ok_or_else(|| format!("index \"{text}\" must look like NAME=ITEM[:WEIGHT],…"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("index \"{text}\" has no name"));
    }
    let mut items = Vec::new();
    for part in list.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (item, weight) = match part.split_once(':') {
            Some((i, w)) => {
                let w: f64 = w
                    .trim()
                    .parse()
                    .map_err(|_| format!("index \"{name}\": weight \"{w}\" is not a number"))?;
                (i.trim(), w)
            }
            None => (part, 1.0),
        };
        if !(weight.is_finite() && weight > 0.0) {
            return Err(format!(
                "index \"{name}\": weight of \"{item}\" must be a positive number"
            ));
        }
        items.push((item.to_owned(), weight));
    }
    if items.is_empty() {
        return Err(format!("index \"{name}\" has no items"));
    }
    Ok(IndexSpec::shares(name, items))
}

/// Errors of `hailong estimate`: one line, naming the file, line and column where it applies.
#[derive(Debug, Error)]
pub enum EstimateError {
    /// A file could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not well-formed CSV.
    #[error("{}, line {line}: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// Line of the record.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A column named on the command line (or in the margins) is not in the header.
    #[error("{}: no column \"{column}\" (columns: {available})", path.display())]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The missing column.
        column: String,
        /// The header's columns, comma-separated.
        available: String,
    },
    /// A value that cannot be used, e.g. `line 17, column "weight": negative weight -2`.
    #[error("line {line}, column \"{column}\": {message}")]
    Value {
        /// Line of the input file (the header is line 1).
        line: u64,
        /// Column name.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// A problem with the margins file.
    #[error("{}, line {line}: {message}", path.display())]
    Margins {
        /// The margins file.
        path: PathBuf,
        /// Line in the margins file.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// Inconsistent command-line arguments.
    #[error("{0}")]
    Argument(String),
    /// An error of the estimation engine (lonely PSU, raking not converging, …).
    #[error(transparent)]
    Stats(StatsError),
    /// The output could not be written.
    #[error("cannot write the output: {0}")]
    Output(std::io::Error),
}

/// A survey loaded from CSV: the design, the domains of `--by`, items, indices, and the file
/// line of every row (to report errors by line).
#[derive(Debug, Clone)]
pub struct Survey {
    /// The (calibrated, if `--calibrate`) design.
    pub design: Design,
    /// Domains of `--by`, or `ALL`.
    pub domains: Domains,
    /// Item columns.
    pub items: Vec<Item>,
    /// Composite indices.
    pub indices: Vec<IndexSpec>,
    /// File line of each row.
    pub lines: Vec<u64>,
}

impl Survey {
    fn stats_error(&self, e: StatsError) -> EstimateError {
        stats_error(e, &self.lines)
    }
}

fn stats_error(e: StatsError, lines: &[u64]) -> EstimateError {
    match e {
        StatsError::Value {
            row,
            column,
            message,
        } => EstimateError::Value {
            line: lines.get(row).copied().unwrap_or(row as u64 + 2),
            column,
            message,
        },
        other => EstimateError::Stats(other),
    }
}

/// Categorical column being read: text → code, with a one-entry cache for sorted data.
struct Interner {
    map: HashMap<Vec<u8>, u32>,
    labels: Vec<String>,
    codes: Vec<u32>,
    last: Option<(Vec<u8>, u32)>,
}

impl Interner {
    fn new(capacity: usize) -> Interner {
        Interner {
            map: HashMap::new(),
            labels: Vec::new(),
            codes: Vec::with_capacity(capacity),
            last: None,
        }
    }

    #[inline]
    fn push(&mut self, value: &[u8]) {
        if let Some((bytes, code)) = &self.last
            && bytes.as_slice() == value
        {
            self.codes.push(*code);
            return;
        }
        let code = match self.map.get(value) {
            Some(&c) => c,
            None => {
                let c = self.labels.len() as u32;
                self.map.insert(value.to_vec(), c);
                self.labels
                    .push(String::from_utf8_lossy(value).into_owned());
                c
            }
        };
        match &mut self.last {
            Some((bytes, last_code)) => {
                bytes.clear();
                bytes.extend_from_slice(value);
                *last_code = code;
            }
            None => self.last = Some((value.to_vec(), code)),
        }
        self.codes.push(code);
    }

    fn into_factor(self) -> Result<Factor, StatsError> {
        Factor::from_codes(self.codes, self.labels)
    }
}

/// Parses a number cell; `Ok(None)` for an empty cell.
#[inline]
fn parse_number(bytes: &[u8]) -> Result<Option<f64>, ()> {
    match bytes {
        [] => Ok(None),
        [d @ b'0'..=b'9'] => Ok(Some(f64::from(d - b'0'))),
        _ => {
            let text = std::str::from_utf8(bytes).map_err(|_| ())?.trim();
            if text.is_empty() {
                return Ok(None);
            }
            let x: f64 = text.parse().map_err(|_| ())?;
            if x.is_finite() { Ok(Some(x)) } else { Err(()) }
        }
    }
}

fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn open_csv(path: &Path) -> Result<csv::Reader<File>, EstimateError> {
    let file = File::open(path).map_err(|source| EstimateError::Io {
        path: path.to_owned(),
        source,
    })?;
    Ok(csv::ReaderBuilder::new()
        .has_headers(true)
        .buffer_capacity(1 << 20)
        .from_reader(file))
}

fn csv_error(path: &Path, e: csv::Error) -> EstimateError {
    let line = e.position().map_or(0, csv::Position::line);
    let message = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(source) => EstimateError::Io {
            path: path.to_owned(),
            source,
        },
        _ => EstimateError::Csv {
            path: path.to_owned(),
            line,
            message,
        },
    }
}

fn headers(path: &Path, reader: &mut csv::Reader<File>) -> Result<Vec<String>, EstimateError> {
    let h = reader.headers().map_err(|e| csv_error(path, e))?;
    Ok(h.iter()
        .enumerate()
        .map(|(i, s)| {
            if i == 0 {
                s.trim_start_matches('\u{feff}').to_owned()
            } else {
                s.to_owned()
            }
        })
        .collect())
}

fn column(path: &Path, header: &[String], name: &str) -> Result<usize, EstimateError> {
    header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| EstimateError::MissingColumn {
            path: path.to_owned(),
            column: name.to_owned(),
            available: header.join(","),
        })
}

/// The margins of one variable: its name and `(category, total)` pairs.
type VariableMargins = (String, Vec<(String, f64)>);

/// Reads `variable,category,total`; variables in order of first appearance.
fn read_margins(path: &Path) -> Result<Vec<VariableMargins>, EstimateError> {
    let mut reader = open_csv(path)?;
    let header = headers(path, &mut reader)?;
    let cv = column(path, &header, "variable")?;
    let cc = column(path, &header, "category")?;
    let ct = column(path, &header, "total")?;
    let mut out: Vec<VariableMargins> = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| csv_error(path, e))?;
        let line = rec.position().map_or(0, csv::Position::line);
        let get = |i: usize| rec.get(i).unwrap_or_default();
        let total_text = get(ct).trim();
        let total: f64 = total_text.parse().map_err(|_| EstimateError::Margins {
            path: path.to_owned(),
            line,
            message: format!("total \"{total_text}\" is not a number"),
        })?;
        let variable = get(cv).to_owned();
        if variable.is_empty() {
            return Err(EstimateError::Margins {
                path: path.to_owned(),
                line,
                message: "empty variable name".into(),
            });
        }
        let entry = (get(cc).to_owned(), total);
        match out.iter_mut().find(|(v, _)| *v == variable) {
            Some((_, list)) => list.push(entry),
            None => out.push((variable, vec![entry])),
        }
    }
    if out.is_empty() {
        return Err(EstimateError::Margins {
            path: path.to_owned(),
            line: 1,
            message: "no margins".into(),
        });
    }
    Ok(out)
}

/// Reads the CSV and builds the design, domains, items and indices described by `args`.
pub fn load(args: &EstimateArgs) -> Result<Survey, EstimateError> {
    if args.items.is_empty() {
        return Err(EstimateError::Argument("--items names no column".into()));
    }
    let stages = args.psu.len().max(1);
    if args.fpc.len() > stages {
        return Err(EstimateError::Argument(format!(
            "--fpc gives {} columns but the design has {stages} stage(s) (--psu)",
            args.fpc.len()
        )));
    }
    if !args.satisfied_min.is_finite() {
        return Err(EstimateError::Argument(
            "--satisfied-min must be a number".into(),
        ));
    }
    let margins = match &args.calibrate {
        Some(p) => Some((p, read_margins(p)?)),
        None => None,
    };

    let path = args.input.as_path();
    let mut reader = open_csv(path)?;
    let header = headers(path, &mut reader)?;
    let item_cols: Vec<usize> = args
        .items
        .iter()
        .map(|c| column(path, &header, c))
        .collect::<Result<_, _>>()?;
    let weight_col = args
        .weight
        .as_deref()
        .map(|c| column(path, &header, c))
        .transpose()?;
    let strata_col = args
        .strata
        .as_deref()
        .map(|c| column(path, &header, c))
        .transpose()?;
    let psu_cols: Vec<usize> = args
        .psu
        .iter()
        .map(|c| column(path, &header, c))
        .collect::<Result<_, _>>()?;
    let fpc_cols: Vec<usize> = args
        .fpc
        .iter()
        .map(|c| column(path, &header, c))
        .collect::<Result<_, _>>()?;
    let by_col = args
        .by
        .as_deref()
        .map(|c| column(path, &header, c))
        .transpose()?;
    let cal_cols: Vec<usize> = match &margins {
        Some((_, m)) => m
            .iter()
            .map(|(v, _)| column(path, &header, v))
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };

    let capacity = 1024;
    let mut items: Vec<Vec<f64>> = item_cols
        .iter()
        .map(|_| Vec::with_capacity(capacity))
        .collect();
    let mut weights: Vec<f64> = Vec::with_capacity(capacity);
    let mut strata = strata_col.map(|_| Interner::new(capacity));
    let mut psu: Vec<Interner> = psu_cols.iter().map(|_| Interner::new(capacity)).collect();
    let mut fpc: Vec<Vec<f64>> = fpc_cols
        .iter()
        .map(|_| Vec::with_capacity(capacity))
        .collect();
    let mut by = by_col.map(|_| Interner::new(capacity));
    let mut cal: Vec<Interner> = cal_cols.iter().map(|_| Interner::new(capacity)).collect();
    let mut lines: Vec<u64> = Vec::with_capacity(capacity);

    let mut rec = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(path, e)),
        }
        let line = rec.position().map_or(0, csv::Position::line);
        lines.push(line);
        let field = |i: usize| rec.get(i).unwrap_or_default();
        let bad = |col: usize, message: String| EstimateError::Value {
            line,
            column: header[col].clone(),
            message,
        };
        for (values, &col) in items.iter_mut().zip(&item_cols) {
            let raw = field(col);
            match parse_number(raw) {
                Ok(Some(x)) => values.push(x),
                Ok(None) => values.push(f64::NAN),
                Err(()) => {
                    return Err(bad(
                        col,
                        format!("answer \"{}\" is not a number", show(raw)),
                    ));
                }
            }
        }
        match weight_col {
            Some(col) => {
                let raw = field(col);
                match parse_number(raw) {
                    Ok(Some(w)) if w >= 0.0 => weights.push(w),
                    Ok(Some(w)) => return Err(bad(col, format!("negative weight {w}"))),
                    Ok(None) => return Err(bad(col, "missing weight".into())),
                    Err(()) => {
                        return Err(bad(
                            col,
                            format!("weight \"{}\" is not a number", show(raw)),
                        ));
                    }
                }
            }
            None => weights.push(1.0),
        }
        if let (Some(int), Some(col)) = (strata.as_mut(), strata_col) {
            let raw = field(col);
            if raw.is_empty() {
                return Err(bad(col, "empty stratum".into()));
            }
            int.push(raw);
        }
        for (int, &col) in psu.iter_mut().zip(&psu_cols) {
            let raw = field(col);
            if raw.is_empty() {
                return Err(bad(col, "empty cluster id".into()));
            }
            int.push(raw);
        }
        for (values, &col) in fpc.iter_mut().zip(&fpc_cols) {
            let raw = field(col);
            match parse_number(raw) {
                Ok(Some(x)) => values.push(x),
                Ok(None) => return Err(bad(col, "missing fpc".into())),
                Err(()) => {
                    let text = show(raw);
                    if text.trim().eq_ignore_ascii_case("inf") {
                        values.push(f64::INFINITY);
                    } else {
                        return Err(bad(col, format!("fpc \"{text}\" is not a number")));
                    }
                }
            }
        }
        if let (Some(int), Some(col)) = (by.as_mut(), by_col) {
            let raw = field(col);
            if raw.is_empty() {
                return Err(bad(col, "empty value in the --by column".into()));
            }
            int.push(raw);
        }
        for (int, &col) in cal.iter_mut().zip(&cal_cols) {
            int.push(field(col));
        }
    }
    let n = weights.len();
    if n == 0 {
        return Err(EstimateError::Argument(format!(
            "{} has no data rows",
            path.display()
        )));
    }
    let lines_ref = &lines;
    let se = |e: StatsError| stats_error(e, lines_ref);

    let strata = strata.map(Interner::into_factor).transpose().map_err(se)?;
    let mut stage_list: Vec<Stage> = Vec::new();
    let mut fpc_iter = fpc.into_iter();
    if psu.is_empty() {
        stage_list.push(Stage {
            clusters: None,
            fpc: fpc_iter.next(),
        });
    } else {
        for int in psu {
            stage_list.push(Stage {
                clusters: Some(int.into_factor().map_err(se)?),
                fpc: fpc_iter.next(),
            });
        }
    }
    // Name the fpc columns in errors.
    let fpc_names: Vec<String> = args.fpc.clone();
    let rename = |e: StatsError| match e {
        StatsError::Value {
            row,
            column,
            message,
        } => {
            let column = column
                .strip_prefix("fpc stage ")
                .and_then(|s| s.parse::<usize>().ok())
                .and_then(|s| fpc_names.get(s - 1).cloned())
                .unwrap_or(column);
            se(StatsError::Value {
                row,
                column,
                message,
            })
        }
        other => se(other),
    };
    let mut design = Design::new(DesignSpec {
        weights,
        strata,
        stages: stage_list,
        lonely_psu: args.lonely_psu,
    })
    .map_err(rename)?;

    if let Some((_, m)) = margins {
        let mut list = Vec::with_capacity(m.len());
        for ((variable, totals), int) in m.into_iter().zip(cal) {
            list.push(Margin {
                variable,
                values: int.into_factor().map_err(se)?,
                totals,
            });
        }
        design = design.calibrate(&Calibration::new(list)).map_err(se)?;
    }

    let domains = match by {
        Some(int) => Domains::from_factor(int.into_factor().map_err(se)?),
        None => Domains::all(n),
    };
    let items = args
        .items
        .iter()
        .zip(items)
        .map(|(name, values)| {
            let item = Item::new(name.clone(), values).with_satisfied_min(args.satisfied_min);
            match args.scale.as_slice() {
                [lo, hi] => item.with_scale(*lo, *hi),
                _ => item,
            }
        })
        .collect();
    let indices = args
        .index
        .iter()
        .cloned()
        .chain(
            args.pooled
                .iter()
                .map(|i| i.clone().with_kind(IndexKind::PooledShare)),
        )
        .chain(
            args.score
                .iter()
                .map(|i| i.clone().with_kind(IndexKind::Score)),
        )
        .collect();
    Ok(Survey {
        design,
        domains,
        items,
        indices,
        lines,
    })
}

/// One output record (the stable interface of `hailong estimate`).
#[derive(Debug, Serialize)]
struct Record<'a> {
    domain: &'a str,
    item: &'a str,
    statistic: Statistic,
    n: u64,
    estimate: Option<f64>,
    se: Option<f64>,
    df: i64,
    ci_low: Option<f64>,
    ci_high: Option<f64>,
    deff: Option<f64>,
}

impl<'a> From<&'a Estimate> for Record<'a> {
    fn from(e: &'a Estimate) -> Self {
        Record {
            domain: &e.domain,
            item: &e.item,
            statistic: e.statistic,
            n: e.n,
            estimate: e.estimate,
            se: e.se,
            df: e.df,
            ci_low: e.ci_low,
            ci_high: e.ci_high,
            deff: e.deff,
        }
    }
}

/// Writes estimates as one JSON array (the `--format json` output).
pub fn write_json(estimates: &[Estimate], out: &mut dyn Write) -> Result<(), EstimateError> {
    let records: Vec<Record<'_>> = estimates.iter().map(Record::from).collect();
    let mut w = BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer(&mut w, &records)
        .map_err(|e| EstimateError::Output(std::io::Error::other(e)))?;
    w.write_all(b"\n").map_err(EstimateError::Output)?;
    w.flush().map_err(EstimateError::Output)
}

fn number(x: Option<f64>) -> String {
    x.and_then(|v| serde_json::to_string(&v).ok())
        .unwrap_or_default()
}

/// Writes estimates as CSV (the `--format csv` output), empty cells for nulls.
pub fn write_csv(estimates: &[Estimate], out: &mut dyn Write) -> Result<(), EstimateError> {
    let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, out));
    let io = |e: csv::Error| EstimateError::Output(std::io::Error::other(e));
    w.write_record([
        "domain",
        "item",
        "statistic",
        "n",
        "estimate",
        "se",
        "df",
        "ci_low",
        "ci_high",
        "deff",
    ])
    .map_err(io)?;
    for e in estimates {
        w.write_record([
            e.domain.clone(),
            e.item.clone(),
            e.statistic.as_str().to_owned(),
            e.n.to_string(),
            number(e.estimate),
            number(e.se),
            e.df.to_string(),
            number(e.ci_low),
            number(e.ci_high),
            number(e.deff),
        ])
        .map_err(io)?;
    }
    w.flush().map_err(EstimateError::Output)
}

/// Runs `hailong estimate`: reads the CSV, estimates, writes the records to `out` and
/// warnings/progress to `err`.
pub fn run(
    args: &EstimateArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), EstimateError> {
    let started = Instant::now();
    let survey = load(args)?;
    let read = started.elapsed();
    let design = &survey.design;
    // Progress lines are best effort: a closed error stream must not stop the estimates.
    let _ = writeln!(
        err,
        "hailong estimate: {} rows, {} strata, {} PSUs, df {}{}; read in {:.2} s",
        design.n_rows(),
        design.n_strata(),
        design.n_psu(),
        design.df(),
        design
            .calibration_description()
            .map(|d| format!(", {d}"))
            .unwrap_or_default(),
        read.as_secs_f64()
    );
    let estimator = Estimator::new(
        design,
        &survey.items,
        &survey.indices,
        EstimateOptions {
            ci: args.ci,
            level: args.level,
        },
    )
    .map_err(|e| survey.stats_error(e))?;
    let t0 = Instant::now();
    let estimates = estimator
        .estimate(&survey.domains)
        .map_err(|e| survey.stats_error(e))?;
    let _ = writeln!(
        err,
        "hailong estimate: {} domains, {} estimates in {:.2} s",
        survey.domains.len(),
        estimates.len(),
        t0.elapsed().as_secs_f64()
    );
    let undefined = estimates
        .iter()
        .filter(|e| {
            e.statistic == Statistic::Satisfied && e.estimate.is_some() && e.ci_low.is_none()
        })
        .count();
    if undefined > 0 {
        let _ = writeln!(
            err,
            "warning: {undefined} \"satisfied\" interval(s) are undefined for --ci {} (share 0 or 1, zero variance, or too few respondents) and are null",
            match args.ci {
                CiMethod::Logit => "logit",
                CiMethod::Wilson => "wilson",
                CiMethod::Beta => "beta",
                CiMethod::T => "t",
            }
        );
    }
    let df = design.df();
    if df < 1 {
        let _ = writeln!(
            err,
            "warning: the design has {df} degrees of freedom: no confidence interval can be given"
        );
    }
    match args.format {
        OutputFormat::Json => write_json(&estimates, out),
        OutputFormat::Csv => write_csv(&estimates, out),
    }
}
