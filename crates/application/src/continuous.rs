//! Continuous queries: runs the stored `CREATE CONTINUOUS QUERY` statements on InfluxDB's
//! schedule.
//!
//! Why it exists: a CQ is a `SELECT ... INTO ... GROUP BY time(I)` that the server re-runs
//! by itself over the most recent interval(s). This service decides *when* each CQ is due
//! and *which time range* it covers, then hands the `SELECT ... INTO` with that range to
//! the query service ([`QueryExecutor`]), which writes the results through the normal
//! write path.
//!
//! Schedule (InfluxDB 1.x's, with `I` = `GROUP BY time` interval, `O` = its offset,
//! `E` = `RESAMPLE EVERY` (default `I`), `F` = `RESAMPLE FOR` (default `I`, or `E` when
//! `E > I`)); `floor` aligns to the Unix epoch shifted by `O`:
//!
//! - a CQ runs on its first tick after start, then whenever `last_run + E <= now`;
//! - each run stores `last_run = floor_E(now)`;
//! - it covers `[floor_I(next_run + I - F - 1ns), floor_I(now + I - min(E, I)))` where
//!   `next_run` is the time the run was due (`now` on the first run); an empty range is
//!   skipped. By default that is exactly the last complete interval; the first run after
//!   start covers nothing unless it falls on a boundary (InfluxDB does not back-fill);
//!   with `E < I` the current, incomplete interval is recomputed every `E`; after a pause
//!   the missed intervals are caught up.
//!
//! Any time condition of the stored `WHERE` is replaced by the range, as InfluxDB does.
//!
//! Deliberate difference: InfluxDB truncates times relative to Go's zero time (year 1),
//! this service relative to the Unix epoch, as `GROUP BY time` buckets are. Both agree for
//! every interval dividing 719 162 days (s, m, h, d, 2d, ...); for `1w` InfluxDB's CQ
//! ranges are misaligned with its own buckets, ours are not.

use crate::query::{QueryExecutor, QueryRequest};
use hyperbyte_domain::query::{StatementResult, Value};
use hyperbyte_domain::time::format_rfc3339;
use hyperbyte_domain::ContinuousQuery;
use hyperbyte_ports::{Clock, MetadataPort};
use hyperbyte_timeseriesql::ast::{BinaryOp, Expr, SelectStatement, Statement};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tracing::{debug, info, warn, Instrument};

/// One execution of a continuous query (or the report of a CQ that cannot run).
#[derive(Debug, Clone, PartialEq)]
pub struct CqRun {
    /// Database of the CQ.
    pub database: String,
    /// CQ name.
    pub name: String,
    /// Start of the covered range (inclusive, nanoseconds).
    pub start: i64,
    /// End of the covered range (exclusive, nanoseconds).
    pub end: i64,
    /// The `SELECT ... INTO` text that was executed (empty when the CQ is invalid).
    pub statement: String,
    /// Points written, or the error text.
    pub outcome: Result<i64, String>,
}

/// Schedule parameters of a parsed CQ.
#[derive(Debug, Clone)]
struct Prepared {
    source: SelectStatement,
    interval: i64,
    offset: i64,
    every: i64,
    resample_for: Option<i64>,
}

/// Per-CQ scheduler state, keyed by (database, name).
#[derive(Debug, Default)]
struct State {
    last_runs: HashMap<(String, String), i64>,
    /// Invalid CQs already reported: (database, name, text).
    reported_invalid: HashSet<(String, String, String)>,
}

/// Runs continuous queries when they are due.
#[derive(Debug)]
pub struct ContinuousQueryService {
    meta: Arc<dyn MetadataPort>,
    executor: Arc<dyn QueryExecutor>,
    clock: Arc<dyn Clock>,
    tick_every: Duration,
    state: parking_lot::Mutex<State>,
    /// Serialises ticks (the loop and manual calls).
    running: tokio::sync::Mutex<()>,
}

