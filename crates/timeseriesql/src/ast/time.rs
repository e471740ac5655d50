//! Time-range extraction from `WHERE` conditions (InfluxDB semantics).
//!
//! Why it exists: the translator needs the `[min, max]` time window of a SELECT (to bound
//! scans and `GROUP BY time` buckets) and the condition without its time terms.
//!
//! Semantics (as InfluxDB 1.x): `time > x` → `min = x + 1`; `time >= x` → `min = x`;
//! `time < x` → `max = x - 1`; `time <= x` → `max = x`; `time = x` → both. `AND`
//! intersects, `OR` unions (a side without a time term makes the result unbounded). Time
//! values are RFC3339 / `YYYY-MM-DD HH:MM:SS` / `YYYY-MM-DD` strings (UTC), integers (ns
//! since the epoch), duration literals (`1000ms` = ns since the epoch), `now()`, and `+`/`-`
//! of those with durations; zone-less strings are read in the statement's `tz()`. Whatever
//! else is compared with `time`, and `time != x`, is an error with InfluxDB's text; so is
//! a time literal outside the storable range ("time 3000-01-01T00:00:00Z overflows time
//! literal").

use super::time_literal::{read_time_string, TimeString};
use super::{BinaryOp, Expr, SelectStatement};
use chrono::DateTime;
use hyperbyte_domain::time::TimeZone;

/// Inclusive time bounds in nanoseconds; `None` is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeRange {
    /// Smallest included timestamp.
    pub min: Option<i64>,
    /// Largest included timestamp.
    pub max: Option<i64>,
}

/// InfluxDB's smallest valid time; a bound at or below it is no bound.
const MIN_TIME: i64 = i64::MIN + 2;
/// InfluxDB's largest valid time; a bound at or above it is no bound.
const MAX_TIME: i64 = i64::MAX - 1;

impl TimeRange {
    /// InfluxDB reads the ends of the valid time range as "unbounded" (an aggregate over
    /// `time >= -9223372036854775806` prints the epoch, like one without a lower bound).
    fn normalised(self) -> TimeRange {
        TimeRange {
            min: self.min.filter(|&m| m > MIN_TIME),
            max: self.max.filter(|&m| m < MAX_TIME),
        }
    }

    fn intersect(self, o: TimeRange) -> TimeRange {
        TimeRange {
            min: match (self.min, o.min) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            },
            max: match (self.max, o.max) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        }
    }

    fn union(self, o: TimeRange) -> TimeRange {
        TimeRange {
            min: match (self.min, o.min) {
                (Some(a), Some(b)) => Some(a.min(b)),
                _ => None,
            },
            max: match (self.max, o.max) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            },
        }
    }
}

