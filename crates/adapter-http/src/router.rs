//! Routes and handlers.

use crate::json::{render_error, render_results, Epoch, RenderOptions};
use crate::metrics::Metrics;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use hyperbyte_application::auth::{Access, AuthError, AuthService};
use hyperbyte_application::query::running::{Interrupt, QUERY_INTERRUPTED};
use hyperbyte_application::query::{QueryExecutor, QueryRequest, QueryRequestError};
use hyperbyte_application::{IngestionService, WriteError, WriteRequest};
use hyperbyte_domain::query::{Chunking, StatementResult};
use hyperbyte_domain::{Consistency, Precision};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use tracing::Instrument;

use crate::negotiate::{accepts_gzip, maybe_gzip, negotiate, Format};
use crate::params::{form_urlencoded_pairs, parse_bind_params, query_params};

/// The version InfluxDB clients see in `X-Influxdb-Version`.
pub const INFLUX_VERSION: &str = "1.8.10";

/// HTTP settings.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest accepted `/write` body (after decompression), bytes; 0 = unlimited.
    pub max_body_bytes: usize,
    /// Default rows per chunk for `chunked=true`.
    pub default_chunk_size: usize,
    /// Largest decompressed gzip body while `max_body_bytes` is 0 (unlimited): a few KiB of
    /// gzip can inflate to gigabytes, so decompression is always bounded.
    pub max_decoded_body_bytes: usize,
    /// The listening address, as `/debug/vars` names the `httpd` statistics.
    pub bind: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_body_bytes: 25 * 1024 * 1024,
            default_chunk_size: 10_000,
            max_decoded_body_bytes: 512 * 1024 * 1024,
            bind: String::new(),
        }
    }
}

impl HttpConfig {
    /// The bound on a decompressed body.
    fn decoded_limit(&self) -> usize {
        match self.max_body_bytes {
            0 => self.max_decoded_body_bytes.max(1),
            n => n,
        }
    }
}

/// Health probe used by `/health` and `/metrics`.
pub type HealthCheck = Arc<dyn Fn() -> crate::Health + Send + Sync>;

/// Shared state of the handlers.
#[derive(Clone)]
pub struct HttpState {
    /// Write path.
    pub ingest: Arc<IngestionService>,
    /// Query path.
    pub query: Arc<dyn QueryExecutor>,
    /// Request metrics (`/metrics`, `/debug/vars`).
    pub metrics: Arc<Metrics>,
    /// Settings.
    pub config: HttpConfig,
    /// Health probe.
    pub health: HealthCheck,
    /// Request-id counter.
    pub request_ids: Arc<AtomicU64>,
    /// Query admission (concurrency, queue wait, timeout).
    pub gate: Arc<crate::QueryGate>,
    /// The memory bound, when configured: new writes and queries wait it out (503).
    pub memory: Option<Arc<crate::MemoryWatch>>,
    /// Authentication and authorization (`/query`, `/write`, `/api/v2/write`).
    pub auth: Arc<AuthService>,
    /// Backup, restore and export (`/api/hyperbyte/...`, admin only); `None` answers 404.
    pub backup: Option<Arc<hyperbyte_application::backup::BackupService>>,
    /// Prometheus remote write and read (`/api/v1/prom/write`, `/api/v1/prom/read`).
    pub prom: Arc<hyperbyte_application::prom::PromService>,
}

impl std::fmt::Debug for HttpState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpState")
            .field("config", &self.config)
            .finish()
    }
}

/// Builds the router.
pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/ping", any(ping))
        .route("/status", any(ping))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        // Write bodies are limited by `http.max_body_bytes` in the handler (413 with an
        // InfluxDB-shaped error), not by axum's 2 MB default.
        .route("/write", any(write).layer(DefaultBodyLimit::disable()))
        .route(
            "/api/v2/write",
            any(write_v2).layer(DefaultBodyLimit::disable()),
        )
        .route("/query", any(query))
        .route("/debug/vars", get(debug_vars))
        .merge(crate::backup::routes())
        .merge(crate::prom::routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn(crate::pretty::pretty_errors))
        .layer(axum::middleware::from_fn(crate::cors::cors))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::observe::observe,
        ))
        .with_state(state)
}

