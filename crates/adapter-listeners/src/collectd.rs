//! The collectd listener: one packet per datagram, decoded with the types database.

use crate::{now_nanos, Ctx};
use hyperbyte_protocols::collectd::{decode, TypesDb};
use std::sync::Arc;
use tokio::net::UdpSocket;

/// Receives packets until the stop signal.
pub(crate) async fn serve(sock: UdpSocket, types: Arc<TypesDb>, ctx: Ctx) {
    crate::receive_datagrams(sock, ctx, "collectd", |packet, ctx| {
        match decode(packet, &types, now_nanos()) {
            Ok(d) => {
                let bad = d.invalid.len() + d.skipped.len();
                if bad > 0 {
                    ctx.add(|c| &c.bad, bad);
                    let first = d.invalid.first().or(d.skipped.first());
                    tracing::debug!(first = ?first, bad, "collectd values dropped");
                }
                ctx.add(|c| &c.points_received, d.points.len());
                ctx.batcher.try_push(d.points);
            }
            Err(e) => {
                ctx.add(|c| &c.bad, 1);
                tracing::debug!(error = %e, "collectd packet dropped");
            }
        }
    })
    .await;
}