/// A time term whose value cannot be used, with InfluxDB's texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeRangeError {
    /// `time` compared with something that is no time value (InfluxDB names the Go type
    /// of its AST node: `StringLiteral`, `VarRef`, `BinaryExpr`, ...).
    #[error("invalid operation: time and *influxql.{0} are not compatible")]
    Incompatible(&'static str),
    /// A string shaped like a time that is none (`'2000-13-01'`).
    #[error("invalid timestamp string")]
    InvalidTimestamp,
    /// A time literal after the latest storable time (the date, to the second).
    #[error("time {0} overflows time literal")]
    Overflows(String),
    /// A time literal before the earliest storable time.
    #[error("time {0} underflows time literal")]
    Underflows(String),
    /// `time` compared with `!=` (or another operator than `=`, `<`, `<=`, `>`, `>=`).
    #[error("invalid time comparison operator: {0}")]
    Operator(&'static str),
    /// Arithmetic on time values overflowed.
    #[error("time overflow")]
    Overflow,
}

/// Parses an InfluxQL time string (`2000-01-01T00:00:00Z`, `2000-01-01 00:00:00.5`,
/// `2000-01-01`) to nanoseconds since the epoch (UTC when no offset is given), as
/// InfluxDB reads the strings compared with `time` (see `time_literal`).
pub fn parse_time_string(s: &str) -> Option<i64> {
    match read_time_string(s, None) {
        TimeString::Time(t) => i64::try_from(t).ok(),
        TimeString::Invalid | TimeString::NotATime => None,
    }
}

/// A value compared with `time`, as InfluxDB reduces it: a time literal (a string,
/// `now()`, or one of them plus or minus a duration) keeps its date, in wide nanoseconds,
/// for the range check; integers, floats and durations are nanoseconds as they are
/// (InfluxDB's 64-bit arithmetic wraps).
#[derive(Debug, Clone, Copy)]
enum TimeValue {
    Time(i128),
    Integer(i64),
    Duration(i64),
    Float(f64),
}

/// Evaluates the value side of a comparison with `time`.
fn time_value(e: &Expr, now: i64, tz: Option<&TimeZone>) -> Result<TimeValue, TimeRangeError> {
    use TimeValue::{Duration, Float, Integer, Time};
    Ok(match e {
        Expr::Paren(inner) => time_value(inner, now, tz)?,
        Expr::String(s) => match read_time_string(s, tz) {
            TimeString::Time(t) => Time(t),
            TimeString::Invalid => return Err(TimeRangeError::InvalidTimestamp),
            TimeString::NotATime => return Err(TimeRangeError::Incompatible("StringLiteral")),
        },
        Expr::Integer(i) => Integer(*i),
        Expr::Duration(d) => Duration(*d),
        Expr::Float(f) => Float(*f),
        Expr::Unsigned(u) => Integer(i64::try_from(*u).map_err(|_| TimeRangeError::Overflow)?),
        Expr::Call { name, args } if name == "now" && args.is_empty() => Time(i128::from(now)),
        Expr::Binary { op, lhs, rhs } => {
            let side = |x: &Expr| match time_value(x, now, tz) {
                Err(TimeRangeError::Overflow) => Err(TimeRangeError::Overflow),
                Err(_) => Err(TimeRangeError::Incompatible("BinaryExpr")),
                ok => ok,
            };
            combine(*op, side(lhs)?, side(rhs)?)
                .ok_or(TimeRangeError::Incompatible("BinaryExpr"))?
        }
        other => return Err(TimeRangeError::Incompatible(other.influxql_node_name())),
    })
}

/// `l op r` where InfluxDB reduces it to one value (`None`: it leaves the expression as
/// it is, which `time` cannot be compared with). Recorded on InfluxDB 1.6: `1 + 5s`,
/// `5s * 2`, `now() - 1`, `5s + now() - now()` reduce; `5s + 1` and `2 * 5s` do not;
/// a division by zero is zero.
fn combine(op: BinaryOp, l: TimeValue, r: TimeValue) -> Option<TimeValue> {
    use BinaryOp::{Add, Div, Mul, Sub};
    use TimeValue::{Duration, Float, Integer, Time};
    let wide = |a: i128, b: i64| {
        if op == Add {
            a + i128::from(b)
        } else {
            a - i128::from(b)
        }
    };
    let wrap = |a: i64, b: i64| {
        if op == Add {
            a.wrapping_add(b)
        } else {
            a.wrapping_sub(b)
        }
    };
    Some(match (op, l, r) {
        (Add | Sub, Time(t), Duration(d) | Integer(d)) => Time(wide(t, d)),
        (Sub, Time(a), Time(b)) => Duration(i64::try_from(a - b).ok()?),
        (Add, Duration(d), Time(t)) => Time(t + i128::from(d)),
        (Add | Sub, Duration(a), Duration(b)) | (Add | Sub, Integer(a), Duration(b)) => {
            Duration(wrap(a, b))
        }
        (Mul, Duration(d), Integer(n)) => Duration(d.wrapping_mul(n)),
        // InfluxDB divides by zero to zero (`10s / 0`, `5000000000 / 0.0`: `time > 0`).
        (Div, Duration(d), Integer(n)) => Duration(if n == 0 { 0 } else { d.wrapping_div(n) }),
        (Add | Sub, Integer(a), Integer(b)) => Integer(wrap(a, b)),
        (Mul, Integer(a), Integer(b)) => Integer(a.wrapping_mul(b)),
        (Add | Sub | Mul | Div, Float(_) | Integer(_), Float(_) | Integer(_)) => {
            let f = |v: TimeValue| match v {
                Float(x) => x,
                Integer(i) => i as f64,
                _ => 0.0,
            };
            let (a, b) = (f(l), f(r));
            Float(match op {
                Add => a + b,
                Sub => a - b,
                Mul => a * b,
                _ if b == 0.0 => 0.0,
                _ => a / b,
            })
        }
        _ => return None,
    })
}

/// Nanoseconds of a time value, a time literal checked against the range InfluxDB can
/// store (its error names the date, to the second).
fn nanos(v: TimeValue) -> Result<i64, TimeRangeError> {
    Ok(match v {
        TimeValue::Time(t) if t > i128::from(MAX_TIME) => {
            return Err(TimeRangeError::Overflows(rfc3339_seconds(t)))
        }
        TimeValue::Time(t) if t < i128::from(MIN_TIME) + 1 => {
            return Err(TimeRangeError::Underflows(rfc3339_seconds(t)))
        }
        TimeValue::Time(t) => i64::try_from(t).map_err(|_| TimeRangeError::Overflow)?,
        TimeValue::Integer(i) | TimeValue::Duration(i) => i,
        TimeValue::Float(f) => f as i64,
    })
}

/// `2262-04-11T23:47:16Z`: a wide nanosecond time to the second, in UTC.
fn rfc3339_seconds(t: i128) -> String {
    let secs = t.div_euclid(1_000_000_000);
    i64::try_from(secs)
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .map_or_else(
            || format!("{secs}s"),
            |d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )
}

fn flip(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::LtEq => BinaryOp::GtEq,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::GtEq => BinaryOp::LtEq,
        other => other,
    }
}

