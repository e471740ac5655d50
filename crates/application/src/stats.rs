//! What the services count about themselves, for `/metrics`, `/debug/vars` and `SHOW STATS`.
//!
//! The numbers live where the work happens (the flush service times its rounds, the query
//! service counts tier hits and engine errors, the running-query registry counts queries)
//! and are read as one plain snapshot, [`ServiceStats`]. Why a snapshot of plain data and
//! not a metrics library here: the business logic stays free of any exposition format;
//! the HTTP adapter renders the same snapshot as Prometheus families, InfluxDB's
//! `/debug/vars` JSON and the `SHOW STATS` series.

use hyperbyte_domain::query::{Series, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the duration histograms: 0.5 ms to 60 s.
pub const DURATION_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// A histogram of durations over [`DURATION_BUCKETS`] (lock-free: one atomic per bucket).
#[derive(Debug)]
pub struct DurationHistogram {
    /// Observations per bucket (not cumulative); the last slot is past the largest bound.
    counts: Vec<AtomicU64>,
    sum_nanos: AtomicU64,
}

impl Default for DurationHistogram {
    fn default() -> Self {
        DurationHistogram {
            counts: (0..=DURATION_BUCKETS.len())
                .map(|_| AtomicU64::new(0))
                .collect(),
            sum_nanos: AtomicU64::new(0),
        }
    }
}

impl DurationHistogram {
    /// Records one duration.
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let slot = DURATION_BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(DURATION_BUCKETS.len());
        if let Some(c) = self.counts.get(slot) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .sum_nanos
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| {
                Some(s.saturating_add(nanos))
            });
    }

    /// The histogram now.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut cumulative = Vec::with_capacity(DURATION_BUCKETS.len());
        let mut running = 0u64;
        for c in self.counts.iter().take(DURATION_BUCKETS.len()) {
            running = running.saturating_add(c.load(Ordering::Relaxed));
            cumulative.push(running);
        }
        let overflow = self.counts.last().map_or(0, |c| c.load(Ordering::Relaxed));
        HistogramSnapshot {
            bounds: DURATION_BUCKETS,
            cumulative,
            count: running.saturating_add(overflow),
            sum_nanos: self.sum_nanos.load(Ordering::Relaxed),
        }
    }
}

/// A histogram read at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    /// Upper bounds, seconds.
    pub bounds: &'static [f64],
    /// Observations at or below each bound (cumulative, as Prometheus wants them).
    pub cumulative: Vec<u64>,
    /// Every observation.
    pub count: u64,
    /// Sum of the observations, nanoseconds.
    pub sum_nanos: u64,
}

impl Default for HistogramSnapshot {
    fn default() -> Self {
        DurationHistogram::default().snapshot()
    }
}

/// The flush service's counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlushCounters {
    /// Flushes that moved entries into storage.
    pub rounds: u64,
    /// Points written into storage.
    pub points: u64,
    /// WAL entries consumed.
    pub entries: u64,
    /// Flushes that failed (the WAL kept their data).
    pub failures: u64,
    /// Duration of the flushes that moved entries.
    pub duration: HistogramSnapshot,
    /// WAL entries not flushed yet.
    pub backlog_entries: u64,
    /// Seconds since the flush last caught up with the WAL, while entries wait (0 when
    /// caught up).
    pub lag_seconds: f64,
    /// Tables whose points storage refused (set aside and retried).
    pub held_tables: u64,
}

/// The write backlog (unflushed points) and its limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BacklogStats {
    /// Acknowledged points waiting for the flush.
    pub points: u64,
    /// Points past which writes are refused (0: no limit).
    pub limit: u64,
}

impl BacklogStats {
    /// Whether writes are being refused.
    pub fn is_full(&self) -> bool {
        self.limit > 0 && self.points >= self.limit
    }
}

/// The recent-data tier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TierStats {
    /// Bytes of point data held (approximate).
    pub bytes: u64,
    /// The budget.
    pub max_bytes: u64,
    /// SELECT sources answered from the tier.
    pub hits: u64,
    /// SELECT sources storage answered while the tier was enabled.
    pub misses: u64,
}

