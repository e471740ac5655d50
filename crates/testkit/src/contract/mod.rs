//! Contract test suites: the guarantees each port documents, as executable checks that any
//! implementation can be run against.
//!
//! Why generic suites: an adapter author (another WAL, another metadata store) needs to
//! know, by running tests, that the implementation keeps every promise the services rely
//! on — sequence numbers never reused after a restart, truncation that survives one,
//! budgets that bound memory. The in-memory fakes of this crate, the RocksDB adapter and
//! the example file WAL (`examples/file-wal`) all run the same suites.
//!
//! Each suite is an `async fn` taking a directory and a constructor `open(&Path) -> T`:
//! the suite makes one sub-directory per case and calls `open` on it, possibly several
//! times for the same directory (a **reopen**: the suite drops every handle first, so a
//! store that locks its directory can open it again). Pass [`Durability::InMemory`] for an
//! implementation without persistence: the reopen cases are skipped.
//!
//! ```no_run
//! # use hyperbyte_testkit::{contract::{self, Durability}, MemoryWal};
//! # async fn doc() {
//! let dir = std::env::temp_dir().join("my-wal-contract");
//! contract::wal_contract(&dir, |_path| MemoryWal::default(), Durability::InMemory).await;
//! # }
//! ```
//!
//! A failing guarantee panics with a message naming the case and what was expected, so
//! the suites fit any test harness (`#[tokio::test]` with the multi-threaded flavour is
//! recommended: the concurrency cases spawn tasks).
//!
//! [`storage_contract`] is the exception: a storage engine is usually one per process
//! (chDB), so it takes the engine's ports, already open, and a database name to work in.

mod consensus;
mod held;
mod hints;
mod metadata;
mod storage;
mod tier_snapshot;
mod wal;

pub use consensus::consensus_store_contract;
pub use held::held_contract;
pub use hints::hint_store_contract;
pub use metadata::metadata_contract;
pub use storage::{storage_contract, Storage};
pub use tier_snapshot::tier_snapshot_contract;
pub use wal::{entry as wal_entry, wal_contract};

use std::fmt::Debug;
use std::path::{Path, PathBuf};

/// Whether the implementation under test keeps its state across a reopen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// State lives in the directory given to `open`: the reopen cases run.
    Durable,
    /// State lives in memory: the reopen cases are skipped.
    InMemory,
}

/// The value of `r`, or a panic naming the step that failed.
pub(crate) fn ok<T, E: Debug>(r: Result<T, E>, step: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("contract: {step} failed: {e:?}"),
    }
}

/// A fresh, empty directory for one case under `root`.
pub(crate) fn case_dir(root: &Path, case: &str) -> PathBuf {
    let dir = root.join(case);
    if dir.exists() {
        ok(std::fs::remove_dir_all(&dir), "clearing a case directory");
    }
    ok(std::fs::create_dir_all(&dir), "creating a case directory");
    dir
}
