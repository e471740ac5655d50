//! Write backpressure: how many acknowledged points wait in the WAL for the flush.
//!
//! Ingest can outrun the flush into storage for a while (the WAL absorbs bursts), but not
//! forever: the WAL would grow until the disk is full, and read-your-writes queries would
//! wait for an ever longer flush. Past the configured limit, writes are refused with a
//! 5xx (`503`), which Telegraf and the client libraries retry, instead of a 4xx that
//! would make them drop the batch.
//!
//! The count starts at zero: the server replays the whole WAL into storage before it
//! accepts writes.

use std::sync::atomic::{AtomicU64, Ordering};

/// Unflushed points and their limit, shared by the ingestion and flush services.
#[derive(Debug)]
pub struct WriteBacklog {
    points: AtomicU64,
    limit: u64,
}

impl WriteBacklog {
    /// A backlog refusing writes once `limit` points wait (`0`: never).
    pub fn new(limit: u64) -> Self {
        WriteBacklog {
            points: AtomicU64::new(0),
            limit,
        }
    }

    /// Points appended to the WAL.
    pub fn add(&self, points: u64) {
        self.points.fetch_add(points, Ordering::Relaxed);
    }

    /// Points the flush moved into storage (saturating: entries appended before the count
    /// started may be flushed too).
    pub fn remove(&self, points: u64) {
        let _ = self
            .points
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |p| {
                Some(p.saturating_sub(points))
            });
    }

    /// Points waiting now.
    pub fn points(&self) -> u64 {
        self.points.load(Ordering::Relaxed)
    }

    /// The limit (`0`: none).
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Whether writes must be refused now.
    pub fn is_full(&self) -> bool {
        self.limit > 0 && self.points() >= self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::WriteBacklog;

    #[test]
    fn fills_drains_and_never_underflows() {
        let b = WriteBacklog::new(10);
        assert!(!b.is_full());
        b.add(6);
        assert!(!b.is_full());
        b.add(4);
        assert!(b.is_full());
        b.remove(3);
        assert!(!b.is_full());
        b.remove(100);
        assert_eq!(b.points(), 0);
        let unlimited = WriteBacklog::new(0);
        unlimited.add(u64::MAX / 2);
        assert!(!unlimited.is_full());
    }
}
