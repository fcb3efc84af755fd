//! Running one workload: `concurrency` simulated clients, each on its own
//! keep-alive connection, one request after another, until the time or the
//! request budget is spent. Latency is measured per request, client side.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use hyper::Method;
use rand::RngExt;

use crate::http::{Answer, Conn};
use crate::survey::{Campaign, form_fields};

/// What each simulated client does, over and over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// `GET /livez`: the HTTP stack alone, the ceiling for pages.
    Livez,
    /// `GET /s/{slug}?l=…`: the survey page a phone opens from an SMS link.
    Page,
    /// `POST /api/v1/campaigns/{slug}/responses`: a kiosk or app submitting
    /// a whole response as JSON (acknowledged only once committed).
    Submit,
    /// A phone without JavaScript: the survey page, then the form posted
    /// page after page until the server stores it and redirects (one
    /// stored response per round; every request's latency is recorded).
    Phone,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Livez => "livez",
            Scenario::Page => "page",
            Scenario::Submit => "submit",
            Scenario::Phone => "phone",
        }
    }
}

/// One workload to run.
#[derive(Clone)]
pub struct Plan {
    pub addr: SocketAddr,
    pub scenario: Scenario,
    pub concurrency: usize,
    pub duration: Duration,
    pub max_requests: Option<u64>,
    pub campaign: Arc<Campaign>,
}

/// What a workload measured.
pub struct Outcome {
    pub scenario: Scenario,
    pub concurrency: usize,
    pub elapsed: Duration,
    /// Requests answered with the expected status.
    pub ok: u64,
    /// Transport failures and unexpected statuses.
    pub errors: u64,
    /// A few error descriptions, for the report.
    pub error_samples: Vec<String>,
    /// Latency of every request (successful or not), in microseconds.
    pub latency: Histogram<u64>,
    /// Submission ids the server acknowledged as stored (201 or 200).
    pub acked: Vec<String>,
    /// Of those, the ones acknowledged as new (201).
    pub new: u64,
}

impl Outcome {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// A latency percentile in milliseconds.
    pub fn ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }
}

struct Worker {
    ok: u64,
    errors: u64,
    samples: Vec<String>,
    latency: Histogram<u64>,
    acked: Vec<String>,
    new: u64,
}

impl Worker {
    fn error(&mut self, what: String) {
        self.errors += 1;
        if self.samples.len() < 5 {
            self.samples.push(what);
        }
    }
}

/// 1 µs .. 60 s, 3 significant digits.
#[allow(clippy::expect_used)]
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("constant bounds are valid")
}

/// Pre-built answer sets: the generator spends its time on the wire, not on
/// building JSON.
struct Bodies {
    json: Vec<String>,
    forms: Vec<String>,
    localities: Vec<String>,
}

impl Bodies {
    fn new(c: &Campaign) -> Bodies {
        let mut json = Vec::new();
        let mut forms = Vec::new();
        for _ in 0..256 {
            let answers = c.random_answers();
            json.push(serde_json::Value::Object(answers.clone()).to_string());
            forms.push(serde_urlencoded_pairs(&form_fields(&answers)));
        }
        Bodies {
            json,
            forms,
            localities: c.answerable_localities(),
        }
    }
}

fn serde_urlencoded_pairs(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&urlencode(k));
        out.push('=');
        out.push_str(&urlencode(v));
    }
    out
}

