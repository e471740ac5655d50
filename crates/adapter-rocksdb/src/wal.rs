//! The write-ahead log on RocksDB: every acknowledged write batch is one value under its
//! big-endian sequence number, made durable with a synced RocksDB write before `append`
//! returns.
//!
//! Sequences are assigned and written under one writer lock, so readers always see a
//! gap-free prefix of the log (a flusher that reads `from` its cursor can never skip an
//! entry that becomes visible later with a smaller sequence). The highest sequence is also
//! persisted on truncation, so sequences are never reused across restarts even when the
//! log has been emptied. Group commit lives in [`crate::BatchingWal`], which drives
//! [`GroupCommitStore::append_encoded_blocking`].

use crate::codec::{
    decode_wal_entry, decode_wal_entry_compact, encode_wal_entry, parse_seq_key, seq_key,
    CodecError,
};
use async_trait::async_trait;
use hyperbyte_domain::wal::codec::SeriesCache;
use hyperbyte_domain::{CompactEntry, EncodedWalEntry, WalEntry};
use hyperbyte_ports::{WalError, WalPort};
use parking_lot::Mutex;
use rocksdb::{
    BlockBasedOptions, ColumnFamilyDescriptor, DBCompressionType, Direction, IteratorMode, Options,
    ReadOptions, WriteBatch, WriteOptions, DB,
};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Column family of the log entries.
const CF_ENTRIES: &str = "entries";
/// Column family of bookkeeping values.
const CF_META: &str = "default";
/// Bookkeeping key: highest sequence assigned when the log was last truncated.
const KEY_LAST_SEQ: &[u8] = b"last_sequence";
/// Compact the truncated range after this many truncations, so range tombstones and dead
/// files do not pile up.
const COMPACT_EVERY: u64 = 64;
/// Once every entry is truncated, an active memtable this large (all dead entries) is
/// flushed so that its log file is deleted: below it, the few megabytes wait for the next
/// flush RocksDB makes on its own.
const RETIRE_LOG_AT_BYTES: u64 = 4 << 20;
/// Once every entry is truncated, live SST files this large (all dead entries) are
/// compacted away. RocksDB's file deletion by range leaves level-0 files alone, and a few
/// level-0 files never trigger a compaction by themselves, so a memtable flushed while
/// the flush was behind would otherwise stay on disk until enough truncations pass.
const COMPACT_DEAD_SST_AT_BYTES: u64 = 8 << 20;

impl From<CodecError> for WalError {
    fn from(e: CodecError) -> Self {
        WalError::Codec(e.to_string())
    }
}

pub(crate) fn storage(e: rocksdb::Error) -> WalError {
    let text = e.into_string();
    if is_no_space(&text) {
        WalError::NoSpace(text)
    } else {
        WalError::Storage(text)
    }
}

/// Whether an I/O error text is the operating system's "disk full" (`ENOSPC`), as RocksDB
/// reports it.
pub(crate) fn is_no_space(text: &str) -> bool {
    text.contains("No space left on device") || text.contains("os error 28")
}

/// A store that can make several pre-encoded entries durable in one synced write, giving
/// them consecutive sequences. This is what [`crate::BatchingWal`] needs from the store it
/// wraps.
pub trait GroupCommitStore: WalPort + 'static {
    /// Writes `entries` (each produced by [`crate::encode_wal_entry`]) durably in one
    /// write, in order, and returns the sequence of the first; the others follow
    /// consecutively. Blocking: call it from a blocking context.
    fn append_encoded_blocking(&self, entries: &[Vec<u8>]) -> Result<u64, WalError>;
}

/// The RocksDB write-ahead log. Cheap to clone (shared handle).
#[derive(Clone)]
pub struct RocksDbWal {
    inner: Arc<Inner>,
}

struct Inner {
    db: DB,
    /// Serialises sequence assignment with the write that makes it visible.
    write_lock: Mutex<()>,
    last_seq: AtomicU64,
    truncations: AtomicU64,
    /// Next key suffix of [`crate::held`] (orders a table's held entries).
    held_next: AtomicU64,
}

impl std::fmt::Debug for RocksDbWal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksDbWal")
            .field("path", &self.inner.db.path())
            .field("last_sequence", &self.last_sequence())
            .finish()
    }
}

fn sync_opts() -> WriteOptions {
    let mut w = WriteOptions::default();
    w.set_sync(true);
    w
}

/// Size of one memtable of the entries without a memory bound.
pub const WAL_MEMTABLE_BYTES: u64 = 128 << 20;

/// Smallest memtable size [`RocksDbWal::open_with_memtables`] uses.
const MIN_MEMTABLE_BYTES: u64 = 8 << 20;

