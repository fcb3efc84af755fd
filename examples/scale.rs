//! The scale benchmark (issue 18): builds a database holding N responses of the `sipas-demo`
//! campaign (the demo, then N generated responses in 2,000 extra communes of the four demo
//! provinces, from one seeded generator, so SQLite and PostgreSQL hold the same rows), then
//! times, each step in a process of its own so that its peak memory is its own:
//!
//! * `publish`: the first publication (the k rule's selection, marking the rows, computing
//!   and storing every result);
//! * `results`: computing every result of that publication again from the group totals
//!   kept with it (design, raking, estimates), as the next publication's computation does
//!   once it has added its own responses;
//! * `recount`: the same from every response read again into group totals (what a
//!   publication does when no totals are kept, e.g. the first one);
//! * `cached`: reading the stored results of the publication;
//! * `export`: `hailong export microdata` (written to a directory);
//! * `estimate`: `hailong estimate` on the exported `microdata.csv`, by province and by
//!   commune;
//! * `more` (last, as it changes the database): 100,000 more generated responses, then a
//!   publication, which adds the responses it includes to the kept totals;
//! * R (when `Rscript` with `survey` is installed): `svyby(~items, ~province, design,
//!   svymean)` on the same file, in the same run; and Python `svy` (when `SVY_PYTHON`, or
//!   `python3`, imports it): `estimation.mean(items, by="province")` likewise.
//!
//! ```sh
//! cargo run --release --example scale -- --database-url sqlite:///tmp/hailong-scale.db \
//!   --responses 1000000 [--reuse] [--work /tmp/hailong-scale] [--cleanup] \
//!   [--only publish,results,recount,cached,export,estimate,r,more]
//! cargo run --release --example scale -- \
//!   --database-url postgres://postgres@127.0.0.1:5432/hailong_scale --responses 1000000
//! ```
//!
//! A SQLite file is deleted and a PostgreSQL database dropped and created again first
//! (`--reuse` keeps one built by an earlier run: its publication then includes nothing new
//! and only computes).
//! `--only` runs only the steps named (`--reuse --only export`: the export alone; `r`: the
//! peers, R and Python svy).
//! `--cleanup` deletes the database and the work directory at the end. Peak memory is each
//! process's `VmHWM` (from `/proc/self/status`). Not run in CI; figures are in the README.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use chrono::{NaiveDate, Utc};
use hailong::services::{campaigns, demo, export, publication, results};

#[path = "support/synthetic.rs"]
mod synthetic;

/// Rows per INSERT statement (11 columns: under both databases' parameter limits).
const ROWS_PER_INSERT: usize = 1_000;
/// Rows per transaction.
const ROWS_PER_TRANSACTION: usize = 50_000;

