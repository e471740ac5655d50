//! Aggregates and selectors over the raw rows of one series (or one window of it), for
//! the cases where ClickHouse's functions do not match InfluxDB 1.6 exactly: integer
//! wrapping in `sum`/`mean`, the nearest-rank `percentile`, `median` of even counts,
//! `mode` tie rules, sample `stddev`, the timestamps selectors report and the
//! `top`/`bottom` tie and ordering rules.
//!
//! Aggregates return the value only (the engine stamps the window start); selectors
//! return the selected row with its own time. `Null` rows are ignored everywhere.

use super::{go_sort, kind_name, numeric, FunctionError, Numeric, Row};
use hyperbyte_domain::query::Value;
use std::cmp::Ordering;

fn non_null(rows: &[Row]) -> impl Iterator<Item = &Row> {
    rows.iter().filter(|(_, v)| !v.is_null())
}

/// Total order used to sort values of one type (floats by `total_cmp`, `false < true`).
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => x.cmp(y),
        (Value::Unsigned(x), Value::Unsigned(y)) => x.cmp(y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Boolean(x), Value::Boolean(y)) => x.cmp(y),
        (Value::Float(x), Value::Float(y)) => x.total_cmp(y),
        (x, y) => match (x.as_f64(), y.as_f64()) {
            (Some(p), Some(q)) => p.total_cmp(&q),
            _ => rank(x).cmp(&rank(y)),
        },
    }
}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Boolean(_) => 1,
        Value::Float(_) | Value::Integer(_) | Value::Unsigned(_) | Value::Time(_) => 2,
        Value::String(_) => 3,
    }
}

/// `count(x)`: the number of non-null rows (integer).
pub fn count(rows: &[Row]) -> Value {
    Value::Integer(non_null(rows).count() as i64)
}

/// `sum(x)`: float sum in row order, integers wrap like Go; `None` without rows.
pub fn sum(rows: &[Row]) -> Result<Option<Value>, FunctionError> {
    Ok(match numeric("sum", rows)? {
        Numeric::Float(v) if !v.is_empty() => Some(Value::Float(v.iter().map(|p| p.1).sum())),
        Numeric::Integer(v) if !v.is_empty() => Some(Value::Integer(
            v.iter().fold(0i64, |a, p| a.wrapping_add(p.1)),
        )),
        Numeric::Unsigned(v) if !v.is_empty() => Some(Value::Unsigned(
            v.iter().fold(0u64, |a, p| a.wrapping_add(p.1)),
        )),
        _ => None,
    })
}

/// `mean(x)`: float; integer series divide their wrapping integer sum (InfluxDB gives
/// `-1` for two `i64::MAX`); `None` without rows.
pub fn mean(rows: &[Row]) -> Result<Option<Value>, FunctionError> {
    Ok(match numeric("mean", rows)? {
        Numeric::Float(v) if !v.is_empty() => Some(Value::Float(
            v.iter().map(|p| p.1).sum::<f64>() / v.len() as f64,
        )),
        Numeric::Integer(v) if !v.is_empty() => {
            let s = v.iter().fold(0i64, |a, p| a.wrapping_add(p.1));
            Some(Value::Float(s as f64 / v.len() as f64))
        }
        Numeric::Unsigned(v) if !v.is_empty() => {
            let s = v.iter().fold(0u64, |a, p| a.wrapping_add(p.1));
            Some(Value::Float(s as f64 / v.len() as f64))
        }
        _ => None,
    })
}

/// `median(x)`: float; the middle value, or `a + (b - a) / 2` of the two middle values.
pub fn median(rows: &[Row]) -> Result<Option<Value>, FunctionError> {
    fn values<T>(v: Vec<(i64, T)>) -> Vec<T> {
        v.into_iter().map(|(_, x)| x).collect()
    }
    let m = match numeric("median", rows)? {
        Numeric::Float(v) => median_of_floats(&mut values(v)),
        Numeric::Integer(v) => median_of_integers(&mut values(v)),
        Numeric::Unsigned(v) => {
            middle(&mut values(v), u64::cmp).map(|(a, b)| a as f64 + (b - a) as f64 / 2.0)
        }
    };
    Ok(m.map(Value::Float))
}

/// The median of floats as InfluxDB computes it (sorted in total order): the middle
/// value of an odd count (its sign too), else `a + (b - a) / 2` of the two middle ones.
/// `None` over no value. The recent-data tier's `median` is this too.
pub(crate) fn median_of_floats(v: &mut [f64]) -> Option<f64> {
    let odd = v.len() % 2 == 1;
    middle(v, f64::total_cmp).map(|(a, b)| if odd { a } else { a + (b - a) / 2.0 })
}

/// The median of integers as InfluxDB computes it: `a + (b - a) / 2` in floats of the
/// two middle values (one value twice for an odd count), `b - a` wrapping as Go's does.
pub(crate) fn median_of_integers(v: &mut [i64]) -> Option<f64> {
    middle(v, i64::cmp).map(|(a, b)| a as f64 + b.wrapping_sub(a) as f64 / 2.0)
}

