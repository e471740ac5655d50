//! The decorator that keeps the tier true: [`HotAdmin`] forgets the tier's rows of
//! whatever storage removes (the tier is fed by [`super::TierFeed`]).

use super::HotTier;
use hyperbyte_domain::RetentionPolicy;
use hyperbyte_ports::{SinkError, StorageAdminPort};
use std::sync::Arc;

/// Storage administration that keeps the tier's coverage true: whatever removes stored
/// data forgets the tier's rows of the tables concerned, before the removal.
#[derive(Debug)]
pub struct HotAdmin {
    inner: Arc<dyn StorageAdminPort>,
    tier: Arc<HotTier>,
}

impl HotAdmin {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn StorageAdminPort>, tier: Arc<HotTier>) -> Self {
        HotAdmin { inner, tier }
    }
}

#[async_trait::async_trait]
impl StorageAdminPort for HotAdmin {
    async fn drop_database(&self, database: &str) -> Result<(), SinkError> {
        let _removing = self.tier.removing();
        self.tier.invalidate(|id| id.0 == database);
        self.inner.drop_database(database).await
    }

    async fn drop_retention_policy(&self, database: &str, rp: &str) -> Result<(), SinkError> {
        let _removing = self.tier.removing();
        self.tier.invalidate(|id| id.0 == database && id.1 == rp);
        self.inner.drop_retention_policy(database, rp).await
    }

    async fn drop_measurement(
        &self,
        database: &str,
        rps: &[String],
        measurement: &str,
    ) -> Result<(), SinkError> {
        let _removing = self.tier.removing();
        self.tier
            .invalidate(|id| id.0 == database && id.2 == measurement && rps.contains(&id.1));
        self.inner
            .drop_measurement(database, rps, measurement)
            .await
    }

    async fn delete_points(
        &self,
        database: &str,
        rp: &str,
        measurement: &str,
        rows: hyperbyte_ports::DeleteRows<'_>,
        min_time: i64,
        max_time: i64,
    ) -> Result<(), SinkError> {
        let _removing = self.tier.removing();
        self.tier
            .invalidate(|id| id.0 == database && id.1 == rp && id.2 == measurement);
        self.inner
            .delete_points(database, rp, measurement, rows, min_time, max_time)
            .await
    }

    async fn drop_partitions_before(
        &self,
        database: &str,
        rp: &RetentionPolicy,
        measurements: &[String],
        cutoff: i64,
    ) -> Result<(), SinkError> {
        let _removing = self.tier.removing();
        self.tier.forget_before(
            |id| id.0 == database && id.1 == rp.name && measurements.contains(&id.2),
            cutoff,
        );
        self.inner
            .drop_partitions_before(database, rp, measurements, cutoff)
            .await
    }
}
