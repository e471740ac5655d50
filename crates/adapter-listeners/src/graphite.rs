//! The Graphite listener: plaintext lines over TCP (one connection per client) or UDP
//! (lines in datagrams).

use crate::lines::{read_line, trim_cr, Line, MAX_LINE};
use crate::{now_nanos, Ctx};
use hyperbyte_domain::Point;
use hyperbyte_protocols::graphite::Parser;
use std::sync::Arc;
use tokio::io::BufReader;
use tokio::net::{TcpListener, TcpStream, UdpSocket};

/// Points gathered from buffered lines before they are pushed at once.
const CHUNK: usize = 512;

/// Parses one line into `out`, counting it.
fn take_line(parser: &Parser, ctx: &Ctx, line: &[u8], now: i64, out: &mut Vec<Point>) {
    let Ok(text) = std::str::from_utf8(line) else {
        ctx.add(|c| &c.bad, 1);
        tracing::debug!("graphite line dropped: not UTF-8");
        return;
    };
    match parser.parse_line(text, now) {
        Ok(Some(p)) => {
            ctx.add(|c| &c.points_received, 1);
            out.push(p);
        }
        Ok(None) => {}
        Err(e) => {
            ctx.add(|c| &c.bad, 1);
            tracing::debug!(error = %e, "graphite line dropped");
        }
    }
}

/// Accepts connections until the stop signal.
pub(crate) async fn serve_tcp(ln: TcpListener, parser: Arc<Parser>, ctx: Ctx) {
    crate::accept_connections(ln, ctx, "graphite", move |stream, ctx| {
        connection(stream, parser.clone(), ctx)
    })
    .await;
}

async fn connection(stream: TcpStream, parser: Arc<Parser>, mut ctx: Ctx) {
    let mut r = BufReader::new(stream);
    let mut buf = Vec::new();
    let mut points = Vec::new();
    loop {
        let read = tokio::select! {
            r = read_line(&mut r, &mut buf, MAX_LINE) => r,
            _ = ctx.stop.changed() => break,
        };
        match read {
            Ok(Line::Full) => {
                ctx.add(|c| &c.bytes_received, buf.len() + 1);
                take_line(&parser, &ctx, trim_cr(&buf), now_nanos(), &mut points);
            }
            Ok(Line::TooLong) => {
                ctx.add(|c| &c.bad, 1);
                tracing::debug!("graphite line dropped: longer than {MAX_LINE} bytes");
            }
            Ok(Line::Eof) => break,
            Err(e) => {
                tracing::debug!(error = %e, "graphite connection read failed");
                break;
            }
        }
        // Push when nothing more is buffered, so a slow sender's lines are not held back.
        if points.len() >= CHUNK || (r.buffer().is_empty() && !points.is_empty()) {
            ctx.batcher.push(std::mem::take(&mut points)).await;
        }
    }
    if !points.is_empty() {
        ctx.batcher.push(points).await;
    }
}

/// Receives datagrams of lines until the stop signal.
pub(crate) async fn serve_udp(sock: UdpSocket, parser: Arc<Parser>, ctx: Ctx) {
    crate::receive_datagrams(sock, ctx, "graphite", |datagram, ctx| {
        let now = now_nanos();
        let mut points = Vec::new();
        for line in datagram.split(|b| *b == b'\n') {
            take_line(&parser, ctx, trim_cr(line), now, &mut points);
        }
        ctx.batcher.try_push(points);
    })
    .await;
}
