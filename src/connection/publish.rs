//! PUBLISH from a client (§3.3) and its acknowledgements: the QoS
//! handshakes, and for MQTT 5 the topic aliases, the payload format check,
//! the broker's receive quota (§4.9) and the PUBACK/PUBREC reason codes.

use super::handle::CloseReason;
use super::io::Flow;
use super::packets::Hold;
use super::Conn;
use crate::auth::acl::Access;
use crate::metrics::ShardMetrics;
use crate::plane;
use crate::protocol::{Ack, AckProperties, Packet, ProtocolVersion, Publish, QoS, ReasonCode};
use crate::session::{Message, Origin};
use tracing::debug;

/// How long an answer may wait for peer shards (see `plane/acks.rs`).
pub(super) const HOLD_MS: u64 = 2_000;

impl Conn {
    pub(super) fn on_publish(&mut self, mut p: Publish) -> Flow {
        let m = &self.shard.metrics;
        ShardMetrics::inc(m.messages_in(p.qos));
        ShardMetrics::add(&m.bytes_in, p.payload.len() as u64);
        let v5 = self.version == ProtocolVersion::V5;
        if v5 {
            // No Subscription Identifier from a client [MQTT-3.3.4-6], no
            // alias above our maximum [MQTT-3.3.2-9] (alias 0 cannot decode).
            let max = self.shard.cfg.limits.topic_alias_maximum;
            if let Err(e) = crate::protocol::check_client_publish(&p, max) {
                let reason = self.malformed(e);
                return self.stop(reason);
            }
            if let Err(code) = self.resolve_alias(&mut p) {
                ShardMetrics::inc(&self.shard.metrics.topic_alias_errors);
                return self.disconnect(code);
            }
            if !payload_format_ok(&p) {
                return self.refuse_payload(&p);
            }
        }
        let writable = self
            .shard
            .sessions
            .borrow()
            .acl_allows(self.key, &p.topic, Access::Write);
        if !writable {
            return self.refuse_by_acl(&p);
        }
        let id = p.packet_id;
        let discarded = self.log_discarded();
        // A PUBLISH re-sent before PUBREL is acknowledged, not forwarded again.
        let fresh = match p.qos {
            QoS::ExactlyOnce if v5 && !self.qos2_quota(id) => {
                ShardMetrics::inc(&self.shard.metrics.receive_maximum_exceeded);
                debug!(client_id = %self.client_id, "[MQTT-3.3.4-8] receive maximum exceeded: DISCONNECT 0x93");
                return self.disconnect(ReasonCode::ReceiveMaximumExceeded);
            }
            QoS::ExactlyOnce => self.sessions().qos2_received(self.key, id),
            _ => true,
        };
        let qos = p.qos;
        let msg = Message {
            topic: p.topic,
            payload: p.payload,
            qos,
            retain: p.retain,
            properties: p.properties,
            origin: Origin::Session {
                shard: self.shard.id as u16,
                key: self.key,
            },
            published_at: self.shard.io.received_at(),
        };
        let q2 = match qos {
            QoS::ExactlyOnce => crate::persist::qos2::key_of(&self.shard, self.key, id),
            _ => None,
        };
        let routed = fresh.then(|| plane::publish_keyed(&self.shard, msg, q2));
        let code = match &routed {
            // Nobody on any shard: the publisher may want to know [§3.4.2.1].
            Some(r) if v5 && !r.matched => ReasonCode::NoMatchingSubscribers,
            _ => ReasonCode::Success,
        };
        let peer_down = routed.as_ref().is_some_and(|r| r.peer_log_down);
        if qos != QoS::AtMostOnce && (self.log_discarded() > discarded || peer_down) {
            return self.refuse_for_disk(qos, id);
        }
        let ack = match qos {
            QoS::AtMostOnce => None,
            QoS::AtLeastOnce => Some(Packet::PubAck(Ack::with_reason(id, code))),
            QoS::ExactlyOnce => Some(Packet::PubRec(Ack::with_reason(id, code))),
        };
        if let Some((peer, seq)) = routed.and_then(|r| r.stored_elsewhere) {
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
            self.answer(a);
        }
        if self.handle.held() {
            // A session it publishes to is full: the rest of this read
            // waits with the connection (back-pressure).
            return Flow::Pause;
        }
        Flow::Continue
    }

    /// PUBREL: the inbound QoS 2 id is released (and its receive quota).
    pub(super) fn on_pubrel(&mut self, a: Ack) {
        if self.sessions().qos2_released(self.key, a.packet_id) {
            self.handle
                .v5(|v| v.qos2_unreleased = v.qos2_unreleased.saturating_sub(1));
        }
        // Every shard forgets the message's key before the PUBCOMP (which
        // waits for their confirms with fsync = "always").
        if let Some(k) = crate::persist::qos2::key_of(&self.shard, self.key, a.packet_id) {
            crate::persist::qos2::released(&self.shard, k);
        }
        self.answer(Packet::PubComp(Ack::new(a.packet_id)));
    }

    /// Records the durable log could not write so far (0 without one).
    fn log_discarded(&self) -> u64 {
        self.shard
            .persist
            .as_ref()
            .map_or(0, |p| p.log.stats().discarded)
    }

