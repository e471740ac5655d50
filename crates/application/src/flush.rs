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

use hyperbyte_domain::{
    CompactEntry, FieldType, MeasurementSchema, PointRef, RetentionPolicy, Tombstone,
};
use hyperbyte_ports::{MetadataPort, PointsSinkPort, WalPort};
use std::borrow::Cow;
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

    /// Reads and decodes the WAL entries of one round starting at `from`, and groups their
    /// points by table (as indices: the points stay in the entries' compact shape).
    async fn read_round(&self, from: u64) -> Result<ReadRound, FlushError> {
        // Read the last sequence before the range: an entry appended after the (empty)
        // read must not be skipped by moving the cursor past it.
        let last_before = self.wal.last_sequence();
        let read = self
            .wal
            .read_batch(from, self.cfg.batch_entries, self.cfg.batch_points)
            .await?;
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
        for (seq, entry) in read {
            let ei = entries.len() as u32;
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
                    let covered = entry
                        .point(i)
                        .is_some_and(|p| ts.iter().any(|t| seq <= t.wal_sequence && covers(t, &p)));
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
            groups: out,
        }))
    }

    /// Writes one round into storage, makes it durable, then truncates the WAL up to it.
    async fn write_round(&self, round: Round) -> Result<FlushStats, FlushError> {
        let mut points_written = 0;
        for g in &round.groups {
            let mut views: Vec<PointRef<'_>> = g
                .members
                .iter()
                .filter_map(|&(e, i)| round.entries.get(e as usize)?.point(i as usize))
                .collect();
            let schema = batch_schema(&g.full, &mut views);
            self.sink
                .write_views(&g.database, &g.rp, &g.measurement, &schema, &views)
                .await?;
            points_written += views.len();
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

/// Decoded entries up to `last_seq`, with their points grouped by table.
struct Round {
    last_seq: u64,
    n_entries: usize,
    /// Points decoded (tombstoned ones included: they leave the WAL too).
    points_read: usize,
    entries: Vec<CompactEntry>,
    groups: Vec<Group>,
}

/// A point of a round: (entry, point) indices.
type PointAt = (u32, u32);

/// The points of one table with the measurement's schema.
struct Group {
    database: String,
    rp: RetentionPolicy,
    measurement: String,
    full: MeasurementSchema,
    members: Vec<PointAt>,
}

/// The schema of a batch: only what these points carry (a table holds the fields and tags
/// written into its retention policy, as InfluxDB keeps field sets per shard). A value
/// whose type is not the field's primary one (written into another shard group) is moved
/// to the field's side column of that type. Points repeat their field order, so the
/// previous point's names at each position (with their primary types) spare most schema
/// lookups.
fn batch_schema(full: &MeasurementSchema, points: &mut [PointRef<'_>]) -> MeasurementSchema {
    let mut schema = MeasurementSchema::default();
    let mut known: Vec<Option<(String, FieldType)>> = Vec::new();
    for p in points.iter_mut() {
        for (k, _) in &p.tags {
            if !schema.tag_keys.contains(k.as_ref()) {
                schema.tag_keys.insert(k.to_string());
            }
        }
        for (position, (f, v)) in p.fields.iter_mut().enumerate() {
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
                    *f = Cow::Owned(hyperbyte_domain::side_field_name(f, t));
                    schema.fields.entry(f.to_string()).or_insert(t);
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
