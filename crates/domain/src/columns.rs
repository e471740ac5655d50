//! One measurement's points laid out by column: what the flush hands storage.
//!
//! A flush round used to give storage one view per point ([`PointRef`]), whose fields
//! borrowed a round-wide arena of (name, value) pairs: about 600 bytes a TSBS point
//! (ten tags, ten floats) on top of the decoded WAL entries, and storage then walked the
//! views point by point to build its own columns. A [`ColumnBatch`] holds the same
//! points in about 130 bytes each (a time, a series hash, a dictionary index per tag, a
//! value and a presence flag per field), is built in one pass without a view per point
//! ([`ColumnBatchBuilder`]), and a columnar store copies its columns as they are.
//!
//! Invariants of a batch: every column has one entry per row; a tag column's value 0 is
//! the empty string (a row without the tag); a field column's rows without the field
//! hold a placeholder (0, `false`, `""`) and are marked absent; field names are unique
//! within a batch, each with one type.

use crate::point::hashing::FastMap;
use crate::point_ref::{same_str, same_tag_list};
use crate::{FieldRef, FieldType, ListRef, MeasurementSchema, Point, PointRef, TagRef};
use std::borrow::Cow;

/// A tag column: the tag key, its distinct values (index 0 the empty string) and each
/// row's index into them.
#[derive(Debug, Clone, PartialEq)]
pub struct TagColumn {
    key: String,
    values: Vec<String>,
    rows: Vec<u32>,
}

impl TagColumn {
    /// The tag key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The distinct values, the empty string (no such tag) first.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Each row's index into [`TagColumn::values`].
    pub fn rows(&self) -> &[u32] {
        &self.rows
    }

    /// The value of `row` (the empty string when the row has no such tag or is past the
    /// end).
    pub fn value_at(&self, row: usize) -> &str {
        self.rows
            .get(row)
            .and_then(|&i| self.values.get(i as usize))
            .map_or("", String::as_str)
    }
}

/// A field column's values, one per row (placeholders where the row has none).
#[derive(Debug, Clone, PartialEq)]
pub enum FieldData {
    /// 64-bit floats.
    Float(Vec<f64>),
    /// Signed integers.
    Integer(Vec<i64>),
    /// Unsigned integers.
    Unsigned(Vec<u64>),
    /// Booleans.
    Boolean(Vec<bool>),
    /// Strings.
    String(Vec<String>),
}

impl FieldData {
    fn empty(ty: FieldType, capacity: usize) -> Self {
        match ty {
            FieldType::Float => FieldData::Float(Vec::with_capacity(capacity)),
            FieldType::Integer => FieldData::Integer(Vec::with_capacity(capacity)),
            FieldType::Unsigned => FieldData::Unsigned(Vec::with_capacity(capacity)),
            FieldType::Boolean => FieldData::Boolean(Vec::with_capacity(capacity)),
            FieldType::String => FieldData::String(Vec::with_capacity(capacity)),
        }
    }

    /// The type of the values.
    pub fn field_type(&self) -> FieldType {
        match self {
            FieldData::Float(_) => FieldType::Float,
            FieldData::Integer(_) => FieldType::Integer,
            FieldData::Unsigned(_) => FieldType::Unsigned,
            FieldData::Boolean(_) => FieldType::Boolean,
            FieldData::String(_) => FieldType::String,
        }
    }

    /// Appends placeholders up to `rows` values.
    fn pad_to(&mut self, rows: usize) {
        match self {
            FieldData::Float(v) => v.resize(rows, 0.0),
            FieldData::Integer(v) => v.resize(rows, 0),
            FieldData::Unsigned(v) => v.resize(rows, 0),
            FieldData::Boolean(v) => v.resize(rows, false),
            FieldData::String(v) => v.resize(rows, String::new()),
        }
    }

    /// Appends `value`; `false` (nothing appended) when it has another type.
    fn push(&mut self, value: &FieldRef<'_>) -> bool {
        match (self, value) {
            (FieldData::Float(v), FieldRef::Float(x)) => v.push(*x),
            (FieldData::Integer(v), FieldRef::Integer(x)) => v.push(*x),
            (FieldData::Unsigned(v), FieldRef::Unsigned(x)) => v.push(*x),
            (FieldData::Boolean(v), FieldRef::Boolean(x)) => v.push(*x),
            (FieldData::String(v), FieldRef::String(x)) => v.push(x.to_string()),
            _ => return false,
        }
        true
    }

