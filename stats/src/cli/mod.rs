//! `hailong estimate`: design-based estimates from a CSV file, as JSON or CSV on stdout.
//!
//! ```text
//! hailong estimate --input FILE.csv --items q1,q2,… [--weight COL] [--strata COL]
//!   [--psu COL[,COL2]] [--fpc COL[,COL2]] [--by COL] [--satisfied-min 4]
//!   [--index NAME=ITEM[:WEIGHT],…]… [--pooled NAME=…]… [--score NAME=…]… [--scale 1,5]
//!   [--cap ITEM=X]… [--indicator NAME=COL:V1|V2…]… [--all-satisfied NAME=ITEM,…]…
//!   [--linear NAME=ITEM:COEF,…[,@C]]…
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

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use thiserror::Error;

use crate::design::LonelyPsu;
use crate::error::StatsError;
use crate::estimate::{EstimateOptions, Estimator, IndexSpec, Statistic};
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
    /// Cap a number item: answers above X count as X (repeatable).
    #[arg(long = "cap", value_parser = derived::parse_cap, value_name = "ITEM=X")]
    pub cap: Vec<(String, f64)>,
    /// New 0/1 item: 1 when column COL is one of the values (a multiple choice's
    /// space-separated options: one of them), missing when empty (repeatable).
    #[arg(long = "indicator", value_parser = derived::parse_indicator, value_name = "NAME=COL:V1|V2…")]
    pub indicator: Vec<(String, String, Vec<String>)>,
    /// New 0/1 item: 1 when every answered item of the list is satisfied, missing when none
    /// is answered (the Ministry of Health's comprehensive index; repeatable).
    #[arg(long = "all-satisfied", value_parser = derived::parse_all_satisfied, value_name = "NAME=ITEM,…")]
    pub all_satisfied: Vec<(String, Vec<String>)>,
    /// Linear index C + Σ COEF · mean(ITEM), coefficients as given, any sign: sums and
    /// differences of scores (R: `svycontrast`; repeatable).
    #[arg(long = "linear", value_parser = derived::parse_linear, value_name = "NAME=ITEM:COEF,…[,@C]")]
    pub linear: Vec<IndexSpec>,
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

/// Errors of the statistics commands (`hailong estimate`, `hailong sae`): one line, naming the
/// file, line and column where it applies.
#[derive(Debug, Error)]
pub enum StatsCliError {
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
    /// A small-area model that cannot be fitted (too few areas, collinear covariates, no
    /// convergence).
    #[error("{0}")]
    Model(crate::sae::SaeError),
    /// The output could not be written.
    #[error("cannot write the output: {0}")]
    Output(std::io::Error),
}

mod derived;
mod load;
mod output;
pub mod sae;

pub use load::{Survey, load};
pub use output::{write_csv, write_json};

/// Runs `hailong estimate`: reads the CSV, estimates, writes the records to `out` and
/// warnings/progress to `err`.
pub fn run(
    args: &EstimateArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), StatsCliError> {
    let started = Instant::now();
    let mut survey = load::load_codes(args)?;
    derived::apply(args, &mut survey)?;
    // Answers read as bytes stay bytes when the fast path takes them for these domains.
    let codes_fit = survey.answer_codes.as_ref().is_some_and(|(_, max)| {
        Estimator::answer_codes_fit(
            &survey.design,
            survey.items.len(),
            *max,
            survey.domains.len(),
        )
    });
    if !codes_fit {
        survey.answer_values();
    }
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
    let options = EstimateOptions {
        ci: args.ci,
        level: args.level,
    };
    // The statistics time includes preparing the compact answers.
    let t0 = Instant::now();
    let estimator = match survey.answer_codes.take().filter(|_| codes_fit) {
        Some((codes, max)) => Estimator::from_answer_codes(
            design,
            &survey.items,
            &survey.indices,
            options,
            &codes,
            max,
        ),
        None => Estimator::new(design, &survey.items, &survey.indices, options),
    }
    .map_err(|e| survey.stats_error(e))?;
    let estimates = estimator
        .estimate(&survey.domains)
        .map_err(|e| survey.stats_error(e))?;
    let _ = writeln!(
        err,
        "hailong estimate: {} domains, {} estimates in {:.3} s",
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
