//! The flush's side of feeding the recent-data tier (see `hot/feed.rs`): each round's
//! share, the catch-up a query asks for, and the points a held table finally stores.

use super::{batch_schema, FlushError, FlushService, Group, PointAt, ReadRound, Round};
use crate::hot::{TierFeed, WriteInFlight};
use hyperbyte_domain::{CompactEntry, MeasurementSchema, PointRef, RetentionPolicy};
use hyperbyte_ports::{SinkError, TableRef};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// A table of the tier: (database, retention policy, measurement).
pub(super) type TierTable = (String, String, String);

/// A table whose coverage storage could not tell (see [`FlushService::tier_share`]).
#[derive(Debug)]
pub(super) struct Unestablished;

/// The part of a round's group the tier takes.
pub(super) struct TierShare<'r, 'f> {
    id: TierTable,
    epoch: Option<u64>,
    /// Counts the write as under way until the round is stored.
    _in_flight: WriteInFlight<'f>,
    group: &'r Group,
    /// The members of entries no catch-up fed (`None`: every member).
    members: Option<Vec<PointAt>>,
}

impl TierShare<'_, '_> {
    /// Feeds the share, given the views storage writes (every member's, after
    /// [`batch_schema`]).
    pub(super) fn feed_views(
        &self,
        feed: &TierFeed,
        views: &[PointRef<'_>],
        (entries, through): (&[CompactEntry], u64),
    ) {
        match &self.members {
            None => feed.insert(&self.id, self.epoch, views, through),
            Some(_) => self.feed(feed, (entries, through)),
        }
    }

    /// Feeds the share, building its own views.
    pub(super) fn feed(&self, feed: &TierFeed, (entries, through): (&[CompactEntry], u64)) {
        let part;
        let group = match &self.members {
            None => self.group,
            Some(members) => {
                part = self.group.with_members(members.clone());
                &part
            }
        };
        let arena = group.field_arena(entries);
        let mut views = group.views_over(entries, &arena);
        batch_schema(&group.full, &mut views);
        feed.insert(&self.id, self.epoch, &views, through);
    }
}

impl Group {
    fn tier_table(&self) -> TierTable {
        (
            self.database.clone(),
            self.rp.name.clone(),
            self.measurement.clone(),
        )
    }

    /// The same table with other members.
    fn with_members(&self, members: Vec<PointAt>) -> Group {
        Group {
            database: self.database.clone(),
            rp: self.rp.clone(),
            measurement: self.measurement.clone(),
            full: self.full.clone(),
            members,
        }
    }
}

impl FlushService {
    /// Feeds the recent-data tier through `feed` (see `hot/feed.rs`): each round's
    /// points go in while storage writes them, and [`FlushService::catch_up_tier`] feeds
    /// acknowledged points before any round stores them.
    pub fn with_tier_feed(mut self, feed: Arc<TierFeed>) -> Self {
        self.feed = Some(feed);
        self
    }

    /// The share of `g` the tier takes in `round`, whose entries before `fed_before` a
    /// catch-up fed already (`Ok(None)`: nothing to feed). `Err` when the table's coverage
    /// could not be established: its points stay out, and the feed cursor must not move
    /// past the round (were storage to refuse them too, a catch-up establishing the table
    /// later would not find them stored, and no feed would bring them).
    pub(super) async fn tier_share<'r, 'f>(
        &self,
        feed: &'f TierFeed,
        g: &'r Group,
        round: &Round,
        fed_before: u64,
    ) -> Result<Option<TierShare<'r, 'f>>, Unestablished> {
        let seq_of = |&(e, _): &PointAt| round.seqs.get(e as usize).copied().unwrap_or(0);
        let members = match round.seqs.first() {
            Some(&first) if first >= fed_before => None,
            _ if round.last_seq < fed_before => return Ok(None),
            _ => Some(
                g.members
                    .iter()
                    .filter(|m| seq_of(m) >= fed_before)
                    .copied()
                    .collect::<Vec<_>>(),
            ),
        };
        if members.as_ref().is_some_and(Vec::is_empty) {
            return Ok(None);
        }
        let id = g.tier_table();
        if !feed.establish(&id).await {
            return Err(Unestablished);
        }
        let (epoch, in_flight) = feed.begin(&id);
        Ok(Some(TierShare {
            id,
            epoch,
            _in_flight: in_flight,
            group: g,
            members,
        }))
    }

