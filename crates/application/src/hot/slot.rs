//! The rules around the tier's snapshot slot ([`TierSnapshotPort`]) at start-up and
//! shutdown, so that the composition root only calls them and logs what they did:
//! - at start-up the slot is emptied whatever happens next (installed or not, the tier on
//!   or off), so a snapshot never outlives the start that found it;
//! - a snapshot is installed, and one is kept, only against a known stamp of storage
//!   (the WAL's last sequence and [`QueryPort::storage_stamp`]); an engine that cannot
//!   stamp storage gets neither.
//!
//! The slot blocks on I/O and the encoding is CPU work over up to the tier's budget: both
//! run on blocking threads.

use super::snapshot::{RestoreReport, SnapshotRefused, SnapshotStamp};
use super::HotTier;
use hyperbyte_ports::{QueryPort, TierSnapshotError, TierSnapshotPort, WalPort};
use std::sync::Arc;

/// What [`restore_from_slot`] found and did.
#[derive(Debug, PartialEq, Eq)]
pub enum Restored {
    /// No snapshot, or no tier to install it into (it was taken anyway).
    Nothing,
    /// Installed.
    Installed(RestoreReport),
    /// Taken but not installed.
    Refused(SnapshotRefused),
}

/// Why [`keep_in_slot`] kept nothing.
#[derive(Debug, thiserror::Error)]
pub enum KeepError {
    /// The engine cannot stamp storage, or failed to.
    #[error("storage's state is unknown: {0}")]
    Unstamped(String),
    /// The slot failed.
    #[error(transparent)]
    Slot(#[from] TierSnapshotError),
}

/// Storage's state now (`Err` with the reason when it cannot be told).
async fn stamp_now(wal: &dyn WalPort, query: &dyn QueryPort) -> Result<SnapshotStamp, String> {
    let wal_sequence = wal.last_sequence();
    match query.storage_stamp().await {
        Ok(Some(storage)) => Ok(SnapshotStamp {
            wal_sequence,
            storage,
        }),
        Ok(None) => Err("the engine does not stamp storage".into()),
        Err(e) => Err(e.to_string()),
    }
}

fn joined(e: tokio::task::JoinError) -> TierSnapshotError {
    TierSnapshotError::Io(format!("the snapshot's thread failed: {e}"))
}

/// Start-up, before anything can change stored data: takes the snapshot out of `slot` and
/// installs it into `tier` (`None`: the tier or keeping it is off) when storage's stamp is
/// the one it was taken at. An error means the slot could not be emptied: a later start
/// might install it, stale, so the caller should not go on.
pub async fn restore_from_slot(
    tier: Option<Arc<HotTier>>,
    slot: Arc<dyn TierSnapshotPort>,
    wal: &dyn WalPort,
    query: &dyn QueryPort,
) -> Result<Restored, TierSnapshotError> {
    let blob = tokio::task::spawn_blocking(move || slot.take())
        .await
        .map_err(joined)??;
    let (Some(blob), Some(tier)) = (blob, tier) else {
        return Ok(Restored::Nothing);
    };
    let stamp = match stamp_now(wal, query).await {
        Ok(stamp) => stamp,
        Err(why) => return Ok(Restored::Refused(SnapshotRefused::Stale(why))),
    };
    let restored = tokio::task::spawn_blocking(move || tier.restore(&blob, &stamp))
        .await
        .map_err(joined)?;
    Ok(match restored {
        Ok(report) => Restored::Installed(report),
        Err(refused) => Restored::Refused(refused),
    })
}

/// Shutdown, once nothing writes or removes stored data any more: keeps `tier` in `slot`
/// with storage's stamp. Returns the snapshot's size in bytes.
pub async fn keep_in_slot(
    tier: Arc<HotTier>,
    slot: Arc<dyn TierSnapshotPort>,
    wal: &dyn WalPort,
    query: &dyn QueryPort,
) -> Result<usize, KeepError> {
    let stamp = stamp_now(wal, query).await.map_err(KeepError::Unstamped)?;
    let saved = tokio::task::spawn_blocking(move || {
        let blob = tier.snapshot(&stamp);
        slot.save(&blob).map(|()| blob.len())
    })
    .await
    .map_err(joined)?;
    Ok(saved?)
}

#[cfg(test)]
mod tests {
    use super::super::tests::NothingStored;
    use super::*;
    use hyperbyte_domain::{FieldValue, Point};
    use hyperbyte_testkit::{MemoryTierSnapshot, MemoryWal};
    use parking_lot::Mutex;

