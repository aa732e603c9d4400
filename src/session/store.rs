//! [`Sessions`]: every session of one shard, the index of their
//! subscriptions, and the methods through which all session state changes.

use super::events::Events;
use super::registry::Registry;
use super::timers::Timers;
use super::{Session, SessionEvent, SessionKey, SessionObserver, Subscribed, Subscription};
use crate::config::Limits;
use crate::connection::ConnHandle;
use crate::metrics::ShardMetrics;
use crate::protocol::MqttStr;
use crate::router::shared::{self, GroupId};
use crate::router::{FilterTrie, SharedGroups};
use std::rc::Rc;

/// The sessions of one shard. Single-threaded: the shard owns it.
pub struct Sessions {
    pub(super) registry: Registry,
    /// Filter → (session slot index, subscription): who on this shard
    /// subscribes to what. Kept in step with each session's own map.
    pub(super) index: FilterTrie<u32, Subscription>,
    /// Reused per publish so matching allocates nothing in steady state.
    pub(super) matches: Vec<(u32, Subscription)>,
    pub(super) ids: Vec<u32>,
    pub(super) limits: Limits,
    pub(super) metrics: Rc<ShardMetrics>,
    /// This shard, to recognise its own sessions as a message's origin.
    pub(super) shard: u16,
    pub(super) events: Events,
    /// Expiry and delayed wills of offline sessions.
    pub(super) timers: Timers,
    /// Shared subscription groups: members here, counts on every shard.
    pub(super) shared: SharedGroups<Subscription>,
    /// Reused per publish: the shared groups a message matched.
    pub(super) groups_hit: Vec<GroupId>,
    /// Messages of shared groups whose member's session ended unacknowledged:
    /// the plane gives them to other members (`take_orphans`).
    pub(super) orphans: Vec<(GroupId, super::Message)>,
    /// The ACL rules in force and what checking them needs (`acl.rs`).
    pub(super) acl: super::acl::SessionAcl,
    /// Pause and resume decisions for the plane to carry (`pressure.rs`).
    pub(super) signals: Vec<super::pressure::Signal>,
    /// Sessions holding publishers back, watched for stalls.
    pub(super) watch: Vec<super::pressure::Watch>,
}

impl Sessions {
    pub fn new(shard: usize, limits: Limits, metrics: Rc<ShardMetrics>) -> Sessions {
        let limits_strategy = limits.shared_subscription_strategy;
        Sessions {
            registry: Registry::default(),
            index: FilterTrie::new(),
            matches: Vec::new(),
            ids: Vec::new(),
            limits,
            metrics,
            shard: shard as u16,
            events: Events::default(),
            timers: Timers::default(),
            shared: SharedGroups::new(shard, limits_strategy),
            groups_hit: Vec::new(),
            orphans: Vec::new(),
            acl: Default::default(),
            signals: Vec::new(),
            watch: Vec::new(),
        }
    }

    /// Hear every session event from now on (the durable log; tests).
    pub fn observe(&mut self, o: Box<dyn SessionObserver>) {
        self.events.set(o);
    }

    pub fn len(&self) -> usize {
        self.registry.len()
    }

    pub fn is_empty(&self) -> bool {
        self.registry.is_empty()
    }

    pub fn find(&self, client_id: &str) -> Option<SessionKey> {
        self.registry.find(client_id)
    }

    /// Read-only view of a session.
    pub fn get(&self, key: SessionKey) -> Option<&Session> {
        self.registry.get(key)
    }

    /// The connection of the session at `key`, if it has one.
    pub fn handle(&self, key: SessionKey) -> Option<&Rc<ConnHandle>> {
        self.registry.get(key)?.conn.as_ref()
    }

    /// Distinct filters subscribed on this shard.
    pub fn filter_count(&self) -> usize {
        self.index.filter_count()
    }

    /// Add or replace a subscription [MQTT-3.8.4-3]. A valid `$share/`
    /// filter makes the session a member of that group (invalid ones are
    /// refused before this, in `plane::subscribe`).
    pub fn subscribe(
        &mut self,
        key: SessionKey,
        filter: &MqttStr,
        sub: Subscription,
    ) -> Subscribed {
        let max = self.limits.max_subscriptions_per_session;
        let Some(s) = self.registry.get_mut(key) else {
            return Subscribed::NoSession;
        };
        let had = s.subscriptions.contains_key(filter.as_str());
        if !had && max != 0 && s.subscriptions.len() >= max {
            return Subscribed::TooMany;
        }
        s.subscriptions.insert(filter.clone(), sub);
        if !had {
            ShardMetrics::inc(&self.metrics.subscriptions);
        }
        let first_on_filter = match shared::parse(filter) {
            Some(Some((name, f))) => {
                self.shared.join(name, f, key.index, sub);
                false
            }
            _ => self.index.insert(filter, key.index, sub).first_on_filter,
        };
        self.events
            .emit(SessionEvent::Subscribed { key, filter, sub });
        Subscribed::Granted {
            first_on_filter,
            replaced: had,
        }
    }

    /// Put `sub` in place of a subscription the session holds on `filter`
    /// (its ACL mark changed; no event: the mark is derived, not state).
    pub(super) fn replace_subscription(
        &mut self,
        key: SessionKey,
        filter: &MqttStr,
        sub: Subscription,
    ) {
        let Some(s) = self.registry.get_mut(key) else {
            return;
        };
        let Some(held) = s.subscriptions.get_mut(filter.as_str()) else {
            return;
        };
        *held = sub;
        match shared::parse(filter) {
            Some(Some((name, f))) => {
                self.shared.join(name, f, key.index, sub);
            }
            _ => {
                self.index.insert(filter, key.index, sub);
            }
        }
    }

