//! A connected client: the reader half (decode, acks, delivery accounting)
//! and the state it shares with the writer half (see `writer`).

use super::inflight::{AckAction, Inflight};
use super::publisher::Publisher;
use super::readbuf::ReadBuf;
use super::writer;
use super::{Outcome, Role, Spec};
use crate::clock::{now_ns, process_start_ns};
use crate::config::Kind;
use crate::net::{Half, Stream};
use crate::payload::read_ours;
use crate::runtime::ThreadCtx;
use crate::stats::seq::{Seen, SeqTracker};
use crate::sync::Notify;
use futures_lite::{future, AsyncReadExt};
use shardmq_protocol::{encode, Ack, Packet, Publish, QoS};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;

/// One subscriber's view of one publisher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairResult {
    pub pub_id: u32,
    /// Distinct measured messages received.
    pub unique: u64,
    /// Gaps in the sequence numbers seen (all phases).
    pub missing: u64,
}

#[derive(Debug, Clone)]
pub struct SubResult {
    pub index: u32,
    pub pairs: Vec<PairResult>,
}

/// Publishers are told apart by run too: the same publisher id of an
/// earlier run is another sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct PairKey {
    run: u8,
    pub_id: u32,
}

impl PairKey {
    fn new(run: u8, pub_id: u32) -> PairKey {
        PairKey { run, pub_id }
    }
}

#[derive(Default)]
struct Pair {
    seq: SeqTracker,
    unique: u64,
}

pub struct Conn<'a> {
    pub ctx: &'a ThreadCtx,
    pub io: RefCell<Stream>,
    /// Acks and PUBRELs from the reader, written by the writer.
    pub ctrl: RefCell<Vec<u8>>,
    /// Wakes the writer: ctrl has bytes, a window slot freed, or closed.
    pub kick: Notify,
    /// The connection is gone (read error, EOF, protocol error).
    pub closed: Cell<bool>,
    pub inflight: RefCell<Inflight>,
    spec: &'a Spec,
}

