//! The metadata port: databases, retention policies, schemas, the series index, tombstones,
//! continuous queries and users.
//!
//! Changes are [`MetaCommand`]s applied in order (consensus can order them in cluster
//! mode); reads are synchronous and served from memory by implementations.

use async_trait::async_trait;
use hyperbyte_domain::{
    ContinuousQuery, Database, FieldType, MeasurementSchema, MetaCommand, Tombstone, User,
};
use std::collections::BTreeSet;
use std::fmt::Debug;

/// A metadata failure.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    /// The command is invalid against the current state (message for the user, InfluxDB
    /// wording, e.g. `retention policy not found: x`).
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error("metadata storage error: {0}")]
    Storage(String),
    /// The disk holding the store is full; nothing was changed, and a retry succeeds
    /// once space is freed.
    #[error("the disk holding the metadata is full ({0}); free space and retry")]
    NoSpace(String),
}

/// One entry of the series index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesEntry {
    /// Measurement.
    pub measurement: String,
    /// Canonical series key (`m,k=v`).
    pub key: String,
    /// Sorted tags.
    pub tags: Vec<(String, String)>,
}

/// Metadata store: the state of `hyperbyte-catalog`'s rules, changed only by commands.
///
/// # Contract
///
/// - **Ordering and visibility**: commands take effect in the order `apply` returns; a
///   read that starts after `apply` returned sees the change (read-your-writes). Reads
///   never see half a command.
/// - **Durability**: `apply` returns only once the change survives a restart; after a
///   restart every read answers as before it.
/// - **Rules**: what a command does, and which one is refused, is InfluxDB's behaviour as
///   implemented by `hyperbyte_catalog` (the in-memory `MemoryMetadata` is the reference);
///   a persistent store applies the catalog's changes rather than re-implementing them.
///   Creating what exists is idempotent (`CreateDatabase` twice is fine).
/// - **Concurrency**: `Send + Sync`; reads are synchronous, cheap and called from any
///   thread, also while an `apply` runs (serve them from memory). Commands may be applied
///   concurrently; the store serialises them. A dropped `apply` future leaves the command
///   either wholly applied or not at all.
/// - **Errors**: [`MetaError::Invalid`] for a command the rules refuse, with InfluxDB's
///   message, nothing changed; [`MetaError::NoSpace`] on a full disk, [`MetaError::Storage`]
///   for other failures, nothing changed either.
///
/// `hyperbyte_testkit::contract::metadata_contract` compares an implementation with the
/// reference, before and after a reopen.
///
/// ```
/// # use hyperbyte_ports::MetadataPort;
/// # use hyperbyte_domain::MetaCommand;
/// # async fn doc(meta: &dyn MetadataPort) -> Result<(), hyperbyte_ports::MetaError> {
/// meta.apply(MetaCommand::CreateDatabase { name: "db".into(), default_rp: None }).await?;
/// assert!(meta.database("db").is_some()); // visible once apply returned
/// # Ok(()) }
/// ```
#[async_trait]
pub trait MetadataPort: Send + Sync + Debug {
    /// Applies one command durably; readers see it once this returns.
    async fn apply(&self, cmd: MetaCommand) -> Result<(), MetaError>;

