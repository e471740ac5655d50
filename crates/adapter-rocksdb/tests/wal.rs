//! WAL tests on real RocksDB in temporary directories: append/read/truncate, restarts,
//! and group commit under concurrency.
#![allow(clippy::unwrap_used)]

use hyperbyte_adapter_rocksdb::{BatchingConfig, BatchingWal, RocksDbWal};
use hyperbyte_domain::CompactEntry;
use hyperbyte_ports::WalPort;
use hyperbyte_testkit::contract::wal_entry as entry;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn append_read_truncate_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let wal = RocksDbWal::open(dir.path()).unwrap();
        assert_eq!(wal.last_sequence(), 0);
        assert!(wal.read_range(0, 10).await.unwrap().is_empty());
        for i in 1..=5u64 {
            assert_eq!(wal.append(entry(&format!("h{i}"), 3)).await.unwrap(), i);
        }
        assert_eq!(wal.last_sequence(), 5);
        let all = wal.read_range(0, 100).await.unwrap();
        assert_eq!(
            all.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            vec![1, 2, 3, 4, 5]
        );
        assert_eq!(all[2].1, entry("h3", 3));
        let some = wal.read_range(2, 2).await.unwrap();
        assert_eq!(some.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![2, 3]);
        assert!(wal.read_range(3, 0).await.unwrap().is_empty());
        assert!(wal.read_range(6, 10).await.unwrap().is_empty());

        wal.truncate_before(3).await.unwrap();
        let left = wal.read_range(0, 100).await.unwrap();
        assert_eq!(
            left.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            vec![3, 4, 5]
        );
    }
    {
        let wal = RocksDbWal::open(dir.path()).unwrap();
        assert_eq!(wal.last_sequence(), 5);
        let left = wal.read_range(1, 100).await.unwrap();
        assert_eq!(
            left.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            vec![3, 4, 5]
        );
        assert_eq!(left[1].1, entry("h4", 3));
        assert_eq!(wal.append(entry("h6", 1)).await.unwrap(), 6);
        // Truncating everything must not make sequences restart.
        wal.truncate_before(u64::MAX).await.unwrap();
        assert!(wal.read_range(0, 100).await.unwrap().is_empty());
    }
    let wal = RocksDbWal::open(dir.path()).unwrap();
    assert_eq!(wal.last_sequence(), 6);
    assert_eq!(wal.append(entry("h7", 1)).await.unwrap(), 7);
}

#[tokio::test]
async fn many_truncations_trigger_compaction_and_keep_data() {
    let dir = tempfile::tempdir().unwrap();
    let wal = RocksDbWal::open(dir.path()).unwrap();
    for i in 1..=200u64 {
        wal.append(entry("h", 2)).await.unwrap();
        if i % 2 == 0 {
            wal.truncate_before(i).await.unwrap();
        }
    }
    let left = wal.read_range(0, 10).await.unwrap();
    assert_eq!(left.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![200]);
}

/// Bytes of RocksDB log files in `dir`.
fn log_bytes(dir: &std::path::Path) -> u64 {
    bytes_of(dir, "log")
}

/// Bytes of the files in `dir` named `*.{ext}`.
fn bytes_of(dir: &std::path::Path, ext: &str) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == ext))
        .map(|e| e.metadata().map_or(0, |m| m.len()))
        .sum()
}

