//! The peer listener (`cluster.bind`): the consensus RPCs, forwarded metadata commands,
//! joins and leaves, replicated writes and `/cluster/status`, over plain HTTP/1 (hyper).
//! It belongs on the cluster's private network: it does not authenticate callers.

use crate::network::{APPEND_PATH, SNAPSHOT_PATH, VOTE_PATH};
use crate::node::{
    AdmitError, ClusterNode, JoinRequest, DRAIN_PATH, JOIN_PATH, LEAVE_PATH, META_PATH,
};
use crate::replication::{RangeRequest, WireDigest, DIGESTS_PATH, POINTS_PATH, WRITE_PATH};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyperbyte_application::cluster::AntiEntropy;
use hyperbyte_application::IngestionService;
use hyperbyte_domain::MetaCommand;
use hyperbyte_ports::ReplicatedBatch;
use serde::de::DeserializeOwned;
use std::sync::{Arc, OnceLock};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How long a member behind an anti-entropy asker's metadata waits to catch up before
/// it answers `503`.
const CATCH_UP_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Largest request body (a replicated write is at most a client's write body).
const MAX_BODY_BYTES: usize = 512 << 20;

/// Path of the status page.
pub const STATUS_PATH: &str = "/cluster/status";

/// What the peer listener serves.
#[derive(Debug, Clone)]
pub struct PeerService {
    node: Arc<ClusterNode>,
    /// Set once the services exist (replicated writes answer 503 until then).
    ingest: Arc<OnceLock<Arc<IngestionService>>>,
    /// Set once the services exist (anti-entropy requests answer 503 until then).
    anti_entropy: Arc<OnceLock<Arc<AntiEntropy>>>,
}

impl PeerService {
    /// The service of `node`; `ingest` and `anti_entropy` are filled in once the services
    /// exist.
    pub fn new(
        node: Arc<ClusterNode>,
        ingest: Arc<OnceLock<Arc<IngestionService>>>,
        anti_entropy: Arc<OnceLock<Arc<AntiEntropy>>>,
    ) -> Self {
        PeerService {
            node,
            ingest,
            anti_entropy,
        }
    }
}

type Answer = Response<Full<Bytes>>;

fn answer(status: StatusCode, body: impl Into<Bytes>) -> Answer {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r
}

fn json<T: serde::Serialize>(value: &T) -> Answer {
    match serde_json::to_vec(value) {
        Ok(b) => {
            let mut r = answer(StatusCode::OK, b);
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/json"),
            );
            r
        }
        Err(e) => answer(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

/// Serves peers on `listener` until `shutdown` turns true.
pub async fn serve_peers(
    listener: TcpListener,
    service: PeerService,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => {
                if *shutdown.borrow() { return; }
                continue;
            }
        };
        let (stream, _) = match accepted {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "peer listener accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = service.clone();
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let service = service.clone();
                async move { Ok::<_, std::convert::Infallible>(service.route(req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc);
            let mut conn = std::pin::pin!(conn);
            // Kept-alive connections end with the listener: a peer must not keep talking
            // to a stopped node's consensus.
            let ended = tokio::select! {
                r = conn.as_mut() => r,
                _ = stopped(&mut stop) => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = ended {
                tracing::debug!(error = %e, "peer connection ended");
            }
        });
    }
}

/// Completes once `stop` turns true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    loop {
        let now = *stop.borrow();
        if now || stop.changed().await.is_err() {
            return;
        }
    }
}

impl PeerService {
    async fn route(&self, req: Request<Incoming>) -> Answer {
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let query = req.uri().query().unwrap_or_default().to_string();
        if method == Method::GET && path == STATUS_PATH {
            return json(&self.node.status());
        }
        if method != Method::POST {
            return answer(StatusCode::METHOD_NOT_ALLOWED, "");
        }
        let body = match Limited::new(req.into_body(), MAX_BODY_BYTES)
            .collect()
            .await
        {
            Ok(b) => b.to_bytes(),
            Err(e) => return answer(StatusCode::BAD_REQUEST, e.to_string()),
        };
        let span = tracing::debug_span!("peer_request", path = %path);
        let _guard = span.enter();
        match path.as_str() {
            APPEND_PATH => match parse(&body) {
                Ok(rpc) => json(&self.node.raft().append_entries(rpc).await),
                Err(e) => answer(StatusCode::BAD_REQUEST, e),
            },
            VOTE_PATH => match parse(&body) {
                Ok(rpc) => json(&self.node.raft().vote(rpc).await),
                Err(e) => answer(StatusCode::BAD_REQUEST, e),
            },
            SNAPSHOT_PATH => match parse(&body) {
                Ok(rpc) => json(&self.node.raft().install_snapshot(rpc).await),
                Err(e) => answer(StatusCode::BAD_REQUEST, e),
            },
            META_PATH => match parse::<MetaCommand>(&body) {
                Ok(cmd) => json(&self.node.propose_here(cmd).await),
                Err(e) => answer(StatusCode::BAD_REQUEST, e),
            },
            JOIN_PATH => match parse::<JoinRequest>(&body) {
                Ok(j) => match self.node.admit(j).await {
                    Ok(()) => answer(StatusCode::OK, ""),
                    Err(AdmitError::Refused { status, reason }) => answer(
                        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                        reason,
                    ),
                    Err(AdmitError::Unavailable(e)) => answer(StatusCode::SERVICE_UNAVAILABLE, e),
                },
                Err(e) => answer(StatusCode::BAD_REQUEST, e),
            },
            LEAVE_PATH => match parse::<u64>(&body) {
                Ok(id) => match self.node.remove(id).await {
                    Ok(()) => answer(StatusCode::OK, ""),
                    Err(e) => answer(StatusCode::SERVICE_UNAVAILABLE, e),
                },
                Err(e) => answer(StatusCode::BAD_REQUEST, e),
            },
            DRAIN_PATH => match self.node.drain(std::time::Duration::from_secs(60)).await {
                Ok(()) => answer(StatusCode::OK, ""),
                Err(e) => answer(StatusCode::SERVICE_UNAVAILABLE, e),
            },
            WRITE_PATH => self.replicated_write(&query, body).await,
            DIGESTS_PATH | POINTS_PATH => match parse::<RangeRequest>(&body) {
                Ok(req) => self.anti_entropy(&path, req).await,
                Err(e) => answer(StatusCode::BAD_REQUEST, e),
            },
            _ => answer(StatusCode::NOT_FOUND, ""),
        }
    }

    /// Anti-entropy: this node's digests of a table, or its points of a range.
    async fn anti_entropy(&self, path: &str, req: RangeRequest) -> Answer {
        let Some(ae) = self.anti_entropy.get() else {
            return answer(StatusCode::SERVICE_UNAVAILABLE, "starting");
        };
        // A drop or delete the asker applied may not have run here yet: the points it
        // removed must not travel back. A follower trails the leader by a round trip, so
        // it waits a little before refusing.
        if !self.node.applied_at_least(req.applied, CATCH_UP_WAIT).await {
            let applied = self.node.applied_index();
            return answer(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "metadata behind the asker's (applied {applied} < {})",
                    req.applied
                ),
            );
        }
        let table = req.table();
        if path == DIGESTS_PATH {
            match ae.digests(&table).await {
                Ok(d) => {
                    let wire: Vec<WireDigest> = d
                        .into_iter()
                        .map(|d| (d.start, d.end, d.points, d.hash))
                        .collect();
                    json(&wire)
                }
                Err(e) => answer(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            }
        } else {
            match ae.points(&table, req.start, req.end).await {
                Ok(lines) => answer(StatusCode::OK, lines),
                Err(e) => answer(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            }
        }
    }

    async fn replicated_write(&self, query: &str, body: Bytes) -> Answer {
        let Some(ingest) = self.ingest.get() else {
            return answer(StatusCode::SERVICE_UNAVAILABLE, "starting");
        };
        let mut origin = None;
        let mut sequence = None;
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("origin", v)) => origin = v.parse::<u64>().ok(),
                Some(("sequence", v)) => sequence = v.parse::<u64>().ok(),
                _ => {}
            }
        }
        let (Some(origin), Some(sequence)) = (origin, sequence) else {
            return answer(StatusCode::BAD_REQUEST, "origin and sequence are required");
        };
        let batch = ReplicatedBatch {
            origin,
            sequence,
            bytes: Arc::from(&body[..]),
        };
        match ingest.apply_replicated(&batch).await {
            Ok(_) => answer(StatusCode::NO_CONTENT, ""),
            Err(e) => {
                let status =
                    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                answer(status, e.to_string())
            }
        }
    }
}
