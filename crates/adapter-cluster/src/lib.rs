//! Cluster adapters: peer client, replication log, hinted handoff and Raft transport.
//!
//! Cluster mode is a later milestone; this crate holds its place in the dependency graph so
//! that `check-layers` already enforces the rule for it. Single-node builds use
//! [`NoReplication`].

#![cfg_attr(test, allow(clippy::unwrap_used))]

use async_trait::async_trait;
use hyperbyte_domain::WalEntry;

/// A replication port implementation that replicates nothing (single node).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoReplication;

#[async_trait]
impl hyperbyte_ports::ReplicationPort for NoReplication {
    async fn replicate(
        &self,
        _sequence: u64,
        _entry: &WalEntry,
    ) -> Result<(), hyperbyte_ports::ReplicationError> {
        Ok(())
    }
}
