//! Aggregates computed by the engine (or over the recent-data tier's columns) instead of
//! in Rust: when every column is `agg(field)` with an aggregate ClickHouse computes
//! exactly as InfluxDB does (`timeseriesql::sql::Pushdown`), the query is grouped by tags
//! and time buckets there and only the bucket grid is filled here. The TSBS "lastpoint"
//! shape (`last()` of everything per series) first reads only the most recent rows.

use super::plan::{SelectPlan, Shape};
use super::*;

/// Above this many rows, a pushdown aggregate runs in ClickHouse rather than over the
/// recent-data tier's columns (both scan; past this the engine's parallel scan wins).
pub(super) const HOT_AGGREGATE_LIMIT: usize = 2_000_000;

/// The (function, field) of every column when the whole query can be aggregated inside
/// ClickHouse: each column is `agg(field)` with a [`Pushdown`] aggregate, and a lone
/// selector is one whose printed time the engine gives too.
///
/// Without `GROUP BY time(...)` a lone `first`, `last`, `min` or `max` prints its
/// point's time, which the engine selects as InfluxDB's reducers do ([`selects_time`]).
/// With it a lone `min` or `max` prints its window's start, and ties between series
/// cannot change the value it selects, so ClickHouse computes it too.
pub(super) fn pushdown_columns(
    cols: &[OutCol],
    fields: &BTreeMap<String, FieldType>,
    grouped_by_time: bool,
    single_selector: bool,
) -> Option<Vec<Spec>> {
    let mut out = Vec::new();
    for c in cols {
        let Expr::Call { name, args } = &c.expr else {
            return None;
        };
        // `count(distinct(field))` is the number of distinct values (`Spec::pushdown`
        // refuses `distinct()` under any other function).
        let (arg, distinct) = super::aggregates::value_argument(args);
        let (
            Some(Expr::VarRef {
                name: field,
                data_type: None | Some(VarType::Field),
            }),
            rest,
        ) = (arg, args.get(1..).unwrap_or_default())
        else {
            return None;
        };
        let level = match (name.as_str(), rest) {
            (_, []) => None,
            ("percentile", [Expr::Integer(p)]) => Some(*p as f64),
            ("percentile", [Expr::Float(p)]) => Some(*p),
            _ => return None,
        };
        let spec = Spec {
            func: name.clone(),
            field: field.clone(),
            ty: *fields.get(field)?,
            level,
            distinct,
        };
        spec.pushdown()?;
        out.push(spec);
    }
    // A single selector prints the selected point's time: the engine gives it without
    // time buckets (see `selects_time`); the others stay on the Rust path. Under
    // `GROUP BY time` a lone `min`, `max` or `percentile` prints its window's start, and
    // which of several points holding the selected value it is cannot change the value.
    if let (true, Some(spec)) = (single_selector, out.first()) {
        let windowed =
            grouped_by_time && matches!(spec.func.as_str(), "min" | "max" | "percentile");
        if !windowed && !selects_time(&out, grouped_by_time, single_selector) {
            return None;
        }
    }
    Some(out)
}

/// One pushed-down column: `func(field)` over a field of type `ty`; `level`: the second
/// argument of a `percentile`; `distinct`: `func` is `count` of `distinct(field)` (filled
/// and typed as a `count`).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Spec {
    pub(super) func: String,
    pub(super) field: String,
    pub(super) ty: FieldType,
    pub(super) level: Option<f64>,
    pub(super) distinct: bool,
}

impl Spec {
    /// The engine's aggregate, if it computes this one as InfluxDB does.
    pub(super) fn pushdown(&self) -> Option<Pushdown> {
        match self.level {
            _ if self.distinct => (self.func == "count").then_some(Pushdown::CountDistinct {
                float: self.ty == FieldType::Float,
            }),
            Some(level) if self.func == "percentile" => Pushdown::percentile(level, self.ty),
            Some(_) => None,
            None => Pushdown::of(&self.func, self.ty),
        }
    }
}

/// Whether the pushdown of `specs` answers with the selected point's time: a lone
/// `first()`, `last()`, `min()` or `max()` without `GROUP BY time` (InfluxDB prints that
/// point's time, not the range's start; `AggregateRead` and the tier's aggregate then
/// give it).
pub(super) fn selects_time(specs: &[Spec], grouped_by_time: bool, single_selector: bool) -> bool {
    single_selector
        && specs
            .first()
            .is_some_and(|spec| POINT_SELECTORS.contains(&spec.func.as_str()))
        && !grouped_by_time
}

