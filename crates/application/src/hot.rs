//! The recent-data tier: the newest flushed points of every table, in memory, so that
//! narrow queries over recent data (dashboards, TSBS's single-host and lastpoint queries)
//! skip the storage engine's per-query floor (measured: about 4–5 ms for any key-filtered
//! chDB read, where InfluxDB answers a one-host hour in under 2 ms).
//!
//! Layout: per (database, retention policy, measurement) table, per series (canonical
//! key, shared tag map), a time-sorted column of timestamps and one column per field.
//! The flush service feeds it through [`HotSink`], a decorator of the storage sink: every
//! batch is inserted here right after storage accepted it, with InfluxDB's field-wise
//! overwrite semantics.
//!
//! Invariant (*coverage*): for each table the tier knows a time `covered_from` such that
//! every point stored in that table at or after `covered_from` is also here, with the
//! same values. So a read whose time range starts at or after `covered_from` may be
//! answered from the tier alone ([`HotTier::covers`]). How it is kept:
//! - the first time this process flushes into a table, before that batch reaches
//!   storage, `covered_from` becomes one past the table's latest stored time (any
//!   earlier data predates the tier); a table that does not exist yet is covered fully;
//! - a point earlier than `covered_from` is left out (it is outside the claim);
//! - anything that removes stored data ([`HotAdmin`]: deletes, drops, retention) removes
//!   the table's rows here and moves `covered_from` past everything flushed so far;
//! - over the memory budget, the oldest rows of the biggest table go and `covered_from`
//!   moves forward past them.

use crate::query::ReadFilter;
use hyperbyte_domain::query::Value;
use hyperbyte_domain::{FieldRef, MeasurementSchema, PointRef, RetentionPolicy, SeriesKey};
use hyperbyte_ports::{PointsSinkPort, QueryError, QueryPort, SinkError, StorageAdminPort};
use parking_lot::RwLock;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// (database, retention policy, measurement).
type TableId = (String, String, String);

/// One field column of a series; `present[i]` says whether row `i` has a value.
#[derive(Debug, Clone)]
enum Values {
    Float(Vec<f64>),
    Integer(Vec<i64>),
    Unsigned(Vec<u64>),
    Boolean(Vec<bool>),
    String(Vec<Arc<str>>),
}

#[derive(Debug, Clone)]
struct Column {
    values: Values,
    present: Vec<bool>,
}

impl Column {
    fn new(v: &FieldRef<'_>, len: usize) -> Column {
        let values = match v {
            FieldRef::Float(_) => Values::Float(vec![0.0; len]),
            FieldRef::Integer(_) => Values::Integer(vec![0; len]),
            FieldRef::Unsigned(_) => Values::Unsigned(vec![0; len]),
            FieldRef::Boolean(_) => Values::Boolean(vec![false; len]),
            FieldRef::String(_) => Values::String(vec![Arc::from(""); len]),
        };
        Column {
            values,
            present: vec![false; len],
        }
    }

    /// Inserts an absent row at `i`.
    fn insert_absent(&mut self, i: usize) {
        match &mut self.values {
            Values::Float(v) => v.insert(i, 0.0),
            Values::Integer(v) => v.insert(i, 0),
            Values::Unsigned(v) => v.insert(i, 0),
            Values::Boolean(v) => v.insert(i, false),
            Values::String(v) => v.insert(i, Arc::from("")),
        }
        self.present.insert(i, false);
    }

    /// Sets row `i`; `false` when the value's type is not the column's.
    fn set(&mut self, i: usize, v: &FieldRef<'_>) -> bool {
        match (&mut self.values, v) {
            (Values::Float(c), FieldRef::Float(x)) => c[i] = *x,
            (Values::Integer(c), FieldRef::Integer(x)) => c[i] = *x,
            (Values::Unsigned(c), FieldRef::Unsigned(x)) => c[i] = *x,
            (Values::Boolean(c), FieldRef::Boolean(x)) => c[i] = *x,
            (Values::String(c), FieldRef::String(x)) => c[i] = Arc::from(x.as_ref()),
            _ => return false,
        }
        self.present[i] = true;
        true
    }

    fn get(&self, i: usize) -> Option<Value> {
        if !self.present[i] {
            return None;
        }
        Some(match &self.values {
            Values::Float(c) => Value::Float(c[i]),
            Values::Integer(c) => Value::Integer(c[i]),
            Values::Unsigned(c) => Value::Unsigned(c[i]),
            Values::Boolean(c) => Value::Boolean(c[i]),
            Values::String(c) => Value::String(c[i].to_string()),
        })
    }

    fn drain_front(&mut self, n: usize) {
        match &mut self.values {
            Values::Float(c) => drop(c.drain(..n)),
            Values::Integer(c) => drop(c.drain(..n)),
            Values::Unsigned(c) => drop(c.drain(..n)),
            Values::Boolean(c) => drop(c.drain(..n)),
            Values::String(c) => drop(c.drain(..n)),
        }
        self.present.drain(..n);
    }

    /// Approximate bytes per row.
    fn row_bytes(&self) -> usize {
        1 + match &self.values {
            Values::Float(_) | Values::Integer(_) | Values::Unsigned(_) => 8,
            Values::Boolean(_) => 1,
            Values::String(_) => 32,
        }
    }
}

/// A series' field columns in creation order. Inserts find a field's column through the
/// position it had in the previous point (points of a series repeat their field order), so
/// the hot path compares one name per field instead of searching.
#[derive(Debug, Default)]
struct Columns {
    cols: Vec<(String, Column)>,
    /// Field position in the last inserted point → its column index.
    hint: Vec<usize>,
}