    fn get(&self, row: usize) -> Option<FieldRef<'_>> {
        Some(match self {
            FieldData::Float(v) => FieldRef::Float(*v.get(row)?),
            FieldData::Integer(v) => FieldRef::Integer(*v.get(row)?),
            FieldData::Unsigned(v) => FieldRef::Unsigned(*v.get(row)?),
            FieldData::Boolean(v) => FieldRef::Boolean(*v.get(row)?),
            FieldData::String(v) => FieldRef::String(Cow::Borrowed(v.get(row)?)),
        })
    }
}

/// A field column: the field's storage name (a side column's name for values of another
/// type than the field's primary one), which rows have a value, and the values.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldColumn {
    name: String,
    present: Vec<bool>,
    data: FieldData,
}

impl FieldColumn {
    /// The field's name in the batch.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The values' type.
    pub fn field_type(&self) -> FieldType {
        self.data.field_type()
    }

    /// Whether each row has a value.
    pub fn present(&self) -> &[bool] {
        &self.present
    }

    /// The values, placeholders included.
    pub fn data(&self) -> &FieldData {
        &self.data
    }

    /// The value of `row`, if it has one.
    pub fn value_at(&self, row: usize) -> Option<FieldRef<'_>> {
        if !*self.present.get(row)? {
            return None;
        }
        self.data.get(row)
    }
}

/// Points of one measurement by column (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnBatch {
    times: Vec<i64>,
    series: Vec<u64>,
    tags: Vec<TagColumn>,
    fields: Vec<FieldColumn>,
}

impl ColumnBatch {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether the batch has no row.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Each row's time (nanoseconds since the epoch).
    pub fn times(&self) -> &[i64] {
        &self.times
    }

    /// Each row's [`crate::series_hash`] (of this process: never persist it).
    pub fn series_hashes(&self) -> &[u64] {
        &self.series
    }

    /// The tag columns, in the order their keys were first met.
    pub fn tags(&self) -> &[TagColumn] {
        &self.tags
    }

    /// The field columns, in the order their names were first met.
    pub fn fields(&self) -> &[FieldColumn] {
        &self.fields
    }

    /// The schema of what the batch carries: its field names with their types and its
    /// tag keys.
    pub fn schema(&self) -> MeasurementSchema {
        MeasurementSchema {
            fields: self
                .fields
                .iter()
                .map(|f| (f.name.clone(), f.field_type()))
                .collect(),
            tag_keys: self.tags.iter().map(|t| t.key.clone()).collect(),
            ..MeasurementSchema::default()
        }
    }

    /// The batch of owned points (of one measurement), in their order. Fails when a field
    /// name has values of two types.
    pub fn from_points(points: &[Point]) -> Result<ColumnBatch, ColumnBatchError> {
        let views: Vec<PointRef<'_>> = points.iter().map(PointRef::from_point).collect();
        let measurement = points.first().map_or("", |p| p.measurement.as_str());
        ColumnBatch::from_views(&views, measurement, |_| None)
    }

    /// The batch of `measurement`'s point views, in their order (what a store that takes
    /// columns makes of views). A field's column has the type `type_of` gives its name,
    /// or else its first value's; a value of another type fails the batch. A view's
    /// series hash is taken when it is one of `measurement`, and computed otherwise.
    pub fn from_views<'v>(
        points: &'v [PointRef<'v>],
        measurement: &str,
        type_of: impl Fn(&str) -> Option<FieldType>,
    ) -> Result<ColumnBatch, ColumnBatchError> {
        let mut batch = ColumnBatchBuilder::with_capacity(points.len());
        // Each column's name, and the column of each field position of the last lookup
        // (points of one series list their fields alike).
        let mut names: Vec<&'v str> = Vec::new();
        let mut at: Vec<usize> = Vec::new();
        for p in points {
            let hash = match p.series_hash {
                Some(h) if p.measurement == measurement => h,
                _ => crate::series_hash(measurement, &p.tags),
            };
            batch.row(p.timestamp, hash, &p.tags);
            for (pos, (name, value)) in p.fields.iter().enumerate() {
                let known = at
                    .get(pos)
                    .filter(|&&c| names.get(c).is_some_and(|n| same_str(n, name)));
                let c = match known {
                    Some(&c) => c,
                    None => {
                        let ty = type_of(name).unwrap_or_else(|| value.field_type());
                        let c = batch.column(Cow::Borrowed(name), ty)?;
                        if c == names.len() {
                            names.push(name);
                        }
                        if at.len() <= pos {
                            at.resize(pos + 1, usize::MAX);
                        }
                        at[pos] = c;
                        c
                    }
                };
                batch.set(c, value)?;
            }
        }
        Ok(batch.finish())
    }

    /// The rows as point views of `measurement` (for stores that take points): tags
    /// sorted by key, fields in column order, each with its series hash.
    pub fn views<'b>(&'b self, measurement: &'b str) -> Vec<PointRef<'b>> {
        let mut by_key: Vec<&TagColumn> = self.tags.iter().collect();
        by_key.sort_by(|a, b| a.key.cmp(&b.key));
        (0..self.len())
            .map(|row| {
                let tags: Vec<TagRef<'b>> = by_key
                    .iter()
                    .filter_map(|c| {
                        let v = c.value_at(row);
                        (!v.is_empty()).then(|| (Cow::Borrowed(c.key()), Cow::Borrowed(v)))
                    })
                    .collect();
                let fields = self
                    .fields
                    .iter()
                    .filter_map(|f| Some((Cow::Borrowed(f.name()), f.value_at(row)?)))
                    .collect();
                PointRef {
                    measurement: Cow::Borrowed(measurement),
                    tags: ListRef::Owned(tags),
                    fields: ListRef::Owned(fields),
                    timestamp: self.times[row],
                    repeated_field: None,
                    series_hash: self.series.get(row).copied(),
                }
            })
            .collect()
    }
}

