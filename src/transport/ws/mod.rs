//! MQTT over WebSocket (RFC 6455, MQTT §6) on top of a TCP or TLS
//! transport: to the connection it is a byte stream like the others.
//! tungstenite parses the upgrade request and the client's frames
//! (`upgrade.rs`, `codec.rs`); the glue here moves bytes between it, our
//! buffers and the inner transport, so nothing waits inside tungstenite
//! and what is in flight can detach with the socket (hand-off, parking;
//! a parked client's pings are answered in `parked.rs`).
//!
//! MQTT packets may be split across frames or packed into one
//! [MQTT-6.0.0-2]: frames' payloads are simply the stream. Each write
//! becomes one binary frame.

mod codec;
mod parked;
mod upgrade;

pub use codec::FRAME_SLACK;
pub use parked::listen_parked;
pub use upgrade::accept;

use super::{DetachError, Detached, Transport};
use crate::metrics::WsRefusal;
use bytes::Bytes;
use codec::{Got, Inbound};
use std::io;
use std::task::{ready, Context, Poll};

/// Largest payload of one outgoing frame; a longer write is taken in parts
/// (the caller writes the rest), so our frame buffer stays this small.
const MAX_FRAME_OUT: usize = 16 * 1024;

/// A WebSocket connection on this executor.
#[derive(Debug)]
pub struct WsTransport {
    inner: Transport,
    inbound: Inbound,
    /// Frame bytes received and not decoded yet: a partial frame, or whole
    /// ones left for the next read.
    raw: Vec<u8>,
    /// Decoded MQTT bytes the last read had no room for.
    out: Bytes,
    /// Frames to send (ours, pongs, close), written from `sent` on; freed
    /// once all is out.
    wbuf: Vec<u8>,
    sent: usize,
    /// Reading is over: the client closed, or we refused what it sent.
    end: Option<End>,
}

#[derive(Debug, Clone, Copy)]
enum End {
    Closed,
    Refused(WsRefusal),
}

/// A WebSocket connection off any executor (hand-off, parking).
#[derive(Debug)]
pub struct WsDetached {
    /// The TCP or TLS transport underneath, detached.
    inner: Detached,
    raw: Vec<u8>,
    out: Bytes,
    wbuf: Vec<u8>,
    end: Option<End>,
    max_payload: usize,
    /// The decoder, only when it holds the start of a fragmented message
    /// or is closing; otherwise a fresh one is made on attach.
    inbound: Option<Box<Inbound>>,
}

impl WsTransport {
    /// After the upgrade: `raw` is what the client sent behind its request.
    fn new(inner: Transport, raw: Vec<u8>, max_payload: usize) -> WsTransport {
        WsTransport {
            inner,
            inbound: Inbound::new(max_payload),
            raw,
            out: Bytes::new(),
            wbuf: Vec::new(),
            sent: 0,
            end: None,
        }
    }

    /// A detached WebSocket connection on this executor's ring.
    pub fn attach(d: WsDetached) -> WsTransport {
        let max = d.max_payload;
        WsTransport {
            inner: d.inner.attach(),
            inbound: d.inbound.map_or_else(|| Inbound::new(max), |b| *b),
            raw: d.raw,
            out: d.out,
            wbuf: d.wbuf,
            sent: 0,
            end: d.end,
        }
    }

    #[allow(clippy::result_large_err)] // gives the transport back, rarely
    pub fn detach(self: Box<Self>) -> Result<Detached, DetachError> {
        let WsTransport {
            inner,
            inbound,
            raw,
            out,
            mut wbuf,
            sent,
            end,
        } = *self;
        match inner.detach() {
            Ok(inner) => {
                wbuf.drain(..sent);
                let max_payload = inbound.max_payload();
                let inbound = (!inbound.idle()).then(|| Box::new(inbound));
                let d = WsDetached {
                    inner,
                    raw,
                    out,
                    wbuf,
                    end,
                    max_payload,
                    inbound,
                };
                Ok(Detached::Ws(Box::new(d)))
            }
            Err(e) => Err(DetachError {
                transport: Transport::Ws(Box::new(WsTransport {
                    inner: e.transport,
                    inbound,
                    raw,
                    out,
                    wbuf,
                    sent,
                    end,
                })),
                error: e.error,
            }),
        }
    }