impl RocksDbWal {
    /// Opens (or creates) the log in directory `path` and recovers the last sequence.
    pub fn open(path: &Path) -> Result<Self, WalError> {
        Self::open_with_memtables(path, WAL_MEMTABLE_BYTES)
    }

    /// [`RocksDbWal::open`] with the entries' memtables sized `memtable_bytes` each (four
    /// at most; the RocksDB log is capped at twice one memtable). A server under a memory
    /// bound gives a fraction of it here.
    pub fn open_with_memtables(path: &Path, memtable_bytes: u64) -> Result<Self, WalError> {
        Self::open_numbered_after(path, memtable_bytes, 0)
    }

    /// [`RocksDbWal::open_with_memtables`], where a log created by this call (nothing
    /// assigned yet) numbers its first entry `first_after + 1` instead of 1, and keeps
    /// that start durably; an existing log goes on with its own numbering. Cluster mode
    /// passes a value above any sequence a lost predecessor of this node can have used
    /// (see `hyperbyte_application::cluster::first_sequence_after`).
    pub fn open_numbered_after(
        path: &Path,
        memtable_bytes: u64,
        first_after: u64,
    ) -> Result<Self, WalError> {
        let memtable_bytes = memtable_bytes.clamp(MIN_MEMTABLE_BYTES, WAL_MEMTABLE_BYTES);
        let memtable = usize::try_from(memtable_bytes).unwrap_or(usize::MAX);
        std::fs::create_dir_all(path)
            .map_err(|e| WalError::Storage(format!("{}: {e}", path.display())))?;
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.increase_parallelism(2);
        opts.set_max_background_jobs(2);
        // Entries live for seconds: keep them in big memtables so most are truncated
        // before they ever reach an SST file, and bound the RocksDB log size.
        opts.set_max_total_wal_size(memtable_bytes.saturating_mul(2));
        // No log recycling: a recycled log file keeps its largest size on disk, so four of
        // them held ~450 MB of dead entries until a restart (issue 15); without it, a log
        // is deleted once its memtable is flushed (see `retire_dead_log`).
        opts.set_keep_log_file_num(4);

        let mut entries = Options::default();
        entries.set_write_buffer_size(memtable);
        entries.set_max_write_buffer_number(4);
        entries.set_min_write_buffer_number_to_merge(1);
        // Entries are already compact and short-lived: compressing the few that reach an
        // SST file cost more CPU than the disk it saved.
        entries.set_compression_type(DBCompressionType::None);
        let mut table = BlockBasedOptions::default();
        table.set_block_size(64 << 10);
        entries.set_block_based_table_factory(&table);

        let cfs = vec![
            ColumnFamilyDescriptor::new(CF_META, Options::default()),
            ColumnFamilyDescriptor::new(CF_ENTRIES, entries),
            ColumnFamilyDescriptor::new(crate::held::CF_HELD, Options::default()),
        ];
        let db = DB::open_cf_descriptors(&opts, path, cfs).map_err(storage)?;

        let persisted = match db
            .get_cf(cf(&db, CF_META)?, KEY_LAST_SEQ)
            .map_err(storage)?
        {
            Some(v) => parse_seq_key(&v)
                .ok_or_else(|| WalError::Codec("bad last_sequence record".into()))?,
            None => 0,
        };
        let newest = match db
            .iterator_cf(cf(&db, CF_ENTRIES)?, IteratorMode::End)
            .next()
        {
            Some(item) => {
                let (k, _) = item.map_err(storage)?;
                parse_seq_key(&k).ok_or_else(|| WalError::Codec("bad sequence key".into()))?
            }
            None => 0,
        };
        let last = match persisted.max(newest) {
            0 if first_after > 0 => {
                db.put_cf_opt(
                    cf(&db, CF_META)?,
                    KEY_LAST_SEQ,
                    seq_key(first_after),
                    &sync_opts(),
                )
                .map_err(storage)?;
                first_after
            }
            last => last,
        };
        tracing::debug!(path = %path.display(), last, "wal opened");
        let held_next = crate::held::next_counter(&db)?;
        Ok(RocksDbWal {
            inner: Arc::new(Inner {
                db,
                write_lock: Mutex::new(()),
                last_seq: AtomicU64::new(last),
                truncations: AtomicU64::new(0),
                held_next: AtomicU64::new(held_next),
            }),
        })
    }

    /// Appends one entry synchronously (blocking); see [`WalPort::append`].
    pub fn append_blocking(&self, entry: &WalEntry) -> Result<u64, WalError> {
        let bytes = encode_wal_entry(entry)?;
        self.append_encoded_blocking(std::slice::from_ref(&bytes))
    }

