//! `[cluster]`: the configuration section and the wiring of cluster mode (the consensus
//! over RocksDB, the cluster metadata port, the peer listener, write replication).

use anyhow::{Context, Result};
use hyperbyte_adapter_cluster::{
    serve_peers, ClusterConfig, ClusterMetadata, ClusterNode, PeerReplication, PeerService,
    StorageSide,
};
use hyperbyte_adapter_rocksdb::{RocksDbConsensusStore, RocksDbHintStore};
use hyperbyte_application::cluster::{AntiEntropy, HintLimits, StorageEffects, WriteReplicator};
use hyperbyte_application::{IngestionService, RunGate};
use hyperbyte_ports::{Clock, HintStorePort, MetadataPort, ReplicationPort};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Longest anti-entropy interval accepted (a day: longer is a typo for milliseconds).
const MAX_ANTI_ENTROPY_INTERVAL_SECS: u64 = 24 * 3600;

/// `[cluster]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ClusterSection {
    /// Cluster mode.
    pub(crate) enabled: bool,
    /// This node's id: unique, at least 1, never reused for another node.
    pub(crate) node_id: u64,
    /// Listen address of the peer listener (consensus, replication, `/cluster/status`).
    pub(crate) bind: String,
    /// Address the other members reach this node at (default: the address `bind` bound,
    /// which must then be reachable from the other members).
    pub(crate) advertise: String,
    /// Start a new cluster with this node alone when it has never been in one.
    pub(crate) bootstrap: bool,
    /// Peer addresses of members to ask for admission when it has never been in one.
    pub(crate) join: Vec<String>,
    /// Leader heartbeat, milliseconds.
    pub(crate) heartbeat_ms: u64,
    /// Election timeout range, milliseconds.
    pub(crate) election_timeout_min_ms: u64,
    /// Upper end of the election timeout range.
    pub(crate) election_timeout_max_ms: u64,
    /// Seconds a metadata change (DDL, a new field) may wait for the consensus.
    pub(crate) meta_timeout_secs: u64,
    /// Milliseconds a write waits for one peer before the peer gets a hint instead.
    pub(crate) write_timeout_ms: u64,
    /// Bytes of hints kept per unreachable peer (oldest dropped beyond).
    pub(crate) hinted_handoff_max_bytes: u64,
    /// Seconds a hint is kept.
    pub(crate) hinted_handoff_max_age_secs: u64,
    /// Seconds between anti-entropy rounds (0: off).
    pub(crate) anti_entropy_interval_secs: u64,
}

impl Default for ClusterSection {
    fn default() -> Self {
        ClusterSection {
            enabled: false,
            node_id: 0,
            bind: "127.0.0.1:8089".into(),
            advertise: String::new(),
            bootstrap: false,
            join: Vec::new(),
            heartbeat_ms: 100,
            election_timeout_min_ms: 400,
            election_timeout_max_ms: 800,
            meta_timeout_secs: 10,
            write_timeout_ms: 5_000,
            hinted_handoff_max_bytes: 1 << 30,
            hinted_handoff_max_age_secs: 7 * 24 * 3600,
            anti_entropy_interval_secs: 30,
        }
    }
}

impl ClusterSection {
    /// Checks the section when cluster mode is on; the error names the key.
    pub(crate) fn validate(&self) -> Result<(), (&'static str, String)> {
        if !self.enabled {
            return Ok(());
        }
        if self.node_id == 0 {
            return Err((
                "cluster.node_id",
                "must be at least 1 and unique in the cluster".into(),
            ));
        }
        if self.bind.parse::<SocketAddr>().is_err() {
            return Err((
                "cluster.bind",
                format!("{:?} is not an address like 10.0.0.1:8089", self.bind),
            ));
        }
        if self.heartbeat_ms == 0 {
            return Err(("cluster.heartbeat_ms", "must be at least 1".into()));
        }
        if self.election_timeout_min_ms <= self.heartbeat_ms {
            return Err((
                "cluster.election_timeout_min_ms",
                "must be greater than cluster.heartbeat_ms".into(),
            ));
        }
        if self.election_timeout_max_ms <= self.election_timeout_min_ms {
            return Err((
                "cluster.election_timeout_max_ms",
                "must be greater than cluster.election_timeout_min_ms".into(),
            ));
        }
        if self.bootstrap && !self.join.is_empty() {
            return Err((
                "cluster.join",
                "must be empty on the node that bootstraps the cluster (cluster.bootstrap = true)"
                    .into(),
            ));
        }
        if self.meta_timeout_secs == 0 {
            return Err(("cluster.meta_timeout_secs", "must be at least 1".into()));
        }
        if self.write_timeout_ms == 0 {
            return Err(("cluster.write_timeout_ms", "must be at least 1".into()));
        }
        if self.anti_entropy_interval_secs > MAX_ANTI_ENTROPY_INTERVAL_SECS {
            return Err((
                "cluster.anti_entropy_interval_secs",
                format!(
                    "must be at most {MAX_ANTI_ENTROPY_INTERVAL_SECS} (a day); 0 turns anti-entropy off"
                ),
            ));
        }
        Ok(())
    }