impl Columns {
    fn index_of(&self, name: &str) -> Option<usize> {
        self.cols.iter().position(|(n, _)| n == name)
    }

    fn get(&self, name: &str) -> Option<&Column> {
        self.index_of(name).map(|i| &self.cols[i].1)
    }

    fn get_key_value(&self, name: &str) -> Option<(&String, &Column)> {
        self.index_of(name)
            .map(|i| (&self.cols[i].0, &self.cols[i].1))
    }

    fn values(&self) -> impl Iterator<Item = &Column> {
        self.cols.iter().map(|(_, c)| c)
    }

    fn values_mut(&mut self) -> impl Iterator<Item = &mut Column> {
        self.cols.iter_mut().map(|(_, c)| c)
    }

    /// The index of the column of the field at `position` of a point, if it exists.
    fn find(&mut self, position: usize, name: &str) -> Option<usize> {
        if let Some(&i) = self.hint.get(position) {
            if self.cols[i].0 == name {
                return Some(i);
            }
        }
        let i = self.index_of(name)?;
        self.remember(position, i);
        Some(i)
    }

    fn remember(&mut self, position: usize, i: usize) {
        if self.hint.len() <= position {
            self.hint.resize(position + 1, 0);
        }
        self.hint[position] = i;
    }

    /// Adds a column (the name must be new) and returns its index.
    fn push(&mut self, position: usize, name: &str, c: Column) -> usize {
        self.cols.push((name.to_string(), c));
        let i = self.cols.len() - 1;
        self.remember(position, i);
        i
    }
}

#[derive(Debug)]
struct Series {
    key: Arc<str>,
    tags: Arc<BTreeMap<String, String>>,
    times: Vec<i64>,
    columns: Columns,
}

impl Series {
    /// Inserts or merges one point; `false` on a field type the column does not have.
    fn put(&mut self, time: i64, fields: &[(Cow<'_, str>, FieldRef<'_>)]) -> (bool, usize) {
        let (i, new_row) = match self.times.last() {
            Some(&last) if time > last => (self.times.len(), true),
            None => (0, true),
            _ => match self.times.binary_search(&time) {
                Ok(i) => (i, false),
                Err(i) => (i, true),
            },
        };
        let mut added = 0;
        if new_row {
            self.times.insert(i, time);
            for c in self.columns.values_mut() {
                c.insert_absent(i);
            }
            added += 8;
        }
        for (position, (name, v)) in fields.iter().enumerate() {
            if let FieldRef::String(x) = v {
                added += x.len();
            }
            let len = self.times.len();
            let ci = match self.columns.find(position, name) {
                Some(ci) => ci,
                None => {
                    let mut c = Column::new(v, len - 1);
                    c.insert_absent(i);
                    added += len * c.row_bytes();
                    self.columns.push(position, name, c)
                }
            };
            let col = &mut self.columns.cols[ci].1;
            if new_row {
                added += col.row_bytes();
            }
            if !col.set(i, v) {
                return (false, added);
            }
        }
        (true, added)
    }

    fn rows_between(&self, min: Option<i64>, max: Option<i64>) -> std::ops::Range<usize> {
        let lo = min.map_or(0, |m| self.times.partition_point(|t| *t < m));
        let hi = max.map_or(self.times.len(), |m| {
            self.times.partition_point(|t| *t <= m)
        });
        lo..hi.max(lo)
    }

    /// Row `i` as a point carrying `fields`.
    fn point(&self, i: usize, fields: BTreeMap<String, Value>) -> HotPoint {
        HotPoint {
            time: self.times[i],
            key: Arc::clone(&self.key),
            tags: Arc::clone(&self.tags),
            fields,
        }
    }

    fn bytes_per_row(&self) -> usize {
        8 + self.columns.values().map(Column::row_bytes).sum::<usize>()
    }
}

#[derive(Debug)]
struct Table {
    /// Every stored point of the table at or after this time is here.
    covered_from: i64,
    /// The latest time flushed into the table by this process.
    max_time: i64,
    /// Bumped by every invalidation: a batch whose storage write began before it must
    /// not be added afterwards (storage may have removed it since).
    epoch: u64,
    /// Series by a hash of their tags (a bucket holds the rare collisions).
    series: HashMap<u64, Vec<Series>>,
    bytes: usize,
}

impl Table {
    fn empty_from(covered_from: i64) -> Table {
        Table {
            covered_from,
            max_time: i64::MIN,
            epoch: 0,
            series: HashMap::new(),
            bytes: 0,
        }
    }

    /// Removes every row and the coverage of everything flushed so far.
    fn clear(&mut self) {
        self.covered_from = self.max_time.saturating_add(1).max(self.covered_from);
        self.series.clear();
        self.bytes = 0;
    }

    /// Removes rows before `cut` and moves coverage there.
    fn drop_before(&mut self, cut: i64) {
        self.covered_from = self.covered_from.max(cut);
        let mut bytes = 0;
        for bucket in self.series.values_mut() {
            bucket.retain_mut(|s| {
                let n = s.times.partition_point(|t| *t < cut);
                if n > 0 {
                    s.times.drain(..n);
                    for c in s.columns.values_mut() {
                        c.drain_front(n);
                    }
                }
                bytes += s.times.len() * s.bytes_per_row();
                !s.times.is_empty()
            });
        }
        self.series.retain(|_, bucket| !bucket.is_empty());
        self.bytes = bytes;
    }

    /// The earliest time held (`None`: empty).
    fn min_time(&self) -> Option<i64> {
        self.all_series()
            .filter_map(|s| s.times.first())
            .min()
            .copied()
    }

