//! An encoder of points into one block of ClickHouse's `Native` format, the fastest
//! input path of the engine (see the chDB fact sheet).
//!
//! Layout of a block: column count and row count (var-uints), then per column its name,
//! its type name and its data. `String` data is var-uint length + bytes per row;
//! `Nullable(T)` is the null map (one byte per row, 1 = null) followed by every row's
//! `T` (a zero placeholder for nulls); `DateTime64(9)` is an i64 of nanoseconds, little
//! endian. Tags are declared `String`; the engine converts to `LowCardinality(String)`.
//!
//! The encoder works column by column over the points so that memory stays at the size
//! of the output plus one `u32` per row.

use crate::error::ChdbError;
use hyperbyte_domain::{FieldType, FieldValue, Point};

/// A tag column of the block: the tag key and its storage column name.
#[derive(Debug, Clone)]
pub(crate) struct TagCol<'a> {
    pub(crate) key: &'a str,
    pub(crate) column: &'a str,
}

/// A field column of the block: the field key, its storage column name and its type.
#[derive(Debug, Clone)]
pub(crate) struct FieldCol<'a> {
    pub(crate) key: &'a str,
    pub(crate) column: &'a str,
    pub(crate) ty: FieldType,
}

/// The `Native` type name a field of type `ty` is sent as.
pub(crate) fn field_wire_type(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Float => "Nullable(Float64)",
        FieldType::Integer => "Nullable(Int64)",
        FieldType::Unsigned => "Nullable(UInt64)",
        FieldType::Boolean => "Nullable(Bool)",
        FieldType::String => "Nullable(String)",
    }
}

const MISSING: u32 = u32::MAX;

