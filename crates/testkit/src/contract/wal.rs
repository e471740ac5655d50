//! The [`WalPort`] contract.

use super::{case_dir, ok, Durability};
use hyperbyte_domain::{CompactEntry, FieldValue, Point, WalEntry};
use hyperbyte_ports::WalPort;
use std::path::Path;
use std::sync::Arc;

/// An entry of `n` points whose content names `tag` (so reads can be told apart); for
/// adapters' own WAL tests too.
pub fn entry(tag: &str, n: usize) -> WalEntry {
    WalEntry {
        database: "db".into(),
        retention_policy: "autogen".into(),
        points: (0..n)
            .map(|i| Point {
                measurement: "cpu".into(),
                tags: vec![("host".into(), tag.into())],
                fields: vec![
                    ("v".into(), FieldValue::Float(i as f64)),
                    ("s".into(), FieldValue::String(format!("{tag}-{i}"))),
                ],
                timestamp: i as i64,
            })
            .collect(),
    }
}

/// Runs every [`WalPort`] case against the WAL `open` builds in sub-directories of `root`:
///
/// - a new log is empty and its last sequence is 0;
/// - `append` and `append_encoded` return strictly increasing sequences, `last_sequence`
///   follows, `read_range` returns the entries as written, in order, from `from`, at most
///   `max`;
/// - `read_batch` keeps the same order and stops at `max_entries` or once `max_points` are
///   reached (always at least one entry);
/// - `truncate_before` removes exactly the entries below it, is idempotent, and never
///   makes a sequence reused (also once everything is truncated);
/// - concurrent appends from many tasks all succeed with distinct sequences, and every
///   entry reads back;
/// - ([`Durability::Durable`]) after a reopen, entries, truncation and the last sequence
///   are as they were, and new sequences continue above the old ones, also when the log
///   was truncated to empty before the reopen.
pub async fn wal_contract<W, F>(root: &Path, open: F, durability: Durability)
where
    W: WalPort + 'static,
    F: Fn(&Path) -> W,
{
    empty(&open(&case_dir(root, "wal-empty"))).await;
    append_and_read(&open(&case_dir(root, "wal-append"))).await;
    batch_budgets(&open(&case_dir(root, "wal-batch"))).await;
    truncation(&open(&case_dir(root, "wal-truncate"))).await;
    concurrent_appends(Arc::new(open(&case_dir(root, "wal-concurrent")))).await;
    if durability == Durability::Durable {
        reopen(&case_dir(root, "wal-reopen"), &open).await;
        reopen_after_full_truncation(&case_dir(root, "wal-reopen-empty"), &open).await;
    }
}

async fn empty(wal: &dyn WalPort) {
    assert_eq!(
        wal.last_sequence(),
        0,
        "contract: a new WAL's last sequence is 0"
    );
    let read = ok(wal.read_range(0, 10).await, "read_range on an empty WAL");
    assert!(read.is_empty(), "contract: a new WAL reads empty");
    let batch = ok(
        wal.read_batch(0, 10, 10).await,
        "read_batch on an empty WAL",
    );
    assert!(batch.is_empty(), "contract: a new WAL reads an empty batch");
}

async fn append_all(wal: &dyn WalPort, tags: &[&str], points: usize) -> Vec<u64> {
    let mut seqs = Vec::new();
    for t in tags {
        seqs.push(ok(wal.append(entry(t, points)).await, "append"));
    }
    seqs
}

fn assert_increasing(seqs: &[u64], what: &str) {
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]) && seqs.first().is_none_or(|s| *s > 0),
        "contract: {what}: sequences must be positive and strictly increasing, got {seqs:?}"
    );
}

