//! The write path's share of feeding the recent-data tier (see `hot/feed.rs`): a write
//! puts its own points in, in WAL order, once its entry is durable and before it is
//! acknowledged. Without it every read that came after writes fed the tier from the WAL
//! itself ([`FlushService::catch_up_tier`]): under a sustained load the flush runs a
//! few rounds behind, and a one-host read during a TSBS load of 4.32 M rows waited
//! 0.2–10 s for that catch-up (it decodes the backlog the flush has not reached).

use super::feed::TierTable;
use super::{batch_schema, deleted_after, FlushService};
use crate::hot::TierFeed;
use hyperbyte_domain::PointRef;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How long a write waits for the entries before its own to be fed before it feeds them
/// all from the WAL itself (a write that appended one of them was cancelled, or is slow
/// under load): the turns of a group commit's writes follow each other within a few
/// milliseconds.
const TURN_WAIT: Duration = Duration::from_millis(50);

impl FlushService {
    /// Feeds the tier the points of WAL entry `seq`, just made durable by a write into
    /// `database` and retention policy `rp`, after every entry before it. Best effort:
    /// whatever this leaves out (a table whose coverage storage cannot tell, a removal
    /// under way, a dropped database) a catch-up or the flush round of the entry feeds
    /// as before, since the feed cursor stays at the entry.
    pub async fn feed_written(
        &self,
        ticket: TierTicket,
        seq: u64,
        database: &str,
        rp: &str,
        points: Vec<PointRef<'_>>,
    ) {
        let Some(feed) = &self.feed else {
            return;
        };
        // Everything but the insert happens before the turn: writes wait for each
        // other only while the tier takes their points.
        let Some(entry) = self.prepare_entry(ticket, seq, (database, rp), points) else {
            // A removal is under way: no write can feed now, and waiting for the turn
            // would only make every write of the removal's duration wait.
            self.acknowledged_unfed.fetch_max(seq, Ordering::AcqRel);
            return;
        };
        let fed = match feed.turn(seq, TURN_WAIT).await {
            // A round that could not establish one of its tables put the others' points
            // in without moving the cursor: feeding this entry's own copy again could
            // put an older value back over a later entry's. The WAL order decides.
            Ok(Some(cursor)) if feed.partly_fed_through(seq) => {
                drop(cursor);
                self.feed_from_wal(seq).await
            }
            Ok(Some(mut cursor)) => {
                let all_in = self.put_entry(feed, seq, entry).await;
                if all_in {
                    feed.advance(&mut cursor, seq.saturating_add(1));
                }
                all_in
            }
            Ok(None) => true,
            Err(crate::hot::Late) => {
                tracing::debug!(
                    seq,
                    "a write was late for its turn in the tier's feed; feeding from the WAL"
                );
                self.feed_from_wal(seq).await
            }
        };
        if !fed {
            // Acknowledged without its points in the tier: the next read catches up.
            self.acknowledged_unfed.fetch_max(seq, Ordering::AcqRel);
        }
    }

    /// Feeds the entries from the feed cursor through `seq` from the WAL, as a read's
    /// catch-up does; whether they all went in.
    async fn feed_from_wal(&self, seq: u64) -> bool {
        match self.catch_up_through(seq).await {
            Ok(fed) => fed,
            Err(e) => {
                tracing::warn!(error = %e, "feeding the recent-data tier from the WAL failed; reads catch up instead");
                false
            }
        }
    }

    /// What a write takes before its WAL append, for [`FlushService::feed_written`]: the
    /// tier's removal generation then. A removal of stored data (a `DELETE`, a drop) that
    /// begins after it flushes the entry into storage and removes its points there; the
    /// write must not put them in the tier afterwards, however late it gets to feed.
    pub fn tier_ticket(&self) -> TierTicket {
        TierTicket(self.feed.as_ref().and_then(|f| f.removal_generation()))
    }

    /// From now on every write feeds the tier its points before it is acknowledged
    /// (the ingestion service calls [`FlushService::feed_written`] for each): a read's
    /// catch-up goes only through the entries a write left out.
    pub fn writes_feed_tier(&self) {
        self.writes_feed_tier.store(true, Ordering::Release);
    }

    /// An entry's points by table, checked as a catch-up checks them (the read side of
    /// [`FlushService::catch_up_tier`]); `None` while a removal of stored data is under
    /// way (the entry is left to a later feed).
    fn prepare_entry<'p>(
        &self,
        ticket: TierTicket,
        seq: u64,
        (database, rp): (&str, &str),
        points: Vec<PointRef<'p>>,
    ) -> Option<PreparedEntry<'p>> {
        let generation = ticket.0?;
        let mut entry = PreparedEntry {
            generation,
            tables: Vec::new(),
        };
        // A database, policy or measurement dropped since the write: its points never go
        // in (a round leaves them out too).
        let Some(rp) = self.meta.database(database).and_then(|d| d.rp(rp).cloned()) else {
            return Some(entry);
        };
        let tombstones = self.meta.tombstones(database);
        let mut by_measurement: BTreeMap<String, Vec<PointRef<'p>>> = BTreeMap::new();
        for p in points {
            if deleted_after(&tombstones, seq, &p) {
                continue;
            }
            match by_measurement.get_mut(p.measurement.as_ref()) {
                Some(list) => list.push(p),
                None => {
                    by_measurement.insert(p.measurement.to_string(), vec![p]);
                }
            }
        }
        for (measurement, mut views) in by_measurement {
            let Some(full) = self.meta.schema(database, &measurement) else {
                continue;
            };
            batch_schema(&full, &mut views);
            let id = (database.to_string(), rp.name.clone(), measurement);
            entry.tables.push((id, views));
        }
        Some(entry)
    }

    /// Puts a prepared entry's points in with the feed cursor at the entry; `false` when
    /// they did not all go in, so the cursor must stay at the entry.
    async fn put_entry(&self, feed: &TierFeed, seq: u64, entry: PreparedEntry<'_>) -> bool {
        // Every table's coverage first: nothing of the entry goes in unless all can.
        for (id, _) in &entry.tables {
            if !feed.establish(id).await {
                return false;
            }
        }
        entry
            .tables
            .iter()
            .all(|(id, views)| self.put_unless_removed(feed, id, views, (seq, entry.generation)))
    }
}

/// The tier's removal generation before a write's WAL append (`None`: a removal was
/// under way; [`FlushService::tier_ticket`]).
#[derive(Debug, Clone, Copy)]
pub struct TierTicket(Option<u64>);

/// A write's points ready for the tier: the removal generation they were checked in, and
/// per table (database, retention policy, measurement) their views after
/// [`batch_schema`].
struct PreparedEntry<'p> {
    generation: u64,
    tables: Vec<(TierTable, Vec<PointRef<'p>>)>,
}
