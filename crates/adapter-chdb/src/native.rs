//! An encoder of points into one block of ClickHouse's `Native` format, the fastest
//! input path of the engine (see the chDB fact sheet).
//!
//! Layout of a block: column count and row count (var-uints), then per column its name,
//! its type name and its data. `String` data is var-uint length + bytes per row;
//! `Nullable(T)` is the null map (one byte per row, 1 = null) followed by every row's
//! `T` (a zero placeholder for nulls); `DateTime64(9)` is an i64 of nanoseconds, little
//! endian. Tags are declared `String`; the engine converts to `LowCardinality(String)`.
//!
//! The encoder walks the points once, in row order, appending to one buffer per column.

use crate::error::ChdbError;
use hyperbyte_domain::{FieldRef, FieldType, PointRef};

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

/// One column being built: its null map (fields only) and its data, filled up to
/// `rows` rows (rows not yet reached are padded when a later row is written).
struct ColBuf {
    nulls: Vec<u8>,
    data: Vec<u8>,
    rows: usize,
}

impl ColBuf {
    fn new(n: usize, width: usize, nullable: bool) -> Self {
        ColBuf {
            nulls: Vec::with_capacity(if nullable { n } else { 0 }),
            data: Vec::with_capacity(n * width),
            rows: 0,
        }
    }
}

/// Pads a tag column (empty strings) up to `row`.
fn pad_tag(c: &mut ColBuf, row: usize) {
    if c.rows < row {
        c.data.resize(c.data.len() + (row - c.rows), 0);
        c.rows = row;
    }
}

/// Pads a field column (nulls with placeholder values) up to `row`.
fn pad_field(c: &mut ColBuf, ty: FieldType, row: usize) {
    if c.rows < row {
        let missing = row - c.rows;
        c.nulls.resize(c.nulls.len() + missing, 1);
        let width = match ty {
            FieldType::Float | FieldType::Integer | FieldType::Unsigned => 8,
            // Bool: one byte; String: an empty string (length 0).
            FieldType::Boolean | FieldType::String => 1,
        };
        c.data.resize(c.data.len() + missing * width, 0);
        c.rows = row;
    }
}

/// Finds the column of a key: first where the previous point had this position,
/// otherwise by name.
fn column_of<'k>(
    layout: &mut Vec<usize>,
    pos: usize,
    key: &str,
    keys: impl Fn(usize) -> &'k str,
    index: &std::collections::HashMap<&str, usize>,
) -> Option<usize> {
    if let Some(&c) = layout.get(pos) {
        if keys(c) == key {
            return Some(c);
        }
    }
    let c = *index.get(key)?;
    if pos < layout.len() {
        layout[pos] = c;
    } else {
        layout.resize(pos, usize::MAX);
        layout.push(c);
    }
    Some(c)
}

