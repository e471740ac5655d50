//! When a connection has waited too long for its client: the header read timeout and
//! the idle timeout between keep-alive requests, kept apart.
//!
//! Why not hyper's `header_read_timeout`: it starts as soon as hyper is ready for the
//! next request, so on a keep-alive connection it also bounds the idle time between two
//! requests. InfluxDB (Go's `net/http` without timeouts) keeps an idle connection open,
//! and clients rely on that: a pool that sends a request just as the server closes its
//! idle connection gets a reset (`Remote end closed connection without response`,
//! `ECONNRESET`), and clients polling every 30 s were exactly on the edge of hyper's
//! default 30 s. Here a connection's [`Phase`] is followed from both sides:
//! - [`Watched`] (its socket) sees the first byte of a request arrive;
//! - [`Tracked`] (its service) sees the headers complete (the request reaches the
//!   router) and the response end (its body is dropped);
//!
//! and [`watch`] closes the connection once the deadline of its phase passes: the header
//! timeout from the connection's start or from a request's first byte, the idle timeout
//! from the end of the last response. Neither applies while a request is served (stalled
//! bodies have their own timeout).

use axum::body::Body;
use axum::http::{Request, Response};
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tokio::time::Instant;

/// Where a connection is between its client's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Waiting for a request's headers to complete, since this instant (the connection's
    /// start, or the first byte after an idle wait).
    Heading(Instant),
    /// A request is being served.
    Busy,
    /// Waiting for the next request on a kept-alive connection, since this instant.
    Idle(Instant),
}

/// How long each wait may last (`None`: as long as the client likes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Waits {
    /// From a request's start to the end of its headers.
    pub(crate) header: Option<Duration>,
    /// From the end of a response to the next request's first byte.
    pub(crate) idle: Option<Duration>,
}

impl Waits {
    /// When a connection in `phase` has waited too long (`None`: never).
    pub(crate) fn deadline(&self, phase: Phase) -> Option<Instant> {
        match phase {
            Phase::Heading(since) => since.checked_add(self.header?),
            Phase::Idle(since) => since.checked_add(self.idle?),
            Phase::Busy => None,
        }
    }
}

/// One connection's phase, shared by its socket, its service and its watchdog.
#[derive(Debug, Clone)]
pub(crate) struct Clock(Arc<watch::Sender<Phase>>);

impl Clock {
    /// A connection accepted now: its first request's headers are awaited.
    pub(crate) fn started() -> Self {
        Clock(Arc::new(watch::Sender::new(Phase::Heading(Instant::now()))))
    }

    /// Bytes arrived: an idle connection starts reading a request.
    fn bytes_arrived(&self) {
        self.0.send_if_modified(|p| match p {
            Phase::Idle(_) => {
                *p = Phase::Heading(Instant::now());
                true
            }
            _ => false,
        });
    }

    /// A request's headers are complete: it is served.
    fn request_began(&self) {
        self.0.send_replace(Phase::Busy);
    }

    /// The response is over: the connection waits for the next request.
    fn response_ended(&self) {
        self.0.send_replace(Phase::Idle(Instant::now()));
    }
}

/// Resolves once the connection has waited longer than `waits` allow.
pub(crate) async fn watch(clock: &Clock, waits: Waits) {
    let mut phases = clock.0.subscribe();
    loop {
        let deadline = waits.deadline(*phases.borrow_and_update());
        let changed = phases.changed();
        match deadline {
            Some(at) => {
                tokio::select! {
                    _ = tokio::time::sleep_until(at) => return,
                    r = changed => if r.is_err() { return },
                }
            }
            None => {
                if changed.await.is_err() {
                    return;
                }
            }
        }
    }
}

/// A connection's socket, telling its [`Clock`] when bytes arrive.
#[derive(Debug)]
pub(crate) struct Watched<S> {
    inner: S,
    clock: Clock,
}