    fn tier_with_a_row() -> Arc<HotTier> {
        let tier = HotTier::new(1 << 20);
        let id = ("db".to_string(), "autogen".to_string(), "m".to_string());
        tier.start(&id, None);
        let p = Point {
            measurement: "m".into(),
            tags: vec![("host".into(), "a".into())],
            fields: vec![("x".into(), FieldValue::Float(1.0))],
            timestamp: 10,
        };
        tier.insert(&id, Some(0), &[p]);
        Arc::new(tier)
    }

    struct Fixture {
        slot: Arc<MemoryTierSnapshot>,
        wal: MemoryWal,
        engine: NothingStored,
    }

    fn fixture(stamp: Option<&str>) -> Fixture {
        Fixture {
            slot: Arc::new(MemoryTierSnapshot::default()),
            wal: MemoryWal::default(),
            engine: NothingStored(Mutex::new(stamp.map(String::from)), None),
        }
    }

    impl Fixture {
        async fn keep(&self) -> Result<usize, KeepError> {
            keep_in_slot(
                tier_with_a_row(),
                self.slot.clone(),
                &self.wal,
                &self.engine,
            )
            .await
        }

        async fn restore(&self, tier: Option<Arc<HotTier>>) -> Restored {
            restore_from_slot(tier, self.slot.clone(), &self.wal, &self.engine)
                .await
                .unwrap()
        }

        fn slot_is_empty(&self) -> bool {
            self.slot.take().unwrap().is_none()
        }
    }

    #[tokio::test]
    async fn a_kept_tier_is_installed_once() {
        let f = fixture(Some("s1"));
        assert!(f.keep().await.unwrap() > 0);
        let tier = Arc::new(HotTier::new(1 << 20));
        assert_eq!(
            f.restore(Some(tier.clone())).await,
            Restored::Installed(RestoreReport { tables: 1, rows: 1 })
        );
        assert!(tier.covers("db", "autogen", "m", None));
        assert_eq!(f.restore(Some(tier)).await, Restored::Nothing);
    }

    #[tokio::test]
    async fn the_slot_is_emptied_when_nothing_is_installed() {
        // The tier or keeping it is off.
        let f = fixture(Some("s1"));
        f.keep().await.unwrap();
        assert_eq!(f.restore(None).await, Restored::Nothing);
        assert!(f.slot_is_empty());
        // Storage changed meanwhile.
        f.keep().await.unwrap();
        *f.engine.0.lock() = Some("s2".into());
        let tier = Arc::new(HotTier::new(1 << 20));
        assert!(matches!(
            f.restore(Some(tier.clone())).await,
            Restored::Refused(SnapshotRefused::Stale(_))
        ));
        assert_eq!(tier.bytes(), 0);
        assert!(f.slot_is_empty());
        // Storage cannot be stamped now.
        *f.engine.0.lock() = Some("s1".into());
        f.keep().await.unwrap();
        *f.engine.0.lock() = None;
        assert!(matches!(
            f.restore(Some(tier.clone())).await,
            Restored::Refused(SnapshotRefused::Stale(_))
        ));
        assert_eq!(tier.bytes(), 0);
        assert!(f.slot_is_empty());
    }

    #[tokio::test]
    async fn nothing_is_kept_without_a_stamp() {
        let f = fixture(None);
        assert!(matches!(f.keep().await, Err(KeepError::Unstamped(_))));
        assert!(f.slot_is_empty());
    }
}
