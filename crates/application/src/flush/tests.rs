//! The flush against the port fakes of `hyperbyte-testkit`: a WAL in memory, a sink that
//! refuses chosen measurements and can fail `sync`, and a hold store in memory.

use super::*;
use crate::retention::tests::MemMeta;
use hyperbyte_domain::{FieldValue, Point, WalEntry};
use hyperbyte_testkit::{MemoryHeld, MemorySink, MemoryWal};

pub(super) struct Fixture {
    pub(super) wal: Arc<MemoryWal>,
    pub(super) meta: Arc<MemMeta>,
    pub(super) sink: Arc<MemorySink>,
    pub(super) hold: Arc<MemoryHeld>,
    pub(super) flush: FlushService,
}

pub(super) fn fixture() -> Fixture {
    let wal = Arc::new(MemoryWal::default());
    let meta = Arc::new(MemMeta::default());
    meta.add_db("db", &[("autogen", 0, 7 * 86_400_000_000_000)]);
    for m in ["good", "bad"] {
        meta.schemas
            .lock()
            .entry(("db".into(), m.into()))
            .or_default()
            .fields
            .insert("v".into(), FieldType::Float);
    }
    let sink = Arc::new(MemorySink::default());
    let hold = Arc::new(MemoryHeld::default());
    let flush = FlushService::new(
        wal.clone(),
        meta.clone(),
        sink.clone(),
        FlushConfig::default(),
    )
    .with_hold_store(hold.clone());
    Fixture {
        wal,
        meta,
        sink,
        hold,
        flush,
    }
}

fn table(m: &str) -> TableRef {
    TableRef {
        database: "db".into(),
        retention_policy: "autogen".into(),
        measurement: m.into(),
    }
}

pub(super) async fn write(wal: &MemoryWal, points: &[(&str, i64, f64)]) {
    let points = points
        .iter()
        .map(|(m, t, v)| Point {
            measurement: m.to_string(),
            tags: Vec::new(),
            fields: vec![("v".into(), FieldValue::Float(*v))],
            timestamp: *t,
        })
        .collect();
    wal.append(WalEntry {
        database: "db".into(),
        retention_policy: "autogen".into(),
        points,
    })
    .await
    .unwrap();
}

/// Entries held for `m` (its queue length).
async fn queued(f: &Fixture, m: &str) -> usize {
    f.hold.entries(&table(m), usize::MAX).await.unwrap().len()
}

#[tokio::test]
async fn a_refused_table_is_set_aside_and_the_rest_flushes_and_truncates() {
    let f = fixture();
    f.sink.refuse("bad", true);
    write(&f.wal, &[("good", 1, 1.0), ("bad", 1, 10.0)]).await;
    write(&f.wal, &[("bad", 2, 20.0), ("good", 2, 2.0)]).await;
    f.flush.flush_all().await.unwrap();
    assert_eq!(f.sink.series_of("good"), vec![(1, 1.0), (2, 2.0)]);
    assert!(f.sink.series_of("bad").is_empty());
    // The WAL is truncated: the refused points live in the hold store, in order.
    assert!(f.wal.is_empty());
    let held = f.flush.held_tables();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].table, table("bad"));
    assert!(held[0].error.contains("code 252"), "{}", held[0].error);
    // One round read both entries: one held entry with both points.
    let page = f.hold.entries(&table("bad"), usize::MAX).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].1.len(), 2);
    assert!(f.flush.holds_points_of("db"));
    assert!(!f.flush.holds_points_of("other"));

    // Later points of the held table follow it, even while storage would take them.
    f.sink.accept_all();
    write(&f.wal, &[("bad", 3, 30.0)]).await;
    f.flush.flush_all().await.unwrap();
    assert!(f.sink.series_of("bad").is_empty());
    assert_eq!(queued(&f, "bad").await, 2);

    // A retry stores them oldest first and releases the table.
    assert_eq!(f.flush.retry_held(true).await.unwrap(), 1);
    assert_eq!(
        f.sink.series_of("bad"),
        vec![(1, 10.0), (2, 20.0), (3, 30.0)]
    );
    assert!(f.flush.held_tables().is_empty());
    assert!(f.hold.tables().await.unwrap().is_empty());
    write(&f.wal, &[("bad", 4, 40.0)]).await;
    f.flush.flush_all().await.unwrap();
    assert_eq!(f.sink.series_of("bad").last(), Some(&(4, 40.0)));
}

