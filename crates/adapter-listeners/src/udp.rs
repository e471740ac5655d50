//! The UDP sockets (line protocol here; Graphite and collectd use [`bind`] too).

use crate::{now_nanos, Ctx};
use hyperbyte_domain::Precision;
use std::net::SocketAddr;
use tokio::net::UdpSocket;

/// Binds a UDP socket with a receive buffer of `read_buffer` bytes (0: the default).
pub(crate) fn bind(addr: SocketAddr, read_buffer: usize) -> std::io::Result<UdpSocket> {
    let sock = std::net::UdpSocket::bind(addr)?;
    sock.set_nonblocking(true)?;
    if read_buffer > 0 {
        set_recv_buffer(&sock, read_buffer)?;
    }
    UdpSocket::from_std(sock)
}

#[cfg(unix)]
fn set_recv_buffer(sock: &std::net::UdpSocket, bytes: usize) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let size = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: the descriptor is open for the duration of the call and the option value
    // points at a live `c_int` whose size is passed with it.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn set_recv_buffer(_: &std::net::UdpSocket, _: usize) -> std::io::Result<()> {
    Ok(())
}

/// Receives datagrams until the stop signal, one batch push per datagram.
pub(crate) async fn serve(sock: UdpSocket, precision: Precision, ctx: Ctx) {
    crate::receive_datagrams(sock, ctx, "udp", |datagram, ctx| {
        let decoded = hyperbyte_protocols::udp::parse_datagram(datagram, precision, now_nanos());
        if let Some(first) = decoded.errors.first() {
            ctx.add(|c| &c.bad, decoded.errors.len());
            tracing::debug!(first = %first, bad = decoded.errors.len(), "udp lines dropped");
        }
        ctx.add(|c| &c.points_received, decoded.points.len());
        ctx.batcher.try_push(decoded.points);
    })
    .await;
}
