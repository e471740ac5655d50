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
#[async_trait]
pub trait ReplicationPort: Send + Sync + Debug {
    /// Replicates an entry that is already durable locally under `sequence`.
    async fn replicate(&self, sequence: u64, entry: &WalEntry) -> Result<(), ReplicationError>;
}
