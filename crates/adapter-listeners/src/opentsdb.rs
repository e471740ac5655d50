//! The OpenTSDB listener: telnet `put` lines and HTTP `/api/put` on one TCP port, as
//! InfluxDB's opentsdb service serves them. A connection whose first line is an HTTP
//! request line is served as HTTP (keep-alive), any other as telnet.
//!
//! Telnet lines are batched and never acknowledged (`version` is answered with
//! `InfluxDB TSDB proxy`). `/api/put` writes each request at once and answers `204` only
//! once its points are durable, `400` with InfluxDB's texts for a body it cannot read.

use crate::batch::{PointWriter, Target, WriteResult};
use crate::lines::{read_line, trim_cr, Line, MAX_LINE};
use crate::Ctx;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyperbyte_domain::Point;
use hyperbyte_protocols::opentsdb::{parse_put, parse_telnet, Telnet, TelnetError, VERSION_REPLY};
use std::io::Read;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Points gathered from buffered telnet lines before they are pushed at once.
const CHUNK: usize = 512;

/// Largest `/api/put` body, compressed or not.
const MAX_BODY: usize = 32 << 20;

/// What `/api/put` writes with.
#[derive(Debug)]
pub(crate) struct Http {
    pub(crate) writer: Arc<dyn PointWriter>,
    pub(crate) target: Target,
}

/// Accepts connections until the stop signal.
pub(crate) async fn serve(ln: TcpListener, http: Arc<Http>, ctx: Ctx) {
    crate::accept_connections(ln, ctx, "opentsdb", move |stream, ctx| {
        connection(stream, http.clone(), ctx)
    })
    .await;
}

/// `METHOD target HTTP/1.x`.
fn is_http_request_line(line: &[u8]) -> bool {
    let mut parts = line.split(|b| *b == b' ');
    let method = parts.next().unwrap_or_default();
    let _target = parts.next();
    let version = parts.next().unwrap_or_default();
    !method.is_empty()
        && method.iter().all(u8::is_ascii_uppercase)
        && version.starts_with(b"HTTP/1.")
        && parts.next().is_none()
}

async fn connection(stream: TcpStream, http: Arc<Http>, mut ctx: Ctx) {
    let mut r = BufReader::new(stream);
    let mut buf = Vec::new();
    let mut first = true;
    let mut points = Vec::new();
    loop {
        let read = tokio::select! {
            r = read_line(&mut r, &mut buf, MAX_LINE) => r,
            _ = ctx.stop.changed() => break,
        };
        match read {
            Ok(Line::Full) => {
                if first && is_http_request_line(trim_cr(&buf)) {
                    let mut prefix = std::mem::take(&mut buf);
                    prefix.push(b'\n');
                    prefix.extend_from_slice(r.buffer());
                    let stream = Prefixed {
                        prefix,
                        pos: 0,
                        inner: r.into_inner(),
                    };
                    serve_http(stream, http, ctx).await;
                    return;
                }
                ctx.add(|c| &c.bytes_received, buf.len() + 1);
                if telnet_line(&buf, &ctx, &mut r, &mut points).await.is_err() {
                    break;
                }
            }
            Ok(Line::TooLong) => ctx.add(|c| &c.bad, 1),
            Ok(Line::Eof) => break,
            Err(e) => {
                tracing::debug!(error = %e, "opentsdb connection read failed");
                break;
            }
        }
        first = false;
        // Push when nothing more is buffered, so a slow sender's lines are not held back.
        if points.len() >= CHUNK || (r.buffer().is_empty() && !points.is_empty()) {
            ctx.batcher.push(std::mem::take(&mut points)).await;
        }
    }
    if !points.is_empty() {
        ctx.batcher.push(points).await;
    }
}

/// Handles one telnet line (a point goes to `out`); `Err` when the connection broke while
/// answering `version`.
async fn telnet_line(
    line: &[u8],
    ctx: &Ctx,
    conn: &mut BufReader<TcpStream>,
    out: &mut Vec<Point>,
) -> std::io::Result<()> {
    let text = String::from_utf8_lossy(trim_cr(line));
    match parse_telnet(&text) {
        Ok(Telnet::Empty) => {}
        Ok(Telnet::Version) => conn.get_mut().write_all(VERSION_REPLY.as_bytes()).await?,
        Ok(Telnet::Put { point, bad_tags }) => {
            if bad_tags > 0 {
                tracing::debug!(bad_tags, "opentsdb tags dropped");
            }
            ctx.add(|c| &c.points_received, 1);
            out.push(point);
        }
        Err(e) => {
            ctx.add(|c| &c.bad, 1);
            match e {
                TelnetError::BadLine => tracing::debug!(line = %text, "opentsdb malformed line"),
                e => tracing::debug!(error = %e, "opentsdb line dropped"),
            }
        }
    }
    Ok(())
}

