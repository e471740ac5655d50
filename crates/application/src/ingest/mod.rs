//! The ingestion service: validates a write against metadata and makes it durable.
//!
//! Order of work for one request, mirroring InfluxDB 1.x:
//! 1. resolve the database (`404 database not found`) and retention policy;
//! 2. parse the body (bad lines are dropped and reported, good lines are kept);
//! 3. check each point against the stored and in-batch schema (type conflicts, the `time`
//!    tag key), the retention window, and the cardinality limits;
//! 4. register new fields, tag keys and series in metadata;
//! 5. append the surviving points to the WAL; return only once it is durable;
//! 6. with a recent-data tier, put them in it in WAL order before answering, so that a
//!    read after the answer finds them there ([`crate::FlushService::feed_written`]).
//!
//! It never answers a server-side failure as a client error: WAL and metadata storage
//! errors become [`WriteError::Internal`].

use crate::backlog::WriteBacklog;
use crate::cluster::{ReplicaLedger, WriteReplicator};
use hyperbyte_domain::wal::codec::{decode_compact, encode_points};
use hyperbyte_domain::{Consistency, Point, PointRef, Precision, RetentionPolicy};
use hyperbyte_ports::{Clock, MetaError, MetadataPort, ReplicatedBatch, WalError, WalPort};
use std::sync::Arc;

mod fields;
mod register;
mod report;
mod series;
#[cfg(test)]
mod tests;

use report::Report;

/// Cardinality limits; `0` disables a limit (InfluxDB's defaults are 1,000,000 series and
/// 100,000 values per tag; both are configurable).
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// Maximum series per database.
    pub max_series_per_database: usize,
    /// Maximum distinct values per tag key per measurement.
    pub max_values_per_tag: usize,
}

/// One `/write` request.
#[derive(Debug, Clone, Copy)]
pub struct WriteRequest<'a> {
    /// Target database.
    pub database: &'a str,
    /// Target retention policy; `None` or empty means the default.
    pub retention_policy: Option<&'a str>,
    /// Timestamp precision of the body.
    pub precision: Precision,
    /// Line-protocol body (already decompressed).
    pub body: &'a [u8],
    /// How many replicas must make the write durable before it is acknowledged (cluster
    /// mode; a single node acknowledges after its own WAL append whatever the level).
    pub consistency: Consistency,
}

/// Why a write was refused or only partly applied.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// 404: the database does not exist.
    #[error("database not found: {0:?}")]
    DatabaseNotFound(String),
    /// 500 (as InfluxDB answers): the retention policy does not exist.
    #[error("retention policy not found: {0}")]
    RetentionPolicyNotFound(String),
    /// 400: nothing could be parsed.
    #[error("{0}")]
    Parse(String),
    /// 400: some points were written, some dropped.
    #[error("partial write: {message} dropped={dropped}")]
    Partial {
        /// Reason(s).
        message: String,
        /// Points dropped after parsing (parse failures are not counted, as in InfluxDB).
        dropped: usize,
    },
    /// 503: too many acknowledged points wait for the flush into storage; the client
    /// should retry (see [`crate::backlog`]).
    #[error("write backlog full: {points} points are waiting to be flushed into storage (limit {limit}); retry later")]
    Overloaded {
        /// Points waiting.
        points: u64,
        /// The configured limit.
        limit: u64,
    },
    /// 507: the disk is full; nothing of the request was written. A 5xx, so clients
    /// retry; writes succeed again on their own once space is freed.
    #[error("{0}")]
    InsufficientStorage(String),
    /// 500-class: a server-side failure; the client should retry.
    #[error("{0}")]
    Internal(String),
    /// 503: this cluster member is draining; the client should write to another one.
    #[error("this node is draining and takes no writes; write to another member of the cluster")]
    Draining,
    /// 500: stored here, but fewer replicas than the consistency level asks made the
    /// write durable (cluster mode); the others get it by hinted handoff.
    #[error("{0}")]
    Replication(String),
}

