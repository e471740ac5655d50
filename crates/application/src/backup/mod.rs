//! Backup and restore on the server side: a consistent snapshot handle, each table's points
//! as line protocol, and the metadata a restore puts back.
//!
//! Why this shape: a backup must hold every point acknowledged before one instant while
//! writes keep flowing. The snapshot ([`BackupService::snapshot`]) reads the WAL's last
//! sequence `S`, flushes the WAL through `S` into storage (the same flush as
//! read-your-writes), and only then records the metadata and the list of tables. Every
//! point acknowledged before the snapshot was appended at or below `S`, so it is in
//! storage when the tables are read afterwards ([`BackupService::table_reader`]). Points
//! written after the snapshot may or may not be in the backup (storage is read live, not
//! from a frozen copy); nothing acknowledged before it can be missing. Points storage
//! refused and set aside (held tables) are not in storage, so a snapshot touching a held
//! table is refused rather than silently incomplete.
//!
//! The data leaves as line protocol (typed: `i`/`u` suffixes, quoted strings, booleans),
//! read one shard group (one storage partition) at a time and streamed chunk by chunk as
//! the engine produces them ([`QueryPort::query_chunks`]), so neither the server nor the
//! client holds a table in memory, and each partition is scanned once. A restore replays it through the ordinary write
//! path, which rebuilds the series index, field types and storage tables by the same
//! rules as the original writes. The SQL comes from the translator's read plans
//! (`timeseriesql::sql::DumpRead`); this module writes none.

mod encode;

pub use encode::{encode_row, ColumnKind};

use crate::flush::{FlushError, FlushService};
use hyperbyte_domain::{naming, ContinuousQuery, Database, MetaCommand, User};
use hyperbyte_ports::{Clock, MetaError, MetadataPort, QueryError, QueryPort, RowChunks, RowSet};
use hyperbyte_timeseriesql::sql::{DumpRead, TableRef};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Window of a table read when its policy has no shard group duration (one week).
const DEFAULT_WINDOW_NS: i64 = 7 * 86_400 * 1_000_000_000;

/// Why a backup or restore step failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The request names something that does not exist or cannot be backed up.
    #[error("{0}")]
    Invalid(String),
    /// Flushing the WAL before the snapshot failed.
    #[error("flushing the WAL before the snapshot: {0}")]
    Flush(#[from] FlushError),
    /// Reading storage failed.
    #[error("reading storage: {0}")]
    Storage(#[from] QueryError),
    /// A metadata change of a restore failed.
    #[error("restoring metadata: {0}")]
    Meta(#[from] MetaError),
    /// A task of the server failed.
    #[error("{0}")]
    Internal(String),
}

/// What a snapshot covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotFilter {
    /// One database, or all.
    pub database: Option<String>,
    /// One retention policy of that database, or all.
    pub retention_policy: Option<String>,
}

/// One stored table: the points of a measurement in a retention policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableEntry {
    /// Database.
    pub database: String,
    /// Retention policy.
    pub retention_policy: String,
    /// Measurement.
    pub measurement: String,
}

/// The metadata a backup carries and a restore puts back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetaSnapshot {
    /// Databases with their retention policies (filtered to those the snapshot covers).
    pub databases: Vec<Database>,
    /// Users with their password hashes and privileges (full backups only).
    #[serde(default)]
    pub users: Vec<User>,
    /// Continuous queries of the databases covered.
    #[serde(default)]
    pub continuous_queries: Vec<ContinuousQuery>,
}

/// A snapshot handle: the instant, the WAL sequence flushed through, the metadata and
/// the tables to read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// When the snapshot was taken (server clock, nanoseconds since the epoch).
    pub instant_ns: i64,
    /// Every WAL entry up to this sequence was in storage before the tables were listed.
    pub wal_sequence: u64,
    /// Metadata.
    pub meta: MetaSnapshot,
    /// Tables holding points, in (database, retention policy, measurement) order.
    pub tables: Vec<TableEntry>,
}

/// Backup and restore of metadata and stored points.
#[derive(Debug)]
pub struct BackupService {
    meta: Arc<dyn MetadataPort>,
    engine: Arc<dyn QueryPort>,
    flush: Arc<FlushService>,
    clock: Arc<dyn Clock>,
}

impl BackupService {
    /// A service over the metadata store, the storage engine and the flush.
    pub fn new(
        meta: Arc<dyn MetadataPort>,
        engine: Arc<dyn QueryPort>,
        flush: Arc<FlushService>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        BackupService {
            meta,
            engine,
            flush,
            clock,
        }
    }