impl ContinuousQueryService {
    /// Creates the service; `executor` is the query service (with its write path enabled,
    /// so that `SELECT ... INTO` works).
    pub fn new(
        meta: Arc<dyn MetadataPort>,
        executor: Arc<dyn QueryExecutor>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        ContinuousQueryService {
            meta,
            executor,
            clock,
            tick_every: Duration::from_secs(1),
            state: parking_lot::Mutex::new(State::default()),
            running: tokio::sync::Mutex::new(()),
        }
    }

    /// Changes how often [`ContinuousQueryService::run`] checks for due CQs (default 1 s,
    /// InfluxDB's `run-interval`).
    pub fn with_tick_interval(mut self, every: Duration) -> Self {
        self.tick_every = every.max(Duration::from_millis(1));
        self
    }

    /// Runs every CQ that is due at `now` (nanoseconds) and returns what ran, in the order
    /// of [`MetadataPort::continuous_queries`]. A CQ that cannot run (does not parse, no
    /// `GROUP BY time`, not an aggregate) is reported once per stored text.
    pub async fn tick(&self, now: i64) -> Vec<CqRun> {
        let _serial = self.running.lock().await;
        let cqs = self.meta.continuous_queries();
        let mut runs = Vec::new();
        let mut planned: Vec<(ContinuousQuery, String, i64, i64)> = Vec::new();
        {
            let mut st = self.state.lock();
            let live: HashSet<(String, String)> = cqs
                .iter()
                .map(|c| (c.database.clone(), c.name.clone()))
                .collect();
            st.last_runs.retain(|k, _| live.contains(k));
            st.reported_invalid
                .retain(|(d, n, _)| live.contains(&(d.clone(), n.clone())));
            for cq in cqs {
                let p = match prepare(&cq, now) {
                    Ok(p) => p,
                    Err(msg) => {
                        let id = (cq.database.clone(), cq.name.clone(), cq.query.clone());
                        if st.reported_invalid.insert(id) {
                            warn!(database = %cq.database, cq = %cq.name, error = %msg,
                                "continuous query cannot run");
                            runs.push(CqRun {
                                database: cq.database,
                                name: cq.name,
                                start: 0,
                                end: 0,
                                statement: String::new(),
                                outcome: Err(msg),
                            });
                        }
                        continue;
                    }
                };
                let key = (cq.database.clone(), cq.name.clone());
                let last = st.last_runs.get(&key).copied();
                let Some(next_run) = due(last, p.every, now) else {
                    continue;
                };
                st.last_runs.insert(key, floor_to(now, p.every, p.offset));
                let Some((start, end)) = window(&p, next_run, now) else {
                    debug!(database = %cq.database, cq = %cq.name, "continuous query due with an empty range");
                    continue;
                };
                let statement = with_time_range(&p.source, start, end).to_string();
                planned.push((cq, statement, start, end));
            }
        }
        for (cq, statement, start, end) in planned {
            let outcome = self.execute(&cq.database, &statement).await;
            match &outcome {
                Ok(n) => info!(database = %cq.database, cq = %cq.name,
                    start = %format_rfc3339(start), end = %format_rfc3339(end), written = n,
                    "continuous query ran"),
                Err(e) => warn!(database = %cq.database, cq = %cq.name,
                    start = %format_rfc3339(start), end = %format_rfc3339(end), error = %e,
                    statement = %statement, "continuous query failed"),
            }
            runs.push(CqRun {
                database: cq.database,
                name: cq.name,
                start,
                end,
                statement,
                outcome,
            });
        }
        runs
    }

    async fn execute(&self, database: &str, statement: &str) -> Result<i64, String> {
        let req = QueryRequest {
            query: statement.to_string(),
            database: Some(database.to_string()),
            ..Default::default()
        };
        let results = self
            .executor
            .execute(req)
            .await
            .map_err(|e| e.to_string())?;
        written_count(&results)
    }

    /// Ticks about every second (see [`ContinuousQueryService::with_tick_interval`]) with
    /// the injected clock until `shutdown` changes (or its sender is dropped).
    pub async fn run(self: Arc<Self>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let span = tracing::info_span!("continuous_query_service");
        async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(self.tick_every) => {}
                    _ = shutdown.changed() => break,
                }
                let now = self.clock.now_nanos();
                self.tick(now).await;
            }
        }
        .instrument(span)
        .await
    }
}