/// Why a value could not join a batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ColumnBatchError {
    /// The field's column has values of another type.
    #[error("field {name:?} is already of type {have} in this batch, not {got}")]
    TypeConflict {
        /// The field.
        name: String,
        /// The type its column has.
        have: FieldType,
        /// The type of the value refused.
        got: FieldType,
    },
    /// A field was given before any row was started.
    #[error("field {0:?} given before any row")]
    NoRow(String),
    /// A column index the builder never gave.
    #[error("no field column {0} in this batch")]
    NoColumn(usize),
}

/// A tag column being built; values borrow the points' strings until the batch is done.
#[derive(Debug)]
struct TagBuilder<'e> {
    key: &'e str,
    values: Vec<&'e str>,
    index: FastMap<&'e str, u32>,
    rows: Vec<u32>,
}

impl<'e> TagBuilder<'e> {
    fn intern(&mut self, value: &'e str) -> u32 {
        if let Some(&i) = self.index.get(value) {
            return i;
        }
        let i = u32::try_from(self.values.len()).unwrap_or(u32::MAX);
        self.values.push(value);
        self.index.insert(value, i);
        i
    }
}

/// A field column being built.
#[derive(Debug)]
struct FieldBuilder<'e> {
    name: Cow<'e, str>,
    present: Vec<bool>,
    data: FieldData,
}

/// Builds a [`ColumnBatch`] row by row: [`ColumnBatchBuilder::row`] starts a row with
/// its time and series, [`ColumnBatchBuilder::field`] (or [`ColumnBatchBuilder::set`] by
/// column index) adds its fields.
///
/// Rows of a series met before copy that row's tag indices (the series hash finds it,
/// the tags confirm it, by address first: the points of one decoded WAL series share
/// their tag list), so a row costs one lookup for its tags.
#[derive(Debug)]
pub struct ColumnBatchBuilder<'e> {
    times: Vec<i64>,
    series: Vec<u64>,
    tags: Vec<TagBuilder<'e>>,
    /// Tag column of each position of the last row that looked its tags up.
    tag_at: Vec<usize>,
    /// First row of each series hash, with its tags.
    seen: FastMap<u64, (usize, &'e [TagRef<'e>])>,
    fields: Vec<FieldBuilder<'e>>,
    capacity: usize,
}

impl<'e> ColumnBatchBuilder<'e> {
    /// A builder for about `rows` rows.
    pub fn with_capacity(rows: usize) -> Self {
        ColumnBatchBuilder {
            times: Vec::with_capacity(rows),
            series: Vec::with_capacity(rows),
            tags: Vec::new(),
            tag_at: Vec::new(),
            seen: FastMap::default(),
            fields: Vec::new(),
            capacity: rows,
        }
    }

