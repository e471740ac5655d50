//! [`ConsensusStorePort`] on RocksDB: the metadata consensus log of cluster mode, in a
//! database of its own (`<data>/raft`), so its fsyncs never queue behind the WAL's.
//!
//! Column family `log`: key = index (big-endian `u64`, so RocksDB's order is the log's),
//! value = the entry's bytes. Column family `state`: key = the value's name. Every write
//! is synced.

use hyperbyte_ports::{ConsensusStoreError, ConsensusStorePort};
use rocksdb::{
    ColumnFamilyDescriptor, Direction, IteratorMode, Options, WriteBatch, WriteOptions, DB,
};
use std::path::Path;

const CF_LOG: &str = "log";
const CF_STATE: &str = "state";

/// The consensus log and hard state in RocksDB.
#[derive(Debug)]
pub struct RocksDbConsensusStore {
    db: DB,
}

fn err(e: impl std::fmt::Display) -> ConsensusStoreError {
    ConsensusStoreError::Storage(e.to_string())
}

fn synced() -> WriteOptions {
    let mut o = WriteOptions::default();
    o.set_sync(true);
    o
}

fn index_of(key: &[u8]) -> Result<u64, ConsensusStoreError> {
    let bytes: [u8; 8] = key
        .try_into()
        .map_err(|_| err(format!("log key of {} bytes", key.len())))?;
    Ok(u64::from_be_bytes(bytes))
}

impl RocksDbConsensusStore {
    /// Opens (creating) the store at `path`.
    pub fn open(path: &Path) -> Result<Self, ConsensusStoreError> {
        std::fs::create_dir_all(path).map_err(|e| err(format!("{}: {e}", path.display())))?;
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_max_background_jobs(1);
        let cfs = ["default", CF_LOG, CF_STATE]
            .into_iter()
            .map(|name| ColumnFamilyDescriptor::new(name, Options::default()));
        let db = DB::open_cf_descriptors(&opts, path, cfs).map_err(err)?;
        Ok(RocksDbConsensusStore { db })
    }

    fn cf(&self, name: &str) -> Result<&rocksdb::ColumnFamily, ConsensusStoreError> {
        self.db
            .cf_handle(name)
            .ok_or_else(|| err(format!("missing column family {name}")))
    }

    /// Deletes the log keys in `[from, until)` in one synced batch.
    fn delete_range(&self, from: u64, until: u64) -> Result<(), ConsensusStoreError> {
        let cf = self.cf(CF_LOG)?;
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(cf, from.to_be_bytes(), until.to_be_bytes());
        if until == u64::MAX {
            batch.delete_cf(cf, u64::MAX.to_be_bytes());
        }
        self.db.write_opt(batch, &synced()).map_err(err)
    }
}

impl ConsensusStorePort for RocksDbConsensusStore {
    fn append(&self, entries: &[(u64, Vec<u8>)]) -> Result<(), ConsensusStoreError> {
        let cf = self.cf(CF_LOG)?;
        let mut batch = WriteBatch::default();
        for (index, bytes) in entries {
            batch.put_cf(cf, index.to_be_bytes(), bytes);
        }
        self.db.write_opt(batch, &synced()).map_err(err)
    }

    fn entries(&self, from: u64, until: u64) -> Result<Vec<(u64, Vec<u8>)>, ConsensusStoreError> {
        let cf = self.cf(CF_LOG)?;
        let start = from.to_be_bytes();
        let mut out = Vec::new();
        for item in self
            .db
            .iterator_cf(cf, IteratorMode::From(&start, Direction::Forward))
        {
            let (key, value) = item.map_err(err)?;
            let index = index_of(&key)?;
            if index >= until {
                break;
            }
            out.push((index, value.to_vec()));
        }
        Ok(out)
    }

    fn last_entry(&self) -> Result<Option<(u64, Vec<u8>)>, ConsensusStoreError> {
        let cf = self.cf(CF_LOG)?;
        match self.db.iterator_cf(cf, IteratorMode::End).next() {
            None => Ok(None),
            Some(item) => {
                let (key, value) = item.map_err(err)?;
                Ok(Some((index_of(&key)?, value.to_vec())))
            }
        }
    }

    fn truncate_from(&self, from: u64) -> Result<(), ConsensusStoreError> {
        self.delete_range(from, u64::MAX)
    }

    fn purge_through(&self, through: u64) -> Result<(), ConsensusStoreError> {
        self.delete_range(0, through.saturating_add(1))
    }

    fn put_state(&self, key: &str, value: &[u8]) -> Result<(), ConsensusStoreError> {
        let cf = self.cf(CF_STATE)?;
        self.db
            .put_cf_opt(cf, key.as_bytes(), value, &synced())
            .map_err(err)
    }

    fn state(&self, key: &str) -> Result<Option<Vec<u8>>, ConsensusStoreError> {
        let cf = self.cf(CF_STATE)?;
        self.db.get_cf(cf, key.as_bytes()).map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_keeps_the_consensus_contract_across_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        hyperbyte_testkit::contract::consensus_store_contract(
            dir.path(),
            |path| RocksDbConsensusStore::open(path).unwrap(),
            hyperbyte_testkit::contract::Durability::Durable,
        );
    }
}
