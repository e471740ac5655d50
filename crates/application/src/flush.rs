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

use hyperbyte_domain::{FieldType, MeasurementSchema, Point, RetentionPolicy, Tombstone, WalEntry};
use hyperbyte_ports::{MetadataPort, PointsSinkPort, WalPort};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tracing::{info, warn, Instrument};

/// Flush settings.
#[derive(Debug, Clone, Copy)]
pub struct FlushConfig {
    /// Time between flushes.
    pub interval: Duration,
    /// Most WAL entries read per round.
    pub batch_entries: usize,
    /// Points after which a round stops reading entries (bounds a round's memory: decoded
    /// points take ten times their WAL size).
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
}

/// Moves WAL entries into storage.
#[derive(Debug)]
pub struct FlushService {
    wal: Arc<dyn WalPort>,
    meta: Arc<dyn MetadataPort>,
    sink: Arc<dyn PointsSinkPort>,
    cfg: FlushConfig,
    /// Next WAL sequence to flush; the mutex also serialises flush rounds.
    cursor: tokio::sync::Mutex<u64>,
    wake: Arc<tokio::sync::Notify>,
    /// Told how many points each round moved out of the WAL.
    backlog: Option<Arc<crate::WriteBacklog>>,
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
            wake: Arc::new(tokio::sync::Notify::new()),
            backlog: None,
        }
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
        let mut cursor = self.cursor.lock().await;
        let mut total = FlushStats::default();
        if *cursor > target {
            return Ok(total);
        }
        let mut next = Some(self.read_round(*cursor).await?);
        while let Some(read) = next.take() {
            let round = match read {
                ReadRound::Empty { last_before } => {
                    // Nothing left: everything up to `last_before` is flushed.
                    *cursor = (*cursor).max(last_before + 1);
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
            total.entries += stats.entries;
            total.points += stats.points;
            next = following.transpose()?;
        }
        Ok(total)
    }

    /// Makes every write acknowledged so far visible to storage queries.
    pub async fn ensure_visible(&self) -> Result<(), FlushError> {
        let last = self.wal.last_sequence();
        if *self.cursor.lock().await > last {
            return Ok(());
        }
        self.flush_all().await.map(|_| ())
    }

    /// Whether acknowledged writes are still waiting for a flush.
    pub async fn has_backlog(&self) -> bool {
        *self.cursor.lock().await <= self.wal.last_sequence()
    }

    /// Reads, decodes and groups the WAL entries of one round starting at `from`, with each
    /// group's schema resolved (values of a non-primary type moved to side columns).
    async fn read_round(&self, from: u64) -> Result<ReadRound, FlushError> {
        // Read the last sequence before the range: an entry appended after the (empty)
        // read must not be skipped by moving the cursor past it.
        let last_before = self.wal.last_sequence();
        let entries = self
            .wal
            .read_batch(from, self.cfg.batch_entries, self.cfg.batch_points)
            .await?;
        let Some(&(last_seq, _)) = entries.last() else {
            return Ok(ReadRound::Empty { last_before });
        };
        let n_entries = entries.len();
        let points_read: usize = entries.iter().map(|(_, e)| e.points.len()).sum();
        // (database, rp) → measurement → points; keys are cloned per entry and per new
        // measurement, never per point.
        let mut groups: BTreeMap<(String, String), BTreeMap<String, Vec<Point>>> = BTreeMap::new();
        let mut tombstones: BTreeMap<String, Vec<Tombstone>> = BTreeMap::new();
        for (
            seq,
            WalEntry {
                database,
                retention_policy,
                points,
            },
        ) in entries
        {
            if self.meta.database(&database).is_none() {
                continue; // dropped since it was written
            }
            let ts = tombstones
                .entry(database.clone())
                .or_insert_with(|| self.meta.tombstones(&database));
            let by_measurement = groups
                .entry((database.clone(), retention_policy.clone()))
                .or_default();
            for p in points {
                if ts.iter().any(|t| seq <= t.wal_sequence && covers(t, &p)) {
                    continue;
                }
                match by_measurement.get_mut(&p.measurement) {
                    Some(list) => list.push(p),
                    None => {
                        by_measurement.insert(p.measurement.clone(), vec![p]);
                    }
                }
            }
        }
        let mut out = Vec::new();
        for ((db, rp_name), by_measurement) in groups {
            for (measurement, points) in by_measurement {
                let Some(database) = self.meta.database(&db) else {
                    continue;
                };
                let Some(rp) = database.rp(&rp_name).cloned() else {
                    continue; // policy dropped since
                };
                let Some(full) = self.meta.schema(&db, &measurement) else {
                    continue; // measurement dropped since
                };
                let mut points = points;
                let schema = batch_schema(&full, &mut points);
                out.push(Group {
                    database: db.clone(),
                    rp,
                    measurement,
                    schema,
                    points,
                });
            }
        }
        Ok(ReadRound::Points(Round {
            last_seq,
            n_entries,
            points_read,
            groups: out,
        }))
    }

    /// Writes one round into storage, makes it durable, then truncates the WAL up to it.
    async fn write_round(&self, round: Round) -> Result<FlushStats, FlushError> {
        let mut points_written = 0;
        for g in &round.groups {
            self.sink
                .write_points(&g.database, &g.rp, &g.measurement, &g.schema, &g.points)
                .await?;
            points_written += g.points.len();
        }
        self.sink.sync().await?;
        self.wal.truncate_before(round.last_seq + 1).await?;
        if let Some(b) = &self.backlog {
            b.remove(round.points_read as u64);
        }
        Ok(FlushStats {
            entries: round.n_entries,
            points: points_written,
        })
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
                        let backlog = self.wal.last_sequence().saturating_sub(*self.cursor.lock().await);
                        if backlog < self.cfg.backlog_trigger {
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

/// Decoded, grouped entries up to `last_seq`.
struct Round {
    last_seq: u64,
    n_entries: usize,
    /// Points decoded (tombstoned ones included: they leave the WAL too).
    points_read: usize,
    groups: Vec<Group>,
}

/// The points of one table with the schema they carry.
struct Group {
    database: String,
    rp: RetentionPolicy,
    measurement: String,
    schema: MeasurementSchema,
    points: Vec<Point>,
}

/// The schema of a batch: only what these points carry (a table holds the fields and tags
/// written into its retention policy, as InfluxDB keeps field sets per shard). A value
/// whose type is not the field's primary one (written into another shard group) is moved
/// to the field's side column of that type. Points repeat their field order, so the
/// previous point's names at each position (with their primary types) spare most schema
/// lookups.
fn batch_schema(full: &MeasurementSchema, points: &mut [Point]) -> MeasurementSchema {
    let mut schema = MeasurementSchema::default();
    let mut known: Vec<Option<(String, FieldType)>> = Vec::new();
    for p in points.iter_mut() {
        for (k, _) in &p.tags {
            if !schema.tag_keys.contains(k) {
                schema.tag_keys.insert(k.clone());
            }
        }
        for (position, (f, v)) in p.fields.iter_mut().enumerate() {
            let t = v.field_type();
            if let Some(Some((n, kt))) = known.get(position) {
                if *kt == t && n == f {
                    continue;
                }
            }
            let primary = full.field_type(f);
            if primary == Some(t) {
                if known.len() <= position {
                    known.resize(position + 1, None);
                }
                known[position] = Some((f.clone(), t));
            }
            match primary {
                Some(primary) if primary != t => {
                    *f = hyperbyte_domain::side_field_name(f, t);
                    schema.fields.entry(f.clone()).or_insert(t);
                }
                Some(primary) if !schema.fields.contains_key(f) => {
                    schema.fields.insert(f.clone(), primary);
                }
                _ => {}
            }
        }
    }
    schema
}

/// Whether a tombstone covers a point.
pub fn covers(t: &Tombstone, p: &Point) -> bool {
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
            .map(|(_, pv)| pv.as_str())
            .unwrap_or("");
        actual == v
    })
}
