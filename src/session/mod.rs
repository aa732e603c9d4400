//! Session state: what the broker remembers about one client ID —
//! subscriptions, the in-flight window, the offline queue, inbound QoS 2
//! state, the will — and [`Sessions`], the one API through which all of it
//! changes on a shard.
//!
//! Every change (open, resume, takeover, close, expire, subscribe,
//! unsubscribe, deliver, queue, send, ack, release) is a method of
//! [`Sessions`], which emits a [`SessionEvent`] for each: the choke point a
//! durable log hangs from. Sessions hand their connection [`Delivery`]
//! records, never bytes.
//!
//! Files: `store.rs` (the API), `acl.rs` (the ACL's read check on delivery
//! and the marks of covered subscriptions), `lifecycle.rs` (open, close, takeover,
//! expiry, wills), `deliver.rs` (matching and delivery), `outbound.rs` (window
//! and queue), `pressure.rs` (holding publishers back while a queue is full), `registry.rs` (slab and client-ID index), `events.rs`,
//! `delivery.rs`, `message.rs`, `subscription.rs`, `shared.rs` (shared
//! subscription groups: membership, picking a member, delivery).

mod acl;
mod deliver;
mod delivery;
mod durable;
mod events;
mod lifecycle;
mod message;
mod outbound;
mod pressure;
mod registry;
mod shared;
mod store;
mod subscription;
#[cfg(test)]
mod test_util;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_acl;
#[cfg(test)]
mod tests_pressure;
#[cfg(test)]
mod tests_v5;
#[cfg(test)]
mod tests_v5_delivery;
mod timers;

pub use delivery::{Delivery, Outlet, Pending};
pub use durable::{Restore, View};
pub use events::{DropReason, EndReason, SessionEvent, SessionObserver, Stored};
pub use lifecycle::{will_delay_secs, Closed, Expired, ExpiryWasZero, Opened, NEVER};
pub use message::{with_expiry, Message, Origin};
pub use outbound::{Enqueued, InflightState, Outbound, Pumped};
pub use pressure::{Publisher, Signal};
pub use registry::SessionKey;
pub use shared::SharedOutcome;
pub use store::Sessions;
pub use subscription::{Subscribed, Subscription};

use crate::connection::ConnHandle;
use crate::protocol::{MqttStr, Will};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// One client's session. Lives on the client ID's owner shard only; changed
/// only through [`Sessions`].
#[derive(Debug)]
pub struct Session {
    client_id: MqttStr,
    /// Session expiry interval, seconds: 0 ends the session with its
    /// connection (3.1.1 clean session 1), [`NEVER`] keeps it forever.
    expiry: u32,
    /// Shard time (ms) when the last connection went away; for expiry and
    /// a delayed will.
    offline_since_ms: u64,
    /// Filter → subscription (options, identifier).
    subscriptions: HashMap<MqttStr, Subscription>,
    /// The live connection, if any.
    conn: Option<Rc<ConnHandle>>,
    outbound: Outbound,
    /// The will of the live connection; boxed, most clients have none.
    /// While offline: a will waiting for its delay (MQTT 5).
    will: Option<Box<Will>>,
    /// QoS 2 packet ids received (PUBREC sent) and not yet released by
    /// PUBREL: a PUBLISH re-sent with one of these is not forwarded again.
    /// Boxed on first use: most sessions never publish at QoS 2, and the
    /// box is 8 bytes inline where an empty set is 48, on every session.
    #[allow(clippy::box_collection)]
    incoming_qos2: Option<Box<HashSet<u16>>>,
}

impl Session {
    fn new(client_id: MqttStr, expiry: u32) -> Session {
        Session {
            client_id,
            expiry,
            offline_since_ms: 0,
            subscriptions: HashMap::new(),
            conn: None,
            outbound: Outbound::default(),
            will: None,
            incoming_qos2: None,
        }
    }

    /// Survives its connection (clean session 0, or an expiry interval).
    pub fn persistent(&self) -> bool {
        self.expiry != 0
    }

    /// Session expiry interval in seconds ([`NEVER`]: no expiry).
    pub fn expiry(&self) -> u32 {
        self.expiry
    }

    /// An offline session's will waiting for its delay.
    pub fn will_pending(&self) -> bool {
        self.conn.is_none() && self.will.is_some()
    }

    pub fn connected(&self) -> bool {
        self.conn.is_some()
    }

    pub fn subscription(&self, filter: &str) -> Option<&Subscription> {
        self.subscriptions.get(filter)
    }

    pub fn inflight_len(&self) -> usize {
        self.outbound.inflight_len()
    }

    pub fn queued_len(&self) -> usize {
        self.outbound.queued_len()
    }
}
