//! The [`HintStorePort`] contract.

use super::{case_dir, ok, Durability};
use hyperbyte_ports::{HintSize, HintStorePort, ReplicatedBatch};
use std::path::Path;
use std::sync::Arc;

fn batch(sequence: u64, len: usize) -> ReplicatedBatch {
    ReplicatedBatch {
        origin: 7,
        sequence,
        bytes: Arc::from(vec![u8::try_from(sequence % 251).unwrap_or(0); len]),
    }
}

fn ids(entries: &[hyperbyte_ports::HintEntry]) -> Vec<u64> {
    entries.iter().map(|e| e.id).collect()
}

/// Runs every [`HintStorePort`] case against the store `open` builds in sub-directories
/// of `root`:
///
/// - a new store is empty (no sizes, `last_id` 0);
/// - one append lands in every named queue; entries come back per peer in id order with
///   their batch (origin, sequence, bytes) and queue time; `oldest` honours `from` and
///   `limit`;
/// - `sizes` counts entries and bytes exactly and forgets empty queues;
/// - `remove` takes chosen ids (unknown ids do nothing), `forget` a whole queue, neither
///   touches another peer's;
/// - `last_id` stays the highest id appended after its entries are removed;
/// - ([`Durability::Durable`]) entries, sizes, removals and `last_id` survive a reopen.
pub async fn hint_store_contract<S, F>(root: &Path, open: F, durability: Durability)
where
    S: HintStorePort,
    F: Fn(&Path) -> S,
{
    let dir = case_dir(root, "hints");
    let store = open(&dir);
    assert!(store.sizes().is_empty(), "contract: a new store has hints");
    assert_eq!(ok(store.last_id().await, "last_id"), 0);
    for id in 1..=4 {
        ok(
            store
                .append(&[2, 3], id, 100 + id as i64, &batch(id * 10, 10))
                .await,
            "append",
        );
    }
    ok(
        store.append(&[3], 5, 105, &batch(50, 5)).await,
        "append to one peer",
    );
    let two = ok(store.oldest(2, 0, 100).await, "oldest(2)");
    assert_eq!(
        ids(&two),
        vec![1, 2, 3, 4],
        "contract: a peer's queue in id order"
    );
    assert_eq!(
        (two[1].queued_at, two[1].batch.origin, two[1].batch.sequence),
        (102, 7, 20),
        "contract: an entry keeps its batch and queue time"
    );
    assert_eq!(&two[1].batch.bytes[..], &batch(20, 10).bytes[..]);
    assert_eq!(
        ids(&ok(store.oldest(3, 3, 2).await, "oldest(3, 3, 2)")),
        vec![3, 4]
    );
    assert!(ok(store.oldest(9, 0, 10).await, "oldest of an unknown peer").is_empty());
    let sizes = store.sizes();
    assert_eq!(
        sizes.get(&2),
        Some(&HintSize {
            batches: 4,
            bytes: 40
        })
    );
    assert_eq!(
        sizes.get(&3),
        Some(&HintSize {
            batches: 5,
            bytes: 45
        })
    );
    ok(store.remove(2, &[2, 3, 99]).await, "remove");
    assert_eq!(
        ids(&ok(store.oldest(2, 0, 100).await, "oldest(2)")),
        vec![1, 4]
    );
    assert_eq!(
        ids(&ok(store.oldest(3, 0, 100).await, "oldest(3)")),
        vec![1, 2, 3, 4, 5],
        "contract: removing from one peer leaves the others"
    );
    ok(store.remove(2, &[1, 4]).await, "remove the rest");
    assert!(
        !store.sizes().contains_key(&2),
        "contract: an empty queue has no size"
    );
    assert_eq!(ok(store.last_id().await, "last_id"), 5);
    ok(
        store.append(&[2], 6, 106, &batch(60, 3)).await,
        "append again",
    );
    ok(store.forget(3).await, "forget");
    assert!(ok(store.oldest(3, 0, 10).await, "oldest after forget").is_empty());
    assert_eq!(
        store.sizes().get(&2),
        Some(&HintSize {
            batches: 1,
            bytes: 3
        })
    );
    if durability == Durability::InMemory {
        return;
    }
    drop(store);
    let store = open(&dir);
    assert_eq!(
        ids(&ok(store.oldest(2, 0, 10).await, "oldest after a reopen")),
        vec![6],
        "contract: the queues survive a reopen"
    );
    assert!(ok(store.oldest(3, 0, 10).await, "oldest(3) after a reopen").is_empty());
    assert_eq!(
        store.sizes().get(&2),
        Some(&HintSize {
            batches: 1,
            bytes: 3
        })
    );
    assert_eq!(store.sizes().len(), 1);
    ok(store.remove(2, &[6]).await, "remove after a reopen");
    drop(store);
    let store = open(&dir);
    assert_eq!(
        ok(store.last_id().await, "last_id after a reopen"),
        6,
        "contract: ids are not reused after a reopen of an empty store"
    );
}
