//! Per-query resource limits.
//!
//! Why: a single hostile (or careless) query must not be able to kill the process. A
//! `GROUP BY time(1ns) fill(0)` over decades asks for more buckets than there is memory,
//! and a raw `SELECT *` over a large measurement materialises every point in the server.
//! InfluxDB 1.x guards with `[coordinator] max-select-point`, `max-select-series` and
//! `max-select-buckets` (all `0` = unlimited by default there); HyperbyteDB keeps those
//! three with InfluxDB's own error texts, and adds `max_select_rows`, a ceiling on
//! everything one query materialises in the server (points read into memory plus every
//! bucket row generated for every series, `fill()` output and `holt_winters` forecasts
//! included), so that a default installation is protected too.
//!
//! A [`Budget`] is created once per statement and shared by its subqueries; counters are
//! atomics because the statement's future holds the budget across `.await`s.

use std::sync::atomic::{AtomicU64, Ordering};

/// The limits of one query (`0` disables a limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// Points read from storage into the server (InfluxDB's `max-select-point`).
    pub max_select_point: u64,
    /// Series read (InfluxDB's `max-select-series`).
    pub max_select_series: u64,
    /// `GROUP BY time` buckets of one query (InfluxDB's `max-select-buckets`).
    pub max_select_buckets: u64,
    /// Rows one query materialises in the server: points read plus generated bucket rows
    /// across all series (HyperbyteDB's own; no InfluxDB equivalent).
    pub max_select_rows: u64,
}

/// Default bucket limit: far above any dashboard (Grafana asks for about a pixel column
/// per bucket) yet small enough that one series' grid stays in the tens of megabytes.
pub const DEFAULT_MAX_SELECT_BUCKETS: u64 = 1_000_000;

/// Default row limit: a few gigabytes of materialised rows at most.
pub const DEFAULT_MAX_SELECT_ROWS: u64 = 20_000_000;

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_select_point: 0,
            max_select_series: 0,
            max_select_buckets: DEFAULT_MAX_SELECT_BUCKETS,
            max_select_rows: DEFAULT_MAX_SELECT_ROWS,
        }
    }
}

impl QueryLimits {
    /// No limit at all (tests and embedding callers that bound queries elsewhere).
    pub fn unlimited() -> Self {
        QueryLimits {
            max_select_point: 0,
            max_select_series: 0,
            max_select_buckets: 0,
            max_select_rows: 0,
        }
    }
}

/// A limit a query ran into; the texts are InfluxDB's (including its `exceeed`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// Too many points read.
    #[error("max-select-point limit exceeed: ({0}/{1})")]
    Points(u128, u64),
    /// Too many series.
    #[error("max-select-series limit exceeded: ({0}/{1})")]
    Series(u128, u64),
    /// Too many `GROUP BY time` buckets.
    #[error("max-select-buckets limit exceeded: ({0}/{1})")]
    Buckets(u128, u64),
    /// Too many rows materialised.
    #[error("max-select-rows limit exceeded: ({0}/{1})")]
    Rows(u128, u64),
    /// `KILL QUERY` stopped the statement (checked wherever work is charged, so a
    /// statement computing in Rust stops at its next charge).
    #[error("query interrupted")]
    Interrupted,
}

/// What one statement has used so far.
#[derive(Debug)]
pub(crate) struct Budget {
    limits: QueryLimits,
    points: AtomicU64,
    rows: AtomicU64,
    interrupt: Option<crate::query::running::Interrupt>,
}

/// Adds `n` to `counter` and checks the total against `limit` (`0`: unlimited).
fn charge(counter: &AtomicU64, n: u128, limit: u64) -> Result<(), u128> {
    let n64 = u64::try_from(n).unwrap_or(u64::MAX);
    let before = match counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
        Some(c.saturating_add(n64))
    }) {
        Ok(c) | Err(c) => c,
    };
    let total = u128::from(before) + n;
    if limit > 0 && total > u128::from(limit) {
        return Err(total);
    }
    Ok(())
}

impl Budget {
    pub(crate) fn new(limits: QueryLimits) -> Self {
        Budget {
            limits,
            points: AtomicU64::new(0),
            rows: AtomicU64::new(0),
            interrupt: None,
        }
    }

    /// Stops charging (every charge fails) once `interrupt` fires.
    pub(crate) fn with_interrupt(mut self, interrupt: crate::query::running::Interrupt) -> Self {
        self.interrupt = Some(interrupt);
        self
    }

    fn check_interrupt(&self) -> Result<(), LimitError> {
        match &self.interrupt {
            Some(i) if i.is_fired() => Err(LimitError::Interrupted),
            _ => Ok(()),
        }
    }

