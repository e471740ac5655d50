//! Transformations over the rows of one series: `derivative`, `non_negative_derivative`,
//! `difference`, `non_negative_difference`, `elapsed`, `moving_average`,
//! `cumulative_sum` and `integral`, reproducing InfluxDB 1.6's reducers (including their
//! handling of duplicate timestamps, descending order and integer types).

use super::{is_descending, numeric, FunctionError, Numeric, Row};
use hyperbyte_domain::query::Value;

/// `derivative(x, unit)` / `non_negative_derivative(x, unit)`.
///
/// For each row after the first: `(v - v_prev) / ((t - t_prev) / unit_ns)`, a float at
/// the current row's time. A row with the same timestamp as the previous accepted row is
/// skipped. For descending input the elapsed time is negated (so the sign matches the
/// ascending result). With `non_negative`, rows whose *difference* is negative are
/// dropped. `Null` rows (empty buckets) are skipped. Strings/booleans are an error.
pub fn derivative(
    rows: &[Row],
    unit_ns: i64,
    non_negative: bool,
) -> Result<Vec<Row>, FunctionError> {
    let data = numeric("derivative", rows)?;
    let desc = is_descending(rows);
    let unit = unit_ns as f64;
    let mut out = Vec::new();
    // (time, diff) pairs computed in the input's own type, then converted.
    let emit = |out: &mut Vec<Row>, prev_t: i64, t: i64, diff: f64| {
        let mut elapsed = span_f64(prev_t, t);
        if desc {
            elapsed = -elapsed;
        }
        if non_negative && diff < 0.0 {
            return;
        }
        out.push((t, Value::Float(diff / (elapsed / unit))));
    };
    match &data {
        Numeric::Float(v) => {
            pairwise_skip_dups(v, |(pt, pv), (t, cv)| emit(&mut out, pt, t, cv - pv))
        }
        Numeric::Integer(v) => pairwise_skip_dups(v, |(pt, pv), (t, cv)| {
            emit(&mut out, pt, t, cv.wrapping_sub(pv) as f64)
        }),
        Numeric::Unsigned(v) => pairwise_skip_dups(v, |(pt, pv), (t, cv)| {
            let diff = if cv > pv {
                (cv - pv) as f64
            } else {
                -((pv - cv) as f64)
            };
            emit(&mut out, pt, t, diff)
        }),
    }
    Ok(out)
}

/// `difference(x)` / `non_negative_difference(x)`.
///
/// For each row after the first: `v - v_prev` in the input's type (integers wrap like
/// Go's int64), at the current row's time; rows with the previous row's timestamp are
/// skipped; `non_negative` drops negative differences. No sign change for descending
/// input. `Null` rows are skipped.
pub fn difference(rows: &[Row], non_negative: bool) -> Result<Vec<Row>, FunctionError> {
    let data = numeric("difference", rows)?;
    let mut out = Vec::new();
    match &data {
        Numeric::Float(v) => pairwise_skip_dups(v, |(_, pv), (t, cv)| {
            let d = cv - pv;
            if !(non_negative && d < 0.0) {
                out.push((t, Value::Float(d)));
            }
        }),
        Numeric::Integer(v) => pairwise_skip_dups(v, |(_, pv), (t, cv)| {
            let d = cv.wrapping_sub(pv);
            if !(non_negative && d < 0) {
                out.push((t, Value::Integer(d)));
            }
        }),
        Numeric::Unsigned(v) => pairwise_skip_dups(v, |(_, pv), (t, cv)| {
            if !(non_negative && cv < pv) {
                out.push((t, Value::Unsigned(cv.wrapping_sub(pv))));
            }
        }),
    }
    Ok(out)
}

/// Calls `f(prev, curr)` for successive points, skipping a point whose timestamp equals
/// the current point's (InfluxDB keeps the first point of a timestamp).
fn pairwise_skip_dups<T: Copy>(pts: &[(i64, T)], mut f: impl FnMut((i64, T), (i64, T))) {
    let mut curr: Option<(i64, T)> = None;
    for &p in pts {
        match curr {
            Some(c) if c.0 == p.0 => continue,
            Some(c) => f(c, p),
            None => {}
        }
        curr = Some(p);
    }
}