fn influx_headers(state: &HttpState, resp: &mut Response) {
    let h = resp.headers_mut();
    let id = crate::observe::current_request_id()
        .unwrap_or_else(|| crate::observe::new_request_id(state));
    h.insert("X-Influxdb-Build", HeaderValue::from_static("OSS"));
    h.insert(
        "X-Influxdb-Version",
        HeaderValue::from_static(INFLUX_VERSION),
    );
    if let Ok(v) = HeaderValue::from_str(&id) {
        h.insert("Request-Id", v.clone());
        h.insert("X-Request-Id", v);
    }
}

pub(crate) fn with_headers(state: &HttpState, mut resp: Response) -> Response {
    influx_headers(state, &mut resp);
    resp
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub(crate) fn error_response(state: &HttpState, status: StatusCode, msg: &str) -> Response {
    let mut r = json_response(status, render_error(msg));
    if let Some(v) = error_header(msg) {
        r.headers_mut().insert("X-Influxdb-Error", v);
    }
    with_headers(state, r)
}

/// Longest `X-Influxdb-Error` value, in bytes, as InfluxDB sends it.
const ERROR_HEADER_MAX_BYTES: usize = 1024;

/// The `X-Influxdb-Error` value of an error: its first 1,024 bytes, cut as InfluxDB cuts
/// them (even inside a character; the body carries the whole text), with control
/// characters as spaces. Uncut, an error quoting a 200 kB line made a 200 kB header line,
/// which clients refuse to read (Python's `http.client` stops at 64 kB), so they never
/// saw the 400.
fn error_header(msg: &str) -> Option<HeaderValue> {
    let bytes: Vec<u8> = msg
        .as_bytes()
        .iter()
        .take(ERROR_HEADER_MAX_BYTES)
        .map(|&b| {
            if (b < b' ' && b != b'\t') || b == 0x7f {
                b' '
            } else {
                b
            }
        })
        .collect();
    HeaderValue::from_bytes(&bytes).ok()
}

/// An auth refusal in the request's format: 401 carries InfluxDB's Basic challenge
/// instead of `X-Influxdb-Error`.
pub(crate) fn auth_refusal(state: &HttpState, format: Format, e: &AuthError) -> Response {
    let status = crate::auth::status(e);
    let mut r = query_error(state, format, status, &e.to_string());
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().remove("X-Influxdb-Error");
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"InfluxDB\""),
        );
    }
    r
}

/// Authenticates a request from its `u`/`p` URL parameters and `Authorization` header.
pub(crate) async fn authenticate(
    state: &HttpState,
    u: Option<&str>,
    p: Option<&str>,
    headers: &HeaderMap,
) -> Result<Access, AuthError> {
    if !state.auth.enabled() {
        return Ok(Access::Open);
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let creds = crate::auth::credentials(u, p, authorization);
    state.auth.authenticate(creds).await
}

/// `503` with `Retry-After` while resident memory is near its bound.
pub(crate) fn memory_refusal(state: &HttpState, format: Format) -> Option<Response> {
    let pressure = state.memory.as_ref()?.pressure()?;
    let mut r = query_error(
        state,
        format,
        StatusCode::SERVICE_UNAVAILABLE,
        &pressure.to_string(),
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    Some(r)
}

/// InfluxDB's 405, naming the methods the path takes (`allow`).
pub(crate) fn method_not_allowed(state: &HttpState, allow: &'static str) -> Response {
    let mut r = (StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed\n").into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::ALLOW, HeaderValue::from_static(allow));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    with_headers(state, r)
}

/// The empty `200` InfluxDB answers a CORS preflight (`OPTIONS`) of `/query` and
/// `/write` with (the CORS headers come from [`crate::cors`]).
fn preflight(state: &HttpState) -> Response {
    with_headers(state, StatusCode::OK.into_response())
}

/// Go's `http.NotFound`, as InfluxDB answers an unknown path (with its `nosniff`).
async fn not_found(State(state): State<HttpState>) -> Response {
    let mut r = (StatusCode::NOT_FOUND, "404 page not found\n").into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    with_headers(&state, r)
}

async fn ping(State(state): State<HttpState>, method: Method) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return method_not_allowed(&state, "GET, HEAD");
    }
    // InfluxDB's 204 carries `Content-Type: application/json` (no body).
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    with_headers(&state, r)
}

async fn health(State(state): State<HttpState>) -> Response {
    let (status, body) = (state.health)().render();
    with_headers(&state, json_response(status, body))
}

async fn metrics(State(state): State<HttpState>) -> Response {
    let text = state
        .metrics
        .render_with(&state.query.stats(), &state.prom.counters());
    let mut r = text.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(prometheus::TEXT_FORMAT),
    );
    r
}