/// The two middle values of `v` sorted by `cmp` (the middle one twice for an odd count).
fn middle<T: Copy>(v: &mut [T], cmp: impl FnMut(&T, &T) -> Ordering) -> Option<(T, T)> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(cmp);
    let n = v.len();
    Some((v[(n - 1) / 2], v[n / 2]))
}

/// `mode(x)`: InfluxDB's reducer. Booleans: `true` unless more values are `false`. Other
/// types ([`pick_mode`]): the most frequent value (`-0` equals `0`); which of equally
/// frequent values comes out depends on the order InfluxDB's sort leaves them in. Keeps
/// the input type. Floats and integers are sorted as plain numbers (comparing `Value`s was
/// 18% of a 720k-point `mode` query).
pub fn mode(rows: &[Row]) -> Option<Value> {
    let vals: Vec<&Row> = non_null(rows).collect();
    if vals.is_empty() {
        return None;
    }
    if vals.iter().all(|r| matches!(r.1, Value::Boolean(_))) {
        let trues = vals
            .iter()
            .filter(|r| matches!(r.1, Value::Boolean(true)))
            .count();
        return Some(Value::Boolean(trues >= vals.len() - trues));
    }
    let all = |pick: fn(&Value) -> Option<Number>| {
        vals.iter()
            .map(|r| pick(&r.1).map(|n| (n, r.0)))
            .collect::<Option<Vec<_>>>()
    };
    let floats = all(|v| match v {
        Value::Float(x) => Some(Number::Float(*x)),
        _ => None,
    });
    let integers = all(|v| match v {
        Value::Integer(x) => Some(Number::Integer(*x)),
        _ => None,
    });
    match floats.or(integers) {
        Some(mut xs) => pick_mode(&mut xs, Number::mode_cmp).map(Number::value),
        None => {
            let mut xs: Vec<(&Value, i64)> = vals.iter().map(|r| (&r.1, r.0)).collect();
            pick_mode(&mut xs, |a, b| compare_equal_zeros(a, b)).cloned()
        }
    }
}

/// A float or an integer field value.
#[derive(Clone, Copy)]
enum Number {
    Float(f64),
    Integer(i64),
}

impl Number {
    /// The order `mode` sorts by: numbers by value, `-0` equal to `0`.
    fn mode_cmp(&self, other: &Number) -> Ordering {
        match (self, other) {
            (Number::Float(a), Number::Float(b)) => cmp_floats_equal_zeros(*a, *b),
            (Number::Integer(a), Number::Integer(b)) => a.cmp(b),
            (Number::Float(_), Number::Integer(_)) => Ordering::Less,
            (Number::Integer(_), Number::Float(_)) => Ordering::Greater,
        }
    }

    fn value(self) -> Value {
        match self {
            Number::Float(x) => Value::Float(x),
            Number::Integer(x) => Value::Integer(x),
        }
    }
}

/// [`compare_values`] with `-0` equal to `0`, as InfluxDB compares numbers (Go's `==`
/// and map keys: `mode`, `distinct`, the order `percentile` ranks in).
fn compare_equal_zeros(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => cmp_floats_equal_zeros(*x, *y),
        _ => compare_values(a, b),
    }
}

/// Floats by value, `-0` equal to `0` (`+ 0.0` turns `-0` into `0`).
fn cmp_floats_equal_zeros(a: f64, b: f64) -> Ordering {
    (a + 0.0).total_cmp(&(b + 0.0))
}

/// The mode of `(value, time)` pairs in the order InfluxDB reads them: sorted by value as
/// InfluxDB sorts them ([`go_sort`], an unstable sort whose order of equal values the
/// answer depends on), then scanned as InfluxDB scans them: a run's count is compared
/// with the pick's from the run's second value on; a longer run takes over, and so does
/// one as long as the pick whose first value's time is not later than the time of the
/// pick's last counted value; the pick is the value just counted. Runs of one value never
/// take over from the first value. Checked against InfluxDB 1.6.7
/// (`aggregates--mode-ties`, `aggregates--mode-many`, `aggregates--mode`).
fn pick_mode<T: Copy>(pairs: &mut [(T, i64)], cmp: impl Fn(&T, &T) -> Ordering) -> Option<T> {
    let same = |a: &T, b: &T| cmp(a, b).is_eq();
    go_sort::sort(pairs, &|a: &(T, i64), b: &(T, i64)| cmp(&a.0, &b.0).is_lt());
    let &(first, first_time) = pairs.first()?;
    let (mut run, mut run_len, mut run_start) = (first, 0usize, first_time);
    let (mut pick, mut pick_len, mut pick_time) = (first, 0usize, first_time);
    for &(v, t) in pairs.iter() {
        if !same(&v, &run) {
            (run, run_len, run_start) = (v, 1, t);
            continue;
        }
        run_len += 1;
        if pick_len > run_len || (pick_len == run_len && run_start > pick_time) {
            continue;
        }
        (pick, pick_len, pick_time) = (v, run_len, t);
    }
    Some(pick)
}