/// Rows of `[time, value]` as `[time, value, value, …]` with `copies` values.
fn repeat_values(rows: Vec<Vec<Value>>, copies: usize) -> Vec<Vec<Value>> {
    if copies <= 1 {
        return rows;
    }
    rows.into_iter()
        .map(|mut row| {
            if let Some(v) = row.get(1).cloned() {
                row.extend(std::iter::repeat_n(v, copies - 1));
            }
            row
        })
        .collect()
}

/// The selectors whose point's time the engine computes as InfluxDB does.
const POINT_SELECTORS: &[&str] = &["first", "last", "min", "max", "percentile"];

impl QueryService {
    /// Runs an aggregate query where the data is (the recent-data tier's columns, else
    /// ClickHouse): `GROUP BY` tags and time buckets there, then fills the bucket grid in
    /// Rust. Returns rows per group key; `None` when the engine's answer depends on the
    /// order of points it does not see (a `mode` among equally frequent values), so
    /// the caller evaluates the points. A window whose points give no value (`stddev`
    /// of one value) holds NaN, which `LIMIT` under `fill(none)` counts as a point; the
    /// caller turns it into null ([`no_value_as_null`]).
    pub(super) async fn pushdown_aggregate(
        &self,
        plan: &SelectPlan,
        src: &Src,
        stmt: &SelectStatement,
        (budget, (kept, first_selects_nothing)): (&Budget, LoneCut<'_>),
    ) -> Result<Option<Vec<(Vec<String>, Vec<Vec<Value>>)>>, StatementError> {
        let (fill, descending) = (&stmt.fill, stmt.is_descending());
        let shape = &plan.shape;
        let range = (shape.range.min, shape.range.max);
        let grouped_by_time = shape.interval.is_some();
        let Some(mut specs) = pushdown_columns(
            &plan.cols,
            &plan.all_fields,
            grouped_by_time,
            plan.single_selector,
        ) else {
            return Ok(Some(Vec::new()));
        };
        // One selector call written in several columns is computed once and printed in
        // each of them.
        let copies = if plan.single_selector {
            let columns = specs.len();
            specs.truncate(1);
            columns
        } else {
            1
        };
        let cond = plan.cond_in(src);
        let cond = cond.as_deref();
        let point_time = selects_time(&specs, grouped_by_time, plan.single_selector);
        let hot_rows = self.hot_aggregate(
            src,
            &specs,
            &plan.group_tags,
            cond,
            shape.interval.as_ref(),
            range,
        );
        self.count_tier(hot_rows.is_some());
        let rows = match hot_rows {
            Some(rows) => rows,
            None => match self.engine_aggregate(plan, src, &specs).await? {
                EngineRows::Rows(rows) => rows,
                EngineRows::Missing => return Ok(Some(Vec::new())),
                EngineRows::Undecided => return Ok(None),
            },
        };
        let mut groups = group_aggregate_rows(rows, plan.group_tags.len(), &specs);
        if plan.lone_percentile.is_some() {
            *first_selects_nothing = decide_on_windows(&mut groups, kept, descending);
        }
        let mut out = Vec::with_capacity(groups.len());
        for (key, buckets) in groups {
            let rows = match &shape.interval {
                None => {
                    let (at, vals) = buckets.into_iter().next().unwrap_or_default();
                    // An aggregate without GROUP BY over no rows still yields a row of nulls.
                    if vals.iter().all(Value::is_null) {
                        continue;
                    }
                    let time = if point_time { at } else { range.0.unwrap_or(0) };
                    let mut row = vec![Value::Time(time)];
                    row.extend(vals);
                    vec![row]
                }
                Some(window) => {
                    let grid = (window, shape);
                    fill_bucket_grid(&buckets, &specs, grid, fill, descending, budget)?
                }
            };
            out.push((key, repeat_values(rows, copies)));
        }
        Ok(Some(out))
    }

    /// The aggregate rows ClickHouse computes.
    async fn engine_aggregate(
        &self,
        plan: &SelectPlan,
        src: &Src,
        specs: &[Spec],
    ) -> Result<EngineRows, StatementError> {
        let shape = &plan.shape;
        let (min, max) = (shape.range.min, shape.range.max);
        let cond = plan.cond_in(src);
        let (group_tags, cond) = (&plan.group_tags, cond.as_deref());
        let existing = self.table_columns(src).await?;
        if existing.is_empty() {
            return Ok(EngineRows::Missing);
        }
        // Asked only where it may matter (grouped by tags, no time buckets); unknown is
        // no order: the aggregate then hashes, as it always did.
        let leading = if group_tags.is_empty() || shape.interval.is_some() {
            Vec::new()
        } else {
            self.engine
                .leading_key_columns(&src.db, &src.rp, &src.measurement)
                .await
                .unwrap_or_default()
        };
        let read = self.aggregate_read(
            src,
            (&existing, &leading),
            specs,
            group_tags,
            cond,
            shape.interval.as_ref(),
            (min, max),
        );
        if read.filter.any_field.is_empty() {
            return Ok(EngineRows::Missing);
        }
        let sql = read.to_sql().map_err(|e| err(e.to_string()))?;
        let recent = match self.expected_last_groups(
            src,
            specs,
            group_tags,
            cond,
            shape.interval.as_ref(),
        ) {
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
                Err(e) if e.is_missing_table() => return Ok(EngineRows::Missing),
                Err(e) => return Err(e.into()),
            },
        };
        if let Some(at) = read.undecided_column() {
            if result
                .rows
                .iter()
                .any(|row| row.get(at).is_some_and(is_true))
            {
                return Ok(EngineRows::Undecided);
            }
        }
        Ok(EngineRows::Rows(result.rows))
    }
}

