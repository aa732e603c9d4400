//! Socket reading and writing for one connection.
//!
//! Reads go into one per-shard scratch buffer: glommio's reads are
//! readiness-based (a plain `recv` into the buffer we pass, only while we are
//! polled), so the kernel never holds a buffer for an idle socket and an
//! idle connection keeps no read buffer at all. Only an incomplete packet,
//! or packets left unprocessed while the connection is paused, are copied
//! into the connection's own `pending` vector.

use super::OutBuf;
use crate::metrics::ShardHistograms;
use crate::protocol::{parse_frame_header, DecodeError, FrameHeader};
use bytes::Bytes;
use futures_lite::{AsyncRead, AsyncWrite};
use glommio::net::TcpStream;
use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Instant;

const SCRATCH_SIZE: usize = 64 * 1024;

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0; SCRATCH_SIZE]);
}

/// What the packet handler wants after one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Stop processing input for now; keep the rest for later.
    Pause,
    /// Stop processing input for good.
    Stop,
}

/// Result of one read.
#[derive(Debug)]
pub enum ReadError {
    Io(io::Error),
    Decode(DecodeError),
}

/// Unprocessed input of one connection (normally empty, capacity 0).
#[derive(Default, Debug)]
pub struct Reader {
    pending: Vec<u8>,
}

impl Reader {
    pub fn with_pending(pending: Vec<u8>) -> Reader {
        Reader { pending }
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Hand every whole packet already buffered to `on_frame`.
    pub fn drain_pending(
        &mut self,
        max: usize,
        on_frame: &mut impl FnMut(FrameHeader, Bytes) -> Flow,
    ) -> Result<Flow, DecodeError> {
        let (used, flow) = frames(&self.pending, max, on_frame)?;
        // In place: a large packet arriving over many reads must not be
        // copied again on every read.
        if used == self.pending.len() {
            self.pending = Vec::new();
        } else if used > 0 {
            self.pending.drain(..used);
        }
        Ok(flow)
    }

    /// Read once from the socket and hand every whole packet to `on_frame`.
    /// `Ready(Ok(false))` is end of stream.
    pub fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        stream: &mut TcpStream,
        max: usize,
        on_frame: &mut impl FnMut(FrameHeader, Bytes) -> Flow,
    ) -> Poll<Result<(bool, Flow), ReadError>> {
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            let pre = self.pending.len();
            if pre >= SCRATCH_SIZE / 2 {
                // A large packet in progress: accumulate it in `pending`.
                let n = ready!(Pin::new(&mut *stream).poll_read(cx, &mut s[..]))
                    .map_err(ReadError::Io)?;
                if n == 0 {
                    return Poll::Ready(Ok((false, Flow::Stop)));
                }
                self.pending.extend_from_slice(&s[..n]);
                return Poll::Ready(
                    self.drain_pending(max, on_frame)
                        .map(|f| (true, f))
                        .map_err(ReadError::Decode),
                );
            }
            // Put the incomplete tail in front of the new bytes.
            s[..pre].copy_from_slice(&self.pending);
            let n = ready!(Pin::new(&mut *stream).poll_read(cx, &mut s[pre..]))
                .map_err(ReadError::Io)?;
            if n == 0 {
                return Poll::Ready(Ok((false, Flow::Stop)));
            }
            let total = pre + n;
            let (used, flow) = frames(&s[..total], max, on_frame).map_err(ReadError::Decode)?;
            self.pending.clear();
            self.keep(&s[used..total]);
            Poll::Ready(Ok((true, flow)))
        })
    }

    /// Keep `rest` as pending input; release the buffer when there is none.
    fn keep(&mut self, rest: &[u8]) {
        if rest.is_empty() {
            self.pending = Vec::new();
        } else {
            self.pending.clear();
            self.pending.extend_from_slice(rest);
        }
    }
}

/// Split whole packets off `buf`, each copied into its own `Bytes` so a
/// payload pins only its own packet, never a read buffer.
fn frames(
    buf: &[u8],
    max: usize,
    on_frame: &mut impl FnMut(FrameHeader, Bytes) -> Flow,
) -> Result<(usize, Flow), DecodeError> {
    let mut pos = 0;
    while let Some(h) = parse_frame_header(&buf[pos..], max)? {
        let end = pos + h.total_len();
        if end > buf.len() {
            break;
        }
        let flow = on_frame(h, Bytes::copy_from_slice(&buf[pos..end]));
        pos = end;
        if flow != Flow::Continue {
            return Ok((pos, flow));
        }
    }
    Ok((pos, Flow::Continue))
}

/// Bytes taken from the connection's write buffer and being written.
#[derive(Default, Debug)]
pub struct Writer {
    buf: OutBuf,
    pos: usize,
    /// Deliveries were written since the last `take_delivered`.
    delivered: bool,
}

impl Writer {
    /// Write until everything queued in `handle` is on the socket; each
    /// delivery's publish-to-delivery latency is recorded once its bytes are.
    pub fn poll_flush(
        &mut self,
        cx: &mut Context<'_>,
        stream: &mut TcpStream,
        handle: &super::ConnHandle,
        hist: &RefCell<ShardHistograms>,
    ) -> Poll<io::Result<()>> {
        loop {
            if self.pos == self.buf.bytes.len() {
                self.written(hist);
                if handle.pending_bytes() == 0 {
                    self.buf.release(); // idle: hold no buffer
                    self.pos = 0;
                    return Poll::Ready(Ok(()));
                }
                let mut spare = std::mem::take(&mut self.buf);
                spare.bytes.clear();
                self.buf = handle.take_out(spare);
                self.pos = 0;
            }
            let n = ready!(Pin::new(&mut *stream).poll_write(cx, &self.buf.bytes[self.pos..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pos += n;
        }
    }

    pub fn take_delivered(&mut self) -> bool {
        std::mem::take(&mut self.delivered)
    }

    fn written(&mut self, hist: &RefCell<ShardHistograms>) {
        if self.buf.stamps.is_empty() {
            return;
        }
        self.delivered = true;
        let now = Instant::now();
        let mut h = hist.borrow_mut();
        let l = &mut h.publish_to_delivery;
        for t in self.buf.stamps.drain(..) {
            l.record(now.saturating_duration_since(t));
        }
    }
}

/// Read once into the scratch buffer and append what came to `buf`
/// (used before CONNECT, when there is no connection state yet).
pub fn poll_append(
    cx: &mut Context<'_>,
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> Poll<io::Result<usize>> {
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        let n = ready!(Pin::new(&mut *stream).poll_read(cx, &mut s[..]))?;
        buf.extend_from_slice(&s[..n]);
        Poll::Ready(Ok(n))
    })
}
