//! The command line: `serve`, `migrate`, `seed`, `estimate`.

pub mod localities;
pub mod questionnaire;

use std::path::PathBuf;

use chrono::Utc;
use clap::{Args, Parser, Subcommand};
use sea_orm::DatabaseConnection;
use tracing_subscriber::EnvFilter;

use crate::config::{ConfigError, Overrides, Settings};
use crate::db::{self, DbError};
use crate::services::demo::{self, DemoError, SeedOutcome};
use crate::startup::{Application, StartupError};

use questionnaire::QuestionnaireCommand;

/// Hailong: citizen-satisfaction surveys of public services.
#[derive(Debug, Parser)]
#[command(name = "hailong", version, about)]
pub struct Cli {
    /// Configuration file (default: ./hailong.toml if present; env HAILONG_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL (default sqlite://data/hailong.db; env HAILONG_DATABASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum Command {
    /// Serve the web application.
    Serve(ServeArgs),
    /// Apply pending database migrations.
    Migrate(MigrateArgs),
    /// Load data into the database.
    Seed(SeedArgs),
    /// Import or export questionnaires (JSON or XLSForm).
    #[command(subcommand)]
    Questionnaire(QuestionnaireCommand),
    /// Write a consistent copy of the SQLite database while it is in use
    /// (for PostgreSQL use pg_dump).
    Backup(BackupArgs),
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Estimate satisfaction from a CSV file (opens no database).
    Estimate(Box<hailong_stats::cli::EstimateArgs>),
    /// Small-area (Fay–Herriot) estimates from an area-level CSV file (opens no database).
    Sae(Box<hailong_stats::cli::sae::SaeArgs>),
    /// Administrative units: import lists, crosswalks, population frames.
    #[command(subcommand)]
    Localities(crate::cli::localities::LocalitiesCommand),
    /// Plan a campaign's sample: sizes per stratum for a target margin of
    /// error, or the allocation of a budget with its expected margins.
    Plan(Box<crate::cli::localities::PlanArgs>),
    /// Draw clusters (communes…) with probability proportional to size,
    /// per stratum, from a recorded seed, optionally with a second stage
    /// (villages, desks) within them; optionally into a campaign.
    Draw(Box<crate::cli::localities::DrawArgs>),
    /// Fieldwork of a draw: record attempts at its units and their
    /// replacements (outcome codes only), adjust its weights for nonresponse.
    #[command(subcommand)]
    Fieldwork(crate::cli::localities::FieldworkCommand),
    /// Export a campaign's data.
    Export(ExportArgs),
    /// Published results.
    #[command(subcommand)]
    Results(ResultsCommand),
}

