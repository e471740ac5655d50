//! A write-ahead log in memory, with failures on demand.

use async_trait::async_trait;
use hyperbyte_domain::WalEntry;
use hyperbyte_ports::{WalError, WalPort};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

/// A [`WalPort`] over a map. Sequences start at 1 and are never reused, also after
/// truncation; `append` is "durable" once it returns.
#[derive(Debug, Default)]
pub struct MemoryWal {
    inner: Mutex<Inner>,
    fail_appends: AtomicBool,
    disk_full: AtomicBool,
    fail_truncates: AtomicBool,
}

#[derive(Debug, Default)]
struct Inner {
    entries: BTreeMap<u64, WalEntry>,
    last: u64,
    truncations: Vec<u64>,
}

impl MemoryWal {
    /// Makes every later `append` fail (`true`) or succeed again (`false`).
    pub fn fail_appends(&self, fail: bool) {
        self.fail_appends.store(fail, Ordering::SeqCst);
    }

    /// Makes every later `append` fail as on a full disk ([`WalError::NoSpace`]).
    pub fn disk_full(&self, full: bool) {
        self.disk_full.store(full, Ordering::SeqCst);
    }

    /// Makes every later `truncate_before` fail (`true`) or succeed again (`false`).
    pub fn fail_truncates(&self, fail: bool) {
        self.fail_truncates.store(fail, Ordering::SeqCst);
    }

    /// Sequences of the entries still in the log, in order.
    pub fn sequences(&self) -> Vec<u64> {
        self.inner.lock().entries.keys().copied().collect()
    }

    /// The entries still in the log, in order.
    pub fn entries(&self) -> Vec<(u64, WalEntry)> {
        let inner = self.inner.lock();
        inner.entries.iter().map(|(s, e)| (*s, e.clone())).collect()
    }

    /// Number of entries still in the log.
    pub fn len(&self) -> usize {
        self.inner.lock().entries.len()
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every `truncate_before` argument that succeeded, in call order.
    pub fn truncations(&self) -> Vec<u64> {
        self.inner.lock().truncations.clone()
    }
}

fn injected(what: &str) -> WalError {
    WalError::Storage(format!("injected {what} failure"))
}

#[async_trait]
impl WalPort for MemoryWal {
    async fn append(&self, entry: WalEntry) -> Result<u64, WalError> {
        if self.fail_appends.load(Ordering::SeqCst) {
            return Err(injected("append"));
        }
        if self.disk_full.load(Ordering::SeqCst) {
            return Err(WalError::NoSpace(
                "No space left on device (injected)".into(),
            ));
        }
        let mut inner = self.inner.lock();
        inner.last += 1;
        let seq = inner.last;
        inner.entries.insert(seq, entry);
        Ok(seq)
    }

    async fn read_range(&self, from: u64, max: usize) -> Result<Vec<(u64, WalEntry)>, WalError> {
        Ok(self
            .inner
            .lock()
            .entries
            .range(from..)
            .take(max)
            .map(|(s, e)| (*s, e.clone()))
            .collect())
    }

    async fn truncate_before(&self, seq: u64) -> Result<(), WalError> {
        if self.fail_truncates.load(Ordering::SeqCst) {
            return Err(injected("truncate"));
        }
        let mut inner = self.inner.lock();
        inner.entries.retain(|s, _| *s >= seq);
        inner.truncations.push(seq);
        Ok(())
    }

    fn last_sequence(&self) -> u64 {
        self.inner.lock().last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> WalEntry {
        WalEntry {
            database: "db".into(),
            retention_policy: "autogen".into(),
            points: Vec::new(),
        }
    }

    #[tokio::test]
    async fn sequences_grow_and_survive_truncation() {
        let wal = MemoryWal::default();
        assert_eq!(wal.append(entry()).await.ok(), Some(1));
        assert_eq!(wal.append(entry()).await.ok(), Some(2));
        assert!(wal.truncate_before(3).await.is_ok());
        assert!(wal.is_empty());
        assert_eq!(wal.append(entry()).await.ok(), Some(3));
        assert_eq!(wal.last_sequence(), 3);
        wal.fail_appends(true);
        assert!(wal.append(entry()).await.is_err());
        assert_eq!(wal.sequences(), vec![3]);
    }
}
