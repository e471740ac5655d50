//! HyperbyteDB's server as a library: configuration and the composition root.
//!
//! This crate is the only one that names concrete adapters. [`ServerBuilder`] wires them
//! into the application services in the named steps of the `bootstrap` module (open the
//! stores, build the storage stack, start the services and recover the WAL, spawn the
//! background services, serve HTTP), runs until a shutdown future completes, then shuts
//! down in order: stop accepting, finish in-flight requests, flush the WAL into storage,
//! close the stores.
//!
//! Why a library: the `hyperbyted` binary is one thin `main` over this builder, and an
//! embedder can build its own binary that swaps a port for its own adapter — another
//! WAL, another metadata store — without copying the composition (see `docs/adapters.md`
//! and `examples/file-wal`):
//!
//! ```no_run
//! # use std::sync::Arc;
//! # async fn doc(my_wal: Arc<dyn hyperbyte_ports::WalPort>) -> anyhow::Result<()> {
//! use hyperbyte_server::{Config, Overrides, ServerBuilder};
//! let config = Config::load(None, &Overrides::default())?; // defaults ← env
//! ServerBuilder::new(config)
//!     .with_wal(my_wal)
//!     .run(hyperbyte_server::shutdown_signal())
//!     .await
//! # }
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod bootstrap;
mod cluster;
mod config;
mod datadir;
mod listeners;
mod relief;
pub mod tools;

pub use bootstrap::shutdown_signal;
pub use config::{Config, ConfigError, Overrides};

use hyperbyte_ports::{Clock, HeldPointsPort, MetadataPort, WalPort};
use std::future::Future;
use std::path::Path;
use std::sync::Arc;

impl Config {
    /// The data directory (`data_dir`): the root the server claims and under which the
    /// built-in stores keep their files (`wal`, `meta`, `chdb`). A replacement adapter
    /// should keep its files in a sub-directory of its own.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

/// Builds and runs a server: the built-in adapters, unless a port is replaced.
///
/// Every replaced port must keep the contract its trait documents (the suites of
/// `hyperbyte_testkit::contract` check it). Replacing the WAL alone keeps the held-points
/// store of the RocksDB WAL (under the `wal` directory), so a custom WAL must keep its
/// files elsewhere.
pub struct ServerBuilder {
    config: Config,
    replacements: bootstrap::Replacements,
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.replacements;
        f.debug_struct("ServerBuilder")
            .field("config", &self.config)
            .field("custom_wal", &r.wal.is_some())
            .field("held", &r.held)
            .field("meta", &r.meta)
            .field("clock", &r.clock)
            .finish()
    }
}

impl ServerBuilder {
    /// A server with `config` and the built-in adapters.
    pub fn new(config: Config) -> Self {
        ServerBuilder {
            config,
            replacements: bootstrap::Replacements::default(),
        }
    }

    /// Uses `wal` as the write-ahead log instead of RocksDB (used as given: no
    /// group-commit writer is put in front of it). A WAL kept under `data_dir` should be
    /// opened with [`with_wal_opener`](Self::with_wal_opener) instead: the server refuses a
    /// data directory holding files it did not create before it first claims it.
    pub fn with_wal(self, wal: Arc<dyn WalPort>) -> Self {
        self.with_wal_opener(move |_| Ok(wal))
    }

    /// Uses the WAL `open` returns instead of RocksDB; `open` runs once the data directory
    /// is claimed (so no other server uses it) and before recovery.
    pub fn with_wal_opener<F>(mut self, open: F) -> Self
    where
        F: FnOnce(&Config) -> anyhow::Result<Arc<dyn WalPort>> + Send + 'static,
    {
        self.replacements.wal = Some(Box::new(open));
        self
    }

    /// Uses `held` as the store of points set aside for tables storage refuses.
    pub fn with_held_points(mut self, held: Arc<dyn HeldPointsPort>) -> Self {
        self.replacements.held = Some(held);
        self
    }

    /// Uses `meta` as the metadata store instead of RocksDB.
    pub fn with_metadata(mut self, meta: Arc<dyn MetadataPort>) -> Self {
        self.replacements.meta = Some(meta);
        self
    }

    /// Uses `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.replacements.clock = Some(clock);
        self
    }

    /// Calls `f` with the HTTP listener's address once it is bound (before serving), instead
    /// of printing `hyperbyted listening on ...` (`hyperbyted restore --data-dir` uses it).
    pub fn on_listening<F>(mut self, f: F) -> Self
    where
        F: FnOnce(std::net::SocketAddr) + Send + 'static,
    {
        self.replacements.on_listening = Some(Box::new(f));
        self
    }

    /// The configuration the server will run with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Claims the data directory, opens the stores, recovers the WAL, serves the InfluxDB
    /// API on `http.bind` (printing `hyperbyted listening on http://ADDR` once bound) and
    /// runs the background services until `shutdown` completes; then shuts down in order.
    /// Must run inside a multi-threaded Tokio runtime.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        bootstrap::run(self.config, self.replacements, shutdown).await
    }
}

/// Installs the `tracing` subscriber the configuration asks for (`log.level`, overridden
/// by `RUST_LOG`; `log.format` `json` or text). Call once, before [`ServerBuilder::run`].
pub fn init_tracing(cfg: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&cfg.log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if cfg.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
