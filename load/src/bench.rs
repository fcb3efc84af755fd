//! `hailong-load bench`: the whole benchmark in one run. For each database
//! (the embedded SQLite default, then PostgreSQL) it makes a fresh database,
//! measures the database's own commit ceiling on it, starts `hailong serve
//! --demo` on it, measures the HTTP ceiling (`/livez`) and every workload at
//! each concurrency, then checks that every acknowledged submission is stored
//! exactly once. Prints one Markdown table.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Stdio;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor, Row};
use tokio::process::{Child, Command};

use crate::run::{Outcome, Plan, Scenario, run};
use crate::survey::Campaign;

/// A database to benchmark on.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres { admin_url: String },
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres { .. } => "PostgreSQL",
        }
    }
}

/// Everything `bench` needs to know.
pub struct BenchArgs {
    pub server: PathBuf,
    pub backends: Vec<Backend>,
    pub campaign: String,
    pub scenarios: Vec<Scenario>,
    pub concurrency: Vec<usize>,
    pub duration: Duration,
    pub ceiling_duration: Duration,
}

/// One line of the report.
pub struct Line {
    pub backend: &'static str,
    pub what: String,
    pub clients: String,
    pub per_second: f64,
    pub latency: Option<(f64, f64, f64)>,
    pub errors: u64,
}

/// Why the benchmark could not run (as opposed to what it measured).
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("database {0}: {1}")]
    Db(&'static str, sqlx::Error),
    #[error("cannot start {0}: {1}")]
    Spawn(String, std::io::Error),
    #[error("the server did not become ready within {0:?} (its log: {1})")]
    NotReady(Duration, String),
    #[error("{0}")]
    Other(String),
}

/// What the whole run found.
pub struct Report {
    pub lines: Vec<Line>,
    /// Errors and lost acknowledgements, per backend; empty when clean.
    pub problems: Vec<String>,
}

pub async fn bench(args: &BenchArgs) -> Result<Report, BenchError> {
    let mut report = Report {
        lines: Vec::new(),
        problems: Vec::new(),
    };
    for backend in &args.backends {
        bench_one(args, backend, &mut report).await?;
    }
    Ok(report)
}

async fn bench_one(
    args: &BenchArgs,
    backend: &Backend,
    report: &mut Report,
) -> Result<(), BenchError> {
    let name = backend.name();
    let db = ScratchDb::create(backend).await?;
    eprintln!("[{name}] database ready; measuring its commit ceiling");
    for (what, rate) in commit_ceiling(&db.url, args.ceiling_duration).await? {
        report.lines.push(Line {
            backend: name,
            what,
            clients: "1".to_owned(),
            per_second: rate,
            latency: None,
            errors: 0,
        });
    }
    eprintln!("[{name}] starting {} serve --demo", args.server.display());
    let server = Server::start(&args.server, &db.url, &db.dir).await?;
    let campaign = fetch_campaign(server.addr, &args.campaign).await?;
    let baseline = count_responses(&db.url).await?;
    let mut acked: Vec<String> = Vec::new();
    let mut new = 0u64;
    for &clients in &args.concurrency {
        for &scenario in &args.scenarios {
            let outcome = run(Plan {
                addr: server.addr,
                scenario,
                concurrency: clients,
                duration: args.duration,
                max_requests: None,
                campaign: campaign.clone(),
            })
            .await;
            eprintln!(
                "[{name}] {:<7} {clients:>4} clients: {:>9.0}/s  p50 {:.2} ms  p95 {:.2} ms  p99 {:.2} ms  errors {}",
                scenario.name(),
                outcome.per_second(),
                outcome.ms(0.50),
                outcome.ms(0.95),
                outcome.ms(0.99),
                outcome.errors
            );
            if outcome.errors > 0 {
                report.problems.push(format!(
                    "{name} {} at {clients} clients: {} errors, e.g. {:?}",
                    scenario.name(),
                    outcome.errors,
                    outcome.error_samples
                ));
            }
            report.lines.push(line(name, &outcome));
            new += outcome.new;
            acked.extend(outcome.acked);
        }
    }
    // Every acknowledged submission must be there, once.
    let lost = missing(&db.url, &acked).await?;
    let stored = count_responses(&db.url).await? - baseline;
    eprintln!(
        "[{name}] {} acknowledged submissions ({new} new): {} missing, {stored} rows added",
        acked.len(),
        lost.len()
    );
    if !lost.is_empty() {
        report.problems.push(format!(
            "{name}: {} acknowledged submissions are not stored, e.g. {:?}",
            lost.len(),
            &lost[..lost.len().min(5)]
        ));
    }
    if stored != new as i64 {
        report.problems.push(format!(
            "{name}: {new} submissions acknowledged as new but {stored} rows were added"
        ));
    }
    server.stop().await;
    db.drop().await;
    Ok(())
}

