//! Shipping durable writes to the other members of a cluster.
//!
//! The business logic (`application::cluster`) decides which replicas a write goes to,
//! when the client gets its answer (the consistency level) and what happens to a batch a
//! peer did not take (hinted handoff); this port only carries one batch to one peer.
//! Single-node deployments use an implementation with no peers.

use async_trait::async_trait;
use std::fmt::Debug;
use std::sync::Arc;

/// A replication failure: the peer did not make the batch durable (unreachable, timed
/// out, overloaded, refused). The caller keeps the batch for a retry.
#[derive(Debug, thiserror::Error)]
pub enum ReplicationError {
    /// The peer could not be reached or did not answer in time.
    #[error("peer {peer} unreachable: {reason}")]
    Unreachable {
        /// Peer id.
        peer: u64,
        /// Why.
        reason: String,
    },
    /// The peer answered but did not store the batch (its answer).
    #[error("peer {peer} refused the batch: {reason}")]
    Refused {
        /// Peer id.
        peer: u64,
        /// The peer's answer.
        reason: String,
        /// Whether a retry may succeed (overload, full disk) or never will (a batch the
        /// peer's rules refuse).
        retryable: bool,
    },
}

/// One write as it travels between members: the WAL entry in the domain's wire format
/// (`hyperbyte_domain::wal::codec`), identified by the node that acknowledged it first
/// and that node's WAL sequence, so a replica applies it once however often it arrives.
#[derive(Debug, Clone)]
pub struct ReplicatedBatch {
    /// The node that took the write from a client.
    pub origin: u64,
    /// The origin's WAL sequence of the entry.
    pub sequence: u64,
    /// The encoded WAL entry.
    pub bytes: Arc<[u8]>,
}

/// Anti-entropy: what one member holds of one table in one time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeDigest {
    /// First time of the range (nanoseconds, inclusive).
    pub start: i64,
    /// Last time of the range (nanoseconds, inclusive).
    pub end: i64,
    /// Points stored in the range.
    pub points: i64,
    /// Order-independent hash of those points (equal points, equal hash).
    pub hash: i64,
}

/// The cluster's members as writes see them, and the transport to one peer.
///
/// # Contract
///
/// - [`send`](Self::send) returns `Ok` only once the peer has made the batch durable
///   (its own WAL append fsynced) or knows it applied it before (same origin and
///   sequence). Sending the same batch twice is harmless.
/// - A dropped `send` future may or may not have delivered the batch.
/// - `Send + Sync`: sends to different peers run concurrently.
#[async_trait]
pub trait ReplicationPort: Send + Sync + Debug {
    /// This node's id.
    fn local_node(&self) -> u64;
    /// The other members that keep a copy of every write (full replication), by id.
    fn peers(&self) -> Vec<u64>;
    /// Carries one batch to one peer.
    async fn send(&self, peer: u64, batch: &ReplicatedBatch) -> Result<(), ReplicationError>;

    /// Anti-entropy: `peer`'s digests of `table` (database, retention policy,
    /// measurement), one per time range holding points, by range. A transport without
    /// anti-entropy refuses (the default).
    ///
    /// A transport must also refuse (retryable) while `peer` has applied fewer metadata
    /// commands than this node: a peer that has not yet run a `DELETE` or drop this node
    /// ran still holds the removed points, and this node would copy them back. The same
    /// holds for [`points`](Self::points).
    async fn digests(
        &self,
        peer: u64,
        table: &crate::TableRef,
    ) -> Result<Vec<RangeDigest>, ReplicationError> {
        let _ = table;
        Err(ReplicationError::Refused {
            peer,
            reason: "anti-entropy is not supported by this transport".into(),
            retryable: false,
        })
    }

    /// Anti-entropy: `peer`'s points of `table` with `start <= time <= end`, as line
    /// protocol with nanosecond timestamps (typed: integers carry their `i`).
    async fn points(
        &self,
        peer: u64,
        table: &crate::TableRef,
        start: i64,
        end: i64,
    ) -> Result<Vec<u8>, ReplicationError> {
        let _ = (table, start, end);
        Err(ReplicationError::Refused {
            peer,
            reason: "anti-entropy is not supported by this transport".into(),
            retryable: false,
        })
    }
}
