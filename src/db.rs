//! Connecting to SQLite or PostgreSQL and keeping the schema current.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqliteLockingMode, SqlitePoolOptions,
    SqliteSynchronous,
};

/// A problem opening or migrating the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "unsupported database URL {0:?}: use sqlite://path/to/file.db or postgres://user@host/database"
    )]
    UnsupportedUrl(String),
    #[error("invalid database URL {url:?}: {source}")]
    InvalidUrl { url: String, source: sqlx::Error },
    #[error("cannot create data directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open database {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("cannot migrate database: {0}")]
    Migrate(#[source] sea_orm::DbErr),
    #[error("cannot take the migration lock: {0}")]
    Lock(String),
}

/// Which kind of database a URL names.
pub fn backend_of(url: &str) -> Option<DatabaseBackend> {
    if url.starts_with("sqlite:") {
        Some(DatabaseBackend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Some(DatabaseBackend::Postgres)
    } else {
        None
    }
}

/// Shown in errors and logs: the URL with its password, if any, as `***`.
/// Text that does not parse as a URL but might hold credentials (an `@`) is
/// shown by its scheme only.
pub fn redact(text: &str) -> String {
    let scheme_only = || match text.split_once("://") {
        Some((scheme, _)) => format!("{scheme}://…"),
        None => "…".to_owned(),
    };
    match url::Url::parse(text) {
        Ok(mut url) if url.password().is_some() => match url.set_password(Some("***")) {
            Ok(()) => url.into(),
            Err(()) => scheme_only(),
        },
        Ok(_) => text.to_owned(),
        Err(_) if text.contains('@') => scheme_only(),
        Err(_) => text.to_owned(),
    }
}

/// Opens a pool. SQLite: the file and its directory are created on first use;
/// WAL journal, full sync (an acknowledged commit survives power loss),
/// foreign keys on, a busy timeout, and normal locking so other processes
/// (`sqlite3`, other `hailong` commands) can read while `serve` runs.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbError> {
    match backend_of(url) {
        Some(DatabaseBackend::Sqlite) => connect_sqlite(url, max_connections).await,
        Some(DatabaseBackend::Postgres) => {
            let opts = PgConnectOptions::from_str(url).map_err(|source| DbError::InvalidUrl {
                url: redact(url),
                source,
            })?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections.max(1))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await
                .map_err(|source| DbError::Connect {
                    url: redact(url),
                    source,
                })?;
            Ok(DatabaseConnection::from(pool))
        }
        _ => Err(DbError::UnsupportedUrl(redact(url))),
    }
}

async fn connect_sqlite(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbError> {
    let opts = SqliteConnectOptions::from_str(url)
        .map_err(|source| DbError::InvalidUrl {
            url: url.to_owned(),
            source,
        })?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .locking_mode(SqliteLockingMode::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        // Reads of the database file through a memory map rather than copies
        // into each connection's page cache. The page cache keeps SQLite's
        // default size (2 MB) on purpose: at the end of every write
        // transaction SQLite scans the whole cache's hash table
        // (`pcache1Truncate`), so a 64 MB cache cost the writer a fifth of
        // its time under load (measured with perf), while the pages it reads
        // come from the memory map and the OS cache anyway.
        .pragma("mmap_size", "268435456")
        // Statement journals (multi-row inserts) in memory, not a temp file.
        .pragma("temp_store", "memory")
        // No checkpoint inside a committing transaction: `serve` checkpoints
        // from a background task (see `checkpoint_sqlite`); a command-line
        // process checkpoints when it closes.
        .pragma("wal_autocheckpoint", "0")
        // When the log starts over, its file is cut back to this size.
        .pragma("journal_size_limit", "67108864")
        // Deleted content (an address list, say) is overwritten with zeros
        // in the file rather than left in free space; see `scrub_deleted`.
        .pragma("secure_delete", "ON");
    let file = opts.get_filename();
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        ensure_dir(dir)?;
    }
    // Switching a new file to WAL needs an exclusive lock that SQLite's busy
    // timeout does not wait for, so a process starting beside another one on
    // a fresh file can be told "database is locked" at once: it tries again,
    // for as long as the busy timeout would have waited.
    let mut attempts = 0;
    let pool = loop {
        match SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts.clone())
            .await
        {
            Ok(pool) => break pool,
            Err(source) if is_locked(&source) && attempts < 100 => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(source) => {
                return Err(DbError::Connect {
                    url: url.to_owned(),
                    source,
                });
            }
        }
    };
    Ok(DatabaseConnection::from(pool))
}

/// SQLite's `SQLITE_BUSY` ("database is locked").
fn is_locked(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("5"))
}

fn ensure_dir(dir: &Path) -> Result<(), DbError> {
    std::fs::create_dir_all(dir).map_err(|source| DbError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })
}

/// On SQLite, a pool of one connection of its own with the options of `db`,
/// kept open: for the response writer, whose batches then always run on the
/// same connection. Each SQLite connection has its own page cache, and one
/// that another connection wrote since its last transaction starts the next
/// with its cache dropped; taking a different connection of the shared pool
/// for each batch (the pool hands them out in turn) meant a cold cache, tens
/// of MB freed and the random-key index read back in, for every commit.
/// `None` on PostgreSQL (its buffer cache is shared) or if the connection
/// cannot be made (the shared pool is then used, with a warning).
pub async fn dedicated_sqlite_connection(db: &DatabaseConnection) -> Option<DatabaseConnection> {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return None;
    }
    let opts = db.get_sqlite_connection_pool().connect_options();
    match SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with((*opts).clone())
        .await
    {
        Ok(pool) => Some(DatabaseConnection::from(pool)),
        Err(e) => {
            tracing::warn!(error = %e, "no connection of its own for the writer; sharing the pool");
            None
        }
    }
}

