//! Reading a publication's responses from the database as fast as the database allows: raw
//! sqlx (not sea-orm) so that every row's text is parsed in place by a `Parser`, four id
//! (or rowid) ranges read concurrently, and on SQLite the rows packed a few thousand to a
//! query.

use futures_util::TryStreamExt;
use sea_orm::DatabaseConnection;

use crate::error::AppError;
use crate::services::campaigns::OpenCampaign;

use super::dataset::{Dataset, Parser, join_parts};
use super::grouping::{GroupParser, join_groups};
use super::plan::Plan;

/// Lower bounds of the id ranges read in parallel (response ids are random UUIDs in
/// lowercase hex, so four ranges hold about a quarter each; any other id still falls in
/// exactly one range).
const SPLITS: [&str; 3] = ["4", "8", "c"];

/// How the responses are split into ranges read in parallel.
#[derive(Debug, Clone, Copy)]
enum Ranges {
    /// By id: on PostgreSQL through its `(campaign_id, id)` index; on SQLite only when
    /// the rows are wanted in id order (exports), through the `campaign_id` index and a
    /// sort per range.
    Ids,
    /// SQLite: by rowid, in storage order, between the campaign's first and last rows.
    /// Bounds: `[lo, hi)` per part. `indexed`: through the `campaign_id` index (whose
    /// entries within a campaign are in rowid order), for a campaign that fills less than
    /// half of its span of the table; otherwise scanning the table and filtering the
    /// campaign, three times cheaper per row.
    Rowids {
        bounds: [(i64, i64); 4],
        indexed: bool,
    },
}

/// The SQL of one id range ([`Ranges::Ids`]): `?N` placeholders for SQLite, `$N` for
/// PostgreSQL. (Rowid ranges are read by [`read_packed`].)
fn range_sql(part: usize, postgres: bool, ordered: bool) -> (String, Vec<&'static str>) {
    range_sql_from(part, postgres, ordered, 1)
}

/// The lower bound of the publications read, as SQL: nothing for all of them (`from ≤ 1`),
/// else a literal (a number this program computed, never text it was given).
fn since(from: i64) -> String {
    if from > 1 {
        format!(" AND publication >= {from}")
    } else {
        String::new()
    }
}

/// [`range_sql`] of the responses of publications `from..=upto` only.
fn range_sql_from(
    part: usize,
    postgres: bool,
    ordered: bool,
    from: i64,
) -> (String, Vec<&'static str>) {
    let p = |n: usize| {
        if postgres {
            format!("${n}")
        } else {
            format!("?{n}")
        }
    };
    let mut sql = format!(
        "SELECT locality_code, stratum, cluster, base_weight, cells, answers FROM responses \
         WHERE campaign_id = {} AND publication <= {}",
        p(1),
        p(2)
    );
    sql.push_str(&since(from));
    let mut binds = Vec::new();
    if part > 0 {
        binds.push(SPLITS[part - 1]);
        sql.push_str(&format!(" AND id >= {}", p(binds.len() + 2)));
    }
    if part < SPLITS.len() {
        binds.push(SPLITS[part]);
        sql.push_str(&format!(" AND id < {}", p(binds.len() + 2)));
    }
    if ordered {
        sql.push_str(" ORDER BY id");
    }
    (sql, binds)
}

/// Streams one query's rows into a parser, borrowing each row's text (no copies).
macro_rules! stream_into {
    ($pool:expr, $sql:expr, $binds:expr, $campaign:expr, $upto:expr, $parser:expr) => {{
        use sqlx::Row;
        // Built only from constants (see range_sql); the values are bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe($sql))
            .bind($campaign)
            .bind($upto);
        for b in $binds {
            q = q.bind(b);
        }
        let mut rows = q.fetch($pool);
        let err = |e: sqlx::Error| AppError::Internal(anyhow::anyhow!("reading responses: {e}"));
        while let Some(row) = rows.try_next().await.map_err(err)? {
            $parser.push_row(
                row.try_get::<&str, _>(0).map_err(err)?,
                row.try_get::<Option<&str>, _>(1).map_err(err)?,
                row.try_get::<Option<&str>, _>(2).map_err(err)?,
                row.try_get::<f64, _>(3).map_err(err)?,
                row.try_get::<Option<&str>, _>(4).map_err(err)?,
                row.try_get::<&str, _>(5).map_err(err)?,
            );
        }
    }};
}