impl<S> Watched<S> {
    pub(crate) fn new(inner: S, clock: Clock) -> Self {
        Watched { inner, clock }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.clock.bytes_arrived();
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A connection's service, telling its [`Clock`] when a request begins and when its
/// response ends.
#[derive(Debug, Clone)]
pub(crate) struct Tracked<S> {
    inner: S,
    clock: Clock,
}

impl<S> Tracked<S> {
    pub(crate) fn new(inner: S, clock: Clock) -> Self {
        Tracked { inner, clock }
    }
}

impl<S, B> tower::Service<Request<B>> for Tracked<S>
where
    S: tower::Service<Request<B>, Response = Response<Body>>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        self.clock.request_began();
        let clock = self.clock.clone();
        let response = self.inner.call(req);
        Box::pin(async move {
            let r = response.await;
            // Without a response (an error) hyper closes the connection anyway.
            r.map(|resp| resp.map(|body| Body::new(EndsResponse { body, clock })))
        })
    }
}

/// A response body that ends its connection's request when it is dropped (hyper drops
/// it once written, or when the client goes away).
struct EndsResponse {
    body: Body,
    clock: Clock,
}

impl Drop for EndsResponse {
    fn drop(&mut self) {
        self.clock.response_ended();
    }
}

impl HttpBody for EndsResponse {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAITS: Waits = Waits {
        header: Some(Duration::from_secs(30)),
        idle: Some(Duration::from_secs(100)),
    };

    #[test]
    fn each_phase_has_its_own_deadline() {
        let t = Instant::now();
        assert_eq!(
            WAITS.deadline(Phase::Heading(t)),
            Some(t + Duration::from_secs(30))
        );
        assert_eq!(
            WAITS.deadline(Phase::Idle(t)),
            Some(t + Duration::from_secs(100))
        );
        assert_eq!(WAITS.deadline(Phase::Busy), None);
        let unlimited = Waits {
            header: None,
            idle: None,
        };
        assert_eq!(unlimited.deadline(Phase::Heading(t)), None);
        assert_eq!(unlimited.deadline(Phase::Idle(t)), None);
        // A timeout too long for the clock is no deadline, not a panic.
        let huge = Waits {
            header: Some(Duration::from_secs(u64::MAX)),
            idle: Some(Duration::MAX),
        };
        assert_eq!(huge.deadline(Phase::Heading(t)), None);
        assert_eq!(huge.deadline(Phase::Idle(t)), None);
    }

    #[test]
    fn bytes_start_a_request_only_on_an_idle_connection() {
        let clock = Clock::started();
        let first = *clock.0.borrow();
        assert!(matches!(first, Phase::Heading(_)));
        clock.bytes_arrived();
        assert_eq!(
            *clock.0.borrow(),
            first,
            "the first request keeps its start"
        );
        clock.request_began();
        clock.bytes_arrived();
        assert_eq!(
            *clock.0.borrow(),
            Phase::Busy,
            "body bytes are not a new request"
        );
        clock.response_ended();
        assert!(matches!(*clock.0.borrow(), Phase::Idle(_)));
        clock.bytes_arrived();
        assert!(matches!(*clock.0.borrow(), Phase::Heading(_)));
    }

    #[tokio::test(start_paused = true)]
    async fn the_watchdog_follows_the_phases() {
        let clock = Clock::started();
        let watchdog = tokio::spawn({
            let clock = clock.clone();
            async move { watch(&clock, WAITS).await }
        });
        // Headers complete in time; a request served for longer than both timeouts.
        tokio::time::sleep(Duration::from_secs(20)).await;
        clock.request_began();
        tokio::time::sleep(Duration::from_secs(500)).await;
        assert!(!watchdog.is_finished());
        // Idle for 99 s, then a request starts and completes its headers in 29 s.
        clock.response_ended();
        tokio::time::sleep(Duration::from_secs(99)).await;
        clock.bytes_arrived();
        tokio::time::sleep(Duration::from_secs(29)).await;
        assert!(!watchdog.is_finished());
        clock.request_began();
        clock.response_ended();
        // Idle past the idle timeout: the watchdog fires.
        tokio::time::sleep(Duration::from_secs(101)).await;
        assert!(watchdog.is_finished());
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_that_never_completes_its_headers_is_cut_at_the_header_timeout() {
        let clock = Clock::started();
        clock.request_began();
        clock.response_ended();
        clock.bytes_arrived();
        let started = Instant::now();
        watch(&clock, WAITS).await;
        assert_eq!(started.elapsed(), Duration::from_secs(30));
    }
}
