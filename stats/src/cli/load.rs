//! Reading the survey CSV (and the margins file) into a design, its domains, items and
//! indices, with every error naming the file, line and column.

use std::fs::File;
use std::path::Path;

use crate::calibration::{Calibration, Margin};
use crate::design::{Design, DesignSpec, Stage};
use crate::error::StatsError;
use crate::estimate::{Domains, IndexKind, IndexSpec, Item};

use super::{EstimateArgs, StatsCliError};

mod cells;
mod parallel;
mod rows;

use cells::{Interner, Known};
use rows::{Cols, Fields, Rows, columns_of_codes};

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
    /// The answers of `items` as bytes, row after row, when all are integers 0–63 (for the
    /// estimator's fast path; dropped when derived items change `items`). Until
    /// [`Survey::answer_values`], the items' `values` may be empty ([`load_codes`]).
    pub(super) answer_codes: Option<(Vec<u8>, u8)>,
}

impl Survey {
    pub(super) fn stats_error(&self, e: StatsError) -> StatsCliError {
        stats_error(e, &self.lines)
    }
}

fn stats_error(e: StatsError, lines: &[u64]) -> StatsCliError {
    match e {
        StatsError::Value {
            row,
            column,
            message,
        } => StatsCliError::Value {
            line: lines.get(row).copied().unwrap_or(row as u64 + 2),
            column,
            message,
        },
        other => StatsCliError::Stats(other),
    }
}

pub(super) fn open_csv(path: &Path) -> Result<csv::Reader<File>, StatsCliError> {
    let file = File::open(path).map_err(|source| StatsCliError::Io {
        path: path.to_owned(),
        source,
    })?;
    Ok(csv::ReaderBuilder::new()
        .has_headers(true)
        .buffer_capacity(1 << 20)
        .from_reader(file))
}

pub(super) fn csv_error(path: &Path, e: csv::Error) -> StatsCliError {
    let line = e.position().map_or(0, csv::Position::line);
    let message = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(source) => StatsCliError::Io {
            path: path.to_owned(),
            source,
        },
        _ => StatsCliError::Csv {
            path: path.to_owned(),
            line,
            message,
        },
    }
}

pub(super) fn headers<R: std::io::Read>(
    path: &Path,
    reader: &mut csv::Reader<R>,
) -> Result<Vec<String>, StatsCliError> {
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

pub(super) fn column(path: &Path, header: &[String], name: &str) -> Result<usize, StatsCliError> {
    header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| StatsCliError::MissingColumn {
            path: path.to_owned(),
            column: name.to_owned(),
            available: header.join(","),
        })
}

/// The margins of one variable: its name and `(category, total)` pairs.
type VariableMargins = (String, Vec<(String, f64)>);