/// Begins a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`:
/// the write lock is taken (waiting up to the busy timeout) before anything
/// is read, so a transaction that reads and then writes cannot fail with
/// `SQLITE_BUSY_SNAPSHOT` when another connection or process wrote in
/// between. PostgreSQL ignores the option.
pub async fn begin_write<C>(db: &C) -> Result<DatabaseTransaction, DbErr>
where
    C: TransactionTrait<Transaction = DatabaseTransaction>,
{
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// How often `serve` moves the SQLite write-ahead log into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Log frames (pages) above which the checkpointer makes the log start over:
/// 32 MiB of 4 KiB pages.
const RESTART_ABOVE_FRAMES: i64 = 8_192;

/// Checkpoints the SQLite write-ahead log in the background, forever, so the
/// group-commit writer's commits never wait for one. Does nothing on
/// PostgreSQL.
///
/// A passive checkpoint never blocks writers or readers, but under a steady
/// stream of commits it never finishes: frames are appended while it copies,
/// so the log is never wholly copied and never starts over, and grows without
/// bound (hundreds of MB within a minute of load), with every commit
/// extending the file and every page lookup searching a larger index. So once
/// the log holds more than `RESTART_ABOVE_FRAMES`, a `RESTART` checkpoint
/// copies what the passive ones left (a fraction of a second's worth),
/// holding writers off meanwhile, and the next commit writes from the start
/// of the file again (cut back to `journal_size_limit`).
pub async fn checkpoint_sqlite(db: DatabaseConnection) {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return;
    }
    loop {
        tokio::time::sleep(CHECKPOINT_EVERY).await;
        match checkpoint(&db, "PASSIVE").await {
            Ok(frames) if frames > RESTART_ABOVE_FRAMES => {
                if let Err(e) = checkpoint(&db, "RESTART").await {
                    tracing::warn!(error = %e, "WAL restart checkpoint failed; retrying");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; retrying"),
        }
    }
}

/// One checkpoint in `mode`; the frames the log held.
async fn checkpoint(db: &DatabaseConnection, mode: &str) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            format!("PRAGMA wal_checkpoint({mode})"),
        ))
        .await?;
    Ok(row
        .and_then(|r| r.try_get_by_index::<i64>(1).ok())
        .unwrap_or(0))
}

/// After a deletion that must really delete (an address list): on SQLite,
/// with `secure_delete` on, the deleted cells are already zeros in the new
/// page images, but the old images are still in earlier frames of the
/// write-ahead log; a `TRUNCATE` checkpoint copies the new images into the
/// file and cuts the log to zero bytes (retried while a reader holds an old
/// snapshot, for a few seconds). No `VACUUM`: it rewrites the whole file
/// under an exclusive lock (measured 0.5 s for 50 MB / 122,000 responses,
/// so seconds on a large survey, with submissions waiting) and adds
/// nothing once freed content is zeros. PostgreSQL: nothing here; dead tuples stay
/// until `VACUUM` (see the README).
pub async fn scrub_deleted(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return Ok(());
    }
    for _ in 0..50 {
        let row = db
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Sqlite,
                "PRAGMA wal_checkpoint(TRUNCATE)",
            ))
            .await?;
        let busy = row
            .and_then(|r| r.try_get_by_index::<i64>(0).ok())
            .unwrap_or(0);
        if busy == 0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tracing::warn!("the write-ahead log could not be truncated after a deletion; it will be later");
    Ok(())
}

/// Key of the PostgreSQL advisory lock held while migrating.
const MIGRATION_LOCK: i64 = 0x0048_6169_6c6f_6e67; // "Hailong"

/// Applies every pending migration. Several processes starting at once on
/// the same database (a rolling start of several `serve` processes) take
/// turns: PostgreSQL through an advisory lock, SQLite through an exclusive
/// lock on `<database file>.lock`; the later ones find nothing to do.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbError> {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let opts = db.get_postgres_connection_pool().connect_options();
            let mut lock = PgConnection::connect_with(&opts)
                .await
                .map_err(|e| DbError::Lock(e.to_string()))?;
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut lock)
                .await
                .map_err(|e| DbError::Lock(e.to_string()))?;
            let result = Migrator::up(db, None).await;
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut lock)
                .await;
            let _ = lock.close().await;
            result.map_err(DbError::Migrate)
        }
        DatabaseBackend::Sqlite => {
            let file = db
                .get_sqlite_connection_pool()
                .connect_options()
                .get_filename()
                .to_path_buf();
            if file.as_os_str().is_empty() || file.as_os_str() == ":memory:" {
                return Migrator::up(db, None).await.map_err(DbError::Migrate);
            }
            let mut path = file.into_os_string();
            path.push(".lock");
            let lock = std::fs::File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| DbError::Lock(format!("{}: {e}", path.display())))?;
            let lock = tokio::task::spawn_blocking(move || lock.lock().map(|()| lock))
                .await
                .map_err(|e| DbError::Lock(e.to_string()))?
                .map_err(|e| DbError::Lock(e.to_string()))?;
            let result = Migrator::up(db, None).await;
            let _ = lock.unlock();
            result.map_err(DbError::Migrate)
        }
        _ => Migrator::up(db, None).await.map_err(DbError::Migrate),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db".to_owned()
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://data/x.db"), "sqlite://data/x.db");
        assert_eq!(
            redact("postgresql://u:p@ss:w@h:5432/db?sslmode=require"),
            "postgresql://u:***@h:5432/db?sslmode=require"
        );
        assert_eq!(redact("postgres://u:secret@h:port/db"), "postgres://…");
        assert_eq!(redact("sqlite::memory:"), "sqlite::memory:");
    }
}
