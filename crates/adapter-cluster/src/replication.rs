//! [`PeerReplication`]: the replication port over the peer listener's `/cluster/write`.
//! The members are the consensus's membership (every member keeps a copy of every write).

use crate::node::ClusterNode;
use async_trait::async_trait;
use hyperbyte_ports::{ReplicatedBatch, ReplicationError, ReplicationPort};
use std::sync::Arc;

/// Path of replicated writes on the peer listener.
pub(crate) const WRITE_PATH: &str = "/cluster/write";

/// Sends batches to the other members.
#[derive(Debug)]
pub struct PeerReplication {
    node: Arc<ClusterNode>,
}

impl PeerReplication {
    /// Replication to `node`'s fellow members.
    pub fn new(node: Arc<ClusterNode>) -> Self {
        PeerReplication { node }
    }
}

#[async_trait]
impl ReplicationPort for PeerReplication {
    fn local_node(&self) -> u64 {
        self.node.id()
    }

    fn peers(&self) -> Vec<u64> {
        let me = self.node.id();
        self.node
            .members()
            .into_iter()
            .map(|(id, _)| id)
            .filter(|id| *id != me)
            .collect()
    }

    async fn send(&self, peer: u64, batch: &ReplicatedBatch) -> Result<(), ReplicationError> {
        let Some(addr) = self.node.member_address(peer) else {
            return Err(ReplicationError::Refused {
                peer,
                reason: "not a member any more".into(),
                retryable: false,
            });
        };
        let path = format!(
            "{WRITE_PATH}?origin={}&sequence={}",
            batch.origin, batch.sequence
        );
        let answer = self
            .node
            .client()
            .post(
                &addr,
                &path,
                batch.bytes.to_vec(),
                self.node.config().write_timeout,
            )
            .await
            .map_err(|e| ReplicationError::Unreachable {
                peer,
                reason: e.to_string(),
            })?;
        match answer.status {
            204 | 200 => Ok(()),
            status => Err(ReplicationError::Refused {
                peer,
                reason: format!("{status}: {}", String::from_utf8_lossy(&answer.body)),
                // 4xx: the peer's rules refuse the batch (a retry gives the same answer);
                // 5xx: overload, full disk, draining: a retry may succeed.
                retryable: !(400..500).contains(&status),
            }),
        }
    }
}
