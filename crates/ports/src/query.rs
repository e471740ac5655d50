//! The SQL query port: runs SQL produced by the translator and returns typed rows.

use async_trait::async_trait;
use hyperbyte_domain::query::Value;
use std::fmt::Debug;

/// A query failure.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The engine rejected or failed the query.
    #[error("engine error (code {code}): {message}")]
    Engine {
        /// Engine error code (`Code: N`), 0 if unknown.
        code: i32,
        /// Engine message.
        message: String,
    },
    /// The result could not be decoded.
    #[error("result decode error: {0}")]
    Decode(String),
}

impl QueryError {
    /// Whether the error means a table or database does not exist (codes 60 and 81).
    pub fn is_missing_table(&self) -> bool {
        matches!(self, QueryError::Engine { code: 60 | 81, .. })
    }
}

/// Logical type of a result column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Nanosecond timestamp.
    Time,
    /// Float64.
    Float,
    /// Int64 (and smaller signed types).
    Integer,
    /// UInt64 (and smaller unsigned types).
    Unsigned,
    /// Bool.
    Boolean,
    /// String.
    String,
}

/// A materialised result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowSet {
    /// Column names and types.
    pub columns: Vec<(String, ColumnType)>,
    /// Rows; each has one value per column.
    pub rows: Vec<Vec<Value>>,
}

/// Runs SQL against the storage engine.
#[async_trait]
pub trait QueryPort: Send + Sync + Debug {
    /// Runs one statement and returns its rows (empty for statements without a result).
    async fn query(&self, sql: &str) -> Result<RowSet, QueryError>;
}
