//! Durable hinted handoff (cluster mode): the replicated batches a peer has not taken yet,
//! queued per peer on the node that acknowledged them.
//!
//! Why a port: a write acknowledged with `consistency=any|one` may exist, for a while,
//! only in this node's WAL and in the queue of each peer that has not taken it. The WAL is
//! truncated once the flush stored the points, so the queue is what carries the write to
//! the other members; it must survive a restart of this node. The business logic
//! (`application::cluster`) decides what is queued, when it is delivered and what the
//! bounds drop; a store only keeps entries by (peer, id).

use crate::replication::ReplicatedBatch;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::fmt::Debug;

/// A hint store failure; a failed call changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum HintStoreError {
    /// The disk is full.
    #[error("hint store: no space left: {0}")]
    NoSpace(String),
    /// I/O or a corrupt record.
    #[error("hint store error: {0}")]
    Storage(String),
}

/// One queued batch of one peer.
#[derive(Debug, Clone)]
pub struct HintEntry {
    /// The id the batch was appended under (ids grow with every append).
    pub id: u64,
    /// When it was queued (nanoseconds since the Unix epoch, the caller's clock).
    pub queued_at: i64,
    /// The batch.
    pub batch: ReplicatedBatch,
}

/// What one peer's queue holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HintSize {
    /// Entries.
    pub batches: u64,
    /// Bytes of the entries' batches (`ReplicatedBatch::bytes`).
    pub bytes: u64,
}

/// Per-peer durable queues of replicated batches.
///
/// # Contract
///
/// - **Durability**: [`append`](Self::append) returns only once the entry is durable in
///   every queue it names (fsynced); a failed append stored it nowhere. Removals need not
///   be synced: a crash may bring back an entry that was removed (it is then delivered
///   twice, which a replica recognises by origin and sequence), never lose one that was
///   not.
/// - **Order**: [`oldest`](Self::oldest) returns a peer's entries in id order, also after
///   a restart. The caller chooses ids; it never appends one id twice to one peer.
/// - **Ids**: [`last_id`](Self::last_id) is the highest id ever appended, also after a
///   restart and after the entries are removed, so a caller continuing from it never
///   reuses an id.
/// - **Sizes**: [`sizes`](Self::sizes) is exact for the entries stored, cheap (called on
///   every metrics scrape) and lists only non-empty queues.
/// - Removing what is not there does nothing. `Send + Sync`; calls may be concurrent.
///
/// `hyperbyte_testkit::contract::hint_store_contract` checks an implementation.
#[async_trait]
pub trait HintStorePort: Send + Sync + Debug {
    /// Appends `batch` under `id` to the queue of each of `peers`, durably.
    async fn append(
        &self,
        peers: &[u64],
        id: u64,
        queued_at: i64,
        batch: &ReplicatedBatch,
    ) -> Result<(), HintStoreError>;
    /// At most `limit` entries of `peer` with `id >= from`, oldest first.
    async fn oldest(
        &self,
        peer: u64,
        from: u64,
        limit: usize,
    ) -> Result<Vec<HintEntry>, HintStoreError>;
    /// Removes the entries of `peer` with these ids (delivered or dropped).
    async fn remove(&self, peer: u64, ids: &[u64]) -> Result<(), HintStoreError>;
    /// Removes every entry of `peer` (it left the cluster).
    async fn forget(&self, peer: u64) -> Result<(), HintStoreError>;
    /// The highest id ever appended (0: none).
    async fn last_id(&self) -> Result<u64, HintStoreError>;
    /// Every non-empty queue's size.
    fn sizes(&self) -> BTreeMap<u64, HintSize>;
}
