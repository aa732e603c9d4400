//! Session events: one for every change of session state, in the order the
//! changes happen. A durable log records them; tests assert on them.

use super::{Message, Pending, SessionKey, Subscription};
use crate::protocol::{MqttStr, Will};

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// A clean (non-persistent) session lost its connection.
    Clean,
    /// A new connection asked for a clean session [MQTT-3.1.2-6].
    Replaced,
    /// Offline longer than its expiry interval (MQTT 5), or than
    /// `limits.session_expiry` (3.1.1).
    Expired,
}

/// Why a message for a session was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// QoS 0 and the client's write buffer is full.
    SlowSubscriber,
    /// QoS 0 for an offline session (queued only with `queue_qos0`).
    OfflineQos0,
    /// The session queue was full and `queue_overflow` refused the message
    /// or evicted the oldest.
    QueueFull,
    /// The queue was full and the session, stalled (no acknowledgement for
    /// `stall_timeout`), no longer holds its publishers back.
    Stalled,
    /// MQTT 5: its expiry interval passed before it could be sent
    /// [MQTT-3.3.2-5].
    Expired,
    /// MQTT 5: the PUBLISH would exceed the client's Maximum Packet Size
    /// [MQTT-3.1.2-25].
    TooLargeForClient,
}

#[derive(Debug, Clone, Copy)]
pub enum SessionEvent<'a> {
    Created {
        key: SessionKey,
        client_id: &'a MqttStr,
        persistent: bool,
    },
    /// A connection attached to the session (new or resumed).
    Connected {
        key: SessionKey,
        resumed: bool,
    },
    /// Its connection went away; a persistent session stays offline.
    Disconnected {
        key: SessionKey,
    },
    /// The session expiry interval (seconds, `NEVER` for none) set by a
    /// CONNECT or changed by a DISCONNECT.
    Expiry {
        key: SessionKey,
        secs: u32,
    },
    /// The will left the session to be published (now, or after its delay).
    WillReleased {
        key: SessionKey,
    },
    Ended {
        key: SessionKey,
        reason: EndReason,
    },
    Subscribed {
        key: SessionKey,
        filter: &'a str,
        sub: Subscription,
    },
    Unsubscribed {
        key: SessionKey,
        filter: &'a str,
    },
    /// Joined the back of the session queue (offline, or behind the
    /// window), at its delivery QoS and RETAIN.
    Queued {
        key: SessionKey,
        p: &'a Pending,
    },
    /// Went on the wire; QoS 1/2 with a packet id now in flight. `msg` is
    /// at its delivery QoS and RETAIN except for a direct QoS 0 send.
    Sent {
        key: SessionKey,
        packet_id: u16,
        msg: &'a Message,
        ids: &'a [u32],
        /// Taken from the front of the queue (else it was never queued).
        from_queue: bool,
    },
    /// PUBACK or PUBCOMP: the delivery is finished.
    Acked {
        key: SessionKey,
        packet_id: u16,
    },
    /// PUBREC: the payload is no longer needed, PUBREL follows.
    Received {
        key: SessionKey,
        packet_id: u16,
    },
    Dropped {
        key: SessionKey,
        reason: DropReason,
        /// Where the message was when it was dropped.
        from: Stored,
    },
    /// The connection went away and its will waits for its delay
    /// (MQTT 5): published after it unless the client comes back first.
    WillKept {
        key: SessionKey,
        will: &'a Will,
    },
    /// An inbound QoS 2 PUBLISH was accepted and its PUBREC sent.
    Qos2Accepted {
        key: SessionKey,
        packet_id: u16,
    },
    /// PUBREL released an inbound QoS 2 packet id.
    Qos2Released {
        key: SessionKey,
        packet_id: u16,
    },
}

/// Where a dropped message was: a replay of the events must remove it
/// from the same place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Never stored (refused, or a QoS 0 for a busy client).
    Nowhere,
    /// The front of the queue.
    QueueFront,
    /// In flight with this packet id.
    Inflight(u16),
}

/// Hears every session event of one shard, synchronously and in order.
pub trait SessionObserver {
    fn on_event(&mut self, e: &SessionEvent<'_>);
}

/// The shard's observer, if any: an emit without one is one branch.
#[derive(Default)]
pub(super) struct Events(Option<Box<dyn SessionObserver>>);

impl Events {
    pub fn set(&mut self, o: Box<dyn SessionObserver>) {
        self.0 = Some(o);
    }

    #[inline]
    pub fn emit(&mut self, e: SessionEvent<'_>) {
        if let Some(o) = &mut self.0 {
            o.on_event(&e);
        }
    }
}
