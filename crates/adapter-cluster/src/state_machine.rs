//! The consensus state machine: each committed metadata command applied to this node's
//! durable metadata store, with its storage effects (a replicated `DROP` removes this
//! node's copy of the data).
//!
//! The last applied log id and membership are persisted after each batch of entries. A
//! crash between applying a command and persisting the id re-applies it at restart, which
//! the metadata rules make harmless (creating what exists is a no-op; dropping what is
//! gone too). A command with a storage side (a drop, a delete) waits until this node's
//! storage services run ([`StorageSide`]): a node catching up at start-up must not apply
//! a `DELETE` to its metadata only (measured: the deleted points stayed on the returning
//! node, 1 start in 3). A snapshot is the list of every cluster-wide command applied so far: the
//! catalog is deterministic, so replaying that list on an empty node rebuilds the same
//! metadata.

// openraft's storage traits fix the error type (`StorageError`, large); the helpers
// here return it as the traits do.
#![allow(clippy::result_large_err)]

use crate::types::{
    decode, encode, Entry, LogId, MetaRequest, MetaResponse, Node, NodeId, StorageError, TypeConfig,
};
use hyperbyte_application::cluster::StorageEffects;
use hyperbyte_domain::MetaCommand;
use hyperbyte_ports::{ConsensusStorePort, MetaError, MetadataPort};
use openraft::storage::{RaftStateMachine, Snapshot, SnapshotMeta};
use openraft::{EntryPayload, OptionalSend, RaftSnapshotBuilder, StorageIOError, StoredMembership};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::io::Cursor;
use std::sync::Arc;
use tokio::sync::watch;

const APPLIED: &str = "applied";
const SNAPSHOT: &str = "snapshot";

/// The applied position, persisted after each batch.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Applied {
    log_id: Option<LogId>,
    membership: StoredMembership<NodeId, Node>,
}

/// A snapshot as stored and shipped: its metadata and every command it covers.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredSnapshot {
    meta: SnapshotMeta<NodeId, Node>,
    commands: Vec<MetaCommand>,
}

/// The storage side of replicated commands, handed to the consensus once this node's
/// storage services run ([`StorageSide::set`]); until then the state machine holds back
/// every command that changes stored data (see [`StorageEffects::changes_storage`]).
#[derive(Debug, Clone)]
pub struct StorageSide(Arc<watch::Sender<Option<Arc<StorageEffects>>>>);

impl Default for StorageSide {
    fn default() -> Self {
        StorageSide(Arc::new(watch::channel(None).0))
    }
}

impl StorageSide {
    /// Hands over the storage side; held-back commands go on.
    pub fn set(&self, effects: StorageEffects) {
        self.0.send_replace(Some(Arc::new(effects)));
    }

