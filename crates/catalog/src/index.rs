//! The series index and the per-database image: the memory layout every read is served
//! from.
//!
//! It is laid out for about a million series per node: per database → per measurement →
//! sorted series keys, plus per (measurement, tag key, tag value) the sorted set of series
//! carrying it (a posting list sharing the key strings with the main map: one `Arc<str>`
//! allocation per series, read with a single memory access when visiting), so `SHOW TAG
//! VALUES`, conditions such as `host = 'x'`, counts and dropping series never scan a
//! measurement's whole series list. Tags are not kept beside a key when they can be parsed
//! back from it (the usual case), which halves the index's memory; visits parse them into
//! a reused entry instead of allocating.

use hyperbyte_domain::{Database, FieldType, MeasurementSchema, SeriesKey};
use hyperbyte_ports::SeriesEntry;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::ops::RangeBounds;
use std::sync::Arc;

/// Tags of one series: `None` when they parse back exactly from the key.
pub(crate) type StoredTags = Option<Box<[(String, String)]>>;

/// One database: its record plus its measurements.
#[derive(Debug)]
pub(crate) struct DbState {
    pub(crate) order: u64,
    pub(crate) db: Database,
    pub(crate) measurements: BTreeMap<String, Measurement>,
    /// Escaped measurement name (the prefix of its series keys) → measurement name.
    escaped: HashMap<String, String>,
    series_count: usize,
}

/// One measurement: schema and series.
#[derive(Debug, Default)]
pub(crate) struct Measurement {
    pub(crate) schema: Option<MeasurementSchema>,
    escaped_len: usize,
    series: BTreeMap<Arc<str>, StoredTags>,
    /// Number of series whose tags are stored explicitly (when zero, a posting list is
    /// visited without looking its keys up in `series`).
    explicit: usize,
    /// Tag key → tag value → keys of the series carrying it.
    tag_values: HashMap<String, BTreeMap<String, BTreeSet<Arc<str>>>>,
    /// Field → retention policy → shard group start → the field's type there.
    field_shards: HashMap<String, HashMap<String, BTreeMap<i64, FieldType>>>,
}

impl DbState {
    pub(crate) fn new(order: u64, db: Database) -> Self {
        DbState {
            order,
            db,
            measurements: BTreeMap::new(),
            escaped: HashMap::new(),
            series_count: 0,
        }
    }

    /// The per-shard field types a retention policy recorded for groups starting within
    /// `starts`, as `(measurement, field, start)`, sorted (measurements are in a
    /// `BTreeMap`, each one's records sorted).
    pub(crate) fn field_shards_in(
        &self,
        rp: &str,
        starts: impl RangeBounds<i64>,
    ) -> Vec<(String, String, i64)> {
        let starts = &starts;
        self.measurements
            .iter()
            .flat_map(|(m, ms)| {
                ms.field_shards_of_rp(rp)
                    .into_iter()
                    .filter(move |(_, start)| starts.contains(start))
                    .map(move |(field, start)| (m.clone(), field, start))
            })
            .collect()
    }

    /// The measurement, created empty if needed.
    pub(crate) fn measurement_mut(&mut self, name: &str) -> &mut Measurement {
        let escaped = &mut self.escaped;
        self.measurements
            .entry(name.to_string())
            .or_insert_with(|| {
                let e = SeriesKey::measurement_only(name).0;
                let m = Measurement {
                    escaped_len: e.len(),
                    ..Measurement::default()
                };
                escaped.insert(e, name.to_string());
                m
            })
    }

    pub(crate) fn remove_measurement(&mut self, name: &str) {
        if let Some(m) = self.measurements.remove(name) {
            self.series_count -= m.series.len();
            self.escaped.remove(&SeriesKey::measurement_only(name).0);
        }
    }

    /// Adds a series; returns false when the key was already indexed.
    pub(crate) fn add_series(&mut self, measurement: &str, key: &str, tags: StoredTags) -> bool {
        let added = match self.measurements.get_mut(measurement) {
            Some(m) => m.add_series(key, tags),
            None => self.measurement_mut(measurement).add_series(key, tags),
        };
        self.series_count += usize::from(added);
        added
    }

