//! The HTTP client every member uses to talk to the others (consensus RPCs, forwarded
//! metadata commands, replicated writes), with the outcome of the last call per address,
//! which `/cluster/status` shows as reachability.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::Duration;

/// Largest answer a peer may send (a snapshot chunk, a status).
const MAX_ANSWER_BYTES: usize = 64 << 20;

/// A call to a peer failed before it answered.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// No connection, or the connection broke.
    #[error("{addr}: {reason}")]
    Unreachable {
        /// The peer's address.
        addr: String,
        /// Why.
        reason: String,
    },
    /// No answer within the time allowed.
    #[error("{addr}: no answer within {timeout:?}")]
    Timeout {
        /// The peer's address.
        addr: String,
        /// The time allowed.
        timeout: Duration,
    },
}

/// A peer's answer: status and body.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: Bytes,
}

/// Pooled HTTP/1 connections to the peers.
#[derive(Debug)]
pub struct PeerClient {
    http: Client<HttpConnector, Full<Bytes>>,
    last_ok: Mutex<HashMap<String, bool>>,
}

impl Default for PeerClient {
    fn default() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(2)));
        PeerClient {
            http: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .build(connector),
            last_ok: Mutex::new(HashMap::new()),
        }
    }
}

impl PeerClient {
    /// POSTs `body` (JSON or bytes) to `http://{addr}{path}` within `timeout`.
    pub async fn post(
        &self,
        addr: &str,
        path: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Answer, PeerError> {
        let result = tokio::time::timeout(timeout, self.send(addr, path, body)).await;
        let result = match result {
            Ok(r) => r,
            Err(_) => Err(PeerError::Timeout {
                addr: addr.to_string(),
                timeout,
            }),
        };
        self.last_ok.lock().insert(addr.to_string(), result.is_ok());
        result
    }

    async fn send(&self, addr: &str, path: &str, body: Vec<u8>) -> Result<Answer, PeerError> {
        let unreachable = |reason: String| PeerError::Unreachable {
            addr: addr.to_string(),
            reason,
        };
        let req = hyper::Request::post(format!("http://{addr}{path}"))
            .header("content-type", "application/octet-stream")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| unreachable(e.to_string()))?;
        let resp = self
            .http
            .request(req)
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let status = resp.status().as_u16();
        let limited = http_body_util::Limited::new(resp.into_body(), MAX_ANSWER_BYTES);
        let body = limited
            .collect()
            .await
            .map_err(|e| unreachable(e.to_string()))?
            .to_bytes();
        Ok(Answer { status, body })
    }

    /// Whether the last call to `addr` got an answer (`None`: never called).
    pub fn last_contact_ok(&self, addr: &str) -> Option<bool> {
        self.last_ok.lock().get(addr).copied()
    }
}
