//! Prometheus counters exposed on `/metrics`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Request and data counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// `/write` requests.
    pub write_requests: AtomicU64,
    /// Points accepted by `/write`.
    pub points_written: AtomicU64,
    /// `/write` requests that failed.
    pub write_errors: AtomicU64,
    /// `/query` requests.
    pub query_requests: AtomicU64,
    /// `/query` requests that failed as a whole.
    pub query_errors: AtomicU64,
}

impl Metrics {
    /// Renders the text exposition format.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for (name, help, v) in [
            (
                "hyperbyte_http_write_requests_total",
                "POST /write requests",
                &self.write_requests,
            ),
            (
                "hyperbyte_points_written_total",
                "Points accepted by /write",
                &self.points_written,
            ),
            (
                "hyperbyte_http_write_errors_total",
                "Failed /write requests",
                &self.write_errors,
            ),
            (
                "hyperbyte_http_query_requests_total",
                "/query requests",
                &self.query_requests,
            ),
            (
                "hyperbyte_http_query_errors_total",
                "Failed /query requests",
                &self.query_errors,
            ),
        ] {
            let _ = writeln!(
                s,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        }
        s
    }
}
