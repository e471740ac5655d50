//! Monitoring statements: `SHOW QUERIES`, `KILL QUERY`, `SHOW STATS`, `SHOW DIAGNOSTICS`.
//!
//! Shapes follow InfluxDB 1.x: `SHOW QUERIES` has the columns `qid, query, database,
//! duration, status` (the request asking is listed too); `SHOW STATS` answers one series
//! per module (`queryExecutor`, `database` tagged with its name, `write`, plus this
//! server's own `flush` and `tier`), columns sorted by name as InfluxDB sorts its
//! statistics' keys; `SHOW DIAGNOSTICS` answers `build`, `system`, `runtime` and the
//! query limits as `config-coordinator`. `FOR '<module>'` keeps the series of that name.
//! The HTTP server's own counters (InfluxDB's `httpd`) are in `/debug/vars` and `/metrics`.

use super::{result, s, series};
use crate::query::running::{show_queries_duration, KillError};
use crate::query::{QueryService, StatementError, StmtResult};
use hyperbyte_domain::query::{Series, Value};

fn int(v: u64) -> Value {
    Value::Integer(i64::try_from(v).unwrap_or(i64::MAX))
}

use crate::stats::module;

/// Keeps the series of `module` when one is asked for.
fn only(mut out: Vec<Series>, module: Option<&str>) -> Vec<Series> {
    if let Some(m) = module {
        out.retain(|s| s.name.as_deref() == Some(m));
    }
    out
}

impl QueryService {
    pub(super) fn show_queries(&self) -> StmtResult {
        let rows = self
            .running()
            .list()
            .into_iter()
            .map(|q| {
                vec![
                    int(q.qid),
                    Value::String(q.query),
                    Value::String(q.database),
                    Value::String(show_queries_duration(q.duration)),
                    s(q.status),
                ]
            })
            .collect();
        Ok(result(vec![series(
            None,
            &["qid", "query", "database", "duration", "status"],
            rows,
        )]))
    }

    pub(super) fn kill_query(&self, qid: u64) -> StmtResult {
        match self.running().kill(qid) {
            Ok(()) => Ok(result(Vec::new())),
            Err(e @ (KillError::NoSuchQuery(_) | KillError::AlreadyKilled)) => {
                Err(StatementError::new(e.to_string()))
            }
        }
    }

    pub(super) fn show_stats(&self, module_name: Option<&str>) -> StmtResult {
        let out = crate::stats::stat_modules(&self.stats());
        Ok(result(only(out, module_name)))
    }

    pub(super) fn show_diagnostics(&self, module_name: Option<&str>) -> StmtResult {
        let now = self.clock.now_nanos();
        let started = self.started_at();
        let uptime = now.saturating_sub(started).max(0);
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let limits = &self.limits;
        let out = vec![
            module(
                "build",
                &[],
                vec![
                    ("Branch", s("")),
                    ("Build Time", s("")),
                    ("Commit", s("")),
                    ("Version", s(env!("CARGO_PKG_VERSION"))),
                ],
            ),
            module(
                "config-coordinator",
                &[],
                vec![
                    ("max-select-buckets", int(limits.max_select_buckets)),
                    ("max-select-point", int(limits.max_select_point)),
                    ("max-select-series", int(limits.max_select_series)),
                ],
            ),
            module(
                "runtime",
                &[],
                vec![
                    ("GOARCH", s(std::env::consts::ARCH)),
                    ("GOMAXPROCS", int(cpus as u64)),
                    ("GOOS", s(std::env::consts::OS)),
                    (
                        "version",
                        s(concat!("hyperbyted ", env!("CARGO_PKG_VERSION"))),
                    ),
                ],
            ),
            module(
                "system",
                &[],
                vec![
                    ("PID", int(u64::from(std::process::id()))),
                    (
                        "currentTime",
                        Value::String(hyperbyte_domain::time::format_rfc3339(now)),
                    ),
                    (
                        "started",
                        Value::String(hyperbyte_domain::time::format_rfc3339(started)),
                    ),
                    (
                        "uptime",
                        Value::String(hyperbyte_domain::time::format_duration(uptime)),
                    ),
                ],
            ),
        ];
        Ok(result(only(out, module_name)))
    }
}
