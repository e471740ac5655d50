//! A round's groups by column against the views' path they replace: whatever the points,
//! the column batch reads back as the views after [`batch_schema`], with the same schema.

use super::*;
use hyperbyte_domain::{FieldValue, Point, WalEntry};
use proptest::prelude::*;

fn value(kind: u8, n: i64) -> FieldValue {
    match kind % 3 {
        0 => FieldValue::Float(n as f64 / 4.0),
        1 => FieldValue::Integer(n),
        _ => FieldValue::String(format!("s{n}")),
    }
}

fn field_type(kind: u8) -> FieldType {
    value(kind, 0).field_type()
}

/// Rows of (host, region or none, time, fields as (name 0–2, kind, value)).
type Rows = Vec<(u8, Option<u8>, i64, Vec<(u8, u8, i64)>)>;

fn entries_of(rows: &Rows, split: usize) -> Vec<CompactEntry> {
    let points: Vec<Point> = rows
        .iter()
        .map(|(host, region, t, fields)| {
            let mut tags = vec![("host".to_string(), format!("h{host}"))];
            if let Some(r) = region {
                tags.push(("region".to_string(), format!("r{r}")));
            }
            let mut seen = std::collections::BTreeSet::new();
            Point {
                measurement: "m".into(),
                tags,
                fields: fields
                    .iter()
                    .filter(|(name, _, _)| seen.insert(*name))
                    .map(|(name, kind, n)| (format!("f{name}"), value(*kind, *n)))
                    .collect(),
                timestamp: *t,
            }
        })
        .collect();
    let split = split.min(points.len());
    [&points[..split], &points[split..]]
        .iter()
        .map(|p| {
            CompactEntry::from_entry(WalEntry {
                database: "db".into(),
                retention_policy: "autogen".into(),
                points: p.to_vec(),
            })
        })
        .collect()
}

fn sorted_fields(p: &PointRef<'_>) -> Point {
    let mut p = p.to_point();
    p.fields.sort_by(|a, b| a.0.cmp(&b.0));
    p
}

fn arb_rows() -> impl Strategy<Value = Rows> {
    proptest::collection::vec(
        (
            0u8..4,
            proptest::option::of(0u8..2),
            0i64..5,
            proptest::collection::vec((0u8..3, 0u8..3, -5i64..5), 1..4),
        ),
        1..30,
    )
}

proptest! {
    #[test]
    fn a_groups_columns_read_as_its_views(
        rows in arb_rows(),
        primaries in proptest::collection::vec(proptest::option::of(0u8..3), 3),
        split in 0usize..30,
        order in any::<u64>(),
    ) {
        let entries = entries_of(&rows, split);
        let mut full = MeasurementSchema::default();
        for (i, p) in primaries.iter().enumerate() {
            if let Some(kind) = p {
                full.fields.insert(format!("f{i}"), field_type(*kind));
            }
        }
        let mut members: Vec<PointAt> = entries
            .iter()
            .enumerate()
            .flat_map(|(e, c)| (0..c.len()).map(move |i| (e as u32, i as u32)))
            .collect();
        // Any order of the members (rounds list them by entry, but nothing relies on it).
        let shift = (order as usize) % members.len().max(1);
        members.rotate_left(shift);
        let group = Group {
            database: "db".into(),
            rp: RetentionPolicy::autogen(),
            measurement: "m".into(),
            full: full.clone(),
            members,
        };
        let arena = group.field_arena(&entries);
        let mut views = group.views_over(&entries, &arena);
        let schema = batch_schema(&full, &mut views);
        match group.columns(&entries) {
            Some(batch) => {
                let got: Vec<Point> = batch.views("m").iter().map(sorted_fields).collect();
                let want: Vec<Point> = views.iter().map(sorted_fields).collect();
                prop_assert_eq!(got, want);
                let from_batch = batch.schema();
                prop_assert_eq!(&from_batch.tag_keys, &schema.tag_keys);
                // The views' schema leaves out names without a primary type; the batch
                // types them by their values, as storage then does for the views.
                for (name, t) in &schema.fields {
                    prop_assert_eq!(from_batch.fields.get(name), Some(t));
                }
                for (i, v) in views.iter().enumerate() {
                    prop_assert_eq!(batch.series_hashes()[i], v.series_hash.unwrap_or_default());
                }
            }
            None => {
                // Only a name without a primary type, written with two types, is refused.
                let untyped_mixed = (0..3).any(|i| {
                    let name = format!("f{i}");
                    let types: std::collections::BTreeSet<FieldType> = views
                        .iter()
                        .flat_map(|v| v.fields.iter())
                        .filter(|(n, _)| *n == name)
                        .map(|(_, v)| v.field_type())
                        .collect();
                    full.field_type(&name).is_none() && types.len() > 1
                });
                prop_assert!(untyped_mixed);
            }
        }
    }
}
