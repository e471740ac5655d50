//! WAL entries: one acknowledged write batch, self-describing so that it can be replayed
//! locally after a crash or shipped to another node and applied there unchanged.

pub mod codec;
mod reader;

pub use codec::{EncodedWalEntry, WalCodecError};

use crate::Point;
use serde::{Deserialize, Serialize};

/// One write batch as it is made durable: target database and retention policy plus the
/// points, with timestamps already resolved to nanoseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WalEntry {
    /// Target database.
    pub database: String,
    /// Target retention policy (resolved, never empty).
    pub retention_policy: String,
    /// The points, in write order.
    pub points: Vec<Point>,
}
