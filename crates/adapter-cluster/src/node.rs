//! [`ClusterNode`]: this member's consensus handle and what it does with it: start-up
//! (bootstrap a new cluster or join one), linearizable metadata changes (proposed here
//! when this node leads, forwarded to the leader otherwise), membership changes and the
//! status `/cluster/status` shows.

use crate::client::PeerClient;
use crate::log_store::LogStore;
use crate::network::Network;
use crate::state_machine::{StateMachine, StorageSide};
use crate::types::{MetaRequest, MetaResponse, Node, NodeId, Raft};
use hyperbyte_application::cluster::{HintStats, WriteReplicator};
use hyperbyte_domain::{ClusterStatus, MemberStatus, MetaCommand};
use hyperbyte_ports::{ConsensusStorePort, MetaError, MetadataPort};
use openraft::error::{ClientWriteError, RaftError};
use openraft::{ChangeMembers, ServerState, SnapshotPolicy, StoredMembership};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Path of forwarded metadata commands on the leader.
pub(crate) const META_PATH: &str = "/cluster/meta";
/// Path of join requests.
pub(crate) const JOIN_PATH: &str = "/cluster/join";
/// Path of leave requests.
pub(crate) const LEAVE_PATH: &str = "/cluster/leave";
/// Path of drain requests.
pub(crate) const DRAIN_PATH: &str = "/cluster/drain";

/// How this node takes part in a cluster (`[cluster]` of the configuration).
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// This node's id: unique in the cluster, never reused, at least 1.
    pub node_id: u64,
    /// Address the other members reach this node's peer listener at (`host:port`).
    pub advertise: String,
    /// Start a new cluster with this node as its only member when its consensus log is
    /// empty (exactly one node of a new cluster does this).
    pub bootstrap: bool,
    /// Members to ask for admission when this node's log is empty (any member will do;
    /// followers pass the request to the leader).
    pub join: Vec<String>,
    /// Leader heartbeat.
    pub heartbeat: Duration,
    /// Election timeout range (a follower that hears no leader for this long stands).
    pub election_timeout: (Duration, Duration),
    /// How long a metadata change may wait for the consensus before failing.
    pub meta_timeout: Duration,
    /// How long a replicated write may wait for one peer before the peer gets a hint.
    pub write_timeout: Duration,
}

/// A cluster start-up failure.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The consensus settings are inconsistent.
    #[error("cluster: {0}")]
    Config(String),
    /// The consensus could not start.
    #[error("cluster: the metadata consensus could not start: {0}")]
    Start(String),
}

/// The answer of a forwarded metadata command.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ForwardAnswer {
    /// Applied on the leader at this log index.
    Applied(u64),
    /// Refused by the metadata rules.
    Invalid(String),
    /// The receiver is not the leader (the sender asks again once it knows the leader).
    NotLeader,
    /// The consensus failed.
    Failed(String),
}

/// Why a join was not granted.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AdmitError {
    /// For good: the same request will never be admitted (answered with `status`, 4xx).
    #[error("{reason}")]
    Refused {
        /// The HTTP status to answer.
        status: u16,
        /// Why.
        reason: String,
    },
    /// Not now (no leader, no majority): the joiner retries.
    #[error("{0}")]
    Unavailable(String),
}

/// A join request.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct JoinRequest {
    pub(crate) id: NodeId,
    pub(crate) addr: String,
}

/// This member.
pub struct ClusterNode {
    config: ClusterConfig,
    /// The consensus log was empty at start-up: this node has never been in a cluster.
    pristine: bool,
    raft: Raft,
    client: Arc<PeerClient>,
    replicator: parking_lot::Mutex<Option<Arc<WriteReplicator>>>,
}

impl std::fmt::Debug for ClusterNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterNode")
            .field("id", &self.config.node_id)
            .field("advertise", &self.config.advertise)
            .finish_non_exhaustive()
    }
}