#[derive(Debug, Subcommand)]
pub enum ResultsCommand {
    /// Publish a campaign's results now (as its schedule would; no server needed): the
    /// responses the k rule allows are included, the rest waits. A running server serves
    /// the new publication within seconds.
    Publish {
        /// The campaign's slug.
        #[arg(long)]
        campaign: String,
    },
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    pub what: ExportCommand,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Anonymised microdata (microdata.csv, codebook.csv, margins.csv, indices.csv,
    /// design.R, design.do, notes.txt) of one campaign into a directory.
    Microdata {
        /// The campaign's slug.
        #[arg(long)]
        campaign: String,
        /// Directory to write into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080; env HAILONG_BIND).
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
    /// Seed the demo data before listening (does nothing if already present).
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The file to write (must not exist yet).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a staff account (e.g. the first administrator).
    Add(UserAddArgs),
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    #[arg(long)]
    pub email: String,
    /// admin, designer, field_manager or analyst.
    #[arg(long)]
    pub role: String,
    /// Read the password as one line from standard input (trailing newline
    /// dropped); without it, the password is asked for on the terminal.
    #[arg(long)]
    pub password_stdin: bool,
    /// Restrict the account to these locality codes (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub localities: Vec<String>,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Roll every migration back instead (drops all of Hailong's tables).
    #[arg(long)]
    pub down: bool,
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Seed the demo questionnaires, campaigns and synthetic responses.
    #[arg(long, required = true)]
    pub demo: bool,
}

/// Why a command failed; printed as one line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("demo data: {0}")]
    Demo(#[from] DemoError),
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("{0}")]
    Estimate(#[from] hailong_stats::cli::StatsCliError),
    #[error("server: {0}")]
    Server(std::io::Error),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot read the password: {0}")]
    ReadPassword(std::io::Error),
    #[error("the two passwords differ")]
    PasswordMismatch,
    #[error("{0}")]
    User(String),
    #[error("migration: {0}")]
    Migrate(sea_orm::DbErr),
    #[error(transparent)]
    Localities(#[from] crate::cli::localities::LocalitiesError),
    #[error(transparent)]
    Questionnaire(#[from] questionnaire::QuestionnaireCliError),
    #[error("export: {0}")]
    Export(String),
    #[error("publish: {0}")]
    Publish(String),
}

fn init_tracing(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    if let Command::Estimate(args) = &cli.command {
        // Pure computation: no configuration, no database.
        let stdout = std::io::stdout();
        let stderr = std::io::stderr();
        return hailong_stats::cli::run(args, &mut stdout.lock(), &mut stderr.lock())
            .map_err(CliError::from);
    }
    if let Command::Sae(args) = &cli.command {
        let stdout = std::io::stdout();
        let stderr = std::io::stderr();
        return hailong_stats::cli::sae::run(args, &mut stdout.lock(), &mut stderr.lock())
            .map_err(CliError::from);
    }
    let bind = match &cli.command {
        Command::Serve(a) => a.bind.clone(),
        _ => None,
    };
    let settings = Settings::load(
        cli.config.as_deref(),
        std::env::vars(),
        &Overrides {
            database_url: cli.database_url.clone(),
            bind,
        },
    )?;
    init_tracing(&settings.log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    runtime.block_on(dispatch(cli.command, settings))
}

async fn open(settings: &Settings) -> Result<DatabaseConnection, CliError> {
    let db = db::connect(&settings.database_url, settings.max_connections).await?;
    db::migrate(&db).await?;
    Ok(db)
}

async fn seed_demo(db: &DatabaseConnection) -> Result<(), CliError> {
    match demo::seed(db, Utc::now().date_naive()).await? {
        SeedOutcome::Seeded { responses } => {
            tracing::info!(responses, "demo data seeded");
        }
        SeedOutcome::AlreadyPresent => tracing::info!("demo data already present"),
    }
    Ok(())
}

/// `hailong results publish`: publishes and prints, per locality, only whether responses
/// were included (then at least k) and whether some wait (never how many).
async fn publish(db: &DatabaseConnection, slug: &str, floor: u32) -> Result<(), CliError> {
    use crate::services::{campaigns, publication};
    let failed = |e: crate::error::AppError| {
        CliError::Publish(match e {
            crate::error::AppError::NotFound("campaign_not_found") => {
                format!("no campaign \"{slug}\"")
            }
            other => format!("{other:#}"),
        })
    };
    let campaign = campaigns::by_slug(db, slug).await.map_err(failed)?;
    let outcome = publication::publish(
        db,
        &campaign,
        crate::domain::publication::Trigger::Cli,
        floor,
        Utc::now(),
    )
    .await
    .map_err(failed)?;
    let k = outcome.k;
    for g in &outcome.groups {
        let included = if g.included {
            format!("included >= {k}")
        } else {
            "none included".to_owned()
        };
        let waiting = if g.waiting { ", some waiting" } else { "" };
        println!("{}: {included}{waiting}", g.locality);
    }
    match outcome.number {
        Some(n) => {
            crate::services::audit::record(
                db,
                &crate::services::audit::Actor::cli(),
                "results.publish",
                "campaign",
                &campaign.campaign.id.to_string(),
                &format!("{slug} publication {n}"),
            )
            .await
            .map_err(|e| CliError::Publish(e.to_string()))?;
            println!("{slug}: publication {n} (k = {k})");
        }
        None => println!("{slug}: another process published at the same moment; nothing done"),
    }
    Ok(())
}

async fn export_microdata(
    db: &DatabaseConnection,
    slug: &str,
    out: &std::path::Path,
) -> Result<(), CliError> {
    use crate::services::{campaigns, export};
    let failed = |e: crate::error::AppError| {
        CliError::Export(match e {
            crate::error::AppError::NotFound("campaign_not_found") => {
                format!("no campaign \"{slug}\"")
            }
            other => format!("{other:#}"),
        })
    };
    let campaign = campaigns::by_slug(db, slug).await.map_err(failed)?;
    let mut sink = export::DirSink::new(out);
    let files = export::microdata(db, &campaign, &mut sink)
        .await
        .map_err(failed)?;
    for note in &files.notes {
        println!("{note}");
    }
    crate::services::audit::record(
        db,
        &crate::services::audit::Actor::cli(),
        "export.microdata",
        "campaign",
        &campaign.campaign.id.to_string(),
        &format!("{slug} to {}", out.display()),
    )
    .await
    .map_err(|e| CliError::Export(e.to_string()))?;
    println!("wrote {} files to {}", files.files.len(), out.display());
    Ok(())
}

/// `serve --demo` without `base_url`: links point at the bind address (a
/// port 0 is chosen now, so the announced address is the one served).
fn demo_base_url(settings: &mut Settings) -> std::io::Result<()> {
    if settings.bind.ends_with(":0") {
        let probe = std::net::TcpListener::bind(&settings.bind)?;
        settings.bind = probe.local_addr()?.to_string();
    }
    settings.base_url = Some(format!("http://{}", settings.bind));
    Ok(())
}

/// One line at start-up on where links point, or what cannot work without
/// `base_url` (links are never built from a request's Host).
fn announce_links(settings: &Settings, demo: bool) {
    match &settings.base_url {
        Some(url) if demo && !settings.base_url_missing() => {
            tracing::info!("demo: links in mail, QR codes and kiosk addresses use {url}");
        }
        Some(_) if !settings.base_url_missing() => {}
        _ => tracing::warn!(
            "base_url is not set: password reset mails and invitations are refused, QR codes are \
             served only for hosts in qr_hosts, kiosk addresses are shown without a host"
        ),
    }
}

async fn dispatch(command: Command, settings: Settings) -> Result<(), CliError> {
    match command {
        Command::Serve(args) => {
            let mut settings = settings;
            if args.demo && settings.base_url_missing() {
                demo_base_url(&mut settings).map_err(CliError::Server)?;
            }
            let db = open(&settings).await?;
            if args.demo {
                seed_demo(&db).await?;
            }
            let app = Application::build(settings.clone(), db).await?;
            announce_links(&settings, args.demo);
            tracing::info!(
                database = %db::redact(&settings.database_url),
                "listening on http://{}",
                settings.bind.replace(":0", &format!(":{}", app.port()))
            );
            app.run_until_stopped().await.map_err(CliError::Server)
        }
        Command::Migrate(args) => {
            let db = db::connect(&settings.database_url, 1).await?;
            if args.down {
                use migration::MigratorTrait;
                migration::Migrator::down(&db, None)
                    .await
                    .map_err(CliError::Migrate)?;
                tracing::info!("all migrations rolled back");
            } else {
                db::migrate(&db).await?;
                tracing::info!("database is up to date");
            }
            Ok(())
        }
        Command::Seed(_) => {
            let db = open(&settings).await?;
            seed_demo(&db).await
        }
        Command::Backup(args) => backup(&settings, &args.out).await,
        Command::Questionnaire(QuestionnaireCommand::Import(args)) => {
            Ok(questionnaire::import(&settings, &args).await?)
        }
        Command::Questionnaire(QuestionnaireCommand::Export(args)) => {
            let db = open(&settings).await?;
            Ok(questionnaire::export(&db, &args).await?)
        }
        Command::User(UserCommand::Add(args)) => {
            let password = read_password(args.password_stdin)?;
            let db = open(&settings).await?;
            add_user(&db, &args, &password).await
        }
        // Handled before any configuration is read.
        Command::Estimate(_) | Command::Sae(_) => Ok(()),
        Command::Export(ExportArgs {
            what: ExportCommand::Microdata { campaign, out },
        }) => {
            let db = open(&settings).await?;
            export_microdata(&db, &campaign, &out).await
        }
        Command::Results(ResultsCommand::Publish { campaign }) => {
            let db = open(&settings).await?;
            publish(&db, &campaign, settings.min_n_floor).await
        }
        Command::Localities(command) => {
            let db = open(&settings).await?;
            Ok(crate::cli::localities::run(&db, command).await?)
        }
        Command::Plan(args) => {
            let db = match args.frame {
                Some(_) => None,
                None => Some(open(&settings).await?),
            };
            Ok(crate::cli::localities::plan(db.as_ref(), &args).await?)
        }
        Command::Draw(args) => {
            let db = open(&settings).await?;
            Ok(crate::cli::localities::draw(&db, &args).await?)
        }
        Command::Fieldwork(command) => {
            let db = open(&settings).await?;
            Ok(crate::cli::localities::fieldwork(&db, &command).await?)
        }
    }
}

fn read_password(from_stdin: bool) -> Result<String, CliError> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(CliError::ReadPassword)?;
        let trimmed = line.strip_suffix('\n').unwrap_or(&line);
        let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
        return Ok(trimmed.to_owned());
    }
    let first = rpassword::prompt_password("Password: ").map_err(CliError::ReadPassword)?;
    let second =
        rpassword::prompt_password("Repeat the password: ").map_err(CliError::ReadPassword)?;
    if first != second {
        return Err(CliError::PasswordMismatch);
    }
    Ok(first)
}

async fn add_user(
    db: &DatabaseConnection,
    args: &UserAddArgs,
    password: &str,
) -> Result<(), CliError> {
    use crate::services::staff::{self, NewUser, StaffError};
    let result = staff::create(
        db,
        &crate::services::audit::Actor::cli(),
        NewUser {
            email: &args.email,
            role: &args.role,
            password,
            localities: Some(args.localities.clone()),
        },
    )
    .await;
    match result {
        Ok(user) => {
            println!("created {} ({})", user.email, user.role);
            Ok(())
        }
        Err(StaffError::Invalid(errors)) => {
            let lang = crate::i18n::Lang::En;
            let text: Vec<String> = errors
                .iter()
                .map(|e| format!("--{}: {}", e.field, crate::error::field_message(lang, e)))
                .collect();
            Err(CliError::User(text.join("; ")))
        }
        Err(StaffError::Duplicate) => Err(CliError::User(format!(
            "an account with the email {} already exists",
            args.email.trim().to_lowercase()
        ))),
        Err(e) => Err(CliError::User(e.to_string())),
    }
}

/// `hailong backup --out FILE`: SQLite's `VACUUM INTO` writes a consistent
/// snapshot while other connections go on reading and writing; the copy is
/// then checked with `PRAGMA integrity_check`.
async fn backup(settings: &Settings, out: &std::path::Path) -> Result<(), CliError> {
    use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
    if db::backend_of(&settings.database_url) != Some(DatabaseBackend::Sqlite) {
        return Err(CliError::User(
            "hailong backup copies SQLite databases; for PostgreSQL use pg_dump --format=custom (see README, Operations)".to_owned(),
        ));
    }
    if out.exists() {
        return Err(CliError::User(format!(
            "{} already exists; choose a new file",
            out.display()
        )));
    }
    let target = out
        .to_str()
        .ok_or_else(|| CliError::User(format!("{} is not a UTF-8 path", out.display())))?;
    let db = db::connect(&settings.database_url, 1).await?;
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Sqlite,
        "VACUUM INTO ?",
        [target.into()],
    ))
    .await
    .map_err(|e| CliError::User(format!("backup to {}: {e}", out.display())))?;
    let copy = db::connect(&format!("sqlite://{target}"), 1).await?;
    let row = copy
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await
        .map_err(|e| CliError::User(format!("checking {}: {e}", out.display())))?;
    let verdict: String = row
        .and_then(|r| r.try_get_by_index::<String>(0).ok())
        .unwrap_or_default();
    if verdict != "ok" {
        return Err(CliError::User(format!(
            "the copy {} failed its integrity check: {verdict}",
            out.display()
        )));
    }
    println!("backed up to {} (integrity check: ok)", out.display());
    Ok(())
}
