//! `hailong localities …`, `hailong plan` and `hailong draw`: the command
//! lines of localities, population frames and sample planning.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clap::{Args, Subcommand};
use sea_orm::DatabaseConnection;

use crate::domain::csv_rows::CsvRows;
use crate::domain::locality::{self, LineProblem, Problems};
use crate::domain::planning::{self, Allocation, Assumptions, Budget, Stratum};
use crate::services::audit::{self, Actor};
use crate::services::locality_lists;

#[derive(Debug, Subcommand)]
pub enum LocalitiesCommand {
    /// Import an official list of administrative units (CSV: code, level,
    /// parent_code, name_vi, name_en, …) valid from a date, keeping history.
    Import(ImportArgs),
    /// Import a crosswalk of old units to new ones (CSV: old_code, new_code[, share]).
    Crosswalk(FileArgs),
    /// Import census population counts (CSV: locality_code, sex, age_group,
    /// population) as calibration margins and measures of size.
    Population(PopulationArgs),
    /// Import area-level auxiliary data, the covariates of the small-area model
    /// (CSV: code, var1, var2, …; one row per locality).
    Auxiliary(AuxiliaryArgs),
}

#[derive(Debug, Args)]
pub struct AuxiliaryArgs {
    /// The CSV file.
    #[arg(long)]
    pub input: PathBuf,
}

