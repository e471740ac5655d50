//! The held-points port: points storage refused, set aside per table, durably.
//!
//! Why it exists: every point in the WAL was acknowledged, so none may be dropped; yet one
//! table that storage keeps refusing (an engine limit nobody foresaw, a broken table) must
//! not stop the WAL from being truncated, or every other table from flushing. The flush
//! service moves such a table's points here, outside the WAL's sequence, keeps diverting
//! that table's later points here in order, and retries them until storage accepts them
//! (or the user drops the table).

use crate::wal::WalError;
use async_trait::async_trait;
use hyperbyte_domain::{CompactEntry, EncodedWalEntry};
use std::fmt::Debug;

/// One storage table: a measurement in a retention policy of a database.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TableRef {
    /// Database.
    pub database: String,
    /// Retention policy.
    pub retention_policy: String,
    /// Measurement.
    pub measurement: String,
}

impl std::fmt::Display for TableRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?}.{:?}.{:?}",
            self.database, self.retention_policy, self.measurement
        )
    }
}

/// A durable, per-table queue of WAL-format entries.
///
/// Guarantees an implementation must give:
/// - `hold` returns only once the entry is durable (fsynced), like [`crate::WalPort::append`].
/// - `entries` returns a table's oldest entries in the order they were held, also after a
///   restart, each with a position that grows with every `hold`.
/// - `release_through` and `release` remove entries durably; entries held later stay.
/// - `tables` lists every table with at least one entry, in [`TableRef`] order.
///
/// Calls for one table are never concurrent (the flush service serialises them); calls for
/// different tables may be. `Send + Sync`; called inside a Tokio runtime.
///
/// Idempotence: `release` and `release_through` may be repeated (releasing what is gone
/// does nothing); `hold` is not (each call queues a new entry).
///
/// Errors are [`WalError`]s with the WAL's meanings ([`WalError::NoSpace`] on a full disk,
/// [`WalError::Storage`] for I/O failures, [`WalError::Codec`] for an entry that cannot be
/// decoded); a failed call changes nothing. `hyperbyte_testkit::contract::held_contract`
/// checks an implementation.
///
/// ```
/// # use hyperbyte_ports::{HeldPointsPort, TableRef};
/// # async fn doc(held: &dyn HeldPointsPort, t: &TableRef) -> Result<(), hyperbyte_ports::WalError> {
/// for table in held.tables().await? {
///     let batch = held.entries(&table, 10_000).await?;
///     // ... retry storing `batch`; once stored:
///     if let Some((last, _)) = batch.last() {
///         held.release_through(&table, *last).await?;
///     }
/// }
/// # Ok(()) }
/// ```
#[async_trait]
pub trait HeldPointsPort: Send + Sync + Debug {
    /// Appends an entry holding points of `table` only.
    async fn hold(&self, table: &TableRef, entry: EncodedWalEntry) -> Result<(), WalError>;
    /// Every table with held entries.
    async fn tables(&self) -> Result<Vec<TableRef>, WalError>;
    /// The oldest held entries of `table` with their positions, stopping once they hold
    /// `max_points` points (so at least one entry while any is held).
    async fn entries(
        &self,
        table: &TableRef,
        max_points: usize,
    ) -> Result<Vec<(u64, CompactEntry)>, WalError>;
    /// Removes the entries of `table` up to and including position `through`.
    async fn release_through(&self, table: &TableRef, through: u64) -> Result<(), WalError>;
    /// Removes every held entry of `table`.
    async fn release(&self, table: &TableRef) -> Result<(), WalError>;
}
