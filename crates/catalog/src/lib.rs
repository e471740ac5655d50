//! HyperbyteDB's metadata catalog: InfluxDB 1.6's metadata rules as a pure, replayable
//! state machine.
//!
//! A [`Catalog`] holds everything the metadata port serves (databases and retention
//! policies, measurement schemas and per-shard field types, the series index with its
//! posting lists, tombstones, continuous queries, users, the creation-order counter) and
//! owns the rules: validation with InfluxDB's error texts, shard duration normalisation,
//! drop cascades. Applying a [`MetaCommand`] is split in two so that a store can persist
//! before readers see anything:
//!
//! 1. [`Catalog::plan`] (`&self`) checks the command and returns the [`Change`]s it makes
//!    to the stored records (nothing when it is a no-op), or the error InfluxDB answers;
//! 2. the store writes the changes durably, then [`Catalog::commit`] installs them.
//!
//! [`Catalog::apply`] does both at once (for stores without a durable step, and for a
//! consensus state machine replaying its log). Everything is deterministic: the same
//! catalog given the same command plans the same changes and reaches the same state, so
//! replicas replaying one command log agree. A catalog is restored from stored records
//! with the `restore_*` methods; [`MemoryMetadata`] is the in-memory `MetadataPort` built
//! on it (the fake for tests).
//!
//! No I/O, no clock, no randomness reaches a planned change.

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod change;
mod delegate;
mod index;
mod memory;
mod plan;
mod read;
mod rules;
mod shards;
mod users;

pub use change::{Change, Tags};
pub use memory::MemoryMetadata;

// For `metadata_reads_from_catalog!`, which names their types from other crates.
#[doc(hidden)]
pub use hyperbyte_domain as __domain;
#[doc(hidden)]
pub use hyperbyte_ports as __ports;

use hyperbyte_domain::{
    ContinuousQuery, Database, FieldType, MeasurementSchema, MetaCommand, Tombstone, User,
};
use hyperbyte_ports::MetaError;
use index::DbState;
use std::collections::{BTreeMap, HashMap};

/// The metadata state and its rules. See the crate documentation.
#[derive(Default)]
pub struct Catalog {
    dbs: HashMap<String, DbState>,
    /// Creation counter shared by databases, continuous queries and users.
    next_order: u64,
    tombstones: BTreeMap<u64, Tombstone>,
    cqs: HashMap<(String, String), (u64, ContinuousQuery)>,
    users: HashMap<String, (u64, User)>,
    shard_groups: shards::ShardGroups,
}

