//! [`WriteReplicator`]: the consistency levels and the hint delivery loop.

use super::hints::{HintLimits, HintQueues, HintStats, Pass};
use hyperbyte_domain::Consistency;
use hyperbyte_ports::{
    Clock, HintStoreError, HintStorePort, ReplicatedBatch, ReplicationError, ReplicationPort,
};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch, Notify};

/// A write stored locally that did not reach as many replicas as its consistency level
/// asks; the replicas that missed it get it by hinted handoff.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("write failed: consistency {} not met ({acked} of {required} replicas acknowledged; the others get the write by hinted handoff)", consistency.as_str())]
pub struct ReplicationShortfall {
    /// The level asked for.
    pub consistency: Consistency,
    /// Replicas that made the write durable (the local one included).
    pub acked: usize,
    /// Replicas the level needs.
    pub required: usize,
}

/// Why a write stored locally was not acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum ReplicateError {
    /// Too few replicas took it in time.
    #[error(transparent)]
    Shortfall(#[from] ReplicationShortfall),
    /// It could not be queued for the other members (nothing was sent): it is on this
    /// node only until anti-entropy copies it; a retry rewrites the same points.
    #[error("write failed: stored on this node but not queued for the other members: {0}")]
    Hints(#[from] HintStoreError),
}

/// Sends durable writes to the other members and answers when the level is met.
#[derive(Debug)]
pub struct WriteReplicator {
    port: Arc<dyn ReplicationPort>,
    hints: HintQueues,
    send_timeout: Duration,
    wake: Notify,
    /// Sends under way (a drain waits for them: a failed one becomes a hint).
    in_flight: AtomicUsize,
    /// Draining: client writes are refused, hints are handed off before leaving.
    draining: AtomicBool,
    /// Anti-entropy's counters, reported with the hints'.
    anti_entropy: Arc<super::AntiEntropyCounters>,
}

impl WriteReplicator {
    /// Creates the replicator over the hint queues in `store` (hints queued before a
    /// restart are delivered first); a send that takes longer than `send_timeout` counts
    /// as failed (its batch waits in the peer's queue). `clock` dates the hints for the
    /// age bound.
    pub async fn new(
        port: Arc<dyn ReplicationPort>,
        store: Arc<dyn HintStorePort>,
        clock: Arc<dyn Clock>,
        limits: HintLimits,
        send_timeout: Duration,
    ) -> Result<Arc<Self>, HintStoreError> {
        Ok(Arc::new(WriteReplicator {
            port,
            hints: HintQueues::open(store, clock, limits).await?,
            send_timeout,
            wake: Notify::new(),
            in_flight: AtomicUsize::new(0),
            draining: AtomicBool::new(false),
            anti_entropy: Arc::default(),
        }))
    }

    /// This node's id.
    pub fn local_node(&self) -> u64 {
        self.port.local_node()
    }

    /// Replicates a batch already durable locally. The batch is first queued durably
    /// for every peer (so it reaches them even if this node restarts), then sent to the
    /// peers that are not behind on their queue. Returns once `consistency` is met;
    /// sends go on in the background, and a peer that does not take the batch gets it
    /// later from its queue, in order.
    pub async fn replicate(
        self: &Arc<Self>,
        batch: ReplicatedBatch,
        consistency: Consistency,
    ) -> Result<(), ReplicateError> {
        let peers = self.port.peers();
        if peers.is_empty() {
            return Ok(());
        }
        let required = consistency.required(peers.len() + 1);
        let required_remote = required.saturating_sub(1);
        let (id, direct) = self.hints.admit(&peers, &batch).await?;
        if direct.len() < peers.len() {
            self.wake.notify_one();
        }
        let (tx, mut rx) = mpsc::channel(peers.len());
        for peer in direct {
            let me = Arc::clone(self);
            let batch = batch.clone();
            let tx = tx.clone();
            self.in_flight.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let ok = me.deliver(peer, &batch).await;
                me.hints.sent(peer, id, ok).await;
                if !ok {
                    me.wake.notify_one();
                }
                me.in_flight.fetch_sub(1, Ordering::SeqCst);
                let _ = tx.send(ok).await;
            });
        }
        drop(tx);
        let mut acked = 0;
        while acked < required_remote {
            match rx.recv().await {
                Some(true) => acked += 1,
                Some(false) => {}
                None => break,
            }
        }
        if acked >= required_remote {
            Ok(())
        } else {
            Err(ReplicationShortfall {
                consistency,
                acked: acked + 1,
                required,
            }
            .into())
        }
    }

    /// One send under the timeout; `true` once the peer made the batch durable. A batch
    /// the peer's rules refuse for good counts as delivered (a retry cannot change the
    /// answer) and is logged.
    async fn deliver(&self, peer: u64, batch: &ReplicatedBatch) -> bool {
        match tokio::time::timeout(self.send_timeout, self.port.send(peer, batch)).await {
            Ok(Ok(())) => true,
            Ok(Err(ReplicationError::Refused {
                retryable: false,
                reason,
                ..
            })) => {
                tracing::error!(peer, origin = batch.origin, sequence = batch.sequence, %reason,
                    "a peer refused a replicated batch for good; anti-entropy must repair it");
                true
            }
            Ok(Err(e)) => {
                tracing::debug!(peer, error = %e, "replication to a peer failed; queued as a hint");
                false
            }
            Err(_) => {
                tracing::debug!(peer, "replication to a peer timed out; queued as a hint");
                false
            }
        }
    }

    /// Delivers hints until `shutdown` turns true: every second (sooner when a new hint
    /// is queued), each peer's queue is sent in order until a send fails.
    pub async fn run_handoff(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        loop {
            self.handoff_round().await;
            tokio::select! {
                _ = shutdown.changed() => {
                    if *shutdown.borrow() {
                        return;
                    }
                }
                _ = self.wake.notified() => {
                    // A new hint: give the peer a moment before trying again.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    /// One pass over every peer with hints.
    pub async fn handoff_round(&self) {
        let members = self.port.peers();
        for peer in self.hints.pending_peers() {
            // An empty membership is a node still starting: keep every queue.
            if !members.is_empty() && !members.contains(&peer) {
                self.hints.forget(peer).await;
                continue;
            }
            let span = tracing::debug_span!("hinted_handoff", peer);
            let pass = tracing::Instrument::instrument(
                self.hints.deliver(
                    peer,
                    |batch| async move { self.deliver(peer, &batch).await },
                ),
                span,
            )
            .await;
            if pass == Pass::Stopped {
                tracing::debug!(
                    peer,
                    "hinted handoff paused: the peer does not take batches"
                );
            }
        }
    }

    /// The counters anti-entropy keeps (shared with [`super::AntiEntropy`]).
    pub fn anti_entropy_counters(&self) -> &Arc<super::AntiEntropyCounters> {
        &self.anti_entropy
    }

    /// Hint counters per peer.
    pub fn hint_stats(&self) -> BTreeMap<u64, HintStats> {
        self.hints.stats()
    }

    /// Whether this node is draining (client writes answer 503 so clients go elsewhere).
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Starts a drain and hands every write this node took to the other members: waits
    /// until no send is under way and every hint is delivered, or `timeout` passes.
    /// Returns whether everything was handed off (the node may then leave the cluster
    /// without taking an acknowledged point with it).
    pub async fn drain(&self, timeout: Duration) -> bool {
        self.draining.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + timeout;
        loop {
            self.handoff_round().await;
            let idle = self.in_flight.load(Ordering::SeqCst) == 0;
            if idle && self.hints.is_empty() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use hyperbyte_testkit::MemoryHintStore;
    use parking_lot::Mutex;
    use std::collections::BTreeSet;

    /// Peers 2 and 3; a peer in `down` fails every send; delivered batches are recorded.
    #[derive(Debug, Default)]
    struct FakePeers {
        down: Mutex<BTreeSet<u64>>,
        got: Mutex<Vec<(u64, u64)>>,
    }

    impl FakePeers {
        /// The sequences `peer` received, in order.
        fn sent_to(&self, peer: u64) -> Vec<u64> {
            self.got
                .lock()
                .iter()
                .filter(|(p, _)| *p == peer)
                .map(|(_, s)| *s)
                .collect()
        }
    }

    #[async_trait]
    impl ReplicationPort for FakePeers {
        fn local_node(&self) -> u64 {
            1
        }
        fn peers(&self) -> Vec<u64> {
            vec![2, 3]
        }
        async fn send(&self, peer: u64, b: &ReplicatedBatch) -> Result<(), ReplicationError> {
            if self.down.lock().contains(&peer) {
                return Err(ReplicationError::Unreachable {
                    peer,
                    reason: "down".into(),
                });
            }
            self.got.lock().push((peer, b.sequence));
            Ok(())
        }
    }

    fn batch(seq: u64) -> ReplicatedBatch {
        ReplicatedBatch {
            origin: 1,
            sequence: seq,
            bytes: Arc::from(vec![1u8; 8]),
        }
    }

    async fn replicator_over(
        peers: &Arc<FakePeers>,
        store: &Arc<MemoryHintStore>,
    ) -> Arc<WriteReplicator> {
        let port: Arc<dyn ReplicationPort> = peers.clone();
        let store: Arc<dyn HintStorePort> = store.clone();
        let clock: Arc<dyn Clock> = Arc::new(hyperbyte_ports::SystemClock);
        WriteReplicator::new(
            port,
            store,
            clock,
            HintLimits::default(),
            Duration::from_secs(1),
        )
        .await
        .unwrap()
    }

    async fn replicator(peers: &Arc<FakePeers>) -> Arc<WriteReplicator> {
        replicator_over(peers, &Arc::new(MemoryHintStore::default())).await
    }

    #[tokio::test]
    async fn quorum_is_met_with_one_peer_down_and_all_is_not() {
        let peers = Arc::new(FakePeers::default());
        peers.down.lock().insert(3);
        let r = replicator(&peers).await;
        assert!(r.replicate(batch(1), Consistency::Quorum).await.is_ok());
        let err = r.replicate(batch(2), Consistency::All).await.unwrap_err();
        let ReplicateError::Shortfall(short) = &err else {
            panic!("{err}")
        };
        assert_eq!((short.acked, short.required), (2, 3));
        assert!(err.to_string().contains("consistency all not met"));
    }

    #[tokio::test]
    async fn a_peer_that_comes_back_gets_its_hints_in_order() {
        let peers = Arc::new(FakePeers::default());
        peers.down.lock().insert(3);
        let r = replicator(&peers).await;
        for s in 1..=3 {
            r.replicate(batch(s), Consistency::Quorum).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(r.hint_stats()[&3].queued, 3);
        peers.down.lock().clear();
        r.handoff_round().await;
        let to_3 = peers.sent_to(3);
        assert_eq!(to_3, vec![1, 2, 3]);
        assert_eq!(r.hint_stats()[&3].queued, 0);
        assert_eq!(r.hint_stats()[&3].delivered, 3);
    }

    #[tokio::test]
    async fn a_drain_ends_once_every_hint_is_delivered() {
        let peers = Arc::new(FakePeers::default());
        peers.down.lock().insert(3);
        let r = replicator(&peers).await;
        r.replicate(batch(1), Consistency::Quorum).await.unwrap();
        assert!(
            !r.drain(Duration::from_millis(300)).await,
            "a peer still misses a batch"
        );
        assert!(r.draining());
        peers.down.lock().clear();
        assert!(r.drain(Duration::from_secs(5)).await);
        assert_eq!(r.hint_stats()[&3].delivered, 1);
    }

    #[tokio::test]
    async fn one_and_any_answer_without_waiting_for_peers() {
        let peers = Arc::new(FakePeers::default());
        peers.down.lock().extend([2, 3]);
        let r = replicator(&peers).await;
        assert!(r.replicate(batch(1), Consistency::One).await.is_ok());
        assert!(r.replicate(batch(2), Consistency::Any).await.is_ok());
        // Acknowledged while no peer has it: it waits in both queues, durably.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(r.hint_stats()[&2].queued, 2);
        assert_eq!(r.hint_stats()[&3].queued, 2);
    }

    #[tokio::test]
    async fn hints_held_before_a_restart_reach_the_peer_after_it() {
        let peers = Arc::new(FakePeers::default());
        peers.down.lock().insert(3);
        let store = Arc::new(MemoryHintStore::default());
        let r = replicator_over(&peers, &store).await;
        for s in 1..=3 {
            r.replicate(batch(s), Consistency::Any).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(r);
        // The holder restarts (a new replicator over the same store), then peer 3 is back.
        let r = replicator_over(&peers, &store).await;
        peers.down.lock().clear();
        r.replicate(batch(4), Consistency::Any).await.unwrap();
        r.handoff_round().await;
        let to_3 = peers.sent_to(3);
        assert_eq!(to_3, vec![1, 2, 3, 4]);
        assert!(r.drain(Duration::from_secs(1)).await);
    }

    #[tokio::test]
    async fn a_write_that_cannot_be_queued_is_not_acknowledged() {
        let peers = Arc::new(FakePeers::default());
        let store = Arc::new(MemoryHintStore::default());
        let r = replicator_over(&peers, &store).await;
        store
            .fail_appends
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let err = r.replicate(batch(1), Consistency::Any).await.unwrap_err();
        assert!(matches!(err, ReplicateError::Hints(_)), "{err}");
    }
}
