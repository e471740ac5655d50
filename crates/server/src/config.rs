//! Configuration: defaults, a TOML file, `HYPERBYTE_*` environment variables (nested keys
//! with `__`, e.g. `HYPERBYTE_HTTP__BIND=0.0.0.0:8086`), then command-line flags, merged
//! with figment and validated once at start-up. Every validation message names the key.

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Root of everything stored; the other paths default to sub-directories.
    pub(crate) data_dir: PathBuf,
    /// HTTP API.
    pub(crate) http: HttpSection,
    /// Write-ahead log.
    pub(crate) wal: WalSection,
    /// Metadata store.
    pub(crate) metadata: MetadataSection,
    /// Embedded ClickHouse.
    pub(crate) chdb: ChdbSection,
    /// WAL → storage flushing.
    pub(crate) flush: FlushSection,
    /// The in-memory recent-data tier.
    pub(crate) hot_tier: HotTierSection,
    /// Retention enforcement.
    pub(crate) retention: RetentionSection,
    /// Cardinality limits.
    pub(crate) limits: LimitsSection,
    /// Per-query resource limits.
    pub(crate) query: QuerySection,
    /// Authentication (arrives with a later release; accepted now).
    pub(crate) auth: AuthSection,
    /// Cluster mode (`docs/cluster.md`).
    pub(crate) cluster: crate::cluster::ClusterSection,
    /// Logging.
    pub(crate) log: LogSection,
    /// Graphite listeners (`[[graphite]]`, off unless enabled).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) graphite: Vec<crate::listeners::GraphiteSection>,
    /// OpenTSDB listeners (`[[opentsdb]]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) opentsdb: Vec<crate::listeners::OpenTsdbSection>,
    /// collectd listeners (`[[collectd]]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) collectd: Vec<crate::listeners::CollectdSection>,
    /// Line protocol over UDP (`[[udp]]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) udp: Vec<crate::listeners::UdpSection>,
}

/// `[http]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct HttpSection {
    /// Listen address.
    pub(crate) bind: String,
    /// Largest `/write` body in bytes (0 = unlimited). InfluxDB's default is 25 MB.
    pub(crate) max_body_bytes: usize,
    /// Default `chunk_size` for `chunked=true`.
    pub(crate) default_chunk_size: usize,
    /// Largest decompressed gzip body while `max_body_bytes` is 0 (otherwise that limit
    /// applies after decompression too).
    pub(crate) max_decoded_body_bytes: usize,
    /// Connections served at once (0 = no limit); more wait in the listen backlog.
    pub(crate) max_connections: usize,
    /// Seconds a client has to send a request's headers, from the connection's start
    /// or from a request's first byte (0 = no limit).
    pub(crate) header_read_timeout_secs: u64,
    /// Seconds a kept-alive connection may wait for its next request (0 = no limit, as
    /// InfluxDB).
    pub(crate) idle_timeout_secs: u64,
    /// Seconds a request body may go without delivering data (0 = no limit).
    pub(crate) body_read_timeout_secs: u64,
    /// Seconds connections get to finish their request once a shutdown begins.
    pub(crate) shutdown_timeout_secs: u64,
    /// Queries running at once (0 = no limit); InfluxDB's `max-concurrent-queries`.
    pub(crate) max_concurrent_queries: usize,
    /// Seconds a query waits for a free slot before it is refused.
    pub(crate) query_queue_timeout_secs: u64,
    /// Seconds a query may run (0 = no limit); InfluxDB's `query-timeout`.
    pub(crate) query_timeout_secs: u64,
    /// PEM certificate chain: HTTPS when set (with `tls_key_path`).
    pub(crate) tls_cert_path: Option<PathBuf>,
    /// PEM private key of the certificate.
    pub(crate) tls_key_path: Option<PathBuf>,
}