#[tokio::test]
async fn a_lone_refused_table_keeps_the_wal_until_it_keeps_failing() {
    let f = fixture();
    f.sink.refuse("bad", true);
    write(&f.wal, &[("bad", 1, 1.0)]).await;
    // Alone in its round, the failure may be storage's: the WAL keeps the points.
    for _ in 1..HOLD_AFTER_LONE_FAILURES {
        assert!(f.flush.flush_all().await.is_err());
        assert_eq!(f.wal.len(), 1);
        assert!(f.flush.held_tables().is_empty());
    }
    // Refused again and again: set aside, the WAL is free.
    f.flush.flush_all().await.unwrap();
    assert!(f.wal.is_empty());
    assert_eq!(f.flush.held_tables().len(), 1);
    assert_eq!(queued(&f, "bad").await, 1);
}

#[tokio::test]
async fn a_busy_engine_never_sets_a_table_aside() {
    let f = fixture();
    f.sink.busy("bad", true);
    write(&f.wal, &[("good", 1, 1.0), ("bad", 1, 1.0)]).await;
    for _ in 0..HOLD_AFTER_LONE_FAILURES + 2 {
        assert!(f.flush.flush_all().await.is_err());
        assert!(f.flush.held_tables().is_empty());
    }
    // The WAL keeps everything until the engine has room again.
    assert!(!f.wal.is_empty());
    f.sink.busy("bad", false);
    f.flush.flush_all().await.unwrap();
    assert!(f.wal.is_empty());
    assert_eq!(f.sink.series_of("bad"), vec![(1, 1.0)]);
    assert_eq!(queued(&f, "bad").await, 0);
}

#[tokio::test]
async fn a_round_where_every_table_fails_keeps_the_wal() {
    let f = fixture();
    f.sink.refuse("bad", true);
    f.sink.refuse("good", true);
    for _ in 0..5 {
        write(&f.wal, &[("good", 1, 1.0), ("bad", 1, 1.0)]).await;
        assert!(f.flush.flush_all().await.is_err());
    }
    assert_eq!(f.wal.len(), 5);
    assert!(f.flush.held_tables().is_empty());
    f.sink.accept_all();
    f.flush.flush_all().await.unwrap();
    assert_eq!(f.sink.series_of("good").len(), 5);
}

#[tokio::test]
async fn retries_wait_for_their_delay_and_keep_failing_tables_held() {
    let f = fixture();
    f.sink.refuse("bad", true);
    write(&f.wal, &[("good", 1, 1.0), ("bad", 1, 1.0)]).await;
    f.flush.flush_all().await.unwrap();
    // Not due yet (1 s after the first failure).
    assert_eq!(f.flush.retry_held(false).await.unwrap(), 0);
    assert_eq!(f.flush.held_tables()[0].attempts, 1);
    assert_eq!(f.flush.retry_held(true).await.unwrap(), 0);
    assert_eq!(f.flush.held_tables()[0].attempts, 2);
    assert_eq!(queued(&f, "bad").await, 1);
}

#[tokio::test]
async fn a_long_queue_is_stored_page_by_page_in_order() {
    let wal = Arc::new(MemoryWal::default());
    let f = fixture();
    let flush = FlushService::new(
        wal.clone(),
        f.meta.clone(),
        f.sink.clone(),
        FlushConfig {
            batch_points: 2,
            batch_entries: 1,
            ..FlushConfig::default()
        },
    )
    .with_hold_store(f.hold.clone());
    f.sink.refuse("bad", true);
    for t in 0..40 {
        write(&wal, &[("good", t, 0.0), ("bad", t, t as f64)]).await;
    }
    flush.flush_all().await.unwrap();
    assert_eq!(queued(&f, "bad").await, 40);
    f.sink.accept_all();
    // 16 pages per retry, 2 points each (one per entry here).
    assert_eq!(flush.retry_held(true).await.unwrap(), 0);
    assert_eq!(queued(&f, "bad").await, 40 - 16 * 2);
    // Storage refuses in the middle: nothing is lost, order is kept on the next try.
    f.sink.refuse("bad", true);
    assert_eq!(flush.retry_held(true).await.unwrap(), 0);
    f.sink.accept_all();
    assert_eq!(flush.retry_held(true).await.unwrap(), 1);
    let values: Vec<f64> = f.sink.series_of("bad").iter().map(|(_, v)| *v).collect();
    assert_eq!(values, (0..40).map(f64::from).collect::<Vec<_>>());
}