/// `spread(x)`: `max - min` in the input's type (integers wrap).
pub fn spread(rows: &[Row]) -> Result<Option<Value>, FunctionError> {
    Ok(match numeric("spread", rows)? {
        Numeric::Float(v) if !v.is_empty() => {
            let max = v.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
            let min = v.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
            Some(Value::Float(max - min))
        }
        Numeric::Integer(v) if !v.is_empty() => {
            let max = v.iter().map(|p| p.1).max().unwrap_or(0);
            let min = v.iter().map(|p| p.1).min().unwrap_or(0);
            Some(Value::Integer(max.wrapping_sub(min)))
        }
        Numeric::Unsigned(v) if !v.is_empty() => {
            let max = v.iter().map(|p| p.1).max().unwrap_or(0);
            let min = v.iter().map(|p| p.1).min().unwrap_or(0);
            Some(Value::Unsigned(max - min))
        }
        _ => None,
    })
}

/// `stddev(x)`: sample standard deviation (float); `Null` with fewer than two rows
/// (InfluxDB still prints a row with `null`); `None` without rows.
pub fn stddev(rows: &[Row]) -> Result<Option<Value>, FunctionError> {
    let v = numeric("stddev", rows)?.to_f64();
    if v.is_empty() {
        return Ok(None);
    }
    if v.len() < 2 {
        return Ok(Some(Value::Null));
    }
    let mut mean = 0.0;
    for (i, p) in v.iter().enumerate() {
        mean += (p.1 - mean) / (i + 1) as f64;
    }
    let variance: f64 = v.iter().map(|p| (p.1 - mean).powi(2)).sum();
    Ok(Some(Value::Float((variance / (v.len() - 1) as f64).sqrt())))
}

/// Index of the row `percentile(x, p)` selects among `n` sorted values:
/// `floor(n * p / 100 + 0.5) - 1`, `None` when out of range (e.g. `p = 0`).
pub fn percentile_index(n: usize, p: f64) -> Option<usize> {
    let i = (n as f64 * p / 100.0 + 0.5).floor() as i64 - 1;
    (i >= 0 && (i as usize) < n).then_some(i as usize)
}

/// Row indices sorted by value as InfluxDB's `percentile` sorts its points ([`go_sort`]:
/// equal values end in the order Go's unstable sort leaves them; `-0` ties with `0`).
fn sorted_indices(rows: &[Row]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..rows.len()).filter(|&i| !rows[i].1.is_null()).collect();
    go_sort::sort(&mut idx, &|&a: &usize, &b: &usize| {
        compare_equal_zeros(&rows[a].1, &rows[b].1).is_lt()
    });
    idx
}

/// `percentile(x, p)` as a selector: the index into `rows` of the chosen row.
pub fn percentile_row(rows: &[Row], p: f64) -> Result<Option<usize>, FunctionError> {
    numeric("percentile", rows)?;
    let idx = sorted_indices(rows);
    Ok(percentile_index(idx.len(), p).map(|i| idx[i]))
}

/// `percentile(x, p)`: the nearest-rank value with its own time, in the input's type.
pub fn percentile(rows: &[Row], p: f64) -> Result<Option<Row>, FunctionError> {
    Ok(percentile_row(rows, p)?.map(|i| rows[i].clone()))
}

fn check_selector(
    iterator: &'static str,
    rows: &[Row],
    allow_bool: bool,
) -> Result<(), FunctionError> {
    for (_, v) in rows {
        match v {
            Value::String(_) => {
                return Err(FunctionError::UnsupportedType {
                    iterator,
                    kind: kind_name(v),
                })
            }
            Value::Boolean(_) if !allow_bool => {
                return Err(FunctionError::UnsupportedType {
                    iterator,
                    kind: kind_name(v),
                })
            }
            _ => {}
        }
    }
    Ok(())
}

/// Index of the `first(x)` row: earliest time; equal times → [`first_wins_tie`].
pub fn first_row(rows: &[Row]) -> Option<usize> {
    pick(rows, |cand, best| {
        cand.0 < best.0 || (cand.0 == best.0 && first_wins_tie(&cand.1, &best.1))
    })
}

/// Whether `cand` replaces `held` as `first()` at one time: the larger value, except
/// that `false` beats `true` (InfluxDB's boolean `first` reducer; `last` takes `true`).
pub fn first_wins_tie(cand: &Value, held: &Value) -> bool {
    match (cand, held) {
        (Value::Boolean(c), Value::Boolean(h)) => !c && *h,
        _ => compare_values(cand, held) == Ordering::Greater,
    }
}

/// Index of the `last(x)` row: latest time; equal times → the larger value.
pub fn last_row(rows: &[Row]) -> Option<usize> {
    pick(rows, |cand, best| {
        cand.0 > best.0
            || (cand.0 == best.0 && compare_values(&cand.1, &best.1) == Ordering::Greater)
    })
}

