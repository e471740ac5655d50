//! [`HeldPointsPort`] on the WAL's RocksDB: a column family of its own, keyed by table and
//! then by a counter, so one table's entries are contiguous and in the order they were held.
//!
//! Key: `len(db) db len(rp) rp len(measurement) measurement counter`, lengths and counter
//! big-endian (`u32`, `u64`). Length prefixes keep the table prefix unambiguous whatever
//! bytes the names hold. Values are WAL entries in the domain's wire format.

use crate::codec::decode_wal_entry_compact;
use crate::wal::{cf, storage, sync_write_opts, RocksDbWal};
use async_trait::async_trait;
use hyperbyte_domain::wal::codec::SeriesCache;
use hyperbyte_domain::{CompactEntry, EncodedWalEntry};
use hyperbyte_ports::{HeldPointsPort, TableRef, WalError};
use rocksdb::{Direction, IteratorMode, WriteBatch, DB};
use std::sync::atomic::Ordering;

/// Column family of held entries.
pub(crate) const CF_HELD: &str = "held";

/// The key prefix shared by every held entry of `table`.
fn table_prefix(table: &TableRef) -> Result<Vec<u8>, WalError> {
    let mut key = Vec::new();
    for part in [&table.database, &table.retention_policy, &table.measurement] {
        let len = u32::try_from(part.len())
            .map_err(|_| WalError::Codec("name too long for a held key".into()))?;
        key.extend_from_slice(&len.to_be_bytes());
        key.extend_from_slice(part.as_bytes());
    }
    Ok(key)
}

/// Splits a key into its table and counter.
fn parse_key(key: &[u8]) -> Option<(TableRef, u64)> {
    let mut rest = key;
    let mut parts = Vec::with_capacity(3);
    for _ in 0..3 {
        let (len, tail) = rest.split_first_chunk::<4>()?;
        let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
        let part = tail.get(..len)?;
        parts.push(String::from_utf8(part.to_vec()).ok()?);
        rest = &tail[len..];
    }
    let counter = u64::from_be_bytes(<[u8; 8]>::try_from(rest).ok()?);
    let measurement = parts.pop()?;
    let retention_policy = parts.pop()?;
    let database = parts.pop()?;
    Some((
        TableRef {
            database,
            retention_policy,
            measurement,
        },
        counter,
    ))
}

/// The counter to continue from after a restart: one past the highest in use.
pub(crate) fn next_counter(db: &DB) -> Result<u64, WalError> {
    let mut next = 0;
    for item in db.iterator_cf(cf(db, CF_HELD)?, IteratorMode::Start) {
        let (k, _) = item.map_err(storage)?;
        if let Some((_, c)) = parse_key(&k) {
            next = next.max(c.saturating_add(1));
        }
    }
    Ok(next)
}

#[async_trait]
impl HeldPointsPort for RocksDbWal {
    async fn hold(&self, table: &TableRef, entry: EncodedWalEntry) -> Result<(), WalError> {
        let mut key = table_prefix(table)?;
        self.blocking(move |w| {
            let (db, counter) = w.held_parts();
            key.extend_from_slice(&counter.fetch_add(1, Ordering::Relaxed).to_be_bytes());
            db.put_cf_opt(cf(db, CF_HELD)?, key, &entry.bytes, &sync_write_opts())
                .map_err(storage)
        })
        .await
    }

    async fn tables(&self) -> Result<Vec<TableRef>, WalError> {
        self.blocking(|w| {
            let (db, _) = w.held_parts();
            let mut out: Vec<TableRef> = Vec::new();
            for item in db.iterator_cf(cf(db, CF_HELD)?, IteratorMode::Start) {
                let (k, _) = item.map_err(storage)?;
                let (table, _) =
                    parse_key(&k).ok_or_else(|| WalError::Codec("bad held entry key".into()))?;
                if out.last() != Some(&table) {
                    out.push(table);
                }
            }
            out.sort();
            out.dedup();
            Ok(out)
        })
        .await
    }

    async fn entries(
        &self,
        table: &TableRef,
        max_points: usize,
    ) -> Result<Vec<(u64, CompactEntry)>, WalError> {
        let prefix = table_prefix(table)?;
        self.blocking(move |w| {
            let (db, _) = w.held_parts();
            let mut out = Vec::new();
            let mut points = 0usize;
            // The page's entries share their decoded series.
            let mut series = SeriesCache::default();
            let mode = IteratorMode::From(&prefix, Direction::Forward);
            for item in db.iterator_cf(cf(db, CF_HELD)?, mode) {
                if !out.is_empty() && points >= max_points {
                    break;
                }
                let (k, v) = item.map_err(storage)?;
                if !k.starts_with(&prefix) || k.len() != prefix.len() + 8 {
                    break;
                }
                let (_, position) =
                    parse_key(&k).ok_or_else(|| WalError::Codec("bad held entry key".into()))?;
                let entry = decode_wal_entry_compact(&v, &mut series)?;
                points = points.saturating_add(entry.len());
                out.push((position, entry));
            }
            Ok(out)
        })
        .await
    }

