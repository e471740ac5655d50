//! SELECT execution.
//!
//! 1. Resolve sources (databases, retention policies, measurement regexes) and expand
//!    wildcards and regex field lists against the measurement schemas.
//! 2. Translate what storage can do into ClickHouse SQL (`timeseriesql::translate`): the
//!    time range, the `WHERE` condition, and the columns needed. Tables are read with
//!    `FINAL` (overwritten points merge field by field) only where storage says a point
//!    may have been written twice (`QueryPort::must_merge`).
//! 3. Group the rows into series (one per measurement and `GROUP BY` tag set) and compute
//!    every output column as a timeline: raw values, per-window aggregates and selectors
//!    (`functions::aggregate`), fill (`functions::fill`), then math and transformations.
//! 4. Join the columns by time into rows, apply ORDER/LIMIT/OFFSET/SLIMIT/SOFFSET.

use super::limits::Budget;
use super::{QueryRequest, QueryService, StatementError, StmtResult};
use crate::functions::{self, aggregate, math, transform, Fill as FnFill, Row};
use hyperbyte_domain::naming;
use hyperbyte_domain::query::{Series, StatementResult, Value};
use hyperbyte_domain::{FieldType, MeasurementSchema};
use hyperbyte_ports::RowSet;
use hyperbyte_timeseriesql::ast::{
    BinaryOp, Expr, Fill, MeasurementName, SelectStatement, Source, VarType, WildcardType,
};
use hyperbyte_timeseriesql::sql::{
    AggregateRead, Bucket, Condition, Pushdown, RawRead, RowFilter, TableRef,
};
use hyperbyte_timeseriesql::translate::ColumnRef;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const AGGREGATES: &[&str] = &[
    "count", "sum", "mean", "median", "mode", "spread", "stddev", "integral", "distinct",
];
const SELECTORS: &[&str] = &[
    "first",
    "last",
    "min",
    "max",
    "percentile",
    "sample",
    "top",
    "bottom",
];
const TRANSFORMS: &[&str] = &[
    "derivative",
    "non_negative_derivative",
    "difference",
    "non_negative_difference",
    "moving_average",
    "cumulative_sum",
    "elapsed",
    "holt_winters",
    "holt_winters_with_fit",
    "exponential_moving_average",
    "double_exponential_moving_average",
    "triple_exponential_moving_average",
    "relative_strength_index",
    "triple_exponential_derivative",
    "chande_momentum_oscillator",
    "kaufmans_efficiency_ratio",
    "kaufmans_adaptive_moving_average",
];

/// Above this many rows, a pushdown aggregate runs in ClickHouse rather than over the
/// recent-data tier's columns (both scan; past this the engine's parallel scan wins).
const HOT_AGGREGATE_LIMIT: usize = 2_000_000;

fn is_agg_name(n: &str) -> bool {
    AGGREGATES.contains(&n) || SELECTORS.contains(&n)
}

fn err(msg: impl Into<String>) -> StatementError {
    StatementError::new(msg)
}

/// One resolved source table.
#[derive(Debug, Clone)]
struct Src {
    db: String,
    rp: String,
    measurement: String,
    schema: MeasurementSchema,
    /// Points of a subquery result standing in for a table.
    rows: Option<std::sync::Arc<Vec<Point>>>,
}

/// One point read from storage.
#[derive(Debug, Clone)]
struct Point {
    time: i64,
    /// Canonical series key (orders series as InfluxDB's index does).
    key: Arc<str>,
    /// Shared by every point of a series.
    tags: Arc<BTreeMap<String, String>>,
    fields: BTreeMap<String, Value>,
}

/// An output column.
#[derive(Debug, Clone)]
struct OutCol {
    name: String,
    expr: Expr,
}

/// The column name InfluxDB derives for an expression.
fn expr_name(e: &Expr) -> String {
    match e {
        Expr::VarRef { name, .. } => name.clone(),
        Expr::Call { name, .. } => name.clone(),
        Expr::Paren(inner) => expr_name(inner),
        Expr::Binary { lhs, rhs, .. } => {
            let l = expr_name(lhs);
            let r = expr_name(rhs);
            match (l.is_empty(), r.is_empty()) {
                (true, _) => r,
                (_, true) => l,
                _ => format!("{l}_{r}"),
            }
        }
        Expr::Wildcard(_) => "*".into(),
        _ => String::new(),
    }
}

fn dedupe_names(cols: &mut [OutCol]) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let existing: BTreeSet<String> = cols.iter().map(|c| c.name.clone()).collect();
    for c in cols.iter_mut() {
        let n = seen.entry(c.name.clone()).or_insert(0);
        if *n > 0 {
            let mut k = *n;
            let mut candidate = format!("{}_{k}", c.name);
            while existing.contains(&candidate) {
                k += 1;
                candidate = format!("{}_{k}", c.name);
            }
            *n = k + 1;
            c.name = candidate;
        } else {
            *n = 1;
        }
    }
}

fn contains_agg(e: &Expr) -> bool {
    e.any(&mut |x| matches!(x, Expr::Call { name, .. } if is_agg_name(name)))
}

/// Converts a Value for a `::type` cast.
fn cast(v: Value, t: Option<VarType>) -> Value {
    match (t, v) {
        (None | Some(VarType::Field) | Some(VarType::Tag), v) => v,
        (Some(VarType::Integer), Value::Float(f)) => Value::Integer(f as i64),
        (Some(VarType::Integer), v @ Value::Integer(_)) => v,
        (Some(VarType::Integer), Value::Unsigned(u)) => Value::Integer(u as i64),
        (Some(VarType::Float), Value::Integer(i)) => Value::Float(i as f64),
        (Some(VarType::Float), Value::Unsigned(u)) => Value::Float(u as f64),
        (Some(VarType::Float), v @ Value::Float(_)) => v,
        (Some(VarType::Unsigned), Value::Integer(i)) => Value::Unsigned(i as u64),
        (Some(VarType::Unsigned), Value::Float(f)) => Value::Unsigned(f as u64),
        (Some(VarType::Unsigned), v @ Value::Unsigned(_)) => v,
        (Some(VarType::String), v @ Value::String(_)) => v,
        (Some(VarType::Boolean), v @ Value::Boolean(_)) => v,
        _ => Value::Null,
    }
}

fn binary_value(op: BinaryOp, a: &Value, b: &Value) -> Value {
    use Value::*;
    match (a, b) {
        (Null, _) | (_, Null) => Null,
        (Integer(x), Integer(y)) => match op {
            BinaryOp::Add => Integer(x.wrapping_add(*y)),
            BinaryOp::Sub => Integer(x.wrapping_sub(*y)),
            BinaryOp::Mul => Integer(x.wrapping_mul(*y)),
            BinaryOp::Div => {
                if *y == 0 {
                    Float(0.0)
                } else {
                    Float(*x as f64 / *y as f64)
                }
            }
            BinaryOp::Mod => {
                if *y == 0 {
                    Integer(0)
                } else {
                    Integer(x.wrapping_rem(*y))
                }
            }
            BinaryOp::BitAnd => Integer(x & y),
            BinaryOp::BitOr => Integer(x | y),
            BinaryOp::BitXor => Integer(x ^ y),
            _ => Null,
        },
        (Boolean(x), Boolean(y)) => match op {
            BinaryOp::BitAnd => Boolean(*x && *y),
            BinaryOp::BitOr => Boolean(*x || *y),
            BinaryOp::BitXor => Boolean(x != y),
            _ => Null,
        },
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) if !matches!(a, Time(_)) && !matches!(b, Time(_)) => match op {
                BinaryOp::Add => Float(x + y),
                BinaryOp::Sub => Float(x - y),
                BinaryOp::Mul => Float(x * y),
                BinaryOp::Div => Float(if y == 0.0 { 0.0 } else { x / y }),
                // InfluxDB: a float remainder by zero is no value.
                BinaryOp::Mod if y == 0.0 => Null,
                BinaryOp::Mod => Float(x % y),
                _ => Null,
            },
            _ => Null,
        },
    }
}

fn literal_value(e: &Expr) -> Option<Value> {
    Some(match e {
        Expr::Integer(i) => Value::Integer(*i),
        Expr::Unsigned(u) => Value::Unsigned(*u),
        Expr::Float(f) => Value::Float(*f),
        Expr::String(s) => Value::String(s.clone()),
        Expr::Boolean(b) => Value::Boolean(*b),
        Expr::Duration(d) => Value::Integer(*d),
        _ => return None,
    })
}

fn int_arg(args: &[Expr], i: usize) -> Option<i64> {
    match args.get(i)? {
        Expr::Integer(n) => Some(*n),
        Expr::Duration(d) => Some(*d),
        _ => None,
    }
}

fn float_arg(args: &[Expr], i: usize) -> Option<f64> {
    match args.get(i)? {
        Expr::Integer(n) => Some(*n as f64),
        Expr::Float(f) => Some(*f),
        _ => None,
    }
}

fn to_fn_fill(f: &Fill) -> FnFill {
    match f {
        Fill::Null => FnFill::Null,
        Fill::None => FnFill::None,
        Fill::Previous => FnFill::Previous,
        Fill::Linear => FnFill::Linear,
        Fill::Integer(i) => FnFill::Number(Value::Integer(*i)),
        Fill::Float(x) => FnFill::Number(Value::Float(*x)),
    }
}

fn fn_err(e: functions::FunctionError) -> StatementError {
    err(e.to_string())
}

/// Execution context shared by the columns of one series.
struct SeriesCtx<'a> {
    points: &'a [Point],
    /// Window grid and the list of bucket start times (aggregate queries).
    window: Option<transform::Window>,
    buckets: Vec<i64>,
    /// Query end (inclusive).
    end: i64,
    /// Time printed for aggregates without `GROUP BY time`.
    agg_time: i64,
    fill: &'a Fill,
    descending: bool,
    budget: &'a Budget,
}

impl SeriesCtx<'_> {
    /// Raw timeline of a field or tag.
    fn raw_timeline(&self, name: &str, t: Option<VarType>) -> Vec<Row> {
        self.points
            .iter()
            .map(|p| {
                let v = p
                    .fields
                    .get(name)
                    .cloned()
                    .or_else(|| p.tags.get(name).map(|s| Value::String(s.clone())))
                    .unwrap_or(Value::Null);
                (p.time, cast(v, t))
            })
            .collect()
    }

    /// Points of a bucket (indices), by bucket start.
    fn bucket_rows(&self, rows: &[Row]) -> Vec<(i64, Vec<Row>)> {
        match self.window {
            None => vec![(
                self.agg_time,
                rows.iter().filter(|(_, v)| !v.is_null()).cloned().collect(),
            )],
            Some(w) => {
                let mut map: BTreeMap<i64, Vec<Row>> =
                    self.buckets.iter().map(|b| (*b, Vec::new())).collect();
                for (t, v) in rows {
                    if v.is_null() {
                        continue;
                    }
                    let (b, _) = w.bounds(*t);
                    if let Some(list) = map.get_mut(&b) {
                        list.push((*t, v.clone()));
                    }
                }
                map.into_iter().collect()
            }
        }
    }
}

/// The (function, field) of every column when the whole query can be aggregated inside
/// ClickHouse: each column is `agg(field)` with a [`Pushdown`] aggregate, and no
/// column is a lone selector whose row time InfluxDB would print.
///
/// With `GROUP BY time(...)` a lone `min` or `max` prints its window's start, and ties
/// between series cannot change the value it selects, so ClickHouse computes it too.
fn pushdown_columns(
    cols: &[OutCol],
    fields: &BTreeMap<String, FieldType>,
    grouped_by_time: bool,
) -> Option<Vec<(String, String, FieldType)>> {
    let mut out = Vec::new();
    for c in cols {
        let Expr::Call { name, args } = &c.expr else {
            return None;
        };
        if args.len() != 1 {
            return None;
        }
        let Expr::VarRef {
            name: field,
            data_type: None | Some(VarType::Field),
        } = &args[0]
        else {
            return None;
        };
        let t = *fields.get(field)?;
        Pushdown::of(name, t)?;
        out.push((name.clone(), field.clone(), t));
    }
    // A single selector prints the selected point's time: keep that on the Rust path.
    if let [(name, _, _)] = out.as_slice() {
        let windowed_extreme = grouped_by_time && matches!(name.as_str(), "min" | "max");
        if SELECTORS.contains(&name.as_str()) && !windowed_extreme {
            return None;
        }
    }
    Some(out)
}

