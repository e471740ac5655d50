//! The embedded chDB engine: one storage path per process, a pool of reader connections
//! and a few writer connections, each used by one statement at a time.
//!
//! chDB runs one engine per process bound to one path; several connections on that path
//! are independent sessions that run in parallel, while one connection runs one
//! statement at a time (an open insert stream blocks its connection entirely). Engine
//! calls block, so the async API runs them on tokio's blocking pool, bounded by the
//! number of connections through a semaphore.

use crate::error::ChdbError;
use crate::merge_state::MergeState;
use crate::rowbinary::{decode_all, decode_counted};
use crate::storage::Catalog;
use chdb_rust::connection::Connection;
use chdb_rust::format::OutputFormat;
use hyperbyte_domain::naming::{self, quote_ident, quote_string};
use hyperbyte_domain::query::Value;
use hyperbyte_ports::{QueryError, QueryPort, RowChunks, RowSet};
use parking_lot::{MappedMutexGuard, Mutex, MutexGuard};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Number of writer connections (inserts and DDL).
const WRITERS: usize = 2;

/// Session settings of the writer connections.
///
/// - `async_insert = 0`: an insert returns once its part is written (the caller
///   truncates its WAL afterwards).
/// - `optimize_on_insert = 0`: no in-block aggregation at insert time. Rows of one
///   (series, time) within a batch stay separate rows, in insertion order (the block
///   sort is stable), and merge field by field under `FINAL` exactly like rows of
///   different inserts. Measured: 1 M TSBS rows (10 tags, 10 fields) in 100k-row
///   batches went from 130–165k to about 250k rows/s on the shared 2-core machine,
///   level with a plain `MergeTree`.
/// - `max_partitions_per_insert_block = 0`: a batch the WAL acknowledged may span any
///   number of shard groups (a backfill of 101 weekly points is one ordinary `/write`);
///   the engine's default limit of 100 refused such a block for good, and with it every
///   later flush round.
/// - The [`SESSION_SETTINGS`] shared with readers.
const WRITER_SETTINGS: &[&str] = &[
    "SET async_insert = 0",
    "SET optimize_on_insert = 0",
    "SET max_partitions_per_insert_block = 0",
];

/// Session settings of every connection: statement texts are bounded by the server
/// (`http.max_body_bytes`, the DDL split of [`crate::layout`]), not by the engine's
/// 256 KiB parser default, which an `INSERT` column list of a measurement with a few
/// thousand long field names, or a `SELECT` over them, exceeds.
const SESSION_SETTINGS: &[&str] = &[
    "SET max_query_size = 67108864",
    "SET max_ast_elements = 2000000",
    "SET max_expanded_ast_elements = 2000000",
];

/// Session settings of the reader connections.
///
/// - `optimize_use_implicit_projections = 0`: the engine otherwise plans, for every read,
///   whether a table's implicit min/max/count projection could answer it, analysing a
///   second statement (`SELECT min(time), max(time), count() …`) with its older
///   interpreter. Translated InfluxQL never asks what that projection holds (its counts
///   are of fields, which may be null), so the planning is pure cost: 0.7 ms of a 6 ms
///   read of one host over one hour (engine alone, 120 alternating runs on 1,000 TSBS
///   hosts × 12 h), and 1.4 ms of a 5-host, 8-field read. The latest-time probe, the one
///   read here with a bare `count()`, took 22–26 ms on that table either way.
/// - `use_skip_indexes = 0`: a read of one host over one hour took 0.5 ms longer with the
///   engine weighing the time index ([`crate::layout::TIME_INDEX`]) of the few granules
///   the primary index had left (6.15 against 5.66 ms, medians of six alternating rounds
///   of 40 runs, engine alone). The statements the index serves ask for it in their own
///   `SETTINGS`.
const READER_SETTINGS: &[&str] = &[
    "SET optimize_use_implicit_projections = 0",
    "SET use_skip_indexes = 0",
];

/// Engine-wide settings of the background jobs of every table (merges and mutations).
///
/// A table's background job picks one part at a time; whenever it finds nothing to
/// start (every worker busy, or the next part not ready) it sleeps
/// `thread_sleep_seconds_if_nothing_to_do` (0.1 s by default) plus a random
/// `task_sleep_seconds_when_no_work_random_part` (0 to 1 s) before it looks again. A
/// `DELETE` is a mutation of every part of its table, so with the defaults it took
/// about 150 ms a part: 45 s on a table with 300 hourly partitions, however few rows
/// it removed. With 10 ms and 10 ms it takes about 2 s (measured on the engine alone,
/// 300 parts, 2 cores). An idle table backs off from 10 ms by ×1.1 per empty look, to
/// the default ceiling of 600 s, so idle tables cost no more than before.
const BACKGROUND_JOB_ARGS: &[&str] = &[
    "--background_processing_pool_thread_sleep_seconds_if_nothing_to_do=0.01",
    "--background_processing_pool_task_sleep_seconds_when_no_work_random_part=0.01",
];

