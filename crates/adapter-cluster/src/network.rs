//! openraft's network over [`PeerClient`]: each RPC is a JSON POST to the target's peer
//! listener (`/cluster/raft/{append,vote,snapshot}`), answered with the JSON of the
//! target's `Result`.

use crate::client::{PeerClient, PeerError};
use crate::types::{Node, NodeId, TypeConfig};
use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;

/// Paths of the consensus RPCs on the peer listener.
pub(crate) const APPEND_PATH: &str = "/cluster/raft/append";
pub(crate) const VOTE_PATH: &str = "/cluster/raft/vote";
pub(crate) const SNAPSHOT_PATH: &str = "/cluster/raft/snapshot";

/// Builds one connection per target.
#[derive(Debug, Clone)]
pub(crate) struct Network {
    client: Arc<PeerClient>,
}

impl Network {
    /// The network over `client`.
    pub(crate) fn new(client: Arc<PeerClient>) -> Self {
        Network { client }
    }
}

/// The RPCs to one target.
#[derive(Debug)]
pub(crate) struct Connection {
    client: Arc<PeerClient>,
    target: NodeId,
    addr: String,
}

/// A decoding failure of a peer's answer.
#[derive(Debug, thiserror::Error)]
#[error("peer answered {status}: {detail}")]
struct BadAnswer {
    status: u16,
    detail: String,
}

impl Connection {
    async fn call<Req, Resp, E>(
        &self,
        path: &str,
        req: &Req,
        option: &RPCOption,
    ) -> Result<Resp, RPCError<NodeId, Node, E>>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let body = serde_json::to_vec(req).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        let answer = self
            .client
            .post(&self.addr, path, body, option.hard_ttl())
            .await
            .map_err(|e| match e {
                PeerError::Unreachable { .. } => RPCError::Unreachable(Unreachable::new(&e)),
                PeerError::Timeout { .. } => RPCError::Network(NetworkError::new(&e)),
            })?;
        if answer.status != 200 {
            let e = BadAnswer {
                status: answer.status,
                detail: String::from_utf8_lossy(&answer.body).into_owned(),
            };
            return Err(RPCError::Network(NetworkError::new(&e)));
        }
        let result: Result<Resp, E> = serde_json::from_slice(&answer.body)
            .map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        result.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Connection;

    async fn new_client(&mut self, target: NodeId, node: &Node) -> Self::Network {
        Connection {
            client: Arc::clone(&self.client),
            target,
            addr: node.addr.clone(),
        }
    }
}

impl RaftNetwork<TypeConfig> for Connection {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, Node, RaftError<NodeId>>> {
        self.call(APPEND_PATH, &rpc, &option).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, Node, RaftError<NodeId, InstallSnapshotError>>,
    > {
        self.call(SNAPSHOT_PATH, &rpc, &option).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, Node, RaftError<NodeId>>> {
        self.call(VOTE_PATH, &rpc, &option).await
    }
}
