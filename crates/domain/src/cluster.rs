//! Cluster vocabulary shared by the write path and the cluster adapter: the write
//! consistency levels and the status a node reports about its cluster.

use serde::{Deserialize, Serialize};

/// When a write is acknowledged in a cluster: after how many replicas made it durable
/// (InfluxDB Enterprise's `consistency` parameter of `/write`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Consistency {
    /// Once any replica took it, a hint counting as one (here: the local WAL append).
    Any,
    /// Once one replica made it durable (here: the local WAL append). The default.
    #[default]
    One,
    /// Once a majority of the replicas made it durable.
    Quorum,
    /// Once every replica made it durable.
    All,
}

impl Consistency {
    /// Parses the `consistency` parameter (`any`, `one`, `quorum`, `all`, any case).
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "any" => Some(Consistency::Any),
            "one" => Some(Consistency::One),
            "quorum" => Some(Consistency::Quorum),
            "all" => Some(Consistency::All),
            _ => None,
        }
    }

    /// How many of `replicas` copies (the local one included) must be durable before the
    /// write is acknowledged.
    pub fn required(self, replicas: usize) -> usize {
        match self {
            Consistency::Any | Consistency::One => 1.min(replicas),
            Consistency::Quorum => replicas / 2 + 1,
            Consistency::All => replicas,
        }
    }

    /// The parameter's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Consistency::Any => "any",
            Consistency::One => "one",
            Consistency::Quorum => "quorum",
            Consistency::All => "all",
        }
    }
}

/// One member as a node sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberStatus {
    /// Node id.
    pub id: u64,
    /// Peer address (`host:port` of its cluster listener).
    pub address: String,
    /// Votes in the metadata consensus (a learner does not).
    pub voter: bool,
    /// Whether the last contact succeeded (the leader's replication, or this node's own
    /// heartbeat view); `true` for the node itself.
    pub reachable: bool,
    /// Writes queued for this member (hinted handoff), in batches.
    pub hinted_batches: u64,
}

/// What `/cluster/status` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterStatus {
    /// This node's id.
    pub node_id: u64,
    /// This node's role in the metadata consensus (`leader`, `follower`, `candidate`,
    /// `learner`, `shutdown`).
    pub role: String,
    /// The leader's id, when one is known.
    pub leader: Option<u64>,
    /// The current term.
    pub term: u64,
    /// The last metadata log index applied here.
    pub last_applied: u64,
    /// Every member.
    pub members: Vec<MemberStatus>,
    /// Whether this node is draining (refusing writes).
    pub draining: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_in_any_case_and_count_replicas() {
        assert_eq!(Consistency::parse("QUORUM"), Some(Consistency::Quorum));
        assert_eq!(Consistency::parse("bogus"), None);
        assert_eq!(Consistency::Quorum.required(3), 2);
        assert_eq!(Consistency::Quorum.required(4), 3);
        assert_eq!(Consistency::All.required(3), 3);
        assert_eq!(Consistency::One.required(3), 1);
        assert_eq!(Consistency::Any.required(1), 1);
    }
}
