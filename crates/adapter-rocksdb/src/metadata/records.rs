//! The on-disk layout of metadata records: how each [`Change`] becomes writes to the
//! column families, and how the records load back into a [`Catalog`].
//!
//! One column family per kind; names in keys are `u32`-length-prefixed so that everything
//! of a database or measurement shares one key prefix and drops are range deletes:
//! `databases` name → record; `schemas` (db, measurement) → schema; `series`
//! (db, measurement) ++ series key → tags (empty when they parse back from the key);
//! `field_shards` (db, measurement, field, rp) ++ shard group start → type; `tombstones`
//! big-endian id → tombstone; `cqs` (db, name) → record; `users` name → record;
//! `shard_groups` big-endian id → record (deleted groups too). Every
//! value is versioned bincode. Databases, continuous queries and users carry their
//! creation order beside the record.

use crate::codec::{
    decode_versioned, encode_versioned, names_key, prefix_end, take_name, CodecError,
    META_FORMAT_V1,
};
use hyperbyte_catalog::{Catalog, Change, Tags};
use hyperbyte_domain::{ContinuousQuery, Database, FieldType, MeasurementSchema, User};
use hyperbyte_ports::MetaError;
use rocksdb::{IteratorMode, WriteBatch, DB};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

pub(super) const CF_DATABASES: &str = "databases";
pub(super) const CF_SCHEMAS: &str = "schemas";
pub(super) const CF_SERIES: &str = "series";
pub(super) const CF_TOMBSTONES: &str = "tombstones";
pub(super) const CF_CQS: &str = "cqs";
pub(super) const CF_USERS: &str = "users";
/// Per-shard-group field types: `db, measurement, field, rp` names plus the shard group
/// start (8 bytes, order-preserving) → the type.
pub(super) const CF_FIELD_SHARDS: &str = "field_shards";
/// Shard groups: big-endian id → record.
pub(super) const CF_SHARD_GROUPS: &str = "shard_groups";
pub(super) const ALL_CFS: [&str; 8] = [
    CF_DATABASES,
    CF_SCHEMAS,
    CF_SERIES,
    CF_TOMBSTONES,
    CF_CQS,
    CF_USERS,
    CF_FIELD_SHARDS,
    CF_SHARD_GROUPS,
];