impl QueryService {
    /// Runs an aggregate query inside ClickHouse: `GROUP BY` tags and time buckets there,
    /// then fills the bucket grid in Rust. Returns rows per group key.
    #[allow(clippy::too_many_arguments)]
    async fn pushdown_aggregate(
        &self,
        src: &Src,
        cols: &[OutCol],
        all_fields: &BTreeMap<String, FieldType>,
        group_tags: &[String],
        cond: Option<&Expr>,
        interval: Option<(i64, i64)>,
        range: (Option<i64>, Option<i64>),
        now: i64,
        fill: &Fill,
        budget: &Budget,
    ) -> Result<Vec<(Vec<String>, Vec<Vec<Value>>)>, StatementError> {
        let (min, max) = range;
        let Some(specs) = pushdown_columns(cols, all_fields, interval.is_some()) else {
            return Ok(Vec::new());
        };
        let hot_rows = self.hot_aggregate(src, &specs, group_tags, cond, interval, (min, max));
        let rows = match hot_rows {
            Some(rows) => rows,
            None => {
                let existing = self.table_columns(src).await?;
                if existing.is_empty() {
                    return Ok(Vec::new());
                }
                let read =
                    self.aggregate_read(src, &existing, &specs, group_tags, cond, interval, range);
                if read.filter.any_field.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = read.to_sql().map_err(|e| err(e.to_string()))?;
                let recent =
                    match self.expected_last_groups(src, &specs, group_tags, cond, interval) {
                        Some(expected) => {
                            self.last_from_recent(src, max, min, expected, group_tags.len(), &read)
                                .await?
                        }
                        None => None,
                    };
                let result = match recent {
                    Some(r) => r,
                    None => match self.engine.query(&sql).await {
                        Ok(r) => r,
                        Err(e) if e.is_missing_table() => return Ok(Vec::new()),
                        Err(e) => return Err(e.into()),
                    },
                };
                result.rows
            }
        };
        // key -> bucket -> values
        let n_tags = group_tags.len();
        let mut groups: BTreeMap<Vec<String>, BTreeMap<i64, Vec<Value>>> = BTreeMap::new();
        for row in rows {
            let mut it = row.into_iter();
            let key: Vec<String> = (0..n_tags)
                .map(|_| match it.next() {
                    Some(Value::String(s)) => s,
                    _ => String::new(),
                })
                .collect();
            let b = match it.next() {
                Some(Value::Integer(b)) => b,
                Some(Value::Unsigned(b)) => b as i64,
                Some(Value::Time(b)) => b,
                _ => 0,
            };
            let vals: Vec<Value> = it
                .zip(&specs)
                .map(|(v, (func, _, t))| normalise_agg(func, *t, v))
                .collect();
            groups.entry(key).or_default().insert(b, vals);
        }
        let mut out = Vec::with_capacity(groups.len());
        for (key, buckets) in groups {
            let rows = match interval {
                None => {
                    let vals = buckets.into_values().next().unwrap_or_default();
                    // An aggregate without GROUP BY over no rows still yields a row of nulls.
                    if vals.iter().all(Value::is_null) {
                        continue;
                    }
                    let mut row = vec![Value::Time(min.unwrap_or(0))];
                    row.extend(vals);
                    vec![row]
                }
                Some((every, offset)) => {
                    let w = transform::Window { every, offset };
                    let first = buckets.keys().next().copied().unwrap_or(0);
                    let (start, end, count) = w.grid(min.unwrap_or(first), max.unwrap_or(now), 0);
                    budget.check_buckets(count)?;
                    budget.charge_rows(count)?;
                    let times: Vec<i64> = w.starts(start, end).collect();
                    let mut timelines: Vec<Timeline> = Vec::with_capacity(specs.len());
                    for (i, (func, _, _)) in specs.iter().enumerate() {
                        let tl: Vec<(i64, Option<Value>)> = times
                            .iter()
                            .map(|t| {
                                let v = buckets.get(t).and_then(|v| v.get(i)).cloned();
                                (*t, v.filter(|x| !x.is_null()))
                            })
                            .collect();
                        let mode = to_fn_fill(fill);
                        let mode = if func == "count" {
                            mode.count_default()
                        } else {
                            mode
                        };
                        timelines.push(functions::fill::fill(&tl, &mode));
                    }
                    join_timelines(&timelines, false)
                }
            };
            out.push((key, rows));
        }
        Ok(out)
    }
}

/// One output series from its rows in time order: `ORDER BY time DESC`, then
/// `OFFSET`/`LIMIT` (a series left without rows is dropped).
fn finish_series(
    stmt: &SelectStatement,
    measurement: &str,
    tags: BTreeMap<String, String>,
    cols: &[OutCol],
    mut rows: Vec<Vec<Value>>,
) -> Option<Series> {
    if stmt.is_descending() {
        rows.reverse();
    }
    let off = stmt.offset.unwrap_or(0) as usize;
    let rows: Vec<Vec<Value>> = match stmt.limit {
        Some(l) if l > 0 => rows.into_iter().skip(off).take(l as usize).collect(),
        _ => rows.into_iter().skip(off).collect(),
    };
    if rows.is_empty() {
        return None;
    }
    let mut columns = vec!["time".to_string()];
    columns.extend(cols.iter().map(|c| c.name.clone()));
    Some(Series {
        name: Some(measurement.to_string()),
        tags,
        columns,
        values: rows,
        partial: false,
    })
}

/// The `WHERE` condition of a storage read with its names resolved against the table's
/// columns (`has`): a field the table has, else a tag it has, else missing.
fn condition_of(
    schema: &MeasurementSchema,
    has: &dyn Fn(&str) -> bool,
    cond: Option<&Expr>,
) -> Option<Condition> {
    let c = cond?;
    let mut columns = BTreeMap::new();
    c.walk(&mut |x| {
        if let Expr::VarRef { name, .. } = x {
            let fcol = naming::field_column(name);
            let tcol = naming::tag_column(name);
            let r = match schema.field_type(name) {
                Some(t) if has(&fcol) => ColumnRef::Field(fcol, t),
                _ if schema.is_tag(name) && has(&tcol) => ColumnRef::Tag(tcol),
                _ => ColumnRef::Missing,
            };
            columns.insert(name.clone(), r);
        }
    });
    Some(Condition {
        expr: c.clone(),
        columns,
    })
}

/// Converts ClickHouse's aggregate result types to InfluxDB's (`count` is an integer,
/// `mean` a float, the others keep the field's type; an empty aggregate is null).
fn normalise_agg(func: &str, t: FieldType, v: Value) -> Value {
    match (func, v) {
        (_, Value::Null) => Value::Null,
        ("count", Value::Unsigned(0)) | ("count", Value::Integer(0)) => Value::Null,
        ("count", Value::Unsigned(n)) => Value::Integer(n as i64),
        ("mean", v) => v.as_f64().map(Value::Float).unwrap_or(Value::Null),
        (_, Value::Unsigned(u)) if t == FieldType::Integer => Value::Integer(u as i64),
        (_, Value::Integer(i)) if t == FieldType::Unsigned => Value::Unsigned(i as u64),
        (_, Value::Integer(i)) if t == FieldType::Float => Value::Float(i as f64),
        (_, v) => v,
    }
}

/// Why reading a source failed.
enum ReadError {
    Engine(hyperbyte_ports::QueryError),
    Statement(StatementError),
}

/// Orders the points of one output series the way InfluxDB's sorted-merge iterator emits
/// them: one input per series (in series-key order) merged through Go's binary heap by
/// time. Points of different series with equal times come out in the heap's order, which
/// is deterministic but not sorted; clients and the conformance corpus see that order.
fn go_heap_merge(points: Vec<Point>) -> Vec<Point> {
    let mut per: BTreeMap<Arc<str>, Vec<Point>> = BTreeMap::new();
    for p in points {
        per.entry(p.key.clone()).or_default().push(p);
    }
    if per.len() <= 1 {
        return per.into_values().next().unwrap_or_default();
    }
    // Each heap item: (series index, position of its current point).
    let series: Vec<Vec<Point>> = per.into_values().collect();
    let total: usize = series.iter().map(Vec::len).sum();
    let mut heap: Vec<(usize, usize)> = (0..series.len()).map(|i| (i, 0)).collect();
    let time = |item: &(usize, usize)| series[item.0][item.1].time;
    fn down(h: &mut [(usize, usize)], i0: usize, n: usize, t: &dyn Fn(&(usize, usize)) -> i64) {
        let mut i = i0;
        loop {
            let j1 = 2 * i + 1;
            if j1 >= n {
                break;
            }
            let mut j = j1;
            let j2 = j1 + 1;
            if j2 < n && t(&h[j2]) < t(&h[j1]) {
                j = j2;
            }
            if t(&h[j]) >= t(&h[i]) {
                break;
            }
            h.swap(i, j);
            i = j;
        }
    }
    fn up(h: &mut [(usize, usize)], mut j: usize, t: &dyn Fn(&(usize, usize)) -> i64) {
        while j > 0 {
            let i = (j - 1) / 2;
            if t(&h[j]) >= t(&h[i]) {
                break;
            }
            h.swap(i, j);
            j = i;
        }
    }
    let n = heap.len();
    for i in (0..n / 2).rev() {
        down(&mut heap, i, n, &time);
    }
    let mut order: Vec<(usize, usize)> = Vec::with_capacity(total);
    while !heap.is_empty() {
        let last = heap.len() - 1;
        heap.swap(0, last);
        down(&mut heap, 0, last, &time);
        let Some((si, pos)) = heap.pop() else { break };
        order.push((si, pos));
        if pos + 1 < series[si].len() {
            heap.push((si, pos + 1));
            let j = heap.len() - 1;
            up(&mut heap, j, &time);
        }
    }
    let mut slots: Vec<Vec<Option<Point>>> = series
        .into_iter()
        .map(|v| v.into_iter().map(Some).collect())
        .collect();
    order
        .into_iter()
        .filter_map(|(si, pos)| slots[si][pos].take())
        .collect()
}

/// The value of one computed column for the rows of a series: a timeline.
type Timeline = Vec<Row>;

impl QueryService {
    pub(crate) async fn select(&self, stmt: &SelectStatement, req: &QueryRequest) -> StmtResult {
        let budget = Budget::new(self.limits);
        if stmt.target.is_some() {
            return self.select_into(stmt, req, &budget).await;
        }
        let series = self.select_series(stmt, req, &budget).await?;
        Ok(StatementResult {
            series,
            ..Default::default()
        })
    }

    async fn select_into(
        &self,
        stmt: &SelectStatement,
        req: &QueryRequest,
        budget: &Budget,
    ) -> StmtResult {
        let Some(target) = stmt.target.clone() else {
            return Err(err("SELECT INTO without a target"));
        };
        let Some(writer) = self.writer.clone() else {
            return Err(err("SELECT INTO is not available"));
        };
        let db = target
            .database
            .clone()
            .or_else(|| req.database.clone())
            .ok_or_else(|| err("database name required"))?;
        if self.meta.database(&db).is_none() {
            return Err(err(format!("database not found: {db}")));
        }
        let mut inner = stmt.clone();
        inner.target = None;
        let series = self.select_series(&inner, req, budget).await?;
        let mut points = Vec::new();
        for s in series {
            let measurement = target
                .measurement
                .clone()
                .or_else(|| s.name.clone())
                .unwrap_or_default();
            let tags: Vec<(String, String)> =
                s.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            for row in s.values {
                let mut time = 0;
                let mut fields = Vec::new();
                for (c, v) in s.columns.iter().zip(row) {
                    if c == "time" {
                        if let Value::Time(t) = v {
                            time = t;
                        }
                        continue;
                    }
                    let fv = match v {
                        Value::Float(f) => hyperbyte_domain::FieldValue::Float(f),
                        Value::Integer(i) => hyperbyte_domain::FieldValue::Integer(i),
                        Value::Unsigned(u) => hyperbyte_domain::FieldValue::Unsigned(u),
                        Value::Boolean(b) => hyperbyte_domain::FieldValue::Boolean(b),
                        Value::String(s) => hyperbyte_domain::FieldValue::String(s),
                        Value::Time(t) => hyperbyte_domain::FieldValue::Integer(t),
                        Value::Null => continue,
                    };
                    fields.push((c.clone(), fv));
                }
                if fields.is_empty() {
                    continue;
                }
                points.push(hyperbyte_domain::Point {
                    measurement: measurement.clone(),
                    tags: tags.clone(),
                    fields,
                    timestamp: time,
                });
            }
        }
        let n = points.len();
        if n > 0 {
            writer
                .write_points(&db, target.retention_policy.as_deref(), points, Vec::new())
                .await
                .map_err(|e| err(e.to_string()))?;
        }
        Ok(StatementResult {
            series: vec![Series {
                name: Some("result".into()),
                columns: vec!["time".into(), "written".into()],
                values: vec![vec![Value::Time(0), Value::Integer(n as i64)]],
                ..Default::default()
            }],
            ..Default::default()
        })
    }