/// What the engine's aggregate gave.
enum EngineRows {
    /// One row per group and bucket.
    Rows(Vec<Vec<Value>>),
    /// No table, or none of the fields in it.
    Missing,
    /// A row whose answer depends on the points' order ([`Pushdown::Mode`]).
    Undecided,
}

/// A flag column's value (`Bool`, or a number the engine computed a condition as).
fn is_true(v: &Value) -> bool {
    match v {
        Value::Boolean(b) => *b,
        Value::Unsigned(n) => *n != 0,
        Value::Integer(n) => *n != 0,
        _ => false,
    }
}

/// Whether the columns of `group_tags` are the first ones of the sort key (`leading`),
/// in any order: the table's rows then come grouped (`GROUP BY hostname` where the key
/// starts with it, over 1,000 hosts: 190 -> 60 ms in the engine).
fn leads_the_key(group_tags: &[String], leading: &[String]) -> bool {
    let cols: BTreeSet<String> = group_tags.iter().map(|t| naming::tag_column(t)).collect();
    !cols.is_empty()
        && leading
            .get(..cols.len())
            .is_some_and(|first| first.iter().all(|c| cols.contains(c)))
}

/// Aggregate rows (group tags, bucket, one value per spec) by group key, then bucket
/// start, with InfluxDB's result types.
fn group_aggregate_rows(
    rows: Vec<Vec<Value>>,
    n_tags: usize,
    specs: &[Spec],
) -> BTreeMap<Vec<String>, BTreeMap<i64, Vec<Value>>> {
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
            .zip(specs)
            .map(|(v, spec)| normalise_agg(&spec.func, spec.ty, v))
            .collect();
        groups.entry(key).or_default().insert(b, vals);
    }
    groups
}

/// One group's rows over the whole `GROUP BY time` grid of the query, filled.
/// With `ORDER BY time DESC` the fill walks the grid from its end, as InfluxDB does
/// (`fill(previous)` then repeats the later bucket).
fn fill_bucket_grid(
    buckets: &BTreeMap<i64, Vec<Value>>,
    specs: &[Spec],
    (w, shape): (&transform::Window, &Shape),
    fill: &Fill,
    descending: bool,
    budget: &Budget,
) -> Result<Vec<Vec<Value>>, StatementError> {
    let first = buckets.keys().next().copied().unwrap_or(0);
    let (start, end, count) = w.grid(
        shape.range.min.unwrap_or(first),
        shape.range.max.unwrap_or(shape.now),
        0,
    );
    let times: Vec<i64> = if *fill == Fill::None {
        // Only the windows holding points print: the grid is never built (a range without
        // an upper bound reaches `now()`, 10⁸ windows of 10 s after 1970).
        buckets.range(start..=end).map(|(t, _)| *t).collect()
    } else {
        budget.check_buckets(count)?;
        budget.charge_rows(count)?;
        w.starts(start, end).collect()
    };
    let mut timelines: Vec<Timeline> = Vec::with_capacity(specs.len());
    for (i, func) in specs.iter().map(|s| &s.func).enumerate() {
        let tl: Vec<(i64, Option<Value>)> = times
            .iter()
            .map(|t| {
                let v = buckets.get(t).and_then(|v| v.get(i)).cloned();
                (*t, v.filter(|x| !x.is_null()))
            })
            .collect();
        let (tl, mode) = super::aggregates::fill_mode_of(func, tl, to_fn_fill(fill, w.every));
        timelines.push(super::aggregates::fill_in_walk_order(tl, &mode, descending));
    }
    Ok(join_timelines(&timelines, false))
}

/// `rows` with each NaN (a `stddev` of one value, kept apart from a missing value while
/// the grid was filled) as null. No stored value is NaN.
pub(super) fn no_value_as_null(rows: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    rows.into_iter()
        .map(|row| {
            row.into_iter()
                .map(super::aggregates::marker_as_null)
                .collect()
        })
        .collect()
}

