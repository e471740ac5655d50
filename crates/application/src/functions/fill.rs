//! `fill(null|none|previous|linear|<number>)` for `GROUP BY time(..)` results: turns the
//! per-bucket aggregates (with `None` for empty buckets) into output rows the way
//! InfluxDB 1.6's fill iterator does.

use super::go_convert::{go_int, go_uint};
use super::Row;
use hyperbyte_domain::query::Value;

/// The fill mode of a windowed query.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Fill {
    /// `fill(null)` (the default): empty buckets are `Null`.
    #[default]
    Null,
    /// `fill(none)`: empty buckets are dropped.
    None,
    /// `fill(previous)`: the last known value (in output order) is carried forward;
    /// leading empty buckets stay `Null`.
    Previous,
    /// `fill(linear)`: linear interpolation between the known buckets on either side
    /// (integers are truncated); buckets before the first or after the last known value,
    /// and non-numeric columns, stay `Null`. As InfluxDB's fill iterator, it interpolates
    /// over window numbers (`time / every`, truncated toward zero) from the known bucket
    /// met before in output order (the later one under `ORDER BY time DESC`): the last
    /// digits of a value depend on both.
    Linear {
        /// The window length in nanoseconds (`GROUP BY time(every)`).
        every: i64,
    },
    /// `fill(<number>)`: the literal, cast to the column's type (integer columns truncate
    /// `1.5` to `1`, string columns get `""`, boolean columns `false`).
    Number(Value),
}

impl Fill {
    /// The mode InfluxDB applies to a `count()` column: `fill(null)` becomes `fill(0)`
    /// (empty buckets count 0); other modes are unchanged.
    pub fn count_default(&self) -> Fill {
        match self {
            Fill::Null => Fill::Number(Value::Integer(0)),
            other => other.clone(),
        }
    }
}

/// Casts a fill literal to the type of `like` (InfluxDB's `castTo*`).
fn cast_like(lit: &Value, like: Option<&Value>) -> Value {
    let as_f = lit.as_f64().unwrap_or(0.0);
    match like {
        Some(Value::Float(_)) => Value::Float(as_f),
        Some(Value::Integer(_)) | Some(Value::Time(_)) => Value::Integer(match lit {
            Value::Integer(i) => *i,
            Value::Unsigned(u) => *u as i64,
            _ => go_int(as_f),
        }),
        Some(Value::Unsigned(_)) => Value::Unsigned(match lit {
            Value::Integer(i) => *i as u64,
            Value::Unsigned(u) => *u,
            _ => go_uint(as_f),
        }),
        Some(Value::String(_)) => Value::String(String::new()),
        Some(Value::Boolean(_)) => Value::Boolean(false),
        Some(Value::Null) | None => lit.clone(),
    }
}

/// InfluxDB's `linearFloat`/`linearInteger`/`linearUnsigned` at window `t` between the
/// known windows `prev` (met first in output order) and `next`, over window numbers.
fn linear_value(t: i64, prev: (i64, &Value), next: (i64, &Value), every: i64) -> Value {
    let every = every.max(1);
    let (w, pw, nw) = (t / every, prev.0 / every, next.0 / every);
    // Window numbers are at most i64::MAX / 1 apart: the spans fit an i128.
    let dt = (i128::from(nw) - i128::from(pw)) as f64;
    let x = (i128::from(w) - i128::from(pw)) as f64;
    match (prev.1, next.1) {
        (Value::Float(a), Value::Float(b)) => Value::Float((b - a) / dt * x + a),
        (Value::Integer(a), Value::Integer(b)) => {
            Value::Integer(go_int(b.wrapping_sub(*a) as f64 / dt * x + *a as f64))
        }
        (Value::Unsigned(a), Value::Unsigned(b)) => {
            let m = if b >= a {
                (b - a) as f64
            } else {
                -((a - b) as f64)
            } / dt;
            Value::Unsigned(go_uint(m * x + *a as f64))
        }
        (a, b) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) if !matches!(prev.1, Value::String(_) | Value::Boolean(_)) => {
                Value::Float((b - a) / dt * x + a)
            }
            _ => Value::Null,
        },
    }
}

