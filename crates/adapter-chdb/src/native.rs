//! An encoder of points into one block of ClickHouse's `Native` format, the fastest
//! input path of the engine (see the chDB fact sheet).
//!
//! Layout of a block: column count and row count (var-uints), then per column its name,
//! its type name and its data. `String` data is var-uint length + bytes per row;
//! `Nullable(T)` is the null map (one byte per row, 1 = null) followed by every row's
//! `T` (a zero placeholder for nulls); `DateTime64(9)` is an i64 of nanoseconds, little
//! endian. Tags are sent as `LowCardinality(String)`, the type of the tables' tag columns
//! (see [`TagColumn`]).
//!
//! The encoder walks the points once, in row order, appending to one buffer per column.

use crate::error::ChdbError;
use hyperbyte_domain::{FastMap, FieldRef, FieldType, PointRef};

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

pub(crate) fn put_varuint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
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

/// A tag column being built as `LowCardinality(String)`: its distinct values (the
/// dictionary, the empty string first: a point without the tag) and each row's index in it.
///
/// Sent so, the engine stores the column as it is; sent as `String` it hashed every row's
/// value into its own dictionary first (a tenth of the insert of a 250,000-row TSBS
/// block, 285 against 258 ms on the engine alone), and the block carried every row's
/// strings (41.6 MB against 27.3 MB).
///
/// The layout (the engine's own `Native` output of such a column): the keys' version
/// (UInt64 1: dictionaries shared with additional keys), the index width and flags (UInt64:
/// width code 0–3 for UInt8–UInt64, plus "has additional keys" 1 << 9 and "update the
/// dictionary" 1 << 10), the key count and the keys (UInt64, then each as a `String`),
/// the row count (UInt64), then one index per row.
struct TagColumn<'p> {
    keys: Vec<&'p str>,
    index: FastMap<&'p str, u32>,
    rows: Vec<u32>,
}

impl<'p> TagColumn<'p> {
    fn new(n: usize) -> Self {
        TagColumn {
            keys: vec![""],
            index: FastMap::from_iter([("", 0)]),
            rows: Vec::with_capacity(n),
        }
    }

    /// The dictionary index of `value`, added if new.
    fn intern(&mut self, value: &'p str) -> u32 {
        if let Some(&i) = self.index.get(value) {
            return i;
        }
        let i = self.keys.len() as u32;
        self.keys.push(value);
        self.index.insert(value, i);
        i
    }

    /// At least the bytes [`TagColumn::write`] appends (the block's capacity).
    fn encoded_len(&self) -> usize {
        let keys: usize = self.keys.iter().map(|k| k.len() + 2).sum();
        32 + keys + self.rows.len() * index_width(self.keys.len()).1
    }

    /// Appends the column's data (after its name and type) to `out`; nothing for a block
    /// of no rows (the engine reads no data of any column then).
    fn write(&self, out: &mut Vec<u8>) {
        put_low_cardinality(out, &self.keys, self.rows.iter().copied());
    }
}

/// The code of the narrowest index type that holds an index into `keys` keys (0: UInt8,
/// 1: UInt16, 2: UInt32) and that type's size in bytes.
pub(crate) fn index_width(keys: usize) -> (u64, usize) {
    match keys {
        0..=0x100 => (0, 1),
        0x101..=0x1_0000 => (1, 2),
        _ => (2, 4),
    }
}

/// Appends a `LowCardinality(String)` column's data (the layout of [`TagColumn`]): the
/// dictionary `keys` and one index into it per row; nothing for no rows.
pub(crate) fn put_low_cardinality<K: AsRef<str>>(
    out: &mut Vec<u8>,
    keys: &[K],
    rows: impl ExactSizeIterator<Item = u32>,
) {
    const HAS_ADDITIONAL_KEYS: u64 = 1 << 9;
    const UPDATE_DICTIONARY: u64 = 1 << 10;
    if rows.len() == 0 {
        return;
    }
    let (width, _) = index_width(keys.len());
    out.extend_from_slice(&1u64.to_le_bytes());
    out.extend_from_slice(&(width | HAS_ADDITIONAL_KEYS | UPDATE_DICTIONARY).to_le_bytes());
    out.extend_from_slice(&(keys.len() as u64).to_le_bytes());
    for k in keys {
        put_str(out, k.as_ref());
    }
    out.extend_from_slice(&(rows.len() as u64).to_le_bytes());
    match width {
        0 => out.extend(rows.map(|i| i as u8)),
        1 => {
            for i in rows {
                out.extend_from_slice(&(i as u16).to_le_bytes());
            }
        }
        _ => {
            for i in rows {
                out.extend_from_slice(&i.to_le_bytes());
            }
        }
    }
}

/// Rows already encoded, by series hash: a point of a series met before copies that row's
/// tag indices (one lookup a row instead of one per tag).
#[derive(Default)]
struct SeenSeries(FastMap<u64, usize>);