#[tokio::test]
async fn held_tables_survive_a_restart_and_keep_their_order() {
    let f = fixture();
    f.sink.refuse("bad", true);
    write(&f.wal, &[("good", 1, 1.0), ("bad", 1, 1.0)]).await;
    f.flush.flush_all().await.unwrap();
    // A new service over the same stores (a restart): the table is still held, so
    // its next points queue behind the first instead of overtaking them.
    f.sink.accept_all();
    let restarted = FlushService::new(
        f.wal.clone(),
        f.meta.clone(),
        f.sink.clone(),
        FlushConfig::default(),
    )
    .with_hold_store(f.hold.clone());
    assert_eq!(restarted.load_held().await.unwrap(), 1);
    write(&f.wal, &[("bad", 1, 2.0)]).await;
    restarted.flush_all().await.unwrap();
    assert!(f.sink.series_of("bad").is_empty());
    restarted.retry_held(true).await.unwrap();
    assert_eq!(f.sink.series_of("bad"), vec![(1, 1.0), (1, 2.0)]);
}

#[tokio::test]
async fn drops_discard_held_points_and_deletes_are_refused_while_held() {
    let f = fixture();
    f.sink.refuse("bad", true);
    write(&f.wal, &[("bad", 1, 1.0), ("good", 1, 1.0)]).await;
    f.flush.flush_all().await.unwrap();
    let err = f.flush.prepare_delete("db").await.unwrap_err();
    assert!(
        err.to_string().starts_with("measurement \"bad\" (retention policy \"autogen\") has points storage refused and set aside (storage engine error (code 252)"),
        "{err}"
    );
    // Other databases are not affected.
    f.flush.prepare_delete("other").await.unwrap();
    // Dropping another measurement leaves the held one alone.
    f.flush
        .discard_dropped("db", None, Some("good"))
        .await
        .unwrap();
    assert_eq!(f.flush.held_tables().len(), 1);
    f.flush
        .discard_dropped("db", Some("autogen"), Some("bad"))
        .await
        .unwrap();
    assert!(f.flush.held_tables().is_empty());
    assert!(f.hold.tables().await.unwrap().is_empty());
    assert!(f.sink.series_of("bad").is_empty());
    f.flush.prepare_delete("db").await.unwrap();
}

#[tokio::test]
async fn a_table_dropped_from_metadata_is_released_without_writing() {
    let f = fixture();
    f.sink.refuse("bad", true);
    write(&f.wal, &[("good", 1, 1.0), ("bad", 1, 1.0)]).await;
    f.flush.flush_all().await.unwrap();
    f.meta
        .schemas
        .lock()
        .remove(&("db".to_string(), "bad".to_string()));
    assert_eq!(f.flush.retry_held(true).await.unwrap(), 1);
    assert!(f.flush.held_tables().is_empty());
    assert!(f.sink.series_of("bad").is_empty());
}

#[tokio::test]
async fn without_a_hold_store_a_refused_table_fails_the_round_and_keeps_the_wal() {
    let wal = Arc::new(MemoryWal::default());
    let f = fixture();
    f.sink.refuse("bad", true);
    let flush = FlushService::new(
        wal.clone(),
        f.meta.clone(),
        f.sink.clone(),
        FlushConfig::default(),
    );
    write(&wal, &[("good", 1, 1.0), ("bad", 1, 1.0)]).await;
    assert!(flush.flush_all().await.is_err());
    assert_eq!(wal.len(), 1);
}

#[test]
fn retry_delays_start_at_a_second_and_stay_bounded() {
    assert_eq!(retry_delay(1), Duration::from_secs(1));
    assert_eq!(retry_delay(2), Duration::from_secs(2));
    assert_eq!(retry_delay(4), Duration::from_secs(8));
    assert_eq!(retry_delay(6), MAX_RETRY_DELAY);
    assert_eq!(retry_delay(u32::MAX), MAX_RETRY_DELAY);
}

