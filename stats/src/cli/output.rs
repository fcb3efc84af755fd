//! The records `hailong estimate` writes, as JSON or CSV.

use std::io::{BufWriter, Write};

use serde::Serialize;

use crate::estimate::{Estimate, Statistic};

use super::StatsCliError;

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
pub fn write_json(estimates: &[Estimate], out: &mut dyn Write) -> Result<(), StatsCliError> {
    let records: Vec<Record<'_>> = estimates.iter().map(Record::from).collect();
    let mut w = BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer(&mut w, &records)
        .map_err(|e| StatsCliError::Output(std::io::Error::other(e)))?;
    w.write_all(b"\n").map_err(StatsCliError::Output)?;
    w.flush().map_err(StatsCliError::Output)
}

fn number(x: Option<f64>) -> String {
    x.and_then(|v| serde_json::to_string(&v).ok())
        .unwrap_or_default()
}

/// Writes estimates as CSV (the `--format csv` output), empty cells for nulls.
pub fn write_csv(estimates: &[Estimate], out: &mut dyn Write) -> Result<(), StatsCliError> {
    let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, out));
    let io = |e: csv::Error| StatsCliError::Output(std::io::Error::other(e));
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
    w.flush().map_err(StatsCliError::Output)
}