/// `application/x-www-form-urlencoded` encoding of one key or value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Runs a workload to its end and merges what every client measured.
pub async fn run(plan: Plan) -> Outcome {
    let bodies = Arc::new(Bodies::new(&plan.campaign));
    let budget = Arc::new(AtomicU64::new(plan.max_requests.unwrap_or(u64::MAX)));
    let started = Instant::now();
    let deadline = started + plan.duration;
    let mut tasks = Vec::with_capacity(plan.concurrency);
    for _ in 0..plan.concurrency {
        let plan = plan.clone();
        let bodies = bodies.clone();
        let budget = budget.clone();
        tasks.push(tokio::spawn(async move {
            client(plan, bodies, budget, deadline).await
        }));
    }
    let mut out = Outcome {
        scenario: plan.scenario,
        concurrency: plan.concurrency,
        elapsed: Duration::ZERO,
        ok: 0,
        errors: 0,
        error_samples: Vec::new(),
        latency: histogram(),
        acked: Vec::new(),
        new: 0,
    };
    for t in tasks {
        match t.await {
            Ok(w) => {
                out.ok += w.ok;
                out.errors += w.errors;
                out.new += w.new;
                out.acked.extend(w.acked);
                let _ = out.latency.add(&w.latency);
                for s in w.samples {
                    if out.error_samples.len() < 5 {
                        out.error_samples.push(s);
                    }
                }
            }
            Err(e) => {
                out.errors += 1;
                out.error_samples.push(format!("client task failed: {e}"));
            }
        }
    }
    out.elapsed = started.elapsed();
    out
}

fn take(budget: &AtomicU64) -> bool {
    budget
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
}

async fn client(
    plan: Plan,
    bodies: Arc<Bodies>,
    budget: Arc<AtomicU64>,
    deadline: Instant,
) -> Worker {
    let mut w = Worker {
        ok: 0,
        errors: 0,
        samples: Vec::new(),
        latency: histogram(),
        acked: Vec::new(),
        new: 0,
    };
    let mut conn = Conn::new(plan.addr);
    let slug = &plan.campaign.slug;
    let page_path = |loc: &str| format!("/s/{slug}?l={}", urlencode(loc));
    let submit_path = format!("/api/v1/campaigns/{slug}/responses");
    while Instant::now() < deadline && take(&budget) {
        let (i, loc) = {
            let mut rng = rand::rng();
            let i = rng.random_range(0..bodies.json.len());
            let l = rng.random_range(0..bodies.localities.len().max(1));
            (i, bodies.localities.get(l).cloned().unwrap_or_default())
        };
        let t0 = Instant::now();
        match plan.scenario {
            Scenario::Livez => {
                let r = conn.get("/livez").await;
                record(&mut w, t0, r, 200, None);
            }
            Scenario::Page => {
                let r = conn.get(&page_path(&loc)).await;
                record(&mut w, t0, r, 200, None);
            }
            Scenario::Submit => {
                let id = uuid::Uuid::new_v4().to_string();
                // The public API takes only the `web` and `api` channels (a kiosk
                // posts the same JSON to its own /k/{token}/responses).
                let body = format!(
                    r#"{{"submission_id":"{id}","locality":"{loc}","channel":"api","answers":{}}}"#,
                    bodies.json[i]
                );
                let r = conn
                    .send(
                        Method::POST,
                        &submit_path,
                        Some("application/json"),
                        Bytes::from(body),
                    )
                    .await;
                record(&mut w, t0, r, 201, Some(id));
            }
            Scenario::Phone => phone(&mut w, &mut conn, slug, &loc, &bodies.forms[i], t0).await,
        }
    }
    w
}

/// Most pages a phone goes through before giving up on a response.
const MAX_STEPS: usize = 30;

