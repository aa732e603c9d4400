//! Plain TCP: a glommio stream while attached, the bare socket while
//! detached. The bytes on the wire are the application's bytes, so a parked
//! socket is read and answered directly.

use super::parked::{self, Heard};
use futures_lite::{AsyncRead, AsyncWrite};
use glommio::net::TcpStream;
use socket2::SockRef;
use std::io::{self, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A connection's TCP socket on this executor's ring.
#[derive(Debug)]
pub struct TcpTransport {
    stream: TcpStream,
}

impl TcpTransport {
    pub fn new(stream: TcpStream) -> TcpTransport {
        TcpTransport { stream }
    }

    /// A socket detached on any executor, now driven by this one's ring.
    pub fn attach(fd: OwnedFd) -> TcpTransport {
        // SAFETY: `fd` is an open socket we own (it came from `detach`, or
        // from a test's socket pair); ownership moves into the stream, which
        // closes it. glommio 0.9 takes a stream only from a raw fd (its
        // `From<Socket>` is socket2 0.4, which has no `OwnedFd` conversion).
        let stream = unsafe { TcpStream::from_raw_fd(fd.into_raw_fd()) };
        TcpTransport { stream }
    }

    /// The socket alone, no longer tied to this executor. glommio 0.9 cannot
    /// give its fd back, so: a duplicate keeps the socket open while the
    /// stream, its fd number and its armed io_uring poll go away
    /// (`../shared/research/glommio.md` §2.3).
    #[allow(clippy::result_large_err)] // gives the stream back, rarely
    pub fn detach(self) -> Result<OwnedFd, (TcpTransport, io::Error)> {
        // SAFETY: the stream owns this fd and outlives the borrow, which
        // ends with the duplicate.
        let fd = unsafe { BorrowedFd::borrow_raw(self.stream.as_raw_fd()) };
        match fd.try_clone_to_owned() {
            Ok(owned) => {
                drop(self); // disarms this ring's poll; the socket lives on in `owned`
                Ok(owned)
            }
            Err(e) => Err((self, e)),
        }
    }

    pub fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }

    pub fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    pub fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    /// Shuts down the write side only; reading goes on.
    pub fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_close(cx)
    }
}

/// Bytes read from a parked socket per readiness event.
const PEEK: usize = 256;

/// Read what a parked socket has without blocking; answer it in place if it
/// is only PINGREQs. PINGRESPs the socket would not take whole are returned
/// for the connection to write.
pub fn listen_parked(fd: &OwnedFd) -> (Heard, Vec<u8>) {
    let sock = SockRef::from(fd);
    let mut buf = [MaybeUninit::<u8>::uninit(); PEEK];
    let n = match sock.recv_with_flags(&mut buf, libc::MSG_DONTWAIT) {
        Ok(0) => return (Heard::Closed, Vec::new()), // end of stream
        Ok(n) => n,
        Err(e) if transient(&e) => return (Heard::Nothing, Vec::new()),
        Err(_) => return (Heard::Closed, Vec::new()),
    };
    // SAFETY: `recv` initialized the first `n` bytes (n <= PEEK), and
    // `MaybeUninit<u8>` has the layout of `u8`.
    let got: &[u8] = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast(), n) };
    let heard = parked::classify(got);
    let Heard::Pings(pings) = heard else {
        return (heard, Vec::new());
    };
    let answer = parked::answer(pings);
    let flags = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
    let sent = sock.send_with_flags(&answer, flags).unwrap_or(0);
    (heard, answer[sent..].to_vec())
}

/// A parked socket as `Read`/`Write` that never blocks (for the layered
/// transports' parked decoding: rustls, WebSocket frames).
pub(super) struct Nonblocking<'a>(pub SockRef<'a>);

impl Read for Nonblocking<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: `recv` only writes initialized bytes into the buffer, and
        // `MaybeUninit<u8>` has the layout of `u8`.
        let uninit = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
        self.0.recv_with_flags(uninit, libc::MSG_DONTWAIT)
    }
}

impl Write for Nonblocking<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .send_with_flags(buf, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A spurious wake-up or a signal: nothing to report.
pub(super) fn transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}
