//! `/health` and the health lines of `/metrics`: what the node says about itself.
//!
//! A node with tables whose points storage refuses still serves every other table, so it
//! answers `200` with `"status":"warn"` and names each held table with the engine's error
//! (a load balancer keeps it; an operator sees what to fix). Only a node that cannot
//! serve answers `503` with `"status":"fail"`.

use crate::json::write_str;
use crate::router::INFLUX_VERSION;
use axum::http::StatusCode;
use hyperbyte_application::HeldTable;

/// What `/health` reports.
#[derive(Debug, Clone, Default)]
pub struct Health {
    /// Why the node cannot serve at all, if it cannot.
    pub failure: Option<String>,
    /// Tables whose points storage refused (set aside, retried).
    pub held: Vec<HeldTable>,
}

impl Health {
    /// A node that serves and holds nothing back.
    pub fn pass() -> Self {
        Health::default()
    }

    /// A serving node with these held tables.
    pub fn from_held(held: &[HeldTable]) -> Self {
        Health {
            failure: None,
            held: held.to_vec(),
        }
    }

    /// The status code and JSON body of `/health`.
    pub(crate) fn render(&self) -> (StatusCode, String) {
        let (code, status, message) = match (&self.failure, self.held.len()) {
            (Some(f), _) => (StatusCode::SERVICE_UNAVAILABLE, "fail", f.clone()),
            (None, 0) => (
                StatusCode::OK,
                "pass",
                "ready for queries and writes".to_string(),
            ),
            (None, n) => (
                StatusCode::OK,
                "warn",
                format!("ready for queries and writes; {n} table(s) have points that storage refused, set aside and retried"),
            ),
        };
        let mut s = String::from("{\"name\":\"hyperbyted\",\"message\":");
        write_str(&mut s, &message);
        s.push_str(",\"status\":\"");
        s.push_str(status);
        s.push_str("\",\"checks\":[");
        for (i, h) in self.held.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str("{\"name\":\"flush\",\"status\":\"warn\",\"database\":");
            write_str(&mut s, &h.table.database);
            s.push_str(",\"retention_policy\":");
            write_str(&mut s, &h.table.retention_policy);
            s.push_str(",\"measurement\":");
            write_str(&mut s, &h.table.measurement);
            s.push_str(",\"message\":");
            write_str(&mut s, &h.error);
            s.push_str(&format!(",\"attempts\":{}}}", h.attempts));
        }
        s.push_str(&format!("],\"version\":\"{INFLUX_VERSION}\"}}"));
        (code, s)
    }

    /// Gauge lines for `/metrics` (Prometheus text format).
    pub(crate) fn metric_lines(&self) -> String {
        format!(
            "# HELP hyperbyte_flush_held_tables Tables whose points storage refused (set aside and retried)\n\
             # TYPE hyperbyte_flush_held_tables gauge\n\
             hyperbyte_flush_held_tables {}\n",
            self.held.len()
        )
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
        assert!(h.metric_lines().contains("hyperbyte_flush_held_tables 1\n"));
        let (code, body) = Health::pass().render();
        assert_eq!(code, StatusCode::OK);
        assert!(body.contains("\"status\":\"pass\""));
    }
}
