//! Prometheus metrics (OpenMetrics text at `GET /metrics`, for an
//! administrator's API token only): requests by route pattern and status,
//! request latency, and stored submissions. Labels never carry a client
//! address, a raw path or any answer; a respondent's routes (survey, kiosk,
//! invitation, submission API) all count under one route label, and
//! submissions carry no channel.

use std::sync::LazyLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The route pattern, e.g. `/staff/campaigns`, never the raw path; all of
    /// a respondent's routes are `<respondent>`.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `new`, `duplicate` or `error`.
    pub outcome: &'static str,
}

#[derive(Clone)]
pub struct LatencyBuckets;

impl MetricConstructor<Histogram> for LatencyBuckets {
    fn new_metric(&self) -> Histogram {
        // 0.25 ms … ~4 s.
        Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
    }
}

/// Every metric of the process.
pub struct Metrics {
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RouteLabels, Histogram, LatencyBuckets>,
    pub submissions: Family<OutcomeLabels, Counter>,
    /// Rows per transaction of the group-commit writer.
    pub batch_rows: Histogram,
    /// Time the writer takes to store one batch, commit included.
    pub batch_seconds: Histogram,
    registry: Registry,
}

/// The process-wide metrics.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let requests = Family::<RequestLabels, Counter>::default();
    let latency =
        Family::<RouteLabels, Histogram, LatencyBuckets>::new_with_constructor(LatencyBuckets);
    let submissions = Family::<OutcomeLabels, Counter>::default();
    // 1 … 512 rows.
    let batch_rows = Histogram::new(exponential_buckets(1.0, 2.0, 10));
    // 0.25 ms … ~4 s.
    let batch_seconds = Histogram::new(exponential_buckets(0.000_25, 2.0, 15));
    let mut registry = Registry::with_prefix("hailong");
    registry.register(
        "http_requests",
        "HTTP requests by method, route pattern and status",
        requests.clone(),
    );
    registry.register(
        "http_request_duration_seconds",
        "Time to answer an HTTP request, by route pattern",
        latency.clone(),
    );
    registry.register(
        "submissions",
        "Responses given to the writer, by outcome (new, duplicate, error)",
        submissions.clone(),
    );
    registry.register(
        "writer_batch_rows",
        "Responses stored per transaction by the group-commit writer",
        batch_rows.clone(),
    );
    registry.register(
        "writer_batch_duration_seconds",
        "Time the writer takes to store one batch, commit included",
        batch_seconds.clone(),
    );
    Metrics {
        requests,
        latency,
        submissions,
        batch_rows,
        batch_seconds,
        registry,
    }
});

impl Metrics {
    /// Records one answered request.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    /// Records what the writer did with one submission.
    pub fn submission(&self, outcome: &'static str) {
        self.submissions
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Records one batch of the writer.
    pub fn batch(&self, rows: usize, seconds: f64) {
        self.batch_rows.observe(rows as f64);
        self.batch_seconds.observe(seconds);
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        out
    }
}