impl ClusterNode {
    /// Starts the consensus over `store` (its log) and `local` (this node's metadata
    /// store, the state machine's state). Does not contact anyone yet: see
    /// [`Self::bootstrap_or_join`].
    pub async fn start(
        config: ClusterConfig,
        store: Arc<dyn ConsensusStorePort>,
        local: Arc<dyn MetadataPort>,
        effects: StorageSide,
    ) -> Result<Arc<Self>, ClusterError> {
        if config.node_id == 0 {
            return Err(ClusterError::Config(
                "cluster.node_id must be at least 1".into(),
            ));
        }
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let raft_config = openraft::Config {
            cluster_name: "hyperbyte".into(),
            heartbeat_interval: millis(config.heartbeat),
            election_timeout_min: millis(config.election_timeout.0),
            election_timeout_max: millis(config.election_timeout.1),
            // The log holds metadata commands only (never series or points): it stays
            // small, so it is kept whole and a new member replays it from the start.
            snapshot_policy: SnapshotPolicy::Never,
            ..Default::default()
        }
        .validate()
        .map_err(|e| ClusterError::Config(e.to_string()))?;
        // Read from the store, not from the consensus's metrics: those may not show the
        // log yet right after start-up (a restarted bootstrap node would then try to
        // initialize a cluster again, which the consensus refuses).
        let pristine = store
            .last_entry()
            .map_err(|e| ClusterError::Start(e.to_string()))?
            .is_none();
        let client = Arc::new(PeerClient::default());
        let sm =
            StateMachine::open(local, Arc::clone(&store), effects).map_err(ClusterError::Start)?;
        let raft = Raft::new(
            config.node_id,
            Arc::new(raft_config),
            Network::new(Arc::clone(&client)),
            LogStore::new(store),
            sm,
        )
        .await
        .map_err(|e| ClusterError::Start(e.to_string()))?;
        Ok(Arc::new(ClusterNode {
            config,
            pristine,
            raft,
            client,
            replicator: parking_lot::Mutex::new(None),
        }))
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.config.node_id
    }

    /// The consensus handle (the peer listener forwards RPCs to it).
    pub(crate) fn raft(&self) -> &Raft {
        &self.raft
    }

    /// The shared peer client.
    pub(crate) fn client(&self) -> &Arc<PeerClient> {
        &self.client
    }

    /// The configuration.
    pub(crate) fn config(&self) -> &ClusterConfig {
        &self.config
    }

    /// Shows the replicator's hint counters in the status.
    pub fn report_hints(&self, replicator: Arc<WriteReplicator>) {
        *self.replicator.lock() = Some(replicator);
    }

    /// On a node with an empty log: starts a new cluster (`bootstrap`) or asks the
    /// `join` members for admission, retrying until one admits it. Returns at once on a
    /// node that already belongs to a cluster.
    pub async fn bootstrap_or_join(self: &Arc<Self>) -> Result<(), ClusterError> {
        if !self.pristine {
            return Ok(());
        }
        if self.config.bootstrap {
            let mut members = BTreeMap::new();
            members.insert(self.id(), Node::new(self.config.advertise.clone()));
            return self
                .raft
                .initialize(members)
                .await
                .map_err(|e| ClusterError::Start(e.to_string()));
        }
        if self.config.join.is_empty() {
            return Err(ClusterError::Config(
                "cluster.enabled with an empty consensus log needs cluster.bootstrap = true (first node) or cluster.join (the others)".into(),
            ));
        }
        let me = Arc::clone(self);
        tokio::spawn(async move { me.join_until_admitted().await });
        Ok(())
    }

