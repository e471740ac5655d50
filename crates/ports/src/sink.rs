//! Storage ports: writing points into the columnar store, and administering what it holds.

use async_trait::async_trait;
use hyperbyte_domain::{MeasurementSchema, Point, PointRef, RetentionPolicy};
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
    /// Anything else.
    #[error("storage error: {0}")]
    Other(String),
}

/// Inserts points into per-measurement tables.
///
/// Guarantees: `write_points` is idempotent with respect to InfluxDB semantics (writing
/// the same points twice reads back as once); a point with the series and time of a stored
/// one merges field by field; `sync` makes everything written so far durable.
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
    /// Makes every write so far durable (survives power loss).
    async fn sync(&self) -> Result<(), SinkError>;
    /// Background upkeep that keeps reads cheap (for chDB: merging the versions of
    /// overwritten points). The flush service calls it after each round; a call does a
    /// bounded amount of work. The default does nothing.
    async fn maintain(&self) -> Result<(), SinkError> {
        Ok(())
    }
}

/// Drops and deletes in storage.
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
    /// Deletes rows of a measurement matching tag equalities within `[min, max]`.
    async fn delete_points(
        &self,
        database: &str,
        rp: &str,
        measurement: &str,
        tag_predicate: &[(String, String)],
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