impl WriteError {
    /// The HTTP status InfluxDB answers with.
    pub fn status(&self) -> u16 {
        match self {
            WriteError::DatabaseNotFound(_) => 404,
            WriteError::RetentionPolicyNotFound(_) => 500,
            WriteError::Parse(_) | WriteError::Partial { .. } => 400,
            WriteError::Overloaded { .. } | WriteError::Draining => 503,
            WriteError::InsufficientStorage(_) => 507,
            WriteError::Internal(_) | WriteError::Replication(_) => 500,
        }
    }
}

impl From<MetaError> for WriteError {
    fn from(e: MetaError) -> Self {
        match e {
            MetaError::NoSpace(_) => WriteError::InsufficientStorage(e.to_string()),
            _ => WriteError::Internal(e.to_string()),
        }
    }
}

/// Validates writes and appends them to the WAL.
#[derive(Debug)]
pub struct IngestionService {
    meta: Arc<dyn MetadataPort>,
    wal: Arc<dyn WalPort>,
    clock: Arc<dyn Clock>,
    limits: Limits,
    /// Serialises schema registration so two requests cannot register conflicting types.
    schema_lock: tokio::sync::Mutex<()>,
    /// Wakes the flush service when the WAL grows.
    wal_grew: Option<Arc<tokio::sync::Notify>>,
    /// Unflushed points; writes are refused while it is full.
    backlog: Option<Arc<WriteBacklog>>,
    /// Writes so far (InfluxDB's `write` statistics).
    meter: WriteMeter,
    /// Cluster mode: ships every write to the other members.
    replicator: Option<Arc<WriteReplicator>>,
    /// Cluster mode: the replicated batches applied here.
    ledger: ReplicaLedger,
    /// Puts each write's points in the recent-data tier before it is acknowledged
    /// ([`crate::FlushService::feed_written`]), when there is a tier.
    tier_writes: Option<Arc<crate::FlushService>>,
}

/// Counters of [`IngestionService`] (read by [`IngestionService::counters`]).
#[derive(Debug, Default)]
struct WriteMeter {
    requests: std::sync::atomic::AtomicU64,
    points: std::sync::atomic::AtomicU64,
    ok: std::sync::atomic::AtomicU64,
    errors: std::sync::atomic::AtomicU64,
}

/// Result of a successful (possibly partial) write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOutcome {
    /// WAL sequence of the entry, if any point was kept.
    pub sequence: Option<u64>,
    /// Points written.
    pub points: usize,
}

impl IngestionService {
    /// Creates the service.
    pub fn new(
        meta: Arc<dyn MetadataPort>,
        wal: Arc<dyn WalPort>,
        clock: Arc<dyn Clock>,
        limits: Limits,
    ) -> Self {
        IngestionService {
            meta,
            wal,
            clock,
            limits,
            schema_lock: tokio::sync::Mutex::new(()),
            wal_grew: None,
            backlog: None,
            meter: WriteMeter::default(),
            replicator: None,
            ledger: ReplicaLedger::default(),
            tier_writes: None,
        }
    }

    /// Cluster mode: every write is replicated through `replicator` after its local
    /// append, and acknowledged once its consistency level is met.
    pub fn with_replicator(mut self, replicator: Arc<WriteReplicator>) -> Self {
        self.replicator = Some(replicator);
        self
    }

    /// Applies a batch another member acknowledged (cluster mode), once per origin and
    /// sequence: through the same checks as a client's write (series and schema
    /// registration, retention), appended to the local WAL, never replicated further.
    /// Returns once the batch is durable here (or was applied before).
    pub async fn apply_replicated(&self, batch: &ReplicatedBatch) -> Result<(), WriteError> {
        if self.ledger.seen(batch.origin, batch.sequence) {
            return Ok(());
        }
        self.check_backlog()?;
        let entry = decode_compact(&batch.bytes)
            .map_err(|e| WriteError::Parse(format!("replicated batch: {e}")))?;
        let views: Vec<PointRef<'_>> = (0..entry.len()).filter_map(|i| entry.point(i)).collect();
        let target = Target {
            database: &entry.database,
            retention_policy: Some(&entry.retention_policy),
            consistency: None,
        };
        match self.write_refs(target, views, Vec::new()).await {
            // The points this replica's rules refuse (type conflicts raced with the
            // consensus, expired points) are dropped here as on the origin.
            Ok(_) | Err(WriteError::Partial { .. }) => {}
            Err(e) => return Err(e),
        }
        self.ledger.record(batch.origin, batch.sequence);
        Ok(())
    }