    /// Flushes the WAL through its current last sequence, then records the metadata and
    /// the tables `filter` covers (see the module docs for what this guarantees).
    pub async fn snapshot(&self, filter: &SnapshotFilter) -> Result<Snapshot, BackupError> {
        let databases = self.covered_databases(filter)?;
        let instant_ns = self.clock.now_nanos();
        let wal_sequence = self.flush.flush_through().await?;
        for held in self.flush.held_tables() {
            if databases.iter().any(|d| d.name == held.table.database) {
                return Err(BackupError::Invalid(format!(
                    "measurement {:?} of database {:?} has points storage refused and set aside ({}); a backup now would miss them",
                    held.table.measurement, held.table.database, held.error
                )));
            }
        }
        let mut tables = Vec::new();
        for db in &databases {
            for m in self.meta.measurements(&db.name) {
                for rp in &db.retention_policies {
                    if self.table_exists(&db.name, &rp.name, &m).await? {
                        tables.push(TableEntry {
                            database: db.name.clone(),
                            retention_policy: rp.name.clone(),
                            measurement: m.clone(),
                        });
                    }
                }
            }
        }
        tables.sort_by(|a, b| {
            (&a.database, &a.retention_policy, &a.measurement).cmp(&(
                &b.database,
                &b.retention_policy,
                &b.measurement,
            ))
        });
        let names: Vec<&str> = databases.iter().map(|d| d.name.as_str()).collect();
        let continuous_queries = self
            .meta
            .continuous_queries()
            .into_iter()
            .filter(|cq| names.contains(&cq.database.as_str()))
            .collect();
        // Users belong to the server, not to a database: a full backup only.
        let users = if filter.database.is_none() {
            self.meta.users()
        } else {
            Vec::new()
        };
        Ok(Snapshot {
            instant_ns,
            wal_sequence,
            meta: MetaSnapshot {
                databases,
                users,
                continuous_queries,
            },
            tables,
        })
    }

    /// The databases (with only the covered retention policies) `filter` names.
    fn covered_databases(&self, filter: &SnapshotFilter) -> Result<Vec<Database>, BackupError> {
        let Some(name) = &filter.database else {
            if filter.retention_policy.is_some() {
                return Err(BackupError::Invalid(
                    "a retention policy needs a database".into(),
                ));
            }
            return Ok(self.meta.databases());
        };
        let mut db = self
            .meta
            .database(name)
            .ok_or_else(|| BackupError::Invalid(format!("database not found: {name}")))?;
        if let Some(rp) = &filter.retention_policy {
            if db.rp(rp).is_none() {
                return Err(BackupError::Invalid(format!(
                    "retention policy not found: {rp}"
                )));
            }
            db.retention_policies.retain(|p| &p.name == rp);
        }
        Ok(vec![db])
    }

