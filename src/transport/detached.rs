//! A connection's transport between executors or while parked: the socket
//! as an owned fd (dropping a `Detached` closes it) and the transport's own
//! state. Sendable, and for TCP no bigger than the fd; the other
//! transports keep their state boxed behind one pointer. The fd sits in
//! every variant (not beside an enum of states) so that the variant tag
//! shares the fd's word: 16 bytes whatever the transport.

use super::parked::Heard;
use super::ws::WsDetached;
use super::{tcp, tls, ws, TcpTransport, TlsTransport, Transport, WsTransport};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// A transport off any executor's ring.
#[derive(Debug)]
pub enum Detached {
    /// Plain TCP keeps nothing but the socket.
    Tcp(OwnedFd),
    /// The TLS session: keys, sequence numbers, bytes in transit.
    Tls(OwnedFd, Box<tls::TlsSession>),
    /// WebSocket: the TCP or TLS transport underneath (which holds the
    /// fd), and bytes in flight.
    Ws(Box<WsDetached>),
}

impl Detached {
    /// The transport again, driven by the current executor's ring.
    pub fn attach(self) -> Transport {
        match self {
            Detached::Tcp(fd) => Transport::Tcp(TcpTransport::attach(fd)),
            Detached::Tls(fd, s) => Transport::Tls(Box::new(TlsTransport::attach(fd, *s))),
            Detached::Ws(ws) => Transport::Ws(Box::new(WsTransport::attach(*ws))),
        }
    }

    /// The socket is readable while parked: read what is there without
    /// blocking and answer it in place if it is only PINGREQs. Returns what
    /// was heard and the encoded answer bytes the socket would not take,
    /// for the connection to write once it is back.
    pub fn listen_parked(&mut self) -> (Heard, Vec<u8>) {
        match self {
            Detached::Tcp(fd) => tcp::listen_parked(fd),
            Detached::Tls(fd, s) => tls::listen_parked(fd, s),
            Detached::Ws(ws) => ws::listen_parked(ws),
        }
    }
}

impl AsFd for Detached {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Detached::Tcp(fd) | Detached::Tls(fd, _) => fd.as_fd(),
            Detached::Ws(ws) => ws.as_fd(),
        }
    }
}