/// `[wal]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct WalSection {
    /// Directory (default `<data_dir>/wal`).
    pub(crate) dir: Option<PathBuf>,
    /// Group-commit window in microseconds: concurrent appends within it share one fsync.
    pub(crate) group_commit_window_us: u64,
    /// Most entries coalesced into one synced write.
    pub(crate) group_commit_max_entries: usize,
    /// Acknowledged points allowed to wait for the flush into storage; beyond it writes
    /// get `503` (clients retry). 0 disables the limit.
    pub(crate) max_backlog_points: u64,
}

/// `[metadata]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct MetadataSection {
    /// Directory (default `<data_dir>/meta`).
    pub(crate) dir: Option<PathBuf>,
}

/// `[chdb]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ChdbSection {
    /// chDB storage path (default `<data_dir>/chdb`). One per process.
    pub(crate) session_data_path: Option<PathBuf>,
    /// Reader connections (about one per core).
    pub(crate) readers: usize,
    /// Seconds one engine statement of a query may run (0 = no limit).
    pub(crate) query_max_execution_secs: u64,
    /// Memory one engine statement of a query may use, bytes (0 = no limit).
    pub(crate) query_max_memory_bytes: u64,
    /// Rows one engine statement of a query may return (0 = no limit).
    pub(crate) query_max_result_rows: u64,
    /// Nice value of the engine's background merges (0 = normal priority, up to 19).
    pub(crate) merge_nice: u8,
}

/// `[flush]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct FlushSection {
    /// Seconds between flushes.
    pub(crate) interval_secs: u64,
    /// WAL entries read per flush round.
    pub(crate) batch_size: usize,
    /// Points after which a flush round stops reading WAL entries (bounds its memory).
    pub(crate) batch_points: usize,
    /// Unflushed WAL entries that trigger an early flush.
    pub(crate) backlog_trigger: u64,
}

/// `[hot_tier]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct HotTierSection {
    /// Memory for the newest flushed points, served to narrow queries without the
    /// storage engine (bytes of point data; 0 disables the tier).
    pub(crate) max_bytes: u64,
    /// Read the newest stored points back into the tier at start-up (in the background,
    /// about three quarters of `max_bytes`), so queries after a restart do not all read
    /// the storage engine.
    pub(crate) warm_on_start: bool,
    /// Rows of the newest hours the warm-up reads and installs first, before the older
    /// ones (recent data is then answered from memory within a fraction of a second).
    pub(crate) warm_first_rows: u64,
    /// A clean shutdown leaves the tier's rows in the data directory
    /// (`hot-tier.snapshot`) and the next start installs them before it serves anything,
    /// so queries right after a restart are answered from memory (no warm-up needed).
    pub(crate) keep_on_restart: bool,
}

/// `[retention]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RetentionSection {
    /// Enforce retention policies.
    pub(crate) enabled: bool,
    /// Seconds between checks.
    pub(crate) check_interval_secs: u64,
}

/// What one materialised query row costs the server at its peak, for the memory-bound
/// arithmetic: a point read from storage holds its fields in a map whose first node alone
/// is about 630 B, beside the engine's row it was decoded from (about 250 B with three
/// tags) and its share of the answer. Four queries of 500,000 rows each, costed at the
/// 128 B assumed before, took the overload test 1.7 GiB past its 2 GiB bound.
const BYTES_PER_ROW: u64 = 1024;

/// Smallest `limits.max_memory_bytes` accepted. The engine alone is about 230 MiB
/// resident at rest (its code and caches), and requests are refused from 70% of the
/// bound: under 256 MiB, which this used to accept, the server refused every request from
/// its start on; 512 MiB leaves about 130 MiB for work.
const MIN_MEMORY_BOUND: u64 = 512 << 20;

/// `[limits]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct LimitsSection {
    /// Max series per database (0 = unlimited). InfluxDB's default: 1,000,000.
    pub(crate) max_series_per_database: usize,
    /// Max values per tag key (0 = unlimited). InfluxDB's default: 100,000.
    pub(crate) max_values_per_tag: usize,
    /// Resident memory bound in bytes (0 = none). From 70% of it on, new writes and
    /// queries are answered 503 with Retry-After; the queries that may run at once must
    /// fit 40% of it (checked at start-up).
    pub(crate) max_memory_bytes: u64,
}

