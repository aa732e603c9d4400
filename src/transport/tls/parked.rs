//! A parked TLS connection's socket is readable: decrypt what came with
//! the connection's own session, answer PINGREQs in place (encrypted), and
//! hand anything else back as plaintext. The session keeps partial records
//! and key updates across wake-ups. A parked secure WebSocket decrypts and
//! answers through the same two steps ([`recv_plain`], [`send_plain`]).

use crate::transport::parked::{self, Heard};
use crate::transport::tcp::{transient, Nonblocking};
use rustls::ServerConnection;
use socket2::SockRef;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;

/// Like `tcp::listen_parked`, through the TLS session. Answers the socket
/// would not take stay in the session; the connection is then woken
/// (empty `Wake`) so its transport sends them.
pub fn listen_parked(fd: &OwnedFd, conn: &mut ServerConnection) -> (Heard, Vec<u8>) {
    let mut plain = Vec::new();
    let closed = match recv_plain(fd, conn, &mut plain) {
        Ok(closed) => closed,
        Err(heard) => return (heard, Vec::new()),
    };
    let heard = match parked::classify(&plain) {
        Heard::Nothing if closed => Heard::Closed,
        other => other,
    };
    let answer = match heard {
        Heard::Pings(n) => parked::answer(n),
        _ => Vec::new(),
    };
    // Sent even without an answer: rustls may owe the peer a key update.
    let all_out = send_plain(fd, conn, &answer);
    match heard {
        Heard::Pings(_) | Heard::Nothing if !all_out => (Heard::Wake(Vec::new()), Vec::new()),
        heard => (heard, Vec::new()),
    }
}

/// Read and decrypt what the parked socket has, appending the plaintext
/// to `plain`. `Ok(true)`: the peer closed (close_notify) after it.
/// `Err` is what to report instead: nothing to read, or the end.
pub(crate) fn recv_plain(
    fd: &OwnedFd,
    conn: &mut ServerConnection,
    plain: &mut Vec<u8>,
) -> Result<bool, Heard> {
    let mut sock = Nonblocking(SockRef::from(fd));
    match conn.read_tls(&mut sock) {
        Ok(0) => return Err(Heard::Closed),
        Ok(_) => {}
        Err(e) if transient(&e) => return Err(Heard::Nothing),
        Err(_) => return Err(Heard::Closed),
    }
    if conn.process_new_packets().is_err() {
        let _ = conn.write_tls(&mut sock); // the alert, best effort
        return Err(Heard::Closed);
    }
    match conn.reader().read_to_end(plain) {
        Ok(_) => Ok(true), // close_notify
        Err(e) => Ok(e.kind() != std::io::ErrorKind::WouldBlock),
    }
}

/// Encrypt `bytes` into the session and write every record the socket
/// takes. True if nothing is left in the session to send.
pub(crate) fn send_plain(fd: &OwnedFd, conn: &mut ServerConnection, bytes: &[u8]) -> bool {
    // Into the session's buffer; cannot fail short of memory.
    let _ = conn.writer().write_all(bytes);
    let mut sock = Nonblocking(SockRef::from(fd));
    while conn.wants_write() {
        if conn.write_tls(&mut sock).is_err() {
            break;
        }
    }
    !conn.wants_write()
}
