//! Aggregates and selectors computed in Rust, per series: the bucket grid of
//! `GROUP BY time`, every aggregate column as a timeline of bucket values, fill, math
//! over aggregates, and the multi-row functions (`top`, `bottom`, `distinct`, `sample`).
//! Used for whatever [`super::pushdown`] cannot hand to the engine exactly.

use super::plan::Shape;
use super::*;
use hyperbyte_timeseriesql::ast::TimeRange;

/// The fill of a query whose windows are `every` long (only `fill(linear)` needs it).
pub(super) fn to_fn_fill(f: &Fill, every: i64) -> FnFill {
    match f {
        Fill::Null => FnFill::Null,
        Fill::None => FnFill::None,
        Fill::Previous => FnFill::Previous,
        Fill::Linear => FnFill::Linear { every },
        Fill::Integer(i) => FnFill::Number(Value::Integer(*i)),
        Fill::Float(x) => FnFill::Number(Value::Float(*x)),
    }
}

pub(super) fn fn_err(e: functions::FunctionError) -> StatementError {
    err(e.to_string())
}

/// A source's fields and the whole statement's ([`SeriesCtx::typed`]).
pub(super) type FieldMaps<'a> = (
    &'a BTreeMap<String, FieldType>,
    &'a BTreeMap<String, FieldType>,
);

/// How a series' points reach the reducers: under `ORDER BY time DESC` the rank of each
/// in that order (`SeriesCtx::feed_rank`), and whether they are the merge of the series
/// (`SeriesCtx::merged_per_field`).
pub(super) type Feed<'a> = (Option<&'a [usize]>, Option<Option<i64>>);

/// Execution context shared by the columns of one series.
pub(super) struct SeriesCtx<'a> {
    points: &'a [Point],
    /// The fields of the measurement: a function of anything else (a tag, a missing
    /// field) is a column of nulls, filled only by a number (InfluxDB has no iterator
    /// for it, [`fill_with_number`]).
    fields: &'a BTreeMap<String, FieldType>,
    /// The fields of the whole statement (every source): a field another source has is
    /// typed, so InfluxDB builds an iterator for it here too ([`fill_with_number`]).
    typed: &'a BTreeMap<String, FieldType>,
    /// Under `ORDER BY time DESC`, each point's position in the order InfluxDB's reducers
    /// receive them (newest first), when a column breaks ties by it.
    feed_rank: Option<&'a [usize]>,
    /// `Some(shard group duration)` when `points` are the merge of the series (not a
    /// subquery's rows): a call over one field then receives the merge of only the points
    /// holding that field, as InfluxDB builds an iterator per field, and where the order
    /// of equal times matters (`integral`) it is that merge's.
    merged_per_field: Option<Option<i64>>,
    /// Window grid and the list of bucket start times (aggregate queries).
    window: Option<&'a transform::Window>,
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
    /// Whether a function's arguments name a field of the measurement (directly or
    /// through `distinct()`).
    fn has_field_argument(&self, args: &[Expr]) -> bool {
        match value_argument(args).0 {
            Some(Expr::VarRef { name, data_type }) => {
                *data_type != Some(VarType::Tag) && self.fields.contains_key(name)
            }
            _ => true,
        }
    }

    /// Raw timeline of a field (of a tag only when asked for as `name::tag`): InfluxDB's
    /// functions see no value in a tag, so `count(distinct(host))` beside another column
    /// prints null.
    pub(super) fn raw_timeline(&self, name: &str, t: Option<VarType>) -> Vec<Row> {
        let tag = t == Some(VarType::Tag);
        self.points
            .iter()
            .map(|p| {
                let v = if tag {
                    p.tags.get(name).map(|s| Value::String(s.clone()))
                } else {
                    p.fields.get(name).cloned()
                }
                .unwrap_or(Value::Null);
                (p.time, cast(v, t))
            })
            .collect()
    }

    /// The non-null rows of a raw timeline in the order InfluxDB's iterator over that
    /// field alone hands them over (see `merged_per_field`; as given otherwise).
    fn rows_as_merged(&self, raw: Vec<Row>) -> Vec<Row> {
        let holding = (0..raw.len()).filter(|&i| !raw[i].1.is_null());
        let order: Vec<usize> = match self.merged_per_field {
            Some(shards) => super::shape::feed_order_of(self.points, holding.collect(), shards),
            None => holding.collect(),
        };
        order.into_iter().map(|i| raw[i].clone()).collect()
    }

    /// The non-null rows of each bucket, by bucket start.
    pub(super) fn bucket_rows(&self, rows: &[Row]) -> Vec<(i64, Vec<Row>)> {
        self.bucket_indices(rows)
            .into_iter()
            .map(|(b, idx)| (b, idx.into_iter().map(|i| rows[i].clone()).collect()))
            .collect()
    }

    /// [`Self::bucket_rows`] with each bucket's rows in the order InfluxDB's reducers
    /// receive them (`feed_rank`; time order without it).
    pub(super) fn bucket_rows_as_fed(&self, rows: &[Row]) -> Vec<(i64, Vec<Row>)> {
        self.bucket_indices(rows)
            .into_iter()
            .map(|(b, mut idx)| {
                if let Some(rank) = self.feed_rank {
                    idx.sort_by_key(|&i| rank.get(i).copied().unwrap_or(usize::MAX));
                }
                (b, idx.into_iter().map(|i| rows[i].clone()).collect())
            })
            .collect()
    }

    /// The indices of the non-null rows of each bucket, by bucket start (rows parallel
    /// to the points, as [`Self::raw_timeline`] gives them).
    pub(super) fn bucket_indices(&self, rows: &[Row]) -> Vec<(i64, Vec<usize>)> {
        let non_null = rows
            .iter()
            .enumerate()
            .filter(|(_, (_, v))| !v.is_null())
            .map(|(i, (t, _))| (i, *t));
        match self.window {
            None => vec![(self.agg_time, non_null.map(|(i, _)| i).collect())],
            Some(w) => {
                let mut map: BTreeMap<i64, Vec<usize>> =
                    self.buckets.iter().map(|b| (*b, Vec::new())).collect();
                for (i, t) in non_null {
                    let (b, _) = w.bounds(t);
                    if let Some(list) = map.get_mut(&b) {
                        list.push(i);
                    }
                }
                map.into_iter().collect()
            }
        }
    }
}