/// Queries (the running-query registry and the engine).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryCounters {
    /// Requests running now.
    pub active: u64,
    /// Requests started.
    pub executed: u64,
    /// Requests finished (answered, failed or killed).
    pub finished: u64,
    /// Requests stopped by `KILL QUERY`.
    pub killed: u64,
    /// Duration of finished requests.
    pub duration: HistogramSnapshot,
    /// Engine (storage) errors met by queries.
    pub engine_errors: u64,
}

/// Writes (`/write`, `SELECT ... INTO`, continuous queries).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteCounters {
    /// Write requests.
    pub requests: u64,
    /// Points written.
    pub points: u64,
    /// Requests that wrote (possibly partially).
    pub ok: u64,
    /// Requests refused or failed.
    pub errors: u64,
}

/// One database's series index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatabaseStats {
    /// Database name.
    pub name: String,
    /// Measurements.
    pub measurements: u64,
    /// Series (cardinality).
    pub series: u64,
}

/// What one non-HTTP listener (Graphite, OpenTSDB, collectd, UDP) counts; the listener
/// adds, `/metrics`, `/debug/vars` and `SHOW STATS` read [`ListenerCounters::snapshot`].
#[derive(Debug, Default)]
pub struct ListenerCounters {
    /// `graphite`, `opentsdb`, `collectd` or `udp`.
    pub kind: &'static str,
    /// The configured address.
    pub bind: String,
    /// `tcp` or `udp` (what the socket speaks).
    pub proto: &'static str,
    /// The database written to.
    pub database: String,
    /// Points parsed from the wire.
    pub points_received: AtomicU64,
    /// Bytes read from the wire.
    pub bytes_received: AtomicU64,
    /// Lines, packets or points dropped because they did not parse.
    pub bad: AtomicU64,
    /// Batches the ingestion service accepted (possibly with some points refused).
    pub batches_written: AtomicU64,
    /// Points the ingestion service wrote into the WAL.
    pub points_written: AtomicU64,
    /// Batches the ingestion service refused as a whole (their points are lost).
    pub batches_failed: AtomicU64,
    /// Points of accepted batches the ingestion service refused (type conflicts, limits).
    pub points_refused: AtomicU64,
    /// Points dropped because the listener's buffer was full.
    pub buffer_dropped: AtomicU64,
    /// Connections accepted (TCP listeners).
    pub connections: AtomicU64,
}

/// One listener's counters read at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListenerStats {
    /// `graphite`, `opentsdb`, `collectd` or `udp`.
    pub kind: String,
    /// The configured address.
    pub bind: String,
    /// `tcp` or `udp`.
    pub proto: String,
    /// The database written to.
    pub database: String,
    /// See [`ListenerCounters::points_received`].
    pub points_received: u64,
    /// See [`ListenerCounters::bytes_received`].
    pub bytes_received: u64,
    /// See [`ListenerCounters::bad`].
    pub bad: u64,
    /// See [`ListenerCounters::batches_written`].
    pub batches_written: u64,
    /// See [`ListenerCounters::points_written`].
    pub points_written: u64,
    /// See [`ListenerCounters::batches_failed`].
    pub batches_failed: u64,
    /// See [`ListenerCounters::points_refused`].
    pub points_refused: u64,
    /// See [`ListenerCounters::buffer_dropped`].
    pub buffer_dropped: u64,
    /// See [`ListenerCounters::connections`].
    pub connections: u64,
}

impl ListenerCounters {
    /// Fresh counters of one listener.
    pub fn new(kind: &'static str, proto: &'static str, bind: &str, database: &str) -> Self {
        ListenerCounters {
            kind,
            proto,
            bind: bind.to_string(),
            database: database.to_string(),
            ..ListenerCounters::default()
        }
    }

    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> ListenerStats {
        let r = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ListenerStats {
            kind: self.kind.to_string(),
            bind: self.bind.clone(),
            proto: self.proto.to_string(),
            database: self.database.clone(),
            points_received: r(&self.points_received),
            bytes_received: r(&self.bytes_received),
            bad: r(&self.bad),
            batches_written: r(&self.batches_written),
            points_written: r(&self.points_written),
            batches_failed: r(&self.batches_failed),
            points_refused: r(&self.points_refused),
            buffer_dropped: r(&self.buffer_dropped),
            connections: r(&self.connections),
        }
    }
}

