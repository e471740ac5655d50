//! [`Change`]: what a command does to the stored records, as an adapter persists it.

use hyperbyte_domain::{
    ContinuousQuery, Database, FieldShardType, MeasurementSchema, ShardGroup, Tombstone, User,
};

/// Tags of a series, sorted by key.
pub type Tags = Vec<(String, String)>;

/// One entity-level mutation of the persisted metadata, planned by
/// [`Catalog::plan`](crate::Catalog::plan) and installed by
/// [`Catalog::commit`](crate::Catalog::commit).
///
/// An adapter maps each change to its storage (all changes of one command in one atomic
/// write) and restores a catalog from the records with the `Catalog::restore_*` methods:
/// a `Put*` change is exactly a record to store, a `Delete*` names records to remove. The
/// changes of a command are listed in a deterministic order.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Create or replace a database record (its retention policies and default).
    PutDatabase {
        /// Creation order (databases are listed in it).
        order: u64,
        /// The record.
        database: Database,
    },
    /// Delete a database record and every measurement of it: schemas, per-shard field
    /// types and series. Its continuous queries and tombstones are deleted by their own
    /// changes, listed after this one.
    DeleteDatabase {
        /// Database name.
        name: String,
    },
    /// Create or replace a measurement's schema (`other_types` is derived: adapters store
    /// the record as serialised, where it is skipped).
    PutSchema {
        /// Database name.
        database: String,
        /// Measurement name.
        measurement: String,
        /// The schema.
        schema: MeasurementSchema,
    },
    /// Delete a measurement: its schema, per-shard field types and series.
    DeleteMeasurement {
        /// Database name.
        database: String,
        /// Measurement name.
        measurement: String,
    },
    /// Record the type of fields in shard groups (one record per entry).
    PutFieldShardTypes {
        /// Database name.
        database: String,
        /// Measurement name.
        measurement: String,
        /// The records.
        entries: Vec<FieldShardType>,
    },
    /// Delete per-shard field types of a retention policy of a database (all of them for
    /// a dropped policy, a group's span for `DROP SHARD`); `records` lists them as
    /// `(measurement, field, shard group start)`, sorted.
    DeleteFieldShardTypes {
        /// Database name.
        database: String,
        /// Retention policy name.
        retention_policy: String,
        /// The records to delete.
        records: Vec<(String, String, i64)>,
    },
    /// Add series to the index: canonical key and tags, the tags `None` when they parse
    /// back from the key (the usual case: adapters may then store nothing beside it).
    PutSeries {
        /// Database name.
        database: String,
        /// Measurement name.
        measurement: String,
        /// New series, in command order, without duplicates.
        series: Vec<(String, Option<Tags>)>,
    },
    /// Remove series of a measurement that keeps other series.
    DeleteSeries {
        /// Database name.
        database: String,
        /// Measurement name.
        measurement: String,
        /// Keys of indexed series, in command order, without duplicates.
        keys: Vec<String>,
    },
    /// Create or replace a shard group record (keyed by its id; a deleted group keeps its
    /// record with `deleted` set).
    PutShardGroup(ShardGroup),
    /// Create or replace a tombstone (keyed by its id).
    PutTombstone(Tombstone),
    /// Delete a tombstone.
    DeleteTombstone {
        /// Tombstone id.
        id: u64,
    },
    /// Store a continuous query (keyed by database and name).
    PutContinuousQuery {
        /// Creation order.
        order: u64,
        /// The record.
        query: ContinuousQuery,
    },
    /// Delete a continuous query.
    DeleteContinuousQuery {
        /// Database name.
        database: String,
        /// CQ name.
        name: String,
    },
    /// Create or replace a user (keyed by name).
    PutUser {
        /// Creation order (kept when a user is replaced).
        order: u64,
        /// The record.
        user: User,
    },
    /// Delete a user.
    DeleteUser {
        /// User name.
        name: String,
    },
}