/// Encodes `points` as one Native block with a `time` column, the given tag columns
/// (missing tags are sent as the empty string) and field columns (missing fields are
/// null). Fails when a point's field has another type than its column, or when a point
/// carries a tag or field that is not among the columns.
///
/// One pass over the points (row order, cache friendly) appends to per-column buffers,
/// which are then concatenated.
pub(crate) fn encode_block(
    points: &[PointRef<'_>],
    time_column: &str,
    tags: &[TagCol<'_>],
    fields: &[FieldCol<'_>],
) -> Result<Vec<u8>, ChdbError> {
    let n = points.len();
    let tag_index: std::collections::HashMap<&str, usize> =
        tags.iter().enumerate().map(|(i, t)| (t.key, i)).collect();
    let field_index: std::collections::HashMap<&str, usize> =
        fields.iter().enumerate().map(|(i, f)| (f.key, i)).collect();
    let mut time = Vec::with_capacity(n * 8);
    let mut tag_bufs: Vec<ColBuf> = tags.iter().map(|_| ColBuf::new(n, 8, false)).collect();
    let mut field_bufs: Vec<ColBuf> = fields
        .iter()
        .map(|f| {
            let width = match f.ty {
                FieldType::Float | FieldType::Integer | FieldType::Unsigned => 8,
                FieldType::Boolean => 1,
                FieldType::String => 16,
            };
            ColBuf::new(n, width, true)
        })
        .collect();
    let mut tag_layout: Vec<usize> = Vec::new();
    let mut field_layout: Vec<usize> = Vec::new();

    for (row, p) in points.iter().enumerate() {
        time.extend_from_slice(&p.timestamp.to_le_bytes());
        for (pos, (k, v)) in p.tags.iter().enumerate() {
            let c = column_of(&mut tag_layout, pos, k, |c| tags[c].key, &tag_index).ok_or_else(
                || ChdbError::Invalid(format!("tag {k:?} has no column in this batch")),
            )?;
            let buf = &mut tag_bufs[c];
            pad_tag(buf, row);
            if buf.rows > row {
                continue; // a repeated key: the first one wins
            }
            put_str(&mut buf.data, v);
            buf.rows = row + 1;
        }
        for (pos, (k, v)) in p.fields.iter().enumerate() {
            let c = column_of(&mut field_layout, pos, k, |c| fields[c].key, &field_index)
                .ok_or_else(|| {
                    ChdbError::Invalid(format!("field {k:?} has no column in this batch"))
                })?;
            let col = &fields[c];
            let buf = &mut field_bufs[c];
            pad_field(buf, col.ty, row);
            if buf.rows > row {
                continue;
            }
            put_value(&mut buf.data, col, v)?;
            buf.nulls.push(0);
            buf.rows = row + 1;
        }
    }

    let payload: usize = time.len()
        + tag_bufs.iter().map(|b| b.data.len() + n).sum::<usize>()
        + field_bufs
            .iter()
            .map(|b| b.data.len() + b.nulls.len() + n * 8)
            .sum::<usize>();
    let mut out = Vec::with_capacity(64 + payload + 64 * (tags.len() + fields.len()));
    put_varuint(&mut out, (1 + tags.len() + fields.len()) as u64);
    put_varuint(&mut out, n as u64);
    put_str(&mut out, time_column);
    put_str(&mut out, "DateTime64(9)");
    out.extend_from_slice(&time);
    for (tag, mut buf) in tags.iter().zip(tag_bufs) {
        pad_tag(&mut buf, n);
        put_str(&mut out, tag.column);
        put_str(&mut out, "String");
        out.extend_from_slice(&buf.data);
    }
    for (field, mut buf) in fields.iter().zip(field_bufs) {
        pad_field(&mut buf, field.ty, n);
        put_str(&mut out, field.column);
        put_str(&mut out, field_wire_type(field.ty));
        out.extend_from_slice(&buf.nulls);
        out.extend_from_slice(&buf.data);
    }
    Ok(out)
}

fn put_value(
    out: &mut Vec<u8>,
    field: &FieldCol<'_>,
    value: &FieldRef<'_>,
) -> Result<(), ChdbError> {
    match (field.ty, value) {
        (FieldType::Float, FieldRef::Float(f)) => out.extend_from_slice(&f.to_le_bytes()),
        (FieldType::Integer, FieldRef::Integer(i)) => out.extend_from_slice(&i.to_le_bytes()),
        (FieldType::Unsigned, FieldRef::Unsigned(u)) => out.extend_from_slice(&u.to_le_bytes()),
        (FieldType::Boolean, FieldRef::Boolean(b)) => out.push(u8::from(*b)),
        (FieldType::String, FieldRef::String(s)) => put_str(out, s),
        (ty, v) => {
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

#[cfg(test)]
mod tests {
    use super::*;
    use hyperbyte_domain::{FieldValue, Point};

    fn views(points: &[Point]) -> Vec<PointRef<'_>> {
        points.iter().map(PointRef::from_point).collect()
    }

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
        let b = encode_block(&views(&pts), "time", &tags, &fields).expect("encode");
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
            encode_block(&views(&pts), "time", &[], &fields),
            Err(ChdbError::Invalid(_))
        ));
        assert!(matches!(
            encode_block(&views(&pts), "time", &[], &[]),
            Err(ChdbError::Invalid(_))
        ));
        let tagged = vec![point(&[("h", "a")], vec![("v", FieldValue::Float(1.0))], 0)];
        assert!(matches!(
            encode_block(&views(&tagged), "time", &[], &fields),
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