/// Converts ClickHouse's aggregate result types to InfluxDB's (`count` is an integer,
/// `mean`, `median` and `stddev` floats, the others keep the field's type; an empty
/// aggregate is null). A `stddev` of one value stays NaN until the bucket grid is filled
/// (the window exists: it is printed as null, not filled; [`no_value_as_null`]).
pub(super) fn normalise_agg(func: &str, t: FieldType, v: Value) -> Value {
    match (func, v) {
        (_, Value::Null) => Value::Null,
        ("count", Value::Unsigned(0)) | ("count", Value::Integer(0)) => Value::Null,
        ("count", Value::Unsigned(n)) => Value::Integer(n as i64),
        ("mean" | "median" | "stddev", v) => v.as_f64().map(Value::Float).unwrap_or(Value::Null),
        (_, Value::Unsigned(u)) if t == FieldType::Integer => Value::Integer(u as i64),
        (_, Value::Integer(i)) if t == FieldType::Unsigned => Value::Unsigned(i as u64),
        (_, Value::Integer(i)) if t == FieldType::Float => Value::Float(i as f64),
        (_, v) => v,
    }
}

impl QueryService {
    /// The pushdown aggregate computed over the recent-data tier, in the rows the SQL
    /// would return (`None`: not covered, too big, or a condition on fields).
    pub(super) fn hot_aggregate(
        &self,
        src: &Src,
        specs: &[Spec],
        group_tags: &[String],
        cond: Option<&Expr>,
        interval: Option<&Window>,
        (min, max): (Option<i64>, Option<i64>),
    ) -> Option<Vec<Vec<Value>>> {
        let hot = self.hot.as_ref()?;
        let schema = &src.schema;
        let is_field = |n: &str| schema.field_type(n).is_some();
        if !cond.is_none_or(|c| crate::query::decided_by_tags(c, &is_field)) {
            return None;
        }
        let mut aggs = Vec::with_capacity(specs.len());
        for spec in specs {
            if schema.field_type(&spec.field) != Some(spec.ty)
                || spec.level.is_some()
                || spec.distinct
            {
                return None;
            }
            aggs.push((crate::hot::Agg::of(&spec.func)?, spec.field.clone()));
        }
        let fields: Vec<String> = aggs.iter().map(|(_, f)| f.clone()).collect();
        let mut filter =
            crate::query::ReadFilter::new(cond, &fields, min, max).with_fields(&is_field);
        hot.aggregate(
            (&src.db, &src.rp, &src.measurement),
            &mut filter,
            group_tags,
            interval,
            &aggs,
            HOT_AGGREGATE_LIMIT,
        )
    }

    /// For `last()` of every column without `GROUP BY time` or a `WHERE` condition (the
    /// TSBS "lastpoint" shape): how many groups the answer has, known from the series
    /// index (`None`: not that shape, or unknown).
    pub(super) fn expected_last_groups(
        &self,
        src: &Src,
        specs: &[Spec],
        group_tags: &[String],
        cond: Option<&Expr>,
        interval: Option<&Window>,
    ) -> Option<usize> {
        if interval.is_some() || cond.is_some() || specs.iter().any(|s| s.func != "last") {
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
    pub(super) async fn last_from_recent(
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

    /// The storage read of a pushdown aggregate: `specs` per group of `group_tags` (and
    /// time bucket), over the columns the table has (`existing`), whose sort key starts
    /// with the columns `leading`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn aggregate_read(
        &self,
        src: &Src,
        (existing, leading): (&BTreeSet<String>, &[String]),
        specs: &[Spec],
        group_tags: &[String],
        cond: Option<&Expr>,
        interval: Option<&Window>,
        (min, max): (Option<i64>, Option<i64>),
    ) -> AggregateRead {
        let schema = &src.schema;
        let has = |c: &str| existing.contains(c);
        let in_key_order = schema
            .tag_keys
            .iter()
            .all(|t| !has(&naming::tag_column(t)) || group_tags.contains(t))
            || leads_the_key(group_tags, leading);
        let group_tags = group_tags
            .iter()
            .map(|t| has(&naming::tag_column(t)).then(|| t.clone()))
            .collect();
        let mut any_field = Vec::new();
        let mut columns = Vec::with_capacity(specs.len());
        for spec in specs {
            let field = &spec.field;
            if has(&naming::field_column(field)) && schema.field_type(field) == Some(spec.ty) {
                columns.push(spec.pushdown().map(|p| (p, field.clone())));
                any_field.push(field.clone());
            } else {
                columns.push(None);
            }
        }
        AggregateRead {
            table: TableRef::new(&src.db, &src.rp, &src.measurement),
            merge: self.must_merge(src, min, max),
            group_tags,
            bucket: interval.cloned(),
            in_key_order,
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
}
