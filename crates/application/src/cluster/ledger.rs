//! Which replicated batches this node applied, so a batch that arrives twice (a retry after
//! a lost answer, a hint sent again) is applied once.
//!
//! Per origin: a watermark below which every sequence counts as seen, plus the sequences
//! seen above it. Origins append with increasing sequences, so the set stays small; when it
//! outgrows [`ReplicaLedger::MAX_PENDING`] the watermark moves up to its lowest entries
//! (a batch older than that, arriving after thousands of newer ones, is treated as seen:
//! its points were overwritten by the newer batches' order anyway only if they share
//! points; the trade keeps memory bounded). The ledger lives in memory: after a restart a
//! batch retried across the restart is applied again, which rewrites the same points with
//! the same values.

use parking_lot::Mutex;
use std::collections::{BTreeSet, HashMap};

/// Where a node's new WAL starts numbering (its first entry is this plus one), given the
/// time now (nanoseconds since the Unix epoch): the time in microseconds.
///
/// Sequences name a node's batches to its peers, whose ledgers remember them while they
/// run. A member replaced with an empty disk keeps its node id; had its new WAL counted
/// from 1 again, the peers would take its first batches for ones already applied and
/// acknowledge them without writing them. A predecessor used at most one sequence per
/// WAL append since its own WAL was created, far fewer than the microseconds elapsed
/// since (appends are group commits), so the successor's sequences start above every
/// sequence the peers remember, provided the clock did not go back by more than the time
/// the predecessor ran. A time before the epoch gives 0 (count from 1).
pub fn first_sequence_after(now_nanos: i64) -> u64 {
    u64::try_from(now_nanos / 1_000).unwrap_or(0)
}

/// The batches applied on this replica, by origin node and origin sequence.
#[derive(Debug, Default)]
pub struct ReplicaLedger {
    origins: Mutex<HashMap<u64, Seen>>,
}

#[derive(Debug, Default)]
struct Seen {
    /// Every sequence `< below` counts as applied.
    below: u64,
    /// Applied sequences `>= below`.
    above: BTreeSet<u64>,
}

impl ReplicaLedger {
    /// Sequences kept per origin above the watermark.
    pub const MAX_PENDING: usize = 65_536;

    /// Whether `(origin, sequence)` was applied.
    pub fn seen(&self, origin: u64, sequence: u64) -> bool {
        let origins = self.origins.lock();
        origins
            .get(&origin)
            .is_some_and(|s| sequence < s.below || s.above.contains(&sequence))
    }

    /// Records `(origin, sequence)` as applied.
    pub fn record(&self, origin: u64, sequence: u64) {
        let mut origins = self.origins.lock();
        let seen = origins.entry(origin).or_default();
        if sequence < seen.below {
            return;
        }
        seen.above.insert(sequence);
        // Collapse the contiguous run at the bottom into the watermark.
        while seen.above.first() == Some(&seen.below) {
            seen.above.pop_first();
            seen.below = seen.below.saturating_add(1);
        }
        while seen.above.len() > Self::MAX_PENDING {
            if let Some(lowest) = seen.above.pop_first() {
                seen.below = lowest.saturating_add(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_node_numbers_above_what_its_peers_saw() {
        // The predecessor's WAL was created at t0 and appended a thousand batches a second
        // for a day; its successor's WAL is created an hour later.
        let day_ns = 86_400_000_000_000_i64;
        let t0 = 1_700_000_000_000_000_000_i64;
        let start = first_sequence_after(t0);
        let last_sent = start + 86_400 * 1_000;
        let l = ReplicaLedger::default();
        for s in (last_sent - 70_000)..=last_sent {
            l.record(3, s);
        }
        let successor = first_sequence_after(t0 + day_ns + 3_600_000_000_000) + 1;
        assert!(successor > last_sent);
        assert!(
            !l.seen(3, successor),
            "a new batch of the replaced node is applied"
        );
        assert_eq!(first_sequence_after(-5), 0);
    }

    #[test]
    fn a_batch_is_seen_once_recorded_whatever_the_order() {
        let l = ReplicaLedger::default();
        assert!(!l.seen(1, 5));
        l.record(1, 5);
        l.record(1, 3);
        assert!(l.seen(1, 5) && l.seen(1, 3));
        assert!(!l.seen(1, 4));
        assert!(!l.seen(2, 5), "origins are separate");
        l.record(1, 0);
        l.record(1, 1);
        l.record(1, 2);
        l.record(1, 4);
        assert!((0..=5).all(|s| l.seen(1, s)));
        assert!(!l.seen(1, 6));
    }

    #[test]
    fn the_pending_set_stays_bounded() {
        let l = ReplicaLedger::default();
        for s in 0..(ReplicaLedger::MAX_PENDING as u64 + 10) {
            l.record(7, 2 * s + 1);
        }
        let origins = l.origins.lock();
        assert!(origins[&7].above.len() <= ReplicaLedger::MAX_PENDING);
    }
}
