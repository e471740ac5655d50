//! [`HintStorePort`] on RocksDB: cluster mode's hinted-handoff queues, in a database of
//! their own (`<data>/hints`), so their fsyncs never queue behind the WAL's group commit
//! and a corrupt queue can never make the WAL unreadable.
//!
//! Column family `queue`: key = peer, id (both big-endian `u64`, so one peer's entries are
//! contiguous and in id order); value = format byte `1`, origin, sequence (big-endian
//! `u64`), queue time (big-endian `i64`), then the batch's bytes. Key `last_id` of the
//! default column family: the highest id appended (written in the same batch).
//!
//! Appends are synced; removals are not (a crash may bring a removed entry back, which is
//! then delivered twice and recognised by the replica). The sizes per peer are kept in
//! memory, computed by one scan at open and updated under a lock with every change.

use async_trait::async_trait;
use hyperbyte_ports::{HintEntry, HintSize, HintStoreError, HintStorePort, ReplicatedBatch};
use parking_lot::Mutex;
use rocksdb::{
    ColumnFamilyDescriptor, Direction, IteratorMode, Options, WriteBatch, WriteOptions, DB,
};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const CF_QUEUE: &str = "queue";
const LAST_ID: &[u8] = b"last_id";
const FORMAT: u8 = 1;
/// Format byte, origin, sequence, queue time.
const HEADER: usize = 1 + 8 + 8 + 8;

/// The hint queues in RocksDB.
#[derive(Debug, Clone)]
pub struct RocksDbHintStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: DB,
    sizes: Mutex<BTreeMap<u64, HintSize>>,
    last_id: AtomicU64,
}

fn storage(e: impl std::fmt::Display) -> HintStoreError {
    let text = e.to_string();
    if crate::wal::is_no_space(&text) {
        HintStoreError::NoSpace(text)
    } else {
        HintStoreError::Storage(text)
    }
}

fn key(peer: u64, id: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&peer.to_be_bytes());
    k[8..].copy_from_slice(&id.to_be_bytes());
    k
}

fn parse_key(k: &[u8]) -> Result<(u64, u64), HintStoreError> {
    let bytes: [u8; 16] = k
        .try_into()
        .map_err(|_| storage(format!("hint key of {} bytes", k.len())))?;
    let (p, i) = bytes.split_at(8);
    let be = |s: &[u8]| <[u8; 8]>::try_from(s).map(u64::from_be_bytes);
    Ok((be(p).map_err(storage)?, be(i).map_err(storage)?))
}

fn encode(queued_at: i64, batch: &ReplicatedBatch) -> Vec<u8> {
    let mut v = Vec::with_capacity(HEADER + batch.bytes.len());
    v.push(FORMAT);
    v.extend_from_slice(&batch.origin.to_be_bytes());
    v.extend_from_slice(&batch.sequence.to_be_bytes());
    v.extend_from_slice(&queued_at.to_be_bytes());
    v.extend_from_slice(&batch.bytes);
    v
}

fn decode(id: u64, v: &[u8]) -> Result<HintEntry, HintStoreError> {
    let bad = || storage(format!("hint {id}: a record of {} bytes", v.len()));
    let (head, bytes) = v.split_at_checked(HEADER).ok_or_else(bad)?;
    if head[0] != FORMAT {
        return Err(storage(format!("hint {id}: unknown format {}", head[0])));
    }
    let word = |at: usize| -> Result<[u8; 8], HintStoreError> {
        head.get(at..at + 8)
            .and_then(|s| <[u8; 8]>::try_from(s).ok())
            .ok_or_else(bad)
    };
    Ok(HintEntry {
        id,
        queued_at: i64::from_be_bytes(word(17)?),
        batch: ReplicatedBatch {
            origin: u64::from_be_bytes(word(1)?),
            sequence: u64::from_be_bytes(word(9)?),
            bytes: Arc::from(bytes),
        },
    })
}

/// The batch bytes of a stored record.
fn payload_len(record_len: usize) -> u64 {
    record_len.saturating_sub(HEADER) as u64
}

fn synced() -> WriteOptions {
    let mut o = WriteOptions::default();
    o.set_sync(true);
    o
}

impl RocksDbHintStore {
    /// Opens (creating) the store at `path`; scans it once for the sizes per peer.
    pub fn open(path: &Path) -> Result<Self, HintStoreError> {
        std::fs::create_dir_all(path).map_err(|e| storage(format!("{}: {e}", path.display())))?;
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_max_background_jobs(1);
        let cfs = ["default", CF_QUEUE]
            .into_iter()
            .map(|name| ColumnFamilyDescriptor::new(name, Options::default()));
        let db = DB::open_cf_descriptors(&opts, path, cfs).map_err(storage)?;
        let mut last_id = match db.get(LAST_ID).map_err(storage)? {
            Some(v) => u64::from_be_bytes(
                <[u8; 8]>::try_from(&v[..]).map_err(|_| storage("a corrupt last_id"))?,
            ),
            None => 0,
        };
        let mut sizes: BTreeMap<u64, HintSize> = BTreeMap::new();
        {
            let cf = db
                .cf_handle(CF_QUEUE)
                .ok_or_else(|| storage("missing column family queue"))?;
            for item in db.iterator_cf(cf, IteratorMode::Start) {
                let (k, v) = item.map_err(storage)?;
                let (peer, id) = parse_key(&k)?;
                last_id = last_id.max(id);
                let s = sizes.entry(peer).or_default();
                s.batches = s.batches.saturating_add(1);
                s.bytes = s.bytes.saturating_add(payload_len(v.len()));
            }
        }
        Ok(RocksDbHintStore {
            inner: Arc::new(Inner {
                db,
                sizes: Mutex::new(sizes),
                last_id: AtomicU64::new(last_id),
            }),
        })
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T, HintStoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, HintStoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| storage(format!("hint store task: {e}")))?
    }
}

