//! Anti-entropy: members compare what they hold, table by table and hour by hour, and
//! copy the points they miss from a member that has them.
//!
//! Hinted handoff repairs a member that was away for as long as the hints reach; what
//! the bounds dropped (or a member that was removed and re-added) is repaired here. On a
//! schedule, each member asks each peer for its digests of every table (database,
//! retention policy, measurement): per hour of time, the number of points and an
//! order-independent hash of them ([`RangeDigest`]). Where a peer's range differs from
//! the local one, the rule below decides whether this member pulls the peer's points of
//! that range and writes them locally through the normal write path (not replicated
//! further; a point is its series and time, so a rewrite overwrites, field by field).
//!
//! **Who pulls:** a member pulls a range when the peer holds more points there, or as
//! many with another hash and the peer has the higher node id. Both members run the
//! rule, so a point only one of them has reaches the other, and two versions of one
//! point settle on the higher id's (pulling both ways would swap them forever).

use super::effects::StorageChanges;
use crate::backup::{BackupService, TableEntry};
use crate::flush::FlushService;
use crate::ingest::IngestionService;
use hyperbyte_domain::query::Value;
use hyperbyte_ports::{MetadataPort, QueryPort, RangeDigest, ReplicationPort, TableRef};
use hyperbyte_timeseriesql::sql::{DigestRead, TableRef as SqlTable};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Width of a compared range: one hour of time.
pub const RANGE_NS: i64 = 3_600_000_000_000;

/// An anti-entropy failure (reported per table; the round goes on).
#[derive(Debug, thiserror::Error)]
pub enum AntiEntropyError {
    /// This node's storage could not answer.
    #[error("anti-entropy: reading local data: {0}")]
    Local(String),
    /// The peer could not answer.
    #[error("anti-entropy: peer {peer}: {reason}")]
    Peer {
        /// The peer.
        peer: u64,
        /// Why.
        reason: String,
    },
    /// The copied points could not be written here.
    #[error("anti-entropy: writing copied points: {0}")]
    Write(String),
}

/// Anti-entropy counters (since start-up).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AntiEntropyStats {
    /// Rounds run.
    pub rounds: u64,
    /// Ranges compared with a peer.
    pub ranges_compared: u64,
    /// Ranges whose points were copied from a peer.
    pub ranges_repaired: u64,
    /// Points copied from peers.
    pub points_copied: u64,
    /// Comparisons or copies that failed (retried next round).
    pub failures: u64,
}

/// The counters, shared with whoever reports them.
#[derive(Debug, Default)]
pub struct AntiEntropyCounters {
    rounds: AtomicU64,
    compared: AtomicU64,
    repaired: AtomicU64,
    copied: AtomicU64,
    failures: AtomicU64,
}

impl AntiEntropyCounters {
    /// The counters now.
    pub fn snapshot(&self) -> AntiEntropyStats {
        AntiEntropyStats {
            rounds: self.rounds.load(Ordering::Relaxed),
            ranges_compared: self.compared.load(Ordering::Relaxed),
            ranges_repaired: self.repaired.load(Ordering::Relaxed),
            points_copied: self.copied.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
        }
    }
}

/// Whether this member (`me`) pulls a range whose digests are `mine` and `theirs` from
/// `peer` (see the module documentation).
pub fn should_pull(me: u64, mine: Option<&RangeDigest>, peer: u64, theirs: &RangeDigest) -> bool {
    let (points, hash) = mine.map_or((0, 0), |d| (d.points, d.hash));
    theirs.points > points || (theirs.points == points && theirs.hash != hash && peer > me)
}

/// Anti-entropy of one member.
#[derive(Debug)]
pub struct AntiEntropy {
    port: Arc<dyn ReplicationPort>,
    meta: Arc<dyn MetadataPort>,
    engine: Arc<dyn QueryPort>,
    flush: Arc<FlushService>,
    backup: Arc<BackupService>,
    ingest: Arc<IngestionService>,
    counters: Arc<AntiEntropyCounters>,
    changes: Arc<StorageChanges>,
}