fn pick(rows: &[Row], better: impl Fn(&Row, &Row) -> bool) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, r) in rows.iter().enumerate() {
        if r.1.is_null() {
            continue;
        }
        match best {
            Some(b) if !better(r, &rows[b]) => {}
            _ => best = Some(i),
        }
    }
    best
}

/// `first(x)`: the selected row (any type).
pub fn first(rows: &[Row]) -> Option<Row> {
    first_row(rows).map(|i| rows[i].clone())
}

/// `last(x)`: the selected row (any type).
pub fn last(rows: &[Row]) -> Option<Row> {
    last_row(rows).map(|i| rows[i].clone())
}

/// Index of the `max(x)` row: largest value, ties → earliest time (numbers and
/// booleans; strings are an error).
pub fn max_row(rows: &[Row]) -> Result<Option<usize>, FunctionError> {
    check_selector("max", rows, true)?;
    Ok(pick(rows, |c, b| match compare_values(&c.1, &b.1) {
        Ordering::Greater => true,
        Ordering::Equal => c.0 < b.0,
        Ordering::Less => false,
    }))
}

/// Index of the `min(x)` row: smallest value, ties → earliest time.
pub fn min_row(rows: &[Row]) -> Result<Option<usize>, FunctionError> {
    check_selector("min", rows, true)?;
    Ok(pick(rows, |c, b| match compare_values(&c.1, &b.1) {
        Ordering::Less => true,
        Ordering::Equal => c.0 < b.0,
        Ordering::Greater => false,
    }))
}

/// `max(x)`: the selected row.
pub fn max(rows: &[Row]) -> Result<Option<Row>, FunctionError> {
    Ok(max_row(rows)?.map(|i| rows[i].clone()))
}

/// `min(x)`: the selected row.
pub fn min(rows: &[Row]) -> Result<Option<Row>, FunctionError> {
    Ok(min_row(rows)?.map(|i| rows[i].clone()))
}

/// Indices of the rows `top(x, n)` (or `bottom` when `bottom`) selects, in output
/// order: the `n` best values (ties → the earlier time, then the earlier row), output
/// sorted by time (equal times keep rank order). Use the indices to fetch extra columns
/// (`top(x, 2), host`).
pub fn top_rows(rows: &[Row], n: usize, bottom: bool) -> Result<Vec<usize>, FunctionError> {
    check_selector(if bottom { "bottom" } else { "top" }, rows, false)?;
    let mut idx: Vec<usize> = (0..rows.len()).filter(|&i| !rows[i].1.is_null()).collect();
    idx.sort_by(|&a, &b| {
        let by_value = compare_values(&rows[a].1, &rows[b].1);
        let by_value = if bottom { by_value } else { by_value.reverse() };
        by_value.then(rows[a].0.cmp(&rows[b].0)).then(a.cmp(&b))
    });
    idx.truncate(n);
    idx.sort_by_key(|&i| rows[i].0);
    Ok(idx)
}

/// `top(x, n)`: the selected rows with their own times, sorted by time.
pub fn top(rows: &[Row], n: usize) -> Result<Vec<Row>, FunctionError> {
    Ok(top_rows(rows, n, false)?
        .into_iter()
        .map(|i| rows[i].clone())
        .collect())
}

/// `bottom(x, n)`: the selected rows with their own times, sorted by time.
pub fn bottom(rows: &[Row], n: usize) -> Result<Vec<Row>, FunctionError> {
    Ok(top_rows(rows, n, true)?
        .into_iter()
        .map(|i| rows[i].clone())
        .collect())
}

/// `top(x, tag, n)` / `bottom(x, tag, n)`: first the best row per distinct key (like
/// `max`/`min` per tag value: ties → earliest time), then the `n` best of those. `keys`
/// is parallel to `rows`. Returns row indices in output order (by time).
pub fn top_distinct_rows<K: Ord>(
    rows: &[Row],
    keys: &[K],
    n: usize,
    bottom: bool,
) -> Result<Vec<usize>, FunctionError> {
    check_selector(if bottom { "bottom" } else { "top" }, rows, false)?;
    let mut best: std::collections::BTreeMap<&K, usize> = std::collections::BTreeMap::new();
    for (i, (r, k)) in rows.iter().zip(keys).enumerate() {
        if r.1.is_null() {
            continue;
        }
        let better = |b: usize| {
            let c = compare_values(&r.1, &rows[b].1);
            let c = if bottom { c.reverse() } else { c };
            c == Ordering::Greater || (c == Ordering::Equal && r.0 < rows[b].0)
        };
        match best.get(k) {
            Some(&b) if !better(b) => {}
            _ => {
                best.insert(k, i);
            }
        }
    }
    let chosen: Vec<usize> = best.into_values().collect();
    let sub: Vec<Row> = chosen.iter().map(|&i| rows[i].clone()).collect();
    Ok(top_rows(&sub, n, bottom)?
        .into_iter()
        .map(|j| chosen[j])
        .collect())
}