/// `VmHWM` (peak resident memory) of this process, in MB.
fn peak_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // A step run in a child process: `scale step NAME URL [EXTRA…]`.
    if args.first().map(String::as_str) == Some("step") {
        return step(&args[1..]).await;
    }
    let url = arg(&args, "--database-url")
        .ok_or_else(|| anyhow::anyhow!("--database-url URL is required"))?;
    let n: usize = arg(&args, "--responses")
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let work = PathBuf::from(arg(&args, "--work").unwrap_or_else(|| "/tmp/hailong-scale".into()));
    let reuse = args.iter().any(|a| a == "--reuse");
    let cleanup = args.iter().any(|a| a == "--cleanup");
    // `--only STEP[,STEP…]`: run only these steps (e.g. `--only export` on a database built
    // and published by an earlier run with `--reuse`).
    let only: Option<Vec<String>> =
        arg(&args, "--only").map(|s| s.split(',').map(str::to_owned).collect());
    let wanted = |step: &str| only.as_ref().is_none_or(|o| o.iter().any(|s| s == step));
    let backend = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!("scale benchmark: {backend}, {url}, {n} generated responses");

    if !reuse {
        fresh_database(&url).await?;
        let t = Instant::now();
        let made = build(&url, n).await?;
        println!(
            "build: demo + {made} responses in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let mut figures: Vec<(String, f64, f64)> = Vec::new();
    for step in ["publish", "results", "recount", "cached"] {
        if wanted(step) {
            figures.push(child(step, &url, &[])?);
        }
    }
    let out = work.join("export");
    if wanted("export") {
        let _ = std::fs::remove_dir_all(&out);
        figures.push(child("export", &url, &[out.to_str().unwrap_or_default()])?);
    }
    let csv = out.join("microdata.csv");
    let size = std::fs::metadata(&csv).map(|m| m.len()).unwrap_or(0);
    println!("microdata.csv: {:.1} MB", size as f64 / 1e6);
    let items = item_codes(&url).await?;
    let mut hailong_stats_s = f64::NAN;
    for by in ["province", "commune"]
        .into_iter()
        .filter(|_| wanted("estimate"))
    {
        let (label, secs, mb) = child(
            "estimate",
            &url,
            &[csv.to_str().unwrap_or_default(), &items, by],
        )?;
        if by == "province" {
            hailong_stats_s = last_statistics_seconds(&work);
        }
        figures.push((label, secs, mb));
    }
    // `r` times the peers: R survey and Python svy.
    let (r, py) = if wanted("r") {
        (
            r_svyby(&csv, &items, &work)?,
            python_svy(&csv, &items, &work)?,
        )
    } else {
        (None, None)
    };

    println!();
    println!("| {backend}: step | wall time | peak memory |");
    println!("| --- | ---: | ---: |");
    for (label, secs, mb) in &figures {
        println!("| {label} | {secs:.2} s | {mb:.0} MB |");
    }
    match r {
        Some((read, design, svyby, mb)) => {
            println!(
                "| R survey: read.csv {read:.1} s, svydesign {design:.1} s, svyby(~items, ~province, svymean) | {svyby:.2} s | {mb:.0} MB |"
            );
            println!(
                "ratio, statistics by province: R svyby {svyby:.2} s / hailong estimate {hailong_stats_s:.3} s = {:.0}×",
                svyby / hailong_stats_s
            );
        }
        None => println!("R with the survey package is not installed: R not timed"),
    }
    match py {
        Some((read, design, estimate, mb)) => {
            println!(
                "| Python svy: read_csv {read:.1} s, Sample {design:.1} s, estimation.mean(items, by=province) | {estimate:.2} s | {mb:.0} MB |"
            );
            println!(
                "ratio, statistics by province: svy {estimate:.2} s / hailong estimate {hailong_stats_s:.3} s = {:.0}×",
                estimate / hailong_stats_s
            );
        }
        None => println!("Python with svy is not found (SVY_PYTHON or python3): svy not timed"),
    }
    if wanted("more") {
        let (label, secs, mb) = child("more", &url, &["100000"])?;
        println!("| {label} | {secs:.2} s | {mb:.0} MB |");
    }
    if cleanup {
        let _ = std::fs::remove_dir_all(&work);
        drop_database(&url).await?;
        println!("cleaned up: {} and the database", work.display());
    }
    Ok(())
}

/// Runs one step in a child process; returns its label, wall time and peak memory.
fn child(name: &str, url: &str, extra: &[&str]) -> anyhow::Result<(String, f64, f64)> {
    let exe = std::env::current_exe()?;
    let t = Instant::now();
    let out = Command::new(exe)
        .arg("step")
        .arg(name)
        .arg(url)
        .args(extra)
        .output()?;
    let secs = t.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        anyhow::bail!("step {name} failed: {stderr}");
    }
    // The child's last line: `label\tpeak MB`.
    let last = stdout.lines().last().unwrap_or_default();
    let (label, mb) = last.split_once('\t').unwrap_or((name, "nan"));
    let mb: f64 = mb.parse().unwrap_or(f64::NAN);
    for line in stdout.lines().filter(|l| !l.contains('\t')) {
        println!("  {line}");
    }
    for line in stderr.lines() {
        println!("  {line}");
    }
    println!("{label}: {secs:.2} s, peak {mb:.0} MB");
    Ok((label.to_owned(), secs, mb))
}

/// The statistics time of the last `hailong estimate` (its `… estimates in S s` line, saved
/// by the step).
fn last_statistics_seconds(work: &Path) -> f64 {
    std::fs::read_to_string(work.join("estimate-stderr.txt"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                let (_, tail) = l.split_once(" estimates in ")?;
                tail.trim_end_matches(" s").trim().parse().ok()
            })
        })
        .unwrap_or(f64::NAN)
}

