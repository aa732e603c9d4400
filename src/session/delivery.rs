//! What a session hands its connection: deliveries, not bytes. The
//! connection's encoder (`connection::Encoder`) owns every byte that goes on
//! the wire and the per-connection state that needs (MQTT 5 topic aliases,
//! the client's maximum packet size); sessions and the router never encode.

use super::Message;
use crate::protocol::QoS;
use crate::router::shared::GroupId;

/// One PUBLISH to one client, as the session decided it.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    pub msg: &'a Message,
    /// min(published QoS, granted QoS).
    pub qos: QoS,
    /// 0 for QoS 0.
    pub packet_id: u16,
    /// A resend after the session resumed [MQTT-4.4.0-1].
    pub dup: bool,
    /// RETAIN on the wire: set for a stored retained message sent because of
    /// a new subscription, and for a live one only when the subscription
    /// asked for retain-as-published (MQTT 5); never otherwise [MQTT-3.3.1-9].
    pub retain: bool,
    /// MQTT 5 subscription identifiers of the matching subscriptions.
    pub subscription_ids: &'a [u32],
}

/// Where deliveries and the acks the window originates go: the connection's
/// write side, or a recorder in tests.
pub trait Outlet {
    /// Write one PUBLISH; false if it was not written because it is larger
    /// than the client's maximum packet size [MQTT-3.1.2-24] (the caller
    /// drops it for this client and counts it).
    fn publish(&mut self, d: &Delivery<'_>) -> bool;
    /// PUBREL for an outgoing QoS 2 delivery the client PUBRECed.
    fn pubrel(&mut self, packet_id: u16);
}

/// A message waiting in a session (queued, or in flight and not yet
/// acknowledged), already at its delivery QoS and RETAIN flag.
#[derive(Debug, Clone)]
pub struct Pending {
    pub msg: Message,
    /// Boxed and usually absent: most subscriptions carry no identifier.
    pub subscription_ids: Option<Box<[u32]>>,
    /// Delivered for this shard's shared group: if the session ends before
    /// it is acknowledged, another member gets it.
    pub share: Option<GroupId>,
}

impl Pending {
    #[inline]
    pub fn new(msg: Message, ids: &[u32]) -> Pending {
        let subscription_ids = (!ids.is_empty()).then(|| ids.into());
        Pending {
            msg,
            subscription_ids,
            share: None,
        }
    }

    #[inline]
    pub fn delivery(&self, packet_id: u16, dup: bool) -> Delivery<'_> {
        Delivery {
            msg: &self.msg,
            qos: self.msg.qos,
            packet_id,
            dup,
            retain: self.msg.retain,
            subscription_ids: self.subscription_ids.as_deref().unwrap_or(&[]),
        }
    }
}