    /// Reads entries synchronously (blocking); see [`WalPort::read_range`].
    pub fn read_range_blocking(
        &self,
        from: u64,
        max: usize,
    ) -> Result<Vec<(u64, WalEntry)>, WalError> {
        self.scan(
            from,
            max,
            usize::MAX,
            |b| Ok(decode_wal_entry(b)?),
            |e| e.points.len(),
        )
    }

    /// Reads synchronously (blocking); see [`WalPort::read_batch`].
    pub fn read_batch_blocking(
        &self,
        from: u64,
        max: usize,
        max_points: usize,
    ) -> Result<Vec<(u64, CompactEntry)>, WalError> {
        // The batch's entries share their decoded series.
        let mut series = SeriesCache::default();
        self.scan(
            from,
            max,
            max_points,
            |b| Ok(decode_wal_entry_compact(b, &mut series)?),
            CompactEntry::len,
        )
    }

    /// Entries from `from` in order, decoded by `decode`, until `max` entries or
    /// `max_points` points (as counted by `points`).
    fn scan<T>(
        &self,
        from: u64,
        max: usize,
        max_points: usize,
        mut decode: impl FnMut(&[u8]) -> Result<T, WalError>,
        points_of: impl Fn(&T) -> usize,
    ) -> Result<Vec<(u64, T)>, WalError> {
        let db = &self.inner.db;
        let mut ro = ReadOptions::default();
        ro.set_iterate_lower_bound(seq_key(from).to_vec());
        let mut out = Vec::new();
        if max == 0 {
            return Ok(out);
        }
        let mut points = 0usize;
        let from_key = seq_key(from);
        let iter = db.iterator_cf_opt(
            cf(db, CF_ENTRIES)?,
            ro,
            IteratorMode::From(&from_key, Direction::Forward),
        );
        for item in iter {
            let (k, v) = item.map_err(storage)?;
            let seq =
                parse_seq_key(&k).ok_or_else(|| WalError::Codec("bad sequence key".into()))?;
            let entry = decode(&v)?;
            points = points.saturating_add(points_of(&entry));
            out.push((seq, entry));
            if out.len() >= max || points >= max_points {
                break;
            }
        }
        Ok(out)
    }

    /// Writes the in-memory entries to SST files now (RocksDB does it on its own when its
    /// memtables fill up); tests use it to exercise truncation across files.
    pub fn flush_to_files(&self) -> Result<(), WalError> {
        let db = &self.inner.db;
        db.flush_cf(cf(db, CF_ENTRIES)?).map_err(storage)
    }

    /// Truncates synchronously (blocking); see [`WalPort::truncate_before`].
    pub fn truncate_before_blocking(&self, seq: u64) -> Result<(), WalError> {
        if seq == 0 {
            return Ok(());
        }
        let db = &self.inner.db;
        let entries = cf(db, CF_ENTRIES)?;
        {
            let _guard = self.inner.write_lock.lock();
            let mut batch = WriteBatch::default();
            batch.delete_range_cf(entries, seq_key(0), seq_key(seq));
            let last = self.inner.last_seq.load(Ordering::Acquire);
            batch.put_cf(cf(db, CF_META)?, KEY_LAST_SEQ, seq_key(last));
            db.write_opt(batch, &sync_opts()).map_err(storage)?;
        }
        // SST files wholly below the cut are dropped without compacting them (both bounds
        // are inclusive here, hence `seq - 1`).
        db.delete_file_in_range_cf(entries, seq_key(0), seq_key(seq - 1))
            .map_err(storage)?;
        if seq > self.inner.last_seq.load(Ordering::Acquire) {
            self.retire_dead_log()?;
            self.compact_dead_files(seq)?;
        }
        if self.inner.truncations.fetch_add(1, Ordering::Relaxed) % COMPACT_EVERY
            == COMPACT_EVERY - 1
        {
            db.compact_range_cf(entries, None::<&[u8]>, Some(seq_key(seq)));
        }
        Ok(())
    }

    /// With every entry truncated, the RocksDB log holds only dead entries, and it is
    /// deleted only when its memtable is flushed, which RocksDB does when the memtable is
    /// full. Flushing it now (the output is a range tombstone, the dead entries are
    /// dropped) shrinks the directory as soon as the flush has caught up, not at the next
    /// restart. An entry appended meanwhile is simply flushed to an SST file with them.
    fn retire_dead_log(&self) -> Result<(), WalError> {
        let db = &self.inner.db;
        let active = db
            .property_int_value_cf(cf(db, CF_ENTRIES)?, "rocksdb.cur-size-active-mem-table")
            .map_err(storage)?
            .unwrap_or(0);
        if active >= RETIRE_LOG_AT_BYTES {
            // A log is deleted only once every column family's data in it is flushed:
            // the last-sequence record and the held batches share it with the entries.
            for name in [CF_ENTRIES, CF_META, crate::held::CF_HELD] {
                db.flush_cf(cf(db, name)?).map_err(storage)?;
            }
        }
        Ok(())
    }

