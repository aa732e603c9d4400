//! A publisher: what it sends and when (rate, QoS window, batch size),
//! what it counts once a batch is written, and how long it was held back
//! (`stats::held`): waits for the window or the socket are timed from
//! clock readings the writer takes anyway, plus one per write.

use super::conn::Conn;
use super::Spec;
use crate::clock::now_ns;
use crate::payload::{new_payload, write_header, Header};
use crate::runtime::ThreadCtx;
use crate::stats::held::Held;
use shardmq_protocol::{encode_publish, PublishRef, QoS};
use std::sync::atomic::Ordering::{Relaxed, Release};

/// Bytes gathered before a write; big enough to amortise the syscall, small
/// enough that a timestamp is not stale by the time its batch leaves.
pub const BATCH_BYTES: usize = 64 * 1024;
/// A rate-limited publisher sleeps at least this long between wake-ups
/// and then sends every message that came due, in one write: above 1000
/// msg/s per publisher, a wake-up per message would cost the tool more CPU
/// than the messages (each one is an io_uring timer). Timestamps are still
/// taken per message, at send time.
const PACING_QUANTUM_NS: u64 = 1_000_000;
/// The one Topic Alias a publisher uses (it has one topic).
const TOPIC_ALIAS: u16 = 1;

/// What a publisher reports at the end.
#[derive(Debug, Clone)]
pub struct PubResult {
    pub pub_id: u32,
    /// Measured messages written.
    pub win_sent: u64,
    /// QoS 1/2 messages still unacknowledged at the end.
    pub unacked: u64,
    /// Time spent with a message ready but the window or socket full.
    pub held: Held,
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
    held: Held,
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
            held: Held::default(),
        }
    }

    /// Append due PUBLISHes to `out`; returns when to look again
    /// (`u64::MAX`: only on a kick or an event).
    pub fn fill(&mut self, c: &Conn, out: &mut Vec<u8>, now: u64) -> u64 {
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
                // Nothing is ready after the stop: a wait ends there.
                self.held.progress(ph.stop);
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
                    None => {
                        self.held.wait(ts);
                        return ph.stop;
                    }
                },
            };
            self.held.progress(ts);
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

    /// A batch with PUBLISHes is being written: held back until it is out.
    pub fn writing(&mut self) {
        if self.batch > 0 && !self.held.is_waiting() {
            self.held.wait(now_ns());
        }
    }

    /// The batch made it to the socket at `at`: count it. Still held back
    /// if the window is full (the ack will end the wait).
    pub fn commit(&mut self, c: &Conn, at: u64) {
        if !c.inflight.borrow().is_full() {
            self.unheld(c.ctx, at);
        }
        let ctx = c.ctx;
        let live = ctx.live();
        live.sent.fetch_add(self.batch, Relaxed);
        live.win_sent.fetch_add(self.batch_win, Relaxed);
        ctx.stats.borrow_mut().counts.sent += self.batch_win;
        self.win_sent += self.batch_win;
    }

    /// A wait ends at `at`, or at the stop if that came first: held-back
    /// time is a share of the publishing time, and after the stop nothing
    /// new is ready (the last batch may still be on its way in the drain).
    fn unheld(&mut self, ctx: &ThreadCtx, at: u64) {
        let stop = ctx.phases().map_or(at, |ph| ph.stop);
        self.held.progress(at.min(stop));
    }

    /// The connection is over: stop counting as publishing, report.
    pub fn finish(&mut self, ctx: &ThreadCtx) -> PubResult {
        if self.held.is_waiting() {
            self.unheld(ctx, now_ns());
        }
        self.stop(ctx);
        PubResult {
            pub_id: self.pub_id,
            win_sent: self.win_sent,
            unacked: 0,
            held: self.held,
        }
    }

    fn stop(&mut self, ctx: &ThreadCtx) {
        if !self.stopped {
            self.stopped = true;
            ctx.live().publishing.fetch_sub(1, Release);
        }
    }
}