impl QueryService {
    /// One series' rows of an aggregate statement, and whether `LIMIT`/`OFFSET` were
    /// applied already (per column, see [`cut_per_column`]).
    pub(super) fn eval_aggregate(
        &self,
        cols: &[OutCol],
        (pts, (fields, typed), (feed_rank, merged_per_field)): (&[Point], FieldMaps<'_>, Feed<'_>),
        stmt: &SelectStatement,
        shape: &Shape,
        single_selector: bool,
        budget: &Budget,
    ) -> Result<(Vec<Vec<Value>>, bool), StatementError> {
        let window = shape.interval.as_ref();
        let transform_range = match shape.transform_range {
            // InfluxDB answers nothing when the transformations' range wrapped (no lower
            // bound): its other columns print nothing either.
            Some(range) if !shape.holds_times(&range) => return Ok((Vec::new(), false)),
            range => range.filter(|_| window.is_some()),
        };
        // The points of the statement's range (in time order) when the read reached one
        // window further for the transformations (`transform_ctx`).
        let (own, own_rank) = match transform_range {
            Some(_) => points_in(pts, feed_rank, &shape.range),
            None => (pts, feed_rank),
        };
        let maps = (fields, typed);
        let own_feed = (own_rank, merged_per_field);
        let ctx = series_ctx(own, (maps, own_feed), shape, shape.range, stmt, budget)?;
        let transform_ctx = match transform_range {
            Some(range) => {
                let (pts, rank) = points_in(pts, feed_rank, &range);
                let feed = (rank, merged_per_field);
                Some(series_ctx(pts, (maps, feed), shape, range, stmt, budget)?)
            }
            None => None,
        };

        // Multi-row functions (top, bottom, distinct, sample, percentile with tags...).
        if let Some(rows) = self.eval_multirow(cols, &ctx, single_selector)? {
            return Ok((rows, false));
        }

        let mut timelines: Vec<Timeline> = Vec::new();
        let mut selector_times: Option<Vec<Selected>> = None;
        for c in cols {
            let ctx = match &transform_ctx {
                Some(t) if reads_one_more_window(&c.expr) => t,
                _ => &ctx,
            };
            let tl = eval_agg_expr(&c.expr, ctx, true, &mut selector_times)?;
            timelines.push(tl);
        }
        // Single selector without GROUP BY time: the row carries the selected point's
        // time, and bare fields/tags come from that point.
        if single_selector && window.is_none() {
            if let Some(sel) = &selector_times {
                let Some(first) = sel.first() else {
                    return Ok((Vec::new(), false));
                };
                let point = selected_point(own, cols, first);
                let mut row = vec![Value::Time(first.time)];
                for (c, tl) in cols.iter().zip(&timelines) {
                    if reads_outside_calls(&c.expr) {
                        row.push(eval_beside_selector(&c.expr, point, &first.value));
                    } else if contains_agg(&c.expr) {
                        row.push(tl.first().map(|(_, v)| v.clone()).unwrap_or(Value::Null));
                    } else {
                        row.push(Value::Null);
                    }
                }
                return Ok((vec![row], false));
            }
        }
        // Under GROUP BY time a single selector's bare fields and tags come from the
        // point it selects in each window (null in a window without one). A series where
        // it selects nothing at all prints nothing, as InfluxDB's selector iterator, which
        // reads the bare columns beside its field, emits nothing for it (`last(i), v`
        // over a host that only wrote `v`).
        if single_selector && window.is_some() {
            if let Some(sel) = &selector_times {
                if sel.is_empty() {
                    return Ok((Vec::new(), false));
                }
                bare_column_timelines(cols, &mut timelines, sel, &ctx);
            }
        }
        let cut = window.is_some() && cut_per_column(&mut timelines, stmt);
        let integral: Vec<bool> = cols
            .iter()
            .map(|c| {
                c.expr
                    .any(&mut |x| matches!(x, Expr::Call { name, .. } if name == "integral"))
            })
            .collect();
        // Columns that are an `integral()` itself (not inside arithmetic).
        let bare_integral: Vec<bool> = cols
            .iter()
            .map(|c| matches!(c.expr.unparen(), Expr::Call { name, .. } if name == "integral"))
            .collect();
        let mut rows = if window.is_none() && integral.contains(&true) {
            join_integral_apart(&timelines, &integral)
        } else {
            join_timelines(&timelines, window.is_none())
        };
        if window.is_some() {
            fill_transform_cells(
                cols,
                &bare_integral,
                &mut rows,
                &stmt.fill,
                stmt.is_descending(),
            );
        }
        Ok((rows, cut))
    }

