//! Cluster mode: several `hyperbyted` processes holding the same data.
//!
//! - **Metadata consensus** ([`ClusterNode`]): openraft orders every cluster-wide
//!   metadata command (databases, retention policies, schemas and field types, continuous
//!   queries, users); its log and vote live behind `ConsensusStorePort` (RocksDB in the
//!   server), its state machine applies each command to this node's metadata store and
//!   drops this node's data for replicated drops. [`ClusterMetadata`] is the metadata
//!   port the services use: reads are local, cluster-wide changes are proposed (forwarded
//!   to the leader from a follower) and return once applied here.
//! - **Peer listener** ([`serve_peers`]): the consensus RPCs, forwarded commands, joins and
//!   leaves, replicated writes and `/cluster/status`, over HTTP on `cluster.bind`.
//! - **Write replication** ([`PeerReplication`]): the transport of
//!   `hyperbyte_application::cluster::WriteReplicator`, which owns the consistency levels
//!   and hinted handoff (business rules live there, not here).
//!
//! Single-node builds use [`NoReplication`]. See `docs/cluster.md`.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod client;
mod log_store;
mod metadata;
mod network;
mod node;
mod replication;
mod server;
mod state_machine;
mod types;

pub use client::{PeerClient, PeerError};
pub use metadata::ClusterMetadata;
pub use node::{ClusterConfig, ClusterError, ClusterNode};
pub use replication::PeerReplication;
pub use server::{serve_peers, PeerService, STATUS_PATH};
pub use state_machine::StorageSide;

use async_trait::async_trait;
use hyperbyte_ports::{ReplicatedBatch, ReplicationError};

/// The replication port of a single node: no peers.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoReplication;

#[async_trait]
impl hyperbyte_ports::ReplicationPort for NoReplication {
    fn local_node(&self) -> u64 {
        0
    }

    fn peers(&self) -> Vec<u64> {
        Vec::new()
    }

    async fn send(&self, peer: u64, _batch: &ReplicatedBatch) -> Result<(), ReplicationError> {
        Err(ReplicationError::Refused {
            peer,
            reason: "a single node has no peers".into(),
            retryable: false,
        })
    }
}
