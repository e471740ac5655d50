//! The chDB adapter against the storage contract of `hyperbyte-testkit`: points written
//! through `ChdbStorage` read back through the engine's `QueryPort`, with overwrites,
//! schema evolution, deletes and drops.

mod common;

use hyperbyte_testkit::contract::{self, Storage};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chdb_passes_the_storage_contract() {
    let engine = common::engine();
    let storage = common::storage();
    contract::storage_contract(
        Storage {
            sink: &storage,
            query: engine.as_ref(),
            admin: &storage,
        },
        "contract_db",
    )
    .await;
}
