//! The consensus's type configuration: what a log entry carries (a metadata command) and
//! what applying it answers.

use hyperbyte_domain::MetaCommand;
use serde::{Deserialize, Serialize};
use std::io::Cursor;

/// Node ids are the operator's `cluster.node_id`.
pub(crate) type NodeId = u64;

/// A member's address as the consensus knows it (its peer listener, `host:port`).
pub(crate) type Node = openraft::BasicNode;

/// One metadata command ordered by the consensus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct MetaRequest(pub MetaCommand);

/// What applying a command answered on the state machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub(crate) enum MetaResponse {
    /// Applied (or a no-op).
    #[default]
    Applied,
    /// The metadata rules refused it (InfluxDB's message); nothing changed anywhere.
    Invalid(String),
}

openraft::declare_raft_types!(
    /// The metadata consensus of a HyperbyteDB cluster.
    pub(crate) TypeConfig:
        D = MetaRequest,
        R = MetaResponse,
        NodeId = NodeId,
        Node = Node,
        SnapshotData = Cursor<Vec<u8>>,
);

/// A log entry.
pub(crate) type Entry = openraft::Entry<TypeConfig>;
/// The consensus handle.
pub(crate) type Raft = openraft::Raft<TypeConfig>;
/// A storage error as openraft wants it.
pub(crate) type StorageError = openraft::StorageError<NodeId>;
/// A log id.
pub(crate) type LogId = openraft::LogId<NodeId>;

/// Version byte in front of every value this adapter stores (entries and state).
pub(crate) const FORMAT: u8 = 1;

/// `value` as stored: the format byte, then JSON.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = vec![FORMAT];
    serde_json::to_writer(&mut out, value)?;
    Ok(out)
}

/// A stored value back.
pub(crate) fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, String> {
    match bytes.split_first() {
        Some((&FORMAT, rest)) => serde_json::from_slice(rest).map_err(|e| e.to_string()),
        Some((v, _)) => Err(format!("unknown consensus record format {v}")),
        None => Err("empty consensus record".to_string()),
    }
}
