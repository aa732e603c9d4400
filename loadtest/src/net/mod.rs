//! Sockets: optional bind to a source address, a non-blocking connect that
//! glommio finishes, TLS on top when asked (`stream`), and the halves a
//! connection's reader and writer share.

mod stream;

pub use stream::{open, Half, Stream};

use glommio::net::TcpStream;
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{FromRawFd, IntoRawFd};

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