async fn append_and_read(wal: &dyn WalPort) {
    let mut seqs = append_all(wal, &["a", "b", "c"], 2).await;
    let encoded = ok(
        hyperbyte_domain::wal::codec::encode(&entry("d", 3)),
        "encoding an entry",
    );
    seqs.push(ok(wal.append_encoded(encoded).await, "append_encoded"));
    seqs.extend(append_all(wal, &["e"], 1).await);
    assert_increasing(&seqs, "append");
    assert_eq!(
        wal.last_sequence(),
        seqs[4],
        "contract: last_sequence is the last appended"
    );
    let all = ok(wal.read_range(0, 100).await, "read_range(0)");
    let got: Vec<u64> = all.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        got, seqs,
        "contract: read_range returns every entry in order"
    );
    for ((_, e), tag) in all.iter().zip(["a", "b", "c", "d", "e"]) {
        let n = if tag == "d" {
            3
        } else if tag == "e" {
            1
        } else {
            2
        };
        assert_eq!(
            e,
            &entry(tag, n),
            "contract: an entry reads back as written"
        );
    }
    let from = ok(wal.read_range(seqs[2], 100).await, "read_range(from)");
    let got: Vec<u64> = from.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        got,
        seqs[2..],
        "contract: read_range starts at `from` (inclusive)"
    );
    let capped = ok(wal.read_range(seqs[1], 2).await, "read_range(max)");
    let got: Vec<u64> = capped.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        got,
        seqs[1..3],
        "contract: read_range returns at most `max`"
    );
    let past = ok(
        wal.read_range(seqs[4] + 1, 10).await,
        "read_range past the end",
    );
    assert!(past.is_empty(), "contract: reading past the end is empty");
    let none = ok(wal.read_range(0, 0).await, "read_range(max = 0)");
    assert!(none.is_empty(), "contract: read_range with max 0 is empty");
}

async fn batch_budgets(wal: &dyn WalPort) {
    let seqs = append_all(wal, &["a", "b", "c", "d"], 3).await;
    let ids = |b: &[(u64, CompactEntry)]| b.iter().map(|(s, _)| *s).collect::<Vec<_>>();
    let b = ok(wal.read_batch(0, 10, 1_000).await, "read_batch");
    assert_eq!(
        ids(&b),
        seqs,
        "contract: read_batch returns every entry in order"
    );
    for ((_, c), tag) in b.iter().zip(["a", "b", "c", "d"]) {
        assert_eq!(
            c,
            &CompactEntry::from_entry(entry(tag, 3)),
            "contract: read_batch returns the entries' content"
        );
    }
    let b = ok(wal.read_batch(0, 2, 1_000).await, "read_batch(max_entries)");
    assert_eq!(
        ids(&b),
        seqs[..2],
        "contract: read_batch stops at max_entries"
    );
    let b = ok(wal.read_batch(0, 10, 4).await, "read_batch(max_points)");
    assert_eq!(
        ids(&b),
        seqs[..2],
        "contract: read_batch takes entries while fewer than max_points points are taken"
    );
    let b = ok(
        wal.read_batch(seqs[1], 10, 0).await,
        "read_batch(max_points = 0)",
    );
    assert_eq!(
        ids(&b),
        seqs[1..2],
        "contract: read_batch returns at least one entry"
    );
    let b = ok(wal.read_batch(seqs[2], 10, 1_000).await, "read_batch(from)");
    assert_eq!(ids(&b), seqs[2..], "contract: read_batch starts at `from`");
}

async fn truncation(wal: &dyn WalPort) {
    let seqs = append_all(wal, &["a", "b", "c", "d"], 1).await;
    ok(wal.truncate_before(seqs[2]).await, "truncate_before");
    let left = ok(wal.read_range(0, 100).await, "read_range after truncation");
    let got: Vec<u64> = left.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        got,
        seqs[2..],
        "contract: truncate_before removes exactly the entries below"
    );
    ok(
        wal.truncate_before(seqs[2]).await,
        "a repeated truncate_before",
    );
    ok(wal.truncate_before(0).await, "truncate_before(0)");
    let left = ok(
        wal.read_range(seqs[0], 100).await,
        "read_range from a truncated point",
    );
    assert_eq!(
        left.len(),
        2,
        "contract: truncation is idempotent; reading from a truncated point returns what is left"
    );
    ok(
        wal.truncate_before(seqs[3] + 1).await,
        "truncate everything",
    );
    assert!(
        ok(wal.read_range(0, 100).await, "read_range").is_empty(),
        "contract: truncating past the last entry empties the log"
    );
    assert_eq!(
        wal.last_sequence(),
        seqs[3],
        "contract: truncation keeps last_sequence"
    );
    let next = ok(wal.append(entry("e", 1)).await, "append after truncation");
    assert!(
        next > seqs[3],
        "contract: a sequence is never reused after truncation"
    );
    let left = ok(wal.read_range(0, 100).await, "read_range");
    assert_eq!(
        left.len(),
        1,
        "contract: an entry appended after truncation reads back"
    );
}

