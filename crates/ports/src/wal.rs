//! The write-ahead log port.

use async_trait::async_trait;
use hyperbyte_domain::{EncodedWalEntry, WalEntry};
use std::fmt::Debug;

/// A WAL failure. Always a server-side problem: callers answer 5xx, never 4xx.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// The storage failed (I/O error, full disk, corruption).
    #[error("wal storage error: {0}")]
    Storage(String),
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
    /// Removes every entry with sequence `< seq`.
    async fn truncate_before(&self, seq: u64) -> Result<(), WalError>;
    /// The highest sequence ever assigned (0 when none).
    fn last_sequence(&self) -> u64;
}
