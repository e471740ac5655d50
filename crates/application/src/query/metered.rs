//! The query service's view of the engine, counting its errors for the metrics.
//!
//! A decorator rather than counters at each call site: every read path (pushdown, points,
//! latest-time probes) goes through the one port, so none can be missed. A missing table
//! is an answer (an empty result), not an error, and is not counted.

use async_trait::async_trait;
use hyperbyte_ports::{QueryError, QueryPort, RowSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A [`QueryPort`] counting the errors of the one it wraps.
#[derive(Debug)]
pub(crate) struct MeteredEngine {
    inner: Arc<dyn QueryPort>,
    errors: AtomicU64,
}

impl MeteredEngine {
    pub(crate) fn new(inner: Arc<dyn QueryPort>) -> Self {
        MeteredEngine {
            inner,
            errors: AtomicU64::new(0),
        }
    }

    /// Engine errors so far.
    pub(crate) fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    fn count<T>(&self, r: Result<T, QueryError>) -> Result<T, QueryError> {
        if let Err(e) = &r {
            if !e.is_missing_table() {
                self.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        r
    }
}

#[async_trait]
impl QueryPort for MeteredEngine {
    async fn query(&self, sql: &str) -> Result<RowSet, QueryError> {
        self.count(self.inner.query(sql).await)
    }

    async fn query_chunks(
        &self,
        sql: &str,
    ) -> Result<Box<dyn hyperbyte_ports::RowChunks>, QueryError> {
        self.count(self.inner.query_chunks(sql).await)
    }

    async fn query_chunks_in_background(
        &self,
        sql: &str,
    ) -> Result<Box<dyn hyperbyte_ports::RowChunks>, QueryError> {
        self.count(self.inner.query_chunks_in_background(sql).await)
    }

    async fn table_columns(
        &self,
        database: &str,
        rp: &str,
        measurement: &str,
    ) -> Result<Vec<String>, QueryError> {
        self.count(self.inner.table_columns(database, rp, measurement).await)
    }

    async fn leading_key_columns(
        &self,
        database: &str,
        rp: &str,
        measurement: &str,
    ) -> Result<Vec<String>, QueryError> {
        self.count(
            self.inner
                .leading_key_columns(database, rp, measurement)
                .await,
        )
    }

    async fn latest_time(
        &self,
        database: &str,
        rp: &str,
        measurement: &str,
        max: Option<i64>,
    ) -> Result<Option<i64>, QueryError> {
        self.count(self.inner.latest_time(database, rp, measurement, max).await)
    }

    async fn storage_stamp(&self) -> Result<Option<String>, QueryError> {
        self.count(self.inner.storage_stamp().await)
    }

    fn must_merge(
        &self,
        database: &str,
        rp: &str,
        measurement: &str,
        min: Option<i64>,
        max: Option<i64>,
    ) -> bool {
        self.inner.must_merge(database, rp, measurement, min, max)
    }
}
