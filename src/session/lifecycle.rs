//! A session's life: opened by a CONNECT (new, resumed, or taking over a
//! live connection), closed with its connection, ended (clean, replaced,
//! expired), and its will, at once or after its delay (MQTT 5).

use super::deliver::count_drop;
use super::{EndReason, Session, SessionEvent, SessionKey, Sessions};
use crate::connection::{CloseReason, ConnHandle};
use crate::metrics::ShardMetrics;
use crate::protocol::{MqttStr, Will};
use std::rc::Rc;
use tracing::debug;

/// Session expiry interval meaning "never" (§3.1.2.11.2).
pub const NEVER: u32 = u32::MAX;

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
    /// The will, when the way the connection ended publishes it now.
    pub will: Option<Box<Will>>,
    /// Filters this shard no longer subscribes to (a clean session ended),
    /// and `$share/` filters whose group's members changed here.
    pub lost: Vec<MqttStr>,
}

/// What [`Sessions::expire`] did.
#[derive(Debug, Default)]
pub struct Expired {
    /// Delayed wills now due, with the session they belonged to.
    pub wills: Vec<(SessionKey, Box<Will>)>,
    /// Filters this shard no longer subscribes to (sessions that expired).
    pub lost: Vec<MqttStr>,
}

/// [`Sessions::set_expiry`] refused: the session's interval was 0, and a
/// DISCONNECT may not make it non-zero [MQTT-3.14.2-2].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryWasZero;

/// A will's delay interval in seconds (0 for MQTT 3 wills).
pub fn will_delay_secs(w: &Will) -> u32 {
    let props = w.properties.as_deref();
    props.and_then(|p| p.will_delay_interval).unwrap_or(0)
}

impl Sessions {
    /// A 3.1/3.1.1 CONNECT was accepted: clean session 0 keeps the session
    /// for `limits.session_expiry` (0 = forever) once offline.
    pub fn open(
        &mut self,
        client_id: &MqttStr,
        clean: bool,
        will: Option<Will>,
        handle: &Rc<ConnHandle>,
    ) -> Opened {
        let expiry = match self.limits.session_expiry {
            _ if clean => 0,
            e if e <= 0.0 => NEVER,
            e => (e.ceil() as u64).clamp(1, NEVER as u64 - 1) as u32,
        };
        self.open_with_expiry(client_id, clean, expiry, will, handle)
    }

