//! Abuse limits without identifying anyone, all keyed on one client address
//! ([`ClientAddr`]): a token bucket of answers per client (in memory only,
//! never stored, never logged, forgotten once full again) and a cap on the
//! requests one client may have in progress at once.
//!
//! The client address is the TCP peer, or — only when the peer is a proxy
//! listed in `trusted_proxies` — the nearest `X-Forwarded-For` (else
//! `Forwarded: for=`) hop that is not itself a trusted proxy. An IPv6 address
//! stands for its whole /64 (one subscriber's network), so a client cannot
//! escape a limit by rotating addresses inside its prefix. The sign-in and
//! reset limiter ([`crate::auth::limiter`]) keys on the same address.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_web::HttpRequest;

use crate::config::Settings;

/// Buckets kept before full ones are swept away.
const SWEEP_AT: usize = 10_000;

/// One client, as the limits see it: an IPv4 address, or an IPv6 /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr {
    /// The address with an IPv6 interface identifier zeroed.
    key: IpAddr,
    /// The client is the loopback or a trusted proxy itself (nothing was
    /// forwarded): exempt from the in-memory limits unless configured.
    local: bool,
}

impl ClientAddr {
    /// The client an address stands for: IPv4 (also IPv4-mapped IPv6) as is,
    /// IPv6 by its /64.
    pub fn of(ip: IpAddr, local: bool) -> ClientAddr {
        let key = match ip {
            IpAddr::V4(v4) => IpAddr::V4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let bits = u128::from(v6) & !((1u128 << 64) - 1);
                    IpAddr::V6(Ipv6Addr::from(bits))
                }
            },
        };
        ClientAddr {
            key,
            local: local || ip.is_loopback(),
        }
    }

    /// The loopback or a trusted proxy talking for itself.
    pub fn is_local(&self) -> bool {
        self.local
    }
}

impl fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.key {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct Proxies {
    trusted: Vec<IpAddr>,
}

impl Proxies {
    pub fn new(settings: &Settings) -> Proxies {
        Proxies {
            trusted: settings
                .trusted_proxies
                .iter()
                .filter_map(|p| p.trim().parse().ok())
                .collect(),
        }
    }

    fn is_trusted(&self, ip: &IpAddr) -> bool {
        self.trusted.contains(ip)
    }

    /// The client address of a request (see the module documentation).
    pub fn client_addr(&self, req: &HttpRequest) -> Option<ClientAddr> {
        let peer = req.peer_addr()?.ip();
        if !self.is_trusted(&peer) {
            return Some(ClientAddr::of(peer, false));
        }
        let mut hops: Vec<IpAddr> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse().ok())
            .collect();
        if hops.is_empty() {
            hops = req
                .headers()
                .get_all("forwarded")
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(forwarded_for)
                .collect();
        }
        Some(
            match hops.into_iter().rev().find(|ip| !self.is_trusted(ip)) {
                Some(client) => ClientAddr::of(client, false),
                None => ClientAddr::of(peer, true),
            },
        )
    }
}

/// The address in the `for=` parameter of one `Forwarded` element
/// (`for=192.0.2.1`, `for="[2001:db8::1]:4711"`, `for="192.0.2.1:80"`).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    let value = element.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        k.trim().eq_ignore_ascii_case("for").then(|| v.trim())
    })?;
    let value = value.trim_matches('"');
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    value
        .parse()
        .ok()
        .or_else(|| value.rsplit_once(':')?.0.parse().ok())
}

#[derive(Debug)]
pub struct RateLimiter {
    /// Requests per minute each address may make on average.
    per_minute: u32,
    /// Short bursts allowed above the average.
    burst: f64,
    limit_loopback: bool,
    proxies: Proxies,
    buckets: Mutex<HashMap<ClientAddr, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(settings: &Settings) -> RateLimiter {
        RateLimiter {
            per_minute: settings.rate_limit_per_minute,
            burst: f64::from(settings.rate_limit_per_minute.max(1)),
            limit_loopback: settings.rate_limit_loopback,
            proxies: Proxies::new(settings),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The client address every limit keys on.
    pub fn client_addr(&self, req: &HttpRequest) -> Option<ClientAddr> {
        self.proxies.client_addr(req)
    }

    /// True when this request may proceed (and counts it).
    pub fn allow(&self, req: &HttpRequest) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        let Some(client) = self.client_addr(req) else {
            return true;
        };
        if client.is_local() && !self.limit_loopback {
            return true;
        }
        self.take(client, Instant::now())
    }

    /// Checks and takes a token in one step, under one lock.
    fn take(&self, client: ClientAddr, now: Instant) -> bool {
        let rate = f64::from(self.per_minute) / 60.0;
        let Ok(mut buckets) = self.buckets.lock() else {
            return true;
        };
        if buckets.len() >= SWEEP_AT {
            let burst = self.burst;
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < burst
            });
        }
        let (tokens, at) = buckets.entry(client).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// A cap on the requests one client address has in progress at once, from
/// its headers to its response (a body still arriving counts). Idle
/// keep-alive connections do not count; connections still sending headers are
/// cut by `header_timeout_secs`.
#[derive(Debug, Clone)]
pub struct ConnectionLimiter {
    max: u32,
    limit_local: bool,
    counts: Arc<Mutex<HashMap<ClientAddr, u32>>>,
}

/// One request in progress; counted until dropped.
#[derive(Debug)]
pub struct InFlight {
    client: ClientAddr,
    counts: Arc<Mutex<HashMap<ClientAddr, u32>>>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.counts.lock()
            && let Some(n) = counts.get_mut(&self.client)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.client);
            }
        }
    }
}