/// The time range implied by a condition; `Ok(None)` when it has no time term.
pub(crate) fn condition_time_range(
    e: &Expr,
    now: i64,
    tz: Option<&TimeZone>,
) -> Result<Option<TimeRange>, TimeRangeError> {
    match e {
        Expr::Paren(inner) => condition_time_range(inner, now, tz),
        Expr::Binary { op, lhs, rhs } => match op {
            BinaryOp::And => Ok(
                match (
                    condition_time_range(lhs, now, tz)?,
                    condition_time_range(rhs, now, tz)?,
                ) {
                    (Some(a), Some(b)) => Some(a.intersect(b)),
                    (a, b) => a.or(b),
                },
            ),
            BinaryOp::Or => Ok(
                match (
                    condition_time_range(lhs, now, tz)?,
                    condition_time_range(rhs, now, tz)?,
                ) {
                    (Some(a), Some(b)) => Some(a.union(b)),
                    _ => None,
                },
            ),
            op if op.is_comparison() => {
                let (op, value) = if lhs.is_time_ref() {
                    (*op, rhs.as_ref())
                } else if rhs.is_time_ref() {
                    (flip(*op), lhs.as_ref())
                } else {
                    return Ok(None);
                };
                let v = nanos(time_value(value, now, tz)?)?;
                // Go's int64 arithmetic: one past the largest value is the smallest, which
                // the normalisation reads as no bound.
                let r = match op {
                    BinaryOp::Gt => TimeRange {
                        min: Some(v.wrapping_add(1)),
                        max: None,
                    },
                    BinaryOp::GtEq => TimeRange {
                        min: Some(v),
                        max: None,
                    },
                    BinaryOp::Lt => TimeRange {
                        min: None,
                        max: Some(v.wrapping_sub(1)),
                    },
                    BinaryOp::LtEq => TimeRange {
                        min: None,
                        max: Some(v),
                    },
                    BinaryOp::Eq => TimeRange {
                        min: Some(v),
                        max: Some(v),
                    },
                    other => return Err(TimeRangeError::Operator(other.as_str())),
                };
                Ok(Some(r))
            }
            _ => Ok(None),
        },
        _ => Ok(None),
    }
}

