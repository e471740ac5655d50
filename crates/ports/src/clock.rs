//! Time source, injected so that retention, continuous queries and defaults for missing
//! timestamps can be tested with a fixed clock instead of sleeps.

use std::fmt::Debug;

/// A source of the current time.
///
/// `now_nanos` is synchronous, cheap and infallible, called from any thread (`Send +
/// Sync`). It need not be monotonic (the system clock may step back); callers never
/// assume it is. Tests use `hyperbyte_testkit::ManualClock`.
///
/// ```
/// use hyperbyte_ports::{Clock, SystemClock};
/// assert!(SystemClock.now_nanos() > 0);
/// ```
pub trait Clock: Send + Sync + Debug {
    /// Nanoseconds since the Unix epoch.
    fn now_nanos(&self) -> i64;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_nanos(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as i64)
            .unwrap_or(0)
    }
}