    /// MQTT bytes into `buf`; `Ready(Ok(0))` once the client closed. A
    /// refusal (close frame sent) fails with a [`WsRefusal`] inside.
    pub fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        loop {
            if !self.out.is_empty() {
                let n = self.out.len().min(buf.len());
                buf[..n].copy_from_slice(&self.out.split_to(n));
                return Poll::Ready(Ok(n));
            }
            if let Some(end) = self.end {
                // Our close frame goes out before the stream ends.
                let _ = ready!(self.poll_flush(cx));
                return Poll::Ready(match end {
                    End::Closed => Ok(0),
                    End::Refused(why) => Err(io::Error::new(io::ErrorKind::InvalidData, why)),
                });
            }
            let n = self.decode(buf);
            if n > 0 {
                return Poll::Ready(Ok(n));
            }
            if self.end.is_some() {
                continue;
            }
            // Pongs out. A full socket does not stop us reading, unless a
            // client that pings without reading has piled them up.
            match self.poll_send(cx) {
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending if self.wbuf.len() - self.sent > MAX_FRAME_OUT => {
                    return Poll::Pending
                }
                _ => {}
            }
            let got = ready!(self.inner.poll_read(cx, buf))?;
            if got == 0 {
                return Poll::Ready(Ok(0));
            }
            self.raw.extend_from_slice(&buf[..got]);
        }
    }

    /// Decode the whole frames in `raw` into `buf`, until it is full or a
    /// frame ends reading. Returns the bytes written.
    fn decode(&mut self, buf: &mut [u8]) -> usize {
        let (mut pos, mut n) = (0, 0);
        while n < buf.len() && self.end.is_none() {
            let whole = match self.inbound.whole_frame(&self.raw[pos..]) {
                Ok(Some(w)) => w,
                Ok(None) => break,
                Err(why) => {
                    self.refuse(why);
                    break;
                }
            };
            let frame = &self.raw[pos..pos + whole.len];
            let got = self.inbound.feed(frame, &whole, &mut self.wbuf);
            pos += whole.len;
            match got {
                Ok(Got::Data(mut b)) => {
                    let k = b.len().min(buf.len() - n);
                    buf[n..n + k].copy_from_slice(&b.split_to(k));
                    n += k;
                    self.out = b;
                }
                Ok(Got::Nothing) => {}
                Ok(Got::Closed) => self.end = Some(End::Closed),
                Err(why) => self.refuse(why),
            }
            if !self.out.is_empty() {
                break;
            }
        }
        if self.end.is_some() || pos >= self.raw.len() {
            self.raw = Vec::new(); // nothing is read after the end
        } else if pos > 0 {
            self.raw.drain(..pos);
        }
        n
    }

    fn refuse(&mut self, why: WsRefusal) {
        self.inbound.refuse(why, &mut self.wbuf);
        self.end = Some(End::Refused(why));
    }

    /// Write our queued frames to the inner stream.
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.wbuf.len() {
            let n = ready!(self.inner.poll_write(cx, &self.wbuf[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        if !self.wbuf.is_empty() {
            self.wbuf = Vec::new(); // an idle connection holds no buffer
            self.sent = 0;
        }
        Poll::Ready(Ok(()))
    }

    /// One binary frame of `buf` (up to [`MAX_FRAME_OUT`] of it), taken
    /// only once earlier frames are out: the connection's own back-pressure
    /// stays in charge.
    pub fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.poll_send(cx))?;
        if !self.inbound.can_write() {
            // No data frame after a close frame (RFC 6455 §5.5.1).
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let n = buf.len().min(MAX_FRAME_OUT);
        codec::binary_frame(&mut self.wbuf, &buf[..n]);
        if let Poll::Ready(Err(e)) = self.poll_send(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(n))
    }

    pub fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_send(cx))?;
        self.inner.poll_flush(cx)
    }

    /// A close frame (normal closure), then the inner stream's close;
    /// reading goes on until the client's closing answer.
    pub fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inbound.close(&mut self.wbuf);
        ready!(self.poll_send(cx))?;
        self.inner.poll_close(cx)
    }

    /// Nothing received but undecoded or unread, nothing unsent, no
    /// fragmented message begun, and the inner transport agrees.
    pub fn can_park(&mut self) -> bool {
        self.raw.is_empty()
            && self.out.is_empty()
            && self.wbuf.is_empty()
            && self.end.is_none()
            && self.inbound.idle()
            && self.inner.can_park()
    }
}

#[cfg(test)]
mod tests;