#[derive(Debug, Args)]
pub struct FileArgs {
    /// The CSV file.
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct PopulationArgs {
    /// The CSV file.
    pub file: PathBuf,
    /// Reference year of the census.
    #[arg(long)]
    pub year: Option<i32>,
}

#[derive(Debug, Args)]
pub struct DrawArgs {
    /// Level of the units to draw.
    #[arg(long, default_value = "commune")]
    pub level: String,
    /// Level of the strata.
    #[arg(long, default_value = "province")]
    pub stratum_level: String,
    /// Hierarchy date (default: the campaign's opening day, else today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub on: Option<NaiveDate>,
    /// Units to draw in each stratum.
    #[arg(long, default_value_t = 1)]
    pub clusters: usize,
    /// Units per stratum from a CSV (code, clusters), overriding --clusters.
    #[arg(long, value_name = "FILE")]
    pub clusters_file: Option<PathBuf>,
    /// Only these strata (comma-separated codes).
    #[arg(long, value_delimiter = ',')]
    pub strata: Vec<String>,
    /// Random seed (default: a fresh one, printed); the same seed and frame
    /// give the same draw.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Write the selection into this campaign's localities (it must have no
    /// responses yet).
    #[arg(long, value_name = "SLUG")]
    pub campaign: Option<String>,
    /// Interviews planned per drawn last-stage unit (the campaign's
    /// target_n); base weights become size/(π·take).
    #[arg(long)]
    pub take: Option<u32>,
    /// Write the selection as CSV to this file (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Second-stage frame (CSV: commune_code, unit_code, name, size): draw
    /// --per-unit villages or desks within each drawn unit.
    #[arg(long, value_name = "FILE", requires = "per_unit")]
    pub second_stage: Option<PathBuf>,
    /// Second-stage units to draw within each drawn unit.
    #[arg(long, value_name = "M", requires = "second_stage")]
    pub per_unit: Option<usize>,
    /// How second-stage units are drawn: pps (proportional to size) or srs
    /// (equal probability).
    #[arg(long, value_name = "METHOD", default_value = "pps")]
    pub second_stage_method: String,
    /// Units always taken (comma-separated codes), each a stratum of its
    /// own with probability 1: first-stage units of the frame (e.g. the
    /// provincial capital's commune) or second-stage units of the
    /// --second-stage file (also marked there by a `seat` column = 1).
    /// They count towards their stratum's --clusters (or unit's --per-unit).
    #[arg(long, value_delimiter = ',', value_name = "CODE[,CODE…]")]
    pub purposive: Vec<String>,
    /// Replacements listed, in order, for each non-certain last-stage unit,
    /// drawn from the same seed (0: none).
    #[arg(
        long,
        value_name = "K",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    pub replacements: i64,
}

#[derive(Debug, Subcommand)]
pub enum FieldworkCommand {
    /// Record attempts at a draw's units (CSV: code, attempt, used, outcome):
    /// which unit was tried — the unit or one of its replacements — in which
    /// order, and its outcome code only (completed, partial, refused,
    /// non_contact, other, unknown, ineligible).
    Record(RecordArgs),
    /// Adjust the draw's base weights for nonresponse within strata and
    /// write them into its campaign; prints the weights as CSV.
    Adjust(WhichDraw),
}

#[derive(Debug, Args)]
pub struct WhichDraw {
    /// The draw's id (printed by `hailong draw`).
    #[arg(long, required_unless_present = "campaign")]
    pub draw: Option<i64>,
    /// The latest draw of this campaign.
    #[arg(long, value_name = "SLUG", conflicts_with = "draw")]
    pub campaign: Option<String>,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The CSV file of attempts.
    pub file: PathBuf,
    #[command(flatten)]
    pub which: WhichDraw,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The CSV file.
    #[arg(required_unless_present = "national")]
    pub file: Option<PathBuf>,
    /// Import the national list of 2025 (34 provinces, 3,321 communes) that comes with
    /// Hailong instead of a file (valid from 2025-07-01 unless --valid-from says otherwise).
    #[arg(long, conflicts_with = "file")]
    pub national: bool,
    /// First day the list is in force (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD", required_unless_present = "national")]
    pub valid_from: Option<NaiveDate>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Level whose units are the strata (province, district, commune).
    #[arg(long, default_value = "province")]
    pub level: String,
    /// Use the hierarchy valid on this date (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub on: Option<NaiveDate>,
    /// Target margin of error in percentage points (e.g. 3 for ±3 points).
    #[arg(long)]
    pub moe: Option<f64>,
    /// Expected share satisfied, in percent.
    #[arg(long, default_value_t = 80.0)]
    pub expected: f64,
    /// Design effect (default 1.5, or 1 + (take − 1)·icc with --icc).
    #[arg(long, conflicts_with = "icc")]
    pub deff: Option<f64>,
    /// Intra-cluster correlation, for the design effect 1 + (take − 1)·icc.
    #[arg(long, requires = "take")]
    pub icc: Option<f64>,
    /// Interviews per cluster: adds the number of clusters to draw per stratum.
    #[arg(long)]
    pub take: Option<u64>,
    /// Expected response rate, in percent.
    #[arg(long, default_value_t = 100.0)]
    pub response_rate: f64,
    /// Confidence level, in percent.
    #[arg(long, default_value_t = 95.0)]
    pub confidence: f64,
    /// Total number of people to contact, to allocate across the strata.
    #[arg(long)]
    pub budget: Option<u64>,
    /// equal, proportional, sqrt or neyman.
    #[arg(long, default_value = "proportional")]
    pub allocation: String,
    /// Minimum per stratum.
    #[arg(long, default_value_t = 0)]
    pub minimum: u64,
    /// Prior shares for Neyman allocation: CSV with columns code, expected (percent).
    #[arg(long, value_name = "FILE")]
    pub priors: Option<PathBuf>,
    /// Read the strata from this CSV (code, population[, name]) instead of the database.
    #[arg(long, value_name = "FILE")]
    pub frame: Option<PathBuf>,
    /// Print CSV instead of a table.
    #[arg(long)]
    pub csv: bool,
}

/// Why a localities command failed, as one line.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LocalitiesError(pub String);

fn read(path: &Path) -> Result<Vec<u8>, LocalitiesError> {
    std::fs::read(path).map_err(|e| LocalitiesError(format!("cannot read {}: {e}", path.display())))
}

fn db_error(e: impl std::fmt::Display) -> LocalitiesError {
    LocalitiesError(format!("database: {e}"))
}

pub async fn run(
    db: &DatabaseConnection,
    command: LocalitiesCommand,
) -> Result<(), LocalitiesError> {
    match command {
        LocalitiesCommand::Import(args) => import(db, &args).await,
        LocalitiesCommand::Crosswalk(args) => crosswalk(db, &args).await,
        LocalitiesCommand::Population(args) => population(db, &args).await,
        LocalitiesCommand::Auxiliary(args) => auxiliary(db, &args).await,
    }
}

async fn import(db: &DatabaseConnection, args: &ImportArgs) -> Result<(), LocalitiesError> {
    let (bytes, name) = match &args.file {
        Some(path) => (read(path)?, path.display().to_string()),
        None => (
            locality::NATIONAL_2025.as_bytes().to_vec(),
            "the national list of 2025".to_owned(),
        ),
    };
    let valid_from = args.valid_from.unwrap_or_else(locality::national_2025_from);
    let rows = locality::parse_list(bytes.as_slice())
        .map_err(|p| LocalitiesError(format!("{name}: {p}")))?;
    let summary = locality_lists::import_recorded(db, &rows, valid_from, &Actor::cli())
        .await
        .map_err(|e| LocalitiesError(format!("{name}: {e}")))?;
    println!("{} units valid from {valid_from}: {summary}", rows.len());
    Ok(())
}

/// A stratum of the plan with its names.
struct NamedStratum {
    stratum: Stratum,
    name_vi: String,
    name_en: String,
}

fn parse_number(text: &str, line: u64, col: &str) -> Result<f64, LineProblem> {
    text.replace(['_', ' '], "")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| LineProblem::new(line, col, format!("not a number: {text:?}")))
}

