//! The tier against its invariants: field-wise merges, coverage, eviction, aggregates
//! equal to the pushdown SQL's.

use super::table::{Series, Table};
use super::*;
use hyperbyte_domain::{FieldRef, FieldValue, ListRef, Point, TagRef, Window};
use std::borrow::Cow;

pub(super) fn pt(host: &str, t: i64, fields: Vec<(&str, FieldValue)>) -> Point {
    Point {
        measurement: "m".into(),
        tags: vec![("host".into(), host.into())],
        fields: fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        timestamp: t,
    }
}

/// A point's fields as (name, value) pairs.
fn named(fields: super::FieldMap) -> Vec<(String, Value)> {
    fields
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

fn times_and_fields(rows: Vec<HotPoint>) -> Vec<(i64, Vec<(String, Value)>)> {
    rows.into_iter()
        .map(|p| (p.time, named(p.fields)))
        .collect()
}

pub(super) fn id() -> TableId {
    ("db".into(), "autogen".into(), "m".into())
}

fn all<'a>(fields: &'a [String], min: Option<i64>) -> ReadFilter<'a> {
    ReadFilter::new(None, fields, min, None)
}

#[test]
fn merges_field_by_field_and_keeps_time_order() {
    let tier = HotTier::new(1 << 20);
    tier.start(&id(), None);
    tier.insert(
        &id(),
        Some(0),
        &[
            pt("a", 20, vec![("x", FieldValue::Float(2.0))]),
            pt("a", 10, vec![("x", FieldValue::Float(1.0))]),
            pt("a", 20, vec![("y", FieldValue::Integer(5))]),
            pt("a", 20, vec![("x", FieldValue::Float(3.0))]),
        ],
    );
    let fields = vec!["x".to_string(), "y".to_string()];
    let rows = tier
        .read("db", "autogen", "m", &mut all(&fields, None), None)
        .unwrap();
    let got = times_and_fields(rows);
    assert_eq!(
        got,
        vec![
            (10, vec![("x".into(), Value::Float(1.0))]),
            (
                20,
                vec![
                    ("x".into(), Value::Float(3.0)),
                    ("y".into(), Value::Integer(5))
                ]
            ),
        ]
    );
}

/// One row the tier read back: host tag, time, fields.
type Row = (String, i64, Vec<(String, Value)>);

/// Every row of `m` with `fields`, by host then time.
fn rows_by_host(tier: &HotTier, fields: &[String]) -> Vec<Row> {
    let mut rows: Vec<Row> = tier
        .read("db", "autogen", "m", &mut all(fields, None), None)
        .unwrap()
        .into_iter()
        .map(|p| (p.tags["host"].clone(), p.time, named(p.fields)))
        .collect();
    rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    rows
}

/// A row of host `h` at `t` with one field.
fn row(h: &str, t: i64, f: &str, v: Value) -> Row {
    (h.to_string(), t, vec![(f.to_string(), v)])
}

/// Rows of one float field `x`, as [`times_and_fields`] gives them.
fn x_rows(rows: impl IntoIterator<Item = (i64, f64)>) -> Vec<(i64, Vec<(String, Value)>)> {
    rows.into_iter()
        .map(|(t, v)| (t, vec![("x".to_string(), Value::Float(v))]))
        .collect()
}

/// Two series sharing a hash stay apart, and each keeps its points' written order (the
/// later write of a field wins) while their points alternate in the batch.
#[test]
fn series_sharing_a_hash_stay_apart_in_written_order() {
    let tier = HotTier::new(1 << 20);
    tier.start(&id(), None);
    let points = [
        pt("a", 20, vec![("x", FieldValue::Float(1.0))]),
        pt("b", 20, vec![("x", FieldValue::Float(10.0))]),
        pt("a", 20, vec![("x", FieldValue::Float(2.0))]),
        pt("b", 10, vec![("y", FieldValue::Integer(5))]),
        pt("a", 10, vec![("y", FieldValue::Integer(3))]),
        pt("b", 20, vec![("x", FieldValue::Float(11.0))]),
    ];
    let views: Vec<PointRef<'_>> = points
        .iter()
        .map(|p| PointRef {
            series_hash: Some(7),
            ..PointRef::from_point(p)
        })
        .collect();
    tier.insert_views(&id(), tier.epoch(&id()), &views);
    let fields = vec!["x".to_string(), "y".to_string()];
    assert_eq!(
        rows_by_host(&tier, &fields),
        vec![
            row("a", 10, "y", Value::Integer(3)),
            row("a", 20, "x", Value::Float(2.0)),
            row("b", 10, "y", Value::Integer(5)),
            row("b", 20, "x", Value::Float(11.0)),
        ]
    );
    assert_eq!(tier.bytes(), recounted(&tier));
}