    /// The log could not keep what this PUBLISH caused (disk full, write
    /// error): MQTT 5 hears 0x97, a 3.1.1 client (no codes) loses the
    /// connection. Live subscribers may have it already; the publisher
    /// sends it again.
    fn refuse_for_disk(&mut self, qos: QoS, id: u16) -> Flow {
        ShardMetrics::inc(&self.shard.metrics.log_refused);
        debug!(client_id = %self.client_id, "durable log cannot write: PUBLISH refused");
        let code = ReasonCode::QuotaExceeded;
        if self.version != ProtocolVersion::V5 {
            return self.stop(CloseReason::Violation(code));
        }
        let ack = Ack::with_reason(id, code);
        match qos {
            QoS::ExactlyOnce => {
                self.sessions().qos2_released(self.key, id);
                self.reply(&Packet::PubRec(ack));
            }
            _ => self.reply(&Packet::PubAck(ack)),
        }
        Flow::Continue
    }

    /// Room in the broker's receive quota for QoS 2 `id` (a re-sent one
    /// already holds its place); takes it.
    fn qos2_quota(&mut self, id: u16) -> bool {
        let max = self.shard.cfg.limits.receive_maximum;
        let full = self.handle.v5(|v| v.qos2_unreleased >= max) == Some(true);
        if self.sessions().qos2_pending(self.key, id) {
            return true;
        }
        if full {
            return false;
        }
        self.handle.v5(|v| v.qos2_unreleased += 1);
        true
    }

    /// Topic aliases [MQTT-3.3.2-8/-9/-12]: an alias sets or names this
    /// connection's mapping. It is the `Publish`'s own field, not one of
    /// the shared properties, so it is never forwarded [MQTT-3.3.2-7] and
    /// the properties are not touched here.
    fn resolve_alias(&mut self, p: &mut Publish) -> Result<(), ReasonCode> {
        let Some(alias) = p.topic_alias else {
            if p.topic.is_empty() {
                debug!(client_id = %self.client_id, "[MQTT-3.3.2-1] empty topic and no topic alias: DISCONNECT 0x82");
                return Err(ReasonCode::ProtocolError);
            }
            return Ok(());
        };
        let topic = &mut p.topic;
        let known = self.handle.v5(|v| {
            if topic.is_empty() {
                v.inbound.get(alias).map(|t| *topic = t.clone()).is_some()
            } else {
                v.inbound.set(alias, topic);
                true
            }
        });
        if known != Some(true) {
            debug!(client_id = %self.client_id, alias, "empty topic with an unknown topic alias: DISCONNECT 0x82");
            return Err(ReasonCode::ProtocolError);
        }
        Ok(())
    }

    /// Payload Format Indicator 1 and a payload that is not UTF-8: 0x99 in
    /// the PUBACK/PUBREC, or a DISCONNECT for QoS 0, which has no answer;
    /// the message goes nowhere.
    fn refuse_payload(&mut self, p: &Publish) -> Flow {
        ShardMetrics::inc(&self.shard.metrics.payload_format_invalid);
        debug!(client_id = %self.client_id, "[MQTT-3.3.2-4] payload format UTF-8 but the payload is not: 0x99");
        let code = ReasonCode::PayloadFormatInvalid;
        let mut ack = Ack::with_reason(p.packet_id, code);
        // Only when asked for, and only if the ack stays within the
        // client's maximum even with it [MQTT-3.1.2-29, MQTT-3.4.2-2].
        if self.handle.v5(|v| v.problem_info && v.max_packet >= 64) == Some(true) {
            ack.properties = Some(Box::new(AckProperties {
                reason_string: Some("payload is not valid UTF-8".into()),
                user_properties: Vec::new(),
            }));
        }
        match p.qos {
            QoS::AtMostOnce => return self.disconnect(code),
            QoS::AtLeastOnce => self.reply(&Packet::PubAck(ack)),
            QoS::ExactlyOnce => self.reply(&Packet::PubRec(ack)),
        }
        Flow::Continue
    }

    /// The ACL grants no write access to the topic: the message goes
    /// nowhere. The ack still comes, as from Mosquitto, so a 3.1.1 client
    /// (which has no way to hear a refusal) is not left waiting; MQTT 5
    /// hears 0x87 in it. A QoS 2 PUBLISH records no packet id: its PUBREL
    /// gets PUBCOMP all the same.
    fn refuse_by_acl(&mut self, p: &Publish) -> Flow {
        ShardMetrics::inc(&self.shard.metrics.acl_denied_publish);
        ShardMetrics::inc(&self.listener().metrics.acl_denials);
        debug!(client_id = %self.client_id, topic = %p.topic, "ACL: PUBLISH denied, no write access");
        let ack = Ack::with_reason(p.packet_id, ReasonCode::NotAuthorized);
        match p.qos {
            QoS::AtMostOnce => {}
            QoS::AtLeastOnce => self.reply(&Packet::PubAck(ack)),
            QoS::ExactlyOnce => self.reply(&Packet::PubRec(ack)),
        }
        Flow::Continue
    }

    /// Close with a reason code: an MQTT 5 client hears it in a
    /// DISCONNECT written before the close (`goodbye.rs`); a 3.1.1 client
    /// is just closed.
    pub(super) fn disconnect(&mut self, code: ReasonCode) -> Flow {
        self.stop(CloseReason::Violation(code))
    }
}

fn payload_format_ok(p: &Publish) -> bool {
    let utf8 = p
        .properties
        .as_ref()
        .and_then(|x| x.payload_format_indicator)
        == Some(1);
    !utf8 || std::str::from_utf8(&p.payload).is_ok()
}
