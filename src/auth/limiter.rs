//! Login attempt limits per account and per client address, in memory.
//! (Each process keeps its own counts; behind a load balancer the effective
//! limit is the per-process limit times the number of processes.)

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts allowed per account within the window.
pub const PER_ACCOUNT: u32 = 5;
/// Failed attempts allowed per client address within the window.
pub const PER_ADDRESS: u32 = 20;
/// How long failures are remembered.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Default)]
struct Counts {
    accounts: HashMap<String, (u32, Instant)>,
    addresses: HashMap<String, (u32, Instant)>,
}

/// Counts failed logins.
#[derive(Default)]
pub struct LoginLimiter {
    counts: Mutex<Counts>,
}

fn blocked(
    map: &HashMap<String, (u32, Instant)>,
    key: &str,
    limit: u32,
    now: Instant,
) -> Option<Duration> {
    map.get(key).and_then(|(n, since)| {
        let age = now.saturating_duration_since(*since);
        (*n >= limit && age < WINDOW).then(|| WINDOW - age)
    })
}

fn bump(map: &mut HashMap<String, (u32, Instant)>, key: &str, now: Instant) {
    let entry = map.entry(key.to_owned()).or_insert((0, now));
    if now.saturating_duration_since(entry.1) >= WINDOW {
        *entry = (0, now);
    }
    entry.0 += 1;
    if map.len() > 100_000 {
        map.retain(|_, (_, since)| now.saturating_duration_since(*since) < WINDOW);
    }
}

impl LoginLimiter {
    /// How long to wait before trying again, if blocked.
    pub fn check(&self, account: &str, address: &str) -> Option<Duration> {
        let now = Instant::now();
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        blocked(&counts.accounts, account, PER_ACCOUNT, now)
            .or_else(|| blocked(&counts.addresses, address, PER_ADDRESS, now))
    }

    /// Records a failed attempt.
    pub fn failed(&self, account: &str, address: &str) {
        let now = Instant::now();
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        bump(&mut counts.accounts, account, now);
        bump(&mut counts.addresses, address, now);
    }

    /// Forgets an account's failures after a successful login.
    pub fn succeeded(&self, account: &str) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.accounts.remove(account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_too_many_failures_per_account_and_address() {
        let l = LoginLimiter::default();
        for _ in 0..PER_ACCOUNT {
            assert!(l.check("a@x", "1.2.3.4").is_none());
            l.failed("a@x", "1.2.3.4");
        }
        assert!(l.check("a@x", "5.6.7.8").is_some(), "per account");
        assert!(l.check("b@x", "1.2.3.4").is_none());
        for i in 0..PER_ADDRESS {
            l.failed(&format!("u{i}@x"), "9.9.9.9");
        }
        assert!(l.check("new@x", "9.9.9.9").is_some(), "per address");
        l.succeeded("a@x");
        assert!(l.check("a@x", "5.6.7.8").is_none());
    }
}
