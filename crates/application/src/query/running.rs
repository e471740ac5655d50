//! The running-query registry: `SHOW QUERIES` lists it, `KILL QUERY` stops its entries.
//!
//! A killed request stops at once where it waits (an engine read: the read's result is
//! thrown away; the engine's own work ends with the statement limits set on its
//! sessions). A statement busy computing in Rust stops at its next charge against the
//! query limits (its `Budget` shares the [`Interrupt`] and refuses every charge once it
//! fired); meanwhile the HTTP handler, which shares it too, answers the kill at once.
//! Every `/query` request is registered for as long as it runs, under a query id counted
//! from 1 per process (InfluxDB's task manager: one id per request, the request's
//! statements shown as one text). A kill marks the entry and wakes the request, which
//! stops where it is (the statement future is dropped: Rust evaluation ends at once, an
//! engine read's result is thrown away) and answers `query interrupted` for the statement
//! it was in, as InfluxDB does. The entry stays listed, with status `killed`, until the
//! request has answered.

use crate::stats::{DurationHistogram, QueryCounters};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// InfluxDB's text for a statement stopped by `KILL QUERY`.
pub const QUERY_INTERRUPTED: &str = "query interrupted";

/// A request's kill switch, shared by the request's executor (which stops at its next
/// await) and whoever waits for its answer (the HTTP handler, which stops waiting for a
/// statement busy computing, so the kill is answered at once). Made by the caller with
/// the request ([`crate::query::QueryRequest::interrupt`]).
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<InterruptState>);

#[derive(Debug, Default)]
struct InterruptState {
    fired: AtomicBool,
    notify: Notify,
    statement: AtomicUsize,
}

impl Interrupt {
    /// Stops the request.
    pub fn fire(&self) {
        self.0.fired.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    /// Whether the request was stopped.
    pub fn is_fired(&self) -> bool {
        self.0.fired.load(Ordering::SeqCst)
    }

    /// Completes once the request is stopped (at once if it already was).
    pub async fn fired(&self) {
        loop {
            let notified = self.0.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_fired() {
                return;
            }
            notified.await;
        }
    }

    /// The statement the request is running (its index).
    pub fn statement(&self) -> usize {
        self.0.statement.load(Ordering::Relaxed)
    }

    pub(crate) fn set_statement(&self, i: usize) {
        self.0.statement.store(i, Ordering::Relaxed);
    }
}

/// One running request, as `SHOW QUERIES` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningQuery {
    /// Query id.
    pub qid: u64,
    /// The statements, as printed (passwords redacted).
    pub query: String,
    /// The `db` parameter ("" when none).
    pub database: String,
    /// Time since it started.
    pub duration: Duration,
    /// `running` or `killed`.
    pub status: &'static str,
}

/// Why `KILL QUERY` failed (InfluxDB's texts).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KillError {
    /// No running query has this id.
    #[error("no such query id: {0}")]
    NoSuchQuery(u64),
    /// The query was killed before.
    #[error("already killed")]
    AlreadyKilled,
}

#[derive(Debug)]
struct Entry {
    query: String,
    database: String,
    started: Instant,
    interrupt: Interrupt,
}

/// The queries running now, with the counters `SHOW STATS` and the metrics read.
#[derive(Debug, Default)]
pub struct RunningQueries {
    next_id: AtomicU64,
    entries: Mutex<BTreeMap<u64, Entry>>,
    executed: AtomicU64,
    finished: AtomicU64,
    killed: AtomicU64,
    duration: DurationHistogram,
}

/// A registered request: removed from the registry (and counted as finished) on drop.
#[derive(Debug)]
pub struct QueryTicket {
    registry: Arc<RunningQueries>,
    qid: u64,
    interrupt: Interrupt,
    started: Instant,
}

impl QueryTicket {
    /// The query id.
    pub fn qid(&self) -> u64 {
        self.qid
    }

    /// Completes when the query is killed (at once if it already was).
    pub async fn killed(&self) {
        self.interrupt.fired().await
    }

    /// The request's kill switch.
    pub fn interrupt(&self) -> &Interrupt {
        &self.interrupt
    }
}

impl Drop for QueryTicket {
    fn drop(&mut self) {
        let r = &self.registry;
        r.entries.lock().remove(&self.qid);
        let d = self.started.elapsed();
        r.finished.fetch_add(1, Ordering::Relaxed);
        r.duration.observe(d);
    }
}

