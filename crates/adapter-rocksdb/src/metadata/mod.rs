//! The metadata store on RocksDB: databases and retention policies, measurement schemas,
//! the series index, tombstones, continuous queries and users.
//!
//! Reads never touch RocksDB: they are served from an in-memory image ([`state`]) loaded
//! at open. `apply` validates a [`MetaCommand`] against that image with InfluxDB 1.6's
//! rules and error texts, writes the change to RocksDB with a synced write, and only then
//! updates the image, all under one apply lock, so the image is always a durable state.
//!
//! Layout (one column family per kind; names in keys are `u32`-length-prefixed so that
//! everything of a database or measurement shares one key prefix and drops are range
//! deletes): `databases` name → record; `schemas` (db, measurement) → schema; `series`
//! (db, measurement) ++ series key → tags (empty when they parse back from the key);
//! `tombstones` big-endian id → tombstone; `cqs` (db, name) → record; `users` name →
//! record. Every value is versioned bincode.

mod state;

use crate::codec::{
    decode_versioned, encode_versioned, names_key, prefix_end, take_name, CodecError,
    META_FORMAT_V1,
};
use async_trait::async_trait;
use hyperbyte_domain::{
    ContinuousQuery, Database, FieldShardType, FieldType, MeasurementSchema, MetaCommand,
    RetentionPolicy, Tombstone, User,
};
use hyperbyte_ports::{MetaError, MetadataPort, SeriesEntry};
use parking_lot::{Mutex, RwLock};
use rocksdb::{
    ColumnFamilyDescriptor, DBCompressionType, IteratorMode, Options, WriteBatch, WriteOptions, DB,
};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use state::{stored_tags, DbState, State};
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

const CF_DATABASES: &str = "databases";
const CF_SCHEMAS: &str = "schemas";
const CF_SERIES: &str = "series";
const CF_TOMBSTONES: &str = "tombstones";
const CF_CQS: &str = "cqs";
const CF_USERS: &str = "users";
/// Per-shard-group field types: `db, measurement, field, rp` names plus the shard group
/// start (8 bytes, order-preserving) → the type.
const CF_FIELD_SHARDS: &str = "field_shards";
const ALL_CFS: [&str; 7] = [
    CF_DATABASES,
    CF_SCHEMAS,
    CF_SERIES,
    CF_TOMBSTONES,
    CF_CQS,
    CF_USERS,
    CF_FIELD_SHARDS,
];

/// Nanoseconds in an hour: InfluxDB's minimum retention and shard group duration.
const HOUR: i64 = 3_600_000_000_000;

// InfluxDB 1.6 error texts.
const ERR_DURATION_TOO_LOW: &str = "retention policy duration must be at least 1h0m0s";
const ERR_INCOMPATIBLE_DURATIONS: &str =
    "retention policy duration must be greater than the shard duration";
const ERR_RP_EXISTS: &str = "retention policy already exists";
const ERR_RP_CONFLICT: &str = "retention policy conflicts with an existing policy";
const ERR_RP_NAME_REQUIRED: &str = "retention policy name required";
const ERR_REPLICATION_TOO_LOW: &str = "replication factor must be greater than 0";
const ERR_CQ_EXISTS: &str = "continuous query already exists";
const ERR_USER_NOT_FOUND: &str = "user not found";

fn db_not_found(db: &str) -> MetaError {
    MetaError::Invalid(format!("database not found: {db}"))
}

fn invalid(msg: &str) -> MetaError {
    MetaError::Invalid(msg.to_string())
}

fn storage(e: rocksdb::Error) -> MetaError {
    MetaError::Storage(e.into_string())
}

impl From<CodecError> for MetaError {
    fn from(e: CodecError) -> Self {
        MetaError::Storage(e.to_string())
    }
}

fn enc<T: Serialize>(v: &T) -> Result<Vec<u8>, MetaError> {
    Ok(encode_versioned(META_FORMAT_V1, v)?)
}

fn dec<T: DeserializeOwned>(b: &[u8]) -> Result<T, MetaError> {
    Ok(decode_versioned(META_FORMAT_V1, b)?)
}

/// A record with its creation order (databases, continuous queries, users are listed in
/// creation order, as InfluxDB does).
#[derive(Serialize, Deserialize)]
struct Ordered<T> {
    order: u64,
    value: T,
}

/// InfluxDB's shard group duration normalisation: `0` means the default for the
/// retention duration, anything below an hour becomes an hour.
fn normalised_shard_duration(sgd: i64, duration: i64) -> i64 {
    if sgd <= 0 {
        RetentionPolicy::default_shard_duration(duration)
    } else if sgd < HOUR {
        HOUR
    } else {
        sgd
    }
}

fn duration_too_low(duration: i64) -> bool {
    duration != 0 && duration < HOUR
}

/// The RocksDB metadata store. Cheap to clone (shared handle).
#[derive(Clone)]
pub struct RocksDbMetadata {
    inner: Arc<Inner>,
}

struct Inner {
    db: DB,
    apply_lock: Mutex<()>,
    state: RwLock<State>,
}

