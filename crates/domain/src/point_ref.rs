//! Borrowed views of points, for the write path's hot loop: the line-protocol parser
//! hands them out with strings borrowed from the request body (unless they had to be
//! unescaped or repaired), ingestion validates them and the WAL codec encodes them, so a
//! point is never copied into owned strings before it is durable. An owned [`Point`]
//! converts to a view without copying its strings ([`PointRef::from_point`]).

use crate::{FieldType, FieldValue, Point};
use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::ops::{Deref, DerefMut};

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

impl<'a> FieldRef<'a> {
    /// The type of this value.
    #[inline]
    pub fn field_type(&self) -> FieldType {
        match self {
            FieldRef::Float(_) => FieldType::Float,
            FieldRef::Integer(_) => FieldType::Integer,
            FieldRef::Unsigned(_) => FieldType::Unsigned,
            FieldRef::Boolean(_) => FieldType::Boolean,
            FieldRef::String(_) => FieldType::String,
        }
    }

    /// A view of an owned value.
    pub fn from_value(v: &'a FieldValue) -> Self {
        match v {
            FieldValue::Float(x) => FieldRef::Float(*x),
            FieldValue::Integer(x) => FieldRef::Integer(*x),
            FieldValue::Unsigned(x) => FieldRef::Unsigned(*x),
            FieldValue::Boolean(x) => FieldRef::Boolean(*x),
            FieldValue::String(x) => FieldRef::String(Cow::Borrowed(x)),
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

/// A list a view either borrows whole (a decoded WAL entry's tags of a series, shared by
/// all its points; a round's field pairs laid out once) or owns (what a parser builds per
/// line). Borrowing spares the flush an allocation and a copy per point: building a
/// 250,000-point round's views took 440–660 ms under ingest and most of the round's
/// memory with two owned vectors per point. Reads go through [`Deref`] to a slice;
/// [`ListRef::to_mut`] makes it owned first.
#[derive(Debug, Clone)]
pub enum ListRef<'a, T> {
    /// Borrowed from something that outlives the view.
    Borrowed(&'a [T]),
    /// Owned by the view.
    Owned(Vec<T>),
}

impl<T> Default for ListRef<'_, T> {
    fn default() -> Self {
        ListRef::Owned(Vec::new())
    }
}

impl<T> Deref for ListRef<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            ListRef::Borrowed(s) => s,
            ListRef::Owned(v) => v,
        }
    }
}

/// Writing through a borrowed list copies it first (see [`ListRef::to_mut`]).
impl<T: Clone> DerefMut for ListRef<'_, T> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.to_mut()
    }
}

impl<T: Clone> ListRef<'_, T> {
    /// The owned list, copied from the borrowed one first if need be.
    pub fn to_mut(&mut self) -> &mut Vec<T> {
        if let ListRef::Borrowed(s) = *self {
            *self = ListRef::Owned(s.to_vec());
        }
        match self {
            ListRef::Owned(v) => v,
            ListRef::Borrowed(_) => unreachable!("made owned above"),
        }
    }

    /// The list as an owned vector.
    pub fn into_owned(self) -> Vec<T> {
        match self {
            ListRef::Borrowed(s) => s.to_vec(),
            ListRef::Owned(v) => v,
        }
    }
}

impl<T> From<Vec<T>> for ListRef<'_, T> {
    fn from(v: Vec<T>) -> Self {
        ListRef::Owned(v)
    }
}

impl<'a, T> From<&'a [T]> for ListRef<'a, T> {
    fn from(s: &'a [T]) -> Self {
        ListRef::Borrowed(s)
    }
}

impl<T> FromIterator<T> for ListRef<'_, T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        ListRef::Owned(iter.into_iter().collect())
    }
}

impl<'s, T> IntoIterator for &'s ListRef<'_, T> {
    type Item = &'s T;
    type IntoIter = std::slice::Iter<'s, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: PartialEq> PartialEq for ListRef<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: PartialEq> PartialEq<Vec<T>> for ListRef<'_, T> {
    fn eq(&self, other: &Vec<T>) -> bool {
        **self == other[..]
    }
}

/// A tag (key, value) of a view.
pub type TagRef<'a> = (Cow<'a, str>, Cow<'a, str>);
/// A field (key, value) of a view.
pub type FieldPairRef<'a> = (Cow<'a, str>, FieldRef<'a>);

/// One parsed line borrowing from the body; same invariants as [`Point`] (tags sorted by
/// key and unique, fields non-empty with unique keys, last value winning).
#[derive(Debug, Clone, Default)]
pub struct PointRef<'a> {
    /// Measurement name (unescaped).
    pub measurement: Cow<'a, str>,
    /// Tags sorted by key.
    pub tags: ListRef<'a, TagRef<'a>>,
    /// Fields in the order first written.
    pub fields: ListRef<'a, FieldPairRef<'a>>,
    /// Nanoseconds since the Unix epoch.
    pub timestamp: i64,
    /// The line repeated a field key with a value of another type (`v=1,v=2i`): what
    /// the field checks need of the values `fields` no longer holds (see
    /// [`PointRef::checked_fields`]).
    pub repeated_field: Option<Box<RepeatedField>>,
    /// [`crate::series_hash`] of the measurement and tags, when the producer already knows
    /// it (the parser computes it once per distinct series key of a body). Not part of
    /// equality.
    pub series_hash: Option<u64>,
}

impl PartialEq for PointRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.measurement == other.measurement
            && self.tags == other.tags
            && self.fields == other.fields
            && self.timestamp == other.timestamp
            && self.repeated_field == other.repeated_field
    }
}