#[tokio::test]
async fn a_failed_sync_never_truncates_and_the_next_round_replays() {
    let f = fixture();
    write(&f.wal, &[("good", 1, 1.0)]).await;
    write(&f.wal, &[("good", 2, 2.0)]).await;
    f.sink.fail_sync(true);
    assert!(f.flush.flush_all().await.is_err());
    // Written but not durable: the WAL keeps every entry.
    assert_eq!(f.wal.sequences(), vec![1, 2]);
    assert!(f.wal.truncations().is_empty());
    assert!(f.sink.durable().is_empty());
    f.sink.fail_sync(false);
    f.flush.flush_all().await.unwrap();
    assert!(f.wal.is_empty());
    assert_eq!(f.wal.truncations(), vec![3]);
    // The replay wrote the points again; storage merges same series and time (the sink
    // port's contract), so a reader sees each once.
    let durable: Vec<i64> = f.sink.durable().iter().map(|s| s.point.timestamp).collect();
    assert_eq!(durable, vec![1, 2, 1, 2]);
}

#[tokio::test]
async fn a_failed_truncate_keeps_the_entries_for_the_next_round() {
    let f = fixture();
    write(&f.wal, &[("good", 1, 1.0)]).await;
    f.wal.fail_truncates(true);
    assert!(f.flush.flush_all().await.is_err());
    assert_eq!(f.wal.sequences(), vec![1]);
    // The points were made durable before the truncate was tried.
    assert_eq!(f.sink.durable().len(), 1);
    f.wal.fail_truncates(false);
    write(&f.wal, &[("good", 2, 2.0)]).await;
    f.flush.flush_all().await.unwrap();
    assert!(f.wal.is_empty());
    assert_eq!(f.sink.series_of("good").last(), Some(&(2, 2.0)));
}

#[tokio::test]
async fn entries_reach_storage_in_sequence_order_across_small_rounds() {
    let f = fixture();
    let flush = FlushService::new(
        f.wal.clone(),
        f.meta.clone(),
        f.sink.clone(),
        FlushConfig {
            batch_points: 3,
            batch_entries: 2,
            ..FlushConfig::default()
        },
    );
    for t in 0..25 {
        write(
            &f.wal,
            &[("good", t, t as f64), ("good", t, t as f64 + 0.5)],
        )
        .await;
    }
    flush.flush_all().await.unwrap();
    assert!(f.wal.is_empty());
    let values: Vec<f64> = f.sink.series_of("good").iter().map(|(_, v)| *v).collect();
    let expected: Vec<f64> = (0..25).flat_map(|t| [t as f64, t as f64 + 0.5]).collect();
    assert_eq!(values, expected);
    // Every truncation only ever moved forward, each after a sync.
    let cuts = f.wal.truncations();
    assert!(cuts.windows(2).all(|w| w[0] < w[1]), "{cuts:?}");
    assert!(f.sink.syncs() >= cuts.len());
}

#[tokio::test]
async fn a_restarted_service_flushes_what_the_wal_kept() {
    let f = fixture();
    write(&f.wal, &[("good", 1, 1.0)]).await;
    f.sink.fail_sync(true);
    assert!(f.flush.flush_all().await.is_err());
    f.sink.fail_sync(false);
    // A crash after the failed round: a new service over the same WAL and storage.
    let restarted = FlushService::new(
        f.wal.clone(),
        f.meta.clone(),
        f.sink.clone(),
        FlushConfig::default(),
    );
    assert!(restarted.has_backlog().await);
    restarted.flush_all().await.unwrap();
    assert!(f.wal.is_empty());
    assert!(!restarted.has_backlog().await);
    assert_eq!(f.sink.durable().last().map(|s| s.point.timestamp), Some(1));
}

#[tokio::test]
async fn counters_follow_the_rounds_and_the_backlog() {
    let f = fixture();
    let c = f.flush.counters();
    assert_eq!((c.rounds, c.points, c.backlog_entries), (0, 0, 0));
    assert_eq!(c.lag_seconds, 0.0);
    write(&f.wal, &[("good", 1, 1.0), ("good", 2, 2.0)]).await;
    write(&f.wal, &[("good", 3, 3.0)]).await;
    let c = f.flush.counters();
    assert_eq!(c.backlog_entries, 2);
    f.flush.flush_all().await.unwrap();
    let c = f.flush.counters();
    assert_eq!((c.rounds, c.points, c.entries), (1, 3, 2));
    assert_eq!((c.backlog_entries, c.failures), (0, 0));
    assert_eq!(c.duration.count, 1);
    // A flush with nothing to move is not a round.
    f.flush.flush_all().await.unwrap();
    assert_eq!(f.flush.counters().rounds, 1);
}

