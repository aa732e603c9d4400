//! Helpers for the session unit tests: messages and an outlet that records.

use super::{Delivery, Message, Origin, Outlet};
use crate::protocol::QoS;
use bytes::Bytes;

/// A message on topic `t` whose payload is the single byte `n`.
pub fn msg(n: u8, qos: QoS) -> Message {
    Message {
        topic: "t".into(),
        payload: Bytes::from(vec![n]),
        qos,
        retain: false,
        properties: None,
        origin: Origin::Broker,
        published_at: std::time::Instant::now(),
    }
}

/// What reached an outlet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    Publish {
        topic: String,
        payload: u8,
        qos: QoS,
        packet_id: u16,
        dup: bool,
        retain: bool,
        ids: Vec<u32>,
    },
    PubRel(u16),
}

impl Sent {
    pub fn payload(&self) -> u8 {
        match self {
            Sent::Publish { payload, .. } => *payload,
            other => panic!("expected PUBLISH, got {other:?}"),
        }
    }

    pub fn packet_id(&self) -> u16 {
        match self {
            Sent::Publish { packet_id, .. } | Sent::PubRel(packet_id) => *packet_id,
        }
    }
}

#[derive(Debug, Default)]
pub struct Recorder {
    sent: Vec<Sent>,
}

impl Recorder {
    pub fn take(&mut self) -> Vec<Sent> {
        std::mem::take(&mut self.sent)
    }
}

impl Outlet for Recorder {
    fn publish(&mut self, d: &Delivery<'_>) -> bool {
        self.sent.push(Sent::Publish {
            topic: d.msg.topic.to_string(),
            payload: d.msg.payload.first().copied().unwrap_or(0),
            qos: d.qos,
            packet_id: d.packet_id,
            dup: d.dup,
            retain: d.retain,
            ids: d.subscription_ids.to_vec(),
        });
        true
    }

    fn pubrel(&mut self, packet_id: u16) {
        self.sent.push(Sent::PubRel(packet_id));
    }
}
