//! Retention enforcement: drops data older than each retention policy's duration.
//!
//! Why it exists: InfluxDB deletes whole shard groups once they lie entirely before
//! `now - duration`. Storage is partitioned by the policy's shard group duration, so the
//! same rule becomes "drop every partition that ends at or before the start of the first
//! group not yet due" ([`StorageAdminPort::drop_partitions_before`]; weekly partitions
//! start on Thursdays, weekly groups on Mondays, so a partition goes once every group it
//! touches has expired), then the expired groups' records go
//! ([`MetaCommand::ExpireShardGroups`]). Policies with duration `0` (`INF`) are never
//! touched.
//!
//! Series-index cleanup (optional, enabled with [`RetentionService::with_series_cleanup`]):
//! InfluxDB forgets series that no longer have data. After dropping partitions, for every
//! database with at least one finite policy, the service lists the tag sets that still
//! have rows in any policy's table of each measurement (through [`QueryPort`]) and
//! removes indexed series that have none ([`MetaCommand::DropSeries`]). The rule is
//! conservative, because a series written right now may still sit in the WAL:
//!
//! - the series list is read before anything is dropped, so a series registered during
//!   the check is never a candidate;
//! - acknowledged writes are flushed to storage first when a [`FlushService`] is given;
//! - a series is removed only when it had no rows in **two consecutive checks**;
//! - any failure (query error, unexpected value) keeps every series of the measurement.
//!
//! A series that loses its index entry although a write of it raced with the check is
//! registered again by its next write (the ingest path checks the index per point).

use crate::flush::FlushService;
use hyperbyte_domain::naming;
use hyperbyte_domain::query::Value;
use hyperbyte_domain::{Database, MetaCommand, ShardGroup};
use hyperbyte_ports::{
    Clock, MetaError, MetadataPort, QueryError, QueryPort, SeriesEntry, SinkError, StorageAdminPort,
};
use hyperbyte_timeseriesql::sql::{TableRef, TagSetsRead};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tracing::{debug, info, warn, Instrument};

/// What one retention check did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionStats {
    /// Finite retention policies whose expired partitions were dropped.
    pub policies_enforced: usize,
    /// Series removed from the index.
    pub series_dropped: usize,
    /// Series without data seen for the first time (removed by the next check if still
    /// without data then).
    pub series_pending: usize,
}

/// A retention failure. The check carries on with the other policies and databases and
/// reports the first failure once it is done (each failure is also logged).
#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    /// Dropping expired partitions failed.
    #[error("dropping expired data of {database}.{rp} failed: {source}")]
    Storage {
        /// Database.
        database: String,
        /// Retention policy.
        rp: String,
        /// Storage failure.
        #[source]
        source: SinkError,
    },
    /// Listing what storage still holds failed (series cleanup skipped for it).
    #[error("series cleanup of {database}.{measurement} failed: {source}")]
    Query {
        /// Database.
        database: String,
        /// Measurement.
        measurement: String,
        /// Query failure.
        #[source]
        source: QueryError,
    },
    /// Storage answered with something unexpected (series cleanup skipped for it).
    #[error("series cleanup of {database}.{measurement} failed: {message}")]
    Unexpected {
        /// Database.
        database: String,
        /// Measurement.
        measurement: String,
        /// What was wrong.
        message: String,
    },
    /// Flushing the WAL before the series cleanup failed (cleanup skipped).
    #[error("flush before series cleanup failed: {0}")]
    Flush(#[from] crate::flush::FlushError),
    /// Removing series from the index failed.
    #[error("removing series of {database}.{measurement} failed: {source}")]
    Meta {
        /// Database.
        database: String,
        /// Measurement.
        measurement: String,
        /// Metadata failure.
        #[source]
        source: MetaError,
    },
    /// Deleting the expired shard groups' records failed.
    #[error("deleting expired shard groups of {database}.{rp} failed: {source}")]
    ShardGroups {
        /// Database.
        database: String,
        /// Retention policy.
        rp: String,
        /// Metadata failure.
        #[source]
        source: MetaError,
    },
}

/// Key of a series awaiting its second "no data" observation: (database, measurement, key).
type PendingKey = (String, String, String);

/// Enforces retention policies periodically.
#[derive(Debug)]
pub struct RetentionService {
    meta: Arc<dyn MetadataPort>,
    admin: Arc<dyn StorageAdminPort>,
    clock: Arc<dyn Clock>,
    interval: Duration,
    query: Option<Arc<dyn QueryPort>>,
    flush: Option<Arc<FlushService>>,
    /// Series found without data by the previous check.
    pending: parking_lot::Mutex<HashSet<PendingKey>>,
    /// Serialises checks (the loop and manual calls).
    running: tokio::sync::Mutex<()>,
}