    /// With every entry below `seq` truncated, compacts the entries' SST files when they
    /// hold at least [`COMPACT_DEAD_SST_AT_BYTES`]: everything in them is dead, so the
    /// compaction writes (almost) nothing and the files go.
    fn compact_dead_files(&self, seq: u64) -> Result<(), WalError> {
        let db = &self.inner.db;
        let entries = cf(db, CF_ENTRIES)?;
        let live = db
            .property_int_value_cf(entries, "rocksdb.live-sst-files-size")
            .map_err(storage)?
            .unwrap_or(0);
        if live >= COMPACT_DEAD_SST_AT_BYTES {
            db.compact_range_cf(entries, None::<&[u8]>, Some(seq_key(seq)));
        }
        Ok(())
    }

    fn run_blocking<T, F>(&self, f: F) -> impl std::future::Future<Output = Result<T, WalError>>
    where
        T: Send + 'static,
        F: FnOnce(RocksDbWal) -> Result<T, WalError> + Send + 'static,
    {
        let this = self.clone();
        async move {
            tokio::task::spawn_blocking(move || f(this))
                .await
                .map_err(|e| WalError::Storage(format!("wal task failed: {e}")))?
        }
    }
}

impl RocksDbWal {
    /// The database and the counter of held entries, for [`crate::held`].
    pub(crate) fn held_parts(&self) -> (&DB, &AtomicU64) {
        (&self.inner.db, &self.inner.held_next)
    }

    /// Runs `f` on the blocking pool (RocksDB calls block).
    pub(crate) fn blocking<T, F>(
        &self,
        f: F,
    ) -> impl std::future::Future<Output = Result<T, WalError>>
    where
        T: Send + 'static,
        F: FnOnce(RocksDbWal) -> Result<T, WalError> + Send + 'static,
    {
        self.run_blocking(f)
    }
}

pub(crate) fn sync_write_opts() -> WriteOptions {
    sync_opts()
}

pub(crate) fn cf<'a>(db: &'a DB, name: &str) -> Result<&'a rocksdb::ColumnFamily, WalError> {
    db.cf_handle(name)
        .ok_or_else(|| WalError::Storage(format!("missing column family {name}")))
}

impl GroupCommitStore for RocksDbWal {
    fn append_encoded_blocking(&self, entries: &[Vec<u8>]) -> Result<u64, WalError> {
        let db = &self.inner.db;
        let cf_entries = cf(db, CF_ENTRIES)?;
        let bytes: usize = entries.iter().map(|e| e.len() + 16).sum();
        let mut batch = WriteBatch::with_capacity_bytes(bytes + 64);
        let _guard = self.inner.write_lock.lock();
        let first = self.inner.last_seq.load(Ordering::Acquire) + 1;
        for (i, e) in entries.iter().enumerate() {
            batch.put_cf(cf_entries, seq_key(first + i as u64), e);
        }
        let last = first + entries.len().saturating_sub(1) as u64;
        let result = db.write_opt(batch, &sync_opts());
        if !entries.is_empty() {
            // Advance even on failure: a failed synced write may still surface after a
            // restart, and its sequences must never be handed out again.
            self.inner.last_seq.store(last, Ordering::Release);
        }
        result.map_err(storage)?;
        Ok(first)
    }
}

#[async_trait]
impl WalPort for RocksDbWal {
    async fn append(&self, entry: WalEntry) -> Result<u64, WalError> {
        self.run_blocking(move |w| w.append_blocking(&entry)).await
    }

    async fn append_encoded(&self, entry: EncodedWalEntry) -> Result<u64, WalError> {
        self.run_blocking(move |w| w.append_encoded_blocking(std::slice::from_ref(&entry.bytes)))
            .await
    }

    async fn read_range(&self, from: u64, max: usize) -> Result<Vec<(u64, WalEntry)>, WalError> {
        self.run_blocking(move |w| w.read_range_blocking(from, max))
            .await
    }

    async fn read_batch(
        &self,
        from: u64,
        max_entries: usize,
        max_points: usize,
    ) -> Result<Vec<(u64, CompactEntry)>, WalError> {
        self.run_blocking(move |w| w.read_batch_blocking(from, max_entries, max_points))
            .await
    }

    async fn truncate_before(&self, seq: u64) -> Result<(), WalError> {
        self.run_blocking(move |w| w.truncate_before_blocking(seq))
            .await
    }

    fn last_sequence(&self) -> u64 {
        self.inner.last_seq.load(Ordering::Acquire)
    }
}