    /// Remove a subscription. `None` if the session did not have it, else
    /// whether it was this shard's last subscriber on the filter; always
    /// true for a `$share/` filter (its group's member count changed).
    pub fn unsubscribe(&mut self, key: SessionKey, filter: &str) -> Option<bool> {
        let s = self.registry.get_mut(key)?;
        s.subscriptions.remove(filter)?;
        ShardMetrics::dec(&self.metrics.subscriptions);
        let lost = match shared::parse(filter) {
            Some(Some((name, f))) => self.shared.leave(name, f, key.index),
            _ => self.index.remove(filter, &key.index).filter_now_empty,
        };
        self.events.emit(SessionEvent::Unsubscribed { key, filter });
        Some(lost)
    }

    /// PUBACK from the client.
    pub fn puback(&mut self, key: SessionKey, packet_id: u16) {
        self.acked(key, packet_id, |s| s.outbound.on_puback(packet_id));
    }

    /// PUBCOMP from the client.
    pub fn pubcomp(&mut self, key: SessionKey, packet_id: u16) {
        self.acked(key, packet_id, |s| s.outbound.on_pubcomp(packet_id));
    }

    fn acked(&mut self, key: SessionKey, packet_id: u16, f: impl FnOnce(&mut Session) -> bool) {
        let Some(s) = self.registry.get_mut(key) else {
            return;
        };
        if f(s) {
            self.events.emit(SessionEvent::Acked { key, packet_id });
            self.pump(key);
            self.maybe_release(key);
        }
    }

    /// PUBREC from the client: PUBREL goes out either way (the client may
    /// be repeating itself after a reconnect).
    pub fn pubrec(&mut self, key: SessionKey, packet_id: u16) {
        let Some(Session { conn, outbound, .. }) = self.registry.get_mut(key) else {
            return;
        };
        let Some(c) = conn else { return };
        if c.with_outlet(|o| outbound.on_pubrec(packet_id, o)) {
            self.events.emit(SessionEvent::Received { key, packet_id });
        }
    }

    /// PUBREC, the PUBREL left to the caller: with `fsync = "always"` it
    /// waits until the log holds the PUBREC, or a crash could resend a
    /// PUBLISH the client already completed (a duplicate at QoS 2).
    pub fn pubrec_quiet(&mut self, key: SessionKey, packet_id: u16) {
        let Some(Session { outbound, .. }) = self.registry.get_mut(key) else {
            return;
        };
        if outbound.on_pubrec(packet_id, &mut NoPubrel) {
            self.events.emit(SessionEvent::Received { key, packet_id });
        }
    }

    /// Record an inbound QoS 2 packet id; false if it is already pending
    /// (a re-sent PUBLISH, not to be forwarded again) or the session is gone.
    pub fn qos2_received(&mut self, key: SessionKey, packet_id: u16) -> bool {
        let Some(s) = self.registry.get_mut(key) else {
            return false;
        };
        s.incoming_qos2
            .get_or_insert_with(Default::default)
            .insert(packet_id)
    }

    /// The PUBREC of inbound QoS 2 `packet_id` went out: the log may keep
    /// the id from now on. Not before: with `fsync = "always"` the PUBREC
    /// waits until the message is durable on every shard, and an id kept
    /// sooner would, after a crash, refuse the client's re-sent PUBLISH
    /// while a peer had lost its copy.
    pub fn qos2_acknowledged(&mut self, key: SessionKey, packet_id: u16) {
        if self.qos2_pending(key, packet_id) {
            self.events
                .emit(SessionEvent::Qos2Accepted { key, packet_id });
        }
    }

    /// Is inbound QoS 2 `packet_id` recorded and not yet released?
    pub fn qos2_pending(&self, key: SessionKey, packet_id: u16) -> bool {
        let s = self.registry.get(key);
        let set = s.and_then(|s| s.incoming_qos2.as_deref());
        set.is_some_and(|set| set.contains(&packet_id))
    }

    /// PUBREL released an inbound QoS 2 packet id; false if it was not
    /// pending.
    pub fn qos2_released(&mut self, key: SessionKey, packet_id: u16) -> bool {
        let Some(s) = self.registry.get_mut(key) else {
            return false;
        };
        let Some(set) = &mut s.incoming_qos2 else {
            return false;
        };
        if !set.remove(&packet_id) {
            return false;
        }
        if set.is_empty() {
            s.incoming_qos2 = None;
        }
        self.events
            .emit(SessionEvent::Qos2Released { key, packet_id });
        true
    }

    /// The client sent DISCONNECT: its will is discarded [MQTT-3.1.2-10].
    pub fn discard_will(&mut self, key: SessionKey) {
        if let Some(s) = self.registry.get_mut(key) {
            s.will = None;
        }
    }

    /// The live connections of this shard (to say goodbye at shutdown).
    pub fn connections(&self) -> Vec<Rc<ConnHandle>> {
        self.registry.connections()
    }
}

/// An outlet for [`Sessions::pubrec_quiet`]: the PUBREL is the caller's.
struct NoPubrel;

impl super::Outlet for NoPubrel {
    fn publish(&mut self, _: &super::Delivery<'_>) -> bool {
        false
    }
    fn pubrel(&mut self, _: u16) {}
}
