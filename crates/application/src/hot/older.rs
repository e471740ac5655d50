//! The latest value of each (series, field) stored before a table's coverage starts, so
//! that `last()` over a range the tier does not cover is still answered from memory.
//!
//! Why: TSBS's lastpoint (`SELECT last(usage_user) FROM cpu GROUP BY hostname`, no time
//! bound) starts before any coverage, so once the tier had evicted the oldest rows of a
//! table it read storage: 535–591 ms on 1,000 hosts × 24 h (8.64 M rows), where InfluxDB
//! takes 604–772 ms. With these entries the tier answers it from one value per series.
//!
//! Invariant (*completeness*): a table's `Some(OlderLatest)` holds, for every series and
//! field with a stored value earlier than the table's `covered_from`, the latest such
//! value with its time, and nothing else. How it is kept:
//! - a table covered from the beginning of time has nothing earlier: empty;
//! - eviction moves rows out of the coverage: for each field, the latest of a series'
//!   evicted values replaces its entry (every evicted row is later than the entry);
//! - a flush leaves out points earlier than the coverage: each such field value replaces
//!   the entry it is not earlier than (a later write of the same time wins, as in storage);
//!   one earlier than the latest retention cutoff makes it unknown (storage may or may not
//!   keep it);
//! - a clean restart keeps it (the tier's snapshot);
//! - anything that removes or rewrites stored data (retention too: it drops whole
//!   partitions, so whether a value before its cutoff is still stored is not known
//!   here), the last resort of eviction (clearing a table whose entries alone exceed the
//!   budget), and a table read back from storage by the warm-up or established over
//!   data stored before this process leave it unknown (`None`): `last()` over an
//!   uncovered range then reads storage until `learn.rs` has read it from storage.

use super::table::{key_and_tag_bytes, Column, Series};
use super::HotPoint;
use crate::query::ReadFilter;
use hyperbyte_domain::query::Value;
use hyperbyte_domain::{FieldRef, PointRef, SeriesKey};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// Bytes an entry costs besides its field name and text (map node, time, value).
const ENTRY_OVERHEAD: usize = 64;
/// Bytes a series costs besides its key and tags.
const SERIES_OVERHEAD: usize = 96;

/// One series' latest values before the coverage.
#[derive(Debug, Clone)]
pub(super) struct OlderSeries {
    pub(super) key: Arc<str>,
    pub(super) tags: Arc<BTreeMap<String, String>>,
    /// Field name → (time, value).
    pub(super) fields: BTreeMap<String, (i64, Value)>,
}

impl OlderSeries {
    fn fixed_bytes(&self) -> usize {
        SERIES_OVERHEAD + key_and_tag_bytes(&self.key, &self.tags)
    }

    /// What the series costs with its entries.
    fn bytes(&self) -> usize {
        let entries: usize = self
            .fields
            .iter()
            .map(|(f, (_, v))| entry_bytes(f, v))
            .sum();
        self.fixed_bytes() + entries
    }
}

fn entry_bytes(name: &str, value: &Value) -> usize {
    let text = match value {
        Value::String(s) => s.len(),
        _ => 0,
    };
    ENTRY_OVERHEAD + name.len() + text
}

/// What the entries before the coverage say of one (series, field) within a time range.
#[derive(Debug, PartialEq)]
enum Verdict<'a> {
    /// This is the latest value within the range.
    Latest(i64, &'a Value),
    /// No stored value within the range.
    Nothing,
    /// The latest value before the coverage is past the range: an earlier one may be in
    /// it, and only storage knows.
    Unknown,
}

fn judge<'a>(entry: Option<&'a (i64, Value)>, min: Option<i64>, max: Option<i64>) -> Verdict<'a> {
    match entry {
        None => Verdict::Nothing,
        Some((t, _)) if max.is_some_and(|m| *t > m) => Verdict::Unknown,
        Some((t, _)) if min.is_some_and(|m| *t < m) => Verdict::Nothing,
        Some((t, v)) => Verdict::Latest(*t, v),
    }
}

