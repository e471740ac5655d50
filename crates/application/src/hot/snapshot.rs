//! Keeping the tier across a clean restart.
//!
//! Why: after a restart the tier is empty, and until the warm-up ([`super::warm`]) has read
//! the newest rows back, narrow queries read the storage engine (measured on TSBS data:
//! 7–40 ms for the first seconds, against under a millisecond from the tier). A clean
//! shutdown encodes the tier ([`HotTier::snapshot`]) and the next start installs it before
//! it serves anything ([`HotTier::restore`]): the same rows, the same coverage.
//!
//! Why it is safe (the coverage invariant of [`super`]): the snapshot is taken after the
//! shutdown's last flush, when nothing writes or removes stored data any more, so it is
//! exactly as true as the tier was. It stays true until storage changes again, and every
//! change of stored data after the next start goes through the flush and the removal
//! decorators, as for a tier filled by the flush. What could change storage in between:
//! - this binary, after a crash: the slot hands a snapshot out at most once
//!   ([`hyperbyte_ports::TierSnapshotPort`]), so a start finds none unless the stop before
//!   it was clean, and the warm-up reads storage as before;
//! - anything else (an older release, which knows nothing of snapshots, run on the
//!   directory; a storage or WAL directory put back from elsewhere): the snapshot records
//!   a [`SnapshotStamp`], the WAL's last sequence number and storage's own stamp
//!   ([`hyperbyte_ports::QueryPort::storage_stamp`]: every insert, delete and drop
//!   changes it, merges do not), and a start that finds either changed refuses it.
//!
//! Format: `HBTIER02`, the body (bincode, fixed-width integers), then the body's CRC-32.
//! A snapshot that is not intact, or whose series are not what the tier keeps (times
//! strictly increasing, every column as long as its times, the latest values before the
//! coverage earlier than it), is refused whole. `HBTIER01` (before the latest values
//! before the coverage were kept) is refused as another format: that start warms up.

use super::older::OlderLatest;
use super::table::{Column, Series, Table, TableId, Values};
use super::HotTier;
use bincode::Options as _;
use hyperbyte_domain::query::Value;
use hyperbyte_domain::SeriesKey;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

const MAGIC: &[u8; 8] = b"HBTIER02";

/// What storage looked like when a snapshot was taken (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotStamp {
    /// The WAL's last sequence number.
    pub wal_sequence: u64,
    /// Storage's stamp ([`hyperbyte_ports::QueryPort::storage_stamp`]).
    pub storage: String,
}

/// Why a snapshot was not installed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SnapshotRefused {
    /// Not a snapshot of this format, or damaged.
    #[error("not an intact tier snapshot ({0})")]
    Damaged(String),
    /// Storage changed since it was taken: it may hold points the snapshot lacks, or lack
    /// points it holds.
    #[error("stale: {0}")]
    Stale(String),
}

/// What [`HotTier::restore`] installed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RestoreReport {
    /// Tables installed.
    pub tables: usize,
    /// Rows installed.
    pub rows: u64,
}

#[derive(Serialize)]
struct SnapshotOut<'a> {
    stamp: &'a SnapshotStamp,
    tables: Vec<TableOut<'a>>,
}

#[derive(Serialize)]
struct TableOut<'a> {
    id: &'a TableId,
    covered_from: i64,
    max_time: i64,
    series: Vec<SeriesOut<'a>>,
    /// The latest values before the coverage, when known.
    older: Option<Vec<OlderOut<'a>>>,
}

#[derive(Serialize)]
struct OlderOut<'a> {
    tags: &'a BTreeMap<String, String>,
    fields: Vec<(&'a str, i64, ValueOut<'a>)>,
}

/// A field value, in the same variant order as [`ValueIn`].
#[derive(Serialize)]
enum ValueOut<'a> {
    Float(f64),
    Integer(i64),
    Unsigned(u64),
    Boolean(bool),
    String(&'a str),
}

#[derive(Serialize)]
struct SeriesOut<'a> {
    tags: &'a BTreeMap<String, String>,
    times: &'a [i64],
    columns: Vec<ColumnOut<'a>>,
}