    /// Cluster mode's counters (hint queues per peer); `None` on a single node.
    pub fn cluster_stats(&self) -> Option<crate::stats::ClusterStats> {
        self.replicator
            .as_ref()
            .map(|r| crate::stats::ClusterStats {
                hints: r.hint_stats(),
                anti_entropy: r.anti_entropy_counters().snapshot(),
            })
    }

    /// The writes so far.
    pub fn counters(&self) -> crate::stats::WriteCounters {
        use std::sync::atomic::Ordering::Relaxed;
        crate::stats::WriteCounters {
            requests: self.meter.requests.load(Relaxed),
            points: self.meter.points.load(Relaxed),
            ok: self.meter.ok.load(Relaxed),
            errors: self.meter.errors.load(Relaxed),
        }
    }

    /// Counts one write's outcome.
    fn count(&self, r: &Result<WriteOutcome, WriteError>) {
        use std::sync::atomic::Ordering::Relaxed;
        self.meter.requests.fetch_add(1, Relaxed);
        match r {
            Ok(o) => {
                self.meter.ok.fetch_add(1, Relaxed);
                self.meter.points.fetch_add(o.points as u64, Relaxed);
            }
            Err(_) => {
                self.meter.errors.fetch_add(1, Relaxed);
            }
        }
    }

    /// Counts appended points into `backlog` and refuses writes while it is full.
    pub fn with_backlog(mut self, backlog: Arc<WriteBacklog>) -> Self {
        self.backlog = Some(backlog);
        self
    }

    /// A draining cluster member refuses client writes (replicated ones still land).
    fn check_draining(&self) -> Result<(), WriteError> {
        match &self.replicator {
            Some(r) if r.draining() => Err(WriteError::Draining),
            _ => Ok(()),
        }
    }

    fn check_backlog(&self) -> Result<(), WriteError> {
        match &self.backlog {
            Some(b) if b.is_full() => Err(WriteError::Overloaded {
                points: b.points(),
                limit: b.limit(),
            }),
            _ => Ok(()),
        }
    }

    /// Notifies `notify` after every append (the flush service listens).
    pub fn with_wal_notify(mut self, notify: Arc<tokio::sync::Notify>) -> Self {
        self.wal_grew = Some(notify);
        self
    }

    /// Has every write put its points in the recent-data tier `flush` feeds, once they
    /// are durable and before the write is acknowledged.
    pub fn with_tier_writes(mut self, flush: Arc<crate::FlushService>) -> Self {
        flush.writes_feed_tier();
        self.tier_writes = Some(flush);
        self
    }

    /// Whether `database` exists (the HTTP adapter answers InfluxDB's 404 before other
    /// parameter errors).
    pub fn has_database(&self, database: &str) -> bool {
        self.meta.database(database).is_some()
    }

    /// Creates `database` (with InfluxDB's default policy) unless it exists, as InfluxDB's
    /// Graphite, OpenTSDB, collectd and UDP services do before they write.
    pub async fn ensure_database(&self, database: &str) -> Result<(), WriteError> {
        if self.has_database(database) {
            return Ok(());
        }
        self.meta
            .apply(hyperbyte_domain::MetaCommand::create_database(database))
            .await
            .map_err(WriteError::from)
    }

    /// Writes a line-protocol body.
    pub async fn write(&self, req: WriteRequest<'_>) -> Result<WriteOutcome, WriteError> {
        let r = self.write_body(req).await;
        self.count(&r);
        r
    }

