//! The tier-snapshot port: where the recent-data tier leaves its rows for the next start.
//!
//! Why it exists: the tier is memory only, so after a restart it is empty and every query
//! reads the storage engine until the warm-up has read the newest rows back (seconds, and
//! the engine's narrow reads cost several milliseconds where the tier answers in under
//! one). A clean shutdown hands the tier's encoded rows to this port, the next start takes
//! them back before it serves anything. The blob is a cache: losing it only costs the
//! warm-up; handing out a *stale* one would answer deleted or missing points, so it is
//! handed out at most once.

use std::fmt::Debug;

/// Why the snapshot store failed.
#[derive(Debug, thiserror::Error)]
pub enum TierSnapshotError {
    /// Reading, writing or removing the snapshot failed.
    #[error("recent-data tier snapshot: {0}")]
    Io(String),
}

/// A durable slot for one opaque blob (the tier's encoding, see
/// `hyperbyte_application::hot`).
///
/// Guarantees an implementation must give:
/// - `save` returns once the blob is durable, and atomically replaces any earlier one: a
///   later `take`, also after a power loss, sees the old blob, the new one or none, never
///   a mix or a torn one.
/// - `take` hands the blob out at most once: it removes it durably *before* returning it,
///   so no later `take` (also after a power loss) sees it again. `None` when there is none.
///
/// Both block on I/O (call them off the async reactor, e.g. in `spawn_blocking`); they are
/// called at start-up and shutdown only, never concurrently. A failed call changes
/// nothing the next `take` could mistake for a valid blob.
/// `hyperbyte_testkit::contract::tier_snapshot_contract` checks an implementation.
///
/// ```
/// # use hyperbyte_ports::TierSnapshotPort;
/// # fn doc(slot: &dyn TierSnapshotPort) -> Result<(), hyperbyte_ports::TierSnapshotError> {
/// slot.save(b"encoded tier")?; // at shutdown
/// if let Some(blob) = slot.take()? {
///     // at the next start: decode and install it; it is gone from the slot already
///     # let _ = blob;
/// }
/// # Ok(()) }
/// ```
pub trait TierSnapshotPort: Send + Sync + Debug {
    /// Stores `blob` durably, replacing any earlier one.
    fn save(&self, blob: &[u8]) -> Result<(), TierSnapshotError>;

    /// Removes the stored blob durably and returns it (`None`: none stored).
    fn take(&self) -> Result<Option<Vec<u8>>, TierSnapshotError>;
}