impl ConnectionLimiter {
    pub fn new(settings: &Settings) -> ConnectionLimiter {
        ConnectionLimiter {
            max: settings.max_connections_per_client,
            limit_local: settings.connection_limit_loopback,
            counts: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Counts a request of `client` (checked and counted under one lock):
    /// `Err(())` when the client already has the maximum in progress,
    /// `Ok(None)` when the client is not capped.
    #[allow(clippy::result_unit_err)]
    pub fn enter(&self, client: Option<ClientAddr>) -> Result<Option<InFlight>, ()> {
        let Some(client) = client else {
            return Ok(None);
        };
        if self.max == 0 || (client.is_local() && !self.limit_local) {
            return Ok(None);
        }
        let Ok(mut counts) = self.counts.lock() else {
            return Ok(None);
        };
        let n = counts.entry(client).or_insert(0);
        if *n >= self.max {
            return Err(());
        }
        *n += 1;
        Ok(Some(InFlight {
            client,
            counts: self.counts.clone(),
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::Duration;

    fn addr(s: &str) -> ClientAddr {
        ClientAddr::of(s.parse().unwrap(), false)
    }

    #[test]
    fn a_bucket_refills_over_time() {
        let settings = Settings {
            rate_limit_per_minute: 60,
            ..Settings::default()
        };
        let limiter = RateLimiter::new(&settings);
        let ip = addr("203.0.113.7");
        let t0 = Instant::now();
        for _ in 0..60 {
            assert!(limiter.take(ip, t0));
        }
        assert!(!limiter.take(ip, t0));
        assert!(limiter.take(ip, t0 + Duration::from_secs(1)));
        let other = addr("203.0.113.8");
        assert!(limiter.take(other, t0), "limits are per address");
    }

    #[test]
    fn ipv6_addresses_of_one_slash_64_are_one_client() {
        assert_eq!(addr("2001:db8:1:2::1"), addr("2001:db8:1:2:ffff:1:2:3"));
        assert_ne!(addr("2001:db8:1:2::1"), addr("2001:db8:1:3::1"));
        assert_eq!(addr("::ffff:192.0.2.1"), addr("192.0.2.1"));
        assert_eq!(addr("2001:db8:1:2::9").to_string(), "2001:db8:1:2::/64");
    }

    #[test]
    fn forwarded_headers_are_trusted_only_from_listed_proxies() {
        let settings = Settings {
            trusted_proxies: vec!["10.0.0.1".into()],
            ..Settings::default()
        };
        let proxies = Proxies::new(&settings);
        let req = actix_web::test::TestRequest::default()
            .peer_addr("10.0.0.1:5000".parse().unwrap())
            .insert_header(("X-Forwarded-For", "198.51.100.1, 203.0.113.9"))
            .to_http_request();
        assert_eq!(proxies.client_addr(&req), Some(addr("203.0.113.9")));
        let req = actix_web::test::TestRequest::default()
            .peer_addr("10.0.0.1:5000".parse().unwrap())
            .insert_header(("Forwarded", "for=198.51.100.1, for=\"[2001:db8::7]:443\""))
            .to_http_request();
        assert_eq!(proxies.client_addr(&req), Some(addr("2001:db8::1")));
        let req = actix_web::test::TestRequest::default()
            .peer_addr("10.0.0.1:5000".parse().unwrap())
            .to_http_request();
        assert!(proxies.client_addr(&req).unwrap().is_local());
        let req = actix_web::test::TestRequest::default()
            .peer_addr("192.0.2.5:5000".parse().unwrap())
            .insert_header(("X-Forwarded-For", "203.0.113.9"))
            .to_http_request();
        assert_eq!(proxies.client_addr(&req), Some(addr("192.0.2.5")));
    }

    #[test]
    fn the_connection_cap_counts_requests_in_progress() {
        let settings = Settings {
            max_connections_per_client: 2,
            ..Settings::default()
        };
        let cap = ConnectionLimiter::new(&settings);
        let a = Some(addr("203.0.113.7"));
        let one = cap.enter(a).unwrap();
        let two = cap.enter(a).unwrap();
        assert!(cap.enter(a).is_err());
        assert!(cap.enter(Some(addr("203.0.113.8"))).unwrap().is_some());
        assert!(
            cap.enter(Some(addr("127.0.0.1"))).unwrap().is_none(),
            "loopback is not capped by default"
        );
        drop(one);
        assert!(cap.enter(a).is_ok());
        drop(two);
    }
}