/// `[query]`: what one SELECT may make the server materialise (0 = unlimited). The first
/// three are InfluxDB's `[coordinator]` limits with its error texts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct QuerySection {
    /// Points read from storage into the server (InfluxDB's `max-select-point`).
    pub(crate) max_select_point: u64,
    /// Series one query reads (InfluxDB's `max-select-series`).
    pub(crate) max_select_series: u64,
    /// `GROUP BY time` buckets of one query (InfluxDB's `max-select-buckets`).
    pub(crate) max_select_buckets: u64,
    /// Rows one query materialises: points read plus bucket rows of every series.
    pub(crate) max_select_rows: u64,
}

/// `[auth]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct AuthSection {
    /// Require credentials on `/query`, `/write` and `/api/v2/write`.
    pub(crate) enabled: bool,
    /// HMAC secret of JWT bearer tokens (empty: tokens are refused).
    pub(crate) shared_secret: String,
}

impl AuthSection {
    /// The application's auth settings.
    pub(crate) fn config(&self) -> hyperbyte_application::auth::AuthConfig {
        hyperbyte_application::auth::AuthConfig {
            enabled: self.enabled,
            shared_secret: self.shared_secret.clone(),
        }
    }
}

/// `[log]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct LogSection {
    /// `text` or `json`.
    pub(crate) format: String,
    /// A tracing filter (`info`, `hyperbyte=debug,info`, ...); `RUST_LOG` overrides.
    pub(crate) level: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("data"),
            http: HttpSection::default(),
            wal: WalSection::default(),
            metadata: MetadataSection::default(),
            chdb: ChdbSection::default(),
            flush: FlushSection::default(),
            hot_tier: HotTierSection::default(),
            retention: RetentionSection::default(),
            limits: LimitsSection::default(),
            query: QuerySection::default(),
            auth: AuthSection::default(),
            cluster: crate::cluster::ClusterSection::default(),
            log: LogSection::default(),
            graphite: Vec::new(),
            opentsdb: Vec::new(),
            collectd: Vec::new(),
            udp: Vec::new(),
        }
    }
}

impl Default for HttpSection {
    fn default() -> Self {
        HttpSection {
            bind: "127.0.0.1:8086".into(),
            max_body_bytes: 25 * 1024 * 1024,
            default_chunk_size: 10_000,
            max_decoded_body_bytes: 512 * 1024 * 1024,
            max_connections: 1024,
            header_read_timeout_secs: 30,
            idle_timeout_secs: hyperbyte_adapter_http::IDLE_TIMEOUT_SECS,
            body_read_timeout_secs: 30,
            shutdown_timeout_secs: 10,
            max_concurrent_queries: 32,
            query_queue_timeout_secs: 30,
            query_timeout_secs: 300,
            tls_cert_path: None,
            tls_key_path: None,
        }
    }
}

impl Default for WalSection {
    fn default() -> Self {
        WalSection {
            dir: None,
            group_commit_window_us: 500,
            group_commit_max_entries: 1024,
            max_backlog_points: 5_000_000,
        }
    }
}

impl Default for ChdbSection {
    fn default() -> Self {
        ChdbSection {
            session_data_path: None,
            readers: 2,
            query_max_execution_secs: 300,
            query_max_memory_bytes: 4 * 1024 * 1024 * 1024,
            query_max_result_rows: 0,
            merge_nice: 10,
        }
    }
}

impl Default for FlushSection {
    fn default() -> Self {
        FlushSection {
            interval_secs: 1,
            batch_size: 5_000,
            batch_points: 250_000,
            backlog_trigger: 256,
        }
    }
}

impl Default for HotTierSection {
    fn default() -> Self {
        HotTierSection {
            max_bytes: 256 << 20,
            warm_on_start: true,
            warm_first_rows: 50_000,
            keep_on_restart: true,
        }
    }
}