    async fn table_exists(&self, db: &str, rp: &str, m: &str) -> Result<bool, BackupError> {
        match self.engine.table_columns(db, rp, m).await {
            Ok(cols) => Ok(!cols.is_empty()),
            Err(e) if e.is_missing_table() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// A reader of one table's points in `[since, until)` (nanoseconds; `None` is open),
    /// page by page as line protocol.
    pub async fn table_reader(
        &self,
        table: TableEntry,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Result<TableReader, BackupError> {
        let schema = self
            .meta
            .schema(&table.database, &table.measurement)
            .ok_or_else(|| {
                BackupError::Invalid(format!(
                    "measurement not found: {} in database {}",
                    table.measurement, table.database
                ))
            })?;
        let existing: std::collections::BTreeSet<String> = match self
            .engine
            .table_columns(&table.database, &table.retention_policy, &table.measurement)
            .await
        {
            Ok(cols) => cols.into_iter().collect(),
            Err(e) if e.is_missing_table() => Default::default(),
            Err(e) => return Err(e.into()),
        };
        let tags: Vec<String> = schema
            .tag_keys
            .iter()
            .filter(|t| existing.contains(&naming::tag_column(t)))
            .cloned()
            .collect();
        // Each field's primary column, then the columns of its other types (values written
        // into shard groups where the field had another type).
        let mut fields: Vec<(String, String)> = Vec::new();
        for name in schema.fields.keys() {
            for (column, _) in schema.storage_columns(name) {
                if existing.contains(&naming::field_column(&column)) {
                    fields.push((name.clone(), column));
                }
            }
        }
        let shard = self
            .meta
            .database(&table.database)
            .and_then(|d| {
                d.rp(&table.retention_policy)
                    .map(|r| r.shard_group_duration)
            })
            .filter(|d| *d > 0)
            .unwrap_or(DEFAULT_WINDOW_NS);
        let max = match until {
            Some(u) => Some(u.checked_sub(1).ok_or_else(|| {
                BackupError::Invalid("until is the earliest representable time".into())
            })?),
            None => None,
        };
        Ok(TableReader {
            engine: self.engine.clone(),
            table,
            tags,
            fields,
            cursor: since,
            max,
            window: shard,
            done: existing.is_empty(),
            points: 0,
            current: None,
        })
    }

    /// Creates the databases, retention policies, users and continuous queries of `meta`.
    /// A database that exists already is refused, unless `merge` (a time-bounded backup
    /// restored on top of an earlier restore): then only its missing policies and
    /// continuous queries are created, and a policy of the same name must have the same
    /// duration and shard group duration.
    pub async fn restore_meta(&self, meta: &MetaSnapshot, merge: bool) -> Result<(), BackupError> {
        for db in &meta.databases {
            let Some(existing) = self.meta.database(&db.name) else {
                continue;
            };
            if !merge {
                return Err(BackupError::Invalid(format!(
                    "database already exists: {}",
                    db.name
                )));
            }
            for rp in &db.retention_policies {
                let differs = existing.rp(&rp.name).is_some_and(|have| {
                    (have.duration, have.shard_group_duration)
                        != (rp.duration, rp.shard_group_duration)
                });
                if differs {
                    return Err(BackupError::Invalid(format!(
                        "retention policy {} of database {} differs from the backup's",
                        rp.name, db.name
                    )));
                }
            }
        }
        for db in &meta.databases {
            match self.meta.database(&db.name) {
                Some(existing) => {
                    for rp in &db.retention_policies {
                        if existing.rp(&rp.name).is_none() {
                            self.meta
                                .apply(MetaCommand::create_retention_policy(
                                    &db.name,
                                    rp.clone(),
                                    false,
                                ))
                                .await?;
                        }
                    }
                }
                None => self.create_database(db).await?,
            }
        }
        for user in &meta.users {
            self.meta.apply(MetaCommand::PutUser(user.clone())).await?;
        }
        let existing = self.meta.continuous_queries();
        for cq in &meta.continuous_queries {
            if existing
                .iter()
                .any(|c| c.database == cq.database && c.name == cq.name)
            {
                continue;
            }
            self.meta
                .apply(MetaCommand::CreateContinuousQuery(cq.clone()))
                .await?;
        }
        Ok(())
    }

    /// Creates `db` with its policies and default as backed up.
    async fn create_database(&self, db: &Database) -> Result<(), BackupError> {
        let default = db
            .default_rp
            .as_deref()
            .and_then(|name| db.rp(name))
            .cloned();
        self.meta
            .apply(MetaCommand::CreateDatabase {
                name: db.name.clone(),
                default_rp: default.clone(),
            })
            .await?;
        for rp in &db.retention_policies {
            if default.as_ref().is_some_and(|d| d.name == rp.name) {
                continue;
            }
            self.meta
                .apply(MetaCommand::create_retention_policy(
                    &db.name,
                    rp.clone(),
                    false,
                ))
                .await?;
        }
        // A backed-up database without a default policy: drop the `autogen` that creating
        // it made, unless the backup holds one of that name.
        if default.is_none() && db.rp("autogen").is_none() {
            self.meta
                .apply(MetaCommand::drop_retention_policy(&db.name, "autogen"))
                .await?;
        }
        Ok(())
    }
}

/// Reads one table window by window (see [`BackupService::table_reader`]).
pub struct TableReader {
    engine: Arc<dyn QueryPort>,
    table: TableEntry,
    tags: Vec<String>,
    /// (line-protocol field key, storage field name) per column read.
    fields: Vec<(String, String)>,
    /// Where the next window starts looking (inclusive).
    cursor: Option<i64>,
    /// The last time wanted (inclusive).
    max: Option<i64>,
    /// Window width: the policy's shard group duration, i.e. one storage partition.
    window: i64,
    done: bool,
    points: u64,
    /// The window being streamed.
    current: Option<Box<dyn RowChunks>>,
}

impl std::fmt::Debug for TableReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableReader")
            .field("table", &self.table)
            .field("cursor", &self.cursor)
            .field("points", &self.points)
            .finish()
    }
}

impl TableReader {
    /// Points (lines) produced so far.
    pub fn points(&self) -> u64 {
        self.points
    }