/// Entries a memtable wrote to SST files while the flush was behind go once everything is
/// truncated, without a restart: level-0 files are not dropped by range deletion, and a
/// few of them never trigger a compaction, so 131 MB of dead files once stayed for good.
#[tokio::test]
async fn dead_sst_files_go_once_every_entry_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let wal = RocksDbWal::open(dir.path()).unwrap();
    for _ in 0..2 {
        for _ in 0..200 {
            wal.append(entry("h", 2500)).await.unwrap();
        }
        wal.flush_to_files().unwrap();
    }
    let full = bytes_of(dir.path(), "sst");
    assert!(full > 8 << 20, "the test wrote only {full} bytes of SST");
    // A partial cut keeps the newer half and its files.
    wal.truncate_before(200).await.unwrap();
    assert_eq!(wal.read_range(0, 1).await.unwrap()[0].0, 200);
    wal.truncate_before(401).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while bytes_of(dir.path(), "sst") > 1 << 20 {
        assert!(
            std::time::Instant::now() < deadline,
            "{} bytes of SST left after truncating everything (was {full})",
            bytes_of(dir.path(), "sst")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(wal.read_range(0, 10).await.unwrap().is_empty());
    assert_eq!(wal.append(entry("h", 1)).await.unwrap(), 401);
    drop(wal);
    let wal = RocksDbWal::open(dir.path()).unwrap();
    let left = wal.read_range(0, 10).await.unwrap();
    assert_eq!(left.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![401]);
}

/// The WAL directory shrinks once its entries are truncated, without a restart: a log of
/// dead entries used to stay (recycled at its largest size) until the process restarted.
#[tokio::test]
async fn the_log_files_shrink_once_every_entry_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let wal = RocksDbWal::open(dir.path()).unwrap();
    for _ in 0..200 {
        wal.append(entry("h", 2500)).await.unwrap();
    }
    let full = log_bytes(dir.path());
    assert!(full > 8 << 20, "the test wrote only {full} bytes of log");
    wal.truncate_before(u64::MAX).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while log_bytes(dir.path()) > 1 << 20 {
        assert!(
            std::time::Instant::now() < deadline,
            "{} bytes of log left after truncating everything (was {full})",
            log_bytes(dir.path())
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Nothing came back, and sequences go on.
    assert!(wal.read_range(0, 10).await.unwrap().is_empty());
    assert_eq!(wal.append(entry("h", 1)).await.unwrap(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batching_wal_concurrent_appends_are_durable_and_ordered() {
    let dir = tempfile::tempdir().unwrap();
    let tasks = 8;
    let per_task = 50;
    {
        let config = BatchingConfig {
            window: Duration::from_millis(1),
            max_batch_entries: 16,
            ..BatchingConfig::default()
        };
        let wal =
            Arc::new(BatchingWal::new(RocksDbWal::open(dir.path()).unwrap(), config).unwrap());
        let mut handles = Vec::new();
        for t in 0..tasks {
            let wal = wal.clone();
            handles.push(tokio::spawn(async move {
                let mut seqs = Vec::new();
                for i in 0..per_task {
                    let s = wal.append(entry(&format!("t{t}-{i}"), 2)).await.unwrap();
                    seqs.push((s, format!("t{t}-{i}")));
                }
                seqs
            }));
        }
        let mut all = Vec::new();
        for h in handles {
            let seqs = h.await.unwrap();
            // Each task's own appends get increasing sequences.
            assert!(seqs.windows(2).all(|w| w[0].0 < w[1].0));
            all.extend(seqs);
        }
        all.sort();
        let seqs: Vec<u64> = all.iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, (1..=(tasks * per_task) as u64).collect::<Vec<_>>());
        assert_eq!(wal.last_sequence(), (tasks * per_task) as u64);
        let stats = wal.stats();
        assert_eq!(stats.entries, (tasks * per_task) as u64);
        assert!(stats.writes <= stats.entries && stats.writes > 0);
        eprintln!("group commit: {stats:?}");
        let read = wal.read_range(0, 10_000).await.unwrap();
        for ((s, e), (s2, tag)) in read.iter().zip(&all) {
            assert_eq!(s, s2);
            assert_eq!(e.points[0].tags[0].1, *tag);
        }
    }
    // After the BatchingWal (and its RocksDB) are dropped, everything is still there.
    let wal = RocksDbWal::open(dir.path()).unwrap();
    assert_eq!(wal.last_sequence(), (tasks * per_task) as u64);
    let read = wal.read_range(0, 10_000).await.unwrap();
    assert_eq!(read.len(), tasks * per_task);
}

#[tokio::test]
async fn batching_wal_zero_window_single_caller() {
    let dir = tempfile::tempdir().unwrap();
    let wal = BatchingWal::new(
        RocksDbWal::open(dir.path()).unwrap(),
        BatchingConfig::default(),
    )
    .unwrap();
    assert_eq!(wal.append(entry("a", 1)).await.unwrap(), 1);
    assert_eq!(wal.append(entry("b", 1)).await.unwrap(), 2);
    wal.truncate_before(2).await.unwrap();
    let read = wal.read_range(0, 10).await.unwrap();
    assert_eq!(read, vec![(2, entry("b", 1))]);
}

/// Truncation drops whole SST files below the cut without compaction; an entry at a
/// file's upper edge that is not below the cut must survive it.
#[tokio::test]
async fn truncation_across_files_keeps_the_entry_at_a_file_edge() {
    let dir = tempfile::tempdir().unwrap();
    let wal = RocksDbWal::open(dir.path()).unwrap();
    for round in 0..3u64 {
        for i in 1..=10u64 {
            assert_eq!(
                wal.append(entry(&format!("h{i}"), 2)).await.unwrap(),
                round * 10 + i
            );
        }
        wal.flush_to_files().unwrap();
    }
    // Files hold 1..=10, 11..=20 and 21..=30: cut inside the second file, then right at
    // the edge of the third (entry 21 is its first key, 20 the second file's last).
    for (cut, left) in [(15, 15..=30), (20, 20..=30), (21, 21..=30)] {
        wal.truncate_before(cut).await.unwrap();
        assert_eq!(
            sequences(&wal).await,
            left.collect::<Vec<u64>>(),
            "cut {cut}"
        );
    }
    drop(wal);
    let wal = RocksDbWal::open(dir.path()).unwrap();
    assert_eq!(sequences(&wal).await, (21..=30).collect::<Vec<u64>>());
}

async fn sequences(wal: &RocksDbWal) -> Vec<u64> {
    wal.read_range(0, 100)
        .await
        .unwrap()
        .iter()
        .map(|(s, _)| *s)
        .collect()
}

#[tokio::test]
async fn read_batch_stops_at_the_point_budget() {
    let dir = tempfile::tempdir().unwrap();
    let wal = RocksDbWal::open(dir.path()).unwrap();
    for i in 1..=5u64 {
        wal.append(entry(&format!("h{i}"), 4)).await.unwrap();
    }
    let seqs = |v: Vec<(u64, CompactEntry)>| v.iter().map(|(s, _)| *s).collect::<Vec<_>>();
    let first = wal.read_batch(0, 100, 8).await.unwrap();
    // The compact shape holds the same points.
    assert_eq!(first[0].1, CompactEntry::from_entry(entry("h1", 4)));
    assert_eq!(seqs(first), vec![1, 2]);
    assert_eq!(
        seqs(wal.read_batch(0, 100, 9).await.unwrap()),
        vec![1, 2, 3]
    );
    assert_eq!(seqs(wal.read_batch(2, 100, 1).await.unwrap()), vec![2]);
    assert_eq!(seqs(wal.read_batch(0, 2, 1000).await.unwrap()), vec![1, 2]);
}

#[tokio::test]
async fn a_new_log_numbers_after_the_given_start_and_keeps_it() {
    let bytes = hyperbyte_adapter_rocksdb::WAL_MEMTABLE_BYTES;
    let dir = tempfile::tempdir().unwrap();
    {
        let wal = RocksDbWal::open_numbered_after(dir.path(), bytes, 1_000).unwrap();
        assert_eq!(wal.last_sequence(), 1_000);
    }
    {
        // Kept across a restart before any append, whatever the caller passes then.
        let wal = RocksDbWal::open(dir.path()).unwrap();
        assert_eq!(wal.last_sequence(), 1_000);
        assert_eq!(wal.append(entry("a", 1)).await.unwrap(), 1_001);
        wal.truncate_before(u64::MAX).await.unwrap();
    }
    // An existing log goes on with its own numbering.
    let wal = RocksDbWal::open_numbered_after(dir.path(), bytes, 5_000).unwrap();
    assert_eq!(wal.last_sequence(), 1_001);
    assert_eq!(wal.append(entry("b", 1)).await.unwrap(), 1_002);
}