/// How a read competes with the other statements of the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// A query someone waits on.
    Normal,
    /// Work no client waits on (the tier's warm-up): its engine threads yield the CPU to
    /// every other thread (`os_thread_priority = 19`, a nice value; the engine applies it
    /// only with `CAP_SYS_NICE`, so a server without that capability runs the warm-up at
    /// normal priority: the figures below were taken as root). Measured on TSBS data
    /// right after a restart, one host over one hour from storage while the warm-up
    /// read 864k rows: 17–26 ms a query with the warm-up at normal priority, 7–11 ms in
    /// the background (5–7 ms with no warm-up). The engine's query `priority`, which
    /// pauses a read outright while others run, was no better here, and a long export
    /// would have held the paused read, and its reader connection, for as long as it
    /// ran.
    Background,
}

impl Priority {
    /// The statements that put a reader connection at this priority.
    fn settings(self) -> &'static str {
        match self {
            Priority::Normal => "SET os_thread_priority = 0",
            Priority::Background => "SET os_thread_priority = 19",
        }
    }
}

/// How the engine is opened: limits on every statement of the reader connections (0 = the
/// engine's default, none), limits on the engine as a whole, and the priority of its
/// background merges.
///
/// The limits stop the engine's work itself: a query the HTTP layer gave up on (its
/// timeout, a client gone) keeps its reader connection only until the engine reaches them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineSettings {
    /// `max_execution_time`, seconds.
    pub max_execution_secs: u64,
    /// `max_memory_usage`, bytes.
    pub max_memory_bytes: u64,
    /// `max_result_rows` (an error past it).
    pub max_result_rows: u64,
    /// `max_memory_usage_for_user`: every reader query together (they all run as one
    /// user), bytes.
    pub max_total_memory_bytes: u64,
    /// `max_server_memory_usage`: everything the engine does together (queries, the
    /// flush's inserts, background merges, caches), bytes. Past it a statement fails with
    /// code 241; an insert refused so is retried by the next flush round.
    pub max_engine_memory_bytes: u64,
    /// Nice value of the engine's background merges (0 = the priority of every other
    /// thread, up to 19): how far they yield the CPU to writes, the flush and queries
    /// (see `merge_priority`).
    pub merge_nice: u8,
}

impl EngineSettings {
    fn session_settings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.max_execution_secs > 0 {
            out.push(format!(
                "SET max_execution_time = {}, timeout_overflow_mode = 'throw'",
                self.max_execution_secs
            ));
        }
        if self.max_memory_bytes > 0 {
            out.push(format!("SET max_memory_usage = {}", self.max_memory_bytes));
        }
        if self.max_total_memory_bytes > 0 {
            out.push(format!(
                "SET max_memory_usage_for_user = {}",
                self.max_total_memory_bytes
            ));
        }
        if self.max_result_rows > 0 {
            out.push(format!(
                "SET max_result_rows = {}, result_overflow_mode = 'throw'",
                self.max_result_rows
            ));
        }
        out
    }
}

/// The process-wide engine instance, if one is open.
static ACTIVE: Mutex<Option<(PathBuf, Weak<ChdbEngine>)>> = Mutex::new(None);

/// A set of connections, each guarded by a mutex, with a semaphore bounding how many
/// blocking tasks wait for them.
struct Pool {
    /// `None` once the engine is shut down.
    conns: Vec<Mutex<Option<Connection>>>,
    permits: Arc<Semaphore>,
    next: AtomicUsize,
}

impl Pool {
    /// Opens `n` connections; `args` (engine-wide `--key=value` settings) take effect on
    /// the process's first connection only.
    fn open(path: &Path, n: usize, settings: &[&str], args: &[String]) -> Result<Self, ChdbError> {
        let mut argv = vec![format!("--path={}", path.display())];
        argv.extend(args.iter().cloned());
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let mut conns = Vec::with_capacity(n);
        for _ in 0..n {
            let conn = Connection::open(&argv).map_err(|e| match ChdbError::from(e) {
                e @ ChdbError::PathInUse { .. } => e,
                other => ChdbError::Connect {
                    path: path.to_path_buf(),
                    reason: format!(
                        "{other} (is another process using this path? the engine prints the reason on stderr)"
                    ),
                },
            })?;
            for s in SESSION_SETTINGS.iter().chain(settings) {
                conn.query(s, OutputFormat::TabSeparated)?;
            }
            conns.push(Mutex::new(Some(conn)));
        }
        Ok(Pool {
            permits: Arc::new(Semaphore::new(n)),
            conns,
            next: AtomicUsize::new(0),
        })
    }