impl std::fmt::Debug for RocksDbMetadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksDbMetadata")
            .field("path", &self.inner.db.path())
            .field("databases", &self.inner.state.read().dbs.len())
            .finish()
    }
}

impl RocksDbMetadata {
    /// Opens (or creates) the store in directory `path` and loads it into memory.
    pub fn open(path: &Path) -> Result<Self, MetaError> {
        std::fs::create_dir_all(path)
            .map_err(|e| MetaError::Storage(format!("{}: {e}", path.display())))?;
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_max_background_jobs(2);
        let cfs = std::iter::once("default").chain(ALL_CFS).map(|name| {
            let mut o = Options::default();
            o.set_compression_type(DBCompressionType::Lz4);
            if name == CF_SERIES {
                o.set_write_buffer_size(64 << 20);
            }
            ColumnFamilyDescriptor::new(name, o)
        });
        let db = DB::open_cf_descriptors(&opts, path, cfs).map_err(storage)?;
        let state = load(&db)?;
        tracing::debug!(path = %path.display(), databases = state.dbs.len(), "metadata opened");
        Ok(RocksDbMetadata {
            inner: Arc::new(Inner {
                db,
                apply_lock: Mutex::new(()),
                state: RwLock::new(state),
            }),
        })
    }

    /// Runs `f` on one measurement of the in-memory image (under the read lock).
    fn with_measurement<T>(
        &self,
        database: &str,
        measurement: &str,
        f: impl FnOnce(&state::Measurement) -> T,
    ) -> Option<T> {
        let st = self.inner.state.read();
        st.dbs
            .get(database)
            .and_then(|d| d.measurements.get(measurement))
            .map(f)
    }

    /// Applies a command synchronously (blocking); see [`MetadataPort::apply`].
    pub fn apply_blocking(&self, cmd: MetaCommand) -> Result<(), MetaError> {
        let _guard = self.inner.apply_lock.lock();
        // Failure point `meta-apply`: a metadata change (schema, series, DDL) about to apply.
        fail::fail_point!("meta-apply");
        self.inner.apply(cmd)
    }
}

fn cf<'a>(db: &'a DB, name: &str) -> Result<&'a rocksdb::ColumnFamily, MetaError> {
    db.cf_handle(name)
        .ok_or_else(|| MetaError::Storage(format!("missing column family {name}")))
}

fn for_each<F>(db: &DB, cf_name: &str, mut f: F) -> Result<(), MetaError>
where
    F: FnMut(&[u8], &[u8]) -> Result<(), MetaError>,
{
    for item in db.iterator_cf(cf(db, cf_name)?, IteratorMode::Start) {
        let (k, v) = item.map_err(storage)?;
        f(&k, &v)?;
    }
    Ok(())
}

/// Shard group starts as key bytes: big-endian with the sign bit flipped, so keys sort by
/// time (negative starts before positive ones).
fn shard_start_key(start: i64) -> [u8; 8] {
    ((start as u64) ^ (1 << 63)).to_be_bytes()
}

/// The `field_shards` key of one record.
fn field_shard_key(
    database: &str,
    measurement: &str,
    field: &str,
    rp: &str,
    start: i64,
) -> Vec<u8> {
    let mut k = names_key(&[database, measurement, field, rp]);
    k.extend_from_slice(&shard_start_key(start));
    k
}

fn shard_start_from_key(b: &[u8]) -> Option<i64> {
    let b: [u8; 8] = b.try_into().ok()?;
    Some((u64::from_be_bytes(b) ^ (1 << 63)) as i64)
}

fn bad_key(cf_name: &str) -> MetaError {
    MetaError::Storage(format!("malformed key in column family {cf_name}"))
}

