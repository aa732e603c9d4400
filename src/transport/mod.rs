//! The byte stream of one client connection. Every read and write of a
//! connection goes through [`Transport`]: plain TCP, TLS (`tls/`),
//! WebSocket over either (`ws/`), each one variant (static dispatch; the larger ones boxed so a TCP connection
//! pays nothing for them).
//!
//! A connection that changes executor (hand-off) or parks leaves its
//! transport as a [`Detached`]: the socket as an owned fd plus whatever
//! state the transport needs to pick the stream up again (none for TCP, the
//! rustls session for TLS, bytes in flight for WebSocket). Only the transport knows
//! what its bytes on the wire mean, so it also answers a parked client's
//! PINGREQs ([`Detached::listen_parked`]) or declines to park at all
//! ([`Transport::can_park`]).

mod detached;
mod parked;
mod tcp;
pub mod tls;
pub mod ws;

pub use detached::Detached;
pub use parked::Heard;
pub use tcp::TcpTransport;
pub use tls::TlsTransport;
pub use ws::WsTransport;

use futures_lite::{AsyncRead, AsyncWrite};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A connection's byte stream on this executor. Sized like the glommio
/// stream it wraps: live connections are many.
#[derive(Debug)]
pub enum Transport {
    Tcp(TcpTransport),
    Tls(Box<TlsTransport>),
    /// WebSocket over a `Tcp` or `Tls` transport.
    Ws(Box<WsTransport>),
}

/// A transport that could not be detached, given back unharmed.
#[derive(Debug)]
pub struct DetachError {
    pub transport: Transport,
    pub error: io::Error,
}

impl Transport {
    pub fn tcp(stream: glommio::net::TcpStream) -> Transport {
        Transport::Tcp(TcpTransport::new(stream))
    }

    /// Read application bytes into `buf`; `Ready(Ok(0))` is end of stream.
    pub fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        match self {
            Transport::Tcp(t) => t.poll_read(cx, buf),
            Transport::Tls(t) => t.poll_read(cx, buf),
            Transport::Ws(t) => t.poll_read(cx, buf),
        }
    }

    /// Write application bytes from `buf`; returns how many were taken.
    pub fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self {
            Transport::Tcp(t) => t.poll_write(cx, buf),
            Transport::Tls(t) => t.poll_write(cx, buf),
            Transport::Ws(t) => t.poll_write(cx, buf),
        }
    }

    /// Push out anything the transport buffered.
    pub fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            Transport::Tcp(_) => Poll::Ready(Ok(())), // glommio buffers nothing
            Transport::Tls(t) => t.poll_flush(cx),
            Transport::Ws(t) => t.poll_flush(cx),
        }
    }

    /// End our side of the stream; reading goes on (to drain a client
    /// before closing without losing our last answer).
    pub fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            Transport::Tcp(t) => t.poll_close(cx),
            Transport::Tls(t) => t.poll_close(cx),
            Transport::Ws(t) => t.poll_close(cx),
        }
    }

    /// Whether the transport holds nothing that a parked socket would lose
    /// (decoded input not yet read, encoded output not yet written).
    pub fn can_park(&mut self) -> bool {
        match self {
            Transport::Tcp(_) => true,
            Transport::Tls(t) => t.can_park(),
            Transport::Ws(t) => t.can_park(),
        }
    }

    /// Let go of this executor's ring: the socket and the transport state,
    /// ready for [`Detached::attach`] on any executor. On failure (no fd
    /// left for the duplicate) the transport comes back unharmed, so a
    /// connection that cannot park goes on instead of closing.
    #[allow(clippy::result_large_err)] // gives the transport back, rarely
    pub fn detach(self) -> Result<Detached, DetachError> {
        match self {
            Transport::Tcp(t) => match t.detach() {
                Ok(fd) => Ok(Detached::Tcp(fd)),
                Err((t, error)) => Err(DetachError {
                    transport: Transport::Tcp(t),
                    error,
                }),
            },
            Transport::Tls(t) => match t.detach() {
                Ok((fd, s)) => Ok(Detached::Tls(fd, Box::new(s))),
                Err((t, error)) => Err(DetachError {
                    transport: Transport::Tls(Box::new(t)),
                    error,
                }),
            },
            Transport::Ws(t) => t.detach(),
        }
    }
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_read(cx, buf)
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_close(cx)
    }
}

#[cfg(test)]
mod tests;
