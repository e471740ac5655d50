//! The held-points store in memory.

use async_trait::async_trait;
use hyperbyte_domain::{CompactEntry, EncodedWalEntry};
use hyperbyte_ports::{HeldPointsPort, TableRef, WalError};
use parking_lot::Mutex;
use std::collections::BTreeMap;

/// A table's queue: (position, entry in the WAL's wire format).
type Queue = Vec<(u64, Vec<u8>)>;

/// A [`HeldPointsPort`] over per-table lists; positions grow with every `hold`.
#[derive(Debug, Default)]
pub struct MemoryHeld {
    inner: Mutex<(BTreeMap<TableRef, Queue>, u64)>,
}

impl MemoryHeld {
    /// Number of entries held for `table`.
    pub fn queued(&self, table: &TableRef) -> usize {
        self.inner.lock().0.get(table).map_or(0, Vec::len)
    }
}

#[async_trait]
impl HeldPointsPort for MemoryHeld {
    async fn hold(&self, table: &TableRef, entry: EncodedWalEntry) -> Result<(), WalError> {
        let mut inner = self.inner.lock();
        inner.1 += 1;
        let pos = inner.1;
        inner
            .0
            .entry(table.clone())
            .or_default()
            .push((pos, entry.bytes));
        Ok(())
    }

    async fn tables(&self) -> Result<Vec<TableRef>, WalError> {
        Ok(self
            .inner
            .lock()
            .0
            .iter()
            .filter(|(_, q)| !q.is_empty())
            .map(|(t, _)| t.clone())
            .collect())
    }

    async fn entries(
        &self,
        table: &TableRef,
        max_points: usize,
    ) -> Result<Vec<(u64, CompactEntry)>, WalError> {
        let inner = self.inner.lock();
        let mut out = Vec::new();
        let mut points = 0usize;
        for (pos, bytes) in inner.0.get(table).into_iter().flatten() {
            if !out.is_empty() && points >= max_points {
                break;
            }
            let e = hyperbyte_domain::wal::codec::decode_compact(bytes)
                .map_err(|e| WalError::Codec(e.to_string()))?;
            points = points.saturating_add(e.len());
            out.push((*pos, e));
        }
        Ok(out)
    }

    async fn release_through(&self, table: &TableRef, through: u64) -> Result<(), WalError> {
        if let Some(q) = self.inner.lock().0.get_mut(table) {
            q.retain(|(pos, _)| *pos > through);
        }
        Ok(())
    }

    async fn release(&self, table: &TableRef) -> Result<(), WalError> {
        self.inner.lock().0.remove(table);
        Ok(())
    }
}
