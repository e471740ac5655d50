//! Application services of HyperbyteDB.
//!
//! - [`ingest::IngestionService`]: `/write` bodies → validated points → durable WAL entries.
//! - [`flush::FlushService`]: WAL → columnar storage, recovery on start, read-your-writes.
//!
//! Architecture invariant: depends on `domain`, `ports`, `timeseriesql` and `lineprotocol`
//! only; every effect goes through a port, so every service runs against fakes in unit tests.

pub mod flush;
pub mod functions;
pub mod ingest;
pub mod query;

pub use flush::{FlushConfig, FlushService, FlushStats};
pub use ingest::{IngestionService, Limits, WriteError, WriteRequest};
