//! Reading and writing one connection's transport.
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
use crate::transport::Transport;
use bytes::Bytes;
use std::cell::{Cell, RefCell};
use std::io;
use std::task::{ready, Context, Poll};
use std::time::Instant;

const SCRATCH_SIZE: usize = 64 * 1024;

/// The read-side state one shard shares among its connections: the
/// scratch buffer every read goes through and the clock of the batch of
/// packets being handled. Owned by the shard (`Shard::io`), passed in.
pub struct ShardIo {
    scratch: RefCell<Vec<u8>>,
    clock: Cell<Option<Instant>>,
}

impl Default for ShardIo {
    fn default() -> Self {
        ShardIo {
            scratch: RefCell::new(vec![0; SCRATCH_SIZE]),
            clock: Cell::new(None),
        }
    }
}

impl ShardIo {
    /// When the packets now being handled arrived. The clock is read once
    /// per batch (one socket read, or one drain of pending input), at the
    /// first call, and every PUBLISH of the batch shares it: they came in
    /// one `recv`. A clock read per PUBLISH was ~9 % of the broker's CPU at
    /// saturation (docs/benchmarks.md). Outside a batch it is the time now.
    pub fn received_at(&self) -> Instant {
        self.clock.get().unwrap_or_else(|| {
            let now = Instant::now();
            self.clock.set(Some(now));
            now
        })
    }

    /// Runs `f` as one batch for [`ShardIo::received_at`].
    fn batch<R>(&self, f: impl FnOnce() -> R) -> R {
        self.clock.set(None);
        let r = f();
        self.clock.set(None);
        r
    }
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
        io: &ShardIo,
        max: usize,
        on_frame: &mut impl FnMut(FrameHeader, Bytes) -> Flow,
    ) -> Result<Flow, DecodeError> {
        let (used, flow) = frames(io, &self.pending, max, on_frame)?;
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
        transport: &mut Transport,
        io: &ShardIo,
        max: usize,
        on_frame: &mut impl FnMut(FrameHeader, Bytes) -> Flow,
    ) -> Poll<Result<(bool, Flow), ReadError>> {
        let mut s = io.scratch.borrow_mut();
        let pre = self.pending.len();
        if pre >= SCRATCH_SIZE / 2 {
            // A large packet in progress: accumulate it in `pending`.
            let n = ready!(transport.poll_read(cx, &mut s[..])).map_err(ReadError::Io)?;
            if n == 0 {
                return Poll::Ready(Ok((false, Flow::Stop)));
            }
            self.pending.extend_from_slice(&s[..n]);
            return Poll::Ready(
                self.drain_pending(io, max, on_frame)
                    .map(|f| (true, f))
                    .map_err(ReadError::Decode),
            );
        }
        // Put the incomplete tail in front of the new bytes.
        s[..pre].copy_from_slice(&self.pending);
        let n = ready!(transport.poll_read(cx, &mut s[pre..])).map_err(ReadError::Io)?;
        if n == 0 {
            return Poll::Ready(Ok((false, Flow::Stop)));
        }
        let total = pre + n;
        let (used, flow) = frames(io, &s[..total], max, on_frame).map_err(ReadError::Decode)?;
        self.pending.clear();
        self.keep(&s[used..total]);
        Poll::Ready(Ok((true, flow)))
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
    io: &ShardIo,
    buf: &[u8],
    max: usize,
    on_frame: &mut impl FnMut(FrameHeader, Bytes) -> Flow,
) -> Result<(usize, Flow), DecodeError> {
    io.batch(|| {
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
    })
}

/// Bytes taken from the connection's write buffer and being written.
#[derive(Default, Debug)]
pub struct Writer {
    buf: OutBuf,
    pos: usize,
    /// When deliveries were last written, if since the last `take_delivered`.
    delivered: Option<Instant>,
}

