//! HTTP adapter: the InfluxDB 1.x API over axum.
//!
//! Routes: `/ping` (GET, HEAD), `/status`, `/health`, `/metrics` (Prometheus),
//! `/debug/vars` (InfluxDB's expvar JSON), `/write`, `/api/v2/write`, `/query` (GET,
//! POST), Prometheus remote write and read (`/api/v1/prom/write`, `/api/v1/prom/read`,
//! snappy protobuf), and the admin-only `/api/hyperbyte/backup/...` and
//! `/api/hyperbyte/restore/meta` of `hyperbyted backup`, `restore` and `export`; every one behind the request observer
//! (request id, access log, metrics). This crate is the only one that knows InfluxDB's
//! response shapes (JSON, CSV, MessagePack) and HTTP status conventions.
//!
//! Architecture invariant: server-side failures (WAL, storage, overload) answer 5xx, never
//! 4xx: Telegraf drops a batch on any 4xx and retries on 5xx.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod admission;
mod auth;
mod backup;
mod cors;
mod csv;
mod debug_vars;
mod gzip;
mod health;
mod json;
mod memory;
mod metrics;
mod msgpack;
mod negotiate;
mod observe;
mod params;
mod pretty;
mod prom;
mod prompb;
mod router;
mod serve;

pub use admission::{AdmissionConfig, AdmissionError, QueryGate};
pub use health::Health;
pub use json::{render_results, Epoch, RenderOptions};
pub use memory::{MemoryPressure, MemoryWatch};
pub use metrics::{Metrics, MetricsError};
pub use router::{router, HealthCheck, HttpConfig, HttpState, INFLUX_VERSION};
pub use serve::{
    serve, serve_tls, tls_acceptor, ServeConfig, TlsAcceptor, TlsError, IDLE_TIMEOUT_SECS,
};