/// The latest values before a table's coverage (see the module docs).
#[derive(Debug, Default, Clone)]
pub(super) struct OlderLatest {
    series: HashMap<Arc<str>, OlderSeries>,
    bytes: usize,
}

impl OlderLatest {
    /// Bytes held (kept equal to [`OlderLatest::recount`]).
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// The bytes held, counted from scratch.
    #[cfg(test)]
    pub(super) fn recount(&self) -> usize {
        self.series.values().map(OlderSeries::bytes).sum()
    }

    /// Every series with its entries.
    pub(super) fn all_series(&self) -> impl Iterator<Item = &OlderSeries> {
        self.series.values()
    }

    /// Adds a series and its entries read back from a snapshot; `false` when the series
    /// is already here.
    pub(super) fn install(
        &mut self,
        key: Arc<str>,
        tags: Arc<BTreeMap<String, String>>,
        fields: BTreeMap<String, (i64, Value)>,
    ) -> bool {
        if self.series.contains_key(&key) {
            return false;
        }
        let s = OlderSeries {
            key: Arc::clone(&key),
            tags,
            fields,
        };
        self.bytes += s.bytes();
        self.series.insert(key, s);
        true
    }

    fn times(&self) -> impl Iterator<Item = i64> + '_ {
        self.series
            .values()
            .flat_map(|s| s.fields.values().map(|(t, _)| *t))
    }

    /// Whether every entry is earlier than `t`.
    pub(super) fn all_before(&self, t: i64) -> bool {
        self.times().all(|time| time < t)
    }

    /// Offers each `(field, time, value)` of the series `key` (its tags from `tags` when
    /// it is new): a value replaces the entry it is not earlier than.
    fn offer<'v>(
        &mut self,
        key: &Arc<str>,
        tags: impl FnOnce() -> Arc<BTreeMap<String, String>>,
        values: impl IntoIterator<Item = (&'v str, i64, Value)>,
    ) {
        let OlderLatest { series, bytes } = self;
        let s = series.entry(Arc::clone(key)).or_insert_with(|| {
            let s = OlderSeries {
                key: Arc::clone(key),
                tags: tags(),
                fields: BTreeMap::new(),
            };
            *bytes += s.fixed_bytes();
            s
        });
        for (field, time, value) in values {
            match s.fields.get_mut(field) {
                Some(e) if e.0 > time => {}
                Some(e) => {
                    *bytes = (*bytes + entry_bytes(field, &value))
                        .saturating_sub(entry_bytes(field, &e.1));
                    *e = (time, value);
                }
                None => {
                    *bytes += entry_bytes(field, &value);
                    s.fields.insert(field.to_string(), (time, value));
                }
            }
        }
    }

    /// The series `filter` may accept with a value stored at or after `filter.min` (any
    /// time when `None`), before the coverage: by completeness, every such series with
    /// stored rows in that span.
    pub(super) fn series_since(&self, filter: &mut ReadFilter<'_>) -> Vec<Arc<str>> {
        let min = filter.min;
        self.series
            .iter()
            .filter(|(_, s)| min.is_none_or(|m| s.fields.values().any(|(time, _)| *time >= m)))
            .filter(|(_, s)| filter.series_may_match(&*s.tags))
            .map(|(key, _)| Arc::clone(key))
            .collect()
    }

    /// Takes in the latest value of each field among the first `n` rows of `series`,
    /// which eviction is about to drop.
    pub(super) fn fold_evicted(&mut self, series: &Series, n: usize) {
        let latest: Vec<(&str, i64, Value)> = series
            .columns
            .cols
            .iter()
            .filter_map(|(name, c)| latest_before(c, n).map(|(i, v)| (&**name, series.times[i], v)))
            .collect();
        if !latest.is_empty() {
            self.offer(&series.key, || Arc::clone(&series.tags), latest);
        }
    }

    /// Takes in a flushed point the tier left out for being earlier than the coverage.
    pub(super) fn fold_skipped(&mut self, p: &PointRef<'_>) {
        let key: Arc<str> = Arc::from(SeriesKey::new(&p.measurement, &p.tags).0.as_str());
        let tags = || {
            Arc::new(
                p.tags
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        };
        let values = p
            .fields
            .iter()
            .map(|(name, v)| (name.as_ref(), p.timestamp, value_of(v)));
        self.offer(&key, tags, values);
    }

    /// Whether no entry is earlier than `t`.
    pub(super) fn none_before(&self, t: i64) -> bool {
        self.times().all(|time| time >= t)
    }

    /// The latest values of `filter.fields` within its time range, series by series,
    /// for the series `filter` accepts: from `series` (the tier's rows, all at or after
    /// the coverage) where they hold one, else from these entries. `None` when an entry
    /// lies past the range's end (the answer may be older still).
    pub(super) fn latest_points<'s>(
        &self,
        series: impl Iterator<Item = &'s Series>,
        filter: &mut ReadFilter<'_>,
    ) -> Option<Vec<HotPoint>> {
        let (min, max) = (filter.min, filter.max);
        let mut out = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for s in series {
            seen.insert(&s.key);
            if !filter.series_may_match(&*s.tags) {
                continue;
            }
            let range = s.rows_between(min, max);
            let mut by_row: BTreeMap<usize, super::FieldMap> = BTreeMap::new();
            let mut not_in_rows = Vec::new();
            for f in filter.fields {
                let in_rows = s.columns.get_key_value(f).and_then(|(name, c)| {
                    let i = range.clone().rev().find(|&i| c.present[i])?;
                    Some((i, name, c.get(i)?))
                });
                match in_rows {
                    Some((i, name, v)) => {
                        by_row.entry(i).or_default().insert(Arc::clone(name), v);
                    }
                    None => not_in_rows.push(f),
                }
            }
            let before = self.series.get(&s.key);
            for (t, fields) in entries_in_range(before, not_in_rows, min, max)? {
                out.push(point(&s.key, &s.tags, t, fields));
            }
            for (i, fields) in by_row {
                out.push(s.point(i, fields));
            }
        }
        for o in self.series.values() {
            if seen.contains(&*o.key) || !filter.series_may_match(&*o.tags) {
                continue;
            }
            for (t, fields) in entries_in_range(Some(o), filter.fields, min, max)? {
                out.push(point(&o.key, &o.tags, t, fields));
            }
        }
        Some(out)
    }
}

