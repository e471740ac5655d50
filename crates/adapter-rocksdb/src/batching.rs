//! Group commit for the WAL: a decorator that coalesces concurrent `append`s into one
//! synced write.
//!
//! An fsync costs the same for one entry as for fifty, so under concurrent load the WAL's
//! throughput is set by how many entries share a sync. Callers encode their entry on their
//! own task (off every lock), queue the bytes and wait; one dedicated writer thread takes
//! everything queued (after an optional collection window, bounded by entry count and
//! bytes), writes it with one synced RocksDB write, and wakes each caller with its own
//! sequence. While a sync runs, new entries queue up and form the next batch, so even a
//! zero window batches under load. A caller returns only after the write holding its entry
//! is durable; a failed write fails every caller of that batch.

use crate::codec::encode_wal_entry;
use crate::wal::{GroupCommitStore, RocksDbWal};
use async_trait::async_trait;
use hyperbyte_domain::{CompactEntry, EncodedWalEntry, WalEntry};
use hyperbyte_ports::{WalError, WalPort};
use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Tuning of [`BatchingWal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchingConfig {
    /// How long the writer waits for more entries after the first one arrives before
    /// writing. `0` writes at once (still coalescing whatever queued during the previous
    /// sync).
    pub window: Duration,
    /// Most entries in one write.
    pub max_batch_entries: usize,
    /// Most encoded bytes in one write (a single larger entry is still written alone).
    pub max_batch_bytes: usize,
}

impl Default for BatchingConfig {
    fn default() -> Self {
        BatchingConfig {
            window: Duration::ZERO,
            max_batch_entries: 256,
            max_batch_bytes: 64 << 20,
        }
    }
}

type Reply = oneshot::Sender<Result<u64, WalError>>;

struct Pending {
    bytes: Vec<u8>,
    reply: Reply,
}

#[derive(Default)]
struct Queue {
    items: VecDeque<Pending>,
    queued_bytes: usize,
    closed: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
    entries: AtomicU64,
    writes: AtomicU64,
}

/// Counters of a [`BatchingWal`]: how well appends are being coalesced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BatchingStats {
    /// Entries written.
    pub entries: u64,
    /// Synced writes that carried them.
    pub writes: u64,
}

/// A [`WalPort`] that group-commits appends to an inner [`GroupCommitStore`] (by default
/// [`RocksDbWal`]); reads and truncation go straight to the inner store.
///
/// Dropping it stops the writer thread after it has written everything already queued.
pub struct BatchingWal<W: GroupCommitStore = RocksDbWal> {
    inner: Arc<W>,
    shared: Arc<Shared>,
    config: BatchingConfig,
    worker: Option<JoinHandle<()>>,
}

impl<W: GroupCommitStore> std::fmt::Debug for BatchingWal<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchingWal")
            .field("inner", &self.inner)
            .field("config", &self.config)
            .finish()
    }
}

impl<W: GroupCommitStore> BatchingWal<W> {
    /// Wraps `inner` and starts the writer thread.
    pub fn new(inner: W, config: BatchingConfig) -> Result<Self, WalError> {
        Self::from_arc(Arc::new(inner), config)
    }

    /// Like [`BatchingWal::new`] for a store shared with other users.
    pub fn from_arc(inner: Arc<W>, config: BatchingConfig) -> Result<Self, WalError> {
        let config = BatchingConfig {
            max_batch_entries: config.max_batch_entries.max(1),
            ..config
        };
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
            entries: AtomicU64::new(0),
            writes: AtomicU64::new(0),
        });
        let worker = {
            let inner = inner.clone();
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("wal-group-commit".into())
                .spawn(move || writer_loop(&*inner, &shared, config))
                .map_err(|e| WalError::Storage(format!("cannot start wal writer: {e}")))?
        };
        Ok(BatchingWal {
            inner,
            shared,
            config,
            worker: Some(worker),
        })
    }

    /// Entries and synced writes so far.
    pub fn stats(&self) -> BatchingStats {
        BatchingStats {
            entries: self.shared.entries.load(Ordering::Relaxed),
            writes: self.shared.writes.load(Ordering::Relaxed),
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &Arc<W> {
        &self.inner
    }

    /// Queues an already encoded entry (from [`crate::encode_wal_entry`]) and waits until
    /// it is durable.
    pub async fn append_encoded(&self, bytes: Vec<u8>) -> Result<u64, WalError> {
        let (tx, rx) = oneshot::channel();
        {
            let mut q = self.shared.queue.lock();
            if q.closed {
                return Err(WalError::Closed);
            }
            q.queued_bytes += bytes.len();
            q.items.push_back(Pending { bytes, reply: tx });
        }
        self.shared.wake.notify_one();
        rx.await.map_err(|_| WalError::Closed)?
    }
}

fn writer_loop<W: GroupCommitStore>(inner: &W, shared: &Shared, config: BatchingConfig) {
    let mut bytes: Vec<Vec<u8>> = Vec::with_capacity(config.max_batch_entries);
    let mut replies: Vec<Reply> = Vec::with_capacity(config.max_batch_entries);
    loop {
        {
            let mut q = shared.queue.lock();
            while q.items.is_empty() && !q.closed {
                shared.wake.wait(&mut q);
            }
            if q.items.is_empty() {
                return; // closed and drained
            }
            if !config.window.is_zero() {
                let deadline = Instant::now() + config.window;
                while !q.closed
                    && q.items.len() < config.max_batch_entries
                    && q.queued_bytes < config.max_batch_bytes
                    && !shared.wake.wait_until(&mut q, deadline).timed_out()
                {}
            }
            let mut batch_bytes = 0usize;
            while let Some(front) = q.items.front() {
                let len = front.bytes.len();
                if !bytes.is_empty()
                    && (bytes.len() >= config.max_batch_entries
                        || batch_bytes + len > config.max_batch_bytes)
                {
                    break;
                }
                let Some(p) = q.items.pop_front() else { break };
                batch_bytes += len;
                bytes.push(p.bytes);
                replies.push(p.reply);
            }
            q.queued_bytes -= batch_bytes;
        }
        // Failure point `wal-commit-before-sync`: a group formed, nothing written yet.
        fail::fail_point!("wal-commit-before-sync");
        let result = inner.append_encoded_blocking(&bytes);
        // Failure point `wal-commit-after-sync`: the group is durable, no caller answered.
        fail::fail_point!("wal-commit-after-sync");
        shared.writes.fetch_add(1, Ordering::Relaxed);
        shared
            .entries
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        match result {
            Ok(first) => {
                for (i, r) in replies.drain(..).enumerate() {
                    let _ = r.send(Ok(first + i as u64));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, entries = replies.len(), "wal group commit failed");
                for r in replies.drain(..) {
                    let _ = r.send(Err(clone_error(&e)));
                }
            }
        }
        bytes.clear();
    }
}

fn clone_error(e: &WalError) -> WalError {
    match e {
        WalError::Storage(s) => WalError::Storage(s.clone()),
        WalError::NoSpace(s) => WalError::NoSpace(s.clone()),
        WalError::Codec(s) => WalError::Codec(s.clone()),
        WalError::Closed => WalError::Closed,
    }
}

impl<W: GroupCommitStore> Drop for BatchingWal<W> {
    fn drop(&mut self) {
        self.shared.queue.lock().closed = true;
        self.shared.wake.notify_all();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

#[async_trait]
impl<W: GroupCommitStore> WalPort for BatchingWal<W> {
    async fn append(&self, entry: WalEntry) -> Result<u64, WalError> {
        let bytes = encode_wal_entry(&entry)?;
        drop(entry);
        self.append_encoded(bytes).await
    }

    async fn append_encoded(&self, entry: EncodedWalEntry) -> Result<u64, WalError> {
        BatchingWal::append_encoded(self, entry.bytes).await
    }

    async fn read_range(&self, from: u64, max: usize) -> Result<Vec<(u64, WalEntry)>, WalError> {
        self.inner.read_range(from, max).await
    }

    async fn read_batch(
        &self,
        from: u64,
        max_entries: usize,
        max_points: usize,
    ) -> Result<Vec<(u64, CompactEntry)>, WalError> {
        self.inner.read_batch(from, max_entries, max_points).await
    }

    async fn truncate_before(&self, seq: u64) -> Result<(), WalError> {
        self.inner.truncate_before(seq).await
    }

    fn last_sequence(&self) -> u64 {
        self.inner.last_sequence()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::atomic::AtomicBool;

    /// An in-memory store whose writes take a while (like an fsync) and can fail.
    #[derive(Debug, Default)]
    struct SlowStore {
        entries: Mutex<Vec<Vec<u8>>>,
        writes: Mutex<Vec<usize>>,
        fail: AtomicBool,
    }

    impl GroupCommitStore for SlowStore {
        fn append_encoded_blocking(&self, entries: &[Vec<u8>]) -> Result<u64, WalError> {
            std::thread::sleep(Duration::from_millis(20));
            if self.fail.load(Ordering::SeqCst) {
                return Err(WalError::Storage("disk on fire".into()));
            }
            let mut all = self.entries.lock();
            let first = all.len() as u64 + 1;
            all.extend(entries.iter().cloned());
            self.writes.lock().push(entries.len());
            Ok(first)
        }
    }

    #[async_trait]
    impl WalPort for SlowStore {
        async fn append(&self, _entry: WalEntry) -> Result<u64, WalError> {
            Err(WalError::Closed)
        }
        async fn read_range(
            &self,
            _from: u64,
            _max: usize,
        ) -> Result<Vec<(u64, WalEntry)>, WalError> {
            Ok(vec![])
        }
        async fn truncate_before(&self, _seq: u64) -> Result<(), WalError> {
            Ok(())
        }
        fn last_sequence(&self) -> u64 {
            self.entries.lock().len() as u64
        }
    }

    async fn run_concurrent(
        wal: &Arc<BatchingWal<SlowStore>>,
        n: u8,
    ) -> Vec<Result<u64, WalError>> {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let wal = wal.clone();
                tokio::spawn(async move { wal.append_encoded(vec![i]).await })
            })
            .collect();
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        out
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn coalesces_while_a_write_is_in_flight() {
        let wal =
            Arc::new(BatchingWal::new(SlowStore::default(), BatchingConfig::default()).unwrap());
        let results = run_concurrent(&wal, 20).await;
        let seqs: Vec<u64> = results.into_iter().map(|r| r.unwrap()).collect();
        let mut sorted = seqs.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (1..=20).collect::<Vec<_>>());
        // Each caller got the sequence of its own bytes.
        let entries = wal.inner().entries.lock().clone();
        for (i, seq) in seqs.iter().enumerate() {
            assert_eq!(entries[*seq as usize - 1], vec![i as u8]);
        }
        let writes = wal.inner().writes.lock().clone();
        assert!(writes.len() < 20, "no coalescing: {writes:?}");
        assert_eq!(wal.stats().entries, 20);
        assert_eq!(wal.stats().writes, writes.len() as u64);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn respects_max_batch_and_window() {
        let config = BatchingConfig {
            window: Duration::from_millis(5),
            max_batch_entries: 3,
            ..BatchingConfig::default()
        };
        let wal = Arc::new(BatchingWal::new(SlowStore::default(), config).unwrap());
        let results = run_concurrent(&wal, 10).await;
        assert!(results.iter().all(|r| r.is_ok()));
        let writes = wal.inner().writes.lock().clone();
        assert!(writes.iter().all(|&n| n <= 3), "{writes:?}");
        assert_eq!(writes.iter().sum::<usize>(), 10);
        assert_eq!(wal.inner().entries.lock().len(), 10);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_write_fails_every_caller_and_drop_closes() {
        let wal =
            Arc::new(BatchingWal::new(SlowStore::default(), BatchingConfig::default()).unwrap());
        wal.inner().fail.store(true, Ordering::SeqCst);
        let results = run_concurrent(&wal, 5).await;
        assert!(results
            .iter()
            .all(|r| matches!(r, Err(WalError::Storage(m)) if m == "disk on fire")));
        wal.inner().fail.store(false, Ordering::SeqCst);
        assert_eq!(wal.append_encoded(vec![1]).await.unwrap(), 1);
        let wal = Arc::into_inner(wal).unwrap();
        drop(wal); // joins the writer thread
    }
}
