//! The writer half of a connection: everything written goes through here,
//! batched. Each round takes the reader's pending acks, adds as many
//! PUBLISHes as the rate, the QoS window and the batch size allow, adds a
//! PINGREQ when one is due, and writes it all with one `write_all`, so a
//! slow broker slows the publisher down through TCP back-pressure.

use super::conn::Conn;
use super::Spec;
use crate::clock::{now_ns, sleep_until};
use crate::net::Half;
use crate::payload::{new_payload, write_header, Header};
use crate::runtime::ThreadCtx;
use futures_lite::{future, AsyncWriteExt};
use shardmq_protocol::{encode, encode_publish, Disconnect, Packet, PublishRef, QoS};
use std::sync::atomic::Ordering::{Relaxed, Release};
use std::time::Duration;

/// Bytes gathered before a write; big enough to amortise the syscall, small
/// enough that a timestamp is not stale by the time its batch leaves.
const BATCH_BYTES: usize = 64 * 1024;
/// A rate-limited publisher sleeps at least this long between wake-ups
/// and then sends every message that came due, in one write: above 1000
/// msg/s per publisher, a wake-up per message would cost the tool more CPU
/// than the messages (each one is an io_uring timer). Timestamps are still
/// taken per message, at send time.
const PACING_QUANTUM_NS: u64 = 1_000_000;
/// The one Topic Alias a publisher uses (it has one topic).
const TOPIC_ALIAS: u16 = 1;
/// How long the final DISCONNECT may take.
pub const GOODBYE: Duration = Duration::from_secs(1);

/// What a publisher reports at the end.
#[derive(Debug, Clone)]
pub struct PubResult {
    pub pub_id: u32,
    /// Measured messages written.
    pub win_sent: u64,
    /// QoS 1/2 messages still unacknowledged at the end.
    pub unacked: u64,
}

pub struct Publisher {
    pub_id: u32,
    topic: String,
    payload: Vec<u8>,
    qos: QoS,
    seq: u64,
    /// Nanoseconds between messages (`--rate`), `None` = as fast as possible.
    interval: Option<u64>,
    /// This publisher's slice of the interval, so rate-limited publishers
    /// do not all fire in the same microsecond.
    offset: u64,
    next_due: u64,
    started: bool,
    stopped: bool,
    /// `--topic-alias`: `Some(sent)` once per connection, whether the topic
    /// has gone out with its alias yet.
    alias: Option<bool>,
    /// Messages in the batch being written, and how many are measured.
    batch: u64,
    batch_win: u64,
    win_sent: u64,
}

impl Publisher {
    pub fn new(ctx: &ThreadCtx, spec: &Spec, topic: String) -> Publisher {
        let load = &ctx.cfg.load;
        let interval = load.rate.map(|r| (1e9 / r).max(1.0) as u64);
        let offset = interval.map_or(0, |iv| {
            iv * u64::from(spec.rank) / u64::from(ctx.cfg.publishers)
        });
        ctx.live().publishing.fetch_add(1, Relaxed);
        Publisher {
            pub_id: spec.index,
            topic,
            payload: new_payload(load.payload),
            qos: load.qos,
            seq: 0,
            interval,
            offset,
            next_due: 0,
            started: false,
            stopped: false,
            alias: ctx.cfg.topic_alias.then_some(false),
            batch: 0,
            batch_win: 0,
            win_sent: 0,
        }
    }

    /// Append due PUBLISHes to `out`; returns when to look again
    /// (`u64::MAX`: only on a kick or an event).
    fn fill(&mut self, c: &Conn, out: &mut Vec<u8>, now: u64) -> u64 {
        self.batch = 0;
        self.batch_win = 0;
        let Some(ph) = c.ctx.phases().filter(|_| !self.stopped) else {
            return u64::MAX;
        };
        if !self.started {
            if now < ph.start + self.offset {
                return ph.start + self.offset;
            }
            self.started = true;
            self.next_due = ph.start + self.offset;
        }
        while out.len() < BATCH_BYTES {
            let ts = now_ns();
            if ts >= ph.stop {
                self.stop(c.ctx);
                return u64::MAX;
            }
            if self.interval.is_some() && self.next_due > ts {
                return self.next_due.max(ts + PACING_QUANTUM_NS).min(ph.stop);
            }
            let id = match self.qos {
                QoS::AtMostOnce => 0,
                q => match c.inflight.borrow_mut().start(q == QoS::ExactlyOnce) {
                    Some(id) => id,
                    // Window full: an ack will kick us; stop time at the latest.
                    None => return ph.stop,
                },
            };
            if self.qos != QoS::AtMostOnce {
                c.ctx.live().inflight.fetch_add(1, Relaxed);
            }
            let h = Header {
                run: c.ctx.cfg.run_id,
                pub_id: self.pub_id,
                seq: self.seq as u32, // widened again by the receiver
                ts_ns: ts,
            };
            write_header(&mut self.payload, &h);
            // The topic goes out once with its alias, then only the alias.
            let (topic, topic_alias) = match self.alias {
                None => (&self.topic[..], None),
                Some(false) => (&self.topic[..], Some(TOPIC_ALIAS)),
                Some(true) => ("", Some(TOPIC_ALIAS)),
            };
            self.alias = self.alias.map(|_| true);
            let p = PublishRef {
                topic_alias,
                ..PublishRef::new(topic, &self.payload, self.qos, id)
            };
            encode_publish(&p, c.ctx.cfg.version, out);
            self.seq += 1;
            self.batch += 1;
            self.batch_win += u64::from(ph.in_window(ts));
            if let Some(iv) = self.interval {
                self.next_due += iv;
            }
        }
        now
    }

