//! The query service: InfluxQL text in, InfluxDB-shaped statement results out.
//!
//! It parses the request (timeseriesql), then runs each statement: metadata statements
//! (DDL, SHOW) against [`MetadataPort`], SELECTs by translating to ClickHouse SQL and
//! running it through [`QueryPort`], then shaping rows into series.

mod cond;
#[cfg(test)]
mod detach_tests;
mod limits;
mod meta;
mod metered;
#[cfg(test)]
mod monitor_tests;
pub mod running;
mod select;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod user_tests;
mod visible;

pub use limits::{LimitError, QueryLimits, DEFAULT_MAX_SELECT_BUCKETS, DEFAULT_MAX_SELECT_ROWS};

pub(crate) use cond::{decided_by_tags, ReadFilter, TagIndex};

use crate::flush::FlushService;
use hyperbyte_domain::query::StatementResult;
use hyperbyte_ports::{Clock, MetadataPort, QueryPort, StorageAdminPort};
use hyperbyte_timeseriesql::ast::Statement;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tracing::Instrument;

/// A bound parameter value from the HTTP `params=` JSON object.
pub use hyperbyte_timeseriesql::parser::ParamValue;

/// One `/query` request.
#[derive(Debug, Clone, Default)]
pub struct QueryRequest {
    /// InfluxQL text (one or more statements).
    pub query: String,
    /// `db=` parameter.
    pub database: Option<String>,
    /// `rp=` parameter.
    pub retention_policy: Option<String>,
    /// Bound parameters.
    pub params: BTreeMap<String, ParamValue>,
    /// Sent with GET: statements that change data still run, with InfluxDB's deprecation
    /// warning attached.
    pub read_only: bool,
    /// What the requester may do ([`crate::auth::AuthService::authenticate`]); every
    /// statement is checked before any runs.
    pub access: crate::auth::Access,
    /// Fired by `KILL QUERY` of this request.
    pub interrupt: running::Interrupt,
}

/// A request-level failure (HTTP 400 with `{"error": ...}`).
#[derive(Debug, thiserror::Error)]
pub enum QueryRequestError {
    /// The text does not parse.
    #[error("error parsing query: {0}")]
    Parse(String),
    /// A statement is not allowed (HTTP 403).
    #[error("error authorizing query: {0}")]
    Unauthorized(String),
}

/// Runs InfluxQL (implemented by [`QueryService`]; a trait so that the HTTP adapter can
/// be tested against a fake).
#[async_trait::async_trait]
pub trait QueryExecutor: Send + Sync + std::fmt::Debug {
    /// Executes every statement of the request, in order.
    async fn execute(&self, req: QueryRequest) -> Result<Vec<StatementResult>, QueryRequestError>;

    /// What the services report now (`/metrics`, `/debug/vars`); nothing by default.
    fn stats(&self) -> crate::stats::ServiceStats {
        crate::stats::ServiceStats::default()
    }
}

/// The InfluxQL executor over metadata and storage.
///
/// A clone shares everything (ports, services, counters): a statement that must run to
/// its end runs on a clone, in a task of its own ([`QueryService::run_to_completion`]).
#[derive(Debug, Clone)]
pub struct QueryService {
    meta: Arc<dyn MetadataPort>,
    engine: Arc<dyn QueryPort>,
    admin: Arc<dyn StorageAdminPort>,
    flush: Arc<FlushService>,
    clock: Arc<dyn Clock>,
    /// Write path for `SELECT ... INTO` (and continuous queries).
    writer: Option<Arc<crate::IngestionService>>,
    /// The non-HTTP listeners' counters, for the statistics.
    listeners: Option<Arc<crate::stats::ListenerRegistry>>,
    /// The recent-data tier, when enabled.
    hot: Option<Arc<crate::hot::HotTier>>,
    /// Per-query resource limits.
    limits: QueryLimits,
    /// Told about password changes and dropped users, to free cached verifications.
    auth: Option<Arc<crate::auth::AuthService>>,
    /// The engine as `engine` reaches it, counting its errors.
    metered: Arc<metered::MeteredEngine>,
    /// Requests running now (`SHOW QUERIES`, `KILL QUERY`).
    running: Arc<running::RunningQueries>,
    /// SELECT sources the recent-data tier answered / left to storage.
    tier_hits: Arc<AtomicU64>,
    tier_misses: Arc<AtomicU64>,
    /// When the service was created (the server's start), nanoseconds.
    started: i64,
    /// Statements running on in tasks of their own.
    unfinished: Arc<Unfinished>,
}

/// The statements [`QueryService::run_to_completion`] runs: how many, and a wake-up
/// when one ends (for [`QueryService::finish_changes`]).
#[derive(Debug, Default)]
struct Unfinished {
    count: std::sync::atomic::AtomicUsize,
    ended: tokio::sync::Notify,
}