    /// Takes a free connection, or waits for one (blocking).
    fn checkout(&self) -> Result<MappedMutexGuard<'_, Connection>, ChdbError> {
        let n = self.conns.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let guard = (0..n)
            .find_map(|i| self.conns[(start + i) % n].try_lock())
            .unwrap_or_else(|| self.conns[start % n].lock());
        MutexGuard::try_map(guard, Option::as_mut).map_err(|_| ChdbError::ShutDown)
    }

    /// Closes every connection, waiting up to `wait` for each running statement.
    /// Returns how many could not be closed.
    fn close(&self, wait: Duration) -> usize {
        let mut stuck = 0;
        for c in &self.conns {
            match c.try_lock_for(wait) {
                Some(mut g) => drop(g.take()),
                None => stuck += 1,
            }
        }
        stuck
    }
}

/// Which pool a call runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Queries (reader pool).
    Read,
    /// Inserts and DDL (writer pool).
    Write,
}

/// The chDB engine of this process.
pub struct ChdbEngine {
    path: PathBuf,
    catalog: Arc<Catalog>,
    merge: Arc<MergeState>,
    readers: Arc<Pool>,
    writers: Arc<Pool>,
    /// The start-up upgrade of older tables (see [`ChdbEngine::finish_upgrade`]).
    upgrade: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for ChdbEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChdbEngine")
            .field("path", &self.path)
            .field("readers", &self.readers.conns.len())
            .field("writers", &self.writers.conns.len())
            .finish()
    }
}

impl ChdbEngine {
    /// Opens the engine on `path` (created if missing) with `readers` reader connections
    /// (at least one; about one per core is right) and two writer connections.
    ///
    /// chDB serves one storage path per process: while an engine is alive, opening the
    /// same path again returns that engine (its reader count unchanged), and opening
    /// another path fails with [`ChdbError::PathInUse`]. Blocking: call it at start-up or
    /// from `spawn_blocking`.
    pub fn open(path: &Path, readers: usize) -> Result<Arc<Self>, ChdbError> {
        Self::open_with_settings(path, readers, EngineSettings::default())
    }

    /// [`ChdbEngine::open`] with `settings`: per-statement limits on the reader
    /// connections, the engine's memory bound, the merges' priority.
    pub fn open_with_settings(
        path: &Path,
        readers: usize,
        settings: EngineSettings,
    ) -> Result<Arc<Self>, ChdbError> {
        std::fs::create_dir_all(path)?;
        let path = path.canonicalize()?;
        let mut active = ACTIVE.lock();
        if let Some((p, weak)) = active.as_ref() {
            if let Some(engine) = weak.upgrade() {
                if *p == path {
                    return Ok(engine);
                }
                return Err(ChdbError::PathInUse {
                    active: p.clone(),
                    requested: path,
                });
            }
        }
        // Handlers for SIGSEGV, SIGTSTP etc. would take over the host's signals.
        chdb_rust::runtime::signal_handlers(false);
        let limit_settings = settings.session_settings();
        let reader_settings: Vec<&str> = READER_SETTINGS
            .iter()
            .copied()
            .chain(limit_settings.iter().map(String::as_str))
            .collect();
        let mut engine_args: Vec<String> =
            BACKGROUND_JOB_ARGS.iter().map(|a| a.to_string()).collect();
        if settings.merge_nice > 0 {
            engine_args.push(crate::merge_priority::engine_arg(settings.merge_nice));
        }
        if settings.max_engine_memory_bytes > 0 {
            engine_args.push(format!(
                "--max_server_memory_usage={}",
                settings.max_engine_memory_bytes
            ));
        }
        let readers = Pool::open(&path, readers.max(1), &reader_settings, &engine_args)?;
        let writers = Pool::open(&path, WRITERS, WRITER_SETTINGS, &[])?;
        let engine = Arc::new(ChdbEngine {
            path: path.clone(),
            catalog: Arc::new(Catalog::default()),
            merge: Arc::new(MergeState::open(&path)),
            readers: Arc::new(readers),
            writers: Arc::new(writers),
            upgrade: Mutex::new(None),
        });
        engine.mark_untracked_tables()?;
        Self::upgrade_in_background(&engine);
        let weak = Arc::downgrade(&engine);
        crate::merge_priority::watch(settings.merge_nice, move || weak.strong_count() > 0);
        *active = Some((path, Arc::downgrade(&engine)));
        // After connecting: the engine registers exit-time destructors while it starts,
        // and the hook must run before them.
        register_exit_hook();
        tracing::info!(path = %engine.path.display(), readers = engine.readers.conns.len(), "chDB engine open");
        Ok(engine)
    }