/// Reads `code,<value>[,name]` rows: a frame (`population`) or priors (`expected`).
fn read_pairs(
    path: &Path,
    value: &str,
) -> Result<Vec<(String, f64, Option<String>)>, LocalitiesError> {
    let bytes = read(path)?;
    let fail = |p: Problems| LocalitiesError(format!("{}: {p}", path.display()));
    let mut file = CsvRows::open(bytes.as_slice(), &["code", value]).map_err(fail)?;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    while let Some(row) = file.next_row(&mut problems) {
        let line = row.line;
        let Some(code) = row.field("code") else {
            problems.push(LineProblem::new(line, "code", "missing"));
            continue;
        };
        match row.field(value).map(|v| parse_number(&v, line, value)) {
            Some(Ok(v)) => out.push((code, v, row.field("name"))),
            Some(Err(p)) => problems.push(p),
            None => problems.push(LineProblem::new(line, value, "missing")),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(fail(Problems(problems)))
    }
}

pub async fn plan(db: Option<&DatabaseConnection>, args: &PlanArgs) -> Result<(), LocalitiesError> {
    let bad = |e: planning::PlanError| LocalitiesError(e.to_string());
    let deff = match (args.deff, args.icc, args.take) {
        (Some(d), _, _) => d,
        (None, Some(icc), Some(take)) => Assumptions::cluster_deff(take, icc),
        _ => 1.5,
    };
    let assumptions = Assumptions::new(
        args.confidence / 100.0,
        args.expected / 100.0,
        deff,
        args.response_rate / 100.0,
    )
    .map_err(bad)?;
    if args.moe.is_none() && args.budget.is_none() {
        return Err(LocalitiesError(
            "give --moe (target margin in points), --budget (people to contact), or both".into(),
        ));
    }
    let method = Allocation::parse(&args.allocation).ok_or_else(|| {
        LocalitiesError(format!(
            "--allocation: unknown method {:?} (equal, proportional, sqrt, neyman)",
            args.allocation
        ))
    })?;
    let mut strata: Vec<NamedStratum> = match (&args.frame, db) {
        (Some(path), _) => read_pairs(path, "population")?
            .into_iter()
            .map(|(code, population, name)| NamedStratum {
                stratum: Stratum {
                    code: code.clone(),
                    population,
                    prior_p: None,
                },
                name_vi: name.clone().unwrap_or_else(|| code.clone()),
                name_en: name.unwrap_or(code),
            })
            .collect(),
        (None, Some(db)) => {
            let on = args.on.unwrap_or_else(|| chrono::Utc::now().date_naive());
            crate::services::planning::frame(db, &args.level, on)
                .await
                .map_err(db_error)?
                .into_iter()
                .map(|u| NamedStratum {
                    stratum: Stratum {
                        code: u.code,
                        population: u.population.unwrap_or(0.0),
                        prior_p: None,
                    },
                    name_vi: u.name_vi,
                    name_en: u.name_en,
                })
                .collect()
        }
        (None, None) => Vec::new(),
    };
    if strata.is_empty() {
        return Err(LocalitiesError(format!(
            "no {} units to plan for (import a list with `hailong localities import`)",
            args.level
        )));
    }
    if let Some(path) = &args.priors {
        let priors: std::collections::HashMap<String, f64> = read_pairs(path, "expected")?
            .into_iter()
            .map(|(code, p, _)| (code, p / 100.0))
            .collect();
        for s in &mut strata {
            s.stratum.prior_p = priors.get(&s.stratum.code).copied();
        }
    }
    let plain: Vec<Stratum> = strata.iter().map(|s| s.stratum.clone()).collect();
    let budget = args.budget.map(|total| Budget {
        total,
        method,
        minimum: args.minimum,
    });
    let rows = planning::plan(
        &assumptions,
        &plain,
        args.moe.map(|m| m / 100.0),
        budget,
        args.take,
    )
    .map_err(bad)?;
    print!("{}", render_plan(&strata, &rows, args.csv));
    Ok(())
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn render_plan(strata: &[NamedStratum], rows: &[planning::PlanRow], as_csv: bool) -> String {
    let header = [
        "code",
        "name_vi",
        "name_en",
        "population",
        "required",
        "allocated",
        "expected_moe_points",
        "clusters",
    ];
    let mut lines: Vec<Vec<String>> = Vec::new();
    for (s, r) in strata.iter().zip(rows) {
        lines.push(vec![
            r.code.clone(),
            s.name_vi.clone(),
            s.name_en.clone(),
            format!("{:.0}", r.population),
            opt(r.required),
            opt(r.allocated),
            opt(r.expected_moe.map(|m| format!("{:.2}", m * 100.0))),
            opt(r.clusters),
        ]);
    }
    let total = |f: fn(&planning::PlanRow) -> Option<u64>| -> Option<u64> {
        rows.iter().map(f).sum::<Option<u64>>()
    };
    lines.push(vec![
        "total".into(),
        String::new(),
        String::new(),
        format!("{:.0}", rows.iter().map(|r| r.population).sum::<f64>()),
        opt(total(|r| r.required)),
        opt(total(|r| r.allocated)),
        String::new(),
        opt(total(|r| r.clusters)),
    ]);
    if as_csv {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(crate::domain::cells::record(&header));
        for l in &lines {
            let _ = w.write_record(crate::domain::cells::record(l));
        }
        return w
            .into_inner()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for l in &lines {
        for (i, c) in l.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut push = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c}{}", " ".repeat(widths[i] - c.chars().count())))
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    };
    push(header.to_vec());
    for l in &lines {
        push(l.iter().map(String::as_str).collect());
    }
    out
}

async fn crosswalk(db: &DatabaseConnection, args: &FileArgs) -> Result<(), LocalitiesError> {
    use crate::services::crosswalk;
    let bytes = read(&args.file)?;
    let fail = |p: Problems| LocalitiesError(format!("{}: {p}", args.file.display()));
    let links = crosswalk::parse(&bytes).map_err(fail)?;
    let txn = crate::db::begin_write(db).await.map_err(db_error)?;
    let written = crosswalk::import(&txn, &links)
        .await
        .map_err(db_error)?
        .map_err(fail)?;
    audit::record(
        &txn,
        &Actor::cli(),
        "localities.crosswalk",
        "locality_crosswalk",
        "",
        &format!("{written} links"),
    )
    .await
    .map_err(db_error)?;
    txn.commit().await.map_err(db_error)?;
    println!("{written} crosswalk links imported");
    Ok(())
}

async fn population(db: &DatabaseConnection, args: &PopulationArgs) -> Result<(), LocalitiesError> {
    use crate::services::population;
    let bytes = read(&args.file)?;
    let fail = |p: Problems| LocalitiesError(format!("{}: {p}", args.file.display()));
    let rows = population::parse_census(&bytes).map_err(fail)?;
    let txn = crate::db::begin_write(db).await.map_err(db_error)?;
    let summary = population::import(&txn, &rows, args.year)
        .await
        .map_err(db_error)?
        .map_err(fail)?;
    audit::record(
        &txn,
        &Actor::cli(),
        "localities.population",
        "population_margins",
        "",
        &format!(
            "{} localities, {} margins",
            summary.localities, summary.margins
        ),
    )
    .await
    .map_err(db_error)?;
    txn.commit().await.map_err(db_error)?;
    println!(
        "population of {} localities imported ({} margins)",
        summary.localities, summary.margins
    );
    Ok(())
}

async fn auxiliary(db: &DatabaseConnection, args: &AuxiliaryArgs) -> Result<(), LocalitiesError> {
    use crate::services::auxiliary;
    let bytes = read(&args.input)?;
    let fail = |p: Problems| LocalitiesError(format!("{}: {p}", args.input.display()));
    let file = auxiliary::parse(&bytes).map_err(fail)?;
    let txn = crate::db::begin_write(db).await.map_err(db_error)?;
    let summary = auxiliary::import(&txn, &file)
        .await
        .map_err(db_error)?
        .map_err(fail)?;
    audit::record(
        &txn,
        &Actor::cli(),
        "localities.auxiliary",
        "area_auxiliary",
        "",
        &format!(
            "{} localities, {} values of {}",
            summary.localities,
            summary.values,
            file.variables.join(", ")
        ),
    )
    .await
    .map_err(db_error)?;
    txn.commit().await.map_err(db_error)?;
    println!(
        "auxiliary data of {} localities imported ({} values)",
        summary.localities, summary.values
    );
    Ok(())
}

pub async fn draw(db: &DatabaseConnection, args: &DrawArgs) -> Result<(), LocalitiesError> {
    use crate::domain::sampling::{Method, parse_second_stage};
    use crate::services::sampling::{self, DrawRequest, SamplingError, SecondStageRequest};
    let replacements = usize::try_from(args.replacements).map_err(|_| {
        LocalitiesError(format!(
            "--replacements: must be 0 or more, not {}",
            args.replacements
        ))
    })?;
    let second_stage = match (&args.second_stage, args.per_unit) {
        (Some(path), Some(per_unit)) => {
            let method = Method::parse(&args.second_stage_method).ok_or_else(|| {
                LocalitiesError(format!(
                    "--second-stage-method: unknown method {:?} (pps, srs)",
                    args.second_stage_method
                ))
            })?;
            let units = parse_second_stage(&read(path)?)
                .map_err(|p| LocalitiesError(format!("{}: {p}", path.display())))?;
            Some(SecondStageRequest {
                source: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                units,
                per_unit,
                method,
            })
        }
        _ => None,
    };
    let per_stratum = match &args.clusters_file {
        Some(path) => read_pairs(path, "clusters")?
            .into_iter()
            .map(|(code, n, _)| (code, n.round() as usize))
            .collect(),
        None => Default::default(),
    };
    let seed = match args.seed {
        Some(s) => s,
        None => {
            let mut bytes = [0u8; 8];
            getrandom::fill(&mut bytes)
                .map_err(|e| LocalitiesError(format!("no randomness: {e}")))?;
            let s = u64::from_le_bytes(bytes);
            eprintln!("seed {s}");
            s
        }
    };
    let req = DrawRequest {
        level: args.level.clone(),
        stratum_level: args.stratum_level.clone(),
        on: args.on,
        clusters: args.clusters,
        per_stratum,
        strata: args.strata.clone(),
        seed,
        campaign: args.campaign.clone(),
        take: args.take,
        second_stage,
        purposive: args.purposive.clone(),
        replacements,
    };
    let txn = crate::db::begin_write(db).await.map_err(db_error)?;
    let recorded =
        sampling::draw(&txn, &req)
            .await
            .map_err(|e| match (&e, &args.second_stage) {
                (SamplingError::SecondStage(p), Some(path)) => {
                    LocalitiesError(format!("{}: {p}", path.display()))
                }
                _ => LocalitiesError(e.to_string()),
            })?;
    audit::record(
        &txn,
        &Actor::cli(),
        "sample.draw",
        "campaign",
        args.campaign.as_deref().unwrap_or(""),
        &format!(
            "draw {}, seed {seed}, {} units",
            recorded.id,
            recorded.units.len()
        ),
    )
    .await
    .map_err(db_error)?;
    txn.commit().await.map_err(db_error)?;
    eprintln!("draw {}", recorded.id);
    let text =
        sampling::to_csv(&recorded.units).map_err(|e| LocalitiesError(format!("csv: {e}")))?;
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| LocalitiesError(format!("cannot write {}: {e}", path.display())))?,
        None => print!("{text}"),
    }
    Ok(())
}