    pub(super) fn eval_multirow(
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
        let mut out_rows: Vec<Vec<Value>> = Vec::new();
        if matches!(name.as_str(), "top" | "bottom") {
            // Each candidate keeps its own point: its tags and other fields are printed
            // (several series' points share a time and a value). Points of one value and
            // time are taken in series key order: the merge's order of them depends on
            // which series the read handed over (storage hands over only candidates,
            // `SelectPlan::best_rows`), and InfluxDB's own choice among them follows
            // its selector's heap, which neither order reproduces.
            for (_, mut members) in ctx.bucket_indices(&raw) {
                members.sort_by(|&a, &b| ctx.points[a].key.cmp(&ctx.points[b].key));
                let rows: Vec<Row> = members.iter().map(|&i| raw[i].clone()).collect();
                let points: Vec<&Point> = members.iter().map(|&i| &ctx.points[i]).collect();
                let mut picked = top_bottom_rows(&name, &args, idx, cols, &rows, &points)?;
                if ctx.descending {
                    // Under `ORDER BY time DESC` InfluxDB lists the windows backwards but
                    // each window's points forwards; the caller reverses every row.
                    picked.reverse();
                }
                out_rows.extend(picked);
            }
            return Ok(Some(out_rows));
        }
        if name == "sample" {
            // Each picked point prints its own other columns (fields and tags), as
            // InfluxDB's selectors do. Its reducer sorts a window's picks by time, so
            // under `ORDER BY time DESC` the windows come backwards but each window's
            // points forwards, as with `top` above.
            let n = int_arg(&args, 1).unwrap_or(1).max(1) as usize;
            for (_, members) in ctx.bucket_indices(&raw) {
                let rows: Vec<Row> = members.iter().map(|&i| raw[i].clone()).collect();
                let mut picked: Vec<Vec<Value>> = aggregate::sample_indices(&rows, n, 0x5eed)
                    .into_iter()
                    .map(|p| {
                        let (time, v) = &rows[p];
                        selector_row(*time, v, idx, cols, &ctx.points[members[p]])
                    })
                    .collect();
                if ctx.descending {
                    picked.reverse();
                }
                out_rows.extend(picked);
            }
            return Ok(Some(out_rows));
        }
        // distinct: one row per value, at the window's time, by the time of its first
        // point fed (under `ORDER BY time DESC` its latest); the caller reverses every
        // row under `DESC`.
        for (bt, rows) in ctx.bucket_rows(&raw) {
            let values = if ctx.descending {
                let mut v = aggregate::distinct_newest_first(&rows);
                v.reverse();
                v
            } else {
                aggregate::distinct(&rows)
            };
            for v in values {
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
        Ok(Some(out_rows))
    }
}

/// The argument a function reads its values from: `x` of `count(distinct(x))` (then
/// `true`), else the first argument.
pub(super) fn value_argument(args: &[Expr]) -> (Option<&Expr>, bool) {
    match args {
        [Expr::Call { name, args: inner }] if name == "distinct" && inner.len() == 1 => {
            (inner.first(), true)
        }
        _ => (args.first(), false),
    }
}

/// The value of a window whose points give no value (`stddev` of one point) while its
/// timeline is filled: InfluxDB prints that window, as null, and fills only windows
/// without points (`fill(0)` leaves it null, `fill(previous)` then repeats null,
/// `fill(none)` keeps it). No stored value is NaN; [`without_markers`] turns it into
/// null once filled.
const PRESENT_WITHOUT_VALUE: f64 = f64::NAN;

/// `tl` with [`PRESENT_WITHOUT_VALUE`] as null.
fn without_markers(tl: Timeline) -> Timeline {
    tl.into_iter()
        .map(|(t, v)| (t, marker_as_null(v)))
        .collect()
}

/// `v`, or null for [`PRESENT_WITHOUT_VALUE`] (the engine's `stddev` of one value is that
/// marker too).
pub(super) fn marker_as_null(v: Value) -> Value {
    match v {
        Value::Float(x) if x.is_nan() => Value::Null,
        v => v,
    }
}

/// Evaluates an expression of an aggregate query to a timeline of bucket values.
pub(super) fn eval_agg_expr(
    e: &Expr,
    ctx: &SeriesCtx<'_>,
    apply_fill: bool,
    selector_times: &mut Option<Vec<Selected>>,
) -> Result<Timeline, StatementError> {
    match e {
        Expr::Paren(inner) => eval_agg_expr(inner, ctx, apply_fill, selector_times),
        Expr::Call { name, args } if is_agg_name(name) => {
            let tl = eval_agg_call(name, args, ctx, selector_times)?;
            if !apply_fill || name == "integral" {
                return Ok(without_markers(tl));
            }
            if !ctx.has_field_argument(args) {
                return Ok(without_markers(fill_with_number(name, args, tl, ctx)));
            }
            Ok(without_markers(fill_timeline(name, tl, ctx)))
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
            if !is_math_function(name) {
                return Err(err(format!("undefined function {name}()")));
            }
            let inner = match args.first() {
                Some(a) => eval_agg_expr(a, ctx, apply_fill, selector_times)?,
                None => return Err(err(format!("invalid number of arguments for {name}"))),
            };
            Ok(apply_math(name, args, inner))
        }
        Expr::Binary { op, lhs, rhs } => {
            let l = eval_agg_side(lhs, ctx, selector_times)?;
            let r = eval_agg_side(rhs, ctx, selector_times)?;
            Ok(combine_sides(*op, l, r))
        }
        Expr::VarRef { .. } => Ok(Vec::new()),
        _ => Ok(Vec::new()),
    }
}

pub(super) enum Side {
    Tl(Timeline),
    Lit(Value),
}

/// Whether `name` is a math function ([`apply_math`]).
pub(super) fn is_math_function(name: &str) -> bool {
    math::UnaryMath::from_name(name).is_some() || math::BinaryMath::from_name(name).is_some()
}

/// Math function `name` (`abs`, `pow(x, 2)`, …) over its first argument's timeline
/// `inner`, a second argument taken as a literal; a name that is no math function leaves
/// `inner` as it is (see [`is_math_function`]).
pub(super) fn apply_math(name: &str, args: &[Expr], inner: Timeline) -> Timeline {
    if let Some(f) = math::UnaryMath::from_name(name) {
        return inner
            .into_iter()
            .map(|(t, v)| (t, math::unary(f, &v)))
            .collect();
    }
    if let Some(f) = math::BinaryMath::from_name(name) {
        let b = args.get(1).and_then(literal_value).unwrap_or(Value::Null);
        return inner
            .into_iter()
            .map(|(t, v)| (t, math::binary(f, &v, &b)))
            .collect();
    }
    inner
}

/// `l op r` over the times of the left timeline (a literal side applies at every time).
pub(super) fn combine_sides(op: BinaryOp, l: Side, r: Side) -> Timeline {
    match (l, r) {
        (Side::Tl(a), Side::Tl(b)) => {
            let bm: BTreeMap<i64, Value> = b.into_iter().collect();
            a.into_iter()
                .map(|(t, v)| {
                    let o = bm.get(&t).cloned().unwrap_or(Value::Null);
                    (t, binary_value(op, &v, &o))
                })
                .collect()
        }
        (Side::Tl(a), Side::Lit(l)) => a
            .into_iter()
            .map(|(t, v)| (t, binary_value(op, &v, &l)))
            .collect(),
        (Side::Lit(l), Side::Tl(b)) => b
            .into_iter()
            .map(|(t, v)| (t, binary_value(op, &l, &v)))
            .collect(),
        (Side::Lit(_), Side::Lit(_)) => Vec::new(),
    }
}

pub(super) fn eval_agg_side(
    e: &Expr,
    ctx: &SeriesCtx<'_>,
    selector_times: &mut Option<Vec<Selected>>,
) -> Result<Side, StatementError> {
    if let Some(v) = literal_value(e.unparen()) {
        return Ok(Side::Lit(v));
    }
    Ok(Side::Tl(eval_agg_expr(e, ctx, true, selector_times)?))
}

/// A column InfluxDB has no values for (a function of a tag, or of a field the
/// measurement lacks): null in every window, which `fill(<number>)` fills when InfluxDB
/// builds an iterator for it (not `count`'s own 0 under `fill(null)`, nor `previous`):
/// always over a tag or a field another source of the statement has (its type is
/// known), and over a field no source has for a function whose result has a type of its
/// own (`count`, `mean`, `median`, `stddev`); the others take the missing field's type,
/// none, and stay null.
fn fill_with_number(name: &str, args: &[Expr], tl: Timeline, ctx: &SeriesCtx<'_>) -> Timeline {
    let number = match ctx.fill {
        Fill::Integer(i) => Value::Integer(*i),
        Fill::Float(f) => Value::Float(*f),
        _ => return tl,
    };
    let (tag, typed) = match value_argument(args).0 {
        Some(Expr::VarRef { name, data_type }) => (
            *data_type == Some(VarType::Tag)
                || ctx.points.iter().any(|p| p.tags.contains_key(name)),
            ctx.typed.contains_key(name),
        ),
        _ => (false, false),
    };
    if !tag && !typed && !matches!(name, "count" | "mean" | "median" | "stddev") {
        return tl;
    }
    let times: Vec<i64> = match ctx.window {
        Some(_) => ctx.buckets.clone(),
        None => vec![ctx.agg_time],
    };
    let mut values: BTreeMap<i64, Value> = tl.into_iter().collect();
    times
        .into_iter()
        .map(|t| match values.remove(&t) {
            Some(v) if !v.is_null() => (t, v),
            _ => (t, number.clone()),
        })
        .collect()
}

pub(super) fn fill_timeline(name: &str, tl: Timeline, ctx: &SeriesCtx<'_>) -> Timeline {
    let Some(window) = ctx.window else {
        return tl;
    };
    let buckets: Vec<(i64, Option<Value>)> = tl
        .into_iter()
        .map(|(t, v)| (t, if v.is_null() { None } else { Some(v) }))
        .collect();
    let (buckets, mode) = fill_mode_of(name, buckets, to_fn_fill(ctx.fill, window.every));
    fill_in_walk_order(buckets, &mode, ctx.descending)
}

/// The fill of function `name`'s windows of one series, and the windows it fills:
/// `count()` prints 0 for a window without points under `fill(null)`, but only in a
/// series that has a point of its field in the statement's range. InfluxDB's count
/// iterator emits nothing for a series without one, so its cells print null beside the
/// columns that give the series its rows (`mean(i), count(b) … GROUP BY time(10s), host`
/// with `b` written outside the range for one host). A count of 0 from storage counts as
/// no point.
pub(super) fn fill_mode_of(
    name: &str,
    buckets: Vec<(i64, Option<Value>)>,
    mode: FnFill,
) -> (Vec<(i64, Option<Value>)>, FnFill) {
    if name != "count" || mode != FnFill::Null {
        return (buckets, mode);
    }
    let no_point = buckets
        .iter()
        .all(|(_, v)| matches!(v, None | Some(Value::Null) | Some(Value::Integer(0))));
    if no_point {
        let buckets = buckets.into_iter().map(|(t, _)| (t, None)).collect();
        return (buckets, mode);
    }
    (buckets, mode.count_default())
}

/// Fills a bucket timeline in the order the query walks it, returned in time order: with
/// `ORDER BY time DESC` from its end, so `fill(previous)` repeats the later bucket (as
/// InfluxDB).
pub(super) fn fill_in_walk_order(
    mut buckets: Vec<(i64, Option<Value>)>,
    mode: &FnFill,
    descending: bool,
) -> Timeline {
    if !descending {
        return functions::fill::fill(&buckets, mode);
    }
    buckets.reverse();
    let mut out = functions::fill::fill(&buckets, mode);
    out.reverse();
    out
}

/// The points of `pts` (in time order) within `range`, with their feed ranks.
fn points_in<'p>(
    pts: &'p [Point],
    feed_rank: Option<&'p [usize]>,
    range: &TimeRange,
) -> (&'p [Point], Option<&'p [usize]>) {
    let lo = range.min.map_or(0, |m| pts.partition_point(|p| p.time < m));
    let hi = range
        .max
        .map_or(pts.len(), |m| pts.partition_point(|p| p.time <= m))
        .max(lo);
    let rank = feed_rank.map(|r| r.get(lo..hi).unwrap_or_default());
    (pts.get(lo..hi).unwrap_or_default(), rank)
}

/// The context of one series' columns over `range`: its window grid from the range's
/// start (or the first point) to its end (or `now()`), checked against the bucket limit.
pub(super) fn series_ctx<'a>(
    pts: &'a [Point],
    ((fields, typed), (feed_rank, merged_per_field)): (FieldMaps<'a>, Feed<'a>),
    shape: &'a Shape,
    range: TimeRange,
    stmt: &'a SelectStatement,
    budget: &'a Budget,
) -> Result<SeriesCtx<'a>, StatementError> {
    let window = shape.interval.as_ref();
    let first_time = pts.iter().map(|p| p.time).min().unwrap_or(0);
    let start = range.min.unwrap_or(first_time);
    let end = range.max.unwrap_or(if window.is_some() {
        shape.now
    } else {
        i64::MAX - 1
    });
    let mut buckets = Vec::new();
    if let Some(w) = window {
        if stmt.fill == Fill::None {
            // Only the windows holding points print: the grid is never built.
            buckets = pts.iter().map(|p| w.bounds(p.time).0).collect();
            buckets.dedup();
        } else {
            let (first, last, count) = w.grid(start, end, 0);
            budget.check_buckets(count)?;
            budget.charge_rows(count)?;
            buckets = w.starts(first, last).collect();
        }
    }
    Ok(SeriesCtx {
        points: pts,
        fields,
        typed,
        feed_rank,
        merged_per_field,
        window,
        buckets,
        end,
        agg_time: shape.range.min.unwrap_or(0),
        fill: &stmt.fill,
        descending: stmt.is_descending(),
        budget,
    })
}

