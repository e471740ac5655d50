//! The [`TierSnapshotPort`] contract.

use super::{case_dir, ok, Durability};
use hyperbyte_ports::TierSnapshotPort;
use std::path::Path;

/// Runs every [`TierSnapshotPort`] case against the slot `open` builds in sub-directories
/// of `root`:
///
/// - a new slot hands out nothing;
/// - `take` hands out what `save` stored, byte for byte (also an empty blob and one of a
///   few megabytes), and nothing on the next `take`;
/// - a second `save` replaces the first;
/// - ([`Durability::Durable`]) a saved blob survives a reopen, a taken one does not come
///   back after it.
pub async fn tier_snapshot_contract<S, F>(root: &Path, open: F, durability: Durability)
where
    S: TierSnapshotPort,
    F: Fn(&Path) -> S,
{
    let dir = case_dir(root, "empty");
    let slot = open(&dir);
    assert!(
        ok(slot.take(), "take from a new slot").is_none(),
        "contract: a new slot hands out nothing"
    );

    let dir = case_dir(root, "round_trip");
    let slot = open(&dir);
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    for blob in [b"tier".to_vec(), Vec::new(), big] {
        ok(slot.save(&blob), "save");
        let back = ok(slot.take(), "take after save");
        assert!(
            back.as_deref() == Some(blob.as_slice()),
            "contract: take hands out the saved blob ({} bytes), got {:?} bytes",
            blob.len(),
            back.map(|b| b.len())
        );
        assert!(
            ok(slot.take(), "second take").is_none(),
            "contract: a blob is handed out at most once"
        );
    }

    let dir = case_dir(root, "replace");
    let slot = open(&dir);
    ok(slot.save(b"first"), "first save");
    ok(slot.save(b"second"), "second save");
    assert_eq!(
        ok(slot.take(), "take after two saves").as_deref(),
        Some(&b"second"[..]),
        "contract: a save replaces the earlier blob"
    );

    if durability == Durability::InMemory {
        return;
    }
    let dir = case_dir(root, "reopen");
    {
        let slot = open(&dir);
        ok(slot.save(b"kept"), "save before a reopen");
    }
    {
        let slot = open(&dir);
        assert_eq!(
            ok(slot.take(), "take after a reopen").as_deref(),
            Some(&b"kept"[..]),
            "contract: a saved blob survives a reopen"
        );
    }
    let slot = open(&dir);
    assert!(
        ok(slot.take(), "take after take and reopen").is_none(),
        "contract: a taken blob does not come back after a reopen"
    );
}
