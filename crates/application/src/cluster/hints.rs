//! Hinted handoff: every replicated batch is queued durably for each peer
//! ([`HintStorePort`]) before it is sent, and leaves a peer's queue once that peer made it
//! durable. A batch a peer did not take stays queued and is delivered in queue order once
//! the peer answers again; meanwhile new batches for that peer only queue behind it.
//!
//! Why queue before sending: a write acknowledged with `consistency=any|one` may have
//! reached no other member yet; its queue entries are what carry it there, also across a
//! restart of this node (the WAL is truncated once the points are in storage).
//!
//! Bounded in bytes and in age per peer ([`HintLimits`]): past either bound the oldest
//! queued batches (never one whose send is under way) are dropped and counted;
//! anti-entropy is what repairs a peer that was away for longer than the hints reach.

use hyperbyte_ports::{Clock, HintEntry, HintStoreError, HintStorePort, ReplicatedBatch};
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Entries read from the store per step of a delivery or a trim.
const READ_AHEAD: usize = 64;

/// Bounds of each peer's hint queue.
#[derive(Debug, Clone, Copy)]
pub struct HintLimits {
    /// Bytes of encoded batches kept per peer.
    pub max_bytes: u64,
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
    /// Batches waiting (queued and not being sent).
    pub queued: u64,
    /// Bytes waiting.
    pub bytes: u64,
    /// Batches delivered from the queue so far (by this process).
    pub delivered: u64,
    /// Batches dropped by the bounds so far (by this process).
    pub dropped: u64,
}

#[derive(Debug, Default)]
struct Peer {
    /// Queued batches whose direct send is under way (id → bytes).
    in_flight: BTreeMap<u64, u64>,
    /// A send failed (or queued batches were found at start-up): new batches queue
    /// behind the older ones instead of being sent at once.
    behind: bool,
    delivered: u64,
    dropped: u64,
}

/// How one delivery pass over a peer's queue ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pass {
    /// The queue is empty.
    Empty,
    /// The peer did not take a batch, or the oldest one is being sent directly.
    Stopped,
}

/// The durable hint queues of every peer.
#[derive(Debug)]
pub(crate) struct HintQueues {
    store: Arc<dyn HintStorePort>,
    clock: Arc<dyn Clock>,
    limits: HintLimits,
    next_id: AtomicU64,
    peers: Mutex<BTreeMap<u64, Peer>>,
}

impl HintQueues {
    /// Opens the queues over `store`: ids continue after its last one, and every peer
    /// with queued batches is behind (they go first).
    pub(crate) async fn open(
        store: Arc<dyn HintStorePort>,
        clock: Arc<dyn Clock>,
        limits: HintLimits,
    ) -> Result<Self, HintStoreError> {
        let last = store.last_id().await?;
        let peers = store
            .sizes()
            .into_keys()
            .map(|p| {
                (
                    p,
                    Peer {
                        behind: true,
                        ..Peer::default()
                    },
                )
            })
            .collect();
        Ok(HintQueues {
            store,
            clock,
            limits,
            next_id: AtomicU64::new(last.saturating_add(1)),
            peers: Mutex::new(peers),
        })
    }

    /// Queues `batch` durably for every one of `peers` and returns its id and the peers
    /// to send it to at once (the others are behind: their queue delivers it in order).
    pub(crate) async fn admit(
        &self,
        peers: &[u64],
        batch: &ReplicatedBatch,
    ) -> Result<(u64, Vec<u64>), HintStoreError> {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let len = batch.bytes.len() as u64;
        let direct: Vec<u64> = {
            let mut state = self.peers.lock();
            peers
                .iter()
                .copied()
                .filter(|p| {
                    let peer = state.entry(*p).or_default();
                    if peer.behind {
                        return false;
                    }
                    peer.in_flight.insert(id, len);
                    true
                })
                .collect()
        };
        let now = self.clock.now_nanos();
        if let Err(e) = self.store.append(peers, id, now, batch).await {
            let mut state = self.peers.lock();
            for p in &direct {
                if let Some(peer) = state.get_mut(p) {
                    peer.in_flight.remove(&id);
                }
            }
            return Err(e);
        }
        for p in peers.iter().filter(|p| !direct.contains(p)) {
            self.trim(*p).await;
        }
        Ok((id, direct))
    }

