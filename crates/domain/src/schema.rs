//! Measurement schemas: field types and tag keys as registered by writes.

use crate::FieldType;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What is known about one measurement: its fields with their types and its tag keys.
///
/// InfluxDB fixes a field's type per shard group, so one field may hold a float in one
/// week and a string in another. Storage keeps one column per field with its *primary*
/// type (the first one written, in `fields`); values of any other type live in a side
/// column named by [`side_field_name`], and `other_types` lists those types for
/// `SHOW FIELD KEYS`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MeasurementSchema {
    /// Field name → primary type (the first type written).
    pub fields: BTreeMap<String, FieldType>,
    /// Tag keys ever written.
    pub tag_keys: BTreeSet<String>,
    /// Field name → types other than the primary one, written into other shard groups.
    /// Not part of the stored record: the metadata store derives it from its per-shard
    /// field types.
    #[serde(skip)]
    pub other_types: BTreeMap<String, BTreeSet<FieldType>>,
}

/// The storage name of the column holding `field`'s values of type `t` when `t` is not the
/// field's primary type. A newline cannot occur in a line-protocol field key, so the name
/// never collides with a real field.
pub fn side_field_name(field: &str, t: FieldType) -> String {
    format!("{field}\n{}", t.influx_name())
}

/// Whether `name` is a storage side column made by [`side_field_name`].
pub fn is_side_field_name(name: &str) -> bool {
    name.contains('\n')
}

impl MeasurementSchema {
    /// The type of a field, if known.
    pub fn field_type(&self, name: &str) -> Option<FieldType> {
        self.fields.get(name).copied()
    }

    /// Every type of a field: the primary one first, then the others in type order.
    pub fn field_types(&self, name: &str) -> Vec<FieldType> {
        let mut out: Vec<FieldType> = self.field_type(name).into_iter().collect();
        if let Some(others) = self.other_types.get(name) {
            out.extend(
                others
                    .iter()
                    .copied()
                    .filter(|t| Some(*t) != self.field_type(name)),
            );
        }
        out
    }

    /// The storage columns holding a field's values, each with its type: the field's own
    /// column (its primary type), then a side column ([`side_field_name`]) per other type.
    pub fn storage_columns(&self, name: &str) -> Vec<(String, FieldType)> {
        let primary = self.field_type(name);
        self.field_types(name)
            .into_iter()
            .map(|t| match primary {
                Some(p) if p == t => (name.to_string(), t),
                _ => (side_field_name(name, t), t),
            })
            .collect()
    }

    /// Whether `name` is a tag key.
    pub fn is_tag(&self, name: &str) -> bool {
        self.tag_keys.contains(name)
    }
}