/// Points that borrow one tag list (a flush round's points of one series in one WAL
/// entry), an owned copy of it, and a second list with equal tags all land in one series;
/// a list of other tags at the same hash stays its own series.
#[test]
fn borrowed_owned_and_copied_tag_lists_find_the_same_series() {
    let tier = HotTier::new(1 << 20);
    tier.start(&id(), None);
    fn tag(h: &str) -> Vec<TagRef<'static>> {
        vec![(Cow::Borrowed("host"), Cow::Owned(h.to_string()))]
    }
    fn view<'a>(tags: ListRef<'a, TagRef<'a>>, t: i64, v: f64) -> PointRef<'a> {
        PointRef {
            measurement: Cow::Borrowed("m"),
            tags,
            fields: ListRef::Owned(vec![(Cow::Borrowed("x"), FieldRef::Float(v))]),
            timestamp: t,
            repeated_field: None,
            series_hash: Some(7),
        }
    }
    let (a, a_again, b) = (tag("a"), tag("a"), tag("b"));
    let views = vec![
        view(ListRef::Borrowed(&a), 10, 1.0),
        view(ListRef::Borrowed(&b), 10, 100.0),
        view(ListRef::Borrowed(&a), 20, 2.0),
        view(ListRef::Owned(a.clone()), 30, 3.0),
        view(ListRef::Borrowed(&a_again), 40, 4.0),
        view(ListRef::Borrowed(&b), 20, 200.0),
    ];
    tier.insert_views(&id(), tier.epoch(&id()), &views);
    let fields = vec!["x".to_string()];
    let x = |h: &str, t: i64, v: f64| row(h, t, "x", Value::Float(v));
    assert_eq!(
        rows_by_host(&tier, &fields),
        vec![
            x("a", 10, 1.0),
            x("a", 20, 2.0),
            x("a", 30, 3.0),
            x("a", 40, 4.0),
            x("b", 10, 100.0),
            x("b", 20, 200.0),
        ]
    );
    assert_eq!(tier.bytes(), recounted(&tier));
}

/// Late points land in time order wherever they belong: among the newest rows (searched
/// first), far before them, before the first row, and on an existing row (merged).
#[test]
fn late_points_land_in_order_near_the_end_and_far_from_it() {
    let tier = HotTier::new(1 << 20);
    tier.start(&id(), None);
    let x = |t: i64, v: f64| pt("a", t, vec![("x", FieldValue::Float(v))]);
    let mut points: Vec<Point> = (1..=40).map(|t| x(t * 10, t as f64)).collect();
    points.extend([
        x(395, -1.0),
        x(55, -2.0),
        x(5, -3.0),
        x(380, -4.0),
        x(100, -5.0),
    ]);
    tier.insert(&id(), Some(0), &points);
    let fields = vec!["x".to_string()];
    let got = times_and_fields(
        tier.read("db", "autogen", "m", &mut all(&fields, None), None)
            .unwrap(),
    );
    let mut want: Vec<(i64, f64)> = (1..=40).map(|t| (t * 10, t as f64)).collect();
    want.extend([(395, -1.0), (55, -2.0), (5, -3.0)]);
    for (t, v) in [(380, -4.0), (100, -5.0)] {
        if let Some(row) = want.iter_mut().find(|(wt, _)| *wt == t) {
            row.1 = v;
        }
    }
    want.sort_by_key(|(t, _)| *t);
    assert_eq!(got, x_rows(want));
    assert_eq!(tier.bytes(), recounted(&tier));
}

#[test]
fn coverage_starts_after_stored_data_and_ends_at_invalidation() {
    let tier = HotTier::new(1 << 20);
    tier.start(&id(), Some(100));
    tier.insert(
        &id(),
        Some(0),
        &[
            pt("a", 50, vec![("x", FieldValue::Float(1.0))]),
            pt("a", 150, vec![("x", FieldValue::Float(2.0))]),
        ],
    );
    assert!(!tier.covers("db", "autogen", "m", None));
    assert!(!tier.covers("db", "autogen", "m", Some(100)));
    assert!(tier.covers("db", "autogen", "m", Some(101)));
    let fields = vec!["x".to_string()];
    let rows = tier
        .read("db", "autogen", "m", &mut all(&fields, Some(101)), None)
        .unwrap();
    assert_eq!(rows.len(), 1, "the late point at 50 is outside the claim");
    assert!(tier
        .read("db", "autogen", "m", &mut all(&fields, None), None)
        .is_none());
    tier.invalidate(|_| true);
    assert!(!tier.covers("db", "autogen", "m", Some(101)));
    assert!(tier.covers("db", "autogen", "m", Some(151)));
}

