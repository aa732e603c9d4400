//! Sockets: optional bind to a source address, a non-blocking connect that
//! glommio finishes, and the halves a connection's reader and writer share.

use futures_lite::{AsyncRead, AsyncWrite};
use glommio::net::TcpStream;
use socket2::{Domain, Protocol, Socket, Type};
use std::cell::RefCell;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{FromRawFd, IntoRawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Start connecting to `addr`, from `source` if given, and hand the socket
/// to glommio. The connect finishes in the background: the first write
/// waits for it (a send on a connecting socket is EAGAIN until the
/// handshake is done, then glommio retries on POLLOUT), and a refusal comes
/// back as that write's error.
pub fn connect(addr: SocketAddr, source: Option<IpAddr>) -> io::Result<TcpStream> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    sock.set_nonblocking(true)?;
    sock.set_nodelay(true)?;
    if let Some(ip) = source {
        if ip.is_ipv4() {
            bind_address_no_port(&sock)?;
        }
        sock.bind(&SocketAddr::new(ip, 0).into())?;
    }
    match sock.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    // glommio takes socket2 0.4 sockets; hand over the raw fd instead.
    // SAFETY: the fd is a connected-or-connecting TCP socket we own and
    // give away with `into_raw_fd`, so it is closed exactly once.
    Ok(unsafe { TcpStream::from_raw_fd(sock.into_raw_fd()) })
}

/// Without IP_BIND_ADDRESS_NO_PORT, `bind(ip, 0)` picks the port before the
/// destination is known, so each source address could only use every
/// ephemeral port once across all destinations; with it the port is chosen
/// at connect time per 4-tuple.
fn bind_address_no_port(sock: &Socket) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let one: libc::c_int = 1;
    // SAFETY: plain setsockopt on a socket we own, with a c_int option value.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// One connection's stream seen by its reader and its writer, which run as
/// two futures of the same task. The `RefCell` is only borrowed inside a
/// single `poll`, never across an await, so the two cannot collide; glommio
/// keeps separate wakers for the read and the write side.
#[derive(Clone, Copy)]
pub struct Half<'a>(pub &'a RefCell<TcpStream>);

impl AsyncRead for Half<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0.borrow_mut()).poll_read(cx, buf)
    }
}

impl AsyncWrite for Half<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0.borrow_mut()).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0.borrow_mut()).poll_flush(cx)
    }
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0.borrow_mut()).poll_close(cx)
    }
}