    /// Removes a series; returns false when it was not indexed.
    pub(crate) fn remove_series(&mut self, measurement: &str, key: &str) -> bool {
        let removed = self
            .measurements
            .get_mut(measurement)
            .is_some_and(|m| m.remove_series(key));
        self.series_count -= usize::from(removed);
        removed
    }

    pub(crate) fn series_count(&self) -> usize {
        self.series_count
    }

    /// The measurement whose series index holds `key`, if any. The escaped measurement
    /// name is the key's prefix up to a comma; it contains no comma that is not preceded
    /// by a backslash, so only commas up to the first such one are candidates.
    pub(crate) fn find_series(&self, key: &str) -> Option<&Measurement> {
        let bytes = key.as_bytes();
        let probe = |end: usize| {
            self.escaped
                .get(&key[..end])
                .and_then(|name| self.measurements.get(name))
                .filter(|m| m.series.contains_key(key))
        };
        for (i, &b) in bytes.iter().enumerate() {
            if b == b',' {
                if let Some(m) = probe(i) {
                    return Some(m);
                }
                if i == 0 || bytes[i - 1] != b'\\' {
                    return None;
                }
            }
        }
        probe(bytes.len())
    }
}

/// Lists `t` among the schema's other types of `field` when it is not the primary type.
fn note_other_type(schema: &mut MeasurementSchema, field: &str, t: FieldType) {
    if schema.field_type(field).is_some_and(|p| p != t) {
        schema
            .other_types
            .entry(field.to_string())
            .or_default()
            .insert(t);
    }
}

impl Measurement {
    /// The type `field` took in one shard group.
    pub(crate) fn field_shard_type(&self, field: &str, rp: &str, start: i64) -> Option<FieldType> {
        self.field_shards.get(field)?.get(rp)?.get(&start).copied()
    }

    /// The types `field` took in the shard groups of `rp` starting within
    /// `[first_start, last_start]`.
    pub(crate) fn field_types_between(
        &self,
        field: &str,
        rp: &str,
        (first_start, last_start): (i64, i64),
    ) -> BTreeSet<FieldType> {
        match self.field_shards.get(field).and_then(|by_rp| by_rp.get(rp)) {
            Some(starts) if first_start <= last_start => starts
                .range(first_start..=last_start)
                .map(|(_, t)| *t)
                .collect(),
            _ => BTreeSet::new(),
        }
    }

    /// Whether `field` has a type recorded in some shard group of `rp`.
    pub(crate) fn has_field_in(&self, field: &str, rp: &str) -> bool {
        self.field_shards
            .get(field)
            .is_some_and(|by_rp| by_rp.get(rp).is_some_and(|s| !s.is_empty()))
    }

    /// Whether some field has a type recorded in one shard group.
    pub(crate) fn has_field_shard(&self, rp: &str, start: i64) -> bool {
        self.field_shards
            .values()
            .any(|by_rp| by_rp.get(rp).is_some_and(|s| s.contains_key(&start)))
    }

    /// Records a field's type in one shard group; a type other than the primary one is
    /// listed in the schema's `other_types`.
    pub(crate) fn record_field_shard(&mut self, field: &str, rp: &str, start: i64, t: FieldType) {
        self.field_shards
            .entry(field.to_string())
            .or_default()
            .entry(rp.to_string())
            .or_default()
            .insert(start, t);
        if let Some(schema) = &mut self.schema {
            note_other_type(schema, field, t);
        }
    }

    /// The (field, shard group start) pairs recorded for a retention policy, sorted (the
    /// map is a `HashMap`: sorting keeps planned changes deterministic).
    pub(crate) fn field_shards_of_rp(&self, rp: &str) -> Vec<(String, i64)> {
        let mut out: Vec<(String, i64)> = self
            .field_shards
            .iter()
            .flat_map(|(f, by_rp)| {
                by_rp
                    .get(rp)
                    .into_iter()
                    .flat_map(move |starts| starts.keys().map(move |s| (f.clone(), *s)))
            })
            .collect();
        out.sort_unstable();
        out
    }