/// A batch's schema holds every tag key any of its points carries, whether the key lists
/// repeat, alternate or change (the schema skips lookups for repeated lists), and side
/// columns for values of another type than the field's.
#[test]
fn batch_schema_has_every_tag_key_and_side_field() {
    let mut full = MeasurementSchema::default();
    full.fields.insert("v".into(), FieldType::Float);
    let point = |tags: &[(&str, &str)], v: FieldValue| Point {
        measurement: "m".into(),
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        fields: vec![("v".into(), v)],
        timestamp: 1,
    };
    let points = [
        point(&[("a", "1"), ("b", "1")], FieldValue::Float(1.0)),
        point(&[("a", "2"), ("b", "2")], FieldValue::Float(2.0)),
        point(&[("c", "1")], FieldValue::Float(3.0)),
        point(&[("a", "3"), ("b", "3")], FieldValue::Integer(4)),
        point(&[("a", "4"), ("d", "1")], FieldValue::Float(5.0)),
        point(&[], FieldValue::Float(6.0)),
        point(&[("e", "1")], FieldValue::Float(7.0)),
    ];
    let mut views: Vec<PointRef<'_>> = points.iter().map(PointRef::from_point).collect();
    let schema = batch_schema(&full, &mut views);
    let keys: Vec<&str> = schema.tag_keys.iter().map(String::as_str).collect();
    assert_eq!(keys, ["a", "b", "c", "d", "e"]);
    let side = hyperbyte_domain::side_field_name("v", FieldType::Integer);
    assert_eq!(schema.fields.get("v"), Some(&FieldType::Float));
    assert_eq!(schema.fields.get(&side), Some(&FieldType::Integer));
    assert_eq!(views[3].fields[0].0, side);
}

/// The storage write's views borrow: tags from the entries' series, fields from one
/// arena for the group. They read exactly as the views that own their fields, and the
/// schema's move of a value of another type to its side column copies only that point's
/// fields, leaving the arena (shared by every view) as it was.
#[test]
fn a_rounds_views_borrow_and_read_as_owned_ones() {
    let mut full = MeasurementSchema::default();
    full.fields.insert("v".into(), FieldType::Float);
    full.fields.insert("s".into(), FieldType::String);
    let point = |host: &str, t: i64, fields: Vec<(&str, FieldValue)>| Point {
        measurement: "m".into(),
        tags: vec![("host".into(), host.into())],
        fields: fields.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        timestamp: t,
    };
    let entry = |points: Vec<Point>| {
        CompactEntry::from_entry(WalEntry {
            database: "db".into(),
            retention_policy: "autogen".into(),
            points,
        })
    };
    let entries = vec![
        entry(vec![
            point("a", 1, vec![("v", FieldValue::Float(1.0))]),
            point(
                "b",
                1,
                vec![
                    ("v", FieldValue::Float(2.0)),
                    ("s", FieldValue::String("x\"y".into())),
                ],
            ),
        ]),
        entry(vec![
            point("a", 2, vec![("v", FieldValue::Integer(3))]),
            point("b", 2, vec![("s", FieldValue::String(String::new()))]),
        ]),
    ];
    let group = Group {
        database: "db".into(),
        rp: RetentionPolicy::autogen(),
        measurement: "m".into(),
        full: full.clone(),
        members: vec![(0, 1), (1, 0), (0, 0), (1, 1)],
    };
    let owned = group.views(&entries);
    let arena = group.field_arena(&entries);
    let mut borrowed = group.views_over(&entries, &arena);
    assert_eq!(borrowed, owned);
    assert_eq!(arena.len(), 5);
    assert!(borrowed.iter().all(|v| matches!(
        (&v.tags, &v.fields),
        (ListRef::Borrowed(_), ListRef::Borrowed(_))
    )));
    let schema = batch_schema(&full, &mut borrowed);
    let side = hyperbyte_domain::side_field_name("v", FieldType::Integer);
    assert_eq!(schema.fields.get(&side), Some(&FieldType::Integer));
    // Only the integer point (member 1) owns its fields now.
    assert_eq!(borrowed[1].fields[0].0, side);
    assert!(matches!(borrowed[1].fields, ListRef::Owned(_)));
    for i in [0, 2, 3] {
        assert!(
            matches!(borrowed[i].fields, ListRef::Borrowed(_)),
            "view {i}"
        );
    }
    assert_eq!(arena[2].0, "v", "the arena keeps the written name");
}

