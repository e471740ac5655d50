//! The HTTP server loop: the router over hyper with the limits a server exposed to slow,
//! stalled or too many clients needs.
//!
//! Why not `axum::serve`: it has no header read timeout, no connection limit, and its
//! graceful shutdown waits for every connection, so one client that never finishes its
//! request could keep the process from stopping. Here:
//! - at most `max_connections` connections are served at once; further ones wait in the
//!   listen backlog until one closes;
//! - a connection that does not deliver a request's headers within
//!   `header_read_timeout` (from its start, or from a request's first byte) is closed,
//!   and so is one left idle between keep-alive requests for `idle_timeout`
//!   ([`clock`]: hyper's own header timeout also counted the idle time);
//! - request bodies that stall for `body_read_timeout` end with an error
//!   (the write handler answers `408`);
//! - on shutdown, connections finish their current request within `shutdown_timeout`
//!   and are then closed;
//! - with a [`TlsAcceptor`] ([`tls_acceptor`]: PEM certificate chain and key, rustls with
//!   the ring provider), every connection is HTTPS; its handshake must finish within the
//!   header read timeout.

mod clock;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
pub use tokio_rustls::TlsAcceptor;

/// Why TLS could not be set up (names the file).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate file.
    #[error("certificate {path}: {reason}")]
    Certificate {
        /// File.
        path: String,
        /// Why.
        reason: String,
    },
    /// The key file.
    #[error("private key {path}: {reason}")]
    Key {
        /// File.
        path: String,
        /// Why.
        reason: String,
    },
}

/// Builds the TLS acceptor from a PEM certificate chain and a PEM private key (PKCS#8,
/// PKCS#1 or SEC1).
pub fn tls_acceptor(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<TlsAcceptor, TlsError> {
    let cert_err = |reason: String| TlsError::Certificate {
        path: cert.display().to_string(),
        reason,
    };
    let key_err = |reason: String| TlsError::Key {
        path: key.display().to_string(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(cert)
        .map_err(|e| cert_err(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_err(e.to_string()))?;
    if certs.is_empty() {
        return Err(cert_err("no PEM certificate found".into()));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| key_err(e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| cert_err(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key_der)
        .map_err(|e| key_err(e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The default [`ServeConfig::idle_timeout`], in seconds. InfluxDB has none; a server
/// with a bounded number of connection slots needs one, or clients that leak pooled
/// connections take them all. Longer than the pools of common clients keep an idle
/// connection (Go's 90 s), so they close first, and away from the usual polling
/// periods (30 s, 1 and 2 minutes), where a client's request and the server's close
/// would cross.
pub const IDLE_TIMEOUT_SECS: u64 = 100;

/// Stands for "no body timeout" (a year without a byte).
const NO_BODY_TIMEOUT: Duration = Duration::from_secs(365 * 86_400);

/// Connection limits of [`serve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeConfig {
    /// Connections served at once (0 = no limit).
    pub max_connections: usize,
    /// Time a client has to send a request's headers, from the connection's start or
    /// from a request's first byte (0 = no limit).
    pub header_read_timeout: Duration,
    /// Time a kept-alive connection may wait for its next request (0 = no limit).
    pub idle_timeout: Duration,
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
            idle_timeout: Duration::from_secs(IDLE_TIMEOUT_SECS),
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
    serve_tls(listener, app, cfg, None, shutdown).await
}

/// [`serve`], over TLS when `tls` is given.
pub async fn serve_tls(
    listener: TcpListener,
    app: Router,
    cfg: ServeConfig,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    // Around the router, so handlers see bodies that end with an error once stalled.
    let body_timeout = limit(cfg.body_read_timeout).unwrap_or(NO_BODY_TIMEOUT);
    let app = tower::ServiceBuilder::new()
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            body_timeout,
        ))
        .service(app);
    let slots = (cfg.max_connections > 0).then(|| Arc::new(Semaphore::new(cfg.max_connections)));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut conns = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    // `shutdown` is polled before anything is accepted (`biased`): a signal future
    // installs its handler when first polled, and a connection already waiting in the
    // backlog (a client polling `/ping` while the server starts) would otherwise be
    // answered first, so a SIGTERM sent right after that answer killed the process with
    // the signal's default action instead of stopping it cleanly.
    loop {
        let permit = match &slots {
            Some(s) => tokio::select! {
                biased;
                _ = &mut shutdown => break,
                p = Arc::clone(s).acquire_owned() => p.ok(),
            },
            None => None,
        };
        let (stream, peer) = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        // Finished connections are reaped as new ones arrive.
        while conns.try_join_next().is_some() {}
        let clock = clock::Clock::started();
        let service = TowerToHyperService::new(clock::Tracked::new(app.clone(), clock.clone()));
        let stream = clock::Watched::new(stream, clock.clone());
        let stop = stop_rx.clone();
        let waits = clock::Waits {
            header: limit(cfg.header_read_timeout),
            idle: limit(cfg.idle_timeout),
        };
        let tls = tls.clone();
        conns.spawn(async move {
            let _permit = permit;
            let watchdog = clock::watch(&clock, waits);
            let Some(acceptor) = tls else {
                return connection(TokioIo::new(stream), service, watchdog, stop, peer).await;
            };
            let handshake_limit = waits.header.unwrap_or(NO_BODY_TIMEOUT);
            match tokio::time::timeout(handshake_limit, acceptor.accept(stream)).await {
                Ok(Ok(tls_stream)) => {
                    connection(TokioIo::new(tls_stream), service, watchdog, stop, peer).await
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
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

/// A timeout of zero is no limit.
fn limit(timeout: Duration) -> Option<Duration> {
    (!timeout.is_zero()).then_some(timeout)
}

/// Serves one connection until it ends, until `watchdog` resolves (the client kept it
/// waiting too long), or gracefully once `stop` turns true.
async fn connection<I, S>(
    io: I,
    service: S,
    watchdog: impl Future<Output = ()>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    peer: std::net::SocketAddr,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::HttpService<hyper::body::Incoming> + Send,
    S::Future: Send + 'static,
    S::ResBody: Send + 'static,
    <S::ResBody as hyper::body::Body>::Data: Send,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new());
    // With a timer, hyper applies its own 30 s unless told otherwise; the watchdog
    // times the waits instead.
    http.header_read_timeout(None);
    let conn = http.serve_connection(io, service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            return;
        }
        _ = watchdog => {
            tracing::debug!(%peer, "connection closed: the client kept it waiting too long");
            return;
        }
        _ = stop.wait_for(|s| *s) => conn.as_mut().graceful_shutdown(),
    }
    if let Err(e) = conn.await {
        tracing::debug!(%peer, error = %e, "connection ended with an error during shutdown");
    }
}
