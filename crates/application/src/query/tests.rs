//! Hostile SELECTs against the query service over port fakes: every one must answer a
//! statement error or a bounded result, never panic, wrap, loop or allocate by the
//! numbers the query typed.

use super::{QueryExecutor, QueryLimits, QueryRequest, QueryService};
use crate::flush::{FlushConfig, FlushService};
use crate::retention::tests::{ManualClock, MemMeta};
use async_trait::async_trait;
use hyperbyte_domain::naming;
use hyperbyte_domain::query::{StatementResult, Value};
use hyperbyte_domain::{FieldType, MeasurementSchema, Point, PointRef, RetentionPolicy, WalEntry};
use hyperbyte_ports::{
    PointsSinkPort, QueryError, QueryPort, RowSet, SinkError, StorageAdminPort, WalError, WalPort,
};
use parking_lot::Mutex;
use std::sync::Arc;

pub(super) const NOW: i64 = 1_600_000_000_000_000_000;
pub(super) const S: i64 = 1_000_000_000;
/// InfluxDB's lowest and highest valid times.
const MIN_TIME: i64 = -9_223_372_036_854_775_806;
const MAX_TIME: i64 = 9_223_372_036_854_775_806;

/// A query service over `meta`, `engine` and `admin`, at [`NOW`], with a flush service
/// over an empty WAL.
pub(super) fn service_over(
    meta: Arc<MemMeta>,
    engine: Arc<dyn QueryPort>,
    admin: Arc<dyn StorageAdminPort>,
) -> Arc<QueryService> {
    let flush = Arc::new(FlushService::new(
        Arc::new(EmptyWal),
        meta.clone(),
        Arc::new(NullStorage),
        FlushConfig::default(),
    ));
    Arc::new(QueryService::new(
        meta,
        engine,
        admin,
        flush,
        ManualClock::new(NOW),
    ))
}

/// One stored point of the single measurement `m`.
#[derive(Debug, Clone)]
struct Stored {
    time: i64,
    host: &'static str,
    v: Value,
}

/// Storage holding measurement `m` (tag `host`, field `v`); answers the raw reads with
/// its points and the pushdown aggregates with `agg_rows`.
#[derive(Debug, Default)]
pub(super) struct FakeEngine {
    points: Mutex<Vec<Stored>>,
    pub(super) agg_rows: Mutex<Vec<Vec<Value>>>,
    /// Every statement received.
    pub(super) queries: Mutex<Vec<String>>,
    /// What `latest_time` answers.
    pub(super) latest: Mutex<Option<i64>>,
    /// What `must_merge` answers.
    pub(super) merge: Mutex<bool>,
    /// Tag columns `table_columns` lists besides `host`'s.
    pub(super) more_tags: Mutex<Vec<String>>,
    /// What `leading_key_columns` answers.
    pub(super) leading: Mutex<Vec<String>>,
    /// `table_columns` calls.
    pub(super) columns_asked: Mutex<usize>,
}