/// Counts one running statement for as long as it lives (a panic included).
struct Running(Arc<Unfinished>);

impl Running {
    fn start(unfinished: &Arc<Unfinished>) -> Self {
        unfinished.count.fetch_add(1, Ordering::AcqRel);
        Running(Arc::clone(unfinished))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.count.fetch_sub(1, Ordering::AcqRel);
        self.0.ended.notify_waiters();
    }
}

/// A statement-level failure: reported inside the statement's result (HTTP 200).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct StatementError(pub(crate) String);

impl StatementError {
    pub(crate) fn new(msg: impl Into<String>) -> Self {
        StatementError(msg.into())
    }
}

impl From<hyperbyte_ports::MetaError> for StatementError {
    fn from(e: hyperbyte_ports::MetaError) -> Self {
        StatementError(e.to_string())
    }
}

impl From<hyperbyte_ports::SinkError> for StatementError {
    fn from(e: hyperbyte_ports::SinkError) -> Self {
        StatementError(e.to_string())
    }
}

impl From<hyperbyte_ports::QueryError> for StatementError {
    fn from(e: hyperbyte_ports::QueryError) -> Self {
        StatementError(e.to_string())
    }
}

impl From<LimitError> for StatementError {
    fn from(e: LimitError) -> Self {
        StatementError(e.to_string())
    }
}

impl From<crate::retention::ListError> for StatementError {
    fn from(e: crate::retention::ListError) -> Self {
        match e {
            crate::retention::ListError::Query(e) => StatementError::from(e),
            crate::retention::ListError::Unexpected(text) => StatementError(text),
        }
    }
}

impl From<crate::flush::FlushError> for StatementError {
    fn from(e: crate::flush::FlushError) -> Self {
        StatementError(e.to_string())
    }
}

pub(crate) type StmtResult = Result<StatementResult, StatementError>;

impl QueryService {
    /// Creates the service.
    pub fn new(
        meta: Arc<dyn MetadataPort>,
        engine: Arc<dyn QueryPort>,
        admin: Arc<dyn StorageAdminPort>,
        flush: Arc<FlushService>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let metered = Arc::new(metered::MeteredEngine::new(engine));
        QueryService {
            started: clock.now_nanos(),
            meta,
            engine: Arc::new(visible::VisibleEngine::new(metered.clone(), flush.clone())),
            metered,
            running: Arc::new(running::RunningQueries::default()),
            tier_hits: Arc::new(AtomicU64::new(0)),
            tier_misses: Arc::new(AtomicU64::new(0)),
            unfinished: Arc::default(),
            admin,
            flush,
            clock,
            writer: None,
            listeners: None,
            hot: None,
            limits: QueryLimits::default(),
            auth: None,
        }
    }