fn load(db: &DB) -> Result<State, MetaError> {
    let mut st = State::default();
    for_each(db, CF_DATABASES, |_, v| {
        let rec: Ordered<Database> = dec(v)?;
        st.see_order(rec.order);
        st.dbs
            .insert(rec.value.name.clone(), DbState::new(rec.order, rec.value));
        Ok(())
    })?;
    for_each(db, CF_SCHEMAS, |k, v| {
        let (dbn, rest) = take_name(k).ok_or_else(|| bad_key(CF_SCHEMAS))?;
        let (m, _) = take_name(rest).ok_or_else(|| bad_key(CF_SCHEMAS))?;
        let schema: MeasurementSchema = dec(v)?;
        if let Some(d) = st.dbs.get_mut(dbn) {
            d.measurement_mut(m).schema = Some(schema);
        }
        Ok(())
    })?;
    for_each(db, CF_FIELD_SHARDS, |k, v| {
        let bad = || bad_key(CF_FIELD_SHARDS);
        let (dbn, rest) = take_name(k).ok_or_else(bad)?;
        let (m, rest) = take_name(rest).ok_or_else(bad)?;
        let (field, rest) = take_name(rest).ok_or_else(bad)?;
        let (rp, rest) = take_name(rest).ok_or_else(bad)?;
        let start = shard_start_from_key(rest).ok_or_else(bad)?;
        let t: FieldType = dec(v)?;
        if let Some(d) = st.dbs.get_mut(dbn) {
            d.measurement_mut(m).record_field_shard(field, rp, start, t);
        }
        Ok(())
    })?;
    for_each(db, CF_SERIES, |k, v| {
        let (dbn, rest) = take_name(k).ok_or_else(|| bad_key(CF_SERIES))?;
        let (m, key) = take_name(rest).ok_or_else(|| bad_key(CF_SERIES))?;
        let key = std::str::from_utf8(key).map_err(|_| bad_key(CF_SERIES))?;
        let tags = if v.is_empty() {
            None
        } else {
            let t: Vec<(String, String)> = dec(v)?;
            Some(t.into_boxed_slice())
        };
        if let Some(d) = st.dbs.get_mut(dbn) {
            d.add_series(m, key.to_string(), tags);
        }
        Ok(())
    })?;
    for_each(db, CF_TOMBSTONES, |_, v| {
        let t: Tombstone = dec(v)?;
        st.tombstones.insert(t.id, t);
        Ok(())
    })?;
    for_each(db, CF_CQS, |_, v| {
        let rec: Ordered<ContinuousQuery> = dec(v)?;
        st.see_order(rec.order);
        st.cqs.insert(
            (rec.value.database.clone(), rec.value.name.clone()),
            (rec.order, rec.value),
        );
        Ok(())
    })?;
    for_each(db, CF_USERS, |_, v| {
        let rec: Ordered<User> = dec(v)?;
        st.see_order(rec.order);
        st.users
            .insert(rec.value.name.clone(), (rec.order, rec.value));
        Ok(())
    })?;
    Ok(st)
}

impl Inner {
    fn cf(&self, name: &str) -> Result<&rocksdb::ColumnFamily, MetaError> {
        cf(&self.db, name)
    }

    fn commit(&self, batch: WriteBatch) -> Result<(), MetaError> {
        let mut w = WriteOptions::default();
        w.set_sync(true);
        self.db.write_opt(batch, &w).map_err(storage)
    }

    /// Writes one database record (synced) and installs it in the image.
    fn put_database(&self, order: u64, db: Database) -> Result<(), MetaError> {
        let mut batch = WriteBatch::default();
        let rec = Ordered { order, value: db };
        batch.put_cf(
            self.cf(CF_DATABASES)?,
            names_key(&[&rec.value.name]),
            enc(&rec)?,
        );
        self.commit(batch)?;
        let mut st = self.state.write();
        match st.dbs.get_mut(&rec.value.name) {
            Some(d) => d.db = rec.value,
            None => {
                st.see_order(order);
                st.dbs
                    .insert(rec.value.name.clone(), DbState::new(order, rec.value));
            }
        }
        Ok(())
    }

    /// The current record of a database, with its creation order.
    fn database(&self, name: &str) -> Option<(u64, Database)> {
        self.state
            .read()
            .dbs
            .get(name)
            .map(|d| (d.order, d.db.clone()))
    }

    fn range_delete(
        &self,
        batch: &mut WriteBatch,
        cf_name: &str,
        prefix: &[u8],
    ) -> Result<(), MetaError> {
        let end =
            prefix_end(prefix).ok_or_else(|| MetaError::Storage("unbounded key prefix".into()))?;
        batch.delete_range_cf(self.cf(cf_name)?, prefix, end.as_slice());
        Ok(())
    }

    /// Applies one command; the caller holds the apply lock.
    fn apply(&self, cmd: MetaCommand) -> Result<(), MetaError> {
        match cmd {
            MetaCommand::CreateDatabase { name, default_rp } => {
                self.create_database(name, default_rp)
            }
            MetaCommand::DropDatabase { name } => self.drop_database(&name),
            MetaCommand::CreateRetentionPolicy {
                database,
                rp,
                make_default,
            } => self.create_rp(&database, rp, make_default),
            MetaCommand::AlterRetentionPolicy {
                database,
                name,
                duration,
                shard_group_duration,
                replication,
                make_default,
            } => self.alter_rp(
                &database,
                &name,
                duration,
                shard_group_duration,
                replication,
                make_default,
            ),
            MetaCommand::DropRetentionPolicy { database, name } => self.drop_rp(&database, &name),
            MetaCommand::RegisterSchema {
                database,
                measurement,
                fields,
                tag_keys,
            } => self.register_schema(&database, &measurement, fields, tag_keys),
            MetaCommand::RegisterFieldShards {
                database,
                measurement,
                entries,
            } => self.register_field_shards(&database, &measurement, entries),
            MetaCommand::RegisterSeries {
                database,
                measurement,
                series,
            } => self.register_series(&database, &measurement, series),
            MetaCommand::DropMeasurement {
                database,
                measurement,
            } => self.drop_measurement(&database, &measurement),
            MetaCommand::DropSeries {
                database,
                measurement,
                keys,
            } => self.drop_series(&database, &measurement, &keys),
            MetaCommand::AddTombstone(t) => self.add_tombstone(t),
            MetaCommand::RemoveTombstone { id } => self.remove_tombstone(id),
            MetaCommand::CreateContinuousQuery(cq) => self.create_cq(cq),
            MetaCommand::DropContinuousQuery { database, name } => self.drop_cq(&database, &name),
            MetaCommand::PutUser(user) => self.put_user(user),
            MetaCommand::DropUser { name } => self.drop_user(&name),
        }
    }