async fn concurrent_appends<W: WalPort + 'static>(wal: Arc<W>) {
    const TASKS: usize = 8;
    const EACH: usize = 25;
    let mut handles = Vec::new();
    for t in 0..TASKS {
        let wal = wal.clone();
        handles.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..EACH {
                let tag = format!("t{t}-{i}");
                seqs.push((
                    ok(wal.append(entry(&tag, 1)).await, "concurrent append"),
                    tag,
                ));
            }
            seqs
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        let seqs = ok(h.await, "joining an append task");
        let own: Vec<u64> = seqs.iter().map(|(s, _)| *s).collect();
        assert_increasing(&own, "one task's appends");
        all.extend(seqs);
    }
    all.sort_unstable();
    let distinct = all.windows(2).all(|w| w[0].0 < w[1].0);
    assert!(
        distinct,
        "contract: concurrent appends get distinct sequences"
    );
    let read = ok(wal.read_range(0, TASKS * EACH + 10).await, "read_range");
    assert_eq!(
        read.len(),
        TASKS * EACH,
        "contract: every concurrent append reads back"
    );
    for ((s, e), (want_s, tag)) in read.iter().zip(&all) {
        assert_eq!(s, want_s, "contract: read_range returns sequences in order");
        assert_eq!(
            e,
            &entry(tag, 1),
            "contract: a concurrent append reads back as written"
        );
    }
    assert_eq!(wal.last_sequence(), all[all.len() - 1].0);
}

async fn reopen<W: WalPort, F: Fn(&Path) -> W>(dir: &Path, open: &F) {
    let seqs = {
        let wal = open(dir);
        let seqs = append_all(&wal, &["a", "b", "c"], 2).await;
        ok(wal.truncate_before(seqs[1]).await, "truncate_before");
        seqs
    };
    let wal = open(dir);
    assert_eq!(
        wal.last_sequence(),
        seqs[2],
        "contract: last_sequence survives a reopen"
    );
    let left = ok(wal.read_range(0, 100).await, "read_range after reopen");
    let got: Vec<u64> = left.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        got,
        seqs[1..],
        "contract: entries and truncation survive a reopen"
    );
    assert_eq!(
        left[0].1,
        entry("b", 2),
        "contract: an entry survives a reopen intact"
    );
    let next = ok(wal.append(entry("d", 1)).await, "append after reopen");
    assert!(
        next > seqs[2],
        "contract: sequences continue above the old ones after a reopen"
    );
    drop(wal);
    let wal = open(dir);
    let left = ok(
        wal.read_range(0, 100).await,
        "read_range after a second reopen",
    );
    let got: Vec<u64> = left.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        got,
        vec![seqs[1], seqs[2], next],
        "contract: appends after a reopen are durable"
    );
}

async fn reopen_after_full_truncation<W: WalPort, F: Fn(&Path) -> W>(dir: &Path, open: &F) {
    let last = {
        let wal = open(dir);
        let seqs = append_all(&wal, &["a", "b"], 1).await;
        ok(
            wal.truncate_before(seqs[1] + 1).await,
            "truncate everything",
        );
        seqs[1]
    };
    let wal = open(dir);
    assert!(
        ok(wal.read_range(0, 100).await, "read_range after reopen").is_empty(),
        "contract: a truncation to empty survives a reopen"
    );
    assert_eq!(
        wal.last_sequence(),
        last,
        "contract: last_sequence survives a reopen of a log truncated to empty"
    );
    let next = ok(wal.append(entry("c", 1)).await, "append after reopen");
    assert!(
        next > last,
        "contract: a sequence is never reused, also after truncating everything and reopening"
    );
}