impl RetentionService {
    /// Creates the service; `interval` is `retention.check_interval` (at least 1 s is
    /// used by [`RetentionService::run`] is 10 ms). Series cleanup is off until
    /// [`RetentionService::with_series_cleanup`].
    pub fn new(
        meta: Arc<dyn MetadataPort>,
        admin: Arc<dyn StorageAdminPort>,
        clock: Arc<dyn Clock>,
        interval: Duration,
    ) -> Self {
        RetentionService {
            meta,
            admin,
            clock,
            interval,
            query: None,
            flush: None,
            pending: parking_lot::Mutex::new(HashSet::new()),
            running: tokio::sync::Mutex::new(()),
        }
    }

    /// Enables series-index cleanup, reading what storage still holds through `query`.
    pub fn with_series_cleanup(mut self, query: Arc<dyn QueryPort>) -> Self {
        self.query = Some(query);
        self
    }

    /// Flushes acknowledged writes before the series cleanup looks at storage (strongly
    /// recommended with [`RetentionService::with_series_cleanup`]).
    pub fn with_flush(mut self, flush: Arc<FlushService>) -> Self {
        self.flush = Some(flush);
        self
    }

    /// Runs one check: for every database and every policy with a finite duration, drops
    /// the partitions that end at or before `now - duration`, then cleans the series
    /// index (when enabled). Every policy is attempted; the first failure is returned
    /// after the rest ran.
    pub async fn check_once(&self) -> Result<RetentionStats, RetentionError> {
        let _serial = self.running.lock().await;
        let now = self.clock.now_nanos();
        let mut stats = RetentionStats::default();
        let mut first_err: Option<RetentionError> = None;

        // Databases with something to expire, with their series read *before* dropping.
        let mut to_clean: Vec<(String, Vec<SeriesEntry>)> = Vec::new();
        for db in self.meta.databases() {
            let finite: Vec<_> = db
                .retention_policies
                .iter()
                .filter(|rp| rp.duration > 0)
                .collect();
            if finite.is_empty() {
                continue;
            }
            let series = if self.query.is_some() {
                self.meta.series(&db.name, None)
            } else {
                Vec::new()
            };
            let measurements = self.meta.measurements_with_schema(&db.name);
            for rp in finite {
                let cutoff = now.saturating_sub(rp.duration);
                stats.policies_enforced += 1;
                debug!(database = %db.name, rp = %rp.name, cutoff, "dropping expired partitions");
                // Storage drops whole partitions only up to the start of the first group
                // not due: a weekly partition (Thursday to Thursday) also holds rows of the
                // next group (Monday to Monday), and so may a group made before the
                // policy's shard duration changed.
                let groups: Vec<ShardGroup> = self
                    .meta
                    .shard_groups()
                    .into_iter()
                    .filter(|g| g.database == db.name && g.retention_policy == rp.name)
                    .collect();
                let drop_before = groups
                    .iter()
                    .filter(|g| g.end > cutoff)
                    .map(|g| g.start)
                    .fold(rp.shard_group_start(cutoff), i64::min);
                let expired = groups.iter().any(|g| g.end <= cutoff);
                let dropped = measurements.is_empty()
                    || match self
                        .admin
                        .drop_partitions_before(&db.name, rp, &measurements, drop_before)
                        .await
                    {
                        Ok(()) => true,
                        Err(source) => {
                            let e = RetentionError::Storage {
                                database: db.name.clone(),
                                rp: rp.name.clone(),
                                source,
                            };
                            record(e, &mut first_err);
                            false
                        }
                    };
                // The groups' records go once their data has: `SHOW SHARDS` stops
                // listing them.
                if dropped && expired {
                    let expire = MetaCommand::ExpireShardGroups {
                        database: db.name.clone(),
                        retention_policy: rp.name.clone(),
                        cutoff,
                    };
                    if let Err(source) = self.meta.apply(expire).await {
                        let e = RetentionError::ShardGroups {
                            database: db.name.clone(),
                            rp: rp.name.clone(),
                            source,
                        };
                        record(e, &mut first_err);
                    }
                }
                if measurements.is_empty() {
                    continue;
                }
                // Failure point `retention-drop`: a policy's expired partitions were dropped.
                fail::fail_point!("retention-drop");
            }
            to_clean.push((db.name.clone(), series));
        }

        if let Some(query) = self.query.clone().filter(|_| !to_clean.is_empty()) {
            let mut flushed = true;
            if let Some(flush) = &self.flush {
                if let Err(e) = flush.ensure_visible().await {
                    // Storage may miss acknowledged writes: removing nothing is the safe side.
                    record(e.into(), &mut first_err);
                    flushed = false;
                }
            }
            let mut next_pending: HashSet<PendingKey> = HashSet::new();
            if flushed {
                let previous = self.pending.lock().clone();
                for (db_name, series) in to_clean {
                    // The database may have been dropped meanwhile.
                    let Some(db) = self.meta.database(&db_name) else {
                        continue;
                    };
                    // Points set aside are not in storage yet: their series would look
                    // empty there. Removing nothing is the safe side.
                    if self
                        .flush
                        .as_ref()
                        .is_some_and(|f| f.holds_points_of(&db_name))
                    {
                        continue;
                    }
                    self.clean_database(
                        query.as_ref(),
                        &db,
                        series,
                        &previous,
                        &mut next_pending,
                        &mut stats,
                        &mut first_err,
                    )
                    .await;
                }
            }
            *self.pending.lock() = next_pending;
        } else {
            self.pending.lock().clear();
        }

        match first_err {
            Some(e) => Err(e),
            None => Ok(stats),
        }
    }

