//! Borrowed views of parsed lines, for callers that want to avoid one allocation per
//! name (measurement, every tag key and value, every field key): strings borrow from the
//! request body unless they had to be unescaped or repaired (invalid UTF-8).

use crate::error::LineError;
use hyperbyte_domain::{FieldType, FieldValue, Point};
use std::borrow::Cow;
use std::fmt;

/// A field value borrowing its string from the body.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldRef<'a> {
    /// 64-bit float.
    Float(f64),
    /// Signed integer (`i` suffix).
    Integer(i64),
    /// Unsigned integer (`u` suffix).
    Unsigned(u64),
    /// Boolean.
    Boolean(bool),
    /// String (unescaped).
    String(Cow<'a, str>),
}

impl FieldRef<'_> {
    /// The type of this value.
    pub fn field_type(&self) -> FieldType {
        match self {
            FieldRef::Float(_) => FieldType::Float,
            FieldRef::Integer(_) => FieldType::Integer,
            FieldRef::Unsigned(_) => FieldType::Unsigned,
            FieldRef::Boolean(_) => FieldType::Boolean,
            FieldRef::String(_) => FieldType::String,
        }
    }

    /// An owned copy.
    pub fn to_value(&self) -> FieldValue {
        match self {
            FieldRef::Float(v) => FieldValue::Float(*v),
            FieldRef::Integer(v) => FieldValue::Integer(*v),
            FieldRef::Unsigned(v) => FieldValue::Unsigned(*v),
            FieldRef::Boolean(v) => FieldValue::Boolean(*v),
            FieldRef::String(s) => FieldValue::String(s.to_string()),
        }
    }
}

/// One parsed line borrowing from the body; same invariants as [`Point`] (tags sorted by
/// key and unique, fields non-empty with unique keys, last value winning).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PointRef<'a> {
    /// Measurement name (unescaped).
    pub measurement: Cow<'a, str>,
    /// Tags sorted by key.
    pub tags: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// Fields in the order first written.
    pub fields: Vec<(Cow<'a, str>, FieldRef<'a>)>,
    /// Nanoseconds since the Unix epoch.
    pub timestamp: i64,
    /// The line repeated a field key with values of different types (`v=1,v=2i`);
    /// InfluxDB 1.6 rejects the whole request with `field type conflict` then.
    pub duplicate_field_type_conflict: bool,
}

impl PointRef<'_> {
    /// An owned [`Point`].
    pub fn to_point(&self) -> Point {
        Point {
            measurement: self.measurement.to_string(),
            tags: self
                .tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            fields: self
                .fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_value()))
                .collect(),
            timestamp: self.timestamp,
        }
    }
}

/// A rejected line: the line as InfluxDB quotes it and the reason.
/// `Display` gives InfluxDB's text, `unable to parse '<line>': <reason>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine<'a> {
    /// The line without leading whitespace and line ending.
    pub line: &'a [u8],
    /// Why it was rejected.
    pub error: LineError,
}

impl fmt::Display for BadLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unable to parse '{}': {}",
            String::from_utf8_lossy(self.line),
            self.error
        )
    }
}