    /// A CONNECT was accepted: take over any live connection of this client
    /// ID, then resume its session (clean start 0 and one stored) or start
    /// a new one that lives `expiry` seconds once offline, and attach
    /// `handle`. Nothing is written to `handle`: the CONNACK goes first, then
    /// [`Sessions::replay`] for a resumed session.
    pub fn open_with_expiry(
        &mut self,
        client_id: &MqttStr,
        clean: bool,
        expiry: u32,
        will: Option<Will>,
        handle: &Rc<ConnHandle>,
    ) -> Opened {
        let mut displaced_will = None;
        let mut lost = Vec::new();
        if let Some(key) = self.registry.find(client_id) {
            let s = self.registry.get_mut(key).expect("indexed session exists");
            if let Some(old) = s.conn.take() {
                old.kick(CloseReason::TakenOver);
                // A will with a delay: this new connection came before the
                // delay passed, so it never goes out [MQTT-3.1.3-9].
                displaced_will = s.will.take().filter(|w| will_delay_secs(w) == 0);
                ShardMetrics::inc(&self.metrics.takeovers);
                debug!(client_id = %client_id, "taking over the previous connection");
                self.events.emit(SessionEvent::Disconnected { key });
            } else if s.will.take().is_some() {
                debug!(client_id = %client_id, "[MQTT-3.1.3-9] reconnected within the will delay: will discarded");
            }
            if displaced_will.is_some() {
                self.events.emit(SessionEvent::WillReleased { key });
            }
            let s = self.registry.get(key).expect("indexed session exists");
            if !clean && s.persistent() {
                self.attach(key, expiry, will, handle, true);
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
            .insert(Session::new(client_id.clone(), expiry));
        ShardMetrics::inc(&self.metrics.sessions);
        self.events.emit(SessionEvent::Created {
            key,
            client_id,
            persistent: expiry != 0,
        });
        self.attach(key, expiry, will, handle, false);
        Opened {
            key,
            present: false,
            displaced_will,
            lost,
        }
    }

    fn attach(
        &mut self,
        key: SessionKey,
        expiry: u32,
        will: Option<Will>,
        h: &Rc<ConnHandle>,
        resumed: bool,
    ) {
        let s = self.registry.get_mut(key).expect("session just found");
        s.conn = Some(h.clone());
        s.will = will.map(Box::new);
        s.expiry = expiry; // the new CONNECT's interval applies (§3.1.2.11.2)
        self.events.emit(SessionEvent::Connected { key, resumed });
        self.events.emit(SessionEvent::Expiry { key, secs: expiry });
    }

    /// After a resumed session's CONNACK: every unacknowledged delivery
    /// again, PUBLISH with DUP or PUBREL, in the original order
    /// [MQTT-4.4.0-1], then the queue as far as the window allows.
    pub fn replay(&mut self, key: SessionKey) {
        let max_inflight = self.limits.max_inflight;
        let Some(Session {
            conn: Some(c),
            outbound,
            ..
        }) = self.registry.get_mut(key)
        else {
            return;
        };
        let window = c.send_window(max_inflight);
        let refused = c.with_outlet(|o| outbound.resend(window, o));
        for id in refused {
            // Too large for this connection's maximum: no longer in flight.
            let reason = super::DropReason::TooLargeForClient;
            let from = super::events::Stored::Inflight(id);
            count_drop(&self.metrics, &mut self.events, key, reason, from);
        }
        self.pump(key);
    }

    /// A DISCONNECT changes the session expiry interval. Not from 0 to
    /// non-zero [MQTT-3.14.2-2]: `Err` (a protocol error) and no change.
    pub fn set_expiry(&mut self, key: SessionKey, secs: u32) -> Result<(), ExpiryWasZero> {
        let Some(s) = self.registry.get_mut(key) else {
            return Ok(());
        };
        if s.expiry == 0 && secs != 0 {
            return Err(ExpiryWasZero);
        }
        s.expiry = secs;
        self.events.emit(SessionEvent::Expiry { key, secs });
        Ok(())
    }

    /// A connection ended. If it is still the session's (not taken over),
    /// detach it; a session with expiry 0 ends, any other goes offline. The
    /// will is returned when `reason` publishes it now, kept while its delay
    /// runs (the session neither ends nor reconnects first), discarded
    /// otherwise.
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
        let mut will = s.will.take().filter(|_| reason.publishes_will());
        let ends = s.expiry == 0;
        let delay = will.as_deref().map_or(0, will_delay_secs);
        if delay > 0 && !ends {
            s.will = will.take(); // waits for min(delay, expiry)
            if let Some(w) = s.will.as_deref() {
                self.events.emit(SessionEvent::WillKept { key, will: w });
            }
            let due = now_ms + delay as u64 * 1000;
            self.timers.schedule(key, due);
        }
        let expiry = s.expiry;
        if !ends && expiry != NEVER {
            self.timers.schedule(key, now_ms + expiry as u64 * 1000);
        }
        self.events.emit(SessionEvent::Disconnected { key });
        self.release_publishers(key); // offline sessions hold no one back
        if will.is_some() {
            self.events.emit(SessionEvent::WillReleased { key });
        }
        let lost = if ends {
            self.end(key, EndReason::Clean)
        } else {
            self.shared_filters(key) // offline member
        };
        Closed { will, lost }
    }

    /// Forget a session: its subscriptions leave the index. Returns the
    /// filters this shard no longer subscribes to.
    fn end(&mut self, key: SessionKey, reason: EndReason) -> Vec<MqttStr> {
        self.release_publishers(key);
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
        self.forget_user(key);
        if self.registry.remove(key).is_some() {
            ShardMetrics::dec(&self.metrics.sessions);
            self.events.emit(SessionEvent::Ended { key, reason });
        }
        lost
    }

    /// The session timers due by shard time `now_ms`: delayed wills whose
    /// delay passed, offline sessions whose expiry interval passed (a will
    /// still waiting goes out as its session ends, §3.1.3.2.2).
    pub fn expire(&mut self, now_ms: u64) -> Expired {
        let mut out = Expired::default();
        for key in self.timers.due(now_ms) {
            let Some(s) = self.registry.get_mut(key) else {
                continue; // ended meanwhile
            };
            if s.conn.is_some() {
                continue; // reconnected: the entry is stale
            }
            let since = s.offline_since_ms;
            let will_due = s
                .will
                .as_deref()
                .map(|w| since + will_delay_secs(w) as u64 * 1000);
            let end_due = (s.expiry != NEVER).then(|| since + s.expiry as u64 * 1000);
            let ends = end_due.is_some_and(|t| t <= now_ms);
            if ends || will_due.is_some_and(|t| t <= now_ms) {
                if let Some(w) = s.will.take() {
                    self.events.emit(SessionEvent::WillReleased { key });
                    out.wills.push((key, w));
                }
            } else if let Some(next) = will_due.into_iter().chain(end_due).min() {
                // Came round early (more than a wheel turn away): look again.
                self.timers.schedule(key, next);
            }
            if ends {
                out.lost.extend(self.end(key, EndReason::Expired));
                ShardMetrics::inc(&self.metrics.sessions_expired);
            }
        }
        out
    }
}