/// One respondent on a phone without JavaScript, as a browser does it: opens the survey
/// page, then posts the form page after page, following each redirect to the next page
/// (post/redirect/get, with the draft cookie the server sets), until a redirect leads to
/// the thanks page and that page loads. Every request's latency is recorded; the response
/// counts once, at the thanks page.
async fn phone(w: &mut Worker, conn: &mut Conn, slug: &str, loc: &str, form: &str, t0: Instant) {
    conn.clear_cookies();
    let first = conn.get(&format!("/s/{slug}?l={}", urlencode(loc))).await;
    let _ = w.latency.record(micros(t0));
    let mut html = match first {
        Ok(a) if a.status == 200 => a.body,
        Ok(a) => return w.error(format!("survey page: HTTP {}", a.status)),
        Err(e) => return w.error(format!("survey page: {e}")),
    };
    let Some(sid) = hidden(&html, "sid") else {
        return w.error("survey page without a sid field".to_owned());
    };
    let path = format!("/s/{slug}");
    for _ in 0..MAX_STEPS {
        let Some(step) = hidden(&html, "step") else {
            return w.error("survey page without a step field".to_owned());
        };
        let body = format!(
            "sid={sid}&step={}&l={}&nav=next&{form}",
            urlencode(&step),
            urlencode(loc)
        );
        let t = Instant::now();
        let r = conn
            .send(
                Method::POST,
                &path,
                Some("application/x-www-form-urlencoded"),
                Bytes::from(body),
            )
            .await;
        let _ = w.latency.record(micros(t));
        let page = match r {
            Ok(a) if a.status == 303 => {
                let Some(to) = a.location else {
                    return w.error(format!("step {step}: a redirect to nowhere"));
                };
                let to = to.split('#').next().unwrap_or_default().to_owned();
                let t = Instant::now();
                let r = conn.get(&to).await;
                let _ = w.latency.record(micros(t));
                match r {
                    Ok(a) if a.status == 200 && to.ends_with("/thanks") => {
                        w.ok += 1;
                        w.new += 1;
                        w.acked.push(sid);
                        return;
                    }
                    Ok(a) if a.status == 200 => a.body,
                    Ok(a) => return w.error(format!("{to}: HTTP {}", a.status)),
                    Err(e) => return w.error(format!("{to}: {e}")),
                }
            }
            // A page in answer to the post itself (a browser without cookies).
            Ok(a) if a.status == 200 => a.body,
            Ok(a) => return w.error(format!("step {step}: HTTP {}", a.status)),
            Err(e) => return w.error(format!("step {step}: {e}")),
        };
        if hidden(&page, "step").as_deref() == Some(step.as_str()) {
            let text = String::from_utf8_lossy(&page);
            let at = text.find("error").unwrap_or(0);
            let excerpt: String = text[at..].chars().take(160).collect();
            return w.error(format!("step {step} shown again: {excerpt}"));
        }
        html = page;
    }
    w.error(format!("no thanks page after {MAX_STEPS} steps"))
}

fn micros(t0: Instant) -> u64 {
    (t0.elapsed().as_micros().min(u128::from(u64::MAX)) as u64).max(1)
}

/// The value of a hidden field of a survey page.
fn hidden(html: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(html).ok()?;
    let at = text.find(&format!("name=\"{name}\""))?;
    let rest = &text[at..];
    let v = rest.find("value=\"")? + 7;
    let end = rest[v..].find('"')?;
    Some(rest[v..v + end].to_owned())
}

fn record(
    w: &mut Worker,
    t0: Instant,
    r: Result<Answer, crate::http::HttpError>,
    expected: u16,
    id: Option<String>,
) {
    let _ = w.latency.record(micros(t0));
    match r {
        Ok(a) if a.status.as_u16() == expected => {
            w.ok += 1;
            if let Some(id) = id {
                w.new += 1;
                w.acked.push(id);
            }
        }
        // A retried submission already stored is acknowledged too (not new).
        Ok(a) if id.is_some() && a.status.as_u16() == 200 && expected == 201 => {
            w.ok += 1;
            if let Some(id) = id {
                w.acked.push(id);
            }
        }
        Ok(a) => {
            let body = String::from_utf8_lossy(&a.body);
            let excerpt: String = body.chars().take(160).collect();
            w.error(format!("HTTP {}: {excerpt}", a.status));
        }
        Err(e) => w.error(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_escapes_everything_but_unreserved() {
        assert_eq!(urlencode("Cán bộ a&b=c"), "C%C3%A1n+b%E1%BB%99+a%26b%3Dc");
    }

    #[test]
    fn the_sid_is_read_from_the_hidden_field() {
        let html =
            br#"<form><input type="hidden" name="sid" value="abc-123"><input name="l"></form>"#;
        assert_eq!(hidden(html, "sid").as_deref(), Some("abc-123"));
        assert_eq!(hidden(b"<p>no form</p>", "sid"), None);
    }
}