/// One aggregate/selector call per bucket.
pub(super) fn eval_agg_call(
    name: &str,
    args: &[Expr],
    ctx: &SeriesCtx<'_>,
    selector_times: &mut Option<Vec<Selected>>,
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
                    // An empty window is missing, filled as `count` fills it (0 unless
                    // the query's fill says otherwise).
                    let n = aggregate::distinct(&rows).len();
                    (
                        bt,
                        if n == 0 {
                            Value::Null
                        } else {
                            Value::Integer(n as i64)
                        },
                    )
                })
                .collect());
        }
        Some(_) => return Err(err(format!("expected field argument in {name}()"))),
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
        let rows = ctx.rows_as_merged(raw);
        let out = transform::integral(&rows, unit, grouping).map_err(fn_err)?;
        return Ok(out
            .into_iter()
            .filter(|(t, _)| ctx.window.is_none() || ctx.buckets.binary_search(t).is_ok())
            .collect());
    }
    let mut tl = Vec::new();
    let mut sel_times = Vec::new();
    let mut had_rows = false;
    let buckets = if matches!(name, "mode" | "percentile") {
        ctx.bucket_rows_as_fed(&raw)
    } else {
        ctx.bucket_rows(&raw)
    };
    for (bt, rows) in buckets {
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
                let v = f(&rows).map_err(fn_err)?.unwrap_or(Value::Null);
                if v.is_null() && !rows.is_empty() && ctx.window.is_some() {
                    (Value::Float(PRESENT_WITHOUT_VALUE), None)
                } else {
                    (v, None)
                }
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
        if let Some(time) = sel {
            sel_times.push(Selected {
                bucket: bt,
                time,
                value: v.clone(),
            });
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

/// `LIMIT` and `OFFSET` of an aggregate statement under `GROUP BY time`, applied to each
/// column's points before the columns are joined, as InfluxDB limits each call's
/// iterator: `mean(v), derivative(mean(v)) … LIMIT 2` prints the first two windows'
/// means and the first two derivatives (the first window has none), three rows; so does
/// `mean(v), max(w) … fill(none)` where the fields fill different windows. Under
/// `ORDER BY time DESC` the newest points count first. Whether anything was asked.
fn cut_per_column(timelines: &mut [Timeline], stmt: &SelectStatement) -> bool {
    if !limits_rows(stmt) {
        return false;
    }
    for tl in timelines.iter_mut() {
        let (start, end) = kept_span(tl.len(), stmt);
        tl.truncate(end);
        tl.drain(..start);
    }
    true
}

/// [`cut_per_column`] of rows already joined, where a column holds a point in a row
/// when its cell is not null (aggregates under `fill(none)`, as the engine computes
/// them; a window whose points give no value holds [`PRESENT_WITHOUT_VALUE`] until
/// after the cut, as InfluxDB counts that point): each column keeps its cells in its own
/// span, rows left with none are dropped.
pub(super) fn cut_rows_per_column(rows: &mut Vec<Vec<Value>>, stmt: &SelectStatement) -> bool {
    if !limits_rows(stmt) {
        return false;
    }
    let columns = rows.first().map_or(0, Vec::len);
    for k in 1..columns {
        let holding: Vec<usize> = (0..rows.len())
            .filter(|&r| rows[r].get(k).is_some_and(|v| !v.is_null()))
            .collect();
        let (start, end) = kept_span(holding.len(), stmt);
        for (i, &r) in holding.iter().enumerate() {
            if i < start || i >= end {
                rows[r][k] = Value::Null;
            }
        }
    }
    rows.retain(|r| r.iter().skip(1).any(|v| !v.is_null()));
    true
}

/// Whether the statement asks for `LIMIT` or `OFFSET`.
fn limits_rows(stmt: &SelectStatement) -> bool {
    stmt.limit.is_some_and(|l| l > 0) || stmt.offset.is_some_and(|o| o > 0)
}

/// The span `[start, end)` of `n` points in time order that `OFFSET` and `LIMIT` keep
/// (counted from the newest under `ORDER BY time DESC`).
fn kept_span(n: usize, stmt: &SelectStatement) -> (usize, usize) {
    let to_usize = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    let offset = to_usize(stmt.offset.unwrap_or(0));
    let limit = stmt.limit.filter(|&l| l > 0).map_or(usize::MAX, to_usize);
    if stmt.is_descending() {
        let end = n.saturating_sub(offset);
        (end.saturating_sub(limit), end)
    } else {
        let start = offset.min(n);
        (start, start.saturating_add(limit).min(n))
    }
}

/// Cells of a transformation's column left empty in a row another column printed (a
/// `non_negative_derivative` dropping a negative step beside a `derivative`): InfluxDB
/// fills them as it fills auxiliary values ([`fill_as_auxiliary`]). So it fills an
/// `integral()` column (`integral[k]`), which its own windows never fill: alone it
/// prints no row for a window without points, whatever the fill; beside `count()` under
/// `fill(0)` it prints 0 there, under `fill(previous)` the window before's integral, and
/// under `fill(linear)` null (measured on 1.6.7). Inside arithmetic InfluxDB fills the
/// integral before the arithmetic (`integral(v) * 2` under `fill(7)` prints 14); such a
/// column is left null here.
fn fill_transform_cells(
    cols: &[OutCol],
    integral: &[bool],
    rows: &mut [Vec<Value>],
    fill: &Fill,
    desc: bool,
) {
    for (k, c) in cols.iter().enumerate() {
        if contains_transform(&c.expr) || integral.get(k) == Some(&true) {
            fill_as_auxiliary(rows.iter_mut().filter_map(|r| r.get_mut(k + 1)), fill, desc);
        }
    }
}

/// Fills null cells (given in time order) as InfluxDB's fill iterator fills auxiliary
/// values: `fill(<number>)` with the number as it is, not cast to the column's type (a
/// tag prints 0); `fill(previous)` with the last value in the order rows are printed
/// (`descending`: newest first). Other fills leave them.
fn fill_as_auxiliary<'v>(
    cells: impl DoubleEndedIterator<Item = &'v mut Value>,
    fill: &Fill,
    descending: bool,
) {
    let number = match to_fn_fill(fill, 1) {
        FnFill::Number(n) => Some(n),
        FnFill::Previous => None,
        _ => return,
    };
    let mut previous = Value::Null;
    let mut fill_cell = |cell: &'v mut Value| {
        if cell.is_null() {
            *cell = number.clone().unwrap_or_else(|| previous.clone());
        }
        previous = cell.clone();
    };
    if descending {
        cells.rev().for_each(&mut fill_cell);
    } else {
        cells.for_each(&mut fill_cell);
    }
}

