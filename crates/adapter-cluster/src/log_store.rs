//! openraft's log storage over [`ConsensusStorePort`]: entries by index, the vote and the
//! last purged id as named state. Every call runs on the blocking pool (the store fsyncs).

use crate::types::{decode, encode, Entry, LogId, NodeId, StorageError, TypeConfig};
use hyperbyte_ports::ConsensusStorePort;
use openraft::storage::{LogFlushed, LogState, RaftLogReader, RaftLogStorage};
use openraft::{OptionalSend, RaftLogId, StorageIOError, Vote};
use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

const VOTE: &str = "vote";
const PURGED: &str = "last_purged";

/// The consensus log of this node.
#[derive(Debug, Clone)]
pub(crate) struct LogStore {
    store: Arc<dyn ConsensusStorePort>,
}

impl LogStore {
    /// A log over `store`.
    pub(crate) fn new(store: Arc<dyn ConsensusStorePort>) -> Self {
        LogStore { store }
    }

    /// Runs a store call on the blocking pool.
    async fn blocking<T, F>(&self, f: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce(&dyn ConsensusStorePort) -> Result<T, String> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| e.to_string())?
    }

    fn read_state<T: for<'de> serde::Deserialize<'de>>(
        store: &dyn ConsensusStorePort,
        key: &str,
    ) -> Result<Option<T>, String> {
        match store.state(key).map_err(|e| e.to_string())? {
            None => Ok(None),
            Some(bytes) => decode(&bytes).map(Some),
        }
    }
}

fn io_read(e: String) -> StorageError {
    StorageIOError::read_logs(openraft::AnyError::error(e)).into()
}

fn io_write(e: String) -> StorageError {
    StorageIOError::write_logs(openraft::AnyError::error(e)).into()
}

/// `range` as a half-open `[from, until)`.
fn half_open<RB: RangeBounds<u64>>(range: &RB) -> (u64, u64) {
    let from = match range.start_bound() {
        Bound::Included(i) => *i,
        Bound::Excluded(i) => i.saturating_add(1),
        Bound::Unbounded => 0,
    };
    let until = match range.end_bound() {
        Bound::Included(i) => i.saturating_add(1),
        Bound::Excluded(i) => *i,
        Bound::Unbounded => u64::MAX,
    };
    (from, until)
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        let (from, until) = half_open(&range);
        self.blocking(move |s| {
            let raw = s.entries(from, until).map_err(|e| e.to_string())?;
            raw.iter().map(|(_, b)| decode::<Entry>(b)).collect()
        })
        .await
        .map_err(io_read)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        self.blocking(|s| {
            let purged: Option<LogId> = Self::read_state(s, PURGED)?;
            let last = match s.last_entry().map_err(|e| e.to_string())? {
                Some((_, b)) => Some(*decode::<Entry>(&b)?.get_log_id()),
                None => purged,
            };
            Ok(LogState {
                last_purged_log_id: purged,
                last_log_id: last,
            })
        })
        .await
        .map_err(io_read)
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError> {
        let bytes = encode(vote).map_err(|e| io_write(e.to_string()))?;
        self.blocking(move |s| s.put_state(VOTE, &bytes).map_err(|e| e.to_string()))
            .await
            .map_err(|e| StorageIOError::write_vote(openraft::AnyError::error(e)).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError> {
        self.blocking(|s| Self::read_state(s, VOTE))
            .await
            .map_err(|e| StorageIOError::read_vote(openraft::AnyError::error(e)).into())
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut rows = Vec::new();
        for e in entries {
            let bytes = encode(&e).map_err(|err| io_write(err.to_string()))?;
            rows.push((e.get_log_id().index, bytes));
        }
        let result = self
            .blocking(move |s| s.append(&rows).map_err(|e| e.to_string()))
            .await;
        match result {
            Ok(()) => {
                callback.log_io_completed(Ok(()));
                Ok(())
            }
            Err(e) => {
                callback.log_io_completed(Err(std::io::Error::other(e.clone())));
                Err(io_write(e))
            }
        }
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let from = log_id.index;
        self.blocking(move |s| s.truncate_from(from).map_err(|e| e.to_string()))
            .await
            .map_err(io_write)
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let bytes = encode(&log_id).map_err(|e| io_write(e.to_string()))?;
        self.blocking(move |s| {
            // The purge marker first: a crash in between leaves entries below it, which
            // are never read.
            s.put_state(PURGED, &bytes).map_err(|e| e.to_string())?;
            s.purge_through(log_id.index).map_err(|e| e.to_string())
        })
        .await
        .map_err(io_write)
    }
}
