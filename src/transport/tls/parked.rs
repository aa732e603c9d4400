//! A parked TLS connection's socket is readable: decrypt what came with
//! the connection's own session, answer PINGREQs in place (encrypted), and
//! hand anything else back as plaintext. A partial record stays in the
//! session until the rest arrives. A parked secure WebSocket decrypts and
//! answers through the same two steps ([`recv_plain`], [`send_plain`]).

use super::{keep, TlsSession};
use crate::transport::parked::{self, Heard};
use crate::transport::tcp::transient;
use socket2::SockRef;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;

/// Bytes read per readiness event: a few pings, or the start of a publish.
const PEEK: usize = 2048;

/// Like `tcp::listen_parked`, through the TLS session. Answers the socket
/// would not take stay in the session's `outgoing`; the connection is then
/// woken (an empty `Wake`) so its transport sends them.
pub fn listen_parked(fd: &OwnedFd, s: &mut TlsSession) -> (Heard, Vec<u8>) {
    let mut plain = Vec::new();
    let closed = match recv_plain(fd, s, &mut plain) {
        Ok(closed) => closed,
        Err(heard) => return (heard, Vec::new()),
    };
    let heard = match parked::classify(&plain) {
        Heard::Nothing if closed => Heard::Closed,
        heard => heard,
    };
    let answer = match heard {
        Heard::Pings(n) => parked::answer(n),
        _ => Vec::new(),
    };
    // Sent even without an answer: the session may owe the peer records.
    match send_plain(fd, s, &answer) {
        Err(heard) => (heard, Vec::new()),
        Ok(false) if matches!(heard, Heard::Pings(_) | Heard::Nothing) => {
            (Heard::Wake(Vec::new()), Vec::new())
        }
        Ok(_) => (heard, Vec::new()),
    }
}

/// Read what the parked socket has and decrypt it, appending the
/// plaintext to `plain`. `Ok(true)`: the peer closed (close_notify).
/// `Err` is what to report instead: nothing to read, or the end.
pub(crate) fn recv_plain(
    fd: &OwnedFd,
    s: &mut TlsSession,
    plain: &mut Vec<u8>,
) -> Result<bool, Heard> {
    let sock = SockRef::from(fd);
    let mut buf = s.incoming.clone();
    let pre = buf.len();
    buf.resize(pre + PEEK, 0);
    // SAFETY: `recv` writes only initialized bytes, and `MaybeUninit<u8>`
    // has the layout of `u8`; the slice is inside `buf`.
    let spare = unsafe { &mut *(&mut buf[pre..] as *mut [u8] as *mut [MaybeUninit<u8>]) };
    let n = match sock.recv_with_flags(spare, libc::MSG_DONTWAIT) {
        Ok(0) => return Err(Heard::Closed),
        Ok(n) => n,
        Err(e) if transient(&e) => return Err(Heard::Nothing),
        Err(_) => return Err(Heard::Closed),
    };
    let used = match s.absorb(&mut buf[..pre + n], &mut |p| plain.extend_from_slice(p)) {
        Ok(used) => used,
        Err(_) => {
            send(&sock, s); // the alert, best effort
            return Err(Heard::Closed);
        }
    };
    keep(&mut s.incoming, &buf[used..pre + n]);
    Ok(s.peer_closed)
}

/// Encrypt `bytes` into the session and write what it has to send without
/// blocking. `Ok(true)` if nothing is left to send.
pub(crate) fn send_plain(fd: &OwnedFd, s: &mut TlsSession, bytes: &[u8]) -> Result<bool, Heard> {
    if !bytes.is_empty() {
        let mut sealed = Vec::new();
        s.seal(bytes, &mut sealed).map_err(|_| Heard::Closed)?;
        s.outgoing.extend_from_slice(&sealed);
    }
    send(&SockRef::from(fd), s);
    Ok(s.outgoing.is_empty())
}

/// Write what the session has to send, without blocking; the rest stays.
fn send(sock: &SockRef<'_>, s: &mut TlsSession) {
    let flags = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
    let sent = sock.send_with_flags(&s.outgoing, flags).unwrap_or(0);
    let rest = s.outgoing.split_off(sent);
    keep(&mut s.outgoing, &rest);
}
