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

/// An ordered, durable log of write batches.
///
/// Guarantees an implementation must give:
/// - `append` returns only once the entry is durable (fsynced); sequence numbers are
///   strictly increasing and never reused, also across restarts.
/// - `read_range` returns entries with sequence `>= from` in order, at most `max`.
/// - `truncate_before(seq)` removes entries `< seq`, durably; reading from before a
///   truncated point returns what is left.
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
    /// Reads up to `max` entries with sequence `>= from`.
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
    /// Removes every entry with sequence `< seq`.
    async fn truncate_before(&self, seq: u64) -> Result<(), WalError>;
    /// The highest sequence ever assigned (0 when none).
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
