use super::*;
use hyperbyte_domain::{series_hash, ColumnBatchBuilder, FieldRef, TagRef};
use std::borrow::Cow;

/// A row: tags, time, value.
type Row = (Vec<(&'static str, &'static str)>, i64, f64);

/// A batch of rows in the given order.
fn batch(rows: &[Row]) -> ColumnBatch {
    let tags: Vec<Vec<TagRef<'static>>> = rows
        .iter()
        .map(|(t, _, _)| {
            t.iter()
                .map(|(k, v)| (Cow::Borrowed(*k), Cow::Borrowed(*v)))
                .collect()
        })
        .collect();
    let mut b = ColumnBatchBuilder::with_capacity(rows.len());
    for ((_, t, v), tags) in rows.iter().zip(&tags) {
        b.row(*t, series_hash("m", tags), tags);
        b.field(Cow::Borrowed("v"), &FieldRef::Float(*v))
            .expect("float");
    }
    b.finish()
}

fn order(b: &ColumnBatch, sort_key: &[&str]) -> Option<Vec<u32>> {
    let key: Vec<String> = sort_key.iter().map(|s| s.to_string()).collect();
    let tags: Vec<(&str, String)> = b
        .tags()
        .iter()
        .map(|t| (t.key(), format!("t_{}", t.key())))
        .collect();
    let pairs: Vec<(&str, &str)> = tags.iter().map(|(k, c)| (*k, c.as_str())).collect();
    let cols: Vec<&TagColumn> = b.tags().iter().collect();
    KeyColumns::of(&pairs, &cols, "time", &key).order(b)
}

#[test]
fn rows_go_in_series_then_time_order() {
    let b = batch(&[
        (vec![("h", "b")], 10, 1.0),
        (vec![("h", "a")], 10, 2.0),
        (vec![("h", "b")], 20, 3.0),
        (vec![("h", "a")], 20, 4.0),
        (vec![("h", "a")], 5, 5.0),
    ]);
    assert_eq!(order(&b, &["t_h", "time"]), Some(vec![4, 1, 3, 0, 2]));
    // In order already: nothing to do.
    let sorted = batch(&[(vec![("h", "a")], 1, 1.0), (vec![("h", "b")], 0, 1.0)]);
    assert_eq!(order(&sorted, &["t_h", "time"]), None);
    // No time in the key (not a table of ours): arrival order.
    assert_eq!(order(&b, &["t_h"]), None);
}

/// Rows of one series and time keep their arrival order: the engine merges them at
/// insert and the last one written must win.
#[test]
fn rows_of_one_series_and_time_keep_their_order() {
    let b = batch(&[
        (vec![("h", "b")], 10, 1.0),
        (vec![("h", "a")], 10, 2.0),
        (vec![("h", "a")], 10, 3.0),
        (vec![("h", "a")], 9, 4.0),
        (vec![("h", "a")], 10, 5.0),
    ]);
    assert_eq!(order(&b, &["t_h", "time"]), Some(vec![3, 1, 2, 4, 0]));
}

/// A tag after `time` in the key (added to the table later) orders rows of equal time
/// only; rows without a key tag sort first (the empty string).
#[test]
fn tags_after_time_order_rows_of_equal_time() {
    let b = batch(&[
        (vec![("h", "a"), ("z", "2")], 10, 1.0),
        (vec![("h", "a"), ("z", "1")], 10, 2.0),
        (vec![("h", "a"), ("z", "1")], 5, 3.0),
        (vec![("z", "1")], 7, 4.0),
    ]);
    assert_eq!(order(&b, &["t_h", "time", "t_z"]), Some(vec![3, 2, 1, 0]));
}

/// Two series of one hash land in one group: the block may then be out of key order
/// (the engine sorts it), but no row is lost or repeated.
#[test]
fn a_shared_hash_still_gives_a_permutation() {
    let tags: Vec<Vec<TagRef<'static>>> = ["b", "a", "b", "a"]
        .iter()
        .map(|v| vec![(Cow::Borrowed("h"), Cow::Borrowed(*v))])
        .collect();
    let mut builder = ColumnBatchBuilder::with_capacity(4);
    for (i, t) in tags.iter().enumerate() {
        builder.row(i as i64, 42, t);
        builder
            .field(Cow::Borrowed("v"), &FieldRef::Float(i as f64))
            .expect("float");
    }
    let b = builder.finish();
    let mut got = order(&b, &["t_h", "time"]).unwrap_or_else(|| (0..4).collect());
    got.sort_unstable();
    assert_eq!(got, vec![0, 1, 2, 3]);
}