    /// Series cleanup of one database (see the module docs).
    #[allow(clippy::too_many_arguments)]
    async fn clean_database(
        &self,
        query: &dyn QueryPort,
        db: &Database,
        series: Vec<SeriesEntry>,
        previous: &HashSet<PendingKey>,
        next_pending: &mut HashSet<PendingKey>,
        stats: &mut RetentionStats,
        first_err: &mut Option<RetentionError>,
    ) {
        let mut by_measurement: BTreeMap<String, Vec<SeriesEntry>> = BTreeMap::new();
        for s in series {
            by_measurement
                .entry(s.measurement.clone())
                .or_default()
                .push(s);
        }
        for (measurement, entries) in by_measurement {
            let present =
                match tag_sets_in_every_policy(query, self.meta.as_ref(), db, &measurement).await {
                    Ok(present) => present,
                    Err(e) => {
                        record(e.into_error(&db.name, &measurement), first_err);
                        continue;
                    }
                };
            let mut drop_keys = Vec::new();
            for e in entries {
                if present.contains(&normalized_tags(&e.tags)) {
                    continue;
                }
                let key = (db.name.clone(), measurement.clone(), e.key.clone());
                if previous.contains(&key) {
                    drop_keys.push(e.key);
                } else {
                    next_pending.insert(key);
                    stats.series_pending += 1;
                }
            }
            if drop_keys.is_empty() {
                continue;
            }
            let n = drop_keys.len();
            let cmd = MetaCommand::DropSeries {
                database: db.name.clone(),
                measurement: measurement.clone(),
                keys: drop_keys.clone(),
            };
            match self.meta.apply(cmd).await {
                Ok(()) => {
                    stats.series_dropped += n;
                    info!(database = %db.name, measurement = %measurement, series = n,
                        "removed series without data from the index");
                }
                Err(source) => {
                    // Try again next time without waiting for another observation.
                    for k in drop_keys {
                        next_pending.insert((db.name.clone(), measurement.clone(), k));
                    }
                    record(
                        RetentionError::Meta {
                            database: db.name.clone(),
                            measurement: measurement.clone(),
                            source,
                        },
                        first_err,
                    );
                }
            }
        }
    }

    /// Runs [`RetentionService::check_once`] every interval until `shutdown` changes
    /// (or its sender is dropped), logging failures and carrying on.
    pub async fn run(self: Arc<Self>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let interval = self.interval.max(Duration::from_millis(10));
        let span = tracing::info_span!("retention_service", interval_secs = interval.as_secs());
        async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = shutdown.changed() => break,
                }
                match self.check_once().await {
                    Ok(s) => debug!(
                        policies = s.policies_enforced,
                        series_dropped = s.series_dropped,
                        series_pending = s.series_pending,
                        "retention check done"
                    ),
                    Err(e) => warn!(error = %e, "retention check failed; retrying next interval"),
                }
            }
        }
        .instrument(span)
        .await
    }
}

/// Logs a failure and keeps the first one.
fn record(e: RetentionError, first: &mut Option<RetentionError>) {
    warn!(error = %e, "retention check step failed");
    if first.is_none() {
        *first = Some(e);
    }
}

/// A failure while listing a table's tag sets.
pub(crate) enum ListError {
    Query(QueryError),
    Unexpected(String),
}

impl ListError {
    fn into_error(self, database: &str, measurement: &str) -> RetentionError {
        match self {
            ListError::Query(source) => RetentionError::Query {
                database: database.to_string(),
                measurement: measurement.to_string(),
                source,
            },
            ListError::Unexpected(message) => RetentionError::Unexpected {
                database: database.to_string(),
                measurement: measurement.to_string(),
                message,
            },
        }
    }
}

