//! A parked TLS connection's socket is readable: decrypt what came with
//! the connection's own session, answer PINGREQs in place (encrypted), and
//! hand anything else back as plaintext. A partial record stays in the
//! session until the rest arrives.

use super::{keep, TlsSession};
use crate::transport::parked::{self, Heard};
use socket2::SockRef;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;

/// Bytes read per readiness event: a few pings, or the start of a publish.
const PEEK: usize = 2048;

/// Like `tcp::listen_parked`, through the TLS session. Answers the socket
/// would not take stay in the session's `outgoing`; the connection is then
/// woken (an empty `Wake`) so its transport sends them.
pub fn listen_parked(fd: &OwnedFd, s: &mut TlsSession) -> (Heard, Vec<u8>) {
    let sock = SockRef::from(fd);
    let mut buf = s.incoming.clone();
    let pre = buf.len();
    buf.resize(pre + PEEK, 0);
    // SAFETY: `recv` writes only initialized bytes, and `MaybeUninit<u8>`
    // has the layout of `u8`; the slice is inside `buf`.
    let spare = unsafe { &mut *(&mut buf[pre..] as *mut [u8] as *mut [MaybeUninit<u8>]) };
    let n = match sock.recv_with_flags(spare, libc::MSG_DONTWAIT) {
        Ok(0) => return (Heard::Closed, Vec::new()),
        Ok(n) => n,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) =>
        {
            return (Heard::Nothing, Vec::new())
        }
        Err(_) => return (Heard::Closed, Vec::new()),
    };
    let mut plain = Vec::new();
    let used = match s.absorb(&mut buf[..pre + n], &mut |p| plain.extend_from_slice(p)) {
        Ok(used) => used,
        Err(_) => {
            send(&sock, s);
            return (Heard::Closed, Vec::new());
        }
    };
    keep(&mut s.incoming, &buf[used..pre + n]);
    let heard = match parked::classify(&plain) {
        Heard::Nothing if s.peer_closed => Heard::Closed,
        Heard::Pings(n) => {
            let mut answer = Vec::new();
            match s.seal(&parked::answer(n), &mut answer) {
                Ok(()) => {
                    s.outgoing.extend_from_slice(&answer);
                    Heard::Pings(n)
                }
                Err(_) => Heard::Closed,
            }
        }
        other => other,
    };
    send(&sock, s);
    match heard {
        Heard::Pings(_) | Heard::Nothing if !s.outgoing.is_empty() => {
            (Heard::Wake(Vec::new()), Vec::new())
        }
        heard => (heard, Vec::new()),
    }
}

/// Write what the session has to send, without blocking; the rest stays.
fn send(sock: &SockRef<'_>, s: &mut TlsSession) {
    let flags = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
    let sent = sock.send_with_flags(&s.outgoing, flags).unwrap_or(0);
    let rest = s.outgoing.split_off(sent);
    keep(&mut s.outgoing, &rest);
}
