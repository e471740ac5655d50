//! Feeding the recent-data tier: in WAL order, ahead of storage on a query's demand,
//! never twice.

use super::tests::{fixture, write, Fixture};
use super::*;
use crate::hot::tests::NothingStored;
use crate::hot::{HotTier, TierFeed};
use hyperbyte_domain::Point;

/// The fixture's flush feeding a tier, rounds of one entry.
fn fed(f: Fixture) -> (Fixture, Arc<HotTier>) {
    fed_with(
        f,
        FlushConfig {
            batch_entries: 1,
            ..FlushConfig::default()
        },
    )
}

/// The fixture's flush with `cfg`, feeding a tier.
fn fed_with(f: Fixture, cfg: FlushConfig) -> (Fixture, Arc<HotTier>) {
    let tier = Arc::new(HotTier::new(1 << 20));
    let feed = Arc::new(TierFeed::new(
        tier.clone(),
        Arc::new(NothingStored::default()),
    ));
    let flush = FlushService::new(f.wal.clone(), f.meta.clone(), f.sink.clone(), cfg)
        .with_hold_store(f.hold.clone())
        .with_tier_feed(feed);
    (Fixture { flush, ..f }, tier)
}

/// (time, v) of measurement `m` as the tier holds it from `min` (`None`: not covered).
fn in_tier(tier: &HotTier, m: &str, min: i64) -> Option<Vec<(i64, f64)>> {
    let fields = vec!["v".to_string()];
    let mut filter = crate::query::ReadFilter::new(None, &fields, Some(min), None);
    let rows = tier.read("db", "autogen", m, &mut filter, None)?;
    Some(
        rows.into_iter()
            .map(|p| {
                let v = match p.fields.values().next() {
                    Some(hyperbyte_domain::query::Value::Float(v)) => *v,
                    other => panic!("not a float: {other:?}"),
                };
                (p.time, v)
            })
            .collect(),
    )
}

/// Flushes the rounds up to and including WAL sequence `target`.
async fn flush_through(f: &Fixture, target: u64) {
    let cursor = f.flush.cursor.lock().await;
    f.flush.flush_counted(cursor, target).await.unwrap();
}

#[tokio::test]
async fn a_catch_up_puts_acknowledged_points_in_the_tier_before_storage_has_them() {
    let (f, tier) = fed(fixture());
    write(&f.wal, &[("good", 10, 1.0)]).await;
    write(&f.wal, &[("good", 20, 2.0)]).await;
    assert!(f.flush.catch_up_tier().await.unwrap());
    assert_eq!(in_tier(&tier, "good", 0), Some(vec![(10, 1.0), (20, 2.0)]));
    assert!(
        f.sink.series_of("good").is_empty(),
        "a catch-up never stores"
    );
    assert_eq!(f.wal.len(), 2, "nor truncates the WAL");
    assert!(!f.flush.is_caught_up());

    // The flush then stores them without putting them in again.
    f.flush.flush_all().await.unwrap();
    assert_eq!(f.sink.series_of("good"), vec![(10, 1.0), (20, 2.0)]);
    assert_eq!(in_tier(&tier, "good", 0), Some(vec![(10, 1.0), (20, 2.0)]));
    assert!(f.flush.is_caught_up());
}

/// A round storing an entry a catch-up fed must not put its older value back over the
/// newer one a later entry brought.
#[tokio::test]
async fn a_round_never_feeds_again_what_a_catch_up_fed() {
    let (f, tier) = fed(fixture());
    write(&f.wal, &[("good", 10, 1.0)]).await;
    write(&f.wal, &[("good", 10, 2.0)]).await;
    assert!(f.flush.catch_up_tier().await.unwrap());
    assert_eq!(in_tier(&tier, "good", 0), Some(vec![(10, 2.0)]));
    // Rounds of one entry: the first stores only the older value.
    let first = f.wal.last_sequence() - 1;
    flush_through(&f, first).await;
    assert_eq!(f.sink.series_of("good"), vec![(10, 1.0)]);
    assert_eq!(in_tier(&tier, "good", 0), Some(vec![(10, 2.0)]));
    f.flush.flush_all().await.unwrap();
    // (The sink logs writes; storage merges them to the later value.)
    assert_eq!(f.sink.series_of("good"), vec![(10, 1.0), (10, 2.0)]);
    assert_eq!(in_tier(&tier, "good", 0), Some(vec![(10, 2.0)]));
}

