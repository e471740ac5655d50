//! The fakes keep the guarantees they stand in for: each passes its port's contract suite.

use hyperbyte_testkit::contract::{self, Durability};
use hyperbyte_testkit::{MemoryHeld, MemoryMetadata, MemoryTierSnapshot, MemoryWal};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_wal_passes_the_wal_contract() {
    let dir = tempfile::tempdir().expect("temp dir");
    contract::wal_contract(dir.path(), |_| MemoryWal::default(), Durability::InMemory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_held_passes_the_held_contract() {
    let dir = tempfile::tempdir().expect("temp dir");
    contract::held_contract(dir.path(), |_| MemoryHeld::default(), Durability::InMemory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_metadata_passes_the_metadata_contract() {
    let dir = tempfile::tempdir().expect("temp dir");
    contract::metadata_contract(dir.path(), |_| MemoryMetadata::new(), Durability::InMemory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_tier_snapshot_passes_the_tier_snapshot_contract() {
    let dir = tempfile::tempdir().expect("temp dir");
    contract::tier_snapshot_contract(
        dir.path(),
        |_| MemoryTierSnapshot::default(),
        Durability::InMemory,
    )
    .await;
}
