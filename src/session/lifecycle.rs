//! A session's life: opened by a CONNECT (new, resumed, or taking over a
//! live connection), closed with its connection, ended (clean, replaced,
//! expired), and its will.

use super::{EndReason, Session, SessionEvent, SessionKey, Sessions};
use crate::connection::{CloseReason, ConnHandle};
use crate::metrics::ShardMetrics;
use crate::protocol::{MqttStr, Will};
use std::rc::Rc;
use tracing::debug;

/// What [`Sessions::open`] did.
#[derive(Debug)]
pub struct Opened {
    pub key: SessionKey,
    /// The CONNACK's session-present flag.
    pub present: bool,
    /// A live connection of this client ID was taken over [MQTT-3.1.4-2]:
    /// it has been kicked, and this is its will, to publish now.
    pub displaced_will: Option<Box<Will>>,
    /// Filters this shard no longer subscribes to (a replaced session's),
    /// and `$share/` filters whose group's members changed here.
    pub lost: Vec<MqttStr>,
}

/// What [`Sessions::close`] did.
#[derive(Debug, Default)]
pub struct Closed {
    /// The will, when the way the connection ended publishes it.
    pub will: Option<Box<Will>>,
    /// Filters this shard no longer subscribes to (a clean session ended),
    /// and `$share/` filters whose group's members changed here.
    pub lost: Vec<MqttStr>,
}

impl Sessions {
    /// A CONNECT was accepted: take over any live connection of this client
    /// ID, then resume its session (clean session 0 and one stored) or start
    /// a new one, and attach `handle`. Nothing is written to `handle`: the
    /// CONNACK goes first, then [`Sessions::replay`] for a resumed session.
    pub fn open(
        &mut self,
        client_id: &MqttStr,
        clean: bool,
        will: Option<Will>,
        handle: &Rc<ConnHandle>,
    ) -> Opened {
        let mut displaced_will = None;
        let mut lost = Vec::new();
        if let Some(key) = self.registry.find(client_id) {
            let s = self.registry.get_mut(key).expect("indexed session exists");
            if let Some(old) = s.conn.take() {
                old.kick(CloseReason::TakenOver);
                displaced_will = s.will.take();
                ShardMetrics::inc(&self.metrics.takeovers);
                debug!(client_id = %client_id, "taking over the previous connection");
                self.events.emit(SessionEvent::Disconnected { key });
            }
            if !clean && s.persistent {
                self.attach(key, will, handle, true);
                return Opened {
                    key,
                    present: true,
                    displaced_will,
                    lost: self.shared_filters(key), // online again
                };
            }
            lost = self.end(key, EndReason::Replaced);
        }
        let key = self
            .registry
            .insert(Session::new(client_id.clone(), !clean));
        ShardMetrics::inc(&self.metrics.sessions);
        self.events.emit(SessionEvent::Created {
            key,
            client_id,
            persistent: !clean,
        });
        self.attach(key, will, handle, false);
        Opened {
            key,
            present: false,
            displaced_will,
            lost,
        }
    }

    fn attach(&mut self, key: SessionKey, will: Option<Will>, h: &Rc<ConnHandle>, resumed: bool) {
        let s = self.registry.get_mut(key).expect("session just found");
        s.conn = Some(h.clone());
        s.will = will.map(Box::new);
        self.events.emit(SessionEvent::Connected { key, resumed });
    }

    /// After a resumed session's CONNACK: every unacknowledged delivery
    /// again, PUBLISH with DUP or PUBREL, in the original order
    /// [MQTT-4.4.0-1], then the queue as far as the window allows.
    pub fn replay(&mut self, key: SessionKey) {
        let Some(Session {
            conn: Some(c),
            outbound,
            ..
        }) = self.registry.get_mut(key)
        else {
            return;
        };
        let refused = c.with_outlet(|o| outbound.resend(o));
        for _ in 0..refused {
            // Too large for this connection's maximum: no longer in flight.
            ShardMetrics::inc(&self.metrics.packets_dropped_client_maximum);
            let reason = super::DropReason::TooLargeForClient;
            self.events.emit(SessionEvent::Dropped { key, reason });
        }
        self.pump(key);
    }

    /// A connection ended. If it is still the session's (not taken over),
    /// detach it; a clean session ends, a persistent one goes offline. The
    /// will is returned when `reason` publishes it, discarded otherwise.
    pub fn close(
        &mut self,
        key: SessionKey,
        handle: &Rc<ConnHandle>,
        reason: CloseReason,
        now_ms: u64,
    ) -> Closed {
        let Some(s) = self.registry.get_mut(key) else {
            return Closed::default();
        };
        if !s.conn.as_ref().is_some_and(|c| Rc::ptr_eq(c, handle)) {
            return Closed::default(); // taken over: the session is the new connection's
        }
        s.conn = None;
        s.offline_since_ms = now_ms;
        let will = s.will.take().filter(|_| reason.publishes_will());
        let persistent = s.persistent;
        self.events.emit(SessionEvent::Disconnected { key });
        let lost = if persistent {
            self.shared_filters(key) // offline member
        } else {
            self.end(key, EndReason::Clean)
        };
        Closed { will, lost }
    }

    /// Forget a session: its subscriptions leave the index. Returns the
    /// filters this shard no longer subscribes to.
    fn end(&mut self, key: SessionKey, reason: EndReason) -> Vec<MqttStr> {
        let filters: Vec<MqttStr> = match self.registry.get_mut(key) {
            Some(s) => {
                // Shared-group messages it still owes go to other members.
                let owed = s.outbound.take_shared().into_iter();
                self.orphans
                    .extend(owed.filter_map(|p| Some((p.share?, p.msg))));
                s.subscriptions.keys().cloned().collect()
            }
            None => return Vec::new(),
        };
        let lost = filters
            .into_iter()
            .filter(|f| self.unsubscribe(key, f) == Some(true))
            .collect();
        if self.registry.remove(key).is_some() {
            ShardMetrics::dec(&self.metrics.sessions);
            self.events.emit(SessionEvent::Ended { key, reason });
        }
        lost
    }

    /// End offline persistent sessions offline since before `cutoff_ms`,
    /// scanning at most `budget` slots from `cursor` (incremental, so a
    /// shard with a million sessions never stalls on one sweep). Returns the
    /// filters this shard no longer subscribes to.
    pub fn expire(&mut self, cursor: &mut usize, budget: usize, cutoff_ms: u64) -> Vec<MqttStr> {
        let (keys, next) = self.registry.expired(*cursor, budget, cutoff_ms);
        *cursor = next;
        let mut lost = Vec::new();
        for key in keys {
            lost.extend(self.end(key, EndReason::Expired));
            ShardMetrics::inc(&self.metrics.sessions_expired);
        }
        lost
    }
}