impl AntiEntropy {
    /// Anti-entropy over these ports and services; `counters` are reported elsewhere.
    pub fn new(
        port: Arc<dyn ReplicationPort>,
        meta: Arc<dyn MetadataPort>,
        engine: Arc<dyn QueryPort>,
        flush: Arc<FlushService>,
        backup: Arc<BackupService>,
        ingest: Arc<IngestionService>,
        counters: Arc<AntiEntropyCounters>,
    ) -> Self {
        AntiEntropy {
            port,
            meta,
            engine,
            flush,
            backup,
            ingest,
            counters,
            changes: Arc::default(),
        }
    }

    /// Sees this member's drops and deletes through `changes` (shared with
    /// [`crate::cluster::StorageEffects`]): points copied while one ran are not written.
    pub fn with_changes(mut self, changes: Arc<StorageChanges>) -> Self {
        self.changes = changes;
        self
    }

    /// This member's digests of `table`, one per hour holding points (what a peer asks
    /// for). Acknowledged points still in the WAL are flushed first.
    pub async fn digests(&self, table: &TableRef) -> Result<Vec<RangeDigest>, AntiEntropyError> {
        let local = |e: String| AntiEntropyError::Local(e);
        self.flush
            .ensure_visible()
            .await
            .map_err(|e| local(e.to_string()))?;
        let Some(schema) = self.meta.schema(&table.database, &table.measurement) else {
            return Ok(Vec::new());
        };
        let existing: std::collections::BTreeSet<String> = match self
            .engine
            .table_columns(&table.database, &table.retention_policy, &table.measurement)
            .await
        {
            Ok(cols) => cols.into_iter().collect(),
            Err(e) if e.is_missing_table() => return Ok(Vec::new()),
            Err(e) => return Err(local(e.to_string())),
        };
        if existing.is_empty() {
            return Ok(Vec::new());
        }
        use hyperbyte_domain::naming;
        let read = DigestRead {
            table: SqlTable::new(&table.database, &table.retention_policy, &table.measurement),
            merge: self.engine.must_merge(
                &table.database,
                &table.retention_policy,
                &table.measurement,
                None,
                None,
            ),
            tags: schema
                .tag_keys
                .iter()
                .map(|t| (t.clone(), existing.contains(&naming::tag_column(t))))
                .collect(),
            fields: schema
                .fields
                .keys()
                .map(|f| (f.clone(), existing.contains(&naming::field_column(f))))
                .collect(),
            bucket: RANGE_NS,
        };
        let sql = read.to_sql().map_err(|e| local(e.to_string()))?;
        let rows = match self.engine.query(&sql).await {
            Ok(r) => r.rows,
            Err(e) if e.is_missing_table() => return Ok(Vec::new()),
            Err(e) => return Err(local(e.to_string())),
        };
        let int = |v: Option<&Value>| match v {
            Some(Value::Integer(i)) => Some(*i),
            Some(Value::Unsigned(u)) => i64::try_from(*u).ok(),
            _ => None,
        };
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let (Some(bucket), Some(points), Some(hash)) =
                (int(row.first()), int(row.get(1)), int(row.get(2)))
            else {
                return Err(local(format!("unexpected digest row {row:?}")));
            };
            let start = bucket.saturating_mul(RANGE_NS);
            out.push(RangeDigest {
                start,
                end: start.saturating_add(RANGE_NS - 1),
                points,
                hash,
            });
        }
        Ok(out)
    }

    /// This member's points of `table` with `start <= time <= end`, as line protocol
    /// (what a peer that misses them asks for).
    pub async fn points(
        &self,
        table: &TableRef,
        start: i64,
        end: i64,
    ) -> Result<String, AntiEntropyError> {
        let local = |e: String| AntiEntropyError::Local(e);
        self.flush
            .ensure_visible()
            .await
            .map_err(|e| local(e.to_string()))?;
        let entry = TableEntry {
            database: table.database.clone(),
            retention_policy: table.retention_policy.clone(),
            measurement: table.measurement.clone(),
        };
        let mut reader = match self
            .backup
            .table_reader(entry, Some(start), end.checked_add(1))
            .await
        {
            Ok(r) => r,
            // The measurement is gone here meanwhile: nothing to give.
            Err(crate::backup::BackupError::Invalid(_)) => return Ok(String::new()),
            Err(e) => return Err(local(e.to_string())),
        };
        let mut out = String::new();
        while let Some(page) = reader.next_page().await.map_err(|e| local(e.to_string()))? {
            out.push_str(&page);
        }
        Ok(out)
    }

    /// One round: every table with every peer. Failures are logged and counted; the
    /// round goes on with the next table (a peer that cannot be reached is skipped).
    pub async fn round(&self) {
        self.counters.rounds.fetch_add(1, Ordering::Relaxed);
        // Every table this member knows of (the metadata is the cluster's).
        let tables = crate::tables::known_tables(self.meta.as_ref());
        for peer in self.port.peers() {
            for table in &tables {
                match self.compare(peer, table).await {
                    Ok(()) => {}
                    Err(e @ AntiEntropyError::Peer { .. }) => {
                        self.counters.failures.fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(peer, error = %e, "anti-entropy skips a peer this round");
                        break;
                    }
                    Err(e) => {
                        self.counters.failures.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(peer, table = %table, error = %e, "anti-entropy of a table failed");
                    }
                }
            }
        }
    }

    /// Compares `table` with `peer` and pulls the ranges the rule says to.
    async fn compare(&self, peer: u64, table: &TableRef) -> Result<(), AntiEntropyError> {
        let me = self.port.local_node();
        // Before the peer is asked: its answer reflects the drops and deletes it ran as
        // of then (the transport refuses a peer that ran fewer than this member).
        let changes_then = self.changes.now();
        let theirs = self
            .port
            .digests(peer, table)
            .await
            .map_err(|e| AntiEntropyError::Peer {
                peer,
                reason: e.to_string(),
            })?;
        let mine: BTreeMap<i64, RangeDigest> = self
            .digests(table)
            .await?
            .into_iter()
            .map(|d| (d.start, d))
            .collect();
        let mut compared = theirs.len() as u64;
        compared += mine
            .keys()
            .filter(|k| !theirs.iter().any(|t| t.start == **k))
            .count() as u64;
        self.counters
            .compared
            .fetch_add(compared, Ordering::Relaxed);
        for range in theirs {
            if !should_pull(me, mine.get(&range.start), peer, &range) {
                continue;
            }
            let body = self
                .port
                .points(peer, table, range.start, range.end)
                .await
                .map_err(|e| AntiEntropyError::Peer {
                    peer,
                    reason: e.to_string(),
                })?;
            if body.is_empty() {
                continue;
            }
            if self.changes.moved_since(changes_then) {
                // A drop or delete ran here since the peer was asked: what it removed may
                // be in `body`. The next round compares again.
                tracing::debug!(peer, table = %table, "anti-entropy drops a copy a delete overtook");
                return Ok(());
            }
            let written = self
                .ingest
                .write_repair(&table.database, &table.retention_policy, &body)
                .await
                .map_err(|e| AntiEntropyError::Write(e.to_string()))?;
            self.counters.repaired.fetch_add(1, Ordering::Relaxed);
            self.counters
                .copied
                .fetch_add(written as u64, Ordering::Relaxed);
            tracing::info!(peer, table = %table, start = range.start, points = written,
                "anti-entropy copied the points of a range this member missed");
        }
        Ok(())
    }

    /// Runs a round every `interval` until `shutdown` turns true.
    pub async fn run(self: Arc<Self>, interval: Duration, mut shutdown: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                _ = shutdown.changed() => {
                    if *shutdown.borrow() {
                        return;
                    }
                }
                _ = tokio::time::sleep(interval) => {
                    let span = tracing::info_span!("anti_entropy");
                    let t = Instant::now();
                    tracing::Instrument::instrument(self.round(), span).await;
                    tracing::debug!(took = ?t.elapsed(), "anti-entropy round done");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(points: i64, hash: i64) -> RangeDigest {
        RangeDigest {
            start: 0,
            end: RANGE_NS - 1,
            points,
            hash,
        }
    }

    #[test]
    fn the_member_with_fewer_points_pulls() {
        assert!(should_pull(1, None, 2, &d(5, 9)));
        assert!(should_pull(2, Some(&d(4, 1)), 1, &d(5, 9)));
        assert!(!should_pull(1, Some(&d(5, 9)), 2, &d(4, 1)));
    }

    #[test]
    fn equal_counts_settle_on_the_higher_ids_version() {
        // 1 pulls from 2; 2 never pulls from 1: no swapping back and forth.
        assert!(should_pull(1, Some(&d(5, 1)), 2, &d(5, 9)));
        assert!(!should_pull(2, Some(&d(5, 9)), 1, &d(5, 1)));
        assert!(!should_pull(1, Some(&d(5, 9)), 2, &d(5, 9)));
    }

    mod rounds {
        use super::super::*;
        use crate::flush::FlushConfig;
        use crate::ingest::{Limits, WriteRequest};
        use async_trait::async_trait;
        use hyperbyte_domain::{MetaCommand, Precision};
        use hyperbyte_ports::{QueryError, ReplicatedBatch, ReplicationError, RowSet};
        use hyperbyte_testkit::{ManualClock, MemoryMetadata, MemorySink, MemoryWal};
        use parking_lot::Mutex;

        const T: i64 = 1_600_000_000_000_000_000;

        /// Storage that holds no table yet (so this member's digests are empty).
        #[derive(Debug, Default)]
        struct EmptyEngine {
            digest_queries: Mutex<u32>,
        }

        #[async_trait]
        impl QueryPort for EmptyEngine {
            async fn query(&self, sql: &str) -> Result<RowSet, QueryError> {
                if sql.contains("digest_bucket") {
                    *self.digest_queries.lock() += 1;
                }
                Err(QueryError::Engine {
                    code: 60,
                    message: "no table".into(),
                })
            }
            async fn table_columns(
                &self,
                _: &str,
                _: &str,
                _: &str,
            ) -> Result<Vec<String>, QueryError> {
                Ok(Vec::new())
            }
            async fn latest_time(
                &self,
                _: &str,
                _: &str,
                _: &str,
                _: Option<i64>,
            ) -> Result<Option<i64>, QueryError> {
                Ok(None)
            }
        }

        /// Peer 2 holds two points of `m` in the first hour after `T`.
        #[derive(Debug, Default)]
        struct Peer {
            pulls: Mutex<Vec<(String, i64, i64)>>,
            down: Mutex<bool>,
            /// A delete that runs on the asking member while it fetches points.
            delete_during_fetch: Mutex<Option<Arc<StorageChanges>>>,
        }

        #[async_trait]
        impl ReplicationPort for Peer {
            fn local_node(&self) -> u64 {
                1
            }
            fn peers(&self) -> Vec<u64> {
                vec![2]
            }
            async fn send(&self, _: u64, _: &ReplicatedBatch) -> Result<(), ReplicationError> {
                Ok(())
            }
            async fn digests(
                &self,
                peer: u64,
                table: &TableRef,
            ) -> Result<Vec<RangeDigest>, ReplicationError> {
                if *self.down.lock() {
                    return Err(ReplicationError::Unreachable {
                        peer,
                        reason: "down".into(),
                    });
                }
                if table.measurement != "m" {
                    return Ok(Vec::new());
                }
                let start = T.div_euclid(RANGE_NS) * RANGE_NS;
                Ok(vec![RangeDigest {
                    start,
                    end: start + RANGE_NS - 1,
                    points: 2,
                    hash: 7,
                }])
            }
            async fn points(
                &self,
                _: u64,
                table: &TableRef,
                start: i64,
                end: i64,
            ) -> Result<Vec<u8>, ReplicationError> {
                self.pulls
                    .lock()
                    .push((table.measurement.clone(), start, end));
                if let Some(changes) = &*self.delete_during_fetch.lock() {
                    drop(changes.begin());
                }
                Ok(format!("m v=1i {}\nm v=2i {}\n", T, T + 1).into_bytes())
            }
        }

        async fn member(
            peer: &Arc<Peer>,
        ) -> (AntiEntropy, Arc<MemoryWal>, Arc<AntiEntropyCounters>) {
            let meta = Arc::new(MemoryMetadata::new());
            meta.apply_blocking(MetaCommand::CreateDatabase {
                name: "db".into(),
                default_rp: None,
            })
            .unwrap();
            let wal = Arc::new(MemoryWal::default());
            let clock = Arc::new(ManualClock::at(T));
            let ingest = Arc::new(IngestionService::new(
                meta.clone(),
                wal.clone(),
                clock.clone(),
                Limits::default(),
            ));
            // The measurement exists in the (cluster-wide) metadata.
            ingest
                .write(WriteRequest {
                    database: "db",
                    retention_policy: None,
                    precision: Precision::Nanoseconds,
                    body: b"m v=0i 1",
                    consistency: Default::default(),
                })
                .await
                .unwrap();
            let engine: Arc<dyn QueryPort> = Arc::new(EmptyEngine::default());
            let flush = Arc::new(FlushService::new(
                wal.clone(),
                meta.clone(),
                Arc::new(MemorySink::default()),
                FlushConfig::default(),
            ));
            let backup = Arc::new(BackupService::new(
                meta.clone(),
                engine.clone(),
                flush.clone(),
                clock,
            ));
            let counters = Arc::new(AntiEntropyCounters::default());
            let port: Arc<dyn ReplicationPort> = peer.clone();
            let ae = AntiEntropy::new(port, meta, engine, flush, backup, ingest, counters.clone());
            (ae, wal, counters)
        }

        #[tokio::test]
        async fn a_range_the_peer_holds_more_of_is_copied_through_the_write_path() {
            let peer = Arc::new(Peer::default());
            let (ae, wal, counters) = member(&peer).await;
            let before = hyperbyte_ports::WalPort::last_sequence(&*wal);
            ae.round().await;
            let pulls = peer.pulls.lock().clone();
            assert_eq!(pulls.len(), 1, "{pulls:?}");
            assert_eq!(pulls[0].2 - pulls[0].1, RANGE_NS - 1, "one hour, inclusive");
            assert_eq!(
                hyperbyte_ports::WalPort::last_sequence(&*wal),
                before + 1,
                "the copy went through the WAL"
            );
            let s = counters.snapshot();
            assert_eq!(
                (
                    s.rounds,
                    s.ranges_compared,
                    s.ranges_repaired,
                    s.points_copied,
                    s.failures
                ),
                (1, 1, 1, 2, 0)
            );
        }

        #[tokio::test]
        async fn a_copy_a_delete_overtook_is_not_written() {
            let peer = Arc::new(Peer::default());
            let changes = Arc::new(StorageChanges::default());
            *peer.delete_during_fetch.lock() = Some(changes.clone());
            let (ae, wal, counters) = member(&peer).await;
            let ae = ae.with_changes(changes);
            let before = hyperbyte_ports::WalPort::last_sequence(&*wal);
            ae.round().await;
            assert_eq!(peer.pulls.lock().len(), 1, "the range was fetched");
            assert_eq!(
                hyperbyte_ports::WalPort::last_sequence(&*wal),
                before,
                "nothing written: the delete may have removed these points"
            );
            assert_eq!(counters.snapshot().points_copied, 0);
            // The next round, with no delete meanwhile, copies them.
            *peer.delete_during_fetch.lock() = None;
            ae.round().await;
            assert_eq!(hyperbyte_ports::WalPort::last_sequence(&*wal), before + 1);
        }

        #[tokio::test]
        async fn an_unreachable_peer_is_counted_and_skipped() {
            let peer = Arc::new(Peer::default());
            *peer.down.lock() = true;
            let (ae, _, counters) = member(&peer).await;
            ae.round().await;
            assert!(peer.pulls.lock().is_empty());
            assert_eq!(counters.snapshot().failures, 1);
        }
    }
}