/// Reads `variable,category,total`; variables in order of first appearance.
fn read_margins(path: &Path) -> Result<Vec<VariableMargins>, StatsCliError> {
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
        let total: f64 = total_text.parse().map_err(|_| StatsCliError::Margins {
            path: path.to_owned(),
            line,
            message: format!("total \"{total_text}\" is not a number"),
        })?;
        let variable = get(cv).to_owned();
        if variable.is_empty() {
            return Err(StatsCliError::Margins {
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
        return Err(StatsCliError::Margins {
            path: path.to_owned(),
            line: 1,
            message: "no margins".into(),
        });
    }
    Ok(out)
}

impl Survey {
    /// Gives every item its answers as numbers, when they were read as bytes only
    /// ([`load_codes`]).
    pub(super) fn answer_values(&mut self) {
        let n = self.design.n_rows();
        if let Some((codes, _)) = &self.answer_codes
            && self.items.iter().any(|i| i.values.len() != n)
        {
            let columns = columns_of_codes(codes, self.items.len(), n);
            for (item, values) in self.items.iter_mut().zip(columns) {
                item.values = values;
            }
        }
    }
}

/// Reads the CSV and builds the design, domains, items and indices described by `args`.
pub fn load(args: &EstimateArgs) -> Result<Survey, StatsCliError> {
    let mut survey = load_codes(args)?;
    survey.answer_values();
    Ok(survey)
}

/// [`load`], except that answers that are all integers 0–63 are kept as bytes only
/// (`answer_codes`), the items' `values` left empty until [`Survey::answer_values`]: the
/// estimator's fast path reads the bytes, and a million rows of twenty items as numbers would
/// be 160 MB written for nothing.
pub(super) fn load_codes(args: &EstimateArgs) -> Result<Survey, StatsCliError> {
    if args.items.is_empty() {
        return Err(StatsCliError::Argument("--items names no column".into()));
    }
    let stages = args.psu.len().max(1);
    if args.fpc.len() > stages {
        return Err(StatsCliError::Argument(format!(
            "--fpc gives {} columns but the design has {stages} stage(s) (--psu)",
            args.fpc.len()
        )));
    }
    if !args.satisfied_min.is_finite() {
        return Err(StatsCliError::Argument(
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

    let cols = Cols {
        items: item_cols,
        weight: weight_col,
        strata: strata_col,
        psu: psu_cols,
        fpc: fpc_cols,
        by: by_col,
        cal: cal_cols,
    };
    let rows = match parallel::read(path, &header, &cols) {
        Some(rows) => rows,
        None => {
            let mut rows = Rows::new(&cols, 1024);
            let mut rec = csv::ByteRecord::new();
            loop {
                match reader.read_byte_record(&mut rec) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => return Err(csv_error(path, e)),
                }
                let line = rec.position().map_or(0, csv::Position::line);
                rows.push(&rec, line, &cols, &header, None)?;
            }
            rows
        }
    };
    let mut rows = rows;
    // Empty columns while the answers are kept as bytes (see `Survey::answer_values`).
    let items = std::mem::take(&mut rows.items);
    let Rows {
        items: _,
        weights,
        strata,
        psu,
        fpc,
        by,
        cal,
        lines,
        text_len: _,
        codes,
        small,
        max_code,
    } = rows;
    let n = weights.len();
    if n == 0 {
        return Err(StatsCliError::Argument(format!(
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
        answer_codes: small.then_some((codes, max_code)),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use crate::cli::{EstimateArgs, run, write_json};
    use crate::estimate::{EstimateOptions, Estimator};
    use clap::Parser;
    use rand::{RngExt, SeedableRng};

    #[derive(Parser)]
    struct Command {
        #[command(flatten)]
        args: EstimateArgs,
    }

    /// `hailong estimate` with the answers kept as bytes gives what the estimator gives with
    /// the answers as numbers: on the fast path (few domains), and when the domains are too
    /// many for its tables and the bytes are made numbers first (64 items with answers 0–31 and
    /// 2,000 domains: 4.2 million slots).
    #[test]
    fn answers_kept_as_bytes_give_the_estimates_of_answers_as_numbers() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(64);
        let items: Vec<String> = (0..64).map(|k| format!("q{k}")).collect();
        let mut text = format!("many,few,stratum,psu,w,{}\n", items.join(","));
        for r in 0..2_000 {
            let answers: Vec<String> = (0..64)
                .map(|_| match rng.random_range(0..40u32) {
                    a @ 0..32 => a.to_string(),
                    _ => String::new(),
                })
                .collect();
            let weight = 1.0 + f64::from(rng.random_range(0..1000u32)) / 100.0;
            text.push_str(&format!(
                "d{r},f{},s{},p{},{weight},{}\n",
                r % 3,
                r % 4,
                r / 10,
                answers.join(",")
            ));
        }
        let dir = std::env::temp_dir().join(format!("hailong-bytes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("survey.csv");
        std::fs::write(&path, text).unwrap();
        for by in ["few", "many"] {
            let args = Command::parse_from([
                "estimate",
                "--input",
                path.to_str().unwrap(),
                "--items",
                &items.join(","),
                "--weight",
                "w",
                "--strata",
                "stratum",
                "--psu",
                "psu",
                "--by",
                by,
                "--satisfied-min",
                "16",
            ])
            .args;
            let mut bytes = Vec::new();
            run(&args, &mut bytes, &mut Vec::new()).unwrap();
            let survey = super::load(&args).unwrap();
            let options = EstimateOptions {
                ci: args.ci,
                level: args.level,
            };
            let estimates = Estimator::new(&survey.design, &survey.items, &survey.indices, options)
                .unwrap()
                .estimate(&survey.domains)
                .unwrap();
            let mut numbers = Vec::new();
            write_json(&estimates, &mut numbers).unwrap();
            let parse = |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b).unwrap();
            let (a, b) = (parse(&bytes), parse(&numbers));
            let n_dom = if by == "few" { 3 } else { 2_000 };
            assert_eq!(a.as_array().unwrap().len(), n_dom * 128);
            let (_, max) = survey.answer_codes.as_ref().unwrap();
            assert_eq!(
                Estimator::answer_codes_fit(&survey.design, 64, *max, n_dom),
                by == "few"
            );
            same_json(&a, &b, by);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Equal JSON values, numbers to 1e-12 relative.
    fn same_json(a: &serde_json::Value, b: &serde_json::Value, what: &str) {
        use serde_json::Value;
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                assert!(
                    (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
                    "{what}: {x} vs {y}"
                );
            }
            (Value::Array(x), Value::Array(y)) => {
                assert_eq!(x.len(), y.len(), "{what}");
                x.iter().zip(y).for_each(|(x, y)| same_json(x, y, what));
            }
            (Value::Object(x), Value::Object(y)) => {
                assert_eq!(x.len(), y.len(), "{what}");
                for (k, v) in x {
                    same_json(v, &y[k], what);
                }
            }
            _ => assert_eq!(a, b, "{what}"),
        }
    }
}
