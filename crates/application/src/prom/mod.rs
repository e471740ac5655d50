//! Prometheus remote write and remote read (`/api/v1/prom/write`, `/api/v1/prom/read`),
//! stored as InfluxDB 1.8 stores them: one point per sample, the measurement named by the
//! `__name__` label (`prom_metric_not_specified` without one), every label a tag
//! (`__name__` included, as 1.8 keeps it), one float field `value`, the time in
//! milliseconds. NaN and ±Inf samples are dropped (InfluxDB cannot store them) and the
//! rest is written.
//!
//! Why here and not in the HTTP adapter: what a sample becomes and which series a set of
//! label matchers selects are business rules (the same as InfluxDB's); the adapter only
//! decodes snappy and protobuf into the plain types of this module and encodes the
//! answer. Writes go through [`IngestionService`] like `/write` (same validation, limits
//! and WAL durability: `Ok` only once the WAL synced the batch); reads are InfluxQL
//! SELECTs run by the [`QueryExecutor`] (same read-your-writes, limits and engine),
//! one per measurement the `__name__` matchers select, with the label matchers checked
//! here on each series (Prometheus' semantics: a missing label equals the empty string,
//! regular expressions match the whole value).

mod read;
#[cfg(test)]
mod tests;
mod write;

use crate::auth::{Access, AuthError};
use crate::query::QueryExecutor;
use crate::{IngestionService, WriteError};
use hyperbyte_ports::MetadataPort;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub use read::{LabelMatcher, MatchKind, PromQuery};
pub use write::{DroppedSamples, MAX_SAMPLE_CELLS};

/// The measurement of a series without a `__name__` label (InfluxDB 1.8's name).
pub const UNNAMED_MEASUREMENT: &str = "prom_metric_not_specified";
/// The label naming the metric.
pub const NAME_LABEL: &str = "__name__";
/// The field every sample's value is stored in.
pub const VALUE_FIELD: &str = "value";

/// One sample: a value at a time in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PromSample {
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// The value.
    pub value: f64,
}

/// One time series: its labels (any order on input; sorted by name on output) and
/// samples (in time order on output).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PromSeries {
    /// `(name, value)` pairs.
    pub labels: Vec<(String, String)>,
    /// Samples.
    pub samples: Vec<PromSample>,
}

/// Why a remote write or read was refused.
#[derive(Debug, thiserror::Error)]
pub enum PromError {
    /// 400: no `db` parameter.
    #[error("database is required")]
    DatabaseRequired,
    /// 404: the database does not exist.
    #[error("database not found: {0:?}")]
    DatabaseNotFound(String),
    /// 400: the request cannot be applied as sent.
    #[error("{0}")]
    BadRequest(String),
    /// The write path's refusal, with its status.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// 401/403.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// 500: the read failed on the server side.
    #[error("{0}")]
    Internal(String),
}

impl PromError {
    /// The HTTP status InfluxDB answers with.
    pub fn status(&self) -> u16 {
        match self {
            PromError::DatabaseRequired | PromError::BadRequest(_) => 400,
            PromError::DatabaseNotFound(_) => 404,
            PromError::Write(e) => e.status(),
            PromError::Auth(AuthError::Unauthenticated(_)) => 401,
            PromError::Auth(AuthError::Forbidden(_)) => 403,
            PromError::Auth(AuthError::Internal(_)) | PromError::Internal(_) => 500,
        }
    }
}

/// What the remote endpoints did so far (`/metrics`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PromCounters {
    /// Remote write requests that reached the service.
    pub write_requests: u64,
    /// Samples accepted into the WAL.
    pub samples_written: u64,
    /// NaN and ±Inf samples dropped.
    pub samples_dropped: u64,
    /// Remote write requests refused (any error).
    pub write_errors: u64,
    /// Remote read requests that reached the service.
    pub read_requests: u64,
    /// Queries of those requests.
    pub read_queries: u64,
    /// Series answered.
    pub read_series: u64,
    /// Samples answered.
    pub read_samples: u64,
    /// Remote read requests refused (any error).
    pub read_errors: u64,
}

#[derive(Debug, Default)]
struct Meter {
    write_requests: AtomicU64,
    samples_written: AtomicU64,
    samples_dropped: AtomicU64,
    write_errors: AtomicU64,
    read_requests: AtomicU64,
    read_queries: AtomicU64,
    read_series: AtomicU64,
    read_samples: AtomicU64,
    read_errors: AtomicU64,
}