    /// Forgets one record (see [`Self::recompute_other_types`]).
    pub(crate) fn forget_field_shard(&mut self, field: &str, rp: &str, start: i64) {
        if let Some(by_rp) = self.field_shards.get_mut(field) {
            if let Some(starts) = by_rp.get_mut(rp) {
                starts.remove(&start);
                if starts.is_empty() {
                    by_rp.remove(rp);
                }
            }
            if by_rp.is_empty() {
                self.field_shards.remove(field);
            }
        }
    }

    /// Derives the schema's other types again from the records left.
    pub(crate) fn recompute_other_types(&mut self) {
        if let Some(schema) = &mut self.schema {
            schema.other_types.clear();
            for (f, by_rp) in &self.field_shards {
                for t in by_rp.values().flat_map(|s| s.values()) {
                    note_other_type(schema, f, *t);
                }
            }
        }
    }

    /// Whether the measurement shows up: it has series (one whose series were all
    /// dropped keeps its schema, hidden).
    pub(crate) fn is_visible(&self) -> bool {
        !self.series.is_empty()
    }

    pub(crate) fn series_len(&self) -> usize {
        self.series.len()
    }

    pub(crate) fn contains(&self, key: &str) -> bool {
        self.series.contains_key(key)
    }

    fn add_series(&mut self, key: &str, tags: StoredTags) -> bool {
        if self.series.contains_key(key) {
            return false;
        }
        let key: Arc<str> = Arc::from(key);
        match &tags {
            Some(t) => {
                self.explicit += 1;
                self.index_tags(&key, t.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            }
            None => {
                let parsed = parse_tags(&key[self.escaped_len..]).unwrap_or_default();
                self.index_tags(&key, parsed.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            }
        }
        self.series.insert(key, tags);
        true
    }

    fn index_tags<'a>(&mut self, key: &Arc<str>, tags: impl Iterator<Item = (&'a str, &'a str)>) {
        for (k, v) in tags {
            let values = match self.tag_values.get_mut(k) {
                Some(values) => values,
                None => self.tag_values.entry(k.to_string()).or_default(),
            };
            match values.get_mut(v) {
                Some(set) => {
                    set.insert(Arc::clone(key));
                }
                None => {
                    values.insert(v.to_string(), BTreeSet::from([Arc::clone(key)]));
                }
            }
        }
    }

    fn remove_series(&mut self, key: &str) -> bool {
        let Some(tags) = self.series.remove(key) else {
            return false;
        };
        let tags = match tags {
            Some(t) => {
                self.explicit -= 1;
                t.into_vec()
            }
            None => parse_tags(&key[self.escaped_len..]).unwrap_or_default(),
        };
        for (k, v) in &tags {
            if let Some(values) = self.tag_values.get_mut(k.as_str()) {
                if let Some(set) = values.get_mut(v.as_str()) {
                    set.remove(key);
                    if set.is_empty() {
                        values.remove(v.as_str());
                    }
                }
                if values.is_empty() {
                    self.tag_values.remove(k.as_str());
                }
            }
        }
        true
    }

    /// The stored tags of an indexed key (`None`: parse them from the key).
    fn stored(&self, key: &str) -> Option<&StoredTags> {
        if self.explicit == 0 {
            None
        } else {
            self.series.get(key)
        }
    }

    /// Fills `out` (reusing its allocations) with the entry of series `key`.
    fn fill(&self, name: &str, key: &str, tags: Option<&StoredTags>, out: &mut SeriesEntry) {
        if out.measurement != name {
            out.measurement.clear();
            out.measurement.push_str(name);
        }
        out.key.clear();
        out.key.push_str(key);
        match tags {
            Some(Some(t)) => {
                out.tags.clear();
                out.tags.extend(t.iter().cloned());
            }
            Some(None) | None => {
                parse_tags_into(&key[self.escaped_len..], &mut out.tags);
            }
        }
    }

    fn entry(&self, name: &str, key: &str, tags: Option<&StoredTags>) -> SeriesEntry {
        let mut e = SeriesEntry {
            measurement: String::new(),
            key: String::new(),
            tags: Vec::new(),
        };
        self.fill(name, key, tags, &mut e);
        e
    }

    /// Series entries of this measurement, sorted by key.
    pub(crate) fn entries(&self, name: &str, out: &mut Vec<SeriesEntry>) {
        out.reserve(self.series.len());
        for (key, tags) in &self.series {
            out.push(self.entry(name, key, Some(tags)));
        }
    }

    /// Visits this measurement's series in key order until `f` returns false; returns
    /// whether it ran to the end.
    pub(crate) fn visit(
        &self,
        name: &str,
        buf: &mut SeriesEntry,
        f: &mut dyn FnMut(&SeriesEntry) -> bool,
    ) -> bool {
        for (key, tags) in &self.series {
            self.fill(name, key, Some(tags), buf);
            if !f(buf) {
                return false;
            }
        }
        true
    }

    /// Series carrying tag `key` = `value`, sorted by key.
    pub(crate) fn series_with_tag(&self, name: &str, key: &str, value: &str) -> Vec<SeriesEntry> {
        let Some(set) = self.tag_values.get(key).and_then(|vs| vs.get(value)) else {
            return Vec::new();
        };
        set.iter()
            .map(|k| self.entry(name, k, self.stored(k)))
            .collect()
    }

    /// Visits the series carrying tag `key` = `value` in key order until `f` returns
    /// false.
    pub(crate) fn visit_with_tag(
        &self,
        name: &str,
        key: &str,
        value: &str,
        f: &mut dyn FnMut(&SeriesEntry) -> bool,
    ) {
        let Some(set) = self.tag_values.get(key).and_then(|vs| vs.get(value)) else {
            return;
        };
        let mut buf = SeriesEntry {
            measurement: String::new(),
            key: String::new(),
            tags: Vec::new(),
        };
        for k in set {
            self.fill(name, k, self.stored(k), &mut buf);
            if !f(&buf) {
                return;
            }
        }
    }

    /// Number of series carrying tag `key` = `value`.
    pub(crate) fn tag_value_series_count(&self, key: &str, value: &str) -> usize {
        self.tag_values
            .get(key)
            .and_then(|vs| vs.get(value))
            .map_or(0, BTreeSet::len)
    }

    /// Number of distinct values of tag `key`.
    pub(crate) fn tag_value_count(&self, key: &str) -> usize {
        self.tag_values.get(key).map_or(0, BTreeMap::len)
    }

    /// Whether some series carries tag `key` = `value`.
    pub(crate) fn has_tag_value(&self, key: &str, value: &str) -> bool {
        self.tag_values
            .get(key)
            .is_some_and(|vs| vs.contains_key(value))
    }

    /// Tag keys carried by at least one series, sorted.
    pub(crate) fn tag_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.tag_values.keys().cloned().collect();
        keys.sort_unstable();
        keys
    }

