//! [`PeerReplication`]: the replication port over the peer listener's `/cluster/write`.
//! The members are the consensus's membership (every member keeps a copy of every write).

use crate::node::ClusterNode;
use async_trait::async_trait;
use hyperbyte_ports::{RangeDigest, ReplicatedBatch, ReplicationError, ReplicationPort, TableRef};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// Path of replicated writes on the peer listener.
pub(crate) const WRITE_PATH: &str = "/cluster/write";
/// Path of anti-entropy digests (body: a [`RangeRequest`] without bounds).
pub(crate) const DIGESTS_PATH: &str = "/cluster/digests";
/// Path of anti-entropy points (body: a [`RangeRequest`]; answer: line protocol).
pub(crate) const POINTS_PATH: &str = "/cluster/points";
/// How long an anti-entropy call may take.
const ANTI_ENTROPY_TIMEOUT: Duration = Duration::from_secs(60);

/// An anti-entropy request: a table, and for points a time range (inclusive).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RangeRequest {
    pub(crate) database: String,
    pub(crate) retention_policy: String,
    pub(crate) measurement: String,
    #[serde(default)]
    pub(crate) start: i64,
    #[serde(default)]
    pub(crate) end: i64,
    /// The asker's applied consensus index: a peer that applied less answers `503`
    /// (see [`ReplicationPort::digests`]). Absent (0) from older members.
    #[serde(default)]
    pub(crate) applied: u64,
}

impl RangeRequest {
    pub(crate) fn table(&self) -> TableRef {
        TableRef {
            database: self.database.clone(),
            retention_policy: self.retention_policy.clone(),
            measurement: self.measurement.clone(),
        }
    }
}

/// One digest on the wire: `[start, end, points, hash]`.
pub(crate) type WireDigest = (i64, i64, i64, i64);

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

    async fn digests(
        &self,
        peer: u64,
        table: &TableRef,
    ) -> Result<Vec<RangeDigest>, ReplicationError> {
        let body = self
            .anti_entropy_call(peer, DIGESTS_PATH, table, 0, 0)
            .await?;
        let wire: Vec<WireDigest> =
            serde_json::from_slice(&body).map_err(|e| ReplicationError::Refused {
                peer,
                reason: format!("unreadable digests: {e}"),
                retryable: true,
            })?;
        Ok(wire
            .into_iter()
            .map(|(start, end, points, hash)| RangeDigest {
                start,
                end,
                points,
                hash,
            })
            .collect())
    }

    async fn points(
        &self,
        peer: u64,
        table: &TableRef,
        start: i64,
        end: i64,
    ) -> Result<Vec<u8>, ReplicationError> {
        self.anti_entropy_call(peer, POINTS_PATH, table, start, end)
            .await
    }
}

impl PeerReplication {
    async fn anti_entropy_call(
        &self,
        peer: u64,
        path: &str,
        table: &TableRef,
        start: i64,
        end: i64,
    ) -> Result<Vec<u8>, ReplicationError> {
        let Some(addr) = self.node.member_address(peer) else {
            return Err(ReplicationError::Refused {
                peer,
                reason: "not a member any more".into(),
                retryable: false,
            });
        };
        let req = RangeRequest {
            database: table.database.clone(),
            retention_policy: table.retention_policy.clone(),
            measurement: table.measurement.clone(),
            start,
            end,
            applied: self.node.applied_index(),
        };
        let body = serde_json::to_vec(&req).map_err(|e| ReplicationError::Refused {
            peer,
            reason: e.to_string(),
            retryable: false,
        })?;
        let answer = self
            .node
            .client()
            .post(&addr, path, body, ANTI_ENTROPY_TIMEOUT)
            .await
            .map_err(|e| ReplicationError::Unreachable {
                peer,
                reason: e.to_string(),
            })?;
        match answer.status {
            200 => Ok(answer.body.to_vec()),
            status => Err(ReplicationError::Refused {
                peer,
                reason: format!("{status}: {}", String::from_utf8_lossy(&answer.body)),
                retryable: true,
            }),
        }
    }
}
