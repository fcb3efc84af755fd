//! The group-commit writer: one task owns the write path for responses.
//!
//! Handlers send a validated row and a one-shot channel; the writer takes
//! everything queued (up to [`MAX_BATCH`]), shuffles it, inserts it in ONE
//! transaction with multi-row `INSERT … ON CONFLICT (id) DO NOTHING RETURNING id`,
//! commits, and only
//! then acknowledges each row — so a 2xx always means "durably committed"
//! (SQLite runs with `synchronous=FULL`). A row whose id is already stored is
//! acknowledged as [`Stored::Duplicate`] and nothing new is written.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use rand::seq::SliceRandom;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement};
use tokio::sync::{mpsc, oneshot};

/// Most rows committed in one transaction.
pub const MAX_BATCH: usize = 512;
/// Rows waiting for the writer before handlers wait for room.
const QUEUE: usize = 8_192;

/// A validated response row, ready to store. Holds nothing that identifies
/// a person: no address, agent, token or time of day.
#[derive(Debug, Clone, PartialEq)]
pub struct NewResponse {
    pub id: String,
    pub campaign_id: i64,
    pub locality_code: String,
    pub channel: String,
    pub response_date: NaiveDate,
    pub stratum: Option<String>,
    pub cluster: Option<String>,
    pub base_weight: f64,
    pub cells: Option<String>,
    pub answers: String,
}

/// What storing a row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Committed now.
    New,
    /// A response with this id was already stored; nothing was written.
    Duplicate,
}

/// Why a row could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the response writer has stopped")]
    Stopped,
    #[error("database error: {0}")]
    Db(String),
}

type Ack = oneshot::Sender<Result<Stored, WriteError>>;

/// The handle handlers use; cheap to clone.
#[derive(Clone, Debug)]
pub struct ResponseWriter {
    tx: mpsc::Sender<(NewResponse, Ack)>,
}

impl ResponseWriter {
    /// Starts the writer task on the current Tokio runtime.
    pub fn start(db: DatabaseConnection) -> ResponseWriter {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(db, rx));
        ResponseWriter { tx }
    }

    /// Stores one row; returns once it is committed (or known to be there).
    pub async fn store(&self, row: NewResponse) -> Result<Stored, WriteError> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send((row, ack))
            .await
            .map_err(|_| WriteError::Stopped)?;
        let result = done.await.map_err(|_| WriteError::Stopped)?;
        crate::metrics::METRICS.submission(match &result {
            Ok(Stored::New) => "new",
            Ok(Stored::Duplicate) => "duplicate",
            Err(_) => "error",
        });
        result
    }
}

async fn run(db: DatabaseConnection, mut rx: mpsc::Receiver<(NewResponse, Ack)>) {
    let db = crate::db::dedicated_sqlite_connection(&db)
        .await
        .unwrap_or(db);
    let mut batch: Vec<(NewResponse, Ack)> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        let started = std::time::Instant::now();
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        // Rows of one batch land in random order, so storage order within a
        // batch says nothing about arrival order.
        batch.shuffle(&mut rand::rng());
        let rows: Vec<&NewResponse> = batch.iter().map(|(r, _)| r).collect();
        let size = rows.len();
        match insert_batch(&db, &rows).await {
            Ok(results) => {
                for ((_, ack), stored) in batch.drain(..).zip(results) {
                    let _ = ack.send(Ok(stored));
                }
            }
            Err(e) => {
                // Debug level only: at the default level no line may date a
                // respondent's submission. Failures are counted in the
                // metrics (`submissions{outcome="error"}`) and answered as
                // errors to the submitter.
                tracing::debug!(error = %e, rows = batch.len(), "batch insert failed; retrying rows one by one");
                for (row, ack) in batch.drain(..) {
                    let result = insert_batch(&db, &[&row])
                        .await
                        .map(|r| r.first().copied().unwrap_or(Stored::Duplicate))
                        .map_err(|e| WriteError::Db(e.to_string()));
                    if let Err(e) = &result {
                        tracing::debug!(error = %e, "cannot store a response");
                    }
                    let _ = ack.send(result);
                }
            }
        }
        crate::metrics::METRICS.batch(size, started.elapsed().as_secs_f64());
    }
}

/// Rows per INSERT statement (10 parameters each; well under SQLite's and
/// PostgreSQL's parameter limits).
const ROWS_PER_STATEMENT: usize = 128;

fn insert_sql(backend: DatabaseBackend, rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO responses (id, campaign_id, locality_code, channel, response_date, \
         stratum, cluster, base_weight, cells, answers) VALUES ",
    );
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..10 {
            if c > 0 {
                sql.push_str(", ");
            }
            match backend {
                DatabaseBackend::Postgres => sql.push_str(&format!("${}", r * 10 + c + 1)),
                _ => sql.push('?'),
            }
        }
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT (id) DO NOTHING RETURNING id");
    sql
}

/// Inserts rows in one transaction, with multi-row statements; returns for
/// each row whether it was stored now or its id was already there.
async fn insert_batch(
    db: &DatabaseConnection,
    rows: &[&NewResponse],
) -> Result<Vec<Stored>, DbErr> {
    let backend = db.get_database_backend();
    // The first row with an id is inserted; a repeat within the batch is a duplicate.
    let mut first_of: HashMap<&str, usize> = HashMap::new();
    let mut unique: Vec<&NewResponse> = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        if let Entry::Vacant(e) = first_of.entry(r.id.as_str()) {
            e.insert(i);
            unique.push(r);
        }
    }
    let mut inserted: HashSet<String> = HashSet::with_capacity(unique.len());
    let txn = crate::db::begin_write(db).await?;
    for chunk in unique.chunks(ROWS_PER_STATEMENT) {
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(chunk.len() * 10);
        for r in chunk {
            values.extend([
                r.id.clone().into(),
                r.campaign_id.into(),
                r.locality_code.clone().into(),
                r.channel.clone().into(),
                r.response_date.into(),
                r.stratum.clone().into(),
                r.cluster.clone().into(),
                r.base_weight.into(),
                r.cells.clone().into(),
                r.answers.clone().into(),
            ]);
        }
        let stmt =
            Statement::from_sql_and_values(backend, insert_sql(backend, chunk.len()), values);
        for row in txn.query_all_raw(stmt).await? {
            inserted.insert(row.try_get::<String>("", "id")?);
        }
    }
    txn.commit().await?;
    Ok(rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            if first_of.get(r.id.as_str()) == Some(&i) && inserted.contains(&r.id) {
                Stored::New
            } else {
                Stored::Duplicate
            }
        })
        .collect())
}