/// Every running listener's counters (shared by the listeners and the statistics).
#[derive(Debug, Default)]
pub struct ListenerRegistry {
    listeners: parking_lot::Mutex<Vec<std::sync::Arc<ListenerCounters>>>,
}

impl ListenerRegistry {
    /// Adds a listener's counters.
    pub fn register(&self, counters: std::sync::Arc<ListenerCounters>) {
        self.listeners.lock().push(counters);
    }

    /// Every listener's counters now, in registration order.
    pub fn snapshot(&self) -> Vec<ListenerStats> {
        self.listeners.lock().iter().map(|c| c.snapshot()).collect()
    }
}

/// Everything the services report, read at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceStats {
    /// The flush.
    pub flush: FlushCounters,
    /// The write backlog.
    pub backlog: BacklogStats,
    /// The recent-data tier, when enabled.
    pub tier: Option<TierStats>,
    /// Queries.
    pub queries: QueryCounters,
    /// Writes.
    pub writes: WriteCounters,
    /// Every database, by name.
    pub databases: Vec<DatabaseStats>,
    /// The Graphite, OpenTSDB, collectd and UDP listeners running.
    pub listeners: Vec<ListenerStats>,
    /// Cluster mode's counters (`None` on a single node).
    pub cluster: Option<ClusterStats>,
}

/// What a cluster member counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterStats {
    /// Hinted handoff, per peer id.
    pub hints: BTreeMap<u64, crate::cluster::HintStats>,
    /// Anti-entropy.
    pub anti_entropy: crate::cluster::AntiEntropyStats,
}

fn int(v: u64) -> Value {
    Value::Integer(i64::try_from(v).unwrap_or(i64::MAX))
}

/// A statistics series of one row from (column, value) pairs, columns sorted by name as
/// InfluxDB sorts its statistics' keys.
pub fn module(name: &str, tags: &[(&str, &str)], mut cols: Vec<(&str, Value)>) -> Series {
    cols.sort_by(|a, b| a.0.cmp(b.0));
    Series {
        name: Some(name.to_string()),
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        columns: cols.iter().map(|(c, _)| c.to_string()).collect(),
        values: vec![cols.into_iter().map(|(_, v)| v).collect()],
        partial: false,
    }
}

/// The services' statistics as InfluxDB's modules (`SHOW STATS`, `/debug/vars`):
/// `queryExecutor`, one `database` per database (tagged with its name) and `write` with
/// exactly InfluxDB's columns (dashboards select them by name), and this server's own
/// `flush`, (when enabled) `tier` and `query` (killed queries, engine errors).
pub fn stat_modules(st: &ServiceStats) -> Vec<Series> {
    let q = &st.queries;
    let mut out = vec![module(
        "queryExecutor",
        &[],
        vec![
            ("queriesActive", int(q.active)),
            ("queriesExecuted", int(q.executed)),
            ("queriesFinished", int(q.finished)),
            ("queryDurationNs", int(q.duration.sum_nanos)),
            ("recoveredPanics", int(0)),
        ],
    )];
    for d in &st.databases {
        out.push(module(
            "database",
            &[("database", &d.name)],
            vec![
                ("numMeasurements", int(d.measurements)),
                ("numSeries", int(d.series)),
            ],
        ));
    }
    let w = &st.writes;
    out.push(module(
        "write",
        &[],
        vec![
            ("pointReq", int(w.points)),
            ("pointReqLocal", int(w.points)),
            ("req", int(w.requests)),
            ("subWriteDrop", int(0)),
            ("subWriteOk", int(0)),
            ("writeDrop", int(0)),
            ("writeError", int(w.errors)),
            ("writeOk", int(w.ok)),
            ("writeTimeout", int(0)),
        ],
    ));
    let f = &st.flush;
    out.push(module(
        "flush",
        &[],
        vec![
            ("backlogEntries", int(f.backlog_entries)),
            ("backlogPoints", int(st.backlog.points)),
            ("backlogLimit", int(st.backlog.limit)),
            ("entries", int(f.entries)),
            ("failures", int(f.failures)),
            ("flushDurationNs", int(f.duration.sum_nanos)),
            ("heldTables", int(f.held_tables)),
            ("lagMs", int((f.lag_seconds * 1000.0) as u64)),
            ("points", int(f.points)),
            ("rounds", int(f.rounds)),
        ],
    ));
    out.push(module(
        "query",
        &[],
        vec![
            ("engineErrors", int(q.engine_errors)),
            ("queriesKilled", int(q.killed)),
        ],
    ));
    for l in &st.listeners {
        out.push(listener_module(l));
    }
    if let Some(t) = &st.tier {
        out.push(module(
            "tier",
            &[],
            vec![
                ("bytes", int(t.bytes)),
                ("hits", int(t.hits)),
                ("maxBytes", int(t.max_bytes)),
                ("misses", int(t.misses)),
            ],
        ));
    }
    out
}

