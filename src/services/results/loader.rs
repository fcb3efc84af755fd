//! Reading a publication's responses from the database as fast as the database allows: raw
//! sqlx (not sea-orm) so that every row's text is parsed in place by a `Parser`, four id
//! (or rowid) ranges read concurrently, and on SQLite the rows packed a few thousand to a
//! query.

use futures_util::TryStreamExt;
use sea_orm::DatabaseConnection;

use crate::error::AppError;
use crate::services::campaigns::OpenCampaign;

use super::dataset::{Dataset, Parser, join_parts};
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
    let postgres = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => true,
        sea_orm::DatabaseBackend::Sqlite => false,
        other => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "unsupported database {other:?}"
            )));
        }
    };
    let campaign_id = campaign.campaign.id;
    let ranges = if postgres || keep_answers {
        Ranges::Ids
    } else {
        sqlite_ranges(db, campaign_id).await?
    };
    let mut tasks = Vec::new();
    for part in 0..=SPLITS.len() {
        let mut parser = Parser::new(campaign, plan, keep_answers, part);
        let (sql, binds) = range_sql(part, postgres, keep_answers);
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            if let Ranges::Rowids { bounds, indexed } = ranges {
                let (lo, hi) = bounds[part];
                read_packed(
                    db.get_sqlite_connection_pool(),
                    (campaign_id, upto),
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
            Ok::<_, AppError>(parser.data)
        }));
    }
    let mut parts = Vec::with_capacity(tasks.len());
    for t in tasks {
        parts.push(
            t.await
                .map_err(|e| anyhow::anyhow!("reading responses: {e}"))??,
        );
    }
    Ok(join_parts(parts))
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
    (campaign_id, upto): (i64, i64),
    (lo, hi): (i64, i64),
    indexed: bool,
    parser: &mut Parser,
) -> Result<(), AppError> {
    let err = |e: sqlx::Error| AppError::Internal(anyhow::anyhow!("reading responses: {e}"));
    const PACKED: &str = "SELECT group_concat(locality_code || char(31) || ifnull(stratum, '') \
         || char(31) || ifnull(cluster, '') || char(31) || printf('%.17g', base_weight) \
         || char(31) || ifnull(cells, '') || char(31) || answers, char(30)) FROM responses ";
    // `+campaign_id` keeps SQLite off the index: a scan of the rowid range.
    let sql = if indexed {
        format!(
            "{PACKED}WHERE campaign_id = ?1 AND rowid >= ?2 AND rowid < ?3 AND publication <= ?4"
        )
    } else {
        format!(
            "{PACKED}WHERE +campaign_id = ?1 AND rowid >= ?2 AND rowid < ?3 AND publication <= ?4"
        )
    };
    let mut start = lo;
    while start < hi {
        let end = (start + PACK).min(hi);
        let packed: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(campaign_id)
            .bind(start)
            .bind(end)
            .bind(upto)
            .fetch_one(pool)
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
fn push_packed(packed: &str, parser: &mut Parser) -> Result<(), AppError> {
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