impl Default for RetentionSection {
    fn default() -> Self {
        RetentionSection {
            enabled: true,
            check_interval_secs: 1800,
        }
    }
}

impl Default for LimitsSection {
    fn default() -> Self {
        LimitsSection {
            max_series_per_database: 1_000_000,
            max_values_per_tag: 100_000,
            max_memory_bytes: 0,
        }
    }
}

impl Default for QuerySection {
    fn default() -> Self {
        let d = hyperbyte_application::query::QueryLimits::default();
        QuerySection {
            max_select_point: d.max_select_point,
            max_select_series: d.max_select_series,
            max_select_buckets: d.max_select_buckets,
            max_select_rows: d.max_select_rows,
        }
    }
}

impl QuerySection {
    /// The limits as the query service takes them.
    pub(crate) fn limits(&self) -> hyperbyte_application::query::QueryLimits {
        hyperbyte_application::query::QueryLimits {
            max_select_point: self.max_select_point,
            max_select_series: self.max_select_series,
            max_select_buckets: self.max_select_buckets,
            max_select_rows: self.max_select_rows,
        }
    }
}

impl Default for LogSection {
    fn default() -> Self {
        LogSection {
            format: "text".into(),
            level: "info".into(),
        }
    }
}

/// A configuration problem, naming the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The sources could not be read or merged (figment names the key and source).
    #[error("invalid configuration: {0}")]
    Load(String),
    /// A value is out of range.
    #[error("invalid configuration: `{key}`: {reason}")]
    Invalid {
        /// Dotted key.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A value of a repeated section is out of range (`graphite[0].templates`).
    #[error("invalid configuration: `{key}`: {reason}")]
    InvalidKey {
        /// Dotted key with the section's index.
        key: String,
        /// What is wrong.
        reason: String,
    },
}

/// Command-line overrides.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--bind`.
    pub bind: Option<String>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
}

