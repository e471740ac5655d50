//! The ingestion service: validates a write against metadata and makes it durable.
//!
//! Order of work for one request, mirroring InfluxDB 1.x:
//! 1. resolve the database (`404 database not found`) and retention policy;
//! 2. parse the body (bad lines are dropped and reported, good lines are kept);
//! 3. check each point against the stored and in-batch schema (type conflicts, the `time`
//!    tag key), the retention window, and the cardinality limits;
//! 4. register new fields, tag keys and series in metadata;
//! 5. append the surviving points to the WAL; return only once it is durable.
//!
//! It never answers a server-side failure as a client error: WAL and metadata storage
//! errors become [`WriteError::Internal`].

use crate::backlog::WriteBacklog;
use hyperbyte_domain::point_ref::same_str;
use hyperbyte_domain::wal::codec::encode_points;
use hyperbyte_domain::{
    FieldShardType, FieldType, MeasurementSchema, MetaCommand, Point, PointRef, Precision,
    SeriesKey,
};
use hyperbyte_ports::{Clock, MetaError, MetadataPort, WalPort};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// Cardinality limits; `0` disables a limit (InfluxDB's defaults are 1,000,000 series and
/// 100,000 values per tag; both are configurable).
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// Maximum series per database.
    pub max_series_per_database: usize,
    /// Maximum distinct values per tag key per measurement.
    pub max_values_per_tag: usize,
}

/// One `/write` request.
#[derive(Debug, Clone, Copy)]
pub struct WriteRequest<'a> {
    /// Target database.
    pub database: &'a str,
    /// Target retention policy; `None` or empty means the default.
    pub retention_policy: Option<&'a str>,
    /// Timestamp precision of the body.
    pub precision: Precision,
    /// Line-protocol body (already decompressed).
    pub body: &'a [u8],
}

/// Why a write was refused or only partly applied.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// 404: the database does not exist.
    #[error("database not found: {0:?}")]
    DatabaseNotFound(String),
    /// 500 (as InfluxDB answers): the retention policy does not exist.
    #[error("retention policy not found: {0}")]
    RetentionPolicyNotFound(String),
    /// 400: nothing could be parsed.
    #[error("{0}")]
    Parse(String),
    /// 400: some points were written, some dropped.
    #[error("partial write: {message} dropped={dropped}")]
    Partial {
        /// Reason(s).
        message: String,
        /// Points dropped after parsing (parse failures are not counted, as in InfluxDB).
        dropped: usize,
    },
    /// 503: too many acknowledged points wait for the flush into storage; the client
    /// should retry (see [`crate::backlog`]).
    #[error("write backlog full: {points} points are waiting to be flushed into storage (limit {limit}); retry later")]
    Overloaded {
        /// Points waiting.
        points: u64,
        /// The configured limit.
        limit: u64,
    },
    /// 500-class: a server-side failure; the client should retry.
    #[error("{0}")]
    Internal(String),
}

impl WriteError {
    /// The HTTP status InfluxDB answers with.
    pub fn status(&self) -> u16 {
        match self {
            WriteError::DatabaseNotFound(_) => 404,
            WriteError::RetentionPolicyNotFound(_) => 500,
            WriteError::Parse(_) | WriteError::Partial { .. } => 400,
            WriteError::Overloaded { .. } => 503,
            WriteError::Internal(_) => 500,
        }
    }
}

impl From<MetaError> for WriteError {
    fn from(e: MetaError) -> Self {
        WriteError::Internal(e.to_string())
    }
}

/// Validates writes and appends them to the WAL.
#[derive(Debug)]
pub struct IngestionService {
    meta: Arc<dyn MetadataPort>,
    wal: Arc<dyn WalPort>,
    clock: Arc<dyn Clock>,
    limits: Limits,
    /// Serialises schema registration so two requests cannot register conflicting types.
    schema_lock: tokio::sync::Mutex<()>,
    /// Wakes the flush service when the WAL grows.
    wal_grew: Option<Arc<tokio::sync::Notify>>,
    /// Unflushed points; writes are refused while it is full.
    backlog: Option<Arc<WriteBacklog>>,
}

/// Result of a successful (possibly partial) write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOutcome {
    /// WAL sequence of the entry, if any point was kept.
    pub sequence: Option<u64>,
    /// Points written.
    pub points: usize,
}