pub(super) fn storage(e: rocksdb::Error) -> MetaError {
    let text = e.into_string();
    if crate::wal::is_no_space(&text) {
        MetaError::NoSpace(text)
    } else {
        MetaError::Storage(text)
    }
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

/// A record with its creation order (databases, continuous queries, users).
#[derive(Serialize, Deserialize)]
struct Ordered<T> {
    order: u64,
    value: T,
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

fn shard_start_from_key(b: &[u8]) -> Option<i64> {
    let b: [u8; 8] = b.try_into().ok()?;
    Some((u64::from_be_bytes(b) ^ (1 << 63)) as i64)
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

fn bad_key(cf_name: &str) -> MetaError {
    MetaError::Storage(format!("malformed key in column family {cf_name}"))
}

/// Loads every record into a catalog, kind by kind in the order
/// [`Catalog`]'s `restore_*` methods require.
pub(super) fn load(db: &DB) -> Result<Catalog, MetaError> {
    let mut c = Catalog::new();
    for_each(db, CF_DATABASES, |_, v| {
        let rec: Ordered<Database> = dec(v)?;
        c.restore_database(rec.order, rec.value);
        Ok(())
    })?;
    for_each(db, CF_SCHEMAS, |k, v| {
        let (dbn, rest) = take_name(k).ok_or_else(|| bad_key(CF_SCHEMAS))?;
        let (m, _) = take_name(rest).ok_or_else(|| bad_key(CF_SCHEMAS))?;
        let schema: MeasurementSchema = dec(v)?;
        c.restore_schema(dbn, m, schema);
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
        c.restore_field_shard_type(dbn, m, field, rp, start, t);
        Ok(())
    })?;
    for_each(db, CF_SERIES, |k, v| {
        let (dbn, rest) = take_name(k).ok_or_else(|| bad_key(CF_SERIES))?;
        let (m, key) = take_name(rest).ok_or_else(|| bad_key(CF_SERIES))?;
        let key = std::str::from_utf8(key).map_err(|_| bad_key(CF_SERIES))?;
        let tags: Option<Tags> = if v.is_empty() { None } else { Some(dec(v)?) };
        c.restore_series(dbn, m, key, tags);
        Ok(())
    })?;
    for_each(db, CF_TOMBSTONES, |_, v| {
        c.restore_tombstone(dec(v)?);
        Ok(())
    })?;
    for_each(db, CF_CQS, |_, v| {
        let rec: Ordered<ContinuousQuery> = dec(v)?;
        c.restore_continuous_query(rec.order, rec.value);
        Ok(())
    })?;
    for_each(db, CF_USERS, |_, v| {
        let rec = dec_user(v)?;
        c.restore_user(rec.order, rec.value);
        Ok(())
    })?;
    for_each(db, CF_SHARD_GROUPS, |_, v| {
        c.restore_shard_group(dec(v)?);
        Ok(())
    })?;
    Ok(c)
}

/// A user record as written before privileges existed (name, hash, admin).
#[derive(Deserialize)]
struct LegacyUser {
    name: String,
    password_hash: String,
    admin: bool,
}

/// Decodes a user record, current or written before privileges were stored (the old
/// record ends where the privileges map begins, so it fails the current decoding).
fn dec_user(b: &[u8]) -> Result<Ordered<User>, MetaError> {
    match dec::<Ordered<User>>(b) {
        Ok(rec) => Ok(rec),
        Err(current) => match dec::<Ordered<LegacyUser>>(b) {
            Ok(old) => Ok(Ordered {
                order: old.order,
                value: User {
                    name: old.value.name,
                    password_hash: old.value.password_hash,
                    admin: old.value.admin,
                    privileges: Default::default(),
                },
            }),
            Err(_) => Err(current),
        },
    }
}

/// Builds the write batch of a command's changes (one atomic write).
pub(super) fn batch(db: &DB, changes: &[Change]) -> Result<WriteBatch, MetaError> {
    let mut b = Batch {
        db,
        batch: WriteBatch::default(),
    };
    for c in changes {
        b.add(c)?;
    }
    Ok(b.batch)
}

struct Batch<'a> {
    db: &'a DB,
    batch: WriteBatch,
}

impl Batch<'_> {
    fn put(&mut self, cf_name: &str, key: &[u8], value: &[u8]) -> Result<(), MetaError> {
        self.batch.put_cf(cf(self.db, cf_name)?, key, value);
        Ok(())
    }

    fn delete(&mut self, cf_name: &str, key: &[u8]) -> Result<(), MetaError> {
        self.batch.delete_cf(cf(self.db, cf_name)?, key);
        Ok(())
    }

    fn delete_prefix(&mut self, cf_name: &str, prefix: &[u8]) -> Result<(), MetaError> {
        let end =
            prefix_end(prefix).ok_or_else(|| MetaError::Storage("unbounded key prefix".into()))?;
        self.batch
            .delete_range_cf(cf(self.db, cf_name)?, prefix, end.as_slice());
        Ok(())
    }

    fn ordered<T: Serialize>(
        &mut self,
        cf_name: &str,
        key: &[u8],
        order: u64,
        value: &T,
    ) -> Result<(), MetaError> {
        self.put(cf_name, key, &enc(&Ordered { order, value })?)
    }

    fn add(&mut self, change: &Change) -> Result<(), MetaError> {
        match change {
            Change::PutDatabase { order, database } => self.ordered(
                CF_DATABASES,
                &names_key(&[&database.name]),
                *order,
                database,
            )?,
            Change::DeleteDatabase { name } => {
                let prefix = names_key(&[name]);
                self.delete(CF_DATABASES, &prefix)?;
                for cf_name in [CF_SCHEMAS, CF_SERIES, CF_FIELD_SHARDS, CF_CQS] {
                    self.delete_prefix(cf_name, &prefix)?;
                }
            }
            Change::PutSchema {
                database,
                measurement,
                schema,
            } => self.put(
                CF_SCHEMAS,
                &names_key(&[database, measurement]),
                &enc(schema)?,
            )?,
            Change::DeleteMeasurement {
                database,
                measurement,
            } => {
                let prefix = names_key(&[database, measurement]);
                self.delete(CF_SCHEMAS, &prefix)?;
                self.delete_prefix(CF_SERIES, &prefix)?;
                self.delete_prefix(CF_FIELD_SHARDS, &prefix)?;
            }
            Change::PutFieldShardTypes {
                database,
                measurement,
                entries,
            } => {
                for e in entries {
                    let k = field_shard_key(
                        database,
                        measurement,
                        &e.field,
                        &e.retention_policy,
                        e.shard_start,
                    );
                    self.put(CF_FIELD_SHARDS, &k, &enc(&e.field_type)?)?;
                }
            }
            Change::DeleteFieldShardTypes {
                database,
                retention_policy,
                records,
            } => {
                for (m, field, start) in records {
                    let k = field_shard_key(database, m, field, retention_policy, *start);
                    self.delete(CF_FIELD_SHARDS, &k)?;
                }
            }
            Change::PutSeries {
                database,
                measurement,
                series,
            } => {
                let cf_series = cf(self.db, CF_SERIES)?;
                let prefix = names_key(&[database, measurement]);
                let mut k = Vec::with_capacity(prefix.len() + 128);
                for (key, tags) in series {
                    k.clear();
                    k.extend_from_slice(&prefix);
                    k.extend_from_slice(key.as_bytes());
                    match tags {
                        None => self.batch.put_cf(cf_series, &k, []),
                        Some(t) => self.batch.put_cf(cf_series, &k, enc(t)?),
                    }
                }
            }
            Change::DeleteSeries {
                database,
                measurement,
                keys,
            } => {
                let cf_series = cf(self.db, CF_SERIES)?;
                let prefix = names_key(&[database, measurement]);
                let mut k = Vec::with_capacity(prefix.len() + 128);
                for key in keys {
                    k.clear();
                    k.extend_from_slice(&prefix);
                    k.extend_from_slice(key.as_bytes());
                    self.batch.delete_cf(cf_series, &k);
                }
            }
            Change::PutShardGroup(g) => {
                self.put(CF_SHARD_GROUPS, &g.id.to_be_bytes(), &enc(g)?)?;
            }
            Change::PutTombstone(t) => self.put(CF_TOMBSTONES, &t.id.to_be_bytes(), &enc(t)?)?,
            Change::DeleteTombstone { id } => self.delete(CF_TOMBSTONES, &id.to_be_bytes())?,
            Change::PutContinuousQuery { order, query } => self.ordered(
                CF_CQS,
                &names_key(&[&query.database, &query.name]),
                *order,
                query,
            )?,
            Change::DeleteContinuousQuery { database, name } => {
                self.delete(CF_CQS, &names_key(&[database, name]))?;
            }
            Change::PutUser { order, user } => {
                self.ordered(CF_USERS, &names_key(&[&user.name]), *order, user)?;
            }
            Change::DeleteUser { name } => self.delete(CF_USERS, &names_key(&[name]))?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyperbyte_domain::RetentionPolicy;

    #[test]
    fn user_records_without_privileges_still_decode() {
        #[derive(Serialize)]
        struct Old<'a> {
            name: &'a str,
            password_hash: &'a str,
            admin: bool,
        }
        let old = enc(&Ordered {
            order: 7,
            value: Old {
                name: "ann",
                password_hash: "h",
                admin: true,
            },
        })
        .unwrap();
        let rec = dec_user(&old).unwrap();
        assert_eq!(rec.order, 7);
        assert_eq!(rec.value.name, "ann");
        assert!(rec.value.admin && rec.value.privileges.is_empty());
        let mut user = rec.value;
        user.privileges
            .insert("db".into(), hyperbyte_domain::Privilege::Read);
        let new = enc(&Ordered {
            order: 8,
            value: &user,
        })
        .unwrap();
        assert_eq!(dec_user(&new).unwrap().value, user);
    }

    #[test]
    fn shard_start_keys_sort_by_time_and_round_trip() {
        let starts = [i64::MIN, -7, -1, 0, 1, 3_600, i64::MAX];
        let keys: Vec<[u8; 8]> = starts.iter().map(|s| shard_start_key(*s)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        for s in starts {
            assert_eq!(shard_start_from_key(&shard_start_key(s)), Some(s));
        }
        assert_eq!(shard_start_from_key(&[1, 2, 3]), None);
    }

    /// The record encoding is the on-disk format: a borrowed value encodes exactly as the
    /// owned one that `load` decodes, so data directories written before keep opening.
    #[test]
    fn ordered_records_encode_as_before() {
        let db = Database {
            name: "d".into(),
            retention_policies: vec![RetentionPolicy {
                name: "autogen".into(),
                duration: 0,
                shard_group_duration: 1,
                replication: 1,
            }],
            default_rp: Some("autogen".into()),
        };
        let borrowed = enc(&Ordered {
            order: 7,
            value: &db,
        })
        .unwrap();
        let owned = enc(&Ordered {
            order: 7,
            value: db.clone(),
        })
        .unwrap();
        assert_eq!(borrowed, owned);
        let back: Ordered<Database> = dec(&borrowed).unwrap();
        assert_eq!((back.order, back.value), (7, db));
        let tags: Tags = vec![("k".into(), "v".into())];
        let boxed: Box<[(String, String)]> = tags.clone().into_boxed_slice();
        assert_eq!(enc(&tags).unwrap(), enc(&boxed.to_vec()).unwrap());
    }
}