/// The point a selector selected: one at its time holding its value in the selector's
/// field (among several, the first in merge order), else any at its time.
fn selected_point<'p>(pts: &'p [Point], cols: &[OutCol], sel: &Selected) -> Option<&'p Point> {
    let field = agg_field_name(cols);
    pts.iter()
        .find(|p| {
            p.time == sel.time
                && field
                    .as_ref()
                    .is_none_or(|f| p.fields.get(f.as_str()) == Some(&sel.value))
        })
        .or_else(|| pts.iter().find(|p| p.time == sel.time))
}

/// The timelines of a single selector's bare field and tag columns under `GROUP BY
/// time`: each window's value from the point selected in it, filled as the selector is
/// (InfluxDB fills them too; a number as it is: `fill(0)` prints 0 even for a tag).
fn bare_column_timelines(
    cols: &[OutCol],
    timelines: &mut [Timeline],
    selected: &[Selected],
    ctx: &SeriesCtx<'_>,
) {
    let points: BTreeMap<i64, (Option<&Point>, &Value)> = selected
        .iter()
        .map(|s| (s.bucket, (selected_point(ctx.points, cols, s), &s.value)))
        .collect();
    for (c, tl) in cols.iter().zip(timelines.iter_mut()) {
        if !reads_outside_calls(&c.expr) {
            continue;
        }
        // Per window: the column over the selected point (null when it lacks the
        // column), or `None` for a window without a selection.
        let picked: Vec<(i64, Option<Value>)> = ctx
            .buckets
            .iter()
            .map(|b| {
                let value = points
                    .get(b)
                    .map(|(p, v)| eval_beside_selector(&c.expr, *p, v));
                (*b, value)
            })
            .collect();
        *tl = fill_bare_column(picked, ctx);
    }
}

