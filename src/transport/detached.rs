//! A connection's transport between executors or while parked: the socket
//! as an owned fd (dropping a `Detached` closes it) and the transport's own
//! state. Sendable, and for TCP no bigger than the fd.
//! A TLS session boxed: one pointer more.

use super::parked::Heard;
use super::{tcp, tls, TcpTransport, TlsTransport, Transport};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// A transport off any executor's ring.
#[derive(Debug)]
pub struct Detached {
    fd: OwnedFd,
    state: DetachedState,
}

/// What a transport keeps besides its socket while detached. Variants that
/// carry much (a TLS session) should box it: parked connections are many.
#[derive(Debug)]
pub enum DetachedState {
    /// Plain TCP keeps nothing.
    Tcp,
    /// The TLS session: keys, sequence numbers, bytes in transit.
    Tls(Box<tls::TlsSession>),
}

impl Detached {
    pub(super) fn new(fd: OwnedFd, state: DetachedState) -> Detached {
        Detached { fd, state }
    }

    /// The transport again, driven by the current executor's ring.
    pub fn attach(self) -> Transport {
        match self.state {
            DetachedState::Tcp => Transport::Tcp(TcpTransport::attach(self.fd)),
            DetachedState::Tls(s) => Transport::Tls(Box::new(TlsTransport::attach(self.fd, *s))),
        }
    }

    /// The socket is readable while parked: read what is there without
    /// blocking and answer it in place if it is only PINGREQs. Returns what
    /// was heard and the encoded answer bytes the socket would not take,
    /// for the connection to write once it is back.
    pub fn listen_parked(&mut self) -> (Heard, Vec<u8>) {
        match &mut self.state {
            DetachedState::Tcp => tcp::listen_parked(&self.fd),
            DetachedState::Tls(conn) => tls::listen_parked(&self.fd, conn),
        }
    }
}

impl AsFd for Detached {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
