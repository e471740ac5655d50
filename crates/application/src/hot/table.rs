//! The tier's storage layout: per table, per series, a time-sorted column of timestamps
//! and one column per field, with InfluxDB's field-wise overwrite semantics, coverage
//! bookkeeping and memory accounting.

use super::older::OlderLatest;
use super::series_map::SeriesMap;
use super::HotPoint;
use crate::query::ReadFilter;
use hyperbyte_domain::query::Value;
use hyperbyte_domain::{FastMap, FieldRef, ListRef, PointRef, SeriesKey, TagRef};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

/// (database, retention policy, measurement).
pub(super) type TableId = (String, String, String);

/// One field column of a series; `present[i]` says whether row `i` has a value.
#[derive(Debug, Clone)]
pub(super) enum Values {
    Float(Vec<f64>),
    Integer(Vec<i64>),
    Unsigned(Vec<u64>),
    Boolean(Vec<bool>),
    String(Vec<Arc<str>>),
}

#[derive(Debug, Clone)]
pub(super) struct Column {
    pub(super) values: Values,
    pub(super) present: Vec<bool>,
}

impl Column {
    pub(super) fn new(v: &FieldRef<'_>, len: usize) -> Column {
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
    pub(super) fn insert_absent(&mut self, i: usize) {
        match &mut self.values {
            Values::Float(v) => v.insert(i, 0.0),
            Values::Integer(v) => v.insert(i, 0),
            Values::Unsigned(v) => v.insert(i, 0),
            Values::Boolean(v) => v.insert(i, false),
            Values::String(v) => v.insert(i, Arc::from("")),
        }
        self.present.insert(i, false);
    }

    /// Sets row `i`; `None` when the value's type is not the column's, else the bytes
    /// of the text it replaced (a string column's earlier value of the row).
    pub(super) fn set(&mut self, i: usize, v: &FieldRef<'_>) -> Option<usize> {
        let replaced = match (&mut self.values, v) {
            (Values::Float(c), FieldRef::Float(x)) => {
                c[i] = *x;
                0
            }
            (Values::Integer(c), FieldRef::Integer(x)) => {
                c[i] = *x;
                0
            }
            (Values::Unsigned(c), FieldRef::Unsigned(x)) => {
                c[i] = *x;
                0
            }
            (Values::Boolean(c), FieldRef::Boolean(x)) => {
                c[i] = *x;
                0
            }
            (Values::String(c), FieldRef::String(x)) => {
                std::mem::replace(&mut c[i], Arc::from(x.as_ref())).len()
            }
            _ => return None,
        };
        self.present[i] = true;
        Some(replaced)
    }

    pub(super) fn get(&self, i: usize) -> Option<Value> {
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

    /// Whether two columns hold values of the same type.
    pub(super) fn same_type(&self, other: &Column) -> bool {
        std::mem::discriminant(&self.values) == std::mem::discriminant(&other.values)
    }

    /// A column of `n` absent rows of this column's type.
    fn absent_like(&self, n: usize) -> Column {
        let values = match &self.values {
            Values::Float(_) => Values::Float(vec![0.0; n]),
            Values::Integer(_) => Values::Integer(vec![0; n]),
            Values::Unsigned(_) => Values::Unsigned(vec![0; n]),
            Values::Boolean(_) => Values::Boolean(vec![false; n]),
            Values::String(_) => Values::String(vec![Arc::from(""); n]),
        };
        Column {
            values,
            present: vec![false; n],
        }
    }

    /// Appends `later`'s rows (of the same type) after this column's.
    fn values_append(&mut self, mut later: Column) {
        self.reserve_rows(self.len() + later.len());
        match (&mut self.values, &mut later.values) {
            (Values::Float(c), Values::Float(l)) => c.append(l),
            (Values::Integer(c), Values::Integer(l)) => c.append(l),
            (Values::Unsigned(c), Values::Unsigned(l)) => c.append(l),
            (Values::Boolean(c), Values::Boolean(l)) => c.append(l),
            (Values::String(c), Values::String(l)) => c.append(l),
            _ => return,
        }
        self.present.append(&mut later.present);
    }

    /// Puts `older`'s rows (of the same type, see [`Column::same_type`]) before this
    /// column's; a column of another type is left as it is.
    fn prepend(&mut self, older: Column) {
        if !self.same_type(&older) {
            return;
        }
        let later = std::mem::replace(self, older);
        self.values_append(later);
    }

    /// Makes room for `rows` rows in all, exactly (see [`Series::make_room`]).
    fn reserve_rows(&mut self, rows: usize) {
        let extra = rows.saturating_sub(self.len());
        match &mut self.values {
            Values::Float(c) => c.reserve_exact(extra),
            Values::Integer(c) => c.reserve_exact(extra),
            Values::Unsigned(c) => c.reserve_exact(extra),
            Values::Boolean(c) => c.reserve_exact(extra),
            Values::String(c) => c.reserve_exact(extra),
        }
        self.present.reserve_exact(extra);
    }

    /// Rows the column holds without reallocating (its smallest vector's capacity).
    #[cfg(test)]
    pub(super) fn capacity(&self) -> usize {
        let values = match &self.values {
            Values::Float(c) => c.capacity(),
            Values::Integer(c) => c.capacity(),
            Values::Unsigned(c) => c.capacity(),
            Values::Boolean(c) => c.capacity(),
            Values::String(c) => c.capacity(),
        };
        values.min(self.present.capacity())
    }

    /// Gives back the room reserved beyond the rows held.
    fn shrink_to_fit(&mut self) {
        match &mut self.values {
            Values::Float(c) => c.shrink_to_fit(),
            Values::Integer(c) => c.shrink_to_fit(),
            Values::Unsigned(c) => c.shrink_to_fit(),
            Values::Boolean(c) => c.shrink_to_fit(),
            Values::String(c) => c.shrink_to_fit(),
        }
        self.present.shrink_to_fit();
    }

    pub(super) fn drain_front(&mut self, n: usize) {
        match &mut self.values {
            Values::Float(c) => drop(c.drain(..n)),
            Values::Integer(c) => drop(c.drain(..n)),
            Values::Unsigned(c) => drop(c.drain(..n)),
            Values::Boolean(c) => drop(c.drain(..n)),
            Values::String(c) => drop(c.drain(..n)),
        }
        self.present.drain(..n);
    }

    /// Rows in the column.
    pub(super) fn len(&self) -> usize {
        match &self.values {
            Values::Float(c) => c.len(),
            Values::Integer(c) => c.len(),
            Values::Unsigned(c) => c.len(),
            Values::Boolean(c) => c.len(),
            Values::String(c) => c.len(),
        }
    }

    /// The text of a string column's values (counted besides [`Column::row_bytes`]).
    pub(super) fn string_bytes(&self) -> usize {
        match &self.values {
            Values::String(c) => c.iter().map(|s| s.len()).sum(),
            _ => 0,
        }
    }

    /// Approximate bytes per row.
    pub(super) fn row_bytes(&self) -> usize {
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
pub(super) struct Columns {
    pub(super) cols: Vec<(Arc<str>, Column)>,
    /// Field position in the last inserted point → its column index.
    pub(super) hint: Vec<usize>,
}

impl Columns {
    pub(super) fn index_of(&self, name: &str) -> Option<usize> {
        self.cols.iter().position(|(n, _)| &**n == name)
    }

    pub(super) fn get(&self, name: &str) -> Option<&Column> {
        self.index_of(name).map(|i| &self.cols[i].1)
    }

    pub(super) fn get_key_value(&self, name: &str) -> Option<(&Arc<str>, &Column)> {
        self.index_of(name)
            .map(|i| (&self.cols[i].0, &self.cols[i].1))
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &Column> {
        self.cols.iter().map(|(_, c)| c)
    }

    pub(super) fn values_mut(&mut self) -> impl Iterator<Item = &mut Column> {
        self.cols.iter_mut().map(|(_, c)| c)
    }

    /// The index of the column of the field at `position` of a point, if it exists.
    pub(super) fn find(&mut self, position: usize, name: &str) -> Option<usize> {
        if let Some(&i) = self.hint.get(position) {
            if &*self.cols[i].0 == name {
                return Some(i);
            }
        }
        let i = self.index_of(name)?;
        self.remember(position, i);
        Some(i)
    }

    pub(super) fn remember(&mut self, position: usize, i: usize) {
        if self.hint.len() <= position {
            self.hint.resize(position + 1, 0);
        }
        self.hint[position] = i;
    }

    /// Adds a column (the name must be new) and returns its index.
    pub(super) fn push(&mut self, position: usize, name: &str, c: Column) -> usize {
        self.cols.push((Arc::from(name), c));
        let i = self.cols.len() - 1;
        self.remember(position, i);
        i
    }
}

/// Series shorter than this double their vectors when full, longer ones grow them by a
/// quarter (see [`Series::make_room`]).
pub(super) const DOUBLING_BELOW_ROWS: usize = 64;

#[derive(Debug)]
pub(super) struct Series {
    pub(super) key: Arc<str>,
    pub(super) tags: Arc<BTreeMap<String, String>>,
    pub(super) times: Vec<i64>,
    pub(super) columns: Columns,
}

impl Series {
    /// A series of `tags` (sorted by key) without rows, and the bytes it costs besides
    /// its rows (its [`Series::fixed_bytes`]).
    pub(super) fn empty<K: AsRef<str>, V: AsRef<str>>(
        measurement: &str,
        tags: &[(K, V)],
    ) -> (Series, usize) {
        let key = SeriesKey::new(measurement, tags).0;
        let series = Series {
            key: Arc::from(key.as_str()),
            tags: Arc::new(
                tags.iter()
                    .map(|(k, v)| (k.as_ref().to_string(), v.as_ref().to_string()))
                    .collect(),
            ),
            times: Vec::new(),
            columns: Columns::default(),
        };
        let bytes = series.fixed_bytes();
        (series, bytes)
    }

    /// What the series costs besides its rows: maps, vectors, its key and tags.
    pub(super) fn fixed_bytes(&self) -> usize {
        SERIES_OVERHEAD + key_and_tag_bytes(&self.key, &self.tags)
    }

    /// What the series costs in all: [`Series::fixed_bytes`], each column's own cost
    /// (`column_bytes`), every cell of every row (absent ones too: they take their place
    /// in the column) and the text of string values. [`Series::put`] keeps a table's
    /// count equal to the sum of this.
    pub(super) fn bytes(&self) -> usize {
        let strings: usize = self.columns.values().map(Column::string_bytes).sum();
        let columns: usize = self.columns.cols.iter().map(|(n, _)| column_bytes(n)).sum();
        self.fixed_bytes() + columns + self.times.len() * self.bytes_per_row() + strings
    }

    /// Inserts or merges one point; `false` on a field type the column does not have.
    /// Also returns the bytes the series grew by and the bytes it freed (text a string
    /// value replaced), so the table's count follows [`Series::bytes`].
    pub(super) fn put(
        &mut self,
        time: i64,
        fields: &[(Cow<'_, str>, FieldRef<'_>)],
    ) -> (bool, usize, usize) {
        let (i, new_row) = match self.times.last() {
            Some(&last) if time > last => (self.times.len(), true),
            None => (0, true),
            _ => row_of(&self.times, time),
        };
        let (mut added, mut freed) = (0, 0);
        if new_row {
            self.make_room();
            let rows = self.times.capacity();
            self.times.insert(i, time);
            added += 8;
            for c in self.columns.values_mut() {
                c.reserve_rows(rows);
                c.insert_absent(i);
                added += c.row_bytes();
            }
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
                    c.reserve_rows(self.times.capacity());
                    c.insert_absent(i);
                    added += len * c.row_bytes() + column_bytes(name);
                    self.columns.push(position, name, c)
                }
            };
            match self.columns.cols[ci].1.set(i, v) {
                Some(replaced) => freed += replaced,
                None => return (false, added, freed),
            }
        }
        (true, added, freed)
    }

    /// Whether `older`'s columns have the types of this series' columns of the same name.
    pub(super) fn fits_before(&self, older: &Series) -> bool {
        older
            .columns
            .cols
            .iter()
            .all(|(name, c)| self.columns.get(name).is_none_or(|mine| mine.same_type(c)))
    }

    /// Puts `older`'s rows (all earlier than this series' first row, columns checked
    /// with [`Series::fits_before`]) before this series' rows.
    pub(super) fn prepend(&mut self, older: Series) {
        let (n_old, n_mine) = (older.times.len(), self.times.len());
        let mut older_cols = older.columns.cols;
        for (name, col) in self.columns.cols.iter_mut() {
            match older_cols.iter().position(|(n, _)| n == name) {
                Some(i) => col.prepend(older_cols.swap_remove(i).1),
                None => {
                    let pad = col.absent_like(n_old);
                    col.prepend(pad);
                }
            }
        }
        for (name, mut col) in older_cols {
            let pad = col.absent_like(n_mine);
            col.values_append(pad);
            self.columns.cols.push((name, col));
        }
        let mut times = older.times;
        times.reserve_exact(self.times.len());
        times.append(&mut self.times);
        self.times = times;
    }

    /// Room for one more row: a full series of [`DOUBLING_BELOW_ROWS`] rows or more grows
    /// its vectors by a quarter instead of letting each double. The tier counts rows, not
    /// capacity, so doubling let a long series hold up to twice the memory it was charged
    /// (measured with heaptrack: 100 TSBS hosts × 24 h, 85 MB counted, 160 MB
    /// allocated); a quarter bounds the uncounted room to a quarter of the rows held, for
    /// more copying (each row is moved about four times in all instead of once, by
    /// `memcpy`). Shorter series double from 4 rows, as vectors do: a tier of many short
    /// series (high cardinality) reserves no more rows than before.
    fn make_room(&mut self) {
        let len = self.times.len();
        if len < self.times.capacity() {
            return;
        }
        let extra = if len < DOUBLING_BELOW_ROWS {
            len.max(4)
        } else {
            len / 4
        };
        self.times.reserve_exact(extra);
    }

    pub(super) fn rows_between(
        &self,
        min: Option<i64>,
        max: Option<i64>,
    ) -> std::ops::Range<usize> {
        let lo = min.map_or(0, |m| self.times.partition_point(|t| *t < m));
        let hi = max.map_or(self.times.len(), |m| {
            self.times.partition_point(|t| *t <= m)
        });
        lo..hi.max(lo)
    }

    /// Row `i` as a point carrying `fields`.
    pub(super) fn point(&self, i: usize, fields: super::FieldMap) -> HotPoint {
        HotPoint {
            time: self.times[i],
            key: Arc::clone(&self.key),
            tags: Arc::clone(&self.tags),
            fields,
        }
    }

    pub(super) fn bytes_per_row(&self) -> usize {
        8 + self.columns.values().map(Column::row_bytes).sum::<usize>()
    }
}

/// What a series' key and tag map cost (text and map nodes), counted alike wherever the
/// tier holds them.
pub(super) fn key_and_tag_bytes(key: &str, tags: &BTreeMap<String, String>) -> usize {
    let tag_bytes: usize = tags.iter().map(|(k, v)| k.len() + v.len() + 64).sum();
    key.len() + tag_bytes
}

#[derive(Debug)]
pub(super) struct Table {
    /// Every stored point of the table at or after this time is here.
    pub(super) covered_from: i64,
    /// The latest time flushed into the table by this process.
    pub(super) max_time: i64,
    /// Bumped by every invalidation: a batch whose storage write began before it must
    /// not be added afterwards (storage may have removed it since).
    pub(super) epoch: u64,
    /// Series by a hash of their tags (a bucket holds the rare collisions), with their
    /// tag index.
    pub(super) series: SeriesMap,
    pub(super) bytes: usize,
    /// Points a flush left out for being earlier than `covered_from` (a warm-up that
    /// extends the coverage backwards must not claim a range such a point fell into).
    pub(super) skipped_below: u64,
    /// The latest stored values before `covered_from` (`None`: unknown); counted in
    /// `bytes`.
    pub(super) older: Option<OlderLatest>,
    /// Flush writes into the table under way (storage's part may still be running).
    pub(super) writes_in_flight: u32,
    /// The latest retention cutoff: stored points before it may be gone or not.
    pub(super) removed_before: i64,
    /// The values before the coverage read from storage were too many for the tier; not
    /// read again until the table is cleared.
    pub(super) older_too_big: bool,
    /// The last WAL sequence of a feed that left points out of the tier (earlier than the
    /// coverage, or by moving it) before storage held them: storage reads that extend
    /// the tier backwards wait until storage holds that entry.
    pub(super) unstored_through: Option<u64>,
}

impl Table {
    pub(super) fn empty_from(covered_from: i64) -> Table {
        Table {
            covered_from,
            max_time: i64::MIN,
            epoch: 0,
            series: SeriesMap::default(),
            bytes: 0,
            skipped_below: 0,
            older: (covered_from == i64::MIN).then(OlderLatest::default),
            writes_in_flight: 0,
            removed_before: i64::MIN,
            older_too_big: false,
            unstored_through: None,
        }
    }

    /// Adds points with InfluxDB's field-wise overwrites, skipping those before the
    /// coverage. `false` when a value's type differs from its column's (the caller then
    /// stops claiming anything).
    ///
    /// The points are put series by series, each series' in their order: a flush round
    /// comes time-major (every host's point of one instant, then the next instant), and
    /// putting them as they come touched the ends of another series' columns at every
    /// point, which missed the cache (perf, TSBS 1,000 hosts × 4 h, three loads each:
    /// 352–448 samples in `put_all` before, 179–203 since, of 6,300–7,000). Only points
    /// of one series can overwrite each other, so the outcome is the same.
    pub(super) fn put_all(&mut self, points: &[hyperbyte_domain::PointRef<'_>]) -> bool {
        let by_series = self.group_by_series(points);
        let mut ok = true;
        for (&(h, i), members) in by_series.series.iter().zip(by_series.runs()) {
            let Some(series) = self.series.series_mut(h, i) else {
                continue;
            };
            let (mut added, mut freed) = (0usize, 0usize);
            for &at in members {
                let p = &points[at];
                let (fits, a, f) = series.put(p.timestamp, &p.fields);
                added += a;
                freed += f;
                if !fits {
                    ok = false;
                    break;
                }
            }
            self.bytes = (self.bytes + added).saturating_sub(freed);
            if !ok {
                break;
            }
        }
        ok
    }

    /// Finds (or creates) the series of every point at or after the coverage, and lists
    /// the points by series. Every point's time counts towards `max_time`, also one a
    /// misfit leaves out afterwards: `clear` moves the coverage past the whole batch.
    fn group_by_series(&mut self, points: &[hyperbyte_domain::PointRef<'_>]) -> BySeries {
        let mut known = KnownSeries::default();
        let mut slot_of: FastMap<(u64, usize), usize> = FastMap::default();
        let mut grouped = BySeries::default();
        let mut slots = Vec::with_capacity(points.len());
        for (at, p) in points.iter().enumerate() {
            self.max_time = self.max_time.max(p.timestamp);
            if p.timestamp < self.covered_from {
                self.skipped_below = self.skipped_below.wrapping_add(1);
                self.fold_skipped(p);
                continue;
            }
            let slot = match known.get(points, at) {
                Some(slot) => slot,
                None => {
                    let h = p.series();
                    let i = self.series_place(&p.measurement, &p.tags, h);
                    let slot = *slot_of.entry((h, i)).or_insert_with(|| {
                        grouped.series.push((h, i));
                        grouped.series.len() - 1
                    });
                    known.remember(points, at, slot);
                    slot
                }
            };
            slots.push((slot, at));
        }
        grouped.fill(&slots);
        grouped
    }

    /// Whether `older`'s series fit before this table's (same column types).
    pub(super) fn fits_before(&self, older: &Table) -> bool {
        older.series.iter().all(|(h, bucket)| {
            bucket.iter().all(|o| {
                self.series
                    .get(h)
                    .and_then(|live| live.iter().find(|s| s.tags == o.tags))
                    .is_none_or(|s| s.fits_before(o))
            })
        })
    }

    /// Puts the rows of `older` (a table of rows all earlier than this one's, checked
    /// with [`Table::fits_before`]) before this table's, and lets the coverage start at
    /// `covered_from`.
    pub(super) fn prepend_older(&mut self, older: Table, covered_from: i64) {
        for (h, bucket) in older.series {
            for o in bucket {
                match self.series.find_mut(h, &o.tags) {
                    Some(s) => {
                        // Recounted: one fixed part, and the padding of the columns only
                        // one side had.
                        let before = s.bytes();
                        s.prepend(o);
                        self.bytes = (self.bytes + s.bytes()).saturating_sub(before);
                    }
                    None => {
                        self.bytes += o.bytes();
                        let (_, index) = self.series.push(h, o);
                        self.bytes += index;
                    }
                }
            }
        }
        // The entries stay true where each is earlier than the new start: the latest
        // value before the old start is then also the latest before the new one.
        self.bytes = self.bytes.saturating_sub(self.older_bytes());
        let older = match self.older.take() {
            _ if covered_from == i64::MIN => Some(OlderLatest::default()),
            Some(o) if o.all_before(covered_from) => Some(o),
            _ => None,
        };
        self.older = older;
        self.bytes += self.older_bytes();
        self.covered_from = covered_from;
    }

    /// Takes a flushed point left out for being earlier than the coverage into the
    /// latest values before it. One earlier than the latest retention cutoff makes them
    /// unknown: it was acknowledged before the cutoff moved past it, and storage may or
    /// may not keep it (retention drops whole partitions, possibly after this write).
    fn fold_skipped(&mut self, p: &hyperbyte_domain::PointRef<'_>) {
        let before = self.older_bytes();
        if p.timestamp < self.removed_before {
            self.older = None;
        } else if let Some(older) = &mut self.older {
            older.fold_skipped(p);
        }
        self.bytes = (self.bytes + self.older_bytes()).saturating_sub(before);
    }

    fn older_bytes(&self) -> usize {
        self.older.as_ref().map_or(0, OlderLatest::bytes)
    }

    /// Removes every row and the coverage of everything flushed so far, and forgets what
    /// was stored before it.
    pub(super) fn clear(&mut self) {
        self.covered_from = self.max_time.saturating_add(1).max(self.covered_from);
        self.series.clear();
        self.older = None;
        self.older_too_big = false;
        self.bytes = 0;
    }

    /// Removes rows before `cut` and moves coverage there (retention). Storage drops the
    /// whole partitions that end before `cut`, so a value before `cut` may be gone or
    /// still stored: the latest values before the coverage stay known only when none of
    /// them, and no row, is earlier than `cut`.
    pub(super) fn drop_before(&mut self, cut: i64) {
        self.removed_before = self.removed_before.max(cut);
        if cut > self.covered_from || self.older.as_ref().is_some_and(|o| !o.none_before(cut)) {
            self.older = None;
        }
        self.drop_rows_before(cut, false);
    }

    /// Evicts rows before `cut` (storage keeps them) and moves coverage there; each
    /// field's latest evicted value of a series becomes its latest before the coverage.
    pub(super) fn evict_before(&mut self, cut: i64) {
        self.drop_rows_before(cut, true);
    }

    /// Gives the room its series reserved beyond their rows back to the allocator: an
    /// eviction only moves rows within their vectors, which new rows then reuse.
    pub(super) fn shrink_to_fit(&mut self) {
        self.series.retain(|s| {
            s.times.shrink_to_fit();
            for c in s.columns.values_mut() {
                c.shrink_to_fit();
            }
            true
        });
    }

    fn drop_rows_before(&mut self, cut: i64, fold: bool) {
        self.covered_from = self.covered_from.max(cut);
        let mut bytes = 0;
        let older = &mut self.older;
        self.series.retain(|s| {
            let n = s.times.partition_point(|t| *t < cut);
            if let Some(o) = older.as_mut().filter(|_| fold && n > 0) {
                o.fold_evicted(s, n);
            }
            if n > 0 {
                s.times.drain(..n);
                for c in s.columns.values_mut() {
                    c.drain_front(n);
                }
            }
            if !s.times.is_empty() {
                bytes += s.bytes();
            }
            !s.times.is_empty()
        });
        self.bytes = bytes + self.older_bytes() + self.series.index_bytes();
    }

    /// The earliest time held (`None`: empty).
    pub(super) fn min_time(&self) -> Option<i64> {
        self.all_series()
            .filter_map(|s| s.times.first())
            .min()
            .copied()
    }

    /// Whether every stored point at or after `min` is here.
    pub(super) fn covers(&self, min: Option<i64>) -> bool {
        self.covered_from == i64::MIN || min.is_some_and(|m| m >= self.covered_from)
    }

    /// The series `filter` accepts with their non-empty row ranges within its time bounds:
    /// the candidates of the tag index when it narrows the condition down, else every
    /// series, each tested against the condition.
    pub(super) fn matching(
        &self,
        filter: &mut ReadFilter<'_>,
    ) -> Vec<(&Series, std::ops::Range<usize>)> {
        let (min, max) = (filter.min, filter.max);
        let candidates: Box<dyn Iterator<Item = &Series>> = match self.series.candidates(filter) {
            Some(hashes) => Box::new(
                hashes
                    .into_iter()
                    .filter_map(|h| self.series.get(&h))
                    .flatten(),
            ),
            None => Box::new(self.all_series()),
        };
        candidates
            .filter(|s| filter.series_may_match(&*s.tags))
            .map(|s| (s, s.rows_between(min, max)))
            .filter(|(_, r)| !r.is_empty())
            .collect()
    }

    pub(super) fn all_series(&self) -> impl Iterator<Item = &Series> {
        self.series.all()
    }

    /// The place in its hash bucket of the series of `tags` (sorted by key; `h` is their
    /// `series_hash`), created when new.
    fn series_place(
        &mut self,
        measurement: &str,
        tags: &[(Cow<'_, str>, Cow<'_, str>)],
        h: u64,
    ) -> usize {
        let same = |s: &Series| {
            s.tags.len() == tags.len()
                && s.tags
                    .iter()
                    .zip(tags)
                    .all(|((k, v), (k2, v2))| k == k2 && v == v2)
        };
        let found = self.series.get(&h).and_then(|b| b.iter().position(same));
        match found {
            Some(i) => i,
            None => {
                let (series, bytes) = Series::empty(measurement, tags);
                let (place, index) = self.series.push(h, series);
                self.bytes += bytes + index;
                place
            }
        }
    }
}

/// The series one [`Table::put_all`] call already found. A flush round's points borrow
/// their tags from the decoded WAL entry's series table, so every point of a series in
/// one entry shares one list: known by that list's address, a series is found without
/// comparing all of its tags again for each point (string comparisons of the bucket
/// search were about 5% of the server's CPU under TSBS ingest). Two borrowed lists alive
/// at the same address with the same length are the same memory, hence the same tags.
/// A write's own points (the write path feeds the tier) own their tag lists, but the
/// line-protocol parser gives the points of one series key in a body the same tag
/// strings and their series hash: those are known by the hash, confirmed against an
/// earlier point of the series by the strings' addresses before their bytes
/// ([`PointRef::same_series`]).
#[derive(Default)]
struct KnownSeries {
    by_address: FastMap<(usize, usize), usize>,
    /// Series hash → (slot, index of a point of the series in the batch).
    by_hash: FastMap<u64, Vec<(usize, usize)>>,
}

impl KnownSeries {
    fn address(tags: &ListRef<'_, TagRef<'_>>) -> Option<(usize, usize)> {
        match tags {
            ListRef::Borrowed(list) => Some((list.as_ptr() as usize, list.len())),
            ListRef::Owned(_) => None,
        }
    }

    /// The slot (in [`BySeries::series`]) of the series of `points[at]`, if known.
    fn get(&self, points: &[PointRef<'_>], at: usize) -> Option<usize> {
        let p = points.get(at)?;
        if let Some(a) = Self::address(&p.tags) {
            return self.by_address.get(&a).copied();
        }
        self.by_hash
            .get(&p.series_hash?)?
            .iter()
            .find(|&&(_, rep)| points.get(rep).is_some_and(|other| other.same_series(p)))
            .map(|&(slot, _)| slot)
    }

    fn remember(&mut self, points: &[PointRef<'_>], at: usize, slot: usize) {
        let Some(p) = points.get(at) else {
            return;
        };
        match (Self::address(&p.tags), p.series_hash) {
            (Some(a), _) => {
                self.by_address.insert(a, slot);
            }
            (None, Some(h)) => self.by_hash.entry(h).or_default().push((slot, at)),
            (None, None) => {}
        }
    }
}

/// A batch's points listed by series: `series[s]` is the (hash, bucket place) of slot
/// `s`, and its points' indices are `members[starts[s]..starts[s + 1]]`, in batch order.
#[derive(Default)]
struct BySeries {
    series: Vec<(u64, usize)>,
    starts: Vec<usize>,
    members: Vec<usize>,
}

impl BySeries {
    /// Lays out `(slot, point index)` pairs slot by slot, keeping their order within a
    /// slot (a counting sort: one pass to count, one to place).
    fn fill(&mut self, slots: &[(usize, usize)]) {
        let mut starts = vec![0usize; self.series.len() + 1];
        for &(s, _) in slots {
            starts[s + 1] += 1;
        }
        for s in 1..starts.len() {
            starts[s] += starts[s - 1];
        }
        let mut next = starts.clone();
        let mut members = vec![0usize; slots.len()];
        for &(s, at) in slots {
            members[next[s]] = at;
            next[s] += 1;
        }
        self.starts = starts;
        self.members = members;
    }

    /// Each slot's point indices, in slot order.
    fn runs(&self) -> impl Iterator<Item = &[usize]> {
        self.starts.windows(2).map(|w| &self.members[w[0]..w[1]])
    }
}

/// Rows a late point is first looked for among, from the newest back.
const LATE_WINDOW: usize = 16;

/// Where `time` goes in the sorted `times`, and whether that makes a new row. Late points
/// mostly belong among the newest rows (parallel writers' batches reach the log slightly
/// out of order), so those few are searched first: a search of the whole column missed
/// the cache at each step, and was a fifth of the tier's insert time under TSBS ingest.
fn row_of(times: &[i64], time: i64) -> (usize, bool) {
    let start = times.len().saturating_sub(LATE_WINDOW);
    let (offset, searched) = match times.get(start) {
        Some(&first) if first <= time => (start, &times[start..]),
        _ => (0, times),
    };
    match searched.binary_search(&time) {
        Ok(i) => (offset + i, false),
        Err(i) => (offset + i, true),
    }
}

/// Bytes a series costs besides its rows, columns, key and tag text: its structure, its
/// entries in the table's maps and the nodes of its tag map. 256 until columns were
/// charged too; with [`COLUMN_OVERHEAD`] and 256 here, 200,000 series of one 10-field row
/// took 1,630 bytes each (resident memory with the tier against without it) where the
/// count said 1,255.
pub(super) const SERIES_OVERHEAD: usize = 512;

/// What a field column of a series costs besides its cells: its entry in the series'
/// column list, its position hint, the shared name's two reference counts, and the
/// smallest blocks its name and its two vectors take. Negligible for a long series, but
/// most of a short one: 200,000 series of one 10-field row took 1,550 bytes each
/// (resident memory with the tier against without it) where the count, before columns
/// were charged, said 565.
const COLUMN_OVERHEAD: usize = std::mem::size_of::<(Arc<str>, Column)>()
    + std::mem::size_of::<usize>()
    + 2 * std::mem::size_of::<usize>()
    + 3 * 16;

/// What the column `name` costs besides its cells ([`COLUMN_OVERHEAD`] and the name).
pub(super) fn column_bytes(name: &str) -> usize {
    COLUMN_OVERHEAD + name.len()
}
