//! `hailong localities …`, `hailong plan` and `hailong draw`: the command
//! lines of localities, population frames and sample planning.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clap::{Args, Subcommand};
use sea_orm::{DatabaseConnection, TransactionTrait};

use crate::domain::locality;
use crate::services::audit::{self, Actor};
use crate::services::locality_lists;

#[derive(Debug, Subcommand)]
pub enum LocalitiesCommand {
    /// Import an official list of administrative units (CSV: code, level,
    /// parent_code, name_vi, name_en, …) valid from a date, keeping history.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The CSV file.
    pub file: PathBuf,
    /// First day the list is in force (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub valid_from: NaiveDate,
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
    }
}

async fn import(db: &DatabaseConnection, args: &ImportArgs) -> Result<(), LocalitiesError> {
    let bytes = read(&args.file)?;
    let rows = locality::parse_list(bytes.as_slice())
        .map_err(|p| LocalitiesError(format!("{}: {p}", args.file.display())))?;
    let txn = db.begin().await.map_err(db_error)?;
    let summary = locality_lists::import_list(&txn, &rows, args.valid_from)
        .await
        .map_err(|e| LocalitiesError(format!("{}: {e}", args.file.display())))?;
    audit::record(
        &txn,
        &Actor::cli(),
        "localities.import",
        "localities",
        &args.valid_from.to_string(),
        &summary.to_string(),
    )
    .await
    .map_err(db_error)?;
    txn.commit().await.map_err(db_error)?;
    println!(
        "{} units valid from {}: {summary}",
        rows.len(),
        args.valid_from
    );
    Ok(())
}