#[test]
fn a_batch_written_before_an_invalidation_is_not_added_after_it() {
    let tier = HotTier::new(1 << 20);
    tier.start(&id(), None);
    let epoch = tier.epoch(&id());
    // A DELETE invalidates while the batch is being written to storage.
    tier.invalidate(|_| true);
    tier.insert(
        &id(),
        epoch,
        &[pt("a", 500, vec![("x", FieldValue::Float(1.0))])],
    );
    let fields = vec!["x".to_string()];
    assert!(tier
        .read("db", "autogen", "m", &mut all(&fields, Some(0)), None)
        .is_none());
    assert!(!tier.covers("db", "autogen", "m", Some(500)));
    assert!(tier.covers("db", "autogen", "m", Some(501)));
    // Retention keeps what is newer than its cutoff.
    tier.insert(
        &id(),
        tier.epoch(&id()),
        &[
            pt("a", 600, vec![("x", FieldValue::Float(2.0))]),
            pt("a", 700, vec![("x", FieldValue::Float(3.0))]),
        ],
    );
    tier.forget_before(|_| true, 650);
    let rows = tier
        .read("db", "autogen", "m", &mut all(&fields, Some(650)), None)
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(!tier.covers("db", "autogen", "m", Some(600)));
}

#[test]
fn eviction_drops_the_oldest_rows_and_coverage_with_them() {
    let tier = HotTier::new(20_000);
    tier.start(&id(), None);
    let pts: Vec<Point> = (0..2_000)
        .map(|i| pt("a", i, vec![("x", FieldValue::Float(i as f64))]))
        .collect();
    tier.insert(&id(), Some(0), &pts);
    assert!(tier.bytes() <= 20_000, "{}", tier.bytes());
    assert!(!tier.covers("db", "autogen", "m", None));
    assert!(tier.covers("db", "autogen", "m", Some(1_999)));
    let fields = vec!["x".to_string()];
    let rows = tier
        .read("db", "autogen", "m", &mut all(&fields, Some(1_990)), None)
        .unwrap();
    assert_eq!(rows.len(), 10);
}

/// Every series' [`Series::bytes`], counted from scratch.
pub(super) fn recounted(tier: &HotTier) -> usize {
    let tables = tier.tables.read();
    tables
        .values()
        .map(|t| {
            t.all_series().map(Series::bytes).sum::<usize>()
                + t.older.as_ref().map_or(0, |o| o.recount())
                + t.series.index_bytes()
        })
        .sum()
}

#[test]
fn aggregates_like_the_pushdown_sql() {
    let tier = HotTier::new(1 << 20);
    tier.start(&id(), None);
    let mut pts = Vec::new();
    for (h, base) in [("a", 0.0), ("b", 100.0)] {
        for i in 0..6i64 {
            pts.push(pt(
                h,
                i * 10,
                vec![("x", FieldValue::Float(base + i as f64))],
            ));
        }
    }
    pts.push(pt("b", 25, vec![("y", FieldValue::Integer(4))]));
    tier.insert(&id(), Some(0), &pts);
    let fields = vec!["x".to_string(), "y".to_string()];
    let specs: Vec<(Agg, String)> = [
        (Agg::Count, "x"),
        (Agg::Sum, "x"),
        (Agg::Mean, "x"),
        (Agg::Min, "x"),
        (Agg::Max, "x"),
        (Agg::Spread, "x"),
        (Agg::First, "x"),
        (Agg::Last, "x"),
        (Agg::Count, "y"),
        (Agg::Sum, "y"),
    ]
    .into_iter()
    .map(|(a, f)| (a, f.to_string()))
    .collect();
    let rows = tier
        .aggregate(
            ("db", "autogen", "m"),
            &mut all(&fields, Some(0)),
            &[],
            Some(&Window::new(30, 0)),
            &specs,
            1_000,
        )
        .unwrap();
    use Value::{Float as F, Integer as I, Null, Unsigned as U};
    assert_eq!(
        rows,
        vec![
            vec![
                I(0),
                U(6),
                F(306.0),
                F(51.0),
                F(0.0),
                F(102.0),
                F(102.0),
                F(100.0),
                F(102.0),
                U(1),
                I(4)
            ],
            vec![
                I(30),
                U(6),
                F(324.0),
                F(54.0),
                F(3.0),
                F(105.0),
                F(102.0),
                F(103.0),
                F(105.0),
                U(0),
                Null
            ],
        ]
    );
    // Grouped by host, and too many rows gives up.
    let rows = tier
        .aggregate(
            ("db", "autogen", "m"),
            &mut all(&fields, None),
            &["host".to_string()],
            None,
            &specs[..1],
            1_000,
        )
        .unwrap();
    assert_eq!(
        rows,
        vec![
            vec![Value::String("a".into()), I(0), U(6)],
            vec![Value::String("b".into()), I(0), U(6)],
        ]
    );
    assert!(tier
        .aggregate(
            ("db", "autogen", "m"),
            &mut all(&fields, None),
            &[],
            None,
            &specs,
            5
        )
        .is_none());
}