/// `elapsed(x, unit)`: `(t - t_prev) / unit_ns` (integer division truncating toward
/// zero) at the current row's time, for every pair of successive non-null rows of any
/// type. Duplicate timestamps are *not* skipped (they give 0); descending input gives
/// negative values. The difference is exact (InfluxDB's Go subtraction wraps for times
/// more than `i64::MAX` apart); a quotient that does not fit an integer is an error.
pub fn elapsed(rows: &[Row], unit_ns: i64) -> Result<Vec<Row>, FunctionError> {
    let unit = i128::from(unit_ns.max(1));
    let mut out = Vec::new();
    let mut prev: Option<i64> = None;
    for (t, v) in rows {
        if v.is_null() {
            continue;
        }
        if let Some(p) = prev {
            let q = (i128::from(*t) - i128::from(p)) / unit;
            let q = i64::try_from(q).map_err(|_| {
                FunctionError::InvalidArgument(format!(
                    "elapsed: {q} does not fit in an integer; use a larger unit"
                ))
            })?;
            out.push((*t, Value::Integer(q)));
        }
        prev = Some(*t);
    }
    Ok(out)
}

/// `moving_average(x, n)`: the mean of the last `n` non-null values (a running sum, as
/// InfluxDB keeps it), emitted as a float at the time of the newest value once `n`
/// values were seen. `n` must be at least 2.
pub fn moving_average(rows: &[Row], n: usize) -> Result<Vec<Row>, FunctionError> {
    if n < 2 {
        return Err(FunctionError::InvalidArgument(format!(
            "moving_average window must be greater than 1, got {n}"
        )));
    }
    let data = numeric("moving average", rows)?;
    let mut out = Vec::new();
    match &data {
        Numeric::Integer(v) => {
            let mut buf: Vec<i64> = Vec::with_capacity(n.min(v.len()));
            let (mut pos, mut sum) = (0usize, 0i64);
            for &(t, x) in v {
                if buf.len() < n {
                    buf.push(x);
                } else {
                    sum = sum.wrapping_sub(buf[pos]);
                    buf[pos] = x;
                }
                sum = sum.wrapping_add(x);
                pos = (pos + 1) % n;
                if buf.len() == n {
                    out.push((t, Value::Float(sum as f64 / n as f64)));
                }
            }
        }
        other => {
            let v = other.to_f64();
            let mut buf: Vec<f64> = Vec::with_capacity(n.min(v.len()));
            let (mut pos, mut sum) = (0usize, 0f64);
            for &(t, x) in &v {
                if buf.len() < n {
                    buf.push(x);
                } else {
                    sum -= buf[pos];
                    buf[pos] = x;
                }
                sum += x;
                pos = (pos + 1) % n;
                if buf.len() == n {
                    out.push((t, Value::Float(sum / n as f64)));
                }
            }
        }
    }
    Ok(out)
}

/// `cumulative_sum(x)`: running sum at every non-null row's time, in the input's type
/// (integers wrap).
pub fn cumulative_sum(rows: &[Row]) -> Result<Vec<Row>, FunctionError> {
    Ok(match numeric("cumulative sum", rows)? {
        Numeric::Float(v) => {
            let mut s = 0.0;
            v.into_iter()
                .map(|(t, x)| {
                    s += x;
                    (t, Value::Float(s))
                })
                .collect()
        }
        Numeric::Integer(v) => {
            let mut s = 0i64;
            v.into_iter()
                .map(|(t, x)| {
                    s = s.wrapping_add(x);
                    (t, Value::Integer(s))
                })
                .collect()
        }
        Numeric::Unsigned(v) => {
            let mut s = 0u64;
            v.into_iter()
                .map(|(t, x)| {
                    s = s.wrapping_add(x);
                    (t, Value::Unsigned(s))
                })
                .collect()
        }
    })
}

/// A `GROUP BY time(every, offset)` window grid, in UTC or a time zone (the rule is the
/// domain's: the SQL renders the same one).
pub use hyperbyte_domain::window::Window;

/// `b - a` in nanoseconds as a float, exact in sign and without wrapping.
pub(crate) fn span_f64(a: i64, b: i64) -> f64 {
    (i128::from(b) - i128::from(a)) as f64
}

/// How `integral` groups the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegralGrouping<'w> {
    /// No `GROUP BY time`: one value for the whole series. `start`/`end` are the query's
    /// time bounds (`end` inclusive; pass the display start — 0 when unbounded — and
    /// `i64::MAX - 1` when unbounded). InfluxDB reports float series at time **0** and
    /// integer series at `start` (or `end + 1` in descending order).
    Whole {
        /// Query start (what the engine prints for aggregate rows).
        start: i64,
        /// Query end, inclusive.
        end: i64,
    },
    /// `GROUP BY time(..)`: one value per window, at the window start.
    Windows(&'w Window),
}