/// The steps, each in its own process.
async fn step(args: &[String]) -> anyhow::Result<()> {
    let name = args.first().map(String::as_str).unwrap_or_default();
    let url = args.get(1).cloned().unwrap_or_default();
    let label: String = match name {
        "estimate" => {
            let (csv, items, by) = (&args[2], &args[3], &args[4]);
            use clap::Parser;
            #[derive(clap::Parser)]
            struct Cmd {
                #[command(flatten)]
                args: hailong_stats::cli::EstimateArgs,
            }
            let cmd = Cmd::try_parse_from([
                "estimate", "--input", csv, "--items", items, "--weight", "weight", "--strata",
                "stratum", "--psu", "psu", "--by", by, "--ci", "logit", "--format", "json",
            ])?;
            let mut sink = std::io::sink();
            let mut err = Vec::new();
            hailong_stats::cli::run(&cmd.args, &mut sink, &mut err)?;
            let err = String::from_utf8_lossy(&err).into_owned();
            print!("{err}");
            if by == "province"
                && let Some(dir) = Path::new(csv).parent().and_then(Path::parent)
            {
                std::fs::write(dir.join("estimate-stderr.txt"), &err)?;
            }
            format!("`hailong estimate` on microdata.csv, --by {by}, logit CIs, JSON")
        }
        _ => {
            let db = hailong::db::connect(&url, 8).await?;
            let campaign = campaigns::by_slug(&db, demo::SIPAS_SLUG).await?;
            match name {
                "publish" => {
                    let t = Instant::now();
                    let outcome = publish_now(&db, &campaign).await?;
                    println!(
                        "publication {:?}: {:.2} s",
                        outcome.number,
                        t.elapsed().as_secs_f64()
                    );
                    "first publication (select by the k rule, mark, compute, store)".to_owned()
                }
                "results" => {
                    let upto = publication::latest(&db, campaign.campaign.id)
                        .await?
                        .map(|p| p.number)
                        .ok_or_else(|| anyhow::anyhow!("not published"))?;
                    let t = Instant::now();
                    let (computed, data, source) =
                        results::compute_with_totals(&db, &campaign, upto).await?;
                    println!(
                        "{} responses in {} groups ({source:?}), {} estimates: {:.2} s",
                        computed.responses,
                        data.n,
                        computed.rows.len(),
                        t.elapsed().as_secs_f64()
                    );
                    "results: every level computed from the publication's kept totals".to_owned()
                }
                "recount" => {
                    let upto = publication::latest(&db, campaign.campaign.id)
                        .await?
                        .map(|p| p.number)
                        .ok_or_else(|| anyhow::anyhow!("not published"))?;
                    let t = Instant::now();
                    let plan = results::plan(&campaign.definition);
                    let data = results::load_groups(&db, &campaign, &plan, (1, upto)).await?;
                    let read = t.elapsed().as_secs_f64();
                    let (computed, data) =
                        results::compute_from(&db, &campaign, plan, data).await?;
                    println!(
                        "{} responses read into {} groups in {read:.2} s, {} estimates: {:.2} s",
                        computed.responses,
                        data.n,
                        computed.rows.len(),
                        t.elapsed().as_secs_f64()
                    );
                    "results: every level computed from every response, read again".to_owned()
                }
                "cached" => {
                    let t = Instant::now();
                    let fresh = publication::published(&db, &campaign).await?;
                    println!(
                        "publication {}, {} rows: {:.3} s",
                        fresh.number,
                        fresh.results.rows.len(),
                        t.elapsed().as_secs_f64()
                    );
                    "results: the stored publication read".to_owned()
                }
                "export" => {
                    let out = PathBuf::from(&args[2]);
                    let mut sink = export::DirSink::new(&out);
                    let t = Instant::now();
                    let done = export::microdata(&db, &campaign, &mut sink).await?;
                    println!("{} rows: {:.2} s", done.rows, t.elapsed().as_secs_f64());
                    "`hailong export microdata --campaign sipas-demo`".to_owned()
                }
                "more" => {
                    let n: usize = args.get(2).map_or(Ok(100_000), |a| a.parse())?;
                    let day = NaiveDate::from_ymd_opt(2026, 12, 2).expect("date");
                    // Seeded by the responses already there: every run adds new ones.
                    let seed =
                        hailong::services::responses::count(&db, campaign.campaign.id).await?;
                    let t = Instant::now();
                    let added = synthetic::insert_more(
                        &db,
                        n,
                        day,
                        seed,
                        (ROWS_PER_TRANSACTION, ROWS_PER_INSERT),
                    )
                    .await?;
                    println!(
                        "{added} more responses stored in {:.1} s",
                        t.elapsed().as_secs_f64()
                    );
                    let t = Instant::now();
                    let outcome = publish_now(&db, &campaign).await?;
                    let latest = publication::latest(&db, campaign.campaign.id)
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("not published"))?;
                    println!(
                        "publication {:?}: {} responses included in all: {:.2} s",
                        outcome.number,
                        latest.included,
                        t.elapsed().as_secs_f64()
                    );
                    format!(
                        "a publication after {n} more responses (select, mark, add to the kept totals, compute, store)"
                    )
                }
                other => anyhow::bail!("unknown step {other}"),
            }
        }
    };
    println!("{label}\t{:.1}", peak_mb());
    Ok(())
}

