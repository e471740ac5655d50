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
//! request body; the decoder produces owned [`WalEntry`]s.

use crate::point::hashing::FastMap;
use crate::point_ref::{same_series, same_str};
use crate::{FieldPairRef, FieldRef, FieldValue, ListRef, PointRef, TagRef, WalEntry};
use bincode::Options;
use serde::ser::SerializeSeq;
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;
use std::hash::{Hash, Hasher};

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

#[derive(Deserialize)]
struct PointIn {
    series: u32,
    field_set: u32,
    ts_delta: i64,
    values: Vec<FieldValue>,
}

#[derive(Deserialize)]
struct EntryIn {
    database: String,
    retention_policy: String,
    base_ts: i64,
    series: Vec<(String, Vec<(String, String)>)>,
    field_sets: Vec<Vec<String>>,
    points: Vec<PointIn>,
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

fn corrupt(what: &str) -> WalCodecError {
    WalCodecError::Corrupt(what.to_string())
}

/// Decodes an entry written by [`encode_points`] (version byte included).
pub fn decode(bytes: &[u8]) -> Result<WalEntry, WalCodecError> {
    decode_compact(bytes).map(|c| c.to_entry())
}

/// A decoded entry in its compact shape: each series and field-name list once, points
/// referring to them. The flush reads entries this way and hands storage [`PointRef`]s
/// borrowing from it ([`CompactEntry::point`]), so a point costs two small vectors instead
/// of an owned string per name; each series' hash is computed once per entry.
#[derive(Debug, Clone, PartialEq)]
pub struct CompactEntry {
    /// Target database.
    pub database: String,
    /// Target retention policy.
    pub retention_policy: String,
    series: Vec<CompactSeries>,
    field_sets: Vec<Vec<String>>,
    points: Vec<CompactPoint>,
}

#[derive(Debug, Clone, PartialEq)]
struct CompactSeries {
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
    values: Vec<FieldValue>,
}

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
        self.points.get(i).map_or(0, |p| p.values.len())
    }

    /// The fields of point `i` as (name, value) views, in their written order.
    pub fn fields_of(&self, i: usize) -> Option<impl Iterator<Item = FieldPairRef<'_>> + '_> {
        let p = self.points.get(i)?;
        let names = self.field_sets.get(p.field_set as usize)?;
        Some(
            names
                .iter()
                .zip(&p.values)
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
        Some(CompactRow {
            tags: &s.tags,
            series_hash: s.hash,
            timestamp: p.timestamp,
            names: self.field_sets.get(p.field_set as usize)?,
            values: &p.values,
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
        let mut series: Vec<CompactSeries> = Vec::new();
        let mut by_hash: FastMap<u64, Vec<usize>> = FastMap::default();
        let mut field_sets: Vec<Vec<String>> = Vec::new();
        let mut points = Vec::with_capacity(entry.points.len());
        for p in entry.points {
            let hash = crate::series_hash(&p.measurement, &p.tags);
            let candidates = by_hash.entry(hash).or_default();
            let found = candidates.iter().copied().find(|&i| {
                series[i].measurement == p.measurement && same_tags(&series[i].tags, &p.tags)
            });
            let si = match found {
                Some(i) => i,
                None => {
                    series.push(CompactSeries {
                        measurement: p.measurement,
                        tags: owned_tags(p.tags),
                        hash,
                    });
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
                values,
            });
        }
        CompactEntry {
            database: entry.database,
            retention_policy: entry.retention_policy,
            series,
            field_sets,
            points,
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
/// shape, checking every index.
pub fn decode_compact(bytes: &[u8]) -> Result<CompactEntry, WalCodecError> {
    let bytes = match bytes.split_first() {
        Some((&WAL_FORMAT_COMPACT, rest)) => rest,
        other => return Err(WalCodecError::Version(other.map(|(v, _)| *v))),
    };
    let e: EntryIn = options().deserialize(bytes)?;
    let mut points = Vec::with_capacity(e.points.len());
    for p in e.points {
        let names = e
            .field_sets
            .get(p.field_set as usize)
            .ok_or_else(|| corrupt("field set index"))?;
        if (p.series as usize) >= e.series.len() {
            return Err(corrupt("series index"));
        }
        if names.len() != p.values.len() {
            return Err(corrupt("field count"));
        }
        points.push(CompactPoint {
            series: p.series,
            field_set: p.field_set,
            timestamp: e.base_ts.wrapping_add(p.ts_delta),
            values: p.values,
        });
    }
    let series = e
        .series
        .into_iter()
        .map(|(measurement, tags)| CompactSeries {
            hash: crate::series_hash(&measurement, &tags),
            measurement,
            tags: owned_tags(tags),
        })
        .collect();
    Ok(CompactEntry {
        database: e.database,
        retention_policy: e.retention_policy,
        series,
        field_sets: e.field_sets,
        points,
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
