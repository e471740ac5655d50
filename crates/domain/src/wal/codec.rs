//! The WAL entry wire format ("compact", version 2): a write batch with its repetition
//! factored out. It is the unit the WAL stores and the unit a cluster replicates, so it
//! is defined here, with the types, rather than in a storage adapter.
//!
//! A write batch repeats the same measurement, tag set and field names on every line. Here
//! each distinct series (measurement + tags) and each distinct field-name list is stored
//! once, points refer to them by index, timestamps are deltas from the first point, and
//! `bincode`'s varint integers keep small numbers small. Layout after the version byte
//! (all `bincode` with `DefaultOptions`, i.e. varint, little endian):
//!
//! ```text
//! database: str, retention_policy: str, base_ts: i64,
//! series:     seq<(measurement: str, tags: seq<(str, str)>)>,
//! field_sets: seq<seq<str>>,
//! points:     seq<(series: u32, field_set: u32, ts_delta: i64, values: seq<FieldValue>)>
//! ```
//!
//! The encoder reads borrowed [`PointRef`]s, so the write path encodes straight from the
//! request body, through `bincode`. The decoder is written for the format
//! ([`super::reader`]: a flush round's entries share their decoded series) and produces
//! the compact shape [`CompactEntry`] (or owned [`WalEntry`]s from it).

use super::reader::Reader;
use crate::point::hashing::FastMap;
use crate::point_ref::{same_series, same_str};
use crate::{FieldPairRef, FieldRef, FieldValue, ListRef, PointRef, TagRef, WalEntry};
use bincode::Options;
use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Version byte of this format.
pub const WAL_FORMAT_COMPACT: u8 = 2;

/// An encoded WAL entry: `[version] ++ payload`, ready to be stored or shipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedWalEntry {
    /// The bytes, starting with the format version.
    pub bytes: Vec<u8>,
    /// Number of points inside.
    pub points: usize,
}

/// An entry could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum WalCodecError {
    /// Empty, or a version this build does not read with this decoder.
    #[error("unsupported wal format version {0:?}")]
    Version(Option<u8>),
    /// `bincode` failed.
    #[error("bincode: {0}")]
    Bincode(#[from] bincode::Error),
    /// Indices or counts inside the entry do not fit together.
    #[error("corrupt compact entry: {0}")]
    Corrupt(String),
}

/// Encodes an owned entry (same bytes as [`encode_points`] of its points).
pub fn encode(entry: &WalEntry) -> Result<EncodedWalEntry, WalCodecError> {
    let views: Vec<PointRef<'_>> = entry.points.iter().map(PointRef::from_point).collect();
    encode_points(&entry.database, &entry.retention_policy, &views)
}

fn options() -> impl Options {
    bincode::DefaultOptions::new()
}

/// The field names of a point, compared and hashed by name only.
#[derive(Clone, Copy)]
struct FieldNames<'a>(&'a [(Cow<'a, str>, FieldRef<'a>)]);

impl PartialEq for FieldNames<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(other.0)
                .all(|(a, b)| same_str(&a.0, &b.0))
    }
}
impl Eq for FieldNames<'_> {}

impl Hash for FieldNames<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.0.len());
        for (name, _) in self.0 {
            name.hash(state);
        }
    }
}

impl Serialize for FieldNames<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|(n, _)| n))
    }
}

/// A series (measurement + tags) of a point. Hashing skips the tag keys (the values and
/// the measurement tell series apart just as well, at half the bytes); equality compares
/// everything.
#[derive(Clone, Copy)]
struct SeriesRef<'a> {
    measurement: &'a str,
    tags: &'a [(Cow<'a, str>, Cow<'a, str>)],
}

impl SeriesRef<'_> {
    /// Equality trying pointers first (names from one cached parser key share bytes).
    fn same(&self, other: &SeriesRef<'_>) -> bool {
        same_series(self.measurement, self.tags, other.measurement, other.tags)
    }
}

impl PartialEq for SeriesRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.measurement == other.measurement && self.tags == other.tags
    }
}
impl Eq for SeriesRef<'_> {}

impl Hash for SeriesRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(self.measurement.as_bytes());
        state.write_usize(self.tags.len());
        for (_, v) in self.tags {
            state.write_usize(v.len());
            state.write(v.as_bytes());
        }
    }
}

impl Serialize for SeriesRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (self.measurement, self.tags).serialize(s)
    }
}

struct Values<'a>(&'a [(Cow<'a, str>, FieldRef<'a>)]);

