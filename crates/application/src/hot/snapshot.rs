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
//! - a write: every write goes through the WAL, whose last sequence number is recorded in
//!   the snapshot; a start that finds another one refuses the snapshot (this covers an
//!   older binary, which knows nothing of snapshots, having run on the directory);
//! - anything else of this binary: the slot hands a snapshot out at most once
//!   ([`hyperbyte_ports::TierSnapshotPort`]), so after a crash there is none, and the
//!   warm-up reads storage as before.
//!
//! Format: `HBTIER01`, the body (bincode, fixed-width integers), then the body's CRC-32.
//! A snapshot that is not intact, or whose series are not what the tier keeps (times
//! strictly increasing, every column as long as its times), is refused whole.

use super::table::{Column, Columns, Series, Table, TableId, Values, SERIES_OVERHEAD};
use super::HotTier;
use bincode::Options as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

const MAGIC: &[u8; 8] = b"HBTIER01";

/// Why a snapshot was not installed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SnapshotRefused {
    /// Not a snapshot of this format, or damaged.
    #[error("not an intact tier snapshot ({0})")]
    Damaged(String),
    /// Written before other writes reached the WAL: storage may hold points it lacks.
    #[error("stale: taken at WAL sequence {taken}, the WAL is at {now}")]
    Stale {
        /// The WAL's last sequence when the snapshot was taken.
        taken: u64,
        /// The WAL's last sequence now.
        now: u64,
    },
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
    wal_sequence: u64,
    tables: Vec<TableOut<'a>>,
}

#[derive(Serialize)]
struct TableOut<'a> {
    id: &'a TableId,
    covered_from: i64,
    max_time: i64,
    series: Vec<SeriesOut<'a>>,
}

#[derive(Serialize)]
struct SeriesOut<'a> {
    key: &'a str,
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
    wal_sequence: u64,
    tables: Vec<TableIn>,
}

#[derive(Deserialize)]
struct TableIn {
    id: TableId,
    covered_from: i64,
    max_time: i64,
    series: Vec<SeriesIn>,
}

#[derive(Deserialize)]
struct SeriesIn {
    key: String,
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
    /// `wal_sequence` is the WAL's last sequence now; take the snapshot only once nothing
    /// writes or removes stored data any more (after the shutdown's last flush).
    pub fn snapshot(&self, wal_sequence: u64) -> Vec<u8> {
        let tables = self.tables.read();
        let out = SnapshotOut {
            wal_sequence,
            tables: tables.iter().map(|(id, t)| table_out(id, t)).collect(),
        };
        let mut blob = MAGIC.to_vec();
        // Serialising into a vector fails only on a size limit, and none is set.
        if codec().serialize_into(&mut blob, &out).is_err() {
            return Vec::new();
        }
        let crc = crc32fast::hash(&blob[MAGIC.len()..]);
        blob.extend_from_slice(&crc.to_le_bytes());
        blob
    }

    /// Installs the tables of `blob` (from [`HotTier::snapshot`]) that the tier does not
    /// know yet, when the blob is intact and was taken at `wal_sequence`, the WAL's last
    /// sequence now (nothing was written since). Then fits the budget, which may be
    /// smaller than the one the snapshot was taken under.
    pub fn restore(
        &self,
        blob: &[u8],
        wal_sequence: u64,
    ) -> Result<RestoreReport, SnapshotRefused> {
        let snapshot = decode(blob)?;
        if snapshot.wal_sequence != wal_sequence {
            return Err(SnapshotRefused::Stale {
                taken: snapshot.wal_sequence,
                now: wal_sequence,
            });
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
                key: &s.key,
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
        .map_err(|e| SnapshotRefused::Damaged(e.to_string()))
}

/// Builds a [`Table`] from its encoding, checking what the tier relies on.
fn table_in(t: TableIn) -> Result<Table, SnapshotRefused> {
    let mut table = Table::empty_from(t.covered_from);
    table.max_time = t.max_time;
    for s in t.series {
        let rows = s.times.len();
        if s.times.windows(2).any(|w| w[0] >= w[1]) {
            return Err(SnapshotRefused::Damaged(format!(
                "{}: times out of order",
                t.id.2
            )));
        }
        let tags: Vec<(&str, &str)> = s.tags.iter().map(|(k, v)| (&**k, &**v)).collect();
        let hash = hyperbyte_domain::series_hash(&t.id.2, &tags);
        let mut bytes = SERIES_OVERHEAD
            + s.key.len()
            + tags
                .iter()
                .map(|(k, v)| k.len() + v.len() + 64)
                .sum::<usize>();
        let mut columns = Columns::default();
        for c in s.columns {
            let column = column_in(c.values, c.present);
            if column.present.len() != rows || column.len() != rows {
                return Err(SnapshotRefused::Damaged(format!(
                    "{}: column {} of another length than its times",
                    t.id.2, c.name
                )));
            }
            bytes += rows * column.row_bytes() + column.string_bytes();
            columns.cols.push((c.name, column));
        }
        let series = Series {
            key: Arc::from(s.key),
            tags: Arc::new(s.tags),
            times: s.times,
            columns,
        };
        bytes += rows * 8;
        table.bytes += bytes;
        table.series.entry(hash).or_default().push(series);
    }
    Ok(table)
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

    fn blob_of(out: &SnapshotOut<'_>) -> Vec<u8> {
        let mut blob = MAGIC.to_vec();
        codec().serialize_into(&mut blob, out).unwrap();
        let crc = crc32fast::hash(&blob[MAGIC.len()..]);
        blob.extend_from_slice(&crc.to_le_bytes());
        blob
    }

    #[test]
    fn series_the_tier_could_not_hold_are_refused() {
        let id: TableId = ("db".into(), "autogen".into(), "m".into());
        let tags = BTreeMap::from([("host".to_string(), "a".to_string())]);
        let cases: [(&[i64], &[bool], &[f64]); 3] = [
            (&[2, 1], &[true, true], &[1.0, 2.0]), // times out of order
            (&[1, 1], &[true, true], &[1.0, 2.0]), // a time twice
            (&[1, 2], &[true], &[1.0, 2.0]),       // presence shorter than the times
        ];
        for (i, (times, present, values)) in cases.into_iter().enumerate() {
            let out = SnapshotOut {
                wal_sequence: 1,
                tables: vec![TableOut {
                    id: &id,
                    covered_from: i64::MIN,
                    max_time: 2,
                    series: vec![SeriesOut {
                        key: "m,host=a",
                        tags: &tags,
                        times,
                        columns: vec![ColumnOut {
                            name: "x",
                            present,
                            values: ValuesOut::Float(values),
                        }],
                    }],
                }],
            };
            let tier = HotTier::new(1 << 20);
            assert!(
                matches!(
                    tier.restore(&blob_of(&out), 1),
                    Err(SnapshotRefused::Damaged(_))
                ),
                "case {i}"
            );
            assert_eq!(tier.bytes(), 0, "case {i}");
        }
    }
}
