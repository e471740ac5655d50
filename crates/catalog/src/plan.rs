//! Planning: each [`MetaCommand`] checked against the catalog with InfluxDB 1.6's rules,
//! turned into the [`Change`]s it makes. Pure reads of the catalog; lists built from hash
//! maps are sorted so that a plan never depends on hashing.

use crate::index::stored_tags;
use crate::rules::{
    alter_incompatible, db_not_found, duration_too_low, field_type_conflict, invalid,
    normalised_shard_duration, rp_not_found, validate_new_rp, ERR_CQ_EXISTS, ERR_DURATION_TOO_LOW,
    ERR_INCOMPATIBLE_DURATIONS, ERR_RP_CONFLICT, ERR_RP_EXISTS,
};
use crate::{Catalog, Change};
use hyperbyte_domain::{
    ContinuousQuery, Database, FieldShardType, FieldType, MetaCommand, RetentionPolicy, SeriesKey,
    Tombstone,
};
use hyperbyte_ports::MetaError;
use std::collections::HashSet;

type Plan = Result<Vec<Change>, MetaError>;

pub(crate) fn plan(c: &Catalog, cmd: MetaCommand) -> Plan {
    match cmd {
        MetaCommand::CreateDatabase { name, default_rp } => create_database(c, name, default_rp),
        MetaCommand::DropDatabase { name } => Ok(drop_database(c, name)),
        MetaCommand::CreateRetentionPolicy {
            database,
            rp,
            make_default,
        } => create_rp(c, database, rp, make_default),
        MetaCommand::AlterRetentionPolicy {
            database,
            name,
            duration,
            shard_group_duration,
            replication,
            make_default,
        } => alter_rp(
            c,
            &database,
            &name,
            RpChanges {
                duration,
                shard_group_duration,
                replication,
                make_default,
            },
        ),
        MetaCommand::DropRetentionPolicy { database, name } => Ok(drop_rp(c, database, name)),
        MetaCommand::RegisterSchema {
            database,
            measurement,
            fields,
            tag_keys,
        } => register_schema(c, database, measurement, fields, tag_keys),
        MetaCommand::RegisterFieldShards {
            database,
            measurement,
            entries,
        } => register_field_shards(c, database, measurement, entries),
        MetaCommand::RegisterSeries {
            database,
            measurement,
            series,
        } => register_series(c, database, measurement, series),
        MetaCommand::CreateShardGroups {
            database,
            retention_policy,
            times,
        } => crate::shards::create(c, &database, &retention_policy, &times),
        MetaCommand::ExpireShardGroups {
            database,
            retention_policy,
            cutoff,
        } => Ok(crate::shards::expire(
            c,
            &database,
            &retention_policy,
            cutoff,
        )),
        MetaCommand::DropShard { id, .. } => Ok(crate::shards::drop_shard(c, id)),
        MetaCommand::DropMeasurement {
            database,
            measurement,
        } => Ok(drop_measurement(c, database, measurement)),
        MetaCommand::DropSeries {
            database,
            measurement,
            keys,
        } => Ok(drop_series(c, database, measurement, &keys)),
        // Data only: each member's storage effects run it; the metadata stays as it is.
        MetaCommand::DeleteData { database, .. } => {
            if c.dbs.contains_key(&database) {
                Ok(Vec::new())
            } else {
                Err(db_not_found(&database))
            }
        }
        MetaCommand::AddTombstone(t) => add_tombstone(c, t),
        MetaCommand::RemoveTombstone { id } => Ok(if c.tombstones.contains_key(&id) {
            vec![Change::DeleteTombstone { id }]
        } else {
            Vec::new()
        }),
        MetaCommand::CreateContinuousQuery(cq) => create_cq(c, cq),
        MetaCommand::DropContinuousQuery { database, name } => {
            // InfluxDB 1.6 answers a drop of a missing CQ without an error.
            let key = (database, name);
            Ok(if c.cqs.contains_key(&key) {
                let (database, name) = key;
                vec![Change::DeleteContinuousQuery { database, name }]
            } else {
                Vec::new()
            })
        }
        user_cmd @ (MetaCommand::PutUser(_)
        | MetaCommand::CreateUser(_)
        | MetaCommand::DropUser { .. }
        | MetaCommand::SetPassword { .. }
        | MetaCommand::SetAdmin { .. }
        | MetaCommand::GrantPrivilege { .. }
        | MetaCommand::RevokePrivilege { .. }) => {
            crate::users::plan_user(c, &user_cmd).unwrap_or_else(|| Ok(Vec::new()))
        }
    }
}