    /// Shuts the engine down for the rest of the process: closes every connection
    /// (waiting for running statements) and stops the engine's background threads.
    /// Later calls on this engine fail with [`ChdbError::ShutDown`], and no engine can be
    /// opened again in this process.
    ///
    /// Call it last in a graceful shutdown: a process exiting while a background merge
    /// runs can crash in the engine's static destructors. The crate also registers an
    /// `atexit` hook that does this for a process that exits without calling it.
    pub fn shutdown(&self) -> Result<(), ChdbError> {
        self.shutdown_within(Duration::from_secs(30))
    }

    /// [`shutdown`](Self::shutdown), waiting at most `wait` for each busy connection.
    fn shutdown_within(&self, wait: Duration) -> Result<(), ChdbError> {
        let stuck = self.readers.close(wait) + self.writers.close(wait);
        {
            let mut active = ACTIVE.lock();
            if active.as_ref().is_some_and(|(p, _)| *p == self.path) {
                *active = None;
            }
        }
        if stuck > 0 {
            return Err(ChdbError::Task(format!(
                "{stuck} connection(s) still busy; engine not stopped"
            )));
        }
        chdb_rust::runtime::shutdown().map_err(|e| match e {
            chdb_rust::error::Error::Unknown => ChdbError::Task(
                "the engine did not stop every thread (it is closed for this process anyway)"
                    .into(),
            ),
            other => other.into(),
        })
    }

    /// The table cache of [`crate::ChdbStorage`].
    pub(crate) fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// Without a marks file, tables written by a version that did not track overwrites
    /// may hold several versions of a point: mark all their partitions (the storage's
    /// upkeep merges them one by one), then save the marks.
    fn mark_untracked_tables(&self) -> Result<(), ChdbError> {
        if !self.merge.had_no_file() {
            return Ok(());
        }
        // On a writer: reader sessions carry the per-query limits, which a catalog scan
        // at start-up must not trip over.
        let widths = self.query_blocking(
            Role::Write,
            "SELECT database, name, partition_key FROM system.tables WHERE startsWith(database, 'hb_')",
        )?;
        let parts = self.query_blocking(
            Role::Write,
            "SELECT DISTINCT database, table, partition FROM system.parts WHERE active AND startsWith(database, 'hb_')",
        )?;
        let text = |v: &hyperbyte_domain::query::Value| match v {
            hyperbyte_domain::query::Value::String(s) => s.clone(),
            _ => String::new(),
        };
        let mut width_of = std::collections::HashMap::new();
        for r in &widths.rows {
            if let Some(w) = crate::layout::parse_partition_ns(&text(&r[2])) {
                width_of.insert((text(&r[0]), text(&r[1])), w);
            }
        }
        for r in &parts.rows {
            let key = (text(&r[0]), text(&r[1]));
            if let (Some(&w), Ok(p)) = (width_of.get(&key), text(&r[2]).parse::<i64>()) {
                self.merge.mark(&key, w, p);
            }
        }
        self.merge.persist()?;
        Ok(())
    }

    /// Runs [`Self::upgrade_older_tables`] on a thread of its own: the first start
    /// after an upgrade alters every table once, which must not delay the start of a
    /// server holding many (until a table is altered its merges are as before).
    fn upgrade_in_background(engine: &Arc<Self>) {
        let weak = Arc::downgrade(engine);
        let spawned = std::thread::Builder::new()
            .name("hb-chdb-upgrade".into())
            .spawn(move || {
                let Some(engine) = weak.upgrade() else {
                    return;
                };
                if let Err(e) = engine.upgrade_older_tables() {
                    tracing::warn!(error = %e, "cannot list the tables to upgrade their settings; the next start retries");
                }
            });
        match spawned {
            Ok(handle) => *engine.upgrade.lock() = Some(handle),
            Err(e) => {
                tracing::warn!(error = %e, "cannot start the table upgrade; the next start retries")
            }
        }
    }

    /// Waits until the start-up upgrade of older tables (started by `open` on its own
    /// thread) has ended; returns at once after the first call.
    ///
    /// For a process that may exit soon after opening the engine: the engine registers
    /// exit-time destructors lazily, while statements run, after this crate's exit hook,
    /// so they run first at exit, and a statement still running on the upgrade thread then
    /// crashed the process (SIGSEGV, measured in a test that ended within 0.1 s of the
    /// open). [`shutdown`](Self::shutdown) does not need it: it waits for running
    /// statements before the process exits, and the upgrade's next statement then fails.
    pub fn finish_upgrade(&self) {
        let handle = self.upgrade.lock().take();
        if let Some(handle) = handle {
            if handle.join().is_err() {
                tracing::warn!("the table upgrade panicked; the next start retries");
            }
        }
    }

