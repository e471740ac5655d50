//! The tier-snapshot slot in memory.

use hyperbyte_ports::{TierSnapshotError, TierSnapshotPort};
use parking_lot::Mutex;

/// A [`TierSnapshotPort`] holding the blob in memory (one process's life).
#[derive(Debug, Default)]
pub struct MemoryTierSnapshot {
    blob: Mutex<Option<Vec<u8>>>,
}

impl TierSnapshotPort for MemoryTierSnapshot {
    fn save(&self, blob: &[u8]) -> Result<(), TierSnapshotError> {
        *self.blob.lock() = Some(blob.to_vec());
        Ok(())
    }

    fn take(&self) -> Result<Option<Vec<u8>>, TierSnapshotError> {
        Ok(self.blob.lock().take())
    }
}
