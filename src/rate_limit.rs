//! Abuse limits without identifying anyone: a token bucket per peer IP
//! address, kept in memory only (never stored, never logged), forgotten once
//! full again. `X-Forwarded-For` is believed only when the peer is a proxy
//! listed in `trusted_proxies`; loopback peers are not limited unless
//! `rate_limit_loopback` is set.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use actix_web::HttpRequest;

use crate::config::Settings;

/// Buckets kept before full ones are swept away.
const SWEEP_AT: usize = 10_000;

#[derive(Debug)]
pub struct RateLimiter {
    /// Requests per minute each address may make on average.
    per_minute: u32,
    /// Short bursts allowed above the average.
    burst: f64,
    limit_loopback: bool,
    trusted: Vec<IpAddr>,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(settings: &Settings) -> RateLimiter {
        RateLimiter {
            per_minute: settings.rate_limit_per_minute,
            burst: f64::from(settings.rate_limit_per_minute.max(1)),
            limit_loopback: settings.rate_limit_loopback,
            trusted: settings
                .trusted_proxies
                .iter()
                .filter_map(|p| p.trim().parse().ok())
                .collect(),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The client address: the peer, or — when the peer is a trusted proxy —
    /// the nearest `X-Forwarded-For` entry that is not itself a trusted proxy.
    pub fn client_ip(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip();
        if !self.trusted.contains(&peer) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse().ok())
            .collect();
        Some(
            forwarded
                .into_iter()
                .rev()
                .find(|ip| !self.trusted.contains(ip))
                .unwrap_or(peer),
        )
    }

    /// True when this request may proceed (and counts it).
    pub fn allow(&self, req: &HttpRequest) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        let Some(ip) = self.client_ip(req) else {
            return true;
        };
        if ip.is_loopback() && !self.limit_loopback {
            return true;
        }
        self.take(ip, Instant::now())
    }

    fn take(&self, ip: IpAddr, now: Instant) -> bool {
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
        let (tokens, at) = buckets.entry(ip).or_insert((self.burst, now));
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_refills_over_time() {
        let settings = Settings {
            rate_limit_per_minute: 60,
            ..Settings::default()
        };
        let limiter = RateLimiter::new(&settings);
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..60 {
            assert!(limiter.take(ip, t0));
        }
        assert!(!limiter.take(ip, t0));
        assert!(limiter.take(ip, t0 + Duration::from_secs(1)));
        let other: IpAddr = "203.0.113.8".parse().unwrap();
        assert!(limiter.take(other, t0), "limits are per address");
    }

    #[test]
    fn forwarded_for_is_trusted_only_from_listed_proxies() {
        let settings = Settings {
            trusted_proxies: vec!["10.0.0.1".into()],
            ..Settings::default()
        };
        let limiter = RateLimiter::new(&settings);
        let req = actix_web::test::TestRequest::default()
            .peer_addr("10.0.0.1:5000".parse().unwrap())
            .insert_header(("X-Forwarded-For", "198.51.100.1, 203.0.113.9"))
            .to_http_request();
        assert_eq!(
            limiter.client_ip(&req),
            Some("203.0.113.9".parse().unwrap())
        );
        let req = actix_web::test::TestRequest::default()
            .peer_addr("192.0.2.5:5000".parse().unwrap())
            .insert_header(("X-Forwarded-For", "203.0.113.9"))
            .to_http_request();
        assert_eq!(limiter.client_ip(&req), Some("192.0.2.5".parse().unwrap()));
    }
}