/// Entries written after a catch-up are fed by the round that stores them, entries the
/// catch-up fed are not: a round straddling the two feeds only its newer members.
#[tokio::test]
async fn a_round_straddling_a_catch_up_feeds_only_the_newer_entries() {
    // One round for everything.
    let (f, tier) = fed_with(fixture(), FlushConfig::default());
    write(&f.wal, &[("good", 10, 1.0)]).await;
    assert!(f.flush.catch_up_tier().await.unwrap());
    // The newer write overwrites 10 and adds 20; the round holds both entries.
    write(&f.wal, &[("good", 10, 3.0), ("good", 20, 2.0)]).await;
    assert_eq!(in_tier(&tier, "good", 0), Some(vec![(10, 1.0)]));
    f.flush.flush_all().await.unwrap();
    assert_eq!(
        f.sink.series_of("good"),
        vec![(10, 1.0), (10, 3.0), (20, 2.0)]
    );
    assert_eq!(in_tier(&tier, "good", 0), Some(vec![(10, 3.0), (20, 2.0)]));
}

/// A table storage refuses: a catch-up may show its acknowledged points before the
/// flush meets the refusal; from then on the tier lets them go, so that reads of the held
/// table answer what storage has, whichever source answers; once storage takes them, the
/// tier claims the table from after them.
#[tokio::test]
async fn points_storage_refuses_leave_the_tier_until_it_takes_them() {
    let (f, tier) = fed(fixture());
    f.sink.refuse("bad", true);
    write(&f.wal, &[("bad", 10, 1.0), ("good", 10, 5.0)]).await;
    assert!(f.flush.catch_up_tier().await.unwrap());
    assert_eq!(in_tier(&tier, "bad", 0), Some(vec![(10, 1.0)]));
    f.flush.flush_all().await.unwrap();
    assert_eq!(f.flush.held_tables().len(), 1);
    assert_eq!(in_tier(&tier, "bad", 0), None);
    assert_eq!(in_tier(&tier, "bad", 11), Some(vec![]));
    assert_eq!(in_tier(&tier, "good", 0), Some(vec![(10, 5.0)]));
    // Later points of the held table are set aside too: a catch-up leaves them out.
    write(&f.wal, &[("bad", 20, 2.0)]).await;
    assert!(f.flush.catch_up_tier().await.unwrap());
    assert_eq!(in_tier(&tier, "bad", 11), None);
    f.flush.flush_all().await.unwrap();
    // Released: stored, and the tier claims the table from after them.
    f.sink.accept_all();
    assert_eq!(f.flush.retry_held(true).await.unwrap(), 1);
    assert_eq!(f.sink.series_of("bad"), vec![(10, 1.0), (20, 2.0)]);
    assert_eq!(in_tier(&tier, "bad", 11), None);
    write(&f.wal, &[("bad", 30, 3.0)]).await;
    f.flush.flush_all().await.unwrap();
    assert_eq!(in_tier(&tier, "bad", 21), Some(vec![(30, 3.0)]));
}

/// After a restart, a table held before it stays out of the tier while it is held (its
/// newer points are set aside behind the old ones), and storing the queue claims nothing:
/// the tier meets the table afresh, from storage's latest time.
#[tokio::test]
async fn a_table_held_before_a_restart_stays_out_of_the_tier() {
    let f = fixture();
    f.sink.refuse("bad", true);
    write(&f.wal, &[("bad", 10, 1.0), ("good", 10, 5.0)]).await;
    f.flush.flush_all().await.unwrap();
    assert_eq!(f.flush.held_tables().len(), 1);
    let (f, tier) = fed(f);
    f.flush.load_held().await.unwrap();
    write(&f.wal, &[("bad", 20, 2.0)]).await;
    assert!(f.flush.catch_up_tier().await.unwrap());
    assert_eq!(in_tier(&tier, "bad", 0), None);
    f.flush.flush_all().await.unwrap();
    assert_eq!(in_tier(&tier, "bad", 0), None);
    f.sink.accept_all();
    assert_eq!(f.flush.retry_held(true).await.unwrap(), 1);
    assert_eq!(f.sink.series_of("bad"), vec![(10, 1.0), (20, 2.0)]);
    assert_eq!(in_tier(&tier, "bad", 0), None);
}

