//! The per-connection encoder: the only code that turns what the broker
//! sends a client (deliveries and control packets) into bytes. It owns the
//! per-connection state the wire format needs: the protocol version now;
//! for MQTT 5, topic aliases and the client's maximum packet size. The
//! MQTT 3 encoder drops what 3.1.1 cannot carry (properties, subscription
//! identifiers).

use super::OutBuf;
use crate::protocol::{self, Packet, ProtocolVersion, PublishRef};
use crate::session::{Delivery, Outlet};

#[derive(Debug)]
pub struct Encoder {
    version: ProtocolVersion,
}

impl Encoder {
    pub fn new(version: ProtocolVersion) -> Encoder {
        Encoder { version }
    }

    /// One PUBLISH; its publish time rides along for the latency histogram.
    #[inline]
    pub fn publish(&mut self, d: &Delivery<'_>, out: &mut OutBuf) {
        out.stamps.push(d.msg.published_at);
        let p = PublishRef {
            topic: &d.msg.topic,
            payload: &d.msg.payload,
            qos: d.qos,
            retain: d.retain,
            dup: d.dup,
            packet_id: d.packet_id,
            properties: d.msg.properties.as_deref(),
            topic_alias: None,
            subscription_ids: d.subscription_ids,
        };
        protocol::encode_publish(&p, self.version, &mut out.bytes);
    }

    /// Any other packet (CONNACK, acks, SUBACK, PINGRESP …).
    pub fn packet(&mut self, p: &Packet, out: &mut OutBuf) {
        protocol::encode(p, self.version, &mut out.bytes);
    }
}

/// A connection's write side as sessions see it: the encoder and the
/// buffer it writes into.
#[derive(Debug)]
pub struct Wire {
    pub(super) buf: OutBuf,
    pub(super) enc: Encoder,
}

impl Wire {
    pub fn new(version: ProtocolVersion) -> Wire {
        Wire {
            buf: OutBuf::default(),
            enc: Encoder::new(version),
        }
    }

    pub fn packet(&mut self, p: &Packet) {
        self.enc.packet(p, &mut self.buf);
    }
}

impl Outlet for Wire {
    #[inline]
    fn publish(&mut self, d: &Delivery<'_>) {
        self.enc.publish(d, &mut self.buf);
    }

    fn pubrel(&mut self, packet_id: u16) {
        self.packet(&Packet::PubRel(crate::protocol::Ack::new(packet_id)));
    }
}
