//! WAL throughput benchmark (std::time only): 4 concurrent tasks append 5,000-point
//! TSBS-`cpu`-like entries and the rows/s that became durable are printed.
//!
//! Run with `cargo bench -p hyperbyte-adapter-rocksdb --bench wal` (the bench profile is
//! the release profile).
//! Environment: `WAL_BENCH_APPENDS` (appends per task, default 40), `WAL_BENCH_TASKS`
//! (default 4), `WAL_BENCH_WINDOW_US` (group-commit window, default 0),
//! `WAL_BENCH_DIR` (directory for the RocksDB files, default a temp dir),
//! `WAL_BENCH_CODEC_ROUNDS` (entries for the single-threaded codec timings, default 20),
//! `WAL_BENCH_ONLY_CODEC=1` (stop after the codec timings, for profiling),
//! `WAL_BENCH_PREBUILT` (entries per task for the `WalPort::append` run, default 8).
#![allow(clippy::unwrap_used)]

use hyperbyte_adapter_rocksdb::{
    decode_wal_entry, encode_wal_entry, encode_wal_entry_v1, BatchingConfig, BatchingWal,
    RocksDbWal,
};
use hyperbyte_domain::{FieldValue, Point, WalEntry};
use hyperbyte_ports::WalPort;
use std::sync::Arc;
use std::time::{Duration, Instant};

const POINTS: usize = 5_000;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One 5,000-line batch shaped like TSBS `cpu-only`: 10 tags, 10 integer fields.
fn tsbs_entry(batch: usize) -> WalEntry {
    const FIELDS: [&str; 10] = [
        "usage_user",
        "usage_system",
        "usage_idle",
        "usage_nice",
        "usage_iowait",
        "usage_irq",
        "usage_softirq",
        "usage_steal",
        "usage_guest",
        "usage_guest_nice",
    ];
    let points = (0..POINTS)
        .map(|i| {
            let host = i % 1000;
            let tags = vec![
                ("arch".to_string(), ["x64", "x86"][host % 2].to_string()),
                (
                    "datacenter".to_string(),
                    format!("us-west-1{}", ["a", "b", "c"][host % 3]),
                ),
                ("hostname".to_string(), format!("host_{host}")),
                (
                    "os".to_string(),
                    ["Ubuntu16.10", "Ubuntu15.10", "Ubuntu16.04LTS"][host % 3].to_string(),
                ),
                ("rack".to_string(), format!("{}", host % 100)),
                (
                    "region".to_string(),
                    ["us-west-1", "us-east-1", "eu-central-1"][host % 3].to_string(),
                ),
                ("service".to_string(), format!("{}", host % 20)),
                (
                    "service_environment".to_string(),
                    ["production", "staging", "test"][host % 3].to_string(),
                ),
                ("service_version".to_string(), format!("{}", host % 2)),
                (
                    "team".to_string(),
                    ["SF", "NYC", "LON", "CHI"][host % 4].to_string(),
                ),
            ];
            let fields = FIELDS
                .iter()
                .enumerate()
                .map(|(f, name)| {
                    (
                        name.to_string(),
                        FieldValue::Integer(((i * 31 + f * 7 + batch) % 100) as i64),
                    )
                })
                .collect();
            Point {
                measurement: "cpu".to_string(),
                tags,
                fields,
                timestamp: 1_451_606_400_000_000_000 + (batch * POINTS + i) as i64 * 10_000_000_000,
            }
        })
        .collect();
    WalEntry {
        database: "benchmark".to_string(),
        retention_policy: "autogen".to_string(),
        points,
    }
}

/// Truncates behind the writers like the flush service does, so RocksDB sees a
/// realistic append/truncate mix.
fn spawn_truncator<W: WalPort + 'static>(wal: Arc<W>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let last = wal.last_sequence();
            if wal.truncate_before(last.saturating_sub(8)).await.is_err() {
                return;
            }
        }
    })
}

fn report(label: &str, rows: usize, elapsed: Duration, appends: usize) {
    let rows_s = rows as f64 / elapsed.as_secs_f64();
    println!(
        "{label:<58} {rows:>9} rows in {:>7.3}s = {:>10.0} rows/s ({:.0} appends/s)",
        elapsed.as_secs_f64(),
        rows_s,
        appends as f64 / elapsed.as_secs_f64()
    );
}

fn main() {
    let appends = env("WAL_BENCH_APPENDS", 40) as usize;
    let tasks = env("WAL_BENCH_TASKS", 4) as usize;
    let window = Duration::from_micros(env("WAL_BENCH_WINDOW_US", 0));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let base = std::env::var("WAL_BENCH_DIR").ok();
    let tmp = match &base {
        Some(b) => tempfile::tempdir_in(b).unwrap(),
        None => tempfile::tempdir().unwrap(),
    };

    let template = tsbs_entry(0);
    let encoded = encode_wal_entry(&template).unwrap();
    println!(
        "entry: {POINTS} points, {} bytes encoded ({} bytes/point); {tasks} tasks x {appends} appends, window {window:?}",
        encoded.len(),
        encoded.len() / POINTS
    );
    codec_costs(&template, &encoded);
    let run = Run {
        dir: tmp.path(),
        window,
        tasks,
        appends,
    };
    rt.block_on(async {
        group_commit_encoded(&run, &encoded).await;
        port_append(&run).await;
        no_group_commit(&run).await;
    });
}

