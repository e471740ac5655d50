//! Port traits: the boundaries between HyperbyteDB's business logic and its adapters.
//!
//! This crate is an **API boundary**: adapter authors implement these traits in their own
//! crates. Every trait is object-safe (services hold `Arc<dyn Port>`), small, and documents
//! the guarantees an implementation must give.
//!
//! Architecture invariant: depends only on `hyperbyte-domain`; no I/O happens here.

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod clock;
pub mod consensus;
pub mod held;
pub mod metadata;
pub mod query;
pub mod sink;
pub mod wal;

pub use clock::{Clock, SystemClock};
pub use consensus::{ConsensusStoreError, ConsensusStorePort};
pub use held::{HeldPointsPort, TableRef};
pub use metadata::{MetaError, MetadataPort, SeriesEntry};
pub use query::{ColumnType, OneChunk, QueryError, QueryPort, RowChunks, RowSet};
pub use sink::{DeleteRows, PointsSinkPort, SinkError, StorageAdminPort};
pub use wal::{WalError, WalPort};
pub mod replication;
pub use replication::{RangeDigest, ReplicatedBatch, ReplicationError, ReplicationPort};
pub mod hints;
pub use hints::{HintEntry, HintSize, HintStoreError, HintStorePort};
pub mod tier_snapshot;
pub use tier_snapshot::{TierSnapshotError, TierSnapshotPort};