/// A publication of the campaign now, as `hailong results publish` makes one (k floor 10).
async fn publish_now(
    db: &sea_orm::DatabaseConnection,
    campaign: &hailong::services::campaigns::OpenCampaign,
) -> anyhow::Result<publication::Outcome> {
    Ok(publication::publish(
        db,
        campaign,
        hailong::domain::publication::Trigger::Cli,
        10,
        Utc::now(),
    )
    .await?)
}

/// The codes of the campaign's index items, comma-separated (the `--items` of estimate).
async fn item_codes(url: &str) -> anyhow::Result<String> {
    let db = hailong::db::connect(url, 2).await?;
    let campaign = campaigns::by_slug(&db, demo::SIPAS_SLUG).await?;
    let plan = results::plan(&campaign.definition);
    Ok(plan
        .items
        .iter()
        .map(|i| i.code.as_str())
        .collect::<Vec<_>>()
        .join(","))
}

/// The admin connection of a PostgreSQL URL (database `postgres`) and the database's name.
fn pg_admin(url: &str) -> anyhow::Result<(String, String)> {
    let base = url.split('?').next().unwrap_or(url);
    let (server, name) = base
        .rsplit_once('/')
        .ok_or_else(|| anyhow::anyhow!("no database name in {url}"))?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        anyhow::bail!("database name {name:?}: letters, digits and _ only");
    }
    Ok((format!("{server}/postgres"), name.to_owned()))
}

async fn drop_database(url: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or(path);
        for suffix in ["", "-wal", "-shm", ".key"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
        return Ok(());
    }
    let (admin, name) = pg_admin(url)?;
    let mut c = sqlx::PgConnection::connect(&admin).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&mut c)
    .await?;
    Ok(())
}

async fn fresh_database(url: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    drop_database(url).await?;
    if url.starts_with("postgres") {
        let (admin, name) = pg_admin(url)?;
        let mut c = sqlx::PgConnection::connect(&admin).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut c)
            .await?;
    }
    Ok(())
}

/// The demo, then `n` responses of `sipas-demo` from the seeded generator (ChaCha8, seed 7):
/// a commune effect and a person effect on every item, 4 % "don't know", sex and age group
/// for the raking, weights per commune, strata province × urban/rural, the commune as PSU.
async fn build(url: &str, n: usize) -> anyhow::Result<usize> {
    let db = hailong::db::connect(url, 4).await?;
    hailong::db::migrate(&db).await?;
    let day = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
    demo::seed(&db, day).await?;
    synthetic::insert(&db, n, day, ROWS_PER_TRANSACTION, ROWS_PER_INSERT).await
}

/// Times (read s, design s, estimation s) and the peak memory of a peer's script.
type PeerFigures = (f64, f64, f64, f64);

