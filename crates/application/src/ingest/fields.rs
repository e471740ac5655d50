//! Field checks of a write: reserved and unstorable field names, and each field's type
//! against the type stored for its (measurement, field, shard group) and the types
//! earlier points of the same request gave it.
//!
//! InfluxDB fixes a field's type per shard group, so that triple is the key of every
//! check. Points of a batch nearly always share one layout (same measurement, field
//! names and types, shard group), so the verdict for the previous point's layout is
//! reused and only a new layout pays for metadata lookups.

use super::report::Report;
use super::{IngestionService, WriteError};
use hyperbyte_domain::point_ref::same_str;
use hyperbyte_domain::{FieldShardType, FieldType, MeasurementSchema, PointRef, RetentionPolicy};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

/// A field's type fixed by an earlier point of the request: (measurement, field, shard).
type BatchTypes = HashMap<(String, String, i64), FieldType>;

/// What the field checks of one request found.
#[derive(Debug, Default)]
pub(super) struct FieldCheck<'a> {
    /// Points that passed, in request order.
    pub(super) kept: Vec<PointRef<'a>>,
    /// Points the field checks refused. InfluxDB indexes a point's series before it
    /// validates the fields, so their series (and tag keys) are still registered.
    pub(super) refused: Vec<PointRef<'a>>,
    /// Fields not yet in their measurement's schema, by measurement.
    pub(super) new_fields: BTreeMap<String, BTreeMap<String, FieldType>>,
    /// Types of fields new to a shard group, by measurement.
    pub(super) new_shards: BTreeMap<String, Vec<FieldShardType>>,
    /// The stored schema of each measurement met (`None`: new measurement).
    pub(super) schemas: HashMap<String, Option<MeasurementSchema>>,
}

impl IngestionService {
    /// Runs the field checks over `points`; a dropped point registers no field (InfluxDB
    /// only creates the fields of points it keeps) but goes to `refused`. Two types for a
    /// new field inside one request refuse the whole request when the request would create
    /// the shard group, and drop the later point when the group exists, as InfluxDB does.
    pub(super) fn check_fields<'a>(
        &self,
        database: &str,
        rp: &RetentionPolicy,
        points: Vec<PointRef<'a>>,
        report: &mut Report,
    ) -> Result<FieldCheck<'a>, WriteError> {
        let mut check = FieldCheck {
            kept: Vec::with_capacity(points.len()),
            ..FieldCheck::default()
        };
        let mut batch_types = BatchTypes::new();
        let mut memo: Option<LayoutVerdict<'a>> = None;
        for mut p in points {
            let shard = rp.shard_group_start(p.timestamp);
            // A point with the previous point's layout passed the name checks already.
            if !memo.as_ref().is_some_and(|m| m.matches(&p, shard)) {
                if let Some(reason) = refuse_field_names(&mut p) {
                    report.drop_point(reason);
                    check.refused.push(p);
                    continue;
                }
                let conflict =
                    self.check_layout(database, rp, &p, shard, &mut batch_types, &mut check)?;
                memo = Some(LayoutVerdict::of(&p, shard, conflict));
            }
            if let Some(c) = memo.as_ref().and_then(|m| m.conflict.as_ref()) {
                report.drop_point(c.clone());
                check.refused.push(p);
                continue;
            }
            check.kept.push(p);
        }
        Ok(check)
    }

    /// Checks one layout's field types; returns the conflict that drops its points, or
    /// records the fields new to the schema and to the shard group.
    fn check_layout(
        &self,
        database: &str,
        rp: &RetentionPolicy,
        p: &PointRef<'_>,
        shard: i64,
        batch_types: &mut BatchTypes,
        check: &mut FieldCheck<'_>,
    ) -> Result<Option<String>, WriteError> {
        if !check.schemas.contains_key(p.measurement.as_ref()) {
            let schema = self.meta.schema(database, &p.measurement);
            check.schemas.insert(p.measurement.to_string(), schema);
        }
        // First every check, then the registrations.
        let mut fresh = Vec::new();
        for (i, (name, value)) in p.fields.iter().enumerate() {
            let t = value.field_type();
            let stored =
                self.meta
                    .field_shard_type(database, &p.measurement, name, &rp.name, shard);
            match stored {
                Some(e) if e != t => {
                    return Ok(Some(format!(
                        "field type conflict: input field \"{name}\" on measurement \"{}\" is type {t}, already exists as type {e}",
                        p.measurement
                    )));
                }
                Some(_) => {}
                None => {
                    let key = (p.measurement.to_string(), name.to_string(), shard);
                    match batch_types.get(&key) {
                        // InfluxDB 1.6 refuses the whole request when it creates the shard
                        // group, and drops just this point once the group exists.
                        Some(b) if *b != t => {
                            if !self.meta.shard_group_written(database, &rp.name, shard) {
                                return Err(WriteError::Parse("field type conflict".to_string()));
                            }
                            return Ok(Some(format!(
                                "field type conflict: input field \"{name}\" on measurement \"{}\" is type {t}, already exists as type {b}",
                                p.measurement
                            )));
                        }
                        Some(_) => {}
                        None => fresh.push((i, key)),
                    }
                }
            }
        }
        let schema = check
            .schemas
            .get(p.measurement.as_ref())
            .and_then(Option::as_ref);
        for (i, key) in fresh {
            let (name, value) = &p.fields[i];
            let t = value.field_type();
            batch_types.insert(key, t);
            check
                .new_shards
                .entry(p.measurement.to_string())
                .or_default()
                .push(FieldShardType {
                    field: name.to_string(),
                    retention_policy: rp.name.clone(),
                    shard_start: shard,
                    field_type: t,
                });
            if schema.and_then(|s| s.field_type(name)).is_none() {
                check
                    .new_fields
                    .entry(p.measurement.to_string())
                    .or_default()
                    .entry(name.to_string())
                    .or_insert(t);
            }
        }
        Ok(None)
    }
}