/// One listener as a statistics module named after its kind (`graphite`, `opentsdb`,
/// `collectd`, `udp`), tagged with its address (and `proto` for Graphite) as InfluxDB
/// tags them; the columns are this server's (see `docs/protocols.md`).
fn listener_module(l: &ListenerStats) -> Series {
    let mut tags = vec![("bind", l.bind.as_str())];
    if l.kind == "graphite" {
        tags.push(("proto", l.proto.as_str()));
    }
    module(
        &l.kind,
        &tags,
        vec![
            ("batchesTx", int(l.batches_written)),
            ("batchesTxFail", int(l.batches_failed)),
            ("bufferDropped", int(l.buffer_dropped)),
            ("bytesRx", int(l.bytes_received)),
            ("connections", int(l.connections)),
            ("pointsParseFail", int(l.bad)),
            ("pointsRefused", int(l.points_refused)),
            ("pointsRx", int(l.points_received)),
            ("pointsTx", int(l.points_written)),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_are_modules_keyed_by_their_address() {
        let reg = ListenerRegistry::default();
        let c = std::sync::Arc::new(ListenerCounters::new(
            "graphite",
            "tcp",
            "127.0.0.1:2003",
            "graphite",
        ));
        reg.register(c.clone());
        ListenerCounters::add(&c.points_received, 3);
        ListenerCounters::add(&c.bad, 1);
        let st = ServiceStats {
            listeners: reg.snapshot(),
            ..ServiceStats::default()
        };
        let m = stat_modules(&st);
        let g = m
            .iter()
            .find(|s| s.name.as_deref() == Some("graphite"))
            .unwrap();
        assert_eq!(
            g.tags.get("bind").map(String::as_str),
            Some("127.0.0.1:2003")
        );
        assert_eq!(g.tags.get("proto").map(String::as_str), Some("tcp"));
        let col = |name: &str| {
            let i = g.columns.iter().position(|c| c == name).unwrap();
            g.values[0][i].clone()
        };
        assert_eq!(col("pointsRx"), Value::Integer(3));
        assert_eq!(col("pointsParseFail"), Value::Integer(1));
    }

    #[test]
    fn histogram_is_cumulative_with_overflow() {
        let h = DurationHistogram::default();
        h.observe(Duration::from_micros(100));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(100));
        let s = h.snapshot();
        assert_eq!(s.count, 3);
        assert_eq!(s.cumulative[0], 1);
        assert_eq!(s.cumulative[3], 2); // 5 ms
        assert_eq!(*s.cumulative.last().unwrap(), 2);
        assert_eq!(s.sum_nanos, 100_003_100_000);
        assert_eq!(s.cumulative.len(), s.bounds.len());
    }
}
