//! Sign-in attempt limits per account and per client address, counted in the
//! database (`login_failures`), so every process on the same database shares
//! them: behind a load balancer an account still gets [`PER_ACCOUNT`]
//! failures per window, not that many per process. The account name and the
//! client address are stored only as HMAC-SHA256 tags (keyed by the
//! database's cookie key), never as themselves, and are forgotten with the
//! window.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement, Value};
use sha2::Sha256;

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

    /// `kind:` and the HMAC-SHA256 of `kind | 0x00 | value`, so neither the
    /// address nor the typed account name (which may hold anything, NUL
    /// included) is stored.
    fn key(&self, kind: &str, value: &str) -> String {
        // HMAC accepts keys of any length, so this cannot fail.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.salt) else {
            return format!("{kind}:");
        };
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        format!("{kind}:{}", hex::encode(mac.finalize().into_bytes()))
    }

    fn keys(&self, account: &str, address: &str) -> (String, String) {
        (self.key("account", account), self.key("address", address))
    }

    /// Checks and records one attempt in one step: every attempt is counted
    /// as a failure before the password is checked (one atomic upsert per
    /// key), and [`LoginLimiter::succeeded`] takes it back. So a burst of
    /// concurrent attempts cannot all pass the check before any is counted.
    ///
    /// The rule (`Err(wait)`: refused for `wait`):
    /// - an address with more than [`PER_ADDRESS`] attempts counted in the
    ///   window is refused, whatever the account;
    /// - an account with more than [`PER_ACCOUNT`] attempts counted in the
    ///   window refuses only addresses that themselves have a failure in the
    ///   window. An address with no failure is always let through to the
    ///   password check: failures from other addresses never lock the
    ///   account's owner out. A distributed attacker is held to one guess per
    ///   address (an IPv6 /64) per window once the account is over its limit.
    pub async fn attempt(
        &self,
        db: &impl ConnectionTrait,
        account: &str,
        address: &str,
    ) -> Result<Result<Reservation, Duration>, DbErr> {
        let now = now();
        let (a, b) = self.keys(account, address);
        let backend = db.get_database_backend();
        // Windows that have ended are forgotten.
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            format!("DELETE FROM login_failures WHERE since < {}", p(backend, 1)),
            [Value::from(now - WINDOW.as_secs() as i64)],
        ))
        .await?;
        let (address_count, address_since) = bump(db, &b, now).await?;
        if address_count > PER_ADDRESS {
            return Ok(Err(left(now, address_since)));
        }
        let (account_count, account_since) = bump(db, &a, now).await?;
        let address_clean = address_count <= 1;
        if account_count > PER_ACCOUNT && !address_clean {
            return Ok(Err(left(now, account_since)));
        }
        Ok(Ok(Reservation {
            account: a,
            address: b,
        }))
    }

    /// A successful sign-in: the account's failures are forgotten and the
    /// address's counted attempt is taken back.
    pub async fn succeeded(
        &self,
        db: &impl ConnectionTrait,
        reservation: Reservation,
    ) -> Result<(), DbErr> {
        let backend = db.get_database_backend();
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "DELETE FROM login_failures WHERE subject = {}",
                p(backend, 1)
            ),
            [Value::from(reservation.account)],
        ))
        .await?;
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "UPDATE login_failures SET failures = failures - 1 \
                 WHERE subject = {} AND failures > 0",
                p(backend, 1)
            ),
            [Value::from(reservation.address)],
        ))
        .await?;
        Ok(())
    }
}

/// An attempt let through and counted as a failure until
/// [`LoginLimiter::succeeded`] takes it back.
#[derive(Debug)]
#[must_use]
pub struct Reservation {
    account: String,
    address: String,
}

/// Adds one attempt to `key` (a window older than [`WINDOW`] starts over)
/// and returns the count and window start after it, in one statement.
async fn bump(db: &impl ConnectionTrait, key: &str, now: i64) -> Result<(u32, i64), DbErr> {
    let backend = db.get_database_backend();
    let start = now - WINDOW.as_secs() as i64;
    let sql = format!(
        "INSERT INTO login_failures (subject, failures, since) VALUES ({k}, 1, {now}) \
         ON CONFLICT (subject) DO UPDATE SET \
         failures = CASE WHEN login_failures.since < {start} THEN 1 ELSE login_failures.failures + 1 END, \
         since = CASE WHEN login_failures.since < {start} THEN {now} ELSE login_failures.since END \
         RETURNING failures, since",
        k = p(backend, 1),
        now = p(backend, 2),
        start = p(backend, 3),
    );
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [
                Value::from(key.to_owned()),
                Value::from(now),
                Value::from(start),
            ],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("login_failures".to_owned()))?;
    let failures: i32 = row.try_get("", "failures")?;
    let since: i64 = row.try_get("", "since")?;
    Ok((u32::try_from(failures).unwrap_or(0), since))
}

/// What is left of a window that started at `since`.
fn left(now: i64, since: i64) -> Duration {
    let age = u64::try_from(now.saturating_sub(since)).unwrap_or(0);
    Duration::from_secs(WINDOW.as_secs().saturating_sub(age).max(1))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_hmac_tags_that_depend_on_the_salt_and_the_kind() {
        let a = LoginLimiter::new(b"salt one");
        let b = LoginLimiter::new(b"salt two");
        let key = a.key("account", "an@example.vn");
        assert_eq!(key, a.key("account", "an@example.vn"));
        assert!(key.starts_with("account:") && key.len() == "account:".len() + 64);
        assert!(!key.contains("example"));
        assert_ne!(key, b.key("account", "an@example.vn"));
        assert_ne!(
            a.key("address", "an@example.vn")["address:".len()..],
            key["account:".len()..]
        );
    }
}
