//! TLS 1.2/1.3 with rustls, driven by hand over the glommio stream: rustls
//! is a state machine that takes and gives TLS records through `Read`/
//! `Write`, so the glue here moves records between it and the socket
//! without a task or buffer of its own. Owning the `ServerConnection` (not
//! an async wrapper) is what lets a TLS connection detach: the socket and
//! the boxed session travel together to another shard or to the parking
//! lot, where a parked client's PINGREQ is decrypted and answered in place
//! (`parked.rs`).

mod config;
mod handshake;
mod parked;

pub use config::{peer_common_name, server_config, TlsServer};
pub use handshake::{accept, HandshakeBudget};
pub use parked::listen_parked;
pub(crate) use parked::{recv_plain, send_plain};

use super::TcpTransport;
use rustls::ServerConnection;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::task::{ready, Context, Poll};

/// A TLS connection on this executor.
#[derive(Debug)]
pub struct TlsTransport {
    tcp: TcpTransport,
    conn: ServerConnection,
}

/// `Read`/`Write` over the stream for rustls: `Pending` becomes
/// `WouldBlock` (the waker is registered by the poll underneath).
struct Glue<'a, 'b> {
    tcp: &'a mut TcpTransport,
    cx: &'a mut Context<'b>,
}

impl Read for Glue<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.tcp.poll_read(self.cx, buf) {
            Poll::Ready(r) => r,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl Write for Glue<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.tcp.poll_write(self.cx, buf) {
            Poll::Ready(r) => r,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn pending_on_would_block<T>(r: io::Result<T>) -> Poll<io::Result<T>> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Poll::Pending,
        r => Poll::Ready(r),
    }
}

impl TlsTransport {
    pub(crate) fn new(tcp: TcpTransport, conn: ServerConnection) -> TlsTransport {
        TlsTransport { tcp, conn }
    }

    /// A detached TLS connection on this executor's ring.
    pub fn attach(fd: OwnedFd, conn: ServerConnection) -> TlsTransport {
        TlsTransport::new(TcpTransport::attach(fd), conn)
    }

    #[allow(clippy::result_large_err)] // gives the transport back, rarely
    pub fn detach(self) -> Result<(OwnedFd, ServerConnection), (TlsTransport, io::Error)> {
        let TlsTransport { tcp, conn } = self;
        match tcp.detach() {
            Ok(fd) => Ok((fd, conn)),
            Err((tcp, e)) => Err((TlsTransport { tcp, conn }, e)),
        }
    }

    pub fn session(&self) -> &ServerConnection {
        &self.conn
    }

    /// Write every TLS record rustls has ready.
    fn poll_send_tls(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.conn.wants_write() {
            let mut glue = Glue {
                tcp: &mut self.tcp,
                cx,
            };
            if ready!(pending_on_would_block(self.conn.write_tls(&mut glue)))? == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Read TLS records from the socket into rustls and process them. 0 is
    /// end of stream.
    fn poll_recv_tls(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let mut glue = Glue {
            tcp: &mut self.tcp,
            cx,
        };
        let n = ready!(pending_on_would_block(self.conn.read_tls(&mut glue)))?;
        if n > 0 {
            if let Err(e) = self.conn.process_new_packets() {
                // Tell the peer why (the alert rustls queued), best effort.
                let _ = self.poll_send_tls(cx);
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, e)));
            }
        }
        Poll::Ready(Ok(n))
    }

    pub fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        loop {
            match self.conn.reader().read(buf) {
                Ok(n) => return Poll::Ready(Ok(n)), // 0: close_notify
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // The peer closed the socket without close_notify.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Poll::Ready(Ok(0)),
                Err(e) => return Poll::Ready(Err(e)),
            }
            // Key updates and alerts rustls answers go out before more comes in.
            ready!(self.poll_send_tls(cx))?;
            if ready!(self.poll_recv_tls(cx))? == 0 {
                return Poll::Ready(Ok(0));
            }
        }
    }

    /// Takes `buf` only once earlier records are on the socket, so rustls
    /// never holds more than one write's worth: the connection's own
    /// back-pressure (`limits.max_outbound_bytes`) stays in charge.
    pub fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.poll_send_tls(cx))?;
        let n = self.conn.writer().write(buf)?;
        if let Poll::Ready(Err(e)) = self.poll_send_tls(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(n))
    }

    pub fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_send_tls(cx)
    }

    /// close_notify, then shut down our side of the socket.
    pub fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.conn.send_close_notify();
        ready!(self.poll_send_tls(cx))?;
        self.tcp.poll_close(cx)
    }

    /// Nothing decrypted but unread, nothing encrypted but unsent.
    pub fn can_park(&mut self) -> bool {
        if self.conn.wants_write() {
            return false;
        }
        match self.conn.process_new_packets() {
            Ok(s) => s.plaintext_bytes_to_read() == 0 && !s.peer_has_closed(),
            Err(_) => false,
        }
    }
}