    /// Whether every stored point at or after `min` is here.
    fn covers(&self, min: Option<i64>) -> bool {
        self.covered_from == i64::MIN || min.is_some_and(|m| m >= self.covered_from)
    }

    /// The series `filter` accepts with their non-empty row ranges within its time bounds.
    fn matching(&self, filter: &mut ReadFilter<'_>) -> Vec<(&Series, std::ops::Range<usize>)> {
        let (min, max) = (filter.min, filter.max);
        self.all_series()
            .filter(|s| filter.series_may_match(&*s.tags))
            .map(|s| (s, s.rows_between(min, max)))
            .filter(|(_, r)| !r.is_empty())
            .collect()
    }

    fn all_series(&self) -> impl Iterator<Item = &Series> {
        self.series.values().flatten()
    }

    /// The series of `tags` (sorted by key; `h` is their `series_hash`), created when new.
    fn series_mut(
        &mut self,
        measurement: &str,
        tags: &[(Cow<'_, str>, Cow<'_, str>)],
        h: u64,
    ) -> &mut Series {
        let same = |s: &Series| {
            s.tags.len() == tags.len()
                && s.tags
                    .iter()
                    .zip(tags)
                    .all(|((k, v), (k2, v2))| k == k2 && v == v2)
        };
        let found = self.series.get(&h).and_then(|b| b.iter().position(same));
        let i = match found {
            Some(i) => i,
            None => {
                let key = SeriesKey::new(measurement, tags).0;
                let tag_bytes: usize = tags.iter().map(|(k, v)| k.len() + v.len() + 64).sum();
                self.bytes += SERIES_OVERHEAD + key.len() + tag_bytes;
                let bucket = self.series.entry(h).or_default();
                bucket.push(Series {
                    key: Arc::from(key.as_str()),
                    tags: Arc::new(
                        tags.iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect(),
                    ),
                    times: Vec::new(),
                    columns: Columns::default(),
                });
                bucket.len() - 1
            }
        };
        let bucket = self.series.entry(h).or_default();
        &mut bucket[i]
    }
}

/// Bytes a series costs besides its rows (maps, vectors, shared key and tags).
const SERIES_OVERHEAD: usize = 256;

/// A per-row condition for [`HotTier::read`], checked on a probe point that carries only
/// `fields` before the row is built with every field asked for.
pub(crate) struct RowCheck<'c> {
    /// The fields the condition reads.
    pub(crate) fields: &'c [String],
    /// Whether to keep the row.
    pub(crate) keep: &'c mut dyn FnMut(&HotPoint) -> bool,
}

impl std::fmt::Debug for RowCheck<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowCheck")
            .field("fields", &self.fields)
            .finish()
    }
}

/// One point read from the tier.
#[derive(Debug, Clone)]
pub(crate) struct HotPoint {
    pub(crate) time: i64,
    pub(crate) key: Arc<str>,
    pub(crate) tags: Arc<BTreeMap<String, String>>,
    pub(crate) fields: BTreeMap<String, Value>,
}

/// The recent-data tier (see the module docs).
#[derive(Debug)]
pub struct HotTier {
    max_bytes: usize,
    tables: RwLock<HashMap<TableId, Table>>,
}

impl HotTier {
    /// A tier holding at most about `max_bytes` of point data.
    pub fn new(max_bytes: usize) -> Self {
        HotTier {
            max_bytes,
            tables: RwLock::new(HashMap::new()),
        }
    }

    /// Bytes of point data held (approximate).
    pub fn bytes(&self) -> usize {
        self.tables.read().values().map(|t| t.bytes).sum()
    }

    /// Whether the table is known (its coverage established).
    fn knows(&self, id: &TableId) -> bool {
        self.tables.read().contains_key(id)
    }

    /// Establishes a table's coverage from its latest stored time (`None`: no data).
    fn start(&self, id: &TableId, latest_stored: Option<i64>) {
        let from = latest_stored.map_or(i64::MIN, |t| t.saturating_add(1));
        self.tables
            .write()
            .entry(id.clone())
            .or_insert_with(|| Table::empty_from(from));
    }

    /// The table's invalidation epoch (`None`: unknown table).
    fn epoch(&self, id: &TableId) -> Option<u64> {
        self.tables.read().get(id).map(|t| t.epoch)
    }

    /// [`HotTier::insert_views`] for owned points (tests).
    #[cfg(test)]
    fn insert(&self, id: &TableId, epoch: Option<u64>, points: &[hyperbyte_domain::Point]) {
        let views: Vec<PointRef<'_>> = points.iter().map(PointRef::from_point).collect();
        self.insert_views(id, epoch, &views);
    }

