//! Handling the packets of a connected client (§3.3–§3.14).

use super::handle::CloseReason;
use super::io::Flow;
use super::Conn;
use crate::metrics::ShardMetrics;
use crate::protocol::{
    decode_packet, encode, FrameHeader, MqttStr, Packet, Publish, QoS, SubAck, SubackCode,
    Subscribe,
};
use crate::router::route;
use crate::session::{Message, Session};
use bytes::Bytes;
use std::task::Context;
use std::time::Instant;
use tracing::debug;

/// How long a SUBACK may wait for peers to apply an interest change.
const SUBACK_WAIT_MS: u64 = 2_000;

/// A SUBACK held until every peer shard knows about the new interest.
pub struct PendingSuback {
    seq: u64,
    deadline_ms: u64,
    ack: SubAck,
    granted: Vec<(MqttStr, QoS)>,
}

impl Conn {
    /// Handle one whole packet.
    pub(crate) fn on_frame(&mut self, h: FrameHeader, frame: Bytes) -> Flow {
        let packet = match decode_packet(frame, &h, self.version) {
            Ok(p) => p,
            Err(e) => {
                self.close = Some(self.malformed(e));
                return Flow::Stop;
            }
        };
        match packet {
            Packet::Publish(p) => self.on_publish(p),
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
                self.with_session(|s, _| s.incoming_qos2.remove(&id));
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

    fn on_publish(&mut self, p: Publish) {
        let m = &self.shard.metrics;
        ShardMetrics::inc(m.messages_in(p.qos));
        ShardMetrics::add(&m.bytes_in, p.payload.len() as u64);
        let id = p.packet_id;
        let msg = Message {
            topic: p.topic,
            payload: p.payload,
            qos: p.qos,
            retain: p.retain,
            published_at: Instant::now(),
        };
        match p.qos {
            QoS::AtMostOnce => route::publish(&self.shard, msg),
            QoS::AtLeastOnce => {
                route::publish(&self.shard, msg);
                self.reply(&Packet::PubAck(id));
            }
            QoS::ExactlyOnce => {
                // A PUBLISH re-sent before PUBREL is acknowledged, not forwarded again.
                if self
                    .with_session(|s, _| s.incoming_qos2.insert(id))
                    .unwrap_or(false)
                {
                    route::publish(&self.shard, msg);
                }
                self.reply(&Packet::PubRec(id));
            }
        }
    }

    fn on_subscribe(&mut self, sub: Subscribe) -> Flow {
        let max = self.shard.cfg.limits.max_subscriptions_per_session;
        let mut codes = Vec::with_capacity(sub.filters.len());
        let mut granted = Vec::with_capacity(sub.filters.len());
        for (filter, qos) in sub.filters {
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
        let pending = PendingSuback {
            seq: self.shard.interest.current(),
            deadline_ms: self.shard.elapsed_ms() + SUBACK_WAIT_MS,
            ack: SubAck {
                packet_id: sub.packet_id,
                codes,
            },
            granted,
        };
        if self.shard.interest.done(pending.seq) {
            self.emit_suback(pending);
            Flow::Continue
        } else {
            self.blocked = Some(pending);
            Flow::Pause
        }
    }

    /// Release a held SUBACK once peers caught up (or the wait timed out).
    pub(crate) fn try_unblock(&mut self, cx: &mut Context<'_>) -> bool {
        let p = self.blocked.as_ref().expect("blocked");
        let done = self.shard.interest.done(p.seq);
        if !done && self.shard.elapsed_ms() < p.deadline_ms {
            self.shard.interest.wait(cx.waker());
            return false;
        }
        if !done {
            debug!(client_id = %self.client_id, "peers slow to apply a subscription: SUBACK sent anyway");
        }
        let p = self.blocked.take().unwrap();
        self.emit_suback(p);
        true
    }

    /// SUBACK, then the retained messages of each granted filter
    /// [MQTT-3.3.1-6] (after the SUBACK, so clients see them in order).
    fn emit_suback(&mut self, p: PendingSuback) {
        self.reply(&Packet::SubAck(p.ack));
        for (filter, qos) in &p.granted {
            route::send_retained(&self.shard, self.key, filter, *qos);
        }
    }
}