    /// Gives tables created before a setting of [`crate::layout::UPGRADED_SETTINGS`] was
    /// part of [`crate::layout::TABLE_SETTINGS`] that setting, and tables created before
    /// [`crate::layout::TIME_INDEX`] the index; a no-op once every table has them all. A
    /// table that cannot be altered (dropped meanwhile) is skipped; the next start tries
    /// it again.
    pub fn upgrade_older_tables(&self) -> Result<(), ChdbError> {
        for (setting, effect) in crate::layout::UPGRADED_SETTINGS {
            let lacking = format!("position(engine_full, {}) = 0", quote_string(setting));
            self.alter_older_tables(&lacking, &format!("MODIFY SETTING {setting}"), effect)?;
        }
        // The index of the granules' times: parts written from now on carry it.
        let lacking = format!(
            "(database, name) NOT IN (SELECT database, table FROM \
             system.data_skipping_indices WHERE name = {})",
            quote_string(crate::layout::TIME_INDEX_NAME)
        );
        let effect =
            "parts of the table written from now on carry the index of their granules' times";
        self.alter_older_tables(
            &lacking,
            &format!("ADD {}", crate::layout::TIME_INDEX),
            effect,
        )
    }

    /// Applies `change` (the text after `ALTER TABLE name`) to every table of the server
    /// for which `lacking` (a condition on `system.tables`) holds, and logs `effect` for
    /// each; a table that cannot be altered is left for the next start.
    fn alter_older_tables(
        &self,
        lacking: &str,
        change: &str,
        effect: &str,
    ) -> Result<(), ChdbError> {
        let tables = self.query_blocking(
            Role::Write,
            &format!(
                "SELECT database, name FROM system.tables WHERE startsWith(database, 'hb_') \
                 AND engine LIKE '%MergeTree' AND {lacking}"
            ),
        )?;
        for r in &tables.rows {
            let (Some(Value::String(db)), Some(Value::String(table))) = (r.first(), r.get(1))
            else {
                continue;
            };
            let alter = format!(
                "ALTER TABLE {}.{} {change}",
                quote_ident(db),
                quote_ident(table)
            );
            match self.query_blocking(Role::Write, &alter) {
                Ok(_) => tracing::info!(database = %db, table = %table, "{effect}"),
                Err(e) => {
                    tracing::warn!(database = %db, table = %table, error = %e, change, "cannot alter the table; the next start retries");
                }
            }
        }
        Ok(())
    }

    /// The overwrite tracker of [`crate::ChdbStorage`].
    pub(crate) fn merge_state(&self) -> &Arc<MergeState> {
        &self.merge
    }