/// A drop or delete that begins while a catch-up reads the WAL: the catch-up puts
/// nothing in (the flush may leave the entries of a dropped table out) and says so, and
/// the query flushes instead.
#[tokio::test]
async fn a_catch_up_during_a_removal_feeds_nothing() {
    let (f, tier) = fed(fixture());
    write(&f.wal, &[("good", 10, 1.0)]).await;
    f.flush.flush_all().await.unwrap();
    write(&f.wal, &[("good", 20, 2.0)]).await;
    {
        let _removing = tier.removing();
        assert!(!f.flush.catch_up_tier().await.unwrap());
    }
    assert_eq!(in_tier(&tier, "good", 0), Some(vec![(10, 1.0)]));
    // Once the removal ended, the flush (or a later catch-up) feeds the entry.
    assert!(f.flush.catch_up_tier().await.unwrap());
    assert_eq!(in_tier(&tier, "good", 0), Some(vec![(10, 1.0), (20, 2.0)]));
}

/// Without a feed there is nothing to catch up: the caller flushes instead.
#[tokio::test]
async fn without_a_feed_a_catch_up_says_so() {
    let f = fixture();
    write(&f.wal, &[("good", 1, 1.0)]).await;
    assert!(!f.flush.catch_up_tier().await.unwrap());
}

/// One point of `good` as the write path hands it over.
fn good(t: i64, v: f64) -> Point {
    Point {
        measurement: "good".into(),
        tags: Vec::new(),
        fields: vec![("v".into(), hyperbyte_domain::FieldValue::Float(v))],
        timestamp: t,
    }
}

/// Writes finish their WAL appends in any order; the tier takes their entries in WAL
/// order, so the later entry's value of a point wins.
#[tokio::test]
async fn writes_feed_the_tier_in_wal_order_whatever_order_they_finish() {
    let (f, tier) = fed(fixture());
    f.flush.catch_up_tier().await.unwrap();
    let ticket = f.flush.tier_ticket();
    write(&f.wal, &[("good", 10, 1.0)]).await;
    let first = f.wal.last_sequence();
    write(&f.wal, &[("good", 10, 2.0), ("good", 20, 3.0)]).await;
    let second = f.wal.last_sequence();
    let (p1, p2) = ([good(10, 1.0)], [good(10, 2.0), good(20, 3.0)]);
    let (v1, v2) = (
        p1.iter().map(PointRef::from_point).collect(),
        p2.iter().map(PointRef::from_point).collect(),
    );
    // The second write asks first: it waits for the first entry's turn.
    let later = f.flush.feed_written(ticket, second, "db", "autogen", v2);
    let earlier = async {
        tokio::task::yield_now().await;
        f.flush
            .feed_written(ticket, first, "db", "autogen", v1)
            .await
    };
    tokio::join!(later, earlier);
    assert_eq!(in_tier(&tier, "good", 0), Some(vec![(10, 2.0), (20, 3.0)]));
    assert!(f.sink.series_of("good").is_empty(), "the tier only");
    // Nothing is left for a read or the flush round to feed again.
    f.flush.writes_feed_tier();
    assert!(f.flush.catch_up_tier().await.unwrap());
    f.flush.flush_all().await.unwrap();
    assert_eq!(in_tier(&tier, "good", 0), Some(vec![(10, 2.0), (20, 3.0)]));
}

/// A write whose predecessor never fed its entry (its request was cancelled after the
/// append) feeds both from the WAL once its turn is late.
#[tokio::test]
async fn a_write_late_for_its_turn_feeds_the_entries_before_it_from_the_wal() {
    let (f, tier) = fed(fixture());
    f.flush.catch_up_tier().await.unwrap();
    let ticket = f.flush.tier_ticket();
    write(&f.wal, &[("good", 10, 1.0)]).await;
    write(&f.wal, &[("good", 20, 2.0)]).await;
    let second = f.wal.last_sequence();
    let mine = [good(20, 2.0)];
    let views = mine.iter().map(PointRef::from_point).collect();
    f.flush
        .feed_written(ticket, second, "db", "autogen", views)
        .await;
    assert_eq!(in_tier(&tier, "good", 0), Some(vec![(10, 1.0), (20, 2.0)]));
}

