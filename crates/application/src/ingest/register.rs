//! Registration of what a write brings that metadata does not know yet: fields, tag keys,
//! field types per shard group, series. It happens before the WAL append, so a query
//! knows a point's columns as soon as the point is acknowledged.
//!
//! Schema registration runs under the service's schema lock and re-checks against the
//! current schema: another request may have registered the same field meanwhile, and if
//! it gave it another type in the same shard group, this request's points carrying the
//! losing type are dropped as a field type conflict (what InfluxDB answers the loser).

use super::report::Report;
use super::series::NewSeries;
use super::{IngestionService, WriteError};
use hyperbyte_domain::{FieldShardType, FieldType, MetaCommand, PointRef, RetentionPolicy};
use std::collections::{BTreeMap, BTreeSet};

/// Schema a write brings, by measurement.
#[derive(Debug, Default)]
pub(super) struct NewSchema {
    /// Fields not yet in the schema.
    pub(super) fields: BTreeMap<String, BTreeMap<String, FieldType>>,
    /// Tag keys not yet in the schema.
    pub(super) tags: BTreeMap<String, BTreeSet<String>>,
    /// Field types new to a shard group.
    pub(super) shards: BTreeMap<String, Vec<FieldShardType>>,
}

impl IngestionService {
    /// Registers new fields, tag keys and shard field types of every measurement met.
    pub(super) async fn register_schema(
        &self,
        database: &str,
        rp: &RetentionPolicy,
        mut new: NewSchema,
        points: &mut Vec<PointRef<'_>>,
        report: &mut Report,
    ) -> Result<(), WriteError> {
        if new.fields.is_empty() && new.tags.is_empty() && new.shards.is_empty() {
            return Ok(());
        }
        let _guard = self.schema_lock.lock().await;
        let measurements: BTreeSet<String> = new
            .fields
            .keys()
            .chain(new.tags.keys())
            .chain(new.shards.keys())
            .cloned()
            .collect();
        for m in &measurements {
            self.register_fields_and_tags(database, m, new.fields.get(m), new.tags.get(m))
                .await?;
            let shards = new.shards.remove(m.as_str()).unwrap_or_default();
            self.register_shard_types(database, rp, m, shards, points, report)
                .await?;
        }
        Ok(())
    }

    /// Adds the fields and tag keys the measurement's current schema lacks.
    async fn register_fields_and_tags(
        &self,
        database: &str,
        m: &str,
        fields: Option<&BTreeMap<String, FieldType>>,
        tags: Option<&BTreeSet<String>>,
    ) -> Result<(), WriteError> {
        let current = self.meta.schema(database, m).unwrap_or_default();
        let fields: Vec<(String, FieldType)> = fields
            .into_iter()
            .flatten()
            .filter(|(name, _)| current.field_type(name).is_none())
            .map(|(name, t)| (name.clone(), *t))
            .collect();
        let tag_keys: Vec<String> = tags
            .into_iter()
            .flatten()
            .filter(|k| !current.tag_keys.contains(*k))
            .cloned()
            .collect();
        if !fields.is_empty() || !tag_keys.is_empty() {
            self.meta
                .apply(MetaCommand::RegisterSchema {
                    database: database.to_string(),
                    measurement: m.to_string(),
                    fields,
                    tag_keys,
                })
                .await?;
        }
        Ok(())
    }

    /// Registers the field types new to their shard groups; a type another request
    /// registered first wins, and this request's points carrying the other type go.
    async fn register_shard_types(
        &self,
        database: &str,
        rp: &RetentionPolicy,
        m: &str,
        shards: Vec<FieldShardType>,
        points: &mut Vec<PointRef<'_>>,
        report: &mut Report,
    ) -> Result<(), WriteError> {
        let mut entries = Vec::new();
        for e in shards {
            let have = self.meta.field_shard_type(
                database,
                m,
                &e.field,
                &e.retention_policy,
                e.shard_start,
            );
            match have {
                None => entries.push(e),
                Some(h) if h == e.field_type => {}
                Some(h) => {
                    let before = points.len();
                    points.retain(|p| {
                        !(p.measurement.as_ref() == m
                            && rp.shard_group_start(p.timestamp) == e.shard_start
                            && p.fields
                                .iter()
                                .any(|(n, v)| n.as_ref() == e.field && v.field_type() != h))
                    });
                    report.drop_points(before - points.len(), format!(
                        "field type conflict: input field \"{}\" on measurement \"{m}\" is type {}, already exists as type {h}",
                        e.field, e.field_type
                    ));
                }
            }
        }
        if !entries.is_empty() {
            self.meta
                .apply(MetaCommand::RegisterFieldShards {
                    database: database.to_string(),
                    measurement: m.to_string(),
                    entries,
                })
                .await?;
        }
        Ok(())
    }

    /// Creates the shard groups the points need, as InfluxDB maps every point to its
    /// group (creating missing ones) before any field or series check: a write whose
    /// points are all refused later still leaves its groups.
    pub(super) async fn register_shard_groups(
        &self,
        database: &str,
        rp: &RetentionPolicy,
        points: &[PointRef<'_>],
    ) -> Result<(), WriteError> {
        let mut times: Vec<i64> = Vec::new();
        // Spans known to hold a group (existing, or one this write creates), by start:
        // points of one batch mostly share a few groups, and only a time outside every
        // known span costs a lookup.
        let mut known: BTreeMap<i64, i64> = BTreeMap::new();
        for p in points {
            let t = p.timestamp;
            let held = known
                .range(..=t)
                .next_back()
                .is_some_and(|(_, end)| t < *end);
            if held {
                continue;
            }
            let span = match self.meta.shard_group_span(database, &rp.name, t) {
                Some(span) => span,
                None => {
                    times.push(t);
                    let start = rp.shard_group_start(t);
                    (start, rp.shard_group_end(start))
                }
            };
            known.insert(span.0, span.1);
        }
        if times.is_empty() {
            return Ok(());
        }
        self.meta
            .apply(MetaCommand::CreateShardGroups {
                database: database.to_string(),
                retention_policy: rp.name.clone(),
                times,
            })
            .await?;
        Ok(())
    }

    /// Adds the new series to the index, one command per measurement.
    pub(super) async fn register_series(
        &self,
        database: &str,
        new_series: BTreeMap<String, Vec<NewSeries>>,
    ) -> Result<(), WriteError> {
        for (m, series) in new_series {
            self.meta
                .apply(MetaCommand::RegisterSeries {
                    database: database.to_string(),
                    measurement: m,
                    series,
                })
                .await?;
        }
        Ok(())
    }
}