/// `integral(x, unit)`: trapezoidal area under the series, divided by `unit_ns`.
///
/// With windows, InfluxDB interpolates linearly at each window boundary and credits the
/// area to the windows in its own peculiar way (the area between a boundary and the next
/// point goes to the *next point's* window, empty windows produce no row, and integer
/// series reuse the interpolated value for the following segment); this function
/// reproduces those results exactly. Returns float rows. `Null` rows are skipped.
pub fn integral(
    rows: &[Row],
    unit_ns: i64,
    grouping: IntegralGrouping<'_>,
) -> Result<Vec<Row>, FunctionError> {
    let data = numeric("integral", rows)?;
    let asc = !is_descending(rows);
    let unit = unit_ns.max(1) as f64;
    Ok(match data {
        Numeric::Float(v) => integral_float(&v, unit, grouping, asc),
        Numeric::Integer(v) => integral_integer(
            &v.iter().map(|&(t, x)| (t, x as f64)).collect::<Vec<_>>(),
            unit,
            grouping,
            asc,
        ),
        Numeric::Unsigned(v) => integral_integer(
            &v.iter().map(|&(t, x)| (t, x as f64)).collect::<Vec<_>>(),
            unit,
            grouping,
            asc,
        ),
    })
}

/// InfluxDB's `linearFloat`.
fn linear(
    window_time: i64,
    prev_time: i64,
    next_time: i64,
    prev_value: f64,
    next_value: f64,
) -> f64 {
    let m = (next_value - prev_value) / span_f64(prev_time, next_time);
    let x = span_f64(prev_time, window_time);
    m * x + prev_value
}

/// The reducer's `(start, end)` window for `t`: swapped in descending order.
fn oriented(bounds: (i64, i64), asc: bool) -> (i64, i64) {
    if asc {
        bounds
    } else {
        (bounds.1, bounds.0)
    }
}

fn integral_float(
    pts: &[(i64, f64)],
    unit: f64,
    grouping: IntegralGrouping<'_>,
    asc: bool,
) -> Vec<Row> {
    let window = match grouping {
        IntegralGrouping::Windows(w) => Some(w),
        IntegralGrouping::Whole { .. } => None,
    };
    let mut out = Vec::new();
    let (mut start, mut end) = (0i64, 0i64);
    let mut sum = 0.0;
    let mut prev: Option<(i64, f64)> = None;
    for &(t, v) in pts {
        let Some((mut pt, mut pv)) = prev else {
            prev = Some((t, v));
            if let Some(w) = window {
                (start, end) = oriented(w.bounds(t), asc);
            }
            continue;
        };
        if pt == t {
            prev = Some((t, v));
            continue;
        }
        if let Some(w) = window {
            if (asc && t >= end) || (!asc && t <= end) {
                if pt != end {
                    let value = linear(end, pt, t, pv, v);
                    let el = span_f64(pt, end) / unit;
                    sum += 0.5 * (value + pv) * el;
                    pv = value;
                    pt = end;
                }
                out.push((start, Value::Float(sum)));
                (start, end) = oriented(w.bounds(t), asc);
                sum = 0.0;
            }
        }
        let el = span_f64(pt, t) / unit;
        sum += 0.5 * (v + pv) * el;
        prev = Some((t, v));
    }
    if let Some((pt, _)) = prev {
        if pt != start {
            out.push((start, Value::Float(sum)));
        }
    }
    out
}