fn line(backend: &'static str, o: &Outcome) -> Line {
    let what = match o.scenario {
        Scenario::Livez => "ceiling: HTTP, `GET /livez`".to_owned(),
        Scenario::Page => "survey page: `GET /s/{slug}?l=…`".to_owned(),
        Scenario::Submit => "submission: JSON `POST`, acknowledged after commit".to_owned(),
        Scenario::Phone => {
            "phone without JavaScript: page, then per section a form `POST` and the `GET` it redirects to, responses stored"
                .to_owned()
        }
    };
    Line {
        backend,
        what,
        clients: o.concurrency.to_string(),
        per_second: o.per_second(),
        latency: Some((o.ms(0.50), o.ms(0.95), o.ms(0.99))),
        errors: o.errors,
    }
}

/// Prints the report as a Markdown table.
pub fn print(report: &Report, cores: usize) {
    println!("Measured on {cores} cores, load generator on the same machine.\n");
    println!("| database | workload | clients | per second | p50 ms | p95 ms | p99 ms | errors |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for l in &report.lines {
        let (p50, p95, p99) = match l.latency {
            Some((a, b, c)) => (format!("{a:.2}"), format!("{b:.2}"), format!("{c:.2}")),
            None => ("".into(), "".into(), "".into()),
        };
        println!(
            "| {} | {} | {} | {:.0} | {p50} | {p95} | {p99} | {} |",
            l.backend, l.what, l.clients, l.per_second, l.errors
        );
    }
}

/// A database made for this run and dropped after it.
struct ScratchDb {
    url: String,
    dir: tempfile::TempDir,
    admin: Option<(String, String)>,
}

impl ScratchDb {
    async fn create(backend: &Backend) -> Result<ScratchDb, BenchError> {
        let dir = tempfile::tempdir().map_err(|e| BenchError::Other(format!("temp dir: {e}")))?;
        match backend {
            Backend::Sqlite => Ok(ScratchDb {
                url: format!("sqlite://{}/hailong.db", dir.path().display()),
                dir,
                admin: None,
            }),
            Backend::Postgres { admin_url } => {
                let name = format!("hailong_bench_{}", uuid::Uuid::new_v4().simple());
                let mut admin = sqlx::PgConnection::connect(admin_url)
                    .await
                    .map_err(|e| BenchError::Db("PostgreSQL", e))?;
                sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .execute(&mut admin)
                    .await
                    .map_err(|e| BenchError::Db("PostgreSQL", e))?;
                let _ = admin.close().await;
                let base = admin_url.split('?').next().unwrap_or(admin_url);
                let server = base.rsplit_once('/').map(|(s, _)| s).unwrap_or(base);
                Ok(ScratchDb {
                    url: format!("{server}/{name}"),
                    dir,
                    admin: Some((admin_url.clone(), name)),
                })
            }
        }
    }

