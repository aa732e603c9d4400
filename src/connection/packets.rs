//! Handling the packets of a connected client (§3.3–§3.14).

use super::handle::CloseReason;
use super::io::{self, Flow};
use super::Conn;
use crate::metrics::ShardMetrics;
use crate::protocol::{
    decode_packet, encode, packet_type, FrameHeader, MqttStr, Packet, Publish, QoS, SubAck,
    SubackCode, Subscribe,
};
use crate::router::route;
use crate::session::{Message, Session};
use bytes::Bytes;
use std::task::Context;
use tracing::debug;

/// How long an answer may wait for peer shards (see `shard/acks.rs`).
const HOLD_MS: u64 = 2_000;

/// An answer held until peer shards applied what the client will rely on;
/// the connection reads no further packets meanwhile, so order is kept.
pub enum Hold {
    /// SUBACK (and then the retained messages) until every peer applied the
    /// interest change.
    Suback {
        seq: u64,
        deadline_ms: u64,
        ack: SubAck,
        granted: Vec<(MqttStr, QoS)>,
    },
    /// The PUBACK/PUBREC (none for QoS 0) of a retained PUBLISH until the
    /// shard owning its topic stored it.
    Retained {
        peer: usize,
        seq: u64,
        deadline_ms: u64,
        ack: Option<Packet>,
    },
}

impl Conn {
    /// Handle one whole packet.
    pub(crate) fn on_frame(&mut self, h: FrameHeader, frame: Bytes) -> Flow {
        self.active |= h.packet_type() != packet_type::PINGREQ;
        let packet = match decode_packet(frame, &h, self.version) {
            Ok(p) => p,
            Err(e) => {
                self.close = Some(self.malformed(e));
                return Flow::Stop;
            }
        };
        match packet {
            Packet::Publish(p) => return self.on_publish(p),
            Packet::PubAck(id) => {
                self.with_session(|s, c| {
                    if s.outbound.on_puback(id) {
                        s.pump(&c.shard.cfg.limits, &c.shard.metrics);
                    }
                });
            }
            Packet::PubRec(id) => {
                self.with_session(|s, c| {
                    let Session { conn, outbound, .. } = s;
                    if let Some(h) = conn {
                        h.write(|o| outbound.on_pubrec(id, c.version, &mut o.bytes));
                    }
                });
            }
            Packet::PubRel(id) => {
                self.with_session(|s, _| s.qos2_released(id));
                self.reply(&Packet::PubComp(id));
            }
            Packet::PubComp(id) => {
                self.with_session(|s, c| {
                    if s.outbound.on_pubcomp(id) {
                        s.pump(&c.shard.cfg.limits, &c.shard.metrics);
                    }
                });
            }
            Packet::Subscribe(s) => return self.on_subscribe(s),
            Packet::Unsubscribe(u) => {
                for f in &u.filters {
                    route::unsubscribe(&self.shard, self.key, f);
                }
                self.reply(&Packet::UnsubAck(u.packet_id));
            }
            Packet::PingReq => self.reply(&Packet::PingResp),
            Packet::Disconnect => return self.stop(CloseReason::ClientDisconnect),
            Packet::Connect(_) => {
                ShardMetrics::inc(&self.shard.metrics.protocol_errors);
                debug!(client_id = %self.client_id, "[MQTT-3.1.0-2] second CONNECT: closing");
                return self.stop(CloseReason::ProtocolError);
            }
            other => {
                ShardMetrics::inc(&self.shard.metrics.protocol_errors);
                debug!(client_id = %self.client_id, packet = other.name(), "server-only packet from a client: closing");
                return self.stop(CloseReason::ProtocolError);
            }
        }
        Flow::Continue
    }

    fn stop(&mut self, reason: CloseReason) -> Flow {
        self.close = Some(reason);
        Flow::Stop
    }

    fn reply(&self, p: &Packet) {
        self.handle.write(|o| encode(p, self.version, &mut o.bytes));
    }

    fn with_session<R>(&self, f: impl FnOnce(&mut Session, &Conn) -> R) -> Option<R> {
        let mut sessions = self.shard.sessions.borrow_mut();
        sessions.get_mut(self.key).map(|s| f(s, self))
    }