    /// The direct send of batch `id` to `peer` ended: delivered, it leaves the queue;
    /// not delivered, the peer is behind and the batch waits in its queue.
    pub(crate) async fn sent(&self, peer: u64, id: u64, delivered: bool) {
        if delivered {
            if let Err(e) = self.store.remove(peer, &[id]).await {
                tracing::warn!(peer, id, error = %e, "a delivered hint stays queued (sent again later)");
            }
        }
        {
            let mut state = self.peers.lock();
            let p = state.entry(peer).or_default();
            p.in_flight.remove(&id);
            if !delivered {
                p.behind = true;
            }
        }
        if !delivered {
            self.trim(peer).await;
        }
    }

    /// Whether `entry` is past the age bound.
    fn expired(&self, entry: &HintEntry) -> bool {
        let age = self.clock.now_nanos().saturating_sub(entry.queued_at);
        let max = i64::try_from(self.limits.max_age.as_nanos()).unwrap_or(i64::MAX);
        age > max
    }

    /// Bytes waiting for `peer` (queued, not being sent).
    fn waiting_bytes(&self, peer: u64) -> u64 {
        let stored = self.store.sizes().get(&peer).map_or(0, |s| s.bytes);
        let sending: u64 = self
            .peers
            .lock()
            .get(&peer)
            .map_or(0, |p| p.in_flight.values().sum());
        stored.saturating_sub(sending)
    }