impl Serialize for Values<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|(_, v)| v))
    }
}

#[derive(Serialize)]
struct PointOut<'a> {
    series: u32,
    field_set: u32,
    ts_delta: i64,
    values: Values<'a>,
}

struct PointsOut<'a> {
    points: &'a [PointRef<'a>],
    refs: Vec<(u32, u32)>,
    base_ts: i64,
}

impl Serialize for PointsOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.points.len()))?;
        for (p, &(series, field_set)) in self.points.iter().zip(&self.refs) {
            seq.serialize_element(&PointOut {
                series,
                field_set,
                ts_delta: p.timestamp.wrapping_sub(self.base_ts),
                values: Values(&p.fields),
            })?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct EntryOut<'a> {
    database: &'a str,
    retention_policy: &'a str,
    base_ts: i64,
    series: Vec<SeriesRef<'a>>,
    field_sets: Vec<FieldNames<'a>>,
    points: PointsOut<'a>,
}

/// Encodes points of one database and retention policy as `[2] ++ bincode(compact form)`.
pub fn encode_points(
    database: &str,
    retention_policy: &str,
    points: &[PointRef<'_>],
) -> Result<EncodedWalEntry, WalCodecError> {
    let mut series_ix: FastMap<SeriesRef<'_>, u32> = FastMap::default();
    series_ix.reserve(points.len().min(4096));
    let mut series: Vec<SeriesRef<'_>> = Vec::new();
    let mut sets_ix: FastMap<FieldNames<'_>, u32> = FastMap::default();
    let mut field_sets = Vec::new();
    let mut refs = Vec::with_capacity(points.len());
    let mut last_set: Option<(FieldNames<'_>, u32)> = None;
    // Series by their `series_hash` (the parser hands it out, so most points are interned
    // without hashing their tags); a hash shared by two series falls back to the map
    // keyed by the series itself.
    let mut by_hash: FastMap<u64, u32> = FastMap::default();
    by_hash.reserve(points.len().min(4096));
    for p in points {
        let key = SeriesRef {
            measurement: &p.measurement,
            tags: &p.tags,
        };
        let h = p.series();
        let known = by_hash
            .get(&h)
            .copied()
            .filter(|&ix| series[ix as usize].same(&key));
        let s = match known {
            Some(ix) => ix,
            None => {
                let ix = *series_ix.entry(key).or_insert_with(|| {
                    series.push(key);
                    (series.len() - 1) as u32
                });
                by_hash.entry(h).or_insert(ix);
                ix
            }
        };
        let names = FieldNames(&p.fields);
        let f = match last_set {
            Some((prev, ix)) if prev == names => ix,
            _ => {
                let ix = *sets_ix.entry(names).or_insert_with(|| {
                    field_sets.push(names);
                    (field_sets.len() - 1) as u32
                });
                last_set = Some((names, ix));
                ix
            }
        };
        refs.push((s, f));
    }
    let base_ts = points.first().map_or(0, |p| p.timestamp);
    let out = EntryOut {
        database,
        retention_policy,
        base_ts,
        series,
        field_sets,
        points: PointsOut {
            points,
            refs,
            base_ts,
        },
    };
    let mut buf = Vec::with_capacity(256 + points.len() * 48);
    buf.push(WAL_FORMAT_COMPACT);
    options().serialize_into(&mut buf, &out)?;
    Ok(EncodedWalEntry {
        bytes: buf,
        points: points.len(),
    })
}

pub(super) fn corrupt(what: &str) -> WalCodecError {
    WalCodecError::Corrupt(what.to_string())
}

/// Decodes an entry written by [`encode_points`] (version byte included).
pub fn decode(bytes: &[u8]) -> Result<WalEntry, WalCodecError> {
    decode_compact(bytes).map(|c| c.to_entry())
}

/// A decoded entry in its compact shape: each series and field-name list once, points
/// referring to them, and every point's values in one vector. The flush reads entries
/// this way and copies them into columns ([`CompactEntry::row`]) or hands out
/// [`PointRef`]s borrowing from it ([`CompactEntry::point`]), so a point costs no
/// allocation of its own; each series' hash is computed once per entry (once per round
/// with a [`SeriesCache`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CompactEntry {
    /// Target database.
    pub database: String,
    /// Target retention policy.
    pub retention_policy: String,
    /// Shared with the other entries decoded with one [`SeriesCache`].
    series: Vec<Arc<CompactSeries>>,
    field_sets: Vec<Vec<String>>,
    points: Vec<CompactPoint>,
    /// Every point's values, one point after the other.
    values: Vec<FieldValue>,
}

/// A series of a [`CompactEntry`].
#[derive(Debug, Clone, PartialEq)]
pub struct CompactSeries {
    measurement: String,
    /// Owned strings, in the views' shape so that views borrow the list as it is.
    tags: Vec<TagRef<'static>>,
    hash: u64,
}

#[derive(Debug, Clone, PartialEq)]
struct CompactPoint {
    series: u32,
    field_set: u32,
    timestamp: i64,
    /// Where its values start in the entry's values (as many as its field set's names).
    values_at: usize,
}

/// Series decoded by [`decode_compact_with`], by their encoded bytes, so that the entries
/// decoded with one cache (a flush round's) share each series: one set of strings and
/// one hash per series, and one tag list that views from every entry borrow (compared by
/// address). It holds what it was given: drop it with the entries' batch.
#[derive(Debug, Default)]
pub struct SeriesCache(FastMap<Box<[u8]>, Arc<CompactSeries>>);

/// One point of a [`CompactEntry`], borrowed: what a columnar batch copies of it.
#[derive(Debug, Clone, Copy)]
pub struct CompactRow<'e> {
    /// The tags of its series (one list shared by the entry's points of the series).
    pub tags: &'e [TagRef<'e>],
    /// [`crate::series_hash`] of its series.
    pub series_hash: u64,
    /// Nanoseconds since the epoch.
    pub timestamp: i64,
    /// Its field names (one list shared by the entry's points of the same field set).
    pub names: &'e [String],
    /// Its field values, in the order of `names`.
    pub values: &'e [FieldValue],
}