    /// The node's settings; `bound` is the peer listener's actual address, advertised
    /// when `advertise` is empty.
    fn node_config(&self, bound: SocketAddr) -> ClusterConfig {
        ClusterConfig {
            node_id: self.node_id,
            advertise: if self.advertise.is_empty() {
                bound.to_string()
            } else {
                self.advertise.clone()
            },
            bootstrap: self.bootstrap,
            join: self.join.clone(),
            heartbeat: Duration::from_millis(self.heartbeat_ms),
            election_timeout: (
                Duration::from_millis(self.election_timeout_min_ms),
                Duration::from_millis(self.election_timeout_max_ms),
            ),
            meta_timeout: Duration::from_secs(self.meta_timeout_secs),
            write_timeout: Duration::from_millis(self.write_timeout_ms),
        }
    }
}

/// A running cluster member: what the rest of the server needs of it.
pub(crate) struct Member {
    pub(crate) node: Arc<ClusterNode>,
    /// The metadata port the services use (cluster-wide changes go through consensus).
    pub(crate) meta: Arc<dyn MetadataPort>,
    ingest: Arc<OnceLock<Arc<IngestionService>>>,
    anti_entropy: Arc<OnceLock<Arc<AntiEntropy>>>,
    effects: StorageSide,
    section: ClusterSection,
    stop: tokio::sync::watch::Sender<bool>,
}

/// Starts the consensus (its log in `<data_dir>/raft`), binds the peer listener and
/// bootstraps or joins the cluster.
pub(crate) async fn start(
    section: &ClusterSection,
    data_dir: &Path,
    local: Arc<dyn MetadataPort>,
) -> Result<Member> {
    let raft_dir = data_dir.join("raft");
    let store = RocksDbConsensusStore::open(&raft_dir)
        .with_context(|| format!("opening the consensus log at {}", raft_dir.display()))?;
    let listener = tokio::net::TcpListener::bind(&section.bind)
        .await
        .with_context(|| format!("binding cluster.bind = {}", section.bind))?;
    let addr = listener.local_addr()?;
    println!("hyperbyted cluster listener on {addr}");
    let effects = StorageSide::default();
    let node = ClusterNode::start(
        section.node_config(addr),
        Arc::new(store),
        local.clone(),
        effects.clone(),
    )
    .await
    .context("starting cluster mode")?;
    let ingest = Arc::new(OnceLock::new());
    let anti_entropy = Arc::new(OnceLock::new());
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(serve_peers(
        listener,
        PeerService::new(node.clone(), ingest.clone(), anti_entropy.clone()),
        stop_rx,
    ));
    node.bootstrap_or_join()
        .await
        .context("joining the cluster")?;
    let meta: Arc<dyn MetadataPort> = Arc::new(ClusterMetadata::new(local, node.clone()));
    Ok(Member {
        node,
        meta,
        ingest,
        anti_entropy,
        effects,
        section: section.clone(),
        stop,
    })
}

impl Member {
    /// Creates the write replicator for the ingestion service over the hint queues in
    /// `<data_dir>/hints` and starts its hint delivery loop (call once): hints queued
    /// before a restart are delivered first.
    pub(crate) async fn start_replicator(
        &self,
        data_dir: &Path,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<WriteReplicator>> {
        let port = self.replication_port();
        let hints_dir = data_dir.join("hints");
        let store: Arc<dyn HintStorePort> = Arc::new(
            RocksDbHintStore::open(&hints_dir)
                .with_context(|| format!("opening the hint queues at {}", hints_dir.display()))?,
        );
        let replicator = WriteReplicator::new(
            port,
            store,
            clock,
            HintLimits {
                max_bytes: self.section.hinted_handoff_max_bytes,
                max_age: Duration::from_secs(self.section.hinted_handoff_max_age_secs),
            },
            Duration::from_millis(self.section.write_timeout_ms),
        )
        .await
        .context("opening the hint queues")?;
        self.node.report_hints(replicator.clone());
        tokio::spawn(replicator.clone().run_handoff(self.stop.subscribe()));
        Ok(replicator)
    }

    /// Hands the started services to the consensus and the peer listener, and starts
    /// anti-entropy's schedule (`cluster.anti_entropy_interval_secs`; peers are answered
    /// even when this node's own rounds are off).
    pub(crate) fn services_started(
        &self,
        ingest: Arc<IngestionService>,
        effects: StorageEffects,
        anti_entropy: AntiEntropy,
    ) {
        let _ = self.ingest.set(ingest);
        self.effects.set(effects);
        let anti_entropy = Arc::new(anti_entropy);
        let _ = self.anti_entropy.set(anti_entropy.clone());
        if self.section.anti_entropy_interval_secs > 0 {
            tokio::spawn(anti_entropy.run(
                Duration::from_secs(self.section.anti_entropy_interval_secs),
                self.stop.subscribe(),
            ));
        }
    }

    /// The replication port of this member (anti-entropy's transport too).
    pub(crate) fn replication_port(&self) -> Arc<dyn ReplicationPort> {
        Arc::new(PeerReplication::new(self.node.clone()))
    }

    /// Continuous queries run on the metadata leader only (their results are replicated
    /// like any write).
    pub(crate) fn cq_gate(&self) -> RunGate {
        let node = self.node.clone();
        RunGate(Arc::new(move || node.is_leader()))
    }

    /// Stops the peer listener, the hint delivery and the consensus.
    pub(crate) async fn stop(&self) {
        let _ = self.stop.send(true);
        self.node.shutdown().await;
    }
}
