//! The in-memory image of the metadata store, from which every read is served.
//!
//! It is rebuilt from RocksDB at open and changed only by `apply` after the matching
//! RocksDB write is durable. The series index is laid out for about a million series per
//! node: per database → per measurement → sorted series keys, plus per (measurement, tag
//! key) the distinct values with reference counts, so `SHOW TAG VALUES` and dropping
//! series stay cheap. Tags are not kept beside a key when they can be parsed back from it
//! (the usual case), which halves the index's memory.

use hyperbyte_domain::{ContinuousQuery, Database, MeasurementSchema, SeriesKey, Tombstone, User};
use hyperbyte_ports::SeriesEntry;
use std::collections::{BTreeMap, HashMap};

/// Tags of one series: `None` when they parse back exactly from the key.
pub(super) type StoredTags = Option<Box<[(String, String)]>>;

/// Everything the metadata store knows.
#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) dbs: HashMap<String, DbState>,
    /// Creation counter shared by databases, continuous queries and users.
    pub(super) next_order: u64,
    pub(super) tombstones: BTreeMap<u64, Tombstone>,
    pub(super) cqs: HashMap<(String, String), (u64, ContinuousQuery)>,
    pub(super) users: HashMap<String, (u64, User)>,
}

impl State {
    pub(super) fn take_order(&mut self) -> u64 {
        let o = self.next_order;
        self.next_order += 1;
        o
    }

    pub(super) fn see_order(&mut self, order: u64) {
        self.next_order = self.next_order.max(order + 1);
    }
}

/// One database: its record plus its measurements.
#[derive(Debug)]
pub(super) struct DbState {
    pub(super) order: u64,
    pub(super) db: Database,
    pub(super) measurements: BTreeMap<String, Measurement>,
    /// Escaped measurement name (the prefix of its series keys) → measurement name.
    escaped: HashMap<String, String>,
    series_count: usize,
}

/// One measurement: schema and series.
#[derive(Debug, Default)]
pub(super) struct Measurement {
    pub(super) schema: Option<MeasurementSchema>,
    escaped_len: usize,
    series: BTreeMap<Box<str>, StoredTags>,
    tag_values: HashMap<String, BTreeMap<String, u32>>,
}

impl DbState {
    pub(super) fn new(order: u64, db: Database) -> Self {
        DbState {
            order,
            db,
            measurements: BTreeMap::new(),
            escaped: HashMap::new(),
            series_count: 0,
        }
    }

    /// The measurement, created empty if needed.
    pub(super) fn measurement_mut(&mut self, name: &str) -> &mut Measurement {
        let escaped = &mut self.escaped;
        self.measurements
            .entry(name.to_string())
            .or_insert_with(|| {
                let e = SeriesKey::new(name, &[]).0;
                let m = Measurement {
                    escaped_len: e.len(),
                    ..Measurement::default()
                };
                escaped.insert(e, name.to_string());
                m
            })
    }

    pub(super) fn remove_measurement(&mut self, name: &str) {
        if let Some(m) = self.measurements.remove(name) {
            self.series_count -= m.series.len();
            self.escaped.remove(&SeriesKey::new(name, &[]).0);
        }
    }

    /// Adds a series; returns false when the key was already indexed.
    pub(super) fn add_series(&mut self, measurement: &str, key: String, tags: StoredTags) -> bool {
        let added = match self.measurements.get_mut(measurement) {
            Some(m) => m.add_series(key, tags),
            None => self.measurement_mut(measurement).add_series(key, tags),
        };
        self.series_count += usize::from(added);
        added
    }

    /// Removes a series; returns false when it was not indexed.
    pub(super) fn remove_series(&mut self, measurement: &str, key: &str) -> bool {
        let removed = self
            .measurements
            .get_mut(measurement)
            .is_some_and(|m| m.remove_series(key));
        self.series_count -= usize::from(removed);
        removed
    }

    pub(super) fn series_count(&self) -> usize {
        self.series_count
    }

