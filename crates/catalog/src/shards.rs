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
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Every group ever created (deleted ones keep their record, so ids are never reused),
/// with an index of the live ones by policy and (start, id): groups of one policy overlap
/// after its shard duration changed, as InfluxDB's do.
#[derive(Debug, Default)]
pub(crate) struct ShardGroups {
    all: BTreeMap<u64, ShardGroup>,
    live: HashMap<(String, String), BTreeSet<(i64, u64)>>,
    /// The widest live or past group of each policy: how far back a group holding a time
    /// may start.
    widest: HashMap<(String, String), i64>,
}

impl ShardGroups {
    /// Installs (or replaces) a record.
    pub(crate) fn put(&mut self, group: ShardGroup) {
        let key = (group.database.clone(), group.retention_policy.clone());
        if let Some(old) = self.all.get(&group.id) {
            if let Some(starts) = self.live.get_mut(&key) {
                starts.remove(&(old.start, old.id));
            }
        }
        let width = group.end.saturating_sub(group.start);
        let widest = self.widest.entry(key.clone()).or_insert(0);
        *widest = (*widest).max(width);
        if group.deleted {
            if self.live.get(&key).is_some_and(BTreeSet::is_empty) {
                self.live.remove(&key);
            }
        } else {
            self.live
                .entry(key)
                .or_default()
                .insert((group.start, group.id));
        }
        self.all.insert(group.id, group);
    }

    fn next_id(&self) -> u64 {
        self.all
            .keys()
            .next_back()
            .map_or(1, |id| id.saturating_add(1))
    }

    /// The live group of a policy holding `time` (the one starting latest when several
    /// do).
    fn covering(&self, database: &str, rp: &str, time: i64) -> Option<&ShardGroup> {
        let key = (database.to_string(), rp.to_string());
        let starts = self.live.get(&key)?;
        let reach = self.widest.get(&key).copied().unwrap_or(0);
        starts
            .range(..=(time, u64::MAX))
            .rev()
            .take_while(|(start, _)| start.saturating_add(reach) > time)
            .filter_map(|(_, id)| self.all.get(id))
            .find(|g| time < g.end)
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
    // Groups planned here, start → end: all on the policy's grid, so the one starting
    // last at or before a time is the only one that may hold it (a write whose every
    // point needs a group of its own plans them in O(n log n)).
    let mut planned: BTreeMap<i64, i64> = BTreeMap::new();
    for &time in times {
        let held = planned
            .range(..=time)
            .next_back()
            .is_some_and(|(_, end)| time < *end);
        if held
            || c.shard_groups
                .covering(database, retention_policy, time)
                .is_some()
        {
            continue;
        }
        let start = rp.shard_group_start(time);
        planned.insert(start, rp.shard_group_end(start));
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

/// `DropShard`: the live group with that id, and the field types its policy recorded for
/// groups starting within its span (InfluxDB's field types live in the shard); nothing
/// when there is no such group.
pub(crate) fn drop_shard(c: &Catalog, id: u64) -> Vec<Change> {
    let Some(g) = c.shard_groups.all.get(&id).filter(|g| !g.deleted) else {
        return Vec::new();
    };
    let mut out = deleted(std::iter::once(g));
    let records = c
        .dbs
        .get(&g.database)
        .map(|d| d.field_shards_in(&g.retention_policy, g.start..g.end))
        .unwrap_or_default();
    if !records.is_empty() {
        out.push(Change::DeleteFieldShardTypes {
            database: g.database.clone(),
            retention_policy: g.retention_policy.clone(),
            records,
        });
    }
    out
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

    /// The span (start, end) of the live shard group of the policy holding `time`.
    pub fn shard_group_span(
        &self,
        database: &str,
        retention_policy: &str,
        time: i64,
    ) -> Option<(i64, i64)> {
        self.shard_groups
            .covering(database, retention_policy, time)
            .map(|g| (g.start, g.end))
    }

    /// Restores a shard group record (deleted ones too: they hold the id counter up).
    pub fn restore_shard_group(&mut self, group: ShardGroup) {
        self.shard_groups.put(group);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyperbyte_domain::{MetaCommand, RetentionPolicy};

    const H: i64 = 3_600_000_000_000;
    const D: i64 = 24 * H;

    fn create(c: &mut Catalog, t: i64) -> Vec<Change> {
        c.apply(MetaCommand::CreateShardGroups {
            database: "db".into(),
            retention_policy: "rp".into(),
            times: vec![t],
        })
        .unwrap()
    }

    /// After the shard duration changed, groups overlap: a time a wider, older group holds
    /// is covered even when a later, narrower group starts closer before it.
    #[test]
    fn overlapping_groups_cover_their_whole_spans() {
        let mut c = Catalog::new();
        c.apply(MetaCommand::create_database("db")).unwrap();
        c.apply(MetaCommand::create_retention_policy(
            "db",
            RetentionPolicy::new("rp", 0, H),
            false,
        ))
        .unwrap();
        assert_eq!(create(&mut c, D + 5).len(), 1);
        c.apply(MetaCommand::AlterRetentionPolicy {
            database: "db".into(),
            name: "rp".into(),
            duration: None,
            shard_group_duration: Some(7 * D),
            replication: None,
            make_default: false,
        })
        .unwrap();
        // The weekly group holding 3d starts on Monday 1969-12-29, before the hourly one.
        assert_eq!(create(&mut c, 3 * D).len(), 1);
        assert_eq!(c.shard_group_span("db", "rp", D + 5), Some((D, D + H)));
        assert_eq!(c.shard_group_span("db", "rp", 2 * D), Some((-3 * D, 4 * D)));
        assert_eq!(c.shard_group_span("db", "rp", D - 1), Some((-3 * D, 4 * D)));
        assert!(create(&mut c, 2 * D).is_empty());
        assert!(create(&mut c, D + H).is_empty());
        assert_eq!(c.shard_group_span("db", "rp", 4 * D), None);
        let ids: Vec<u64> = c.shard_groups().iter().map(|g| g.id).collect();
        assert_eq!(ids, vec![1, 2]);
    }
}