pub async fn fieldwork(
    db: &DatabaseConnection,
    command: &FieldworkCommand,
) -> Result<(), LocalitiesError> {
    use crate::domain::fieldwork::parse_attempts;
    use crate::services::fieldwork::{self, FieldworkError};
    let which = match command {
        FieldworkCommand::Record(a) => &a.which,
        FieldworkCommand::Adjust(w) => w,
    };
    let txn = crate::db::begin_write(db).await.map_err(db_error)?;
    let draw = fieldwork::find_draw(&txn, which.draw, which.campaign.as_deref())
        .await
        .map_err(|e| LocalitiesError(e.to_string()))?;
    match command {
        FieldworkCommand::Record(args) => {
            let fail = |p: Problems| LocalitiesError(format!("{}: {p}", args.file.display()));
            let rows = parse_attempts(&read(&args.file)?).map_err(fail)?;
            let done = fieldwork::record(&txn, &draw, &rows)
                .await
                .map_err(|e| match e {
                    FieldworkError::Rows(p) => fail(p),
                    e => LocalitiesError(e.to_string()),
                })?;
            audit::record(
                &txn,
                &Actor::cli(),
                "sample.fieldwork",
                "sample_draw",
                &draw.id.to_string(),
                // The draw's total only: which units were recorded when is not kept.
                &format!("{} attempts in all", done.all_attempts),
            )
            .await
            .map_err(db_error)?;
            txn.commit().await.map_err(db_error)?;
            println!(
                "draw {}: {} attempts recorded at {} units; {} replacement localities added to the campaign",
                draw.id, done.attempts, done.units, done.localities_added
            );
        }
        FieldworkCommand::Adjust(_) => {
            let units = fieldwork::adjust(&txn, &draw)
                .await
                .map_err(|e| LocalitiesError(e.to_string()))?;
            audit::record(
                &txn,
                &Actor::cli(),
                "sample.adjust",
                "sample_draw",
                &draw.id.to_string(),
                &format!("{} units", units.len()),
            )
            .await
            .map_err(db_error)?;
            txn.commit().await.map_err(db_error)?;
            let text =
                fieldwork::to_csv(&units).map_err(|e| LocalitiesError(format!("csv: {e}")))?;
            print!("{text}");
        }
    }
    Ok(())
}
