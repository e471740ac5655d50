//! A clock the test sets and advances.

use hyperbyte_ports::Clock;
use std::sync::atomic::{AtomicI64, Ordering};

/// A [`Clock`] that only moves when told to.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock showing `nanos` since the Unix epoch.
    pub fn at(nanos: i64) -> Self {
        ManualClock(AtomicI64::new(nanos))
    }

    /// Sets the time.
    pub fn set(&self, nanos: i64) {
        self.0.store(nanos, Ordering::SeqCst);
    }

    /// Moves the time forward by `nanos` (saturating).
    pub fn advance(&self, nanos: i64) {
        let now = self.0.load(Ordering::SeqCst);
        self.0.store(now.saturating_add(nanos), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_nanos(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
