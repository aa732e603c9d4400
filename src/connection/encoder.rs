//! The per-connection encoder: the only code that turns what the broker
//! sends a client (deliveries and control packets) into bytes. It owns the
//! per-connection state the wire format needs: for MQTT 5, a boxed
//! [`V5State`] (the client's maximums, topic aliases), so a 3.1/3.1.1
//! connection pays one pointer for it. The MQTT 3 encoder drops what 3.1.1
//! cannot carry (properties, subscription identifiers).

use super::v5::V5State;
use super::OutBuf;
use crate::protocol::{self, Packet, ProtocolVersion, PublishRef};
use crate::session::{Delivery, Outlet};

/// MQTT 3.1 and 3.1.1 encode alike, so the version is whether the MQTT 5
/// state is there: the handle stays within its 128 bytes.
#[derive(Debug)]
pub struct Encoder {
    v5: Option<Box<V5State>>,
}

impl Encoder {
    pub fn new(version: ProtocolVersion) -> Encoder {
        let v5 = (version == ProtocolVersion::V5).then(Default::default);
        Encoder { v5 }
    }

    fn version(&self) -> ProtocolVersion {
        match self.v5 {
            Some(_) => ProtocolVersion::V5,
            None => ProtocolVersion::V3_1_1,
        }
    }

    pub(super) fn v5_mut(&mut self) -> Option<&mut V5State> {
        self.v5.as_deref_mut()
    }

    /// One PUBLISH; its publish time rides along for the latency histogram.
    /// False if it was not written (larger than the client's maximum).
    #[inline]
    pub fn publish(&mut self, d: &Delivery<'_>, out: &mut OutBuf) -> bool {
        if let Some(v5) = self.v5.as_deref_mut() {
            return v5.publish(d, out);
        }
        out.stamps.push(d.msg.published_at);
        // 3.1/3.1.1 carry nothing of MQTT 5.
        let p = PublishRef {
            retain: d.retain,
            dup: d.dup,
            ..PublishRef::new(&d.msg.topic, &d.msg.payload, d.qos, d.packet_id)
        };
        protocol::encode_publish(&p, ProtocolVersion::V3_1_1, &mut out.bytes);
        true
    }

    /// Any other packet (CONNACK, acks, SUBACK, PINGRESP …).
    pub fn packet(&mut self, p: &Packet, out: &mut OutBuf) {
        protocol::encode(p, self.version(), &mut out.bytes);
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
    fn publish(&mut self, d: &Delivery<'_>) -> bool {
        self.enc.publish(d, &mut self.buf)
    }

    fn pubrel(&mut self, packet_id: u16) {
        self.packet(&Packet::PubRel(crate::protocol::Ack::new(packet_id)));
    }
}