    async fn drop(self) {
        if let Some((admin_url, name)) = &self.admin
            && let Ok(mut admin) = sqlx::PgConnection::connect(admin_url).await
        {
            let _ = sqlx::query(AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await;
            let _ = admin.close().await;
        }
    }
}

/// The database's own ceiling for what a submission needs: commits of one
/// response-sized row each, and of 50 rows per transaction (the batch a
/// group-committing writer can reach), on one connection, with the same
/// durability the app uses (SQLite: WAL, `synchronous=FULL`).
async fn commit_ceiling(url: &str, secs: Duration) -> Result<Vec<(String, f64)>, BenchError> {
    let answers = format!("{{\"comment\":\"{}\"}}", "x".repeat(380));
    let mut out = Vec::new();
    for per_txn in [1usize, 50] {
        let rate = if url.starts_with("sqlite") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| BenchError::Db("SQLite", e))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full);
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(opts)
                .await
                .map_err(|e| BenchError::Db("SQLite", e))?;
            let r = ceiling_loop(&pool, per_txn, &answers, secs, "?").await;
            pool.close().await;
            r.map_err(|e| BenchError::Db("SQLite", e))?
        } else {
            let opts = PgConnectOptions::from_str(url)
                .map_err(|e| BenchError::Db("PostgreSQL", e))?
                .disable_statement_logging();
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(opts)
                .await
                .map_err(|e| BenchError::Db("PostgreSQL", e))?;
            let r = ceiling_loop(&pool, per_txn, &answers, secs, "$").await;
            pool.close().await;
            r.map_err(|e| BenchError::Db("PostgreSQL", e))?
        };
        let what = if per_txn == 1 {
            "ceiling: database, 1 response row per commit".to_owned()
        } else {
            format!("ceiling: database, {per_txn} response rows per commit")
        };
        out.push((what, rate));
    }
    Ok(out)
}

async fn ceiling_loop<DB>(
    pool: &sqlx::Pool<DB>,
    per_txn: usize,
    answers: &str,
    secs: Duration,
    placeholder: &str,
) -> Result<f64, sqlx::Error>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS bench_ceiling (id TEXT PRIMARY KEY, answers TEXT NOT NULL)",
    )
    .execute(pool)
    .await?;
    let mut sql = String::from("INSERT INTO bench_ceiling (id, answers) VALUES ");
    for r in 0..per_txn {
        if r > 0 {
            sql.push_str(", ");
        }
        if placeholder == "$" {
            sql.push_str(&format!("(${}, ${})", 2 * r + 1, 2 * r + 2));
        } else {
            sql.push_str("(?, ?)");
        }
    }
    let started = Instant::now();
    let mut rows = 0u64;
    while started.elapsed() < secs {
        let mut tx = pool.begin().await?;
        let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
        for _ in 0..per_txn {
            q = q
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(answers.to_owned());
        }
        q.execute(&mut *tx).await?;
        tx.commit().await?;
        rows += per_txn as u64;
    }
    let rate = rows as f64 / started.elapsed().as_secs_f64();
    sqlx::query("DROP TABLE bench_ceiling")
        .execute(pool)
        .await?;
    Ok(rate)
}

/// A `hailong serve --demo` process on a free loopback port.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
}