    /// [`Self::write`] without the counting.
    async fn write_body(&self, req: WriteRequest<'_>) -> Result<WriteOutcome, WriteError> {
        if !self.has_database(req.database) {
            return Err(WriteError::DatabaseNotFound(req.database.to_string()));
        }
        self.check_backlog()?;
        self.check_draining()?;
        let now = self.clock.now_nanos();
        // Points borrow their names from the body: they are validated and encoded into
        // the WAL entry without ever being copied into owned strings.
        let parsed = hyperbyte_lineprotocol::parse_refs(req.body, req.precision, now);
        let target = Target {
            database: req.database,
            retention_policy: req.retention_policy,
            consistency: Some(req.consistency),
        };
        self.write_refs(target, parsed.points, parsed.errors).await
    }

    /// Cluster mode's anti-entropy: writes points copied from another member (line
    /// protocol, nanosecond timestamps) into this node only, through the same checks as a
    /// replicated batch (never sent on, accepted while draining). Returns the points
    /// written.
    pub async fn write_repair(
        &self,
        database: &str,
        retention_policy: &str,
        body: &[u8],
    ) -> Result<usize, WriteError> {
        if !self.has_database(database) {
            return Err(WriteError::DatabaseNotFound(database.to_string()));
        }
        self.check_backlog()?;
        let now = self.clock.now_nanos();
        let parsed = hyperbyte_lineprotocol::parse_refs(body, Precision::Nanoseconds, now);
        let target = Target {
            database,
            retention_policy: Some(retention_policy),
            consistency: None,
        };
        match self.write_refs(target, parsed.points, parsed.errors).await {
            Ok(o) => Ok(o.points),
            Err(WriteError::Partial { .. }) => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Writes points that did not come from line protocol (`SELECT ... INTO`, continuous
    /// queries), through the same checks as `/write`. `parse_errors` are reported as
    /// InfluxDB reports bad lines.
    pub async fn write_points(
        &self,
        database: &str,
        retention_policy: Option<&str>,
        points: Vec<Point>,
        parse_errors: Vec<String>,
    ) -> Result<WriteOutcome, WriteError> {
        let views = points.iter().map(PointRef::from_point).collect();
        self.write_views(database, retention_policy, views, parse_errors)
            .await
    }

    /// Writes borrowed point views (Prometheus remote write: the names borrow from the
    /// decoded request, so a sample is never copied into owned strings before the WAL
    /// encodes it), through the same checks as `/write`.
    pub async fn write_views(
        &self,
        database: &str,
        retention_policy: Option<&str>,
        points: Vec<PointRef<'_>>,
        parse_errors: Vec<String>,
    ) -> Result<WriteOutcome, WriteError> {
        let target = Target {
            database,
            retention_policy,
            consistency: Some(Consistency::One),
        };
        let r = match self.check_backlog().and_then(|()| self.check_draining()) {
            Ok(()) => self.write_refs(target, points, parse_errors).await,
            Err(e) => Err(e),
        };
        self.count(&r);
        r
    }

    /// The checks and the WAL append shared by [`Self::write`] and [`Self::write_points`],
    /// in InfluxDB's order (see the module doc).
    async fn write_refs(
        &self,
        target: Target<'_>,
        mut points: Vec<PointRef<'_>>,
        parse_errors: Vec<String>,
    ) -> Result<WriteOutcome, WriteError> {
        let database = target.database;
        let rp = self.resolve_rp(database, target.retention_policy)?;
        let now = self.clock.now_nanos();
        let parse_error = (!parse_errors.is_empty()).then(|| parse_errors.join("\n"));
        if points.is_empty() {
            return match parse_error {
                Some(e) => Err(WriteError::Parse(e)),
                None => Ok(WriteOutcome {
                    sequence: None,
                    points: 0,
                }),
            };
        }
        let mut report = Report::default();
        drop_expired(&rp, now, &mut points, &mut report);
        self.register_shard_groups(database, &rp, &points).await?;
        let fields = self.check_fields(database, &rp, points, &mut report);
        let series = self.check_series(
            database,
            &fields.kept,
            &fields.refused,
            &fields.schemas,
            &mut report,
        );
        let mut points = series.keep_in(fields.kept);
        let new = register::NewSchema {
            fields: fields.new_fields,
            tags: series.new_tags,
            shards: fields.new_shards,
        };
        self.register_schema(database, &rp, new, &mut points, &mut report)
            .await?;
        self.register_series(database, series.new_series).await?;
        if fields.refuse_request {
            // Parse errors of the same body are not mentioned (InfluxDB 1.6).
            return Err(WriteError::Parse("field type conflict".to_string()));
        }
        let written = points.len();
        let sequence = self
            .append(database, &rp, points, target.consistency)
            .await?;
        report.outcome(parse_error, sequence, written)
    }

    /// The database's retention policy the write goes to (`None`/empty: the default).
    fn resolve_rp(
        &self,
        database: &str,
        retention_policy: Option<&str>,
    ) -> Result<RetentionPolicy, WriteError> {
        let db = self
            .meta
            .database(database)
            .ok_or_else(|| WriteError::DatabaseNotFound(database.to_string()))?;
        // Without a policy named, the error names the default one (kept after it was
        // dropped, as InfluxDB keeps it).
        db.resolve_rp(retention_policy).cloned().ok_or_else(|| {
            let named = retention_policy.filter(|r| !r.is_empty());
            let name = named.or(db.default_rp.as_deref()).unwrap_or_default();
            WriteError::RetentionPolicyNotFound(name.to_string())
        })
    }

    /// Appends the surviving points as one WAL entry; returns once it is durable, and in
    /// cluster mode once `consistency` is met (`None`: a replicated batch, not sent on).
    async fn append(
        &self,
        database: &str,
        rp: &RetentionPolicy,
        points: Vec<PointRef<'_>>,
        consistency: Option<Consistency>,
    ) -> Result<Option<u64>, WriteError> {
        if points.is_empty() {
            return Ok(None);
        }
        let written = points.len();
        let entry = encode_points(database, &rp.name, &points)
            .map_err(|e| WriteError::Internal(e.to_string()))?;
        let replicate = match (&self.replicator, consistency) {
            (Some(r), Some(level)) => {
                Some((Arc::clone(r), level, Arc::<[u8]>::from(&entry.bytes[..])))
            }
            _ => None,
        };
        let ticket = self.tier_writes.as_ref().map(|f| f.tier_ticket());
        let seq = self.wal.append_encoded(entry).await.map_err(|e| match e {
            WalError::NoSpace(_) => WriteError::InsufficientStorage(e.to_string()),
            _ => WriteError::Internal(e.to_string()),
        })?;
        if let Some(b) = &self.backlog {
            b.add(written as u64);
        }
        if let Some(n) = &self.wal_grew {
            n.notify_one();
        }
        if let (Some(flush), Some(ticket)) = (&self.tier_writes, ticket) {
            flush
                .feed_written(ticket, seq, database, &rp.name, points)
                .await;
        }
        if let Some((replicator, level, bytes)) = replicate {
            let batch = ReplicatedBatch {
                origin: replicator.local_node(),
                sequence: seq,
                bytes,
            };
            replicator
                .replicate(batch, level)
                .await
                .map_err(|e| WriteError::Replication(e.to_string()))?;
        }
        Ok(Some(seq))
    }
}

/// Where a write goes and, for a client's write, its consistency level (`None` for a
/// batch replicated from another member, which is not sent on).
#[derive(Debug, Clone, Copy)]
struct Target<'a> {
    database: &'a str,
    retention_policy: Option<&'a str>,
    consistency: Option<Consistency>,
}

/// Drops the points older than the retention window (`now - duration`).
fn drop_expired(
    rp: &RetentionPolicy,
    now: i64,
    points: &mut Vec<PointRef<'_>>,
    report: &mut Report,
) {
    if rp.duration <= 0 {
        return;
    }
    let min_time = now.saturating_sub(rp.duration);
    let before = points.len();
    points.retain(|p| p.timestamp >= min_time);
    let n = before - points.len();
    if n > 0 {
        report.drop_points(n, "points beyond retention policy".to_string());
    }
}