/// A sink whose writes of measurement `slow` wait for a permit (a long storage insert).
#[derive(Debug)]
struct GatedSink {
    inner: Arc<MemorySink>,
    permits: tokio::sync::Semaphore,
    entered: tokio::sync::Notify,
}

#[async_trait::async_trait]
impl PointsSinkPort for GatedSink {
    async fn write_views(
        &self,
        database: &str,
        rp: &RetentionPolicy,
        measurement: &str,
        schema: &MeasurementSchema,
        points: &[PointRef<'_>],
    ) -> Result<(), hyperbyte_ports::SinkError> {
        if measurement == "slow" {
            self.entered.notify_one();
            self.permits.acquire().await.unwrap().forget();
        }
        self.inner
            .write_views(database, rp, measurement, schema, points)
            .await
    }

    async fn sync(&self) -> Result<(), hyperbyte_ports::SinkError> {
        self.inner.sync().await
    }
}

/// Waits for a reader that must be done soon, and requires its success.
async fn returns_soon(task: tokio::task::JoinHandle<Result<(), FlushError>>, why: &str) {
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect(why)
        .unwrap()
        .unwrap();
}

/// A query waits until the entries acknowledged before it are flushed, and no longer:
/// not for another flush that holds the rounds to reach its own, later target.
#[tokio::test]
async fn a_reader_waits_only_for_the_entries_before_it() {
    let f = fixture();
    f.meta
        .schemas
        .lock()
        .entry(("db".into(), "slow".into()))
        .or_default()
        .fields
        .insert("v".into(), FieldType::Float);
    let sink = Arc::new(GatedSink {
        inner: f.sink.clone(),
        permits: tokio::sync::Semaphore::new(0),
        entered: tokio::sync::Notify::new(),
    });
    let flush = Arc::new(FlushService::new(
        f.wal.clone(),
        f.meta.clone(),
        sink.clone(),
        FlushConfig {
            batch_entries: 1,
            ..FlushConfig::default()
        },
    ));
    let spawn_flush = |flush: &Arc<FlushService>| {
        let flush = flush.clone();
        tokio::spawn(async move { flush.flush_all().await })
    };
    write(&f.wal, &[("slow", 1, 1.0)]).await;
    let first = spawn_flush(&flush);
    sink.entered.notified().await;
    // A reader of the first entry, then a second entry and a flush that will take it.
    let spawn_reader = |flush: &Arc<FlushService>| {
        let flush = flush.clone();
        tokio::spawn(async move { flush.ensure_visible().await })
    };
    let reader = spawn_reader(&flush);
    tokio::task::yield_now().await;
    write(&f.wal, &[("slow", 2, 2.0)]).await;
    let second = spawn_flush(&flush);
    tokio::task::yield_now().await;
    assert!(
        !reader.is_finished(),
        "the first entry is not in storage yet"
    );
    // The first entry's write ends: the reader returns while the second flush waits in
    // storage with the rounds held.
    sink.permits.add_permits(1);
    returns_soon(
        reader,
        "a reader of the first entry does not wait for the second",
    )
    .await;
    first.await.unwrap().unwrap();
    sink.entered.notified().await;
    assert!(!second.is_finished());
    assert_eq!(f.sink.series_of("slow").len(), 1);
    // A reader of both entries waits for the second.
    let both = spawn_reader(&flush);
    tokio::task::yield_now().await;
    assert!(
        !both.is_finished(),
        "the second entry is not in storage yet"
    );
    sink.permits.add_permits(1);
    returns_soon(both, "returns once the flush passes its entries").await;
    second.await.unwrap().unwrap();
    assert!(f.wal.is_empty());
    assert_eq!(f.sink.series_of("slow").len(), 2);
}
