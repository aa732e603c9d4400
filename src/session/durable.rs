//! The durable log's two views of a session: what compaction writes of a
//! live one ([`View`]), and what recovery installs ([`Restore`]). Here
//! because a session's fields are the session module's own.

use super::lifecycle::will_delay_secs;
use super::outbound::InflightState;
use super::{Pending, Session, SessionKey, Sessions, Subscription, NEVER};
use crate::metrics::ShardMetrics;
use crate::protocol::{MqttStr, Will};

/// A session as compaction writes it.
pub struct View<'a> {
    pub client_id: &'a MqttStr,
    pub expiry: u32,
    /// Shard ms its connection went away; `None` while connected.
    pub offline_since_ms: Option<u64>,
    /// A will waiting for its delay (offline only).
    pub will: Option<&'a Will>,
    pub subs: Vec<(&'a MqttStr, &'a Subscription)>,
    pub qos2_in: Vec<u16>,
    pub inflight: Vec<(u16, InflightState, Option<&'a Pending>)>,
    pub queue: Vec<&'a Pending>,
}

/// A recovered session to install, offline.
pub struct Restore {
    pub client_id: MqttStr,
    /// Expiry left to run (s), or [`NEVER`].
    pub expiry: u32,
    /// A will whose delay (its properties say how much is left) still runs.
    pub will: Option<Will>,
    pub qos2_in: Vec<u16>,
    pub inflight: Vec<(u16, InflightState, Option<Pending>)>,
    pub queue: Vec<Pending>,
}

impl Sessions {
    /// The session in slot `slot`, if one lives there, and how many slots
    /// there are: a compaction pass walks them at its own pace, as the ACL
    /// re-marking does.
    pub fn key_at(&self, slot: u32) -> Option<SessionKey> {
        self.registry.key_at(slot)
    }

    pub fn slot_count(&self) -> usize {
        self.registry.slot_count()
    }

    pub fn view(&self, key: SessionKey) -> Option<View<'_>> {
        let s = self.registry.get(key)?;
        let offline = s.conn.is_none();
        Some(View {
            client_id: &s.client_id,
            expiry: s.expiry,
            offline_since_ms: offline.then_some(s.offline_since_ms),
            will: s.will.as_deref().filter(|_| offline),
            subs: s.subscriptions.iter().collect(),
            qos2_in: s
                .incoming_qos2
                .iter()
                .flat_map(|q| q.iter().copied())
                .collect(),
            inflight: s.outbound.inflight_view(),
            queue: s.outbound.queue_view(),
        })
    }

    /// Install a recovered session, offline, with its timers; subscribing
    /// its filters is the caller's (the plane tells peers). `now_ms`: shard
    /// time.
    pub fn restore(&mut self, r: Restore, now_ms: u64) -> SessionKey {
        let mut s = Session::new(r.client_id, r.expiry.max(1));
        s.offline_since_ms = now_ms;
        s.outbound.restore(r.inflight, r.queue);
        if !r.qos2_in.is_empty() {
            s.incoming_qos2 = Some(Box::new(r.qos2_in.into_iter().collect()));
        }
        let will_due = r
            .will
            .as_ref()
            .map(|w| now_ms + will_delay_secs(w) as u64 * 1000);
        s.will = r.will.map(Box::new);
        let expiry = s.expiry;
        let key = self.registry.insert(s);
        ShardMetrics::inc(&self.metrics.sessions);
        if let Some(due) = will_due {
            self.timers.schedule(key, due);
        }
        if expiry != NEVER {
            self.timers.schedule(key, now_ms + expiry as u64 * 1000);
        }
        key
    }
}