/// `e` without comparisons that involve `time` (`None` when nothing is left).
pub(crate) fn strip_time(e: &Expr) -> Option<Expr> {
    match e {
        Expr::Paren(inner) => strip_time(inner).map(|x| Expr::Paren(Box::new(x))),
        Expr::Binary {
            op: op @ (BinaryOp::And | BinaryOp::Or),
            lhs,
            rhs,
        } => match (strip_time(lhs), strip_time(rhs)) {
            (Some(l), Some(r)) => Some(Expr::binary(*op, l, r)),
            (l, r) => l.or(r),
        },
        e if is_time_comparison(e) => None,
        other => Some(other.clone()),
    }
}

/// Whether `e` compares `time` with something (`time > x`, `x = time`, `time != x`, ...).
fn is_time_comparison(e: &Expr) -> bool {
    matches!(e, Expr::Binary { op, lhs, rhs }
        if op.is_comparison() && (lhs.is_time_ref() || rhs.is_time_ref()))
}

impl SelectStatement {
    /// The `[min, max]` time window of the `WHERE` clause, with `now()` = `now_nanos`
    /// (zone-less time strings in the statement's `tz()`).
    pub fn time_range(&self, now_nanos: i64) -> Result<TimeRange, TimeRangeError> {
        let tz = self.timezone.as_deref().and_then(TimeZone::parse);
        match &self.condition {
            Some(c) => c.time_range_in(now_nanos, tz.as_ref()),
            None => Ok(TimeRange::default()),
        }
    }

    /// The `WHERE` condition with every `time` comparison removed.
    pub fn condition_without_time(&self) -> Option<Expr> {
        self.condition.as_ref().and_then(strip_time)
    }
}

impl Expr {
    /// The time window implied by this condition (see the module docs).
    pub fn time_range(&self, now_nanos: i64) -> Result<TimeRange, TimeRangeError> {
        self.time_range_in(now_nanos, None)
    }

    /// [`Expr::time_range`] with zone-less time strings read in `tz` (a statement's
    /// `tz()`).
    pub fn time_range_in(
        &self,
        now_nanos: i64,
        tz: Option<&TimeZone>,
    ) -> Result<TimeRange, TimeRangeError> {
        Ok(condition_time_range(self, now_nanos, tz)?
            .unwrap_or_default()
            .normalised())
    }

    /// The time window InfluxDB 1.6 reads and deletes for this condition: every `time`
    /// comparison intersected, those under `OR` too (`time > 3s OR region = 'eu'` covers
    /// what is after 3 s; `time > 3s OR time < 2s` covers nothing: `min > max`).
    /// [`Expr::time_range`] unions under `OR` instead, as the condition reads.
    pub fn time_bounds_in(
        &self,
        now_nanos: i64,
        tz: Option<&TimeZone>,
    ) -> Result<TimeRange, TimeRangeError> {
        let mut range = TimeRange::default();
        for t in self.time_comparisons() {
            let r = t.time_range_in(now_nanos, tz)?;
            if let Some(m) = r.min {
                range.min = Some(range.min.map_or(m, |x| x.max(m)));
            }
            if let Some(m) = r.max {
                range.max = Some(range.max.map_or(m, |x| x.min(m)));
            }
        }
        Ok(range)
    }

    /// This condition without `time` comparisons.
    pub fn without_time(&self) -> Option<Expr> {
        strip_time(self)
    }

    /// Every comparison in this condition with `time` on one side, at any depth (under
    /// `OR` too), in the order they are written.
    pub fn time_comparisons(&self) -> Vec<&Expr> {
        let mut terms = Vec::new();
        self.walk(&mut |e| {
            if is_time_comparison(e) {
                terms.push(e);
            }
        });
        terms
    }
}
