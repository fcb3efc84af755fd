//! Sign-in attempt limits per account and per client address, counted in the
//! database (`login_failures`), so every process on the same database shares
//! them: behind a load balancer an account still gets [`PER_ACCOUNT`]
//! failures per window, not that many per process. The account name and the
//! client address are stored only as keyed SHA-256 hashes (keyed by the
//! database's cookie key), never as themselves, and are forgotten with the
//! window.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement, Value};
use sha2::{Digest, Sha256};

/// Failed attempts allowed per account within the window.
pub const PER_ACCOUNT: u32 = 5;
/// Failed attempts allowed per client address within the window.
pub const PER_ADDRESS: u32 = 20;
/// How long failures are remembered.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Counts failed sign-ins in the database.
pub struct LoginLimiter {
    /// Key for hashing client addresses.
    salt: Vec<u8>,
}

impl LoginLimiter {
    /// `salt` keys the hash of client addresses (the cookie key's bytes).
    pub fn new(salt: &[u8]) -> LoginLimiter {
        LoginLimiter {
            salt: salt.to_vec(),
        }
    }

    /// A keyed SHA-256 of `kind:value`, so neither the address nor the
    /// typed account name (which may hold anything, NUL included) is stored.
    fn key(&self, kind: &str, value: &str) -> String {
        let mut h = Sha256::new();
        h.update(&self.salt);
        h.update(kind.as_bytes());
        h.update([0]);
        h.update(value.as_bytes());
        format!("{kind}:{}", hex::encode(h.finalize()))
    }

    fn keys(&self, account: &str, address: &str) -> (String, String) {
        (self.key("account", account), self.key("address", address))
    }

    /// How long to wait before trying again, if blocked.
    pub async fn check(
        &self,
        db: &impl ConnectionTrait,
        account: &str,
        address: &str,
    ) -> Result<Option<Duration>, DbErr> {
        let now = now();
        let (a, b) = self.keys(account, address);
        let backend = db.get_database_backend();
        let sql = format!(
            "SELECT subject, failures, since FROM login_failures WHERE subject IN ({}, {})",
            p(backend, 1),
            p(backend, 2)
        );
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [Value::from(a.clone()), Value::from(b)],
            ))
            .await?;
        let mut wait: Option<Duration> = None;
        for row in rows {
            let key: String = row.try_get("", "subject")?;
            let failures: i32 = row.try_get("", "failures")?;
            let since: i64 = row.try_get("", "since")?;
            let limit = if key == a { PER_ACCOUNT } else { PER_ADDRESS };
            let age = u64::try_from(now.saturating_sub(since)).unwrap_or(0);
            if u32::try_from(failures).unwrap_or(u32::MAX) >= limit && age < WINDOW.as_secs() {
                let left = Duration::from_secs(WINDOW.as_secs() - age);
                wait = Some(wait.map_or(left, |w| w.max(left)));
            }
        }
        Ok(wait)
    }

    /// Records a failed attempt (a window older than [`WINDOW`] starts over).
    pub async fn failed(
        &self,
        db: &impl ConnectionTrait,
        account: &str,
        address: &str,
    ) -> Result<(), DbErr> {
        let now = now();
        let start = now - WINDOW.as_secs() as i64;
        let backend = db.get_database_backend();
        let (a, b) = self.keys(account, address);
        for key in [a, b] {
            let sql = format!(
                "INSERT INTO login_failures (subject, failures, since) VALUES ({k}, 1, {now}) \
                 ON CONFLICT (subject) DO UPDATE SET \
                 failures = CASE WHEN login_failures.since < {start} THEN 1 ELSE login_failures.failures + 1 END, \
                 since = CASE WHEN login_failures.since < {start} THEN {now} ELSE login_failures.since END",
                k = p(backend, 1),
                now = p(backend, 2),
                start = p(backend, 3),
            );
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [Value::from(key), Value::from(now), Value::from(start)],
            ))
            .await?;
        }
        // Windows that have ended are forgotten.
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            format!("DELETE FROM login_failures WHERE since < {}", p(backend, 1)),
            [Value::from(start)],
        ))
        .await?;
        Ok(())
    }

    /// Forgets an account's failures after a successful sign-in.
    pub async fn succeeded(&self, db: &impl ConnectionTrait, account: &str) -> Result<(), DbErr> {
        let backend = db.get_database_backend();
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "DELETE FROM login_failures WHERE subject = {}",
                p(backend, 1)
            ),
            [Value::from(self.key("account", account))],
        ))
        .await?;
        Ok(())
    }
}

/// The n-th placeholder (1-based) in the backend's syntax.
fn p(backend: DatabaseBackend, n: usize) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