#[test]
fn row_checks_see_only_their_fields_and_filter_before_building() {
    let tier = HotTier::new(1 << 20);
    tier.start(&id(), None);
    let pts: Vec<Point> = (0..5)
        .map(|i| {
            pt(
                "a",
                i,
                vec![
                    ("x", FieldValue::Float(i as f64)),
                    ("y", FieldValue::Integer(-i)),
                ],
            )
        })
        .collect();
    tier.insert(&id(), Some(0), &pts);
    let wanted = vec!["y".to_string()];
    let probe = vec!["x".to_string()];
    let mut seen = Vec::new();
    let mut keep = |p: HotPoint| {
        seen.push(p.fields.keys().map(|k| k.to_string()).collect::<Vec<_>>());
        matches!(p.fields.get("x"), Some(Value::Float(x)) if *x >= 3.0)
    };
    let check = RowCheck {
        fields: &probe,
        keep: &mut keep,
    };
    let rows = tier
        .read("db", "autogen", "m", &mut all(&wanted, None), Some(check))
        .unwrap();
    let got = times_and_fields(rows);
    assert_eq!(
        got,
        vec![
            (3, vec![("y".into(), Value::Integer(-3))]),
            (4, vec![("y".into(), Value::Integer(-4))]),
        ]
    );
    assert_eq!(seen.len(), 5);
    assert!(seen.iter().all(|f| f == &["x".to_string()]));
}

#[test]
fn latest_points_per_field() {
    let tier = HotTier::new(1 << 20);
    tier.start(&id(), None);
    tier.insert(
        &id(),
        Some(0),
        &[
            pt(
                "a",
                1,
                vec![("x", FieldValue::Float(1.0)), ("y", FieldValue::Float(9.0))],
            ),
            pt("a", 2, vec![("x", FieldValue::Float(2.0))]),
            pt("b", 1, vec![("y", FieldValue::Float(7.0))]),
        ],
    );
    let fields = vec!["x".to_string(), "y".to_string()];
    let mut rows = tier
        .read_latest("db", "autogen", "m", &mut all(&fields, None))
        .unwrap();
    rows.sort_by_key(|a| (a.key.clone(), a.time));
    let got: Vec<(String, i64, usize)> = rows
        .iter()
        .map(|p| (p.tags["host"].clone(), p.time, p.fields.len()))
        .collect();
    assert_eq!(
        got,
        vec![("a".into(), 1, 1), ("a".into(), 2, 1), ("b".into(), 1, 1)]
    );
}

/// An engine holding no table yet, whose storage stamp a test sets (`None`: it cannot
/// stamp), and which cannot tell the latest time of the measurement named second (the
/// tier cannot establish that table).
#[derive(Debug, Default)]
pub(crate) struct NothingStored(
    pub(crate) parking_lot::Mutex<Option<String>>,
    pub(crate) Option<&'static str>,
);

#[async_trait::async_trait]
impl hyperbyte_ports::QueryPort for NothingStored {
    async fn query(&self, _: &str) -> Result<hyperbyte_ports::RowSet, hyperbyte_ports::QueryError> {
        Ok(hyperbyte_ports::RowSet::default())
    }
    async fn table_columns(
        &self,
        _: &str,
        _: &str,
        _: &str,
    ) -> Result<Vec<String>, hyperbyte_ports::QueryError> {
        Ok(Vec::new())
    }
    async fn latest_time(
        &self,
        _: &str,
        _: &str,
        measurement: &str,
        _: Option<i64>,
    ) -> Result<Option<i64>, hyperbyte_ports::QueryError> {
        match self.1 {
            Some(m) if m == measurement => Err(hyperbyte_ports::QueryError::Engine {
                code: 0,
                message: "injected".into(),
            }),
            _ => Ok(None),
        }
    }
    async fn storage_stamp(&self) -> Result<Option<String>, hyperbyte_ports::QueryError> {
        Ok(self.0.lock().clone())
    }
}

fn stamp(wal_sequence: u64) -> SnapshotStamp {
    SnapshotStamp {
        wal_sequence,
        storage: "1 partitions 00".into(),
    }
}

/// A tier with two tables: every value type, several series, a coverage that starts
/// after stored data in one of them.
fn filled_tier() -> HotTier {
    let tier = HotTier::new(1 << 20);
    tier.start(&id(), Some(5));
    tier.insert(
        &id(),
        Some(0),
        &[
            pt(
                "a",
                20,
                vec![
                    ("x", FieldValue::Float(2.5)),
                    ("s", FieldValue::String("é,\n".into())),
                ],
            ),
            pt("a", 10, vec![("y", FieldValue::Integer(-7))]),
            pt(
                "b",
                10,
                vec![
                    ("u", FieldValue::Unsigned(u64::MAX)),
                    ("ok", FieldValue::Boolean(true)),
                ],
            ),
            pt("b", 30, vec![("x", FieldValue::Float(-0.0))]),
            pt("b", 3, vec![("x", FieldValue::Float(9.0))]), // before the coverage: left out
        ],
    );
    let other: TableId = ("db".into(), "week".into(), "m".into());
    tier.start(&other, None);
    tier.insert(
        &other,
        Some(0),
        &[pt("c", i64::MIN + 1, vec![("x", FieldValue::Float(1.0))])],
    );
    tier
}

/// (series key, time, fields) of a row read from the tier.
type KeyedRow = (String, i64, Vec<(String, Value)>);

