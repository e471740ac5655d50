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
