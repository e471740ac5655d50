//! Shard groups: the spans of time InfluxDB's shards hold, with the ids `SHOW SHARDS`
//! prints. InfluxDB creates a retention policy's group for a point's time before it
//! stores the point, numbers groups in creation order across every database (one shard
//! per group on a single node, so a group's id is its shard's), and deletes them when
//! they expire, on `DROP SHARD`, or with their policy or database. Storage partitions
//! by the same grid (`RetentionPolicy::shard_group_start`); these records only carry
//! the numbering and the lifetime.

use crate::rules::{db_not_found, rp_not_found};
use crate::{Catalog, Change};
use hyperbyte_domain::ShardGroup;
use hyperbyte_ports::MetaError;
use std::collections::{BTreeMap, HashMap};

/// Every group ever created (deleted ones keep their record, so ids are never reused),
/// with an index of the live ones by policy and start.
#[derive(Debug, Default)]
pub(crate) struct ShardGroups {
    all: BTreeMap<u64, ShardGroup>,
    live: HashMap<(String, String), BTreeMap<i64, u64>>,
}

impl ShardGroups {
    /// Installs (or replaces) a record.
    pub(crate) fn put(&mut self, group: ShardGroup) {
        let key = (group.database.clone(), group.retention_policy.clone());
        if group.deleted {
            if let Some(starts) = self.live.get_mut(&key) {
                starts.retain(|_, id| *id != group.id);
                if starts.is_empty() {
                    self.live.remove(&key);
                }
            }
        } else {
            self.live
                .entry(key)
                .or_default()
                .insert(group.start, group.id);
        }
        self.all.insert(group.id, group);
    }

    fn next_id(&self) -> u64 {
        self.all
            .keys()
            .next_back()
            .map_or(1, |id| id.saturating_add(1))
    }

    /// The live group of a policy holding `time`.
    fn covering(&self, database: &str, rp: &str, time: i64) -> Option<&ShardGroup> {
        let starts = self.live.get(&(database.to_string(), rp.to_string()))?;
        let (_, id) = starts.range(..=time).next_back()?;
        self.all.get(id).filter(|g| time < g.end)
    }

    /// Live groups of a policy (all policies of the database when `rp` is `None`).
    fn live_of<'a>(
        &'a self,
        database: &'a str,
        rp: Option<&'a str>,
    ) -> impl Iterator<Item = &'a ShardGroup> + 'a {
        self.all.values().filter(move |g| {
            !g.deleted && g.database == database && rp.is_none_or(|r| g.retention_policy == r)
        })
    }
}

/// Changes marking groups deleted.
fn deleted<'a>(groups: impl Iterator<Item = &'a ShardGroup>) -> Vec<Change> {
    groups
        .map(|g| {
            Change::PutShardGroup(ShardGroup {
                deleted: true,
                ..g.clone()
            })
        })
        .collect()
}

/// `CreateShardGroups`: a group for each of `times` that no live group holds yet.
pub(crate) fn create(
    c: &Catalog,
    database: &str,
    retention_policy: &str,
    times: &[i64],
) -> Result<Vec<Change>, MetaError> {
    let d = c.dbs.get(database).ok_or_else(|| db_not_found(database))?;
    let rp =
        d.db.rp(retention_policy)
            .ok_or_else(|| rp_not_found(retention_policy))?;
    let mut next = c.shard_groups.next_id();
    let mut out: Vec<Change> = Vec::new();
    for &time in times {
        let planned = out.iter().any(|ch| match ch {
            Change::PutShardGroup(g) => g.start <= time && time < g.end,
            _ => false,
        });
        if planned
            || c.shard_groups
                .covering(database, retention_policy, time)
                .is_some()
        {
            continue;
        }
        let start = rp.shard_group_start(time);
        out.push(Change::PutShardGroup(ShardGroup {
            id: next,
            database: database.to_string(),
            retention_policy: retention_policy.to_string(),
            start,
            end: rp.shard_group_end(start),
            deleted: false,
        }));
        next = next.saturating_add(1);
    }
    Ok(out)
}

/// `ExpireShardGroups`: the policy's live groups ending at or before `cutoff`.
pub(crate) fn expire(c: &Catalog, database: &str, rp: &str, cutoff: i64) -> Vec<Change> {
    deleted(
        c.shard_groups
            .live_of(database, Some(rp))
            .filter(|g| g.end <= cutoff),
    )
}

/// `DropShard`: the live group with that id (nothing when there is none).
pub(crate) fn drop_shard(c: &Catalog, id: u64) -> Vec<Change> {
    deleted(
        c.shard_groups
            .all
            .get(&id)
            .filter(|g| !g.deleted)
            .into_iter(),
    )
}

/// The groups a dropped database or policy (`rp`: `None` for the whole database) takes
/// with it.
pub(crate) fn drop_with(c: &Catalog, database: &str, rp: Option<&str>) -> Vec<Change> {
    deleted(c.shard_groups.live_of(database, rp))
}

impl Catalog {
    /// Live shard groups, by id.
    pub fn shard_groups(&self) -> Vec<ShardGroup> {
        self.shard_groups
            .all
            .values()
            .filter(|g| !g.deleted)
            .cloned()
            .collect()
    }

    /// Whether a live shard group of the policy holds `time`.
    pub fn has_shard_group(&self, database: &str, retention_policy: &str, time: i64) -> bool {
        self.shard_groups
            .covering(database, retention_policy, time)
            .is_some()
    }

    /// Restores a shard group record (deleted ones too: they hold the id counter up).
    pub fn restore_shard_group(&mut self, group: ShardGroup) {
        self.shard_groups.put(group);
    }
}