impl std::fmt::Debug for Catalog {
    /// A summary: the series index is sized for a million series.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("databases", &self.dbs.len())
            .field(
                "series",
                &self.dbs.values().map(DbState::series_count).sum::<usize>(),
            )
            .field("tombstones", &self.tombstones.len())
            .field("continuous_queries", &self.cqs.len())
            .field("users", &self.users.len())
            .field("next_order", &self.next_order)
            .finish()
    }
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Catalog::default()
    }

    /// Number of databases.
    pub fn database_count(&self) -> usize {
        self.dbs.len()
    }

    /// Checks `cmd` against the current state and plans its changes, in InfluxDB 1.6's
    /// semantics. An empty list means the command changes nothing (idempotent repeats,
    /// drops of missing things). The plan is only valid for this state: commit it before
    /// planning anything else.
    pub fn plan(&self, cmd: MetaCommand) -> Result<Vec<Change>, MetaError> {
        plan::plan(self, cmd)
    }

    /// Installs changes planned by [`plan`](Self::plan) against the current state.
    pub fn commit(&mut self, changes: &[Change]) {
        for c in changes {
            self.commit_one(c);
        }
    }

    /// [`plan`](Self::plan) then [`commit`](Self::commit); returns the changes made.
    pub fn apply(&mut self, cmd: MetaCommand) -> Result<Vec<Change>, MetaError> {
        let changes = self.plan(cmd)?;
        self.commit(&changes);
        Ok(changes)
    }

    fn commit_one(&mut self, change: &Change) {
        match change {
            Change::PutDatabase { order, database } => {
                self.restore_database(*order, database.clone());
            }
            Change::DeleteDatabase { name } => {
                self.dbs.remove(name);
            }
            Change::PutSchema {
                database,
                measurement,
                schema,
            } => self.restore_schema(database, measurement, schema.clone()),
            Change::DeleteMeasurement {
                database,
                measurement,
            } => {
                if let Some(d) = self.dbs.get_mut(database) {
                    d.remove_measurement(measurement);
                }
            }
            Change::PutFieldShardTypes {
                database,
                measurement,
                entries,
            } => {
                if let Some(d) = self.dbs.get_mut(database) {
                    let m = d.measurement_mut(measurement);
                    for e in entries {
                        m.record_field_shard(
                            &e.field,
                            &e.retention_policy,
                            e.shard_start,
                            e.field_type,
                        );
                    }
                }
            }
            Change::DeleteFieldShardTypes {
                database,
                retention_policy,
                records,
            } => {
                if let Some(d) = self.dbs.get_mut(database) {
                    for (m, field, start) in records {
                        if let Some(ms) = d.measurements.get_mut(m) {
                            ms.forget_field_shard(field, retention_policy, *start);
                        }
                    }
                    for m in d.measurements.values_mut() {
                        m.recompute_other_types();
                    }
                }
            }
            Change::PutSeries {
                database,
                measurement,
                series,
            } => {
                if let Some(d) = self.dbs.get_mut(database) {
                    for (key, tags) in series {
                        let tags = tags.as_ref().map(|t| t.clone().into_boxed_slice());
                        d.add_series(measurement, key, tags);
                    }
                }
            }
            Change::DeleteSeries {
                database,
                measurement,
                keys,
            } => {
                if let Some(d) = self.dbs.get_mut(database) {
                    for key in keys {
                        d.remove_series(measurement, key);
                    }
                }
            }
            Change::PutShardGroup(g) => self.restore_shard_group(g.clone()),
            Change::PutTombstone(t) => self.restore_tombstone(t.clone()),
            Change::DeleteTombstone { id } => {
                self.tombstones.remove(id);
            }
            Change::PutContinuousQuery { order, query } => {
                self.restore_continuous_query(*order, query.clone());
            }
            Change::DeleteContinuousQuery { database, name } => {
                self.cqs.remove(&(database.clone(), name.clone()));
            }
            Change::PutUser { order, user } => self.restore_user(*order, user.clone()),
            Change::DeleteUser { name } => {
                self.users.remove(name);
            }
        }
    }

    fn see_order(&mut self, order: u64) {
        self.next_order = self.next_order.max(order.saturating_add(1));
    }

    // Restoring from stored records. A store loads its records kind by kind in this order:
    // databases, schemas, per-shard field types, series, tombstones, continuous queries,
    // users, shard groups (records of a database that is not loaded are ignored; schemas must precede
    // field types, from which the schemas' `other_types` are derived). `commit` goes
    // through the same methods, so a restored catalog equals the one that wrote the
    // records.

    /// Restores (or replaces) a database record.
    pub fn restore_database(&mut self, order: u64, database: Database) {
        self.see_order(order);
        match self.dbs.get_mut(&database.name) {
            Some(d) => d.db = database,
            None => {
                self.dbs
                    .insert(database.name.clone(), DbState::new(order, database));
            }
        }
    }

    /// Restores a measurement's schema.
    pub fn restore_schema(&mut self, database: &str, measurement: &str, schema: MeasurementSchema) {
        if let Some(d) = self.dbs.get_mut(database) {
            d.measurement_mut(measurement).schema = Some(schema);
        }
    }

    /// Restores the type of a field in one shard group of a retention policy.
    pub fn restore_field_shard_type(
        &mut self,
        database: &str,
        measurement: &str,
        field: &str,
        retention_policy: &str,
        shard_start: i64,
        field_type: FieldType,
    ) {
        if let Some(d) = self.dbs.get_mut(database) {
            d.measurement_mut(measurement).record_field_shard(
                field,
                retention_policy,
                shard_start,
                field_type,
            );
        }
    }

    /// Restores one series (`tags` `None`: they parse back from the key, see
    /// [`Change::PutSeries`]).
    pub fn restore_series(
        &mut self,
        database: &str,
        measurement: &str,
        key: &str,
        tags: Option<Vec<(String, String)>>,
    ) {
        if let Some(d) = self.dbs.get_mut(database) {
            d.add_series(measurement, key, tags.map(Vec::into_boxed_slice));
        }
    }

    /// Restores a tombstone.
    pub fn restore_tombstone(&mut self, tombstone: Tombstone) {
        self.tombstones.insert(tombstone.id, tombstone);
    }

    /// Restores a continuous query.
    pub fn restore_continuous_query(&mut self, order: u64, query: ContinuousQuery) {
        self.see_order(order);
        self.cqs
            .insert((query.database.clone(), query.name.clone()), (order, query));
    }

    /// Restores a user.
    pub fn restore_user(&mut self, order: u64, user: User) {
        self.see_order(order);
        self.users.insert(user.name.clone(), (order, user));
    }
}
