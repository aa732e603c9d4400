//! TLS 1.2/1.3 with rustls's unbuffered API, driven by hand over the
//! glommio stream. Owning the session state (not an async wrapper) is what
//! lets a TLS connection detach: the socket and the boxed [`TlsSession`]
//! travel together to another shard or to the parking lot, where a parked
//! client's PINGREQ is decrypted and answered in place (`parked.rs`).
//!
//! Ciphertext is read into a per-thread scratch buffer and decrypted from
//! there; records to send are encrypted into another and written at once.
//! Only what is left over (a partial record in, bytes the socket would not
//! take out, plaintext the reader had no room for) is kept per connection.

mod config;
mod handshake;
mod parked;
mod session;

pub use config::{peer_common_name, server_config, TlsServer};
pub use handshake::{accept, HandshakeBudget};
pub use parked::listen_parked;
pub(crate) use parked::{recv_plain, send_plain};
pub use session::TlsSession;

use super::TcpTransport;
use std::cell::RefCell;
use std::io;
use std::os::fd::OwnedFd;
use std::task::{ready, Context, Poll};

/// The largest TLS record on the wire (16 KiB plaintext + overhead).
const MAX_RECORD: usize = 16384 + 2048 + 5;
/// Ciphertext read per poll.
const READ_SIZE: usize = 64 * 1024;

thread_local! {
    /// Ciphertext being decrypted (a partial record in front, new bytes behind).
    static OPEN: RefCell<Vec<u8>> = RefCell::new(vec![0; READ_SIZE + MAX_RECORD]);
    /// Records being encrypted before they are written.
    static SEAL: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A TLS connection on this executor.
#[derive(Debug)]
pub struct TlsTransport {
    tcp: TcpTransport,
    s: TlsSession,
}

fn invalid(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// Keep `rest` in `v` (released when empty: idle connections hold nothing).
fn keep(v: &mut Vec<u8>, rest: &[u8]) {
    if rest.is_empty() {
        *v = Vec::new();
    } else {
        v.clear();
        v.extend_from_slice(rest);
    }
}

impl TlsTransport {
    pub(crate) fn new(tcp: TcpTransport, s: TlsSession) -> TlsTransport {
        TlsTransport { tcp, s }
    }

    /// A detached TLS connection on this executor's ring.
    pub fn attach(fd: OwnedFd, s: TlsSession) -> TlsTransport {
        TlsTransport::new(TcpTransport::attach(fd), s)
    }

    #[allow(clippy::result_large_err)] // gives the transport back, rarely
    pub fn detach(self) -> Result<(OwnedFd, TlsSession), (TlsTransport, io::Error)> {
        let TlsTransport { tcp, s } = self;
        match tcp.detach() {
            Ok(fd) => Ok((fd, s)),
            Err((tcp, e)) => Err((TlsTransport { tcp, s }, e)),
        }
    }

    pub fn session(&self) -> &TlsSession {
        &self.s
    }

    /// Write the records waiting in `outgoing`.
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut sent = 0;
        while sent < self.s.outgoing.len() {
            match self.tcp.poll_write(cx, &self.s.outgoing[sent..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => sent += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    self.s.outgoing.drain(..sent);
                    return Poll::Pending;
                }
            }
        }
        self.s.outgoing = Vec::new();
        Poll::Ready(Ok(()))
    }

    /// Read ciphertext once and decrypt it: plaintext into `buf` (the rest
    /// into `plain`). `Ready(Ok(false))` is end of stream.
    fn poll_recv(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        filled: &mut usize,
    ) -> Poll<io::Result<bool>> {
        OPEN.with(|open| {
            let mut open = open.borrow_mut();
            let pre = self.s.incoming.len();
            if pre > MAX_RECORD {
                let e = io::Error::new(io::ErrorKind::InvalidData, "TLS record too large");
                return Poll::Ready(Err(e));
            }
            open[..pre].copy_from_slice(&self.s.incoming);
            let n = ready!(self.tcp.poll_read(cx, &mut open[pre..pre + READ_SIZE]))?;
            if n == 0 {
                return Poll::Ready(Ok(false));
            }
            let TlsSession { plain, .. } = &mut self.s;
            let mut overflow = std::mem::take(plain);
            let mut sink = |p: &[u8]| {
                let room = (buf.len() - *filled).min(p.len());
                buf[*filled..*filled + room].copy_from_slice(&p[..room]);
                *filled += room;
                overflow.extend_from_slice(&p[room..]);
            };
            let used = self.s.absorb(&mut open[..pre + n], &mut sink);
            self.s.plain = overflow;
            let used = used.map_err(invalid)?;
            keep(&mut self.s.incoming, &open[used..pre + n]);
            Poll::Ready(Ok(true))
        })
    }

    pub fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if !self.s.plain.is_empty() {
            let n = buf.len().min(self.s.plain.len());
            buf[..n].copy_from_slice(&self.s.plain[..n]);
            let rest = self.s.plain.split_off(n);
            keep(&mut self.s.plain, &rest);
            return Poll::Ready(Ok(n));
        }
        loop {
            if self.s.peer_closed {
                return Poll::Ready(Ok(0));
            }
            // Answers rustls queued (key updates, alerts) go out first.
            ready!(self.poll_send(cx))?;
            let mut filled = 0;
            let open = ready!(self.poll_recv(cx, buf, &mut filled))?;
            // Whatever the records asked us to send, without waiting.
            if let Poll::Ready(Err(e)) = self.poll_send(cx) {
                return Poll::Ready(Err(e));
            }
            if filled > 0 || !open {
                return Poll::Ready(Ok(filled));
            }
        }
    }

    /// Takes all of `buf` once earlier records are on the socket, so at
    /// most one write's worth waits here: the connection's own
    /// back-pressure (`limits.max_outbound_bytes`) stays in charge.
    pub fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.poll_send(cx))?;
        SEAL.with(|seal| {
            let mut seal = seal.borrow_mut();
            seal.clear();
            self.s.seal(buf, &mut seal).map_err(invalid)?;
            let mut sent = 0;
            // Records rustls queued meanwhile (a key update) go first.
            while self.s.outgoing.is_empty() && sent < seal.len() {
                match self.tcp.poll_write(cx, &seal[sent..]) {
                    Poll::Ready(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
                    Poll::Ready(Ok(n)) => sent += n,
                    Poll::Ready(Err(e)) => return Err(e),
                    Poll::Pending => break,
                }
            }
            self.s.outgoing.extend_from_slice(&seal[sent..]);
            if seal.capacity() > 4 * READ_SIZE {
                *seal = Vec::new(); // one huge write must not stay allocated
            }
            Ok(())
        })?;
        if let Poll::Ready(Err(e)) = self.poll_send(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(buf.len()))
    }

    pub fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_send(cx)
    }

    /// close_notify, then shut down our side of the socket.
    pub fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.s.established {
            self.s.close();
            self.s.established = false; // once
        }
        ready!(self.poll_send(cx))?;
        self.tcp.poll_close(cx)
    }

    /// Nothing decrypted but unread, nothing encrypted but unsent, no
    /// partial record.
    pub fn can_park(&self) -> bool {
        self.s.is_quiet()
    }
}

#[cfg(test)]
mod tests;
