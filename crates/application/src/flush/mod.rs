//! The flush service: moves durable WAL entries into columnar storage.
//!
//! Every `interval` (sooner when woken by a write whose backlog passes the trigger, and on
//! demand for read-your-writes) it reads the WAL from its cursor, groups points by
//! (database, retention policy, measurement), writes each group through
//! [`PointsSinkPort`], makes storage durable with [`PointsSinkPort::sync`], and only then
//! truncates the WAL. Replays are idempotent because storage merges points with the same
//! series and time field by field, so a crash between the insert and the truncation only
//! repeats work.
//!
//! Invariant: the WAL is never truncated past data that storage has not made durable.
//!
//! One table that storage refuses never stops the rest: with a [`HeldPointsPort`] its
//! points are set aside there (durably, before the truncation), the table is *held*, its
//! later points follow into the same queue in order, and the other tables keep flushing.
//! Held tables are retried with a growing delay and released once storage takes their
//! points; dropping the table discards them, and a delete that would reach them is refused
//! while they are held (it would otherwise miss them). [`FlushService::held_tables`] feeds
//! `/health` and the metrics.

use crate::hot::TierFeed;
use hyperbyte_domain::{
    ColumnBatch, ColumnBatchBuilder, CompactEntry, FieldPairRef, FieldRef, FieldType, ListRef,
    MeasurementSchema, PointRef, RetentionPolicy, Tombstone,
};
use hyperbyte_ports::{HeldPointsPort, MetadataPort, PointsSinkPort, TableRef, WalPort};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{error, info, warn, Instrument};

/// Flush settings.
#[derive(Debug, Clone, Copy)]
pub struct FlushConfig {
    /// Time between flushes.
    pub interval: Duration,
    /// Most WAL entries read per round.
    pub batch_entries: usize,
    /// Points after which a round stops reading entries (bounds a round's memory whatever
    /// the size of the entries).
    pub batch_points: usize,
    /// Unflushed entries that trigger an early flush.
    pub backlog_trigger: u64,
}

impl Default for FlushConfig {
    fn default() -> Self {
        FlushConfig {
            interval: Duration::from_secs(1),
            batch_entries: 5_000,
            batch_points: 250_000,
            backlog_trigger: 200,
        }
    }
}

/// What one flush did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlushStats {
    /// WAL entries consumed.
    pub entries: usize,
    /// Points written to storage.
    pub points: usize,
}

/// A flush failure (storage or WAL); the WAL keeps the data and the next round retries.
#[derive(Debug, thiserror::Error)]
pub enum FlushError {
    /// The WAL failed.
    #[error(transparent)]
    Wal(#[from] hyperbyte_ports::WalError),
    /// Storage failed.
    #[error(transparent)]
    Sink(#[from] hyperbyte_ports::SinkError),
    /// Points of a table storage refuses are set aside; a delete cannot reach them yet.
    #[error("measurement {measurement:?} (retention policy {retention_policy:?}) has points storage refused and set aside ({reason}); retry once storage accepts them, or drop the measurement")]
    Held {
        /// Retention policy of the held table.
        retention_policy: String,
        /// Measurement of the held table.
        measurement: String,
        /// The last storage error.
        reason: String,
    },
}

/// A table whose points storage refused, set aside until it accepts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldTable {
    /// The table.
    pub table: TableRef,
    /// The last storage error (or why it is held after a restart).
    pub error: String,
    /// Failed attempts since it was held.
    pub attempts: u32,
}

/// Bookkeeping of one held table.
#[derive(Debug)]
struct HeldState {
    error: String,
    attempts: u32,
    next_retry: Instant,
}

/// Delay before the next retry of a held table after its `attempts`-th failure: 1 s
/// doubling up to 30 s (a table refused because storage was briefly unwell is back soon
/// after it recovers).
fn retry_delay(attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(5);
    Duration::from_secs(1u64 << doublings).min(MAX_RETRY_DELAY)
}

/// Longest delay between two retries of a held table.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// Consecutive rounds a table must fail, alone in its rounds, before it is held. A
/// failure beside a table that storage accepted is the table's own and holds it at once;
/// a round whose every table fails is storage's problem and keeps the WAL (backpressure
/// then applies), unless the round had only this one table for this many rounds.
const HOLD_AFTER_LONE_FAILURES: u32 = 3;

/// Most pages of a held queue one retry stores before it lets the flush rounds in again.
const PAGES_PER_RETRY: usize = 16;

/// Moves WAL entries into storage.
#[derive(Debug)]
pub struct FlushService {
    wal: Arc<dyn WalPort>,
    meta: Arc<dyn MetadataPort>,
    sink: Arc<dyn PointsSinkPort>,
    cfg: FlushConfig,
    /// Next WAL sequence to flush; the mutex also serialises flush rounds.
    cursor: tokio::sync::Mutex<u64>,
    /// The cursor as of the last round, published to waiters of
    /// [`FlushService::ensure_visible`] without taking the round lock.
    flushed: tokio::sync::watch::Sender<u64>,
    wake: Arc<tokio::sync::Notify>,
    /// Told how many points each round moved out of the WAL.
    backlog: Option<Arc<crate::WriteBacklog>>,
    /// Where points of refused tables are set aside (without it, a refused table fails
    /// the round and the WAL keeps everything).
    hold_store: Option<Arc<dyn HeldPointsPort>>,
    /// Held tables (those with entries in `hold_store`).
    held: parking_lot::Mutex<BTreeMap<TableRef, HeldState>>,
    /// Consecutive failed rounds of tables not held yet.
    strikes: parking_lot::Mutex<BTreeMap<TableRef, u32>>,
    /// What the flushes did, for the metrics.
    meter: FlushMeter,
    /// Feeds the recent-data tier, when there is one (`feed.rs`).
    feed: Option<Arc<TierFeed>>,
    /// Whether every write feeds the tier its points before it is acknowledged
    /// (`written.rs`).
    writes_feed_tier: std::sync::atomic::AtomicBool,
    /// The last WAL entry acknowledged without its points in the tier (a write that
    /// could not feed them), which a query's catch-up must still feed.
    acknowledged_unfed: AtomicU64,
}

/// The flush service's counters (read by [`FlushService::counters`]).
#[derive(Debug)]
struct FlushMeter {
    rounds: AtomicU64,
    points: AtomicU64,
    entries: AtomicU64,
    failures: AtomicU64,
    duration: crate::stats::DurationHistogram,
    /// The cursor as of the last completed flush (the next sequence to flush).
    flushed_to: AtomicU64,
    /// When a flush last caught up with the WAL.
    caught_up_at: parking_lot::Mutex<Instant>,
}

impl Default for FlushMeter {
    fn default() -> Self {
        FlushMeter {
            rounds: AtomicU64::new(0),
            points: AtomicU64::new(0),
            entries: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            duration: crate::stats::DurationHistogram::default(),
            flushed_to: AtomicU64::new(0),
            caught_up_at: parking_lot::Mutex::new(Instant::now()),
        }
    }
}

impl FlushService {
    /// Creates the service.
    pub fn new(
        wal: Arc<dyn WalPort>,
        meta: Arc<dyn MetadataPort>,
        sink: Arc<dyn PointsSinkPort>,
        cfg: FlushConfig,
    ) -> Self {
        FlushService {
            wal,
            meta,
            sink,
            cfg,
            cursor: tokio::sync::Mutex::new(0),
            flushed: tokio::sync::watch::Sender::new(0),
            wake: Arc::new(tokio::sync::Notify::new()),
            backlog: None,
            hold_store: None,
            held: parking_lot::Mutex::new(BTreeMap::new()),
            strikes: parking_lot::Mutex::new(BTreeMap::new()),
            meter: FlushMeter::default(),
            feed: None,
            writes_feed_tier: std::sync::atomic::AtomicBool::new(false),
            acknowledged_unfed: AtomicU64::new(0),
        }
    }

