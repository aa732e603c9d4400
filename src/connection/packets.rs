//! Handling the packets of a connected client (§3.3–§3.14).

use super::handle::CloseReason;
use super::io::Flow;
use super::Conn;
use crate::auth::acl::Coverage;
use crate::metrics::ShardMetrics;
use crate::plane::{self, retained};
use crate::protocol::{
    decode_packet, packet_type, FrameHeader, MqttStr, Packet, ReasonCode, RetainHandling, SubAck,
    Subscribe, UnsubAck,
};
use crate::session::{Sessions, Subscribed, Subscription};
use bytes::Bytes;
use std::num::NonZeroU32;
use std::task::Context;
use tracing::debug;

use super::publish::HOLD_MS;

/// An answer held until peer shards applied what the client will rely on;
/// the connection reads no further packets meanwhile, so order is kept.
pub enum Hold {
    /// SUBACK (and then the retained messages) until every peer applied the
    /// interest change.
    Suback {
        seq: u64,
        deadline_ms: u64,
        ack: SubAck,
        granted: Vec<(MqttStr, Subscription)>,
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
            Packet::PubAck(a) => {
                self.sessions().puback(self.key, a.packet_id);
                plane::pressure::flush(&self.shard); // drained: publishers go on
            }
            Packet::PubRec(a) if self.shard.persist.as_ref().is_some_and(|p| p.always) => {
                self.sessions().pubrec_quiet(self.key, a.packet_id);
                self.answer(Packet::PubRel(crate::protocol::Ack::new(a.packet_id)));
            }
            Packet::PubRec(a) => self.sessions().pubrec(self.key, a.packet_id),
            Packet::PubRel(a) => self.on_pubrel(a),
            Packet::PubComp(a) => {
                self.sessions().pubcomp(self.key, a.packet_id);
                plane::pressure::flush(&self.shard);
            }
            Packet::Subscribe(s) => return self.on_subscribe(s),
            Packet::Unsubscribe(u) => {
                // 3.1.1 leaves the codes out of the bytes.
                let codes =
                    u.filters
                        .iter()
                        .map(|f| match plane::unsubscribe(&self.shard, self.key, f) {
                            true => ReasonCode::Success,
                            false => ReasonCode::NoSubscriptionExisted,
                        });
                let codes = codes.collect();
                self.reply(&Packet::UnsubAck(UnsubAck {
                    packet_id: u.packet_id,
                    codes,
                    properties: None,
                }));
            }
            Packet::PingReq => self.reply(&Packet::PingResp),
            Packet::Disconnect(d) => return self.on_disconnect(d), // disconnect.rs
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

    pub(super) fn stop(&mut self, reason: CloseReason) -> Flow {
        self.close = Some(reason);
        Flow::Stop
    }

    pub(super) fn reply(&self, p: &Packet) {
        self.handle.send(p);
    }

    pub(super) fn sessions(&self) -> std::cell::RefMut<'_, Sessions> {
        self.shard.sessions.borrow_mut()
    }

    /// The listener the client came in on (its counters).
    pub(super) fn listener(&self) -> &crate::listener::ShardListener {
        &self.shard.listeners[self.listener as usize]
    }

    fn on_subscribe(&mut self, sub: Subscribe) -> Flow {
        let id = sub
            .properties
            .as_ref()
            .and_then(|p| p.subscription_identifier)
            .and_then(NonZeroU32::new);
        let mut codes = Vec::with_capacity(sub.filters.len());
        let mut granted = Vec::with_capacity(sub.filters.len());
        for (filter, opts) in sub.filters {
            let mut s = Subscription::new(opts, id);
            match self.judge(&filter, opts.no_local) {
                Some(Coverage::Denied) => {
                    codes.push(ReasonCode::NotAuthorized); // 0x80 in 3.1.1
                    continue;
                }
                Some(Coverage::Covered) => s.acl = self.acl_generation(),
                Some(Coverage::Partial) | None => {}
            }
            match plane::subscribe(&self.shard, self.key, &filter, s) {
                Subscribed::Granted { replaced, .. } => {
                    codes.push(ReasonCode::granted(opts.qos));
                    if sends_retained(opts.retain_handling, replaced) {
                        granted.push((filter, s));
                    }
                }
                Subscribed::TooMany | Subscribed::NoSession => {
                    debug!(client_id = %self.client_id, %filter, "subscription limit reached: SUBACK 0x80");
                    codes.push(ReasonCode::QuotaExceeded);
                }
                // Bad `$share/` filter: 0x8F (0x80 in 3.1.1).
                Subscribed::InvalidFilter => codes.push(ReasonCode::TopicFilterInvalid),
                Subscribed::SharedNoLocal => {
                    // [MQTT-3.8.3-4]: DISCONNECT 0x82 once server DISCONNECTs
                    // carry reason codes (the close reason says which).
                    ShardMetrics::inc(&self.shard.metrics.protocol_errors);
                    return self.stop(CloseReason::ProtocolError);
                }
            }
        }
        let hold = Hold::Suback {
            seq: self.shard.acks.current(),
            deadline_ms: self.shard.elapsed_ms() + HOLD_MS,
            ack: SubAck {
                packet_id: sub.packet_id,
                codes,
                properties: None,
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

    /// The ACL's view of a filter about to be subscribed (`None`: no ACL,
    /// or a filter that `plane::subscribe` refuses anyway: a bad `$share/`
    /// one, or No Local on a shared one, a protocol error that comes
    /// first, as in Mosquitto). A refusal is counted and logged here.
    fn judge(&self, filter: &str, no_local: bool) -> Option<Coverage> {
        match crate::router::shared::parse(filter) {
            Some(None) => return None,
            Some(Some(_)) if no_local => return None,
            _ => {}
        }
        let verdict = self.shard.sessions.borrow().judge(self.key, filter)?;
        if verdict == Coverage::Denied {
            ShardMetrics::inc(&self.shard.metrics.acl_denied_subscribe);
            ShardMetrics::inc(&self.listener().metrics.acl_denials);
            debug!(client_id = %self.client_id, %filter, "ACL: SUBSCRIBE denied, nothing it matches is readable");
        }
        Some(verdict)
    }

    fn acl_generation(&self) -> u32 {
        let sessions = self.shard.sessions.borrow();
        sessions.acl().map_or(0, |a| a.generation())
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
                    self.answer(a);
                }
            }
        }
        true
    }

    /// SUBACK, then the retained messages of each granted filter
    /// [MQTT-3.3.1-6] (after the SUBACK, so clients see them in order).
    fn emit_suback(&mut self, ack: SubAck, granted: &[(MqttStr, Subscription)]) {
        self.reply(&Packet::SubAck(ack));
        for (filter, sub) in granted {
            retained::send_matching(&self.shard, self.key, filter, *sub);
        }
    }
}

/// Retain handling (MQTT 5; 3.1.1 subscriptions are 0): 0 sends the
/// retained messages on every SUBSCRIBE, 1 only for a new subscription,
/// 2 never [MQTT-3.3.1-9/-10/-11].
fn sends_retained(h: RetainHandling, replaced: bool) -> bool {
    match h {
        RetainHandling::SendOnSubscribe => true,
        RetainHandling::SendIfNew => !replaced,
        RetainHandling::DoNotSend => false,
    }
}