    /// The next piece of line protocol (at least one line), or `None` at the end.
    ///
    /// The table is read one shard group (storage partition) at a time: the earliest
    /// time at or after the cursor is looked up (`LIMIT 1` on the time column), then that
    /// time's whole shard group is streamed in one statement, chunk by chunk as the
    /// engine produces them, so each partition is scanned once and memory holds one chunk.
    pub async fn next_page(&mut self) -> Result<Option<String>, BackupError> {
        loop {
            if let Some(chunks) = self.current.as_mut() {
                match chunks.next_chunk().await {
                    Some(Ok(rows)) => {
                        let out = self.encode(rows).await?;
                        if !out.is_empty() {
                            return Ok(Some(out));
                        }
                        continue;
                    }
                    Some(Err(e)) => {
                        self.current = None;
                        self.done = true;
                        return Err(e.into());
                    }
                    None => self.current = None,
                }
            }
            if self.done {
                return Ok(None);
            }
            let Some(first) = self.first_time_from(self.cursor).await? else {
                self.done = true;
                continue;
            };
            let end = window_end(first, self.window);
            let window_max = match (end.map(|e| e - 1), self.max) {
                (Some(e), Some(m)) => Some(e.min(m)),
                (e, m) => e.or(m),
            };
            match end {
                Some(e) if self.max.is_none_or(|m| e <= m) => self.cursor = Some(e),
                _ => self.done = true,
            }
            let sql = self.dump(Some(first), window_max, None, true)?;
            self.current = match self.engine.query_chunks(&sql).await {
                Ok(c) => Some(c),
                Err(e) if e.is_missing_table() => {
                    self.done = true;
                    None
                }
                Err(e) => return Err(e.into()),
            };
        }
    }

    /// Encodes a chunk on the blocking pool (tens of milliseconds for an engine block: not
    /// on the runtime that serves writes).
    async fn encode(&mut self, rows: RowSet) -> Result<String, BackupError> {
        let measurement = self.table.measurement.clone();
        let tags = self.tags.clone();
        let fields: Vec<String> = self.fields.iter().map(|(k, _)| k.clone()).collect();
        let (out, points) = tokio::task::spawn_blocking(move || {
            let mut kinds = vec![ColumnKind::Time];
            kinds.extend(tags.iter().map(|t| ColumnKind::Tag(t.as_str())));
            kinds.extend(fields.iter().map(|k| ColumnKind::Field(k.as_str())));
            let mut out = String::new();
            let mut points = 0u64;
            for row in &rows.rows {
                if encode_row(&measurement, &kinds, row, &mut out) {
                    points += 1;
                }
            }
            (out, points)
        })
        .await
        .map_err(|e| BackupError::Internal(format!("encoding line protocol: {e}")))?;
        self.points += points;
        Ok(out)
    }

    /// The earliest stored time at or after `from` (and not after the end).
    async fn first_time_from(&self, from: Option<i64>) -> Result<Option<i64>, BackupError> {
        let sql = self.dump(from, self.max, Some(1), false)?;
        let rows = match self.engine.query(&sql).await {
            Ok(rows) => rows.rows,
            Err(e) if e.is_missing_table() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(rows.first().and_then(|r| row_time(r)))
    }

    fn dump(
        &self,
        min: Option<i64>,
        max: Option<i64>,
        limit: Option<u64>,
        columns: bool,
    ) -> Result<String, BackupError> {
        let t = &self.table;
        let read = DumpRead {
            table: TableRef::new(&t.database, &t.retention_policy, &t.measurement),
            merge: columns
                && self.engine.must_merge(
                    &t.database,
                    &t.retention_policy,
                    &t.measurement,
                    min,
                    max,
                ),
            tags: if columns {
                self.tags.clone()
            } else {
                Vec::new()
            },
            fields: if columns {
                self.fields.iter().map(|(_, c)| c.clone()).collect()
            } else {
                Vec::new()
            },
            min,
            max,
            limit,
        };
        read.to_sql()
            .map_err(|e| BackupError::Invalid(e.to_string()))
    }
}

/// The exclusive end of the window (of width `window`, aligned on the epoch) holding `t`;
/// `None` past the end of time.
fn window_end(t: i64, window: i64) -> Option<i64> {
    t.checked_sub(t.rem_euclid(window))?.checked_add(window)
}

fn row_time(row: &[hyperbyte_domain::query::Value]) -> Option<i64> {
    use hyperbyte_domain::query::Value;
    match row.first() {
        Some(Value::Time(t)) | Some(Value::Integer(t)) => Some(*t),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