    fn create_database(
        &self,
        name: String,
        default_rp: Option<RetentionPolicy>,
    ) -> Result<(), MetaError> {
        let existing = self.database(&name);
        let Some(mut rp) = default_rp else {
            if existing.is_some() {
                return Ok(());
            }
            let order = self.state.write().take_order();
            return self.put_database(order, Database::new(name));
        };
        // InfluxDB's CreateDatabaseWithRetentionPolicy.
        if rp.name.is_empty() {
            rp.name = "autogen".to_string();
        }
        if duration_too_low(rp.duration) {
            return Err(invalid(ERR_DURATION_TOO_LOW));
        }
        match existing {
            Some((order, mut db)) if db.retention_policies.is_empty() => {
                validate_new_rp(&mut rp)?;
                db.default_rp = Some(rp.name.clone());
                db.retention_policies.push(rp);
                self.put_database(order, db)
            }
            Some((_, db)) => {
                let matches = db.rp(&rp.name).is_some_and(|have| {
                    have.duration == rp.duration
                        && have.replication == rp.replication
                        && normalised_shard_duration(rp.shard_group_duration, have.duration)
                            == have.shard_group_duration
                });
                if matches && db.default_rp.as_deref() == Some(rp.name.as_str()) {
                    Ok(())
                } else {
                    Err(invalid(ERR_RP_CONFLICT))
                }
            }
            None => {
                validate_new_rp(&mut rp)?;
                let db = Database {
                    name,
                    default_rp: Some(rp.name.clone()),
                    retention_policies: vec![rp],
                };
                let order = self.state.write().take_order();
                self.put_database(order, db)
            }
        }
    }

    fn drop_database(&self, name: &str) -> Result<(), MetaError> {
        let st = self.state.read();
        if !st.dbs.contains_key(name) {
            return Ok(());
        }
        let prefix = names_key(&[name]);
        let mut batch = WriteBatch::default();
        batch.delete_cf(self.cf(CF_DATABASES)?, &prefix);
        self.range_delete(&mut batch, CF_SCHEMAS, &prefix)?;
        self.range_delete(&mut batch, CF_SERIES, &prefix)?;
        self.range_delete(&mut batch, CF_FIELD_SHARDS, &prefix)?;
        self.range_delete(&mut batch, CF_CQS, &prefix)?;
        let tombstones: Vec<u64> = st
            .tombstones
            .values()
            .filter(|t| t.database == name)
            .map(|t| t.id)
            .collect();
        for id in &tombstones {
            batch.delete_cf(self.cf(CF_TOMBSTONES)?, id.to_be_bytes());
        }
        drop(st);
        self.commit(batch)?;
        let mut st = self.state.write();
        st.dbs.remove(name);
        st.cqs.retain(|(db, _), _| db != name);
        for id in tombstones {
            st.tombstones.remove(&id);
        }
        Ok(())
    }

    fn create_rp(
        &self,
        database: &str,
        mut rp: RetentionPolicy,
        make_default: bool,
    ) -> Result<(), MetaError> {
        if duration_too_low(rp.duration) {
            return Err(invalid(ERR_DURATION_TOO_LOW));
        }
        validate_new_rp(&mut rp)?;
        let (order, mut db) = self
            .database(database)
            .ok_or_else(|| db_not_found(database))?;
        if let Some(have) = db.rp(&rp.name) {
            if have.replication != rp.replication
                || have.duration != rp.duration
                || have.shard_group_duration != rp.shard_group_duration
            {
                return Err(invalid(ERR_RP_EXISTS));
            }
            if make_default && db.default_rp.as_deref() != Some(rp.name.as_str()) {
                return Err(invalid(ERR_RP_CONFLICT));
            }
            return Ok(());
        }
        if make_default {
            db.default_rp = Some(rp.name.clone());
        }
        db.retention_policies.push(rp);
        self.put_database(order, db)
    }