    async fn join_until_admitted(&self) {
        let req = JoinRequest {
            id: self.id(),
            addr: self.config.advertise.clone(),
        };
        let Ok(body) = serde_json::to_vec(&req) else {
            return;
        };
        loop {
            for addr in &self.config.join {
                let answer = self
                    .client
                    .post(addr, JOIN_PATH, body.clone(), Duration::from_secs(30))
                    .await;
                match answer {
                    Ok(a) if a.status == 200 => {
                        tracing::info!(via = %addr, "joined the cluster");
                        return;
                    }
                    Ok(a) if (400..500).contains(&a.status) => {
                        tracing::error!(via = %addr, status = a.status,
                            answer = %String::from_utf8_lossy(&a.body),
                            "join refused for good (fix the configuration and restart); not retrying");
                        return;
                    }
                    Ok(a) => tracing::warn!(via = %addr, status = a.status,
                        answer = %String::from_utf8_lossy(&a.body), "join refused; retrying"),
                    Err(e) => tracing::warn!(via = %addr, error = %e, "join failed; retrying"),
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Admits a node (on the leader; a follower passes the request on): as a learner
    /// first, caught up, then as a voter.
    pub(crate) async fn admit(&self, req: JoinRequest) -> Result<(), AdmitError> {
        if req.id == 0 {
            return Err(AdmitError::Refused {
                status: 400,
                reason: "node ids start at 1 (cluster.node_id)".into(),
            });
        }
        if let Some(have) = self.member_address(req.id) {
            if have != req.addr {
                return Err(AdmitError::Refused {
                    status: 409,
                    reason: format!(
                        "node id {} belongs to the member at {have}, not {} (ids are unique and never reused; remove that member with /cluster/leave first)",
                        req.id, req.addr
                    ),
                });
            }
        }
        if let Some((leader, addr)) = self.leader_elsewhere() {
            return self.pass_join_to_leader(leader, &addr, &req).await;
        }
        let voters: BTreeSet<NodeId> = self
            .raft
            .metrics()
            .borrow()
            .membership_config
            .membership()
            .voter_ids()
            .collect();
        if voters.contains(&req.id) {
            return Ok(());
        }
        self.raft
            .add_learner(req.id, Node::new(req.addr.clone()), true)
            .await
            .map_err(|e| AdmitError::Unavailable(e.to_string()))?;
        self.raft
            .change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([req.id])), false)
            .await
            .map_err(|e| AdmitError::Unavailable(e.to_string()))?;
        tracing::info!(node = req.id, addr = %req.addr, "admitted a member");
        Ok(())
    }

    /// Passes a join to the leader at `addr`: a refusal there (4xx) stays a refusal.
    async fn pass_join_to_leader(
        &self,
        leader: NodeId,
        addr: &str,
        req: &JoinRequest,
    ) -> Result<(), AdmitError> {
        let body = serde_json::to_vec(req).map_err(|e| AdmitError::Unavailable(e.to_string()))?;
        let a = self
            .client
            .post(addr, JOIN_PATH, body, Duration::from_secs(30))
            .await
            .map_err(|e| AdmitError::Unavailable(e.to_string()))?;
        let reason = || {
            format!(
                "leader {leader} answered {}: {}",
                a.status,
                String::from_utf8_lossy(&a.body)
            )
        };
        match a.status {
            200 => Ok(()),
            s @ 400..=499 => Err(AdmitError::Refused {
                status: s,
                reason: reason(),
            }),
            _ => Err(AdmitError::Unavailable(reason())),
        }
    }

    /// Removes a member (on the leader; a follower passes the request on).
    pub(crate) async fn remove(&self, id: NodeId) -> Result<(), String> {
        if let Some((leader, addr)) = self.leader_elsewhere() {
            return self.pass_to_leader(leader, &addr, LEAVE_PATH, &id).await;
        }
        self.raft
            .change_membership(ChangeMembers::RemoveVoters(BTreeSet::from([id])), false)
            .await
            .map_err(|e| e.to_string())?;
        self.raft
            .change_membership(ChangeMembers::RemoveNodes(BTreeSet::from([id])), false)
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Passes a membership request to the leader at `addr`; its answer becomes ours.
    async fn pass_to_leader<T: Serialize>(
        &self,
        leader: NodeId,
        addr: &str,
        path: &str,
        req: &T,
    ) -> Result<(), String> {
        let body = serde_json::to_vec(req).map_err(|e| e.to_string())?;
        let a = self
            .client
            .post(addr, path, body, Duration::from_secs(30))
            .await
            .map_err(|e| e.to_string())?;
        match a.status {
            200 => Ok(()),
            s => Err(format!(
                "leader {leader} answered {s}: {}",
                String::from_utf8_lossy(&a.body)
            )),
        }
    }

    /// The leader and its address when it is another node.
    fn leader_elsewhere(&self) -> Option<(NodeId, String)> {
        let leader = self.raft.metrics().borrow().current_leader?;
        if leader == self.id() {
            return None;
        }
        Some((leader, self.member_address(leader)?))
    }

    /// The membership as last applied (an `Arc`: the write path asks for it per write,
    /// so the rest of the metrics is not copied).
    fn membership(&self) -> Arc<StoredMembership<NodeId, Node>> {
        Arc::clone(&self.raft.metrics().borrow().membership_config)
    }

    /// Every member with its address (voters and learners), this node included.
    pub fn members(&self) -> Vec<(NodeId, String)> {
        self.membership()
            .membership()
            .nodes()
            .map(|(id, n)| (*id, n.addr.clone()))
            .collect()
    }

    /// The peer address of member `id`.
    pub fn member_address(&self, id: NodeId) -> Option<String> {
        self.membership()
            .membership()
            .get_node(&id)
            .map(|n| n.addr.clone())
    }

    /// Proposes `cmd` to the consensus and returns once it is applied here.
    pub async fn propose(&self, cmd: MetaCommand) -> Result<(), MetaError> {
        let deadline = Instant::now() + self.config.meta_timeout;
        loop {
            match self.propose_once(&cmd).await {
                Ok(ForwardAnswer::Applied(index)) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    return self
                        .raft
                        .wait(Some(left.max(Duration::from_millis(100))))
                        .applied_index_at_least(Some(index), "metadata change applied here")
                        .await
                        .map(|_| ())
                        .map_err(|e| MetaError::Storage(format!("metadata change committed but not yet applied here: {e}")));
                }
                Ok(ForwardAnswer::Invalid(msg)) => return Err(MetaError::Invalid(msg)),
                Ok(ForwardAnswer::NotLeader) | Ok(ForwardAnswer::Failed(_)) | Err(_)
                    if Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok(ForwardAnswer::NotLeader) => {
                    return Err(MetaError::Storage("metadata change failed: the cluster has no leader (is a majority of the members up?)".into()))
                }
                Ok(ForwardAnswer::Failed(e)) | Err(e) => {
                    return Err(MetaError::Storage(format!("metadata change failed: {e}")))
                }
            }
        }
    }

    /// One attempt: here when leading, else at the leader.
    async fn propose_once(&self, cmd: &MetaCommand) -> Result<ForwardAnswer, String> {
        if let Some((_, addr)) = self.leader_elsewhere() {
            let body = serde_json::to_vec(cmd).map_err(|e| e.to_string())?;
            let a = self
                .client
                .post(&addr, META_PATH, body, self.config.meta_timeout)
                .await
                .map_err(|e| e.to_string())?;
            return serde_json::from_slice(&a.body)
                .map_err(|e| format!("leader answered {}: {e}", a.status));
        }
        Ok(self.propose_here(cmd.clone()).await)
    }

    /// Proposes on this node (the leader); a follower answers who leads.
    pub(crate) async fn propose_here(&self, cmd: MetaCommand) -> ForwardAnswer {
        // A 0.9 leader that lost its majority stays leader and never answers: bound it.
        let write = self.raft.client_write(MetaRequest(cmd));
        match tokio::time::timeout(self.config.meta_timeout, write).await {
            Err(_) => ForwardAnswer::Failed("no majority of the members answered in time".into()),
            Ok(Ok(resp)) => match resp.data {
                MetaResponse::Applied => ForwardAnswer::Applied(resp.log_id.index),
                MetaResponse::Invalid(msg) => ForwardAnswer::Invalid(msg),
            },
            Ok(Err(RaftError::APIError(ClientWriteError::ForwardToLeader(_)))) => {
                ForwardAnswer::NotLeader
            }
            Ok(Err(e)) => ForwardAnswer::Failed(e.to_string()),
        }
    }

    /// Drains this node: client writes answer 503 from now on, every write it took is
    /// handed to the other members (sends under way, hints), then it leaves the cluster.
    /// Refuses to leave while a member still misses writes only this node holds.
    pub async fn drain(&self, timeout: Duration) -> Result<(), String> {
        let replicator = self.replicator.lock().clone();
        if let Some(r) = replicator {
            if !r.drain(timeout).await {
                return Err(format!(
                    "drain: writes for some members are still queued after {timeout:?} (are they up?); the node stays a member and keeps refusing writes; retry"
                ));
            }
        }
        self.remove(self.id()).await?;
        tracing::info!(node = self.id(), "drained and left the cluster");
        Ok(())
    }

    /// The index of the last consensus entry this node applied (0: none yet). A
    /// command with a storage side counts as applied once that side ran here.
    pub fn applied_index(&self) -> u64 {
        self.raft
            .metrics()
            .borrow()
            .last_applied
            .map_or(0, |l| l.index)
    }

    /// Waits at most `wait` until this node applied `index`; whether it has.
    pub async fn applied_at_least(&self, index: u64, wait: Duration) -> bool {
        self.applied_index() >= index
            || self
                .raft
                .wait(Some(wait))
                .applied_index_at_least(Some(index), "anti-entropy")
                .await
                .is_ok()
    }

    /// Whether this node leads the metadata consensus now.
    pub fn is_leader(&self) -> bool {
        self.raft.metrics().borrow().state == ServerState::Leader
    }

    /// Whether this node is draining (the replicator refuses client writes).
    pub fn draining(&self) -> bool {
        self.replicator
            .lock()
            .as_ref()
            .is_some_and(|r| r.draining())
    }

    /// What `/cluster/status` shows.
    pub fn status(&self) -> ClusterStatus {
        let m = self.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership();
        let voters: BTreeSet<NodeId> = membership.voter_ids().collect();
        let hints: BTreeMap<u64, HintStats> = self
            .replicator
            .lock()
            .as_ref()
            .map(|r| r.hint_stats())
            .unwrap_or_default();
        let members = membership
            .nodes()
            .map(|(id, n)| MemberStatus {
                id: *id,
                address: n.addr.clone(),
                voter: voters.contains(id),
                reachable: *id == self.id()
                    || self.client.last_contact_ok(&n.addr).unwrap_or(false),
                hinted_batches: hints.get(id).map_or(0, |h| h.queued),
            })
            .collect();
        let role = match m.state {
            ServerState::Leader => "leader",
            ServerState::Follower => "follower",
            ServerState::Candidate => "candidate",
            ServerState::Learner => "learner",
            ServerState::Shutdown => "shutdown",
        };
        ClusterStatus {
            node_id: self.id(),
            role: role.to_string(),
            leader: m.current_leader,
            term: m.current_term,
            last_applied: m.last_applied.map_or(0, |l| l.index),
            members,
            draining: self.draining(),
        }
    }

    /// Stops the consensus.
    pub async fn shutdown(&self) {
        if let Err(e) = self.raft.shutdown().await {
            tracing::warn!(error = %e, "the metadata consensus did not stop cleanly");
        }
    }
}