/// Applies `mode` to the buckets `(bucket time, aggregate or None when empty)`, given in
/// output order (ascending or descending). Returns the output rows; `Fill::None` drops
/// empty buckets.
pub fn fill(buckets: &[(i64, Option<Value>)], mode: &Fill) -> Vec<Row> {
    let known = |v: &Option<Value>| v.as_ref().filter(|x| !x.is_null()).cloned();
    match mode {
        Fill::Null => buckets
            .iter()
            .map(|(t, v)| (*t, known(v).unwrap_or(Value::Null)))
            .collect(),
        Fill::None => buckets
            .iter()
            .filter_map(|(t, v)| known(v).map(|x| (*t, x)))
            .collect(),
        Fill::Number(lit) => {
            let like = buckets.iter().find_map(|(_, v)| known(v));
            let filler = cast_like(lit, like.as_ref());
            buckets
                .iter()
                .map(|(t, v)| (*t, known(v).unwrap_or_else(|| filler.clone())))
                .collect()
        }
        Fill::Previous => {
            let mut last: Option<Value> = None;
            buckets
                .iter()
                .map(|(t, v)| match known(v) {
                    Some(x) => {
                        last = Some(x.clone());
                        (*t, x)
                    }
                    None => (*t, last.clone().unwrap_or(Value::Null)),
                })
                .collect()
        }
        Fill::Linear { every } => {
            let mut out = Vec::with_capacity(buckets.len());
            let mut prev: Option<(i64, Value)> = None;
            // The next known bucket after each position, found in one backward pass (a
            // forward search per empty bucket is quadratic over a long empty grid).
            let mut next_known: Vec<Option<usize>> = vec![None; buckets.len()];
            let mut seen = None;
            for (i, (_, v)) in buckets.iter().enumerate().rev() {
                next_known[i] = seen;
                if known(v).is_some() {
                    seen = Some(i);
                }
            }
            for (i, (t, v)) in buckets.iter().enumerate() {
                if let Some(x) = known(v) {
                    prev = Some((*t, x.clone()));
                    out.push((*t, x));
                    continue;
                }
                let next = next_known[i]
                    .and_then(|j| buckets.get(j))
                    .and_then(|(nt, nv)| known(nv).map(|x| (*nt, x)));
                let value = match (&prev, &next) {
                    (Some((pt, pv)), Some((nt, nv))) => {
                        linear_value(*t, (*pt, pv), (*nt, nv), *every)
                    }
                    _ => Value::Null,
                };
                out.push((*t, value));
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::functions::testutil::{assert_rows, S};

    /// `fill(linear)` of the tests' 10-second windows.
    const LINEAR: Fill = Fill::Linear { every: 10 * S };

    /// mean(v) of the corpus `gaps` data per 10s from 00:00 to 02:00 (seconds offsets).
    fn gaps_mean() -> Vec<(i64, Option<Value>)> {
        let known = [(0, 1.0), (10, 13.75), (50, 22.0), (60, 16.5), (110, 8.0)];
        (0..12)
            .map(|i| {
                let t = i * 10;
                (
                    t * S,
                    known.iter().find(|k| k.0 == t).map(|k| Value::Float(k.1)),
                )
            })
            .collect()
    }

    #[test]
    fn fill_null_none_zero() {
        let b = gaps_mean();
        let got = fill(&b, &Fill::Null);
        assert_rows(
            &got,
            &[
                (0, Some(1.0)),
                (10, Some(13.75)),
                (20, None),
                (30, None),
                (40, None),
                (50, Some(22.0)),
                (60, Some(16.5)),
                (70, None),
                (80, None),
                (90, None),
                (100, None),
                (110, Some(8.0)),
            ],
        );
        let got = fill(&b, &Fill::None);
        assert_rows(
            &got,
            &[
                (0, Some(1.0)),
                (10, Some(13.75)),
                (50, Some(22.0)),
                (60, Some(16.5)),
                (110, Some(8.0)),
            ],
        );
        let got = fill(&b, &Fill::Number(Value::Integer(0)));
        assert_eq!(got[2].1, Value::Float(0.0));
        let got = fill(&b, &Fill::Number(Value::Float(1.5)));
        assert_eq!(got[3].1, Value::Float(1.5));
    }

    #[test]
    fn fill_linear() {
        let got = fill(&gaps_mean(), &LINEAR);
        assert_rows(
            &got,
            &[
                (0, Some(1.0)),
                (10, Some(13.75)),
                (20, Some(15.8125)),
                (30, Some(17.875)),
                (40, Some(19.9375)),
                (50, Some(22.0)),
                (60, Some(16.5)),
                (70, Some(14.8)),
                (80, Some(13.1)),
                (90, Some(11.4)),
                (100, Some(9.7)),
                (110, Some(8.0)),
            ],
        );
        // fill--linear-trailing-gap: no value after the last known bucket.
        let b: Vec<_> = [
            (40, None),
            (50, Some(22.0)),
            (60, Some(16.5)),
            (70, None),
            (80, None),
            (90, None),
            (100, None),
            (110, Some(8.0)),
            (120, None),
            (130, None),
            (140, None),
        ]
        .iter()
        .map(|&(t, v)| (t * S, v.map(Value::Float)))
        .collect();
        assert_rows(
            &fill(&b, &LINEAR),
            &[
                (40, None),
                (50, Some(22.0)),
                (60, Some(16.5)),
                (70, Some(14.8)),
                (80, Some(13.1)),
                (90, Some(11.4)),
                (100, Some(9.7)),
                (110, Some(8.0)),
                (120, None),
                (130, None),
                (140, None),
            ],
        );
        // fill--linear-int: integers truncate (14 → 15 over 30s).
        let b = vec![
            (0, None),
            (10 * S, None),
            (20 * S, Some(Value::Integer(14))),
            (30 * S, None),
            (40 * S, None),
            (50 * S, Some(Value::Integer(15))),
        ];
        let got: Vec<Value> = fill(&b, &LINEAR).into_iter().map(|r| r.1).collect();
        assert_eq!(
            got,
            vec![
                Value::Null,
                Value::Null,
                Value::Integer(14),
                Value::Integer(14),
                Value::Integer(14),
                Value::Integer(15)
            ]
        );
        // descending order interpolates the same way.
        let mut d = gaps_mean();
        d.reverse();
        let got = fill(&d, &LINEAR);
        assert_eq!(got[8], (30 * S, Value::Float(17.875)));
        // strings are not interpolated
        let b = vec![
            (0, Some(Value::String("a".into()))),
            (S, None),
            (2 * S, Some(Value::String("b".into()))),
        ];
        assert_eq!(fill(&b, &LINEAR)[1].1, Value::Null);
    }

    #[test]
    fn fill_previous() {
        let b: Vec<_> = [
            (-30, None),
            (-20, None),
            (-10, None),
            (0, Some(1.0)),
            (10, Some(13.75)),
            (20, None),
        ]
        .iter()
        .map(|&(t, v)| (t * S, v.map(Value::Float)))
        .collect();
        assert_rows(
            &fill(&b, &Fill::Previous),
            &[
                (-30, None),
                (-20, None),
                (-10, None),
                (0, Some(1.0)),
                (10, Some(13.75)),
                (20, Some(13.75)),
            ],
        );
        // DESC carries forward in output order.
        let mut d = b.clone();
        d.reverse();
        let got = fill(&d, &Fill::Previous);
        assert_eq!(got[0].1, Value::Null);
        assert_eq!(got[5].1, Value::Float(1.0));
    }

    #[test]
    fn number_cast_to_column_type() {
        let b = vec![(0, Some(Value::Integer(2))), (S, None)];
        assert_eq!(
            fill(&b, &Fill::Number(Value::Float(1.5)))[1].1,
            Value::Integer(1)
        );
        let b = vec![(0, Some(Value::String("y".into()))), (S, None)];
        assert_eq!(
            fill(&b, &Fill::Number(Value::Integer(3)))[1].1,
            Value::String(String::new())
        );
        let b = vec![(0, Some(Value::Boolean(true))), (S, None)];
        assert_eq!(
            fill(&b, &Fill::Number(Value::Integer(3)))[1].1,
            Value::Boolean(false)
        );
    }

    #[test]
    fn count_rules() {
        assert_eq!(Fill::Null.count_default(), Fill::Number(Value::Integer(0)));
        assert_eq!(Fill::Previous.count_default(), Fill::Previous);
        // count with fill(linear): 2 at 40s, 1 at 80s → 1 at 60s (truncated 1.5).
        let b = vec![
            (40 * S, Some(Value::Integer(2))),
            (60 * S, None),
            (80 * S, Some(Value::Integer(1))),
        ];
        assert_eq!(fill(&b, &LINEAR)[1].1, Value::Integer(1));
    }

    #[test]
    fn linear_fill_of_a_long_empty_grid_is_linear_time() {
        // 300,000 empty buckets between two values: a forward search per empty bucket
        // was 4.5·10¹⁰ steps.
        let n = 300_000i64;
        let mut b: Vec<(i64, Option<Value>)> = (0..n).map(|t| (t, None)).collect();
        b[0].1 = Some(Value::Float(0.0));
        b[(n - 1) as usize].1 = Some(Value::Float((n - 1) as f64));
        let out = fill(&b, &Fill::Linear { every: 1 });
        assert_eq!(out.len(), n as usize);
        assert_eq!(out[1234].1, Value::Float(1234.0));
        // Interpolation across the whole time range does not wrap.
        let b = vec![
            (i64::MIN, Some(Value::Float(0.0))),
            (0, None),
            (i64::MAX, Some(Value::Float(2.0))),
        ];
        let out = fill(&b, &Fill::Linear { every: 1 });
        assert!(
            matches!(out[1].1, Value::Float(f) if (f - 1.0).abs() < 1e-9),
            "{out:?}"
        );
    }
}
