//! The SQL query port: runs SQL produced by the translator and returns typed rows.
//!
//! Ports carry no SQL of their own: the statements of the read path come from
//! `hyperbyte-timeseriesql` (the translator and its `sql` read plans), and the probes of
//! the engine's own catalog (`table_columns`, `latest_time`) are the adapter's.

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

/// The rows of a streamed result, chunk by chunk (see [`QueryPort::query_chunks`]).
#[async_trait]
pub trait RowChunks: Send + Sync + Debug {
    /// The next chunk, `None` once the result is exhausted; an error ends the result.
    async fn next_chunk(&mut self) -> Option<Result<RowSet, QueryError>>;
}

/// A whole result handed out as one chunk (the default of [`QueryPort::query_chunks`]).
#[derive(Debug)]
pub struct OneChunk(pub Option<RowSet>);

#[async_trait]
impl RowChunks for OneChunk {
    async fn next_chunk(&mut self) -> Option<Result<RowSet, QueryError>> {
        self.0.take().map(Ok)
    }
}

/// Runs SQL against the storage engine.
///
/// # Contract
///
/// - **Dialect**: the statements come from `hyperbyte-timeseriesql` and are ClickHouse
///   SQL over the tables the [`PointsSinkPort`](crate::PointsSinkPort) of the same engine
///   writes; an engine that is not ClickHouse translates or implements that subset.
/// - **Results**: one column per selected expression, typed by [`ColumnType`]; times are
///   nanoseconds; nulls are [`Value::Null`].
/// - **Visibility**: a query sees every write whose `write_views` returned before it
///   started.
/// - **Concurrency**: `Send + Sync`; many queries run at once, on a runtime of their own.
///   A dropped query future (a client gone, a timeout) should cancel the engine's work.
/// - **Errors**: [`QueryError::Engine`] with the engine's code
///   ([`QueryError::is_missing_table`] for codes 60 and 81: the caller answers as for an
///   empty result), [`QueryError::Decode`] for a result that cannot be read.
///
/// ```
/// # use hyperbyte_ports::QueryPort;
/// # async fn doc(q: &dyn QueryPort) -> Result<(), hyperbyte_ports::QueryError> {
/// let rows = q.query("SELECT 1 AS one").await?;
/// assert_eq!(rows.columns.len(), rows.rows.first().map_or(1, Vec::len));
/// # Ok(()) }
/// ```
#[async_trait]
pub trait QueryPort: Send + Sync + Debug {
    /// Runs one statement and returns its rows (empty for statements without a result).
    async fn query(&self, sql: &str) -> Result<RowSet, QueryError>;

    /// Runs one SELECT and hands its rows out chunk by chunk as the engine produces
    /// them, so a result of any size is read in bounded memory (backups and exports).
    /// The engine may hold a reader until the chunks are consumed or dropped. The default
    /// runs [`query`](Self::query) and hands the whole result out as one chunk.
    async fn query_chunks(&self, sql: &str) -> Result<Box<dyn RowChunks>, QueryError> {
        Ok(Box::new(OneChunk(Some(self.query(sql).await?))))
    }

    /// [`query_chunks`](Self::query_chunks) for work no client waits on (the recent-data
    /// tier's warm-up after a restart): the engine may run it behind, and slower than,
    /// every other statement, so that queries arriving meanwhile are not slowed by it.
    /// Same rows as `query_chunks`. The default runs it like any other statement.
    async fn query_chunks_in_background(
        &self,
        sql: &str,
    ) -> Result<Box<dyn RowChunks>, QueryError> {
        self.query_chunks(sql).await
    }

    /// The column names of the table holding `measurement` in `database`.`rp`; empty
    /// when there is no such table. (The engine knows its catalog: the chDB adapter
    /// answers from its table cache.)
    async fn table_columns(
        &self,
        database: &str,
        rp: &str,
        measurement: &str,
    ) -> Result<Vec<String>, QueryError>;

    /// The columns that lead the sort key of the table holding `measurement` in
    /// `database`.`rp`, in order, up to its first non-tag column (`time`): a `GROUP BY`
    /// of exactly the first k of them can be aggregated in the table's order. Empty when
    /// there is no such table or the engine cannot tell (the default).
    async fn leading_key_columns(
        &self,
        database: &str,
        rp: &str,
        measurement: &str,
    ) -> Result<Vec<String>, QueryError> {
        let _ = (database, rp, measurement);
        Ok(Vec::new())
    }

    /// The latest time stored for `measurement` in `database`.`rp` at or before `max`
    /// (nanoseconds; `None`: no such rows or no table).
    async fn latest_time(
        &self,
        database: &str,
        rp: &str,
        measurement: &str,
        max: Option<i64>,
    ) -> Result<Option<i64>, QueryError>;

    /// A stamp of what storage holds: two calls give the same stamp exactly when no
    /// point was stored, removed or rewritten in between (work that only reorganises
    /// stored data, such as merging parts, keeps it). The recent-data tier's snapshot
    /// carries it to tell whether storage changed while the server was stopped (by an
    /// older release, or a storage directory put back from elsewhere). `None` when the
    /// engine cannot tell (the default): a snapshot is then never installed.
    async fn storage_stamp(&self) -> Result<Option<String>, QueryError> {
        Ok(None)
    }

    /// Whether a read of `measurement` in `database`.`rp` between `min` and `max`
    /// (nanoseconds, inclusive; `None`: unbounded) must merge the stored versions of
    /// overwritten points (ClickHouse's `FINAL`), because a point there may have been
    /// written more than once. An engine that cannot tell answers `true` (the default).
    fn must_merge(
        &self,
        database: &str,
        rp: &str,
        measurement: &str,
        min: Option<i64>,
        max: Option<i64>,
    ) -> bool {
        let _ = (database, rp, measurement, min, max);
        true
    }
}