    /// The storage side, once set.
    async fn ready(&self) -> Arc<StorageEffects> {
        let mut rx = self.0.subscribe();
        loop {
            if let Some(fx) = rx.borrow_and_update().clone() {
                return fx;
            }
            // The sender lives in `self`, so `changed` only returns on a change.
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

/// The state machine of this node.
#[derive(Debug, Clone)]
pub(crate) struct StateMachine {
    local: Arc<dyn MetadataPort>,
    store: Arc<dyn ConsensusStorePort>,
    effects: StorageSide,
    applied: Arc<Mutex<Applied>>,
}

fn sm_read(e: impl ToString) -> StorageError {
    StorageIOError::read_state_machine(openraft::AnyError::error(e.to_string())).into()
}

fn sm_write(e: impl ToString) -> StorageError {
    StorageIOError::write_state_machine(openraft::AnyError::error(e.to_string())).into()
}

impl StateMachine {
    /// The state machine over this node's metadata store; `effects`, once set, drops
    /// stored data for replicated drops (the storage services start after the consensus).
    pub(crate) fn open(
        local: Arc<dyn MetadataPort>,
        store: Arc<dyn ConsensusStorePort>,
        effects: StorageSide,
    ) -> Result<Self, String> {
        let applied = match store.state(APPLIED).map_err(|e| e.to_string())? {
            Some(bytes) => decode(&bytes)?,
            None => Applied::default(),
        };
        Ok(StateMachine {
            local,
            store,
            effects,
            applied: Arc::new(Mutex::new(applied)),
        })
    }

    fn persist_applied(&self) -> Result<(), StorageError> {
        let bytes = encode(&*self.applied.lock()).map_err(sm_write)?;
        self.store.put_state(APPLIED, &bytes).map_err(sm_write)
    }

    /// Applies one command here; the answer the proposer gets.
    async fn apply_command(&self, cmd: MetaCommand) -> Result<MetaResponse, StorageError> {
        let fx = match StorageEffects::changes_storage(&cmd) {
            true => Some(self.effects.ready().await),
            false => None,
        };
        let _change = fx.as_ref().map(|fx| fx.changing());
        if let Some(fx) = &fx {
            if let Err(e) = fx.before(&cmd).await {
                tracing::warn!(error = %e, "flush before a replicated drop failed");
            }
        }
        let result = self.local.apply(cmd.clone()).await;
        match result {
            Ok(()) => {
                if let Some(fx) = &fx {
                    if let Err(e) = fx.after(&cmd).await {
                        tracing::error!(error = %e, "the storage side of a replicated drop failed");
                    }
                }
                Ok(MetaResponse::Applied)
            }
            Err(MetaError::Invalid(msg)) => Ok(MetaResponse::Invalid(msg)),
            // A store that cannot apply a committed command must stop the consensus on
            // this node rather than skip it (its metadata would silently diverge).
            Err(e) => Err(sm_write(e)),
        }
    }

    fn load_snapshot(&self) -> Result<Option<StoredSnapshot>, StorageError> {
        match self.store.state(SNAPSHOT).map_err(sm_read)? {
            None => Ok(None),
            Some(bytes) => decode(&bytes).map(Some).map_err(sm_read),
        }
    }

    /// The commands of the log after `after` through `through` (cluster-wide ones).
    fn logged_commands(&self, after: u64, through: u64) -> Result<Vec<MetaCommand>, StorageError> {
        let raw = self
            .store
            .entries(after.saturating_add(1), through.saturating_add(1))
            .map_err(sm_read)?;
        let mut out = Vec::new();
        for (_, bytes) in raw {
            let entry: Entry = decode(&bytes).map_err(sm_read)?;
            if let EntryPayload::Normal(MetaRequest(cmd)) = entry.payload {
                out.push(cmd);
            }
        }
        Ok(out)
    }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachine {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let applied = self.applied.lock().clone();
        let previous = self.load_snapshot()?;
        let (after, mut commands) = match previous {
            Some(s) => (s.meta.last_log_id.map_or(0, |l| l.index), s.commands),
            None => (0, Vec::new()),
        };
        let through = applied.log_id.map_or(0, |l| l.index);
        commands.extend(self.logged_commands(after, through)?);
        let meta = SnapshotMeta {
            last_log_id: applied.log_id,
            last_membership: applied.membership.clone(),
            snapshot_id: format!("{}-{}", through, commands.len()),
        };
        let stored = StoredSnapshot {
            meta: meta.clone(),
            commands,
        };
        let bytes = encode(&stored).map_err(sm_write)?;
        self.store.put_state(SNAPSHOT, &bytes).map_err(sm_write)?;
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(bytes)),
        })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = Self;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId>, StoredMembership<NodeId, Node>), StorageError> {
        let a = self.applied.lock().clone();
        Ok((a.log_id, a.membership))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<MetaResponse>, StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut answers = Vec::new();
        for entry in entries {
            let answer = match entry.payload {
                EntryPayload::Blank => MetaResponse::Applied,
                EntryPayload::Normal(MetaRequest(cmd)) => self.apply_command(cmd).await?,
                EntryPayload::Membership(m) => {
                    self.applied.lock().membership = StoredMembership::new(Some(entry.log_id), m);
                    MetaResponse::Applied
                }
            };
            self.applied.lock().log_id = Some(entry.log_id);
            answers.push(answer);
        }
        self.persist_applied()?;
        Ok(answers)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, Node>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let bytes = snapshot.into_inner();
        let stored: StoredSnapshot = decode(&bytes).map_err(sm_read)?;
        for cmd in stored.commands {
            // Replayed on top of what this node has: commands creating what exists are
            // no-ops, refused ones were refused on the leader too.
            self.apply_command(cmd).await?;
        }
        self.store.put_state(SNAPSHOT, &bytes).map_err(sm_write)?;
        {
            let mut a = self.applied.lock();
            a.log_id = meta.last_log_id;
            a.membership = meta.last_membership.clone();
        }
        self.persist_applied()
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        let Some(stored) = self.load_snapshot()? else {
            return Ok(None);
        };
        let bytes = encode(&stored).map_err(sm_write)?;
        Ok(Some(Snapshot {
            meta: stored.meta,
            snapshot: Box::new(Cursor::new(bytes)),
        }))
    }
}
