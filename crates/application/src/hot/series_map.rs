//! A table's series by the hash of their tags, with a tag index beside them.
//!
//! Why the index: a read names a few series by tag (`hostname = 'host_17'`, one panel of a
//! dashboard), and finding them by testing every series' tags costs the table's whole
//! series count on every query. Measured on TSBS data (one host over one hour, from the
//! tier): 0.7 ms a query with 100 hosts, 1.15 ms with 1,000; a tier of 100,000 series
//! would spend tens of milliseconds per query in that loop alone. The postings name the
//! candidates of a tag condition by the rules the metadata's series index follows
//! ([`crate::query::ReadFilter::tag_candidates`]); the candidates are then tested as
//! before, and a condition the index does not narrow scans every series.
//!
//! A posting list holds series hashes (the buckets' keys). It may name a hash whose series
//! are gone: lists are rebuilt only when series leave (an eviction that empties a series,
//! which is rare), and a read skips a missing bucket and tests every series of a present
//! one. So the candidates are always a superset of the matches, never a subset.
//!
//! Memory: the lists and the distinct pairs are counted ([`SeriesMap::index_bytes`]) in
//! the table's bytes, like its rows.

use super::table::Series;
use crate::query::{ReadFilter, TagIndex};
use hyperbyte_domain::FastMap;
use std::collections::{BTreeMap, HashMap};

/// Bytes an entry in a posting list costs (a hash, with the list's growth room).
const POSTING_BYTES: usize = 12;
/// Bytes a distinct key or (key, value) pair costs besides its text: its map entry (with
/// the room of a map node about two thirds full), its list's first allocation (four
/// hashes) and the rounding of its text's allocation.
const PAIR_BYTES: usize = std::mem::size_of::<(String, Vec<u64>)>() * 3 / 2 + 32 + 16;

/// The series of a table and its tag postings.
#[derive(Debug, Default)]
pub(super) struct SeriesMap {
    buckets: FastMap<u64, Vec<Series>>,
    /// Tag key → tag value → hashes of the series carrying that pair.
    postings: HashMap<String, BTreeMap<String, Vec<u64>>>,
    /// Series held (across buckets).
    count: usize,
    index_bytes: usize,
}

impl SeriesMap {
    /// The series of hash `h` (a bucket holds the rare collisions).
    pub(super) fn get(&self, h: &u64) -> Option<&Vec<Series>> {
        self.buckets.get(h)
    }

    /// Series `i` of bucket `h`, to change its rows (its tags stay).
    pub(super) fn series_mut(&mut self, h: u64, i: usize) -> Option<&mut Series> {
        self.buckets.get_mut(&h).and_then(|b| b.get_mut(i))
    }

    /// The series of bucket `h` whose tags are `tags`, to change its rows.
    pub(super) fn find_mut(
        &mut self,
        h: u64,
        tags: &BTreeMap<String, String>,
    ) -> Option<&mut Series> {
        self.buckets
            .get_mut(&h)
            .and_then(|b| b.iter_mut().find(|s| *s.tags == *tags))
    }

    /// Adds a series (its tags must be new to the table) under hash `h`; returns its place
    /// in the bucket and the bytes the index grew by.
    pub(super) fn push(&mut self, h: u64, series: Series) -> (usize, usize) {
        let grown = self.index(h, &series.tags);
        let bucket = self.buckets.entry(h).or_default();
        bucket.push(series);
        self.count += 1;
        (bucket.len() - 1, grown)
    }

    /// Every (hash, bucket).
    pub(super) fn iter(&self) -> impl Iterator<Item = (&u64, &Vec<Series>)> {
        self.buckets.iter()
    }

    /// Every series.
    pub(super) fn all(&self) -> impl Iterator<Item = &Series> {
        self.buckets.values().flatten()
    }

    /// Removes everything.
    pub(super) fn clear(&mut self) {
        *self = SeriesMap::default();
    }

    /// Keeps the series for which `keep` (which may change their rows) holds; the index
    /// is rebuilt when one goes.
    pub(super) fn retain(&mut self, mut keep: impl FnMut(&mut Series) -> bool) {
        let before = self.count;
        let mut count = 0;
        self.buckets.retain(|_, bucket| {
            bucket.retain_mut(&mut keep);
            count += bucket.len();
            !bucket.is_empty()
        });
        self.count = count;
        if count < before {
            self.reindex();
        }
    }

    /// What the index costs (see the module docs).
    pub(super) fn index_bytes(&self) -> usize {
        self.index_bytes
    }

    /// Hashes of the series that may pass `filter`'s condition by its tags, sorted, each
    /// once; `None` when the index does not narrow the series down (no condition, one it
    /// cannot use, or candidates as many as the series).
    pub(super) fn candidates(&self, filter: &mut ReadFilter<'_>) -> Option<Vec<u64>> {
        let found = filter.tag_candidates(&mut Postings(&self.postings))?;
        if found.total >= self.count {
            return None;
        }
        let mut hashes = Vec::with_capacity(found.total);
        for (k, v) in &found.pairs {
            if let Some(list) = self.postings.get(k).and_then(|values| values.get(v)) {
                hashes.extend_from_slice(list);
            }
        }
        hashes.sort_unstable();
        hashes.dedup();
        Some(hashes)
    }