    /// What the flushes did so far, the WAL backlog and the held tables.
    pub fn counters(&self) -> crate::stats::FlushCounters {
        let m = &self.meter;
        let next = m.flushed_to.load(Ordering::Relaxed);
        let backlog_entries = self
            .wal
            .last_sequence()
            .saturating_add(1)
            .saturating_sub(next.max(1));
        let lag_seconds = if backlog_entries > 0 {
            m.caught_up_at.lock().elapsed().as_secs_f64()
        } else {
            0.0
        };
        crate::stats::FlushCounters {
            rounds: m.rounds.load(Ordering::Relaxed),
            points: m.points.load(Ordering::Relaxed),
            entries: m.entries.load(Ordering::Relaxed),
            failures: m.failures.load(Ordering::Relaxed),
            duration: m.duration.snapshot(),
            backlog_entries,
            lag_seconds,
            held_tables: self.held.lock().len() as u64,
        }
    }

    /// The write backlog (unflushed points) and its limit, when one is shared.
    pub fn backlog(&self) -> crate::stats::BacklogStats {
        self.backlog
            .as_ref()
            .map(|b| crate::stats::BacklogStats {
                points: b.points(),
                limit: b.limit(),
            })
            .unwrap_or_default()
    }

    /// Sets aside the points of tables storage refuses in `store` instead of failing the
    /// round. Call [`FlushService::load_held`] before the first flush.
    pub fn with_hold_store(mut self, store: Arc<dyn HeldPointsPort>) -> Self {
        self.hold_store = Some(store);
        self
    }

    /// Learns the tables held before a restart (their points wait in the hold store), so
    /// that their later points keep following them in order. Returns how many.
    pub async fn load_held(&self) -> Result<usize, FlushError> {
        let Some(store) = &self.hold_store else {
            return Ok(0);
        };
        let tables = store.tables().await?;
        let mut held = self.held.lock();
        for t in &tables {
            warn!(table = %t, "points set aside before the restart; retrying them");
            held.entry(t.clone()).or_insert_with(|| HeldState {
                error: "held before the last restart; not retried yet".into(),
                attempts: 0,
                next_retry: Instant::now(),
            });
        }
        Ok(tables.len())
    }

    /// The tables whose points storage refused, set aside until it accepts them.
    pub fn held_tables(&self) -> Vec<HeldTable> {
        self.held
            .lock()
            .iter()
            .map(|(t, s)| HeldTable {
                table: t.clone(),
                error: s.error.clone(),
                attempts: s.attempts,
            })
            .collect()
    }

