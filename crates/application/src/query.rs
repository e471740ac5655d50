//! The query service: InfluxQL text in, InfluxDB-shaped statement results out.
//!
//! It parses the request (timeseriesql), then runs each statement: metadata statements
//! (DDL, SHOW) against [`MetadataPort`], SELECTs by translating to ClickHouse SQL and
//! running it through [`QueryPort`], then shaping rows into series.

use hyperbyte_domain::query::StatementResult;
use std::collections::BTreeMap;

/// A bound parameter value from the HTTP `params=` JSON object.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// String.
    String(String),
    /// Integer number.
    Integer(i64),
    /// Float number.
    Float(f64),
    /// Boolean.
    Boolean(bool),
}

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
}

/// A request-level failure (HTTP 400 with `{"error": ...}`).
#[derive(Debug, thiserror::Error)]
pub enum QueryRequestError {
    /// The text does not parse.
    #[error("error parsing query: {0}")]
    Parse(String),
}

/// Runs InfluxQL (implemented by [`QueryService`]; a trait so that the HTTP adapter can
/// be tested against a fake).
#[async_trait::async_trait]
pub trait QueryExecutor: Send + Sync + std::fmt::Debug {
    /// Executes every statement of the request, in order.
    async fn execute(&self, req: QueryRequest) -> Result<Vec<StatementResult>, QueryRequestError>;
}

use crate::flush::FlushService;
use hyperbyte_ports::{Clock, MetadataPort, QueryPort, StorageAdminPort};
use std::sync::Arc;

/// The InfluxQL executor over metadata and storage.
#[derive(Debug)]
pub struct QueryService {
    meta: Arc<dyn MetadataPort>,
    engine: Arc<dyn QueryPort>,
    admin: Arc<dyn StorageAdminPort>,
    flush: Arc<FlushService>,
    clock: Arc<dyn Clock>,
}

impl QueryService {
    /// Creates the service.
    pub fn new(
        meta: Arc<dyn MetadataPort>,
        engine: Arc<dyn QueryPort>,
        admin: Arc<dyn StorageAdminPort>,
        flush: Arc<FlushService>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        QueryService {
            meta,
            engine,
            admin,
            flush,
            clock,
        }
    }
}

#[async_trait::async_trait]
impl QueryExecutor for QueryService {
    async fn execute(&self, req: QueryRequest) -> Result<Vec<StatementResult>, QueryRequestError> {
        let _ = (&self.meta, &self.engine, &self.admin, &self.flush, &self.clock, req);
        Err(QueryRequestError::Parse("InfluxQL is not available yet".into()))
    }
}