    pub(crate) fn limits(&self) -> &QueryLimits {
        &self.limits
    }

    /// How many rows a storage read may still return before a limit trips (`None`:
    /// unlimited); a read asks for one more than this to detect the overflow.
    pub(crate) fn read_allowance(&self) -> Option<u64> {
        let left = |limit: u64, used: &AtomicU64| {
            (limit > 0).then(|| limit.saturating_sub(used.load(Ordering::Relaxed)))
        };
        match (
            left(self.limits.max_select_point, &self.points),
            left(self.limits.max_select_rows, &self.rows),
        ) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// How many rows a read (from storage or the recent-data tier) asks for: one past
    /// [`Self::read_allowance`], enough to report an overflow without ever materialising
    /// an unbounded result (`None`: unlimited).
    pub(crate) fn read_cap(&self) -> Option<u64> {
        self.read_allowance().map(|n| n.saturating_add(1))
    }

    /// Charges points read from storage (they count as materialised rows too).
    pub(crate) fn charge_points(&self, n: usize) -> Result<(), LimitError> {
        self.check_interrupt()?;
        let n = n as u128;
        charge(&self.points, n, self.limits.max_select_point)
            .map_err(|t| LimitError::Points(t, self.limits.max_select_point))?;
        self.charge_rows(n)
    }

    /// Charges generated rows (bucket grids, fill output, forecasts).
    pub(crate) fn charge_rows(&self, n: u128) -> Result<(), LimitError> {
        self.check_interrupt()?;
        charge(&self.rows, n, self.limits.max_select_rows)
            .map_err(|t| LimitError::Rows(t, self.limits.max_select_rows))
    }

    /// Checks the number of series a query reads.
    pub(crate) fn check_series(&self, n: usize) -> Result<(), LimitError> {
        self.check_interrupt()?;
        let limit = self.limits.max_select_series;
        if limit > 0 && n as u128 > u128::from(limit) {
            return Err(LimitError::Series(n as u128, limit));
        }
        Ok(())
    }

    /// Checks the number of `GROUP BY time` buckets of a query.
    pub(crate) fn check_buckets(&self, n: u128) -> Result<(), LimitError> {
        self.check_interrupt()?;
        let limit = self.limits.max_select_buckets;
        if limit > 0 && n > u128::from(limit) {
            return Err(LimitError::Buckets(n, limit));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_influxdbs() {
        assert_eq!(
            LimitError::Points(10, 1).to_string(),
            "max-select-point limit exceeed: (10/1)"
        );
        assert_eq!(
            LimitError::Series(4, 3).to_string(),
            "max-select-series limit exceeded: (4/3)"
        );
        assert_eq!(
            LimitError::Buckets(4, 3).to_string(),
            "max-select-buckets limit exceeded: (4/3)"
        );
    }

    #[test]
    fn an_interrupted_budget_refuses_every_charge() {
        let i = crate::query::running::Interrupt::default();
        let b = Budget::new(QueryLimits::unlimited()).with_interrupt(i.clone());
        b.charge_points(1).unwrap();
        i.fire();
        assert_eq!(b.charge_points(1), Err(LimitError::Interrupted));
        assert_eq!(b.charge_rows(1), Err(LimitError::Interrupted));
        assert_eq!(b.check_series(1), Err(LimitError::Interrupted));
        assert_eq!(b.check_buckets(1), Err(LimitError::Interrupted));
        assert_eq!(LimitError::Interrupted.to_string(), "query interrupted");
    }

    #[test]
    fn budget_accumulates_and_zero_is_unlimited() {
        let b = Budget::new(QueryLimits {
            max_select_point: 5,
            max_select_rows: 8,
            ..QueryLimits::unlimited()
        });
        assert_eq!(b.read_allowance(), Some(5));
        b.charge_points(3).unwrap();
        assert_eq!(b.read_allowance(), Some(2));
        assert_eq!(b.charge_points(3), Err(LimitError::Points(6, 5)));
        let b = Budget::new(QueryLimits {
            max_select_rows: 8,
            ..QueryLimits::unlimited()
        });
        b.charge_rows(8).unwrap();
        assert_eq!(b.charge_rows(1), Err(LimitError::Rows(9, 8)));
        assert_eq!(
            b.charge_rows(u128::MAX / 2),
            Err(LimitError::Rows(9 + u128::MAX / 2, 8))
        );
        let u = Budget::new(QueryLimits::unlimited());
        assert_eq!(u.read_allowance(), None);
        u.charge_points(usize::MAX).unwrap();
        u.check_buckets(u128::MAX).unwrap();
        u.check_series(usize::MAX).unwrap();
    }
}