/// Runs `program script csv items` under `/usr/bin/time -v`; the script prints one line
/// `<tag>\tread\tdesign\testimate\t…`. Returns its three times and its peak memory (MB).
fn timed_script(
    program: &str,
    script: &Path,
    tag: &str,
    csv: &Path,
    items: &str,
) -> anyhow::Result<Option<PeerFigures>> {
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(program)
        .arg(script)
        .arg(csv)
        .arg(items)
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        println!("{tag} failed: {stderr}");
        return Ok(None);
    }
    let prefix = format!("{tag}\t");
    let fields: Vec<f64> = stdout
        .lines()
        .find(|l| l.starts_with(&prefix))
        .map(|l| {
            l.split('\t')
                .skip(1)
                .filter_map(|x| x.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let mb = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0);
    println!("{tag}: {stdout}");
    match fields.as_slice() {
        [read, design, estimate, ..] => Ok(Some((*read, *design, *estimate, mb))),
        _ => Ok(None),
    }
}

/// R's `svyby(~items, ~province, design, svymean)` on the exported file, when `Rscript`
/// with `survey` is installed: (read.csv s, svydesign s, svyby s, peak MB).
fn r_svyby(csv: &Path, items: &str, work: &Path) -> anyhow::Result<Option<PeerFigures>> {
    let has_survey = Command::new("Rscript")
        .args(["-e", "library(survey)"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !has_survey {
        return Ok(None);
    }
    let version = Command::new("Rscript")
        .args(["-e", "cat(as.character(packageVersion('survey')))"])
        .output()?;
    println!("R survey {}", String::from_utf8_lossy(&version.stdout));
    let script = work.join("svyby.R");
    std::fs::write(
        &script,
        r#"suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
a <- commandArgs(TRUE)
items <- strsplit(a[2], ",")[[1]]
t0 <- proc.time()[["elapsed"]]
d <- read.csv(a[1], colClasses = c(province = "character", stratum = "character", psu = "character"))
t1 <- proc.time()[["elapsed"]]
des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = d, nest = TRUE)
t2 <- proc.time()[["elapsed"]]
r <- svyby(as.formula(paste("~", paste(items, collapse = "+"))), ~province, des, svymean, na.rm = TRUE)
t3 <- proc.time()[["elapsed"]]
cat(sprintf("R\t%.3f\t%.3f\t%.3f\t%d\n", t1 - t0, t2 - t1, t3 - t2, nrow(r)))
"#,
    )?;
    timed_script("Rscript", &script, "R", csv, items)
}

/// Python `svy` (samplics' successor, Rust-backed): `Sample.estimation.mean(items,
/// by="province")` on the exported file, with the same design and rows with a missing item
/// dropped as R's `na.rm = TRUE` does, when a Python with `svy` is found (`SVY_PYTHON`, else
/// `python3`): (read s, design s, estimation s, peak MB).
fn python_svy(csv: &Path, items: &str, work: &Path) -> anyhow::Result<Option<PeerFigures>> {
    let python = std::env::var("SVY_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let version = Command::new(&python)
        .args(["-c", "import svy; print(svy.__version__)"])
        .output()
        .ok()
        .filter(|o| o.status.success());
    let Some(version) = version else {
        return Ok(None);
    };
    println!(
        "Python svy {}",
        String::from_utf8_lossy(&version.stdout).trim()
    );
    let script = work.join("svy_by.py");
    std::fs::write(
        &script,
        r#"import sys, time
import polars as pl
import svy
path, items = sys.argv[1], sys.argv[2].split(",")
t0 = time.perf_counter()
d = pl.read_csv(path, schema_overrides={"province": pl.Utf8, "stratum": pl.Utf8, "psu": pl.Utf8})
t1 = time.perf_counter()
s = svy.Sample(d, svy.Design(stratum="stratum", psu="psu", wgt="weight"))
t2 = time.perf_counter()
r = s.estimation.mean(y=items, by="province", drop_nulls=True)
t3 = time.perf_counter()
print(f"svy\t{t1 - t0:.3f}\t{t2 - t1:.3f}\t{t3 - t2:.3f}")
"#,
    )?;
    timed_script(&python, &script, "svy", csv, items)
}
