//! WAL entry format 2: a [`WalEntry`] with its repetition factored out.
//!
//! A write batch repeats the same measurement, tag set and field names on every line. Here
//! each distinct series (measurement + tags) and each distinct field-name list is stored
//! once, points refer to them by index, timestamps are deltas from the first point, and
//! `bincode`'s varint integers keep small numbers small. Layout (all `bincode` with
//! `DefaultOptions`, i.e. varint, little endian):
//!
//! ```text
//! database: str, retention_policy: str, base_ts: i64,
//! series:     seq<(measurement: str, tags: seq<(str, str)>)>,
//! field_sets: seq<seq<str>>,
//! points:     seq<(series: u32, field_set: u32, ts_delta: i64, values: seq<FieldValue>)>
//! ```

use super::CodecError;
use bincode::Options;
use hyperbyte_domain::{FieldValue, Point, WalEntry};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Serialize, Serializer};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

fn options() -> impl Options {
    bincode::DefaultOptions::new()
}

/// A small, fast, non-cryptographic hasher (FxHash-style) for interning: keys are
/// attacker-independent within one batch and a collision only costs a comparison.
#[derive(Default)]
struct FastHasher(u64);

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(
                <[u8; 8]>::try_from(c).unwrap_or_default(),
            ));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b));
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// The field names of a point, compared and hashed by name only.
#[derive(Clone, Copy)]
struct FieldNames<'a>(&'a [(String, FieldValue)]);

impl PartialEq for FieldNames<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && self.0.iter().zip(other.0).all(|(a, b)| a.0 == b.0)
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
    tags: &'a [(String, String)],
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

struct Values<'a>(&'a [(String, FieldValue)]);

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
    points: &'a [Point],
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

/// Encodes `entry` as `[version] ++ bincode(compact form)`.
pub(super) fn encode(version: u8, entry: &WalEntry) -> Result<Vec<u8>, CodecError> {
    let mut series_ix: FastMap<SeriesRef<'_>, u32> = FastMap::default();
    series_ix.reserve(entry.points.len().min(4096));
    let mut series = Vec::new();
    let mut sets_ix: FastMap<FieldNames<'_>, u32> = FastMap::default();
    let mut field_sets = Vec::new();
    let mut refs = Vec::with_capacity(entry.points.len());
    let mut last_set: Option<(FieldNames<'_>, u32)> = None;
    for p in &entry.points {
        let key = SeriesRef {
            measurement: &p.measurement,
            tags: &p.tags,
        };
        let s = *series_ix.entry(key).or_insert_with(|| {
            series.push(key);
            (series.len() - 1) as u32
        });
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
    let base_ts = entry.points.first().map_or(0, |p| p.timestamp);
    let out = EntryOut {
        database: &entry.database,
        retention_policy: &entry.retention_policy,
        base_ts,
        series,
        field_sets,
        points: PointsOut {
            points: &entry.points,
            refs,
            base_ts,
        },
    };
    let mut buf = Vec::with_capacity(256 + entry.points.len() * 48);
    buf.push(version);
    options().serialize_into(&mut buf, &out)?;
    Ok(buf)
}

fn corrupt(what: &str) -> CodecError {
    CodecError::Bincode(Box::new(bincode::ErrorKind::Custom(format!(
        "corrupt compact entry: {what}"
    ))))
}

/// Decodes the bytes after the version byte.
pub(super) fn decode(bytes: &[u8]) -> Result<WalEntry, CodecError> {
    let e: EntryIn = options().deserialize(bytes)?;
    let mut points = Vec::with_capacity(e.points.len());
    for p in e.points {
        let (measurement, tags) = e
            .series
            .get(p.series as usize)
            .ok_or_else(|| corrupt("series index"))?;
        let names = e
            .field_sets
            .get(p.field_set as usize)
            .ok_or_else(|| corrupt("field set index"))?;
        if names.len() != p.values.len() {
            return Err(corrupt("field count"));
        }
        points.push(Point {
            measurement: measurement.clone(),
            tags: tags.clone(),
            fields: names.iter().cloned().zip(p.values).collect(),
            timestamp: e.base_ts.wrapping_add(p.ts_delta),
        });
    }
    Ok(WalEntry {
        database: e.database,
        retention_policy: e.retention_policy,
        points,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

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
        let b = encode(2, &e).unwrap();
        let d = decode(&b[1..]).unwrap();
        assert_eq!(d.points.len(), 5);
        assert_eq!(&d.points[..4], &e.points[..4]);
        assert!(matches!(d.points[4].fields[0].1, FieldValue::Float(x) if x.is_nan()));
        let empty = WalEntry {
            database: "d".into(),
            retention_policy: "rp".into(),
            points: vec![],
        };
        assert_eq!(decode(&encode(2, &empty).unwrap()[1..]).unwrap(), empty);
        assert!(decode(&b[1..b.len() - 1]).is_err());
    }
}