async fn debug_vars(State(state): State<HttpState>) -> Response {
    let stats = state.query.stats();
    let body = crate::debug_vars::render(&crate::debug_vars::VarsInput {
        stats: &stats,
        httpd: state.metrics.httpd(),
        bind: &state.config.bind,
        started: state.metrics.started_at(),
        resident_bytes: crate::memory::resident_bytes(),
    });
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    with_headers(&state, r)
}

/// Whether a body is gzip: exactly `gzip`, as InfluxDB compares it (a body sent as
/// `GZIP` is read as it is).
fn is_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes() == b"gzip")
}

/// Decompresses a gzip body, enforcing the size limit.
fn decode_gzip(body: &[u8], limit: usize) -> Result<Bytes, (StatusCode, String)> {
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "http: request body too large".to_string(),
        )
    };
    if body.len() > limit {
        return Err(too_large());
    }
    match crate::gzip::decompress(body, limit) {
        Ok(out) => Ok(Bytes::from(out)),
        Err(crate::gzip::GzipError::TooLarge) => Err(too_large()),
        Err(e) => Err((StatusCode::BAD_REQUEST, e.to_string())),
    }
}

async fn write(
    State(state): State<HttpState>,
    method: Method,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if method == Method::OPTIONS {
        return preflight(&state);
    }
    if method != Method::POST {
        return method_not_allowed(&state, "OPTIONS, POST");
    }
    let params = crate::params::url_params(raw.as_deref());
    let target = WriteTarget {
        db: params.get("db").cloned().unwrap_or_default(),
        rp: params.get("rp").cloned(),
        precision: params.get("precision").cloned().unwrap_or_default(),
        consistency: params.get("consistency").cloned(),
    };
    let access = match write_access(&state, &params, &headers).await {
        Ok(a) => a,
        Err(refused) => return drained(refused, body).await,
    };
    do_write(state, access, target, headers, body).await
}

/// The query parameters of a write.
struct WriteTarget {
    db: String,
    rp: Option<String>,
    precision: String,
    /// `consistency` as given (cluster mode: `any`, `one`, `quorum`, `all`).
    consistency: Option<String>,
}

async fn write_v2(
    State(state): State<HttpState>,
    method: Method,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if method != Method::POST {
        return method_not_allowed(&state, "POST");
    }
    let params = crate::params::url_params(raw.as_deref());
    let bucket = params.get("bucket").cloned().unwrap_or_default();
    let (db, rp) = match bucket.split_once('/') {
        Some((d, r)) => (d.to_string(), Some(r.to_string())),
        None => (bucket, None),
    };
    let target = WriteTarget {
        db,
        rp,
        // The v2 API names microseconds `us`; the 1.x parameter knows only `u`.
        precision: match params.get("precision").map(String::as_str) {
            Some("us") => "u".to_string(),
            other => other.unwrap_or_default().to_string(),
        },
        consistency: params.get("consistency").cloned(),
    };
    let access = match write_access(&state, &params, &headers).await {
        Ok(a) => a,
        Err(refused) => return drained(refused, body).await,
    };
    do_write(state, access, target, headers, body).await
}

/// Reads a body of at most `limit` bytes. A larger body is drained (up to 64 MiB more) so
/// the client can read the 413 instead of seeing a broken pipe.
/// Why a request body could not be read.
pub(crate) enum BodyError {
    /// Over the size limit.
    TooLarge,
    /// The client stopped sending (or the connection broke).
    Stalled,
}

/// Largest `/query` body (form-encoded query text and parameters).
const MAX_QUERY_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The status and InfluxDB-shaped message of a body that could not be read.
pub(crate) fn body_error_status(e: BodyError) -> (StatusCode, &'static str) {
    match e {
        BodyError::TooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "http: request body too large",
        ),
        BodyError::Stalled => (
            StatusCode::REQUEST_TIMEOUT,
            "timeout reading the request body",
        ),
    }
}

pub(crate) async fn read_limited(
    mut body: Body,
    limit: usize,
    expected: Option<usize>,
) -> Result<Bytes, BodyError> {
    use http_body_util::BodyExt;
    // Sized from Content-Length (bounded: the header is the client's word), so a large
    // body is copied once instead of through a chain of doublings.
    let mut buf = bytes::BytesMut::with_capacity(expected.unwrap_or(0).min(limit).min(64 << 20));
    let mut over = false;
    let mut drained = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(BodyError::Stalled);
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if over {
            drained += data.len();
            if drained > 64 << 20 {
                break;
            }
            continue;
        }
        if buf.len() + data.len() > limit {
            over = true;
            continue;
        }
        buf.extend_from_slice(&data);
    }
    if over {
        Err(BodyError::TooLarge)
    } else {
        Ok(buf.freeze())
    }
}

