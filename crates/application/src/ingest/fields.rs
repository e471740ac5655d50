//! Field checks of a write: reserved and unstorable field names, and each field's type
//! against the type stored for its (measurement, field, shard group) and the types
//! earlier points of the same request gave it.
//!
//! InfluxDB fixes a field's type per shard group, so that triple is the key of every
//! check. As InfluxDB 1.6 (checked against the reference server), a point whose value
//! meets a stored type of another kind is dropped before anything is created; the new
//! fields of the others are created in line order, and a value meeting another type the
//! same request gave its field drops the point there, the fields before it staying
//! created. In a request that creates the shard group that second kind of conflict
//! refuses the whole request instead. Points of a batch nearly always share one layout (same measurement, field
//! names and types, shard group), so the verdict for the previous point's layout is
//! reused and only a new layout pays for metadata lookups.

use super::report::Report;
use super::IngestionService;
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
    /// The request gave a new field two types in a shard group it creates: InfluxDB
    /// refuses it whole (`field type conflict`), after creating the series of every
    /// point (all in `refused`) and the fields met before the conflict.
    pub(super) refuse_request: bool,
}

/// What one layout's field checks decided.
enum Verdict {
    /// Written.
    Keep,
    /// Dropped, for this reason (a partial write).
    Drop(String),
    /// The whole request is refused (see [`FieldCheck::refuse_request`]).
    RefuseRequest,
}

impl IngestionService {
    /// Runs the field checks over `points` (see the module doc for InfluxDB's order): a
    /// conflict drops the point, except that a new field given two types inside a
    /// request that creates the shard group refuses the whole request.
    pub(super) fn check_fields<'a>(
        &self,
        database: &str,
        rp: &RetentionPolicy,
        points: Vec<PointRef<'a>>,
        report: &mut Report,
    ) -> FieldCheck<'a> {
        let mut check = FieldCheck {
            kept: Vec::with_capacity(points.len()),
            ..FieldCheck::default()
        };
        let mut batch_types = BatchTypes::new();
        let mut memo: Option<LayoutVerdict<'a>> = None;
        let mut points = points.into_iter();
        while let Some(mut p) = points.next() {
            let shard = rp.shard_group_start(p.timestamp);
            // A point with the previous point's layout passed the name checks already.
            if !memo.as_ref().is_some_and(|m| m.matches(&p, shard)) {
                if let Some(reason) = refuse_field_names(&mut p) {
                    report.drop_point(reason);
                    check.refused.push(p);
                    continue;
                }
                let verdict =
                    self.check_layout(database, rp, &p, shard, &mut batch_types, &mut check);
                let conflict = match verdict {
                    Verdict::Keep => None,
                    Verdict::Drop(reason) => Some(reason),
                    Verdict::RefuseRequest => {
                        self.refuse_request(database, &mut check, p, points);
                        return check;
                    }
                };
                memo = Some(LayoutVerdict::of(&p, shard, conflict));
            }
            if let Some(c) = memo.as_ref().and_then(|m| m.conflict.as_ref()) {
                report.drop_point(c.clone());
                check.refused.push(p);
                continue;
            }
            check.kept.push(p);
        }
        check
    }

    /// Moves every point of the request into `refused` (their series are registered, as
    /// InfluxDB indexes them before checking fields), knowing each one's schema.
    fn refuse_request<'a>(
        &self,
        database: &str,
        check: &mut FieldCheck<'a>,
        at: PointRef<'a>,
        rest: impl Iterator<Item = PointRef<'a>>,
    ) {
        check.refuse_request = true;
        let kept = std::mem::take(&mut check.kept);
        let mut refused = std::mem::take(&mut check.refused);
        refused.extend(kept);
        refused.push(at);
        refused.extend(rest);
        for p in &refused {
            if !check.schemas.contains_key(p.measurement.as_ref()) {
                let schema = self.meta.schema(database, &p.measurement);
                check.schemas.insert(p.measurement.to_string(), schema);
            }
        }
        check.refused = refused;
    }

    /// Checks one layout's values in line order, as InfluxDB's two passes do: a value
    /// whose field has a stored type of another kind drops the point before anything is
    /// created; then the new fields are created in order, and a value meeting another
    /// type this request gave its field stops there (the fields before it stay).
    fn check_layout(
        &self,
        database: &str,
        rp: &RetentionPolicy,
        p: &PointRef<'_>,
        shard: i64,
        batch_types: &mut BatchTypes,
        check: &mut FieldCheck<'_>,
    ) -> Verdict {
        if !check.schemas.contains_key(p.measurement.as_ref()) {
            let schema = self.meta.schema(database, &p.measurement);
            check.schemas.insert(p.measurement.to_string(), schema);
        }
        let conflict = |name: &str, t: FieldType, e: FieldType| {
            format!(
                "field type conflict: input field \"{name}\" on measurement \"{}\" is type {t}, already exists as type {e}",
                p.measurement
            )
        };
        let mut fresh = Vec::new();
        for (i, t) in p.checked_fields() {
            let Some((name, _)) = p.fields.get(i) else {
                continue;
            };
            match self
                .meta
                .field_shard_type(database, &p.measurement, name, &rp.name, shard)
            {
                Some(e) if e != t => return Verdict::Drop(conflict(name, t, e)),
                Some(_) => {}
                None => fresh.push((name, t)),
            }
        }
        for (name, t) in fresh {
            let key = (p.measurement.to_string(), name.to_string(), shard);
            match batch_types.get(&key) {
                Some(e) if *e != t => {
                    // A group this request creates refuses it whole.
                    if !self.meta.shard_group_written(database, &rp.name, shard) {
                        return Verdict::RefuseRequest;
                    }
                    return Verdict::Drop(conflict(name, t, *e));
                }
                Some(_) => {}
                None => {
                    batch_types.insert(key, t);
                    check.record_new_field(&p.measurement, name, &rp.name, shard, t);
                }
            }
        }
        Verdict::Keep
    }
}