#[derive(Serialize)]
struct ColumnOut<'a> {
    name: &'a str,
    present: &'a [bool],
    values: ValuesOut<'a>,
}

/// The variants of [`Values`], in the same order as [`ValuesIn`]'s.
#[derive(Serialize)]
enum ValuesOut<'a> {
    Float(&'a [f64]),
    Integer(&'a [i64]),
    Unsigned(&'a [u64]),
    Boolean(&'a [bool]),
    String(Vec<&'a str>),
}

#[derive(Deserialize)]
struct SnapshotIn {
    stamp: SnapshotStamp,
    tables: Vec<TableIn>,
}

#[derive(Deserialize)]
struct TableIn {
    id: TableId,
    covered_from: i64,
    max_time: i64,
    series: Vec<SeriesIn>,
    older: Option<Vec<OlderIn>>,
}

#[derive(Deserialize)]
struct OlderIn {
    tags: BTreeMap<String, String>,
    fields: Vec<(String, i64, ValueIn)>,
}

#[derive(Deserialize)]
enum ValueIn {
    Float(f64),
    Integer(i64),
    Unsigned(u64),
    Boolean(bool),
    String(String),
}

#[derive(Deserialize)]
struct SeriesIn {
    tags: BTreeMap<String, String>,
    times: Vec<i64>,
    columns: Vec<ColumnIn>,
}

#[derive(Deserialize)]
struct ColumnIn {
    name: String,
    present: Vec<bool>,
    values: ValuesIn,
}

#[derive(Deserialize)]
enum ValuesIn {
    Float(Vec<f64>),
    Integer(Vec<i64>),
    Unsigned(Vec<u64>),
    Boolean(Vec<bool>),
    String(Vec<String>),
}

fn codec() -> impl bincode::Options {
    bincode::DefaultOptions::new().with_fixint_encoding()
}

impl HotTier {
    /// Encodes every table (rows and coverage) for [`HotTier::restore`] at the next start.
    /// `stamp` is storage's state now; take the snapshot only once nothing writes or
    /// removes stored data any more (after the shutdown's last flush).
    pub fn snapshot(&self, stamp: &SnapshotStamp) -> Vec<u8> {
        let tables = self.tables.read();
        let out = SnapshotOut {
            stamp,
            tables: tables.iter().map(|(id, t)| table_out(id, t)).collect(),
        };
        // Sized before it is written: grown by doubling, the blob of a full tier passed
        // through copies of up to twice its size while the tier was still in memory
        // (measured on a 256 MiB tier: the heap went from about 380 to 990 MB at the stop).
        let size = codec()
            .serialized_size(&out)
            .ok()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0);
        let mut blob = Vec::with_capacity(MAGIC.len().saturating_add(size).saturating_add(4));
        blob.extend_from_slice(MAGIC);
        // Serialising into a vector fails only on a size limit, and none is set.
        if codec().serialize_into(&mut blob, &out).is_err() {
            return Vec::new();
        }
        let crc = crc32fast::hash(&blob[MAGIC.len()..]);
        blob.extend_from_slice(&crc.to_le_bytes());
        blob
    }

    /// Installs the tables of `blob` (from [`HotTier::snapshot`]) that the tier does not
    /// know yet, when the blob is intact and was taken at `stamp`, storage's state now
    /// (nothing was stored, removed or rewritten since). Then fits the budget, which may
    /// be smaller than the one the snapshot was taken under.
    pub fn restore(
        &self,
        blob: &[u8],
        stamp: &SnapshotStamp,
    ) -> Result<RestoreReport, SnapshotRefused> {
        let snapshot = decode(blob)?;
        if snapshot.stamp.wal_sequence != stamp.wal_sequence {
            return Err(SnapshotRefused::Stale(format!(
                "taken at WAL sequence {}, the WAL is at {}",
                snapshot.stamp.wal_sequence, stamp.wal_sequence
            )));
        }
        if snapshot.stamp.storage != stamp.storage {
            return Err(SnapshotRefused::Stale(format!(
                "storage changed since it was taken ({} then, {} now)",
                snapshot.stamp.storage, stamp.storage
            )));
        }
        let mut built = Vec::with_capacity(snapshot.tables.len());
        for t in snapshot.tables {
            let id = t.id.clone();
            built.push((id, table_in(t)?));
        }
        let mut report = RestoreReport::default();
        let mut tables = self.tables.write();
        for (id, table) in built {
            if tables.contains_key(&id) {
                continue;
            }
            report.tables += 1;
            report.rows += table
                .all_series()
                .map(|s| s.times.len() as u64)
                .sum::<u64>();
            tables.insert(id, table);
        }
        self.fit_budget(&mut tables);
        Ok(report)
    }
}

fn table_out<'a>(id: &'a TableId, t: &'a Table) -> TableOut<'a> {
    TableOut {
        id,
        covered_from: t.covered_from,
        max_time: t.max_time,
        series: t
            .all_series()
            .map(|s| SeriesOut {
                tags: &s.tags,
                times: &s.times,
                columns: s
                    .columns
                    .cols
                    .iter()
                    .map(|(name, c)| ColumnOut {
                        name,
                        present: &c.present,
                        values: values_out(&c.values),
                    })
                    .collect(),
            })
            .collect(),
        older: t.older.as_ref().map(|o| {
            o.all_series()
                .map(|s| OlderOut {
                    tags: &s.tags,
                    fields: s
                        .fields
                        .iter()
                        .filter_map(|(f, (t, v))| Some((f.as_str(), *t, value_out(v)?)))
                        .collect(),
                })
                .collect()
        }),
    }
}

/// `None` for the kinds no field holds.
fn value_out(v: &Value) -> Option<ValueOut<'_>> {
    Some(match v {
        Value::Float(x) => ValueOut::Float(*x),
        Value::Integer(x) => ValueOut::Integer(*x),
        Value::Unsigned(x) => ValueOut::Unsigned(*x),
        Value::Boolean(x) => ValueOut::Boolean(*x),
        Value::String(x) => ValueOut::String(x),
        Value::Null | Value::Time(_) => return None,
    })
}

fn value_in(v: ValueIn) -> Value {
    match v {
        ValueIn::Float(x) => Value::Float(x),
        ValueIn::Integer(x) => Value::Integer(x),
        ValueIn::Unsigned(x) => Value::Unsigned(x),
        ValueIn::Boolean(x) => Value::Boolean(x),
        ValueIn::String(x) => Value::String(x),
    }
}

fn values_out(v: &Values) -> ValuesOut<'_> {
    match v {
        Values::Float(v) => ValuesOut::Float(v),
        Values::Integer(v) => ValuesOut::Integer(v),
        Values::Unsigned(v) => ValuesOut::Unsigned(v),
        Values::Boolean(v) => ValuesOut::Boolean(v),
        Values::String(v) => ValuesOut::String(v.iter().map(|s| &**s).collect()),
    }
}

fn decode(blob: &[u8]) -> Result<SnapshotIn, SnapshotRefused> {
    let damaged = |why: &str| SnapshotRefused::Damaged(why.to_string());
    let body_end = blob
        .len()
        .checked_sub(4)
        .filter(|&end| end >= MAGIC.len())
        .ok_or_else(|| damaged("too short"))?;
    if &blob[..MAGIC.len()] != MAGIC {
        return Err(damaged("unknown format"));
    }
    let body = &blob[MAGIC.len()..body_end];
    let mut crc = [0u8; 4];
    crc.copy_from_slice(&blob[body_end..]);
    if crc32fast::hash(body) != u32::from_le_bytes(crc) {
        return Err(damaged("checksum mismatch"));
    }
    codec()
        .deserialize(body)
        .map_err(|e| SnapshotRefused::Damaged(format!("undecodable: {e}")))
}

/// Builds a [`Table`] from its encoding, checking what the tier relies on: times
/// strictly increasing, every column as long as its times, column names and series (tag
/// sets) each once. Bytes are counted as the flush counts them ([`Series::bytes`]).
fn table_in(t: TableIn) -> Result<Table, SnapshotRefused> {
    let damaged = |what: &str| SnapshotRefused::Damaged(format!("{}: {what}", t.id.2));
    let measurement = &t.id.2;
    let mut table = Table::empty_from(t.covered_from);
    table.max_time = t.max_time;
    for s in t.series {
        let rows = s.times.len();
        if s.times.windows(2).any(|w| w[0] >= w[1]) {
            return Err(damaged("times out of order"));
        }
        // `clear` moves the coverage past `max_time`, which must be past every row.
        if let Some(&last) = s.times.last() {
            table.max_time = table.max_time.max(last);
        }
        let tags: Vec<(&str, &str)> = s.tags.iter().map(|(k, v)| (&**k, &**v)).collect();
        let hash = hyperbyte_domain::series_hash(measurement, &tags);
        let (mut series, _) = Series::empty(measurement, &tags);
        let columns = &mut series.columns;
        for c in s.columns {
            let column = column_in(c.values, c.present);
            if column.present.len() != rows || column.len() != rows {
                return Err(damaged(&format!(
                    "column {} of another length than its times",
                    c.name
                )));
            }
            if columns.index_of(&c.name).is_some() {
                return Err(damaged(&format!("column {} twice", c.name)));
            }
            columns.cols.push((Arc::from(c.name.as_str()), column));
        }
        if table
            .series
            .get(&hash)
            .is_some_and(|bucket| bucket.iter().any(|known| *known.tags == s.tags))
        {
            return Err(damaged("a series twice"));
        }
        series.times = s.times;
        table.bytes += series.bytes();
        let (_, index) = table.series.push(hash, series);
        table.bytes += index;
    }
    table.older = match t.older {
        None => None,
        Some(older) => Some(older_in(measurement, older, t.covered_from).ok_or_else(|| {
            damaged("a latest value before the coverage that is not before it, or twice")
        })?),
    };
    table.bytes += table.older.as_ref().map_or(0, OlderLatest::bytes);
    Ok(table)
}

/// The latest values before the coverage from their encoding (`None`: one is not
/// earlier than `covered_from`, or a series or a field comes twice).
fn older_in(measurement: &str, older: Vec<OlderIn>, covered_from: i64) -> Option<OlderLatest> {
    let mut out = OlderLatest::default();
    for s in older {
        let tags: Vec<(&str, &str)> = s.tags.iter().map(|(k, v)| (&**k, &**v)).collect();
        let key: Arc<str> = Arc::from(SeriesKey::new(measurement, &tags).0.as_str());
        let mut fields = BTreeMap::new();
        for (f, t, v) in s.fields {
            if t >= covered_from || fields.insert(f, (t, value_in(v))).is_some() {
                return None;
            }
        }
        if !out.install(key, Arc::new(s.tags), fields) {
            return None;
        }
    }
    Some(out)
}

fn column_in(values: ValuesIn, present: Vec<bool>) -> Column {
    let values = match values {
        ValuesIn::Float(v) => Values::Float(v),
        ValuesIn::Integer(v) => Values::Integer(v),
        ValuesIn::Unsigned(v) => Values::Unsigned(v),
        ValuesIn::Boolean(v) => Values::Boolean(v),
        ValuesIn::String(v) => Values::String(v.into_iter().map(Arc::from).collect()),
    };
    Column { values, present }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp() -> SnapshotStamp {
        SnapshotStamp {
            wal_sequence: 1,
            storage: "s".into(),
        }
    }

    fn blob_of(out: &SnapshotOut<'_>) -> Vec<u8> {
        let mut blob = MAGIC.to_vec();
        codec().serialize_into(&mut blob, out).unwrap();
        let crc = crc32fast::hash(&blob[MAGIC.len()..]);
        blob.extend_from_slice(&crc.to_le_bytes());
        blob
    }

    fn column<'a>(name: &'a str, present: &'a [bool], values: &'a [f64]) -> ColumnOut<'a> {
        ColumnOut {
            name,
            present,
            values: ValuesOut::Float(values),
        }
    }

    #[test]
    fn series_the_tier_could_not_hold_are_refused() {
        let id: TableId = ("db".into(), "autogen".into(), "m".into());
        let tags = BTreeMap::from([("host".to_string(), "a".to_string())]);
        let series = |times: &'static [i64], columns: Vec<ColumnOut<'static>>| SeriesOut {
            tags: Box::leak(Box::new(tags.clone())),
            times,
            columns,
        };
        let ok: &[bool] = &[true, true];
        let v: &[f64] = &[1.0, 2.0];
        let cases = [
            vec![series(&[2, 1], vec![column("x", ok, v)])], // times out of order
            vec![series(&[1, 1], vec![column("x", ok, v)])], // a time twice
            vec![series(&[1, 2], vec![column("x", &[true], v)])], // presence too short
            vec![series(&[1, 2], vec![column("x", ok, &[1.0])])], // values too short
            vec![series(
                &[1, 2],
                vec![column("x", ok, v), column("x", ok, v)],
            )], // a column twice
            vec![
                series(&[1, 2], vec![column("x", ok, v)]),
                series(&[3, 4], vec![column("x", ok, v)]),
            ], // a series twice
        ];
        for (i, series) in cases.into_iter().enumerate() {
            let out = SnapshotOut {
                stamp: &stamp(),
                tables: vec![TableOut {
                    id: &id,
                    covered_from: i64::MIN,
                    max_time: 2,
                    series,
                    older: None,
                }],
            };
            let tier = HotTier::new(1 << 20);
            assert!(
                matches!(
                    tier.restore(&blob_of(&out), &stamp()),
                    Err(SnapshotRefused::Damaged(_))
                ),
                "case {i}"
            );
            assert_eq!(tier.bytes(), 0, "case {i}");
        }
    }

    #[test]
    fn the_latest_time_covers_every_row() {
        let id: TableId = ("db".into(), "autogen".into(), "m".into());
        let tags = BTreeMap::from([("host".to_string(), "a".to_string())]);
        let out = SnapshotOut {
            stamp: &stamp(),
            tables: vec![TableOut {
                id: &id,
                covered_from: i64::MIN,
                max_time: 0, // behind its rows
                series: vec![SeriesOut {
                    tags: &tags,
                    times: &[5, 9],
                    columns: vec![column("x", &[true, false], &[1.0, 0.0])],
                }],
                older: None,
            }],
        };
        let tier = HotTier::new(1 << 20);
        tier.restore(&blob_of(&out), &stamp()).unwrap();
        // Cleared, the coverage starts past every row that was held.
        tier.invalidate(|_| true);
        assert!(!tier.covers("db", "autogen", "m", Some(9)));
        assert!(tier.covers("db", "autogen", "m", Some(10)));
    }

    /// A latest value before the coverage that is not before it (or comes twice) would
    /// answer `last()` wrongly: the snapshot is refused.
    #[test]
    fn latest_values_not_before_the_coverage_are_refused() {
        let id: TableId = ("db".into(), "autogen".into(), "m".into());
        let tags = BTreeMap::from([("host".to_string(), "a".to_string())]);
        let older = |entries: Vec<(&'static str, i64)>| {
            Some(vec![OlderOut {
                tags: &tags,
                fields: entries
                    .into_iter()
                    .map(|(f, t)| (f, t, ValueOut::Float(1.0)))
                    .collect(),
            }])
        };
        let cases = [
            (older(vec![("x", 4)]), true),
            (older(vec![("x", 5)]), false),
            (older(vec![("x", 1), ("x", 2)]), false),
        ];
        for (i, (older, fine)) in cases.into_iter().enumerate() {
            let out = SnapshotOut {
                stamp: &stamp(),
                tables: vec![TableOut {
                    id: &id,
                    covered_from: 5,
                    max_time: 9,
                    series: vec![SeriesOut {
                        tags: &tags,
                        times: &[5, 9],
                        columns: vec![column("x", &[true, true], &[1.0, 2.0])],
                    }],
                    older,
                }],
            };
            let tier = HotTier::new(1 << 20);
            let restored = tier.restore(&blob_of(&out), &stamp());
            assert_eq!(restored.is_ok(), fine, "case {i}: {restored:?}");
        }
    }
}