    fn alter_rp(
        &self,
        database: &str,
        name: &str,
        duration: Option<i64>,
        shard_group_duration: Option<i64>,
        replication: Option<u32>,
        make_default: bool,
    ) -> Result<(), MetaError> {
        let (order, mut db) = self
            .database(database)
            .ok_or_else(|| db_not_found(database))?;
        let rp = db
            .retention_policies
            .iter_mut()
            .find(|r| r.name == name)
            .ok_or_else(|| MetaError::Invalid(format!("retention policy not found: {name}")))?;
        if duration.is_some_and(duration_too_low) {
            return Err(invalid(ERR_DURATION_TOO_LOW));
        }
        let incompatible = match (duration, shard_group_duration) {
            (Some(d), sgd) if d > 0 => d < sgd.unwrap_or(rp.shard_group_duration),
            (None, Some(sgd)) => rp.duration > 0 && rp.duration < sgd,
            _ => false,
        };
        if incompatible {
            return Err(invalid(ERR_INCOMPATIBLE_DURATIONS));
        }
        if let Some(d) = duration {
            rp.duration = d;
        }
        if let Some(r) = replication {
            rp.replication = r;
        }
        if let Some(s) = shard_group_duration {
            rp.shard_group_duration = normalised_shard_duration(s, rp.duration);
        }
        if make_default {
            db.default_rp = Some(name.to_string());
        }
        self.put_database(order, db)
    }