    /// The measurement whose series index holds `key`, if any. The escaped measurement
    /// name is the key's prefix up to a comma; it contains no comma that is not preceded
    /// by a backslash, so only commas up to the first such one are candidates.
    pub(super) fn find_series(&self, key: &str) -> Option<&Measurement> {
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

impl Measurement {
    /// Whether the measurement shows up (has a schema or series).
    pub(super) fn is_visible(&self) -> bool {
        self.schema.is_some() || !self.series.is_empty()
    }

    pub(super) fn series_len(&self) -> usize {
        self.series.len()
    }

    pub(super) fn contains(&self, key: &str) -> bool {
        self.series.contains_key(key)
    }

    fn add_series(&mut self, key: String, tags: StoredTags) -> bool {
        if self.series.contains_key(key.as_str()) {
            return false;
        }
        match &tags {
            Some(t) => self.count_tags(t.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            None => {
                let parsed = parse_tags(&key[self.escaped_len..]).unwrap_or_default();
                self.count_tags(parsed.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            }
        }
        self.series.insert(key.into_boxed_str(), tags);
        true
    }

    fn count_tags<'a>(&mut self, tags: impl Iterator<Item = (&'a str, &'a str)>) {
        for (k, v) in tags {
            let values = match self.tag_values.get_mut(k) {
                Some(values) => values,
                None => self.tag_values.entry(k.to_string()).or_default(),
            };
            match values.get_mut(v) {
                Some(c) => *c += 1,
                None => {
                    values.insert(v.to_string(), 1);
                }
            }
        }
    }

    fn remove_series(&mut self, key: &str) -> bool {
        let Some(tags) = self.series.remove(key) else {
            return false;
        };
        let tags = match tags {
            Some(t) => t.into_vec(),
            None => parse_tags(&key[self.escaped_len..]).unwrap_or_default(),
        };
        for (k, v) in &tags {
            if let Some(values) = self.tag_values.get_mut(k.as_str()) {
                if let Some(c) = values.get_mut(v.as_str()) {
                    *c -= 1;
                    if *c == 0 {
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

    /// Series entries of this measurement, sorted by key.
    pub(super) fn entries(&self, name: &str, out: &mut Vec<SeriesEntry>) {
        out.reserve(self.series.len());
        for (key, tags) in &self.series {
            let tags = match tags {
                Some(t) => t.to_vec(),
                None => parse_tags(&key[self.escaped_len..]).unwrap_or_default(),
            };
            out.push(SeriesEntry {
                measurement: name.to_string(),
                key: key.to_string(),
                tags,
            });
        }
    }

    pub(super) fn tag_values(&self, key: &str) -> Vec<String> {
        self.tag_values
            .get(key)
            .map(|v| v.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// Decides how to keep a series' tags: `None` when `key` is the canonical key of
/// `measurement` and `tags` (so the tags can be parsed back), else the tags themselves.
pub(super) fn stored_tags(measurement: &str, key: &str, tags: Vec<(String, String)>) -> StoredTags {
    let escaped = SeriesKey::new(measurement, &[]).0;
    let canonical = key
        .strip_prefix(escaped.as_str())
        .and_then(parse_tags)
        .is_some_and(|parsed| parsed == tags);
    if canonical {
        None
    } else {
        Some(tags.into_boxed_slice())
    }
}

/// Parses the tag part of a canonical series key (`""` or `,k=v,k2=v2` with `,`, ` ` and
/// `=` backslash-escaped). `None` when it is not in canonical form.
pub(super) fn parse_tags(rest: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    if rest.is_empty() {
        return Some(out);
    }
    let rest = rest.strip_prefix(',')?;
    let mut key = String::new();
    let mut val = String::new();
    let mut in_val = false;
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        let target = if in_val { &mut val } else { &mut key };
        match c {
            '\\' => match chars.peek() {
                Some(&n @ (',' | ' ' | '=')) => {
                    chars.next();
                    target.push(n);
                }
                _ => target.push('\\'),
            },
            '=' if !in_val => in_val = true,
            '=' | ' ' => return None,
            ',' => {
                if !in_val {
                    return None;
                }
                out.push((std::mem::take(&mut key), std::mem::take(&mut val)));
                in_val = false;
            }
            _ => target.push(c),
        }
    }
    if !in_val {
        return None;
    }
    out.push((key, val));
    Some(out)
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
            let escaped = SeriesKey::new(m, &[]).0;
            assert_eq!(parse_tags(&key[escaped.len()..]).unwrap(), t, "{key}");
            assert!(stored_tags(m, &key, t.clone()).is_none(), "{key}");
        }
        // A key that is not canonical keeps its tags explicitly.
        assert!(stored_tags("cpu", "cpu,host=a", tags(&[("host", "b")])).is_some());
        assert!(stored_tags("cpu", "weird", tags(&[])).is_some());
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
            let st = stored_tags(m, &key, t);
            assert!(db.add_series(m, key.clone(), st));
            assert!(db.find_series(&key).is_some(), "{key}");
        }
        assert!(db.find_series("a\\,k=w").is_none());
        assert!(db.find_series("plain,x=y").is_none());
        assert_eq!(db.series_count(), 3);
        assert!(db.remove_series("plain", "plain"));
        assert_eq!(db.series_count(), 2);
    }
}