/// Fills a bare column's missing values (a window without a selection, or a selected
/// point without the column) as InfluxDB fills auxiliary values ([`fill_as_auxiliary`]);
/// `linear` as a value column; `none` drops the windows without a selection and leaves
/// the rest.
fn fill_bare_column(picked: Vec<(i64, Option<Value>)>, ctx: &SeriesCtx<'_>) -> Timeline {
    if *ctx.fill == Fill::None {
        return picked
            .into_iter()
            .filter_map(|(b, v)| Some((b, v?)))
            .collect();
    }
    let mut tl: Timeline = picked
        .into_iter()
        .map(|(b, v)| (b, v.unwrap_or(Value::Null)))
        .collect();
    if *ctx.fill == Fill::Linear {
        return fill_timeline("", tl, ctx);
    }
    fill_as_auxiliary(tl.iter_mut().map(|(_, v)| v), ctx.fill, ctx.descending);
    tl
}

/// A selector's pick in one window: the window's start (0 without `GROUP BY time`), the
/// selected point's time and value.
#[derive(Debug, Clone)]
pub(super) struct Selected {
    bucket: i64,
    time: i64,
    value: Value,
}

/// Whether a column reads a field or tag outside any aggregate, selector or
/// transformation (`v`, `abs(v)`, `max(v) * 10 + v`).
fn reads_outside_calls(e: &Expr) -> bool {
    match e {
        Expr::VarRef { .. } => true,
        Expr::Paren(inner) => reads_outside_calls(inner),
        Expr::Binary { lhs, rhs, .. } => reads_outside_calls(lhs) || reads_outside_calls(rhs),
        Expr::Call { name, args } if is_math_function(name) => args.iter().any(reads_outside_calls),
        _ => false,
    }
}

