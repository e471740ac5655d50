//! [`ClusterMetadata`]: the metadata port of a cluster member. Reads are this node's
//! store (every member applies the same commands in the same order); a cluster-wide
//! change goes through the consensus ([`ClusterNode::propose`]) and returns once applied
//! here, so a read after it sees it; per-node changes (the series index, tombstones) go
//! straight to the local store.

use crate::node::ClusterNode;
use async_trait::async_trait;
use hyperbyte_domain::{
    ContinuousQuery, Database, FieldType, MeasurementSchema, MetaCommand, Tombstone, User,
};
use hyperbyte_ports::{MetaError, MetadataPort, SeriesEntry};
use std::sync::Arc;

/// The metadata of a cluster member.
#[derive(Debug)]
pub struct ClusterMetadata {
    local: Arc<dyn MetadataPort>,
    node: Arc<ClusterNode>,
}

impl ClusterMetadata {
    /// Reads from `local`, orders cluster-wide changes through `node`.
    pub fn new(local: Arc<dyn MetadataPort>, node: Arc<ClusterNode>) -> Self {
        ClusterMetadata { local, node }
    }
}

#[async_trait]
impl MetadataPort for ClusterMetadata {
    async fn apply(&self, cmd: MetaCommand) -> Result<(), MetaError> {
        if cmd.is_cluster_wide() {
            self.node.propose(cmd).await
        } else {
            self.local.apply(cmd).await
        }
    }

    fn databases(&self) -> Vec<Database> {
        self.local.databases()
    }
    fn database(&self, name: &str) -> Option<Database> {
        self.local.database(name)
    }
    fn measurements(&self, database: &str) -> Vec<String> {
        self.local.measurements(database)
    }
    fn schema(&self, database: &str, measurement: &str) -> Option<MeasurementSchema> {
        self.local.schema(database, measurement)
    }
    fn field_shard_type(
        &self,
        database: &str,
        measurement: &str,
        field: &str,
        retention_policy: &str,
        shard_start: i64,
    ) -> Option<FieldType> {
        self.local
            .field_shard_type(database, measurement, field, retention_policy, shard_start)
    }
    fn field_in_retention_policy(
        &self,
        database: &str,
        measurement: &str,
        field: &str,
        retention_policy: &str,
    ) -> bool {
        self.local
            .field_in_retention_policy(database, measurement, field, retention_policy)
    }
    fn shard_group_written(
        &self,
        database: &str,
        retention_policy: &str,
        shard_start: i64,
    ) -> bool {
        self.local
            .shard_group_written(database, retention_policy, shard_start)
    }
    fn series(&self, database: &str, measurement: Option<&str>) -> Vec<SeriesEntry> {
        self.local.series(database, measurement)
    }
    fn has_series(&self, database: &str, key: &str) -> bool {
        self.local.has_series(database, key)
    }
    fn series_count(&self, database: &str) -> usize {
        self.local.series_count(database)
    }
    fn tag_values(&self, database: &str, measurement: &str, key: &str) -> Vec<String> {
        self.local.tag_values(database, measurement, key)
    }
    fn tag_value_count(&self, database: &str, measurement: &str, key: &str) -> usize {
        self.local.tag_value_count(database, measurement, key)
    }
    fn has_tag_value(&self, database: &str, measurement: &str, key: &str, value: &str) -> bool {
        self.local.has_tag_value(database, measurement, key, value)
    }
    fn for_each_series(
        &self,
        database: &str,
        measurement: Option<&str>,
        f: &mut dyn FnMut(&SeriesEntry) -> bool,
    ) {
        self.local.for_each_series(database, measurement, f)
    }
    fn series_count_in(&self, database: &str, measurement: &str) -> usize {
        self.local.series_count_in(database, measurement)
    }
    fn series_with_tag(
        &self,
        database: &str,
        measurement: &str,
        key: &str,
        value: &str,
    ) -> Vec<SeriesEntry> {
        self.local
            .series_with_tag(database, measurement, key, value)
    }
    fn for_each_series_with_tag(
        &self,
        database: &str,
        measurement: &str,
        key: &str,
        value: &str,
        f: &mut dyn FnMut(&SeriesEntry) -> bool,
    ) {
        self.local
            .for_each_series_with_tag(database, measurement, key, value, f)
    }
    fn tag_value_series_count(
        &self,
        database: &str,
        measurement: &str,
        key: &str,
        value: &str,
    ) -> usize {
        self.local
            .tag_value_series_count(database, measurement, key, value)
    }
    fn tag_keys(&self, database: &str, measurement: &str) -> Vec<String> {
        self.local.tag_keys(database, measurement)
    }
    fn tombstones(&self, database: &str) -> Vec<Tombstone> {
        self.local.tombstones(database)
    }
    fn continuous_queries(&self) -> Vec<ContinuousQuery> {
        self.local.continuous_queries()
    }
    fn users(&self) -> Vec<User> {
        self.local.users()
    }
}
