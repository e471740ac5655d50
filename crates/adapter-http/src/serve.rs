//! The HTTP server loop: the router over hyper with the limits a server exposed to slow,
//! stalled or too many clients needs.
//!
//! Why not `axum::serve`: it has no header read timeout, no connection limit, and its
//! graceful shutdown waits for every connection, so one client that never finishes its
//! request could keep the process from stopping. Here:
//! - at most `max_connections` connections are served at once; further ones wait in the
//!   listen backlog until one closes;
//! - a connection that does not deliver a request's headers within
//!   `header_read_timeout` (also between keep-alive requests) is closed;
//! - request bodies that stall for `body_read_timeout` end with an error
//!   (the write handler answers `408`);
//! - on shutdown, connections finish their current request within `shutdown_timeout`
//!   and are then closed.

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Stands for "no body timeout" (a year without a byte).
const NO_BODY_TIMEOUT: Duration = Duration::from_secs(365 * 86_400);

/// Connection limits of [`serve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeConfig {
    /// Connections served at once (0 = no limit).
    pub max_connections: usize,
    /// Time a client has to send a request's headers (0 = no limit).
    pub header_read_timeout: Duration,
    /// Time a request body may go without delivering data (0 = no limit).
    pub body_read_timeout: Duration,
    /// Time connections get to finish after a shutdown begins.
    pub shutdown_timeout: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(30),
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets connections finish
/// within the shutdown timeout.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    cfg: ServeConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    // Around the router, so handlers see bodies that end with an error once stalled.
    let body_timeout = if cfg.body_read_timeout.is_zero() {
        NO_BODY_TIMEOUT
    } else {
        cfg.body_read_timeout
    };
    let app = tower::ServiceBuilder::new()
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            body_timeout,
        ))
        .service(app);
    let slots = (cfg.max_connections > 0).then(|| Arc::new(Semaphore::new(cfg.max_connections)));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut conns = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = match &slots {
            Some(s) => tokio::select! {
                p = Arc::clone(s).acquire_owned() => p.ok(),
                _ = &mut shutdown => break,
            },
            None => None,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        // Finished connections are reaped as new ones arrive.
        while conns.try_join_next().is_some() {}
        let service = TowerToHyperService::new(app.clone());
        let mut stop = stop_rx.clone();
        let header_timeout = cfg.header_read_timeout;
        conns.spawn(async move {
            let _permit = permit;
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new());
            // With a timer, hyper applies its own 30 s unless told otherwise: 0 = none.
            http.header_read_timeout((!header_timeout.is_zero()).then_some(header_timeout));
            let conn = http.serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                    return;
                }
                _ = stop.wait_for(|s| *s) => conn.as_mut().graceful_shutdown(),
            }
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error during shutdown");
            }
        });
    }
    let _ = stop_tx.send(true);
    drop(listener);
    let all_done = async { while conns.join_next().await.is_some() {} };
    if tokio::time::timeout(cfg.shutdown_timeout, all_done)
        .await
        .is_err()
    {
        tracing::warn!(
            left = conns.len(),
            "connections still open after the shutdown timeout; closing them"
        );
        conns.abort_all();
        while conns.join_next().await.is_some() {}
    }
    Ok(())
}