    /// Reports the points of every truncated round to `backlog`.
    pub fn with_backlog(mut self, backlog: Arc<crate::WriteBacklog>) -> Self {
        self.backlog = Some(backlog);
        self
    }

    /// The notifier writers signal after each WAL append.
    pub fn wake_handle(&self) -> Arc<tokio::sync::Notify> {
        self.wake.clone()
    }

    /// Flushes everything the WAL holds now (used at start-up for recovery, on shutdown,
    /// and before reads for read-your-writes).
    ///
    /// Rounds are pipelined: while one round's points are written into storage, the next
    /// round is read from the WAL, decoded and grouped (the storage insert and the WAL read
    /// run on the blocking pool, so the two overlap on two cores). Rounds still reach
    /// storage, and the WAL is still truncated, strictly in sequence order.
    pub async fn flush_all(&self) -> Result<FlushStats, FlushError> {
        let target = self.wal.last_sequence();
        let cursor = self.cursor.lock().await;
        self.flush_counted(cursor, target).await
    }

    /// Flushes through `target` with the round lock held, and counts what it did.
    async fn flush_counted(
        &self,
        cursor: tokio::sync::MutexGuard<'_, u64>,
        target: u64,
    ) -> Result<FlushStats, FlushError> {
        let started = Instant::now();
        let m = &self.meter;
        match self.flush_rounds(cursor, target).await {
            Ok(total) => {
                *m.caught_up_at.lock() = Instant::now();
                if total.entries > 0 {
                    m.rounds.fetch_add(1, Ordering::Relaxed);
                    m.points.fetch_add(total.points as u64, Ordering::Relaxed);
                    m.entries.fetch_add(total.entries as u64, Ordering::Relaxed);
                    m.duration.observe(started.elapsed());
                }
                Ok(total)
            }
            Err(e) => {
                m.failures.fetch_add(1, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    /// Records that every entry before `next` is flushed (the metrics and the waiters of
    /// [`FlushService::ensure_visible`] read it).
    fn advance(&self, next: u64) {
        self.meter.flushed_to.store(next, Ordering::Relaxed);
        self.flushed.send_replace(next);
    }

    /// Flushes rounds until the cursor passes `target` (or the WAL has nothing more),
    /// with the round lock `cursor` held.
    async fn flush_rounds(
        &self,
        mut cursor: tokio::sync::MutexGuard<'_, u64>,
        target: u64,
    ) -> Result<FlushStats, FlushError> {
        let mut total = FlushStats::default();
        if *cursor > target {
            self.advance(*cursor);
            return Ok(total);
        }
        let mut next = Some(self.read_round(*cursor).await?);
        while let Some(read) = next.take() {
            let round = match read {
                ReadRound::Empty { last_before } => {
                    // Nothing left: everything up to `last_before` is flushed.
                    *cursor = (*cursor).max(last_before + 1);
                    self.advance(*cursor);
                    if let Some(feed) = &self.feed {
                        feed.stored_to(*cursor);
                    }
                    break;
                }
                ReadRound::Points(round) => round,
            };
            let after = round.last_seq + 1;
            let (written, following) = if after <= target {
                let (w, f) = tokio::join!(self.write_round(round), self.read_round(after));
                (w, Some(f))
            } else {
                (self.write_round(round).await, None)
            };
            let stats = written?;
            *cursor = after;
            self.advance(after);
            if let Some(feed) = &self.feed {
                feed.stored_to(after);
            }
            total.entries += stats.entries;
            total.points += stats.points;
            next = following.transpose()?;
        }
        Ok(total)
    }

    /// Flushes every WAL entry up to the WAL's last sequence as of this call and returns
    /// that sequence: every write acknowledged before the call is in storage when this
    /// returns (the backup snapshot's instant).
    pub async fn flush_through(&self) -> Result<u64, FlushError> {
        let last = self.wal.last_sequence();
        if *self.cursor.lock().await <= last {
            self.flush_all().await?;
        }
        Ok(last)
    }

    /// Makes every write acknowledged so far visible to storage queries.
    ///
    /// Waits only until the entries acknowledged before the call are flushed: while
    /// another flush holds the rounds (the periodic one, or another query's), it returns
    /// as soon as that flush's cursor passes this call's last entry, instead of waiting
    /// for the whole flush, whose target may lie far beyond (measured under a TSBS load
    /// of 4 × 5,000-line writes: a query waited 1.47 s behind four rounds it did not
    /// need). Otherwise it flushes through its last entry itself.
    pub async fn ensure_visible(&self) -> Result<(), FlushError> {
        let last = self.wal.last_sequence();
        let mut flushed = self.flushed.subscribe();
        loop {
            if *flushed.borrow_and_update() > last {
                return Ok(());
            }
            tokio::select! {
                cursor = self.cursor.lock() => {
                    return self.flush_counted(cursor, last).await.map(|_| ());
                }
                Ok(()) = flushed.changed() => {}
            }
        }
    }

    /// Whether storage holds every write acknowledged so far (as of the last round; no
    /// lock taken).
    pub fn is_caught_up(&self) -> bool {
        *self.flushed.borrow() > self.wal.last_sequence()
    }

    /// Whether acknowledged writes are still waiting for a flush.
    pub async fn has_backlog(&self) -> bool {
        *self.cursor.lock().await <= self.wal.last_sequence()
    }

    /// Reads and decodes the WAL entries of one round starting at `from`, and groups their
    /// points by table (as indices: the points stay in the entries' compact shape).
    async fn read_round(&self, from: u64) -> Result<ReadRound, FlushError> {
        // Read the last sequence before the range: an entry appended after the (empty)
        // read must not be skipped by moving the cursor past it.
        let last_before = self.wal.last_sequence();
        let started = Instant::now();
        let read = self
            .wal
            .read_batch(from, self.cfg.batch_entries, self.cfg.batch_points)
            .await?;
        tracing::debug!(entries = read.len(), elapsed = ?started.elapsed(), "flush read");
        let Some(&(last_seq, _)) = read.last() else {
            return Ok(ReadRound::Empty { last_before });
        };
        let n_entries = read.len();
        let points_read: usize = read.iter().map(|(_, e)| e.len()).sum();
        // (database, rp) → measurement → (entry, point) indices; names are cloned per new
        // table, never per point.
        let mut groups: BTreeMap<(String, String), BTreeMap<String, Vec<PointAt>>> =
            BTreeMap::new();
        let mut tombstones: BTreeMap<String, Vec<Tombstone>> = BTreeMap::new();
        let mut entries = Vec::with_capacity(read.len());
        let mut seqs = Vec::with_capacity(read.len());
        for (seq, entry) in read {
            let ei = entries.len() as u32;
            seqs.push(seq);
            if self.meta.database(&entry.database).is_none() {
                entries.push(entry);
                continue; // dropped since it was written
            }
            let ts = tombstones
                .entry(entry.database.clone())
                .or_insert_with(|| self.meta.tombstones(&entry.database));
            let by_measurement = groups
                .entry((entry.database.clone(), entry.retention_policy.clone()))
                .or_default();
            for i in 0..entry.len() {
                if !ts.is_empty() {
                    let covered = entry.point(i).is_some_and(|p| deleted_after(ts, seq, &p));
                    if covered {
                        continue;
                    }
                }
                let Some(m) = entry.measurement_of(i) else {
                    continue;
                };
                match by_measurement.get_mut(m) {
                    Some(list) => list.push((ei, i as u32)),
                    None => {
                        by_measurement.insert(m.to_string(), vec![(ei, i as u32)]);
                    }
                }
            }
            entries.push(entry);
        }
        let mut out = Vec::new();
        for ((db, rp_name), by_measurement) in groups {
            let Some(rp) = self
                .meta
                .database(&db)
                .and_then(|d| d.rp(&rp_name).cloned())
            else {
                continue; // database or policy dropped since
            };
            for (measurement, members) in by_measurement {
                let Some(full) = self.meta.schema(&db, &measurement) else {
                    continue; // measurement dropped since
                };
                out.push(Group {
                    database: db.clone(),
                    rp: rp.clone(),
                    measurement,
                    full,
                    members,
                });
            }
        }
        Ok(ReadRound::Points(Round {
            last_seq,
            n_entries,
            points_read,
            entries,
            seqs,
            groups: out,
        }))
    }

    /// Writes one round into storage, makes it durable, then truncates the WAL up to it.
    /// Points of held tables (and of tables storage refuses now, see
    /// [`HOLD_AFTER_LONE_FAILURES`]) are set aside instead.
    async fn write_round(&self, round: Round) -> Result<FlushStats, FlushError> {
        let mut points_written = 0;
        let mut refused: Vec<(&Group, hyperbyte_ports::SinkError)> = Vec::new();
        // The tier is fed in WAL order: the round holds the feed cursor while it feeds the
        // entries no catch-up fed before it (not while storage writes them).
        let feed = match &self.feed {
            // (A catch-up may have fed the whole round already.)
            Some(f) if !f.fed_through(round.last_seq) => Some((f.as_ref(), f.cursor().await)),
            _ => None,
        };
        let fed_before = feed.as_ref().map_or(u64::MAX, |(_, c)| **c);
        let mut all_fed = true;
        let mut live = Vec::with_capacity(round.groups.len());
        for g in &round.groups {
            let table = g.table();
            if self.held.lock().contains_key(&table) {
                // Behind its earlier points, in order; reads see what storage has.
                let views = g.views(&round.entries);
                self.set_aside(&table, &views).await?;
                self.unclaim(g, &views, round.last_seq);
                continue;
            }
            live.push(g);
        }
        let started = Instant::now();
        // Without a tier to feed here (writes fed it), groups go to storage by column;
        // feeding the tier takes views (and a group the columns cannot hold keeps them).
        let mut columns: Vec<Option<ColumnBatch>> = live
            .iter()
            .map(|g| match feed {
                None => g.columns(&round.entries),
                Some(_) => None,
            })
            .collect();
        let arenas: Vec<_> = live
            .iter()
            .zip(&columns)
            .map(|(g, c)| match c {
                None => g.field_arena(&round.entries),
                Some(_) => Vec::new(),
            })
            .collect();
        let mut batches = Vec::with_capacity(live.len());
        for ((g, arena), batch) in live.into_iter().zip(&arenas).zip(&mut columns) {
            if let Some(batch) = batch.take() {
                batches.push((g, Prepared::Columns(batch)));
                continue;
            }
            let mut views = g.views_over(&round.entries, arena);
            let schema = batch_schema(&g.full, &mut views);
            let share = match &feed {
                Some((f, _)) => self
                    .tier_share(f, g, &round, fed_before)
                    .await
                    .unwrap_or_else(|feed::Unestablished| {
                        all_fed = false;
                        None
                    }),
                None => None,
            };
            batches.push((g, Prepared::Views(schema, views, share)));
        }
        let prepared = started.elapsed();
        // The tier takes the points while storage writes them: the engine's insert runs
        // on another thread, so the two overlap (measured: a 250k-point TSBS round
        // 0.8–1.0 s with the tier's share after the insert), and the feed cursor is free
        // again once the tier has them. Readers may see points in the tier that storage
        // does not show yet: all were acknowledged (if storage refuses them, the tier lets
        // them go again).
        let into_tier = async {
            // Storage's write goes first (to the point where it waits for the engine).
            tokio::task::yield_now().await;
            if let Some((f, mut cursor)) = feed {
                for (_, batch) in &batches {
                    if let Prepared::Views(_, views, Some(share)) = batch {
                        share.feed_views(f, views, (&round.entries, round.last_seq));
                    }
                }
                if all_fed {
                    // Every group went in (a round failing before this is fed again).
                    f.advance(&mut cursor, round.last_seq.saturating_add(1));
                } else {
                    f.partly_fed(&cursor, round.last_seq);
                }
            }
        };
        let into_storage = async {
            let mut written = Vec::with_capacity(batches.len());
            for (g, batch) in &batches {
                let (db, rp, m) = (&g.database, &g.rp, &g.measurement);
                written.push(match batch {
                    Prepared::Columns(columns) => self.sink.write_columns(db, rp, m, columns).await,
                    Prepared::Views(schema, views, _) => {
                        self.sink.write_views(db, rp, m, schema, views).await
                    }
                });
            }
            written
        };
        let ((), written) = tokio::join!(into_tier, into_storage);
        tracing::debug!(groups = batches.len(), ?prepared, written = ?started.elapsed(), "flush round written");
        for ((g, batch), result) in batches.iter().zip(written) {
            match result {
                Ok(()) => {
                    points_written += batch.len();
                    self.strikes.lock().remove(&g.table());
                }
                Err(e) => {
                    match batch {
                        Prepared::Views(_, views, _) => self.unclaim(g, views, round.last_seq),
                        Prepared::Columns(_) => {
                            self.unclaim(g, &g.views(&round.entries), round.last_seq)
                        }
                    }
                    refused.push((g, e));
                }
            }
        }
        if !refused.is_empty() {
            self.hold_or_fail(&round, refused, points_written > 0)
                .await?;
        }
        self.sink.sync().await?;
        // Failure point `flush-before-truncate`: the round is in storage, the WAL still has it.
        fail::fail_point!("flush-before-truncate");
        self.wal.truncate_before(round.last_seq + 1).await?;
        if let Some(b) = &self.backlog {
            b.remove(round.points_read as u64);
        }
        Ok(FlushStats {
            entries: round.n_entries,
            points: points_written,
        })
    }

    /// Decides about the groups storage refused in a round: hold them (their failure is
    /// their own) or fail the round (storage is unwell: the WAL keeps everything).
    async fn hold_or_fail(
        &self,
        round: &Round,
        refused: Vec<(&Group, hyperbyte_ports::SinkError)>,
        others_stored: bool,
    ) -> Result<(), FlushError> {
        let lone = round.groups.len() == 1;
        let mut to_hold = Vec::new();
        let mut first_error = None;
        for (g, e) in refused {
            let table = g.table();
            if matches!(e, hyperbyte_ports::SinkError::Busy(_)) {
                // Storage as a whole is short of memory or merges: not the table's fault.
                warn!(table = %table, error = %e, "storage is busy; the WAL keeps the points and the next round retries");
                first_error.get_or_insert(e);
                continue;
            }
            let strikes = {
                let mut strikes = self.strikes.lock();
                let n = strikes.entry(table.clone()).or_insert(0);
                *n = n.saturating_add(1);
                *n
            };
            let own_fault = others_stored || (lone && strikes >= HOLD_AFTER_LONE_FAILURES);
            if self.hold_store.is_some() && own_fault {
                to_hold.push((g, table, e));
            } else {
                warn!(table = %table, error = %e, strikes, "storage refused a table's points; the WAL keeps them and the next round retries");
                first_error.get_or_insert(e);
            }
        }
        if let Some(e) = first_error {
            return Err(e.into());
        }
        for (g, table, e) in to_hold {
            error!(table = %table, error = %e, "storage keeps refusing a table's points; setting them aside, other tables keep flushing");
            self.strikes.lock().remove(&table);
            self.mark_held(&table, e.to_string());
            self.set_aside(&table, &g.views(&round.entries)).await?;
        }
        Ok(())
    }

    /// Records a failed attempt for `table` (holding it if it was not).
    fn mark_held(&self, table: &TableRef, reason: String) {
        let mut held = self.held.lock();
        let state = held.entry(table.clone()).or_insert_with(|| HeldState {
            error: String::new(),
            attempts: 0,
            next_retry: Instant::now(),
        });
        state.attempts = state.attempts.saturating_add(1);
        state.next_retry = Instant::now() + retry_delay(state.attempts);
        state.error = reason;
    }

    /// Appends points of a held table to its queue in the hold store.
    async fn set_aside(&self, table: &TableRef, points: &[PointRef<'_>]) -> Result<(), FlushError> {
        let Some(store) = &self.hold_store else {
            return Ok(());
        };
        if points.is_empty() {
            return Ok(());
        }
        let entry = hyperbyte_domain::wal::codec::encode_points(
            &table.database,
            &table.retention_policy,
            points,
        )
        .map_err(|e| hyperbyte_ports::WalError::Codec(e.to_string()))?;
        store.hold(table, entry).await?;
        Ok(())
    }

    /// Whether points of `database` wait in the hold store (storage does not have them).
    pub fn holds_points_of(&self, database: &str) -> bool {
        self.held.lock().keys().any(|t| t.database == database)
    }

    /// Retries the held tables whose delay has passed (`force`: all of them). Returns how
    /// many were released.
    pub async fn retry_held(&self, force: bool) -> Result<usize, FlushError> {
        let now = Instant::now();
        let due: Vec<TableRef> = self
            .held
            .lock()
            .iter()
            .filter(|(_, s)| force || s.next_retry <= now)
            .map(|(t, _)| t.clone())
            .collect();
        let mut released = 0;
        for table in due {
            if self.drain_held(&table).await? {
                released += 1;
            }
        }
        Ok(released)
    }

    /// Stores a held table's queue, oldest page first, releasing each page once storage
    /// made it durable; the table is released when its queue is empty. A table dropped
    /// since is released without writing. `Ok(false)`: storage still refuses, or pages
    /// are left for the next retry.
    ///
    /// Each page runs under the round lock (a round appending to the queue must not
    /// interleave with a page), but rounds and reads get in between pages.
    async fn drain_held(&self, table: &TableRef) -> Result<bool, FlushError> {
        let Some(store) = &self.hold_store else {
            return Ok(false);
        };
        for _ in 0..PAGES_PER_RETRY {
            let _rounds = self.cursor.lock().await;
            let target = self
                .meta
                .database(&table.database)
                .and_then(|d| d.rp(&table.retention_policy).cloned())
                .zip(self.meta.schema(&table.database, &table.measurement));
            let Some((rp, full)) = target else {
                info!(table = %table, "table dropped; discarding the points set aside for it");
                store.release(table).await?;
                self.held.lock().remove(table);
                return Ok(true);
            };
            let page = store.entries(table, self.cfg.batch_points).await?;
            let Some(&(through, _)) = page.last() else {
                info!(table = %table, "the points set aside are stored; table released");
                self.held.lock().remove(table);
                return Ok(true);
            };
            let mut views: Vec<PointRef<'_>> = page
                .iter()
                .flat_map(|(_, e)| (0..e.len()).filter_map(|i| e.point(i)))
                .collect();
            let schema = batch_schema(&full, &mut views);
            let written = self.store_held_page(table, (&rp, &schema), &views).await;
            if let Err(e) = written {
                warn!(table = %table, error = %e, "storage still refuses the points set aside");
                self.mark_held(table, e.to_string());
                return Ok(false);
            }
            self.sink.sync().await?;
            store.release_through(table, through).await?;
        }
        Ok(false)
    }

    /// Makes acknowledged writes visible before a delete in `database` and refuses it
    /// while points of the database are set aside (the delete could not reach them).
    pub async fn prepare_delete(&self, database: &str) -> Result<(), FlushError> {
        self.ensure_visible().await?;
        let held = self
            .held
            .lock()
            .iter()
            .find(|(t, _)| t.database == database)
            .map(|(t, s)| (t.clone(), s.error.clone()));
        match held {
            None => Ok(()),
            Some((table, reason)) => Err(FlushError::Held {
                retention_policy: table.retention_policy,
                measurement: table.measurement,
                reason,
            }),
        }
    }

    /// After a drop in `database` (narrowed to a retention policy and measurement when
    /// given) succeeded in metadata: discards the points set aside for what it dropped.
    /// Under the round lock, so no round adds to a queue meanwhile.
    pub async fn discard_dropped(
        &self,
        database: &str,
        retention_policy: Option<&str>,
        measurement: Option<&str>,
    ) -> Result<(), FlushError> {
        let Some(store) = &self.hold_store else {
            return Ok(());
        };
        let _rounds = self.cursor.lock().await;
        let dropped: Vec<TableRef> = self
            .held
            .lock()
            .keys()
            .filter(|t| {
                t.database == database
                    && retention_policy.is_none_or(|r| t.retention_policy == r)
                    && measurement.is_none_or(|m| t.measurement == m)
            })
            .cloned()
            .collect();
        for table in dropped {
            store.release(&table).await?;
            self.held.lock().remove(&table);
            warn!(table = %table, "dropped; discarded the points set aside for it");
        }
        Ok(())
    }

    /// Whether the unflushed backlog calls for a round before the next tick: at least
    /// `backlog_trigger` entries, or half a round's worth of points (`batch_points / 2`).
    /// Counting entries alone missed large batches: 5,000-line writes reach 256 entries
    /// only at 1.28 M points, so under such a load the flush ran once a second and fell
    /// behind (measured on TSBS: every row queryable 1.2–2.4 s after the last `204`).
    async fn backlog_triggers(&self) -> bool {
        let entries = self
            .wal
            .last_sequence()
            .saturating_sub(*self.cursor.lock().await);
        let points = self.backlog.as_ref().map_or(0, |b| b.points());
        entries >= self.cfg.backlog_trigger
            || points
                >= u64::try_from(self.cfg.batch_points / 2)
                    .unwrap_or(u64::MAX)
                    .max(1)
    }

    /// Runs the periodic loop until `shutdown` resolves, then flushes once more.
    pub async fn run(self: Arc<Self>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let span = tracing::info_span!("flush_service");
        async move {
            // A ticker, not a sleep per loop turn: writes wake the loop far more often
            // than once per interval, and a fresh sleep each time would never fire
            // (measured: under a steady load below the backlog trigger nothing was
            // flushed until the writes stopped).
            let mut tick = tokio::time::interval(self.cfg.interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = self.wake.notified() => {
                        if !self.backlog_triggers().await {
                            continue;
                        }
                    }
                    _ = shutdown.changed() => break,
                }
                if let Err(e) = self.flush_all().await {
                    warn!(error = %e, "flush failed; the WAL keeps the data and the next round retries");
                } else if let Err(e) = self.sink.maintain().await {
                    warn!(error = %e, "storage upkeep failed; the next round retries");
                }
                if let Err(e) = self.retry_held(false).await {
                    warn!(error = %e, "retrying the points set aside failed; they stay set aside");
                }
            }
            match self.flush_all().await {
                Ok(s) => info!(entries = s.entries, points = s.points, "final flush done"),
                Err(e) => warn!(error = %e, "final flush failed; the WAL keeps the data"),
            }
        }
        .instrument(span)
        .await
    }
}

/// One round read from the WAL.
enum ReadRound {
    /// No entry at or after the cursor; `last_before` is the last sequence seen before
    /// reading.
    Empty { last_before: u64 },
    /// Entries up to `last_seq`, grouped.
    Points(Round),
}

/// Decoded entries up to `last_seq`, with their points grouped by table.
struct Round {
    last_seq: u64,
    n_entries: usize,
    /// Points decoded (tombstoned ones included: they leave the WAL too).
    points_read: usize,
    entries: Vec<CompactEntry>,
    /// The WAL sequence of each entry.
    seqs: Vec<u64>,
    groups: Vec<Group>,
}

/// A point of a round: (entry, point) indices.
type PointAt = (u32, u32);

/// One group of a round, ready for storage.
enum Prepared<'e, 'f> {
    /// By column (no tier to feed).
    Columns(ColumnBatch),
    /// As views with their schema, and the tier's share of them.
    Views(
        MeasurementSchema,
        Vec<PointRef<'e>>,
        Option<feed::TierShare<'e, 'f>>,
    ),
}

impl Prepared<'_, '_> {
    fn len(&self) -> usize {
        match self {
            Prepared::Columns(batch) => batch.len(),
            Prepared::Views(_, views, _) => views.len(),
        }
    }
}

/// The points of one table with the measurement's schema.
struct Group {
    database: String,
    rp: RetentionPolicy,
    measurement: String,
    full: MeasurementSchema,
    members: Vec<PointAt>,
}

impl Group {
    fn table(&self) -> TableRef {
        TableRef {
            database: self.database.clone(),
            retention_policy: self.rp.name.clone(),
            measurement: self.measurement.clone(),
        }
    }

    /// The group's points as views into the round's entries (for the held tables' queue,
    /// which keeps each view's fields on its own).
    fn views<'e>(&self, entries: &'e [CompactEntry]) -> Vec<PointRef<'e>> {
        self.members
            .iter()
            .filter_map(|&(e, i)| entries.get(e as usize)?.point(i as usize))
            .collect()
    }

    /// The group's points by column, each value under the name [`batch_schema`] gives it
    /// (its field's, or the side column's of its type). `None` when a name has values of
    /// two types that no schema explains: the views' path then reports it as ever.
    fn columns(&self, entries: &[CompactEntry]) -> Option<ColumnBatch> {
        let mut batch = ColumnBatchBuilder::with_capacity(self.members.len());
        // Rows of one entry and field set share their list of names: each position's
        // column (with the type it was resolved for) is looked up once per list.
        let mut names: &[String] = &[];
        let mut resolved: Vec<Option<(usize, FieldType)>> = Vec::new();
        for &(e, i) in &self.members {
            let row = entries.get(e as usize)?.row(i as usize)?;
            batch.row(row.timestamp, row.series_hash, row.tags);
            if !std::ptr::eq(names, row.names) {
                names = row.names;
                resolved.clear();
                resolved.resize(names.len(), None);
            }
            for ((name, value), slot) in names.iter().zip(row.values).zip(&mut resolved) {
                let value = FieldRef::from_value(value);
                let t = value.field_type();
                let column = match *slot {
                    Some((c, ct)) if ct == t => c,
                    _ => {
                        let c = batch.column(self.column_name(name, t), t).ok()?;
                        *slot = Some((c, t));
                        c
                    }
                };
                batch.set(column, &value).ok()?;
            }
        }
        Some(batch.finish())
    }

    /// The name a value of type `t` of field `name` is stored under: the field's, or its
    /// side column's when `t` is not the field's primary type ([`batch_schema`]).
    fn column_name<'n>(&self, name: &'n str, t: FieldType) -> Cow<'n, str> {
        match self.full.field_type(name) {
            Some(primary) if primary != t => Cow::Owned(hyperbyte_domain::side_field_name(name, t)),
            _ => Cow::Borrowed(name),
        }
    }