    /// Adds points just written to storage by a write that began at `epoch`. When the
    /// table was invalidated since, storage may have removed them again: they only move
    /// the coverage past themselves.
    fn insert_views(&self, id: &TableId, epoch: Option<u64>, points: &[PointRef<'_>]) {
        let mut tables = self.tables.write();
        let Some(table) = tables.get_mut(id) else {
            return;
        };
        if Some(table.epoch) != epoch {
            for p in points {
                table.max_time = table.max_time.max(p.timestamp);
            }
            table.clear();
            return;
        }
        let mut ok = true;
        for p in points {
            table.max_time = table.max_time.max(p.timestamp);
            if p.timestamp < table.covered_from || !ok {
                continue;
            }
            let series = table.series_mut(&p.measurement, &p.tags, p.series());
            let (fits, added) = series.put(p.timestamp, &p.fields);
            table.bytes += added;
            ok = fits;
        }
        if !ok {
            // A field changed type (only possible across retention policies' shards in
            // InfluxDB): stop claiming anything rather than mix types.
            table.clear();
        }
        let total: usize = tables.values().map(|t| t.bytes).sum();
        if total > self.max_bytes {
            Self::evict(&mut tables, total - self.max_bytes);
        }
    }

    /// Frees at least `excess` bytes, oldest rows of the biggest tables first.
    fn evict(tables: &mut HashMap<TableId, Table>, excess: usize) {
        let mut freed = 0;
        while freed < excess {
            let Some(table) = tables.values_mut().max_by_key(|t| t.bytes) else {
                return;
            };
            let before = table.bytes;
            match table.min_time() {
                Some(lo) if lo < table.max_time => {
                    // Drop the oldest quarter of the table's time span.
                    let cut = lo + ((table.max_time - lo) / 4).max(1);
                    table.drop_before(cut);
                }
                _ => table.clear(),
            }
            if table.bytes >= before {
                table.clear();
            }
            freed += before - table.bytes;
            if before == 0 {
                return;
            }
        }
    }

    /// Forgets the rows of tables matching `pred` (their stored data changed).
    fn invalidate(&self, pred: impl Fn(&TableId) -> bool) {
        for (id, t) in self.tables.write().iter_mut() {
            if pred(id) {
                t.epoch += 1;
                t.clear();
            }
        }
    }

    /// Drops the rows before `cutoff` of tables matching `pred` (retention removed
    /// stored data older than that); coverage starts at `cutoff` at the earliest.
    fn forget_before(&self, pred: impl Fn(&TableId) -> bool, cutoff: i64) {
        for (id, t) in self.tables.write().iter_mut() {
            if pred(id) {
                t.drop_before(cutoff);
            }
        }
    }

    /// Runs `f` over a table that covers `min` (`None`: unknown or not covered).
    fn with_covered<R>(
        &self,
        (db, rp, measurement): (&str, &str, &str),
        min: Option<i64>,
        f: impl FnOnce(&Table) -> Option<R>,
    ) -> Option<R> {
        let id = (db.to_string(), rp.to_string(), measurement.to_string());
        let tables = self.tables.read();
        let t = tables.get(&id)?;
        if !t.covers(min) {
            return None;
        }
        f(t)
    }

    /// Whether every stored point of the table at or after `min` is in the tier.
    #[cfg(test)]
    pub(crate) fn covers(&self, db: &str, rp: &str, measurement: &str, min: Option<i64>) -> bool {
        self.with_covered((db, rp, measurement), min, |_| Some(()))
            .is_some()
    }

    /// Reads the points of a covered table within `[min, max]` of the series `filter`
    /// accepts that carry at least one of `filter.fields` (only those fields are
    /// returned) and pass `check`. `None` when the table is not covered from `min`.
    pub(crate) fn read(
        &self,
        db: &str,
        rp: &str,
        measurement: &str,
        filter: &mut ReadFilter<'_>,
        mut check: Option<RowCheck<'_>>,
    ) -> Option<Vec<HotPoint>> {
        self.with_covered((db, rp, measurement), filter.min, |t| {
            let selected = t.matching(filter);
            let total: usize = selected.iter().map(|(_, r)| r.len()).sum();
            let mut out = Vec::with_capacity(total);
            for (s, range) in selected {
                let cols: Vec<(&String, &Column)> = filter
                    .fields
                    .iter()
                    .filter_map(|f| s.columns.get_key_value(f))
                    .collect();
                if cols.is_empty() {
                    continue;
                }
                let probe_cols: Vec<(&String, &Column)> = check.as_ref().map_or(Vec::new(), |c| {
                    c.fields
                        .iter()
                        .filter_map(|f| s.columns.get_key_value(f))
                        .collect()
                });
                for i in range {
                    if let Some(check) = check.as_mut() {
                        let mut fields = BTreeMap::new();
                        for (name, c) in &probe_cols {
                            if let Some(v) = c.get(i) {
                                fields.insert((*name).clone(), v);
                            }
                        }
                        let probe = s.point(i, fields);
                        if !(check.keep)(&probe) {
                            continue;
                        }
                    }
                    let mut fields = BTreeMap::new();
                    for (name, c) in &cols {
                        if let Some(v) = c.get(i) {
                            fields.insert((*name).clone(), v);
                        }
                    }
                    if fields.is_empty() {
                        continue;
                    }
                    out.push(s.point(i, fields));
                }
            }
            Some(out)
        })
    }

    /// For `last()` over a covered table: per accepted series, the points that hold the
    /// latest value of each of `filter.fields` within `[min, max]` (each point carrying
    /// only the fields it is the latest for). `None` when the table is not covered.
    pub(crate) fn read_latest(
        &self,
        db: &str,
        rp: &str,
        measurement: &str,
        filter: &mut ReadFilter<'_>,
    ) -> Option<Vec<HotPoint>> {
        self.with_covered((db, rp, measurement), filter.min, |t| {
            let mut out = Vec::new();
            for (s, range) in t.matching(filter) {
                let mut latest: BTreeMap<usize, BTreeMap<String, Value>> = BTreeMap::new();
                for f in filter.fields {
                    let Some(c) = s.columns.get(f) else { continue };
                    if let Some(i) = range.clone().rev().find(|&i| c.present[i]) {
                        if let Some(v) = c.get(i) {
                            latest.entry(i).or_default().insert(f.clone(), v);
                        }
                    }
                }
                for (i, fields) in latest {
                    out.push(s.point(i, fields));
                }
            }
            Some(out)
        })
    }
}

/// One aggregate the tier computes like the storage engine's pushdown SQL does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Agg {
    Count,
    Sum,
    Mean,
    Min,
    Max,
    Spread,
    First,
    Last,
}