    /// The batch made it to the socket: count it.
    fn commit(&mut self, ctx: &ThreadCtx) {
        let live = ctx.live();
        live.sent.fetch_add(self.batch, Relaxed);
        live.win_sent.fetch_add(self.batch_win, Relaxed);
        ctx.stats.borrow_mut().counts.sent += self.batch_win;
        self.win_sent += self.batch_win;
    }

    /// The connection is over: stop counting as publishing, report.
    fn finish(&mut self, ctx: &ThreadCtx) -> PubResult {
        self.stop(ctx);
        PubResult {
            pub_id: self.pub_id,
            win_sent: self.win_sent,
            unacked: 0,
        }
    }

    fn stop(&mut self, ctx: &ThreadCtx) {
        if !self.stopped {
            self.stopped = true;
            ctx.live().publishing.fetch_sub(1, Release);
        }
    }
}

/// Runs until the end of the run or until the connection is lost; gives
/// the publisher back for its report.
pub async fn run(c: &Conn<'_>, mut publisher: Option<Publisher>) -> Option<PubResult> {
    let ctx = c.ctx;
    let ping_ns = ctx.cfg.ping_ns;
    let mut batch = Vec::with_capacity(if publisher.is_some() {
        BATCH_BYTES + 1024
    } else {
        64
    });
    let mut last_write = now_ns();
    while !c.closed.get() && !ctx.end.is_set() {
        batch.clear();
        batch.append(&mut c.ctrl.borrow_mut());
        let now = now_ns();
        let mut wake = publisher
            .as_mut()
            .map_or(u64::MAX, |p| p.fill(c, &mut batch, now));
        if ping_ns > 0 {
            if now >= last_write + ping_ns {
                encode(&Packet::PingReq, ctx.cfg.version, &mut batch);
                ctx.stats.borrow_mut().counts.pings += 1;
            } else {
                wake = wake.min(last_write + ping_ns);
            }
        }
        if batch.is_empty() {
            idle(c, wake).await;
            continue;
        }
        let write = async {
            let mut io = Half(&c.io);
            let written = io.write_all(&batch).await;
            Some(match written {
                Ok(()) => io.flush().await,
                e => e,
            })
        };
        let end = async {
            ctx.end.wait().await;
            None
        };
        match future::or(write, end).await {
            Some(Ok(())) => {
                last_write = now_ns();
                if let Some(p) = publisher.as_mut() {
                    p.commit(ctx);
                }
            }
            Some(Err(e)) => c.lost(format!("write: {e}")),
            // The run ended mid-write: the stream may end inside a packet,
            // so a DISCONNECT after it would be garbage. Just close.
            None => return publisher.map(|mut p| p.finish(ctx)),
        }
        glommio::yield_if_needed().await;
    }
    goodbye(c).await;
    publisher.map(|mut p| p.finish(ctx))
}

/// Nothing to write: wait for a kick from the reader, the start, the next
/// due time, or the end.
async fn idle(c: &Conn<'_>, wake: u64) {
    let ctx = c.ctx;
    let timer = async {
        if wake == u64::MAX {
            future::pending::<()>().await;
        }
        sleep_until(wake).await;
    };
    let go = async {
        if ctx.go.is_set() {
            future::pending::<()>().await;
        }
        ctx.go.wait().await;
    };
    future::or(
        future::or(c.kick.notified(), ctx.end.wait()),
        future::or(go, timer),
    )
    .await;
}

/// DISCONNECT, then close (over TLS that sends close_notify), bounded: a
/// broker that stopped reading must not hold us.
async fn goodbye(c: &Conn<'_>) {
    if c.closed.get() {
        return;
    }
    let mut out = Vec::with_capacity(2);
    encode(
        &Packet::Disconnect(Disconnect::NORMAL),
        c.ctx.cfg.version,
        &mut out,
    );
    let write = async {
        let mut io = Half(&c.io);
        if io.write_all(&out).await.is_ok() {
            let _ = io.close().await;
        }
    };
    future::or(write, async {
        glommio::timer::Timer::new(GOODBYE).await;
    })
    .await;
}