    /// Feeds the recent-data tier every write acknowledged so far, without waiting for
    /// storage: a read the tier answers then sees them all. `Ok(false)` when it did not
    /// (no tier, or a table whose coverage storage could not tell): make them visible
    /// with [`FlushService::ensure_visible`] instead, whose rounds feed the tier too.
    ///
    /// Once writes feed the tier themselves ([`FlushService::feed_written`]), every
    /// acknowledged entry is in it but those a write left out: the catch-up then goes
    /// only as far as the last of these, not through the entries of writes under way.
    pub async fn catch_up_tier(&self) -> Result<bool, FlushError> {
        let last = match self.writes_feed_tier.load(Ordering::Acquire) {
            true => self.acknowledged_unfed.load(Ordering::Acquire),
            false => self.wal.last_sequence(),
        };
        self.catch_up_through(last).await
    }

    /// [`FlushService::catch_up_tier`] through entry `last` at least.
    pub(super) async fn catch_up_through(&self, last: u64) -> Result<bool, FlushError> {
        let Some(feed) = &self.feed else {
            return Ok(false);
        };
        if feed.fed_through(last) {
            return Ok(true);
        }
        let mut next = feed.cursor().await;
        while *next <= last {
            // A drop may remove a table whose entries this read still finds: the points
            // go in only if no removal ran or began since.
            let Some(generation) = feed.removal_generation() else {
                return Ok(false);
            };
            let round = match self.read_round(*next).await? {
                ReadRound::Empty { last_before } => {
                    // Nothing from `next` on: no read until a later entry exists.
                    feed.advance(&mut next, last_before.saturating_add(1));
                    break;
                }
                ReadRound::Points(round) => round,
            };
            // Every table's coverage first: nothing of the round goes in unless all can.
            for g in &round.groups {
                if !feed.establish(&g.tier_table()).await {
                    return Ok(false);
                }
            }
            for g in &round.groups {
                let arena = g.field_arena(&round.entries);
                let mut views = g.views_over(&round.entries, &arena);
                batch_schema(&g.full, &mut views);
                let through = (round.last_seq, generation);
                if !self.put_unless_removed(feed, &g.tier_table(), &views, through) {
                    return Ok(false);
                }
            }
            feed.advance(&mut next, round.last_seq.saturating_add(1));
        }
        Ok(true)
    }

    /// Puts one table's views, from WAL entries up to `through`, in the tier unless a
    /// removal of stored data ran or began since `generation` (`false`: nothing added);
    /// a table storage refuses is not claimed up to them instead (reads see what
    /// storage has). What a catch-up and a write do for each table of what they feed.
    pub(super) fn put_unless_removed(
        &self,
        feed: &TierFeed,
        id: &TierTable,
        views: &[PointRef<'_>],
        (through, generation): (u64, u64),
    ) -> bool {
        let table = TableRef {
            database: id.0.clone(),
            retention_policy: id.1.clone(),
            measurement: id.2.clone(),
        };
        if self.held.lock().contains_key(&table) {
            feed.unclaim(id, views, Some(through));
            return true;
        }
        let (epoch, _in_flight) = feed.begin(id);
        feed.insert_unless_removed(id, epoch, views, (through, generation))
    }

    /// The tier stops claiming `g`'s table up to `points` of WAL entries up to `through`,
    /// which storage refused (they wait in the WAL or the hold store): reads of the table
    /// answer what storage has until it takes them, whichever source answers.
    pub(super) fn unclaim(&self, g: &Group, points: &[PointRef<'_>], through: u64) {
        if let Some(feed) = &self.feed {
            feed.unclaim(&g.tier_table(), points, Some(through));
        }
    }

    /// Stores a page of a held table's queue with the tier kept true: under the feed
    /// cursor (no catch-up establishes the table meanwhile from a latest time that misses
    /// the page) and marked as a change of storage (no read of storage for the tier taken
    /// before is installed); then the tier stops claiming the table up to the page (left
    /// out of it while held, and a queue set aside before a restart was never fed).
    pub(super) async fn store_held_page(
        &self,
        table: &TableRef,
        (rp, schema): (&RetentionPolicy, &MeasurementSchema),
        views: &[PointRef<'_>],
    ) -> Result<(), SinkError> {
        let _cursor = match &self.feed {
            Some(feed) => Some(feed.cursor().await),
            None => None,
        };
        let _storing = self.feed.as_ref().map(|f| f.storing_aside());
        self.sink
            .write_views(&table.database, rp, &table.measurement, schema, views)
            .await?;
        if let Some(feed) = &self.feed {
            let id = (
                table.database.clone(),
                table.retention_policy.clone(),
                table.measurement.clone(),
            );
            feed.unclaim(&id, views, None);
        }
        Ok(())
    }
}
