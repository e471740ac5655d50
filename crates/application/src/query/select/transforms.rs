//! Transformations (`derivative`, `moving_average`, `holt_winters`, technical
//! indicators...) applied to timelines, over raw points or over aggregates.

use super::*;

/// Transformations over raw points (no aggregates): every column is a call.
pub(super) fn eval_transform_raw(
    cols: &[OutCol],
    (pts, merged): (&[Point], bool),
    stmt: &SelectStatement,
    shards: Option<i64>,
    budget: &Budget,
) -> Result<Vec<Vec<Value>>, StatementError> {
    // The points in the order the transformations read them, reversed under ORDER BY
    // time DESC (there InfluxDB's merge hands them over newest first, at one time as its
    // heap decides; the transformation reverses them back). Ordered once for every
    // column. Points not `merged` (a subquery's rows) are in that order already.
    let points: Vec<&Point> = if stmt.is_descending() && merged {
        let mut order = feed_order(pts, &[], true, shards);
        order.reverse();
        order.into_iter().filter_map(|i| pts.get(i)).collect()
    } else {
        pts.iter().collect()
    };
    let mut timelines = Vec::new();
    for c in cols {
        timelines.push(eval_raw_timeline(&c.expr, &points, stmt, budget)?);
    }
    // Points of several series at one time each give a row, as InfluxDB emits every
    // point its transformation sees: timelines of the same times are joined row by row;
    // a join by time would keep one row per time.
    let aligned = timelines
        .windows(2)
        .all(|w| w[0].len() == w[1].len() && w[0].iter().zip(&w[1]).all(|(a, b)| a.0 == b.0));
    if !aligned {
        return Ok(join_timelines(&timelines, false));
    }
    let n = timelines.first().map_or(0, Vec::len);
    let mut columns: Vec<std::vec::IntoIter<Row>> =
        timelines.into_iter().map(Vec::into_iter).collect();
    let mut rows = Vec::with_capacity(n);
    for _ in 0..n {
        let mut row = Vec::with_capacity(columns.len() + 1);
        for (k, col) in columns.iter_mut().enumerate() {
            let Some((t, v)) = col.next() else { break };
            if k == 0 {
                row.push(Value::Time(t));
            }
            row.push(v);
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The timeline of `e` over `points` (in the order [`eval_transform_raw`] gives them).
pub(super) fn eval_raw_timeline(
    e: &Expr,
    points: &[&Point],
    stmt: &SelectStatement,
    budget: &Budget,
) -> Result<Timeline, StatementError> {
    match e {
        Expr::Call { name, args } if TRANSFORMS.contains(&name.as_str()) => {
            let inner = match args.first() {
                Some(a) => eval_raw_timeline(a, points, stmt, budget)?,
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
        // Math around a transformation (`derivative(v) * 8`, `abs(difference(v))`):
        // over the transformation's timeline, not per point.
        Expr::Paren(inner) => eval_raw_timeline(inner, points, stmt, budget),
        Expr::Binary { op, lhs, rhs } if contains_transform(e) => {
            let side = |x: &Expr| -> Result<Side, StatementError> {
                match literal_value(x.unparen()) {
                    Some(v) => Ok(Side::Lit(v)),
                    None => Ok(Side::Tl(eval_raw_timeline(x, points, stmt, budget)?)),
                }
            };
            let mut out = combine_sides(*op, side(lhs)?, side(rhs)?);
            out.retain(|(_, v)| !v.is_null());
            Ok(out)
        }
        Expr::Call { name, args } if contains_transform(e) => {
            if !is_math_function(name) {
                return Err(err(format!("undefined function {name}()")));
            }
            let inner = match args.first() {
                Some(a) => eval_raw_timeline(a, points, stmt, budget)?,
                None => return Err(err(format!("invalid number of arguments for {name}"))),
            };
            let mut out = apply_math(name, args, inner);
            out.retain(|(_, v)| !v.is_null());
            Ok(out)
        }
        _ => {
            let mut out: Vec<Row> = points.iter().map(|p| (p.time, eval_point(e, p))).collect();
            out.retain(|(_, v)| !v.is_null());
            Ok(out)
        }
    }
}

/// Applies a transformation to a timeline (ascending unless the caller reversed it).
pub(super) fn apply_transform(
    name: &str,
    args: &[Expr],
    input: &[Row],
    window: Option<&transform::Window>,
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
