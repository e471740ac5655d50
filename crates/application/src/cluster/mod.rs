//! Cluster orchestration of writes: which replicas a write goes to, when the client gets
//! its answer, what happens to a batch a peer did not take, and how a replica applies a
//! batch exactly once. The transport is [`hyperbyte_ports::ReplicationPort`]; the
//! metadata consensus lives in the cluster adapter.
//!
//! - [`WriteReplicator`]: after the local WAL append, sends the batch to every peer (full
//!   replication), waits until the `consistency` level is met, and queues what a peer did
//!   not take in its durable hint queue ([`hints`], over `HintStorePort`), which a
//!   background loop delivers in order.
//! - [`ReplicaLedger`]: the batches a replica applied, by origin and sequence, so a retried
//!   batch is not applied twice.
//! - [`StorageEffects`]: what a replicated `DROP`, `DELETE` or `DROP SERIES` does to this
//!   node's stored data.
//! - [`AntiEntropy`]: on a schedule, compares digests per table and hour with every peer
//!   and copies the points this node misses.

mod anti_entropy;
mod effects;
mod hints;
mod ledger;
mod replicate;

pub use anti_entropy::{
    should_pull, AntiEntropy, AntiEntropyCounters, AntiEntropyError, AntiEntropyStats, RANGE_NS,
};
pub(crate) use effects::retention_policy_names;
pub use effects::{StorageChange, StorageChanges, StorageEffects};
pub use hints::{HintLimits, HintStats};
pub use ledger::{first_sequence_after, ReplicaLedger};
pub use replicate::{ReplicateError, ReplicationShortfall, WriteReplicator};