/// The entries of `o` that are the latest values of `fields` within `[min, max]`, by
/// time; `None` when one lies past `max` (only storage knows the answer then).
fn entries_in_range<'f>(
    o: Option<&OlderSeries>,
    fields: impl IntoIterator<Item = &'f String>,
    min: Option<i64>,
    max: Option<i64>,
) -> Option<BTreeMap<i64, super::FieldMap>> {
    let mut by_time: BTreeMap<i64, super::FieldMap> = BTreeMap::new();
    for f in fields {
        match judge(o.and_then(|o| o.fields.get(f)), min, max) {
            Verdict::Latest(t, v) => {
                by_time
                    .entry(t)
                    .or_default()
                    .insert(Arc::from(f.as_str()), v.clone());
            }
            Verdict::Nothing => {}
            Verdict::Unknown => return None,
        }
    }
    Some(by_time)
}

fn point(
    key: &Arc<str>,
    tags: &Arc<BTreeMap<String, String>>,
    time: i64,
    fields: super::FieldMap,
) -> HotPoint {
    HotPoint {
        time,
        key: Arc::clone(key),
        tags: Arc::clone(tags),
        fields,
    }
}

/// The latest present value among the first `n` rows of `c`, with its row.
fn latest_before(c: &Column, n: usize) -> Option<(usize, Value)> {
    let i = (0..n.min(c.present.len())).rev().find(|&i| c.present[i])?;
    Some((i, c.get(i)?))
}

fn value_of(v: &FieldRef<'_>) -> Value {
    match v {
        FieldRef::Float(x) => Value::Float(*x),
        FieldRef::Integer(x) => Value::Integer(*x),
        FieldRef::Unsigned(x) => Value::Unsigned(*x),
        FieldRef::Boolean(x) => Value::Boolean(*x),
        FieldRef::String(s) => Value::String(s.to_string()),
    }
}
