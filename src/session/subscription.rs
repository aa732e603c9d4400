//! A subscription as a session holds it and the shard's index stores it.

use crate::protocol::{QoS, SubscriptionOptions};
use std::num::NonZeroU32;

/// One filter of one session: its options, its MQTT 5 identifier, and
/// whether the ACL lets it skip the read check per delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscription {
    pub opts: SubscriptionOptions,
    pub id: Option<NonZeroU32>,
    /// Generation of the ACL rules under which every topic of the filter is
    /// readable by the session's client; 0: check each delivery (`acl.rs`).
    pub acl: u32,
}

impl Subscription {
    pub fn new(opts: SubscriptionOptions, id: Option<NonZeroU32>) -> Subscription {
        Subscription { opts, id, acl: 0 }
    }

    /// A plain MQTT 3 subscription.
    pub fn qos(qos: QoS) -> Subscription {
        Subscription::new(SubscriptionOptions::qos(qos), None)
    }
}

/// What [`super::Sessions::subscribe`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscribed {
    /// Added or replaced; `first_on_filter`: no other session of this shard
    /// had this filter (peers must learn of the interest); `replaced`: the
    /// session had it already (MQTT 5 retain handling 1 sends no retained
    /// messages then).
    Granted {
        first_on_filter: bool,
        replaced: bool,
    },
    /// `limits.max_subscriptions_per_session` reached.
    TooMany,
    /// No such session (it ended).
    NoSession,
    /// A `$share/` filter whose share name is empty or holds `+`, `#`, or
    /// which has no filter after it [MQTT-4.8.2-1/-2]: SUBACK 0x8F (0x80).
    InvalidFilter,
    /// No local on a shared subscription: a protocol error [MQTT-3.8.3-4],
    /// DISCONNECT 0x82 in MQTT 5.
    SharedNoLocal,
}