impl Inner {
    fn cf(&self) -> Result<&rocksdb::ColumnFamily, HintStoreError> {
        self.db
            .cf_handle(CF_QUEUE)
            .ok_or_else(|| storage("missing column family queue"))
    }
}

#[async_trait]
impl HintStorePort for RocksDbHintStore {
    async fn append(
        &self,
        peers: &[u64],
        id: u64,
        queued_at: i64,
        batch: &ReplicatedBatch,
    ) -> Result<(), HintStoreError> {
        let peers = peers.to_vec();
        let record = encode(queued_at, batch);
        let len = batch.bytes.len() as u64;
        self.blocking(move |inner| {
            fail::fail_point!("hint-append", |_| Err(storage("failpoint hint-append")));
            let cf = inner.cf()?;
            let mut wb = WriteBatch::default();
            for peer in &peers {
                wb.put_cf(cf, key(*peer, id), &record);
            }
            let last = inner.last_id.fetch_max(id, Ordering::SeqCst).max(id);
            wb.put(LAST_ID, last.to_be_bytes());
            inner.db.write_opt(wb, &synced()).map_err(storage)?;
            let mut sizes = inner.sizes.lock();
            for peer in peers {
                let s = sizes.entry(peer).or_default();
                s.batches = s.batches.saturating_add(1);
                s.bytes = s.bytes.saturating_add(len);
            }
            Ok(())
        })
        .await
    }

    async fn oldest(
        &self,
        peer: u64,
        from: u64,
        limit: usize,
    ) -> Result<Vec<HintEntry>, HintStoreError> {
        self.blocking(move |inner| {
            let start = key(peer, from);
            let mut out = Vec::new();
            for item in inner
                .db
                .iterator_cf(inner.cf()?, IteratorMode::From(&start, Direction::Forward))
            {
                if out.len() >= limit {
                    break;
                }
                let (k, v) = item.map_err(storage)?;
                let (p, id) = parse_key(&k)?;
                if p != peer {
                    break;
                }
                out.push(decode(id, &v)?);
            }
            Ok(out)
        })
        .await
    }

    async fn remove(&self, peer: u64, ids: &[u64]) -> Result<(), HintStoreError> {
        let ids = ids.to_vec();
        self.blocking(move |inner| {
            let cf = inner.cf()?;
            // Under the sizes lock, so two removals of one entry count it once.
            let mut sizes = inner.sizes.lock();
            let mut wb = WriteBatch::default();
            let (mut batches, mut bytes) = (0u64, 0u64);
            for id in ids {
                let k = key(peer, id);
                if let Some(v) = inner.db.get_pinned_cf(cf, k).map_err(storage)? {
                    batches = batches.saturating_add(1);
                    bytes = bytes.saturating_add(payload_len(v.len()));
                    wb.delete_cf(cf, k);
                }
            }
            if batches == 0 {
                return Ok(());
            }
            inner.db.write(wb).map_err(storage)?;
            if let Some(s) = sizes.get_mut(&peer) {
                s.batches = s.batches.saturating_sub(batches);
                s.bytes = s.bytes.saturating_sub(bytes);
                if s.batches == 0 {
                    sizes.remove(&peer);
                }
            }
            Ok(())
        })
        .await
    }

    async fn forget(&self, peer: u64) -> Result<(), HintStoreError> {
        self.blocking(move |inner| {
            let cf = inner.cf()?;
            let mut sizes = inner.sizes.lock();
            let mut wb = WriteBatch::default();
            wb.delete_range_cf(cf, key(peer, 0), key(peer, u64::MAX));
            wb.delete_cf(cf, key(peer, u64::MAX));
            inner.db.write(wb).map_err(storage)?;
            sizes.remove(&peer);
            Ok(())
        })
        .await
    }

    async fn last_id(&self) -> Result<u64, HintStoreError> {
        Ok(self.inner.last_id.load(Ordering::SeqCst))
    }

    fn sizes(&self) -> BTreeMap<u64, HintSize> {
        self.inner.sizes.lock().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn the_store_keeps_the_hint_contract_across_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        hyperbyte_testkit::contract::hint_store_contract(
            dir.path(),
            |path| RocksDbHintStore::open(path).unwrap(),
            hyperbyte_testkit::contract::Durability::Durable,
        )
        .await;
    }
}