    /// The (canonical) storage path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn pool(&self, role: Role) -> &Arc<Pool> {
        match role {
            Role::Read => &self.readers,
            Role::Write => &self.writers,
        }
    }

    /// Runs `f` on a connection of the given pool, on the current thread (blocking).
    pub(crate) fn with_conn_blocking<R>(
        &self,
        role: Role,
        f: impl FnOnce(&mut Connection) -> Result<R, ChdbError>,
    ) -> Result<R, ChdbError> {
        let mut conn = self.pool(role).checkout()?;
        let out = f(&mut conn);
        drained_after_failure(&conn, out)
    }

    /// Runs `f` on a connection of the given pool on tokio's blocking pool, after
    /// waiting (asynchronously) for a free connection.
    /// `view` of the table holding `measurement` in `database`.`rp`, from the table cache,
    /// else loaded into it; nothing when there is no such table.
    async fn table_view<T: Default + Send + 'static>(
        &self,
        (database, rp, measurement): (&str, &str, &str),
        view: crate::storage::TableView<T>,
    ) -> Result<T, QueryError> {
        let key = (
            naming::database_name(database),
            naming::table_name(rp, measurement),
        );
        if let Some(v) = crate::storage::cached_view(&self.catalog, &key, view) {
            return Ok(v);
        }
        let catalog = Arc::clone(&self.catalog);
        Ok(self
            .run(Role::Read, move |conn| {
                crate::storage::load_view(conn, &catalog, &key, view)
            })
            .await?)
    }

    pub(crate) async fn run<R, F>(&self, role: Role, f: F) -> Result<R, ChdbError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, ChdbError> + Send + 'static,
    {
        let pool = Arc::clone(self.pool(role));
        let permit = Arc::clone(&pool.permits)
            .acquire_owned()
            .await
            .map_err(|e| ChdbError::Task(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut conn = pool.checkout()?;
            let out = f(&mut conn);
            drained_after_failure(&conn, out)
        })
        .await
        .map_err(|e| ChdbError::Task(e.to_string()))?
    }

    /// Runs one statement on a connection of `role` and decodes its result (blocking).
    pub fn query_blocking(&self, role: Role, sql: &str) -> Result<RowSet, ChdbError> {
        self.with_conn_blocking(role, |c| run_query(c, sql))
    }

    /// Runs one statement and returns its result, reading the output in chunks (for large
    /// results: lower peak memory and, measured, about half the time for 1 M rows).
    pub fn query_streaming_blocking(&self, role: Role, sql: &str) -> Result<RowSet, ChdbError> {
        self.with_conn_blocking(role, |c| run_query_stream(c, sql))
    }

    /// Runs one statement without a result on a writer connection (blocking).
    pub fn execute_blocking(&self, sql: &str) -> Result<(), ChdbError> {
        self.with_conn_blocking(Role::Write, |c| {
            c.query(sql, OutputFormat::TabSeparated)?;
            Ok(())
        })
    }

    /// Runs one statement without a result on a writer connection.
    pub async fn execute(&self, sql: &str) -> Result<(), ChdbError> {
        let sql = sql.to_string();
        self.run(Role::Write, move |c| {
            c.query(&sql, OutputFormat::TabSeparated)?;
            Ok(())
        })
        .await
    }

    /// Runs one query on a reader connection and returns its rows. A garbled result
    /// (see [`ChdbError::Garbled`]) is asked for once more.
    pub async fn query_rows(&self, sql: &str) -> Result<RowSet, ChdbError> {
        let sql: Arc<str> = Arc::from(sql);
        let first = Arc::clone(&sql);
        match self.run(Role::Read, move |c| run_query(c, &first)).await {
            Err(ChdbError::Garbled(why)) => {
                tracing::warn!(%sql, %why, "garbled engine result; reading again");
                self.run(Role::Read, move |c| run_query(c, &sql)).await
            }
            other => other,
        }
    }

    /// Runs `sql` on a reader and sends each decoded chunk of its output as the engine
    /// hands it out (the engine's streaming API, one block at a time) into a channel of
    /// one: the reader stays busy until the receiver has taken every chunk or is dropped
    /// (then the statement is cancelled at the next chunk).
    pub async fn query_chunks_rx(
        &self,
        sql: &str,
        priority: Priority,
    ) -> Result<tokio::sync::mpsc::Receiver<Result<RowSet, ChdbError>>, ChdbError> {
        let pool = Arc::clone(self.pool(Role::Read));
        let permit = Arc::clone(&pool.permits)
            .acquire_owned()
            .await
            .map_err(|e| ChdbError::Task(e.to_string()))?;
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let sql = sql.to_string();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let streamed = (|| {
                let mut conn = pool.checkout()?;
                if priority == Priority::Normal {
                    return send_chunks(&mut conn, &sql, &tx);
                }
                conn.query(priority.settings(), OutputFormat::TabSeparated)?;
                let sent = send_chunks(&mut conn, &sql, &tx);
                // The connection goes back to the pool at normal priority, whatever the
                // read's outcome.
                conn.query(Priority::Normal.settings(), OutputFormat::TabSeparated)?;
                sent
            })();
            if let Err(e) = streamed {
                let _ = tx.blocking_send(Err(e));
            }
        });
        Ok(rx)
    }

    /// Like [`query_rows`](Self::query_rows), reading the output in chunks.
    pub async fn query_streaming(&self, sql: &str) -> Result<RowSet, ChdbError> {
        let sql = sql.to_string();
        self.run(Role::Read, move |c| run_query_stream(c, &sql))
            .await
    }
}

/// Registers (once per process) an `atexit` hook that closes the live engine's
/// connections and stops the engine's threads before the C++ runtime destroys its
/// globals: a background merge still running then crashed the process at exit (SIGSEGV
/// in a `MergeMutate` thread, measured). Hooks run in reverse order of registration,
/// and the engine library registered its destructors when it was loaded, before this.
fn register_exit_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    extern "C" {
        fn atexit(cb: extern "C" fn()) -> std::os::raw::c_int;
    }
    extern "C" fn on_exit() {
        let _ = std::panic::catch_unwind(|| {
            let engine = ACTIVE.lock().as_ref().and_then(|(_, w)| w.upgrade());
            match engine {
                Some(e) => {
                    // Other threads may still run statements at exit: wait briefly.
                    let _ = e.shutdown_within(Duration::from_millis(200));
                }
                None => {
                    let _ = chdb_rust::runtime::shutdown();
                }
            }
        });
    }
    ONCE.call_once(|| {
        // SAFETY: `atexit` is the C library's; `on_exit` is a plain `extern "C"` function
        // that never unwinds (panics are caught).
        let rc = unsafe { atexit(on_exit) };
        if rc != 0 {
            tracing::warn!("could not register the chDB exit hook");
        }
    });
}

