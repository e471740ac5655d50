//! `/health`: what the node says about itself.
//!
//! A node with tables whose points storage refuses still serves every other table, so it
//! answers `200` with `"status":"warn"` and names each held table with the engine's error
//! (a load balancer keeps it; an operator sees what to fix). Only a node that cannot
//! serve answers `503` with `"status":"fail"`. A full write backlog (writes refused
//! until the flush drains it) and a flush that has not caught up with the WAL for
//! [`FLUSH_LAG_WARN_SECS`] also make it `warn`, each with its check.

use crate::json::write_str;
use crate::router::INFLUX_VERSION;
use axum::http::StatusCode;
use hyperbyte_application::stats::BacklogStats;
use hyperbyte_application::HeldTable;

/// Flush lag past which `/health` warns: the flush has not caught up with the WAL for
/// this long (storage slow or failing while writes keep coming).
pub(crate) const FLUSH_LAG_WARN_SECS: f64 = 30.0;

/// What `/health` reports.
#[derive(Debug, Clone, Default)]
pub struct Health {
    /// Why the node cannot serve at all, if it cannot.
    pub failure: Option<String>,
    /// Tables whose points storage refused (set aside, retried).
    pub held: Vec<HeldTable>,
    /// The write backlog: full means writes are refused until the flush drains it.
    pub backlog: BacklogStats,
    /// Seconds since the flush last caught up with the WAL while entries wait.
    pub flush_lag_seconds: f64,
}

impl Health {
    /// A node that serves and holds nothing back.
    pub fn pass() -> Self {
        Health::default()
    }

    /// A serving node with these held tables.
    pub fn from_held(held: &[HeldTable]) -> Self {
        Health {
            held: held.to_vec(),
            ..Health::default()
        }
    }

    /// Adds the write backlog and the flush lag.
    pub fn with_flush(mut self, backlog: BacklogStats, lag_seconds: f64) -> Self {
        self.backlog = backlog;
        self.flush_lag_seconds = lag_seconds;
        self
    }

    /// The warnings, each a `checks` entry.
    fn warnings(&self) -> Vec<String> {
        let mut checks = Vec::new();
        if self.backlog.is_full() {
            let mut c = String::from("{\"name\":\"wal\",\"status\":\"warn\",\"message\":");
            write_str(
                &mut c,
                &format!(
                    "write backlog full: {} points wait for the flush (limit {}); writes are refused until it drains",
                    self.backlog.points, self.backlog.limit
                ),
            );
            c.push_str(&format!(
                ",\"backlog_points\":{},\"backlog_limit\":{}}}",
                self.backlog.points, self.backlog.limit
            ));
            checks.push(c);
        }
        if self.flush_lag_seconds > FLUSH_LAG_WARN_SECS {
            let mut c = String::from("{\"name\":\"flush\",\"status\":\"warn\",\"message\":");
            write_str(
                &mut c,
                &format!(
                    "the flush has not caught up with the WAL for {:.0}s",
                    self.flush_lag_seconds
                ),
            );
            c.push_str(&format!(",\"lag_seconds\":{:.3}}}", self.flush_lag_seconds));
            checks.push(c);
        }
        for h in &self.held {
            let mut c = String::from("{\"name\":\"flush\",\"status\":\"warn\",\"database\":");
            write_str(&mut c, &h.table.database);
            c.push_str(",\"retention_policy\":");
            write_str(&mut c, &h.table.retention_policy);
            c.push_str(",\"measurement\":");
            write_str(&mut c, &h.table.measurement);
            c.push_str(",\"message\":");
            write_str(&mut c, &h.error);
            c.push_str(&format!(",\"attempts\":{}}}", h.attempts));
            checks.push(c);
        }
        checks
    }

    /// The status code and JSON body of `/health`.
    pub(crate) fn render(&self) -> (StatusCode, String) {
        let checks = self.warnings();
        let (code, status, message) = match (&self.failure, checks.is_empty()) {
            (Some(f), _) => (StatusCode::SERVICE_UNAVAILABLE, "fail", f.clone()),
            (None, true) => (
                StatusCode::OK,
                "pass",
                "ready for queries and writes".to_string(),
            ),
            (None, false) if self.held.is_empty() => (
                StatusCode::OK,
                "warn",
                "degraded: see checks".to_string(),
            ),
            (None, false) => (
                StatusCode::OK,
                "warn",
                format!("ready for queries and writes; {} table(s) have points that storage refused, set aside and retried", self.held.len()),
            ),
        };
        let mut s = String::from("{\"name\":\"hyperbyted\",\"message\":");
        write_str(&mut s, &message);
        s.push_str(",\"status\":\"");
        s.push_str(status);
        s.push_str("\",\"checks\":[");
        s.push_str(&checks.join(","));
        s.push_str(&format!("],\"version\":\"{INFLUX_VERSION}\"}}"));
        (code, s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyperbyte_ports::TableRef;

    #[test]
    fn held_tables_warn_with_their_error() {
        let h = Health::from_held(&[HeldTable {
            table: TableRef {
                database: "db".into(),
                retention_policy: "autogen".into(),
                measurement: "m\"x".into(),
            },
            error: "storage engine error (code 252): too many".into(),
            attempts: 3,
        }]);
        let (code, body) = h.render();
        assert_eq!(code, StatusCode::OK);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["status"], "warn");
        assert_eq!(v["checks"][0]["measurement"], "m\"x");
        assert_eq!(v["checks"][0]["attempts"], 3);
        let full = Health::pass().with_flush(
            BacklogStats {
                points: 10,
                limit: 10,
            },
            45.0,
        );
        let v: serde_json::Value = serde_json::from_str(&full.render().1).unwrap();
        assert_eq!(v["status"], "warn");
        assert_eq!(v["checks"][0]["name"], "wal");
        assert_eq!(v["checks"][1]["name"], "flush");
        let (code, body) = Health::pass().render();
        assert_eq!(code, StatusCode::OK);
        assert!(body.contains("\"status\":\"pass\""));
    }
}
