//! `hailong sae`: Fay–Herriot small-area estimates from an area-level CSV file, as one JSON
//! object on stdout.
//!
//! ```text
//! hailong sae --input FILE.csv --area COL --direct COL --variance COL --covariates A,B[,…]
//!   [--method reml|ml] [--transform none|arcsin --n COL] [--level 0.95] [--format json]
//! ```
//!
//! * One row per area. An empty `direct` cell marks a non-sampled area (synthetic estimate);
//!   its variance (and n) may be empty. Covariates are required for every area.
//! * `--transform arcsin` models shares: `direct` in [0, 1], ψ = 1/(4n) from the `--n`
//!   column; `--variance` is then not used. The variances are used as given (no smoothing)
//!   and nothing is benchmarked.
//! * Output: `{"method", "sigma2", "beta": [intercept, …], "areas": [{"area", "direct",
//!   "eblup", "mse", "ci_low", "ci_high"}]}`; `sigma2` is σ̂²ᵥ on the model scale, `mse` is on
//!   the scale of `eblup` (shares with `--transform arcsin`), `direct` is null for a
//!   non-sampled area. The diagnostics and the fit's details go to the error stream.
//! * Errors name the line of the file (the header is line 1) and the column.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use super::StatsCliError;
use crate::sae::{self, AreaInput, Field, Method, SaeError, SaeOptions, Transform};

/// Output format of `hailong sae` (JSON only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SaeFormat {
    /// One JSON object.
    #[default]
    Json,
}

/// Arguments of `hailong sae` (flatten into the application's clap command).
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct SaeArgs {
    /// CSV file, one row per area, header first.
    #[arg(long, value_name = "FILE.csv")]
    pub input: PathBuf,
    /// Column of area codes.
    #[arg(long, value_name = "COL")]
    pub area: String,
    /// Column of direct estimates (empty cell: non-sampled area).
    #[arg(long, value_name = "COL")]
    pub direct: String,
    /// Column of the direct estimates' sampling variances (not used with --transform arcsin).
    #[arg(long, value_name = "COL")]
    pub variance: Option<String>,
    /// Covariate columns, comma-separated (an intercept is added).
    #[arg(long, value_delimiter = ',', required = true, value_name = "A,B,…")]
    pub covariates: Vec<String>,
    /// Estimator of the area-effect variance.
    #[arg(long, value_enum, default_value_t = Method::Reml)]
    pub method: Method,
    /// Scale of the model: none, or arcsine square root for shares (needs --n).
    #[arg(long, value_enum, default_value_t = Transform::None)]
    pub transform: Transform,
    /// Column of effective sample sizes (ψ = 1/(4n) with --transform arcsin).
    #[arg(long, value_name = "COL")]
    pub n: Option<String>,
    /// Confidence level of the intervals.
    #[arg(long, default_value_t = 0.95, value_name = "P")]
    pub level: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SaeFormat::Json)]
    pub format: SaeFormat,
}

/// The areas read from the CSV, with the file line of each.
struct Loaded {
    areas: Vec<AreaInput>,
    lines: Vec<u64>,
}

fn column(args: &SaeArgs, header: &[String], name: &str) -> Result<usize, StatsCliError> {
    header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| StatsCliError::MissingColumn {
            path: args.input.clone(),
            column: name.to_owned(),
            available: header.join(","),
        })
}

/// Parses a number cell; `Ok(None)` for an empty cell.
fn number(text: &str, line: u64, column: &str, what: &str) -> Result<Option<f64>, StatsCliError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(Some(x)),
        _ => Err(StatsCliError::Value {
            line,
            column: column.to_owned(),
            message: format!("{what} \"{text}\" is not a number"),
        }),
    }
}

fn load(args: &SaeArgs) -> Result<Loaded, StatsCliError> {
    let path = &args.input;
    let file = std::fs::File::open(path).map_err(|source| StatsCliError::Io {
        path: path.clone(),
        source,
    })?;
    let csv_error = |e: csv::Error| {
        let line = e.position().map_or(0, csv::Position::line);
        let message = e.to_string();
        match e.into_kind() {
            csv::ErrorKind::Io(source) => StatsCliError::Io {
                path: path.clone(),
                source,
            },
            _ => StatsCliError::Csv {
                path: path.clone(),
                line,
                message,
            },
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(file);
    let header: Vec<String> = reader
        .headers()
        .map_err(csv_error)?
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if i == 0 {
                s.trim_start_matches('\u{feff}').to_owned()
            } else {
                s.to_owned()
            }
        })
        .collect();
    let area_col = column(args, &header, &args.area)?;
    let direct_col = column(args, &header, &args.direct)?;
    let variance_col = match (&args.variance, args.transform) {
        (Some(v), Transform::None) => Some(column(args, &header, v)?),
        _ => None,
    };
    let n_col = match (&args.n, args.transform) {
        (Some(n), Transform::Arcsin) => Some(column(args, &header, n)?),
        _ => None,
    };
    let covariate_cols: Vec<usize> = args
        .covariates
        .iter()
        .map(|c| column(args, &header, c))
        .collect::<Result<_, _>>()?;
    let mut areas = Vec::new();
    let mut lines = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let line = record.position().map_or(0, csv::Position::line);
        let get = |i: usize| record.get(i).unwrap_or_default();
        let code = get(area_col).trim().to_owned();
        let direct = number(get(direct_col), line, &args.direct, "direct estimate")?;
        let variance = match (variance_col, &args.variance) {
            (Some(i), Some(name)) => number(get(i), line, name, "variance")?,
            _ => None,
        };
        let n = match (n_col, &args.n) {
            (Some(i), Some(name)) => number(get(i), line, name, "sample size")?,
            _ => None,
        };
        let mut covariates = Vec::with_capacity(covariate_cols.len());
        for (&i, name) in covariate_cols.iter().zip(&args.covariates) {
            match number(get(i), line, name, "covariate")? {
                Some(x) => covariates.push(x),
                None => {
                    return Err(StatsCliError::Value {
                        line,
                        column: name.clone(),
                        message:
                            "empty covariate: every area, sampled or not, needs its covariates"
                                .into(),
                    });
                }
            }
        }
        areas.push(AreaInput {
            code,
            direct,
            variance,
            covariates,
            n,
        });
        lines.push(line);
    }
    if areas.is_empty() {
        return Err(StatsCliError::Argument(format!(
            "{}: no areas after the header",
            path.display()
        )));
    }
    Ok(Loaded { areas, lines })
}