/// Passes `out` through; when it is an engine error, first takes the failed statement's
/// leftover output out of `conn` (see [`drain`]).
fn drained_after_failure<R>(conn: &Connection, out: Result<R, ChdbError>) -> Result<R, ChdbError> {
    if matches!(out, Err(ChdbError::Engine { .. })) {
        drain(conn);
    }
    out
}

/// Runs a throwaway statement on `conn` after one failed.
///
/// chDB keeps the output a failed statement had produced in its connection and hands it
/// out at the start of the *next* statement's result (measured on 26.7: after a result
/// row limit, 511 KiB of the failed query's rows came before the 41 bytes of a
/// `count()`; a memory limit, a timeout and a `throwIf` did the same). Under overload
/// this surfaced as `truncated result` answers to plain queries. The throwaway statement
/// carries the leftover away; the one after it is clean.
fn drain(conn: &Connection) {
    if let Ok(r) = conn.query("SELECT 1", OutputFormat::TabSeparated) {
        if r.data_ref().len() > 2 {
            tracing::debug!(
                bytes = r.data_ref().len(),
                "dropped a failed statement's leftover output"
            );
        }
    }
}

/// Runs `sql` and decodes the RowBinary output.
fn run_query(conn: &Connection, sql: &str) -> Result<RowSet, ChdbError> {
    let started = std::time::Instant::now();
    // A failure is drained by the caller ([`drained_after_failure`]).
    let result = conn.query(sql, OutputFormat::RowBinaryWithNamesAndTypes)?;
    tracing::debug!(%sql, elapsed = ?started.elapsed(), "chDB query");
    let started = std::time::Instant::now();
    let rows = decode_counted(result.data_ref(), result.rows_read(), result.bytes_read())?;
    let decode = started.elapsed();
    if decode > Duration::from_millis(100) {
        tracing::debug!(?decode, rows = rows.rows.len(), "slow result decode");
    }
    Ok(rows)
}

/// Streams `sql`'s rows into `tx` chunk by chunk; stops early when the receiver is gone.
fn send_chunks(
    conn: &mut Connection,
    sql: &str,
    tx: &tokio::sync::mpsc::Sender<Result<RowSet, ChdbError>>,
) -> Result<(), ChdbError> {
    let mut stream = conn.query_stream(sql, OutputFormat::RowBinaryWithNamesAndTypes)?;
    while let Some(chunk) = stream.next_chunk()? {
        let rows = decode_all(chunk.data_ref())?;
        if tx.blocking_send(Ok(rows)).is_err() {
            break;
        }
    }
    Ok(())
}

/// Runs `sql` through the engine's streaming query API. Each chunk the engine hands out
/// is a complete `RowBinaryWithNamesAndTypes` output (header included) of whole rows.
fn run_query_stream(conn: &mut Connection, sql: &str) -> Result<RowSet, ChdbError> {
    let _span = tracing::debug_span!("chDB streaming query", %sql).entered();
    // A failure to start is drained by the caller ([`drained_after_failure`]).
    let mut stream = conn.query_stream(sql, OutputFormat::RowBinaryWithNamesAndTypes)?;
    let mut out: Option<RowSet> = None;
    while let Some(chunk) = stream.next_chunk()? {
        let part = decode_all(chunk.data_ref())?;
        match out.as_mut() {
            None => out = Some(part),
            Some(o) if o.columns == part.columns => o.rows.extend(part.rows),
            Some(_) => {
                return Err(ChdbError::Decode(
                    "result chunks disagree on their columns".into(),
                ))
            }
        }
    }
    drop(stream);
    match out {
        Some(o) => Ok(o),
        // No chunk at all (no rows): run the query materialised to learn its columns.
        None => match run_query(conn, &format!("SELECT * FROM ({sql}) LIMIT 0")) {
            Ok(rows) => Ok(rows),
            // The failure is swallowed here, so it is drained here.
            Err(e) => {
                let _ = drained_after_failure(conn, Err::<RowSet, _>(e));
                Ok(RowSet::default())
            }
        },
    }
}

/// The chunks of [`ChdbEngine::query_chunks_rx`] as the port hands them out.
#[derive(Debug)]
struct Chunks(tokio::sync::mpsc::Receiver<Result<RowSet, ChdbError>>);

#[async_trait::async_trait]
impl RowChunks for Chunks {
    async fn next_chunk(&mut self) -> Option<Result<RowSet, QueryError>> {
        self.0.recv().await.map(|r| r.map_err(QueryError::from))
    }
}

