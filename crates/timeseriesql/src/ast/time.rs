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
//! of those with durations. `tz()` does not shift string literals here.

use super::{BinaryOp, Expr, SelectStatement};
use chrono::{DateTime, NaiveDate, NaiveDateTime};

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

/// A time term whose value cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeRangeError {
    /// A string compared with `time` is not a valid time literal.
    #[error("invalid operation: time and *influxql.StringLiteral are not compatible")]
    InvalidTimeString(String),
    /// Arithmetic on time values overflowed.
    #[error("time overflow")]
    Overflow,
}

/// Parses an InfluxQL time string (`2000-01-01T00:00:00Z`, `2000-01-01 00:00:00.5`,
/// `2000-01-01`) to nanoseconds since the epoch (UTC when no offset is given).
pub fn parse_time_string(s: &str) -> Option<i64> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return dt.timestamp_nanos_opt();
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return dt.and_utc().timestamp_nanos_opt();
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_nanos_opt();
    }
    None
}

/// Evaluates a time-valued expression; `Ok(None)` when `e` is not a time value.
fn time_value(e: &Expr, now: i64) -> Result<Option<i64>, TimeRangeError> {
    Ok(match e {
        Expr::Paren(inner) => time_value(inner, now)?,
        Expr::String(s) => {
            Some(parse_time_string(s).ok_or_else(|| TimeRangeError::InvalidTimeString(s.clone()))?)
        }
        Expr::Integer(i) => Some(*i),
        Expr::Duration(d) => Some(*d),
        Expr::Float(f) => Some(*f as i64),
        Expr::Unsigned(u) => Some(i64::try_from(*u).map_err(|_| TimeRangeError::Overflow)?),
        Expr::Call { name, args } if name == "now" && args.is_empty() => Some(now),
        Expr::Binary {
            op: op @ (BinaryOp::Add | BinaryOp::Sub),
            lhs,
            rhs,
        } => {
            let (Some(l), Some(r)) = (time_value(lhs, now)?, time_value(rhs, now)?) else {
                return Ok(None);
            };
            let v = if *op == BinaryOp::Add {
                l.checked_add(r)
            } else {
                l.checked_sub(r)
            };
            Some(v.ok_or(TimeRangeError::Overflow)?)
        }
        _ => None,
    })
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
) -> Result<Option<TimeRange>, TimeRangeError> {
    match e {
        Expr::Paren(inner) => condition_time_range(inner, now),
        Expr::Binary { op, lhs, rhs } => match op {
            BinaryOp::And => Ok(
                match (
                    condition_time_range(lhs, now)?,
                    condition_time_range(rhs, now)?,
                ) {
                    (Some(a), Some(b)) => Some(a.intersect(b)),
                    (a, b) => a.or(b),
                },
            ),
            BinaryOp::Or => Ok(
                match (
                    condition_time_range(lhs, now)?,
                    condition_time_range(rhs, now)?,
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
                let Some(v) = time_value(value, now)? else {
                    return Ok(None);
                };
                let r = match op {
                    BinaryOp::Gt => TimeRange {
                        min: Some(v.saturating_add(1)),
                        max: None,
                    },
                    BinaryOp::GtEq => TimeRange {
                        min: Some(v),
                        max: None,
                    },
                    BinaryOp::Lt => TimeRange {
                        min: None,
                        max: Some(v.saturating_sub(1)),
                    },
                    BinaryOp::LtEq => TimeRange {
                        min: None,
                        max: Some(v),
                    },
                    BinaryOp::Eq => TimeRange {
                        min: Some(v),
                        max: Some(v),
                    },
                    _ => return Ok(None),
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
        Expr::Binary { op, lhs, rhs }
            if op.is_comparison() && (lhs.is_time_ref() || rhs.is_time_ref()) =>
        {
            None
        }
        other => Some(other.clone()),
    }
}

impl SelectStatement {
    /// The `[min, max]` time window of the `WHERE` clause, with `now()` = `now_nanos`.
    pub fn time_range(&self, now_nanos: i64) -> Result<TimeRange, TimeRangeError> {
        match &self.condition {
            Some(c) => Ok(condition_time_range(c, now_nanos)?
                .unwrap_or_default()
                .normalised()),
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
        Ok(condition_time_range(self, now_nanos)?
            .unwrap_or_default()
            .normalised())
    }

    /// This condition without `time` comparisons.
    pub fn without_time(&self) -> Option<Expr> {
        strip_time(self)
    }
}
