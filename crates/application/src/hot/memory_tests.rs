//! The tier's memory: its byte count against what its series hold, and the room their
//! vectors take beyond what is counted.

use super::table::{Column, Series, Table};
use super::tests::{id, pt, recounted};
use super::*;
use hyperbyte_domain::{FieldValue, Point};

/// The most rows a series' vectors may have room for when they hold `len`: a short
/// series doubles from 4 rows, a long one grows by a quarter.
fn room_bound(len: usize) -> usize {
    if len < super::table::DOUBLING_BELOW_ROWS {
        (2 * len).max(4)
    } else {
        len + len / 4
    }
}

#[test]
fn long_series_grow_by_a_quarter_and_short_ones_reserve_no_more_than_before() {
    let tier = HotTier::new(1 << 30);
    tier.start(&id(), None);
    let fields = |t: i64| {
        (0..10)
            .map(|f| {
                (
                    ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"][f],
                    FieldValue::Float(t as f64),
                )
            })
            .collect::<Vec<_>>()
    };
    // A day every 10 s (8,640 rows) of host "long" in rounds of 100, with a column that
    // appears late and a late row in the middle: doubling would leave room for 16,384.
    // Beside it a series of one row and one of forty (many such series are a tier of high
    // cardinality: a minimum growth of many rows would reserve rows they never fill).
    for round in 0..87i64 {
        let mut batch: Vec<Point> = (0..100)
            .map(|i| round * 100 + i)
            .filter(|t| *t < 8_640)
            .map(|t| {
                let mut f = fields(t);
                if t >= 5_000 {
                    f.push(("late", FieldValue::Integer(t)));
                }
                pt("long", t * 10 + 5, f)
            })
            .collect();
        if round < 40 {
            batch.push(pt("forty", round, fields(round)));
        }
        if round == 0 {
            batch.push(pt("one", 0, fields(0)));
        }
        tier.insert(&id(), tier.epoch(&id()), &batch);
    }
    tier.insert(&id(), tier.epoch(&id()), &[pt("long", 3, fields(0))]);
    let tables = tier.tables.read();
    let mut lengths = Vec::new();
    for s in tables.values().flat_map(|t| t.all_series()) {
        let len = s.times.len();
        lengths.push(len);
        let room = |what: &str, capacity: usize| {
            assert!(
                capacity <= room_bound(len),
                "{} {what}: room for {capacity} rows, holds {len}",
                s.key
            );
        };
        room("times", s.times.capacity());
        for (name, c) in &s.columns.cols {
            assert_eq!(c.len(), len, "{name}");
            room(name, c.capacity());
        }
    }
    lengths.sort_unstable();
    assert_eq!(lengths, [1, 40, 8_641]);
}

#[test]
fn short_series_are_charged_for_their_columns_and_structure() {
    // High cardinality: a thousand series of one row of ten fields. The count must cover
    // what their structures take, not only their cells (before columns were charged it
    // said 565 bytes a series where 1,550 were resident).
    let tier = HotTier::new(1 << 30);
    tier.start(&id(), None);
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    let batch: Vec<Point> = (0..1_000)
        .map(|h| {
            let fields = names.iter().map(|n| (*n, FieldValue::Float(1.5))).collect();
            pt(&format!("host{h}"), 1, fields)
        })
        .collect();
    tier.insert(&id(), tier.epoch(&id()), &batch);
    let per_series = std::mem::size_of::<Series>()
        + names.len() * (std::mem::size_of::<(String, Column)>() + 2 * 16);
    assert!(
        tier.bytes() >= 1_000 * per_series,
        "{} bytes counted for 1,000 series that take at least {per_series} each",
        tier.bytes()
    );
    assert_eq!(tier.bytes(), recounted(&tier));
}