#[async_trait::async_trait]
impl QueryPort for ChdbEngine {
    async fn query(&self, sql: &str) -> Result<RowSet, QueryError> {
        Ok(self.query_rows(sql).await?)
    }

    async fn query_chunks(&self, sql: &str) -> Result<Box<dyn RowChunks>, QueryError> {
        Ok(Box::new(Chunks(
            self.query_chunks_rx(sql, Priority::Normal).await?,
        )))
    }

    async fn query_chunks_in_background(
        &self,
        sql: &str,
    ) -> Result<Box<dyn RowChunks>, QueryError> {
        Ok(Box::new(Chunks(
            self.query_chunks_rx(sql, Priority::Background).await?,
        )))
    }

    async fn table_columns(
        &self,
        database: &str,
        rp: &str,
        measurement: &str,
    ) -> Result<Vec<String>, QueryError> {
        let view = crate::storage::column_names;
        self.table_view((database, rp, measurement), view).await
    }

    async fn leading_key_columns(
        &self,
        database: &str,
        rp: &str,
        measurement: &str,
    ) -> Result<Vec<String>, QueryError> {
        let view = crate::storage::leading_key;
        self.table_view((database, rp, measurement), view).await
    }

    async fn latest_time(
        &self,
        database: &str,
        rp: &str,
        measurement: &str,
        max: Option<i64>,
    ) -> Result<Option<i64>, QueryError> {
        use hyperbyte_domain::query::Value;
        let sql = latest_time_sql(database, rp, measurement, max);
        match self.query(&sql).await {
            Ok(rows) => match rows.rows.first().map(Vec::as_slice) {
                Some([_, Value::Unsigned(0)]) | Some([_, Value::Integer(0)]) => Ok(None),
                Some([Value::Integer(t), _]) => Ok(Some(*t)),
                other => Err(QueryError::Decode(format!(
                    "unexpected latest-time row {other:?}"
                ))),
            },
            Err(e) if e.is_missing_table() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn storage_stamp(&self) -> Result<Option<String>, QueryError> {
        use sha2::Digest as _;
        let rows = self.query_rows(STORAGE_STAMP_SQL).await?;
        let mut digest = sha2::Sha256::new();
        for row in &rows.rows {
            digest.update(format!("{row:?}\n").as_bytes());
        }
        Ok(Some(format!(
            "{} partitions {:x}",
            rows.rows.len(),
            digest.finalize()
        )))
    }

    fn must_merge(
        &self,
        database: &str,
        rp: &str,
        measurement: &str,
        min: Option<i64>,
        max: Option<i64>,
    ) -> bool {
        let key = (
            naming::database_name(database),
            naming::table_name(rp, measurement),
        );
        self.merge.must_merge(&key, min, max)
    }
}

/// What [`QueryPort::storage_stamp`] digests: per partition of every table outside the
/// engine's own databases, the range of insert block numbers its active parts cover and
/// the newest mutation applied to them. An insert adds a block number, a `DELETE` (a
/// mutation) raises the mutation, a dropped partition or table disappears; a merge keeps
/// all three (its part covers the union of the ranges, at the newest mutation of its
/// sources; an unmutated part's `data_version` is its first block number, hence the
/// `if`).
const STORAGE_STAMP_SQL: &str = "SELECT database, table, partition_id, \
     min(min_block_number), max(max_block_number), \
     max(if(data_version > max_block_number, data_version, 0)) \
     FROM system.parts WHERE active \
     AND database NOT IN ('system', 'INFORMATION_SCHEMA', 'information_schema') \
     GROUP BY database, table, partition_id ORDER BY database, table, partition_id";

/// The latest stored time of a table at or before `max`, and its row count (a `max` over
/// no rows is 0, so the count tells "no rows" apart). Aggregated as nanoseconds, not as
/// `DateTime64`, as the translator's time aggregates are (`sql.rs`, `TIME_NS`).
fn latest_time_sql(database: &str, rp: &str, measurement: &str, max: Option<i64>) -> String {
    let bound = max.map_or(String::new(), |m| {
        format!(" WHERE time <= fromUnixTimestamp64Nano(toInt64({m}))")
    });
    format!(
        "SELECT max(toUnixTimestamp64Nano(time)), count() FROM {}{bound}",
        naming::qualified_table(database, rp, measurement)
    )
}

#[cfg(test)]
mod sql_tests {
    use super::latest_time_sql;

    #[test]
    fn latest_time_probe() {
        insta::assert_snapshot!(
            "latest_time_unbounded",
            latest_time_sql("db", "autogen", "cpu", None)
        );
        insta::assert_snapshot!(
            "latest_time_bounded",
            latest_time_sql("db", "autogen", "cpu", Some(1_600_000_000_000_000_000))
        );
    }
}
