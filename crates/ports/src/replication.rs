//! Replication of WAL entries to peers (cluster mode). Single-node deployments use an
//! implementation that does nothing.

use async_trait::async_trait;
use hyperbyte_domain::WalEntry;
use std::fmt::Debug;

/// A replication failure; the local write stays acknowledged and the entry is handed off.
#[derive(Debug, thiserror::Error)]
pub enum ReplicationError {
    /// Not enough peers acknowledged for the requested consistency.
    #[error("replication failed: {0}")]
    Failed(String),
}

/// Ships durable WAL entries to peers.
///
/// Called after the local append is durable, in sequence order per node, possibly
/// concurrently for different sequences (`Send + Sync`). Replicating the same sequence
/// twice may happen (a retry) and must be harmless. A failure never undoes the
/// local write: [`ReplicationError::Failed`] makes the caller hand the entry off for a
/// later retry. A dropped future leaves the entry to that retry as well.
#[async_trait]
pub trait ReplicationPort: Send + Sync + Debug {
    /// Replicates an entry that is already durable locally under `sequence`.
    async fn replicate(&self, sequence: u64, entry: &WalEntry) -> Result<(), ReplicationError>;
}