fn everything(tier: &HotTier, rp: &str, m: &str, min: i64) -> Option<Vec<KeyedRow>> {
    let fields: Vec<String> = ["x", "y", "s", "u", "ok"].map(String::from).to_vec();
    let mut rows: Vec<_> = tier
        .read("db", rp, m, &mut all(&fields, Some(min)), None)?
        .into_iter()
        .map(|p| (p.key.to_string(), p.time, named(p.fields)))
        .collect();
    rows.sort_by(|a: &KeyedRow, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    Some(rows)
}

#[test]
fn a_snapshot_restores_the_same_rows_and_coverage() {
    let tier = filled_tier();
    let blob = tier.snapshot(&stamp(42));
    let restored = HotTier::new(1 << 20);
    let report = restored.restore(&blob, &stamp(42)).unwrap();
    assert_eq!(report, RestoreReport { tables: 2, rows: 5 });
    for (rp, min) in [("autogen", 6), ("week", i64::MIN + 1)] {
        let rows = everything(&restored, rp, "m", min);
        assert!(rows.is_some(), "{rp}: covered");
        assert_eq!(rows, everything(&tier, rp, "m", min), "{rp}");
    }
    assert_eq!(
        everything(&restored, "autogen", "m", 6).map(|r| r.len()),
        Some(4)
    );
    for min in [None, Some(5), Some(6)] {
        assert_eq!(
            restored.covers("db", "autogen", "m", min),
            tier.covers("db", "autogen", "m", min),
            "coverage from {min:?}"
        );
    }
    assert!(restored.covers("db", "week", "m", None));
    assert_eq!(
        restored.bytes(),
        tier.bytes(),
        "counted like the flush counts"
    );
    // The restored tables take flushed batches and invalidations like any other.
    restored.insert(
        &id(),
        restored.epoch(&id()),
        &[
            pt("a", 40, vec![("x", FieldValue::Float(4.0))]),
            // An overwrite lands in the restored series (no second series of "a").
            pt("a", 20, vec![("x", FieldValue::Float(7.0))]),
        ],
    );
    let rows = everything(&restored, "autogen", "m", 6).unwrap();
    assert_eq!(rows.len(), 5);
    let at_20 = rows
        .iter()
        .find(|r| r.0 == "m,host=a" && r.1 == 20)
        .unwrap();
    assert_eq!(
        at_20.2,
        vec![
            ("s".to_string(), Value::String("é,\n".into())),
            ("x".to_string(), Value::Float(7.0)),
        ]
    );
    restored.invalidate(|t| t.1 == "autogen");
    assert!(!restored.covers("db", "autogen", "m", Some(40)));
    assert!(restored.covers("db", "autogen", "m", Some(41)));
}

/// The blob is written into a buffer of its own size: grown by doubling, a full tier's
/// blob passed through copies of up to twice its size while the tier was in memory.
#[test]
fn a_snapshot_is_written_into_a_buffer_of_its_size() {
    let blob = filled_tier().snapshot(&stamp(42));
    assert!(blob.len() > 64, "{} bytes", blob.len());
    assert_eq!(blob.capacity(), blob.len());
}

#[test]
fn a_snapshot_is_refused_when_stale_or_damaged() {
    let blob = filled_tier().snapshot(&stamp(42));
    let fresh = || HotTier::new(1 << 20);
    assert!(matches!(
        fresh().restore(&blob, &stamp(43)),
        Err(SnapshotRefused::Stale(_))
    ));
    let other_storage = SnapshotStamp {
        storage: "parts moved on".into(),
        ..stamp(42)
    };
    assert!(matches!(
        fresh().restore(&blob, &other_storage),
        Err(SnapshotRefused::Stale(_))
    ));
    let mut flipped = blob.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 1;
    let damaged = [
        flipped,
        blob[..blob.len() - 1].to_vec(),
        blob[..3].to_vec(),
        Vec::new(),
        [b"HBTIER99".as_slice(), &blob[8..]].concat(),
    ];
    for (i, bad) in damaged.iter().enumerate() {
        let tier = fresh();
        assert!(
            matches!(
                tier.restore(bad, &stamp(42)),
                Err(SnapshotRefused::Damaged(_))
            ),
            "case {i}"
        );
        assert_eq!(tier.bytes(), 0, "case {i}: nothing installed");
    }
}

#[test]
fn a_restored_tier_keeps_to_a_smaller_budget() {
    let tier = HotTier::new(1 << 20);
    tier.start(&id(), None);
    let points: Vec<Point> = (0..2_000)
        .map(|i| pt("a", i, vec![("x", FieldValue::Float(i as f64))]))
        .collect();
    tier.insert(&id(), Some(0), &points);
    let small = HotTier::new(8_000);
    small.restore(&tier.snapshot(&stamp(1)), &stamp(1)).unwrap();
    assert!(small.bytes() <= 8_000, "{}", small.bytes());
    assert!(
        !small.covers("db", "autogen", "m", None),
        "evicted rows leave the claim"
    );
    assert!(small.covers("db", "autogen", "m", Some(1_999)));
}

proptest::proptest! {
    /// In any arrival order, with repeats, the tier holds each time once, sorted, with the
    /// value written last (the late-row search never misplaces a row).
    #[test]
    fn any_arrival_order_reads_back_sorted_with_the_last_write(
        times in proptest::collection::vec(0i64..200, 1..120),
    ) {
        let tier = HotTier::new(1 << 24);
        tier.start(&id(), None);
        let points: Vec<Point> = times
            .iter()
            .enumerate()
            .map(|(i, &t)| pt("a", t, vec![("x", FieldValue::Float(i as f64))]))
            .collect();
        tier.insert(&id(), Some(0), &points);
        let mut model = BTreeMap::new();
        for (i, &t) in times.iter().enumerate() {
            model.insert(t, i as f64);
        }
        let want = x_rows(model);
        let fields = vec!["x".to_string()];
        let got = times_and_fields(
            tier.read("db", "autogen", "m", &mut all(&fields, None), None)
                .unwrap(),
        );
        proptest::prop_assert_eq!(got, want);
    }

    /// Points of several series interleaved in one batch (as a flush round brings them:
    /// the tier puts them series by series) read back per series as if put one by one.
    #[test]
    fn interleaved_series_read_back_as_if_put_one_by_one(
        writes in proptest::collection::vec((0usize..4, 0i64..100), 1..200),
    ) {
        let tier = HotTier::new(1 << 24);
        tier.start(&id(), None);
        let points: Vec<Point> = writes
            .iter()
            .enumerate()
            .map(|(i, &(h, t))| pt(&format!("h{h}"), t, vec![("x", FieldValue::Float(i as f64))]))
            .collect();
        tier.insert(&id(), Some(0), &points);
        let mut model = BTreeMap::new();
        for (i, &(h, t)) in writes.iter().enumerate() {
            model.insert((format!("h{h}"), t), i as f64);
        }
        let want: Vec<Row> = model
            .into_iter()
            .map(|((h, t), v)| row(&h, t, "x", Value::Float(v)))
            .collect();
        proptest::prop_assert_eq!(rows_by_host(&tier, &["x".to_string()]), want);
        proptest::prop_assert_eq!(tier.bytes(), recounted(&tier));
    }

    /// `last()` per series and field over any range, after batches in any time order
    /// under a budget that evicts (points then fall before the coverage, or arrive
    /// before it), equals the latest written value, or is left to storage, never wrong;
    /// with no end to the range it is always answered.
    #[test]
    fn last_values_match_a_model_through_eviction_and_late_points(
        batches in proptest::collection::vec(
            proptest::collection::vec((0usize..3, 0i64..400, 0u8..3), 1..60),
            1..12,
        ),
        range in (proptest::option::of(0i64..400), proptest::option::of(0i64..400)),
    ) {
        let tier = HotTier::new(6_000);
        tier.start(&id(), None);
        let mut written = Vec::new();
        for (b, batch) in batches.iter().enumerate() {
            let points: Vec<Point> = batch
                .iter()
                .enumerate()
                .map(|(i, &(h, t, which))| {
                    let v = (b * 1_000 + i) as f64;
                    let fields = match which {
                        0 => vec![("x", FieldValue::Float(v))],
                        1 => vec![("y", FieldValue::Integer(v as i64))],
                        _ => vec![("x", FieldValue::Float(v)), ("y", FieldValue::Integer(-(v as i64)))],
                    };
                    pt(&format!("h{h}"), t, fields)
                })
                .collect();
            tier.insert(&id(), Some(0), &points);
            written.extend(points);
        }
        let fields = vec!["x".to_string(), "y".to_string()];
        let (min, max) = range;
        let got = latest_by_host(&tier, &fields, min, max);
        if max.is_none() {
            proptest::prop_assert!(got.is_some());
        }
        if let Some(got) = got {
            proptest::prop_assert_eq!(got, latest_model(&written, min, max));
        }
        proptest::prop_assert_eq!(tier.bytes(), recounted(&tier));
    }
}

/// (host, field, time, value) of each point [`HotTier::read_latest`] gives, sorted.
fn latest_by_host(
    tier: &HotTier,
    fields: &[String],
    min: Option<i64>,
    max: Option<i64>,
) -> Option<Vec<(String, String, i64, Value)>> {
    let mut filter = ReadFilter::new(None, fields, min, max);
    let rows = tier.read_latest("db", "autogen", "m", &mut filter)?;
    let mut out: Vec<(String, String, i64, Value)> = rows
        .into_iter()
        .flat_map(|p| {
            let host = p.tags["host"].clone();
            p.fields
                .into_iter()
                .map(move |(f, v)| (host.clone(), f.to_string(), p.time, v))
        })
        .collect();
    out.sort_by(|a, b| (&a.0, &a.1, a.2).cmp(&(&b.0, &b.1, b.2)));
    Some(out)
}

/// The latest value of each (host, field) within `[min, max]` of points written in
/// order (a later write of the same time wins).
fn latest_model(
    points: &[Point],
    min: Option<i64>,
    max: Option<i64>,
) -> Vec<(String, String, i64, Value)> {
    let mut latest: BTreeMap<(String, String), (i64, Value)> = BTreeMap::new();
    for p in points {
        if min.is_some_and(|m| p.timestamp < m) || max.is_some_and(|m| p.timestamp > m) {
            continue;
        }
        for (f, v) in &p.fields {
            let key = (p.tags[0].1.clone(), f.clone());
            let value = match v {
                FieldValue::Float(x) => Value::Float(*x),
                FieldValue::Integer(x) => Value::Integer(*x),
                other => panic!("unexpected {other:?}"),
            };
            if latest.get(&key).is_none_or(|(t, _)| *t <= p.timestamp) {
                latest.insert(key, (p.timestamp, value));
            }
        }
    }
    latest
        .into_iter()
        .map(|((h, f), (t, v))| (h, f, t, v))
        .collect()
}

/// lastpoint after eviction: the oldest rows left the tier (and the coverage), but the
/// latest value of every series and field is still answered from memory, also for a
/// series and a field the tier holds no row of any more.
#[test]
fn last_values_outlive_the_rows_eviction_drops() {
    let tier = HotTier::new(30_000);
    tier.start(&id(), None);
    let mut points = vec![
        pt("gone", 0, vec![("x", FieldValue::Float(-1.0))]),
        pt("a", 1, vec![("y", FieldValue::Integer(7))]),
    ];
    points.extend((2..2_000).map(|i| pt("a", i, vec![("x", FieldValue::Float(i as f64))])));
    tier.insert(&id(), Some(0), &points);
    assert!(
        !tier.covers("db", "autogen", "m", None),
        "nothing was evicted"
    );
    let fields = vec!["x".to_string(), "y".to_string()];
    assert_eq!(
        latest_by_host(&tier, &fields, None, None),
        Some(latest_model(&points, None, None))
    );
    // A range that ends before an evicted value: only storage knows an earlier one.
    assert_eq!(latest_by_host(&tier, &fields, Some(0), Some(2)), None);
    // Points flushed after the coverage moved past them: a later value of a series the
    // tier holds no row of, and a series that only ever wrote before the coverage.
    let late = [
        pt("gone", 5, vec![("x", FieldValue::Float(-5.0))]),
        pt("late", 3, vec![("y", FieldValue::Integer(3))]),
    ];
    tier.insert(&id(), Some(0), &late);
    points.extend(late);
    assert_eq!(
        latest_by_host(&tier, &fields, None, None),
        Some(latest_model(&points, None, None))
    );
    assert_eq!(tier.bytes(), recounted(&tier));
}

/// A clean restart keeps the latest values before the coverage: lastpoint stays in
/// memory.
#[test]
fn a_snapshot_keeps_the_latest_values_before_the_coverage() {
    let tier = HotTier::new(20_000);
    tier.start(&id(), None);
    let mut points = vec![pt("gone", 0, vec![("y", FieldValue::Integer(3))])];
    points.extend((1..2_000).map(|i| pt("a", i, vec![("x", FieldValue::Float(i as f64))])));
    tier.insert(&id(), Some(0), &points);
    let fields = vec!["x".to_string(), "y".to_string()];
    let before = latest_by_host(&tier, &fields, None, None);
    assert_eq!(before, Some(latest_model(&points, None, None)));
    let blob = tier.snapshot(&stamp(1));
    let restarted = HotTier::new(20_000);
    restarted.restore(&blob, &stamp(1)).unwrap();
    assert_eq!(latest_by_host(&restarted, &fields, None, None), before);
    assert_eq!(restarted.bytes(), tier.bytes());
    assert_eq!(restarted.bytes(), recounted(&restarted));
}

/// Whatever removes stored data makes the values before the coverage unknown, so `last()`
/// over an uncovered range reads storage again.
#[test]
fn removals_forget_the_values_before_the_coverage() {
    let fields = vec!["x".to_string()];
    let points: Vec<Point> = (0..2_000)
        .map(|i| pt("a", i, vec![("x", FieldValue::Float(i as f64))]))
        .collect();
    let evicted = || {
        let tier = HotTier::new(20_000);
        tier.start(&id(), None);
        tier.insert(&id(), Some(0), &points);
        assert!(latest_by_host(&tier, &fields, None, None).is_some());
        tier
    };
    let tier = evicted();
    tier.invalidate(|_| true);
    assert_eq!(latest_by_host(&tier, &fields, None, None), None);
    let tier = evicted();
    tier.forget_before(|_| true, 1_999);
    assert_eq!(latest_by_host(&tier, &fields, None, None), None);
    // A table with stored data before this process has no known values before it.
    let tier = HotTier::new(1 << 20);
    tier.start(&id(), Some(5));
    tier.insert(&id(), Some(0), &points[10..]);
    assert_eq!(latest_by_host(&tier, &fields, None, None), None);
    assert!(latest_by_host(&tier, &fields, Some(6), None).is_some());
}

/// A point flushed after retention moved past it may or may not survive the partition
/// drop: the latest values before the coverage become unknown; one after the cutoff is
/// taken in as usual.
#[test]
fn a_late_point_before_the_retention_cutoff_makes_the_values_unknown() {
    let tier = HotTier::new(20_000);
    tier.start(&id(), None);
    let mut points: Vec<Point> = (0..2_000)
        .map(|i| pt("a", i, vec![("x", FieldValue::Float(i as f64))]))
        .collect();
    tier.insert(&id(), Some(0), &points);
    let fields = vec!["x".to_string()];
    // A cutoff before every value the tier knows of leaves them known.
    tier.forget_before(|_| true, 500);
    points.retain(|p| p.timestamp >= 500);
    let late = [pt("b", 600, vec![("x", FieldValue::Float(6.0))])];
    tier.insert(&id(), Some(0), &late);
    points.extend(late);
    assert_eq!(
        latest_by_host(&tier, &fields, None, None),
        Some(latest_model(&points, None, None))
    );
    tier.insert(
        &id(),
        Some(0),
        &[pt("c", 100, vec![("x", FieldValue::Float(1.0))])],
    );
    assert_eq!(latest_by_host(&tier, &fields, None, None), None);
    assert_eq!(tier.bytes(), recounted(&tier));
}

/// A warm-up's rows merged in front keep the latest values before the coverage that
/// are earlier than its new start, and the byte count with them.
#[test]
fn merging_older_rows_in_front_keeps_the_values_and_their_bytes() {
    let mut table = Table::empty_from(i64::MIN);
    let points: Vec<Point> = (0..100)
        .map(|i| pt("a", i * 10, vec![("x", FieldValue::Float(i as f64))]))
        .collect();
    let views: Vec<PointRef<'_>> = points.iter().map(PointRef::from_point).collect();
    assert!(table.put_all(&views));
    table.evict_before(500);
    let known = table.older.as_ref().map(|o| o.bytes());
    assert!(known.is_some_and(|b| b > 0));
    let recount = |t: &Table| {
        t.all_series().map(Series::bytes).sum::<usize>()
            + t.older.as_ref().map_or(0, |o| o.recount())
            + t.series.index_bytes()
    };
    assert_eq!(table.bytes, recount(&table));
    // Entries (the latest at 490) earlier than the new start: kept.
    table.prepend_older(Table::empty_from(495), 495);
    assert_eq!(table.older.as_ref().map(|o| o.bytes()), known);
    assert_eq!(table.bytes, recount(&table));
    // An entry at or after the new start: unknown, and its bytes gone.
    table.prepend_older(Table::empty_from(400), 400);
    assert!(table.older.is_none());
    assert_eq!(table.bytes, recount(&table));
}

/// A feed that leaves a point out for being earlier than the coverage before storage
/// holds it: the learning of older values waits for that table until storage does.
#[test]
fn reads_of_storage_for_a_table_wait_for_points_a_feed_left_out() {
    let tier = HotTier::new(1 << 20);
    tier.start(&id(), Some(100));
    let early = [pt("a", 50, vec![("x", FieldValue::Float(1.0))])];
    let views: Vec<PointRef<'_>> = early.iter().map(PointRef::from_point).collect();
    assert!(tier.older_ticket(&id()).is_some());
    assert!(tier.insert_fed(&id(), tier.epoch(&id()), &views, (7, None)));
    assert!(
        tier.older_ticket(&id()).is_none(),
        "entry 7 is not stored yet"
    );
    tier.stored_to.fetch_max(7, Ordering::AcqRel);
    assert!(tier.older_ticket(&id()).is_none(), "stored before 7 only");
    tier.stored_to.fetch_max(8, Ordering::AcqRel);
    assert!(tier.older_ticket(&id()).is_some());
    // A point in the coverage leaves nothing out: no wait.
    let late = [pt("a", 150, vec![("x", FieldValue::Float(2.0))])];
    let views: Vec<PointRef<'_>> = late.iter().map(PointRef::from_point).collect();
    assert!(tier.insert_fed(&id(), tier.epoch(&id()), &views, (9, None)));
    assert!(tier.older_ticket(&id()).is_some());
}

/// Points storage refused (or a held queue it stored) leave the claim: a ticket for the
/// older values taken before is not honoured, and none is given while storage may still
/// store them.
#[test]
fn unclaiming_points_voids_older_tickets_until_storage_holds_them() {
    let tier = HotTier::new(1 << 20);
    tier.start(&id(), Some(100));
    let ticket = tier.older_ticket(&id()).expect("a ticket");
    let refused = [pt("a", 50, vec![("x", FieldValue::Float(1.0))])];
    let views: Vec<PointRef<'_>> = refused.iter().map(PointRef::from_point).collect();
    tier.unclaim(&id(), &views, Some(7));
    assert!(!tier.install_older(&id(), super::older::OlderLatest::default(), ticket));
    assert!(
        tier.older_ticket(&id()).is_none(),
        "entry 7 is not stored yet"
    );
    tier.stored_to.fetch_max(8, Ordering::AcqRel);
    assert!(tier.older_ticket(&id()).is_some());
}