    /// Runs a SELECT and returns its series (also used for subqueries).
    pub(crate) async fn select_series(
        &self,
        stmt: &SelectStatement,
        req: &QueryRequest,
        budget: &Budget,
    ) -> Result<Vec<Series>, StatementError> {
        let now = self.clock.now_nanos();
        let time_dims = stmt
            .dimensions
            .iter()
            .filter(|d| matches!(d, Expr::Call { name, .. } if name == "time"))
            .count();
        if time_dims > 1 {
            return Err(err("multiple time dimensions not allowed"));
        }
        if stmt.fields.iter().all(|f| f.expr.is_time_ref()) {
            return Err(err("at least 1 non-time field must be queried"));
        }
        let is_agg = stmt.fields.iter().any(|f| contains_agg(&f.expr));
        let has_transform = stmt.fields.iter().any(|f| {
            f.expr
                .any(&mut |x| matches!(x, Expr::Call { name, .. } if TRANSFORMS.contains(&name.as_str())))
        });
        let interval = stmt.group_by_interval_at(Some(now));
        if time_dims == 1 && interval.is_none() {
            return Err(err("time dimension must have a positive duration"));
        }
        if interval.is_some() && !is_agg {
            return Err(err("GROUP BY requires at least one aggregate function"));
        }
        for f in &stmt.fields {
            check_types(&f.expr)?;
        }

        let range = time_bounds(stmt.condition.as_ref(), now)?;
        // Sources.
        let mut sources: Vec<Src> = Vec::new();
        let mut subqueries = Vec::new();
        for s in &stmt.sources {
            match s {
                Source::Measurement(m) => {
                    let db = m
                        .database
                        .clone()
                        .or_else(|| req.database.clone())
                        .ok_or_else(|| err("database name required"))?;
                    let Some(database) = self.meta.database(&db) else {
                        return Err(err(format!("database not found: {db}")));
                    };
                    let rp = match m
                        .retention_policy
                        .clone()
                        .filter(|r| !r.is_empty())
                        .or_else(|| req.retention_policy.clone())
                    {
                        Some(r) => r,
                        None => database.default_rp.clone().ok_or_else(|| {
                            err(format!("default retention policy not set for: {db}"))
                        })?,
                    };
                    if database.rp(&rp).is_none() {
                        return Err(err(format!("retention policy not found: {rp}")));
                    }
                    let names: Vec<String> = match &m.name {
                        MeasurementName::Name(n) => vec![n.clone()],
                        MeasurementName::Regex(r) => {
                            let rx =
                                regex::Regex::new(&r.pattern).map_err(|e| err(e.to_string()))?;
                            self.meta
                                .measurements(&db)
                                .into_iter()
                                .filter(|n| rx.is_match(n))
                                .collect()
                        }
                    };
                    for n in names {
                        if let Some(schema) = self.meta.schema(&db, &n) {
                            if !sources
                                .iter()
                                .any(|s| s.db == db && s.rp == rp && s.measurement == n)
                            {
                                sources.push(Src {
                                    db: db.clone(),
                                    rp: rp.clone(),
                                    measurement: n,
                                    schema,
                                    rows: None,
                                });
                            }
                        }
                    }
                }
                Source::Subquery(sub) => subqueries.push(sub.as_ref().clone()),
            }
        }
        for sub in &subqueries {
            let mut sub = sub.clone();
            let inner_range = time_bounds(sub.condition.as_ref(), now)?;
            if inner_range.min.is_none() && inner_range.max.is_none() {
                let mut extra: Vec<Expr> = Vec::new();
                if let Some(m) = range.min {
                    extra.push(Expr::binary(
                        BinaryOp::GtEq,
                        Expr::var("time"),
                        Expr::Integer(m),
                    ));
                }
                if let Some(m) = range.max {
                    extra.push(Expr::binary(
                        BinaryOp::LtEq,
                        Expr::var("time"),
                        Expr::Integer(m),
                    ));
                }
                for e in extra {
                    sub.condition = Some(match sub.condition.take() {
                        Some(c) => Expr::binary(BinaryOp::And, Expr::Paren(Box::new(c)), e),
                        None => e,
                    });
                }
            }
            let inner = Box::pin(self.select_series(&sub, req, budget)).await?;
            sources.extend(series_to_sources(inner));
        }
        sources.sort_by(|a, b| a.measurement.cmp(&b.measurement));
        if sources.is_empty() {
            return Ok(Vec::new());
        }
        check_aggregate_types(stmt, &sources)?;

        // A retention policy's table holds only the fields written into it: wildcards
        // expand to those (InfluxDB keeps field sets per shard).
        // Make acknowledged writes visible (read-your-writes) before looking at tables.
        self.flush.ensure_visible().await?;
        let has_wildcard = stmt.fields.iter().any(|f| {
            f.expr
                .any(&mut |x| matches!(x, Expr::Wildcard(_) | Expr::Regex(_)))
        });
        if has_wildcard {
            for src in sources.iter_mut().filter(|s| s.rows.is_none()) {
                if let Ok(cols) = self.table_columns(src).await {
                    if !cols.is_empty() {
                        src.schema
                            .fields
                            .retain(|f, _| cols.contains(&naming::field_column(f)));
                    }
                }
            }
        }

        // Union schema for wildcard expansion.
        let mut all_fields: BTreeMap<String, FieldType> = BTreeMap::new();
        let mut all_tags: BTreeSet<String> = BTreeSet::new();
        for s in &sources {
            for (f, t) in &s.schema.fields {
                all_fields.entry(f.clone()).or_insert(*t);
            }
            all_tags.extend(s.schema.tag_keys.iter().cloned());
        }

        for f in &stmt.fields {
            let mut bad = None;
            f.expr.walk(&mut |x| {
                if let Expr::Call { name, .. } = x {
                    if bad.is_none() && !is_known_function(name) {
                        bad = Some(name.clone());
                    }
                }
            });
            if let Some(name) = bad {
                return Err(err(format!("undefined function {name}()")));
            }
            check_tag_math(&f.expr, &all_fields, &all_tags)?;
            check_transform_args(&f.expr, interval.is_some())?;
        }

        // GROUP BY tags.
        let mut group_tags: Vec<String> = Vec::new();
        for d in &stmt.dimensions {
            match d {
                Expr::VarRef { name, .. } if !group_tags.contains(name) => {
                    group_tags.push(name.clone());
                }
                Expr::Wildcard(_) => {
                    for t in &all_tags {
                        if !group_tags.contains(t) {
                            group_tags.push(t.clone());
                        }
                    }
                }
                Expr::Regex(r) => {
                    let rx = regex::Regex::new(&r.pattern).map_err(|e| err(e.to_string()))?;
                    for t in &all_tags {
                        if rx.is_match(t) && !group_tags.contains(t) {
                            group_tags.push(t.clone());
                        }
                    }
                }
                _ => {}
            }
        }
        group_tags.sort();

        // Output columns with wildcards expanded.
        let mut cols: Vec<OutCol> = Vec::new();
        for f in &stmt.fields {
            if f.expr.is_time_ref() {
                continue;
            }
            match &f.expr {
                Expr::Wildcard(kind) => {
                    // (name, is_tag): a field and a tag of the same name both appear,
                    // the field first.
                    let mut names: Vec<(String, bool)> = Vec::new();
                    if *kind != Some(WildcardType::Tag) {
                        names.extend(all_fields.keys().map(|n| (n.clone(), false)));
                    }
                    if *kind != Some(WildcardType::Field) && !is_agg {
                        names.extend(
                            all_tags
                                .iter()
                                .filter(|t| !group_tags.contains(t))
                                .map(|t| (t.clone(), true)),
                        );
                    }
                    names.sort();
                    for (n, is_tag) in names {
                        cols.push(OutCol {
                            name: n.clone(),
                            expr: Expr::VarRef {
                                name: n,
                                data_type: Some(if is_tag { VarType::Tag } else { VarType::Field }),
                            },
                        });
                    }
                }
                Expr::Regex(r) => {
                    let rx = regex::Regex::new(&r.pattern).map_err(|e| err(e.to_string()))?;
                    let mut names: Vec<String> = all_fields
                        .keys()
                        .filter(|n| rx.is_match(n))
                        .cloned()
                        .collect();
                    if !is_agg {
                        names.extend(
                            all_tags
                                .iter()
                                .filter(|t| rx.is_match(t) && !group_tags.contains(t))
                                .cloned(),
                        );
                    }
                    names.sort();
                    for n in names {
                        cols.push(OutCol {
                            name: n.clone(),
                            expr: Expr::var(&n),
                        });
                    }
                }
                Expr::Call { name, args }
                    if matches!(args.first(), Some(Expr::Wildcard(_)) | Some(Expr::Regex(_))) =>
                {
                    let rx = match args.first() {
                        Some(Expr::Regex(r)) => {
                            Some(regex::Regex::new(&r.pattern).map_err(|e| err(e.to_string()))?)
                        }
                        _ => None,
                    };
                    let numeric_only = !matches!(
                        name.as_str(),
                        "count" | "first" | "last" | "distinct" | "mode" | "sample" | "elapsed"
                    );
                    for (fname, ftype) in &all_fields {
                        if rx.as_ref().is_some_and(|r| !r.is_match(fname)) {
                            continue;
                        }
                        if numeric_only
                            && !matches!(
                                ftype,
                                FieldType::Float | FieldType::Integer | FieldType::Unsigned
                            )
                        {
                            continue;
                        }
                        if matches!(name.as_str(), "min" | "max") && *ftype == FieldType::String {
                            continue;
                        }
                        let mut new_args = args.clone();
                        new_args[0] = Expr::var(fname);
                        cols.push(OutCol {
                            name: format!(
                                "{}_{fname}",
                                f.alias.clone().unwrap_or_else(|| name.clone())
                            ),
                            expr: Expr::Call {
                                name: name.clone(),
                                args: new_args,
                            },
                        });
                    }
                }
                e => {
                    cols.push(OutCol {
                        name: f.alias.clone().unwrap_or_else(|| expr_name(e)),
                        expr: e.clone(),
                    });
                    // top(value, tag1, ..., n) also prints the tags it selected by.
                    if let Expr::Call { name, args } = e {
                        if (name == "top" || name == "bottom") && args.len() > 2 {
                            for a in &args[1..args.len() - 1] {
                                if let Expr::VarRef { name: t, .. } = a {
                                    cols.push(OutCol {
                                        name: t.clone(),
                                        expr: Expr::VarRef {
                                            name: t.clone(),
                                            data_type: Some(VarType::Tag),
                                        },
                                    });
                                }
                            }
                        }
                    }
                }
            }
        }
        dedupe_names(&mut cols);
        if cols.is_empty() {
            return Ok(Vec::new());
        }

        // Aggregate queries: no bare field references outside calls, except with a single
        // selector.
        let agg_calls: Vec<&Expr> = cols.iter().flat_map(|c| top_level_aggs(&c.expr)).collect();
        let single_selector = agg_calls.len() == 1
            && matches!(agg_calls[0], Expr::Call { name, .. } if SELECTORS.contains(&name.as_str()));
        if is_agg {
            for c in &cols {
                if !contains_agg(&c.expr) && !matches!(c.expr, Expr::VarRef { .. }) {
                    return Err(err(
                        "mixing aggregate and non-aggregate queries is not supported",
                    ));
                }
                if !contains_agg(&c.expr) && !single_selector {
                    return Err(err(
                        "mixing aggregate and non-aggregate queries is not supported",
                    ));
                }
            }
        } else if has_transform {
            for c in &cols {
                if !c.expr.any(&mut |x| matches!(x, Expr::Call { .. })) {
                    return Err(err(
                        "mixing aggregate and non-aggregate queries is not supported",
                    ));
                }
            }
        }

        // The bucket limit, before anything is read (InfluxDB checks it when preparing the
        // statement, for a bounded start; an unbounded start is checked per series below,
        // once the first point is known).
        if let (Some((every, offset)), Some(min)) = (interval, range.min) {
            let w = transform::Window { every, offset };
            let (_, _, count) = w.grid(min, range.max.unwrap_or(now), lookback(&cols));
            budget.check_buckets(count)?;
        }

        // Data: read each source.
        // Fields to read: referenced ones whose type fits the reference's `::type`.
        let mut needed: BTreeSet<String> = BTreeSet::new();
        for c in &cols {
            c.expr.walk(&mut |x| {
                if let Expr::VarRef { name, data_type } = x {
                    if let Some(t) = all_fields.get(name) {
                        if cast_compatible(*t, *data_type) {
                            needed.insert(name.clone());
                        }
                    }
                }
            });
        }
        let cond = stmt.condition_without_time();
        let mut output: Vec<Series> = Vec::new();
        // Series read so far, for the series limit.
        let mut series_read: BTreeSet<Arc<str>> = BTreeSet::new();
        let mut series_elsewhere = 0usize;
        let pushdown = is_agg
            && !has_transform
            && pushdown_columns(&cols, &all_fields, interval.is_some()).is_some();
        // `last()` of fields only, without GROUP BY time: the tier can hand over just the
        // points holding each series' latest values.
        let last_only = is_agg
            && interval.is_none()
            && cols.iter().all(|c| {
                matches!(&c.expr, Expr::Call { name, args } if name == "last"
                    && matches!(args.as_slice(), [Expr::VarRef { .. }]))
            });
        for src in &sources {
            // Pushdown aggregates run over the tier inside `pushdown_aggregate`; only
            // `last()` prefers the tier's latest points.
            let hot = if src.rows.is_some() || (pushdown && !last_only) {
                None
            } else {
                self.read_hot(
                    src,
                    &needed,
                    cond.as_ref(),
                    (range.min, range.max),
                    last_only,
                )
            };
            if pushdown && src.rows.is_none() && hot.is_none() {
                // Storage aggregates without handing points over: the series index says
                // how many series the read covers when only time restricts it.
                if budget.limits().max_select_series > 0 && cond.is_none() {
                    series_elsewhere = series_elsewhere
                        .saturating_add(self.meta.series_count_in(&src.db, &src.measurement));
                    budget.check_series(series_read.len().saturating_add(series_elsewhere))?;
                }
                let groups = self
                    .pushdown_aggregate(
                        src,
                        &cols,
                        &all_fields,
                        &group_tags,
                        cond.as_ref(),
                        interval,
                        (range.min, range.max),
                        now,
                        &stmt.fill,
                        budget,
                    )
                    .await?;
                for (key, rows) in groups {
                    let tags: BTreeMap<String, String> =
                        group_tags.iter().cloned().zip(key).collect();
                    output.extend(finish_series(stmt, &src.measurement, tags, &cols, rows));
                }
                continue;
            }
            let points = match hot {
                Some(points) => {
                    budget.charge_points(points.len())?;
                    points
                }
                None => {
                    self.read_points(src, &needed, cond.as_ref(), range.min, range.max, budget)
                        .await?
                }
            };
            if points.is_empty() {
                continue;
            }
            if budget.limits().max_select_series > 0 {
                for p in &points {
                    if !series_read.contains(&p.key) {
                        series_read.insert(p.key.clone());
                    }
                }
                budget.check_series(series_read.len().saturating_add(series_elsewhere))?;
            }
            // Group into series.
            let mut groups: BTreeMap<Vec<String>, Vec<Point>> = BTreeMap::new();
            for p in points {
                let key: Vec<String> = group_tags
                    .iter()
                    .map(|t| p.tags.get(t).cloned().unwrap_or_default())
                    .collect();
                groups.entry(key).or_default().push(p);
            }
            let selects_tag = cols.iter().any(|c| {
                c.expr.any(&mut |x| {
                    matches!(x, Expr::VarRef { name, data_type } if *data_type == Some(VarType::Tag)
                        || (all_tags.contains(name) && !all_fields.contains_key(name)))
                })
            });
            for (key, pts) in groups {
                let pts = if !is_agg && !has_transform && selects_tag {
                    let mut p = pts;
                    p.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.key.cmp(&b.key)));
                    p
                } else {
                    go_heap_merge(pts)
                };
                let tags: BTreeMap<String, String> = group_tags.iter().cloned().zip(key).collect();
                let rows = if is_agg {
                    self.eval_aggregate(
                        &cols,
                        &pts,
                        stmt,
                        interval,
                        range.min,
                        range.max,
                        now,
                        single_selector,
                        budget,
                    )?
                } else if has_transform {
                    eval_transform_raw(&cols, &pts, stmt, budget)?
                } else {
                    eval_raw(&cols, &pts)
                };
                output.extend(finish_series(stmt, &src.measurement, tags, &cols, rows));
            }
        }
        if stmt.is_descending() {
            output.reverse();
        }
        let soff = stmt.soffset.unwrap_or(0) as usize;
        let output: Vec<Series> = match stmt.slimit {
            Some(l) if l > 0 => output.into_iter().skip(soff).take(l as usize).collect(),
            _ => output.into_iter().skip(soff).collect(),
        };
        Ok(output)
    }

    /// Reads the points of one source: time, the needed fields and every tag, filtered by
    /// the time range and condition. A column the table lacks (a tag or field registered
    /// through another retention policy) reads as absent.
    #[allow(clippy::too_many_arguments)]
    async fn read_points(
        &self,
        src: &Src,
        needed: &BTreeSet<String>,
        cond: Option<&Expr>,
        min: Option<i64>,
        max: Option<i64>,
        budget: &Budget,
    ) -> Result<Vec<Point>, StatementError> {
        if let Some(rows) = &src.rows {
            let points: Vec<Point> = rows
                .iter()
                .filter(|p| min.is_none_or(|m| p.time >= m) && max.is_none_or(|m| p.time <= m))
                .filter(|p| cond.is_none_or(|c| eval_cond(c, p)))
                .filter(|p| needed.iter().any(|n| p.fields.contains_key(n)))
                .cloned()
                .collect();
            // A subquery's rows were charged when it built them; copying them into the
            // outer query materialises them once more.
            budget.charge_rows(points.len() as u128)?;
            return Ok(points);
        }
        // Ask storage for one row more than the limits allow: enough to report the
        // overflow without ever materialising an unbounded result.
        let cap = budget.read_allowance().map(|n| n.saturating_add(1));
        let points = self
            .read_points_capped(src, needed, cond, min, max, cap)
            .await?;
        budget.charge_points(points.len())?;
        Ok(points)
    }

    /// [`Self::read_points`] from storage, at most `cap` points.
    async fn read_points_capped(
        &self,
        src: &Src,
        needed: &BTreeSet<String>,
        cond: Option<&Expr>,
        min: Option<i64>,
        max: Option<i64>,
        cap: Option<u64>,
    ) -> Result<Vec<Point>, StatementError> {
        match self
            .read_points_with(src, needed, cond, min, max, None, cap)
            .await
        {
            Err(ReadError::Engine(e)) if e.is_missing_table() => Ok(Vec::new()),
            Err(ReadError::Engine(hyperbyte_ports::QueryError::Engine { code: 47, .. })) => {
                let cols = self.table_columns(src).await?;
                match self
                    .read_points_with(src, needed, cond, min, max, Some(&cols), cap)
                    .await
                {
                    Ok(p) => Ok(p),
                    Err(ReadError::Engine(e)) if e.is_missing_table() => Ok(Vec::new()),
                    Err(ReadError::Engine(e)) => Err(e.into()),
                    Err(ReadError::Statement(e)) => Err(e),
                }
            }
            Err(ReadError::Engine(e)) => Err(e.into()),
            Err(ReadError::Statement(e)) => Err(e),
            Ok(p) => Ok(p),
        }
    }

    /// The pushdown aggregate computed over the recent-data tier, in the rows the SQL
    /// would return (`None`: not covered, too big, or a condition on fields).
    fn hot_aggregate(
        &self,
        src: &Src,
        specs: &[(String, String, FieldType)],
        group_tags: &[String],
        cond: Option<&Expr>,
        interval: Option<(i64, i64)>,
        (min, max): (Option<i64>, Option<i64>),
    ) -> Option<Vec<Vec<Value>>> {
        let hot = self.hot.as_ref()?;
        let schema = &src.schema;
        let is_field = |n: &str| schema.field_type(n).is_some();
        if !cond.is_none_or(|c| super::decided_by_tags(c, &is_field)) {
            return None;
        }
        let mut aggs = Vec::with_capacity(specs.len());
        for (func, field, t) in specs {
            if schema.field_type(field) != Some(*t) {
                return None;
            }
            aggs.push((crate::hot::Agg::of(func)?, field.clone()));
        }
        let fields: Vec<String> = aggs.iter().map(|(_, f)| f.clone()).collect();
        let mut filter = super::ReadFilter::new(cond, &fields, min, max).with_fields(&is_field);
        hot.aggregate(
            (&src.db, &src.rp, &src.measurement),
            &mut filter,
            group_tags,
            interval,
            &aggs,
            HOT_AGGREGATE_LIMIT,
        )
    }

    /// The points of `src` from the recent-data tier, when it holds everything the read
    /// needs (`None`: read storage). Same rows, fields and order as storage gives.
    /// `latest_only`: for `last()` aggregates, only the points holding each series'
    /// latest value of each field.
    fn read_hot(
        &self,
        src: &Src,
        needed: &BTreeSet<String>,
        cond: Option<&Expr>,
        (min, max): (Option<i64>, Option<i64>),
        latest_only: bool,
    ) -> Option<Vec<Point>> {
        let hot = self.hot.as_ref()?;
        let schema = &src.schema;
        let fields: Vec<String> = needed
            .iter()
            .filter(|n| schema.field_type(n).is_some())
            .cloned()
            .collect();
        if fields.is_empty() {
            return None;
        }
        let is_field = |n: &str| schema.field_type(n).is_some();
        let exact = cond.is_none_or(|c| super::decided_by_tags(c, &is_field));
        // A condition on fields is checked per row, on the fields it reads, before the
        // row is built.
        let mut cond_fields: Vec<String> = Vec::new();
        if let Some(c) = cond.filter(|_| !exact) {
            c.walk(&mut |x| {
                if let Expr::VarRef { name, .. } = x {
                    if is_field(name) && !cond_fields.contains(name) {
                        cond_fields.push(name.clone());
                    }
                }
            });
        }
        let mut keep = |h: &crate::hot::HotPoint| {
            let p = Point {
                time: h.time,
                key: Arc::clone(&h.key),
                tags: Arc::clone(&h.tags),
                fields: h.fields.clone(),
            };
            cond.is_none_or(|c| eval_stored_cond(c, &p, &is_field))
        };
        let check = (!exact).then_some(crate::hot::RowCheck {
            fields: &cond_fields,
            keep: &mut keep,
        });
        let mut filter = super::ReadFilter::new(cond, &fields, min, max).with_fields(&is_field);
        let rows = if latest_only {
            if !exact {
                return None;
            }
            hot.read_latest(&src.db, &src.rp, &src.measurement, &mut filter)?
        } else {
            hot.read(&src.db, &src.rp, &src.measurement, &mut filter, check)?
        };
        let mut points: Vec<Point> = rows
            .into_iter()
            .map(|h| Point {
                time: h.time,
                key: h.key,
                tags: h.tags,
                fields: h.fields,
            })
            .collect();
        // Storage's order: time, then tag values in tag-key order (missing: empty).
        points.sort_by(|a, b| {
            a.time.cmp(&b.time).then_with(|| {
                schema
                    .tag_keys
                    .iter()
                    .map(|k| {
                        let x = a.tags.get(k).map_or("", String::as_str);
                        let y = b.tags.get(k).map_or("", String::as_str);
                        x.cmp(y)
                    })
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
        });
        Some(points)
    }

    /// For `last()` of every column without `GROUP BY time` or a `WHERE` condition (the
    /// TSBS "lastpoint" shape): how many groups the answer has, known from the series
    /// index (`None`: not that shape, or unknown).
    fn expected_last_groups(
        &self,
        src: &Src,
        specs: &[(String, String, FieldType)],
        group_tags: &[String],
        cond: Option<&Expr>,
        interval: Option<(i64, i64)>,
    ) -> Option<usize> {
        if interval.is_some() || cond.is_some() || specs.iter().any(|(f, _, _)| f != "last") {
            return None;
        }
        if group_tags.is_empty() {
            return Some(1);
        }
        let all_tags = group_tags.len() == src.schema.tag_keys.len()
            && group_tags.iter().all(|t| src.schema.tag_keys.contains(t));
        // Grouped by every tag, the groups are the series (a missing tag is no tag).
        all_tags.then(|| self.meta.series_count_in(&src.db, &src.measurement))
    }

    /// Answers a `last()`-only aggregate from the most recent rows when they hold every
    /// group's last values: reads windows ending at the table's latest time, growing
    /// 60-fold (one minute, one hour, 2.5 days), until `expected` groups come back with
    /// no null value. `None`: the caller reads everything. Correct because `last` of a
    /// group only depends on its latest non-null values, and a window that yields every
    /// group (all of them, by the series count) with every value has found those.
    async fn last_from_recent(
        &self,
        src: &Src,
        max: Option<i64>,
        min: Option<i64>,
        expected: usize,
        n_tags: usize,
        read: &AggregateRead,
    ) -> Result<Option<RowSet>, StatementError> {
        if expected == 0 {
            return Ok(None);
        }
        let latest = match self
            .engine
            .latest_time(&src.db, &src.rp, &src.measurement, max)
            .await
        {
            Ok(Some(t)) => t,
            Ok(None) | Err(hyperbyte_ports::QueryError::Decode(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let mut width: i64 = 60_000_000_000;
        for _ in 0..3 {
            let since = latest.saturating_sub(width);
            if min.is_some_and(|m| since <= m) {
                break;
            }
            let mut recent = read.clone();
            recent.filter.since = Some(since);
            let sql = recent.to_sql().map_err(|e| err(e.to_string()))?;
            let rows = self.engine.query(&sql).await?;
            let complete = rows.rows.len() == expected
                && rows
                    .rows
                    .iter()
                    .all(|r| r.iter().skip(n_tags + 1).all(|v| !v.is_null()));
            if complete {
                return Ok(Some(rows));
            }
            width = width.saturating_mul(60);
        }
        Ok(None)
    }

    /// Whether a read of `src` between `min` and `max` must merge the stored versions of
    /// overwritten points (`FINAL`): only where storage says a point may have been written
    /// twice.
    fn must_merge(&self, src: &Src, min: Option<i64>, max: Option<i64>) -> bool {
        self.engine
            .must_merge(&src.db, &src.rp, &src.measurement, min, max)
    }

    /// The storage read of a pushdown aggregate: `specs` per group of `group_tags` (and
    /// time bucket), over the columns the table has (`existing`).
    #[allow(clippy::too_many_arguments)]
    fn aggregate_read(
        &self,
        src: &Src,
        existing: &BTreeSet<String>,
        specs: &[(String, String, FieldType)],
        group_tags: &[String],
        cond: Option<&Expr>,
        interval: Option<(i64, i64)>,
        (min, max): (Option<i64>, Option<i64>),
    ) -> AggregateRead {
        let schema = &src.schema;
        let has = |c: &str| existing.contains(c);
        let group_tags = group_tags
            .iter()
            .map(|t| has(&naming::tag_column(t)).then(|| t.clone()))
            .collect();
        let mut any_field = Vec::new();
        let mut columns = Vec::with_capacity(specs.len());
        for (func, field, t) in specs {
            if has(&naming::field_column(field)) && schema.field_type(field) == Some(*t) {
                columns.push(Pushdown::of(func, *t).map(|p| (p, field.clone())));
                any_field.push(field.clone());
            } else {
                columns.push(None);
            }
        }
        AggregateRead {
            table: TableRef::new(&src.db, &src.rp, &src.measurement),
            merge: self.must_merge(src, min, max),
            group_tags,
            bucket: interval.map(|(every, offset)| Bucket { every, offset }),
            columns,
            filter: RowFilter {
                min,
                max,
                condition: condition_of(schema, &has, cond),
                any_field,
                since: None,
            },
        }
    }

    async fn table_columns(&self, src: &Src) -> Result<BTreeSet<String>, StatementError> {
        Ok(self
            .engine
            .table_columns(&src.db, &src.rp, &src.measurement)
            .await?
            .into_iter()
            .collect())
    }

    #[allow(clippy::too_many_arguments)]
    async fn read_points_with(
        &self,
        src: &Src,
        needed: &BTreeSet<String>,
        cond: Option<&Expr>,
        min: Option<i64>,
        max: Option<i64>,
        existing: Option<&BTreeSet<String>>,
        cap: Option<u64>,
    ) -> Result<Vec<Point>, ReadError> {
        let schema = &src.schema;
        let has = |col: &str| existing.is_none_or(|e| e.contains(col));
        let tag_cols: Vec<String> = schema
            .tag_keys
            .iter()
            .filter(|t| has(&naming::tag_column(t)))
            .cloned()
            .collect();
        let field_cols: Vec<String> = needed
            .iter()
            .filter(|n| schema.field_type(n).is_some() && has(&naming::field_column(n)))
            .cloned()
            .collect();
        if field_cols.is_empty() {
            return Ok(Vec::new());
        }
        // A row qualifies only when at least one selected field is present.
        let read = RawRead {
            table: TableRef::new(&src.db, &src.rp, &src.measurement),
            merge: self.must_merge(src, min, max),
            tags: tag_cols.clone(),
            fields: field_cols.clone(),
            filter: RowFilter {
                min,
                max,
                condition: condition_of(schema, &has, cond),
                any_field: field_cols.clone(),
                since: None,
            },
            limit: cap,
        };
        let sql = read
            .to_sql()
            .map_err(|e| ReadError::Statement(err(e.to_string())))?;
        let rows = self.engine.query(&sql).await.map_err(ReadError::Engine)?;
        let mut out = Vec::with_capacity(rows.rows.len());
        type Shared = (Arc<str>, Arc<BTreeMap<String, String>>);
        let mut series_of: BTreeMap<BTreeMap<String, String>, Shared> = BTreeMap::new();
        for row in rows.rows {
            let mut it = row.into_iter();
            let time = match it.next() {
                Some(Value::Time(t)) => t,
                Some(Value::Integer(t)) => t,
                _ => continue,
            };
            let mut tags = BTreeMap::new();
            for t in &tag_cols {
                if let Some(Value::String(s)) = it.next() {
                    if !s.is_empty() {
                        tags.insert(t.clone(), s);
                    }
                }
            }
            let mut fields = BTreeMap::new();
            for f in &field_cols {
                let v = it.next().unwrap_or(Value::Null);
                if !v.is_null() {
                    fields.insert(f.clone(), v);
                }
            }
            // Rows come ordered by time, so a series' points are not adjacent: share
            // each series' key and tags through a map.
            let (key, tags) = series_of
                .entry(tags)
                .or_insert_with_key(|tags| {
                    let tag_vec: Vec<(String, String)> =
                        tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                    let key = hyperbyte_domain::SeriesKey::new(&src.measurement, &tag_vec).0;
                    (Arc::from(key.as_str()), Arc::new(tags.clone()))
                })
                .clone();
            out.push(Point {
                time,
                key,
                tags,
                fields,
            });
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_aggregate(
        &self,
        cols: &[OutCol],
        pts: &[Point],
        stmt: &SelectStatement,
        interval: Option<(i64, i64)>,
        min: Option<i64>,
        max: Option<i64>,
        now: i64,
        single_selector: bool,
        budget: &Budget,
    ) -> Result<Vec<Vec<Value>>, StatementError> {
        let first_time = pts.iter().map(|p| p.time).min().unwrap_or(0);
        let window = interval.map(|(every, offset)| transform::Window { every, offset });
        let start = min.unwrap_or(first_time);
        let end = max.unwrap_or(if window.is_some() { now } else { i64::MAX - 1 });
        let mut buckets = Vec::new();
        let mut first_bucket = None;
        if let Some(w) = window {
            first_bucket = Some(w.bounds(start).0);
            // Transformations over aggregates read buckets before the query start; the
            // grid is sized (and limited) before it is built.
            let (first, last, count) = w.grid(start, end, lookback(cols));
            budget.check_buckets(count)?;
            budget.charge_rows(count)?;
            buckets = w.starts(first, last).collect();
        }
        let ctx = SeriesCtx {
            points: pts,
            window,
            buckets,
            end,
            agg_time: min.unwrap_or(0),
            fill: &stmt.fill,
            descending: stmt.is_descending(),
            budget,
        };

        // Multi-row functions (top, bottom, distinct, sample, percentile with tags...).
        if let Some(rows) = self.eval_multirow(cols, &ctx, single_selector)? {
            return Ok(rows);
        }

        let mut timelines: Vec<Timeline> = Vec::new();
        let mut selector_times: Option<Vec<Row>> = None;
        for c in cols {
            let tl = eval_agg_expr(&c.expr, &ctx, true, &mut selector_times)?;
            timelines.push(tl);
        }
        // Single selector without GROUP BY time: the row carries the selected point's
        // time, and bare fields/tags come from that point.
        if single_selector && window.is_none() {
            if let Some(sel) = &selector_times {
                let Some(&(t, _)) = sel.first() else {
                    return Ok(Vec::new());
                };
                let mut row = vec![Value::Time(t)];
                for (c, tl) in cols.iter().zip(&timelines) {
                    if contains_agg(&c.expr) {
                        row.push(tl.first().map(|(_, v)| v.clone()).unwrap_or(Value::Null));
                    } else if let Expr::VarRef { name, data_type } = &c.expr {
                        let sel_value = sel.first().map(|(_, v)| v.clone());
                        let sel_field = agg_field_name(cols);
                        let p = pts
                            .iter()
                            .find(|p| {
                                p.time == t
                                    && sel_field
                                        .as_ref()
                                        .is_none_or(|f| p.fields.get(f) == sel_value.as_ref())
                            })
                            .or_else(|| pts.iter().find(|p| p.time == t));
                        let v = p
                            .and_then(|p| {
                                p.fields
                                    .get(name)
                                    .cloned()
                                    .or_else(|| p.tags.get(name).map(|s| Value::String(s.clone())))
                            })
                            .unwrap_or(Value::Null);
                        row.push(cast(v, *data_type));
                    } else {
                        row.push(Value::Null);
                    }
                }
                return Ok(vec![row]);
            }
        }
        let mut rows = join_timelines(&timelines, window.is_none());
        if let Some(fb) = first_bucket {
            rows.retain(|r| !matches!(r.first(), Some(Value::Time(t)) if *t < fb));
        }
        Ok(rows)
    }

    fn eval_multirow(
        &self,
        cols: &[OutCol],
        ctx: &SeriesCtx<'_>,
        _single_selector: bool,
    ) -> Result<Option<Vec<Vec<Value>>>, StatementError> {
        let Some((idx, name, args)) = cols.iter().enumerate().find_map(|(i, c)| match &c.expr {
            Expr::Call { name, args }
                if matches!(name.as_str(), "top" | "bottom" | "distinct" | "sample") =>
            {
                Some((i, name.clone(), args.clone()))
            }
            _ => None,
        }) else {
            return Ok(None);
        };
        let field = match args.first() {
            Some(Expr::VarRef { name, data_type }) => (name.clone(), *data_type),
            Some(Expr::Call { name, .. }) if name == "distinct" => {
                return Err(err("nested distinct is not supported"))
            }
            _ => return Err(err(format!("expected field argument in {name}()"))),
        };
        let raw = ctx.raw_timeline(&field.0, field.1);
        // The points at each time, found once: searching the points per selected row is
        // quadratic for `top(x, <huge n>)` over many points.
        let mut by_time: BTreeMap<i64, Vec<&Point>> = BTreeMap::new();
        if matches!(name.as_str(), "top" | "bottom") {
            for p in ctx.points {
                by_time.entry(p.time).or_default().push(p);
            }
        }
        let at = |t: i64| by_time.get(&t).map(Vec::as_slice).unwrap_or_default();
        let mut out_rows: Vec<Vec<Value>> = Vec::new();
        for (bt, rows) in ctx.bucket_rows(&raw) {
            match name.as_str() {
                "distinct" => {
                    for v in aggregate::distinct(&rows) {
                        let mut r = vec![Value::Time(bt)];
                        r.extend(cols.iter().enumerate().map(|(i, _)| {
                            if i == idx {
                                v.clone()
                            } else {
                                Value::Null
                            }
                        }));
                        out_rows.push(r);
                    }
                }
                "top" | "bottom" => {
                    let bottom = name == "bottom";
                    // top(field, [tags...,] n)
                    let n = args
                        .last()
                        .and_then(|a| match a {
                            Expr::Integer(n) => Some(*n),
                            _ => None,
                        })
                        .ok_or_else(|| {
                            err(format!("expected integer as last argument in {name}()"))
                        })?;
                    if n <= 0 {
                        return Err(err(format!(
                            "limit ({n}) in {name} function must be at least 1"
                        )));
                    }
                    let tag_args: Vec<String> = args[1..args.len() - 1]
                        .iter()
                        .filter_map(|a| match a {
                            Expr::VarRef { name, .. } => Some(name.clone()),
                            _ => None,
                        })
                        .collect();
                    // Rows with their source point index, to read tags.
                    let picked: Vec<usize> = if tag_args.is_empty() {
                        aggregate::top_rows(&rows, n as usize, bottom).map_err(fn_err)?
                    } else {
                        let keys: Vec<Vec<String>> = rows
                            .iter()
                            .map(|(t, _)| {
                                let p = at(*t).first();
                                tag_args
                                    .iter()
                                    .map(|k| {
                                        p.and_then(|p| p.tags.get(k).cloned()).unwrap_or_default()
                                    })
                                    .collect()
                            })
                            .collect();
                        aggregate::top_distinct_rows(&rows, &keys, n as usize, bottom)
                            .map_err(fn_err)?
                    };
                    let mut picked_rows: Vec<&Row> =
                        picked.iter().filter_map(|i| rows.get(*i)).collect();
                    picked_rows.sort_by_key(|r| r.0);
                    for (t, v) in picked_rows {
                        let time = *t;
                        let p = at(*t)
                            .iter()
                            .find(|p| p.fields.get(&field.0) == Some(v))
                            .or_else(|| at(*t).first());
                        let mut r = vec![Value::Time(time)];
                        for (i, c) in cols.iter().enumerate() {
                            if i == idx {
                                r.push(v.clone());
                            } else if let Expr::VarRef { name, data_type } = &c.expr {
                                let val = p
                                    .and_then(|p| {
                                        p.fields.get(name).cloned().or_else(|| {
                                            p.tags.get(name).map(|s| Value::String(s.clone()))
                                        })
                                    })
                                    .unwrap_or(Value::Null);
                                r.push(cast(val, *data_type));
                            } else {
                                r.push(Value::Null);
                            }
                        }
                        // Tag arguments of top/bottom are printed as extra columns in
                        // InfluxDB; they are already selected if named in the field list.
                        out_rows.push(r);
                    }
                }
                _ => {
                    // sample
                    let n = int_arg(&args, 1).unwrap_or(1).max(1) as usize;
                    let mut picked = aggregate::sample(&rows, n, 0x5eed);
                    picked.sort_by_key(|r| r.0);
                    for (t, v) in picked {
                        let mut r = vec![Value::Time(t)];
                        r.extend(cols.iter().enumerate().map(|(i, _)| {
                            if i == idx {
                                v.clone()
                            } else {
                                Value::Null
                            }
                        }));
                        out_rows.push(r);
                    }
                }
            }
        }
        Ok(Some(out_rows))
    }
}

/// The time window of a condition. InfluxDB pulls every `time` comparison out of the
/// condition and intersects them, whatever `OR`s surround them.
fn time_bounds(
    cond: Option<&Expr>,
    now: i64,
) -> Result<hyperbyte_timeseriesql::ast::TimeRange, StatementError> {
    let mut range = hyperbyte_timeseriesql::ast::TimeRange::default();
    let Some(c) = cond else { return Ok(range) };
    let mut terms: Vec<&Expr> = Vec::new();
    c.walk(&mut |e| {
        if let Expr::Binary { op, lhs, rhs } = e {
            if matches!(
                op,
                BinaryOp::Eq | BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq
            ) && (lhs.is_time_ref() || rhs.is_time_ref())
            {
                terms.push(e);
            }
        }
    });
    for t in terms {
        let r = t.time_range(now).map_err(|e| err(e.to_string()))?;
        if let Some(m) = r.min {
            range.min = Some(range.min.map_or(m, |x: i64| x.max(m)));
        }
        if let Some(m) = r.max {
            range.max = Some(range.max.map_or(m, |x: i64| x.min(m)));
        }
    }
    Ok(range)
}

/// Every function name InfluxQL knows in a field list.
fn is_known_function(name: &str) -> bool {
    is_agg_name(name)
        || TRANSFORMS.contains(&name)
        || math::UnaryMath::from_name(name).is_some()
        || math::BinaryMath::from_name(name).is_some()
}

/// How many buckets before the query start the columns' transformations need.
fn lookback(cols: &[OutCol]) -> u64 {
    cols.iter()
        .map(|c| lookback_buckets(&c.expr))
        .max()
        .unwrap_or(0)
}

/// How many buckets before the query start a column's transformations need
/// (`moving_average(mean(x), n)` asks for `n - 1`, whatever `n` the query typed).
fn lookback_buckets(e: &Expr) -> u64 {
    let mut n = 0;
    e.walk(&mut |x| {
        if let Expr::Call { name, args } = x {
            if matches!(args.first(), Some(Expr::Call { name: inner, .. }) if is_agg_name(inner)) {
                let k = match name.as_str() {
                    "derivative"
                    | "non_negative_derivative"
                    | "difference"
                    | "non_negative_difference"
                    | "elapsed" => 1,
                    "moving_average" => {
                        u64::try_from(int_arg(args, 1).unwrap_or(1).saturating_sub(1)).unwrap_or(0)
                    }
                    _ => 0,
                };
                n = n.max(k);
            }
        }
    });
    n
}

/// The field a query's (single) selector reads.
fn agg_field_name(cols: &[OutCol]) -> Option<String> {
    cols.iter().find_map(|c| {
        top_level_aggs(&c.expr).into_iter().find_map(|a| match a {
            Expr::Call { args, .. } => match args.first() {
                Some(Expr::VarRef { name, .. }) => Some(name.clone()),
                _ => None,
            },
            _ => None,
        })
    })
}

/// The aggregate/selector calls of an expression that are not nested inside another
/// aggregate (what one bucket computes).
fn top_level_aggs(e: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    fn go<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
        match e {
            Expr::Call { name, args } => {
                if is_agg_name(name) {
                    out.push(e);
                } else {
                    for a in args {
                        go(a, out);
                    }
                }
            }
            Expr::Binary { lhs, rhs, .. } => {
                go(lhs, out);
                go(rhs, out);
            }
            Expr::Paren(inner) => go(inner, out),
            _ => {}
        }
    }
    go(e, &mut out);
    out
}

/// `host + 1` where `host` is only a tag: InfluxDB's type error.
fn check_tag_math(
    e: &Expr,
    fields: &BTreeMap<String, FieldType>,
    tags: &BTreeSet<String>,
) -> Result<(), StatementError> {
    let mut res = Ok(());
    e.walk(&mut |x| {
        if res.is_err() {
            return;
        }
        if let Expr::Binary { op, lhs, rhs } = x {
            if op.is_boolean() {
                return;
            }
            for (side, other) in [(lhs, rhs), (rhs, lhs)] {
                if let Expr::VarRef {
                    name,
                    data_type: None,
                } = side.unparen()
                {
                    if tags.contains(name) && !fields.contains_key(name) {
                        let other_kind = match other.unparen() {
                            Expr::Integer(_) => "integer",
                            Expr::Float(_) => "float",
                            Expr::String(_) => "string",
                            Expr::Boolean(_) => "boolean",
                            _ => "tag",
                        };
                        let (l, r) = if std::ptr::eq(side.as_ref(), lhs.as_ref()) {
                            (format!("{name}::tag"), other.to_string())
                        } else {
                            (other.to_string(), format!("{name}::tag"))
                        };
                        res = Err(err(format!(
                            "type error: {l} {} {r}: incompatible types: tag and {other_kind}",
                            op.as_str()
                        )));
                        return;
                    }
                }
            }
        }
    });
    res
}

/// Argument rules of the transformations that InfluxDB checks before running anything.
fn check_transform_args(e: &Expr, has_interval: bool) -> Result<(), StatementError> {
    let mut res = Ok(());
    e.walk(&mut |x| {
        if res.is_err() {
            return;
        }
        if let Expr::Call { name, args } = x {
            if !TRANSFORMS.contains(&name.as_str()) {
                return;
            }
            if matches!(
                name.as_str(),
                "derivative" | "non_negative_derivative" | "elapsed"
            ) {
                if let Some(Expr::Duration(d)) = args.get(1) {
                    if *d <= 0 {
                        res = Err(err(format!(
                            "duration argument must be positive, got {}",
                            hyperbyte_timeseriesql::ast::format_duration(*d)
                        )));
                        return;
                    }
                }
            }
            if name.starts_with("holt_winters") {
                if let Err(e) = check_holt_winters_args(name, args, has_interval) {
                    res = Err(e);
                    return;
                }
            }
            if let Some(Expr::Call { name: inner, .. }) = args.first() {
                if is_agg_name(inner) && !has_interval {
                    res = Err(err(format!(
                        "{name} aggregate requires a GROUP BY interval"
                    )));
                }
            }
        }
    });
    res
}

/// InfluxDB's argument rules for `holt_winters(agg(x), n, season)`: over an aggregate
/// with `GROUP BY time` only (over raw points the forecast grid would be one nanosecond
/// wide, as long as the points' time span), `n > 0`, `season >= 0`.
fn check_holt_winters_args(
    name: &str,
    args: &[Expr],
    has_interval: bool,
) -> Result<(), StatementError> {
    if args.len() != 3 {
        return Err(err(format!(
            "invalid number of arguments for {name}, expected 3, got {}",
            args.len()
        )));
    }
    match &args[0] {
        Expr::Call { .. } if !has_interval => {
            return Err(err(format!(
                "{name} aggregate requires a GROUP BY interval"
            )))
        }
        Expr::Call { .. } => {}
        _ => return Err(err(format!("must use aggregate function with {name}"))),
    }
    match &args[1] {
        Expr::Integer(n) if *n <= 0 => {
            return Err(err(format!(
                "second arg to {name} must be greater than 0, got {n}"
            )))
        }
        Expr::Integer(_) => {}
        _ => {
            return Err(err(format!(
                "expected integer argument as second arg in {name}"
            )))
        }
    }
    match &args[2] {
        Expr::Integer(s) if *s < 0 => Err(err(format!(
            "third arg to {name} cannot be negative, got {s}"
        ))),
        Expr::Integer(_) => Ok(()),
        _ => Err(err(format!(
            "expected integer argument as third arg in {name}"
        ))),
    }
}

fn check_types(e: &Expr) -> Result<(), StatementError> {
    let mut res = Ok(());
    e.walk(&mut |x| {
        if let Expr::Binary { op, lhs, rhs } = x {
            if op.is_boolean() {
                return;
            }
            for (side, other) in [(lhs, rhs), (rhs, lhs)] {
                if let Expr::VarRef {
                    name,
                    data_type: Some(VarType::Tag),
                } = side.unparen()
                {
                    let other_kind = match other.unparen() {
                        Expr::Integer(_) => "integer",
                        Expr::Float(_) => "float",
                        Expr::String(_) => "string",
                        _ => "tag",
                    };
                    if res.is_ok() {
                        res = Err(err(format!(
                            "type error: {name}::tag {} {}: incompatible types: tag and {other_kind}",
                            op.as_str(),
                            other.unparen()
                        )));
                    }
                }
            }
        }
    });
    res
}

/// Raw query: one output row per point where at least one column is non-null.
fn eval_raw(cols: &[OutCol], pts: &[Point]) -> Vec<Vec<Value>> {
    let mut out = Vec::with_capacity(pts.len());
    for p in pts {
        let mut row = Vec::with_capacity(cols.len() + 1);
        row.push(Value::Time(p.time));
        for c in cols {
            row.push(eval_point(&c.expr, p));
        }
        if cols.iter().any(|c| refers_to_field(&c.expr, p)) {
            out.push(row);
        }
    }
    out
}

fn refers_to_field(e: &Expr, p: &Point) -> bool {
    e.any(&mut |x| matches!(x, Expr::VarRef { name, .. } if p.fields.contains_key(name)))
}

fn eval_point(e: &Expr, p: &Point) -> Value {
    match e {
        Expr::VarRef { name, data_type } => {
            let v = match data_type {
                Some(VarType::Tag) => p.tags.get(name).map(|s| Value::String(s.clone())),
                Some(VarType::Field) => p.fields.get(name).cloned(),
                _ => p
                    .fields
                    .get(name)
                    .cloned()
                    .or_else(|| p.tags.get(name).map(|s| Value::String(s.clone()))),
            };
            cast(v.unwrap_or(Value::Null), *data_type)
        }
        Expr::Paren(inner) => eval_point(inner, p),
        Expr::Binary { op, lhs, rhs } => {
            binary_value(*op, &eval_point(lhs, p), &eval_point(rhs, p))
        }
        Expr::Call { name, args } => {
            if let Some(f) = math::UnaryMath::from_name(name) {
                let v = args
                    .first()
                    .map(|a| eval_point(a, p))
                    .unwrap_or(Value::Null);
                return math::unary(f, &v);
            }
            if let Some(f) = math::BinaryMath::from_name(name) {
                let a = args
                    .first()
                    .map(|a| eval_point(a, p))
                    .unwrap_or(Value::Null);
                let b = args.get(1).map(|a| eval_point(a, p)).unwrap_or(Value::Null);
                return math::binary(f, &a, &b);
            }
            Value::Null
        }
        other => literal_value(other).unwrap_or(Value::Null),
    }
}

/// Transformations over raw points (no aggregates): every column is a call.
fn eval_transform_raw(
    cols: &[OutCol],
    pts: &[Point],
    stmt: &SelectStatement,
    budget: &Budget,
) -> Result<Vec<Vec<Value>>, StatementError> {
    let mut timelines = Vec::new();
    for c in cols {
        timelines.push(eval_raw_timeline(&c.expr, pts, stmt, budget)?);
    }
    Ok(join_timelines(&timelines, false))
}

fn eval_raw_timeline(
    e: &Expr,
    pts: &[Point],
    stmt: &SelectStatement,
    budget: &Budget,
) -> Result<Timeline, StatementError> {
    match e {
        Expr::Call { name, args } if TRANSFORMS.contains(&name.as_str()) => {
            let inner = match args.first() {
                Some(a) => eval_raw_timeline(a, pts, stmt, budget)?,
                None => return Err(err(format!("invalid number of arguments for {name}"))),
            };
            let mut input: Vec<Row> = inner.into_iter().filter(|(_, v)| !v.is_null()).collect();
            if stmt.is_descending() {
                input.reverse();
            }
            let mut out = apply_transform(name, args, &input, None, budget)?;
            if stmt.is_descending() {
                out.reverse();
            }
            Ok(out)
        }
        _ => {
            let mut out: Vec<Row> = pts.iter().map(|p| (p.time, eval_point(e, p))).collect();
            out.retain(|(_, v)| !v.is_null());
            Ok(out)
        }
    }
}

/// Applies a transformation to a timeline (ascending unless the caller reversed it).
fn apply_transform(
    name: &str,
    args: &[Expr],
    input: &[Row],
    window: Option<transform::Window>,
    budget: &Budget,
) -> Result<Timeline, StatementError> {
    let unit_default = match window {
        Some(w) if name.ends_with("derivative") => w.every,
        _ => 1_000_000_000,
    };
    Ok(match name {
        "derivative" | "non_negative_derivative" => {
            let unit = int_arg(args, 1).unwrap_or(unit_default);
            transform::derivative(input, unit, name.starts_with("non")).map_err(fn_err)?
        }
        "difference" | "non_negative_difference" => {
            transform::difference(input, name.starts_with("non")).map_err(fn_err)?
        }
        "elapsed" => {
            let unit = int_arg(args, 1).unwrap_or(1);
            transform::elapsed(input, unit).map_err(fn_err)?
        }
        "moving_average" => {
            let n =
                int_arg(args, 1).ok_or_else(|| err("moving_average window must be an integer"))?;
            if n < 2 {
                return Err(err(format!(
                    "moving_average window must be greater than 1, got {n}"
                )));
            }
            transform::moving_average(input, n as usize).map_err(fn_err)?
        }
        "cumulative_sum" => transform::cumulative_sum(input).map_err(fn_err)?,
        "holt_winters" | "holt_winters_with_fit" => {
            // Forecasts are windows past the grid: the forecast (and the fit, as long as
            // the grid) is allocated, so `n` counts against the bucket and row limits
            // before anything is computed.
            let Some(w) = window else {
                return Err(err(format!("must use aggregate function with {name}")));
            };
            let n = usize::try_from(int_arg(args, 1).unwrap_or(0).max(0)).unwrap_or(usize::MAX);
            let s = usize::try_from(int_arg(args, 2).unwrap_or(0).max(0)).unwrap_or(usize::MAX);
            let total = input.len() as u128 + n as u128;
            budget.check_buckets(total)?;
            budget.charge_rows(n as u128)?;
            functions::holt_winters::holt_winters(input, n, s, w.every, name.ends_with("fit"))
                .map_err(fn_err)?
        }
        other => {
            if let Some(ind) = functions::technical::Indicator::from_name(other) {
                let period = int_arg(args, 1).unwrap_or(0).max(0) as usize;
                let hold = int_arg(args, 2).filter(|h| *h >= 0).map(|h| h as usize);
                let warmup = match args.get(3) {
                    Some(Expr::String(s)) => functions::technical::Warmup::from_name(s),
                    _ => None,
                };
                functions::technical::indicator(
                    ind,
                    input,
                    functions::technical::IndicatorArgs {
                        period,
                        hold_period: hold,
                        warmup,
                    },
                )
                .map_err(fn_err)?
            } else {
                return Err(err(format!("undefined function {other}()")));
            }
        }
    })
}

/// Evaluates an expression of an aggregate query to a timeline of bucket values.
fn eval_agg_expr(
    e: &Expr,
    ctx: &SeriesCtx<'_>,
    apply_fill: bool,
    selector_times: &mut Option<Vec<Row>>,
) -> Result<Timeline, StatementError> {
    match e {
        Expr::Paren(inner) => eval_agg_expr(inner, ctx, apply_fill, selector_times),
        Expr::Call { name, args } if is_agg_name(name) => {
            let tl = eval_agg_call(name, args, ctx, selector_times)?;
            if !apply_fill || name == "integral" {
                return Ok(tl);
            }
            Ok(fill_timeline(name, tl, ctx))
        }
        Expr::Call { name, args } if TRANSFORMS.contains(&name.as_str()) => {
            let inner = match args.first() {
                Some(a) => eval_agg_expr(a, ctx, true, selector_times)?,
                None => return Err(err(format!("invalid number of arguments for {name}"))),
            };
            let mut input: Vec<Row> = inner;
            if ctx.descending {
                input.reverse();
            }
            let mut out = apply_transform(name, args, &input, ctx.window, ctx.budget)?;
            if ctx.descending {
                out.reverse();
            }
            Ok(out)
        }
        Expr::Call { name, args } => {
            if let Some(f) = math::UnaryMath::from_name(name) {
                let inner = match args.first() {
                    Some(a) => eval_agg_expr(a, ctx, apply_fill, selector_times)?,
                    None => return Err(err(format!("invalid number of arguments for {name}"))),
                };
                return Ok(inner
                    .into_iter()
                    .map(|(t, v)| (t, math::unary(f, &v)))
                    .collect());
            }
            if let Some(f) = math::BinaryMath::from_name(name) {
                let a = match args.first() {
                    Some(a) => eval_agg_expr(a, ctx, apply_fill, selector_times)?,
                    None => return Err(err(format!("invalid number of arguments for {name}"))),
                };
                let b_lit = args.get(1).and_then(literal_value);
                return Ok(a
                    .into_iter()
                    .map(|(t, v)| {
                        let b = b_lit.clone().unwrap_or(Value::Null);
                        (t, math::binary(f, &v, &b))
                    })
                    .collect());
            }
            Err(err(format!("undefined function {name}()")))
        }
        Expr::Binary { op, lhs, rhs } => {
            let l = eval_agg_side(lhs, ctx, selector_times)?;
            let r = eval_agg_side(rhs, ctx, selector_times)?;
            Ok(match (l, r) {
                (Side::Tl(a), Side::Tl(b)) => {
                    let bm: BTreeMap<i64, Value> = b.into_iter().collect();
                    a.into_iter()
                        .map(|(t, v)| {
                            let o = bm.get(&t).cloned().unwrap_or(Value::Null);
                            (t, binary_value(*op, &v, &o))
                        })
                        .collect()
                }
                (Side::Tl(a), Side::Lit(l)) => a
                    .into_iter()
                    .map(|(t, v)| (t, binary_value(*op, &v, &l)))
                    .collect(),
                (Side::Lit(l), Side::Tl(b)) => b
                    .into_iter()
                    .map(|(t, v)| (t, binary_value(*op, &l, &v)))
                    .collect(),
                (Side::Lit(_), Side::Lit(_)) => Vec::new(),
            })
        }
        Expr::VarRef { .. } => Ok(Vec::new()),
        _ => Ok(Vec::new()),
    }
}

enum Side {
    Tl(Timeline),
    Lit(Value),
}

fn eval_agg_side(
    e: &Expr,
    ctx: &SeriesCtx<'_>,
    selector_times: &mut Option<Vec<Row>>,
) -> Result<Side, StatementError> {
    if let Some(v) = literal_value(e.unparen()) {
        return Ok(Side::Lit(v));
    }
    Ok(Side::Tl(eval_agg_expr(e, ctx, true, selector_times)?))
}

fn fill_timeline(name: &str, tl: Timeline, ctx: &SeriesCtx<'_>) -> Timeline {
    if ctx.window.is_none() {
        return tl;
    }
    let mode = to_fn_fill(ctx.fill);
    let mode = if name == "count" {
        mode.count_default()
    } else {
        mode
    };
    let buckets: Vec<(i64, Option<Value>)> = tl
        .into_iter()
        .map(|(t, v)| (t, if v.is_null() { None } else { Some(v) }))
        .collect();
    if ctx.descending {
        let mut rev = buckets;
        rev.reverse();
        let mut out = functions::fill::fill(&rev, &mode);
        out.reverse();
        out
    } else {
        functions::fill::fill(&buckets, &mode)
    }
}

/// One aggregate/selector call per bucket.
fn eval_agg_call(
    name: &str,
    args: &[Expr],
    ctx: &SeriesCtx<'_>,
    selector_times: &mut Option<Vec<Row>>,
) -> Result<Timeline, StatementError> {
    let (field, dt) = match args.first() {
        Some(Expr::VarRef { name, data_type }) => (name.clone(), *data_type),
        Some(Expr::Call { name: inner, .. }) if inner == "distinct" && name == "count" => {
            // count(distinct(x))
            let Some(Expr::Call {
                args: inner_args, ..
            }) = args.first()
            else {
                return Ok(Vec::new());
            };
            let Some(Expr::VarRef { name: f, data_type }) = inner_args.first() else {
                return Err(err("expected field argument in distinct()"));
            };
            let raw = ctx.raw_timeline(f, *data_type);
            return Ok(ctx
                .bucket_rows(&raw)
                .into_iter()
                .map(|(bt, rows)| {
                    let n = aggregate::distinct(&rows).len();
                    (
                        bt,
                        if n == 0 && ctx.window.is_none() {
                            Value::Null
                        } else {
                            Value::Integer(n as i64)
                        },
                    )
                })
                .collect());
        }
        Some(other) => {
            return Err(err(format!(
                "expected field argument in {name}(), got {other}"
            )))
        }
        None => {
            return Err(err(format!(
                "invalid number of arguments for {name}, expected 1, got 0"
            )))
        }
    };
    let raw = ctx.raw_timeline(&field, dt);
    if let Some(bad) = raw.iter().find(|(_, v)| !v.is_null()).map(|(_, v)| v) {
        let kind = functions_kind(bad);
        if aggregate_refuses(name, kind) {
            return Err(unsupported_iterator(name, kind));
        }
    }
    if name == "integral" {
        let unit = int_arg(args, 1).unwrap_or(1_000_000_000);
        let grouping = match ctx.window {
            Some(w) => transform::IntegralGrouping::Windows(w),
            None => transform::IntegralGrouping::Whole {
                start: ctx.agg_time,
                end: ctx.end,
            },
        };
        let rows: Vec<Row> = raw.into_iter().filter(|(_, v)| !v.is_null()).collect();
        let out = transform::integral(&rows, unit, grouping).map_err(fn_err)?;
        return Ok(out
            .into_iter()
            .filter(|(t, _)| ctx.window.is_none() || ctx.buckets.binary_search(t).is_ok())
            .collect());
    }
    let mut tl = Vec::new();
    let mut sel_times = Vec::new();
    let mut had_rows = false;
    for (bt, rows) in ctx.bucket_rows(&raw) {
        had_rows |= !rows.is_empty();
        let (v, sel): (Value, Option<i64>) = match name {
            "count" => {
                if rows.is_empty() {
                    (Value::Null, None)
                } else {
                    (aggregate::count(&rows), None)
                }
            }
            "sum" | "mean" | "median" | "spread" | "stddev" => {
                let f = match name {
                    "sum" => aggregate::sum,
                    "mean" => aggregate::mean,
                    "median" => aggregate::median,
                    "spread" => aggregate::spread,
                    _ => aggregate::stddev,
                };
                (f(&rows).map_err(fn_err)?.unwrap_or(Value::Null), None)
            }
            "mode" => (aggregate::mode(&rows).unwrap_or(Value::Null), None),
            "first" | "last" | "min" | "max" => {
                let r = match name {
                    "first" => aggregate::first(&rows),
                    "last" => aggregate::last(&rows),
                    "min" => aggregate::min(&rows).map_err(fn_err)?,
                    _ => aggregate::max(&rows).map_err(fn_err)?,
                };
                match r {
                    Some((t, v)) => (v, Some(t)),
                    None => (Value::Null, None),
                }
            }
            "percentile" => {
                let p = float_arg(args, 1)
                    .ok_or_else(|| err("expected float argument in percentile()"))?;
                match aggregate::percentile(&rows, p).map_err(fn_err)? {
                    Some((t, v)) => (v, Some(t)),
                    None => (Value::Null, None),
                }
            }
            other => return Err(err(format!("undefined function {other}()"))),
        };
        if let Some(t) = sel {
            sel_times.push((t, v.clone()));
        }
        tl.push((bt, v));
    }
    if SELECTORS.contains(&name) && selector_times.is_none() {
        *selector_times = Some(sel_times);
    }
    // Without GROUP BY time, a series without values for this call yields no row.
    if ctx.window.is_none() && !had_rows {
        return Ok(Vec::new());
    }
    Ok(tl)
}

fn functions_kind(v: &Value) -> &'static str {
    match v {
        Value::Float(_) => "float",
        Value::Integer(_) | Value::Time(_) => "integer",
        Value::Unsigned(_) => "unsigned",
        Value::Boolean(_) => "boolean",
        Value::String(_) => "string",
        Value::Null => "float",
    }
}

/// Joins column timelines into rows by time (union of times, ascending).
fn join_timelines(timelines: &[Timeline], single_bucket: bool) -> Vec<Vec<Value>> {
    if single_bucket {
        // Aggregates without GROUP BY time: one row at the shared time when any column
        // produced a value.
        let t = timelines.iter().find_map(|tl| tl.first().map(|(t, _)| *t));
        let Some(t) = t else { return Vec::new() };
        if timelines.iter().all(|tl| tl.is_empty()) {
            return Vec::new();
        }
        let mut row = vec![Value::Time(t)];
        for tl in timelines {
            row.push(tl.first().map(|(_, v)| v.clone()).unwrap_or(Value::Null));
        }
        return vec![row];
    }
    let mut times: BTreeSet<i64> = BTreeSet::new();
    for tl in timelines {
        times.extend(tl.iter().map(|(t, _)| *t));
    }
    let maps: Vec<BTreeMap<i64, Value>> = timelines
        .iter()
        .map(|tl| tl.iter().cloned().collect())
        .collect();
    let mut out = Vec::with_capacity(times.len());
    for t in times {
        let mut row = vec![Value::Time(t)];
        for m in &maps {
            row.push(m.get(&t).cloned().unwrap_or(Value::Null));
        }
        out.push(row);
    }
    out
}

/// Whether a field of type `t` is read for a reference with the `::type` hint `hint`.
fn cast_compatible(t: FieldType, hint: Option<VarType>) -> bool {
    let numeric = matches!(
        t,
        FieldType::Float | FieldType::Integer | FieldType::Unsigned
    );
    match hint {
        None | Some(VarType::Field) => true,
        Some(VarType::Tag) => false,
        Some(VarType::Float) | Some(VarType::Integer) | Some(VarType::Unsigned) => numeric,
        Some(VarType::String) => t == FieldType::String,
        Some(VarType::Boolean) => t == FieldType::Boolean,
    }
}

/// A subquery's series become the points of virtual sources, one per series name: the
/// columns become fields and the series tags stay tags.
fn series_to_sources(series: Vec<Series>) -> Vec<Src> {
    let mut by_name: BTreeMap<String, (MeasurementSchema, Vec<Point>)> = BTreeMap::new();
    for s in series {
        let name = s.name.clone().unwrap_or_default();
        let entry = by_name.entry(name.clone()).or_default();
        entry.0.tag_keys.extend(s.tags.keys().cloned());
        let tag_vec: Vec<(String, String)> =
            s.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let key = hyperbyte_domain::SeriesKey::new(&name, &tag_vec).0;
        for row in s.values {
            let mut fields = BTreeMap::new();
            let mut time = 0;
            for (c, v) in s.columns.iter().zip(row) {
                if c == "time" {
                    if let Value::Time(t) = v {
                        time = t;
                    }
                    continue;
                }
                if v.is_null() {
                    continue;
                }
                let t = match &v {
                    Value::Float(_) => FieldType::Float,
                    Value::Integer(_) | Value::Time(_) => FieldType::Integer,
                    Value::Unsigned(_) => FieldType::Unsigned,
                    Value::Boolean(_) => FieldType::Boolean,
                    _ => FieldType::String,
                };
                entry.0.fields.entry(c.clone()).or_insert(t);
                fields.insert(c.clone(), v);
            }
            entry.1.push(Point {
                time,
                key: Arc::from(key.as_str()),
                tags: Arc::new(s.tags.clone()),
                fields,
            });
        }
    }
    by_name
        .into_iter()
        .map(|(name, (schema, mut points))| {
            points.sort_by_key(|p| p.time);
            Src {
                db: String::new(),
                rp: String::new(),
                measurement: name,
                schema,
                rows: Some(std::sync::Arc::new(points)),
            }
        })
        .collect()
}

/// [`eval_cond`] with storage's null semantics, for stored points: a comparison that
/// involves a field the point lacks is false (the SQL wraps each comparison in
/// `ifNull(..., 0)`), where `eval_cond` would compare the missing field as `''`.
fn eval_stored_cond(e: &Expr, p: &Point, is_field: &dyn Fn(&str) -> bool) -> bool {
    match e {
        Expr::Paren(inner) => eval_stored_cond(inner, p, is_field),
        Expr::Binary {
            op: BinaryOp::And,
            lhs,
            rhs,
        } => eval_stored_cond(lhs, p, is_field) && eval_stored_cond(rhs, p, is_field),
        Expr::Binary {
            op: BinaryOp::Or,
            lhs,
            rhs,
        } => eval_stored_cond(lhs, p, is_field) || eval_stored_cond(rhs, p, is_field),
        Expr::Binary { .. } => {
            let mut absent = false;
            e.walk(&mut |x| {
                if let Expr::VarRef { name, .. } = x {
                    if is_field(name) && !p.fields.contains_key(name) {
                        absent = true;
                    }
                }
            });
            !absent && eval_cond(e, p)
        }
        other => eval_cond(other, p),
    }
}

/// Evaluates a `WHERE` condition (time terms ignored) against a point in memory.
/// InfluxDB picks an aggregate's iterator by the field's type in the schema, before any
/// data is read: a numeric-only function over a field that is a string or boolean in
/// every source is an error even when no point matches (`min`/`max` take booleans).
fn check_aggregate_types(stmt: &SelectStatement, sources: &[Src]) -> Result<(), StatementError> {
    let mut found = None;
    for f in &stmt.fields {
        f.expr.walk(&mut |e| {
            let Expr::Call { name, args } = e else {
                return;
            };
            let Some(Expr::VarRef { name: field, .. }) = args.first().map(Expr::unparen) else {
                return;
            };
            if found.is_some() {
                return;
            }
            let kinds: Vec<&str> = sources
                .iter()
                .filter(|s| s.rows.is_none())
                .filter_map(|s| s.schema.field_type(field))
                .map(|t| t.influx_name())
                .collect();
            if let Some(kind) = kinds
                .first()
                .filter(|_| kinds.iter().all(|k| aggregate_refuses(name, k)))
            {
                found = Some(unsupported_iterator(name, kind));
            }
        });
    }
    found.map_or(Ok(()), Err)
}

/// Whether InfluxDB has no iterator of aggregate `name` over values of `kind` (its type
/// name): the numeric aggregates take neither strings nor booleans, `min`/`max` take
/// booleans.
fn aggregate_refuses(name: &str, kind: &str) -> bool {
    let numeric_only = matches!(
        name,
        "mean" | "sum" | "median" | "spread" | "stddev" | "integral" | "percentile"
    );
    match kind {
        "string" => numeric_only || matches!(name, "min" | "max"),
        "boolean" => numeric_only,
        _ => false,
    }
}

/// InfluxDB's error for an aggregate over values it has no iterator for.
fn unsupported_iterator(name: &str, kind: &str) -> StatementError {
    err(format!(
        "unsupported {name} iterator type: *query.{kind}InterruptIterator"
    ))
}

fn eval_cond(e: &Expr, p: &Point) -> bool {
    fn value_of(e: &Expr, p: &Point) -> Value {
        match e.unparen() {
            Expr::VarRef { name, .. } => p
                .fields
                .get(name)
                .cloned()
                .or_else(|| p.tags.get(name).map(|s| Value::String(s.clone())))
                .unwrap_or(Value::Null),
            Expr::Binary { op, lhs, rhs } if !op.is_boolean() => {
                let (a, b) = (value_of(lhs, p), value_of(rhs, p));
                match (op, &a, &b) {
                    // In conditions InfluxDB divides integers as integers (in a
                    // projection, `i / 2` is a float).
                    (BinaryOp::Div, Value::Integer(x), Value::Integer(y)) => {
                        Value::Integer(if *y == 0 { 0 } else { x.wrapping_div(*y) })
                    }
                    _ => binary_value(*op, &a, &b),
                }
            }
            other => literal_value(other).unwrap_or(Value::Null),
        }
    }
    match e {
        Expr::Paren(inner) => eval_cond(inner, p),
        Expr::Boolean(b) => *b,
        Expr::Binary { op, lhs, rhs } => match op {
            BinaryOp::And => eval_cond(lhs, p) && eval_cond(rhs, p),
            BinaryOp::Or => eval_cond(lhs, p) || eval_cond(rhs, p),
            _ if lhs.is_time_ref() || rhs.is_time_ref() => true,
            BinaryOp::EqRegex | BinaryOp::NotEqRegex => {
                let (subject, pattern) = match (lhs.unparen(), rhs.unparen()) {
                    (x, Expr::Regex(r)) | (Expr::Regex(r), x) => {
                        (value_of(x, p), r.pattern.clone())
                    }
                    _ => return false,
                };
                let text = match subject {
                    Value::String(s) => s,
                    Value::Null => String::new(),
                    _ => return false,
                };
                let m = regex::Regex::new(&pattern).is_ok_and(|r| r.is_match(&text));
                if *op == BinaryOp::EqRegex {
                    m
                } else {
                    !m
                }
            }
            _ => {
                let mut a = value_of(lhs, p);
                let mut b = value_of(rhs, p);
                // A missing tag compares as the empty string.
                if a.is_null() && matches!(b, Value::String(_)) {
                    a = Value::String(String::new());
                }
                if b.is_null() && matches!(a, Value::String(_)) {
                    b = Value::String(String::new());
                }
                let ord = match (&a, &b) {
                    (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
                    (Value::Boolean(x), Value::Boolean(y)) => Some(x.cmp(y)),
                    (Value::String(_) | Value::Boolean(_), _)
                    | (_, Value::String(_) | Value::Boolean(_)) => None,
                    _ => match (a.as_f64(), b.as_f64()) {
                        (Some(x), Some(y)) => x.partial_cmp(&y),
                        _ => None,
                    },
                };
                let Some(ord) = ord else { return false };
                // `<`, `<=`, `>`, `>=` compare numbers only (InfluxDB).
                let numbers = !matches!(a, Value::String(_) | Value::Boolean(_));
                if !numbers && !matches!(op, BinaryOp::Eq | BinaryOp::NotEq) {
                    return false;
                }
                match op {
                    BinaryOp::Eq => ord.is_eq(),
                    BinaryOp::NotEq => !ord.is_eq(),
                    BinaryOp::Lt => ord.is_lt(),
                    BinaryOp::LtEq => ord.is_le(),
                    BinaryOp::Gt => ord.is_gt(),
                    BinaryOp::GtEq => ord.is_ge(),
                    _ => false,
                }
            }
        },
        _ => true,
    }
}