    /// Lists `h` under each of `tags`; returns the bytes that took.
    fn index(&mut self, h: u64, tags: &BTreeMap<String, String>) -> usize {
        let mut grown = 0;
        for (k, v) in tags {
            let values = match self.postings.get_mut(k.as_str()) {
                Some(values) => values,
                None => {
                    grown += PAIR_BYTES + k.len();
                    self.postings.entry(k.clone()).or_default()
                }
            };
            let list = match values.get_mut(v.as_str()) {
                Some(list) => list,
                None => {
                    grown += PAIR_BYTES + v.len();
                    values.entry(v.clone()).or_default()
                }
            };
            list.push(h);
            grown += POSTING_BYTES;
        }
        self.index_bytes += grown;
        grown
    }

    /// Rebuilds the postings from the series held.
    fn reindex(&mut self) {
        self.postings.clear();
        self.index_bytes = 0;
        let series: Vec<(u64, std::sync::Arc<BTreeMap<String, String>>)> = self
            .buckets
            .iter()
            .flat_map(|(h, b)| b.iter().map(|s| (*h, std::sync::Arc::clone(&s.tags))))
            .collect();
        for (h, tags) in series {
            self.index(h, &tags);
        }
    }
}

impl IntoIterator for SeriesMap {
    type Item = (u64, Vec<Series>);
    type IntoIter = std::collections::hash_map::IntoIter<u64, Vec<Series>>;

    fn into_iter(self) -> Self::IntoIter {
        self.buckets.into_iter()
    }
}

/// The postings as the condition planner sees an index.
struct Postings<'a>(&'a HashMap<String, BTreeMap<String, Vec<u64>>>);

impl TagIndex for Postings<'_> {
    fn values(&mut self, key: &str) -> Vec<String> {
        self.0
            .get(key)
            .map(|values| values.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn count(&mut self, key: &str, value: &str) -> usize {
        self.0
            .get(key)
            .and_then(|values| values.get(value))
            .map_or(0, Vec::len)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn series(tags: &[(&str, &str)]) -> Series {
        Series::empty("m", tags).0
    }

    fn cond(q: &str) -> hyperbyte_timeseriesql::ast::Expr {
        let stmt = hyperbyte_timeseriesql::parse(&format!("SELECT v FROM m WHERE {q}"))
            .unwrap()
            .statements
            .remove(0);
        match stmt {
            hyperbyte_timeseriesql::ast::Statement::Select(s) => s.condition.unwrap(),
            _ => unreachable!(),
        }
    }

    /// Hosts h0..h9 in two regions; hash i for host i, except h8 and h9 sharing hash 8.
    fn map() -> SeriesMap {
        let mut m = SeriesMap::default();
        for i in 0..10u64 {
            let host = format!("h{i}");
            let region = if i % 2 == 0 { "east" } else { "west" };
            m.push(i.min(8), series(&[("host", &host), ("region", region)]));
        }
        m
    }

    fn hosts(m: &SeriesMap, q: &str, is_field: &dyn Fn(&str) -> bool) -> Option<Vec<String>> {
        let c = cond(q);
        let fields = ["v".to_string()];
        let mut filter = ReadFilter::new(Some(&c), &fields, None, None).with_fields(is_field);
        let hashes = m.candidates(&mut filter)?;
        let mut out: Vec<String> = hashes
            .iter()
            .filter_map(|h| m.get(h))
            .flatten()
            .filter(|s| filter.series_may_match(&*s.tags))
            .map(|s| s.tags["host"].clone())
            .collect();
        out.sort();
        Some(out)
    }

    #[test]
    fn narrows_tag_conditions_to_their_series() {
        let m = map();
        let none = |_: &str| false;
        assert_eq!(hosts(&m, "host = 'h3'", &none), Some(vec!["h3".into()]));
        // A collision: the bucket's other series is tested and left out.
        assert_eq!(hosts(&m, "host = 'h9'", &none), Some(vec!["h9".into()]));
        assert_eq!(
            hosts(&m, "host = 'h1' OR host =~ /^h[45]$/", &none),
            Some(vec!["h1".into(), "h4".into(), "h5".into()])
        );
        assert_eq!(
            hosts(&m, "region = 'east' AND host = 'h2'", &none),
            Some(vec!["h2".into()])
        );
        assert_eq!(hosts(&m, "host = 'nope'", &none), Some(vec![]));
        // Not narrowed: scans.
        assert_eq!(hosts(&m, "host != 'h1'", &none), None);
        assert_eq!(hosts(&m, "region = 'east' OR region = 'west'", &none), None);
        assert_eq!(hosts(&m, "v > 1", &|n| n == "v"), None);
        assert_eq!(hosts(&m, "host = 'h1' OR v = 'x'", &|n| n == "v"), None);
    }

    #[test]
    fn counts_the_index_and_rebuilds_it_when_series_go() {
        let mut m = map();
        // Two keys and twelve values (ten hosts, two regions), each with its text; 20
        // postings.
        let expected = 14 * PAIR_BYTES
            + "host".len()
            + "region".len()
            + (0..10).map(|i| format!("h{i}").len()).sum::<usize>()
            + "east".len()
            + "west".len()
            + 20 * POSTING_BYTES;
        assert_eq!(m.index_bytes(), expected);
        let none = |_: &str| false;
        m.retain(|s| s.tags["host"] != "h3");
        assert_eq!(m.all().count(), 9);
        assert_eq!(hosts(&m, "host = 'h3'", &none), Some(vec![]));
        assert_eq!(hosts(&m, "host = 'h9'", &none), Some(vec!["h9".into()]));
        let mut fresh = SeriesMap::default();
        for (h, b) in m.iter() {
            for s in b {
                let tags: Vec<(&str, &str)> = s
                    .tags
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                fresh.push(*h, series(&tags));
            }
        }
        assert_eq!(m.index_bytes(), fresh.index_bytes());
        m.clear();
        assert_eq!((m.all().count(), m.index_bytes()), (0, 0));
    }
}
