//! The write-ahead log port.

use async_trait::async_trait;
use hyperbyte_domain::{CompactEntry, EncodedWalEntry, WalEntry};
use std::fmt::Debug;

/// A WAL failure. Always a server-side problem: callers answer 5xx, never 4xx.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// The storage failed (I/O error, corruption).
    #[error("wal storage error: {0}")]
    Storage(String),
    /// The disk holding the log is full. Nothing was written; a retry succeeds once space
    /// is freed (implementations must recover on their own, without a restart).
    #[error("the disk holding the write-ahead log is full ({0}); free space and retry")]
    NoSpace(String),
    /// An entry could not be encoded or decoded.
    #[error("wal codec error: {0}")]
    Codec(String),
    /// The WAL is shutting down.
    #[error("wal is closed")]
    Closed,
}

/// An ordered, durable log of write batches: every acknowledged write is in it until the
/// flush service has stored it and truncated the log.
///
/// # Contract
///
/// - **Ordering**: `append` assigns sequence numbers that are strictly increasing
///   (starting above 0) and never reused — also after `truncate_before` and across
///   restarts, even when the log was truncated to empty. Reads return entries in sequence
///   order.
/// - **Durability**: `append` and `append_encoded` return only once the entry survives a
///   crash or power loss (fsynced); `truncate_before` is durable when it returns. After a
///   restart the log holds exactly the entries appended and not truncated; a write torn
///   by a crash (never acknowledged) may be dropped, nothing else.
/// - **Idempotence**: `truncate_before` is idempotent and may be called with any
///   sequence (below the first entry: no effect; above the last: the log empties). Reads
///   have no effect. `append` is not idempotent: each call is a new entry.
/// - **Reads**: `read_range(from, max)` returns the entries with sequence `>= from`, at
///   most `max`; `read_batch` the same in the compact shape, cut by a point budget.
/// - **Concurrency**: `Send + Sync`; appends, reads and truncations may run concurrently
///   from many tasks (the write path appends from every request). A future dropped before
///   completion (a client that disconnects) must leave the log consistent: the entry is
///   either wholly appended or absent. Methods are called inside a Tokio runtime; an
///   implementation may block briefly on an fsync, but long work belongs on a blocking
///   thread.
/// - **Errors**: [`WalError::NoSpace`] when the disk is full (answered 507, and the
///   implementation recovers on its own once space is freed); [`WalError::Storage`] for
///   other I/O failures and corruption (500); [`WalError::Codec`] for an entry that cannot
///   be encoded or decoded; [`WalError::Closed`] once the log is shut down. A failed
///   append writes nothing.
///
/// `hyperbyte_testkit::contract::wal_contract` checks all of this against an
/// implementation; `examples/file-wal` is a small complete one.
///
/// # Example
///
/// ```
/// # use hyperbyte_ports::WalPort;
/// # use hyperbyte_domain::WalEntry;
/// # async fn doc(wal: &dyn WalPort, entry: WalEntry) -> Result<(), hyperbyte_ports::WalError> {
/// let seq = wal.append(entry).await?; // durable now: the write can be acknowledged
/// for (s, e) in wal.read_range(seq, 100).await? {
///     // ... store `e` ...
///     wal.truncate_before(s + 1).await?; // stored: the log may forget it
/// }
/// # Ok(()) }
/// ```
#[async_trait]
pub trait WalPort: Send + Sync + Debug {
    /// Appends one entry durably and returns its sequence number.
    async fn append(&self, entry: WalEntry) -> Result<u64, WalError>;
    /// Appends one entry already in the domain's wire format
    /// ([`hyperbyte_domain::wal::codec`]); same guarantees as [`WalPort::append`]. The write
    /// path uses it to encode straight from the request body. The default decodes and
    /// calls `append`; stores that keep the wire format should take the bytes as they are.
    async fn append_encoded(&self, entry: EncodedWalEntry) -> Result<u64, WalError> {
        let decoded = hyperbyte_domain::wal::codec::decode(&entry.bytes)
            .map_err(|e| WalError::Codec(e.to_string()))?;
        self.append(decoded).await
    }
    /// Reads up to `max` entries with sequence `>= from`, in order (empty past the end).
    async fn read_range(&self, from: u64, max: usize) -> Result<Vec<(u64, WalEntry)>, WalError>;
    /// Reads entries with sequence `>= from` in order, in their compact shape, stopping
    /// after `max_entries` entries or once they hold `max_points` points or more (so
    /// always at least one entry when one exists). The flush service uses it: the point
    /// budget bounds a round's memory whatever the size of the entries, and the compact
    /// shape spares an owned string per name. The default reads `max_entries`, converts
    /// and cuts; stores should stop reading early.
    async fn read_batch(
        &self,
        from: u64,
        max_entries: usize,
        max_points: usize,
    ) -> Result<Vec<(u64, CompactEntry)>, WalError> {
        let mut entries = self.read_range(from, max_entries).await?;
        let keep = points_budget_cut(entries.iter().map(|(_, e)| e.points.len()), max_points);
        entries.truncate(keep);
        Ok(entries
            .into_iter()
            .map(|(s, e)| (s, CompactEntry::from_entry(e)))
            .collect())
    }
    /// Removes every entry with sequence `< seq`, durably (idempotent).
    async fn truncate_before(&self, seq: u64) -> Result<(), WalError>;
    /// The highest sequence ever assigned (0 when none); not lowered by truncation.
    /// Synchronous: serve it from memory.
    fn last_sequence(&self) -> u64;
}

/// How many entries of a run with these point counts a point budget admits: entries are
/// taken while the points taken so far stay below `max_points`, so at least one.
pub fn points_budget_cut(points: impl IntoIterator<Item = usize>, max_points: usize) -> usize {
    let mut taken = 0usize;
    let mut n = 0usize;
    for p in points {
        if n > 0 && taken >= max_points {
            break;
        }
        taken += p;
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::points_budget_cut;

    #[test]
    fn the_budget_admits_at_least_one_entry_and_stops_once_reached() {
        assert_eq!(points_budget_cut([], 10), 0);
        assert_eq!(points_budget_cut([50], 10), 1);
        assert_eq!(points_budget_cut([5, 5, 5], 10), 2);
        assert_eq!(points_budget_cut([5, 4, 5], 10), 3);
        assert_eq!(points_budget_cut([1, 1, 1], 0), 1);
    }
}