fn integral_integer(
    pts: &[(i64, f64)],
    unit: f64,
    grouping: IntegralGrouping<'_>,
    asc: bool,
) -> Vec<Row> {
    let bounds = |t: i64| match grouping {
        IntegralGrouping::Windows(w) => w.bounds(t),
        IntegralGrouping::Whole { start, end } => (start, end.saturating_add(1)),
    };
    let mut out = Vec::new();
    let (mut start, mut end) = (0i64, 0i64);
    let mut sum = 0.0;
    let mut prev: Option<(i64, f64)> = None;
    for &(t, v) in pts {
        let Some((mut pt, pv)) = prev else {
            prev = Some((t, v));
            (start, end) = oriented(bounds(t), asc);
            continue;
        };
        if pt == t {
            prev = Some((t, v));
            continue;
        }
        let mut value = v;
        if (asc && t >= end) || (!asc && t <= end) {
            if pt != end {
                value = linear(end, pt, t, pv, v);
                let el = span_f64(pt, end) / unit;
                sum += 0.5 * (value + pv) * el;
                pt = end;
            }
            out.push((start, Value::Float(sum)));
            (start, end) = oriented(bounds(t), asc);
            sum = 0.0;
        }
        let el = span_f64(pt, t) / unit;
        sum += 0.5 * (value + pv) * el;
        prev = Some((t, v));
    }
    if let Some((pt, _)) = prev {
        if pt != start {
            out.push((start, Value::Float(sum)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::functions::testutil::{assert_rows, fl, int, opt, some, S};

    /// Data set `s` (floats, seconds) written to the reference server.
    fn s() -> Vec<Row> {
        fl(&[
            (0, 1.5),
            (10, 4.0),
            (20, 3.0),
            (40, 7.25),
            (50, 2.0),
            (90, 10.0),
            (100, 10.0),
            (130, -3.0),
        ])
    }
    /// Data set `i` (integers).
    fn i() -> Vec<Row> {
        int(&[
            (0, 1),
            (10, 4),
            (20, 3),
            (40, 7),
            (50, 2),
            (90, 10),
            (100, 10),
            (130, -3),
        ])
    }
    fn rev(mut r: Vec<Row>) -> Vec<Row> {
        r.reverse();
        r
    }

    #[test]
    fn derivative_raw_float_and_int() {
        let want = [
            (10, 0.25),
            (20, -0.1),
            (40, 0.2125),
            (50, -0.525),
            (90, 0.2),
            (100, 0.0),
            (130, -0.43333333333333335),
        ];
        assert_rows(&derivative(&s(), S, false).unwrap(), &some(&want));
        let nn = [(10, 0.25), (40, 0.2125), (90, 0.2), (100, 0.0)];
        assert_rows(&derivative(&s(), S, true).unwrap(), &some(&nn));
        let wi = [
            (10, 0.3),
            (20, -0.1),
            (40, 0.2),
            (50, -0.5),
            (90, 0.2),
            (100, 0.0),
            (130, -0.43333333333333335),
        ];
        let got = derivative(&i(), S, false).unwrap();
        assert_rows(&got, &some(&wi));
        assert!(matches!(got[0].1, Value::Float(_)));
    }

    #[test]
    fn derivative_descending() {
        let want = [
            (100, 0.43333333333333335),
            (90, 0.0),
            (50, -0.2),
            (40, 0.5),
            (20, -0.2),
            (10, 0.1),
            (0, -0.3),
        ];
        assert_rows(&derivative(&rev(i()), S, false).unwrap(), &some(&want));
        let nn = [(100, 0.43333333333333335), (90, 0.0), (40, 0.5), (10, 0.1)];
        assert_rows(&derivative(&rev(i()), S, true).unwrap(), &some(&nn));
    }

    #[test]
    fn derivative_corpus_cases() {
        // transformations--st-raw-derivative(-10s): 210 → 10 over 1s.
        let r = int(&[(1, 210), (2, 10)]);
        assert_rows(&derivative(&r, S, false).unwrap(), &some(&[(2, -200.0)]));
        assert_rows(
            &derivative(&r, 10 * S, false).unwrap(),
            &some(&[(2, -2000.0)]),
        );
        // transformations--st-raw-nn-derivative.
        let r = int(&[(1, 10), (2, 15), (3, 10), (4, 20)]);
        assert_rows(
            &derivative(&r, S, true).unwrap(),
            &some(&[(2, 5.0), (4, 10.0)]),
        );
        // transformations--nn-derivative-unit (serverA, max(load) per 20s, unit 1m).
        let b = int(&[(0, 7), (20, 14), (40, 15), (60, 9), (80, 16), (100, 17)]);
        assert_rows(
            &derivative(&b, 60 * S, true).unwrap(),
            &some(&[(20, 21.0), (40, 3.0), (80, 21.0), (100, 3.0)]),
        );
        // transformations--st-derivative-of-count: buckets from one interval earlier.
        let b = int(&[(-2, 0), (0, 2), (2, 2)]);
        assert_rows(
            &derivative(&b, 2 * S, false).unwrap(),
            &some(&[(0, 2.0), (2, 0.0)]),
        );
        assert_rows(
            &derivative(&b, 4 * S, false).unwrap(),
            &some(&[(0, 4.0), (2, 0.0)]),
        );
    }

    #[test]
    fn derivative_over_buckets_skips_empty() {
        // mean(v) of `s` per 20s (bucket 60 empty), derivative with unit = interval.
        let b = opt(&[
            (0, Some(2.75)),
            (20, Some(3.0)),
            (40, Some(4.625)),
            (60, None),
            (80, Some(10.0)),
            (100, Some(10.0)),
            (120, Some(-3.0)),
        ]);
        let want = [
            (20, 0.25),
            (40, 1.625),
            (80, 2.6875),
            (100, 0.0),
            (120, -13.0),
        ];
        assert_rows(&derivative(&b, 20 * S, false).unwrap(), &some(&want));
        let diff = [
            (20, 0.25),
            (40, 1.625),
            (80, 5.375),
            (100, 0.0),
            (120, -13.0),
        ];
        assert_rows(&difference(&b, false).unwrap(), &some(&diff));
        let el = elapsed(&b, 1).unwrap();
        assert_eq!(
            el.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
            [20, 20, 40, 20, 20].map(|x| Value::Integer(x * S))
        );
        let ma = [
            (20, 2.875),
            (40, 3.8125),
            (80, 7.3125),
            (100, 10.0),
            (120, 3.5),
        ];
        assert_rows(&moving_average(&b, 2).unwrap(), &some(&ma));
        let cs = [
            (0, 2.75),
            (20, 5.75),
            (40, 10.375),
            (80, 20.375),
            (100, 30.375),
            (120, 27.375),
        ];
        assert_rows(&cumulative_sum(&b).unwrap(), &some(&cs));
        // DESC order of the same buckets.
        let want = [
            (100, 13.0),
            (80, 0.0),
            (40, -2.6875),
            (20, -1.625),
            (0, -0.25),
        ];
        assert_rows(&derivative(&rev(b), 20 * S, false).unwrap(), &some(&want));
    }

    #[test]
    fn difference_types_and_order() {
        let got = difference(&i(), false).unwrap();
        assert_eq!(
            got,
            [
                (10, 3),
                (20, -1),
                (40, 4),
                (50, -5),
                (90, 8),
                (100, 0),
                (130, -13)
            ]
            .map(|(t, v)| (t * S, Value::Integer(v)))
        );
        let nn = difference(&i(), true).unwrap();
        assert_eq!(
            nn,
            [(10, 3), (40, 4), (90, 8), (100, 0)].map(|(t, v)| (t * S, Value::Integer(v)))
        );
        let d = difference(&rev(i()), false).unwrap();
        assert_eq!(
            d,
            [
                (100, 13),
                (90, 0),
                (50, -8),
                (40, 5),
                (20, -4),
                (10, 1),
                (0, -3)
            ]
            .map(|(t, v)| (t * S, Value::Integer(v)))
        );
        let f = [
            (10, 2.5),
            (20, -1.0),
            (40, 4.25),
            (50, -5.25),
            (90, 8.0),
            (100, 0.0),
            (130, -13.0),
        ];
        assert_rows(&difference(&s(), false).unwrap(), &some(&f));
        // transformations--st-difference-raw
        let r = fl(&[(1, 10.0), (2, 15.0), (3, 10.0), (4, 20.0)]);
        assert_rows(
            &difference(&r, false).unwrap(),
            &some(&[(2, 5.0), (3, -5.0), (4, 10.0)]),
        );
        assert_rows(
            &difference(&r, true).unwrap(),
            &some(&[(2, 5.0), (4, 10.0)]),
        );
    }

    #[test]
    fn duplicate_timestamps() {
        // Measurement `m` queried without GROUP BY: series merged, same timestamps.
        let m = int(&[
            (0, 5),
            (0, 5),
            (0, 3),
            (10, 9),
            (10, 9),
            (20, 1),
            (30, 7),
            (30, 9),
            (30, 1),
        ]);
        assert_rows(
            &derivative(&m, S, false).unwrap(),
            &some(&[(10, 0.4), (20, -0.8), (30, 0.6)]),
        );
        assert_eq!(
            difference(&m, false).unwrap(),
            [(10, 4), (20, -8), (30, 6)].map(|(t, v)| (t * S, Value::Integer(v)))
        );
        let el: Vec<i64> = elapsed(&m, 1)
            .unwrap()
            .iter()
            .map(|r| r.1.as_f64().unwrap() as i64)
            .collect();
        assert_eq!(el, [0, 0, 10 * S, 0, 10 * S, 10 * S, 0, 0]);
        let ma = [
            (0, 5.0),
            (0, 4.0),
            (10, 6.0),
            (10, 9.0),
            (20, 5.0),
            (30, 4.0),
            (30, 8.0),
            (30, 5.0),
        ];
        assert_rows(&moving_average(&m, 2).unwrap(), &some(&ma));
        // integral skips duplicates keeping the last value: 150 over 30s.
        let g = IntegralGrouping::Whole {
            start: 0,
            end: i64::MAX - 1,
        };
        let m = fl(&[
            (0, 5.0),
            (0, 5.0),
            (0, 3.0),
            (10, 9.0),
            (10, 9.0),
            (20, 1.0),
            (30, 7.0),
            (30, 9.0),
            (30, 1.0),
        ]);
        assert_rows(&integral(&m, S, g).unwrap(), &some(&[(0, 150.0)]));
    }

    #[test]
    fn elapsed_units_and_desc() {
        let got: Vec<(i64, i64)> = elapsed(&i(), S)
            .unwrap()
            .iter()
            .map(|(t, v)| (t / S, v.as_f64().unwrap() as i64))
            .collect();
        assert_eq!(
            got,
            [
                (10, 10),
                (20, 10),
                (40, 20),
                (50, 10),
                (90, 40),
                (100, 10),
                (130, 30)
            ]
        );
        let got: Vec<i64> = elapsed(&rev(i()), S)
            .unwrap()
            .iter()
            .map(|(_, v)| v.as_f64().unwrap() as i64)
            .collect();
        assert_eq!(got, [-30, -10, -40, -10, -20, -10, -10]);
        // transformations--st-elapsed-by-host: 1s steps in units of 500ms.
        let r = int(&[(0, 10), (1, 30), (2, 32), (3, 47)]);
        let got: Vec<i64> = elapsed(&r, S / 2)
            .unwrap()
            .iter()
            .map(|(_, v)| v.as_f64().unwrap() as i64)
            .collect();
        assert_eq!(got, [2, 2, 2]);
        // strings work too
        let r = vec![
            (0, Value::String("a".into())),
            (5 * S, Value::String("b".into())),
        ];
        assert_eq!(elapsed(&r, S).unwrap(), vec![(5 * S, Value::Integer(5))]);
    }

    #[test]
    fn moving_average_cases() {
        let want = [
            (20, 2.8333333333333335),
            (40, 4.75),
            (50, 4.083333333333333),
            (90, 6.416666666666667),
            (100, 7.333333333333333),
            (130, 5.666666666666667),
        ];
        assert_rows(&moving_average(&s(), 3).unwrap(), &some(&want));
        let wi = [
            (20, 2.6666666666666665),
            (40, 4.666666666666667),
            (50, 4.0),
            (90, 6.333333333333333),
            (100, 7.333333333333333),
            (130, 5.666666666666667),
        ];
        assert_rows(&moving_average(&i(), 3).unwrap(), &some(&wi));
        let wd = [
            (90, 5.666666666666667),
            (50, 7.333333333333333),
            (40, 6.333333333333333),
            (20, 4.0),
            (10, 4.666666666666667),
            (0, 2.6666666666666665),
        ];
        assert_rows(&moving_average(&rev(i()), 3).unwrap(), &some(&wd));
        assert!(moving_average(&i(), 20).unwrap().is_empty());
        assert_eq!(
            moving_average(&i(), 1).unwrap_err().to_string(),
            "moving_average window must be greater than 1, got 1"
        );
        // transformations--moving-average (serverA value, n=3)
        let a = fl(&[
            (0, 50.0),
            (10, 75.77),
            (20, 89.42),
            (30, 84.53),
            (40, 63.4),
            (50, 35.97),
            (60, 15.14),
            (70, 10.7),
            (80, 24.75),
            (90, 50.67),
            (100, 76.28),
            (110, 89.53),
        ]);
        let want = [
            (20, 71.73),
            (30, 83.24),
            (40, 79.11666666666666),
            (50, 61.300000000000004),
            (60, 38.17),
            (70, 20.603333333333335),
            (80, 16.863333333333333),
            (90, 28.706666666666667),
            (100, 50.56666666666666),
            (110, 72.16),
        ];
        assert_rows(&moving_average(&a, 3).unwrap(), &some(&want));
    }

    #[test]
    fn cumulative_sum_types() {
        let got = cumulative_sum(&i()).unwrap();
        assert_eq!(
            got.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
            [1, 5, 8, 15, 17, 27, 37, 34].map(Value::Integer)
        );
        let want = [
            (0, 1.5),
            (10, 5.5),
            (20, 8.5),
            (40, 15.75),
            (50, 17.75),
            (90, 27.75),
            (100, 37.75),
            (130, 34.75),
        ];
        assert_rows(&cumulative_sum(&s()).unwrap(), &some(&want));
        let d: Vec<Value> = cumulative_sum(&rev(i()))
            .unwrap()
            .into_iter()
            .map(|r| r.1)
            .collect();
        assert_eq!(d, [-3, 7, 17, 19, 26, 29, 33, 34].map(Value::Integer));
    }

    #[test]
    fn type_errors() {
        let r = vec![(0, Value::String("x".into()))];
        assert_eq!(
            derivative(&r, S, true).unwrap_err().to_string(),
            "unsupported derivative iterator type: *query.stringInterruptIterator"
        );
        let b = vec![(0, Value::Boolean(true))];
        assert_eq!(
            difference(&b, false).unwrap_err().to_string(),
            "unsupported difference iterator type: *query.booleanInterruptIterator"
        );
        assert_eq!(
            cumulative_sum(&r).unwrap_err().to_string(),
            "unsupported cumulative sum iterator type: *query.stringInterruptIterator"
        );
        assert_eq!(
            moving_average(&b, 2).unwrap_err().to_string(),
            "unsupported moving average iterator type: *query.booleanInterruptIterator"
        );
        assert_eq!(
            integral(&r, S, IntegralGrouping::Whole { start: 0, end: 0 })
                .unwrap_err()
                .to_string(),
            "unsupported integral iterator type: *query.stringInterruptIterator"
        );
    }

    const W20: IntegralGrouping<'static> = IntegralGrouping::Windows(&Window::new(20 * S, 0));
    const W30: IntegralGrouping<'static> = IntegralGrouping::Windows(&Window::new(30 * S, 0));
    const ALL: IntegralGrouping<'static> = IntegralGrouping::Whole {
        start: 0,
        end: i64::MAX - 1,
    };

    #[test]
    fn integral_whole_series() {
        assert_rows(&integral(&s(), S, ALL).unwrap(), &some(&[(0, 656.25)]));
        assert_rows(&integral(&s(), 10 * S, ALL).unwrap(), &some(&[(0, 65.625)]));
        assert_rows(&integral(&i(), S, ALL).unwrap(), &some(&[(0, 650.0)]));
        // Float series report time 0 whatever the range; integers the range start.
        let only = |lo: i64, hi: i64, r: Vec<Row>| -> Vec<Row> {
            r.into_iter()
                .filter(|(t, _)| *t >= lo * S && *t <= hi * S)
                .collect()
        };
        let g = IntegralGrouping::Whole {
            start: 40 * S,
            end: 100 * S,
        };
        assert_rows(
            &integral(&only(40, 100, s()), S, g).unwrap(),
            &some(&[(0, 386.25)]),
        );
        assert_rows(
            &integral(&only(40, 100, i()), S, g).unwrap(),
            &some(&[(40, 385.0)]),
        );
        let g = IntegralGrouping::Whole {
            start: 40 * S,
            end: i64::MAX - 1,
        };
        assert_rows(
            &integral(&only(40, 1000, i()), S, g).unwrap(),
            &some(&[(40, 490.0)]),
        );
        // One point: float gives 0 at time 0; integer at the range start gives nothing.
        let g = IntegralGrouping::Whole {
            start: 40 * S,
            end: 40 * S,
        };
        assert_rows(
            &integral(&only(40, 40, s()), S, g).unwrap(),
            &some(&[(0, 0.0)]),
        );
        assert!(integral(&only(40, 40, i()), S, g).unwrap().is_empty());
        // Descending: float with the last point at time 0 gives nothing; integers report
        // end + 1 and an extra zero row.
        let g = IntegralGrouping::Whole {
            start: 0,
            end: 100 * S,
        };
        assert!(integral(&rev(only(0, 100, s())), S, g).unwrap().is_empty());
        let got = integral(&rev(only(0, 100, i())), S, g).unwrap();
        assert_eq!(
            got,
            vec![
                (100 * S + 1, Value::Float(-545.0)),
                (100 * S + 1, Value::Float(0.0))
            ]
        );
        // aggregates--integral-unit: cpu all hosts merged, unit 1m.
        // (checked through the per-host case below)
    }

    #[test]
    fn integral_windows_float() {
        let want = [
            (0, 6.25),
            (20, 10.25),
            (40, 7.625),
            (80, 31.0),
            (100, 11.333333333333334),
            (120, -0.833333333333333),
        ];
        assert_rows(&integral(&s(), 10 * S, W20).unwrap(), &some(&want));
        let want = [
            (0, 10.3125),
            (30, 13.8125),
            (90, 42.333333333333336),
            (120, -0.833333333333333),
        ];
        assert_rows(&integral(&s(), 10 * S, W30).unwrap(), &some(&want));
        let want = [
            (140, 0.8333333333333335),
            (120, -11.333333333333332),
            (100, -19.0),
            (60, -19.625),
            (60, 0.0),
            (40, -10.25),
            (20, -6.25),
            (20, 0.0),
        ];
        assert_rows(&integral(&rev(s()), 10 * S, W20).unwrap(), &some(&want));
        // aggregates--st-integral-10s-by-time (floatmany, 40s windows)
        let fm = fl(&[
            (0, 2.0),
            (10, 4.0),
            (20, 4.0),
            (30, 4.0),
            (40, 5.0),
            (50, 5.0),
            (60, 7.0),
            (70, 9.0),
        ]);
        let w40 = Window::new(40 * S, 0);
        let w40 = IntegralGrouping::Windows(&w40);
        assert_rows(
            &integral(&fm, 10 * S, w40).unwrap(),
            &some(&[(0, 15.5), (40, 19.0)]),
        );
    }

    #[test]
    fn integral_windows_integer() {
        let want = [
            (0, 6.0),
            (20, 10.0),
            (40, 7.5),
            (80, 19.0),
            (100, 11.333333333333334),
            (120, 5.666666666666667),
        ];
        assert_rows(&integral(&i(), 10 * S, W20).unwrap(), &some(&want));
        let want = [
            (0, 10.0),
            (30, 11.5),
            (90, 30.333333333333336),
            (120, 5.666666666666667),
        ];
        assert_rows(&integral(&i(), 10 * S, W30).unwrap(), &some(&want));
        let want = [
            (140, 0.8333333333333335),
            (120, 1.666666666666667),
            (100, -19.0),
            (60, -31.5),
            (60, 0.0),
            (40, -10.0),
            (20, -6.0),
            (20, 0.0),
        ];
        assert_rows(&integral(&rev(i()), 10 * S, W20).unwrap(), &some(&want));
    }

    #[test]
    fn integral_by_host_corpus() {
        // aggregates--integral-by-host, serverA.
        let a = fl(&[
            (0, 50.0),
            (10, 75.77),
            (20, 89.42),
            (30, 84.53),
            (40, 63.4),
            (50, 35.97),
            (60, 15.14),
            (70, 10.7),
            (80, 24.75),
            (90, 50.67),
            (100, 76.28),
            (110, 89.53),
        ]);
        assert_rows(
            &integral(&a, S, ALL).unwrap(),
            &some(&[(0, 5963.950000000001)]),
        );
    }

    #[test]
    fn moving_average_window_size_does_not_allocate() {
        let r = int(&[(0, 1), (1, 2)]);
        assert!(moving_average(&r, usize::MAX).unwrap().is_empty());
        assert!(moving_average(&fl(&[(0, 1.0)]), usize::MAX)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn time_differences_across_the_whole_range_do_not_wrap() {
        let r = vec![
            (i64::MIN + 2, Value::Float(0.0)),
            (i64::MAX - 1, Value::Float(1.0)),
        ];
        assert!(elapsed(&r, 1).is_err());
        let hours = elapsed(&r, 3_600 * S).unwrap();
        assert_eq!(
            hours[0].1,
            Value::Integer(((i128::from(i64::MAX) * 2 - 2) / (3_600 * i128::from(S))) as i64)
        );
        let d = derivative(&r, S, false).unwrap();
        assert!(matches!(d[0].1, Value::Float(f) if f > 0.0 && f < 1e-9));
        let g = integral(
            &r,
            S,
            IntegralGrouping::Whole {
                start: 0,
                end: i64::MAX - 1,
            },
        )
        .unwrap();
        assert!(matches!(g[0].1, Value::Float(f) if f > 0.0));
    }
}
