//! Per-request observation: a request id, a tracing span, the access log line and the
//! request metrics, for every route.
//!
//! The id is made once per request, before the handler runs, and is the one the answer
//! carries in `Request-Id` and `X-Request-Id` (InfluxDB sends both) and the one every log
//! line of the request names (the `http` span's `request_id`), so a client's report can be
//! matched with the server's log. The access log line (target `hyperbyte::access`, level
//! info) is structured: method, path without the query string (it may carry `p=`, a
//! password), status, user agent, duration; silence it with `hyperbyte::access=off` in the log level.

use crate::metrics::{endpoint_of, Metrics};
use crate::router::HttpState;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::atomic::Ordering;
use std::time::Instant;
use tracing::Instrument;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being answered (`None` outside a request).
pub(crate) fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// A new request id: time-based, unique per process (a counter in the last group), in
/// the UUID-like shape InfluxDB uses.
pub(crate) fn new_request_id(state: &HttpState) -> String {
    let n = state.request_ids.fetch_add(1, Ordering::Relaxed);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        (now >> 32) as u32,
        (now >> 16) as u16,
        now as u16,
        (n >> 48) as u16,
        n & 0xffff_ffff_ffff
    )
}

/// Counts a request as active until it is answered or abandoned (client gone).
struct Active<'a>(&'a Metrics);

impl Drop for Active<'_> {
    fn drop(&mut self) {
        self.0.finished();
    }
}

/// The middleware every route runs behind.
pub(crate) async fn observe(State(state): State<HttpState>, req: Request, next: Next) -> Response {
    let id = new_request_id(&state);
    let endpoint = endpoint_of(req.uri().path());
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let user_agent = req
        .headers()
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let span = tracing::info_span!("http", request_id = %id, endpoint);
    let started = Instant::now();
    state.metrics.started();
    let _active = Active(&state.metrics);
    let mut resp = REQUEST_ID
        .scope(id.clone(), next.run(req))
        .instrument(span.clone())
        .await;
    let took = started.elapsed();
    let status = resp.status().as_u16();
    state.metrics.answered(endpoint, status, took);
    if !resp.headers().contains_key("X-Request-Id") {
        if let Ok(v) = HeaderValue::from_str(&id) {
            resp.headers_mut().insert("Request-Id", v.clone());
            resp.headers_mut().insert("X-Request-Id", v);
        }
    }
    span.in_scope(|| {
        tracing::info!(
            target: "hyperbyte::access",
            method = %method,
            path = %path,
            status,
            user_agent = %user_agent,
            duration_us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            "request"
        );
    });
    resp
}
