//! Composition root: opens the stores, wires adapters into services, runs the server and
//! shuts it down in order.
//!
//! Start-up order matters: metadata, WAL and storage open first; the recent-data tier's
//! snapshot from the last clean shutdown is taken and installed before anything else can
//! change stored data; the WAL is replayed into storage (recovery) before the HTTP
//! listener accepts anything, so the first query after a restart already sees every
//! acknowledged write. The shutdown runs the other way: listeners, background jobs, the
//! last flush, then the tier's snapshot, then the engine.

use crate::config::Config;
use anyhow::{Context, Result};
use hyperbyte_adapter_chdb::{ChdbEngine, ChdbStorage, EngineSettings};
use hyperbyte_adapter_http::{AdmissionConfig, MemoryWatch, QueryGate, ServeConfig};
use hyperbyte_adapter_rocksdb::{
    BatchingConfig, BatchingWal, FileTierSnapshot, RocksDbMetadata, RocksDbWal,
};
use hyperbyte_application::backup::BackupService;
use hyperbyte_application::cluster::{
    first_sequence_after, AntiEntropy, StorageChanges, StorageEffects, WriteReplicator,
};
use hyperbyte_application::hot::{
    keep_in_slot, keep_learning_older_values, restore_from_slot, HotAdmin, HotTier, Restored,
    TierFeed, WarmConfig,
};
use hyperbyte_application::query::QueryService;
use hyperbyte_application::stats::ListenerRegistry;
use hyperbyte_application::{
    ContinuousQueryService, FlushConfig, FlushService, IngestionService, Limits, RetentionService,
    RunGate, WriteBacklog,
};
use hyperbyte_ports::{
    Clock, HeldPointsPort, MetadataPort, PointsSinkPort, StorageAdminPort, SystemClock,
    TierSnapshotPort, WalPort,
};
use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;
use tracing::info;
use tracing::Instrument as _;

/// The stores a server runs on, opened in start-up order.
struct Stores {
    meta: Arc<dyn MetadataPort>,
    wal: Arc<dyn WalPort>,
    held: Arc<dyn HeldPointsPort>,
    engine: Arc<ChdbEngine>,
    storage: Arc<ChdbStorage>,
}

/// Where flushed points go and what drops and deletes go through: storage, behind the
/// recent-data tier when it is enabled (the flush feeds the tier behind storage, storage
/// drops clear it, queries read it first).
struct StorageStack {
    sink: Arc<dyn PointsSinkPort>,
    admin: Arc<dyn StorageAdminPort>,
    hot: Option<Arc<HotTier>>,
    /// Feeds `hot` from the flush and ahead of it.
    feed: Option<Arc<TierFeed>>,
}

/// The application services, wired.
struct Services {
    flush: Arc<FlushService>,
    ingest: Arc<IngestionService>,
    query: Arc<QueryService>,
    auth: Arc<hyperbyte_application::auth::AuthService>,
    backup: Arc<BackupService>,
    /// The Graphite, OpenTSDB, collectd and UDP listeners' counters.
    listeners: Arc<ListenerRegistry>,
    prom: Arc<hyperbyte_application::prom::PromService>,
}

/// Opens a replacement WAL once the data directory is claimed.
pub(crate) type WalOpener = Box<dyn FnOnce(&Config) -> Result<Arc<dyn WalPort>> + Send>;

/// Ports supplied by the embedder instead of the built-in adapters (see
/// [`crate::ServerBuilder`]); `None` keeps the default.
#[derive(Default)]
pub(crate) struct Replacements {
    pub(crate) wal: Option<WalOpener>,
    pub(crate) held: Option<Arc<dyn HeldPointsPort>>,
    pub(crate) meta: Option<Arc<dyn MetadataPort>>,
    pub(crate) clock: Option<Arc<dyn Clock>>,
    pub(crate) on_listening: Option<Box<dyn FnOnce(std::net::SocketAddr) + Send>>,
}