impl<'a> Conn<'a> {
    pub fn new(ctx: &'a ThreadCtx, stream: Stream, spec: &'a Spec, window: usize) -> Conn<'a> {
        Conn {
            ctx,
            io: RefCell::new(stream),
            ctrl: RefCell::new(Vec::new()),
            kick: Notify::default(),
            closed: Cell::new(false),
            inflight: RefCell::new(Inflight::new(window)),
            spec,
        }
    }

    pub async fn run(self, rb: ReadBuf, early: Vec<Packet>) -> Outcome {
        let publisher = match &self.spec.role {
            Role::Publisher { topic } => Some(Publisher::new(self.ctx, self.spec, topic.clone())),
            _ => None,
        };
        let (pairs, published) =
            future::zip(self.read_loop(rb, early), writer::run(&self, publisher)).await;
        match (&self.spec.role, published) {
            (Role::Publisher { .. }, Some(mut p)) => {
                p.unacked = self.inflight.borrow().len() as u64;
                Outcome::Publisher(p)
            }
            (Role::Subscriber { .. }, _) => Outcome::Subscriber(SubResult {
                index: self.spec.index,
                pairs: pairs
                    .into_iter()
                    .map(|(key, p)| PairResult {
                        pub_id: key.pub_id,
                        unique: p.unique,
                        missing: p.seq.missing(),
                    })
                    .collect(),
            }),
            _ => Outcome::Idle,
        }
    }

    /// The connection failed under us: count it (unless the run is ending
    /// anyway) and stop the writer.
    pub fn lost(&self, why: String) {
        if !self.ctx.end.is_set() && !self.closed.get() {
            self.ctx.live().dropped.fetch_add(1, Relaxed);
            self.ctx.stats.borrow_mut().errors.add(why);
        }
        self.closed.set(true);
        self.kick.notify();
    }

    async fn read_loop(&self, mut rb: ReadBuf, early: Vec<Packet>) -> HashMap<PairKey, Pair> {
        let mut pairs = HashMap::new();
        for p in early {
            if let Err(e) = self.on_packet(p, &mut pairs) {
                self.lost(e);
                return pairs;
            }
        }
        while !self.ctx.end.is_set() && !self.closed.get() {
            let spare = rb.spare();
            let read = async { Some(Half(&self.io).read(spare).await) };
            let end = async {
                self.ctx.end.wait().await;
                None
            };
            match future::or(read, end).await {
                None => break,
                Some(Ok(0)) => self.lost("connection closed by broker".into()),
                Some(Err(e)) => self.lost(format!("read: {e}")),
                Some(Ok(n)) => {
                    rb.advance(n);
                    if let Err(e) = self.drain_packets(&mut rb, &mut pairs) {
                        self.lost(e);
                    }
                }
            }
            glommio::yield_if_needed().await;
        }
        pairs
    }

    fn drain_packets(
        &self,
        rb: &mut ReadBuf,
        pairs: &mut HashMap<PairKey, Pair>,
    ) -> Result<(), String> {
        loop {
            match rb.next_packet(self.ctx.cfg.version) {
                Ok(Some(p)) => self.on_packet(p, pairs)?,
                Ok(None) => break,
                Err(e) => return Err(format!("malformed packet from broker: {e}")),
            }
        }
        if !self.ctrl.borrow().is_empty() {
            self.kick.notify();
        }
        Ok(())
    }

    fn on_packet(&self, p: Packet, pairs: &mut HashMap<PairKey, Pair>) -> Result<(), String> {
        let ack = |id: u16, action: Result<AckAction, String>| -> Result<(), String> {
            match action? {
                AckAction::Done => {
                    self.ctx.live().inflight.fetch_sub(1, Relaxed);
                    self.kick.notify();
                }
                AckAction::SendPubRel => self.send(&Packet::PubRel(Ack::new(id))),
            }
            Ok(())
        };
        match p {
            Packet::Publish(p) if matches!(self.spec.role, Role::Subscriber { .. }) => {
                self.on_publish(p, pairs)
            }
            // We never subscribed on this connection: a broker bug worth
            // reporting, and not a delivery (counting it as one would
            // inflate throughput and hide loss). Still acknowledged, so the
            // broker's session state stays sane.
            Packet::Publish(p) => {
                self.ack_publish(&p);
                self.ctx.stats.borrow_mut().counts.unsolicited += 1;
            }
            Packet::PubAck(a) => ack(
                a.packet_id,
                self.inflight.borrow_mut().on_puback(a.packet_id),
            )?,
            Packet::PubRec(a) => ack(
                a.packet_id,
                self.inflight.borrow_mut().on_pubrec(a.packet_id),
            )?,
            Packet::PubComp(a) => ack(
                a.packet_id,
                self.inflight.borrow_mut().on_pubcomp(a.packet_id),
            )?,
            // Our QoS 2 receipt (method B, §4.3.3): delivery happened at
            // PUBLISH; PUBREL just releases the packet id.
            Packet::PubRel(a) => self.send(&Packet::PubComp(a)),
            Packet::PingResp => self.ctx.stats.borrow_mut().counts.pongs += 1,
            // MQTT 5: the broker says why it closes (0x8B shutting down …).
            Packet::Disconnect(d) => {
                let (code, name) = (d.reason as u8, d.reason.name());
                return Err(format!("broker sent DISCONNECT 0x{code:02X} {name}"));
            }
            other => return Err(format!("unexpected {} from broker", other.name())),
        }
        Ok(())
    }

    fn send(&self, p: &Packet) {
        encode(p, self.ctx.cfg.version, &mut *self.ctrl.borrow_mut());
    }

    fn ack_publish(&self, p: &Publish) {
        match p.qos {
            QoS::AtMostOnce => {}
            QoS::AtLeastOnce => self.send(&Packet::PubAck(Ack::new(p.packet_id))),
            QoS::ExactlyOnce => self.send(&Packet::PubRec(Ack::new(p.packet_id))),
        }
    }

    fn on_publish(&self, p: Publish, pairs: &mut HashMap<PairKey, Pair>) {
        self.ack_publish(&p);
        let now = now_ns();
        let live = self.ctx.live();
        let mut st = self.ctx.stats.borrow_mut();
        // A `sub` process takes any run (its publishers are elsewhere);
        // the combined scenarios only their own.
        let any_run = self.ctx.cfg.kind == Kind::Sub;
        let run = (!any_run).then_some(self.ctx.cfg.run_id);
        let Some(h) = read_ours(&p.payload, now, run, process_start_ns()) else {
            st.counts.foreign += 1;
            return;
        };
        let latency_us = now.saturating_sub(h.ts_ns) / 1000;
        st.interval.saturating_record(latency_us);
        live.delivered.fetch_add(1, Relaxed);
        let pair = pairs.entry(PairKey::new(h.run, h.pub_id)).or_default();
        let seen = pair.seq.observe(pair.seq.extend(h.seq));
        let Some(ph) = self.ctx.phases() else {
            return;
        };
        // Throughput counts arrivals during the window; loss, duplicates
        // and latency follow the messages sent during it, wherever they
        // arrive (a backlog delivered in the drain is not throughput).
        st.counts.received += u64::from(ph.in_window(now));
        if !ph.in_window(h.ts_ns) {
            return;
        }
        st.latency.saturating_record(latency_us);
        st.counts.delivered += 1;
        match seen {
            Seen::Duplicate => st.counts.duplicated += 1,
            Seen::OutOfOrder => st.counts.out_of_order += 1,
            Seen::New => {}
        }
        if seen != Seen::Duplicate {
            pair.unique += 1;
            live.win_unique.fetch_add(1, Relaxed);
        }
    }
}