/// Reads the responses of a campaign's publication `upto` (every row with `publication <= upto`,
/// see [`publication`](crate::services::publication)) into columns: four id ranges read and parsed
/// concurrently (each on its own connection, with raw sqlx so that every row's text is parsed in
/// place, only the items' answers and the calibration cells read out of the JSON), then joined in
/// id order.
pub async fn load_dataset(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    plan: &Plan,
    keep_answers: bool,
    upto: i64,
) -> Result<Dataset, AppError> {
    let parts = read_parts(db, campaign.campaign.id, (1, upto), keep_answers, |part| {
        Parser::new(campaign, plan, keep_answers, part)
    })
    .await?;
    Ok(join_parts(parts.into_iter().map(|p| p.data).collect()))
}

/// The responses of publications `from..=upto` summarised per group (see
/// [`super::grouping`]), read as [`load_dataset`] reads them: the memory they take grows with
/// the groups. `from = 1`: every response of publication `upto`.
pub async fn load_groups(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    plan: &Plan,
    (from, upto): (i64, i64),
) -> Result<Dataset, AppError> {
    let parts = read_parts(db, campaign.campaign.id, (from, upto), false, |part| {
        GroupParser::new(campaign, plan, part)
    })
    .await?;
    Ok(join_groups(
        parts.into_iter().map(GroupParser::finish).collect(),
    ))
}

/// What reads the responses of one range.
pub(super) trait PushRow: Send + 'static {
    fn push_row(
        &mut self,
        locality: &str,
        stratum: Option<&str>,
        cluster: Option<&str>,
        weight: f64,
        cells: Option<&str>,
        answers: &str,
    );
}

impl PushRow for Parser {
    fn push_row(
        &mut self,
        locality: &str,
        stratum: Option<&str>,
        cluster: Option<&str>,
        weight: f64,
        cells: Option<&str>,
        answers: &str,
    ) {
        Parser::push_row(self, locality, stratum, cluster, weight, cells, answers);
    }
}

impl PushRow for GroupParser {
    fn push_row(
        &mut self,
        locality: &str,
        stratum: Option<&str>,
        cluster: Option<&str>,
        weight: f64,
        cells: Option<&str>,
        answers: &str,
    ) {
        GroupParser::push_row(self, locality, stratum, cluster, weight, cells, answers);
    }
}

/// The four ranges of publication `upto`'s responses, read concurrently into a reader each
/// (`make(part)`), in id order within a range when `ordered`.
async fn read_parts<P: PushRow>(
    db: &DatabaseConnection,
    campaign_id: i64,
    (from, upto): (i64, i64),
    ordered: bool,
    mut make: impl FnMut(usize) -> P,
) -> Result<Vec<P>, AppError> {
    let postgres = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => true,
        sea_orm::DatabaseBackend::Sqlite => false,
        other => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "unsupported database {other:?}"
            )));
        }
    };
    let ranges = if postgres || ordered {
        Ranges::Ids
    } else {
        sqlite_ranges(db, campaign_id).await?
    };
    let mut tasks = Vec::new();
    for part in 0..=SPLITS.len() {
        let mut parser = make(part);
        let (sql, binds) = range_sql_from(part, postgres, ordered, from);
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            if let Ranges::Rowids { bounds, indexed } = ranges {
                let (lo, hi) = bounds[part];
                read_packed(
                    db.get_sqlite_connection_pool(),
                    (campaign_id, from, upto),
                    (lo, hi),
                    indexed,
                    &mut parser,
                )
                .await?;
            } else if postgres {
                stream_into!(
                    db.get_postgres_connection_pool(),
                    sql,
                    binds,
                    campaign_id,
                    upto,
                    parser
                );
            } else {
                stream_into!(
                    db.get_sqlite_connection_pool(),
                    sql,
                    binds,
                    campaign_id,
                    upto,
                    parser
                );
            }
            Ok::<_, AppError>(parser)
        }));
    }
    let mut parts = Vec::with_capacity(tasks.len());
    for t in tasks {
        parts.push(
            t.await
                .map_err(|e| anyhow::anyhow!("reading responses: {e}"))??,
        );
    }
    Ok(parts)
}