#[async_trait]
impl QueryPort for FakeEngine {
    async fn query(&self, sql: &str) -> Result<RowSet, QueryError> {
        self.queries.lock().push(sql.to_string());
        let tag = naming::quote_ident(&naming::tag_column("host"));
        let field = naming::quote_ident(&naming::field_column("v"));
        if sql.contains("hb_bucket") {
            return Ok(RowSet {
                columns: Vec::new(),
                rows: self.agg_rows.lock().clone(),
            });
        }
        if sql.starts_with("SELECT count() FROM (SELECT 1 ") {
            let any = u64::from(!self.points.lock().is_empty());
            return Ok(RowSet {
                columns: Vec::new(),
                rows: vec![vec![Value::Unsigned(any)]],
            });
        }
        // `uniqExact(cols)`: the number of rows `SELECT DISTINCT cols` gives.
        if let Some(cols) = sql.strip_prefix("SELECT uniqExact(") {
            let cols = cols.split(") FROM ").next().unwrap_or_default();
            let listed = self
                .query(&sql.replacen(
                    &format!("uniqExact({cols})"),
                    &format!("DISTINCT {cols}"),
                    1,
                ))
                .await?;
            return Ok(RowSet {
                columns: Vec::new(),
                rows: vec![vec![Value::Unsigned(listed.rows.len() as u64)]],
            });
        }
        let distinct = sql.starts_with("SELECT DISTINCT ");
        let cols_text = sql
            .strip_prefix("SELECT ")
            .map(|s| s.trim_start_matches("DISTINCT "))
            .and_then(|s| s.split(" FROM ").next())
            .unwrap_or_default();
        let limit = sql
            .rsplit_once(" LIMIT ")
            .and_then(|(_, n)| n.trim().parse::<usize>().ok())
            .unwrap_or(usize::MAX);
        let rows = self
            .points
            .lock()
            .iter()
            .take(limit)
            .map(|p| {
                cols_text
                    .split(", ")
                    .map(|c| match c {
                        "time" => Value::Time(p.time),
                        c if c == tag => Value::String(p.host.to_string()),
                        c if c == field => p.v.clone(),
                        _ => Value::Null,
                    })
                    .collect()
            })
            .collect();
        let rows: Vec<Vec<Value>> = if distinct {
            let mut seen: Vec<Vec<Value>> = Vec::new();
            for r in rows {
                if !seen.contains(&r) {
                    seen.push(r);
                }
            }
            seen
        } else {
            rows
        };
        Ok(RowSet {
            columns: Vec::new(),
            rows,
        })
    }

    async fn table_columns(&self, _: &str, _: &str, _: &str) -> Result<Vec<String>, QueryError> {
        *self.columns_asked.lock() += 1;
        let mut cols = vec![naming::tag_column("host"), naming::field_column("v")];
        cols.extend(self.more_tags.lock().iter().map(|t| naming::tag_column(t)));
        Ok(cols)
    }

    async fn leading_key_columns(
        &self,
        _: &str,
        _: &str,
        _: &str,
    ) -> Result<Vec<String>, QueryError> {
        Ok(self.leading.lock().clone())
    }

    async fn latest_time(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: Option<i64>,
    ) -> Result<Option<i64>, QueryError> {
        Ok(*self.latest.lock())
    }

    fn must_merge(&self, _: &str, _: &str, _: &str, _: Option<i64>, _: Option<i64>) -> bool {
        *self.merge.lock()
    }
}

/// An empty WAL.
#[derive(Debug)]
pub(super) struct EmptyWal;

#[async_trait]
impl WalPort for EmptyWal {
    async fn append(&self, _: WalEntry) -> Result<u64, WalError> {
        Ok(1)
    }
    async fn read_range(&self, _: u64, _: usize) -> Result<Vec<(u64, WalEntry)>, WalError> {
        Ok(Vec::new())
    }
    async fn truncate_before(&self, _: u64) -> Result<(), WalError> {
        Ok(())
    }
    fn last_sequence(&self) -> u64 {
        0
    }
}

/// Storage writes and drops that do nothing.
#[derive(Debug)]
pub(super) struct NullStorage;

