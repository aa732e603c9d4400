//! The unit of delivery inside the broker.

use super::SessionKey;
use crate::protocol::{MqttStr, PublishProperties, QoS, Will};
use bytes::Bytes;
use std::sync::Arc;
use std::time::Instant;

/// One application message as it travels between shards and sits in queues.
/// Cloning it clones reference counts; the payload is never copied.
#[derive(Debug, Clone)]
pub struct Message {
    pub topic: MqttStr,
    pub payload: Bytes,
    /// QoS it was published with (deliveries use min(this, granted)).
    pub qos: QoS,
    /// RETAIN as published. Live deliveries clear it unless the subscription
    /// asked for retain-as-published; see [`super::Delivery::retain`].
    pub retain: bool,
    /// MQTT 5 properties, shared by every delivery; `None` for MQTT 3
    /// publishers and for v5 ones that sent none.
    pub properties: Option<Arc<PublishProperties>>,
    /// Who published it: MQTT 5 no-local compares it with the subscriber.
    pub origin: Origin,
    /// When the PUBLISH arrived: the time of the socket read that brought
    /// it, shared by every PUBLISH of that read (see
    /// `connection::io::received_at`). The start of the publish-to-delivery
    /// and cross-shard hop latencies.
    pub published_at: Instant,
}

/// The publisher of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A client's session (its PUBLISH, or its will). A client lives on its
    /// owner shard, so the shard and the generation-checked key name it.
    Session { shard: u16, key: SessionKey },
    /// The broker itself (`$SYS`).
    Broker,
}

impl Message {
    /// A will, published now on behalf of the session it belonged to. Its
    /// MQTT 5 properties become the PUBLISH's (§3.1.3.2: all but the
    /// delay), user properties in order; its expiry counts from now.
    pub fn from_will(w: Will, origin: Origin) -> Message {
        let properties = w.properties.map(|p| {
            let p = *p;
            Arc::new(PublishProperties {
                payload_format_indicator: p.payload_format_indicator,
                message_expiry_interval: p.message_expiry_interval,
                content_type: p.content_type,
                response_topic: p.response_topic,
                correlation_data: p.correlation_data,
                user_properties: p.user_properties,
                ..Default::default()
            })
        });
        Message {
            topic: w.topic,
            payload: w.payload,
            qos: w.qos,
            retain: w.retain,
            properties: properties.filter(|p| **p != PublishProperties::default()),
            origin,
            published_at: Instant::now(),
        }
    }
}

impl Message {
    /// The MQTT 5 Message Expiry Interval in seconds, if it has one. 0 is
    /// treated as none, as Mosquitto does (the spec gives 0 no meaning of
    /// its own, and a lifetime of 0 s would make the message undeliverable).
    #[inline]
    pub fn expiry_secs(&self) -> Option<u32> {
        let p = self.properties.as_deref()?;
        p.message_expiry_interval.filter(|&s| s > 0)
    }

    /// Whole seconds of lifetime left at `now`: `None` without an expiry
    /// interval, `Some(0)` once it has passed. This is also the interval
    /// forwarded to a v5 subscriber [MQTT-3.3.2-6].
    #[inline]
    pub fn remaining_secs(&self, now: Instant) -> Option<u32> {
        let total = self.expiry_secs()?;
        let waited = now.saturating_duration_since(self.published_at).as_secs();
        Some(total.saturating_sub(waited.min(u32::MAX as u64) as u32))
    }

    /// Has its expiry interval passed at `now` [MQTT-3.3.2-5]? Reads no clock
    /// and costs one branch for a message without one.
    #[inline]
    pub fn expired(&self, now: Instant) -> bool {
        self.remaining_secs(now) == Some(0)
    }

    /// [`Message::expired`] now; reads the clock only for a message that
    /// has an expiry interval.
    #[inline]
    pub fn expired_now(&self) -> bool {
        self.expiry_secs().is_some() && self.expired(Instant::now())
    }
}

/// A copy of `p` whose Message Expiry Interval says `secs`: the interval a
/// message forwarded after waiting carries [MQTT-3.3.2-6]. Copies the
/// properties; only for messages with an expiry interval that waited at
/// least a second. A value, not an `Arc`: the encoder only borrows it.
pub fn with_expiry(p: &PublishProperties, secs: u32) -> PublishProperties {
    PublishProperties {
        message_expiry_interval: Some(secs),
        ..p.clone()
    }
}