/// Rowids per packed query of [`read_packed`].
const PACK: i64 = 8192;

/// SQLite: reads a rowid range as a few packed rows, each concatenating up to [`PACK`]
/// responses (fields separated by U+001F, responses by U+001E; JSON and codes never hold
/// raw control characters; the weight printed with 17 significant digits, which reads
/// back to the same number). One row per response through sqlx costs a thread hand-off
/// each, which made reading a million responses take seconds more than parsing them.
async fn read_packed(
    pool: &sqlx::SqlitePool,
    (campaign_id, from, upto): (i64, i64, i64),
    (lo, hi): (i64, i64),
    indexed: bool,
    parser: &mut impl PushRow,
) -> Result<(), AppError> {
    let err = |e: sqlx::Error| AppError::Internal(anyhow::anyhow!("reading responses: {e}"));
    const PACKED: &str = "SELECT group_concat(locality_code || char(31) || ifnull(stratum, '') \
         || char(31) || ifnull(cluster, '') || char(31) || printf('%.17g', base_weight) \
         || char(31) || ifnull(cells, '') || char(31) || answers, char(30)) FROM responses ";
    // `+campaign_id` keeps SQLite off the index: a scan of the rowid range.
    let since = since(from);
    let sql = if indexed {
        format!(
            "{PACKED}WHERE campaign_id = ?1 AND rowid >= ?2 AND rowid < ?3 AND publication <= ?4{since}"
        )
    } else {
        format!(
            "{PACKED}WHERE +campaign_id = ?1 AND rowid >= ?2 AND rowid < ?3 AND publication <= ?4{since}"
        )
    };
    // A connection of its own without SQLite's memory map, as the export's walk has (see
    // `walk_ids`): the pages a read of the whole table touches would count as this
    // process's memory.
    let mut conn = pool.acquire().await.map_err(err)?;
    conn.close_on_drop();
    sqlx::query("PRAGMA mmap_size = 0")
        .execute(&mut *conn)
        .await
        .map_err(err)?;
    let mut start = lo;
    while start < hi {
        let end = (start + PACK).min(hi);
        let packed: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(campaign_id)
            .bind(start)
            .bind(end)
            .bind(upto)
            .fetch_one(&mut *conn)
            .await
            .map_err(err)?;
        push_packed(packed.as_deref().unwrap_or(""), parser)?;
        start = end;
    }
    Ok(())
}

/// Adds the responses of one packed row (see [`read_packed`]) to a parser. A record without
/// its six fields is skipped (the empty row of an empty range); a weight that does not read
/// as a number is an error.
fn push_packed(packed: &str, parser: &mut impl PushRow) -> Result<(), AppError> {
    for record in packed.split('\u{1e}') {
        let mut f = record.splitn(6, '\u{1f}');
        let (Some(loc), Some(st), Some(cl), Some(w), Some(cells), Some(answers)) =
            (f.next(), f.next(), f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let weight = w.parse::<f64>().map_err(|e| {
            AppError::Internal(anyhow::anyhow!("reading responses: weight {w:?}: {e}"))
        })?;
        parser.push_row(
            loc,
            non_empty(st),
            non_empty(cl),
            weight,
            non_empty(cells),
            answers,
        );
    }
    Ok(())
}

fn non_empty(x: &str) -> Option<&str> {
    (!x.is_empty()).then_some(x)
}

/// Four rowid ranges over the campaign's first to last row (found through the
/// `campaign_id` index), read through that index when the campaign holds less than half of
/// the rows in between.
async fn sqlite_ranges(db: &DatabaseConnection, campaign_id: i64) -> Result<Ranges, AppError> {
    let pool = db.get_sqlite_connection_pool();
    let err = |e: sqlx::Error| AppError::Internal(anyhow::anyhow!("reading responses: {e}"));
    let (lo, hi): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT min(rowid), max(rowid) FROM responses WHERE campaign_id = ?1")
            .bind(campaign_id)
            .fetch_one(pool)
            .await
            .map_err(err)?;
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Ok(Ranges::Ids);
    };
    let count = i64::try_from(crate::services::responses::count(db, campaign_id).await?)
        .unwrap_or(i64::MAX);
    Ok(rowid_ranges(lo, hi, count))
}