    pub(crate) fn tag_values(&self, key: &str) -> Vec<String> {
        self.tag_values
            .get(key)
            .map(|v| v.keys().cloned().collect())
            .unwrap_or_default()
    }
}

impl DbState {
    /// Visits every series of the database in key order (a k-way merge of the
    /// measurements' sorted maps) until `f` returns false.
    pub(crate) fn visit_all(&self, f: &mut dyn FnMut(&SeriesEntry) -> bool) {
        let mut buf = SeriesEntry {
            measurement: String::new(),
            key: String::new(),
            tags: Vec::new(),
        };
        let mut parts: Vec<(&str, &Measurement)> = self
            .measurements
            .iter()
            .filter(|(_, m)| !m.series.is_empty())
            .map(|(n, m)| (n.as_str(), m))
            .collect();
        if parts.len() <= 1 {
            if let Some((name, m)) = parts.pop() {
                m.visit(name, &mut buf, f);
            }
            return;
        }
        let mut iters: Vec<_> = parts.iter().map(|(_, m)| m.series.iter()).collect();
        let mut heap = BinaryHeap::with_capacity(iters.len());
        for (i, it) in iters.iter_mut().enumerate() {
            if let Some((k, t)) = it.next() {
                heap.push(Reverse((k.as_ref(), i, t)));
            }
        }
        while let Some(Reverse((key, i, tags))) = heap.pop() {
            let (name, m) = parts[i];
            m.fill(name, key, Some(tags), &mut buf);
            if !f(&buf) {
                return;
            }
            if let Some((k, t)) = iters[i].next() {
                heap.push(Reverse((k.as_ref(), i, t)));
            }
        }
    }
}