#[test]
fn the_byte_count_follows_what_the_series_hold() {
    let tier = HotTier::new(1 << 30);
    tier.start(&id(), None);
    let text = |s: &str| FieldValue::String(s.into());
    let batches = [
        // Sparse rows: a row of one field leaves absent cells in the others.
        vec![
            pt("a", 10, vec![("x", FieldValue::Float(1.0))]),
            pt("a", 30, vec![("y", FieldValue::Integer(2))]),
            pt("b", 20, vec![("s", text("hello"))]),
        ],
        // A new column among existing rows, then its text replaced twice.
        vec![
            pt("a", 20, vec![("s", text("abc"))]),
            pt("a", 20, vec![("s", text("a much longer text"))]),
            pt("a", 20, vec![("s", text("z"))]),
            pt(
                "c",
                5,
                vec![("x", FieldValue::Float(3.0)), ("y", FieldValue::Integer(4))],
            ),
        ],
        vec![
            pt("b", 20, vec![("s", text("replaced"))]),
            pt(
                "a",
                40,
                vec![
                    ("x", FieldValue::Float(5.0)),
                    ("y", FieldValue::Integer(6)),
                    ("s", text("!")),
                ],
            ),
        ],
    ];
    for (i, batch) in batches.iter().enumerate() {
        tier.insert(&id(), tier.epoch(&id()), batch);
        assert_eq!(tier.bytes(), recounted(&tier), "after batch {i}");
    }
    // Older rows read back from storage go in front: a series both sides hold counts its
    // fixed part once, and columns only one side had are padded and counted.
    let older_points = [
        pt("a", 1, vec![("w", FieldValue::Boolean(true))]),
        pt(
            "a",
            2,
            vec![("x", FieldValue::Float(0.5)), ("s", text("older"))],
        ),
        pt("d", 3, vec![("y", FieldValue::Integer(1))]),
    ];
    let views: Vec<_> = older_points
        .iter()
        .map(hyperbyte_domain::PointRef::from_point)
        .collect();
    let mut older = Table::empty_from(i64::MIN);
    assert!(older.put_all(&views));
    tier.tables
        .write()
        .get_mut(&id())
        .unwrap()
        .prepend_older(older, 0);
    assert_eq!(
        tier.bytes(),
        recounted(&tier),
        "after older rows went in front"
    );
    // Retention's cut keeps the count of what is left, series overhead and text included.
    tier.tables.write().get_mut(&id()).unwrap().drop_before(25);
    assert!(tier.bytes() > 0);
    assert_eq!(tier.bytes(), recounted(&tier), "after the cut");
}

#[test]
fn yielding_memory_halves_the_tier_and_regaining_grows_it_back_in_eighths() {
    let max = 1 << 20;
    let tier = HotTier::new(max);
    tier.start(&id(), None);
    // 8 hosts every 10 s: about 600 KiB of rows, under the budget.
    for round in 0..40i64 {
        let batch: Vec<Point> = (0..8 * 100)
            .map(|i| {
                let t = round * 100 + i / 8;
                let fields = vec![
                    ("a", FieldValue::Float(t as f64)),
                    ("b", FieldValue::Integer(t)),
                ];
                pt(&format!("h{}", i % 8), t * 10, fields)
            })
            .collect();
        tier.insert(&id(), tier.epoch(&id()), &batch);
    }
    let held = tier.bytes();
    assert!(held > max / 2 && held <= max, "{held}");
    assert!(tier.covers("db", "autogen", "m", Some(0)));

    let freed = tier.yield_memory();
    assert_eq!(tier.budget(), held / 2);
    assert!(tier.bytes() <= held / 2, "{} of {held}", tier.bytes());
    assert_eq!(freed, held - tier.bytes());
    assert_eq!(tier.bytes(), recounted(&tier));
    // The oldest rows went: reads of their time are the storage engine's again, and the
    // vectors give their room back.
    assert!(!tier.covers("db", "autogen", "m", Some(0)));
    assert!(tier.covers("db", "autogen", "m", Some(39_990)));
    for s in tier.tables.read().values().flat_map(|t| t.all_series()) {
        assert_eq!(s.times.capacity(), s.times.len(), "{}", s.key);
        for (name, c) in &s.columns.cols {
            assert_eq!(c.capacity(), c.len(), "{name}");
        }
    }

    // New rows stay within the lowered budget until memory is back.
    let later: Vec<Point> = (0..8 * 2000)
        .map(|i| {
            pt(
                &format!("h{}", i % 8),
                400_000 + i64::from(i),
                vec![("a", FieldValue::Float(1.0))],
            )
        })
        .collect();
    tier.insert(&id(), tier.epoch(&id()), &later);
    assert!(
        tier.bytes() <= held / 2,
        "{} over {}",
        tier.bytes(),
        held / 2
    );

    assert_eq!(tier.regain_memory(), held / 2 + max / 8);
    for _ in 0..8 {
        tier.regain_memory();
    }
    assert_eq!(tier.budget(), max);

    // A tier that holds nothing yields everything it may hold.
    let empty = HotTier::new(max);
    assert_eq!(empty.yield_memory(), 0);
    assert_eq!(empty.budget(), 0);
}