/// Four consecutive rowid ranges `[lo, hi]` split in four, to be read through the index when
/// the campaign's `count` rows fill less than half of the span.
fn rowid_ranges(lo: i64, hi: i64, count: i64) -> Ranges {
    let span = hi - lo + 1;
    let indexed = count.saturating_mul(2) < span;
    let step = span / 4 + 1;
    let mut bounds = [(0i64, 0i64); 4];
    for (k, b) in bounds.iter_mut().enumerate() {
        let k = k as i64;
        *b = (
            lo + k * step,
            if k == 3 { hi + 1 } else { lo + (k + 1) * step },
        );
    }
    Ranges::Rowids { bounds, indexed }
}

/// One stored response as [`scan_by_id`] hands it over, its text borrowed from the row read.
#[derive(Debug, Clone, Copy)]
pub struct ResponseRow<'a> {
    pub locality: &'a str,
    pub stratum: Option<&'a str>,
    pub cluster: Option<&'a str>,
    pub weight: f64,
    pub cells: Option<&'a str>,
    pub answers: &'a str,
}

/// What takes the responses of one id range of [`scan_by_id`], in id order.
pub trait RowSink: Send + 'static {
    fn push(&mut self, row: ResponseRow<'_>) -> Result<(), AppError>;
}

/// Streams one SQLite query's rows into a sink, one row at a time.
macro_rules! stream_rows {
    ($pool:expr, $sql:expr, $campaign:expr, $upto:expr, $sink:expr) => {{
        use sqlx::Row;
        let mut rows = sqlx::query($sql).bind($campaign).bind($upto).fetch($pool);
        while let Some(row) = rows.try_next().await.map_err(read_err)? {
            $sink.push(ResponseRow {
                locality: row.try_get::<&str, _>(0).map_err(read_err)?,
                stratum: row.try_get::<Option<&str>, _>(1).map_err(read_err)?,
                cluster: row.try_get::<Option<&str>, _>(2).map_err(read_err)?,
                weight: row.try_get::<f64, _>(3).map_err(read_err)?,
                cells: row.try_get::<Option<&str>, _>(4).map_err(read_err)?,
                answers: row.try_get::<&str, _>(5).map_err(read_err)?,
            })?;
        }
    }};
}

/// Number of id ranges [`scan_by_id`] reads (and of the sinks it takes).
pub const PARTS: usize = SPLITS.len() + 1;

