//! InfluxQL functions computed in Rust over result streams: the transformations,
//! technical-analysis functions, selectors/aggregates and `fill()` rules that ClickHouse
//! cannot express with InfluxDB 1.6's exact semantics.
//!
//! Everything here is pure: a function receives the rows of **one series** (one tag set)
//! in the order the query asks for (time ascending, or descending for `ORDER BY time
//! DESC`) as `&[(i64 /* ns */, Value)]`, and returns rows `(i64, Value)`. For windowed
//! queries (`GROUP BY time(..)`) the input is the per-bucket aggregate, one row per
//! bucket, where an empty bucket is `Value::Null`: every transformation skips `Null`
//! rows exactly like InfluxDB skips "nil" points. Functions that can fail on the input
//! type return [`FunctionError`] whose text is InfluxDB's own error text.
//!
//! | function | module | input | output type | output timestamp |
//! |---|---|---|---|---|
//! | `derivative(x, unit)` / `non_negative_derivative` | [`transform::derivative`] | float, int, uint | float | time of the current row; duplicates of the previous timestamp are skipped; DESC flips the elapsed sign; non-negative drops rows whose *difference* is `< 0` |
//! | `difference(x)` / `non_negative_difference` | [`transform::difference`] | float, int, uint | same as input (int wraps) | time of the current row; duplicate timestamps skipped |
//! | `elapsed(x, unit)` | [`transform::elapsed`] | any type | integer (`Δt / unit`, truncated; negative in DESC) | time of the current row; duplicates **not** skipped (give 0) |
//! | `moving_average(x, n)` | [`transform::moving_average`] | float, int, uint | float | time of the n-th (newest) row of the window |
//! | `cumulative_sum(x)` | [`transform::cumulative_sum`] | float, int, uint | same as input (int wraps) | time of each row (first row included) |
//! | `integral(x, unit)` | [`transform::integral`] | float, int, uint | float | no window: float input → time 0 (epoch, whatever the range), integer input → range start; windowed: window start (InfluxDB's interpolating algorithm, incl. its quirks) |
//! | math: `abs ceil floor round` | [`math::apply_unary`] | float, int, uint | same as input | unchanged |
//! | math: `acos asin atan cos exp ln log2 log10 sin sqrt tan` | [`math::apply_unary`] | numeric | float; NaN → `Null`; ±Inf kept as float | unchanged |
//! | math: `atan2(y, x) log(x, b) pow(x, y)` | [`math::apply_binary`] | numeric | float (NaN → `Null`) | unchanged |
//! | `exponential_moving_average` `double_..` `triple_exponential_moving_average` `relative_strength_index` `triple_exponential_derivative` `chande_momentum_oscillator` `kaufmans_efficiency_ratio` `kaufmans_adaptive_moving_average` | [`technical`] | float, int, uint | float (NaN → `Null`, TRIX drops ±Inf) | time of the current row, once more than `hold_period` rows were seen |
//! | `holt_winters(x, n, s)` / `holt_winters_with_fit` | [`holt_winters::holt_winters`] | bucket aggregates (float, int) | float | forecast: `last_time + k*interval`; with fit: `first_time + i*interval` |
//! | `count` | [`aggregate::count`] | any | integer | window start (caller) |
//! | `sum` | [`aggregate::sum`] | float, int, uint | same as input (int wraps) | window start |
//! | `mean` | [`aggregate::mean`] | float, int, uint | float (int: wrapping int sum / count) | window start |
//! | `median` | [`aggregate::median`] | float, int, uint | float (`a + (b-a)/2` on even counts) | window start |
//! | `mode` | [`aggregate::mode`] | any | same as input; ties → smallest value (bool ties → `true`) | window start |
//! | `spread` | [`aggregate::spread`] | float, int, uint | same as input | window start |
//! | `stddev` | [`aggregate::stddev`] | float, int, uint | float, sample stddev, `Null` for < 2 rows | window start |
//! | `percentile(x, p)` | [`aggregate::percentile`] | float, int, uint | same as input; index `floor(n*p/100 + 0.5) - 1`, none if out of range | selector: the chosen row's time (window start under `GROUP BY time`, like all selectors) |
//! | `first` / `last` | [`aggregate::first`] / [`aggregate::last`] | any | same as input; equal times → larger value | selector: the row's time |
//! | `min` / `max` | [`aggregate::min`] / [`aggregate::max`] | float, int, uint, bool | same as input; ties → earliest row | selector: the row's time |
//! | `top(x, n)` / `bottom(x, n)` | [`aggregate::top`] / [`aggregate::bottom`] | float, int, uint | same as input; ties → earlier time wins | each selected row's own time, output sorted by time |
//! | `distinct(x)` | [`aggregate::distinct`] | any | same as input, ordered by (first time seen, value) | window start (caller) |
//! | `sample(x, n)` | [`aggregate::sample`] | any | same as input, ≤ n random rows | each row's own time, sorted by time |
//! | `fill(null|none|previous|linear|<number>)` | [`fill::fill`] | buckets `(time, Option<Value>)` | see [`fill::Fill`] | bucket time |
//!
//! Things the *engine* must do around these functions (measured on InfluxDB 1.6.7):
//! - Transformations over an aggregate read the buckets from *before* the query start and
//!   then drop output rows before the start: `derivative`, `difference`,
//!   `non_negative_*`, `elapsed` and the technical-analysis functions extend the range by
//!   one interval, `moving_average(agg, n)` by `n - 1` intervals; `cumulative_sum` does
//!   not extend it.
//! - With `fill(null)` (the default), `count` fills empty buckets with `0`; with any other
//!   fill mode `count` follows the normal rules (see [`fill::Fill::count_default`]).
//! - Transformations over an aggregate see the *filled* buckets (fill(0) feeds zeros,
//!   fill(null) feeds `Null` which is skipped).