impl SeenSeries {
    /// The row of an earlier point of `points` in the same series as `p`, if any (the
    /// hash finds it, the names confirm it).
    fn row_of(&self, points: &[PointRef<'_>], p: &PointRef<'_>) -> Option<usize> {
        let row = *self.0.get(&p.series_hash?)?;
        points
            .get(row)
            .is_some_and(|earlier| earlier.same_series(p))
            .then_some(row)
    }

    /// Remembers `row` as the first of `p`'s series (when `p` knows its hash).
    fn remember(&mut self, p: &PointRef<'_>, row: usize) {
        if let Some(h) = p.series_hash {
            self.0.entry(h).or_insert(row);
        }
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
/// (a missing tag is the empty string) and field columns (missing fields are
/// null). Fails when a point's field has another type than its column, or when a point
/// carries a tag or field that is not among the columns.
///
/// One pass over the points (row order, cache friendly) appends to per-column buffers,
/// which are then concatenated.
pub(crate) fn encode_block<'p>(
    points: &'p [PointRef<'p>],
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
    let mut tag_cols: Vec<TagColumn<'p>> = tags.iter().map(|_| TagColumn::new(n)).collect();
    let mut seen = SeenSeries::default();
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
        match seen.row_of(points, p) {
            Some(earlier) => {
                for col in &mut tag_cols {
                    let i = col.rows[earlier];
                    col.rows.push(i);
                }
            }
            None => {
                for col in &mut tag_cols {
                    col.rows.push(0);
                }
                for (pos, (k, v)) in p.tags.iter().enumerate() {
                    let c = column_of(&mut tag_layout, pos, k, |c| tags[c].key, &tag_index)
                        .ok_or_else(|| {
                            ChdbError::Invalid(format!("tag {k:?} has no column in this batch"))
                        })?;
                    let col = &mut tag_cols[c];
                    if col.rows[row] != 0 {
                        continue; // a repeated key (views never have one): the first wins
                    }
                    col.rows[row] = col.intern(v);
                }
                seen.remember(p, row);
            }
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
        + tag_cols.iter().map(TagColumn::encoded_len).sum::<usize>()
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
    for (tag, col) in tags.iter().zip(&tag_cols) {
        put_str(&mut out, tag.column);
        put_str(&mut out, "LowCardinality(String)");
        col.write(&mut out);
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
        want.extend_from_slice(b"\x03t_h\x16LowCardinality(String)");
        want.extend_from_slice(&1u64.to_le_bytes()); // keys' version
        want.extend_from_slice(&0x600u64.to_le_bytes()); // UInt8 indexes, keys follow
        want.extend_from_slice(&2u64.to_le_bytes());
        want.extend_from_slice(b"\x00\x01a"); // "" and "a"
        want.extend_from_slice(&2u64.to_le_bytes());
        want.extend_from_slice(&[1, 0]);
        want.extend_from_slice(b"\x03f_v\x11Nullable(Float64)\x00\x00");
        want.extend_from_slice(&1.5f64.to_le_bytes());
        want.extend_from_slice(&2.0f64.to_le_bytes());
        want.extend_from_slice(b"\x03f_s\x10Nullable(String)\x01\x00\x00\x01x");
        assert_eq!(b, want);
    }

    /// A point whose series hash was met before copies that row's tag indexes only when
    /// its tags are the same (a hash shared by other tags is looked up tag by tag).
    #[test]
    fn series_met_before_reuse_their_indexes_only_with_the_same_tags() {
        let pts = vec![
            point(&[("h", "a")], vec![("v", FieldValue::Float(1.0))], 1),
            point(&[("h", "b")], vec![("v", FieldValue::Float(2.0))], 2),
            point(&[("h", "a")], vec![("v", FieldValue::Float(3.0))], 3),
            point(&[("h", "c")], vec![("v", FieldValue::Float(4.0))], 4),
        ];
        let mut views = views(&pts);
        for v in &mut views {
            v.series_hash = Some(7); // one hash for every tag set
        }
        let tags = [TagCol {
            key: "h",
            column: "t_h",
        }];
        let fields = [FieldCol {
            key: "v",
            column: "f_v",
            ty: FieldType::Float,
        }];
        let b = encode_block(&views, "time", &tags, &fields).expect("encode");
        let mut tag_column = b"\x03t_h\x16LowCardinality(String)".to_vec();
        for word in [1u64, 0x600, 4] {
            tag_column.extend_from_slice(&word.to_le_bytes());
        }
        tag_column.extend_from_slice(b"\x00\x01a\x01b\x01c");
        tag_column.extend_from_slice(&4u64.to_le_bytes());
        tag_column.extend_from_slice(&[1, 2, 1, 3]);
        assert!(
            b.windows(tag_column.len()).any(|w| w == tag_column),
            "{b:?}"
        );
    }

    /// The index type is the narrowest that holds the last key's index: UInt8 up to 256
    /// keys (the empty string's included), UInt16 up to 65,536, then UInt32.
    #[test]
    fn tag_indexes_take_the_narrowest_width_that_holds_them() {
        let values: Vec<String> = (0..65_537).map(|i| format!("v{i}")).collect();
        for (keys, code, width) in [(256, 0, 1), (257, 1, 2), (65_536, 1, 2), (65_537, 2, 4)] {
            let mut col = TagColumn::new(keys);
            for v in &values[..keys - 1] {
                let i = col.intern(v);
                col.rows.push(i);
            }
            let mut out = Vec::new();
            col.write(&mut out);
            assert!(out.len() <= col.encoded_len(), "{keys} keys");
            assert_eq!(out[8..16], (code | 0x600u64).to_le_bytes(), "{keys} keys");
            let last = &out[out.len() - width..];
            let mut index = [0u8; 8];
            index[..width].copy_from_slice(last);
            assert_eq!(u64::from_le_bytes(index), keys as u64 - 1, "{keys} keys");
        }
        let mut empty = Vec::new();
        TagColumn::new(0).write(&mut empty);
        assert!(empty.is_empty());
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
