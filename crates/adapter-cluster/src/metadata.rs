//! [`ClusterMetadata`]: the metadata port of a cluster member. Reads are this node's
//! store (every member applies the same commands in the same order); a cluster-wide
//! change goes through the consensus ([`ClusterNode::propose`]) and returns once applied
//! here, so a read after it sees it; per-node changes (the series index, tombstones) go
//! straight to the local store.

use crate::node::ClusterNode;
use async_trait::async_trait;
use hyperbyte_domain::MetaCommand;
use hyperbyte_ports::{MetaError, MetadataPort};
use std::sync::Arc;

/// The metadata of a cluster member.
#[derive(Debug)]
pub struct ClusterMetadata {
    local: Arc<dyn MetadataPort>,
    node: Arc<ClusterNode>,
}

impl ClusterMetadata {
    /// Reads from `local`, orders cluster-wide changes through `node`.
    pub fn new(local: Arc<dyn MetadataPort>, node: Arc<ClusterNode>) -> Self {
        ClusterMetadata { local, node }
    }

    fn local_store(&self) -> &dyn MetadataPort {
        self.local.as_ref()
    }
}

#[async_trait]
impl MetadataPort for ClusterMetadata {
    async fn apply(&self, cmd: MetaCommand) -> Result<(), MetaError> {
        if cmd.is_cluster_wide() {
            self.node.propose(cmd).await
        } else {
            self.local.apply(cmd).await
        }
    }

    // Every read is this node's store's own answer.
    hyperbyte_catalog::metadata_reads_from_catalog!(local_store);
}