impl Server {
    pub async fn start(
        binary: &PathBuf,
        url: &str,
        dir: &tempfile::TempDir,
    ) -> Result<Server, BenchError> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| BenchError::Other(format!("no free port: {e}")))?
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let log = dir.path().join("server.log");
        let file = std::fs::File::create(&log)
            .map_err(|e| BenchError::Spawn(log.display().to_string(), e))?;
        let err = file
            .try_clone()
            .map_err(|e| BenchError::Spawn(log.display().to_string(), e))?;
        let child = Command::new(binary)
            .args([
                "serve",
                "--demo",
                "--database-url",
                url,
                "--bind",
                &addr.to_string(),
            ])
            .current_dir(dir.path())
            .env_remove("HAILONG_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::from(file))
            .stderr(Stdio::from(err))
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| BenchError::Spawn(binary.display().to_string(), e))?;
        let mut server = Server { child, addr };
        let limit = Duration::from_secs(300);
        let started = Instant::now();
        loop {
            let mut conn = crate::http::Conn::new(addr);
            if let Ok(a) = conn.get("/readyz").await
                && a.status == 200
            {
                return Ok(server);
            }
            if started.elapsed() > limit || server.child.try_wait().ok().flatten().is_some() {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                let tail: String = text.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
                return Err(BenchError::NotReady(limit, tail));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// The open campaign `slug`, from the public campaign list.
pub async fn fetch_campaign(addr: SocketAddr, slug: &str) -> Result<Arc<Campaign>, BenchError> {
    let mut conn = crate::http::Conn::new(addr);
    let a = conn
        .get("/api/v1/campaigns")
        .await
        .map_err(|e| BenchError::Other(format!("GET /api/v1/campaigns: {e}")))?;
    let list: Vec<Campaign> = serde_json::from_slice(&a.body)
        .map_err(|e| BenchError::Other(format!("GET /api/v1/campaigns: {e}")))?;
    list.into_iter()
        .find(|c| c.slug == slug)
        .map(Arc::new)
        .ok_or_else(|| BenchError::Other(format!("no open campaign `{slug}` on the server")))
}

async fn connect_any(url: &str) -> Result<AnyDb, BenchError> {
    if url.starts_with("sqlite") {
        let opts = SqliteConnectOptions::from_str(url).map_err(|e| BenchError::Db("SQLite", e))?;
        Ok(AnyDb::Sqlite(
            sqlx::SqliteConnection::connect_with(&opts)
                .await
                .map_err(|e| BenchError::Db("SQLite", e))?,
        ))
    } else {
        Ok(AnyDb::Pg(
            sqlx::PgConnection::connect(url)
                .await
                .map_err(|e| BenchError::Db("PostgreSQL", e))?,
        ))
    }
}

enum AnyDb {
    Sqlite(sqlx::SqliteConnection),
    Pg(sqlx::PgConnection),
}

/// Rows in `responses`.
pub async fn count_responses(url: &str) -> Result<i64, BenchError> {
    let sql = "SELECT COUNT(*) AS n FROM responses";
    match connect_any(url).await? {
        AnyDb::Sqlite(mut c) => sqlx::query(sql)
            .fetch_one(&mut c)
            .await
            .and_then(|r| r.try_get::<i64, _>("n"))
            .map_err(|e| BenchError::Db("SQLite", e)),
        AnyDb::Pg(mut c) => sqlx::query(sql)
            .fetch_one(&mut c)
            .await
            .and_then(|r| r.try_get::<i64, _>("n"))
            .map_err(|e| BenchError::Db("PostgreSQL", e)),
    }
}

/// The ids among `ids` with no row in `responses`.
pub async fn missing(url: &str, ids: &[String]) -> Result<Vec<String>, BenchError> {
    let mut db = connect_any(url).await?;
    let mut lost = Vec::new();
    for chunk in ids.chunks(500) {
        let list = chunk
            .iter()
            .filter(|id| uuid::Uuid::try_parse(id).is_ok())
            .map(|id| format!("'{id}'"))
            .collect::<Vec<_>>()
            .join(",");
        let sql = format!("SELECT id FROM responses WHERE id IN ({list})");
        let found: Vec<String> = match &mut db {
            AnyDb::Sqlite(c) => sqlx::query(AssertSqlSafe(sql.clone()))
                .fetch_all(c)
                .await
                .map_err(|e| BenchError::Db("SQLite", e))?
                .iter()
                .filter_map(|r| r.try_get::<String, _>("id").ok())
                .collect(),
            AnyDb::Pg(c) => sqlx::query(AssertSqlSafe(sql.clone()))
                .fetch_all(c)
                .await
                .map_err(|e| BenchError::Db("PostgreSQL", e))?
                .iter()
                .filter_map(|r| r.try_get::<String, _>("id").ok())
                .collect(),
        };
        let found: std::collections::HashSet<String> = found.into_iter().collect();
        lost.extend(chunk.iter().filter(|id| !found.contains(*id)).cloned());
    }
    Ok(lost)
}
