//! Hinted handoff: the batches a peer did not take, queued per peer in arrival order and
//! delivered in that order once it answers again.
//!
//! Bounded in bytes and in age per peer ([`HintLimits`]): past either bound the oldest
//! hints are dropped and counted (anti-entropy is what repairs a peer that was away for
//! longer than the hints reach). The queues live in memory: a restart of this node loses
//! the hints it held, which anti-entropy repairs as well.

use hyperbyte_ports::ReplicatedBatch;
use parking_lot::Mutex;
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// Bounds of each peer's hint queue.
#[derive(Debug, Clone, Copy)]
pub struct HintLimits {
    /// Bytes of encoded batches kept per peer.
    pub max_bytes: usize,
    /// Age after which a hint is dropped.
    pub max_age: Duration,
}

impl Default for HintLimits {
    fn default() -> Self {
        HintLimits {
            max_bytes: 1 << 30,
            max_age: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// One peer's hint counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HintStats {
    /// Batches waiting.
    pub queued: u64,
    /// Bytes waiting.
    pub bytes: u64,
    /// Batches delivered from the queue so far.
    pub delivered: u64,
    /// Batches dropped by the bounds so far.
    pub dropped: u64,
}

#[derive(Debug, Default)]
struct Queue {
    batches: VecDeque<(Instant, ReplicatedBatch)>,
    stats: HintStats,
}

/// The hint queues of every peer.
#[derive(Debug, Default)]
pub(crate) struct HintQueues {
    limits: HintLimits,
    peers: Mutex<BTreeMap<u64, Queue>>,
}

impl HintQueues {
    pub(crate) fn new(limits: HintLimits) -> Self {
        HintQueues {
            limits,
            peers: Mutex::new(BTreeMap::new()),
        }
    }

    /// Whether `peer` has hints waiting (a new batch then queues behind them, so the peer
    /// receives batches in order).
    pub(crate) fn has_pending(&self, peer: u64) -> bool {
        self.peers
            .lock()
            .get(&peer)
            .is_some_and(|q| !q.batches.is_empty())
    }

    /// Queues a batch for `peer`, dropping the oldest past the bounds.
    pub(crate) fn push(&self, peer: u64, batch: ReplicatedBatch, now: Instant) {
        let mut peers = self.peers.lock();
        let q = peers.entry(peer).or_default();
        q.stats.bytes = q.stats.bytes.saturating_add(batch.bytes.len() as u64);
        q.batches.push_back((now, batch));
        q.stats.queued = q.batches.len() as u64;
        self.enforce(q, now);
    }

    fn enforce(&self, q: &mut Queue, now: Instant) {
        while let Some((at, front)) = q.batches.front() {
            let too_old = now.saturating_duration_since(*at) > self.limits.max_age;
            let too_big = q.stats.bytes > self.limits.max_bytes as u64;
            if !too_old && !too_big {
                break;
            }
            q.stats.bytes = q.stats.bytes.saturating_sub(front.bytes.len() as u64);
            q.batches.pop_front();
            q.stats.dropped = q.stats.dropped.saturating_add(1);
        }
        q.stats.queued = q.batches.len() as u64;
    }

    /// The oldest hint of `peer` (after dropping expired ones).
    pub(crate) fn front(&self, peer: u64, now: Instant) -> Option<ReplicatedBatch> {
        let mut peers = self.peers.lock();
        let q = peers.get_mut(&peer)?;
        self.enforce(q, now);
        q.batches.front().map(|(_, b)| b.clone())
    }

    /// Removes the oldest hint of `peer` once delivered (if it is still `sequence` of
    /// `origin`: a bound may have dropped it meanwhile).
    pub(crate) fn delivered(&self, peer: u64, origin: u64, sequence: u64) {
        let mut peers = self.peers.lock();
        let Some(q) = peers.get_mut(&peer) else {
            return;
        };
        let is_front = q
            .batches
            .front()
            .is_some_and(|(_, b)| b.origin == origin && b.sequence == sequence);
        if is_front {
            if let Some((_, b)) = q.batches.pop_front() {
                q.stats.bytes = q.stats.bytes.saturating_sub(b.bytes.len() as u64);
            }
            q.stats.delivered = q.stats.delivered.saturating_add(1);
            q.stats.queued = q.batches.len() as u64;
        }
    }

    /// Peers with hints waiting.
    pub(crate) fn pending_peers(&self) -> Vec<u64> {
        self.peers
            .lock()
            .iter()
            .filter(|(_, q)| !q.batches.is_empty())
            .map(|(p, _)| *p)
            .collect()
    }

    /// Forgets the hints of a peer that left the cluster.
    pub(crate) fn forget(&self, peer: u64) {
        self.peers.lock().remove(&peer);
    }

    /// Every peer's counters.
    pub(crate) fn stats(&self) -> BTreeMap<u64, HintStats> {
        self.peers
            .lock()
            .iter()
            .map(|(p, q)| (*p, q.stats))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn batch(seq: u64, len: usize) -> ReplicatedBatch {
        ReplicatedBatch {
            origin: 1,
            sequence: seq,
            bytes: Arc::from(vec![0u8; len]),
        }
    }

    #[test]
    fn hints_come_back_in_order_and_leave_once_delivered() {
        let q = HintQueues::new(HintLimits::default());
        let now = Instant::now();
        q.push(2, batch(1, 10), now);
        q.push(2, batch(2, 10), now);
        assert!(q.has_pending(2) && !q.has_pending(3));
        assert_eq!(q.front(2, now).map(|b| b.sequence), Some(1));
        q.delivered(2, 1, 1);
        assert_eq!(q.front(2, now).map(|b| b.sequence), Some(2));
        q.delivered(2, 1, 2);
        assert!(!q.has_pending(2));
        assert_eq!(q.stats()[&2].delivered, 2);
    }

    #[test]
    fn the_oldest_hints_go_past_the_byte_and_age_bounds() {
        let q = HintQueues::new(HintLimits {
            max_bytes: 25,
            max_age: Duration::from_secs(60),
        });
        let t0 = Instant::now();
        for s in 1..=3 {
            q.push(2, batch(s, 10), t0);
        }
        assert_eq!(q.stats()[&2].queued, 2);
        assert_eq!(q.stats()[&2].dropped, 1);
        assert_eq!(q.front(2, t0).map(|b| b.sequence), Some(2));
        assert!(q.front(2, t0 + Duration::from_secs(61)).is_none());
        assert_eq!(q.stats()[&2].dropped, 3);
    }
}