#[test]
fn the_block_lists_columns_in_the_insert_order_and_rows_in_key_order() {
    let b = batch(&[(vec![("h", "b")], 2, 1.5), (vec![("h", "a")], 1, 2.5)]);
    let block = encode_sorted(
        &b,
        "time",
        &[("h", "t_h")],
        &[("v", "f_v")],
        &["t_h".to_string(), "time".to_string()],
    )
    .expect("encode");
    let mut want = vec![3u8, 2];
    want.extend_from_slice(b"\x04time\x0dDateTime64(9)");
    want.extend_from_slice(&1i64.to_le_bytes());
    want.extend_from_slice(&2i64.to_le_bytes());
    want.extend_from_slice(b"\x03t_h\x16LowCardinality(String)");
    want.extend_from_slice(&1u64.to_le_bytes());
    want.extend_from_slice(&0x600u64.to_le_bytes());
    want.extend_from_slice(&3u64.to_le_bytes());
    want.extend_from_slice(b"\x00\x01b\x01a");
    want.extend_from_slice(&2u64.to_le_bytes());
    want.extend_from_slice(&[2, 1]);
    want.extend_from_slice(b"\x03f_v\x11Nullable(Float64)\x00\x00");
    want.extend_from_slice(&2.5f64.to_le_bytes());
    want.extend_from_slice(&1.5f64.to_le_bytes());
    assert_eq!(block, want);
    assert!(block.len() <= block_capacity(&b));
    assert!(matches!(
        encode_sorted(&b, "time", &[("x", "t_x")], &[], &[]),
        Err(ChdbError::Invalid(_))
    ));
}

/// Every field type, a row without a tag (the empty string) and rows without a field
/// (null, with a placeholder value).
#[test]
fn every_field_type_and_absent_values_have_their_bytes() {
    use hyperbyte_domain::{FieldValue, Point};
    let point = |tags: &[(&str, &str)], fields: Vec<(&str, FieldValue)>, t| Point {
        measurement: "m".into(),
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        fields: fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        timestamp: t,
    };
    let b = ColumnBatch::from_points(&[
        point(
            &[("h", "a")],
            vec![
                ("v", FieldValue::Float(1.5)),
                ("i", FieldValue::Integer(-2)),
                ("u", FieldValue::Unsigned(3)),
            ],
            7,
        ),
        point(
            &[],
            vec![
                ("b", FieldValue::Boolean(true)),
                ("s", FieldValue::String("x".into())),
            ],
            8,
        ),
    ])
    .expect("one type per name");
    let fields = [
        ("v", "f_v"),
        ("i", "f_i"),
        ("u", "f_u"),
        ("b", "f_b"),
        ("s", "f_s"),
    ];
    let block = encode_sorted(&b, "time", &[("h", "t_h")], &fields, &[]).expect("encode");
    let mut want = vec![7u8, 2];
    want.extend_from_slice(b"\x04time\x0dDateTime64(9)");
    want.extend_from_slice(&7i64.to_le_bytes());
    want.extend_from_slice(&8i64.to_le_bytes());
    want.extend_from_slice(b"\x03t_h\x16LowCardinality(String)");
    want.extend_from_slice(&1u64.to_le_bytes()); // keys' version
    want.extend_from_slice(&0x600u64.to_le_bytes()); // UInt8 indexes, keys follow
    want.extend_from_slice(&2u64.to_le_bytes());
    want.extend_from_slice(b"\x00\x01a"); // "" and "a"
    want.extend_from_slice(&2u64.to_le_bytes());
    want.extend_from_slice(&[1, 0]);
    want.extend_from_slice(b"\x03f_v\x11Nullable(Float64)\x00\x01");
    want.extend_from_slice(&1.5f64.to_le_bytes());
    want.extend_from_slice(&0f64.to_le_bytes());
    want.extend_from_slice(b"\x03f_i\x0fNullable(Int64)\x00\x01");
    want.extend_from_slice(&(-2i64).to_le_bytes());
    want.extend_from_slice(&0i64.to_le_bytes());
    want.extend_from_slice(b"\x03f_u\x10Nullable(UInt64)\x00\x01");
    want.extend_from_slice(&3u64.to_le_bytes());
    want.extend_from_slice(&0u64.to_le_bytes());
    want.extend_from_slice(b"\x03f_b\x0eNullable(Bool)\x01\x00\x00\x01");
    want.extend_from_slice(b"\x03f_s\x10Nullable(String)\x01\x00\x00\x01x");
    assert_eq!(block, want);
    assert!(block.len() <= block_capacity(&b));
}