/// Decides how to keep a series' tags: `None` when `key` is the canonical key of the
/// measurement whose escaped name is `escaped` (see [`SeriesKey::measurement_only`]) with
/// `tags` (so the tags can be parsed back), else the tags themselves.
pub(crate) fn stored_tags(
    escaped: &str,
    key: &str,
    tags: Vec<(String, String)>,
) -> Option<Vec<(String, String)>> {
    let canonical = key
        .strip_prefix(escaped)
        .and_then(parse_tags)
        .is_some_and(|parsed| parsed == tags);
    if canonical {
        None
    } else {
        Some(tags)
    }
}

/// Parses the tag part of a canonical series key (`""` or `,k=v,k2=v2` with `,`, ` ` and
/// `=` backslash-escaped). `None` when it is not in canonical form.
pub(crate) fn parse_tags(rest: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    parse_tags_into(rest, &mut out).then_some(out)
}

/// [`parse_tags`] into `out`, reusing its strings; returns false (and leaves `out` empty)
/// when `rest` is not in canonical form.
pub(crate) fn parse_tags_into(rest: &str, out: &mut Vec<(String, String)>) -> bool {
    let mut n = 0;
    let ok = parse_pairs(rest, out, &mut n);
    out.truncate(if ok { n } else { 0 });
    ok
}

/// Slot `n` of `out`, cleared (pushed when missing).
fn slot(out: &mut Vec<(String, String)>, n: usize) -> &mut (String, String) {
    if n == out.len() {
        out.push((String::new(), String::new()));
    }
    let s = &mut out[n];
    s.0.clear();
    s.1.clear();
    s
}