/// Authenticates a write (before its body is read, as InfluxDB does).
pub(crate) async fn write_access(
    state: &HttpState,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<Access, Response> {
    let (u, p) = (params.get("u"), params.get("p"));
    authenticate(state, u.map(String::as_str), p.map(String::as_str), headers)
        .await
        .map_err(|e| auth_refusal(state, Format::Json, &e))
}

/// Answers a refusal after draining the body (so the client reads the answer instead of a
/// reset connection).
pub(crate) async fn drained(refused: Response, body: Body) -> Response {
    let _ = read_limited(body, 0, None).await;
    refused
}

async fn do_write(
    state: HttpState,
    access: Access,
    target: WriteTarget,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let WriteTarget {
        db,
        rp,
        precision,
        consistency,
    } = target;
    let format = negotiate(&headers);
    if let Some(refused) = memory_refusal(&state, format) {
        // Drained, not kept, so the client reads the 503 instead of a reset connection.
        let _ = read_limited(body, 0, None).await;
        return refused;
    }
    let limit = match state.config.max_body_bytes {
        0 => usize::MAX,
        n => n,
    };
    let expected = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let body = match read_limited(body, limit, expected).await {
        Ok(b) => b,
        Err(e) => {
            let (status, msg) = body_error_status(e);
            return query_error(&state, format, status, msg);
        }
    };
    state.metrics.write_bytes(body.len());
    let span = tracing::debug_span!("write", db = %db, bytes = body.len());
    async move {
        if db.is_empty() {
            return query_error(
                &state,
                format,
                StatusCode::BAD_REQUEST,
                "database is required",
            );
        }
        if let Err(e) = state.auth.authorize_write(&access, &db) {
            return auth_refusal(&state, Format::Json, &e);
        }
        // InfluxDB answers a missing database before it reads a compressed body.
        if !state.ingest.has_database(&db) {
            let missing = WriteError::DatabaseNotFound(db.clone());
            return query_error(&state, format, StatusCode::NOT_FOUND, &missing.to_string());
        }
        // Decompressed off the async workers: a body of many tiny gzip members takes
        // seconds of CPU (25 MB of empty members: 5 s), which must not stall other
        // requests.
        let limit = state.config.decoded_limit();
        let decoded = if is_gzip(&headers) {
            tokio::task::spawn_blocking(move || decode_gzip(&body, limit))
                .await
                .unwrap_or_else(|e| {
                    Err((
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("decompression failed: {e}"),
                    ))
                })
        } else {
            // Bounded as sent (`http.max_body_bytes`, already enforced while reading).
            Ok(body)
        };
        let body = match decoded {
            Ok(b) => b,
            Err((status, msg)) => {
                return query_error(&state, format, status, &msg);
            }
        };
        let precision = Precision::parse(&precision).unwrap_or_default();
        let consistency = match consistency.as_deref().filter(|c| !c.is_empty()) {
            None => Consistency::default(),
            Some(c) => match Consistency::parse(c) {
                Some(level) => level,
                None => {
                    return query_error(
                        &state,
                        format,
                        StatusCode::BAD_REQUEST,
                        "invalid consistency level",
                    )
                }
            },
        };
        let req = WriteRequest {
            database: &db,
            retention_policy: rp.as_deref().filter(|r| !r.is_empty()),
            precision,
            body: &body,
            consistency,
        };
        match state.ingest.write(req).await {
            Ok(_) => {
                let mut r = StatusCode::NO_CONTENT.into_response();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                with_headers(&state, r)
            }
            Err(e) => {
                if matches!(
                    e,
                    WriteError::Internal(_) | WriteError::InsufficientStorage(_)
                ) {
                    tracing::error!(error = %e, "write failed on the server side");
                }
                let status =
                    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let mut r = query_error(&state, format, status, &e.to_string());
                if matches!(
                    e,
                    WriteError::Overloaded { .. }
                        | WriteError::InsufficientStorage(_)
                        | WriteError::Draining
                ) {
                    r.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                }
                r
            }
        }
    }
    .instrument(span)
    .await
}

/// A request-level `/query` or `/write` error in the format the `Accept` header negotiates
/// (`{"error": ...}` in JSON and MessagePack, `error\n<message>\n` in CSV), never
/// compressed (InfluxDB gzips 200s only). InfluxDB answers every route through the same
/// negotiating writer, so a `/write` error is MessagePack for the Python client, which
/// sends `Accept: application/x-msgpack` on writes too.
pub(crate) fn query_error(
    state: &HttpState,
    format: Format,
    status: StatusCode,
    msg: &str,
) -> Response {
    if format == Format::Json {
        return error_response(state, status, msg);
    }
    let body = match format {
        Format::Msgpack => Body::from(crate::msgpack::render_error(msg)),
        _ => Body::from(crate::csv::render_error(msg)),
    };
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Some(v) = error_header(msg) {
        r.headers_mut().insert("X-Influxdb-Error", v);
    }
    with_headers(state, r)
}

async fn query(
    State(state): State<HttpState>,
    method: Method,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if method == Method::OPTIONS {
        return preflight(&state);
    }
    if method != Method::GET && method != Method::POST {
        return method_not_allowed(&state, "OPTIONS, GET, POST");
    }
    let format = negotiate(&headers);
    if let Some(refused) = memory_refusal(&state, format) {
        return refused;
    }
    // Credentials come from the URL (not a form body) and headers, as in InfluxDB.
    let url_params = raw
        .as_deref()
        .map(|q| form_urlencoded_pairs(q.as_bytes()))
        .unwrap_or_default();
    let url_param = |k: &str| {
        url_params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };
    let access = match authenticate(&state, url_param("u"), url_param("p"), &headers).await {
        Ok(a) => a,
        Err(e) => {
            return auth_refusal(&state, format, &e);
        }
    };
    // A form body carries the query text: bounded like axum's default (2 MiB), and a
    // client that stops sending gets 408 like on `/write`.
    let body = match read_limited(body, MAX_QUERY_BODY_BYTES, None).await {
        Ok(b) => b,
        Err(e) => {
            let (status, msg) = body_error_status(e);
            return query_error(&state, format, status, msg);
        }
    };
    let params = query_params(raw.as_deref(), &headers, &body);
    let q = params.get("q").cloned().unwrap_or_default();
    let span = tracing::debug_span!(
        "query",
        db = params.get("db").map(String::as_str).unwrap_or("")
    );
    async move {
        if q.trim().is_empty() {
            return query_error(
                &state,
                format,
                StatusCode::BAD_REQUEST,
                "missing required parameter \"q\"",
            );
        }
        let bind = match params.get("params").filter(|p| !p.is_empty()) {
            None => BTreeMap::new(),
            Some(text) => match parse_bind_params(text) {
                Ok(b) => b,
                Err(e) => return query_error(&state, format, StatusCode::BAD_REQUEST, &e),
            },
        };
        let epoch = match params.get("epoch").map(String::as_str) {
            None | Some("") => Epoch::Rfc3339,
            // InfluxDB prints nanoseconds for an epoch value it does not know.
            Some(e) => Epoch::Unit(Precision::parse(e).unwrap_or(Precision::Nanoseconds)),
        };
        // From the URL only, as InfluxDB's response writer reads it.
        let pretty = crate::pretty::url_asks_pretty(raw.as_deref());
        let chunked = params.get("chunked").is_some_and(|p| p == "true");
        let chunk_size = params
            .get("chunk_size")
            .and_then(|c| c.parse::<usize>().ok())
            .filter(|c| *c > 0)
            .unwrap_or(state.config.default_chunk_size);
        let req = QueryRequest {
            read_only: method == Method::GET,
            query: q,
            database: params.get("db").cloned().filter(|d| !d.is_empty()),
            retention_policy: params.get("rp").cloned().filter(|d| !d.is_empty()),
            params: bind,
            access,
            interrupt: Interrupt::default(),
        };
        let executor = Arc::clone(&state.query);
        let interrupt = req.interrupt.clone();
        let run = state.gate.run(async move { executor.execute(req).await });
        let results = match until_killed(run, &interrupt).await {
            Err(refused) => {
                vec![StatementResult::error(0, refused.to_string())]
            }
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                let status = match e {
                    QueryRequestError::Unauthorized(_) => StatusCode::FORBIDDEN,
                    _ => StatusCode::BAD_REQUEST,
                };
                return query_error(&state, format, status, &e.to_string());
            }
        };
        let results = if chunked {
            results
        } else {
            merge_by_statement(results)
        };
        if chunked && format != Format::Csv && !accepts_gzip(&headers) {
            // Each chunk is rendered as the connection takes it, never the whole answer
            // at once.
            let mut resp = stream_chunks(format, results, epoch, pretty, chunk_size);
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            );
            return with_headers(&state, resp);
        }
        let body = match render_body(
            format,
            results,
            epoch,
            pretty,
            chunked.then_some(chunk_size),
        ) {
            Ok(body) => body,
            Err(e) => {
                tracing::error!(error = %e, "rendering the answer failed");
                return query_error(
                    &state,
                    format,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &e.to_string(),
                );
            }
        };
        let mut resp = maybe_gzip(&headers, body);
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        );
        with_headers(&state, resp)
    }
    .instrument(span)
    .await
}