/// A column beside a single selector, as InfluxDB evaluates it over the point the
/// selector picked: the selector's value where the call is, the point's fields and tags
/// elsewhere (`max(v) * 10 + v` is 1100 when the maximum is 100).
fn eval_beside_selector(e: &Expr, point: Option<&Point>, selected: &Value) -> Value {
    let eval = |x: &Expr| eval_beside_selector(x, point, selected);
    match e {
        Expr::VarRef { name, data_type } => cast(field_or_tag(point, name, *data_type), *data_type),
        Expr::Paren(inner) => eval(inner),
        Expr::Binary { op, lhs, rhs } => binary_value(*op, &eval(lhs), &eval(rhs)),
        Expr::Call { name, args } => {
            if let Some(f) = math::UnaryMath::from_name(name) {
                let v = args.first().map(eval).unwrap_or(Value::Null);
                return math::unary(f, &v);
            }
            if let Some(f) = math::BinaryMath::from_name(name) {
                let a = args.first().map(eval).unwrap_or(Value::Null);
                let b = args.get(1).map(eval).unwrap_or(Value::Null);
                return math::binary(f, &a, &b);
            }
            selected.clone()
        }
        other => literal_value(other).unwrap_or(Value::Null),
    }
}

/// The value a bare field or tag reference prints beside a selector: the selected
/// point's field, else (unless the reference names a field, `::field`) its tag as a
/// string, else null.
fn field_or_tag(p: Option<&Point>, name: &str, data_type: Option<VarType>) -> Value {
    let tag_too = data_type != Some(VarType::Field);
    p.and_then(|p| {
        p.fields.get(name).cloned().or_else(|| {
            tag_too
                .then(|| p.tags.get(name))
                .flatten()
                .map(|s| Value::String(s.clone()))
        })
    })
    .unwrap_or(Value::Null)
}