/// A line that repeated a field key with a value of another type. `fields` keeps each
/// key's last value, but InfluxDB 1.6 checks a line's values in line order: the first
/// value of a new key creates the field and the repeat of another type conflicts with
/// it, and nothing after that repeat is looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatedField {
    /// Types of the first values of `fields[..first_types.len()]`: the keys the line
    /// gave before the repeat.
    pub first_types: Vec<FieldType>,
    /// Index in `fields` of the repeated key.
    pub slot: usize,
    /// The type of the repeat.
    pub field_type: FieldType,
}

/// Whether two strings are equal, trying the pointers first: names parsed from one cached
/// series key share their bytes, so equal series usually compare without reading them.
#[inline]
pub fn same_str(a: &str, b: &str) -> bool {
    (a.as_ptr() == b.as_ptr() && a.len() == b.len()) || a == b
}

/// Whether two (measurement, tags) pairs are equal, trying pointers first ([`same_str`]).
/// Two views of one decoded WAL series borrow the same tag list, which is then not read.
#[inline]
pub fn same_series(
    m1: &str,
    tags1: &[(Cow<'_, str>, Cow<'_, str>)],
    m2: &str,
    tags2: &[(Cow<'_, str>, Cow<'_, str>)],
) -> bool {
    same_str(m1, m2) && same_tag_list(tags1, tags2)
}

/// Whether two tag lists are equal: by address first (the points of one decoded WAL
/// series share one list), then pair by pair with [`same_str`].
#[inline]
pub fn same_tag_list(
    tags1: &[(Cow<'_, str>, Cow<'_, str>)],
    tags2: &[(Cow<'_, str>, Cow<'_, str>)],
) -> bool {
    tags1.len() == tags2.len()
        && (std::ptr::eq(tags1.as_ptr(), tags2.as_ptr())
            || tags1
                .iter()
                .zip(tags2)
                .all(|(a, b)| same_str(&a.0, &b.0) && same_str(&a.1, &b.1)))
}

impl PointRef<'_> {
    /// The field values in the order InfluxDB checks their types, as (index in
    /// `fields`, type): every field, or for a line with a [`RepeatedField`] the first
    /// values up to the repeat, then the repeat.
    #[inline]
    pub fn checked_fields(&self) -> impl Iterator<Item = (usize, FieldType)> + '_ {
        let plain = match self.repeated_field {
            None => Some(self.fields.iter().map(|(_, v)| v.field_type()).enumerate()),
            Some(_) => None,
        };
        let repeated = self.repeated_field.as_deref().map(|r| {
            let repeat = std::iter::once((r.slot, r.field_type));
            r.first_types.iter().copied().enumerate().chain(repeat)
        });
        plain
            .into_iter()
            .flatten()
            .chain(repeated.into_iter().flatten())
    }

    /// The series (measurement and tags) of this point, hashed as [`crate::series_hash`]
    /// does; the known hash when there is one.
    #[inline]
    pub fn series(&self) -> u64 {
        self.series_hash
            .unwrap_or_else(|| crate::series_hash(&self.measurement, &self.tags))
    }

    /// Whether `other` has the same measurement and tags.
    #[inline]
    pub fn same_series(&self, other: &PointRef<'_>) -> bool {
        same_series(
            &self.measurement,
            &self.tags,
            &other.measurement,
            &other.tags,
        )
    }
}

impl<'a> PointRef<'a> {
    /// A view of an owned point, borrowing its strings.
    pub fn from_point(p: &'a Point) -> Self {
        PointRef {
            measurement: Cow::Borrowed(&p.measurement),
            tags: p
                .tags
                .iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), Cow::Borrowed(v.as_str())))
                .collect(),
            fields: p
                .fields
                .iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), FieldRef::from_value(v)))
                .collect(),
            timestamp: p.timestamp,
            repeated_field: None,
            series_hash: None,
        }
    }

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

/// Serialises exactly as the [`FieldValue`] it stands for (same variant indices and
/// payloads), so encoders can write views and decoders read owned values.
impl Serialize for FieldRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        const NAME: &str = "FieldValue";
        match self {
            FieldRef::Float(v) => s.serialize_newtype_variant(NAME, 0, "Float", v),
            FieldRef::Integer(v) => s.serialize_newtype_variant(NAME, 1, "Integer", v),
            FieldRef::Unsigned(v) => s.serialize_newtype_variant(NAME, 2, "Unsigned", v),
            FieldRef::Boolean(v) => s.serialize_newtype_variant(NAME, 3, "Boolean", v),
            FieldRef::String(v) => s.serialize_newtype_variant(NAME, 4, "String", v.as_ref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A borrowed list reads as the slice it borrows; writing copies it first and leaves
    /// the borrowed slice alone.
    #[test]
    fn a_borrowed_list_is_copied_before_it_is_written() {
        let shared = vec![1, 2, 3];
        let mut list: ListRef<'_, i32> = ListRef::Borrowed(&shared);
        assert_eq!(list, vec![1, 2, 3]);
        assert_eq!(list.iter().sum::<i32>(), 6);
        list[0] = 7;
        assert!(matches!(list, ListRef::Owned(_)));
        assert_eq!(list, vec![7, 2, 3]);
        list.to_mut().push(4);
        assert_eq!(list.into_owned(), vec![7, 2, 3, 4]);
        assert_eq!(shared, vec![1, 2, 3]);
        let owned: ListRef<'_, i32> = (1..3).collect();
        assert_eq!(owned, ListRef::Borrowed(&[1, 2][..]));
    }
}
