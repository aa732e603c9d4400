//! The unit of delivery inside the broker.

use crate::protocol::{MqttStr, QoS};
use bytes::Bytes;
use std::time::Instant;

/// One application message as it travels between shards and sits in queues.
/// Cloning it clones two reference counts; the payload is never copied.
#[derive(Debug, Clone)]
pub struct Message {
    pub topic: MqttStr,
    pub payload: Bytes,
    /// QoS it was published with (deliveries use min(this, granted)).
    pub qos: QoS,
    /// Set only on retained messages sent because of a new subscription.
    pub retain: bool,
    /// When the PUBLISH arrived: the time of the socket read that brought
    /// it, shared by every PUBLISH of that read (see
    /// `connection::io::received_at`). The start of the publish-to-delivery
    /// and cross-shard hop latencies.
    pub published_at: Instant,
}