async fn serve_http(stream: Prefixed, http: Arc<Http>, ctx: Ctx) {
    let service = hyper::service::service_fn(move |req| {
        let http = http.clone();
        let ctx = ctx.clone();
        async move { Ok::<_, std::convert::Infallible>(handle(req, &http, &ctx).await) }
    });
    let io = hyper_util::rt::TokioIo::new(stream);
    if let Err(e) = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await
    {
        tracing::debug!(error = %e, "opentsdb http connection ended");
    }
}

/// Go's `http.Error`: the text and a newline, as plain text.
fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(format!("{body}\n"))));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(
        "x-content-type-options",
        hyper::header::HeaderValue::from_static("nosniff"),
    );
    r
}

fn no_content() -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::NO_CONTENT;
    r
}

async fn handle(req: Request<Incoming>, http: &Http, ctx: &Ctx) -> Response<Full<Bytes>> {
    match req.uri().path() {
        "/api/metadata/put" => no_content(),
        "/api/put" => put(req, http, ctx).await,
        _ => text(StatusCode::NOT_FOUND, "404 page not found"),
    }
}

async fn put(req: Request<Incoming>, http: &Http, ctx: &Ctx) -> Response<Full<Bytes>> {
    if req.method() != hyper::Method::POST {
        return text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    }
    let gzip = req
        .headers()
        .get(hyper::header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes() == b"gzip");
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return text(StatusCode::BAD_REQUEST, &format!("read error: {e}")),
    };
    ctx.add(|c| &c.bytes_received, body.len());
    let body = if gzip {
        let mut out = Vec::new();
        let limit = u64::try_from(MAX_BODY).unwrap_or(u64::MAX);
        match flate2::read::GzDecoder::new(&body[..])
            .take(limit)
            .read_to_end(&mut out)
        {
            Ok(_) => Bytes::from(out),
            Err(e) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    &format!("could not read gzip, {e}"),
                )
            }
        }
    } else {
        body
    };
    let parsed = match parse_put(&body) {
        Ok(p) => p,
        Err(e) => {
            ctx.add(|c| &c.bad, 1);
            return text(StatusCode::BAD_REQUEST, &e.to_string());
        }
    };
    if !parsed.dropped.is_empty() {
        ctx.add(|c| &c.bad, parsed.dropped.len());
        tracing::debug!(first = %parsed.dropped[0], "opentsdb points dropped");
    }
    let n = parsed.points.len();
    ctx.add(|c| &c.points_received, n);
    if n == 0 {
        return no_content();
    }
    match http.writer.write(&http.target, parsed.points).await {
        WriteResult::Written {
            written,
            refused,
            message,
        } => {
            ctx.add(|c| &c.batches_written, 1);
            ctx.add(|c| &c.points_written, written);
            ctx.add(|c| &c.points_refused, refused);
            if refused > 0 {
                return text(
                    StatusCode::BAD_REQUEST,
                    &format!("write series error: {message}"),
                );
            }
            no_content()
        }
        WriteResult::Failed {
            message, client, ..
        } => {
            ctx.add(|c| &c.batches_failed, 1);
            let status = if client {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            text(status, &format!("write series error: {message}"))
        }
    }
}

/// A connection whose first bytes were already read: they are replayed before the rest.
#[derive(Debug)]
struct Prefixed {
    prefix: Vec<u8>,
    pos: usize,
    inner: TcpStream,
}

impl AsyncRead for Prefixed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        if let Some(rest) = this.prefix.get(this.pos..).filter(|r| !r.is_empty()) {
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.pos += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_is_told_from_telnet_by_the_first_line() {
        assert!(is_http_request_line(b"POST /api/put HTTP/1.1"));
        assert!(is_http_request_line(b"GET / HTTP/1.0"));
        assert!(!is_http_request_line(b"put m 1356998400 1 a=b"));
        assert!(!is_http_request_line(b"version"));
        assert!(!is_http_request_line(b"POST /api/put"));
    }
}