impl FieldCheck<'_> {
    /// Records a field new to its shard group (and to the schema, when it is).
    fn record_new_field(&mut self, m: &str, name: &str, rp: &str, shard: i64, t: FieldType) {
        self.new_shards
            .entry(m.to_string())
            .or_default()
            .push(FieldShardType {
                field: name.to_string(),
                retention_policy: rp.to_string(),
                shard_start: shard,
                field_type: t,
            });
        let schema = self.schemas.get(m).and_then(Option::as_ref);
        if schema.and_then(|s| s.field_type(name)).is_none() {
            self.new_fields
                .entry(m.to_string())
                .or_default()
                .entry(name.to_string())
                .or_insert(t);
        }
    }
}

/// Drops the fields InfluxDB ignores and refuses the names storage cannot hold; returns
/// why the point is dropped.
///
/// A field named `time` is dropped, and a point left without fields is refused. Storage
/// names a field's columns of other types by the field key, a newline and the type
/// (`hyperbyte_domain::side_field_name`): a key holding a newline could name another
/// field's column, so it is refused. Line protocol cannot carry one; `SELECT … INTO` can.
/// An empty field name is refused too (line protocol's "missing field key"; the query
/// side reads the empty name as "no value", `select/time_fields.rs`).
fn refuse_field_names(p: &mut PointRef<'_>) -> Option<String> {
    if p.fields.iter().any(|(k, _)| k == "time") {
        p.fields.to_mut().retain(|(k, _)| k != "time");
        if p.fields.is_empty() {
            return Some(format!(
                "invalid field name: input field \"time\" on measurement \"{}\" is invalid",
                p.measurement
            ));
        }
    }
    let (k, _) = p
        .fields
        .iter()
        .find(|(k, _)| k.is_empty() || k.contains('\n'))?;
    let why = if k.is_empty() {
        "cannot be empty"
    } else {
        "cannot contain a newline"
    };
    Some(format!(
        "invalid field name: input field {k:?} on measurement \"{}\" is invalid (field keys {why})",
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
    /// The layout's line repeated a field with another type.
    repeated: bool,
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
            repeated: p.repeated_field.is_some(),
        }
    }

    fn matches(&self, p: &PointRef<'_>, shard: i64) -> bool {
        // A line with a repeated field is checked on its own (its values differ from
        // what `fields` holds).
        self.shard == shard
            && p.repeated_field.is_none()
            && !self.repeated
            && self.fields.len() == p.fields.len()
            && same_str(&self.measurement, &p.measurement)
            && self
                .fields
                .iter()
                .zip(&p.fields)
                .all(|((n, t), (pn, pv))| *t == pv.field_type() && same_str(n, pn))
    }
}