/// `distinct(x)`: the distinct values ordered by (first time seen, value); `-0` and `0`
/// are one value, the first seen (InfluxDB keys them in a Go map). Sort-based
/// (`O(n log n)`): a series of a million different values must not take a million
/// squared comparisons.
pub fn distinct(rows: &[Row]) -> Vec<Value> {
    distinct_as_fed(rows, false)
}

/// [`distinct`] of rows fed newest first (`ORDER BY time DESC`): InfluxDB's reducer keeps
/// each value's first point it is fed, its latest, and the window lists the values by
/// that time, oldest first, then by value (measured on 1.6.7: a value last seen at 01:48
/// comes before one last seen at 06:00).
pub fn distinct_newest_first(rows: &[Row]) -> Vec<Value> {
    distinct_as_fed(rows, true)
}

fn distinct_as_fed(rows: &[Row], newest_first: bool) -> Vec<Value> {
    let same =
        |a: &Value, b: &Value| rank(a) == rank(b) && compare_equal_zeros(a, b) == Ordering::Equal;
    let fed_before = |a: i64, b: i64| if newest_first { b.cmp(&a) } else { a.cmp(&b) };
    let mut firsts: Vec<(i64, &Value)> = non_null(rows).map(|(t, v)| (*t, v)).collect();
    firsts.sort_by(|a, b| {
        rank(a.1)
            .cmp(&rank(b.1))
            .then(compare_equal_zeros(a.1, b.1))
            .then(fed_before(a.0, b.0))
    });
    // Equal values are adjacent, the one fed first first: keep that one.
    firsts.dedup_by(|later, first| same(later.1, first.1));
    firsts.sort_by(|a, b| a.0.cmp(&b.0).then(compare_values(a.1, b.1)));
    firsts.into_iter().map(|(_, v)| v.clone()).collect()
}

/// `sample(x, n)`: up to `n` rows chosen uniformly at random (reservoir sampling with a
/// small deterministic generator seeded by `seed`), returned with their own times sorted
/// by time.
pub fn sample(rows: &[Row], n: usize, seed: u64) -> Vec<Row> {
    sample_indices(rows, n, seed)
        .into_iter()
        .map(|i| rows[i].clone())
        .collect()
}