fn put_varuint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varuint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Encodes `points` as one Native block with a `time` column, the given tag columns
/// (missing tags are sent as the empty string) and field columns (missing fields are
/// null). Fails when a point's field has another type than its column, or when a point
/// carries a tag or field that is not among the columns.
pub(crate) fn encode_block(
    points: &[Point],
    time_column: &str,
    tags: &[TagCol<'_>],
    fields: &[FieldCol<'_>],
) -> Result<Vec<u8>, ChdbError> {
    let n = points.len();
    if u32::try_from(n).is_err() {
        return Err(ChdbError::Invalid("batch too large".into()));
    }
    check_coverage(points, tags, fields)?;
    let mut out = Vec::with_capacity(64 + n * (8 + tags.len() * 8 + fields.len() * 9));
    put_varuint(&mut out, (1 + tags.len() + fields.len()) as u64);
    put_varuint(&mut out, n as u64);

    put_str(&mut out, time_column);
    put_str(&mut out, "DateTime64(9)");
    for p in points {
        out.extend_from_slice(&p.timestamp.to_le_bytes());
    }

    for tag in tags {
        put_str(&mut out, tag.column);
        put_str(&mut out, "String");
        let mut hint = 0usize;
        for p in points {
            let value = match p.tags.get(hint) {
                Some((k, v)) if k == tag.key => Some(v),
                _ => match p.tags.binary_search_by(|(k, _)| k.as_str().cmp(tag.key)) {
                    Ok(i) => {
                        hint = i;
                        Some(&p.tags[i].1)
                    }
                    Err(_) => None,
                },
            };
            put_str(&mut out, value.map_or("", String::as_str));
        }
    }

    let mut positions: Vec<u32> = vec![MISSING; n];
    for field in fields {
        put_str(&mut out, field.column);
        put_str(&mut out, field_wire_type(field.ty));
        // Pass 1: where each point holds the field, and the null map.
        let mut hint = 0usize;
        for (slot, p) in positions.iter_mut().zip(points) {
            let pos = match p.fields.get(hint) {
                Some((k, _)) if k == field.key => Some(hint),
                _ => p.fields.iter().position(|(k, _)| k == field.key),
            };
            match pos {
                Some(i) => {
                    hint = i;
                    *slot = i as u32;
                    out.push(0);
                }
                None => {
                    *slot = MISSING;
                    out.push(1);
                }
            }
        }
        // Pass 2: the values.
        for (&slot, p) in positions.iter().zip(points) {
            let value = if slot == MISSING {
                None
            } else {
                p.fields.get(slot as usize).map(|(_, v)| v)
            };
            put_value(&mut out, field, value)?;
        }
    }
    Ok(out)
}

fn put_value(
    out: &mut Vec<u8>,
    field: &FieldCol<'_>,
    value: Option<&FieldValue>,
) -> Result<(), ChdbError> {
    match (field.ty, value) {
        (FieldType::Float, Some(FieldValue::Float(f))) => out.extend_from_slice(&f.to_le_bytes()),
        (FieldType::Integer, Some(FieldValue::Integer(i))) => {
            out.extend_from_slice(&i.to_le_bytes())
        }
        (FieldType::Unsigned, Some(FieldValue::Unsigned(u))) => {
            out.extend_from_slice(&u.to_le_bytes())
        }
        (FieldType::Boolean, Some(FieldValue::Boolean(b))) => out.push(u8::from(*b)),
        (FieldType::String, Some(FieldValue::String(s))) => put_str(out, s),
        (FieldType::Float | FieldType::Integer | FieldType::Unsigned, None) => {
            out.extend_from_slice(&[0u8; 8])
        }
        (FieldType::Boolean | FieldType::String, None) => out.push(0),
        (ty, Some(v)) => {
            return Err(ChdbError::Invalid(format!(
                "field type conflict: input field \"{}\" is type {}, already exists as type {}",
                field.key,
                v.field_type(),
                ty
            )))
        }
    }
    Ok(())
}

/// Every tag and field of every point must have a column (otherwise it would be lost).
fn check_coverage(
    points: &[Point],
    tags: &[TagCol<'_>],
    fields: &[FieldCol<'_>],
) -> Result<(), ChdbError> {
    // Points of one batch nearly always share their keys: compare against the previous
    // point's keys first and search only when they differ.
    let mut last_tags: Option<&[(String, String)]> = None;
    let mut last_fields: Option<&[(String, FieldValue)]> = None;
    for p in points {
        let same_tags = last_tags.is_some_and(|l| {
            l.len() == p.tags.len() && l.iter().zip(&p.tags).all(|(a, b)| a.0 == b.0)
        });
        if !same_tags {
            for (k, _) in &p.tags {
                if !tags.iter().any(|t| t.key == k) {
                    return Err(ChdbError::Invalid(format!(
                        "tag {k:?} has no column in this batch"
                    )));
                }
            }
            last_tags = Some(&p.tags);
        }
        let same_fields = last_fields.is_some_and(|l| {
            l.len() == p.fields.len() && l.iter().zip(&p.fields).all(|(a, b)| a.0 == b.0)
        });
        if !same_fields {
            for (k, _) in &p.fields {
                if !fields.iter().any(|f| f.key == k) {
                    return Err(ChdbError::Invalid(format!(
                        "field {k:?} has no column in this batch"
                    )));
                }
            }
            last_fields = Some(&p.fields);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn encodes_expected_bytes() {
        let pts = vec![
            point(&[("h", "a")], vec![("v", FieldValue::Float(1.5))], 7),
            point(
                &[],
                vec![
                    ("v", FieldValue::Float(2.0)),
                    ("s", FieldValue::String("x".into())),
                ],
                8,
            ),
        ];
        let tags = [TagCol {
            key: "h",
            column: "t_h",
        }];
        let fields = [
            FieldCol {
                key: "v",
                column: "f_v",
                ty: FieldType::Float,
            },
            FieldCol {
                key: "s",
                column: "f_s",
                ty: FieldType::String,
            },
        ];
        let b = encode_block(&pts, "time", &tags, &fields).expect("encode");
        let mut want = vec![4u8, 2];
        want.extend_from_slice(b"\x04time\x0dDateTime64(9)");
        want.extend_from_slice(&7i64.to_le_bytes());
        want.extend_from_slice(&8i64.to_le_bytes());
        want.extend_from_slice(b"\x03t_h\x06String\x01a\x00");
        want.extend_from_slice(b"\x03f_v\x11Nullable(Float64)\x00\x00");
        want.extend_from_slice(&1.5f64.to_le_bytes());
        want.extend_from_slice(&2.0f64.to_le_bytes());
        want.extend_from_slice(b"\x03f_s\x10Nullable(String)\x01\x00\x00\x01x");
        assert_eq!(b, want);
    }

    #[test]
    fn rejects_type_conflicts_and_uncovered_keys() {
        let pts = vec![point(&[], vec![("v", FieldValue::Integer(1))], 0)];
        let fields = [FieldCol {
            key: "v",
            column: "f_v",
            ty: FieldType::Float,
        }];
        assert!(matches!(
            encode_block(&pts, "time", &[], &fields),
            Err(ChdbError::Invalid(_))
        ));
        assert!(matches!(
            encode_block(&pts, "time", &[], &[]),
            Err(ChdbError::Invalid(_))
        ));
        let tagged = vec![point(&[("h", "a")], vec![("v", FieldValue::Float(1.0))], 0)];
        assert!(matches!(
            encode_block(&tagged, "time", &[], &fields),
            Err(ChdbError::Invalid(_))
        ));
    }

    #[test]
    fn varuint_encoding() {
        let mut b = Vec::new();
        put_varuint(&mut b, 300);
        assert_eq!(b, vec![0xac, 0x02]);
    }
}