/// Reads every response of a campaign's publication `upto` once, in order of response id
/// (random, so this order is a shuffle that says nothing of when or where a response came
/// from), without holding them: the rows of id range `k` go to `sinks[k]` in id order, the
/// ranges read concurrently, so that the sinks in range order see the whole campaign in id
/// order (the order of [`load_dataset`] with `keep_answers`). Returns the sinks.
///
/// PostgreSQL reads each range through its `(campaign_id, id)` index. SQLite has no such
/// index (it would cost every submission a random index page): it walks the primary key's
/// index of ids, each range in packed pages of [`PACK`] responses, skipping other campaigns'
/// rows; a campaign of at most [`SQLITE_SORTED_MAX`] responses that holds less than half of
/// the table is instead read through its `campaign_id` index and sorted by SQLite, all of it
/// into the first sink.
pub async fn scan_by_id<S: RowSink>(
    db: &DatabaseConnection,
    campaign_id: i64,
    upto: i64,
    sinks: Vec<S>,
) -> Result<Vec<S>, AppError> {
    if sinks.len() != PARTS {
        return Err(AppError::Internal(anyhow::anyhow!(
            "scan_by_id takes {PARTS} sinks, not {}",
            sinks.len()
        )));
    }
    let postgres = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => true,
        sea_orm::DatabaseBackend::Sqlite => false,
        other => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "unsupported database {other:?}"
            )));
        }
    };
    if !postgres && !sqlite_walks_ids(db, campaign_id).await? {
        let mut sinks = sinks;
        let pool = db.get_sqlite_connection_pool();
        let sql = "SELECT locality_code, stratum, cluster, base_weight, cells, answers \
                   FROM responses WHERE campaign_id = ?1 AND publication <= ?2 ORDER BY id";
        if let Some(sink) = sinks.first_mut() {
            stream_rows!(pool, sql, campaign_id, upto, sink);
        }
        return Ok(sinks);
    }
    let mut tasks = Vec::new();
    for (part, mut sink) in sinks.into_iter().enumerate() {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            if postgres {
                let (sql, binds) = range_sql(part, true, true);
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(campaign_id)
                    .bind(upto);
                for b in binds {
                    q = q.bind(b);
                }
                let mut rows = q.fetch(db.get_postgres_connection_pool());
                while let Some(row) = rows.try_next().await.map_err(read_err)? {
                    push_pg_row(&row, &mut sink)?;
                }
            } else {
                walk_ids(
                    db.get_sqlite_connection_pool(),
                    (campaign_id, upto),
                    (part, PACK),
                    &mut sink,
                )
                .await?;
            }
            Ok::<_, AppError>(sink)
        }));
    }
    let mut out = Vec::with_capacity(PARTS);
    for t in tasks {
        out.push(
            t.await
                .map_err(|e| anyhow::anyhow!("reading responses: {e}"))??,
        );
    }
    Ok(out)
}

fn read_err(e: sqlx::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("reading responses: {e}"))
}

fn push_pg_row<S: RowSink>(row: &sqlx::postgres::PgRow, sink: &mut S) -> Result<(), AppError> {
    use sqlx::Row;
    sink.push(ResponseRow {
        locality: row.try_get::<&str, _>(0).map_err(read_err)?,
        stratum: row.try_get::<Option<&str>, _>(1).map_err(read_err)?,
        cluster: row.try_get::<Option<&str>, _>(2).map_err(read_err)?,
        weight: row.try_get::<f64, _>(3).map_err(read_err)?,
        cells: row.try_get::<Option<&str>, _>(4).map_err(read_err)?,
        answers: row.try_get::<&str, _>(5).map_err(read_err)?,
    })
}

/// Responses of a campaign up to which SQLite sorts them itself in [`scan_by_id`] (its sorter
/// holds them in memory: `temp_store` is memory).
const SQLITE_SORTED_MAX: i64 = 100_000;

/// SQLite: whether [`scan_by_id`] walks the index of ids (every campaign's rows, the
/// others skipped) rather than sorting the campaign's rows: for a campaign over
/// [`SQLITE_SORTED_MAX`] responses, or holding at least half of the table (responses are
/// never deleted, so the largest rowid counts them).
async fn sqlite_walks_ids(db: &DatabaseConnection, campaign_id: i64) -> Result<bool, AppError> {
    let (rows,): (Option<i64>,) = sqlx::query_as("SELECT max(rowid) FROM responses")
        .fetch_one(db.get_sqlite_connection_pool())
        .await
        .map_err(read_err)?;
    let count = i64::try_from(crate::services::responses::count(db, campaign_id).await?)
        .unwrap_or(i64::MAX);
    Ok(count > SQLITE_SORTED_MAX || (count > 0 && count.saturating_mul(2) >= rows.unwrap_or(0)))
}

