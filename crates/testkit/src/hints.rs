//! [`MemoryHintStore`]: hinted-handoff queues in memory.

use async_trait::async_trait;
use hyperbyte_ports::{HintEntry, HintSize, HintStoreError, HintStorePort, ReplicatedBatch};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

/// A [`HintStorePort`] in memory (nothing survives the value). `fail_appends` makes every
/// append fail (a full disk).
#[derive(Debug, Default)]
pub struct MemoryHintStore {
    queues: Mutex<Queues>,
    /// When set, `append` fails with [`HintStoreError::NoSpace`].
    pub fail_appends: AtomicBool,
}

#[derive(Debug, Default)]
struct Queues {
    entries: BTreeMap<(u64, u64), HintEntry>,
    last_id: u64,
}

#[async_trait]
impl HintStorePort for MemoryHintStore {
    async fn append(
        &self,
        peers: &[u64],
        id: u64,
        queued_at: i64,
        batch: &ReplicatedBatch,
    ) -> Result<(), HintStoreError> {
        if self.fail_appends.load(Ordering::SeqCst) {
            return Err(HintStoreError::NoSpace("refused on purpose".into()));
        }
        let mut q = self.queues.lock();
        for peer in peers {
            q.entries.insert(
                (*peer, id),
                HintEntry {
                    id,
                    queued_at,
                    batch: batch.clone(),
                },
            );
        }
        q.last_id = q.last_id.max(id);
        Ok(())
    }

    async fn oldest(
        &self,
        peer: u64,
        from: u64,
        limit: usize,
    ) -> Result<Vec<HintEntry>, HintStoreError> {
        Ok(self
            .queues
            .lock()
            .entries
            .range((peer, from)..=(peer, u64::MAX))
            .take(limit)
            .map(|(_, e)| e.clone())
            .collect())
    }

    async fn remove(&self, peer: u64, ids: &[u64]) -> Result<(), HintStoreError> {
        let mut q = self.queues.lock();
        for id in ids {
            q.entries.remove(&(peer, *id));
        }
        Ok(())
    }

    async fn forget(&self, peer: u64) -> Result<(), HintStoreError> {
        self.queues.lock().entries.retain(|(p, _), _| *p != peer);
        Ok(())
    }

    async fn last_id(&self) -> Result<u64, HintStoreError> {
        Ok(self.queues.lock().last_id)
    }

    fn sizes(&self) -> BTreeMap<u64, HintSize> {
        let mut out: BTreeMap<u64, HintSize> = BTreeMap::new();
        for ((peer, _), e) in &self.queues.lock().entries {
            let s = out.entry(*peer).or_default();
            s.batches = s.batches.saturating_add(1);
            s.bytes = s.bytes.saturating_add(e.batch.bytes.len() as u64);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{hint_store_contract, Durability};

    #[tokio::test]
    async fn the_memory_store_keeps_the_contract() {
        let dir = tempfile::tempdir().unwrap();
        hint_store_contract(
            dir.path(),
            |_| MemoryHintStore::default(),
            Durability::InMemory,
        )
        .await;
    }
}