impl Agg {
    /// The aggregate of an InfluxQL function name, when the tier computes it.
    pub(crate) fn of(name: &str) -> Option<Agg> {
        Some(match name {
            "count" => Agg::Count,
            "sum" => Agg::Sum,
            "mean" => Agg::Mean,
            "min" => Agg::Min,
            "max" => Agg::Max,
            "spread" => Agg::Spread,
            "first" => Agg::First,
            "last" => Agg::Last,
            _ => return None,
        })
    }
}

/// A running aggregate over one column in one (group, window).
#[derive(Debug, Clone, Default)]
struct Acc {
    n: u64,
    sum_f: f64,
    sum_i: i128,
    min: Option<Value>,
    max: Option<Value>,
    first: Option<(i64, Value)>,
    last: Option<(i64, Value)>,
}

fn less(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x < y,
        (Value::Integer(x), Value::Integer(y)) => x < y,
        (Value::Unsigned(x), Value::Unsigned(y)) => x < y,
        (Value::Boolean(x), Value::Boolean(y)) => x < y,
        (Value::String(x), Value::String(y)) => x < y,
        _ => false,
    }
}

impl Acc {
    /// Adds a value, keeping only what `agg` needs.
    fn add(&mut self, agg: Agg, time: i64, v: Value) {
        self.n += 1;
        match agg {
            Agg::Count => {}
            Agg::Sum | Agg::Mean => match &v {
                Value::Float(x) => self.sum_f += x,
                Value::Integer(x) => self.sum_i += i128::from(*x),
                Value::Unsigned(x) => self.sum_i += i128::from(*x),
                _ => {}
            },
            Agg::Min => {
                if self.min.as_ref().is_none_or(|m| less(&v, m)) {
                    self.min = Some(v);
                }
            }
            Agg::Max => {
                if self.max.as_ref().is_none_or(|m| less(m, &v)) {
                    self.max = Some(v);
                }
            }
            Agg::Spread => {
                if self.min.as_ref().is_none_or(|m| less(&v, m)) {
                    self.min = Some(v.clone());
                }
                if self.max.as_ref().is_none_or(|m| less(m, &v)) {
                    self.max = Some(v);
                }
            }
            // InfluxDB's selectors: equal times → the larger value.
            Agg::First => {
                if self
                    .first
                    .as_ref()
                    .is_none_or(|(t, old)| time < *t || (time == *t && less(old, &v)))
                {
                    self.first = Some((time, v));
                }
            }
            Agg::Last => {
                if self
                    .last
                    .as_ref()
                    .is_none_or(|(t, old)| time > *t || (time == *t && less(old, &v)))
                {
                    self.last = Some((time, v));
                }
            }
        }
    }

    /// The result in the storage engine's result types (`count` unsigned, `mean` float,
    /// sums in the field's type, null without values).
    fn finish(&self, agg: Agg, sample: Option<&Value>) -> Value {
        if self.n == 0 {
            return match agg {
                Agg::Count => Value::Unsigned(0),
                _ => Value::Null,
            };
        }
        let int_sum = || match sample {
            Some(Value::Unsigned(_)) => Value::Unsigned(self.sum_i as u64),
            _ => Value::Integer(self.sum_i as i64),
        };
        match agg {
            Agg::Count => Value::Unsigned(self.n),
            Agg::Sum => match sample {
                Some(Value::Float(_)) => Value::Float(self.sum_f),
                _ => int_sum(),
            },
            Agg::Mean => match sample {
                Some(Value::Float(_)) => Value::Float(self.sum_f / self.n as f64),
                _ => Value::Float(self.sum_i as f64 / self.n as f64),
            },
            Agg::Min => self.min.clone().unwrap_or(Value::Null),
            Agg::Max => self.max.clone().unwrap_or(Value::Null),
            Agg::Spread => match (&self.min, &self.max) {
                (Some(Value::Float(a)), Some(Value::Float(b))) => Value::Float(b - a),
                (Some(Value::Integer(a)), Some(Value::Integer(b))) => Value::Integer(b - a),
                (Some(Value::Unsigned(a)), Some(Value::Unsigned(b))) => {
                    Value::Integer(b.wrapping_sub(*a) as i64)
                }
                _ => Value::Null,
            },
            Agg::First => self.first.clone().map_or(Value::Null, |(_, v)| v),
            Agg::Last => self.last.clone().map_or(Value::Null, |(_, v)| v),
        }
    }
}