    /// Every member's fields, laid out one point after the other in one allocation (the
    /// storage write's views borrow them: [`Group::views_over`]).
    fn field_arena<'e>(&self, entries: &'e [CompactEntry]) -> Vec<FieldPairRef<'e>> {
        let mut arena = Vec::with_capacity(
            self.members
                .len()
                .saturating_mul(self.full.fields.len().clamp(1, 16)),
        );
        for &(e, i) in &self.members {
            if let Some(fields) = entries
                .get(e as usize)
                .and_then(|c| c.fields_of(i as usize))
            {
                arena.extend(fields);
            }
        }
        arena
    }

    /// The group's points as views whose tags borrow the entries' series and whose
    /// fields borrow `arena` (built by [`Group::field_arena`] from the same entries): no
    /// allocation per point.
    fn views_over<'e>(
        &self,
        entries: &'e [CompactEntry],
        arena: &'e [FieldPairRef<'e>],
    ) -> Vec<PointRef<'e>> {
        let mut views = Vec::with_capacity(self.members.len());
        let mut at = 0usize;
        for &(e, i) in &self.members {
            let Some(entry) = entries.get(e as usize) else {
                continue;
            };
            let n = entry.field_count(i as usize);
            let Some(fields) = arena.get(at..at + n) else {
                break;
            };
            at += n;
            if let Some(view) = entry.view(i as usize, ListRef::Borrowed(fields)) {
                views.push(view);
            }
        }
        views
    }
}

