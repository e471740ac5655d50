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
    /// Whether this process runs CQs now (cluster mode: only the metadata leader does,
    /// so a CQ's results are computed once, then replicated like any write).
    gate: Option<RunGate>,
}

/// Decides whether the CQ loop runs here (see [`ContinuousQueryService::with_gate`]).
#[derive(Clone)]
pub struct RunGate(pub Arc<dyn Fn() -> bool + Send + Sync>);

impl std::fmt::Debug for RunGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RunGate")
    }
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
            gate: None,
        }
    }

    /// Runs the loop's ticks only while `gate` says so (a cluster's leader).
    pub fn with_gate(mut self, gate: RunGate) -> Self {
        self.gate = Some(gate);
        self
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
                if self.gate.as_ref().is_some_and(|g| !(g.0)()) {
                    continue;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::QueryRequestError;
    use crate::retention::tests::{ManualClock, MemMeta, HOUR};
    use hyperbyte_domain::query::Series;
    use parking_lot::Mutex;

    const MIN: i64 = 60_000_000_000;
    /// 2020-01-01T00:00:00Z.
    const T0: i64 = 1_577_836_800_000_000_000;

    /// Records requests and answers like `SELECT ... INTO`.
    #[derive(Debug, Default)]
    struct RecordingExecutor {
        requests: Mutex<Vec<QueryRequest>>,
        written: i64,
        fail: Option<String>,
    }

    #[async_trait::async_trait]
    impl QueryExecutor for RecordingExecutor {
        async fn execute(
            &self,
            req: QueryRequest,
        ) -> Result<Vec<StatementResult>, QueryRequestError> {
            self.requests.lock().push(req);
            if let Some(e) = &self.fail {
                return Ok(vec![StatementResult::error(0, e.clone())]);
            }
            Ok(vec![StatementResult {
                series: vec![Series {
                    name: Some("result".into()),
                    columns: vec!["time".into(), "written".into()],
                    values: vec![vec![Value::Time(0), Value::Integer(self.written)]],
                    ..Default::default()
                }],
                ..Default::default()
            }])
        }
    }

    fn setup(cqs: &[&str]) -> (Arc<MemMeta>, Arc<RecordingExecutor>, ContinuousQueryService) {
        setup_with(
            cqs,
            RecordingExecutor {
                written: 7,
                ..Default::default()
            },
        )
    }

    fn setup_with(
        cqs: &[&str],
        exec: RecordingExecutor,
    ) -> (Arc<MemMeta>, Arc<RecordingExecutor>, ContinuousQueryService) {
        let meta = Arc::new(MemMeta::default());
        for (i, q) in cqs.iter().enumerate() {
            meta.add_cq("db", &format!("cq{i}"), q);
        }
        let exec = Arc::new(exec);
        let svc = ContinuousQueryService::new(meta.clone(), exec.clone(), ManualClock::new(0));
        (meta, exec, svc)
    }

    /// `(start, end)` of each run, relative to T0 in minutes.
    async fn ranges(svc: &ContinuousQueryService, now: i64) -> Vec<(i64, i64)> {
        svc.tick(now)
            .await
            .into_iter()
            .map(|r| ((r.start - T0) / MIN, (r.end - T0) / MIN))
            .collect()
    }

    const PLAIN: &str =
        "CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT mean(value) INTO cpu_1h FROM cpu GROUP BY time(1h) END";

    #[tokio::test]
    async fn plain_cq_runs_each_interval_over_the_last_one() {
        let (_, exec, svc) = setup(&[PLAIN]);
        // First tick after start, mid-interval: nothing to compute (no back-fill).
        assert!(svc.tick(T0 + 30 * MIN).await.is_empty());
        assert!(svc.tick(T0 + 59 * MIN).await.is_empty());
        let runs = svc.tick(T0 + HOUR).await;
        assert_eq!(runs.len(), 1);
        let r = &runs[0];
        assert_eq!((r.database.as_str(), r.name.as_str()), ("db", "cq0"));
        assert_eq!((r.start, r.end), (T0, T0 + HOUR));
        assert_eq!(r.outcome, Ok(7));
        assert_eq!(
            r.statement,
            "SELECT mean(value) INTO cpu_1h FROM cpu WHERE time >= '2020-01-01T00:00:00Z' AND time < '2020-01-01T01:00:00Z' GROUP BY time(1h)"
        );
        let req = exec.requests.lock()[0].clone();
        assert_eq!(req.query, r.statement);
        assert_eq!(req.database.as_deref(), Some("db"));
        // Not again within the interval; late ticks still cover the right interval.
        assert!(svc.tick(T0 + HOUR + 1_000_000_000).await.is_empty());
        assert_eq!(
            ranges(&svc, T0 + 2 * HOUR + 3_000_000_000).await,
            vec![(60, 120)]
        );
        // After a pause, the missed intervals are caught up in one run.
        assert_eq!(ranges(&svc, T0 + 5 * HOUR).await, vec![(120, 300)]);
        assert_eq!(ranges(&svc, T0 + 6 * HOUR).await, vec![(300, 360)]);
    }

    #[tokio::test]
    async fn first_tick_on_a_boundary_runs() {
        let (_, _, svc) = setup(&[PLAIN]);
        assert_eq!(ranges(&svc, T0 + HOUR).await, vec![(0, 60)]);
    }

    #[tokio::test]
    async fn resample_every_recomputes_the_current_interval() {
        let (_, _, svc) = setup(&[
            "CREATE CONTINUOUS QUERY cq ON db RESAMPLE EVERY 15m BEGIN SELECT count(v) INTO x FROM m GROUP BY time(1h) END",
        ]);
        assert!(svc.tick(T0 + 10 * MIN).await.is_empty());
        assert!(svc.tick(T0 + 14 * MIN).await.is_empty());
        assert_eq!(ranges(&svc, T0 + 15 * MIN).await, vec![(0, 60)]);
        assert_eq!(ranges(&svc, T0 + 30 * MIN).await, vec![(0, 60)]);
        assert_eq!(ranges(&svc, T0 + 45 * MIN).await, vec![(0, 60)]);
        // At the boundary the just-finished interval gets its final computation.
        assert_eq!(ranges(&svc, T0 + 60 * MIN).await, vec![(0, 60)]);
        assert_eq!(ranges(&svc, T0 + 75 * MIN).await, vec![(60, 120)]);
    }

    #[tokio::test]
    async fn resample_every_longer_than_the_interval() {
        let (_, _, svc) = setup(&[
            "CREATE CONTINUOUS QUERY cq ON db RESAMPLE EVERY 2h BEGIN SELECT count(v) INTO x FROM m GROUP BY time(1h) END",
        ]);
        // FOR defaults to EVERY: two intervals per run.
        assert_eq!(ranges(&svc, T0 + 2 * HOUR + 1_000).await, vec![(60, 120)]);
        assert!(svc.tick(T0 + 3 * HOUR).await.is_empty());
        assert_eq!(ranges(&svc, T0 + 4 * HOUR).await, vec![(120, 240)]);
    }

    #[tokio::test]
    async fn resample_for_covers_several_intervals() {
        let (_, _, svc) = setup(&[
            "CREATE CONTINUOUS QUERY cq ON db RESAMPLE FOR 3h BEGIN SELECT count(v) INTO x FROM m GROUP BY time(1h) END",
        ]);
        // First run after start, mid-interval: from now - FOR, aligned, to the last boundary.
        assert_eq!(
            ranges(&svc, T0 + 5 * HOUR + 10 * MIN).await,
            vec![(180, 300)]
        );
        assert_eq!(ranges(&svc, T0 + 6 * HOUR).await, vec![(180, 360)]);
        assert_eq!(ranges(&svc, T0 + 7 * HOUR).await, vec![(240, 420)]);
    }

    #[tokio::test]
    async fn resample_every_and_for_together() {
        let (_, _, svc) = setup(&[
            "CREATE CONTINUOUS QUERY cq ON db RESAMPLE EVERY 30m FOR 2h BEGIN SELECT count(v) INTO x FROM m GROUP BY time(1h) END",
        ]);
        assert_eq!(ranges(&svc, T0 + 2 * HOUR).await, vec![(0, 120)]);
        assert_eq!(ranges(&svc, T0 + 150 * MIN).await, vec![(60, 180)]);
        assert_eq!(ranges(&svc, T0 + 3 * HOUR).await, vec![(60, 180)]);
    }

    #[tokio::test]
    async fn group_by_offset_shifts_runs_and_ranges() {
        let (_, _, svc) = setup(&[
            "CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT count(v) INTO x FROM m GROUP BY time(1h, 15m) END",
        ]);
        assert!(svc.tick(T0 + 20 * MIN).await.is_empty());
        assert!(svc.tick(T0 + 70 * MIN).await.is_empty());
        let runs = svc.tick(T0 + 75 * MIN).await;
        assert_eq!(runs.len(), 1);
        assert_eq!((runs[0].start, runs[0].end), (T0 + 15 * MIN, T0 + 75 * MIN));
        assert_eq!(
            runs[0].statement,
            "SELECT count(v) INTO x FROM m WHERE time >= '2020-01-01T00:15:00Z' AND time < '2020-01-01T01:15:00Z' GROUP BY time(1h, 15m)"
        );
        assert!(svc.tick(T0 + 2 * HOUR).await.is_empty());
        assert_eq!(ranges(&svc, T0 + 135 * MIN).await, vec![(75, 135)]);
    }

    #[tokio::test]
    async fn offset_with_resample_every() {
        let (_, _, svc) = setup(&[
            "CREATE CONTINUOUS QUERY cq ON db RESAMPLE EVERY 30m FOR 2h BEGIN SELECT count(v) INTO x FROM m GROUP BY time(1h, 15m) END",
        ]);
        assert_eq!(ranges(&svc, T0 + 2 * HOUR).await, vec![(15, 135)]);
        assert!(svc.tick(T0 + 2 * HOUR + 14 * MIN).await.is_empty());
        // Due every 30m at :15 and :45; the last bucket is the current, incomplete one.
        assert_eq!(
            ranges(&svc, T0 + 2 * HOUR + 15 * MIN).await,
            vec![(15, 135)]
        );
        assert_eq!(
            ranges(&svc, T0 + 2 * HOUR + 45 * MIN).await,
            vec![(75, 195)]
        );
    }

    #[tokio::test]
    async fn where_time_conditions_are_replaced_and_or_is_parenthesised() {
        let (_, _, svc) = setup(&[
            "CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT max(v) INTO x FROM m WHERE host = 'a' OR host = 'b' GROUP BY time(1h), * END",
            "CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT max(v) INTO x FROM m WHERE time > now() - 1d AND region = 'eu' GROUP BY time(1h) fill(none) END",
            "CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT mean(*) INTO other.\"rp x\".:MEASUREMENT FROM /cpu.*/, mem GROUP BY time(30m), host END",
        ]);
        let runs = svc.tick(T0 + HOUR).await;
        let texts: Vec<&str> = runs.iter().map(|r| r.statement.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "SELECT max(v) INTO x FROM m WHERE (host = 'a' OR host = 'b') AND time >= '2020-01-01T00:00:00Z' AND time < '2020-01-01T01:00:00Z' GROUP BY time(1h), *",
                "SELECT max(v) INTO x FROM m WHERE region = 'eu' AND time >= '2020-01-01T00:00:00Z' AND time < '2020-01-01T01:00:00Z' GROUP BY time(1h) fill(none)",
                "SELECT mean(*) INTO other.\"rp x\".:MEASUREMENT FROM /cpu.*/, mem WHERE time >= '2020-01-01T00:30:00Z' AND time < '2020-01-01T01:00:00Z' GROUP BY time(30m), host",
            ]
        );
        // Every produced text parses back to a SELECT with the range.
        for t in texts {
            let q = hyperbyte_timeseriesql::parse(t).unwrap();
            let Statement::Select(s) = &q.statements[0] else {
                panic!("not a select: {t}");
            };
            let r = s.time_range(0).unwrap();
            assert!(r.min.is_some() && r.max.is_some(), "{t}");
        }
    }

    #[tokio::test]
    async fn invalid_cqs_are_reported_once_and_others_still_run() {
        let (meta, _, svc) = setup(&[
            "CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT value INTO x FROM m GROUP BY time(1h) END",
            "not influxql",
            PLAIN,
        ]);
        let runs = svc.tick(T0 + HOUR).await;
        assert_eq!(runs.len(), 3);
        assert_eq!(
            runs[0].outcome,
            Err("continuous queries must be aggregate queries".to_string())
        );
        assert!(runs[1].outcome.is_err());
        assert_eq!(runs[2].outcome, Ok(7));
        assert!(svc
            .tick(T0 + 2 * HOUR)
            .await
            .iter()
            .all(|r| r.outcome.is_ok()));
        // Dropping and re-creating a CQ starts its schedule over.
        meta.cqs.lock().retain(|c| c.name != "cq2");
        assert!(svc.tick(T0 + 3 * HOUR).await.is_empty());
        meta.add_cq("db", "cq2", PLAIN);
        assert!(svc.tick(T0 + 3 * HOUR + 10 * MIN).await.is_empty());
        assert_eq!(ranges(&svc, T0 + 4 * HOUR).await, vec![(180, 240)]);
    }

    #[tokio::test]
    async fn execution_errors_are_returned_and_the_schedule_moves_on() {
        let (_, exec, svc) = setup_with(
            &[PLAIN],
            RecordingExecutor {
                fail: Some("database not found: db".into()),
                ..Default::default()
            },
        );
        let runs = svc.tick(T0 + HOUR).await;
        assert_eq!(runs[0].outcome, Err("database not found: db".to_string()));
        // As InfluxDB: a failed interval is not retried.
        assert!(svc.tick(T0 + HOUR + 1).await.is_empty());
        assert_eq!(exec.requests.lock().len(), 1);
    }

    #[tokio::test]
    async fn run_ticks_with_the_injected_clock() {
        let meta = Arc::new(MemMeta::default());
        meta.add_cq("db", "cq", PLAIN);
        let exec = Arc::new(RecordingExecutor::default());
        let clock = ManualClock::new(T0 + HOUR);
        let svc = Arc::new(
            ContinuousQueryService::new(meta, exec.clone(), clock.clone())
                .with_tick_interval(Duration::from_millis(5)),
        );
        let (tx, rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(svc.run(rx));
        let wait_for = |n: usize| {
            let exec = exec.clone();
            async move {
                for _ in 0..400 {
                    if exec.requests.lock().len() >= n {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                panic!("expected {n} runs");
            }
        };
        wait_for(1).await;
        clock.set(T0 + 2 * HOUR);
        wait_for(2).await;
        tx.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("loop stops on shutdown")
            .unwrap();
        let reqs = exec.requests.lock().clone();
        assert_eq!(reqs.len(), 2);
        assert!(reqs[1].query.contains("time >= '2020-01-01T01:00:00Z'"));
    }

    /// A minimal HTTP/1.0 client of the reference InfluxDB (`reference-influxd.sh`).
    #[derive(Debug, Clone)]
    struct Reference {
        addr: String,
    }

    impl Reference {
        fn post(&self, path: &str, body: &str) -> String {
            use std::io::{Read, Write};
            let mut s = std::net::TcpStream::connect(&self.addr)
                .expect("reference InfluxDB: bash /work/shared/conformance/reference-influxd.sh start 18121");
            write!(
                s,
                "POST {path} HTTP/1.0\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                self.addr,
                body.len()
            )
            .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            out.split_once("\r\n\r\n")
                .map(|(_, b)| b.to_string())
                .unwrap_or_default()
        }

        fn query(&self, db: &str, q: &str) -> String {
            let mut enc = String::from("q=");
            for b in q.bytes() {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    enc.push(b as char);
                } else {
                    enc.push_str(&format!("%{b:02X}"));
                }
            }
            self.post(&format!("/query?db={db}"), &enc)
        }

        /// The `written` count of a `SELECT ... INTO` answer.
        fn written(body: &str) -> Option<i64> {
            let rest = &body[body.find("\"written\"]")?..];
            let vals = &rest[rest.find("\"values\":[[")? + 11..];
            let row = &vals[..vals.find("]]")?];
            row.rsplit(',').next()?.trim().parse().ok()
        }
    }

    #[async_trait::async_trait]
    impl QueryExecutor for Reference {
        async fn execute(
            &self,
            req: QueryRequest,
        ) -> Result<Vec<StatementResult>, QueryRequestError> {
            let body = self.query(req.database.as_deref().unwrap_or(""), &req.query);
            Ok(vec![match Reference::written(&body) {
                Some(n) => StatementResult {
                    series: vec![Series {
                        name: Some("result".into()),
                        columns: vec!["time".into(), "written".into()],
                        values: vec![vec![Value::Time(0), Value::Integer(n)]],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                None => StatementResult::error(0, body),
            }])
        }
    }

    /// Decodes every JSON string literal of `body` that starts with `prefix`.
    fn json_strings(body: &str, prefix: &str) -> Vec<String> {
        let mut out = Vec::new();
        let needle = format!("\"{prefix}");
        let mut rest = body;
        while let Some(i) = rest.find(&needle) {
            let mut chars = rest[i + 1..].char_indices();
            let mut s = String::new();
            let mut end = rest.len() - i - 1;
            while let Some((j, c)) = chars.next() {
                match c {
                    '"' => {
                        end = j;
                        break;
                    }
                    '\\' => match chars.next().map(|(_, e)| e) {
                        Some('n') => s.push('\n'),
                        Some('t') => s.push('\t'),
                        Some('u') => {
                            let hex: String = (0..4)
                                .filter_map(|_| chars.next().map(|(_, h)| h))
                                .collect();
                            s.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                        }
                        Some(other) => s.push(other),
                        None => {}
                    },
                    c => s.push(c),
                }
            }
            out.push(s);
            rest = &rest[i + 1 + end..];
        }
        out
    }

    /// Runs the service's statements on the reference InfluxDB 1.6 (its CQ scheduler is
    /// off) and checks that each writes what the same SELECT INTO with the same range,
    /// written by hand with integer-nanosecond bounds, writes there; the CQ texts are
    /// the reference's own canonical `SHOW CONTINUOUS QUERIES` output.
    #[tokio::test]
    #[ignore = "needs the reference InfluxDB: reference-influxd.sh start 18121"]
    async fn statements_match_the_reference() {
        let port = std::env::var("HYPERBYTE_REFERENCE_PORT").unwrap_or_else(|_| "18121".into());
        let r = Reference {
            addr: format!("127.0.0.1:{port}"),
        };
        let q = |s: &str| r.query("cqref", s);
        q("DROP DATABASE cqref");
        for s in [
            "CREATE DATABASE cqref",
            "CREATE RETENTION POLICY agg ON cqref DURATION INF REPLICATION 1",
            "CREATE RETENTION POLICY agg2 ON cqref DURATION INF REPLICATION 1",
            "CREATE CONTINUOUS QUERY cq1 ON cqref BEGIN SELECT mean(value) INTO cpu_1h FROM cpu WHERE host = 'a' OR host = 'b' GROUP BY time(1h), * END",
            "CREATE CONTINUOUS QUERY cq2 ON cqref RESAMPLE EVERY 30m FOR 2h BEGIN SELECT max(value), count(value) INTO cqref.agg.:MEASUREMENT FROM /cpu|mem/ WHERE time > 0 GROUP BY time(1h, 15m), host END",
        ] {
            let body = q(s);
            assert!(!body.contains("error"), "{s}: {body}");
        }
        let mut lines = String::new();
        for k in 0..24i64 {
            let t = T0 + k * 10 * MIN;
            for (i, h) in ["a", "b", "c"].into_iter().enumerate() {
                lines.push_str(&format!(
                    "cpu,host={h} value={}.5 {t}\n",
                    k * 3 + i as i64 * 100
                ));
            }
            lines.push_str(&format!("mem,host=a value={k} {t}\n"));
        }
        r.post("/write?db=cqref", &lines);

        let texts = json_strings(&q("SHOW CONTINUOUS QUERIES"), "CREATE CONTINUOUS QUERY");
        assert_eq!(texts.len(), 2, "{texts:?}");
        let meta = Arc::new(MemMeta::default());
        meta.add_cq("cqref", "cq1", &texts[0]);
        meta.add_cq("cqref", "cq2", &texts[1]);
        let svc = ContinuousQueryService::new(meta, Arc::new(r.clone()), ManualClock::new(0));

        let mut runs = svc.tick(T0 + 2 * HOUR).await;
        runs.extend(svc.tick(T0 + 2 * HOUR + 30 * MIN).await);
        runs.extend(svc.tick(T0 + 3 * HOUR).await);
        let summary: Vec<(&str, i64, i64)> = runs
            .iter()
            .map(|r| (r.name.as_str(), (r.start - T0) / MIN, (r.end - T0) / MIN))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("cq1", 60, 120),
                ("cq2", 15, 135),
                ("cq2", 15, 135),
                ("cq1", 120, 180),
                ("cq2", 75, 195),
            ]
        );
        for run in &runs {
            let (start, end) = (run.start, run.end);
            let manual = if run.name == "cq1" {
                format!("SELECT mean(value) INTO cqref.autogen.cpu_1h_manual FROM cqref.autogen.cpu WHERE (host = 'a' OR host = 'b') AND time >= {start} AND time < {end} GROUP BY time(1h), *")
            } else {
                format!("SELECT max(value), count(value) INTO cqref.agg2.:MEASUREMENT FROM cqref.autogen./cpu|mem/ WHERE time >= {start} AND time < {end} GROUP BY time(1h, 15m), host")
            };
            let expected = Reference::written(&q(&manual)).expect("manual SELECT INTO writes");
            assert!(expected > 0, "{manual}");
            assert_eq!(run.outcome, Ok(expected), "{} vs {manual}", run.statement);
        }
        // Same points written by both.
        let a = q("SELECT * FROM cqref.autogen.cpu_1h GROUP BY *");
        let b = q("SELECT * FROM cqref.autogen.cpu_1h_manual GROUP BY *")
            .replace("cpu_1h_manual", "cpu_1h");
        let cols = |s: &str| s[s.find("\"tags\"").unwrap()..].to_string();
        assert_eq!(cols(&a), cols(&b));
        for m in ["cpu", "mem"] {
            let a = q(&format!("SELECT * FROM cqref.agg.{m} GROUP BY *"));
            let b = q(&format!("SELECT * FROM cqref.agg2.{m} GROUP BY *"));
            assert!(a.contains("\"values\""), "{a}");
            assert_eq!(cols(&a), cols(&b));
        }
        q("DROP DATABASE cqref");
    }

    #[test]
    fn floor_handles_negative_times_and_offsets() {
        assert_eq!(floor_to(-1, HOUR, 0), -HOUR);
        assert_eq!(floor_to(HOUR + 5, HOUR, 0), HOUR);
        assert_eq!(floor_to(10 * MIN, HOUR, 15 * MIN), -45 * MIN);
        assert_eq!(floor_to(20 * MIN, HOUR, 15 * MIN), 15 * MIN);
    }
}
