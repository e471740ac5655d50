//! Durable storage for a consensus log (cluster mode): the log entries and a few named
//! values (the vote, the last applied entry, the membership).
//!
//! The consensus library's own types stay inside the cluster adapter: this port stores
//! opaque bytes by index, so a store needs to know nothing about Raft. Entries are small
//! (metadata commands), so the methods are synchronous; callers on an async runtime may
//! call them directly.

use std::fmt::Debug;

/// A consensus store failure.
#[derive(Debug, thiserror::Error)]
pub enum ConsensusStoreError {
    /// The store failed; nothing of the call was made durable.
    #[error("consensus store error: {0}")]
    Storage(String),
}

/// The log and hard state of one consensus member.
///
/// # Contract
///
/// - **Durability**: every mutating call returns only once its change survives a crash
///   (fsynced); a failed call changed nothing.
/// - **Order**: indexes are unique; [`append`](Self::append) overwrites an index that
///   exists. Reads return entries in index order.
/// - **Atomicity**: one `append` is all-or-nothing; so are `truncate_from`, `purge_through`
///   and `put_state`.
/// - **Concurrency**: `Send + Sync`; calls may come from several threads, each call is
///   atomic on its own.
///
/// `hyperbyte_testkit::contract::consensus_store_contract` checks an implementation.
pub trait ConsensusStorePort: Send + Sync + Debug {
    /// Stores entries (index, bytes) durably.
    fn append(&self, entries: &[(u64, Vec<u8>)]) -> Result<(), ConsensusStoreError>;
    /// Entries with `from <= index < until`, in order (missing indexes are skipped).
    fn entries(&self, from: u64, until: u64) -> Result<Vec<(u64, Vec<u8>)>, ConsensusStoreError>;
    /// The entry with the highest index, if any.
    fn last_entry(&self) -> Result<Option<(u64, Vec<u8>)>, ConsensusStoreError>;
    /// Deletes every entry with `index >= from` (a conflicting suffix).
    fn truncate_from(&self, from: u64) -> Result<(), ConsensusStoreError>;
    /// Deletes every entry with `index <= through` (compacted into a snapshot).
    fn purge_through(&self, through: u64) -> Result<(), ConsensusStoreError>;
    /// Stores a named value durably (replacing the previous one).
    fn put_state(&self, key: &str, value: &[u8]) -> Result<(), ConsensusStoreError>;
    /// A named value.
    fn state(&self, key: &str) -> Result<Option<Vec<u8>>, ConsensusStoreError>;
}