/// [`sample`] as the indices of the rows picked, in time order (the caller prints each
/// picked point's other columns).
pub fn sample_indices(rows: &[Row], n: usize, seed: u64) -> Vec<usize> {
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    // Capacity by what the data holds, never by the `n` the query typed.
    let mut picked: Vec<usize> = Vec::with_capacity(n.min(rows.len()));
    for (seen, (i, _)) in rows
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.1.is_null())
        .enumerate()
    {
        if picked.len() < n {
            picked.push(i);
        } else {
            let j = (next() % (seen as u64 + 1)) as usize;
            if j < n {
                picked[j] = i;
            }
        }
    }
    picked.sort_by_key(|&i| (rows[i].0, i));
    picked
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::functions::testutil::{fl, int, S};
    use std::collections::BTreeMap;

    /// Corpus `intmany` (one row per host, merged).
    fn intmany() -> Vec<Row> {
        int(&[
            (0, 2),
            (10, 4),
            (20, 4),
            (30, 4),
            (40, 5),
            (50, 5),
            (60, 7),
            (70, 9),
        ])
    }
    fn floatmany() -> Vec<Row> {
        fl(&[
            (0, 2.0),
            (10, 4.0),
            (20, 4.0),
            (30, 4.0),
            (40, 5.0),
            (50, 5.0),
            (60, 7.0),
            (70, 9.0),
        ])
    }
    /// Measurement `m` (hosts a, b, c merged: same timestamps).
    fn m() -> (Vec<Row>, Vec<&'static str>) {
        let rows = fl(&[
            (0, 5.0),
            (0, 3.0),
            (0, 5.0),
            (10, 9.0),
            (10, 9.0),
            (20, 1.0),
            (30, 1.0),
            (30, 7.0),
            (30, 9.0),
        ]);
        (rows, vec!["a", "b", "c", "a", "b", "c", "a", "b", "c"])
    }

    #[test]
    fn floatmany_stats() {
        // aggregates--st-floatmany-stats
        let r = floatmany();
        assert_eq!(count(&r), Value::Integer(8));
        assert_eq!(sum(&r).unwrap(), Some(Value::Float(40.0)));
        assert_eq!(spread(&r).unwrap(), Some(Value::Float(7.0)));
        assert_eq!(median(&r).unwrap(), Some(Value::Float(4.5)));
        assert_eq!(mode(&r), Some(Value::Float(4.0)));
        assert_eq!(stddev(&r).unwrap(), Some(Value::Float(2.138089935299395)));
    }

    #[test]
    fn integer_aggregates() {
        let r = intmany();
        assert_eq!(mean(&r).unwrap(), Some(Value::Float(5.0)));
        assert_eq!(stddev(&r).unwrap(), Some(Value::Float(2.138089935299395)));
        assert_eq!(sum(&r).unwrap(), Some(Value::Integer(40)));
        assert_eq!(spread(&r).unwrap(), Some(Value::Integer(7)));
        assert_eq!(mode(&r), Some(Value::Integer(4)));
        // aggregates--st-median-even: without server08 → 7 values.
        assert_eq!(median(&r[..7]).unwrap(), Some(Value::Float(4.0)));
        assert_eq!(median(&r).unwrap(), Some(Value::Float(4.5)));
        // aggregates--st-intmax-mean: wrapping sum.
        let mx = int(&[(0, i64::MAX), (3600, i64::MAX)]);
        assert_eq!(mean(&mx).unwrap(), Some(Value::Float(-1.0)));
        assert_eq!(sum(&mx).unwrap(), Some(Value::Integer(-2)));
        assert_eq!(stddev(&mx).unwrap(), Some(Value::Float(0.0)));
        // aggregates--st-stddev-one-point
        assert_eq!(stddev(&mx[..1]).unwrap(), Some(Value::Null));
        assert_eq!(stddev(&[]).unwrap(), None);
        // aggregates--st-intmany-by-time: 30s windows.
        assert_eq!(
            mean(&r[..3]).unwrap(),
            Some(Value::Float(3.3333333333333335))
        );
        assert_eq!(
            mean(&r[3..6]).unwrap(),
            Some(Value::Float(4.666666666666667))
        );
        assert_eq!(mean(&[]).unwrap(), None);
        assert_eq!(count(&[]), Value::Integer(0));
    }

    proptest::proptest! {
        /// `mode` picks what the rule derived from InfluxDB's scan picks where its sort
        /// is stable (six values at most): the most frequent value; all distinct: the
        /// smallest; among runs as frequent, in value order, each takes over when it
        /// starts no later than the current pick ends. Above twelve values: the smallest
        /// of the most frequent. The numeric fast paths and the generic path agree.
        #[test]
        fn mode_follows_the_run_rule(
            xs in proptest::collection::vec((-3i64..4, 0i64..6), 1..40),
            floats in proptest::prelude::any::<bool>(),
        ) {
            let value = |x: i64| if floats {
                Value::Float(if x == -3 { -0.0 } else { x as f64 / 2.0 })
            } else {
                Value::Integer(x)
            };
            let mut rows: Vec<Row> = xs.iter().map(|&(x, t)| (t, value(x))).collect();
            rows.sort_by_key(|r| r.0);
            // Runs keyed by value (-0 with 0): (count, first time, last time, last value).
            let key = |x: i64| if floats && x == -3 { 0 } else { x };
            let mut runs: BTreeMap<i64, (usize, i64, i64, i64)> = BTreeMap::new();
            for &(x, t) in &xs {
                let r = runs.entry(key(x)).or_insert((0, i64::MAX, i64::MIN, x));
                r.0 += 1;
                r.1 = r.1.min(t);
                if t >= r.2 {
                    // Equal times keep the input order (the sort is stable).
                    r.2 = t;
                    r.3 = x;
                }
            }
            let most = runs.values().map(|r| r.0).max().unwrap_or(0);
            let tied = runs.values().filter(|r| r.0 == most).count();
            // What does not depend on the order the sort leaves equal values in: all
            // distinct (the smallest), one most frequent value; ties up to twelve values
            // (an insertion sort, which keeps time order).
            let expected = if most == 1 {
                runs.values().next().map(|r| r.3)
            } else if tied == 1 {
                runs.iter().find(|r| r.1.0 == most).map(|(&k, r)| if k == 0 { r.3 } else { k })
            } else if xs.len() > 12 {
                None
            } else {
                let mut tied = runs.values().filter(|r| r.0 == most);
                let mut pick = tied.next().copied();
                for r in tied {
                    if pick.is_some_and(|p| r.1 <= p.2) {
                        pick = Some(*r);
                    }
                }
                pick.map(|p| p.3)
            };
            let generic = {
                let mut v: Vec<(&Value, i64)> = rows.iter().map(|r| (&r.1, r.0)).collect();
                pick_mode(&mut v, |a, b| compare_equal_zeros(a, b)).cloned()
            };
            let shown = |v: Option<Value>| v.map(|v| format!("{v:?}"));
            if let Some(x) = expected {
                // A zero's sign is whichever zero the sort left last: compare as numbers.
                let got = mode(&rows).and_then(|v| v.as_f64());
                proptest::prop_assert_eq!(got, value(x).as_f64());
            }
            proptest::prop_assert_eq!(shown(generic), shown(mode(&rows)));
        }
    }

    #[test]
    fn mode_ties_and_types() {
        // aggregates--bool-aggregates: 3 true, 3 false → true.
        let b: Vec<Row> = [true, false, true, true, false, false]
            .iter()
            .enumerate()
            .map(|(i, &x)| (i as i64, Value::Boolean(x)))
            .collect();
        assert_eq!(mode(&b), Some(Value::Boolean(true)));
        assert_eq!(first(&b), Some((0, Value::Boolean(true))));
        assert_eq!(last(&b), Some((5, Value::Boolean(false))));
        let s: Vec<Row> = ["x", "y", "a", "q", "z", "b", "c", "c", "d"]
            .iter()
            .enumerate()
            .map(|(i, x)| (i as i64, Value::String(x.to_string())))
            .collect();
        assert_eq!(mode(&s), Some(Value::String("c".into())));
        // all distinct → smallest
        assert_eq!(
            mode(&int(&[(0, 5), (1, 3), (2, 9)])),
            Some(Value::Integer(3))
        );
        // 1 and 9 twice each: 9 starts (t0) before 1 ends (t3), so 9 takes over
        assert_eq!(
            mode(&int(&[(0, 9), (1, 1), (2, 9), (3, 1), (4, 5)])),
            Some(Value::Integer(9))
        );
        // 5 then 1 twice each: 5 starts (t0) before 1 ends (t3)
        assert_eq!(
            mode(&int(&[(0, 5), (1, 5), (2, 1), (3, 1)])),
            Some(Value::Integer(5))
        );
        // 3 starts (t0) after 1 ended? no: 1 at t1, t2; 3 at t0, t3 → 3 takes over
        assert_eq!(
            mode(&int(&[(0, 3), (1, 1), (2, 1), (3, 3)])),
            Some(Value::Integer(3))
        );
        // 1 at t0, t1; 3 at t2, t3: 3 starts after 1 ends → 1 stays
        assert_eq!(
            mode(&int(&[(0, 1), (1, 1), (2, 3), (3, 3)])),
            Some(Value::Integer(1))
        );
        let (rows, _) = m();
        assert_eq!(mode(&rows), Some(Value::Float(9.0)));
    }

    #[test]
    fn percentiles() {
        let r = intmany();
        assert_eq!(percentile(&r, 0.0).unwrap(), None);
        assert_eq!(
            percentile(&r, 100.0).unwrap(),
            Some((70 * S, Value::Integer(9)))
        );
        assert_eq!(percentile_index(9, 50.0), Some(4));
        assert_eq!(percentile_index(9, 60.0), Some(4));
        assert_eq!(percentile_index(8, 50.0), Some(3));
        let (rows, hosts) = m();
        let i = percentile_row(&rows, 60.0).unwrap().unwrap();
        assert_eq!(rows[i].1, Value::Float(5.0));
        assert_eq!(hosts[i], "c");
        assert!(percentile(&[(0, Value::String("a".into()))], 50.0).is_err());
        // -0 ties with 0: the earlier point ranks first (the engine's percentile too).
        let zeros = [(S, Value::Float(0.0)), (2 * S, Value::Float(-0.0))];
        assert_eq!(
            percentile(&zeros, 50.0).unwrap(),
            Some((S, Value::Float(0.0)))
        );
    }

    #[test]
    fn selectors() {
        // selectors--st-max-selector-time
        assert_eq!(max(&intmany()).unwrap(), Some((70 * S, Value::Integer(9))));
        assert_eq!(min(&intmany()).unwrap(), Some((0, Value::Integer(2))));
        // ties: earliest time wins (m2: max 2 at 0 and 10).
        let m2 = fl(&[(0, 1.0), (0, 2.0), (10, 2.0), (10, 1.0)]);
        assert_eq!(max(&m2).unwrap(), Some((0, Value::Float(2.0))));
        assert_eq!(min(&m2).unwrap(), Some((0, Value::Float(1.0))));
        // first/last at equal times pick the larger value.
        assert_eq!(first(&m2), Some((0, Value::Float(2.0))));
        assert_eq!(last(&m2), Some((10 * S, Value::Float(2.0))));
        let s2 = vec![
            (0, Value::String("a".into())),
            (0, Value::String("b".into())),
        ];
        assert_eq!(first(&s2), Some((0, Value::String("b".into()))));
        // Booleans at one time: first() takes false, last() true (InfluxDB 1.6.7).
        let b2 = vec![(0, Value::Boolean(true)), (0, Value::Boolean(false))];
        assert_eq!(first(&b2), Some((0, Value::Boolean(false))));
        assert_eq!(last(&b2), Some((0, Value::Boolean(true))));
        // booleans: max true, min false; strings are an error.
        let b = vec![(0, Value::Boolean(false)), (S, Value::Boolean(true))];
        assert_eq!(max(&b).unwrap(), Some((S, Value::Boolean(true))));
        assert_eq!(min(&b).unwrap(), Some((0, Value::Boolean(false))));
        assert_eq!(
            max(&s2).unwrap_err().to_string(),
            "unsupported max iterator type: *query.stringInterruptIterator"
        );
        assert_eq!(first(&[]), None);
    }

    #[test]
    fn top_bottom() {
        let r = intmany();
        // selectors--st-top-ties / st-bottom-ties
        assert_eq!(
            top(&r, 2).unwrap(),
            vec![(60 * S, Value::Integer(7)), (70 * S, Value::Integer(9))]
        );
        assert_eq!(
            top(&r, 3)
                .unwrap()
                .iter()
                .map(|x| x.0 / S)
                .collect::<Vec<_>>(),
            [40, 60, 70]
        );
        assert_eq!(
            bottom(&r, 3).unwrap(),
            vec![
                (0, Value::Integer(2)),
                (10 * S, Value::Integer(4)),
                (20 * S, Value::Integer(4))
            ]
        );
        // selectors--st-top-by-time / st-bottom-by-time: per 30s window.
        assert_eq!(top(&r[..3], 1).unwrap(), vec![(10 * S, Value::Integer(4))]);
        assert_eq!(top(&r[3..6], 1).unwrap(), vec![(40 * S, Value::Integer(5))]);
        assert_eq!(
            bottom(&r[3..6], 1).unwrap(),
            vec![(30 * S, Value::Integer(4))]
        );
        // m: top 4 / bottom 4 with equal times.
        let (rows, hosts) = m();
        let t: Vec<(i64, f64)> = top(&rows, 4)
            .unwrap()
            .iter()
            .map(|x| (x.0 / S, x.1.as_f64().unwrap()))
            .collect();
        assert_eq!(t, [(10, 9.0), (10, 9.0), (30, 9.0), (30, 7.0)]);
        let b: Vec<(i64, f64, &str)> = top_rows(&rows, 4, true)
            .unwrap()
            .iter()
            .map(|&i| (rows[i].0 / S, rows[i].1.as_f64().unwrap(), hosts[i]))
            .collect();
        assert_eq!(
            b,
            [(0, 3.0, "b"), (0, 5.0, "a"), (20, 1.0, "c"), (30, 1.0, "a")]
        );
        assert!(top(&[(0, Value::Boolean(true))], 1).is_err());
    }

    #[test]
    fn top_with_tag() {
        // selectors--top-tag: top(value, host, 2) over the corpus cpu data. Per host maximum:
        // A 89.53@110, B 89.67@10, C 88.72@80 → B and A, sorted by time.
        let rows = fl(&[(10, 89.67), (80, 88.72), (110, 89.53), (100, 89.57)]);
        let hosts = ["B", "C", "A", "B"];
        let got = top_distinct_rows(&rows, &hosts, 2, false).unwrap();
        assert_eq!(
            got.iter().map(|&i| hosts[i]).collect::<Vec<_>>(),
            ["B", "A"]
        );
        assert_eq!(
            got.iter().map(|&i| rows[i].0 / S).collect::<Vec<_>>(),
            [10, 110]
        );
    }

    #[test]
    fn distinct_order() {
        // aggregates--distinct-strings: b, a, c by first appearance.
        let s: Vec<Row> = ["b", "a", "c", "a", "b", "a"]
            .iter()
            .enumerate()
            .map(|(i, x)| (i as i64 * S, Value::String(x.to_string())))
            .collect();
        assert_eq!(
            distinct(&s),
            ["b", "a", "c"].map(|x| Value::String(x.into()))
        );
        // Fed newest first: each value at its latest point (c at 2, b at 4, a at 5).
        assert_eq!(
            distinct_newest_first(&s),
            ["c", "b", "a"].map(|x| Value::String(x.into()))
        );
        assert_eq!(distinct(&intmany()), [2, 4, 5, 7, 9].map(Value::Integer));
        // -0 and 0 are one value, the first seen (aggregates--count-distinct)
        assert_eq!(
            distinct(&fl(&[(0, 1.0), (1, -0.0), (2, 0.0), (3, 2.0)])),
            [1.0, -0.0, 2.0].map(Value::Float)
        );
        // equal first times → by value
        let (rows, _) = m();
        assert_eq!(distinct(&rows), [3.0, 5.0, 9.0, 1.0, 7.0].map(Value::Float));
        assert_eq!(
            count(
                &distinct(&intmany())
                    .into_iter()
                    .map(|v| (0, v))
                    .collect::<Vec<_>>()
            ),
            Value::Integer(5)
        );
    }

    #[test]
    fn sample_shape() {
        let r = intmany();
        let got = sample(&r, 3, 42);
        assert_eq!(got.len(), 3);
        assert!(got.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(got.iter().all(|g| r.contains(g)));
        assert_eq!(sample(&r, 20, 1), r);
        assert!(sample(&r, 0, 1).is_empty());
    }

    #[test]
    fn sample_and_top_counts_do_not_allocate() {
        let r = intmany();
        assert_eq!(sample(&r, usize::MAX, 1).len(), r.len());
        assert_eq!(top_rows(&r, usize::MAX, false).unwrap().len(), r.len());
    }

    #[test]
    fn distinct_of_many_values_is_not_quadratic() {
        // 200,000 different values: the old pairwise search took minutes.
        let r: Vec<Row> = (0..200_000i64)
            .map(|i| (i, Value::Integer(200_000 - i)))
            .chain([(7, Value::Integer(3)), (8, Value::Float(3.0))])
            .collect();
        let d = distinct(&r);
        assert_eq!(d.len(), 200_000);
        assert_eq!(d[0], Value::Integer(200_000));
    }
}
