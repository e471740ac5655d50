//! RocksDB adapters of HyperbyteDB: the write-ahead log ([`RocksDbWal`], with group commit
//! through [`BatchingWal`]), the metadata store ([`RocksDbMetadata`]) and, in cluster mode,
//! the metadata consensus log ([`RocksDbConsensusStore`], whose values are the caller's
//! opaque bytes: the cluster adapter versions them) and the hinted-handoff queues
//! ([`RocksDbHintStore`]). Beside them, the one plain file of the data directory's local
//! stores: the recent-data tier's snapshot ([`FileTierSnapshot`], written at shutdown,
//! taken at the next start).
//!
//! Both implement port traits from `hyperbyte-ports` and are only named by the server's
//! composition root. They use separate RocksDB instances (separate directories): the WAL
//! is a high-throughput append/truncate log, the metadata store a small, synced,
//! cache-fronted record store.
//!
//! Architecture invariant: every RocksDB call here is blocking and runs on a blocking
//! thread (`spawn_blocking` or the dedicated group-commit thread), never on an async
//! worker; every value on disk carries a one-byte format version.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod batching;
mod codec;
mod consensus;
mod held;
mod hints;
mod metadata;
mod tier_snapshot;
mod wal;

pub use batching::{BatchingConfig, BatchingStats, BatchingWal};
pub use codec::{
    decode_wal_entry, encode_wal_entry, encode_wal_entry_v1, CodecError, WAL_FORMAT_V1,
    WAL_FORMAT_V2,
};
pub use consensus::RocksDbConsensusStore;
pub use hints::RocksDbHintStore;
pub use metadata::RocksDbMetadata;
pub use tier_snapshot::FileTierSnapshot;
pub use wal::{GroupCommitStore, RocksDbWal, WAL_MEMTABLE_BYTES};
