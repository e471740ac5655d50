//! Inbound adapter: the listeners InfluxDB 1.x runs beside its HTTP API — Graphite
//! plaintext over TCP or UDP, OpenTSDB telnet `put` and HTTP `/api/put` on one port,
//! collectd's binary protocol over UDP, and line protocol over UDP.
//!
//! Parsing is the pure `hyperbyte-protocols` crate; this crate owns the sockets, the
//! batching ([`batch`]) and the counters. Every point goes through the ingestion
//! service's `write_points`, the path of `/write`: same validation, limits and WAL
//! durability. Only OpenTSDB's `/api/put` answers its client (after the write is
//! durable); the other listeners acknowledge nothing, so a point is lost if the server
//! stops before its batch is written (batches are written on a clean shutdown).
//!
//! A bad line, packet or point is counted and dropped, the rest is kept: no input can
//! stop a listener or reach the WAL unvalidated.

pub mod batch;
mod collectd;
mod lines;
mod opentsdb;
mod udp;

mod graphite;

pub use batch::{BatchConfig, Batcher, PointWriter, Target, WriteResult};

use hyperbyte_application::stats::{ListenerCounters, ListenerRegistry};
use hyperbyte_domain::Precision;
use hyperbyte_protocols::collectd::TypesDb;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Instrument;

/// Largest datagram read (the UDP maximum).
const MAX_DATAGRAM: usize = 64 * 1024;

/// What every listener has.
#[derive(Debug, Clone)]
pub struct Common {
    /// The address to bind.
    pub bind: SocketAddr,
    /// Database and retention policy written to.
    pub target: Target,
    /// Batching.
    pub batch: BatchConfig,
    /// Receive buffer of a UDP socket in bytes (0: the system's default).
    pub read_buffer: usize,
}

/// Graphite over TCP or UDP.
#[derive(Debug, Clone)]
pub struct GraphiteConfig {
    /// Address, target, batching.
    pub common: Common,
    /// UDP instead of TCP.
    pub udp: bool,
    /// The templates and tags.
    pub parser: Arc<hyperbyte_protocols::graphite::Parser>,
}

/// OpenTSDB telnet and HTTP on one TCP port.
#[derive(Debug, Clone)]
pub struct OpenTsdbConfig {
    /// Address, target, batching (telnet only; `/api/put` writes each request at once).
    pub common: Common,
}

/// collectd over UDP.
#[derive(Debug, Clone)]
pub struct CollectdConfig {
    /// Address, target, batching.
    pub common: Common,
    /// The types database.
    pub types: Arc<TypesDb>,
}

/// Line protocol over UDP.
#[derive(Debug, Clone)]
pub struct UdpConfig {
    /// Address, target, batching.
    pub common: Common,
    /// Precision of timestamps in the datagrams.
    pub precision: Precision,
}

/// One configured listener.
#[derive(Debug, Clone)]
pub enum Listener {
    /// `[[graphite]]`
    Graphite(GraphiteConfig),
    /// `[[opentsdb]]`
    OpenTsdb(OpenTsdbConfig),
    /// `[[collectd]]`
    Collectd(CollectdConfig),
    /// `[[udp]]`
    Udp(UdpConfig),
}

impl Listener {
    /// `graphite`, `opentsdb`, `collectd` or `udp`.
    pub fn kind(&self) -> &'static str {
        match self {
            Listener::Graphite(_) => "graphite",
            Listener::OpenTsdb(_) => "opentsdb",
            Listener::Collectd(_) => "collectd",
            Listener::Udp(_) => "udp",
        }
    }

    fn common(&self) -> &Common {
        match self {
            Listener::Graphite(c) => &c.common,
            Listener::OpenTsdb(c) => &c.common,
            Listener::Collectd(c) => &c.common,
            Listener::Udp(c) => &c.common,
        }
    }

    fn proto(&self) -> &'static str {
        match self {
            Listener::Graphite(c) if !c.udp => "tcp",
            Listener::OpenTsdb(_) => "tcp",
            _ => "udp",
        }
    }
}