/// Once every write feeds the tier, a read catches up only what a write left out: an
/// entry whose write is still under way (not acknowledged) is not its to feed.
#[tokio::test]
async fn a_read_does_not_feed_the_entries_of_writes_under_way() {
    let (f, tier) = fed(fixture());
    f.flush.catch_up_tier().await.unwrap();
    f.flush.writes_feed_tier();
    write(&f.wal, &[("good", 10, 1.0)]).await;
    assert!(f.flush.catch_up_tier().await.unwrap());
    assert_eq!(in_tier(&tier, "good", 0), None, "nothing fed");
    // A write acknowledged without feeding its entry is caught up by the next read.
    f.flush
        .acknowledged_unfed
        .fetch_max(f.wal.last_sequence(), Ordering::AcqRel);
    assert!(f.flush.catch_up_tier().await.unwrap());
    assert_eq!(in_tier(&tier, "good", 0), Some(vec![(10, 1.0)]));
}

/// A round that could not establish one of its tables fed the others without moving the
/// cursor: the write of one of its entries must not put its older copy back over a later
/// entry's value.
#[tokio::test]
async fn a_write_never_feeds_again_what_a_partly_fed_round_put_in() {
    let f = fixture();
    let tier = Arc::new(HotTier::new(1 << 20));
    let unknowable = NothingStored(Default::default(), Some("bad"));
    let feed = Arc::new(TierFeed::new(tier.clone(), Arc::new(unknowable)));
    let flush = FlushService::new(
        f.wal.clone(),
        f.meta.clone(),
        f.sink.clone(),
        FlushConfig::default(),
    )
    .with_hold_store(f.hold.clone())
    .with_tier_feed(feed);
    let f = Fixture { flush, ..f };
    f.flush.catch_up_tier().await.unwrap();
    f.flush.writes_feed_tier();
    let ticket = f.flush.tier_ticket();
    write(&f.wal, &[("good", 10, 1.0), ("bad", 10, 1.0)]).await;
    let first = f.wal.last_sequence();
    write(&f.wal, &[("good", 10, 2.0)]).await;
    // One round stores both entries; `good` goes in, `bad` cannot be established.
    f.flush.flush_all().await.unwrap();
    assert_eq!(in_tier(&tier, "good", 0), Some(vec![(10, 2.0)]));
    // The first entry's write comes late for its turn, which is still at its entry.
    let mine = [good(10, 1.0)];
    let views = mine.iter().map(PointRef::from_point).collect();
    f.flush
        .feed_written(ticket, first, "db", "autogen", views)
        .await;
    assert_eq!(in_tier(&tier, "good", 0), Some(vec![(10, 2.0)]));
}

/// A write whose WAL append began during a removal of stored data (or that feeds only
/// after one began) leaves its entry to the next read's catch-up: the removal flushed it
/// into storage and removed its points there, and the write must not wait for a turn
/// that cannot come, nor put the points back.
#[tokio::test]
async fn a_write_begun_during_a_removal_leaves_its_entry_to_the_next_read() {
    let (f, tier) = fed(fixture());
    f.flush.catch_up_tier().await.unwrap();
    f.flush.writes_feed_tier();
    let mine = [good(10, 1.0)];
    {
        let _removing = tier.removing();
        let ticket = f.flush.tier_ticket();
        write(&f.wal, &[("good", 10, 1.0)]).await;
        let views = mine.iter().map(PointRef::from_point).collect();
        let seq = f.wal.last_sequence();
        f.flush
            .feed_written(ticket, seq, "db", "autogen", views)
            .await;
        assert_eq!(in_tier(&tier, "good", 0), None);
    }
    assert!(f.flush.catch_up_tier().await.unwrap());
    assert_eq!(in_tier(&tier, "good", 0), Some(vec![(10, 1.0)]));
    // A write that took its ticket before a removal ran feeds nothing after it.
    let ticket = f.flush.tier_ticket();
    write(&f.wal, &[("good", 20, 2.0)]).await;
    drop(tier.removing());
    let mine = [good(20, 2.0)];
    let views = mine.iter().map(PointRef::from_point).collect();
    let seq = f.wal.last_sequence();
    f.flush
        .feed_written(ticket, seq, "db", "autogen", views)
        .await;
    assert_eq!(in_tier(&tier, "good", 0), Some(vec![(10, 1.0)]));
}