/// Drops the fields InfluxDB ignores and refuses the names storage cannot hold; returns
/// why the point is dropped.
///
/// A field named `time` is dropped, and a point left without fields is refused. Storage
/// names a field's columns of other types by the field key, a newline and the type
/// (`hyperbyte_domain::side_field_name`): a key holding a newline could name another
/// field's column, so it is refused. Line protocol cannot carry one; `SELECT … INTO` can.
fn refuse_field_names(p: &mut PointRef<'_>) -> Option<String> {
    if p.fields.iter().any(|(k, _)| k == "time") {
        p.fields.retain(|(k, _)| k != "time");
        if p.fields.is_empty() {
            return Some(format!(
                "invalid field name: input field \"time\" on measurement \"{}\" is invalid",
                p.measurement
            ));
        }
    }
    let (k, _) = p.fields.iter().find(|(k, _)| k.contains('\n'))?;
    Some(format!(
        "invalid field name: input field {k:?} on measurement \"{}\" is invalid (field keys cannot contain a newline)",
        p.measurement
    ))
}

/// The field-check verdict for one point layout: measurement, shard group, and field
/// names with types. Names are borrowed like the points' (copies of `Cow::Borrowed` are
/// free).
struct LayoutVerdict<'a> {
    measurement: Cow<'a, str>,
    shard: i64,
    fields: Vec<(Cow<'a, str>, FieldType)>,
    /// The conflict message when the layout's points are dropped.
    conflict: Option<String>,
}

impl<'a> LayoutVerdict<'a> {
    fn of(p: &PointRef<'a>, shard: i64, conflict: Option<String>) -> Self {
        LayoutVerdict {
            measurement: p.measurement.clone(),
            shard,
            fields: p
                .fields
                .iter()
                .map(|(n, v)| (n.clone(), v.field_type()))
                .collect(),
            conflict,
        }
    }

    fn matches(&self, p: &PointRef<'_>, shard: i64) -> bool {
        self.shard == shard
            && self.fields.len() == p.fields.len()
            && same_str(&self.measurement, &p.measurement)
            && self
                .fields
                .iter()
                .zip(&p.fields)
                .all(|((n, t), (pn, pv))| *t == pv.field_type() && same_str(n, pn))
    }
}
