//! What an MQTT 5 connection remembers beyond 3.1.1: the limits its client
//! announced in CONNECT, and the topic aliases of both directions. Boxed in
//! the connection's encoder (`encoder.rs`), so it lives with the handle and
//! stays while the connection is parked; a 3.1.1 connection has none.

use super::aliases::{Alias, InAliases, OutAliases};
use super::handle::ConnHandle;
use super::OutBuf;
use crate::config::Limits;
use crate::protocol::{self, Connect, ProtocolVersion, PublishRef};
use crate::session::{with_expiry, Delivery};
use std::time::Instant;

#[derive(Debug)]
pub struct V5State {
    /// The client's Maximum Packet Size; nothing larger is sent to it
    /// [MQTT-3.1.2-24].
    pub max_packet: u32,
    /// Request Problem Information: reason strings only when true
    /// [MQTT-3.1.2-29].
    pub problem_info: bool,
    /// Topic aliases the client set.
    pub inbound: InAliases,
    /// Topic aliases the broker assigned.
    pub outbound: OutAliases,
    /// QoS 2 PUBLISHes of this connection answered with PUBREC and not yet
    /// released: the broker's receive quota in use (§4.9).
    pub qos2_unreleased: u16,
}

impl Default for V5State {
    fn default() -> V5State {
        V5State {
            max_packet: u32::MAX,
            problem_info: true,
            inbound: InAliases::default(),
            outbound: OutAliases::default(),
            qos2_unreleased: 0,
        }
    }
}

/// Hand the limits a v5 client announced in its CONNECT to its connection.
pub fn configure(h: &ConnHandle, c: &Connect, limits: &Limits) {
    let Some(p) = c.properties.as_deref() else {
        return;
    };
    // 0 is refused by the codec (a protocol error); absent means 65535.
    h.set_receive_maximum(p.receive_maximum.unwrap_or(u16::MAX));
    h.v5(|v| {
        v.max_packet = p.maximum_packet_size.unwrap_or(u32::MAX);
        v.problem_info = p.request_problem_information.unwrap_or(true);
        let aliases = p.topic_alias_maximum.unwrap_or(0);
        v.outbound = OutAliases::new(if limits.outbound_topic_aliases {
            aliases
        } else {
            0
        });
    });
}

impl V5State {
    /// Encode one delivery for this client: its topic aliased when we may,
    /// its expiry interval reduced by the time it waited [MQTT-3.3.2-6],
    /// its subscription identifiers; not at all if it is larger than the
    /// client accepts (false; the caller drops and counts it).
    pub fn publish(&mut self, d: &Delivery<'_>, out: &mut OutBuf) -> bool {
        let msg = d.msg;
        let mut props = msg.properties.as_deref();
        let reduced;
        // The clock is read only for a message with an expiry interval.
        if let Some(p) = props.filter(|_| msg.expiry_secs().is_some()) {
            // Expired ones were dropped before; an instant later, send 1 s.
            let left = msg.remaining_secs(Instant::now()).unwrap_or(0).max(1);
            if p.message_expiry_interval != Some(left) {
                reduced = with_expiry(p, left);
                props = Some(&reduced);
            }
        }
        let plan = self.outbound.plan(&msg.topic);
        let (topic, alias) = match plan {
            Alias::None => (msg.topic.as_str(), None),
            Alias::Known(a) => ("", Some(a)),
            Alias::New(a) => (msg.topic.as_str(), Some(a)),
        };
        let p = PublishRef {
            topic,
            payload: &msg.payload,
            qos: d.qos,
            retain: d.retain,
            dup: d.dup,
            packet_id: d.packet_id,
            properties: props,
            topic_alias: alias,
            subscription_ids: d.subscription_ids,
        };
        // u32::MAX: the client set no maximum; skip sizing every delivery.
        if self.max_packet != u32::MAX
            && protocol::publish_len(&p, ProtocolVersion::V5) > self.max_packet as usize
        {
            return false;
        }
        if let Alias::New(a) = plan {
            self.outbound.commit(&msg.topic, a);
        }
        out.stamps.push(msg.published_at);
        protocol::encode_publish(&p, ProtocolVersion::V5, &mut out.bytes);
        true
    }
}