/// The settings of the durable-append runs.
struct Run<'a> {
    dir: &'a std::path::Path,
    window: Duration,
    tasks: usize,
    appends: usize,
}

/// Single-threaded costs that the write path pays per entry.
fn codec_costs(template: &WalEntry, encoded: &[u8]) {
    let n = env("WAL_BENCH_CODEC_ROUNDS", 20) as usize;
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(template.clone());
    }
    report(
        "clone a WalEntry (1 thread, for reference)",
        n * POINTS,
        start.elapsed(),
        n,
    );
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(encode_wal_entry(template).unwrap());
    }
    report(
        "encode, format 2 (1 thread)",
        n * POINTS,
        start.elapsed(),
        n,
    );
    let clones: Vec<WalEntry> = (0..n).map(|_| template.clone()).collect();
    let start = Instant::now();
    drop(clones);
    report(
        "drop a WalEntry (1 thread, for reference)",
        n * POINTS,
        start.elapsed(),
        n,
    );
    let v1 = encode_wal_entry_v1(template).unwrap();
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(encode_wal_entry_v1(template).unwrap());
    }
    report(
        &format!(
            "encode, format 1 ({} bytes/point, 1 thread)",
            v1.len() / POINTS
        ),
        n * POINTS,
        start.elapsed(),
        n,
    );
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(decode_wal_entry(encoded).unwrap());
    }
    report(
        "decode, format 2 (1 thread)",
        n * POINTS,
        start.elapsed(),
        n,
    );
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(hyperbyte_domain::wal::codec::decode_compact(encoded).unwrap());
    }
    report(
        "decode, format 2, compact shape (1 thread)",
        n * POINTS,
        start.elapsed(),
        n,
    );
    // A flush round's entries share their series (decoded once per round).
    let mut series = hyperbyte_domain::wal::codec::SeriesCache::default();
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(
            hyperbyte_domain::wal::codec::decode_compact_with(encoded, &mut series).unwrap(),
        );
    }
    report(
        "decode, format 2, compact, series shared (the flush's; 1 thread)",
        n * POINTS,
        start.elapsed(),
        n,
    );
}

/// Run 1: Group commit of pre-encoded entries: the durable-write ceiling.
async fn group_commit_encoded(run: &Run<'_>, encoded: &[u8]) {
    let (tasks, appends, window) = (run.tasks, run.appends, run.window);
    let tmp_dir = run.dir;
    let dir = tmp_dir.join("encoded");
    let config = BatchingConfig {
        window,
        ..BatchingConfig::default()
    };
    let wal = Arc::new(BatchingWal::new(RocksDbWal::open(&dir).unwrap(), config).unwrap());
    let trunc = spawn_truncator(wal.clone());
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let wal = wal.clone();
            let bytes = encoded.to_vec();
            tokio::spawn(async move {
                for _ in 0..appends {
                    wal.append_encoded(bytes.clone()).await.unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    report(
        "BatchingWal::append_encoded (pre-encoded)",
        tasks * appends * POINTS,
        start.elapsed(),
        tasks * appends,
    );
    println!("{:<58} {:?}", "", wal.stats());
    trunc.abort();
}

/// Run 2: The port path: BatchingWal::append (encode on the caller's task, group
/// commit, drop of the entry). Entries are built before the clock starts; at about
/// 8 MB each in memory, only `WAL_BENCH_PREBUILT` (default 8) per task are used.
async fn port_append(run: &Run<'_>) {
    let (tasks, window) = (run.tasks, run.window);
    let tmp_dir = run.dir;
    let dir = tmp_dir.join("append");
    let config = BatchingConfig {
        window,
        ..BatchingConfig::default()
    };
    let wal = Arc::new(BatchingWal::new(RocksDbWal::open(&dir).unwrap(), config).unwrap());
    let trunc = spawn_truncator(wal.clone());
    let prebuilt = env("WAL_BENCH_PREBUILT", 8) as usize;
    let per_task: Vec<Vec<WalEntry>> = (0..tasks)
        .map(|t| {
            (0..prebuilt)
                .map(|i| tsbs_entry(t * prebuilt + i + 1))
                .collect()
        })
        .collect();
    let start = Instant::now();
    let handles: Vec<_> = per_task
        .into_iter()
        .map(|entries| {
            let wal = wal.clone();
            tokio::spawn(async move {
                for e in entries {
                    wal.append(e).await.unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    let n = tasks * prebuilt;
    report(
        "BatchingWal::append (WalPort: encode + commit + drop)",
        n * POINTS,
        start.elapsed(),
        n,
    );
    println!("{:<58} {:?}", "", wal.stats());
    trunc.abort();
}

/// Run 3: No group commit: one synced write per append (clones included).
async fn no_group_commit(run: &Run<'_>) {
    let (tasks, appends) = (run.tasks, run.appends);
    let tmp_dir = run.dir;
    let dir = tmp_dir.join("plain");
    let wal = Arc::new(RocksDbWal::open(&dir).unwrap());
    let trunc = spawn_truncator(wal.clone());
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let wal = wal.clone();
            let entry = tsbs_entry(t + 1);
            tokio::spawn(async move {
                for _ in 0..appends.min(10) {
                    wal.append(entry.clone()).await.unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    let n = tasks * appends.min(10);
    report(
        "RocksDbWal::append (no group commit, incl. clones)",
        n * POINTS,
        start.elapsed(),
        n,
    );
    trunc.abort();
}
