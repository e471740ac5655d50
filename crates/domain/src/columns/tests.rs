use super::*;
use crate::{series_hash, FieldValue, Point};
use proptest::prelude::*;

fn point(tags: &[(&str, &str)], fields: Vec<(&str, FieldValue)>, t: i64) -> Point {
    Point {
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
    }
}

fn tag_lists(points: &[Point]) -> Vec<Vec<TagRef<'_>>> {
    points
        .iter()
        .map(|p| {
            p.tags
                .iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), Cow::Borrowed(v.as_str())))
                .collect()
        })
        .collect()
}

#[test]
fn rows_read_back_as_the_points_they_were_built_from() {
    let points = vec![
        point(&[("host", "a")], vec![("v", FieldValue::Float(1.5))], 1),
        point(
            &[("dc", "x"), ("host", "b")],
            vec![
                ("s", FieldValue::String("hi".into())),
                ("v", FieldValue::Float(2.0)),
            ],
            2,
        ),
        point(&[], vec![("b", FieldValue::Boolean(true))], 3),
        point(&[("host", "a")], vec![("v", FieldValue::Float(4.0))], 4),
    ];
    let batch = ColumnBatch::from_points(&points).expect("one type per name");
    assert_eq!(batch.len(), 4);
    let host = &batch.tags()[0];
    assert_eq!(
        (host.key(), host.values()),
        ("host", &["", "a", "b"].map(String::from)[..])
    );
    assert_eq!(host.rows(), &[1, 2, 0, 1]);
    assert_eq!(
        batch.tags()[1].rows(),
        &[0, 1, 0, 0],
        "a key first met later is padded"
    );
    let v = &batch.fields()[0];
    assert_eq!(v.present(), &[true, true, false, true]);
    assert_eq!(v.data(), &FieldData::Float(vec![1.5, 2.0, 0.0, 4.0]));
    assert_eq!(
        batch.fields()[2].data(),
        &FieldData::Boolean(vec![false, false, true, false])
    );
    let owned: Vec<Point> = batch.views("m").iter().map(PointRef::to_point).collect();
    let mut want = points.clone();
    // Views list fields in column order.
    want[1].fields.reverse();
    assert_eq!(owned, want);
    let schema = batch.schema();
    assert_eq!(schema.field_type("s"), Some(FieldType::String));
    assert_eq!(schema.tag_keys.len(), 2);
}

/// A series hash met before copies that row's indices only when the tags are the same.
#[test]
fn one_hash_for_two_series_keeps_them_apart() {
    let points = vec![
        point(&[("h", "a")], vec![("v", FieldValue::Float(1.0))], 1),
        point(&[("h", "b")], vec![("v", FieldValue::Float(2.0))], 2),
        point(&[("h", "a")], vec![("v", FieldValue::Float(3.0))], 3),
    ];
    let tags = tag_lists(&points);
    let mut b = ColumnBatchBuilder::with_capacity(3);
    for (p, t) in points.iter().zip(&tags) {
        b.row(p.timestamp, 7, t);
        b.field(Cow::Borrowed("v"), &FieldRef::from_value(&p.fields[0].1))
            .expect("float");
    }
    assert_eq!(b.finish().tags()[0].rows(), &[1, 2, 1]);
}

#[test]
fn a_type_conflict_or_a_field_before_any_row_is_refused() {
    let mut b = ColumnBatchBuilder::with_capacity(2);
    assert!(matches!(
        b.field(Cow::Borrowed("v"), &FieldRef::Float(1.0)),
        Err(ColumnBatchError::NoRow(_))
    ));
    assert_eq!(
        b.set(7, &FieldRef::Float(1.0)),
        Err(ColumnBatchError::NoColumn(7))
    );
    b.row(1, 1, &[]);
    b.field(Cow::Borrowed("v"), &FieldRef::Float(1.0))
        .expect("first value");
    b.field(Cow::Borrowed("v"), &FieldRef::Float(9.0))
        .expect("a repeat keeps the first");
    b.row(2, 1, &[]);
    assert_eq!(
        b.set(0, &FieldRef::Integer(2)),
        Err(ColumnBatchError::TypeConflict {
            name: "v".into(),
            have: FieldType::Float,
            got: FieldType::Integer
        })
    );
    assert_eq!(
        b.field(Cow::Borrowed("v"), &FieldRef::Integer(2)),
        Err(ColumnBatchError::TypeConflict {
            name: "v".into(),
            have: FieldType::Float,
            got: FieldType::Integer
        })
    );
    let batch = b.finish();
    let mixed = [
        point(&[], vec![("v", FieldValue::Float(1.0))], 1),
        point(&[], vec![("v", FieldValue::Integer(2))], 2),
    ];
    assert!(matches!(
        ColumnBatch::from_points(&mixed),
        Err(ColumnBatchError::TypeConflict { .. })
    ));
    assert_eq!(batch.fields()[0].present(), &[true, false]);
    assert_eq!(batch.fields()[0].data(), &FieldData::Float(vec![1.0, 0.0]));
}

