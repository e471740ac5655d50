//! The file WAL passes the WAL contract of `hyperbyte-testkit`, and recovers from a torn
//! tail by dropping it.

use hyperbyte_domain::{FieldValue, Point, WalEntry};
use hyperbyte_example_file_wal::FileWal;
use hyperbyte_ports::WalPort;
use hyperbyte_testkit::contract::{self, Durability};
use std::io::Write;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_file_wal_passes_the_wal_contract() {
    let dir = tempfile::tempdir().expect("temp dir");
    contract::wal_contract(
        dir.path(),
        |p| FileWal::open(p).expect("open the file WAL"),
        Durability::Durable,
    )
    .await;
}

fn entry(v: f64) -> WalEntry {
    WalEntry {
        database: "db".into(),
        retention_policy: "autogen".into(),
        points: vec![Point {
            measurement: "cpu".into(),
            tags: vec![],
            fields: vec![("v".into(), FieldValue::Float(v))],
            timestamp: 1,
        }],
    }
}

#[tokio::test]
async fn a_torn_tail_is_dropped_and_appends_continue_after_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let wal = FileWal::open(dir.path()).expect("open");
        assert_eq!(wal.append(entry(1.0)).await.expect("append"), 1);
        assert_eq!(wal.append(entry(2.0)).await.expect("append"), 2);
    }
    // A crash in the middle of a third append: half a header and garbage.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("wal.log"))
        .expect("open the log file");
    f.write_all(&[40, 0, 0, 0, 1, 2, 3])
        .expect("write a torn tail");
    drop(f);
    let wal = FileWal::open(dir.path()).expect("reopen");
    let read = wal.read_range(0, 10).await.expect("read");
    assert_eq!(read, vec![(1, entry(1.0)), (2, entry(2.0))]);
    assert_eq!(wal.append(entry(3.0)).await.expect("append"), 3);
    drop(wal);
    let wal = FileWal::open(dir.path()).expect("reopen again");
    assert_eq!(wal.read_range(0, 10).await.expect("read").len(), 3);
}