fn parse_pairs(rest: &str, out: &mut Vec<(String, String)>, n: &mut usize) -> bool {
    if rest.is_empty() {
        return true;
    }
    let Some(rest) = rest.strip_prefix(',') else {
        return false;
    };
    let bytes = rest.as_bytes();
    let mut in_val = false;
    let mut pair = slot(out, *n);
    // Runs of ordinary bytes are copied as slices; only `\`, `=`, `,` and ` ` (all ASCII,
    // so every cut is on a char boundary) are looked at one by one.
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !matches!(b, b'\\' | b'=' | b',' | b' ') {
            i += 1;
            continue;
        }
        let target = if in_val { &mut pair.1 } else { &mut pair.0 };
        target.push_str(&rest[run..i]);
        match b {
            b'\\' => match bytes.get(i + 1) {
                Some(&c @ (b',' | b' ' | b'=')) => {
                    target.push(char::from(c));
                    i += 2;
                    run = i;
                    continue;
                }
                _ => target.push('\\'),
            },
            b'=' if !in_val => in_val = true,
            b'=' | b' ' => return false,
            _ => {
                // ','
                if !in_val {
                    return false;
                }
                *n += 1;
                pair = slot(out, *n);
                in_val = false;
            }
        }
        i += 1;
        run = i;
    }
    if !in_val {
        return false;
    }
    pair.1.push_str(&rest[run..]);
    *n += 1;
    true
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn tags(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// How the index keeps the tags of `key` in measurement `m`.
    fn stored(m: &str, key: &str, t: Vec<(String, String)>) -> StoredTags {
        stored_tags(&SeriesKey::measurement_only(m).0, key, t).map(Vec::into_boxed_slice)
    }

    #[test]
    fn canonical_keys_parse_back() {
        for (m, t) in [
            ("cpu", tags(&[("host", "a"), ("region", "east")])),
            (
                "cpu load",
                tags(&[("a", "x,y"), ("b", "1=2"), ("c d", "e f")]),
            ),
            ("m", vec![]),
            ("a\\", tags(&[("k", "v\\w")])),
        ] {
            let key = SeriesKey::new(m, &t).0;
            let escaped = SeriesKey::measurement_only(m).0;
            assert_eq!(parse_tags(&key[escaped.len()..]).unwrap(), t, "{key}");
            assert!(stored(m, &key, t.clone()).is_none(), "{key}");
        }
        // A key that is not canonical keeps its tags explicitly.
        assert!(stored("cpu", "cpu,host=a", tags(&[("host", "b")])).is_some());
        assert!(stored("cpu", "weird", tags(&[])).is_some());
    }

    #[test]
    fn find_series_handles_escaped_measurements() {
        let mut db = DbState::new(0, Database::new("d"));
        for (m, t) in [
            ("a\\", tags(&[("k", "v")])),
            ("a,b", tags(&[("k", "v")])),
            ("plain", vec![]),
        ] {
            let key = SeriesKey::new(m, &t).0;
            let st = stored(m, &key, t);
            assert!(db.add_series(m, &key, st));
            assert!(db.find_series(&key).is_some(), "{key}");
        }
        assert!(db.find_series("a\\,k=w").is_none());
        assert!(db.find_series("plain,x=y").is_none());
        assert_eq!(db.series_count(), 3);
        assert!(db.remove_series("plain", "plain"));
        assert_eq!(db.series_count(), 2);
    }

    fn db_with(series: &[(&str, &[(&str, &str)])]) -> DbState {
        let mut db = DbState::new(0, Database::new("d"));
        for (m, t) in series {
            let t = tags(t);
            let key = SeriesKey::new(m, &t).0;
            let st = stored(m, &key, t);
            db.add_series(m, &key, st);
        }
        db
    }

    #[test]
    fn parse_tags_into_reuses_and_resets() {
        let mut out = tags(&[("x", "1"), ("y", "2"), ("z", "3")]);
        assert!(parse_tags_into(",a=b,c\\,d=e\\ f", &mut out));
        assert_eq!(out, tags(&[("a", "b"), ("c,d", "e f")]));
        assert!(parse_tags_into("", &mut out));
        assert!(out.is_empty());
        assert!(parse_tags_into(",k=v", &mut out));
        assert_eq!(out, tags(&[("k", "v")]));
        // Edge cases of the canonical form: empty key or value, escapes.
        for ok in [",=v", ",k=", ",a=1,b=2", ",a=1,b\\=x=2", ",a=\\q,b=2"] {
            assert!(parse_tags_into(ok, &mut out), "{ok}");
        }
        assert_eq!(parse_tags(",=v").unwrap(), tags(&[("", "v")]));
        assert_eq!(parse_tags(",k=").unwrap(), tags(&[("k", "")]));
        assert_eq!(
            parse_tags(",a=\\q,b=2").unwrap(),
            tags(&[("a", "\\q"), ("b", "2")])
        );
        for bad in [
            "k=v",
            ",k",
            ",k=v,",
            ",k=v w",
            ",a=b=c",
            ",a,b=c",
            ",a b=c\\,",
            ",k=v,\\",
        ] {
            assert!(!parse_tags_into(bad, &mut out), "{bad}");
            assert!(out.is_empty(), "{bad}");
            assert_eq!(parse_tags(bad), None, "{bad}");
        }
    }

    #[test]
    fn visit_all_merges_measurements_in_key_order() {
        // `cpu!` sorts after `cpu` by name but its keys sort before `cpu,…`.
        let db = db_with(&[
            ("cpu", &[("host", "b")]),
            ("cpu", &[("host", "a")]),
            ("cpu!", &[("host", "a")]),
            ("cpu x", &[]),
            ("mem", &[("host", "a")]),
        ]);
        let mut seen = Vec::new();
        db.visit_all(&mut |se| {
            seen.push((se.measurement.clone(), se.key.clone(), se.tags.clone()));
            true
        });
        let keys: Vec<&str> = seen.iter().map(|(_, k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            vec![
                "cpu!,host=a",
                "cpu,host=a",
                "cpu,host=b",
                "cpu\\ x",
                "mem,host=a"
            ]
        );
        assert_eq!(seen[0].0, "cpu!");
        assert_eq!(seen[3].0, "cpu x");
        assert!(seen[3].2.is_empty());
        assert_eq!(seen[4].2, tags(&[("host", "a")]));
        // Early stop.
        let mut n = 0;
        db.visit_all(&mut |_| {
            n += 1;
            n < 2
        });
        assert_eq!(n, 2);
    }

    #[test]
    fn tag_value_postings_follow_adds_and_removes() {
        let mut db = db_with(&[
            ("cpu", &[("host", "a"), ("region", "e")]),
            ("cpu", &[("host", "b"), ("region", "e")]),
            ("cpu", &[("host", "a"), ("region", "w")]),
            ("cpu", &[("zone", "z")]),
        ]);
        let m = &db.measurements["cpu"];
        let keys = |v: Vec<SeriesEntry>| v.into_iter().map(|s| s.key).collect::<Vec<_>>();
        assert_eq!(
            keys(m.series_with_tag("cpu", "host", "a")),
            vec!["cpu,host=a,region=e", "cpu,host=a,region=w"]
        );
        assert_eq!(
            m.series_with_tag("cpu", "host", "a")[1].tags,
            tags(&[("host", "a"), ("region", "w")])
        );
        assert!(m.series_with_tag("cpu", "host", "zz").is_empty());
        assert_eq!(m.tag_value_series_count("region", "e"), 2);
        assert_eq!(m.tag_value_count("host"), 2);
        assert!(m.has_tag_value("zone", "z"));
        assert_eq!(m.tag_keys(), vec!["host", "region", "zone"]);
        let mut buf = SeriesEntry {
            measurement: String::new(),
            key: String::new(),
            tags: Vec::new(),
        };
        let mut all = Vec::new();
        assert!(m.visit("cpu", &mut buf, &mut |se| {
            all.push(se.clone());
            true
        }));
        let mut listed = Vec::new();
        m.entries("cpu", &mut listed);
        assert_eq!(all, listed);

        // A series whose tags do not parse back from its key keeps them explicitly, and
        // the postings report those.
        let odd = tags(&[("host", "a"), ("region", "odd")]);
        let st = stored("cpu", "cpu#odd", odd.clone());
        assert!(st.is_some());
        assert!(db.add_series("cpu", "cpu#odd", st));
        let m = &db.measurements["cpu"];
        let hits = m.series_with_tag("cpu", "region", "odd");
        assert_eq!(keys(hits.clone()), vec!["cpu#odd"]);
        assert_eq!(hits[0].tags, odd);
        let mut seen = Vec::new();
        m.visit_with_tag("cpu", "host", "a", &mut |se| {
            seen.push((se.key.clone(), se.tags.clone()));
            true
        });
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0], ("cpu#odd".to_string(), odd));
        assert_eq!(seen[1].1, tags(&[("host", "a"), ("region", "e")]));
        assert!(db.remove_series("cpu", "cpu#odd"));
        assert_eq!(db.measurements["cpu"].explicit, 0);

        assert!(db.remove_series("cpu", "cpu,host=a,region=e"));
        assert!(db.remove_series("cpu", "cpu,zone=z"));
        let m = &db.measurements["cpu"];
        assert_eq!(
            keys(m.series_with_tag("cpu", "host", "a")),
            vec!["cpu,host=a,region=w"]
        );
        assert_eq!(m.tag_value_series_count("region", "e"), 1);
        assert_eq!(m.tag_keys(), vec!["host", "region"]);
        assert!(!m.has_tag_value("zone", "z"));
    }
}