/// Views become rows with the type the schema gives a name (else the first value's), the
/// view's own series hash when it is one of the batch's measurement, and each field in
/// its column whatever its position.
#[test]
fn views_become_rows_typed_by_the_schema() {
    let points = [
        point(
            &[("h", "a")],
            vec![("a", FieldValue::Float(1.0)), ("b", FieldValue::Integer(2))],
            1,
        ),
        point(
            &[("h", "b")],
            vec![("b", FieldValue::Integer(3)), ("a", FieldValue::Float(4.0))],
            2,
        ),
        point(&[("h", "a")], vec![("b", FieldValue::Integer(5))], 3),
    ];
    let mut views: Vec<PointRef<'_>> = points.iter().map(PointRef::from_point).collect();
    views[0].series_hash = Some(11);
    views[1].series_hash = Some(12);
    views[1].measurement = Cow::Borrowed("other");
    let schema = |name: &str| (name == "a").then_some(FieldType::Float);
    let batch = ColumnBatch::from_views(&views, "m", schema).expect("types agree");
    assert_eq!(
        batch.series_hashes(),
        &[
            11,
            series_hash("m", &points[1].tags),
            series_hash("m", &points[2].tags)
        ]
    );
    let names: Vec<&str> = batch.fields().iter().map(FieldColumn::name).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(
        batch.fields()[0].data(),
        &FieldData::Float(vec![1.0, 4.0, 0.0])
    );
    assert_eq!(batch.fields()[1].data(), &FieldData::Integer(vec![2, 3, 5]));
    assert_eq!(batch.tags()[0].rows(), &[1, 2, 1]);

    // A value of another type than the schema's fails the batch, naming both types.
    let integer_a = |name: &str| (name == "a").then_some(FieldType::Integer);
    assert_eq!(
        ColumnBatch::from_views(&views, "m", integer_a).map(|b| b.len()),
        Err(ColumnBatchError::TypeConflict {
            name: "a".into(),
            have: FieldType::Integer,
            got: FieldType::Float
        })
    );
}

fn arb_value() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(FieldValue::Float),
        any::<i64>().prop_map(FieldValue::Integer),
        any::<bool>().prop_map(FieldValue::Boolean),
        "[a-z]{0,3}".prop_map(FieldValue::String),
    ]
}

/// Points over a few keys, each field name with one type (as a batch requires).
fn arb_points() -> impl Strategy<Value = Vec<Point>> {
    let types = proptest::collection::vec(arb_value(), 4);
    (
        types,
        proptest::collection::vec(
            (
                proptest::collection::btree_map("[abc]", "[xy]{1,2}", 0..3),
                proptest::collection::btree_map(0usize..4, arb_value(), 1..4),
                any::<i64>(),
            ),
            0..40,
        ),
    )
        .prop_map(|(types, rows)| {
            rows.into_iter()
                .map(|(tags, fields, t)| Point {
                    measurement: "m".into(),
                    tags: tags.into_iter().collect(),
                    fields: fields
                        .into_iter()
                        .map(|(i, v)| {
                            // The value, cast to the name's type.
                            let v = match (&types[i], v) {
                                (FieldValue::Float(_), FieldValue::Float(f)) => {
                                    FieldValue::Float(f)
                                }
                                (FieldValue::Float(_), _) => FieldValue::Float(i as f64),
                                (FieldValue::Integer(_), FieldValue::Integer(x)) => {
                                    FieldValue::Integer(x)
                                }
                                (FieldValue::Integer(_), _) => FieldValue::Integer(i as i64),
                                (FieldValue::Boolean(_), FieldValue::Boolean(b)) => {
                                    FieldValue::Boolean(b)
                                }
                                (FieldValue::Boolean(_), _) => FieldValue::Boolean(true),
                                (_, FieldValue::String(s)) => FieldValue::String(s),
                                _ => FieldValue::String(String::new()),
                            };
                            (format!("f{i}"), v)
                        })
                        .collect(),
                    timestamp: t,
                })
                .collect()
        })
}

proptest! {
    /// Whatever the points, the batch's views are the points (fields in column order),
    /// each with its series hash.
    #[test]
    fn views_of_a_batch_are_its_points(points in arb_points()) {
        let batch = ColumnBatch::from_points(&points).expect("one type per name");
        let views = batch.views("m");
        prop_assert_eq!(views.len(), points.len());
        for (v, p) in views.iter().zip(&points) {
            prop_assert_eq!(v.series_hash, Some(series_hash("m", &p.tags)));
            let mut got = v.to_point();
            let mut want = p.clone();
            got.fields.sort_by(|a, b| a.0.cmp(&b.0));
            want.fields.sort_by(|a, b| a.0.cmp(&b.0));
            prop_assert_eq!(got, want);
        }
    }
}