impl Writer {
    /// Write until everything queued in `handle` is on the socket; each
    /// delivery's publish-to-delivery latency is recorded once its bytes are.
    pub fn poll_flush(
        &mut self,
        cx: &mut Context<'_>,
        transport: &mut Transport,
        handle: &super::ConnHandle,
        hist: &RefCell<ShardHistograms>,
    ) -> Poll<io::Result<()>> {
        loop {
            if self.pos == self.buf.bytes.len() {
                self.written(hist);
                if handle.pending_bytes() == 0 {
                    self.buf.release(); // idle: hold no buffer
                    self.pos = 0;
                    // TLS records rustls could not send with the last write.
                    return transport.poll_flush(cx);
                }
                let mut spare = std::mem::take(&mut self.buf);
                spare.bytes.clear();
                self.buf = handle.take_out(spare);
                self.pos = 0;
            }
            let n = ready!(transport.poll_write(cx, &self.buf.bytes[self.pos..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pos += n;
        }
    }

    pub fn take_delivered(&mut self) -> Option<Instant> {
        self.delivered.take()
    }

    /// Record the latency of every delivery just written. Deliveries of
    /// one batch (see [`ShardIo::received_at`]) share their stamp and are recorded
    /// together.
    fn written(&mut self, hist: &RefCell<ShardHistograms>) {
        let mut stamps = self.buf.stamps.drain(..);
        let Some(mut run) = stamps.next() else {
            return;
        };
        let now = Instant::now();
        self.delivered = Some(now);
        let mut h = hist.borrow_mut();
        let l = &mut h.publish_to_delivery;
        let mut n = 1;
        for t in stamps {
            if t == run {
                n += 1;
            } else {
                l.record_n(now.saturating_duration_since(run), n);
                (run, n) = (t, 1);
            }
        }
        l.record_n(now.saturating_duration_since(run), n);
    }
}

/// Read once into the scratch buffer and append what came to `buf`
/// (used before CONNECT, when there is no connection state yet).
pub fn poll_append(
    cx: &mut Context<'_>,
    transport: &mut Transport,
    io: &ShardIo,
    buf: &mut Vec<u8>,
) -> Poll<io::Result<usize>> {
    let mut s = io.scratch.borrow_mut();
    let n = ready!(transport.poll_read(cx, &mut s[..]))?;
    buf.extend_from_slice(&s[..n]);
    Poll::Ready(Ok(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{encode_publish, ProtocolVersion, PublishRef, QoS};
    use std::time::Duration;

    fn two_publishes() -> Vec<u8> {
        let mut buf = Vec::new();
        for topic in ["a/1", "a/2"] {
            let p = PublishRef::new(topic, b"x", QoS::AtMostOnce, 0);
            encode_publish(&p, ProtocolVersion::V3_1_1, &mut buf);
        }
        buf
    }

    #[test]
    fn one_clock_per_batch() {
        let io = ShardIo::default();
        let buf = two_publishes();
        let mut seen = Vec::new();
        let (used, flow) = frames(&io, &buf, 1 << 20, &mut |_, _| {
            seen.push(io.received_at());
            std::thread::sleep(Duration::from_millis(2));
            Flow::Continue
        })
        .unwrap();
        assert_eq!((used, flow), (buf.len(), Flow::Continue));
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0], seen[1], "packets of one read share one stamp");
        // Outside a batch, and in the next batch, the clock is read afresh.
        assert!(io.received_at() > seen[0]);
        let mut next = None;
        frames(&io, &buf, 1 << 20, &mut |_, _| {
            next.get_or_insert_with(|| io.received_at());
            Flow::Stop
        })
        .unwrap();
        assert!(next.unwrap() > seen[0]);
    }

    #[test]
    fn written_records_each_delivery_once() {
        let t0 = Instant::now() - Duration::from_millis(50);
        let t1 = Instant::now() - Duration::from_millis(5);
        let mut w = Writer::default();
        w.buf.stamps = vec![t0, t0, t0, t1, t0];
        let hist = RefCell::new(ShardHistograms::default());
        w.written(&hist);
        assert!(w.buf.stamps.is_empty());
        let h = &hist.borrow().publish_to_delivery;
        assert_eq!(h.count(), 5);
        assert!(h.hdr.value_at_quantile(0.5) >= 50_000);
        assert!(h.hdr.min() >= 5_000 && h.hdr.min() < 50_000);
        w.written(&hist); // nothing queued: nothing recorded
        assert_eq!(hist.borrow().publish_to_delivery.count(), 5);
    }
}
