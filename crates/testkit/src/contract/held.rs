//! The [`HeldPointsPort`] contract.

use super::wal::entry;
use super::{case_dir, ok, Durability};
use hyperbyte_domain::{CompactEntry, EncodedWalEntry};
use hyperbyte_ports::{HeldPointsPort, TableRef};
use std::path::Path;

fn table(measurement: &str) -> TableRef {
    TableRef {
        database: "db".into(),
        retention_policy: "autogen".into(),
        measurement: measurement.into(),
    }
}

fn encoded(tag: &str, n: usize) -> EncodedWalEntry {
    ok(
        hyperbyte_domain::wal::codec::encode(&entry(tag, n)),
        "encoding an entry",
    )
}

fn compact(tag: &str, n: usize) -> CompactEntry {
    CompactEntry::from_entry(entry(tag, n))
}

/// Runs every [`HeldPointsPort`] case against the store `open` builds in sub-directories
/// of `root`:
///
/// - a new store lists no table;
/// - `entries` returns a table's entries in the order held, with growing positions, and
///   stops once `max_points` points are taken (at least one entry);
/// - `tables` lists every table holding entries, in [`TableRef`] order;
/// - `release_through` removes a table's entries up to a position, `release` all of them;
///   other tables are untouched and later positions keep growing;
/// - ([`Durability::Durable`]) held entries, releases and position order survive a reopen.
pub async fn held_contract<H, F>(root: &Path, open: F, durability: Durability)
where
    H: HeldPointsPort,
    F: Fn(&Path) -> H,
{
    queues(&open(&case_dir(root, "held-queues"))).await;
    if durability == Durability::Durable {
        reopen(&case_dir(root, "held-reopen"), &open).await;
    }
}

async fn hold_all(held: &dyn HeldPointsPort, t: &TableRef, tags: &[&str], n: usize) {
    for tag in tags {
        ok(held.hold(t, encoded(tag, n)).await, "hold");
    }
}

async fn queues(held: &dyn HeldPointsPort) {
    let (cpu, mem) = (table("cpu"), table("mem"));
    assert!(
        ok(held.tables().await, "tables").is_empty(),
        "contract: a new store holds nothing"
    );
    hold_all(held, &mem, &["m1"], 1).await;
    hold_all(held, &cpu, &["a", "b", "c"], 2).await;
    let tables = ok(held.tables().await, "tables");
    assert_eq!(
        tables,
        vec![cpu.clone(), mem.clone()],
        "contract: tables in TableRef order"
    );
    let got = ok(held.entries(&cpu, 1_000).await, "entries");
    assert_eq!(
        got.len(),
        3,
        "contract: entries returns every held entry of the table"
    );
    for ((_, c), tag) in got.iter().zip(["a", "b", "c"]) {
        assert_eq!(
            c,
            &compact(tag, 2),
            "contract: entries come back as held, in order"
        );
    }
    let pos: Vec<u64> = got.iter().map(|(p, _)| *p).collect();
    assert!(
        pos.windows(2).all(|w| w[0] < w[1]),
        "contract: positions grow, got {pos:?}"
    );
    let budget = ok(held.entries(&cpu, 3).await, "entries(max_points)");
    assert_eq!(
        budget.len(),
        2,
        "contract: entries stops once max_points are taken"
    );
    let one = ok(held.entries(&cpu, 0).await, "entries(max_points = 0)");
    assert_eq!(one.len(), 1, "contract: entries returns at least one entry");
    ok(held.release_through(&cpu, pos[1]).await, "release_through");
    let left = ok(
        held.entries(&cpu, 1_000).await,
        "entries after release_through",
    );
    assert_eq!(
        left.len(),
        1,
        "contract: release_through removes up to the position"
    );
    assert_eq!(
        left[0],
        (pos[2], compact("c", 2)),
        "contract: later entries stay"
    );
    hold_all(held, &cpu, &["d"], 1).await;
    let left = ok(held.entries(&cpu, 1_000).await, "entries");
    assert!(
        left[1].0 > pos[2],
        "contract: positions keep growing after a release"
    );
    ok(held.release(&mem).await, "release");
    assert_eq!(
        ok(held.tables().await, "tables"),
        vec![cpu.clone()],
        "contract: release empties a table"
    );
    assert!(
        ok(held.entries(&mem, 10).await, "entries of a released table").is_empty(),
        "contract: a released table holds nothing"
    );
    ok(held.release(&mem).await, "releasing an empty table");
    ok(
        held.release_through(&cpu, u64::MAX).await,
        "release_through everything",
    );
    assert!(
        ok(held.tables().await, "tables").is_empty(),
        "contract: an emptied table is not listed"
    );
}

async fn reopen<H: HeldPointsPort, F: Fn(&Path) -> H>(dir: &Path, open: &F) {
    let (cpu, mem) = (table("cpu"), table("mem"));
    let before = {
        let held = open(dir);
        hold_all(&held, &cpu, &["a", "b", "c"], 1).await;
        hold_all(&held, &mem, &["m"], 1).await;
        let got = ok(held.entries(&cpu, 1_000).await, "entries");
        ok(
            held.release_through(&cpu, got[0].0).await,
            "release_through",
        );
        got
    };
    let held = open(dir);
    assert_eq!(
        ok(held.tables().await, "tables after reopen"),
        vec![cpu.clone(), mem.clone()]
    );
    let got = ok(held.entries(&cpu, 1_000).await, "entries after reopen");
    assert_eq!(
        got,
        before[1..],
        "contract: held entries and releases survive a reopen"
    );
    hold_all(&held, &cpu, &["d"], 1).await;
    let got = ok(held.entries(&cpu, 1_000).await, "entries");
    assert!(
        got[2].0 > before[2].0,
        "contract: positions keep growing after a reopen"
    );
}
