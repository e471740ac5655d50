//! The memory bound: while the process's resident memory is near `limits.max_memory_bytes`,
//! new writes and queries are refused with `503` and `Retry-After` (backpressure a client
//! retries, never a 4xx it would drop), so load already admitted can finish and the flush
//! can drain before more arrives.
//!
//! Resident memory is sampled from `/proc/self/status` (`VmRSS`) by a thread every
//! [`SAMPLE_EVERY`]; requests read the last sample (one atomic load). Refusal starts at
//! [`REFUSE_AT_PERCENT`] of the bound, which leaves room for what admitted requests still
//! allocate. On a system without `/proc` the watch reports nothing and never refuses.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How often resident memory is sampled.
pub(crate) const SAMPLE_EVERY: Duration = Duration::from_millis(50);

/// Percentage of the bound from which new requests are refused.
pub(crate) const REFUSE_AT_PERCENT: u64 = 70;

/// The process's resident memory against a bound.
#[derive(Debug)]
pub struct MemoryWatch {
    limit: u64,
    rss: AtomicU64,
}

/// The bound is near: resident bytes and the bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryPressure {
    /// Resident bytes at the last sample.
    pub resident: u64,
    /// The configured bound.
    pub limit: u64,
}

impl std::fmt::Display for MemoryPressure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "memory limit reached: {} MiB resident of limits.max_memory_bytes = {} MiB; retry later",
            self.resident >> 20,
            self.limit >> 20
        )
    }
}

impl MemoryWatch {
    /// A watch over `limit` bytes, sampled by a background thread for the process's
    /// lifetime.
    pub fn start(limit: u64) -> std::io::Result<Arc<MemoryWatch>> {
        let watch = Arc::new(MemoryWatch {
            limit,
            rss: AtomicU64::new(resident_bytes().unwrap_or(0)),
        });
        let sampled = Arc::downgrade(&watch);
        std::thread::Builder::new()
            .name("hyperbyte-memwatch".into())
            .spawn(move || {
                while let Some(w) = sampled.upgrade() {
                    if let Some(rss) = resident_bytes() {
                        w.rss.store(rss, Ordering::Relaxed);
                    }
                    drop(w);
                    std::thread::sleep(SAMPLE_EVERY);
                }
            })?;
        Ok(watch)
    }

    /// A watch reporting `resident` (tests).
    pub fn fixed(limit: u64, resident: u64) -> MemoryWatch {
        MemoryWatch {
            limit,
            rss: AtomicU64::new(resident),
        }
    }

    /// The bound, bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Resident bytes at the last sample.
    pub fn resident(&self) -> u64 {
        self.rss.load(Ordering::Relaxed)
    }

    /// `Some` while new requests should be refused.
    pub fn pressure(&self) -> Option<MemoryPressure> {
        let resident = self.resident();
        let refuse_at = self.limit / 100 * REFUSE_AT_PERCENT;
        (self.limit > 0 && resident >= refuse_at).then_some(MemoryPressure {
            resident,
            limit: self.limit,
        })
    }
}

/// `VmRSS` of this process, in bytes.
pub(crate) fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_from_the_watermark_on() {
        let limit = 1000 << 20;
        assert!(MemoryWatch::fixed(limit, 600 << 20).pressure().is_none());
        let p = MemoryWatch::fixed(limit, 700 << 20).pressure().unwrap();
        assert_eq!(
            p.to_string(),
            "memory limit reached: 700 MiB resident of limits.max_memory_bytes = 1000 MiB; retry later"
        );
        assert!(MemoryWatch::fixed(0, u64::MAX).pressure().is_none());
    }

    #[test]
    fn samples_this_process() {
        let w = MemoryWatch::start(u64::MAX).unwrap();
        assert!(w.resident() > 0);
        assert!(w.pressure().is_none());
    }
}
