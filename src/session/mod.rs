//! Session state: what the broker remembers about one client ID —
//! subscriptions, the in-flight window, the offline queue, inbound QoS 2
//! state — and the shard-local registry that finds sessions by client ID.

mod message;
mod outbound;
mod registry;

pub use message::Message;
pub use outbound::{Enqueued, InflightState, Outbound};
pub use registry::{SessionKey, Sessions};

use crate::config::Limits;
use crate::connection::ConnHandle;
use crate::metrics::ShardMetrics;
use crate::protocol::{self, MqttStr, PublishRef, QoS};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// One client's session. Lives on the client ID's owner shard only.
#[derive(Debug)]
pub struct Session {
    pub client_id: MqttStr,
    /// Clean session 0: survives the connection.
    pub persistent: bool,
    /// Shard time (ms) when the last connection went away; for expiry.
    pub offline_since_ms: u64,
    /// Filter → granted QoS.
    pub subscriptions: HashMap<MqttStr, QoS>,
    /// The live connection, if any.
    pub conn: Option<Rc<ConnHandle>>,
    pub outbound: Outbound,
    /// QoS 2 packet ids received (PUBREC sent) and not yet released by
    /// PUBREL: a PUBLISH re-sent with one of these is not forwarded again.
    /// Boxed on first use: most sessions never publish at QoS 2, and the
    /// box is 8 bytes inline where an empty set is 48, on every session.
    #[allow(clippy::box_collection)]
    incoming_qos2: Option<Box<HashSet<u16>>>,
}

impl Session {
    pub fn new(client_id: MqttStr, persistent: bool) -> Session {
        Session {
            client_id,
            persistent,
            offline_since_ms: 0,
            subscriptions: HashMap::new(),
            conn: None,
            outbound: Outbound::default(),
            incoming_qos2: None,
        }
    }

    /// Record an inbound QoS 2 packet id; false if it is already pending
    /// (a re-sent PUBLISH, not to be forwarded again).
    pub fn qos2_received(&mut self, id: u16) -> bool {
        self.incoming_qos2
            .get_or_insert_with(Default::default)
            .insert(id)
    }

    /// PUBREL released an inbound QoS 2 packet id.
    pub fn qos2_released(&mut self, id: u16) {
        if let Some(set) = &mut self.incoming_qos2 {
            set.remove(&id);
            if set.is_empty() {
                self.incoming_qos2 = None;
            }
        }
    }

    /// Hand one message to this session at delivery QoS `qos`: straight to
    /// the wire when possible, else into the bounded queue, else dropped and
    /// counted by reason.
    pub fn deliver(&mut self, msg: &Message, qos: QoS, limits: &Limits, m: &ShardMetrics) {
        match (&self.conn, qos) {
            (Some(c), QoS::AtMostOnce) => {
                if c.pending_bytes() >= limits.max_outbound_bytes {
                    ShardMetrics::inc(&m.dropped_slow_subscriber);
                    return;
                }
                // Encoded straight from the shared message: no clone, no refcount traffic.
                c.write(|o| {
                    o.stamps.push(msg.published_at);
                    let p = PublishRef {
                        topic: &msg.topic,
                        payload: &msg.payload,
                        qos,
                        retain: msg.retain,
                        dup: false,
                        packet_id: 0,
                        properties: None,
                    };
                    protocol::encode_publish(&p, c.version, &mut o.bytes)
                });
                count_out(m, qos, msg.payload.len());
            }
            (Some(c), _) if self.outbound.can_send(limits.max_inflight) => {
                let msg = Message { qos, ..msg.clone() };
                count_out(m, qos, msg.payload.len());
                c.write(|o| self.outbound.send(msg, c.version, o));
            }
            (None, QoS::AtMostOnce) if !(self.persistent && limits.queue_qos0) => {
                ShardMetrics::inc(&m.dropped_offline_qos0);
            }
            _ => {
                let kept = Message { qos, ..msg.clone() };
                if self
                    .outbound
                    .enqueue(kept, limits.max_queued_messages, limits.queue_overflow)
                    != Enqueued::Queued
                {
                    ShardMetrics::inc(&m.dropped_queue_full);
                }
            }
        }
    }

    /// Fill the in-flight window from the queue (after an ack or a resume).
    pub fn pump(&mut self, limits: &Limits, m: &ShardMetrics) {
        if let Some(c) = &self.conn {
            // Queued messages are counted out by the QoS they leave with.
            let Session { outbound, .. } = self;
            c.write(|o| {
                outbound.pump(limits.max_inflight, c.version, o, |q| {
                    ShardMetrics::inc(m.messages_out(q))
                })
            });
        }
    }
}

fn count_out(m: &ShardMetrics, qos: QoS, payload_len: usize) {
    ShardMetrics::inc(m.messages_out(qos));
    ShardMetrics::add(&m.bytes_out, payload_len as u64);
}