/// SQLite: reads id range `part` in id order along the primary key's index, a page of up
/// to `page` responses per query, each page one packed row (see [`read_packed`]; here each
/// record starts with its id, and the next page starts after the last id seen).
async fn walk_ids<S: RowSink>(
    pool: &sqlx::SqlitePool,
    (campaign_id, upto): (i64, i64),
    (part, page): (usize, i64),
    sink: &mut S,
) -> Result<(), AppError> {
    // `+campaign_id` keeps SQLite off the campaign index, so it walks the ids in order.
    let query = |first: bool| {
        let mut sql = format!(
            "SELECT group_concat(r, char(30)) FROM (SELECT id || char(31) || locality_code \
             || char(31) || ifnull(stratum, '') || char(31) || ifnull(cluster, '') || char(31) \
             || printf('%.17g', base_weight) || char(31) || ifnull(cells, '') || char(31) \
             || answers AS r FROM responses WHERE +campaign_id = ?1 AND publication <= ?2 \
             AND id {} ?3",
            if first { ">=" } else { ">" }
        );
        if part < SPLITS.len() {
            sql.push_str(" AND id < ?4");
        }
        sql.push_str(&format!(" ORDER BY id LIMIT {page})"));
        sql
    };
    let (first_sql, next_sql) = (query(true), query(false));
    // A connection of its own, closed afterwards, with the memory map off: through the pool's
    // maps (256 MB each) a walk of a large table touched gigabytes of mapped pages, counted in
    // the process's resident memory; read() through SQLite's small page cache costs little
    // more.
    let mut conn = pool.acquire().await.map_err(read_err)?;
    conn.close_on_drop();
    sqlx::query("PRAGMA mmap_size = 0")
        .execute(&mut *conn)
        .await
        .map_err(read_err)?;
    let upper = SPLITS.get(part).copied().unwrap_or("");
    let mut after: String = if part == 0 {
        String::new()
    } else {
        SPLITS[part - 1].to_owned()
    };
    let mut first = true;
    loop {
        let sql = if first { &first_sql } else { &next_sql };
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(campaign_id)
            .bind(upto)
            .bind(after.as_str());
        if part < SPLITS.len() {
            q = q.bind(upper);
        }
        let packed: Option<String> = q.fetch_one(&mut *conn).await.map_err(read_err)?;
        first = false;
        let Some(packed) = packed.filter(|p| !p.is_empty()) else {
            return Ok(());
        };
        let mut records: Vec<(&str, ResponseRow<'_>)> = Vec::new();
        for record in packed.split('\u{1e}') {
            let mut f = record.splitn(7, '\u{1f}');
            let (Some(id), Some(loc), Some(st), Some(cl), Some(w), Some(cells), Some(answers)) = (
                f.next(),
                f.next(),
                f.next(),
                f.next(),
                f.next(),
                f.next(),
                f.next(),
            ) else {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "reading responses: a packed record without its seven fields"
                )));
            };
            let weight = w.parse::<f64>().map_err(|e| {
                AppError::Internal(anyhow::anyhow!("reading responses: weight {w:?}: {e}"))
            })?;
            records.push((
                id,
                ResponseRow {
                    locality: loc,
                    stratum: non_empty(st),
                    cluster: non_empty(cl),
                    weight,
                    cells: non_empty(cells),
                    answers,
                },
            ));
        }
        // SQLite concatenates in the subquery's order; should it not, the page is sorted.
        if !records.windows(2).all(|w| w[0].0 < w[1].0) {
            records.sort_by(|a, b| a.0.cmp(b.0));
        }
        for (_, row) in &records {
            sink.push(*row)?;
        }
        let full = records.len() as i64 >= page;
        match records.last() {
            Some((id, _)) if full => after = (*id).to_owned(),
            _ => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::domain::campaign::DesignSettings;
    use crate::services::results::plan::plan;
    use crate::services::results::testkit::{campaign, labels, sipas};

    /// The part of `id` as the bounds of [`range_sql`] place it.
    fn parts_of(id: &str) -> Vec<usize> {
        (0..=SPLITS.len())
            .filter(|&part| {
                (part == 0 || id >= SPLITS[part - 1]) && (part == SPLITS.len() || id < SPLITS[part])
            })
            .collect()
    }

    #[test]
    fn every_id_falls_in_exactly_one_range() {
        for id in [
            "0000", "3fff", "4", "4000", "7fff", "8000", "bfff", "c000", "ffff", "", "Z", "~",
        ] {
            assert_eq!(parts_of(id).len(), 1, "{id:?}");
        }
        assert_eq!(parts_of("3a7e"), [0]);
        assert_eq!(parts_of("9c1d"), [2]);
        assert_eq!(parts_of("e0f1"), [3]);
    }

    #[test]
    fn range_queries_bind_their_bounds_after_the_campaign_and_publication() {
        let (sql, binds) = range_sql(0, false, false);
        assert!(sql.ends_with("WHERE campaign_id = ?1 AND publication <= ?2 AND id < ?3"));
        assert_eq!(binds, ["4"]);
        let (sql, binds) = range_sql(1, true, false);
        assert!(sql.ends_with("campaign_id = $1 AND publication <= $2 AND id >= $3 AND id < $4"));
        assert_eq!(binds, ["4", "8"]);
        let (sql, _) = range_sql_from(1, true, false, 7);
        assert!(sql.ends_with(
            "campaign_id = $1 AND publication <= $2 AND publication >= 7 AND id >= $3 AND id < $4"
        ));
        let (sql, binds) = range_sql(3, false, true);
        assert!(sql.ends_with("AND id >= ?3 ORDER BY id"));
        assert_eq!(binds, ["c"]);
    }

    #[test]
    fn rowid_ranges_cover_the_span_once_each() {
        for (lo, hi) in [(1, 1), (1, 4), (7, 100), (1000, 1_000_003)] {
            let Ranges::Rowids { bounds, .. } = rowid_ranges(lo, hi, 1) else {
                panic!("rowid ranges");
            };
            assert_eq!(bounds[0].0, lo);
            assert_eq!(bounds[3].1, hi + 1);
            for rowid in lo..=hi.min(lo + 500) {
                let holding = bounds
                    .iter()
                    .filter(|(a, b)| *a <= rowid && rowid < *b)
                    .count();
                assert_eq!(holding, 1, "rowid {rowid} of {lo}..={hi}");
            }
        }
    }

    #[test]
    fn a_sparse_campaign_is_read_through_the_index() {
        let indexed = |count| match rowid_ranges(1, 100, count) {
            Ranges::Rowids { indexed, .. } => indexed,
            Ranges::Ids => panic!("rowid ranges"),
        };
        assert!(indexed(49));
        assert!(!indexed(50));
        assert!(!indexed(100));
    }

    fn parser() -> Parser {
        let c = campaign(sipas(), DesignSettings::default());
        Parser::new(&c, &plan(&c.definition), false, 0)
    }

    #[test]
    fn packed_rows_are_split_into_responses_and_fields() {
        let mut p = parser();
        let packed = [
            "00004\u{1f}urban\u{1f}c1\u{1f}1.5\u{1f}\u{1f}{\"q1\": 5}",
            "00007\u{1f}\u{1f}\u{1f}0.10000000000000001\u{1f}{\"sex\": \"F\"}\u{1f}{\"q4\": 2}",
        ]
        .join("\u{1e}");
        push_packed(&packed, &mut p).unwrap();
        let d = &p.data;
        assert_eq!(d.n, 2);
        assert_eq!(labels(&d.localities), ["00004", "00007"]);
        // Empty fields are missing: no stratum (""), a cluster of its own.
        assert_eq!(labels(&d.strata), ["urban", ""]);
        assert_eq!(d.clusters.labels[0], "c1");
        assert_ne!(d.clusters.labels[1], "");
        // 17 significant digits read back to the same number.
        assert_eq!(d.weight, [1.5, 0.1]);
        assert_eq!(d.values[0][0], 5.0);
        assert_eq!(d.values[3][1], 2.0);
    }

    /// Keeps the answers text of each row (the tests put the id there).
    struct Ids(Vec<String>);

    impl RowSink for Ids {
        fn push(&mut self, row: ResponseRow<'_>) -> Result<(), AppError> {
            self.0.push(row.answers.to_owned());
            Ok(())
        }
    }

    #[tokio::test]
    async fn walking_the_ids_reads_a_campaign_once_in_id_order_page_after_page() {
        use rand::RngExt;
        // A file: the walk closes its connection, which would drop an in-memory database.
        let dir = tempfile::tempdir().unwrap();
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(2)
            .connect(&format!("sqlite://{}/t.db?mode=rwc", dir.path().display()))
            .await
            .unwrap();
        sqlx::query(
            "CREATE TABLE responses (id TEXT PRIMARY KEY, campaign_id INTEGER, \
             locality_code TEXT, stratum TEXT, cluster TEXT, base_weight REAL, cells TEXT, \
             answers TEXT, publication INTEGER)",
        )
        .execute(&pool)
        .await
        .unwrap();
        let mut rng = rand::rng();
        let mut wanted = Vec::new();
        for k in 0..300 {
            let id = uuid::Builder::from_random_bytes(rng.random())
                .into_uuid()
                .hyphenated()
                .to_string();
            // Two campaigns; publication 3 is not yet included.
            let (campaign, publication) = (1 + k % 2, 1 + k % 3);
            if campaign == 1 && publication <= 2 {
                wanted.push(id.clone());
            }
            sqlx::query(
                "INSERT INTO responses VALUES (?1, ?2, '00004', NULL, 'c1', 0.1, NULL, ?1, ?3)",
            )
            .bind(&id)
            .bind(campaign)
            .bind(publication)
            .execute(&pool)
            .await
            .unwrap();
        }
        wanted.sort();
        for page in [1, 7, 8192] {
            let mut seen = Vec::new();
            for part in 0..PARTS {
                let mut sink = Ids(Vec::new());
                walk_ids(&pool, (1, 2), (part, page), &mut sink)
                    .await
                    .unwrap();
                seen.extend(sink.0);
            }
            assert_eq!(seen, wanted, "pages of {page}");
        }
    }

    #[test]
    fn an_empty_range_adds_nothing_and_a_bad_weight_is_an_error() {
        let mut p = parser();
        push_packed("", &mut p).unwrap();
        assert_eq!(p.data.n, 0);
        let bad = "00004\u{1f}\u{1f}\u{1f}heavy\u{1f}\u{1f}{}";
        assert!(matches!(
            push_packed(bad, &mut p),
            Err(AppError::Internal(_))
        ));
    }

    #[test]
    fn yes_no_choice_and_number_answers_are_read_as_values_by_the_streaming_reader() {
        use crate::services::results::testkit::{definition, index};
        let mut ix = index("P", "sum", &[("D", 1.0, &[("S", 1.0)])]);
        ix["range"] = serde_json::json!([1.0, 10.0]);
        let def = definition(
            vec![ix],
            vec![
                serde_json::json!({"code": "y", "type": "yes_no", "label": {"vi": "y"},
                       "index": {"element": "D", "criterion": "S"}}),
                serde_json::json!({"code": "m", "type": "multiple_choice", "label": {"vi": "m"},
                       "options": [{"value": "a", "label": {"vi": "a"}},
                                   {"value": "b", "label": {"vi": "b"}}],
                       "index": {"element": "D", "criterion": "S", "options": ["b"]}}),
                serde_json::json!({"code": "n", "type": "number", "label": {"vi": "n"},
                       "min": 0, "max": 100, "index": {"element": "D", "criterion": "S", "cap": 100.0}}),
            ],
        );
        let c = campaign(def, DesignSettings::default());
        let mut p = Parser::new(&c, &plan(&c.definition), false, 0);
        let packed = [
            "00004\u{1f}\u{1f}\u{1f}1\u{1f}\u{1f}{\"y\": true, \"m\": [\"a\", \"b\"], \"n\": 120}",
            "00004\u{1f}\u{1f}\u{1f}1\u{1f}\u{1f}{\"y\": false, \"m\": [], \"n\": \"dk\"}",
            "00004\u{1f}\u{1f}\u{1f}1\u{1f}\u{1f}{\"y\": \"na\", \"m\": [\"a\"], \"n\": 7}",
        ]
        .join("\u{1e}");
        push_packed(&packed, &mut p).unwrap();
        let v = &p.data.values;
        assert_eq!(v[0][..2], [1.0, 0.0]);
        assert!(v[0][2].is_nan());
        assert_eq!(v[1], [1.0, 0.0, 0.0]);
        assert_eq!(v[2][0], 100.0);
        assert!(v[2][1].is_nan());
        assert_eq!(v[2][2], 7.0);
    }
}