    /// Lets the service free an [`crate::auth::AuthService`]'s cached verifications of a
    /// user whose password changes or who is dropped.
    pub fn with_auth(mut self, auth: Arc<crate::auth::AuthService>) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Sets the per-query limits (the defaults are [`QueryLimits::default`]).
    pub fn with_limits(mut self, limits: QueryLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Serves reads the recent-data tier covers from memory (the flush service must feed
    /// it through a [`crate::hot::TierFeed`], and storage drops must go through a
    /// [`crate::hot::HotAdmin`]).
    pub fn with_hot_tier(mut self, tier: Arc<crate::hot::HotTier>) -> Self {
        self.hot = Some(tier);
        self
    }

    /// When the service started, nanoseconds.
    pub(crate) fn started_at(&self) -> i64 {
        self.started
    }

    /// The requests running now.
    pub fn running(&self) -> &Arc<running::RunningQueries> {
        &self.running
    }

    /// Counts a SELECT source answered from the recent-data tier (`hit`) or by storage.
    pub(crate) fn count_tier(&self, hit: bool) {
        if self.hot.is_some() {
            let c = if hit {
                &self.tier_hits
            } else {
                &self.tier_misses
            };
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// What the services report now: the flush, the backlog, the tier, the queries and
    /// every database's series index.
    pub fn stats(&self) -> crate::stats::ServiceStats {
        let mut queries = self.running.counters();
        queries.engine_errors = self.metered.errors();
        let databases = self
            .meta
            .databases()
            .into_iter()
            .map(|d| crate::stats::DatabaseStats {
                measurements: self.meta.measurements(&d.name).len() as u64,
                series: self.meta.series_count(&d.name) as u64,
                name: d.name,
            })
            .collect();
        crate::stats::ServiceStats {
            flush: self.flush.counters(),
            backlog: self.flush.backlog(),
            tier: self.hot.as_ref().map(|t| crate::stats::TierStats {
                bytes: t.bytes() as u64,
                max_bytes: t.max_bytes() as u64,
                hits: self.tier_hits.load(Ordering::Relaxed),
                misses: self.tier_misses.load(Ordering::Relaxed),
            }),
            queries,
            writes: self
                .writer
                .as_ref()
                .map(|w| w.counters())
                .unwrap_or_default(),
            databases,
            listeners: self
                .listeners
                .as_ref()
                .map(|l| l.snapshot())
                .unwrap_or_default(),
            cluster: self.writer.as_ref().and_then(|w| w.cluster_stats()),
        }
    }

    /// Reports the non-HTTP listeners' counters with the services' statistics.
    pub fn with_listeners(mut self, listeners: Arc<crate::stats::ListenerRegistry>) -> Self {
        self.listeners = Some(listeners);
        self
    }

    /// Enables `SELECT ... INTO` by giving the service the write path.
    pub fn with_writer(mut self, writer: Arc<crate::IngestionService>) -> Self {
        self.writer = Some(writer);
        self
    }

    /// Runs a statement that changes what is stored in a task of its own, so that it
    /// finishes even when its request goes away (the client disconnected, the query
    /// timeout passed, `KILL QUERY`). Such a statement works in steps (storage, then the
    /// series index; one retention policy after another), and stopping between two
    /// would leave it half done: a `DELETE` whose points are gone from one policy only,
    /// or gone while its series are still listed. InfluxDB does not interrupt them
    /// either.
    async fn run_to_completion(
        &self,
        stmt: &Statement,
        req: &QueryRequest,
        ticket: Arc<running::QueryTicket>,
        span: tracing::Span,
    ) -> StmtResult {
        let svc = self.clone();
        let (stmt, req) = (stmt.clone(), req.clone());
        let running = Running::start(&self.unfinished);
        let task = tokio::spawn(
            async move {
                let _listed = (ticket, running);
                svc.run_statement(&stmt, &req).await
            }
            .instrument(span),
        );
        match task.await {
            Ok(r) => r,
            // A panicking statement is a bug: let it surface as it would inline.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(StatementError::new("the server is shutting down")),
        }
    }

    /// Waits until the statements running on after their requests went away (see
    /// [`QueryService::run_to_completion`]) have ended, at most `timeout`; whether they
    /// all did. A clean stop calls it before it stops the runtime they run on, so a
    /// `DELETE` whose client left is not cut short by the stop either.
    pub async fn finish_changes(&self, timeout: std::time::Duration) -> bool {
        let all_ended = async {
            loop {
                let ended = self.unfinished.ended.notified();
                tokio::pin!(ended);
                ended.as_mut().enable();
                if self.unfinished.count.load(Ordering::Acquire) == 0 {
                    return;
                }
                ended.await;
            }
        };
        tokio::time::timeout(timeout, all_ended).await.is_ok()
    }

    async fn run_statement(&self, stmt: &Statement, req: &QueryRequest) -> StmtResult {
        let db = req.database.as_deref();
        match stmt {
            Statement::Select(s) => self.select(s, req).await,
            Statement::ShowDatabases => self.show_databases(&req.access),
            other => self.meta_statement(other, db).await,
        }
    }
}

/// Statements InfluxDB 1.x answers with the `deprecated use of '...' in a read only context`
/// warning when they come in a GET request (and succeed: a failed statement carries only
/// its error). Its statement executor adds the warning per statement kind, and leaves it
/// out for `DELETE` and for `KILL QUERY` (which the query manager, not the statement
/// executor, runs); every other statement that changes something carries it.
fn warns_when_read_only(stmt: &Statement) -> bool {
    !matches!(stmt, Statement::Delete(_) | Statement::KillQuery { .. }) && !is_read_only(stmt)
}

impl QueryService {
    /// The statement as the warning shows it: a SELECT with its sources qualified,
    /// passwords as `[REDACTED]` (InfluxDB never echoes one).
    fn shown_in_warning(&self, stmt: &Statement, database: Option<&str>) -> String {
        use hyperbyte_timeseriesql::ast::quote_ident;
        match (stmt, database) {
            (Statement::Select(s), Some(db)) => self.qualified_select(s, db).to_string(),
            (Statement::CreateUser { name, admin, .. }, _) => {
                let all = if *admin { " WITH ALL PRIVILEGES" } else { "" };
                format!(
                    "CREATE USER {} WITH PASSWORD [REDACTED]{all}",
                    quote_ident(name)
                )
            }
            (Statement::SetPassword { name, .. }, _) => {
                format!("SET PASSWORD FOR {} = [REDACTED]", quote_ident(name))
            }
            _ => stmt.to_string(),
        }
    }
}

/// Statements InfluxDB accepts in a GET request without a warning.
fn is_read_only(stmt: &Statement) -> bool {
    match stmt {
        Statement::Select(s) => s.target.is_none(),
        Statement::ShowDatabases
        | Statement::ShowRetentionPolicies { .. }
        | Statement::ShowMeasurements(_)
        | Statement::ShowSeries(_)
        | Statement::ShowTagKeys(_)
        | Statement::ShowTagValues(_)
        | Statement::ShowFieldKeys(_)
        | Statement::ShowCardinality(_)
        | Statement::ShowContinuousQueries
        | Statement::ShowShards
        | Statement::ShowShardGroups
        | Statement::ShowStats { .. }
        | Statement::ShowDiagnostics { .. }
        | Statement::ShowUsers
        | Statement::ShowGrants { .. }
        | Statement::ShowQueries
        | Statement::ShowSubscriptions
        | Statement::Explain(_) => true,
        _ => false,
    }
}

/// Statements that change what is stored (deletes, drops, definitions, users): they
/// run to their end once started ([`QueryService::run_to_completion`]). `SELECT … INTO`
/// is not one of them: it stops with its request, as InfluxDB's does.
fn changes_data(stmt: &Statement) -> bool {
    !is_read_only(stmt) && !matches!(stmt, Statement::Select(_))
}

/// How InfluxDB 1.6 chunks a statement's result ([`Chunking`]): what its iterators answer
/// by rows, the tag statements a series at a time, the other metadata reads whole.
fn chunking_of(stmt: &Statement) -> hyperbyte_domain::query::Chunking {
    use hyperbyte_domain::query::Chunking;
    match stmt {
        Statement::ShowTagKeys(_) | Statement::ShowTagValues(_) => Chunking::PerSeries,
        Statement::Select(_)
        | Statement::ShowSeries(_)
        | Statement::ShowFieldKeys(_)
        | Statement::ShowCardinality(_)
        | Statement::Explain(_) => Chunking::Rows,
        s if is_read_only(s) => Chunking::Whole,
        _ => Chunking::Rows,
    }
}

#[async_trait::async_trait]
impl QueryExecutor for QueryService {
    async fn execute(&self, req: QueryRequest) -> Result<Vec<StatementResult>, QueryRequestError> {
        let query = hyperbyte_timeseriesql::parser::parse_with_params(&req.query, &req.params)
            .map_err(|e| QueryRequestError::Parse(e.to_string()))?;
        if req.access != crate::auth::Access::Open {
            let no_users = self.meta.users().is_empty();
            crate::auth::authorize_query(&req.access, no_users, &query, req.database.as_deref())
                .map_err(|e| QueryRequestError::Unauthorized(e.to_string()))?;
        }
        let shown = query
            .statements
            .iter()
            .map(|s| self.shown_in_warning(s, None))
            .collect::<Vec<_>>()
            .join(";\n");
        // Shared with a statement that runs on after its request is gone, so `SHOW
        // QUERIES` lists the request until that statement ends.
        let ticket = Arc::new(self.running.register(
            shown,
            req.database.clone().unwrap_or_default(),
            req.interrupt.clone(),
        ));
        let mut results = Vec::with_capacity(query.statements.len());
        for (i, stmt) in query.statements.iter().enumerate() {
            let span = tracing::debug_span!("statement", id = i, qid = ticket.qid());
            ticket.interrupt().set_statement(i);
            let ran = if changes_data(stmt) {
                self.run_to_completion(stmt, &req, Arc::clone(&ticket), span)
                    .await
            } else {
                tokio::select! {
                    biased;
                    _ = ticket.killed() => Err(StatementError::new(running::QUERY_INTERRUPTED)),
                    r = self.run_statement(stmt, &req).instrument(span) => r,
                }
            };
            let mut r = match ran {
                Ok(mut r) => {
                    r.statement_id = i;
                    r.chunking = chunking_of(stmt);
                    r
                }
                Err(e) => StatementResult::error(i, e.0),
            };
            if req.read_only && warns_when_read_only(stmt) && r.error.is_none() {
                let shown = self.shown_in_warning(stmt, req.database.as_deref());
                r.messages.push(hyperbyte_domain::query::Message {
                    level: "warning".into(),
                    text: format!(
                        "deprecated use of '{shown}' in a read only context, please use a POST request instead"
                    ),
                });
            }
            let failed = r.error.is_some();
            results.push(r);
            if failed {
                // InfluxDB 1.x stops at the first failing statement and answers each one
                // after it with `not executed`, under the failed statement's id (so an
                // unchunked answer, which merges results by id, shows `not executed` in
                // place of the error when statements follow it).
                let rest = query.statements.len().saturating_sub(i + 1);
                results.extend((0..rest).map(|_| StatementResult::error(i, "not executed")));
                break;
            }
        }
        Ok(results)
    }

    fn stats(&self) -> crate::stats::ServiceStats {
        QueryService::stats(self)
    }
}