#[async_trait]
impl PointsSinkPort for NullStorage {
    async fn write_views(
        &self,
        _: &str,
        _: &RetentionPolicy,
        _: &str,
        _: &MeasurementSchema,
        _: &[PointRef<'_>],
    ) -> Result<(), SinkError> {
        Ok(())
    }
    async fn write_points(
        &self,
        _: &str,
        _: &RetentionPolicy,
        _: &str,
        _: &MeasurementSchema,
        _: &[Point],
    ) -> Result<(), SinkError> {
        Ok(())
    }
    async fn sync(&self) -> Result<(), SinkError> {
        Ok(())
    }
}

#[async_trait]
impl StorageAdminPort for NullStorage {
    async fn drop_database(&self, _: &str) -> Result<(), SinkError> {
        Ok(())
    }
    async fn drop_retention_policy(&self, _: &str, _: &str) -> Result<(), SinkError> {
        Ok(())
    }
    async fn drop_measurement(&self, _: &str, _: &[String], _: &str) -> Result<(), SinkError> {
        Ok(())
    }
    async fn delete_points(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: hyperbyte_ports::DeleteRows<'_>,
        _: i64,
        _: i64,
    ) -> Result<(), SinkError> {
        Ok(())
    }
    async fn drop_partitions_before(
        &self,
        _: &str,
        _: &RetentionPolicy,
        _: &[String],
        _: i64,
    ) -> Result<(), SinkError> {
        Ok(())
    }
}

pub(super) struct Harness {
    pub(super) service: QueryService,
    pub(super) engine: Arc<FakeEngine>,
    pub(super) meta: Arc<MemMeta>,
}

pub(super) fn harness(points: &[(i64, &'static str, f64)], limits: QueryLimits) -> Harness {
    harness_indexing(points, &[], limits)
}

/// A harness whose series index also lists `indexed` hosts (series without points in the
/// default policy's table: written into another policy, say).
pub(super) fn harness_indexing(
    points: &[(i64, &'static str, f64)],
    indexed: &[&str],
    limits: QueryLimits,
) -> Harness {
    let meta = Arc::new(MemMeta::default());
    meta.add_db("db", &[("autogen", 0, 7 * 24 * 3600 * S)]);
    for host in ["a", "b", "c", "d"] {
        if points.iter().any(|p| p.1 == host) || indexed.contains(&host) {
            meta.add_series("db", "m", &[("host", host)]);
        }
    }
    meta.schemas
        .lock()
        .entry(("db".into(), "m".into()))
        .or_default()
        .fields
        .insert("v".into(), FieldType::Float);
    let engine = Arc::new(FakeEngine::default());
    *engine.points.lock() = points
        .iter()
        .map(|&(time, host, v)| Stored {
            time,
            host,
            v: Value::Float(v),
        })
        .collect();
    let storage = Arc::new(NullStorage);
    let flush = Arc::new(FlushService::new(
        Arc::new(EmptyWal),
        meta.clone(),
        storage.clone(),
        FlushConfig::default(),
    ));
    let service = QueryService::new(
        meta.clone(),
        engine.clone(),
        storage,
        flush,
        ManualClock::new(NOW),
    )
    .with_limits(limits);
    Harness {
        service,
        engine,
        meta,
    }
}

impl Harness {
    pub(super) async fn run(&self, q: &str) -> StatementResult {
        let mut r = self
            .service
            .execute(QueryRequest {
                query: q.into(),
                database: Some("db".into()),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{q}: {e}"));
        assert_eq!(r.len(), 1);
        r.remove(0)
    }

    pub(super) async fn error(&self, q: &str) -> String {
        let r = self.run(q).await;
        r.error
            .unwrap_or_else(|| panic!("{q}: expected an error, got {:?}", r.series))
    }

    pub(super) async fn rows(&self, q: &str) -> Vec<Vec<Value>> {
        let r = self.run(q).await;
        assert!(r.error.is_none(), "{q}: {:?}", r.error);
        r.series.into_iter().flat_map(|s| s.values).collect()
    }
}

fn few() -> Vec<(i64, &'static str, f64)> {
    vec![(0, "a", 1.0), (10 * S, "a", 2.0), (20 * S, "a", 4.0)]
}

#[tokio::test]
async fn one_nanosecond_buckets_since_1970_hit_the_bucket_limit_before_any_read() {
    let h = harness(&few(), QueryLimits::default());
    let e = h
        .error("SELECT mean(v) FROM m WHERE time > 0 GROUP BY time(1ns) fill(0)")
        .await;
    assert_eq!(
        e,
        format!("max-select-buckets limit exceeded: ({NOW}/1000000)")
    );
    assert!(h.engine.queries.lock().is_empty(), "nothing may be read");
}

#[tokio::test]
async fn one_nanosecond_buckets_from_1900_to_2262_count_without_overflow() {
    let h = harness(&few(), QueryLimits::default());
    let e = h
        .error(
            "SELECT mean(v) FROM m WHERE time >= '1900-01-01T00:00:00Z' \
             AND time <= '2262-04-11T23:47:16Z' GROUP BY time(1ns) fill(linear)",
        )
        .await;
    let from: i128 = -2_208_988_800_000_000_000;
    let to: i128 = 9_223_372_036_000_000_000;
    assert_eq!(
        e,
        format!(
            "max-select-buckets limit exceeded: ({}/1000000)",
            to - from + 1
        )
    );
}

#[tokio::test]
async fn an_unbounded_start_is_limited_per_series_once_the_first_point_is_known() {
    let h = harness(&few(), QueryLimits::default());
    // Not a pushdown aggregate: the grid is built in Rust from the first point.
    let e = h
        .error("SELECT integral(v) FROM m GROUP BY time(1ns) fill(0)")
        .await;
    assert_eq!(
        e,
        format!("max-select-buckets limit exceeded: ({}/1000000)", NOW + 1)
    );
    // The pushdown path, with ClickHouse's bucket rows.
    *h.engine.agg_rows.lock() = vec![vec![Value::Integer(0), Value::Float(1.0)]];
    let e = h.error("SELECT mean(v) FROM m GROUP BY time(1ns)").await;
    assert_eq!(
        e,
        format!("max-select-buckets limit exceeded: ({}/1000000)", NOW + 1)
    );
}

#[tokio::test]
async fn the_whole_time_range_in_weeks_with_a_negative_offset_stays_in_range() {
    // `time <= MAX_TIME` would be no bound at all (InfluxDB then stops at now()): the
    // last valid nanosecond below it is.
    let top = MAX_TIME - 1;
    let pts = vec![(MIN_TIME, "a", 1.0), (0, "a", 2.0), (top, "a", 3.0)];
    let h = harness(&pts, QueryLimits::default());
    // Evaluated in Rust over the points: the engine leaves the `mode` undecided.
    *h.engine.agg_rows.lock() = vec![vec![Value::Integer(0), Value::Null, Value::Boolean(true)]];
    let q = format!(
        "SELECT mode(v) FROM m WHERE time >= {MIN_TIME} AND time <= {top} \
         GROUP BY time(1w, -5000w) fill(none)"
    );
    let rows = h.rows(&q).await;
    let times: Vec<i64> = rows
        .iter()
        .map(|r| match r[0] {
            Value::Time(t) => t,
            ref v => panic!("{v:?}"),
        })
        .collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    // The first window reaches below i64::MIN: it is cut there, not wrapped.
    assert_eq!(times[0], i64::MIN);
    assert!(times[1] <= 0 && times[2] <= MAX_TIME && times[2] > times[1]);
    // fill(null) materialises every week of the range (about 30,500 rows).
    let q = q.replace("fill(none)", "fill(null)");
    let rows = h.rows(&q).await;
    let week: i128 = 7 * 24 * 3600 * 1_000_000_000;
    let span = (i128::from(MAX_TIME) - i128::from(MIN_TIME)) / week;
    assert!((rows.len() as i128 - span).abs() <= 2, "{}", rows.len());
}

#[tokio::test]
async fn a_point_at_the_lowest_valid_time_groups_without_a_lower_bound() {
    let pts = vec![(MIN_TIME, "a", 1.0), (NOW - S, "a", 2.0)];
    let h = harness(&pts, QueryLimits::default());
    let rows = h
        .rows("SELECT max(v), integral(v) FROM m GROUP BY time(1w) fill(none)")
        .await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0][0], Value::Time(i64::MIN));
}

#[tokio::test]
async fn now_arithmetic_with_huge_durations_is_an_error() {
    let h = harness(&few(), QueryLimits::default());
    let e = h
        .error("SELECT v FROM m WHERE time > now() + 9223372036854775807ns")
        .await;
    assert!(e.ends_with("overflows time literal"), "{e}");
    // InfluxDB 1.6 names the date the arithmetic reached.
    let e = h
        .error("SELECT v FROM m WHERE time > now() - 9223372036854775807ns - 9000000000000000000ns")
        .await;
    assert!(
        e.starts_with("time 1") && e.ends_with("underflows time literal"),
        "{e}"
    );
}

#[tokio::test]
async fn moving_average_windows_from_the_query_do_not_size_anything() {
    let h = harness(&few(), QueryLimits::default());
    let rows = h
        .rows("SELECT moving_average(v, 9223372036854775807) FROM m")
        .await;
    assert!(rows.is_empty());
    // Over an aggregate, the window is one bucket of the grid more, whatever `n` says
    // (InfluxDB 1.6.7 panics here: "makeslice: cap out of range").
    let rows = h
        .rows(
            "SELECT moving_average(mean(v), 9223372036854775807) FROM m \
             WHERE time >= 0 AND time < 60s GROUP BY time(10s)",
        )
        .await;
    assert!(rows.is_empty());
}

#[tokio::test]
async fn selectors_with_huge_counts_allocate_by_the_data() {
    let h = harness(&few(), QueryLimits::default());
    assert_eq!(
        h.rows("SELECT sample(v, 9223372036854775807) FROM m")
            .await
            .len(),
        3
    );
    assert_eq!(h.rows("SELECT top(v, 2000000000) FROM m").await.len(), 3);
    assert_eq!(
        h.rows("SELECT bottom(v, host, 2000000000) FROM m")
            .await
            .len(),
        1
    );
    assert_eq!(h.rows("SELECT distinct(v) FROM m").await.len(), 3);
    assert_eq!(
        h.rows("SELECT chande_momentum_oscillator(v, 9223372036854775807) FROM m")
            .await
            .len(),
        0
    );
    assert_eq!(
        h.rows("SELECT kaufmans_adaptive_moving_average(v, 9223372036854775807) FROM m")
            .await
            .len(),
        0
    );
    assert_eq!(
        h.rows("SELECT v FROM m LIMIT 9223372036854775807 OFFSET 9223372036854775807")
            .await
            .len(),
        0
    );
    assert_eq!(
        h.rows("SELECT v FROM m SLIMIT 9223372036854775807 SOFFSET 9223372036854775807")
            .await
            .len(),
        0
    );
}

#[tokio::test]
async fn holt_winters_forecasts_count_against_the_bucket_limit() {
    let h = harness(&few(), QueryLimits::default());
    let e = h
        .error(
            "SELECT holt_winters(max(v), 1000000000, 0) FROM m \
             WHERE time >= 0 AND time < 30s GROUP BY time(10s)",
        )
        .await;
    assert_eq!(e, "max-select-buckets limit exceeded: (1000000003/1000000)");
    let rows = h
        .rows(
            "SELECT holt_winters(max(v), 3, 0) FROM m \
             WHERE time >= 0 AND time < 30s GROUP BY time(10s)",
        )
        .await;
    assert_eq!(rows.len(), 3);
    // Over raw points the forecast grid would be a nanosecond wide.
    assert_eq!(
        h.error("SELECT holt_winters(v, 10, 0) FROM m").await,
        "must use aggregate function with holt_winters"
    );
    assert_eq!(
        h.error(
            "SELECT holt_winters(max(v), 0, 0) FROM m WHERE time >= 0 AND time < 30s \
             GROUP BY time(10s)"
        )
        .await,
        "second arg to holt_winters must be greater than 0, got 0"
    );
}

#[tokio::test]
async fn forecasts_past_the_largest_time_are_an_error() {
    let pts = vec![(MAX_TIME - 20 * S, "a", 1.0), (MAX_TIME - 10 * S, "a", 2.0)];
    let h = harness(&pts, QueryLimits::default());
    let q = format!(
        "SELECT holt_winters(max(v), 5, 0) FROM m WHERE time >= {} AND time <= {} \
         GROUP BY time(10s)",
        MAX_TIME - 30 * S,
        MAX_TIME - 1
    );
    let e = h.error(&q).await;
    assert!(e.contains("largest representable time"), "{e}");
}

#[tokio::test]
async fn elapsed_between_the_extreme_times_does_not_wrap() {
    let pts = vec![(MIN_TIME, "a", 1.0), (MAX_TIME, "a", 2.0)];
    let h = harness(&pts, QueryLimits::default());
    let e = h.error("SELECT elapsed(v, 1ns) FROM m").await;
    assert!(e.contains("does not fit"), "{e}");
    let rows = h.rows("SELECT elapsed(v, 1h) FROM m").await;
    let want = (i128::from(MAX_TIME) - i128::from(MIN_TIME)) / 3_600_000_000_000;
    assert_eq!(rows[0][1], Value::Integer(want as i64));
    let rows = h.rows("SELECT derivative(v, 1s) FROM m").await;
    assert!(matches!(rows[0][1], Value::Float(f) if f > 0.0), "{rows:?}");
}

#[tokio::test]
async fn max_select_point_caps_the_storage_read() {
    let limits = QueryLimits {
        max_select_point: 2,
        ..QueryLimits::unlimited()
    };
    let h = harness(&few(), limits);
    assert_eq!(
        h.error("SELECT v FROM m").await,
        "max-select-point limit exceeed: (3/2)"
    );
    let sql = h.engine.queries.lock().last().cloned().unwrap();
    assert!(sql.ends_with(" LIMIT 3"), "{sql}");
    // At the limit, nothing changes.
    let limits = QueryLimits {
        max_select_point: 3,
        ..QueryLimits::unlimited()
    };
    let h = harness(&few(), limits);
    assert_eq!(h.rows("SELECT v FROM m").await.len(), 3);
}

#[tokio::test]
async fn max_select_series_counts_series_read_and_indexed() {
    let pts = vec![(0, "a", 1.0), (0, "b", 1.0), (0, "c", 1.0), (0, "d", 1.0)];
    let limits = QueryLimits {
        max_select_series: 3,
        ..QueryLimits::unlimited()
    };
    let h = harness(&pts, limits);
    // InfluxDB's own server test: four series, limit three.
    assert_eq!(
        h.error("SELECT count(v) FROM m").await,
        "max-select-series limit exceeded: (4/3)"
    );
    assert_eq!(
        h.error("SELECT v FROM m").await,
        "max-select-series limit exceeded: (4/3)"
    );
}

#[tokio::test]
async fn max_select_rows_bounds_points_and_generated_buckets() {
    let limits = QueryLimits {
        max_select_rows: 2,
        ..QueryLimits::unlimited()
    };
    let h = harness(&few(), limits);
    assert_eq!(
        h.error("SELECT v FROM m").await,
        "max-select-rows limit exceeded: (3/2)"
    );
    let limits = QueryLimits {
        max_select_rows: 10,
        ..QueryLimits::unlimited()
    };
    let h = harness(&few(), limits);
    *h.engine.agg_rows.lock() = vec![vec![Value::Integer(0), Value::Float(1.0)]];
    assert_eq!(
        h.error("SELECT mean(v) FROM m WHERE time >= 0 AND time < 11s GROUP BY time(1s) fill(0)")
            .await,
        "max-select-rows limit exceeded: (11/10)"
    );
}

#[tokio::test]
async fn a_normal_grouped_query_still_answers() {
    let h = harness(&few(), QueryLimits::default());
    let rows = h
        .rows("SELECT distinct(v) FROM m WHERE time >= 0 AND time < 30s GROUP BY time(10s)")
        .await;
    assert_eq!(
        rows,
        vec![
            vec![Value::Time(0), Value::Float(1.0)],
            vec![Value::Time(10 * S), Value::Float(2.0)],
            vec![Value::Time(20 * S), Value::Float(4.0)],
        ]
    );
}

/// A selector's bare columns under `GROUP BY time` come from the point it selects in each
/// window; empty windows are filled as InfluxDB fills auxiliary values.
#[tokio::test]
async fn a_selectors_tags_come_from_its_point_in_each_window() {
    let h = harness(&few(), QueryLimits::default());
    let q = |fill: &str| {
        format!(
            "SELECT max(v), host FROM m WHERE time >= 0 AND time < 40s GROUP BY time(10s){fill}"
        )
    };
    let row = |t: i64, v: f64, host: Value| vec![Value::Time(t * S), Value::Float(v), host];
    let a = || Value::String("a".into());
    let selected = vec![row(0, 1.0, a()), row(10, 2.0, a()), row(20, 4.0, a())];
    let with = |last: Vec<Value>| {
        let mut rows = selected.clone();
        rows.push(last);
        rows
    };
    assert_eq!(
        h.rows(&q("")).await,
        with(vec![Value::Time(30 * S), Value::Null, Value::Null])
    );
    // A number fills the tag as it is; `previous` repeats the last selection's.
    assert_eq!(
        h.rows(&q(" fill(0)")).await,
        with(row(30, 0.0, Value::Integer(0)))
    );
    assert_eq!(h.rows(&q(" fill(previous)")).await, with(row(30, 4.0, a())));
    assert_eq!(h.rows(&q(" fill(none)")).await, selected);
}

/// `mode` is computed by the engine unless it says a row is undecided (several values
/// equally frequent): then the points are read and InfluxDB's order rule picks.
#[tokio::test]
async fn mode_comes_from_the_engine_unless_the_points_order_decides() {
    let pts = vec![
        (0, "a", 5.0),
        (10 * S, "a", 1.0),
        (20 * S, "a", 1.0),
        (30 * S, "a", 5.0),
    ];
    let q = "SELECT mode(v) FROM m WHERE time >= 0 AND time < 1m";
    let h = harness(&pts, QueryLimits::default());
    // The engine's row: bucket, mode, undecided.
    let engine_row = |mode: f64, undecided: bool| {
        vec![vec![
            Value::Integer(0),
            Value::Float(mode),
            Value::Boolean(undecided),
        ]]
    };
    let answer = |mode: f64| vec![vec![Value::Time(0), Value::Float(mode)]];
    *h.engine.agg_rows.lock() = engine_row(7.0, false);
    assert_eq!(h.rows(q).await, answer(7.0));
    assert_eq!(h.engine.queries.lock().len(), 1, "the aggregate alone");
    // Undecided: 5, 1, 1, 5 in time order, InfluxDB picks 5 (the engine's smallest is 1).
    *h.engine.agg_rows.lock() = engine_row(1.0, true);
    assert_eq!(h.rows(q).await, answer(5.0));
    let queries = h.engine.queries.lock();
    assert_eq!(
        queries.len(),
        3,
        "the aggregate, then the points: {queries:?}"
    );
    assert!(queries[1].contains("hb_undecided") && !queries[2].contains("hb_bucket"));
}

/// Exact cardinalities count what the default retention policy stores (InfluxDB runs them
/// as SELECTs over its shards); the estimate counts the whole index.
#[tokio::test]
async fn exact_cardinalities_count_the_default_policy_only() {
    let h = harness_indexing(
        &[(0, "a", 1.0), (S, "b", 2.0)],
        &["c"],
        QueryLimits::unlimited(),
    );
    let count = |n: i64| vec![vec![Value::Integer(n)]];
    assert_eq!(h.rows("SHOW SERIES CARDINALITY").await, count(3));
    assert_eq!(h.rows("SHOW SERIES EXACT CARDINALITY").await, count(2));
    assert_eq!(
        h.rows("SHOW SERIES EXACT CARDINALITY FROM m WHERE host = 'b'")
            .await,
        count(1)
    );
    assert_eq!(
        h.rows("SHOW TAG VALUES EXACT CARDINALITY WITH KEY = host")
            .await,
        count(2)
    );
    assert_eq!(h.rows("SHOW MEASUREMENT EXACT CARDINALITY").await, count(1));
    assert!(h
        .rows("SHOW MEASUREMENT EXACT CARDINALITY WHERE host = 'c'")
        .await
        .is_empty());
    assert_eq!(h.rows("SHOW TAG KEY EXACT CARDINALITY").await, count(1));
    assert_eq!(h.rows("SHOW FIELD KEY EXACT CARDINALITY").await, count(1));
}

/// Cluster mode: `DELETE` and `DROP SERIES` are proposed as `MetaCommand::DeleteData`
/// with the bounds resolved here, and a member replays the command's statement.
#[tokio::test]
async fn deletes_are_proposed_with_resolved_bounds_and_replay_on_a_member() {
    use hyperbyte_domain::MetaCommand;
    let meta = Arc::new(MemMeta::default());
    meta.add_db("db", &[("autogen", 0, 7 * 24 * 3600 * S)]);
    for host in ["a", "b", "c"] {
        meta.add_series("db", "m", &[("host", host)]);
    }
    let storage = Arc::new(NullStorage);
    let flush = Arc::new(FlushService::new(
        Arc::new(EmptyWal),
        meta.clone(),
        storage.clone(),
        FlushConfig::default(),
    ));
    let service = QueryService::new(
        meta.clone(),
        Arc::new(FakeEngine::default()),
        storage,
        flush,
        ManualClock::new(NOW),
    );
    let h = Harness {
        service,
        engine: Arc::new(FakeEngine::default()),
        meta: meta.clone(),
    };
    let deletes = || -> Vec<(String, Option<i64>, Option<i64>, bool)> {
        meta.applied
            .lock()
            .iter()
            .filter_map(|c| match c {
                MetaCommand::DeleteData {
                    database,
                    statement,
                    min,
                    max,
                    drop_series,
                } => {
                    assert_eq!(database, "db");
                    Some((statement.clone(), *min, *max, *drop_series))
                }
                _ => None,
            })
            .collect()
    };
    let r = h
        .run("DELETE FROM m WHERE host = 'a' AND time < now() - 1h")
        .await;
    assert!(r.error.is_none(), "{r:?}");
    let d = deletes();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].0, "DELETE FROM m WHERE host = 'a'");
    assert_eq!(d[0].1, None);
    assert!(d[0].2.is_some_and(|max| max < NOW - 3600 * S + 1), "{d:?}");
    assert!(!d[0].3);
    let r = h.run("DROP SERIES FROM m WHERE host = 'b'").await;
    assert!(r.error.is_none(), "{r:?}");
    assert_eq!(
        deletes()[1],
        (
            "DELETE FROM m WHERE host = 'b'".to_string(),
            None,
            None,
            true
        )
    );
    // A member replays what it receives: the statement parses back; a delete of
    // everything (no FROM, no tag condition) travels as `FROM /.*/`.
    let r = h.run("DELETE WHERE time < now()").await;
    assert!(r.error.is_none(), "{r:?}");
    assert_eq!(deletes()[2].0, "DELETE FROM /.*/");
    for (statement, min, max, drop_series) in deletes() {
        h.service
            .apply_replicated_delete("db", &statement, (min, max), drop_series)
            .await
            .unwrap();
    }
    assert!(h
        .service
        .apply_replicated_delete("db", "SHOW DATABASES", (None, None), false)
        .await
        .is_err());
    // Untimed replays drop the series they match from this member's index.
    h.service
        .apply_replicated_delete("db", "DELETE FROM /.*/", (None, None), false)
        .await
        .unwrap();
    assert!(meta.series.lock().is_empty());
}

#[tokio::test]
async fn a_window_of_one_point_has_no_stddev_and_is_not_filled() {
    let h = harness(
        &[(0, "a", 1.0), (10 * S, "a", 2.0), (15 * S, "a", 4.0)],
        QueryLimits::default(),
    );
    // (Through a subquery: the Rust evaluation; the engine's is the conformance corpus'.)
    let q = "SELECT stddev(v) FROM (SELECT v FROM m) WHERE time >= 0 AND time < 30s \
             GROUP BY time(10s)";
    let sd = Value::Float(std::f64::consts::SQRT_2);
    assert_eq!(
        h.rows(&format!("{q} fill(0)")).await,
        vec![
            vec![Value::Time(0), Value::Null],
            vec![Value::Time(10 * S), sd.clone()],
            vec![Value::Time(20 * S), Value::Float(0.0)],
        ]
    );
    assert_eq!(
        h.rows(&format!("{q} fill(none)")).await,
        vec![
            vec![Value::Time(0), Value::Null],
            vec![Value::Time(10 * S), sd],
        ]
    );
}

/// A wildcard asks storage for its columns only for a field the metadata does not know in
/// the policy: asking makes the statement wait for the flush (read-your-writes for
/// storage), which a read the recent-data tier answers must not.
#[tokio::test]
async fn a_wildcard_asks_storage_for_columns_only_for_fields_the_metadata_does_not_know() {
    let h = harness(&few(), QueryLimits::default());
    assert_eq!(h.rows("SELECT * FROM m").await.len(), 3);
    assert_eq!(
        *h.engine.columns_asked.lock(),
        1,
        "v is not known in autogen"
    );
    h.meta
        .fields_in_rp
        .lock()
        .push(("db".into(), "m".into(), "v".into(), "autogen".into()));
    assert_eq!(h.rows("SELECT * FROM m").await.len(), 3);
    assert_eq!(*h.engine.columns_asked.lock(), 1, "asked again");
}