impl HotTier {
    /// Aggregates a covered table the way the pushdown SQL does: one row per (group, time
    /// window) holding a value of at least one spec's field: the group's tag values (in
    /// `group_tags` order, missing as empty), the window start (`0` without `interval`),
    /// then each spec's result in the engine's types. `None` when the table is not
    /// covered, or past `limit` rows read. The filter's condition must be decided by tags
    /// alone ([`crate::query::decided_by_tags`]).
    pub(crate) fn aggregate(
        &self,
        (db, rp, measurement): (&str, &str, &str),
        filter: &mut ReadFilter<'_>,
        group_tags: &[String],
        interval: Option<(i64, i64)>,
        specs: &[(Agg, String)],
        limit: usize,
    ) -> Option<Vec<Vec<Value>>> {
        self.with_covered((db, rp, measurement), filter.min, |t| {
            let mut total = 0usize;
            // (group key, window) → one accumulator per spec, plus a sample value per spec.
            type Cell = (Vec<Acc>, Vec<Option<Value>>);
            let mut cells: BTreeMap<(Vec<String>, i64), Cell> = BTreeMap::new();
            for (s, range) in t.matching(filter) {
                total += range.len();
                if total > limit {
                    return None;
                }
                let key: Vec<String> = group_tags
                    .iter()
                    .map(|k| s.tags.get(k).cloned().unwrap_or_default())
                    .collect();
                let cols: Vec<Option<&Column>> =
                    specs.iter().map(|(_, f)| s.columns.get(f)).collect();
                if cols.iter().all(Option::is_none) {
                    continue;
                }
                let mut current: Option<(i64, &mut Cell)> = None;
                for i in range {
                    let time = s.times[i];
                    if !cols.iter().flatten().any(|c| c.present[i]) {
                        continue;
                    }
                    let window = match interval {
                        Some((every, offset)) => time - (((time - offset) % every) + every) % every,
                        None => 0,
                    };
                    let cell = match current.take() {
                        Some((w, cell)) if w == window => cell,
                        _ => cells.entry((key.clone(), window)).or_insert_with(|| {
                            (vec![Acc::default(); specs.len()], vec![None; specs.len()])
                        }),
                    };
                    for (j, c) in cols.iter().enumerate() {
                        if let Some(v) = c.and_then(|c| c.get(i)) {
                            if cell.1[j].is_none() {
                                cell.1[j] = Some(v.clone());
                            }
                            cell.0[j].add(specs[j].0, time, v);
                        }
                    }
                    current = Some((window, cell));
                }
            }
            Some(
                cells
                    .into_iter()
                    .map(|((key, window), (accs, samples))| {
                        let mut row: Vec<Value> = key.into_iter().map(Value::String).collect();
                        row.push(Value::Integer(window));
                        for (j, (agg, _)) in specs.iter().enumerate() {
                            row.push(accs[j].finish(*agg, samples[j].as_ref()));
                        }
                        row
                    })
                    .collect(),
            )
        })
    }
}

/// The storage sink with the tier fed behind it (see the module docs): establishes a
/// table's coverage before the first write into it, then adds every accepted batch.
#[derive(Debug)]
pub struct HotSink {
    inner: Arc<dyn PointsSinkPort>,
    query: Arc<dyn QueryPort>,
    tier: Arc<HotTier>,
}

impl HotSink {
    /// Wraps `inner`; `query` reads a table's latest stored time once per table.
    pub fn new(
        inner: Arc<dyn PointsSinkPort>,
        query: Arc<dyn QueryPort>,
        tier: Arc<HotTier>,
    ) -> Self {
        HotSink { inner, query, tier }
    }

    async fn latest_stored(&self, id: &TableId) -> Result<Option<i64>, SinkError> {
        match self.query.latest_time(&id.0, &id.1, &id.2, None).await {
            Ok(latest) => Ok(latest),
            // Unreadable: claim nothing before now-known data.
            Err(QueryError::Decode(_)) => Ok(Some(i64::MAX - 1)),
            Err(e) => Err(SinkError::Other(format!(
                "reading the latest stored time: {e}"
            ))),
        }
    }
}

#[async_trait::async_trait]
impl PointsSinkPort for HotSink {
    async fn write_views(
        &self,
        database: &str,
        rp: &RetentionPolicy,
        measurement: &str,
        schema: &MeasurementSchema,
        points: &[PointRef<'_>],
    ) -> Result<(), SinkError> {
        let id = (
            database.to_string(),
            rp.name.clone(),
            measurement.to_string(),
        );
        if !self.tier.knows(&id) {
            let latest = self.latest_stored(&id).await?;
            self.tier.start(&id, latest);
        }
        let epoch = self.tier.epoch(&id);
        if let Err(e) = self
            .inner
            .write_views(database, rp, measurement, schema, points)
            .await
        {
            // Part of the batch may be stored (an insert spanning partitions is not
            // atomic): stop claiming anything up to it.
            self.tier.insert_views(&id, None, points);
            return Err(e);
        }
        self.tier.insert_views(&id, epoch, points);
        Ok(())
    }

    async fn sync(&self) -> Result<(), SinkError> {
        self.inner.sync().await
    }

    async fn maintain(&self) -> Result<(), SinkError> {
        self.inner.maintain().await
    }
}

/// Storage administration that keeps the tier's coverage true: whatever removes stored
/// data forgets the tier's rows of the tables concerned, before the removal.
#[derive(Debug)]
pub struct HotAdmin {
    inner: Arc<dyn StorageAdminPort>,
    tier: Arc<HotTier>,
}

impl HotAdmin {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn StorageAdminPort>, tier: Arc<HotTier>) -> Self {
        HotAdmin { inner, tier }
    }
}

#[async_trait::async_trait]
impl StorageAdminPort for HotAdmin {
    async fn drop_database(&self, database: &str) -> Result<(), SinkError> {
        self.tier.invalidate(|id| id.0 == database);
        self.inner.drop_database(database).await
    }

    async fn drop_retention_policy(&self, database: &str, rp: &str) -> Result<(), SinkError> {
        self.tier.invalidate(|id| id.0 == database && id.1 == rp);
        self.inner.drop_retention_policy(database, rp).await
    }

    async fn drop_measurement(
        &self,
        database: &str,
        rps: &[String],
        measurement: &str,
    ) -> Result<(), SinkError> {
        self.tier
            .invalidate(|id| id.0 == database && id.2 == measurement && rps.contains(&id.1));
        self.inner
            .drop_measurement(database, rps, measurement)
            .await
    }