impl RunningQueries {
    /// Registers a request with its kill switch; it runs until the ticket is dropped.
    pub fn register(
        self: &Arc<Self>,
        query: String,
        database: String,
        interrupt: Interrupt,
    ) -> QueryTicket {
        let qid = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let started = Instant::now();
        self.entries.lock().insert(
            qid,
            Entry {
                query,
                database,
                started,
                interrupt: interrupt.clone(),
            },
        );
        self.executed.fetch_add(1, Ordering::Relaxed);
        QueryTicket {
            registry: self.clone(),
            qid,
            interrupt,
            started,
        }
    }

    /// Stops a running query.
    pub fn kill(&self, qid: u64) -> Result<(), KillError> {
        let entries = self.entries.lock();
        let e = entries.get(&qid).ok_or(KillError::NoSuchQuery(qid))?;
        if e.interrupt.is_fired() {
            return Err(KillError::AlreadyKilled);
        }
        e.interrupt.fire();
        self.killed.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// The running queries in id order.
    pub fn list(&self) -> Vec<RunningQuery> {
        self.entries
            .lock()
            .iter()
            .map(|(qid, e)| RunningQuery {
                qid: *qid,
                query: e.query.clone(),
                database: e.database.clone(),
                duration: e.started.elapsed(),
                status: if e.interrupt.is_fired() {
                    "killed"
                } else {
                    "running"
                },
            })
            .collect()
    }

    /// The counters (engine errors are the query service's: left 0 here).
    pub fn counters(&self) -> QueryCounters {
        QueryCounters {
            active: self.entries.lock().len() as u64,
            executed: self.executed.load(Ordering::Relaxed),
            finished: self.finished.load(Ordering::Relaxed),
            killed: self.killed.load(Ordering::Relaxed),
            duration: self.duration.snapshot(),
            engine_errors: 0,
        }
    }
}

/// A duration as InfluxDB's `SHOW QUERIES` prints it: truncated to the largest unit it
/// reaches (seconds, milliseconds, microseconds), then in Go's `time.Duration` text
/// (`29µs`, `12ms`, `3s`, `1m5s`, `2h0m1s`).
pub fn show_queries_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    let (unit, suffix) = if nanos >= 1_000_000_000 {
        (1_000_000_000, "")
    } else if nanos >= 1_000_000 {
        (1_000_000, "ms")
    } else if nanos >= 1_000 {
        (1_000, "µs")
    } else {
        (1, "ns")
    };
    if unit < 1_000_000_000 {
        return if nanos == 0 {
            "0s".to_string()
        } else {
            format!("{}{suffix}", nanos / unit)
        };
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn registers_lists_kills_and_forgets() {
        let r = Arc::new(RunningQueries::default());
        let a = r.register("SELECT 1".into(), "db".into(), Interrupt::default());
        let b = r.register("SHOW QUERIES".into(), String::new(), Interrupt::default());
        assert_eq!((a.qid(), b.qid()), (1, 2));
        let listed = r.list();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].status, "running");
        assert_eq!(listed[0].database, "db");
        r.kill(1).unwrap();
        assert_eq!(r.kill(1), Err(KillError::AlreadyKilled));
        assert_eq!(
            r.kill(7).unwrap_err().to_string(),
            "no such query id: 7".to_string()
        );
        assert_eq!(r.list()[0].status, "killed");
        // The kill came before anyone waited: still seen.
        tokio::time::timeout(Duration::from_secs(1), a.killed())
            .await
            .unwrap();
        assert!(a.interrupt().is_fired() && !b.interrupt().is_fired());
        drop(a);
        drop(b);
        assert!(r.list().is_empty());
        let c = r.counters();
        assert_eq!((c.executed, c.finished, c.killed, c.active), (2, 2, 1, 0));
        assert_eq!(c.duration.count, 2);
    }

    #[test]
    fn durations_print_like_influxdb() {
        assert_eq!(show_queries_duration(Duration::from_nanos(29_400)), "29µs");
        assert_eq!(show_queries_duration(Duration::from_micros(12_345)), "12ms");
        assert_eq!(show_queries_duration(Duration::from_millis(3_700)), "3s");
        assert_eq!(show_queries_duration(Duration::from_secs(65)), "1m5s");
        assert_eq!(show_queries_duration(Duration::from_secs(7201)), "2h0m1s");
        assert_eq!(show_queries_duration(Duration::from_nanos(5)), "5ns");
    }
}