impl IngestionService {
    /// Creates the service.
    pub fn new(
        meta: Arc<dyn MetadataPort>,
        wal: Arc<dyn WalPort>,
        clock: Arc<dyn Clock>,
        limits: Limits,
    ) -> Self {
        IngestionService {
            meta,
            wal,
            clock,
            limits,
            schema_lock: tokio::sync::Mutex::new(()),
            wal_grew: None,
            backlog: None,
        }
    }

    /// Counts appended points into `backlog` and refuses writes while it is full.
    pub fn with_backlog(mut self, backlog: Arc<WriteBacklog>) -> Self {
        self.backlog = Some(backlog);
        self
    }

    fn check_backlog(&self) -> Result<(), WriteError> {
        match &self.backlog {
            Some(b) if b.is_full() => Err(WriteError::Overloaded {
                points: b.points(),
                limit: b.limit(),
            }),
            _ => Ok(()),
        }
    }

    /// Notifies `notify` after every append (the flush service listens).
    pub fn with_wal_notify(mut self, notify: Arc<tokio::sync::Notify>) -> Self {
        self.wal_grew = Some(notify);
        self
    }

    /// Writes a line-protocol body.
    pub async fn write(&self, req: WriteRequest<'_>) -> Result<WriteOutcome, WriteError> {
        if self.meta.database(req.database).is_none() {
            return Err(WriteError::DatabaseNotFound(req.database.to_string()));
        }
        self.check_backlog()?;
        let now = self.clock.now_nanos();
        // Points borrow their names from the body: they are validated and encoded into
        // the WAL entry without ever being copied into owned strings.
        let parsed = hyperbyte_lineprotocol::parse_refs(req.body, req.precision, now);
        if parsed.duplicate_field_type_conflict {
            // One line repeats a field with two types: InfluxDB rejects the whole request.
            return Err(WriteError::Parse("field type conflict".to_string()));
        }
        self.write_refs(
            req.database,
            req.retention_policy,
            parsed.points,
            parsed.errors,
        )
        .await
    }

    /// Writes points that did not come from line protocol (`SELECT ... INTO`, continuous
    /// queries), through the same checks as `/write`. `parse_errors` are reported as
    /// InfluxDB reports bad lines.
    pub async fn write_points(
        &self,
        database: &str,
        retention_policy: Option<&str>,
        points: Vec<Point>,
        parse_errors: Vec<String>,
    ) -> Result<WriteOutcome, WriteError> {
        self.check_backlog()?;
        let views = points.iter().map(PointRef::from_point).collect();
        self.write_refs(database, retention_policy, views, parse_errors)
            .await
    }