    async fn release_through(&self, table: &TableRef, through: u64) -> Result<(), WalError> {
        self.delete_between(table, through).await
    }

    async fn release(&self, table: &TableRef) -> Result<(), WalError> {
        self.delete_between(table, u64::MAX).await
    }
}

impl RocksDbWal {
    /// Deletes the held entries of `table` at positions `0..=through`, durably.
    async fn delete_between(&self, table: &TableRef, through: u64) -> Result<(), WalError> {
        let prefix = table_prefix(table)?;
        self.blocking(move |w| {
            let (db, _) = w.held_parts();
            let mut from = prefix.clone();
            from.extend_from_slice(&0u64.to_be_bytes());
            let mut to = prefix;
            to.extend_from_slice(&through.to_be_bytes());
            let handle = cf(db, CF_HELD)?;
            let mut batch = WriteBatch::default();
            batch.delete_range_cf(handle, &from, &to);
            // The range end is exclusive: the last key goes explicitly.
            batch.delete_cf(handle, &to);
            db.write_opt(batch, &sync_write_opts()).map_err(storage)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyperbyte_domain::{FieldRef, FieldValue, Point, WalEntry};

    fn table(m: &str) -> TableRef {
        TableRef {
            database: "db".into(),
            retention_policy: "autogen".into(),
            measurement: m.into(),
        }
    }

    fn entry(m: &str, v: f64) -> EncodedWalEntry {
        let p = Point {
            measurement: m.into(),
            tags: Vec::new(),
            fields: vec![("v".into(), FieldValue::Float(v))],
            timestamp: 1,
        };
        hyperbyte_domain::wal::codec::encode(&WalEntry {
            database: "db".into(),
            retention_policy: "autogen".into(),
            points: vec![p],
        })
        .unwrap()
    }

    fn value(e: &CompactEntry) -> Option<f64> {
        match e.point(0)?.fields.first()?.1 {
            FieldRef::Float(f) => Some(f),
            _ => None,
        }
    }

    #[tokio::test]
    async fn held_entries_survive_a_reopen_in_order_and_release_per_table() {
        let dir = tempfile::tempdir().unwrap();
        {
            let wal = RocksDbWal::open(dir.path()).unwrap();
            wal.hold(&table("a"), entry("a", 1.0)).await.unwrap();
            wal.hold(&table("b"), entry("b", 9.0)).await.unwrap();
            wal.hold(&table("a"), entry("a", 2.0)).await.unwrap();
            // A name that is a prefix of another never mixes their entries.
            wal.hold(&table("ab"), entry("ab", 5.0)).await.unwrap();
        }
        let wal = RocksDbWal::open(dir.path()).unwrap();
        assert_eq!(
            wal.tables().await.unwrap(),
            vec![table("a"), table("ab"), table("b")]
        );
        wal.hold(&table("a"), entry("a", 3.0)).await.unwrap();
        let values = |wal: RocksDbWal| async move {
            let all = wal.entries(&table("a"), usize::MAX).await.unwrap();
            all.iter().map(|(_, e)| value(e)).collect::<Vec<_>>()
        };
        assert_eq!(
            values(wal.clone()).await,
            vec![Some(1.0), Some(2.0), Some(3.0)]
        );
        // Pages stop at the point budget (at least one entry) and release from the front.
        let page = wal.entries(&table("a"), 1).await.unwrap();
        assert_eq!(page.len(), 1);
        wal.release_through(&table("a"), page[0].0).await.unwrap();
        assert_eq!(values(wal.clone()).await, vec![Some(2.0), Some(3.0)]);
        wal.release(&table("a")).await.unwrap();
        assert!(wal.entries(&table("a"), 10).await.unwrap().is_empty());
        assert_eq!(wal.entries(&table("ab"), 10).await.unwrap().len(), 1);
        assert_eq!(wal.tables().await.unwrap(), vec![table("ab"), table("b")]);
    }

    #[test]
    fn keys_round_trip() {
        let t = TableRef {
            database: "d\u{0}x".into(),
            retention_policy: String::new(),
            measurement: "m".into(),
        };
        let mut k = table_prefix(&t).unwrap();
        k.extend_from_slice(&7u64.to_be_bytes());
        assert_eq!(parse_key(&k), Some((t, 7)));
        assert_eq!(parse_key(&k[..k.len() - 1]), None);
    }
}