    /// All databases, sorted by creation.
    fn databases(&self) -> Vec<Database>;
    /// One database.
    fn database(&self, name: &str) -> Option<Database>;
    /// Measurement names of a database that show up (they have series), sorted.
    fn measurements(&self, database: &str) -> Vec<String>;
    /// Every measurement of a database with a schema, sorted: those that show up, those
    /// whose series were all dropped (kept for their field types), and, in cluster mode,
    /// those whose schema arrived before this member stored any of their points. Storage
    /// may hold a table for each (override when they differ from [`Self::measurements`]).
    fn measurements_with_schema(&self, database: &str) -> Vec<String> {
        self.measurements(database)
    }
    /// A measurement's schema.
    fn schema(&self, database: &str, measurement: &str) -> Option<MeasurementSchema>;
    /// The type `field` took in one shard group of a retention policy, if it was written
    /// there (see [`hyperbyte_domain::FieldShardType`]).
    fn field_shard_type(
        &self,
        database: &str,
        measurement: &str,
        field: &str,
        retention_policy: &str,
        shard_start: i64,
    ) -> Option<FieldType>;
    /// The types `field` took in the shard groups of a retention policy that start
    /// within `[first_start, last_start]`: the types a query over that range meets
    /// (InfluxDB reads a field by the highest-ranked of them). `None`: this store keeps
    /// no types per shard group, and the caller assumes every type of the schema.
    fn field_types_in_shard_groups(
        &self,
        database: &str,
        measurement: &str,
        field: &str,
        retention_policy: &str,
        (first_start, last_start): (i64, i64),
    ) -> Option<BTreeSet<FieldType>> {
        let _ = (database, measurement, field, retention_policy);
        let _ = (first_start, last_start);
        None
    }
    /// Whether `field` has a type recorded in some shard group of a retention policy: a
    /// field InfluxDB lists in that policy's `SELECT *` even when no point carrying it was
    /// stored (a point dropped for a type conflict creates the fields met before the
    /// conflict). The default says no: `SELECT *` then lists the fields storage holds.
    fn field_in_retention_policy(
        &self,
        database: &str,
        measurement: &str,
        field: &str,
        retention_policy: &str,
    ) -> bool {
        let _ = (database, measurement, field, retention_policy);
        false
    }
    /// Whether a write reached shard group `shard_start` of a retention policy (some field
    /// has a type recorded there; see [`field_shard_type`](Self::field_shard_type)). InfluxDB
    /// answers a field given two types inside one request differently once the shard group
    /// exists. The default says no.
    fn shard_group_written(
        &self,
        database: &str,
        retention_policy: &str,
        shard_start: i64,
    ) -> bool {
        let _ = (database, retention_policy, shard_start);
        false
    }
    /// Live shard groups of every database, by id (`SHOW SHARDS`). The default: a store
    /// that keeps no shard groups lists none.
    fn shard_groups(&self) -> Vec<hyperbyte_domain::ShardGroup> {
        Vec::new()
    }
    /// The span `(start, end)` of the live shard group of a retention policy holding
    /// `time` (the ingest path creates the groups its points need,
    /// [`MetaCommand::CreateShardGroups`]). The default: a store that keeps no shard
    /// groups answers one group holding all of time, so it is never asked to create one.
    fn shard_group_span(
        &self,
        database: &str,
        retention_policy: &str,
        time: i64,
    ) -> Option<(i64, i64)> {
        let _ = (database, retention_policy, time);
        Some((i64::MIN, i64::MAX))
    }
    /// Series of a database, optionally of one measurement, sorted by key.
    fn series(&self, database: &str, measurement: Option<&str>) -> Vec<SeriesEntry>;
    /// Whether a series key is already indexed.
    fn has_series(&self, database: &str, key: &str) -> bool;
    /// Number of series in a database.
    fn series_count(&self, database: &str) -> usize;
    /// Distinct values of a tag key in a measurement, sorted.
    fn tag_values(&self, database: &str, measurement: &str, key: &str) -> Vec<String>;
    /// Number of distinct values of a tag key (override for speed: the ingest path calls it
    /// for every new series when a values-per-tag limit is set).
    fn tag_value_count(&self, database: &str, measurement: &str, key: &str) -> usize {
        self.tag_values(database, measurement, key).len()
    }
    /// Whether a tag value is indexed (override for speed).
    fn has_tag_value(&self, database: &str, measurement: &str, key: &str, value: &str) -> bool {
        self.tag_values(database, measurement, key)
            .binary_search_by(|v| v.as_str().cmp(value))
            .is_ok()
    }
    /// Visits the series of a database (of one measurement when `measurement` is given)
    /// in key order, as [`series`](Self::series) lists them, without materialising the
    /// list; stops as soon as `f` returns `false`. The entry passed to `f` is only valid
    /// during the call (implementations may reuse it). `f` must not call back into the
    /// store (implementations may hold a read lock while visiting).
    fn for_each_series(
        &self,
        database: &str,
        measurement: Option<&str>,
        f: &mut dyn FnMut(&SeriesEntry) -> bool,
    ) {
        for se in self.series(database, measurement) {
            if !f(&se) {
                break;
            }
        }
    }
    /// Number of series of one measurement (override for speed).
    fn series_count_in(&self, database: &str, measurement: &str) -> usize {
        self.series(database, Some(measurement)).len()
    }
    /// Series of a measurement that carry tag `key` with value `value`, sorted by key
    /// (override to serve it from a per-tag-value index).
    fn series_with_tag(
        &self,
        database: &str,
        measurement: &str,
        key: &str,
        value: &str,
    ) -> Vec<SeriesEntry> {
        self.series(database, Some(measurement))
            .into_iter()
            .filter(|se| se.tags.iter().any(|(k, v)| k == key && v == value))
            .collect()
    }
    /// Visits, in key order, the series of a measurement that carry tag `key` with value
    /// `value`, until `f` returns false (override to walk a per-tag-value index without
    /// materialising the list). Same contract for `f` as
    /// [`for_each_series`](Self::for_each_series).
    fn for_each_series_with_tag(
        &self,
        database: &str,
        measurement: &str,
        key: &str,
        value: &str,
        f: &mut dyn FnMut(&SeriesEntry) -> bool,
    ) {
        for se in self.series_with_tag(database, measurement, key, value) {
            if !f(&se) {
                break;
            }
        }
    }
    /// Number of series of a measurement that carry tag `key` with value `value`
    /// (override for speed: used to pick the most selective index for a condition).
    fn tag_value_series_count(
        &self,
        database: &str,
        measurement: &str,
        key: &str,
        value: &str,
    ) -> usize {
        self.series_with_tag(database, measurement, key, value)
            .len()
    }
    /// Tag keys carried by at least one series of a measurement, sorted (override for
    /// speed).
    fn tag_keys(&self, database: &str, measurement: &str) -> Vec<String> {
        let mut keys: Vec<String> = self
            .series(database, Some(measurement))
            .into_iter()
            .flat_map(|se| se.tags.into_iter().map(|(k, _)| k))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }
    /// Tombstones of a database.
    fn tombstones(&self, database: &str) -> Vec<Tombstone>;
    /// Every continuous query.
    fn continuous_queries(&self) -> Vec<ContinuousQuery>;
    /// Every user.
    fn users(&self) -> Vec<User>;
}
