//! The codec against arbitrary entries and damaged bytes: what the flush and a replica
//! read back is what was written, and bytes that are no entry are refused, never a panic
//! (a replica decodes what another node sends).

use super::{decode, decode_compact, decode_compact_with, encode, SeriesCache};
use crate::{FieldValue, Point, WalEntry};
use bincode::Options;
use proptest::prelude::*;
use serde::Deserialize;

/// The format as serde reads it: the oracle of the reader written for it.
#[derive(Debug, Deserialize, PartialEq)]
struct EntryIn {
    database: String,
    retention_policy: String,
    base_ts: i64,
    series: Vec<(String, Vec<(String, String)>)>,
    field_sets: Vec<Vec<String>>,
    points: Vec<(u32, u32, i64, Vec<FieldValue>)>,
}

fn by_bincode(bytes: &[u8]) -> WalEntry {
    let e: EntryIn = bincode::DefaultOptions::new()
        .deserialize(&bytes[1..])
        .expect("bincode reads what it wrote");
    WalEntry {
        database: e.database,
        retention_policy: e.retention_policy,
        points: e
            .points
            .into_iter()
            .map(|(s, f, delta, values)| {
                let (measurement, tags) = e.series[s as usize].clone();
                Point {
                    measurement,
                    tags,
                    fields: e.field_sets[f as usize]
                        .iter()
                        .cloned()
                        .zip(values)
                        .collect(),
                    timestamp: e.base_ts.wrapping_add(delta),
                }
            })
            .collect(),
    }
}

fn arb_value() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        any::<f64>()
            .prop_filter("comparable", |f| !f.is_nan())
            .prop_map(FieldValue::Float),
        any::<i64>().prop_map(FieldValue::Integer),
        prop_oneof![0u64..300, any::<u64>(), 60_000u64..70_000].prop_map(FieldValue::Unsigned),
        any::<bool>().prop_map(FieldValue::Boolean),
        prop_oneof![".{0,4}", "[a-z]{240,300}"].prop_map(FieldValue::String),
    ]
}

fn arb_entry() -> impl Strategy<Value = WalEntry> {
    let point = (
        "[a-c]{1,3}",
        proptest::collection::btree_map("[a-c]", ".{1,3}", 0..3),
        proptest::collection::btree_map("[a-d]{1,2}", arb_value(), 1..4),
        prop_oneof![any::<i64>(), -1000i64..1000],
    )
        .prop_map(|(measurement, tags, fields, timestamp)| Point {
            measurement,
            tags: tags.into_iter().collect(),
            fields: fields.into_iter().collect(),
            timestamp,
        });
    (
        ".{0,3}",
        "[a-z]{1,3}",
        proptest::collection::vec(point, 0..300),
    )
        .prop_map(|(database, retention_policy, points)| WalEntry {
            database,
            retention_policy,
            points,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the entry (varints of every width, long strings, hundreds of points),
    /// it reads back as written and as `bincode` reads it, owned and in its compact shape.
    #[test]
    fn entries_read_back_as_written(entry in arb_entry()) {
        let bytes = encode(&entry).expect("encode").bytes;
        let read = decode(&bytes).expect("decode");
        prop_assert_eq!(&read, &by_bincode(&bytes));
        prop_assert_eq!(&read, &entry);
        let compact = decode_compact(&bytes).expect("decode");
        prop_assert_eq!(compact.len(), entry.points.len());
        for (i, p) in entry.points.iter().enumerate() {
            let row = compact.row(i).expect("row");
            prop_assert_eq!(row.timestamp, p.timestamp);
            prop_assert_eq!(row.names.len(), row.values.len());
            prop_assert_eq!(compact.field_count(i), p.fields.len());
        }
    }

    /// An entry cut anywhere, or with any byte changed, is refused or read; never a panic.
    #[test]
    fn damaged_entries_never_panic(entry in arb_entry(), at in any::<usize>(), byte in any::<u8>()) {
        let bytes = encode(&entry).expect("encode").bytes;
        let cut = at % bytes.len();
        prop_assert!(decode_compact(&bytes[..cut]).is_err());
        let mut changed = bytes.clone();
        changed[cut] = byte;
        let _ = decode_compact(&changed);
    }

    /// Bytes that are no entry at all are refused without a panic.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut with_version = vec![super::WAL_FORMAT_COMPACT];
        with_version.extend(&bytes);
        let _ = decode_compact(&with_version);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Entries decoded with one series cache read as entries decoded alone, and a series
    /// of two entries is one tag list.
    #[test]
    fn a_series_cache_changes_nothing_but_sharing(a in arb_entry(), b in arb_entry()) {
        let (ea, eb) = (encode(&a).expect("encode").bytes, encode(&b).expect("encode").bytes);
        let mut cache = SeriesCache::default();
        let ca = decode_compact_with(&ea, &mut cache).expect("decode");
        let cb = decode_compact_with(&eb, &mut cache).expect("decode");
        let cb_again = decode_compact_with(&eb, &mut cache).expect("decode");
        prop_assert_eq!(&ca, &decode_compact(&ea).expect("decode"));
        prop_assert_eq!(&cb, &decode_compact(&eb).expect("decode"));
        for i in 0..cb.len() {
            let (x, y) = (cb.row(i).expect("row"), cb_again.row(i).expect("row"));
            prop_assert!(std::ptr::eq(x.tags, y.tags));
        }
    }
}

/// A length beyond the bytes left is refused before anything is allocated for it.
#[test]
fn a_huge_length_is_refused() {
    let mut bytes = vec![super::WAL_FORMAT_COMPACT, 253];
    bytes.extend_from_slice(&u64::MAX.to_le_bytes());
    assert!(decode_compact(&bytes).is_err());
    // A valid entry with a byte appended is corrupt too.
    let entry = WalEntry {
        database: "d".into(),
        retention_policy: "r".into(),
        points: vec![],
    };
    let mut bytes = encode(&entry).expect("encode").bytes;
    assert!(decode_compact(&bytes).is_ok());
    bytes.push(0);
    assert!(decode_compact(&bytes).is_err());
}
