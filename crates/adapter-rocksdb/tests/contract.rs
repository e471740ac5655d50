//! The RocksDB adapter against the port contracts of `hyperbyte-testkit`: the WAL (also
//! behind its group-commit writer), the held-points store and the metadata store.

use hyperbyte_adapter_rocksdb::{BatchingConfig, BatchingWal, RocksDbMetadata, RocksDbWal};
use hyperbyte_testkit::contract::{self, Durability};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rocksdb_wal_passes_the_wal_contract() {
    let dir = tempfile::tempdir().expect("temp dir");
    contract::wal_contract(
        dir.path(),
        |p| RocksDbWal::open(p).expect("open the WAL"),
        Durability::Durable,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_group_commit_writer_passes_the_wal_contract() {
    let dir = tempfile::tempdir().expect("temp dir");
    contract::wal_contract(
        dir.path(),
        |p| {
            let wal = RocksDbWal::open(p).expect("open the WAL");
            BatchingWal::new(wal, BatchingConfig::default()).expect("start the writer")
        },
        Durability::Durable,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rocksdb_held_store_passes_the_held_contract() {
    let dir = tempfile::tempdir().expect("temp dir");
    contract::held_contract(
        dir.path(),
        |p| RocksDbWal::open(p).expect("open the WAL"),
        Durability::Durable,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rocksdb_metadata_passes_the_metadata_contract() {
    let dir = tempfile::tempdir().expect("temp dir");
    contract::metadata_contract(
        dir.path(),
        |p| RocksDbMetadata::open(p).expect("open the metadata store"),
        Durability::Durable,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_tier_snapshot_passes_the_tier_snapshot_contract() {
    let dir = tempfile::tempdir().expect("temp dir");
    contract::tier_snapshot_contract(
        dir.path(),
        |p| hyperbyte_adapter_rocksdb::FileTierSnapshot::new(p.join("tier.snapshot")),
        Durability::Durable,
    )
    .await;
}
