//! [`MemoryConsensusStore`]: the consensus log and state in memory.

use hyperbyte_ports::{ConsensusStoreError, ConsensusStorePort};
use parking_lot::Mutex;
use std::collections::BTreeMap;

/// A [`ConsensusStorePort`] in memory (nothing survives the value).
#[derive(Debug, Default)]
pub struct MemoryConsensusStore {
    log: Mutex<BTreeMap<u64, Vec<u8>>>,
    state: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl ConsensusStorePort for MemoryConsensusStore {
    fn append(&self, entries: &[(u64, Vec<u8>)]) -> Result<(), ConsensusStoreError> {
        let mut log = self.log.lock();
        for (i, bytes) in entries {
            log.insert(*i, bytes.clone());
        }
        Ok(())
    }

    fn entries(&self, from: u64, until: u64) -> Result<Vec<(u64, Vec<u8>)>, ConsensusStoreError> {
        if from >= until {
            return Ok(Vec::new());
        }
        Ok(self
            .log
            .lock()
            .range(from..until)
            .map(|(i, b)| (*i, b.clone()))
            .collect())
    }

    fn last_entry(&self) -> Result<Option<(u64, Vec<u8>)>, ConsensusStoreError> {
        Ok(self
            .log
            .lock()
            .last_key_value()
            .map(|(i, b)| (*i, b.clone())))
    }

    fn truncate_from(&self, from: u64) -> Result<(), ConsensusStoreError> {
        self.log.lock().retain(|i, _| *i < from);
        Ok(())
    }

    fn purge_through(&self, through: u64) -> Result<(), ConsensusStoreError> {
        self.log.lock().retain(|i, _| *i > through);
        Ok(())
    }

    fn put_state(&self, key: &str, value: &[u8]) -> Result<(), ConsensusStoreError> {
        self.state.lock().insert(key.to_string(), value.to_vec());
        Ok(())
    }

    fn state(&self, key: &str) -> Result<Option<Vec<u8>>, ConsensusStoreError> {
        Ok(self.state.lock().get(key).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{consensus_store_contract, Durability};

    #[test]
    fn the_memory_store_keeps_the_contract() {
        let dir = tempfile::tempdir().unwrap();
        consensus_store_contract(
            dir.path(),
            |_| MemoryConsensusStore::default(),
            Durability::InMemory,
        );
    }
}