    /// Rows so far.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether no row was started.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Starts a row: its time, its series' hash ([`crate::series_hash`] of the
    /// measurement and `tags`) and its tags (sorted by key, unique, values not empty).
    pub fn row(&mut self, timestamp: i64, series_hash: u64, tags: &'e [TagRef<'e>]) {
        let row = self.times.len();
        self.times.push(timestamp);
        self.series.push(series_hash);
        if let Some((earlier, earlier_tags)) = self.seen.get_mut(&series_hash) {
            if same_tag_list(earlier_tags, tags) {
                // The next rows of this series likely share this list: compare addresses.
                *earlier_tags = tags;
                let earlier = *earlier;
                for col in &mut self.tags {
                    let i = col.rows[earlier];
                    col.rows.push(i);
                }
                return;
            }
        }
        for col in &mut self.tags {
            col.rows.push(0);
        }
        for (pos, (k, v)) in tags.iter().enumerate() {
            let c = self.tag_column(pos, k);
            let col = &mut self.tags[c];
            col.rows[row] = col.intern(v);
        }
        self.seen.entry(series_hash).or_insert((row, tags));
    }

    /// The tag column of key `key`, found at `pos` of the last lookup or by name, or new.
    fn tag_column(&mut self, pos: usize, key: &'e str) -> usize {
        if let Some(&c) = self.tag_at.get(pos) {
            if self.tags.get(c).is_some_and(|t| same_str(t.key, key)) {
                return c;
            }
        }
        let c = match self.tags.iter().position(|t| t.key == key) {
            Some(c) => c,
            None => {
                let rows = self.times.len();
                self.tags.push(TagBuilder {
                    key,
                    values: vec![""],
                    index: FastMap::from_iter([("", 0)]),
                    rows: vec![0; rows],
                });
                self.tags.len() - 1
            }
        };
        if self.tag_at.len() <= pos {
            self.tag_at.resize(pos + 1, usize::MAX);
        }
        self.tag_at[pos] = c;
        c
    }

    /// Adds a field of the current row (the one [`ColumnBatchBuilder::row`] started),
    /// looking its column up by name: [`ColumnBatchBuilder::column`] then
    /// [`ColumnBatchBuilder::set`].
    pub fn field(
        &mut self,
        name: Cow<'e, str>,
        value: &FieldRef<'_>,
    ) -> Result<(), ColumnBatchError> {
        if self.times.is_empty() {
            return Err(ColumnBatchError::NoRow(name.into_owned()));
        }
        let c = self.column(name, value.field_type())?;
        self.set(c, value)
    }

    /// The index of the field column named `name`, new (of type `ty`) if there is none.
    /// Fails when the column has another type. Callers that meet the same names row after
    /// row resolve them once and [`ColumnBatchBuilder::set`] by index.
    pub fn column(&mut self, name: Cow<'e, str>, ty: FieldType) -> Result<usize, ColumnBatchError> {
        if let Some(c) = self.fields.iter().position(|f| f.name == name) {
            let have = self.fields[c].data.field_type();
            if have != ty {
                return Err(ColumnBatchError::TypeConflict {
                    name: name.into_owned(),
                    have,
                    got: ty,
                });
            }
            return Ok(c);
        }
        self.fields.push(FieldBuilder {
            name,
            present: Vec::with_capacity(self.capacity),
            data: FieldData::empty(ty, self.capacity),
        });
        Ok(self.fields.len() - 1)
    }

    /// Sets column `column`'s value of the current row. A column already set in this row
    /// keeps its first value. Fails when the value has another type than the column
    /// (nothing is set), when no row was started, or for an index
    /// [`ColumnBatchBuilder::column`] did not give.
    pub fn set(&mut self, column: usize, value: &FieldRef<'_>) -> Result<(), ColumnBatchError> {
        let Some(col) = self.fields.get_mut(column) else {
            return Err(ColumnBatchError::NoColumn(column));
        };
        let Some(row) = self.times.len().checked_sub(1) else {
            return Err(ColumnBatchError::NoRow(col.name.to_string()));
        };
        if col.present.len() > row {
            return Ok(()); // set twice in one row: the first value stays
        }
        if col.present.len() < row {
            col.present.resize(row, false);
            col.data.pad_to(row);
        }
        if !col.data.push(value) {
            return Err(ColumnBatchError::TypeConflict {
                name: col.name.to_string(),
                have: col.data.field_type(),
                got: value.field_type(),
            });
        }
        col.present.push(true);
        Ok(())
    }

    /// The batch, every column padded to the rows started.
    pub fn finish(self) -> ColumnBatch {
        let rows = self.times.len();
        ColumnBatch {
            times: self.times,
            series: self.series,
            tags: self
                .tags
                .into_iter()
                .map(|t| TagColumn {
                    key: t.key.to_string(),
                    values: t.values.into_iter().map(str::to_string).collect(),
                    rows: t.rows,
                })
                .collect(),
            fields: self
                .fields
                .into_iter()
                .map(|mut f| {
                    f.present.resize(rows, false);
                    f.data.pad_to(rows);
                    FieldColumn {
                        name: f.name.into_owned(),
                        present: f.present,
                        data: f.data,
                    }
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests;
