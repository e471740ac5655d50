//! Query results in InfluxDB's model: statements produce series of rows.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One cell of a result row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// No value.
    Null,
    /// A timestamp in nanoseconds, printed per the `epoch` parameter.
    Time(i64),
    /// Float.
    Float(f64),
    /// Signed integer.
    Integer(i64),
    /// Unsigned integer.
    Unsigned(u64),
    /// Boolean.
    Boolean(bool),
    /// String.
    String(String),
}

impl Value {
    /// The value as a float when it is numeric.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Integer(i) => Some(*i as f64),
            Value::Unsigned(u) => Some(*u as f64),
            Value::Time(t) => Some(*t as f64),
            _ => None,
        }
    }

    /// Whether this is `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// One series of a statement result.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Series {
    /// Measurement (or SHOW result) name; `None` is omitted from JSON.
    pub name: Option<String>,
    /// Tag set of the group; empty is omitted from JSON.
    pub tags: BTreeMap<String, String>,
    /// Column names.
    pub columns: Vec<String>,
    /// Rows.
    pub values: Vec<Vec<Value>>,
    /// Whether more rows of this series follow in a later chunk.
    pub partial: bool,
}

/// A warning or informational message attached to a statement result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Level (`warning`, `info`).
    pub level: String,
    /// Text.
    pub text: String,
}

/// The result of one statement.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StatementResult {
    /// Index of the statement in the request.
    pub statement_id: usize,
    /// Series produced.
    pub series: Vec<Series>,
    /// Messages.
    pub messages: Vec<Message>,
    /// Error text, if the statement failed.
    pub error: Option<String>,
    /// Whether more chunks of this statement follow.
    pub partial: bool,
    /// The `tz()` zone of a `SELECT`: RFC 3339 times print as local time in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// How a `chunked=true` answer splits this result.
    #[serde(default, skip_serializing_if = "Chunking::is_rows")]
    pub chunking: Chunking,
}

/// How a `chunked=true` answer splits one statement's result. InfluxDB 1.6 splits what
/// its iterators stream (`SELECT`, `SHOW SERIES`, `SHOW FIELD KEYS`) and sends what its
/// metadata executor builds as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Chunking {
    /// At most `chunk_size` rows per chunk, continued chunks marked `partial`.
    #[default]
    Rows,
    /// One chunk per series, never split nor `partial` (`SHOW TAG KEYS`, `SHOW TAG
    /// VALUES`).
    PerSeries,
    /// One chunk for the whole result (`SHOW DATABASES`, `SHOW MEASUREMENTS`, ...).
    Whole,
}

impl Chunking {
    /// Whether this is the default, [`Chunking::Rows`].
    pub fn is_rows(&self) -> bool {
        *self == Chunking::Rows
    }
}

impl StatementResult {
    /// A failed statement.
    pub fn error(statement_id: usize, msg: impl Into<String>) -> Self {
        StatementResult {
            statement_id,
            error: Some(msg.into()),
            ..Default::default()
        }
    }
}