/// How long a killed query may take to answer by itself (with the results of the
/// statements before) before the handler answers for it.
const KILL_GRACE: std::time::Duration = std::time::Duration::from_millis(250);

/// Waits for a query's answer; once `KILL QUERY` fires its interrupt, for at most
/// [`KILL_GRACE`] more: a statement busy computing only notices at its next await, and
/// the kill must be answered at once (dropping `run` aborts the query's task).
async fn until_killed<T>(
    run: impl std::future::Future<
        Output = Result<Result<Vec<StatementResult>, T>, crate::AdmissionError>,
    >,
    interrupt: &Interrupt,
) -> Result<Result<Vec<StatementResult>, T>, crate::AdmissionError> {
    tokio::pin!(run);
    tokio::select! {
        r = &mut run => r,
        _ = interrupt.fired() => match tokio::time::timeout(KILL_GRACE, &mut run).await {
            Ok(r) => r,
            Err(_) => Ok(Ok(vec![StatementResult::error(
                interrupt.statement(),
                QUERY_INTERRUPTED,
            )])),
        },
    }
}

/// A `chunked=true` answer (JSON or MessagePack) as a streamed body: one document per
/// chunk, rendered when the connection is ready for it. A chunk that cannot be rendered
/// ends the stream (the client sees a truncated answer, as from InfluxDB).
fn stream_chunks(
    format: Format,
    results: Vec<StatementResult>,
    epoch: Epoch,
    pretty: bool,
    size: usize,
) -> Response {
    let pieces = chunk_results(results, size).into_iter().map(move |c| {
        let one = std::slice::from_ref(&c);
        match format {
            Format::Msgpack => {
                let mut out = Vec::new();
                crate::msgpack::render_results(&mut out, one, epoch)?;
                Ok(Bytes::from(out))
            }
            _ => {
                let mut text = render_results(one, RenderOptions { epoch, pretty });
                text.push('\n');
                Ok::<_, std::io::Error>(Bytes::from(text))
            }
        }
    });
    (
        StatusCode::OK,
        Body::from_stream(futures_util::stream::iter(pieces)),
    )
        .into_response()
}