fn put_database(order: u64, database: Database) -> Plan {
    Ok(vec![Change::PutDatabase { order, database }])
}

/// InfluxDB's `CreateDatabase` / `CreateDatabaseWithRetentionPolicy`.
fn create_database(c: &Catalog, name: String, default_rp: Option<RetentionPolicy>) -> Plan {
    let existing = c.dbs.get(&name);
    let Some(mut rp) = default_rp else {
        if existing.is_some() {
            return Ok(Vec::new());
        }
        return put_database(c.next_order, Database::new(name));
    };
    if rp.name.is_empty() {
        rp.name = "autogen".to_string();
    }
    if duration_too_low(rp.duration) {
        return Err(invalid(ERR_DURATION_TOO_LOW));
    }
    match existing {
        Some(d) if d.db.retention_policies.is_empty() => {
            validate_new_rp(&mut rp)?;
            let mut db = d.db.clone();
            db.default_rp = Some(rp.name.clone());
            db.retention_policies.push(rp);
            put_database(d.order, db)
        }
        Some(d) => {
            let matches = d.db.rp(&rp.name).is_some_and(|have| {
                have.duration == rp.duration
                    && have.replication == rp.replication
                    && normalised_shard_duration(rp.shard_group_duration, have.duration)
                        == have.shard_group_duration
            });
            if matches && d.db.default_rp.as_deref() == Some(rp.name.as_str()) {
                Ok(Vec::new())
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
            put_database(c.next_order, db)
        }
    }
}

/// A database goes with everything of it: measurements, continuous queries, tombstones,
/// users' privileges on it.
fn drop_database(c: &Catalog, name: String) -> Vec<Change> {
    if !c.dbs.contains_key(&name) {
        return Vec::new();
    }
    let mut cqs: Vec<&String> = c
        .cqs
        .keys()
        .filter(|(db, _)| *db == name)
        .map(|(_, cq)| cq)
        .collect();
    cqs.sort_unstable();
    let mut out = Vec::with_capacity(1 + cqs.len());
    out.extend(cqs.into_iter().map(|cq| Change::DeleteContinuousQuery {
        database: name.clone(),
        name: cq.clone(),
    }));
    out.extend(
        c.tombstones
            .values()
            .filter(|t| t.database == name)
            .map(|t| Change::DeleteTombstone { id: t.id }),
    );
    out.extend(crate::users::forget_database(c, &name));
    out.extend(crate::shards::drop_with(c, &name, None));
    out.insert(0, Change::DeleteDatabase { name });
    out
}

fn create_rp(c: &Catalog, database: String, mut rp: RetentionPolicy, make_default: bool) -> Plan {
    if duration_too_low(rp.duration) {
        return Err(invalid(ERR_DURATION_TOO_LOW));
    }
    validate_new_rp(&mut rp)?;
    let d = c
        .dbs
        .get(&database)
        .ok_or_else(|| db_not_found(&database))?;
    if let Some(have) = d.db.rp(&rp.name) {
        if have.replication != rp.replication
            || have.duration != rp.duration
            || have.shard_group_duration != rp.shard_group_duration
        {
            return Err(invalid(ERR_RP_EXISTS));
        }
        if make_default && d.db.default_rp.as_deref() != Some(rp.name.as_str()) {
            return Err(invalid(ERR_RP_CONFLICT));
        }
        return Ok(Vec::new());
    }
    let mut db = d.db.clone();
    if make_default {
        db.default_rp = Some(rp.name.clone());
    }
    db.retention_policies.push(rp);
    put_database(d.order, db)
}

/// The optional parts of an `ALTER RETENTION POLICY`.
struct RpChanges {
    duration: Option<i64>,
    shard_group_duration: Option<i64>,
    replication: Option<u32>,
    make_default: bool,
}

fn alter_rp(c: &Catalog, database: &str, name: &str, ch: RpChanges) -> Plan {
    let d = c.dbs.get(database).ok_or_else(|| db_not_found(database))?;
    let mut db = d.db.clone();
    let rp = db
        .retention_policies
        .iter_mut()
        .find(|r| r.name == name)
        .ok_or_else(|| rp_not_found(name))?;
    if ch.duration.is_some_and(duration_too_low) {
        return Err(invalid(ERR_DURATION_TOO_LOW));
    }
    if alter_incompatible(
        ch.duration,
        ch.shard_group_duration,
        rp.duration,
        rp.shard_group_duration,
    ) {
        return Err(invalid(ERR_INCOMPATIBLE_DURATIONS));
    }
    if let Some(v) = ch.duration {
        rp.duration = v;
    }
    if let Some(r) = ch.replication {
        rp.replication = r;
    }
    if let Some(s) = ch.shard_group_duration {
        rp.shard_group_duration = normalised_shard_duration(s, rp.duration);
    }
    if ch.make_default {
        db.default_rp = Some(name.to_string());
    }
    put_database(d.order, db)
}

fn drop_rp(c: &Catalog, database: String, name: String) -> Vec<Change> {
    let Some(d) = c.dbs.get(&database) else {
        return Vec::new();
    };
    let mut db = d.db.clone();
    let before = db.retention_policies.len();
    db.retention_policies.retain(|r| r.name != name);
    if db.retention_policies.len() == before {
        return Vec::new();
    }
    let mut out = crate::shards::drop_with(c, &database, Some(&name));
    // Field types recorded for the policy's shard groups go with it: a policy created
    // again under the same name starts empty.
    let records = d.field_shards_in(&name, ..);
    if !records.is_empty() {
        out.push(Change::DeleteFieldShardTypes {
            database,
            retention_policy: name,
            records,
        });
    }
    // Like InfluxDB, the default keeps naming the dropped policy until another is made
    // default (writes without `rp` then fail with "retention policy not found").
    out.push(Change::PutDatabase {
        order: d.order,
        database: db,
    });
    out
}

fn register_schema(
    c: &Catalog,
    database: String,
    measurement: String,
    fields: Vec<(String, FieldType)>,
    tag_keys: Vec<String>,
) -> Plan {
    let d = c
        .dbs
        .get(&database)
        .ok_or_else(|| db_not_found(&database))?;
    let current = d
        .measurements
        .get(&measurement)
        .and_then(|m| m.schema.as_ref());
    let mut schema = current.cloned().unwrap_or_default();
    let mut changed = false;
    for (f, ty) in fields {
        match schema.fields.get(&f) {
            Some(have) if *have == ty => {}
            Some(have) => return Err(field_type_conflict(&f, &measurement, ty, have)),
            None => {
                schema.fields.insert(f, ty);
                changed = true;
            }
        }
    }
    for k in tag_keys {
        changed |= schema.tag_keys.insert(k);
    }
    if !changed && current.is_some() {
        return Ok(Vec::new());
    }
    Ok(vec![Change::PutSchema {
        database,
        measurement,
        schema,
    }])
}

fn register_field_shards(
    c: &Catalog,
    database: String,
    measurement: String,
    entries: Vec<FieldShardType>,
) -> Plan {
    let d = c
        .dbs
        .get(&database)
        .ok_or_else(|| db_not_found(&database))?;
    let m = d.measurements.get(&measurement);
    let mut fresh = Vec::with_capacity(entries.len());
    for e in entries {
        let have = m.and_then(|m| m.field_shard_type(&e.field, &e.retention_policy, e.shard_start));
        match have {
            Some(t) if t == e.field_type => {}
            Some(t) => return Err(field_type_conflict(&e.field, &measurement, e.field_type, t)),
            None => fresh.push(e),
        }
    }
    if fresh.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![Change::PutFieldShardTypes {
        database,
        measurement,
        entries: fresh,
    }])
}