pub(super) fn functions_kind(v: &Value) -> &'static str {
    match v {
        Value::Float(_) => "float",
        Value::Integer(_) | Value::Time(_) => "integer",
        Value::Unsigned(_) => "unsigned",
        Value::Boolean(_) => "boolean",
        Value::String(_) => "string",
        Value::Null => "float",
    }
}

/// The row of a point a multi-row selector picked: its time, the selector's value in
/// column `idx`, and the point's own field or tag in every plain column.
fn selector_row(time: i64, v: &Value, idx: usize, cols: &[OutCol], point: &Point) -> Vec<Value> {
    let mut r = vec![Value::Time(time)];
    for (c_i, c) in cols.iter().enumerate() {
        if c_i == idx {
            r.push(v.clone());
        } else if let Expr::VarRef { name, data_type } = &c.expr {
            r.push(cast(
                field_or_tag(Some(point), name, *data_type),
                *data_type,
            ));
        } else {
            r.push(Value::Null);
        }
    }
    r
}

/// `top(field, [tags...,] n)` and `bottom(...)` over one bucket's `rows`: the picked
/// rows in time order, the other columns read from the picked point (`by_time`: the
/// points at each time).
fn top_bottom_rows(
    name: &str,
    args: &[Expr],
    idx: usize,
    cols: &[OutCol],
    rows: &[Row],
    points: &[&Point],
) -> Result<Vec<Vec<Value>>, StatementError> {
    let bottom = name == "bottom";
    // top(field, [tags...,] n)
    let n = args
        .last()
        .and_then(|a| match a {
            Expr::Integer(n) => Some(*n),
            _ => None,
        })
        .ok_or_else(|| err(format!("expected integer as last argument in {name}()")))?;
    if n <= 0 {
        return Err(err(format!(
            "limit ({n}) in {name} function must be at least 1"
        )));
    }
    let tag_args: Vec<&str> = args[1..args.len() - 1]
        .iter()
        .filter_map(|a| match a {
            Expr::VarRef { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let picked: Vec<usize> = if tag_args.is_empty() {
        aggregate::top_rows(rows, n as usize, bottom).map_err(fn_err)?
    } else {
        let keys: Vec<Vec<&str>> = points
            .iter()
            .map(|p| {
                tag_args
                    .iter()
                    .map(|k| p.tags.get(*k).map(String::as_str).unwrap_or_default())
                    .collect()
            })
            .collect();
        aggregate::top_distinct_rows(rows, &keys, n as usize, bottom).map_err(fn_err)?
    };
    let mut picked: Vec<usize> = picked.into_iter().filter(|&i| i < rows.len()).collect();
    picked.sort_by_key(|&i| rows[i].0);
    let mut out_rows: Vec<Vec<Value>> = Vec::with_capacity(picked.len());
    for i in picked {
        let (time, v) = &rows[i];
        // Tag arguments of top/bottom are printed as extra columns in
        // InfluxDB; they are already selected if named in the field list.
        out_rows.push(selector_row(*time, v, idx, cols, points[i]));
    }
    Ok(out_rows)
}

#[cfg(test)]
mod fill_mode_tests {
    use super::*;

    fn windows(values: &[Option<i64>]) -> Vec<(i64, Option<Value>)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (i as i64 * 10, v.map(Value::Integer)))
            .collect()
    }

    #[test]
    fn a_count_fills_zero_only_in_a_series_with_a_point() {
        let (tl, mode) = fill_mode_of("count", windows(&[None, Some(2), Some(0)]), FnFill::Null);
        assert_eq!(mode, FnFill::Number(Value::Integer(0)));
        assert_eq!(tl[1].1, Some(Value::Integer(2)));
        // No point of the field in the range (a count of 0 from storage is none either).
        let (tl, mode) = fill_mode_of("count", windows(&[None, Some(0), None]), FnFill::Null);
        assert_eq!(mode, FnFill::Null);
        assert!(tl.iter().all(|(_, v)| v.is_none()));
    }

    #[test]
    fn other_fills_and_functions_are_left_alone() {
        let (_, mode) = fill_mode_of("count", windows(&[None, None]), FnFill::Previous);
        assert_eq!(mode, FnFill::Previous);
        let zero = FnFill::Number(Value::Integer(0));
        let (_, mode) = fill_mode_of("count", windows(&[None]), zero.clone());
        assert_eq!(mode, zero);
        let (tl, mode) = fill_mode_of("sum", windows(&[Some(0), None]), FnFill::Null);
        assert_eq!(
            (tl[0].1.clone(), mode),
            (Some(Value::Integer(0)), FnFill::Null)
        );
    }
}