pub mod aggregate;
#[cfg(test)]
mod corpus_tests;
pub mod fill;
pub(crate) mod go_convert;
mod go_sort;
pub mod holt_winters;
pub mod math;
pub mod technical;
pub mod transform;

use hyperbyte_domain::query::Value;

pub use fill::Fill;

/// One output or input row: time in nanoseconds and a value.
pub type Row = (i64, Value);

/// Errors produced by the functions, worded like InfluxDB's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FunctionError {
    /// The function does not accept this input type, e.g.
    /// `unsupported derivative iterator type: *query.stringInterruptIterator`.
    #[error("unsupported {iterator} iterator type: *query.{kind}InterruptIterator")]
    UnsupportedType {
        /// InfluxDB's iterator name (`derivative`, `cumulative sum`, ...).
        iterator: &'static str,
        /// Input type name (`float`, `integer`, `unsigned`, `string`, `boolean`).
        kind: &'static str,
    },
    /// An argument is out of range (text is InfluxDB's message).
    #[error("{0}")]
    InvalidArgument(String),
}

/// The type name InfluxDB uses for a value in iterator error messages.
pub(crate) fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Float(_) => "float",
        Value::Integer(_) | Value::Time(_) => "integer",
        Value::Unsigned(_) => "unsigned",
        Value::Boolean(_) => "boolean",
        Value::String(_) => "string",
        Value::Null => "float",
    }
}

/// The rows of a series converted to one numeric type, `Null` rows removed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Numeric {
    Float(Vec<(i64, f64)>),
    Integer(Vec<(i64, i64)>),
    Unsigned(Vec<(i64, u64)>),
}

impl Numeric {
    /// All values as floats.
    pub(crate) fn to_f64(&self) -> Vec<(i64, f64)> {
        match self {
            Numeric::Float(v) => v.clone(),
            Numeric::Integer(v) => v.iter().map(|&(t, x)| (t, x as f64)).collect(),
            Numeric::Unsigned(v) => v.iter().map(|&(t, x)| (t, x as f64)).collect(),
        }
    }
}

