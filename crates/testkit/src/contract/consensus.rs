//! The [`ConsensusStorePort`] contract.

use super::{case_dir, ok, Durability};
use hyperbyte_ports::ConsensusStorePort;
use std::path::Path;

fn entry(i: u64) -> (u64, Vec<u8>) {
    (i, format!("entry {i}").into_bytes())
}

/// Runs every [`ConsensusStorePort`] case against the store `open` builds in
/// sub-directories of `root`:
///
/// - a new store has no entry and no state;
/// - appended entries read back in index order, `entries(from, until)` is half-open, and
///   appending an existing index overwrites it;
/// - `truncate_from` removes the suffix from an index, `purge_through` the prefix through
///   one, `last_entry` follows both;
/// - named state values replace each other per name;
/// - ([`Durability::Durable`]) entries, truncations, purges and state survive a reopen.
pub fn consensus_store_contract<S, F>(root: &Path, open: F, durability: Durability)
where
    S: ConsensusStorePort,
    F: Fn(&Path) -> S,
{
    let dir = case_dir(root, "consensus");
    let store = open(&dir);
    assert!(
        ok(store.last_entry(), "last_entry").is_none(),
        "contract: a new store has an entry"
    );
    assert!(
        ok(store.state("vote"), "state").is_none(),
        "contract: a new store has state"
    );
    let five: Vec<_> = (1..=5).map(entry).collect();
    ok(store.append(&five), "append 1..=5");
    assert_eq!(
        ok(store.entries(2, 4), "entries(2, 4)"),
        vec![entry(2), entry(3)]
    );
    assert_eq!(ok(store.entries(0, 100), "entries(0, 100)"), five);
    ok(store.append(&[(3, b"new".to_vec())]), "overwrite 3");
    assert_eq!(
        ok(store.entries(3, 4), "entries(3, 4)"),
        vec![(3, b"new".to_vec())],
        "contract: appending an existing index overwrites it"
    );
    ok(store.truncate_from(4), "truncate_from(4)");
    assert_eq!(ok(store.last_entry(), "last_entry").map(|e| e.0), Some(3));
    ok(store.purge_through(1), "purge_through(1)");
    let left: Vec<u64> = ok(store.entries(0, u64::MAX), "entries")
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(
        left,
        vec![2, 3],
        "contract: truncation and purge keep the middle"
    );
    ok(store.put_state("vote", b"a"), "put_state");
    ok(store.put_state("vote", b"b"), "put_state again");
    ok(store.put_state("applied", b"c"), "put_state other");
    assert_eq!(ok(store.state("vote"), "state").as_deref(), Some(&b"b"[..]));
    if durability == Durability::InMemory {
        return;
    }
    drop(store);
    let store = open(&dir);
    let left: Vec<u64> = ok(store.entries(0, u64::MAX), "entries after a reopen")
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(left, vec![2, 3], "contract: the log survives a reopen");
    assert_eq!(ok(store.state("vote"), "state").as_deref(), Some(&b"b"[..]));
    assert_eq!(
        ok(store.state("applied"), "state").as_deref(),
        Some(&b"c"[..])
    );
}
