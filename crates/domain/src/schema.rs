//! Measurement schemas: field types and tag keys as registered by writes.

use crate::FieldType;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What is known about one measurement: its fields with fixed types and its tag keys.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MeasurementSchema {
    /// Field name → type (fixed once written).
    pub fields: BTreeMap<String, FieldType>,
    /// Tag keys ever written.
    pub tag_keys: BTreeSet<String>,
}

impl MeasurementSchema {
    /// The type of a field, if known.
    pub fn field_type(&self, name: &str) -> Option<FieldType> {
        self.fields.get(name).copied()
    }

    /// Whether `name` is a tag key.
    pub fn is_tag(&self, name: &str) -> bool {
        self.tag_keys.contains(name)
    }
}
