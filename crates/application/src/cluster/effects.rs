//! What a metadata command replicated by the consensus does to this node's stored data.
//!
//! On the node where a `DROP` statement runs, the query service drops the data itself
//! (`query::meta::ddl`). Every other member applies the same command from the consensus
//! log and must drop its own copy of the data: [`StorageEffects`] is that half, run by the
//! consensus state machine around each command it applies. Dropping twice is harmless
//! (every drop is idempotent), so the node that ran the statement may run it too. The same
//! holds for `DELETE` and `DROP SERIES` (`MetaCommand::DeleteData`), which every member
//! runs through its query service's delete with the bounds the first node resolved, and
//! for `DROP SHARD` (`MetaCommand::DropShard`, with the group's span).

use crate::flush::FlushService;
use crate::query::QueryService;
use hyperbyte_domain::MetaCommand;
use hyperbyte_ports::{MetadataPort, StorageAdminPort};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Counts this member's storage-changing metadata commands (drops, deletes), twice each:
/// when one starts and when it ends, so the count is odd while one runs. Anti-entropy
/// writes the points it copied only if the count did not move since it asked the peer
/// (a delete that ran meanwhile would miss them, and they would spread again).
#[derive(Debug, Default)]
pub struct StorageChanges(AtomicU64);

impl StorageChanges {
    /// The count now.
    pub fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Marks one change from now until the returned value is dropped.
    pub fn begin(self: &Arc<Self>) -> StorageChange {
        self.0.fetch_add(1, Ordering::SeqCst);
        StorageChange(Arc::clone(self))
    }

    /// Whether a change ran or runs since the count was `then`.
    pub fn moved_since(&self, then: u64) -> bool {
        then % 2 == 1 || self.now() != then
    }
}

/// Marks one storage change from its creation to its drop (see [`StorageChanges`]).
#[derive(Debug)]
pub struct StorageChange(Arc<StorageChanges>);

impl Drop for StorageChange {
    fn drop(&mut self) {
        self.0 .0.fetch_add(1, Ordering::SeqCst);
    }
}

/// The storage side of replicated drops and deletes.
#[derive(Debug)]
pub struct StorageEffects {
    meta: Arc<dyn MetadataPort>,
    flush: Arc<FlushService>,
    admin: Arc<dyn StorageAdminPort>,
    /// Runs replicated `DELETE`s and `DROP SERIES` (the query service's delete).
    deletes: Option<Arc<QueryService>>,
    changes: Arc<StorageChanges>,
}

/// The names of a database's retention policies (none when it does not exist).
pub(crate) fn retention_policy_names(meta: &dyn MetadataPort, database: &str) -> Vec<String> {
    meta.database(database)
        .map(|d| {
            d.retention_policies
                .iter()
                .map(|r| r.name.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `cmd` removes stored data.
fn drops_data(cmd: &MetaCommand) -> bool {
    matches!(
        cmd,
        MetaCommand::DropDatabase { .. }
            | MetaCommand::DropRetentionPolicy { .. }
            | MetaCommand::DropMeasurement { .. }
    )
}

impl StorageEffects {
    /// Whether `cmd` has a storage side here (drops, `DELETE`, `DROP SERIES`): a node must
    /// not apply such a command before its storage services run, or the data it removes
    /// stays on this node (and anti-entropy copies it back to the others).
    pub fn changes_storage(cmd: &MetaCommand) -> bool {
        drops_data(cmd)
            || matches!(
                cmd,
                MetaCommand::DeleteData { .. } | MetaCommand::DropShard { .. }
            )
    }

    /// Effects over this node's metadata, flush and storage administration.
    pub fn new(
        meta: Arc<dyn MetadataPort>,
        flush: Arc<FlushService>,
        admin: Arc<dyn StorageAdminPort>,
    ) -> Self {
        StorageEffects {
            meta,
            flush,
            admin,
            deletes: None,
            changes: Arc::default(),
        }
    }

    /// Counts the changes in `changes` (shared with [`crate::cluster::AntiEntropy`]).
    pub fn with_changes(mut self, changes: Arc<StorageChanges>) -> Self {
        self.changes = changes;
        self
    }

    /// Marks a storage-changing command from now until the returned value is dropped;
    /// hold it from before [`StorageEffects::before`] until after
    /// [`StorageEffects::after`] (or the command's refusal).
    pub fn changing(&self) -> StorageChange {
        self.changes.begin()
    }

    /// Replicated `DELETE`s and `DROP SERIES` (`MetaCommand::DeleteData`) run through
    /// `query`'s delete on this node.
    pub fn with_deletes(mut self, query: Arc<QueryService>) -> Self {
        self.deletes = Some(query);
        self
    }

    /// Before `cmd` is applied: acknowledged points of what it drops reach storage first,
    /// so the drop removes them too (as the statement does on its own node).
    pub async fn before(&self, cmd: &MetaCommand) -> Result<(), String> {
        if drops_data(cmd) {
            self.flush
                .ensure_visible()
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// After `cmd` was applied: the data it drops goes from the hold queues and storage.
    pub async fn after(&self, cmd: &MetaCommand) -> Result<(), String> {
        match cmd {
            MetaCommand::DropDatabase { name } => {
                self.flush
                    .discard_dropped(name, None, None)
                    .await
                    .map_err(|e| e.to_string())?;
                self.admin
                    .drop_database(name)
                    .await
                    .map_err(|e| e.to_string())
            }
            MetaCommand::DropRetentionPolicy { database, name } => {
                self.flush
                    .discard_dropped(database, Some(name), None)
                    .await
                    .map_err(|e| e.to_string())?;
                self.admin
                    .drop_retention_policy(database, name)
                    .await
                    .map_err(|e| e.to_string())
            }
            MetaCommand::DropMeasurement {
                database,
                measurement,
            } => {
                let rps = retention_policy_names(self.meta.as_ref(), database);
                self.flush
                    .discard_dropped(database, None, Some(measurement))
                    .await
                    .map_err(|e| e.to_string())?;
                self.admin
                    .drop_measurement(database, &rps, measurement)
                    .await
                    .map_err(|e| e.to_string())
            }
            MetaCommand::DeleteData {
                database,
                statement,
                min,
                max,
                drop_series,
            } => match &self.deletes {
                Some(q) => {
                    q.apply_replicated_delete(database, statement, (*min, *max), *drop_series)
                        .await
                }
                None => Ok(()),
            },
            MetaCommand::DropShard {
                database,
                retention_policy,
                start,
                end,
                ..
            } => match &self.deletes {
                Some(q) => {
                    q.apply_replicated_drop_shard(database, retention_policy, (*start, *end))
                        .await
                }
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }
}
