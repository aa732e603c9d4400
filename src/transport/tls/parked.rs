//! A parked TLS connection's socket is readable: decrypt what came with
//! the connection's own session, answer PINGREQs in place (encrypted), and
//! hand anything else back as plaintext. The session keeps partial records
//! and key updates across wake-ups.

use crate::transport::parked::{self, Heard};
use rustls::ServerConnection;
use socket2::SockRef;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;

/// The parked socket for rustls, without blocking.
struct Nonblocking<'a>(SockRef<'a>);

impl Read for Nonblocking<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: `recv` only writes initialized bytes into the buffer, and
        // `MaybeUninit<u8>` has the layout of `u8`.
        let uninit = unsafe { &mut *(buf as *mut [u8] as *mut [std::mem::MaybeUninit<u8>]) };
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

/// Like `tcp::listen_parked`, through the TLS session. Answers the socket
/// would not take stay in the session; the connection is then woken
/// (empty `Wake`) so its transport sends them.
pub fn listen_parked(fd: &OwnedFd, conn: &mut ServerConnection) -> (Heard, Vec<u8>) {
    let mut sock = Nonblocking(SockRef::from(fd));
    match conn.read_tls(&mut sock) {
        Ok(0) => return (Heard::Closed, Vec::new()),
        Ok(_) => {}
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) =>
        {
            return (Heard::Nothing, Vec::new())
        }
        Err(_) => return (Heard::Closed, Vec::new()),
    }
    if conn.process_new_packets().is_err() {
        let _ = conn.write_tls(&mut sock); // the alert, best effort
        return (Heard::Closed, Vec::new());
    }
    let mut plain = Vec::new();
    let closed = match conn.reader().read_to_end(&mut plain) {
        Ok(_) => true, // close_notify
        Err(e) => e.kind() != io::ErrorKind::WouldBlock,
    };
    let heard = match parked::classify(&plain) {
        Heard::Nothing if closed => Heard::Closed,
        Heard::Pings(n) => {
            // Into the session's buffer; cannot fail short of memory.
            let _ = conn.writer().write_all(&parked::answer(n));
            Heard::Pings(n)
        }
        other => other,
    };
    while conn.wants_write() {
        if conn.write_tls(&mut sock).is_err() {
            break;
        }
    }
    match heard {
        Heard::Pings(_) | Heard::Nothing if conn.wants_write() => {
            (Heard::Wake(Vec::new()), Vec::new())
        }
        heard => (heard, Vec::new()),
    }
}