    fn drop_rp(&self, database: &str, name: &str) -> Result<(), MetaError> {
        let Some((order, mut db)) = self.database(database) else {
            return Ok(());
        };
        let before = db.retention_policies.len();
        db.retention_policies.retain(|r| r.name != name);
        if db.retention_policies.len() == before {
            return Ok(());
        }
        // Field types recorded for the policy's shard groups go with it: a policy created
        // again under the same name starts empty.
        let stale: Vec<Vec<u8>> = {
            let st = self.state.read();
            st.dbs
                .get(database)
                .map(|d| {
                    d.measurements
                        .iter()
                        .flat_map(|(m, ms)| {
                            ms.field_shards_of_rp(name)
                                .into_iter()
                                .map(move |(field, start)| {
                                    field_shard_key(database, m, &field, name, start)
                                })
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        if !stale.is_empty() {
            let cf = self.cf(CF_FIELD_SHARDS)?;
            let mut batch = WriteBatch::default();
            for k in &stale {
                batch.delete_cf(cf, k);
            }
            self.commit(batch)?;
            if let Some(d) = self.state.write().dbs.get_mut(database) {
                for m in d.measurements.values_mut() {
                    m.forget_rp_field_shards(name);
                }
            }
        }
        // Like InfluxDB, the default keeps naming the dropped policy until another is
        // made default (writes without `rp` then fail with "retention policy not found").
        self.put_database(order, db)
    }

    fn register_schema(
        &self,
        database: &str,
        measurement: &str,
        fields: Vec<(String, hyperbyte_domain::FieldType)>,
        tag_keys: Vec<String>,
    ) -> Result<(), MetaError> {
        let st = self.state.read();
        let d = st.dbs.get(database).ok_or_else(|| db_not_found(database))?;
        let current = d
            .measurements
            .get(measurement)
            .and_then(|m| m.schema.as_ref());
        let mut schema = current.cloned().unwrap_or_default();
        drop(st);
        let mut changed = false;
        for (f, ty) in fields {
            match schema.fields.get(&f) {
                Some(have) if *have == ty => {}
                Some(have) => {
                    return Err(MetaError::Invalid(format!(
                        "field type conflict: input field \"{f}\" on measurement \"{measurement}\" is type {ty}, already exists as type {have}"
                    )))
                }
                None => {
                    schema.fields.insert(f, ty);
                    changed = true;
                }
            }
        }
        for k in tag_keys {
            changed |= schema.tag_keys.insert(k);
        }
        if !changed && current_exists(&self.state.read(), database, measurement) {
            return Ok(());
        }
        let mut batch = WriteBatch::default();
        batch.put_cf(
            self.cf(CF_SCHEMAS)?,
            names_key(&[database, measurement]),
            enc(&schema)?,
        );
        self.commit(batch)?;
        if let Some(d) = self.state.write().dbs.get_mut(database) {
            d.measurement_mut(measurement).schema = Some(schema);
        }
        Ok(())
    }

    fn register_field_shards(
        &self,
        database: &str,
        measurement: &str,
        entries: Vec<FieldShardType>,
    ) -> Result<(), MetaError> {
        let mut fresh = Vec::with_capacity(entries.len());
        {
            let st = self.state.read();
            let d = st.dbs.get(database).ok_or_else(|| db_not_found(database))?;
            let m = d.measurements.get(measurement);
            for e in entries {
                let have = m
                    .and_then(|m| m.field_shard_type(&e.field, &e.retention_policy, e.shard_start));
                match have {
                    Some(t) if t == e.field_type => {}
                    Some(t) => {
                        return Err(MetaError::Invalid(format!(
                            "field type conflict: input field \"{}\" on measurement \"{measurement}\" is type {}, already exists as type {t}",
                            e.field, e.field_type
                        )))
                    }
                    None => fresh.push(e),
                }
            }
        }
        if fresh.is_empty() {
            return Ok(());
        }
        let cf = self.cf(CF_FIELD_SHARDS)?;
        let mut batch = WriteBatch::default();
        for e in &fresh {
            let k = field_shard_key(
                database,
                measurement,
                &e.field,
                &e.retention_policy,
                e.shard_start,
            );
            batch.put_cf(cf, k, enc(&e.field_type)?);
        }
        self.commit(batch)?;
        let mut st = self.state.write();
        if let Some(d) = st.dbs.get_mut(database) {
            let m = d.measurement_mut(measurement);
            for e in fresh {
                m.record_field_shard(&e.field, &e.retention_policy, e.shard_start, e.field_type);
            }
        }
        Ok(())
    }

    fn register_series(
        &self,
        database: &str,
        measurement: &str,
        series: Vec<(String, Vec<(String, String)>)>,
    ) -> Result<(), MetaError> {
        let prefix = names_key(&[database, measurement]);
        let cf_series = self.cf(CF_SERIES)?;
        let mut fresh = Vec::with_capacity(series.len());
        {
            let st = self.state.read();
            let d = st.dbs.get(database).ok_or_else(|| db_not_found(database))?;
            let m = d.measurements.get(measurement);
            let mut seen = HashSet::with_capacity(series.len());
            for (key, tags) in series {
                if m.is_some_and(|m| m.contains(&key)) || !seen.insert(key.clone()) {
                    continue;
                }
                fresh.push((key, tags));
            }
        }
        if fresh.is_empty() {
            return Ok(());
        }
        let mut batch = WriteBatch::default();
        let mut k = Vec::with_capacity(prefix.len() + 128);
        let mut stored = Vec::with_capacity(fresh.len());
        for (key, tags) in fresh {
            k.clear();
            k.extend_from_slice(&prefix);
            k.extend_from_slice(key.as_bytes());
            let tags = stored_tags(measurement, &key, tags);
            match &tags {
                None => batch.put_cf(cf_series, &k, []),
                Some(t) => batch.put_cf(cf_series, &k, enc(&t.to_vec())?),
            }
            stored.push((key, tags));
        }
        self.commit(batch)?;
        let mut st = self.state.write();
        if let Some(d) = st.dbs.get_mut(database) {
            for (key, tags) in stored {
                d.add_series(measurement, key, tags);
            }
        }
        Ok(())
    }

    fn drop_measurement(&self, database: &str, measurement: &str) -> Result<(), MetaError> {
        let exists = self
            .state
            .read()
            .dbs
            .get(database)
            .is_some_and(|d| d.measurements.contains_key(measurement));
        if !exists {
            return Ok(());
        }
        let prefix = names_key(&[database, measurement]);
        let mut batch = WriteBatch::default();
        batch.delete_cf(self.cf(CF_SCHEMAS)?, &prefix);
        self.range_delete(&mut batch, CF_SERIES, &prefix)?;
        self.range_delete(&mut batch, CF_FIELD_SHARDS, &prefix)?;
        self.commit(batch)?;
        if let Some(d) = self.state.write().dbs.get_mut(database) {
            d.remove_measurement(measurement);
        }
        Ok(())
    }

    fn drop_series(
        &self,
        database: &str,
        measurement: &str,
        keys: &[String],
    ) -> Result<(), MetaError> {
        let (present, empties): (Vec<&String>, bool) = {
            let st = self.state.read();
            let Some(m) = st
                .dbs
                .get(database)
                .and_then(|d| d.measurements.get(measurement))
            else {
                return Ok(());
            };
            let present: Vec<&String> = keys
                .iter()
                .filter(|k| m.contains(k))
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            let empties = !present.is_empty() && present.len() == m.series_len();
            (present, empties)
        };
        if present.is_empty() {
            return Ok(());
        }
        let prefix = names_key(&[database, measurement]);
        let mut batch = WriteBatch::default();
        if empties {
            // Like InfluxDB, a measurement without series is gone, fields included.
            batch.delete_cf(self.cf(CF_SCHEMAS)?, &prefix);
            self.range_delete(&mut batch, CF_SERIES, &prefix)?;
            self.range_delete(&mut batch, CF_FIELD_SHARDS, &prefix)?;
        } else {
            let cf_series = self.cf(CF_SERIES)?;
            let mut k = Vec::with_capacity(prefix.len() + 128);
            for key in &present {
                k.clear();
                k.extend_from_slice(&prefix);
                k.extend_from_slice(key.as_bytes());
                batch.delete_cf(cf_series, &k);
            }
        }
        self.commit(batch)?;
        let mut st = self.state.write();
        if let Some(d) = st.dbs.get_mut(database) {
            if empties {
                d.remove_measurement(measurement);
            } else {
                for key in present {
                    d.remove_series(measurement, key);
                }
            }
        }
        Ok(())
    }

    fn add_tombstone(&self, t: Tombstone) -> Result<(), MetaError> {
        if !self.state.read().dbs.contains_key(&t.database) {
            return Err(db_not_found(&t.database));
        }
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(CF_TOMBSTONES)?, t.id.to_be_bytes(), enc(&t)?);
        self.commit(batch)?;
        self.state.write().tombstones.insert(t.id, t);
        Ok(())
    }

    fn remove_tombstone(&self, id: u64) -> Result<(), MetaError> {
        if !self.state.read().tombstones.contains_key(&id) {
            return Ok(());
        }
        let mut batch = WriteBatch::default();
        batch.delete_cf(self.cf(CF_TOMBSTONES)?, id.to_be_bytes());
        self.commit(batch)?;
        self.state.write().tombstones.remove(&id);
        Ok(())
    }

    fn create_cq(&self, cq: ContinuousQuery) -> Result<(), MetaError> {
        {
            let st = self.state.read();
            if !st.dbs.contains_key(&cq.database) {
                return Err(db_not_found(&cq.database));
            }
            if let Some((_, have)) = st.cqs.get(&(cq.database.clone(), cq.name.clone())) {
                return if have.query == cq.query {
                    Ok(())
                } else {
                    Err(invalid(ERR_CQ_EXISTS))
                };
            }
        }
        let order = self.state.write().take_order();
        let rec = Ordered { order, value: cq };
        let mut batch = WriteBatch::default();
        batch.put_cf(
            self.cf(CF_CQS)?,
            names_key(&[&rec.value.database, &rec.value.name]),
            enc(&rec)?,
        );
        self.commit(batch)?;
        let key = (rec.value.database.clone(), rec.value.name.clone());
        self.state.write().cqs.insert(key, (order, rec.value));
        Ok(())
    }

    fn drop_cq(&self, database: &str, name: &str) -> Result<(), MetaError> {
        let key = (database.to_string(), name.to_string());
        if !self.state.read().cqs.contains_key(&key) {
            // InfluxDB 1.6 answers a drop of a missing CQ without an error.
            return Ok(());
        }
        let mut batch = WriteBatch::default();
        batch.delete_cf(self.cf(CF_CQS)?, names_key(&[database, name]));
        self.commit(batch)?;
        self.state.write().cqs.remove(&key);
        Ok(())
    }

    fn put_user(&self, user: User) -> Result<(), MetaError> {
        let existing = self
            .state
            .read()
            .users
            .get(&user.name)
            .map(|(o, u)| (*o, u == &user));
        let order = match existing {
            Some((_, true)) => return Ok(()),
            Some((o, false)) => o,
            None => self.state.write().take_order(),
        };
        let rec = Ordered { order, value: user };
        let mut batch = WriteBatch::default();
        batch.put_cf(
            self.cf(CF_USERS)?,
            names_key(&[&rec.value.name]),
            enc(&rec)?,
        );
        self.commit(batch)?;
        self.state
            .write()
            .users
            .insert(rec.value.name.clone(), (order, rec.value));
        Ok(())
    }

    fn drop_user(&self, name: &str) -> Result<(), MetaError> {
        if !self.state.read().users.contains_key(name) {
            return Err(invalid(ERR_USER_NOT_FOUND));
        }
        let mut batch = WriteBatch::default();
        batch.delete_cf(self.cf(CF_USERS)?, names_key(&[name]));
        self.commit(batch)?;
        self.state.write().users.remove(name);
        Ok(())
    }
}

fn current_exists(st: &State, database: &str, measurement: &str) -> bool {
    st.dbs
        .get(database)
        .and_then(|d| d.measurements.get(measurement))
        .is_some_and(|m| m.schema.is_some())
}

/// InfluxDB's checks on a policy about to be created; normalises its shard duration.
fn validate_new_rp(rp: &mut RetentionPolicy) -> Result<(), MetaError> {
    if rp.name.is_empty() {
        return Err(invalid(ERR_RP_NAME_REQUIRED));
    }
    if rp.replication < 1 {
        return Err(invalid(ERR_REPLICATION_TOO_LOW));
    }
    rp.shard_group_duration = normalised_shard_duration(rp.shard_group_duration, rp.duration);
    if rp.duration > 0 && rp.duration < rp.shard_group_duration {
        return Err(invalid(ERR_INCOMPATIBLE_DURATIONS));
    }
    Ok(())
}

#[async_trait]
impl MetadataPort for RocksDbMetadata {
    async fn apply(&self, cmd: MetaCommand) -> Result<(), MetaError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.apply_blocking(cmd))
            .await
            .map_err(|e| MetaError::Storage(format!("metadata task failed: {e}")))?
    }

    fn databases(&self) -> Vec<Database> {
        let st = self.inner.state.read();
        let mut dbs: Vec<(u64, Database)> =
            st.dbs.values().map(|d| (d.order, d.db.clone())).collect();
        dbs.sort_by_key(|(o, _)| *o);
        dbs.into_iter().map(|(_, d)| d).collect()
    }

    fn database(&self, name: &str) -> Option<Database> {
        self.inner.state.read().dbs.get(name).map(|d| d.db.clone())
    }

    fn measurements(&self, database: &str) -> Vec<String> {
        let st = self.inner.state.read();
        st.dbs
            .get(database)
            .map(|d| {
                d.measurements
                    .iter()
                    .filter(|(_, m)| m.is_visible())
                    .map(|(n, _)| n.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn schema(&self, database: &str, measurement: &str) -> Option<MeasurementSchema> {
        let st = self.inner.state.read();
        st.dbs
            .get(database)?
            .measurements
            .get(measurement)?
            .schema
            .clone()
    }

    fn field_shard_type(
        &self,
        database: &str,
        measurement: &str,
        field: &str,
        retention_policy: &str,
        shard_start: i64,
    ) -> Option<FieldType> {
        self.with_measurement(database, measurement, |m| {
            m.field_shard_type(field, retention_policy, shard_start)
        })
        .flatten()
    }

    fn series(&self, database: &str, measurement: Option<&str>) -> Vec<SeriesEntry> {
        let st = self.inner.state.read();
        let Some(d) = st.dbs.get(database) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        match measurement {
            Some(m) => {
                if let Some(ms) = d.measurements.get(m) {
                    ms.entries(m, &mut out);
                }
            }
            None => {
                out.reserve(d.series_count());
                d.visit_all(&mut |se| {
                    out.push(se.clone());
                    true
                });
            }
        }
        out
    }

    fn has_series(&self, database: &str, key: &str) -> bool {
        let st = self.inner.state.read();
        st.dbs
            .get(database)
            .is_some_and(|d| d.find_series(key).is_some())
    }

    fn series_count(&self, database: &str) -> usize {
        let st = self.inner.state.read();
        st.dbs.get(database).map_or(0, |d| d.series_count())
    }

    fn tag_values(&self, database: &str, measurement: &str, key: &str) -> Vec<String> {
        let st = self.inner.state.read();
        st.dbs
            .get(database)
            .and_then(|d| d.measurements.get(measurement))
            .map(|m| m.tag_values(key))
            .unwrap_or_default()
    }

    fn tag_value_count(&self, database: &str, measurement: &str, key: &str) -> usize {
        self.with_measurement(database, measurement, |m| m.tag_value_count(key))
            .unwrap_or(0)
    }

    fn has_tag_value(&self, database: &str, measurement: &str, key: &str, value: &str) -> bool {
        self.with_measurement(database, measurement, |m| m.has_tag_value(key, value))
            .unwrap_or(false)
    }

    fn for_each_series(
        &self,
        database: &str,
        measurement: Option<&str>,
        f: &mut dyn FnMut(&SeriesEntry) -> bool,
    ) {
        let st = self.inner.state.read();
        let Some(d) = st.dbs.get(database) else {
            return;
        };
        match measurement {
            Some(name) => {
                if let Some(m) = d.measurements.get(name) {
                    let mut buf = SeriesEntry {
                        measurement: String::new(),
                        key: String::new(),
                        tags: Vec::new(),
                    };
                    m.visit(name, &mut buf, f);
                }
            }
            None => d.visit_all(f),
        }
    }

    fn series_count_in(&self, database: &str, measurement: &str) -> usize {
        self.with_measurement(database, measurement, |m| m.series_len())
            .unwrap_or(0)
    }

    fn series_with_tag(
        &self,
        database: &str,
        measurement: &str,
        key: &str,
        value: &str,
    ) -> Vec<SeriesEntry> {
        self.with_measurement(database, measurement, |m| {
            m.series_with_tag(measurement, key, value)
        })
        .unwrap_or_default()
    }

    fn for_each_series_with_tag(
        &self,
        database: &str,
        measurement: &str,
        key: &str,
        value: &str,
        f: &mut dyn FnMut(&SeriesEntry) -> bool,
    ) {
        self.with_measurement(database, measurement, |m| {
            m.visit_with_tag(measurement, key, value, f);
        });
    }

    fn tag_value_series_count(
        &self,
        database: &str,
        measurement: &str,
        key: &str,
        value: &str,
    ) -> usize {
        self.with_measurement(database, measurement, |m| {
            m.tag_value_series_count(key, value)
        })
        .unwrap_or(0)
    }

    fn tag_keys(&self, database: &str, measurement: &str) -> Vec<String> {
        self.with_measurement(database, measurement, |m| m.tag_keys())
            .unwrap_or_default()
    }

    fn tombstones(&self, database: &str) -> Vec<Tombstone> {
        let st = self.inner.state.read();
        st.tombstones
            .values()
            .filter(|t| t.database == database)
            .cloned()
            .collect()
    }

    fn continuous_queries(&self) -> Vec<ContinuousQuery> {
        let st = self.inner.state.read();
        let mut cqs: Vec<(u64, u64, ContinuousQuery)> = st
            .cqs
            .values()
            .map(|(o, cq)| {
                let db_order = st.dbs.get(&cq.database).map_or(u64::MAX, |d| d.order);
                (db_order, *o, cq.clone())
            })
            .collect();
        cqs.sort_by_key(|(d, o, _)| (*d, *o));
        cqs.into_iter().map(|(_, _, cq)| cq).collect()
    }

    fn users(&self) -> Vec<User> {
        let st = self.inner.state.read();
        let mut users: Vec<(u64, User)> = st.users.values().map(|(o, u)| (*o, u.clone())).collect();
        users.sort_by_key(|(o, _)| *o);
        users.into_iter().map(|(_, u)| u).collect()
    }
}