/// Classify the rows of one series as a numeric type; strings and booleans are an error
/// naming `iterator`. Integers and unsigned values stay exact unless the series mixes
/// types, in which case everything becomes float.
pub(crate) fn numeric(iterator: &'static str, rows: &[Row]) -> Result<Numeric, FunctionError> {
    let (mut ints, mut uints, mut floats) = (0usize, 0usize, 0usize);
    for (_, v) in rows {
        match v {
            Value::Null => {}
            Value::Float(_) => floats += 1,
            Value::Integer(_) | Value::Time(_) => ints += 1,
            Value::Unsigned(_) => uints += 1,
            Value::Boolean(_) | Value::String(_) => {
                return Err(FunctionError::UnsupportedType {
                    iterator,
                    kind: kind_name(v),
                })
            }
        }
    }
    let non_null = rows.iter().filter(|(_, v)| !v.is_null());
    if floats == 0 && uints == 0 && ints > 0 {
        Ok(Numeric::Integer(
            non_null
                .filter_map(|(t, v)| match v {
                    Value::Integer(i) | Value::Time(i) => Some((*t, *i)),
                    _ => None,
                })
                .collect(),
        ))
    } else if floats == 0 && ints == 0 && uints > 0 {
        Ok(Numeric::Unsigned(
            non_null
                .filter_map(|(t, v)| match v {
                    Value::Unsigned(u) => Some((*t, *u)),
                    _ => None,
                })
                .collect(),
        ))
    } else {
        Ok(Numeric::Float(
            non_null
                .filter_map(|(t, v)| v.as_f64().map(|f| (*t, f)))
                .collect(),
        ))
    }
}

/// A float result as a value: NaN becomes `Null` (InfluxDB prints NaN as `null`).
pub(crate) fn float_value(f: f64) -> Value {
    if f.is_nan() {
        Value::Null
    } else {
        Value::Float(f)
    }
}

/// Whether a series runs backwards in time (`ORDER BY time DESC`): decided by the first
/// two rows with different timestamps; ascending when undecidable.
pub(crate) fn is_descending<T>(rows: &[(i64, T)]) -> bool {
    let Some(first) = rows.first() else {
        return false;
    };
    rows.iter()
        .find(|(t, _)| *t != first.0)
        .is_some_and(|(t, _)| *t < first.0)
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Helpers shared by the unit tests of the function modules.
    use super::Row;
    use hyperbyte_domain::query::Value;

    /// Seconds → nanoseconds.
    pub(crate) const S: i64 = 1_000_000_000;

    /// Float rows from `(seconds, value)` pairs.
    pub(crate) fn fl(pts: &[(i64, f64)]) -> Vec<Row> {
        pts.iter().map(|&(t, v)| (t * S, Value::Float(v))).collect()
    }

    /// Integer rows from `(seconds, value)` pairs.
    pub(crate) fn int(pts: &[(i64, i64)]) -> Vec<Row> {
        pts.iter()
            .map(|&(t, v)| (t * S, Value::Integer(v)))
            .collect()
    }

    /// Buckets with `None` = empty, as rows with `Null`.
    pub(crate) fn opt(pts: &[(i64, Option<f64>)]) -> Vec<Row> {
        pts.iter()
            .map(|&(t, v)| (t * S, v.map_or(Value::Null, Value::Float)))
            .collect()
    }

    /// Assert that rows equal the expected `(seconds, Option<f64>)` list within a relative
    /// tolerance of 1e-9 (the conformance runner's rule); `None` means `Null`.
    #[track_caller]
    pub(crate) fn assert_rows(got: &[Row], want: &[(i64, Option<f64>)]) {
        assert_eq!(
            got.len(),
            want.len(),
            "row count: got {got:?}, want {want:?}"
        );
        for (i, ((gt, gv), (wt, wv))) in got.iter().zip(want).enumerate() {
            assert_eq!(*gt, wt * S, "time of row {i}: got {got:?}");
            match (gv, wv) {
                (Value::Null, None) => {}
                (v, Some(w)) => {
                    let g = v
                        .as_f64()
                        .unwrap_or_else(|| panic!("row {i} not numeric: {v:?}"));
                    let tol = 1e-9 * w.abs().max(1e-300);
                    assert!(
                        (g - w).abs() <= tol,
                        "row {i}: got {g}, want {w} (all: {got:?})"
                    );
                }
                (v, None) => panic!("row {i}: got {v:?}, want null"),
            }
        }
    }

    /// Shorthand: all-present expected values.
    pub(crate) fn some(pts: &[(i64, f64)]) -> Vec<(i64, Option<f64>)> {
        pts.iter().map(|&(t, v)| (t, Some(v))).collect()
    }
}