fn add(c: &AtomicU64, n: usize) {
    c.fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
}

/// The outcome of an accepted remote write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromWriteOutcome {
    /// Samples written.
    pub written: usize,
    /// Samples dropped (NaN, ±Inf).
    pub dropped: DroppedSamples,
}

/// Remote write and read over the ingestion and query services.
#[derive(Debug)]
pub struct PromService {
    ingest: Arc<IngestionService>,
    query: Arc<dyn QueryExecutor>,
    meta: Arc<dyn MetadataPort>,
    meter: Meter,
}

impl PromService {
    /// Creates the service.
    pub fn new(
        ingest: Arc<IngestionService>,
        query: Arc<dyn QueryExecutor>,
        meta: Arc<dyn MetadataPort>,
    ) -> Self {
        PromService {
            ingest,
            query,
            meta,
            meter: Meter::default(),
        }
    }

    /// The counters now.
    pub fn counters(&self) -> PromCounters {
        let m = &self.meter;
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        PromCounters {
            write_requests: get(&m.write_requests),
            samples_written: get(&m.samples_written),
            samples_dropped: get(&m.samples_dropped),
            write_errors: get(&m.write_errors),
            read_requests: get(&m.read_requests),
            read_queries: get(&m.read_queries),
            read_series: get(&m.read_series),
            read_samples: get(&m.read_samples),
            read_errors: get(&m.read_errors),
        }
    }

    /// InfluxDB's first checks, before the body is read: a database is named and exists.
    pub fn check_database(&self, database: &str) -> Result<(), PromError> {
        if database.is_empty() {
            return Err(PromError::DatabaseRequired);
        }
        if self.meta.database(database).is_none() {
            return Err(PromError::DatabaseNotFound(database.to_string()));
        }
        Ok(())
    }

    /// Writes the samples of a remote write request; returns once they are durable.
    pub async fn write(
        &self,
        database: &str,
        retention_policy: Option<&str>,
        series: &[PromSeries],
    ) -> Result<PromWriteOutcome, PromError> {
        let m = &self.meter;
        add(&m.write_requests, 1);
        let r = self.write_inner(database, retention_policy, series).await;
        match &r {
            Ok(o) => {
                add(&m.samples_written, o.written);
                add(&m.samples_dropped, o.dropped.total());
            }
            Err(_) => add(&m.write_errors, 1),
        }
        r
    }

    async fn write_inner(
        &self,
        database: &str,
        retention_policy: Option<&str>,
        series: &[PromSeries],
    ) -> Result<PromWriteOutcome, PromError> {
        self.check_database(database)?;
        let (points, dropped) = write::to_points(series)?;
        let written = points.len();
        self.ingest
            .write_views(database, retention_policy, points, Vec::new())
            .await?;
        if dropped.total() > 0 {
            tracing::debug!(
                nan = dropped.nan,
                inf = dropped.inf,
                ninf = dropped.ninf,
                "dropped unsupported Prometheus values"
            );
        }
        Ok(PromWriteOutcome { written, dropped })
    }

    /// Answers the queries of a remote read request: per query, the matching series with
    /// their labels sorted by name and samples in time order, series sorted by labels.
    pub async fn read(
        &self,
        database: &str,
        retention_policy: Option<&str>,
        access: &Access,
        queries: &[PromQuery],
    ) -> Result<Vec<Vec<PromSeries>>, PromError> {
        let m = &self.meter;
        add(&m.read_requests, 1);
        add(&m.read_queries, queries.len());
        let r = self
            .read_inner(database, retention_policy, access, queries)
            .await;
        match &r {
            Ok(results) => {
                for series in results {
                    add(&m.read_series, series.len());
                    add(
                        &m.read_samples,
                        series.iter().map(|s| s.samples.len()).sum(),
                    );
                }
            }
            Err(_) => add(&m.read_errors, 1),
        }
        r
    }

    async fn read_inner(
        &self,
        database: &str,
        retention_policy: Option<&str>,
        access: &Access,
        queries: &[PromQuery],
    ) -> Result<Vec<Vec<PromSeries>>, PromError> {
        self.check_database(database)?;
        read::authorize(access, database)?;
        let mut out = Vec::with_capacity(queries.len());
        for q in queries {
            out.push(
                self.read_query(database, retention_policy, access, q)
                    .await?,
            );
        }
        Ok(out)
    }
}
