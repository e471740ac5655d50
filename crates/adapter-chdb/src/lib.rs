//! chDB adapter: the embedded ClickHouse engine as HyperbyteDB's columnar store.
//!
//! - [`ChdbEngine`]: the process's engine (chDB serves one storage path per process),
//!   with a pool of reader connections and two writer connections, each running one
//!   statement at a time; engine calls run on tokio's blocking pool. Implements
//!   [`hyperbyte_ports::QueryPort`]: results travel as `RowBinaryWithNamesAndTypes` and
//!   are decoded in Rust into typed rows (no JSON). Engine errors (`Code: N.
//!   DB::Exception: ...`) become [`ChdbError::Engine`] with the code.
//! - [`ChdbStorage`]: one `AggregatingMergeTree` table per (retention policy,
//!   measurement) with InfluxDB's field-wise overwrite semantics when read with `FINAL`
//!   (see [`layout`]); implements [`hyperbyte_ports::PointsSinkPort`] (batches streamed
//!   in the Native format, schema evolution by `ALTER`, no DDL on the hot path) and
//!   [`hyperbyte_ports::StorageAdminPort`].
//!
//! Durability: tables are created with `fsync_after_insert = 1` and
//! `fsync_part_directory = 1`, so a successful `write_points` is durable and `sync` has
//! nothing left to do; merged parts are fsynced too (see [`layout::TABLE_SETTINGS`]).
//!
//! Process lifecycle: call [`ChdbEngine::shutdown`] last when the process stops. A
//! process that exits while the engine's background merges run can crash in the
//! engine's exit-time destructors (measured: SIGSEGV in a `MergeMutate` thread); the
//! crate registers an `atexit` hook that shuts the engine down, but destructors the
//! engine registers later still run before that hook.
//!
//! Binaries linking this crate need `libchdb.so` at run time: this crate's build script
//! embeds an rpath to `CHDB_LIB_DIR` into its own tests and benches only (Cargo applies
//! `rustc-link-arg` to the emitting package); other packages' binaries need the same
//! line in their own build script.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod codecs;
mod delete;
mod engine;
mod error;
pub mod layout;
mod merge_priority;
mod merge_state;
mod native;
mod rowbinary;
mod sorted_block;
mod storage;

pub use codecs::{CodecTuning, NOISY_FLOAT_CODEC};
pub use engine::{ChdbEngine, EngineSettings, Role};
pub use error::{parse_engine_error, ChdbError, CODE_UNKNOWN_DATABASE, CODE_UNKNOWN_TABLE};
pub use merge_priority::MAX_NICE as MAX_MERGE_NICE;
pub use storage::ChdbStorage;
