//! A storage administrator that records what it was asked to do.

use async_trait::async_trait;
use hyperbyte_domain::RetentionPolicy;
use hyperbyte_ports::{DeleteRows, SinkError, StorageAdminPort};
use parking_lot::Mutex;

/// One call a [`RecordingAdmin`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminCall {
    /// `drop_database(database)`.
    DropDatabase(String),
    /// `drop_retention_policy(database, rp)`.
    DropRetentionPolicy(String, String),
    /// `drop_measurement(database, rps, measurement)`.
    DropMeasurement(String, Vec<String>, String),
    /// `delete_points(database, rp, measurement, rows, min, max)`.
    DeletePoints {
        /// Database.
        database: String,
        /// Retention policy.
        rp: String,
        /// Measurement.
        measurement: String,
        /// The series' tag sets; `None` for every row.
        series: Option<Vec<Vec<(String, String)>>>,
        /// Lower time bound.
        min_time: i64,
        /// Upper time bound.
        max_time: i64,
    },
    /// `drop_partitions_before(database, rp, measurements, cutoff)`.
    DropPartitionsBefore(String, String, Vec<String>, i64),
}

/// A [`StorageAdminPort`] that records its calls and always succeeds.
#[derive(Debug, Default)]
pub struct RecordingAdmin {
    calls: Mutex<Vec<AdminCall>>,
}

impl RecordingAdmin {
    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<AdminCall> {
        self.calls.lock().clone()
    }

    fn record(&self, call: AdminCall) -> Result<(), SinkError> {
        self.calls.lock().push(call);
        Ok(())
    }
}

#[async_trait]
impl StorageAdminPort for RecordingAdmin {
    async fn drop_database(&self, database: &str) -> Result<(), SinkError> {
        self.record(AdminCall::DropDatabase(database.to_string()))
    }

    async fn drop_retention_policy(&self, database: &str, rp: &str) -> Result<(), SinkError> {
        self.record(AdminCall::DropRetentionPolicy(
            database.to_string(),
            rp.to_string(),
        ))
    }

    async fn drop_measurement(
        &self,
        database: &str,
        rps: &[String],
        measurement: &str,
    ) -> Result<(), SinkError> {
        self.record(AdminCall::DropMeasurement(
            database.to_string(),
            rps.to_vec(),
            measurement.to_string(),
        ))
    }

    async fn delete_points(
        &self,
        database: &str,
        rp: &str,
        measurement: &str,
        rows: DeleteRows<'_>,
        min_time: i64,
        max_time: i64,
    ) -> Result<(), SinkError> {
        self.record(AdminCall::DeletePoints {
            database: database.to_string(),
            rp: rp.to_string(),
            measurement: measurement.to_string(),
            series: match rows {
                DeleteRows::All => None,
                DeleteRows::Series(s) => Some(s.to_vec()),
            },
            min_time,
            max_time,
        })
    }

    async fn drop_partitions_before(
        &self,
        database: &str,
        rp: &RetentionPolicy,
        measurements: &[String],
        cutoff: i64,
    ) -> Result<(), SinkError> {
        self.record(AdminCall::DropPartitionsBefore(
            database.to_string(),
            rp.name.clone(),
            measurements.to_vec(),
            cutoff,
        ))
    }
}
