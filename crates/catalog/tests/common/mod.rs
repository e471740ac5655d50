//! A model of a durable store: the records a [`Change`] list leaves, kept in ordered maps,
//! and a catalog restored from them in the documented order. `Meta` is the in-memory port
//! plus that record store, so tests can "reopen" it as a persistent adapter would.
#![allow(dead_code)]

use hyperbyte_catalog::{Catalog, Change, MemoryMetadata};
use hyperbyte_domain::{
    ContinuousQuery, Database, FieldType, MeasurementSchema, MetaCommand, ShardGroup, Tombstone,
    User,
};
use hyperbyte_ports::MetaError;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Deref;

type Tags = Option<Vec<(String, String)>>;

/// Stored records, keyed as a store would key them.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Records {
    pub dbs: BTreeMap<String, (u64, Database)>,
    pub schemas: BTreeMap<(String, String), MeasurementSchema>,
    pub field_types: BTreeMap<(String, String, String, String, i64), FieldType>,
    pub series: BTreeMap<(String, String, String), Tags>,
    pub tombstones: BTreeMap<u64, Tombstone>,
    pub cqs: BTreeMap<(String, String), (u64, ContinuousQuery)>,
    pub users: BTreeMap<String, (u64, User)>,
    pub shard_groups: BTreeMap<u64, ShardGroup>,
}

impl Records {
    /// Persists changes.
    pub(crate) fn store(&mut self, changes: &[Change]) {
        for c in changes {
            self.store_one(c);
        }
    }

    fn store_one(&mut self, c: &Change) {
        match c.clone() {
            Change::PutDatabase { order, database } => {
                self.dbs.insert(database.name.clone(), (order, database));
            }
            Change::DeleteDatabase { name } => {
                self.dbs.remove(&name);
                self.schemas.retain(|k, _| k.0 != name);
                self.field_types.retain(|k, _| k.0 != name);
                self.series.retain(|k, _| k.0 != name);
            }
            Change::PutSchema {
                database,
                measurement,
                mut schema,
            } => {
                // Derived, not stored.
                schema.other_types.clear();
                self.schemas.insert((database, measurement), schema);
            }
            Change::DeleteMeasurement {
                database,
                measurement,
            } => {
                let same = |d: &String, m: &String| *d == database && *m == measurement;
                self.schemas.retain(|k, _| !same(&k.0, &k.1));
                self.field_types.retain(|k, _| !same(&k.0, &k.1));
                self.series.retain(|k, _| !same(&k.0, &k.1));
            }
            Change::PutFieldShardTypes {
                database,
                measurement,
                entries,
            } => {
                for e in entries {
                    let k = (
                        database.clone(),
                        measurement.clone(),
                        e.field,
                        e.retention_policy,
                        e.shard_start,
                    );
                    self.field_types.insert(k, e.field_type);
                }
            }
            Change::DeleteFieldShardTypes {
                database,
                retention_policy,
                records,
            } => {
                for (m, f, start) in records {
                    let k = (database.clone(), m, f, retention_policy.clone(), start);
                    assert!(self.field_types.remove(&k).is_some(), "{k:?} not stored");
                }
            }
            Change::PutSeries {
                database,
                measurement,
                series,
            } => {
                for (key, tags) in series {
                    let k = (database.clone(), measurement.clone(), key);
                    assert!(self.series.insert(k, tags).is_none(), "series put twice");
                }
            }
            Change::DeleteSeries {
                database,
                measurement,
                keys,
            } => {
                for key in keys {
                    let k = (database.clone(), measurement.clone(), key);
                    assert!(self.series.remove(&k).is_some(), "{k:?} not stored");
                }
            }
            Change::PutShardGroup(g) => {
                self.shard_groups.insert(g.id, g);
            }
            Change::PutTombstone(t) => {
                self.tombstones.insert(t.id, t);
            }
            Change::DeleteTombstone { id } => {
                self.tombstones.remove(&id);
            }
            Change::PutContinuousQuery { order, query } => {
                self.cqs
                    .insert((query.database.clone(), query.name.clone()), (order, query));
            }
            Change::DeleteContinuousQuery { database, name } => {
                self.cqs.remove(&(database, name));
            }
            Change::PutUser { order, user } => {
                self.users.insert(user.name.clone(), (order, user));
            }
            Change::DeleteUser { name } => {
                self.users.remove(&name);
            }
        }
    }

    /// A catalog restored from the records, kind by kind in the documented order.
    pub(crate) fn restore(&self) -> Catalog {
        let mut c = Catalog::new();
        for (order, db) in self.dbs.values() {
            c.restore_database(*order, db.clone());
        }
        for ((db, m), s) in &self.schemas {
            c.restore_schema(db, m, s.clone());
        }
        for ((db, m, f, rp, start), t) in &self.field_types {
            c.restore_field_shard_type(db, m, f, rp, *start, *t);
        }
        for ((db, m, key), tags) in &self.series {
            c.restore_series(db, m, key, tags.clone());
        }
        for t in self.tombstones.values() {
            c.restore_tombstone(t.clone());
        }
        for (order, cq) in self.cqs.values() {
            c.restore_continuous_query(*order, cq.clone());
        }
        for (order, u) in self.users.values() {
            c.restore_user(*order, u.clone());
        }
        for g in self.shard_groups.values() {
            c.restore_shard_group(g.clone());
        }
        c
    }
}

/// The in-memory port with a model of durable records beside it.
#[derive(Debug, Default)]
pub(crate) struct Meta {
    mem: MemoryMetadata,
    records: RefCell<Records>,
}

impl Deref for Meta {
    type Target = MemoryMetadata;
    fn deref(&self) -> &MemoryMetadata {
        &self.mem
    }
}

impl Meta {
    pub(crate) fn new() -> Self {
        Meta::default()
    }

    /// Applies a command and stores its changes.
    pub(crate) fn apply_blocking(&self, cmd: MetaCommand) -> Result<Vec<Change>, MetaError> {
        let changes = self.mem.apply_blocking(cmd)?;
        self.records.borrow_mut().store(&changes);
        Ok(changes)
    }

    /// What a restart gives: a catalog restored from the records alone.
    pub(crate) fn reopen(self) -> Meta {
        let records = self.records.into_inner();
        Meta {
            mem: MemoryMetadata::from_catalog(records.restore()),
            records: RefCell::new(records),
        }
    }
}