    fn on_publish(&mut self, p: Publish) -> Flow {
        let m = &self.shard.metrics;
        ShardMetrics::inc(m.messages_in(p.qos));
        ShardMetrics::add(&m.bytes_in, p.payload.len() as u64);
        let id = p.packet_id;
        let (fresh, ack) = match p.qos {
            QoS::AtMostOnce => (true, None),
            QoS::AtLeastOnce => (true, Some(Packet::PubAck(id))),
            // A PUBLISH re-sent before PUBREL is acknowledged, not forwarded again.
            QoS::ExactlyOnce => {
                let fresh = self.with_session(|s, _| s.qos2_received(id));
                (fresh.unwrap_or(false), Some(Packet::PubRec(id)))
            }
        };
        let msg = Message {
            topic: p.topic,
            payload: p.payload,
            qos: p.qos,
            retain: p.retain,
            published_at: io::received_at(),
        };
        let stored_elsewhere = if fresh {
            route::publish(&self.shard, msg)
        } else {
            None
        };
        if let Some((peer, seq)) = stored_elsewhere {
            let deadline_ms = self.shard.elapsed_ms() + HOLD_MS;
            self.blocked = Some(Box::new(Hold::Retained {
                peer,
                seq,
                deadline_ms,
                ack,
            }));
            return Flow::Pause;
        }
        if let Some(a) = ack {
            self.reply(&a);
        }
        Flow::Continue
    }

    fn on_subscribe(&mut self, sub: Subscribe) -> Flow {
        let max = self.shard.cfg.limits.max_subscriptions_per_session;
        let mut codes = Vec::with_capacity(sub.filters.len());
        let mut granted = Vec::with_capacity(sub.filters.len());
        for (filter, opts) in sub.filters {
            let qos = opts.qos;
            let room = max == 0
                || self
                    .with_session(|s, _| {
                        s.subscriptions.len() < max || s.subscriptions.contains_key(&filter)
                    })
                    .unwrap_or(false);
            if !room {
                debug!(client_id = %self.client_id, %filter, "subscription limit reached: SUBACK 0x80");
                codes.push(SubackCode::Failure);
                continue;
            }
            route::subscribe(&self.shard, self.key, filter.clone(), qos);
            codes.push(SubackCode::Granted(qos));
            granted.push((filter, qos));
        }
        let hold = Hold::Suback {
            seq: self.shard.acks.current(),
            deadline_ms: self.shard.elapsed_ms() + HOLD_MS,
            ack: SubAck {
                packet_id: sub.packet_id,
                codes,
            },
            granted,
        };
        self.blocked = Some(Box::new(hold));
        if self.try_release(None) {
            Flow::Continue
        } else {
            Flow::Pause
        }
    }

    /// Send a held answer once peers caught up (or the wait timed out);
    /// with a context, register to be woken when acks arrive.
    pub(crate) fn try_release(&mut self, cx: Option<&mut Context<'_>>) -> bool {
        let acks = &self.shard.acks;
        let (done, deadline_ms) = match self.blocked.as_deref().expect("held") {
            Hold::Suback {
                seq, deadline_ms, ..
            } => (acks.done(*seq), *deadline_ms),
            Hold::Retained {
                peer,
                seq,
                deadline_ms,
                ..
            } => (acks.done_for(*peer, *seq), *deadline_ms),
        };
        if !done && self.shard.elapsed_ms() < deadline_ms {
            if let Some(cx) = cx {
                acks.wait(cx.waker());
            }
            return false;
        }
        if !done {
            debug!(client_id = %self.client_id, "peer shards slow to confirm: answering anyway");
        }
        match *self.blocked.take().unwrap() {
            Hold::Suback { ack, granted, .. } => self.emit_suback(ack, &granted),
            Hold::Retained { ack, .. } => {
                if let Some(a) = ack {
                    self.reply(&a);
                }
            }
        }
        true
    }

    /// SUBACK, then the retained messages of each granted filter
    /// [MQTT-3.3.1-6] (after the SUBACK, so clients see them in order).
    fn emit_suback(&mut self, ack: SubAck, granted: &[(MqttStr, QoS)]) {
        self.reply(&Packet::SubAck(ack));
        for (filter, qos) in granted {
            route::send_retained(&self.shard, self.key, filter, *qos);
        }
    }
}
