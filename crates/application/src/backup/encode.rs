//! One stored row as one line of line protocol: the typed values storage returns become
//! a [`Point`] that the line-protocol formatter writes (`i`/`u` suffixes, quoted and
//! escaped strings, booleans, escaped names), so a restore or an `influx -import` reads
//! back the same point with the same field types.

use hyperbyte_domain::query::Value;
use hyperbyte_domain::{FieldValue, Point};

/// What a column of a backup read holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind<'a> {
    /// The timestamp (first column).
    Time,
    /// A tag of this key (an empty value is an absent tag).
    Tag(&'a str),
    /// A field of this key (null is an absent field; of two non-null columns for one key,
    /// the first wins).
    Field(&'a str),
}

/// Appends `row` (columns described by `kinds`) as one line to `out`; `false` (nothing
/// written) when the row has no time or no field value.
pub fn encode_row(
    measurement: &str,
    kinds: &[ColumnKind<'_>],
    row: &[Value],
    out: &mut String,
) -> bool {
    let mut point = Point {
        measurement: measurement.to_string(),
        tags: Vec::new(),
        fields: Vec::new(),
        timestamp: 0,
    };
    let mut has_time = false;
    for (kind, value) in kinds.iter().zip(row) {
        match (kind, value) {
            (ColumnKind::Time, Value::Time(t) | Value::Integer(t)) => {
                point.timestamp = *t;
                has_time = true;
            }
            (ColumnKind::Tag(k), Value::String(v)) if !v.is_empty() => {
                point.tags.push((k.to_string(), v.clone()));
            }
            (ColumnKind::Field(k), v) => {
                if point.fields.iter().any(|(f, _)| f == k) {
                    continue;
                }
                let fv = match v {
                    Value::Float(f) => FieldValue::Float(*f),
                    Value::Integer(i) => FieldValue::Integer(*i),
                    Value::Unsigned(u) => FieldValue::Unsigned(*u),
                    Value::Boolean(b) => FieldValue::Boolean(*b),
                    Value::String(s) => FieldValue::String(s.clone()),
                    Value::Null | Value::Time(_) => continue,
                };
                point.fields.push(((*k).to_string(), fv));
            }
            _ => {}
        }
    }
    if !has_time || point.fields.is_empty() {
        return false;
    }
    point.tags.sort();
    let before = out.len();
    hyperbyte_lineprotocol::format_point(&point, out);
    out.len() > before
}