fn register_series(
    c: &Catalog,
    database: String,
    measurement: String,
    series: Vec<(String, Vec<(String, String)>)>,
) -> Plan {
    let d = c
        .dbs
        .get(&database)
        .ok_or_else(|| db_not_found(&database))?;
    let m = d.measurements.get(&measurement);
    let keep: Vec<bool> = {
        let mut seen: HashSet<&str> = HashSet::with_capacity(series.len());
        series
            .iter()
            .map(|(key, _)| !m.is_some_and(|m| m.contains(key)) && seen.insert(key.as_str()))
            .collect()
    };
    if !keep.contains(&true) {
        return Ok(Vec::new());
    }
    let escaped = SeriesKey::measurement_only(&measurement).0;
    let fresh = series
        .into_iter()
        .zip(keep)
        .filter(|(_, keep)| *keep)
        .map(|((key, tags), _)| {
            let tags = stored_tags(&escaped, &key, tags);
            (key, tags)
        })
        .collect();
    Ok(vec![Change::PutSeries {
        database,
        measurement,
        series: fresh,
    }])
}

fn drop_measurement(c: &Catalog, database: String, measurement: String) -> Vec<Change> {
    let exists = c
        .dbs
        .get(&database)
        .is_some_and(|d| d.measurements.contains_key(&measurement));
    if exists {
        vec![Change::DeleteMeasurement {
            database,
            measurement,
        }]
    } else {
        Vec::new()
    }
}