/// The body of a successful `/query` answer in the negotiated format; `chunk` is the chunk
/// size of `chunked=true`.
fn render_body(
    format: Format,
    results: Vec<StatementResult>,
    epoch: Epoch,
    pretty: bool,
    chunk: Option<usize>,
) -> std::io::Result<Vec<u8>> {
    Ok(match format {
        Format::Json => {
            let opts = RenderOptions { epoch, pretty };
            let mut text = String::new();
            if let Some(size) = chunk {
                for c in chunk_results(results, size) {
                    text.push_str(&render_results(&[c], opts));
                    text.push('\n');
                }
            } else {
                text = render_results(&results, opts);
                text.push('\n');
            }
            text.into_bytes()
        }
        // InfluxDB's CSV formatter keeps its state across chunks: chunking changes nothing
        // in the text.
        Format::Csv => crate::csv::render_results(&results, epoch).into_bytes(),
        Format::Msgpack => {
            // One document per chunk, back to back, as InfluxDB streams them.
            let mut out = Vec::new();
            if let Some(size) = chunk {
                for c in chunk_results(results, size) {
                    crate::msgpack::render_results(&mut out, std::slice::from_ref(&c), epoch)?;
                }
            } else {
                crate::msgpack::render_results(&mut out, &results, epoch)?;
            }
            out
        }
    })
}