/// The read of the distinct tag sets of a table, by the `tag_keys` it has a column for
/// (a table holds the tag columns written into its policy; a series with a tag whose
/// column is absent cannot have rows here, and columns of unknown tags are ignored: that
/// can only make more series look present, which keeps them). `None`: no such table.
async fn tag_sets_read(
    query: &dyn QueryPort,
    (db, rp, measurement): (&str, &str, &str),
    tag_keys: &[String],
    between: Option<(i64, i64)>,
) -> Result<Option<TagSetsRead>, ListError> {
    let columns: HashSet<String> = match query.table_columns(db, rp, measurement).await {
        Ok(cols) => cols.into_iter().collect(),
        Err(e) => return Err(ListError::Query(e)),
    };
    if columns.is_empty() {
        return Ok(None);
    }
    Ok(Some(TagSetsRead {
        table: TableRef::new(db, rp, measurement),
        tags: tag_keys
            .iter()
            .filter(|k| columns.contains(&naming::tag_column(k)))
            .cloned()
            .collect(),
        between,
    }))
}

/// How many tag sets [`present_tag_sets`] would find, counted by the engine (no tag set
/// crosses over: a million series are counted without a million rows read back).
pub(crate) async fn present_tag_set_count(
    query: &dyn QueryPort,
    table: (&str, &str, &str),
    tag_keys: &[String],
) -> Result<u64, ListError> {
    let Some(read) = tag_sets_read(query, table, tag_keys, None).await? else {
        return Ok(0);
    };
    let rows = match query.query(&read.count_sql()).await {
        Ok(r) => r,
        Err(e) if e.is_missing_table() => return Ok(0),
        Err(e) => return Err(ListError::Query(e)),
    };
    match rows.rows.first().and_then(|r| r.first()) {
        Some(Value::Unsigned(n)) => Ok(*n),
        Some(Value::Integer(n)) => {
            u64::try_from(*n).map_err(|_| ListError::Unexpected(format!("a count of {n} tag sets")))
        }
        other => Err(ListError::Unexpected(format!(
            "a count of tag sets read back as {other:?}"
        ))),
    }
}

/// Tags with empty values removed (storage keeps a missing tag as `''`), sorted by key.
pub(crate) fn normalized_tags(tags: &[(String, String)]) -> Vec<(String, String)> {
    let mut t: Vec<(String, String)> = tags
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .cloned()
        .collect();
    t.sort();
    t
}

/// The distinct tag sets with rows in the table of `measurement` (by its schema's tag
/// keys) of any of the database's retention policies; the first failure ends the listing.
pub(crate) async fn tag_sets_in_every_policy(
    query: &dyn QueryPort,
    meta: &dyn MetadataPort,
    db: &Database,
    measurement: &str,
) -> Result<HashSet<Vec<(String, String)>>, ListError> {
    let tag_keys: Vec<String> = meta
        .schema(&db.name, measurement)
        .map(|s| s.tag_keys.into_iter().collect())
        .unwrap_or_default();
    let mut present = HashSet::new();
    for rp in &db.retention_policies {
        let table = (db.name.as_str(), rp.name.as_str(), measurement);
        present.extend(present_tag_sets(query, table, &tag_keys, None).await?);
    }
    Ok(present)
}

/// The distinct tag sets that have rows in one (policy, measurement) table, only rows
/// `between` two times (inclusive) when given; empty when the table does not exist.
pub(crate) async fn present_tag_sets(
    query: &dyn QueryPort,
    (db, rp, measurement): (&str, &str, &str),
    tag_keys: &[String],
    between: Option<(i64, i64)>,
) -> Result<HashSet<Vec<(String, String)>>, ListError> {
    let Some(read) = tag_sets_read(query, (db, rp, measurement), tag_keys, between).await? else {
        return Ok(HashSet::new()); // no such table
    };
    let tags = &read.tags;
    let rows = match query.query(&read.to_sql()).await {
        Ok(r) => r,
        Err(e) if e.is_missing_table() => return Ok(HashSet::new()),
        Err(e) => return Err(ListError::Query(e)),
    };
    let mut out = HashSet::with_capacity(rows.rows.len());
    for row in rows.rows {
        if tags.is_empty() {
            out.insert(Vec::new());
            break;
        }
        if row.len() != tags.len() {
            return Err(ListError::Unexpected(format!(
                "expected {} columns, got {}",
                tags.len(),
                row.len()
            )));
        }
        let mut set = Vec::with_capacity(tags.len());
        for (key, v) in tags.iter().zip(row) {
            match v {
                Value::String(s) if s.is_empty() => {}
                Value::String(s) => set.push((key.to_string(), s)),
                Value::Null => {}
                other => {
                    return Err(ListError::Unexpected(format!(
                        "tag {key} read back as {other:?}"
                    )))
                }
            }
        }
        set.sort();
        out.insert(set);
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests;