fn drop_series(c: &Catalog, database: String, measurement: String, keys: &[String]) -> Vec<Change> {
    let Some(m) = c
        .dbs
        .get(&database)
        .and_then(|d| d.measurements.get(&measurement))
    else {
        return Vec::new();
    };
    let mut seen: HashSet<&str> = HashSet::with_capacity(keys.len());
    let present: Vec<String> = keys
        .iter()
        .filter(|k| m.contains(k) && seen.insert(k.as_str()))
        .cloned()
        .collect();
    if present.is_empty() {
        Vec::new()
    } else if present.len() == m.series_len() {
        // A measurement without series no longer shows up, but InfluxDB keeps its shards'
        // field types (a write of another type into one of those shard groups is still a
        // conflict) and storage keeps its columns: the schema stays, without tag keys.
        // (Forgetting the types let a write of another type be acknowledged that storage
        // then refused to store.)
        let mut changes = vec![Change::DeleteSeries {
            database: database.clone(),
            measurement: measurement.clone(),
            keys: present,
        }];
        if let Some(schema) = &m.schema {
            changes.push(Change::PutSchema {
                database,
                measurement,
                schema: hyperbyte_domain::MeasurementSchema {
                    tag_keys: Default::default(),
                    ..schema.clone()
                },
            });
        }
        changes
    } else {
        vec![Change::DeleteSeries {
            database,
            measurement,
            keys: present,
        }]
    }
}

fn add_tombstone(c: &Catalog, t: Tombstone) -> Plan {
    if !c.dbs.contains_key(&t.database) {
        return Err(db_not_found(&t.database));
    }
    Ok(vec![Change::PutTombstone(t)])
}

fn create_cq(c: &Catalog, cq: ContinuousQuery) -> Plan {
    if !c.dbs.contains_key(&cq.database) {
        return Err(db_not_found(&cq.database));
    }
    if let Some((_, have)) = c.cqs.get(&(cq.database.clone(), cq.name.clone())) {
        return if have.query == cq.query {
            Ok(Vec::new())
        } else {
            Err(invalid(ERR_CQ_EXISTS))
        };
    }
    Ok(vec![Change::PutContinuousQuery {
        order: c.next_order,
        query: cq,
    }])
}