/// The schema of a batch: only what these points carry (a table holds the fields and tags
/// written into its retention policy, as InfluxDB keeps field sets per shard). A value
/// whose type is not the field's primary one (written into another shard group) is moved
/// to the field's side column of that type. Points repeat their field order and tag keys,
/// so the previous point's names at each position (with their primary types), and the
/// last tag keys looked up, spare most schema lookups (measured on 250k-point TSBS
/// rounds: 45–95 ms with every point's ten tag keys looked up, 20–40 ms since).
fn batch_schema(full: &MeasurementSchema, points: &mut [PointRef<'_>]) -> MeasurementSchema {
    let mut schema = MeasurementSchema::default();
    let mut known: Vec<Option<(String, FieldType)>> = Vec::new();
    let mut looked_up: Vec<String> = Vec::new();
    for p in points.iter_mut() {
        let same_keys = p
            .tags
            .iter()
            .map(|(k, _)| k.as_ref())
            .eq(looked_up.iter().map(String::as_str));
        if !same_keys {
            looked_up.clear();
            for (k, _) in &p.tags {
                if !schema.tag_keys.contains(k.as_ref()) {
                    schema.tag_keys.insert(k.to_string());
                }
                looked_up.push(k.to_string());
            }
        }
        for position in 0..p.fields.len() {
            let (f, v) = &p.fields[position];
            let t = v.field_type();
            if let Some(Some((name, kt))) = known.get(position) {
                if *kt == t && name == f {
                    continue;
                }
            }
            let primary = full.field_type(f);
            if primary == Some(t) {
                if known.len() <= position {
                    known.resize(position + 1, None);
                }
                known[position] = Some((f.to_string(), t));
            }
            match primary {
                Some(primary) if primary != t => {
                    let side = hyperbyte_domain::side_field_name(f, t);
                    schema.fields.entry(side.clone()).or_insert(t);
                    // Only this point's fields become its own (they borrow the round's).
                    p.fields.to_mut()[position].0 = Cow::Owned(side);
                }
                Some(primary) if !schema.fields.contains_key(f.as_ref()) => {
                    schema.fields.insert(f.to_string(), primary);
                }
                _ => {}
            }
        }
    }
    schema
}

/// Whether a point of WAL entry `seq` was deleted after it was written: a tombstone
/// recorded at or after the entry covers it.
fn deleted_after(tombstones: &[Tombstone], seq: u64, p: &PointRef<'_>) -> bool {
    tombstones
        .iter()
        .any(|t| seq <= t.wal_sequence && covers(t, p))
}

/// Whether a tombstone covers a point.
pub fn covers(t: &Tombstone, p: &PointRef<'_>) -> bool {
    if let Some(m) = &t.measurement {
        if *m != p.measurement {
            return false;
        }
    }
    if p.timestamp < t.min_time || p.timestamp > t.max_time {
        return false;
    }
    t.tag_predicate.iter().all(|(k, v)| {
        let actual = p
            .tags
            .iter()
            .find(|(pk, _)| pk == k)
            .map(|(_, pv)| pv.as_ref())
            .unwrap_or("");
        actual == v
    })
}

#[cfg(test)]
mod columns_tests;
mod feed;
#[cfg(test)]
mod feed_tests;
#[cfg(test)]
mod tests;
mod written;
