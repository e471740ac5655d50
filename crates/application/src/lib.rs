//! Application services of HyperbyteDB.
//!
//! - [`ingest::IngestionService`]: `/write` bodies → validated points → durable WAL entries.
//! - [`flush::FlushService`]: WAL → columnar storage, recovery on start, read-your-writes.
//! - [`retention::RetentionService`]: drops expired partitions and cleans the series index.
//! - [`continuous::ContinuousQueryService`]: runs continuous queries on InfluxDB's schedule.
//! - [`hot::HotTier`]: the newest flushed points in memory, for narrow recent reads.
//! - [`backlog::WriteBacklog`]: unflushed points, for write backpressure.
//! - [`prom::PromService`]: Prometheus remote write and read over ingestion and queries.
//!
//! Architecture invariant: depends on `domain`, `ports`, `timeseriesql` and `lineprotocol`
//! only; every effect goes through a port, so every service runs against fakes in unit tests.

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod auth;
pub mod backlog;
pub mod backup;
pub mod cluster;
pub mod continuous;
pub mod flush;
pub mod functions;
pub mod hot;
pub mod ingest;
pub mod prom;
pub mod query;
pub mod retention;
pub mod stats;
mod tables;

pub use backlog::WriteBacklog;
pub use continuous::{ContinuousQueryService, CqRun, RunGate};
pub use flush::{FlushConfig, FlushService, FlushStats, HeldTable};
pub use ingest::{IngestionService, Limits, WriteError, WriteRequest};
pub use retention::{RetentionError, RetentionService, RetentionStats};