impl Config {
    /// Loads defaults ← file ← environment ← flags, then validates.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            if !f.exists() {
                return Err(ConfigError::Load(format!(
                    "config file {} does not exist",
                    f.display()
                )));
            }
            fig = fig.merge(Toml::file(f));
        }
        fig = fig.merge(Env::prefixed("HYPERBYTE_").split("__"));
        if let Some(b) = &overrides.bind {
            fig = fig.merge(Serialized::default("http.bind", b));
        }
        if let Some(d) = &overrides.data_dir {
            fig = fig.merge(Serialized::default("data_dir", d));
        }
        let cfg: Config = fig
            .extract()
            .map_err(|e| ConfigError::Load(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks ranges and formats.
    /// The engine's share of `limits.max_memory_bytes` for everything it does (queries,
    /// the flush's inserts, merges, caches): half of it (`None` without a bound). The
    /// rest is the recent-data tier (at most a quarter), the WAL's memtables
    /// ([`Config::wal_memtable_bytes`]), requests in flight and the program itself.
    pub(crate) fn engine_memory(&self) -> Option<u64> {
        (self.limits.max_memory_bytes > 0).then_some(self.limits.max_memory_bytes / 2)
    }

    /// Size of one WAL memtable: the default, or 1/32 of `limits.max_memory_bytes`
    /// when that is smaller (four memtables at most, the RocksDB log capped at two).
    pub(crate) fn wal_memtable_bytes(&self) -> u64 {
        match self.limits.max_memory_bytes {
            0 => hyperbyte_adapter_rocksdb::WAL_MEMTABLE_BYTES,
            bound => (bound / 32).min(hyperbyte_adapter_rocksdb::WAL_MEMTABLE_BYTES),
        }
    }

    /// The engine's share of `limits.max_memory_bytes` for all its queries together
    /// (`None` without a bound).
    pub(crate) fn engine_query_memory(&self) -> Option<u64> {
        (self.limits.max_memory_bytes > 0).then(|| self.limits.max_memory_bytes / 5 * 2)
    }

    /// Under a memory bound, the queries that may run at once must fit the queries' share
    /// (40%) of it: each may take `chdb.query_max_memory_bytes` in the engine and
    /// `query.max_select_rows` rows (about [`BYTES_PER_ROW`] each) in the server.
    fn check_query_memory(&self) -> Result<(), ConfigError> {
        let share = self.engine_query_memory().unwrap_or(u64::MAX);
        let concurrent = self.http.max_concurrent_queries as u64;
        let per_query = self
            .chdb
            .query_max_memory_bytes
            .saturating_add(self.query.max_select_rows.saturating_mul(BYTES_PER_ROW));
        let unbounded = concurrent == 0
            || self.chdb.query_max_memory_bytes == 0
            || self.query.max_select_rows == 0;
        if unbounded || concurrent.saturating_mul(per_query) > share {
            return Err(ConfigError::Invalid {
                key: "limits.max_memory_bytes",
                reason: format!(
                    "queries could use more than its query share ({} MiB, 40%): http.max_concurrent_queries ({concurrent}) x (chdb.query_max_memory_bytes + query.max_select_rows x {BYTES_PER_ROW} B) must fit it, and none of the three may be 0",
                    share >> 20
                ),
            });
        }
        Ok(())
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, reason: &str| ConfigError::Invalid {
            key,
            reason: reason.to_string(),
        };
        if self.http.bind.parse::<SocketAddr>().is_err() {
            return Err(ConfigError::Invalid {
                key: "http.bind",
                reason: format!("{:?} is not an address like 127.0.0.1:8086", self.http.bind),
            });
        }
        if self.data_dir.as_os_str().is_empty() {
            return Err(invalid("data_dir", "must not be empty"));
        }
        if self.flush.interval_secs == 0 {
            return Err(invalid("flush.interval_secs", "must be at least 1"));
        }
        if self.flush.batch_size == 0 {
            return Err(invalid("flush.batch_size", "must be at least 1"));
        }
        if self.flush.batch_points == 0 {
            return Err(invalid("flush.batch_points", "must be at least 1"));
        }
        if self.http.max_decoded_body_bytes == 0 {
            return Err(invalid(
                "http.max_decoded_body_bytes",
                "must be at least 1 (decompression is always bounded)",
            ));
        }
        if self.http.max_concurrent_queries > 0 && self.http.query_queue_timeout_secs == 0 {
            return Err(invalid(
                "http.query_queue_timeout_secs",
                "must be at least 1 while http.max_concurrent_queries is set",
            ));
        }
        if self.chdb.readers == 0 || self.chdb.readers > 64 {
            return Err(invalid("chdb.readers", "must be between 1 and 64"));
        }
        if self.chdb.merge_nice > hyperbyte_adapter_chdb::MAX_MERGE_NICE {
            return Err(invalid(
                "chdb.merge_nice",
                "must be between 0 (normal priority) and 19",
            ));
        }
        if self.wal.group_commit_max_entries == 0 {
            return Err(invalid(
                "wal.group_commit_max_entries",
                "must be at least 1",
            ));
        }
        if self.wal.group_commit_window_us > 1_000_000 {
            return Err(invalid(
                "wal.group_commit_window_us",
                "must be at most 1000000 (one second)",
            ));
        }
        if self.retention.check_interval_secs == 0 {
            return Err(invalid(
                "retention.check_interval_secs",
                "must be at least 1",
            ));
        }
        // A TOML integer stops at i64::MAX; a larger value (possible through the
        // environment) can only be a typo for "unlimited", which is 0.
        for (key, v) in [
            ("query.max_select_point", self.query.max_select_point),
            ("query.max_select_series", self.query.max_select_series),
            ("query.max_select_buckets", self.query.max_select_buckets),
            ("query.max_select_rows", self.query.max_select_rows),
        ] {
            if v > i64::MAX as u64 {
                return Err(invalid(
                    key,
                    "must be at most 9223372036854775807 (0 means unlimited)",
                ));
            }
        }
        if self.limits.max_memory_bytes > 0 {
            if self.limits.max_memory_bytes < MIN_MEMORY_BOUND {
                return Err(invalid(
                    "limits.max_memory_bytes",
                    "must be 0 (no bound) or at least 536870912 (512 MiB)",
                ));
            }
            if self.hot_tier.max_bytes > self.limits.max_memory_bytes / 4 {
                return Err(invalid(
                    "hot_tier.max_bytes",
                    "must be at most a quarter of limits.max_memory_bytes",
                ));
            }
            self.check_query_memory()?;
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return Err(invalid("log.format", "must be \"text\" or \"json\""));
        }
        if let Err((key, reason)) = self.cluster.validate() {
            return Err(ConfigError::Invalid { key, reason });
        }
        self.check_tls()?;
        crate::listeners::build(self.listener_sections())?;
        Ok(())
    }

    /// The listener sections (`[[graphite]]`, `[[opentsdb]]`, `[[collectd]]`, `[[udp]]`).
    pub(crate) fn listener_sections(&self) -> crate::listeners::Sections<'_> {
        crate::listeners::Sections {
            graphite: &self.graphite,
            opentsdb: &self.opentsdb,
            collectd: &self.collectd,
            udp: &self.udp,
        }
    }

    /// TLS needs both paths, each naming a readable file (its PEM content is checked when
    /// the listener starts, with the same key names).
    fn check_tls(&self) -> Result<(), ConfigError> {
        let (cert, key) = (&self.http.tls_cert_path, &self.http.tls_key_path);
        let pairs = [("http.tls_cert_path", cert), ("http.tls_key_path", key)];
        if cert.is_some() != key.is_some() {
            let (missing, _) = pairs
                .iter()
                .find(|(_, p)| p.is_none())
                .copied()
                .unwrap_or(pairs[0]);
            return Err(ConfigError::Invalid {
                key: missing,
                reason: "required for TLS together with the other of http.tls_cert_path and http.tls_key_path".into(),
            });
        }
        for (k, p) in pairs {
            if let Some(p) = p {
                if let Err(e) = std::fs::File::open(p) {
                    return Err(ConfigError::Invalid {
                        key: k,
                        reason: format!("cannot read {}: {e}", p.display()),
                    });
                }
            }
        }
        Ok(())
    }

    /// WAL directory.
    pub(crate) fn wal_dir(&self) -> PathBuf {
        self.wal
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("wal"))
    }

    /// The recent-data tier's snapshot file (see `hot_tier.keep_on_restart`).
    pub(crate) fn tier_snapshot_path(&self) -> PathBuf {
        self.data_dir.join("hot-tier.snapshot")
    }

    /// Metadata directory.
    pub(crate) fn meta_dir(&self) -> PathBuf {
        self.metadata
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("meta"))
    }

    /// chDB storage path.
    pub(crate) fn chdb_dir(&self) -> PathBuf {
        self.chdb
            .session_data_path
            .clone()
            .unwrap_or_else(|| self.data_dir.join("chdb"))
    }

    /// The default configuration as TOML.
    pub fn default_toml() -> String {
        let body = toml::to_string_pretty(&Config::default()).unwrap_or_default();
        format!(
            "# hyperbyted configuration (defaults). Every key can also be set through the\n# environment: HYPERBYTE_<SECTION>__<KEY>, e.g. HYPERBYTE_HTTP__BIND=0.0.0.0:8086.\n# Unset paths default to sub-directories of data_dir (wal, meta, chdb).\n\n{body}"
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn defaults_are_valid_and_round_trip() {
        Config::default().validate().unwrap();
        let text = Config::default_toml();
        let dir = std::env::temp_dir().join(format!("hb-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("c.toml");
        std::fs::write(&f, text).unwrap();
        let c = Config::load(Some(&f), &Overrides::default()).unwrap();
        assert_eq!(c.http.bind, "127.0.0.1:8086");
    }

    #[test]
    fn tls_paths_go_together_and_must_be_readable() {
        let mut c = Config::default();
        c.http.tls_cert_path = Some("/nonexistent/cert.pem".into());
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("http.tls_key_path"), "{e}");
        c.http.tls_key_path = Some("/nonexistent/key.pem".into());
        let e = c.validate().unwrap_err().to_string();
        assert!(
            e.contains("http.tls_cert_path") && e.contains("cannot read"),
            "{e}"
        );
        let mut c = Config::default();
        c.auth.enabled = true;
        c.validate().unwrap();
    }

    #[test]
    fn bad_value_names_the_key() {
        let dir = std::env::temp_dir().join(format!("hb-cfg2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("c.toml");
        std::fs::write(&f, "[flush]\ninterval_secs = 0\n").unwrap();
        let e = Config::load(Some(&f), &Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("flush.interval_secs"), "{e}");
        std::fs::write(&f, "[http]\nbind = \"nope\"\n").unwrap();
        let e = Config::load(Some(&f), &Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("http.bind"), "{e}");
        std::fs::write(&f, "[http]\nbindd = \"x\"\n").unwrap();
        let e = Config::load(Some(&f), &Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("bindd"), "{e}");
        std::fs::write(&f, "[chdb]\nmerge_nice = 20\n").unwrap();
        let e = Config::load(Some(&f), &Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("chdb.merge_nice"), "{e}");
        std::fs::write(&f, "[chdb]\nmerge_nice = 0\n").unwrap();
        let c = Config::load(Some(&f), &Overrides::default()).unwrap();
        assert_eq!(c.chdb.merge_nice, 0);
        assert_eq!(Config::default().chdb.merge_nice, 10);
    }

    #[test]
    fn query_limits_load_and_name_their_key() {
        let c = Config::default();
        assert_eq!(
            c.query.limits(),
            hyperbyte_application::query::QueryLimits::default()
        );
        let dir = std::env::temp_dir().join(format!("hb-cfg3-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("c.toml");
        std::fs::write(
            &f,
            "[query]\nmax_select_point = 5\nmax_select_series = 6\nmax_select_buckets = 7\nmax_select_rows = 0\n",
        )
        .unwrap();
        let c = Config::load(Some(&f), &Overrides::default()).unwrap();
        let l = c.query.limits();
        assert_eq!(
            (
                l.max_select_point,
                l.max_select_series,
                l.max_select_buckets,
                l.max_select_rows
            ),
            (5, 6, 7, 0)
        );
        std::fs::write(&f, "[query]\nmax_select_buckets = -1\n").unwrap();
        let e = Config::load(Some(&f), &Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("max_select_buckets"), "{e}");
        let mut c = Config::default();
        c.query.max_select_rows = u64::MAX;
        let e = c.validate().unwrap_err();
        assert!(e.to_string().contains("query.max_select_rows"), "{e}");
    }

    #[test]
    fn a_memory_bound_leaves_room_beside_the_engine() {
        let bounded = |bytes: u64| {
            let mut c = Config::default();
            c.limits.max_memory_bytes = bytes;
            c.hot_tier.max_bytes = bytes / 4;
            c.http.max_concurrent_queries = 2;
            c.chdb.query_max_memory_bytes = 32 << 20;
            c.query.max_select_rows = 10_000;
            c.validate()
        };
        // At 256 MiB the engine alone was over the 70% refusal mark at start-up.
        let e = bounded(256 << 20).unwrap_err().to_string();
        assert!(
            e.contains("limits.max_memory_bytes") && e.contains("512 MiB"),
            "{e}"
        );
        bounded(512 << 20).unwrap();
    }

    #[test]
    fn flags_override_file() {
        let o = Overrides {
            bind: Some("127.0.0.1:9999".into()),
            data_dir: Some("/tmp/x".into()),
        };
        let c = Config::load(None, &o).unwrap();
        assert_eq!(c.http.bind, "127.0.0.1:9999");
        assert_eq!(c.wal_dir(), PathBuf::from("/tmp/x/wal"));
    }
}