    /// Drops `peer`'s oldest waiting batches past the byte bound.
    pub(crate) async fn trim(&self, peer: u64) {
        let mut from = 0;
        while self.waiting_bytes(peer) > self.limits.max_bytes {
            let entries = match self.store.oldest(peer, from, READ_AHEAD).await {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(peer, error = %e, "reading hints to trim them failed");
                    return;
                }
            };
            let Some(last) = entries.last().map(|e| e.id) else {
                return;
            };
            from = last.saturating_add(1);
            for e in entries {
                if self.waiting_bytes(peer) <= self.limits.max_bytes {
                    return;
                }
                if self.is_in_flight(peer, e.id) {
                    continue;
                }
                self.drop_entry(peer, e.id).await;
            }
        }
    }

    fn is_in_flight(&self, peer: u64, id: u64) -> bool {
        self.peers
            .lock()
            .get(&peer)
            .is_some_and(|p| p.in_flight.contains_key(&id))
    }

    async fn drop_entry(&self, peer: u64, id: u64) {
        match self.store.remove(peer, &[id]).await {
            Ok(()) => {
                let mut state = self.peers.lock();
                let p = state.entry(peer).or_default();
                p.dropped = p.dropped.saturating_add(1);
                tracing::warn!(
                    peer,
                    id,
                    "a hint dropped by the bounds (anti-entropy repairs it)"
                );
            }
            Err(e) => tracing::warn!(peer, id, error = %e, "dropping a hint failed"),
        }
    }

    /// Delivers `peer`'s queue in order through `deliver` until a batch is not taken, the
    /// oldest batch is being sent directly, or the queue is empty (the peer is then no
    /// longer behind). Expired batches are dropped on the way.
    pub(crate) async fn deliver<F, Fut>(&self, peer: u64, deliver: F) -> Pass
    where
        F: Fn(ReplicatedBatch) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        self.trim(peer).await;
        loop {
            let entries = match self.store.oldest(peer, 0, READ_AHEAD).await {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(peer, error = %e, "reading hints failed");
                    return Pass::Stopped;
                }
            };
            if entries.is_empty() {
                let mut state = self.peers.lock();
                let p = state.entry(peer).or_default();
                if p.in_flight.is_empty() {
                    p.behind = false;
                }
                return Pass::Empty;
            }
            for e in entries {
                if self.is_in_flight(peer, e.id) {
                    return Pass::Stopped;
                }
                if self.expired(&e) {
                    self.drop_entry(peer, e.id).await;
                    continue;
                }
                if !deliver(e.batch).await {
                    self.peers.lock().entry(peer).or_default().behind = true;
                    return Pass::Stopped;
                }
                if let Err(err) = self.store.remove(peer, &[e.id]).await {
                    tracing::warn!(peer, id = e.id, error = %err, "a delivered hint stays queued");
                    return Pass::Stopped;
                }
                let mut state = self.peers.lock();
                let p = state.entry(peer).or_default();
                p.delivered = p.delivered.saturating_add(1);
            }
        }
    }

    /// Peers with batches queued (waiting or being sent).
    pub(crate) fn pending_peers(&self) -> Vec<u64> {
        self.store.sizes().into_keys().collect()
    }

    /// Whether any batch is queued or being sent.
    pub(crate) fn is_empty(&self) -> bool {
        self.store.sizes().is_empty() && self.peers.lock().values().all(|p| p.in_flight.is_empty())
    }

    /// Forgets the hints of a peer that left the cluster.
    pub(crate) async fn forget(&self, peer: u64) {
        if let Err(e) = self.store.forget(peer).await {
            tracing::warn!(peer, error = %e, "forgetting the hints of a departed member failed");
            return;
        }
        self.peers.lock().remove(&peer);
    }

    /// Every peer's counters (peers with a queue or a count).
    pub(crate) fn stats(&self) -> BTreeMap<u64, HintStats> {
        let sizes = self.store.sizes();
        let state = self.peers.lock();
        let ids: BTreeSet<u64> = sizes.keys().chain(state.keys()).copied().collect();
        ids.into_iter()
            .map(|id| {
                let size = sizes.get(&id).copied().unwrap_or_default();
                let p = state.get(&id);
                let (sending, sending_bytes) = p.map_or((0, 0), |p| {
                    (p.in_flight.len() as u64, p.in_flight.values().sum::<u64>())
                });
                (
                    id,
                    HintStats {
                        queued: size.batches.saturating_sub(sending),
                        bytes: size.bytes.saturating_sub(sending_bytes),
                        delivered: p.map_or(0, |p| p.delivered),
                        dropped: p.map_or(0, |p| p.dropped),
                    },
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyperbyte_testkit::{ManualClock, MemoryHintStore};

    fn batch(seq: u64, len: usize) -> ReplicatedBatch {
        ReplicatedBatch {
            origin: 1,
            sequence: seq,
            bytes: Arc::from(vec![0u8; len]),
        }
    }

    async fn queues(
        store: &Arc<MemoryHintStore>,
        clock: &Arc<ManualClock>,
        limits: HintLimits,
    ) -> HintQueues {
        let store: Arc<dyn HintStorePort> = store.clone();
        let clock: Arc<dyn Clock> = clock.clone();
        HintQueues::open(store, clock, limits).await.unwrap()
    }

    /// Admits a batch for peer 2 and fails its direct send.
    async fn missed(q: &HintQueues, seq: u64, len: usize) {
        let (id, direct) = q.admit(&[2], &batch(seq, len)).await.unwrap();
        for p in direct {
            q.sent(p, id, false).await;
        }
    }

    async fn delivered_in_order(q: &HintQueues, peer: u64) -> (Pass, Vec<u64>) {
        let got = Mutex::new(Vec::new());
        let pass = q
            .deliver(peer, |b| {
                got.lock().push(b.sequence);
                async { true }
            })
            .await;
        (pass, got.into_inner())
    }

    #[tokio::test]
    async fn a_delivered_batch_leaves_the_queue_and_a_missed_one_waits_in_order() {
        let store = Arc::new(MemoryHintStore::default());
        let clock = Arc::new(ManualClock::at(0));
        let q = queues(&store, &clock, HintLimits::default()).await;
        let (id, direct) = q.admit(&[2, 3], &batch(1, 10)).await.unwrap();
        assert_eq!(direct, vec![2, 3]);
        q.sent(2, id, true).await;
        q.sent(3, id, false).await;
        // Peer 3 is behind: the next batches queue without a direct send.
        let (_, direct) = q.admit(&[2, 3], &batch(2, 10)).await.unwrap();
        assert_eq!(direct, vec![2]);
        assert_eq!(q.stats()[&3].queued, 2);
        let (pass, got) = delivered_in_order(&q, 3).await;
        assert_eq!((pass, got), (Pass::Empty, vec![1, 2]));
        assert_eq!(q.stats()[&3].delivered, 2);
        // Caught up: sent directly again.
        let (_, direct) = q.admit(&[3], &batch(3, 10)).await.unwrap();
        assert_eq!(direct, vec![3]);
    }

    #[tokio::test]
    async fn hints_survive_a_restart_of_the_holder_and_come_first() {
        let store = Arc::new(MemoryHintStore::default());
        let clock = Arc::new(ManualClock::at(0));
        let q = queues(&store, &clock, HintLimits::default()).await;
        for s in 1..=3 {
            missed(&q, s, 10).await;
        }
        drop(q);
        // A new process over the same store: peer 2 is behind from the start.
        let q = queues(&store, &clock, HintLimits::default()).await;
        let (id, direct) = q.admit(&[2], &batch(4, 10)).await.unwrap();
        assert!(direct.is_empty());
        assert!(id > 3, "ids are not reused");
        let (pass, got) = delivered_in_order(&q, 2).await;
        assert_eq!((pass, got), (Pass::Empty, vec![1, 2, 3, 4]));
        assert!(q.is_empty());
    }

    #[tokio::test]
    async fn a_peer_that_does_not_take_a_batch_stops_the_pass() {
        let store = Arc::new(MemoryHintStore::default());
        let clock = Arc::new(ManualClock::at(0));
        let q = queues(&store, &clock, HintLimits::default()).await;
        for s in 1..=3 {
            missed(&q, s, 10).await;
        }
        let tried = Mutex::new(0);
        let pass = q
            .deliver(2, |_| {
                *tried.lock() += 1;
                async { false }
            })
            .await;
        assert_eq!((pass, *tried.lock()), (Pass::Stopped, 1));
        assert_eq!(q.stats()[&2].queued, 3);
    }

    #[tokio::test]
    async fn the_oldest_hints_go_past_the_byte_and_age_bounds() {
        let store = Arc::new(MemoryHintStore::default());
        let clock = Arc::new(ManualClock::at(0));
        let limits = HintLimits {
            max_bytes: 25,
            max_age: Duration::from_secs(60),
        };
        let q = queues(&store, &clock, limits).await;
        for s in 1..=3 {
            missed(&q, s, 10).await;
        }
        assert_eq!(q.stats()[&2].queued, 2);
        assert_eq!(q.stats()[&2].dropped, 1);
        clock.advance(61_000_000_000);
        let (pass, got) = delivered_in_order(&q, 2).await;
        assert_eq!((pass, got), (Pass::Empty, vec![]));
        assert_eq!(q.stats()[&2].dropped, 3);
    }

    #[tokio::test]
    async fn a_zero_byte_bound_keeps_nothing_a_peer_missed() {
        let store = Arc::new(MemoryHintStore::default());
        let clock = Arc::new(ManualClock::at(0));
        let limits = HintLimits {
            max_bytes: 0,
            max_age: Duration::from_secs(60),
        };
        let q = queues(&store, &clock, limits).await;
        // A direct send under way is not dropped by the bound.
        let (id, direct) = q.admit(&[2], &batch(1, 10)).await.unwrap();
        assert_eq!(direct, vec![2]);
        q.trim(2).await;
        assert!(!q.is_empty());
        q.sent(2, id, false).await;
        assert!(q.is_empty());
        assert_eq!(q.stats()[&2].dropped, 1);
    }

    #[tokio::test]
    async fn a_batch_that_cannot_be_queued_is_refused() {
        let store = Arc::new(MemoryHintStore::default());
        let clock = Arc::new(ManualClock::at(0));
        let q = queues(&store, &clock, HintLimits::default()).await;
        store.fail_appends.store(true, Ordering::SeqCst);
        assert!(q.admit(&[2], &batch(1, 10)).await.is_err());
        assert!(q.is_empty(), "nothing is left in flight");
    }
}