/// Runs the server until `shutdown` completes (the binary passes [`shutdown_signal`]).
pub(crate) async fn run(
    cfg: Config,
    mut replacements: Replacements,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<()> {
    let on_listening = replacements.on_listening.take();
    // Held until the end: no second server may open these stores meanwhile.
    let _data_dir = crate::datadir::claim(&cfg.data_dir)?;
    info!(data_dir = %cfg.data_dir.display(), "starting hyperbyted");
    let clock: Arc<dyn Clock> = replacements
        .clock
        .clone()
        .unwrap_or_else(|| Arc::new(SystemClock));
    let stores = open_stores(&cfg, replacements)?;
    let engine = stores.engine.clone();
    let out = run_on(&cfg, stores, clock, on_listening, shutdown).await;
    // Stop the engine's background threads (merges, the start-up upgrade's statements)
    // before the process exits, also after a failed start: exiting while the engine runs
    // a statement can crash inside it.
    if let Err(e) = engine.shutdown() {
        tracing::warn!(error = %e, "chDB engine shutdown reported a problem");
    }
    if out.is_ok() {
        info!("stopped cleanly");
    }
    out
}

/// Runs the server on opened stores until `shutdown` completes, then stops everything
/// but the engine, which [`run`] stops on every outcome.
async fn run_on(
    cfg: &Config,
    mut stores: Stores,
    clock: Arc<dyn Clock>,
    on_listening: Option<Box<dyn FnOnce(std::net::SocketAddr) + Send>>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<()> {
    // Before anything (cluster mode's log included) can change stored data.
    let stack = storage_stack(cfg, &stores);
    let tier_slot: Arc<dyn TierSnapshotPort> =
        Arc::new(FileTierSnapshot::new(cfg.tier_snapshot_path()));
    restore_tier(
        stack.hot.as_ref().filter(|_| cfg.hot_tier.keep_on_restart),
        tier_slot.clone(),
        &stores,
    )
    .await?;
    let member = match cfg.cluster.enabled {
        true => {
            let m = crate::cluster::start(&cfg.cluster, &cfg.data_dir, stores.meta.clone()).await?;
            stores.meta = m.meta.clone();
            Some(m)
        }
        false => None,
    };
    let replicator = match &member {
        Some(m) => Some(m.start_replicator(&cfg.data_dir, clock.clone()).await?),
        None => None,
    };
    let counters = replicator
        .as_ref()
        .map(|r| r.anti_entropy_counters().clone());
    let services = start_services(cfg, &stores, &stack, clock.clone(), replicator).await?;
    if let Some(m) = &member {
        // Drops and deletes and anti-entropy's copies see each other through one count.
        let changes = Arc::new(StorageChanges::default());
        let anti_entropy = AntiEntropy::new(
            m.replication_port(),
            stores.meta.clone(),
            stores.engine.clone(),
            services.flush.clone(),
            services.backup.clone(),
            services.ingest.clone(),
            counters.unwrap_or_default(),
        )
        .with_changes(changes.clone());
        m.services_started(
            services.ingest.clone(),
            StorageEffects::new(
                stores.meta.clone(),
                services.flush.clone(),
                stack.admin.clone(),
            )
            .with_deletes(services.query.clone())
            .with_changes(changes),
            anti_entropy,
        );
    }

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Started before the background tasks, so a listener that cannot bind stops the
    // start-up before anything runs; stopped before the flush, so their last batches
    // reach the WAL and the final flush.
    let (listen_stop, listen_stop_rx) = tokio::sync::watch::channel(false);
    let listeners = start_listeners(cfg, &services, listen_stop_rx).await?;
    let flush_task = tokio::spawn(services.flush.clone().run(stop_rx.clone()));
    let cq_gate = member.as_ref().map(crate::cluster::Member::cq_gate);
    let background = spawn_background(cfg, &stores, &stack, &services, clock, cq_gate, &stop_rx);
    // Queries evaluate on their own runtime, so CPU-heavy ones never starve connections
    // and writes on this one.
    let query_runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("hyperbyte-query")
        .enable_all()
        .build()
        .context("starting the query runtime")?;
    let memory = match cfg.limits.max_memory_bytes {
        0 => None,
        limit => Some(MemoryWatch::start(limit).context("starting the memory watch")?),
    };
    if let Some(watch) = &memory {
        crate::relief::spawn(watch.clone(), stack.hot.clone(), stop_rx.clone())
            .context("starting the memory relief")?;
    }
    let served = serve_http(
        cfg,
        &services,
        memory,
        query_runtime.handle().clone(),
        on_listening,
        shutdown,
    )
    .await;
    // Statements that change what is stored and outlived their requests end first.
    let grace = Duration::from_secs(cfg.http.shutdown_timeout_secs);
    if !services.query.finish_changes(grace).await {
        tracing::warn!(
            ?grace,
            "stopping while a statement that changes stored data still runs; run it again after the start"
        );
    }
    query_runtime.shutdown_background();
    served?;

    let _ = listen_stop.send(true);
    listeners.join().await;
    if let Some(m) = &member {
        m.stop().await;
    }
    info!("shutting down: flushing the WAL into storage");
    let _ = stop_tx.send(true);
    // A task that panicked may have left storage and the tier apart: keep nothing then.
    let mut ended_normally = true;
    for t in background {
        ended_normally &= t.await.is_ok();
    }
    ended_normally &= flush_task.await.is_ok();
    if let (Some(tier), true) = (&stack.hot, cfg.hot_tier.keep_on_restart) {
        if ended_normally {
            keep_tier(tier, tier_slot, &stores).await;
        } else {
            tracing::warn!(
                "recent-data tier not kept for the next start: a background task failed"
            );
        }
    }
    Ok(())
}

/// Opens metadata, the WAL (behind its group-commit writer) and chDB; an error names the
/// directory and the configuration key. A replaced port is used as given; the held-points
/// store defaults to the RocksDB WAL's, also when only the WAL is replaced.
fn open_stores(cfg: &Config, replacements: Replacements) -> Result<Stores> {
    let meta: Arc<dyn MetadataPort> = match replacements.meta {
        Some(meta) => meta,
        None => Arc::new(
            RocksDbMetadata::open(&cfg.meta_dir())
                .with_context(|| format!("opening metadata at {}", cfg.meta_dir().display()))?,
        ),
    };
    let wal = replacements.wal.map(|open| open(cfg)).transpose()?;
    let (wal, held) = match (wal, replacements.held) {
        (Some(wal), Some(held)) => (wal, held),
        (wal, held) => {
            // A new WAL numbers from the clock (see `first_sequence_after`): in cluster
            // mode sequences name this node's batches to peers that outlive its disk.
            let first_after = first_sequence_after(SystemClock.now_nanos());
            let inner_wal = RocksDbWal::open_numbered_after(
                &cfg.wal_dir(),
                cfg.wal_memtable_bytes(),
                first_after,
            )
            .with_context(|| format!("opening the WAL at {}", cfg.wal_dir().display()))?;
            let held: Arc<dyn HeldPointsPort> = held.unwrap_or_else(|| Arc::new(inner_wal.clone()));
            let wal: Arc<dyn WalPort> = match wal {
                Some(wal) => wal,
                None => Arc::new(
                    BatchingWal::new(
                        inner_wal,
                        BatchingConfig {
                            window: Duration::from_micros(cfg.wal.group_commit_window_us),
                            max_batch_entries: cfg.wal.group_commit_max_entries,
                            ..BatchingConfig::default()
                        },
                    )
                    .context("starting the WAL group-commit writer")?,
                ),
            };
            (wal, held)
        }
    };
    let engine_settings = EngineSettings {
        max_execution_secs: cfg.chdb.query_max_execution_secs,
        max_memory_bytes: cfg.chdb.query_max_memory_bytes,
        max_result_rows: cfg.chdb.query_max_result_rows,
        // Not `max_memory_usage_for_user`: every session (the flush's inserts too) runs
        // as one user, and that cap made plain queries fail after a write burst.
        max_total_memory_bytes: 0,
        max_engine_memory_bytes: cfg.engine_memory().unwrap_or(0),
        merge_nice: cfg.chdb.merge_nice,
    };
    let engine = ChdbEngine::open_with_settings(&cfg.chdb_dir(), cfg.chdb.readers, engine_settings)
        .with_context(|| {
            format!(
                "opening chDB at {} (chdb.session_data_path)",
                cfg.chdb_dir().display()
            )
        })?;
    let storage = Arc::new(ChdbStorage::new(engine.clone()));
    Ok(Stores {
        meta,
        wal,
        held,
        engine,
        storage,
    })
}

fn storage_stack(cfg: &Config, stores: &Stores) -> StorageStack {
    let hot = (cfg.hot_tier.max_bytes > 0).then(|| {
        Arc::new(HotTier::new(
            usize::try_from(cfg.hot_tier.max_bytes).unwrap_or(usize::MAX),
        ))
    });
    let admin: Arc<dyn StorageAdminPort> = match &hot {
        Some(tier) => Arc::new(HotAdmin::new(stores.storage.clone(), tier.clone())),
        None => stores.storage.clone(),
    };
    let feed = hot
        .as_ref()
        .map(|tier| Arc::new(TierFeed::new(tier.clone(), stores.engine.clone())));
    StorageStack {
        sink: stores.storage.clone(),
        admin,
        hot,
        feed,
    }
}

/// Builds the services and replays the WAL into storage (recovery) before anything is
/// served, so the first query after a restart sees every acknowledged write.
async fn start_services(
    cfg: &Config,
    stores: &Stores,
    stack: &StorageStack,
    clock: Arc<dyn Clock>,
    replicator: Option<Arc<WriteReplicator>>,
) -> Result<Services> {
    let backlog = Arc::new(WriteBacklog::new(cfg.wal.max_backlog_points));
    let mut flush = FlushService::new(
        stores.wal.clone(),
        stores.meta.clone(),
        stack.sink.clone(),
        FlushConfig {
            interval: Duration::from_secs(cfg.flush.interval_secs),
            batch_entries: cfg.flush.batch_size,
            batch_points: cfg.flush.batch_points,
            backlog_trigger: cfg.flush.backlog_trigger,
        },
    )
    .with_backlog(backlog.clone())
    .with_hold_store(stores.held.clone());
    if let Some(feed) = &stack.feed {
        flush = flush.with_tier_feed(feed.clone());
    }
    let flush = Arc::new(flush);
    flush
        .load_held()
        .await
        .context("reading the points set aside in the WAL directory")?;
    // A table storage refuses is set aside (and reported by /health), never a reason not
    // to start; tables held before the restart are retried by the flush loop.
    let recovered = flush
        .flush_all()
        .await
        .context("replaying the WAL into storage")?;
    info!(
        entries = recovered.entries,
        points = recovered.points,
        "recovery: WAL replayed into storage"
    );
    let mut ingest = IngestionService::new(
        stores.meta.clone(),
        stores.wal.clone(),
        clock.clone(),
        Limits {
            max_series_per_database: cfg.limits.max_series_per_database,
            max_values_per_tag: cfg.limits.max_values_per_tag,
        },
    )
    .with_wal_notify(flush.wake_handle())
    .with_backlog(backlog);
    if stack.feed.is_some() {
        // The feed cursor starts after what recovery stored (the WAL is empty now), so
        // the first write's points find their turn.
        if let Err(e) = flush.catch_up_tier().await {
            tracing::warn!(error = %e, "positioning the recent-data tier's feed failed; reads catch up instead");
        }
        ingest = ingest.with_tier_writes(flush.clone());
    }
    if let Some(r) = replicator {
        ingest = ingest.with_replicator(r);
    }
    let ingest = Arc::new(ingest);
    let mut query = QueryService::new(
        stores.meta.clone(),
        stores.engine.clone(),
        stack.admin.clone(),
        flush.clone(),
        clock.clone(),
    )
    .with_writer(ingest.clone())
    .with_limits(cfg.query.limits());
    let listeners = Arc::new(ListenerRegistry::default());
    query = query.with_listeners(listeners.clone());
    let auth = Arc::new(hyperbyte_application::auth::AuthService::new(
        stores.meta.clone(),
        cfg.auth.config(),
    ));
    query = query.with_auth(auth.clone());
    let backup = Arc::new(BackupService::new(
        stores.meta.clone(),
        stores.engine.clone(),
        flush.clone(),
        clock.clone(),
    ));
    if let Some(tier) = &stack.hot {
        query = query.with_hot_tier(tier.clone());
    }
    let query = Arc::new(query);
    let prom = Arc::new(hyperbyte_application::prom::PromService::new(
        ingest.clone(),
        query.clone(),
        stores.meta.clone(),
    ));
    Ok(Services {
        flush,
        ingest,
        query,
        auth,
        backup,
        listeners,
        prom,
    })
}

/// Starts the enabled `[[graphite]]`, `[[opentsdb]]`, `[[collectd]]` and `[[udp]]`
/// listeners (each creates its database when missing) and announces their addresses.
async fn start_listeners(
    cfg: &Config,
    services: &Services,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<hyperbyte_adapter_listeners::Running> {
    let listeners = crate::listeners::build(cfg.listener_sections())?;
    let running = hyperbyte_adapter_listeners::start(
        listeners,
        services.ingest.clone(),
        &services.listeners,
        stop,
    )
    .await
    .context("starting the listeners")?;
    for (kind, addr) in &running.addrs {
        println!("hyperbyted {kind} listener on {addr}");
    }
    Ok(running)
}

/// Starts retention (when enabled) and continuous queries.
fn spawn_background(
    cfg: &Config,
    stores: &Stores,
    stack: &StorageStack,
    services: &Services,
    clock: Arc<dyn Clock>,
    cq_gate: Option<RunGate>,
    stop_rx: &tokio::sync::watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut background = Vec::new();
    if let Some(tier) = &stack.hot {
        let warm = cfg.hot_tier.warm_on_start.then(|| WarmConfig {
            first_rows: usize::try_from(cfg.hot_tier.warm_first_rows).unwrap_or(usize::MAX),
        });
        background.push(tokio::spawn(warm_tier(
            tier.clone(),
            warm,
            stores.meta.clone(),
            stores.engine.clone(),
            stop_rx.clone(),
        )));
    }
    if cfg.retention.enabled {
        let retention = Arc::new(
            RetentionService::new(
                stores.meta.clone(),
                stack.admin.clone(),
                clock.clone(),
                Duration::from_secs(cfg.retention.check_interval_secs),
            )
            .with_series_cleanup(stores.engine.clone())
            .with_flush(services.flush.clone()),
        );
        background.push(tokio::spawn(retention.run(stop_rx.clone())));
    }
    let mut cq = ContinuousQueryService::new(stores.meta.clone(), services.query.clone(), clock);
    if let Some(gate) = cq_gate {
        cq = cq.with_gate(gate);
    }
    let cq = Arc::new(cq);
    background.push(tokio::spawn(cq.run(stop_rx.clone())));
    background
}

/// Takes the recent-data tier's snapshot a clean shutdown left and installs it into
/// `tier` when storage did not change since (`hyperbyte_application::hot::restore_from_slot`,
/// which empties the slot in any case), before anything writes or is served. A slot that
/// cannot be emptied stops the start: left in place, its snapshot could be installed,
/// stale, by a later start.
async fn restore_tier(
    tier: Option<&Arc<HotTier>>,
    slot: Arc<dyn TierSnapshotPort>,
    stores: &Stores,
) -> Result<()> {
    let started = std::time::Instant::now();
    let restored = restore_from_slot(
        tier.cloned(),
        slot,
        stores.wal.as_ref(),
        stores.engine.as_ref(),
    )
    .await
    .context("taking the recent-data tier's snapshot (if it is still there, delete it to start without it)")?;
    match restored {
        Restored::Nothing => {}
        Restored::Installed(report) => {
            release_freed_memory();
            info!(
                tables = report.tables,
                rows = report.rows,
                bytes = tier.map_or(0, |t| t.bytes()),
                elapsed = ?started.elapsed(),
                "recent-data tier restored from the last clean shutdown"
            )
        }
        Restored::Refused(refused) => {
            tracing::warn!(reason = %refused, "recent-data tier snapshot not used: the warm-up reads storage instead")
        }
    }
    Ok(())
}

/// Returns the memory freed so far to the operating system now instead of after the
/// allocator's purge delay (1 s, see `main.rs`): installing the tier's snapshot or its
/// warm-up frees transient buffers as large as the tier (the encoded blob, the decoded
/// tables, the engine's result chunks) right before queries start.
fn release_freed_memory() {
    crate::relief::release_allocator_memory();
}

/// Leaves the tier's rows for the next start, once nothing writes or removes stored data
/// any more (after the last flush). A failure only costs the next start its warm-up.
async fn keep_tier(tier: &Arc<HotTier>, slot: Arc<dyn TierSnapshotPort>, stores: &Stores) {
    let started = std::time::Instant::now();
    match keep_in_slot(
        tier.clone(),
        slot,
        stores.wal.as_ref(),
        stores.engine.as_ref(),
    )
    .await
    {
        Ok(bytes) => {
            info!(bytes, elapsed = ?started.elapsed(), "recent-data tier kept for the next start")
        }
        Err(e) => tracing::warn!(error = %e, "recent-data tier not kept for the next start"),
    }
}

/// Reads the newest stored points back into the recent-data tier (see
/// `hyperbyte_application::hot::warm_from_storage`; `None`: no warm-up), alongside the
/// first requests, then keeps learning the latest values stored before each table's
/// coverage (`keep_learning_older_values`); given up when the server stops.
async fn warm_tier(
    tier: Arc<HotTier>,
    cfg: Option<WarmConfig>,
    meta: Arc<dyn MetadataPort>,
    engine: Arc<ChdbEngine>,
    stop_rx: tokio::sync::watch::Receiver<bool>,
) {
    if let Some(cfg) = cfg {
        let started = std::time::Instant::now();
        let report = hyperbyte_application::hot::warm_until_stopped(
            &tier,
            cfg,
            meta.as_ref(),
            engine.as_ref(),
            stop_rx.clone(),
        )
        .instrument(tracing::info_span!("warm recent-data tier"))
        .await;
        match report {
            Some(report) => {
                release_freed_memory();
                info!(
                    tables = report.tables,
                    rows = report.rows,
                    skipped = report.skipped,
                    bytes = tier.bytes(),
                    elapsed = ?started.elapsed(),
                    "recent-data tier warmed from storage"
                )
            }
            None => {
                info!(
                    bytes = tier.bytes(),
                    elapsed = ?started.elapsed(),
                    "recent-data tier warm-up given up: the server stops"
                );
                return;
            }
        }
    }
    keep_learning_older_values(tier, meta, engine, stop_rx)
        .instrument(tracing::info_span!("learn older values"))
        .await;
}

/// Binds the listener and serves the InfluxDB API until a shutdown signal.
async fn serve_http(
    cfg: &Config,
    services: &Services,
    memory: Option<Arc<MemoryWatch>>,
    query_runtime: tokio::runtime::Handle,
    on_listening: Option<Box<dyn FnOnce(std::net::SocketAddr) + Send>>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<()> {
    let state = hyperbyte_adapter_http::HttpState {
        ingest: services.ingest.clone(),
        query: services.query.clone(),
        metrics: Arc::new(hyperbyte_adapter_http::Metrics::new()?),
        config: hyperbyte_adapter_http::HttpConfig {
            max_body_bytes: cfg.http.max_body_bytes,
            default_chunk_size: cfg.http.default_chunk_size,
            max_decoded_body_bytes: cfg.http.max_decoded_body_bytes,
            bind: cfg.http.bind.clone(),
        },
        health: {
            let flush = services.flush.clone();
            Arc::new(move || {
                hyperbyte_adapter_http::Health::from_held(&flush.held_tables())
                    .with_flush(flush.backlog(), flush.counters().lag_seconds)
            })
        },
        request_ids: Arc::new(AtomicU64::new(1)),
        gate: Arc::new(
            QueryGate::new(AdmissionConfig {
                max_concurrent: cfg.http.max_concurrent_queries,
                queue_timeout: Duration::from_secs(cfg.http.query_queue_timeout_secs),
                query_timeout: Duration::from_secs(cfg.http.query_timeout_secs),
            })
            .on_runtime(query_runtime),
        ),
        memory,
        auth: services.auth.clone(),
        backup: Some(services.backup.clone()),
        prom: services.prom.clone(),
    };
    let app = hyperbyte_adapter_http::router(state);
    let listener = tokio::net::TcpListener::bind(&cfg.http.bind)
        .await
        .with_context(|| format!("binding http.bind = {}", cfg.http.bind))?;
    let addr = listener.local_addr()?;
    let tls = match (&cfg.http.tls_cert_path, &cfg.http.tls_key_path) {
        (Some(cert), Some(key)) => Some(
            hyperbyte_adapter_http::tls_acceptor(cert, key)
                .context("loading http.tls_cert_path / http.tls_key_path")?,
        ),
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    info!(%addr, scheme, "listening for HTTP (InfluxDB 1.x API)");
    match on_listening {
        Some(f) => f(addr),
        None => println!("hyperbyted listening on {scheme}://{addr}"),
    }
    let serve_cfg = ServeConfig {
        max_connections: cfg.http.max_connections,
        header_read_timeout: Duration::from_secs(cfg.http.header_read_timeout_secs),
        idle_timeout: Duration::from_secs(cfg.http.idle_timeout_secs),
        body_read_timeout: Duration::from_secs(cfg.http.body_read_timeout_secs),
        shutdown_timeout: Duration::from_secs(cfg.http.shutdown_timeout_secs),
    };
    hyperbyte_adapter_http::serve_tls(listener, app, serve_cfg, tls, shutdown)
        .await
        .context("serving HTTP")
}

/// Completes on SIGINT or SIGTERM: the shutdown the `hyperbyted` binary waits for.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => info!("SIGINT received"),
        _ = term => info!("SIGTERM received"),
    }
}
