//! chDB adapter: the embedded ClickHouse engine as HyperbyteDB's columnar store.
//!
//! - [`ChdbEngine`]: the process's engine (one storage path per process), with pools of
//!   reader and writer connections; implements [`hyperbyte_ports::QueryPort`], decoding
//!   `RowBinaryWithNamesAndTypes` results into typed rows.
//! - [`ChdbStorage`]: per-(retention policy, measurement) `AggregatingMergeTree` tables
//!   with InfluxDB's field-wise overwrite semantics (read with `FINAL`); implements
//!   [`hyperbyte_ports::PointsSinkPort`] (inserts streamed in the Native format) and
//!   [`hyperbyte_ports::StorageAdminPort`].
//!
//! Binaries linking this crate need `libchdb.so` at run time: this crate's build script
//! embeds an rpath to `CHDB_LIB_DIR` into its own tests and benches; other binaries
//! (the server) must do the same in their build script.

mod engine;
mod error;
pub mod layout;
mod native;
mod rowbinary;
mod storage;

pub use engine::{ChdbEngine, Role};
pub use error::{parse_engine_error, ChdbError, CODE_UNKNOWN_DATABASE, CODE_UNKNOWN_TABLE};
pub use storage::ChdbStorage;