/// Maps an engine error about one area to its line and column.
fn model_error(e: SaeError, args: &SaeArgs, lines: &[u64]) -> StatsCliError {
    let line = |row: usize| lines.get(row).copied().unwrap_or(row as u64 + 2);
    match e {
        SaeError::Value {
            row,
            field,
            message,
            ..
        } => StatsCliError::Value {
            line: line(row),
            column: match field {
                Field::Code => args.area.clone(),
                Field::Direct => args.direct.clone(),
                Field::Variance => args.variance.clone().unwrap_or_default(),
                Field::N => args.n.clone().unwrap_or_default(),
                Field::Covariate(j) => args.covariates.get(j).cloned().unwrap_or_default(),
            },
            message,
        },
        SaeError::DuplicateArea { row, code } => StatsCliError::Value {
            line: line(row),
            column: args.area.clone(),
            message: format!("area \"{code}\" appears twice"),
        },
        other => StatsCliError::Model(other),
    }
}

#[derive(Serialize)]
struct AreaRecord<'a> {
    area: &'a str,
    direct: Option<f64>,
    eblup: f64,
    mse: f64,
    ci_low: f64,
    ci_high: f64,
}

#[derive(Serialize)]
struct Output<'a> {
    method: Method,
    sigma2: f64,
    beta: &'a [f64],
    areas: Vec<AreaRecord<'a>>,
}

/// Runs `hailong sae`: reads the CSV, fits, writes one JSON object to `out` and the fit's
/// summary and diagnostics to `err`.
pub fn run(args: &SaeArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), StatsCliError> {
    match args.transform {
        Transform::None if args.variance.is_none() => {
            return Err(StatsCliError::Argument(
                "--variance COL is required (unless --transform arcsin --n COL)".into(),
            ));
        }
        Transform::Arcsin if args.n.is_none() => {
            return Err(StatsCliError::Argument(
                "--transform arcsin needs --n COL (effective sample sizes; ψ = 1/(4n))".into(),
            ));
        }
        _ => {}
    }
    let loaded = load(args)?;
    let options = SaeOptions {
        method: args.method,
        transform: args.transform,
        level: args.level,
        ..SaeOptions::default()
    };
    let result =
        sae::estimate(&loaded.areas, &options).map_err(|e| model_error(e, args, &loaded.lines))?;
    // Progress and diagnostics are best effort: a closed error stream must not stop the output.
    let fit = &result.fit;
    let _ = writeln!(
        err,
        "hailong sae: {} areas ({} with a direct estimate), {} covariate(s), sigma2 {:.6e} after {} iteration(s)",
        result.areas.len(),
        fit.sampled,
        fit.parameters() - 1,
        fit.sigma2,
        fit.iterations
    );
    if args.transform == Transform::Arcsin && args.variance.is_some() {
        let _ = writeln!(
            err,
            "hailong sae: --variance is not used with --transform arcsin (psi = 1/(4n))"
        );
    }
    let d = &result.diagnostics;
    let _ = writeln!(
        err,
        "hailong sae: diagnostics {}: {} of {} standardised residuals beyond 1.96; {} reliable direct estimate(s)",
        if d.passed { "passed" } else { "FAILED" },
        d.large_residuals,
        d.sampled,
        d.reliable
    );
    for r in d.reasons.iter().chain(&d.notes) {
        let _ = writeln!(err, "hailong sae: {}: {}", r.code, r.message);
    }
    let output = Output {
        method: fit.method,
        sigma2: fit.sigma2,
        beta: &fit.beta,
        areas: result
            .areas
            .iter()
            .map(|a| AreaRecord {
                area: &a.code,
                direct: a.direct,
                eblup: a.eblup,
                mse: a.mse,
                ci_low: a.ci_low,
                ci_high: a.ci_high,
            })
            .collect(),
    };
    match args.format {
        SaeFormat::Json => {
            serde_json::to_writer(&mut *out, &output)
                .map_err(|e| StatsCliError::Output(std::io::Error::other(e)))?;
            writeln!(out).map_err(StatsCliError::Output)?;
        }
    }
    Ok(())
}