impl CompactEntry {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether the entry holds no point.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Point `i` as a view (with its series hash); `None` past the end.
    pub fn point(&self, i: usize) -> Option<PointRef<'_>> {
        let fields: Vec<FieldPairRef<'_>> = self.fields_of(i)?.collect();
        self.view(i, ListRef::Owned(fields))
    }

    /// How many fields point `i` carries (0 past the end).
    pub fn field_count(&self, i: usize) -> usize {
        self.points
            .get(i)
            .and_then(|p| self.field_sets.get(p.field_set as usize))
            .map_or(0, Vec::len)
    }

    /// Point `p`'s field names and values.
    fn fields(&self, p: &CompactPoint) -> Option<(&[String], &[FieldValue])> {
        let names = self.field_sets.get(p.field_set as usize)?;
        let values = self.values.get(p.values_at..p.values_at + names.len())?;
        Some((names, values))
    }

    /// The fields of point `i` as (name, value) views, in their written order.
    pub fn fields_of(&self, i: usize) -> Option<impl Iterator<Item = FieldPairRef<'_>> + '_> {
        let (names, values) = self.fields(self.points.get(i)?)?;
        Some(
            names
                .iter()
                .zip(values)
                .map(|(n, v)| (Cow::Borrowed(n.as_str()), FieldRef::from_value(v))),
        )
    }

    /// Point `i` as a view whose tags borrow the entry's series (no copy) and whose fields
    /// are `fields`: [`CompactEntry::fields_of`] laid out by the caller, who can place many
    /// points' fields in one allocation. `None` past the end.
    pub fn view<'e>(
        &'e self,
        i: usize,
        fields: ListRef<'e, FieldPairRef<'e>>,
    ) -> Option<PointRef<'e>> {
        let p = self.points.get(i)?;
        let s = self.series.get(p.series as usize)?;
        let tags: &'e [TagRef<'e>] = &s.tags;
        Some(PointRef {
            measurement: Cow::Borrowed(&s.measurement),
            tags: ListRef::Borrowed(tags),
            fields,
            timestamp: p.timestamp,
            repeated_field: None,
            series_hash: Some(s.hash),
        })
    }

    /// Point `i`'s parts, borrowed (cheap: no view is built); `None` past the end.
    pub fn row(&self, i: usize) -> Option<CompactRow<'_>> {
        let p = self.points.get(i)?;
        let s = self.series.get(p.series as usize)?;
        let (names, values) = self.fields(p)?;
        Some(CompactRow {
            tags: &s.tags,
            series_hash: s.hash,
            timestamp: p.timestamp,
            names,
            values,
        })
    }

    /// The measurement of point `i` (cheap: no view is built).
    pub fn measurement_of(&self, i: usize) -> Option<&str> {
        let p = self.points.get(i)?;
        Some(&self.series[p.series as usize].measurement)
    }

    /// The owned entry.
    pub fn to_entry(&self) -> WalEntry {
        WalEntry {
            database: self.database.clone(),
            retention_policy: self.retention_policy.clone(),
            points: (0..self.len())
                .filter_map(|i| self.point(i))
                .map(|p| p.to_point())
                .collect(),
        }
    }

    /// The compact shape of an owned entry (older WAL formats decode to one).
    pub fn from_entry(entry: WalEntry) -> Self {
        let mut series: Vec<Arc<CompactSeries>> = Vec::new();
        let mut by_hash: FastMap<u64, Vec<usize>> = FastMap::default();
        let mut field_sets: Vec<Vec<String>> = Vec::new();
        let mut points = Vec::with_capacity(entry.points.len());
        let mut all_values = Vec::new();
        for p in entry.points {
            let hash = crate::series_hash(&p.measurement, &p.tags);
            let candidates = by_hash.entry(hash).or_default();
            let found = candidates.iter().copied().find(|&i| {
                series[i].measurement == p.measurement && same_tags(&series[i].tags, &p.tags)
            });
            let si = match found {
                Some(i) => i,
                None => {
                    series.push(Arc::new(CompactSeries {
                        measurement: p.measurement,
                        tags: owned_tags(p.tags),
                        hash,
                    }));
                    candidates.push(series.len() - 1);
                    series.len() - 1
                }
            };
            let (names, values): (Vec<String>, Vec<FieldValue>) = p.fields.into_iter().unzip();
            let fi = match field_sets.iter().rposition(|f| *f == names) {
                Some(i) => i,
                None => {
                    field_sets.push(names);
                    field_sets.len() - 1
                }
            };
            points.push(CompactPoint {
                series: si as u32,
                field_set: fi as u32,
                timestamp: p.timestamp,
                values_at: all_values.len(),
            });
            all_values.extend(values);
        }
        CompactEntry {
            database: entry.database,
            retention_policy: entry.retention_policy,
            series,
            field_sets,
            points,
            values: all_values,
        }
    }
}

