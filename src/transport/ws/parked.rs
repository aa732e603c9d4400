//! A parked WebSocket connection's socket is readable: read what came
//! (through the TLS session for wss), decode its whole frames with a fresh
//! decoder (a parked connection is at a message boundary), answer in place
//! what needs no connection, and hand back the rest as MQTT bytes:
//! - a binary frame of PINGREQs gets PINGRESPs in a binary frame;
//! - a ping gets its pong, a pong nothing;
//! - a close frame gets its closing answer, and the connection ends.
//!
//! A fragment, a partial frame or a frame to refuse is left in the
//! detached state's `raw` for the live transport, which the connection
//! is woken to get back.

use super::codec::{self, Got, Inbound};
use super::WsDetached;
use crate::transport::parked::{self, Heard};
use crate::transport::tcp::{transient, Nonblocking};
use crate::transport::{tls, Detached};
use socket2::SockRef;
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd};

/// Bytes read from a parked socket per readiness event.
const PEEK: usize = 2048;

/// Like `tcp::listen_parked`, in WebSocket frames. Answers the socket
/// would not take wait in the detached state (or the TLS session), and the
/// connection is woken (empty `Wake`) so its transport sends them.
pub fn listen_parked(ws: &mut WsDetached) -> (Heard, Vec<u8>) {
    let eof = match recv(&mut ws.inner, &mut ws.raw) {
        Ok(eof) => eof,
        Err(heard) => return (heard, Vec::new()),
    };
    let mut answer = Vec::new();
    let (plain, closed) = decode(ws, &mut answer);
    let heard = if closed {
        Heard::Closed
    } else if !ws.raw.is_empty() {
        Heard::Wake(plain)
    } else {
        match parked::classify(&plain) {
            Heard::Nothing if eof => Heard::Closed,
            heard => heard,
        }
    };
    if let Heard::Pings(n) = heard {
        codec::binary_frame(&mut answer, &parked::answer(n));
    }
    let all_out = send(&mut ws.inner, &answer, &mut ws.wbuf);
    match heard {
        Heard::Pings(_) | Heard::Nothing if !all_out => (Heard::Wake(Vec::new()), Vec::new()),
        heard => (heard, Vec::new()),
    }
}

/// Decode the whole, unfragmented frames at the front of `raw`: the MQTT
/// bytes they carry, and whether one was a close frame. Answers go to
/// `answer`; what is not decoded stays in `raw`.
fn decode(ws: &mut WsDetached, answer: &mut Vec<u8>) -> (Vec<u8>, bool) {
    let mut inbound = Inbound::new(ws.max_payload);
    let (mut pos, mut plain, mut closed) = (0, Vec::new(), false);
    while let Ok(Some(w)) = inbound.whole_frame(&ws.raw[pos..]) {
        if w.is_fragment() {
            break;
        }
        match inbound.feed(&ws.raw[pos..pos + w.len], &w, answer) {
            Ok(Got::Data(b)) => plain.extend_from_slice(&b),
            Ok(Got::Nothing) => {}
            Ok(Got::Closed) => closed = true,
            Err(_) => break, // refused (and counted) by the live transport
        }
        pos += w.len;
        if closed {
            break;
        }
    }
    ws.raw.drain(..pos);
    (plain, closed)
}

/// Frame bytes from the socket appended to `raw`. `Ok(true)`: the peer
/// closed after them. `Err` is what to report instead.
fn recv(inner: &mut Detached, raw: &mut Vec<u8>) -> Result<bool, Heard> {
    match inner {
        Detached::Tcp(fd) => {
            let at = raw.len();
            raw.resize(at + PEEK, 0);
            let got = Nonblocking(SockRef::from(&*fd)).read(&mut raw[at..]);
            raw.truncate(at + got.as_ref().map_or(0, |n| *n));
            match got {
                Ok(0) => Err(Heard::Closed),
                Ok(_) => Ok(false),
                Err(e) if transient(&e) => Err(Heard::Nothing),
                Err(_) => Err(Heard::Closed),
            }
        }
        Detached::Tls(fd, s) => tls::recv_plain(fd, s, raw),
        Detached::Ws(_) => Err(Heard::Closed), // never nested
    }
}

/// Write `bytes` (and, for TLS, whatever the session owes). True if all
/// is out; for TCP the rest waits in `wbuf`.
fn send(inner: &mut Detached, bytes: &[u8], wbuf: &mut Vec<u8>) -> bool {
    match inner {
        Detached::Tcp(fd) => {
            let sent = match bytes.is_empty() {
                true => 0,
                false => Nonblocking(SockRef::from(&*fd)).write(bytes).unwrap_or(0),
            };
            wbuf.extend_from_slice(&bytes[sent..]);
            sent == bytes.len()
        }
        Detached::Tls(fd, s) => tls::send_plain(fd, s, bytes).unwrap_or(false),
        Detached::Ws(_) => false,
    }
}

impl AsFd for WsDetached {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}