/// A listener that could not start.
#[derive(Debug, thiserror::Error)]
pub enum ListenerError {
    /// The address could not be bound.
    #[error("{kind} listener: binding {addr}: {source}")]
    Bind {
        /// Listener kind.
        kind: &'static str,
        /// Address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The database could not be created.
    #[error("{kind} listener: creating database {database:?}: {reason}")]
    Database {
        /// Listener kind.
        kind: &'static str,
        /// Database.
        database: String,
        /// Why.
        reason: String,
    },
}

/// The running listeners.
#[derive(Debug)]
pub struct Running {
    /// Each listener's kind and bound address, in configuration order.
    pub addrs: Vec<(&'static str, SocketAddr)>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Waits until every listener has stopped and written its last batch (after the stop
    /// signal).
    pub async fn join(self) {
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Binds and starts every listener; they run until `stop` turns true.
pub async fn start(
    listeners: Vec<Listener>,
    writer: Arc<dyn PointWriter>,
    registry: &ListenerRegistry,
    stop: watch::Receiver<bool>,
) -> Result<Running, ListenerError> {
    let mut running = Running {
        addrs: Vec::new(),
        tasks: Vec::new(),
    };
    for l in listeners {
        let kind = l.kind();
        let common = l.common().clone();
        writer
            .ensure_database(&common.target.database)
            .await
            .map_err(|reason| ListenerError::Database {
                kind,
                database: common.target.database.clone(),
                reason,
            })?;
        let bind_err = |source| ListenerError::Bind {
            kind,
            addr: common.bind,
            source,
        };
        let socket = match &l {
            Listener::Graphite(c) if !c.udp => Socket::Tcp(
                tokio::net::TcpListener::bind(common.bind)
                    .await
                    .map_err(bind_err)?,
            ),
            Listener::OpenTsdb(_) => Socket::Tcp(
                tokio::net::TcpListener::bind(common.bind)
                    .await
                    .map_err(bind_err)?,
            ),
            _ => Socket::Udp(udp::bind(common.bind, common.read_buffer).map_err(bind_err)?),
        };
        let addr = match &socket {
            Socket::Tcp(ln) => ln.local_addr(),
            Socket::Udp(s) => s.local_addr(),
        }
        .map_err(bind_err)?;
        // Counted under the address actually bound (unique even when a port 0 is asked).
        let counters = Arc::new(ListenerCounters::new(
            kind,
            l.proto(),
            &addr.to_string(),
            &common.target.database,
        ));
        registry.register(counters.clone());
        let (batcher, batch_task) = Batcher::start(
            writer.clone(),
            common.target.clone(),
            common.batch,
            counters.clone(),
            stop.clone(),
        );
        let ctx = Ctx {
            batcher,
            counters,
            stop: stop.clone(),
        };
        let span = tracing::info_span!("listener", kind, bind = %addr);
        let task = match (l, socket) {
            (Listener::Graphite(c), Socket::Udp(sock)) => {
                tokio::spawn(graphite::serve_udp(sock, c.parser, ctx).instrument(span))
            }
            (Listener::Graphite(c), Socket::Tcp(ln)) => {
                tokio::spawn(graphite::serve_tcp(ln, c.parser, ctx).instrument(span))
            }
            (Listener::OpenTsdb(_), Socket::Tcp(ln)) => {
                let http = opentsdb::Http {
                    writer: writer.clone(),
                    target: common.target.clone(),
                };
                tokio::spawn(opentsdb::serve(ln, Arc::new(http), ctx).instrument(span))
            }
            (Listener::Collectd(c), Socket::Udp(sock)) => {
                tokio::spawn(collectd::serve(sock, c.types, ctx).instrument(span))
            }
            (Listener::Udp(c), Socket::Udp(sock)) => {
                tokio::spawn(udp::serve(sock, c.precision, ctx).instrument(span))
            }
            // Not reached: the socket was bound for this listener's protocol above.
            (_, _) => continue,
        };
        tracing::info!(kind, %addr, database = %common.target.database, "listening");
        running.addrs.push((kind, addr));
        running.tasks.push(task);
        running.tasks.push(batch_task);
    }
    Ok(running)
}

/// A bound socket.
#[derive(Debug)]
enum Socket {
    Tcp(tokio::net::TcpListener),
    Udp(tokio::net::UdpSocket),
}

/// What a listener's readers share.
#[derive(Debug, Clone)]
struct Ctx {
    batcher: Batcher,
    counters: Arc<ListenerCounters>,
    stop: watch::Receiver<bool>,
}

impl Ctx {
    fn add(&self, counter: impl Fn(&ListenerCounters) -> &std::sync::atomic::AtomicU64, n: usize) {
        ListenerCounters::add(counter(&self.counters), n as u64);
    }
}

/// Accepts TCP connections until the stop signal, each served by `serve` in a task of its
/// own (in a `connection{kind,peer}` span); a failed accept (out of descriptors) is
/// retried after a pause rather than ending the listener.
async fn accept_connections<F, Fut>(
    ln: tokio::net::TcpListener,
    mut ctx: Ctx,
    kind: &'static str,
    serve: F,
) where
    F: Fn(tokio::net::TcpStream, Ctx) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    use tracing::Instrument;
    loop {
        let conn = tokio::select! {
            r = ln.accept() => r,
            _ = ctx.stop.changed() => return,
        };
        match conn {
            Ok((stream, peer)) => {
                ctx.add(|c| &c.connections, 1);
                let span = tracing::debug_span!("connection", kind, %peer);
                tokio::spawn(serve(stream, ctx.clone()).instrument(span));
            }
            Err(e) => {
                tracing::debug!(error = %e, kind, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

/// Receives datagrams until the stop signal, counting their bytes and handing each to
/// `take` (which parses, counts and pushes its points); a failed receive is skipped.
async fn receive_datagrams(
    sock: tokio::net::UdpSocket,
    mut ctx: Ctx,
    kind: &'static str,
    mut take: impl FnMut(&[u8], &Ctx),
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let n = tokio::select! {
            r = sock.recv_from(&mut buf) => match r {
                Ok((n, _)) => n,
                Err(e) => {
                    tracing::debug!(error = %e, kind, "datagram read failed");
                    continue;
                }
            },
            _ = ctx.stop.changed() => return,
        };
        ctx.add(|c| &c.bytes_received, n);
        take(buf.get(..n).unwrap_or_default(), &ctx);
    }
}

/// Nanoseconds since the epoch now (stamps points without a time).
fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