/// Tags in the views' shape, owning their strings.
fn owned_tags(tags: Vec<(String, String)>) -> Vec<TagRef<'static>> {
    tags.into_iter()
        .map(|(k, v)| (Cow::Owned(k), Cow::Owned(v)))
        .collect()
}

fn same_tags(a: &[TagRef<'_>], b: &[(String, String)]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.0 == y.0 && x.1 == y.1)
}

/// Decodes an entry written by [`encode_points`] (version byte included) into its compact
/// shape, checking every index ([`super::reader`]).
pub fn decode_compact(bytes: &[u8]) -> Result<CompactEntry, WalCodecError> {
    decode_compact_with(bytes, &mut SeriesCache::default())
}

/// [`decode_compact`], taking each series from `cache` when an entry decoded with it
/// before had the same one (and adding the new ones).
pub fn decode_compact_with(
    bytes: &[u8],
    cache: &mut SeriesCache,
) -> Result<CompactEntry, WalCodecError> {
    let bytes = match bytes.split_first() {
        Some((&WAL_FORMAT_COMPACT, rest)) => rest,
        other => return Err(WalCodecError::Version(other.map(|(v, _)| *v))),
    };
    let mut r = Reader::new(bytes);
    let database = r.str()?.to_string();
    let retention_policy = r.str()?.to_string();
    let base_ts = r.i64()?;
    let n_series = r.len()?;
    let mut series = Vec::with_capacity(n_series);
    let mut tags: Vec<(&str, &str)> = Vec::new();
    for _ in 0..n_series {
        let start = r.rest();
        let measurement = r.str()?;
        tags.clear();
        for _ in 0..r.len()? {
            tags.push((r.str()?, r.str()?));
        }
        let encoded = &start[..start.len() - r.rest().len()];
        let s = match cache.0.get(encoded) {
            Some(s) => Arc::clone(s),
            None => {
                let s = Arc::new(CompactSeries {
                    hash: crate::series_hash(measurement, &tags),
                    measurement: measurement.to_string(),
                    tags: tags
                        .iter()
                        .map(|&(k, v)| (Cow::Owned(k.to_string()), Cow::Owned(v.to_string())))
                        .collect(),
                });
                cache.0.insert(encoded.into(), Arc::clone(&s));
                s
            }
        };
        series.push(s);
    }
    let n_sets = r.len()?;
    let mut field_sets = Vec::with_capacity(n_sets);
    for _ in 0..n_sets {
        let n = r.len()?;
        let mut names = Vec::with_capacity(n);
        for _ in 0..n {
            names.push(r.str()?.to_string());
        }
        field_sets.push(names);
    }
    let n_points = r.len()?;
    let mut points = Vec::with_capacity(n_points);
    let per_point = field_sets.first().map_or(1, Vec::len);
    let mut values = Vec::with_capacity(n_points.saturating_mul(per_point).min(bytes.len()));
    for _ in 0..n_points {
        let s = r.u32()?;
        let field_set = r.u32()?;
        let ts_delta = r.i64()?;
        if (s as usize) >= series.len() {
            return Err(corrupt("series index"));
        }
        let names = field_sets
            .get(field_set as usize)
            .ok_or_else(|| corrupt("field set index"))?;
        if r.len()? != names.len() {
            return Err(corrupt("field count"));
        }
        points.push(CompactPoint {
            series: s,
            field_set,
            timestamp: base_ts.wrapping_add(ts_delta),
            values_at: values.len(),
        });
        for _ in 0..names.len() {
            values.push(r.value()?);
        }
    }
    r.finish()?;
    Ok(CompactEntry {
        database,
        retention_policy,
        series,
        field_sets,
        points,
        values,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::Point;

    fn point(m: &str, host: &str, fields: &[(&str, FieldValue)], ts: i64) -> Point {
        Point {
            measurement: m.into(),
            tags: if host.is_empty() {
                vec![]
            } else {
                vec![("host".into(), host.into())]
            },
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            timestamp: ts,
        }
    }

    #[test]
    fn compact_views_match_owned_points() {
        let e = WalEntry {
            database: "d".into(),
            retention_policy: "rp".into(),
            points: vec![
                point("cpu", "a", &[("v", FieldValue::Float(1.0))], 3),
                point("cpu", "b", &[("v", FieldValue::String("s".into()))], 4),
                point("cpu", "a", &[("v", FieldValue::Float(2.0))], 5),
                point("mem", "", &[("u", FieldValue::Unsigned(7))], 6),
            ],
        };
        let bytes = encode(&e).unwrap().bytes;
        let compact = decode_compact(&bytes).unwrap();
        assert_eq!(compact, CompactEntry::from_entry(e.clone()));
        assert_eq!(compact.len(), 4);
        for (i, p) in e.points.iter().enumerate() {
            let view = compact.point(i).unwrap();
            assert_eq!(view.to_point(), *p);
            assert_eq!(
                view.series_hash,
                Some(crate::series_hash(&p.measurement, &p.tags))
            );
            assert_eq!(compact.measurement_of(i), Some(p.measurement.as_str()));
        }
        assert!(compact.point(4).is_none());
        assert!(decode_compact(&bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn round_trips_mixed_entries() {
        let e = WalEntry {
            database: "d".into(),
            retention_policy: "rp".into(),
            points: vec![
                point("cpu", "a", &[("v", FieldValue::Float(1.0))], i64::MAX),
                point("cpu", "b", &[("v", FieldValue::Float(2.0))], i64::MIN + 2),
                point(
                    "cpu",
                    "a",
                    &[
                        ("v", FieldValue::Integer(-3)),
                        ("s", FieldValue::String("x".into())),
                    ],
                    0,
                ),
                point(
                    "mem",
                    "",
                    &[
                        ("u", FieldValue::Unsigned(u64::MAX)),
                        ("b", FieldValue::Boolean(true)),
                    ],
                    5,
                ),
                point("cpu", "a", &[("v", FieldValue::Float(f64::NAN))], 7),
            ],
        };
        let b = encode(&e).unwrap().bytes;
        let d = decode(&b).unwrap();
        assert_eq!(d.points.len(), 5);
        assert_eq!(&d.points[..4], &e.points[..4]);
        assert!(matches!(d.points[4].fields[0].1, FieldValue::Float(x) if x.is_nan()));
        let empty = WalEntry {
            database: "d".into(),
            retention_policy: "rp".into(),
            points: vec![],
        };
        assert_eq!(decode(&encode(&empty).unwrap().bytes).unwrap(), empty);
        assert!(decode(&b[..b.len() - 1]).is_err());
        assert!(matches!(
            decode(&[9, 0]),
            Err(WalCodecError::Version(Some(9)))
        ));
    }
}

#[cfg(test)]
mod proptests;