/// An unchunked answer holds one result per statement id, as InfluxDB buffers it: a
/// result with the id of the one before replaces it when it is an error (the `not
/// executed` results that follow a failed statement carry that statement's id), and adds
/// its series and messages to it otherwise.
fn merge_by_statement(results: Vec<StatementResult>) -> Vec<StatementResult> {
    let mut out: Vec<StatementResult> = Vec::with_capacity(results.len());
    for r in results {
        match out.last_mut() {
            Some(last) if last.statement_id == r.statement_id => {
                if r.error.is_some() {
                    *last = r;
                } else {
                    last.series.extend(r.series);
                    last.messages.extend(r.messages);
                }
            }
            _ => out.push(r),
        }
    }
    out
}

/// Splits statement results into chunks the way InfluxDB streams them: every chunk holds
/// one piece (at most `size` rows) of one series; a series continued in the next chunk is
/// `partial`, and a statement with more chunks to come is `partial`. Results its metadata
/// executor builds go whole, or a series per chunk, never `partial` ([`Chunking`]).
fn chunk_results(results: Vec<StatementResult>, size: usize) -> Vec<StatementResult> {
    let mut out = Vec::new();
    for r in results {
        if r.error.is_some() || r.series.is_empty() || r.chunking == Chunking::Whole {
            out.push(r);
            continue;
        }
        if r.chunking == Chunking::PerSeries {
            let mut shell = r;
            for s in std::mem::take(&mut shell.series) {
                out.push(StatementResult {
                    series: vec![s],
                    ..shell.clone()
                });
            }
            continue;
        }
        let id = r.statement_id;
        let mut pieces: Vec<hyperbyte_domain::query::Series> = Vec::new();
        for mut s in r.series {
            if s.values.len() <= size {
                pieces.push(s);
                continue;
            }
            // Rows move into their chunk once; only the (empty) series shell is cloned.
            let mut rows = std::mem::take(&mut s.values).into_iter();
            while rows.len() > 0 {
                let mut piece = s.clone();
                piece.values = rows.by_ref().take(size).collect();
                piece.partial = rows.len() > 0;
                pieces.push(piece);
            }
        }
        let n = pieces.len();
        for (i, p) in pieces.into_iter().enumerate() {
            out.push(StatementResult {
                statement_id: id,
                series: vec![p],
                messages: if i == 0 {
                    r.messages.clone()
                } else {
                    Vec::new()
                },
                error: None,
                partial: i + 1 < n,
                time_zone: r.time_zone.clone(),
                chunking: Chunking::Rows,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyperbyte_domain::query::{Series, Value};
    use std::io::Read;

    /// The header carries InfluxDB's first 1,024 bytes of a long error (cut inside a
    /// character as InfluxDB cuts), control characters as spaces; short ones whole.
    #[test]
    fn the_error_header_is_cut_at_1024_bytes_as_influxdb_cuts_it() {
        let long = format!("unable to parse 'm {}=1': bad", "é".repeat(2000));
        let v = error_header(&long).unwrap();
        assert_eq!(v.as_bytes(), &long.as_bytes()[..1024]);
        let short = error_header("a\nb\rc\td").unwrap();
        assert_eq!(short.as_bytes(), b"a b c\td");
    }

    #[test]
    fn form_decoding() {
        let p = form_urlencoded_pairs(b"q=SELECT+%2A+FROM+cpu&db=x&empty=");
        assert_eq!(p[0], ("q".into(), "SELECT * FROM cpu".into()));
        assert_eq!(p[1], ("db".into(), "x".into()));
        assert_eq!(p[2], ("empty".into(), "".into()));
        // Go's ParseQuery leaves out pairs with a `;` or an invalid escape, not the rest.
        let p = form_urlencoded_pairs(b"q=SHOW%ZZX&db=d&x=1;y=2&z=%4&w=%e2%82%ac");
        assert_eq!(
            p,
            vec![("db".into(), "d".into()), ("w".into(), "\u{20ac}".into())]
        );
    }

    fn accept(values: &[&str]) -> Format {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        }
        negotiate(&h)
    }

    #[test]
    fn negotiates_like_influxdb_1_8() {
        assert_eq!(accept(&[]), Format::Json);
        assert_eq!(accept(&["application/x-msgpack"]), Format::Msgpack);
        assert_eq!(accept(&["Application/X-MsgPack"]), Format::Msgpack);
        assert_eq!(accept(&["application/csv"]), Format::Csv);
        assert_eq!(accept(&["text/csv; charset=utf-8"]), Format::Csv);
        assert_eq!(accept(&["text/html"]), Format::Json);
        // The first supported clause wins, ordered by q.
        assert_eq!(
            accept(&["application/x-msgpack, application/json"]),
            Format::Msgpack
        );
        assert_eq!(
            accept(&["application/x-msgpack;q=0.5, text/csv"]),
            Format::Csv
        );
        assert_eq!(
            accept(&["text/html", "application/x-msgpack"]),
            Format::Msgpack
        );
        // Wildcards match the first supported type: JSON.
        assert_eq!(accept(&["*/*"]), Format::Json);
        assert_eq!(accept(&["text/*"]), Format::Csv);
        assert_eq!(
            accept(&["text/html,application/xhtml+xml,*/*;q=0.8"]),
            Format::Json
        );
        // Malformed clauses are skipped; an unparsable q counts as 0.
        assert_eq!(accept(&["application/x-msgpack;;q"]), Format::Json);
        assert_eq!(
            accept(&["application/x-msgpack;q=x, text/csv;q=0.1"]),
            Format::Csv
        );
    }

    fn five_rows() -> Vec<StatementResult> {
        vec![StatementResult {
            series: vec![Series {
                name: Some("cpu".into()),
                columns: vec!["time".into(), "v".into()],
                values: (0..5)
                    .map(|i| vec![Value::Time(i), Value::Float(i as f64)])
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }]
    }

    #[test]
    fn bodies_per_format() {
        let json = render_body(Format::Json, five_rows(), Epoch::Rfc3339, false, Some(2)).unwrap();
        assert_eq!(String::from_utf8(json).unwrap().lines().count(), 3);
        // MessagePack: one document per chunk.
        let mp = render_body(Format::Msgpack, five_rows(), Epoch::Rfc3339, false, Some(2)).unwrap();
        let mut rd = &mp[..];
        let mut docs = Vec::new();
        while !rd.is_empty() {
            docs.push(rmpv::decode::read_value(&mut rd).unwrap());
        }
        assert_eq!(docs.len(), 3);
        let whole = render_body(Format::Msgpack, five_rows(), Epoch::Rfc3339, true, None).unwrap();
        let mut rd = &whole[..];
        rmpv::decode::read_value(&mut rd).unwrap();
        assert!(rd.is_empty());
        // CSV: chunking changes nothing.
        let unit = Epoch::Unit(Precision::Seconds);
        assert_eq!(
            render_body(Format::Csv, five_rows(), unit, false, Some(2)).unwrap(),
            render_body(Format::Csv, five_rows(), unit, false, None).unwrap()
        );
    }

    #[test]
    fn unchunked_answers_merge_results_by_statement_id() {
        let ok = |id: usize| StatementResult {
            statement_id: id,
            ..Default::default()
        };
        let merged = merge_by_statement(vec![
            ok(0),
            StatementResult::error(1, "undefined function nope()"),
            StatementResult::error(1, "not executed"),
            StatementResult::error(1, "not executed"),
        ]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[1].statement_id, 1);
        assert_eq!(merged[1].error.as_deref(), Some("not executed"));
        assert_eq!(merge_by_statement(vec![ok(0), ok(1)]).len(), 2);
    }

    #[test]
    fn gzip_when_accepted() {
        let body = render_body(Format::Msgpack, five_rows(), Epoch::Rfc3339, false, None).unwrap();
        let mut h = HeaderMap::new();
        let r = maybe_gzip(&h, body.clone());
        assert!(r.headers().get(header::CONTENT_ENCODING).is_none());
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("deflate, gzip;q=1.0"),
        );
        let r = maybe_gzip(&h, body.clone());
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
        let gz = body_bytes(r);
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);
    }

    fn body_bytes(r: Response) -> Bytes {
        use http_body_util::BodyExt;
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(r.into_body().collect())
            .unwrap()
            .to_bytes()
    }

    #[test]
    fn chunks_split_series() {
        let s = Series {
            name: Some("cpu".into()),
            columns: vec!["time".into()],
            values: (0..5).map(|i| vec![Value::Time(i)]).collect(),
            ..Default::default()
        };
        let r = StatementResult {
            series: vec![s],
            ..Default::default()
        };
        let chunks = chunk_results(vec![r.clone(), r], 2);
        assert_eq!(chunks.len(), 6);
        assert!(chunks[0].partial && chunks[0].series[0].partial);
        assert!(!chunks[2].partial && !chunks[2].series[0].partial);
        assert_eq!(chunks[2].series[0].values.len(), 1);
    }
}
