//! In-memory fakes of HyperbyteDB's ports.
//!
//! Why one crate: the application's unit tests, adapter authors and the contract test kit
//! need the same small, honest fakes — each keeps the guarantees its port documents
//! (ordering, durability as "visible once the call returns", sequence numbers never
//! reused) and can be told to fail on purpose, so a test can show what a service does
//! when storage refuses a batch or the WAL cannot truncate. None does I/O; all are
//! `Send + Sync` and cheap to build.
//!
//! - [`MemoryWal`]: a [`WalPort`](hyperbyte_ports::WalPort) over a `BTreeMap`.
//! - [`MemorySink`]: a [`PointsSinkPort`](hyperbyte_ports::PointsSinkPort) recording what
//!   it stores, refusing chosen measurements, failing `sync` on demand.
//! - [`MemoryHeld`]: a [`HeldPointsPort`](hyperbyte_ports::HeldPointsPort).
//! - [`MemoryHintStore`]: a [`HintStorePort`](hyperbyte_ports::HintStorePort) (cluster
//!   mode's hinted handoff), whose appends fail on demand.
//! - [`RecordingAdmin`]: a [`StorageAdminPort`](hyperbyte_ports::StorageAdminPort) that
//!   records every call.
//! - [`ManualClock`]: a [`Clock`](hyperbyte_ports::Clock) the test moves.
//! - [`MemoryTierSnapshot`]: a [`TierSnapshotPort`](hyperbyte_ports::TierSnapshotPort).
//! - [`MemoryMetadata`]: the [`MetadataPort`](hyperbyte_ports::MetadataPort) of the
//!   `hyperbyte-catalog` crate, held in memory: InfluxDB's metadata rules exactly as the
//!   server applies them (re-exported here so tests find every fake in one place).
//!
//! The [`contract`] module holds generic suites that check any implementation of the
//! WAL, held-points, metadata, tier-snapshot and storage (sink + query + admin) ports against the
//! guarantees the ports document.

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod admin;
mod clock;
mod consensus;
pub mod contract;
mod held;
mod hints;
mod sink;
mod tier_snapshot;
mod wal;

pub use admin::{AdminCall, RecordingAdmin};
pub use clock::ManualClock;
pub use consensus::MemoryConsensusStore;
pub use held::MemoryHeld;
pub use hints::MemoryHintStore;
pub use hyperbyte_catalog::MemoryMetadata;
pub use sink::{MemorySink, StoredPoint};
pub use tier_snapshot::MemoryTierSnapshot;
pub use wal::MemoryWal;