/// Parses a stored CQ and extracts its schedule.
fn prepare(cq: &ContinuousQuery, now: i64) -> Result<Prepared, String> {
    let parsed = hyperbyte_timeseriesql::parse(&cq.query).map_err(|e| e.to_string())?;
    let stmt = match parsed.statements.as_slice() {
        [Statement::CreateContinuousQuery(c)] => c,
        _ => return Err("not a CREATE CONTINUOUS QUERY statement".into()),
    };
    let source = stmt.source.clone();
    if source.target.is_none() {
        return Err("continuous query has no INTO clause".into());
    }
    if source.is_raw() {
        return Err("continuous queries must be aggregate queries".into());
    }
    let (interval, offset) = source
        .group_by_interval_at(Some(now))
        .ok_or_else(|| "continuous query has no GROUP BY time interval".to_string())?;
    let every = stmt.resample_every.filter(|e| *e > 0).unwrap_or(interval);
    Ok(Prepared {
        source,
        interval,
        offset,
        every,
        resample_for: stmt.resample_for.filter(|f| *f > 0),
    })
}

/// `t` truncated to a multiple of `step` after shifting by `offset` (epoch-aligned).
fn floor_to(t: i64, step: i64, offset: i64) -> i64 {
    let shifted = t.saturating_sub(offset);
    shifted
        .saturating_sub(shifted.rem_euclid(step))
        .saturating_add(offset)
}

/// When a CQ is due at `now`: the time it became due (`now` on its first run).
fn due(last_run: Option<i64>, every: i64, now: i64) -> Option<i64> {
    match last_run {
        None => Some(now),
        Some(last) => {
            let next = last.saturating_add(every);
            (next <= now).then_some(next)
        }
    }
}

/// The `[start, end)` range a run due at `next_run` covers at `now`; `None` when empty.
fn window(p: &Prepared, next_run: i64, now: i64) -> Option<(i64, i64)> {
    let i = p.interval;
    let resample_for = p
        .resample_for
        .unwrap_or(if i < p.every { p.every } else { i });
    let every = p.every.min(i);
    let start = floor_to(
        next_run.saturating_add(i - resample_for).saturating_sub(1),
        i,
        p.offset,
    );
    let end = floor_to(now.saturating_add(i - every), i, p.offset);
    (end > start).then_some((start, end))
}

/// The CQ's SELECT with its time conditions replaced by `time >= start AND time < end`.
fn with_time_range(source: &SelectStatement, start: i64, end: i64) -> SelectStatement {
    let time = |op, t: i64| Expr::binary(op, Expr::var("time"), Expr::String(format_rfc3339(t)));
    let range = Expr::binary(
        BinaryOp::And,
        time(BinaryOp::GtEq, start),
        time(BinaryOp::Lt, end),
    );
    let mut out = source.clone();
    out.condition = Some(match source.condition_without_time() {
        None => range,
        Some(c) => {
            // `a OR b AND time ...` would bind the range to `b` only.
            let c = match c {
                Expr::Binary {
                    op: BinaryOp::Or, ..
                } => Expr::Paren(Box::new(c)),
                other => other,
            };
            Expr::binary(BinaryOp::And, c, range)
        }
    });
    out
}

/// The `written` count of a `SELECT ... INTO` result, or its error.
fn written_count(results: &[StatementResult]) -> Result<i64, String> {
    let Some(r) = results.first() else {
        return Err("no result".into());
    };
    if let Some(e) = &r.error {
        return Err(e.clone());
    }
    for s in &r.series {
        if let Some(col) = s.columns.iter().position(|c| c == "written") {
            let n = s
                .values
                .iter()
                .filter_map(|row| match row.get(col) {
                    Some(Value::Integer(n)) => Some(*n),
                    Some(Value::Unsigned(n)) => i64::try_from(*n).ok(),
                    Some(Value::Float(f)) => Some(*f as i64),
                    _ => None,
                })
                .sum();
            return Ok(n);
        }
    }
    Ok(0)
}
