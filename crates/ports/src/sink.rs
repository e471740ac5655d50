//! Storage ports: writing points into the columnar store, and administering what it holds.

use async_trait::async_trait;
use hyperbyte_domain::{ColumnBatch, MeasurementSchema, Point, PointRef, RetentionPolicy};
use std::fmt::Debug;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The engine answered with an error (`code` is ClickHouse's `Code: N`, 0 if unknown).
    #[error("storage engine error (code {code}): {message}")]
    Engine {
        /// Engine error code.
        code: i32,
        /// Engine message.
        message: String,
    },
    /// The batch cannot be stored (schema mismatch); never retried.
    #[error("invalid batch: {0}")]
    Invalid(String),
    /// The engine is short of a shared resource right now (memory, parts waiting for a
    /// merge): no fault of the batch or its table, and a later retry succeeds.
    #[error("storage busy: {0}")]
    Busy(String),
    /// Anything else.
    #[error("storage error: {0}")]
    Other(String),
}

/// Inserts points into per-measurement tables.
///
/// # Contract
///
/// - **Idempotence**: writing the same points twice reads back as once (the flush
///   re-writes a batch after a crash between storing it and truncating the WAL).
/// - **Overwrites**: a point with the series and time of a stored one merges field by
///   field: fields it carries replace the stored values, the others stay (InfluxDB).
/// - **Schema evolution**: `schema` may name fields and tag keys the table does not have
///   yet; the sink adds them (earlier rows read them as null).
/// - **Ordering and visibility**: once `write_views` returns, reads through the
///   [`QueryPort`](crate::QueryPort) of the same engine see the points.
/// - **Durability**: `sync` makes everything written so far durable; the flush truncates
///   the WAL only after it.
/// - **Concurrency**: `Send + Sync`; the flush service writes one batch at a time, but
///   queries and admin calls run meanwhile.
/// - **Errors**: [`SinkError::Invalid`] for a batch that can never be stored (never
///   retried; its table is set aside), [`SinkError::Busy`] when the engine as a whole is
///   short of memory or merges (retried; never held against the table),
///   [`SinkError::Engine`]/[`SinkError::Other`] for other failures worth a retry. A failed write may have stored part of the batch: the
///   idempotence above makes the retry safe.
///
/// ```
/// # use hyperbyte_ports::PointsSinkPort;
/// # use hyperbyte_domain::{MeasurementSchema, Point, RetentionPolicy};
/// # async fn doc(sink: &dyn PointsSinkPort, schema: &MeasurementSchema, points: &[Point])
/// #     -> Result<(), hyperbyte_ports::SinkError> {
/// sink.write_points("db", &RetentionPolicy::autogen(), "cpu", schema, points).await?;
/// sink.sync().await?; // now the WAL may forget these points
/// # Ok(()) }
/// ```
#[async_trait]
pub trait PointsSinkPort: Send + Sync + Debug {
    /// Writes points of one measurement, given as views (the flush builds them from WAL
    /// entries without copying names); `schema` holds every field and tag key they use.
    /// A view's `series_hash`, when set, is `hyperbyte_domain::series_hash` of its series.
    async fn write_views(
        &self,
        database: &str,
        rp: &RetentionPolicy,
        measurement: &str,
        schema: &MeasurementSchema,
        points: &[PointRef<'_>],
    ) -> Result<(), SinkError>;
    /// [`PointsSinkPort::write_views`] for owned points.
    async fn write_points(
        &self,
        database: &str,
        rp: &RetentionPolicy,
        measurement: &str,
        schema: &MeasurementSchema,
        points: &[Point],
    ) -> Result<(), SinkError> {
        let views: Vec<PointRef<'_>> = points.iter().map(PointRef::from_point).collect();
        self.write_views(database, rp, measurement, schema, &views)
            .await
    }
    /// [`PointsSinkPort::write_views`] for points laid out by column (what the flush
    /// sends: see [`ColumnBatch`]); the batch's schema is its columns. Same contract. The
    /// default turns the rows into views; columnar stores should copy the columns.
    async fn write_columns(
        &self,
        database: &str,
        rp: &RetentionPolicy,
        measurement: &str,
        batch: &ColumnBatch,
    ) -> Result<(), SinkError> {
        let views = batch.views(measurement);
        self.write_views(database, rp, measurement, &batch.schema(), &views)
            .await
    }
    /// Makes every write so far durable (survives power loss).
    async fn sync(&self) -> Result<(), SinkError>;
    /// Background upkeep that keeps reads cheap (for chDB: merging the versions of
    /// overwritten points). The flush service calls it after each round; a call does a
    /// bounded amount of work. The default does nothing.
    async fn maintain(&self) -> Result<(), SinkError> {
        Ok(())
    }
}

/// The rows of a measurement a [`StorageAdminPort::delete_points`] call removes (within
/// its time range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteRows<'a> {
    /// Every row.
    All,
    /// The rows of these series. A series is its tag set: `(key, value)` for every tag key
    /// the caller matches on, with `""` for a key the series does not carry (a row matches
    /// when each listed key has that value, a key storage never saw having `""` on every
    /// row). An empty list removes nothing.
    Series(&'a [Vec<(String, String)>]),
}

/// Drops and deletes in storage.
///
/// Every call is idempotent: dropping or deleting what does not exist succeeds (the query
/// service applies the metadata change first, then storage's, and may repeat the latter).
/// A call returns once the data is gone for readers. `Send + Sync`; may run concurrently
/// with writes and queries. Errors are [`SinkError`]s, answered 500.
#[async_trait]
pub trait StorageAdminPort: Send + Sync + Debug {
    /// Removes every table of a database.
    async fn drop_database(&self, database: &str) -> Result<(), SinkError>;
    /// Removes every table of a retention policy.
    async fn drop_retention_policy(&self, database: &str, rp: &str) -> Result<(), SinkError>;
    /// Removes a measurement in every retention policy.
    async fn drop_measurement(
        &self,
        database: &str,
        rps: &[String],
        measurement: &str,
    ) -> Result<(), SinkError>;
    /// Deletes the `rows` of a measurement within `[min_time, max_time]`, all of them in
    /// one call (a `DELETE` matching a thousand series is one call per policy, which
    /// storage may carry out as one operation).
    async fn delete_points(
        &self,
        database: &str,
        rp: &str,
        measurement: &str,
        rows: DeleteRows<'_>,
        min_time: i64,
        max_time: i64,
    ) -> Result<(), SinkError>;
    /// Drops whole time partitions of a policy that end before `cutoff` (nanoseconds).
    async fn drop_partitions_before(
        &self,
        database: &str,
        rp: &RetentionPolicy,
        measurements: &[String],
        cutoff: i64,
    ) -> Result<(), SinkError>;
}