    /// The checks and the WAL append shared by [`Self::write`] and [`Self::write_points`].
    async fn write_refs(
        &self,
        database: &str,
        retention_policy: Option<&str>,
        points: Vec<PointRef<'_>>,
        parse_errors: Vec<String>,
    ) -> Result<WriteOutcome, WriteError> {
        let req = WriteRequest {
            database,
            retention_policy,
            precision: Precision::Nanoseconds,
            body: &[],
        };
        let db = self
            .meta
            .database(req.database)
            .ok_or_else(|| WriteError::DatabaseNotFound(req.database.to_string()))?;
        let rp = db
            .resolve_rp(req.retention_policy)
            .ok_or_else(|| {
                WriteError::RetentionPolicyNotFound(
                    req.retention_policy.unwrap_or_default().to_string(),
                )
            })?
            .clone();
        let now = self.clock.now_nanos();
        let parse_error = if parse_errors.is_empty() {
            None
        } else {
            Some(parse_errors.join("\n"))
        };
        if points.is_empty() {
            return match parse_error {
                Some(e) => Err(WriteError::Parse(e)),
                None => Ok(WriteOutcome {
                    sequence: None,
                    points: 0,
                }),
            };
        }

        let mut points = points;
        let mut errors: Vec<String> = Vec::new();
        let mut dropped = 0usize;

        // Retention window: points older than now - duration are dropped.
        if rp.duration > 0 {
            let min_time = now.saturating_sub(rp.duration);
            let before = points.len();
            points.retain(|p| p.timestamp >= min_time);
            let n = before - points.len();
            if n > 0 {
                dropped += n;
                errors.push("points beyond retention policy".to_string());
            }
        }

        // Field checks against stored and in-batch types. InfluxDB fixes a field's type
        // per shard group, so the key of every check is (measurement, field, shard group).
        // Points of a batch nearly always share one layout (same measurement, field names
        // and types, shard group), so the verdict for the previous point's layout is
        // reused and only a new layout pays for lookups.
        let mut batch_types: HashMap<(String, String, i64), FieldType> = HashMap::new();
        let mut new_fields: BTreeMap<String, BTreeMap<String, FieldType>> = BTreeMap::new();
        let mut new_shards: BTreeMap<String, Vec<FieldShardType>> = BTreeMap::new();
        let mut schemas: HashMap<String, Option<MeasurementSchema>> = HashMap::new();
        let mut memo: Option<LayoutVerdict<'_>> = None;
        let mut kept = Vec::with_capacity(points.len());
        for mut p in points {
            let shard = rp.shard_group_start(p.timestamp);
            let same_layout = memo.as_ref().is_some_and(|m| m.matches(&p, shard));
            // A field named `time` is dropped; a point left without fields is rejected.
            // (A point with the previous point's layout has none.)
            if !same_layout && p.fields.iter().any(|(k, _)| k == "time") {
                p.fields.retain(|(k, _)| k != "time");
                if p.fields.is_empty() {
                    dropped += 1;
                    push_once(
                        &mut errors,
                        format!(
                            "invalid field name: input field \"time\" on measurement \"{}\" is invalid",
                            p.measurement
                        ),
                    );
                    continue;
                }
            }
            // Storage names a field's columns of other types by the field key, a newline
            // and the type (`hyperbyte_domain::side_field_name`): a key holding a newline
            // could name another field's column, so it is refused. Line protocol cannot
            // carry one; `SELECT … INTO` can.
            if !same_layout {
                if let Some((k, _)) = p.fields.iter().find(|(k, _)| k.contains('\n')) {
                    dropped += 1;
                    push_once(
                        &mut errors,
                        format!(
                            "invalid field name: input field {k:?} on measurement \"{}\" is invalid (field keys cannot contain a newline)",
                            p.measurement
                        ),
                    );
                    continue;
                }
            }
            if !same_layout {
                if !schemas.contains_key(p.measurement.as_ref()) {
                    let schema = self.meta.schema(req.database, &p.measurement);
                    schemas.insert(p.measurement.to_string(), schema);
                }
                let schema = schemas.get(p.measurement.as_ref()).and_then(Option::as_ref);
                // First every check, so a dropped point registers nothing (InfluxDB only
                // creates the fields of points it keeps).
                let mut conflict = None;
                let mut fresh = Vec::new();
                for (i, (name, value)) in p.fields.iter().enumerate() {
                    let t = value.field_type();
                    let stored = self.meta.field_shard_type(
                        req.database,
                        &p.measurement,
                        name,
                        &rp.name,
                        shard,
                    );
                    match stored {
                        Some(e) if e != t => {
                            conflict = Some(format!(
                                "field type conflict: input field \"{name}\" on measurement \"{}\" is type {t}, already exists as type {e}",
                                p.measurement
                            ));
                            break;
                        }
                        Some(_) => {}
                        None => {
                            let key = (p.measurement.to_string(), name.to_string(), shard);
                            match batch_types.get(&key) {
                                // Two types for a new field inside one request: InfluxDB
                                // rejects the whole request and writes nothing.
                                Some(b) if *b != t => {
                                    return Err(WriteError::Parse(
                                        "field type conflict".to_string(),
                                    ))
                                }
                                Some(_) => {}
                                None => fresh.push((i, key)),
                            }
                        }
                    }
                }
                if conflict.is_none() {
                    for (i, key) in fresh {
                        let (name, value) = &p.fields[i];
                        let t = value.field_type();
                        batch_types.insert(key, t);
                        new_shards
                            .entry(p.measurement.to_string())
                            .or_default()
                            .push(FieldShardType {
                                field: name.to_string(),
                                retention_policy: rp.name.clone(),
                                shard_start: shard,
                                field_type: t,
                            });
                        if schema.and_then(|s| s.field_type(name)).is_none() {
                            new_fields
                                .entry(p.measurement.to_string())
                                .or_default()
                                .entry(name.to_string())
                                .or_insert(t);
                        }
                    }
                }
                memo = Some(LayoutVerdict::of(&p, shard, conflict));
            }
            if let Some(c) = memo.as_ref().and_then(|m| m.conflict.as_ref()) {
                dropped += 1;
                push_once(&mut errors, c.clone());
                continue;
            }
            kept.push(p);
        }

        // New series and cardinality limits.
        let mut new_series: BTreeMap<String, Vec<NewSeries>> = BTreeMap::new();
        // Series already checked in this request, by a hash of (measurement, tags), as
        // indices of a point of that series in `kept`: a request repeats few series many
        // times, and building the escaped key and looking it up in the index costs more
        // than comparing the tags.
        let mut checked: HashMap<u64, Vec<usize>> = HashMap::new();
        let mut series_total = self.meta.series_count(req.database);
        let mut tag_value_counts: HashMap<(String, String), usize> = HashMap::new();
        let mut new_tag_values: HashSet<(String, String, String)> = HashSet::new();
        let mut new_tags: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut keep = vec![true; kept.len()];
        for (i, p) in kept.iter().enumerate() {
            let h = p.series();
            let same = |j: &usize| kept[*j].same_series(p);
            if checked.get(&h).is_some_and(|v| v.iter().any(same)) {
                continue;
            }
            if p.tags.iter().any(|(k, _)| k == "time") {
                dropped += 1;
                keep[i] = false;
                push_once(
                    &mut errors,
                    format!(
                        "invalid tag key: input tag \"time\" on measurement \"{}\" is invalid",
                        p.measurement
                    ),
                );
                continue;
            }
            let key = SeriesKey::new(&p.measurement, &p.tags).0;
            if self.meta.has_series(req.database, &key) {
                checked.entry(h).or_default().push(i);
                continue;
            }
            if self.limits.max_series_per_database > 0
                && series_total >= self.limits.max_series_per_database
            {
                dropped += 1;
                keep[i] = false;
                push_once(
                    &mut errors,
                    format!(
                        "max-series-per-database limit exceeded: db={} ({}/{})",
                        req.database, series_total, self.limits.max_series_per_database
                    ),
                );
                continue;
            }
            if self.limits.max_values_per_tag > 0 {
                let mut over = None;
                for (k, v) in &p.tags {
                    let ck = (p.measurement.to_string(), k.to_string());
                    let count = *tag_value_counts.entry(ck).or_insert_with(|| {
                        self.meta.tag_value_count(req.database, &p.measurement, k)
                    });
                    let triple = (p.measurement.to_string(), k.to_string(), v.to_string());
                    let is_new = !new_tag_values.contains(&triple)
                        && !self.meta.has_tag_value(req.database, &p.measurement, k, v);
                    if is_new && count >= self.limits.max_values_per_tag {
                        over = Some(format!(
                            "max-values-per-tag limit exceeded ({}/{}): measurement=\"{}\" tag=\"{}\" value=\"{}\"",
                            count + 1,
                            self.limits.max_values_per_tag,
                            p.measurement,
                            k,
                            v
                        ));
                        break;
                    }
                }
                if let Some(o) = over {
                    dropped += 1;
                    keep[i] = false;
                    push_once(&mut errors, o);
                    continue;
                }
                for (k, v) in &p.tags {
                    let triple = (p.measurement.to_string(), k.to_string(), v.to_string());
                    if new_tag_values.insert(triple) {
                        *tag_value_counts
                            .entry((p.measurement.to_string(), k.to_string()))
                            .or_default() += 1;
                    }
                }
            }
            series_total += 1;
            checked.entry(h).or_default().push(i);
            // A new series may bring new tag keys (an indexed one never does: schemas are
            // registered before series).
            let schema = schemas.get(p.measurement.as_ref()).and_then(Option::as_ref);
            for (k, _) in &p.tags {
                if !schema.is_some_and(|s| s.tag_keys.contains(k.as_ref())) {
                    new_tags
                        .entry(p.measurement.to_string())
                        .or_default()
                        .insert(k.to_string());
                }
            }
            let tags = p
                .tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            new_series
                .entry(p.measurement.to_string())
                .or_default()
                .push((key, tags));
        }
        let mut final_points = kept;
        if keep.contains(&false) {
            let mut flags = keep.into_iter();
            final_points.retain(|_| flags.next().unwrap_or(true));
        }

        // Register schema and series before the WAL append, so queries know the columns.
        if !new_fields.is_empty() || !new_tags.is_empty() || !new_shards.is_empty() {
            let _guard = self.schema_lock.lock().await;
            let measurements: BTreeSet<String> = new_fields
                .keys()
                .chain(new_tags.keys())
                .chain(new_shards.keys())
                .cloned()
                .collect();
            for m in measurements {
                // Re-check under the lock: another request may have registered meanwhile.
                let m = &m;
                let current = self.meta.schema(req.database, m).unwrap_or_default();
                let fields: Vec<(String, FieldType)> = new_fields
                    .get(m)
                    .map(|f| {
                        f.iter()
                            .filter(|(name, _)| current.field_type(name).is_none())
                            .map(|(name, t)| (name.clone(), *t))
                            .collect()
                    })
                    .unwrap_or_default();
                let tag_keys: Vec<String> = new_tags
                    .get(m)
                    .map(|t| {
                        t.iter()
                            .filter(|k| !current.tag_keys.contains(*k))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                if !fields.is_empty() || !tag_keys.is_empty() {
                    self.meta
                        .apply(MetaCommand::RegisterSchema {
                            database: req.database.to_string(),
                            measurement: m.clone(),
                            fields,
                            tag_keys,
                        })
                        .await?;
                }
                let mut entries = Vec::new();
                for e in new_shards.remove(m.as_str()).unwrap_or_default() {
                    let have = self.meta.field_shard_type(
                        req.database,
                        m,
                        &e.field,
                        &e.retention_policy,
                        e.shard_start,
                    );
                    match have {
                        None => entries.push(e),
                        Some(h) if h == e.field_type => {}
                        Some(h) => {
                            // Lost a race: drop this measurement's points carrying the
                            // field with the other type in that shard group.
                            let before = final_points.len();
                            final_points.retain(|p| {
                                !(p.measurement.as_ref() == m.as_str()
                                    && rp.shard_group_start(p.timestamp) == e.shard_start
                                    && p.fields
                                        .iter()
                                        .any(|(n, v)| n.as_ref() == e.field && v.field_type() != h))
                            });
                            dropped += before - final_points.len();
                            push_once(&mut errors, format!(
                                "field type conflict: input field \"{}\" on measurement \"{m}\" is type {}, already exists as type {h}",
                                e.field, e.field_type
                            ));
                        }
                    }
                }
                if !entries.is_empty() {
                    self.meta
                        .apply(MetaCommand::RegisterFieldShards {
                            database: req.database.to_string(),
                            measurement: m.clone(),
                            entries,
                        })
                        .await?;
                }
            }
        }
        for (m, series) in new_series {
            self.meta
                .apply(MetaCommand::RegisterSeries {
                    database: req.database.to_string(),
                    measurement: m,
                    series,
                })
                .await?;
        }

        let written = final_points.len();
        let sequence = if final_points.is_empty() {
            None
        } else {
            let entry = encode_points(req.database, &rp.name, &final_points)
                .map_err(|e| WriteError::Internal(e.to_string()))?;
            drop(final_points);
            let seq = self
                .wal
                .append_encoded(entry)
                .await
                .map_err(|e| WriteError::Internal(e.to_string()))?;
            if let Some(b) = &self.backlog {
                b.add(written as u64);
            }
            if let Some(n) = &self.wal_grew {
                n.notify_one();
            }
            Some(seq)
        };

        // Storage-side rejections are reported alone; parse errors only when there are none.
        if errors.is_empty() {
            if let Some(pe) = parse_error {
                errors.push(pe);
            }
        }
        if errors.is_empty() {
            Ok(WriteOutcome {
                sequence,
                points: written,
            })
        } else {
            Err(WriteError::Partial {
                message: errors.join("\n"),
                dropped,
            })
        }
    }
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

/// A series to register: canonical key and sorted tags.
type NewSeries = (String, Vec<(String, String)>);

fn push_once(errors: &mut Vec<String>, e: String) {
    if !errors.contains(&e) {
        errors.push(e);
    }
}