    async fn delete_points(
        &self,
        database: &str,
        rp: &str,
        measurement: &str,
        tag_predicate: &[(String, String)],
        min_time: i64,
        max_time: i64,
    ) -> Result<(), SinkError> {
        self.tier
            .invalidate(|id| id.0 == database && id.1 == rp && id.2 == measurement);
        self.inner
            .delete_points(database, rp, measurement, tag_predicate, min_time, max_time)
            .await
    }

    async fn drop_partitions_before(
        &self,
        database: &str,
        rp: &RetentionPolicy,
        measurements: &[String],
        cutoff: i64,
    ) -> Result<(), SinkError> {
        self.tier.forget_before(
            |id| id.0 == database && id.1 == rp.name && measurements.contains(&id.2),
            cutoff,
        );
        self.inner
            .drop_partitions_before(database, rp, measurements, cutoff)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyperbyte_domain::{FieldValue, Point};

    fn pt(host: &str, t: i64, fields: Vec<(&str, FieldValue)>) -> Point {
        Point {
            measurement: "m".into(),
            tags: vec![("host".into(), host.into())],
            fields: fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            timestamp: t,
        }
    }

    fn times_and_fields(rows: Vec<HotPoint>) -> Vec<(i64, Vec<(String, Value)>)> {
        rows.into_iter()
            .map(|p| (p.time, p.fields.into_iter().collect()))
            .collect()
    }

    fn id() -> TableId {
        ("db".into(), "autogen".into(), "m".into())
    }

    fn all<'a>(fields: &'a [String], min: Option<i64>) -> ReadFilter<'a> {
        ReadFilter::new(None, fields, min, None)
    }

    #[test]
    fn merges_field_by_field_and_keeps_time_order() {
        let tier = HotTier::new(1 << 20);
        tier.start(&id(), None);
        tier.insert(
            &id(),
            Some(0),
            &[
                pt("a", 20, vec![("x", FieldValue::Float(2.0))]),
                pt("a", 10, vec![("x", FieldValue::Float(1.0))]),
                pt("a", 20, vec![("y", FieldValue::Integer(5))]),
                pt("a", 20, vec![("x", FieldValue::Float(3.0))]),
            ],
        );
        let fields = vec!["x".to_string(), "y".to_string()];
        let rows = tier
            .read("db", "autogen", "m", &mut all(&fields, None), None)
            .unwrap();
        let got = times_and_fields(rows);
        assert_eq!(
            got,
            vec![
                (10, vec![("x".into(), Value::Float(1.0))]),
                (
                    20,
                    vec![
                        ("x".into(), Value::Float(3.0)),
                        ("y".into(), Value::Integer(5))
                    ]
                ),
            ]
        );
    }

    #[test]
    fn coverage_starts_after_stored_data_and_ends_at_invalidation() {
        let tier = HotTier::new(1 << 20);
        tier.start(&id(), Some(100));
        tier.insert(
            &id(),
            Some(0),
            &[
                pt("a", 50, vec![("x", FieldValue::Float(1.0))]),
                pt("a", 150, vec![("x", FieldValue::Float(2.0))]),
            ],
        );
        assert!(!tier.covers("db", "autogen", "m", None));
        assert!(!tier.covers("db", "autogen", "m", Some(100)));
        assert!(tier.covers("db", "autogen", "m", Some(101)));
        let fields = vec!["x".to_string()];
        let rows = tier
            .read("db", "autogen", "m", &mut all(&fields, Some(101)), None)
            .unwrap();
        assert_eq!(rows.len(), 1, "the late point at 50 is outside the claim");
        assert!(tier
            .read("db", "autogen", "m", &mut all(&fields, None), None)
            .is_none());
        tier.invalidate(|_| true);
        assert!(!tier.covers("db", "autogen", "m", Some(101)));
        assert!(tier.covers("db", "autogen", "m", Some(151)));
    }

    #[test]
    fn a_batch_written_before_an_invalidation_is_not_added_after_it() {
        let tier = HotTier::new(1 << 20);
        tier.start(&id(), None);
        let epoch = tier.epoch(&id());
        // A DELETE invalidates while the batch is being written to storage.
        tier.invalidate(|_| true);
        tier.insert(
            &id(),
            epoch,
            &[pt("a", 500, vec![("x", FieldValue::Float(1.0))])],
        );
        let fields = vec!["x".to_string()];
        assert!(tier
            .read("db", "autogen", "m", &mut all(&fields, Some(0)), None)
            .is_none());
        assert!(!tier.covers("db", "autogen", "m", Some(500)));
        assert!(tier.covers("db", "autogen", "m", Some(501)));
        // Retention keeps what is newer than its cutoff.
        tier.insert(
            &id(),
            tier.epoch(&id()),
            &[
                pt("a", 600, vec![("x", FieldValue::Float(2.0))]),
                pt("a", 700, vec![("x", FieldValue::Float(3.0))]),
            ],
        );
        tier.forget_before(|_| true, 650);
        let rows = tier
            .read("db", "autogen", "m", &mut all(&fields, Some(650)), None)
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert!(!tier.covers("db", "autogen", "m", Some(600)));
    }

    #[test]
    fn eviction_drops_the_oldest_rows_and_coverage_with_them() {
        let tier = HotTier::new(20_000);
        tier.start(&id(), None);
        let pts: Vec<Point> = (0..2_000)
            .map(|i| pt("a", i, vec![("x", FieldValue::Float(i as f64))]))
            .collect();
        tier.insert(&id(), Some(0), &pts);
        assert!(tier.bytes() <= 20_000, "{}", tier.bytes());
        assert!(!tier.covers("db", "autogen", "m", None));
        assert!(tier.covers("db", "autogen", "m", Some(1_999)));
        let fields = vec!["x".to_string()];
        let rows = tier
            .read("db", "autogen", "m", &mut all(&fields, Some(1_990)), None)
            .unwrap();
        assert_eq!(rows.len(), 10);
    }

    #[test]
    fn aggregates_like_the_pushdown_sql() {
        let tier = HotTier::new(1 << 20);
        tier.start(&id(), None);
        let mut pts = Vec::new();
        for (h, base) in [("a", 0.0), ("b", 100.0)] {
            for i in 0..6i64 {
                pts.push(pt(
                    h,
                    i * 10,
                    vec![("x", FieldValue::Float(base + i as f64))],
                ));
            }
        }
        pts.push(pt("b", 25, vec![("y", FieldValue::Integer(4))]));
        tier.insert(&id(), Some(0), &pts);
        let fields = vec!["x".to_string(), "y".to_string()];
        let specs: Vec<(Agg, String)> = [
            (Agg::Count, "x"),
            (Agg::Sum, "x"),
            (Agg::Mean, "x"),
            (Agg::Min, "x"),
            (Agg::Max, "x"),
            (Agg::Spread, "x"),
            (Agg::First, "x"),
            (Agg::Last, "x"),
            (Agg::Count, "y"),
            (Agg::Sum, "y"),
        ]
        .into_iter()
        .map(|(a, f)| (a, f.to_string()))
        .collect();
        let rows = tier
            .aggregate(
                ("db", "autogen", "m"),
                &mut all(&fields, Some(0)),
                &[],
                Some((30, 0)),
                &specs,
                1_000,
            )
            .unwrap();
        use Value::{Float as F, Integer as I, Null, Unsigned as U};
        assert_eq!(
            rows,
            vec![
                vec![
                    I(0),
                    U(6),
                    F(306.0),
                    F(51.0),
                    F(0.0),
                    F(102.0),
                    F(102.0),
                    F(100.0),
                    F(102.0),
                    U(1),
                    I(4)
                ],
                vec![
                    I(30),
                    U(6),
                    F(324.0),
                    F(54.0),
                    F(3.0),
                    F(105.0),
                    F(102.0),
                    F(103.0),
                    F(105.0),
                    U(0),
                    Null
                ],
            ]
        );
        // Grouped by host, and too many rows gives up.
        let rows = tier
            .aggregate(
                ("db", "autogen", "m"),
                &mut all(&fields, None),
                &["host".to_string()],
                None,
                &specs[..1],
                1_000,
            )
            .unwrap();
        assert_eq!(
            rows,
            vec![
                vec![Value::String("a".into()), I(0), U(6)],
                vec![Value::String("b".into()), I(0), U(6)],
            ]
        );
        assert!(tier
            .aggregate(
                ("db", "autogen", "m"),
                &mut all(&fields, None),
                &[],
                None,
                &specs,
                5
            )
            .is_none());
    }

    #[test]
    fn row_checks_see_only_their_fields_and_filter_before_building() {
        let tier = HotTier::new(1 << 20);
        tier.start(&id(), None);
        let pts: Vec<Point> = (0..5)
            .map(|i| {
                pt(
                    "a",
                    i,
                    vec![
                        ("x", FieldValue::Float(i as f64)),
                        ("y", FieldValue::Integer(-i)),
                    ],
                )
            })
            .collect();
        tier.insert(&id(), Some(0), &pts);
        let wanted = vec!["y".to_string()];
        let probe = vec!["x".to_string()];
        let mut seen = Vec::new();
        let mut keep = |p: &HotPoint| {
            seen.push(p.fields.keys().cloned().collect::<Vec<_>>());
            matches!(p.fields.get("x"), Some(Value::Float(x)) if *x >= 3.0)
        };
        let check = RowCheck {
            fields: &probe,
            keep: &mut keep,
        };
        let rows = tier
            .read("db", "autogen", "m", &mut all(&wanted, None), Some(check))
            .unwrap();
        let got = times_and_fields(rows);
        assert_eq!(
            got,
            vec![
                (3, vec![("y".into(), Value::Integer(-3))]),
                (4, vec![("y".into(), Value::Integer(-4))]),
            ]
        );
        assert_eq!(seen.len(), 5);
        assert!(seen.iter().all(|f| f == &["x".to_string()]));
    }

    #[test]
    fn latest_points_per_field() {
        let tier = HotTier::new(1 << 20);
        tier.start(&id(), None);
        tier.insert(
            &id(),
            Some(0),
            &[
                pt(
                    "a",
                    1,
                    vec![("x", FieldValue::Float(1.0)), ("y", FieldValue::Float(9.0))],
                ),
                pt("a", 2, vec![("x", FieldValue::Float(2.0))]),
                pt("b", 1, vec![("y", FieldValue::Float(7.0))]),
            ],
        );
        let fields = vec!["x".to_string(), "y".to_string()];
        let mut rows = tier
            .read_latest("db", "autogen", "m", &mut all(&fields, None))
            .unwrap();
        rows.sort_by_key(|a| (a.key.clone(), a.time));
        let got: Vec<(String, i64, usize)> = rows
            .iter()
            .map(|p| (p.tags["host"].clone(), p.time, p.fields.len()))
            .collect();
        assert_eq!(
            got,
            vec![("a".into(), 1, 1), ("a".into(), 2, 1), ("b".into(), 1, 1)]
        );
    }
}
