//! Shared subscriptions on the session side: a message for a group goes to
//! one member, picked by the publisher's shard (which shard) and then by
//! that shard (which of its members). See docs/architecture.md, "Shared
//! subscriptions".

use super::deliver::Grant;
use super::{Message, Origin, SessionKey, Sessions};
use crate::config::SharedStrategy;
use crate::metrics::ShardMetrics;
use crate::protocol::MqttStr;
use crate::router::shared::{GroupId, Members, ShareTag, PREFIX};
use std::num::NonZeroU32;
use tracing::debug;

/// What a shard did with a message tagged for one of its groups.
#[derive(Debug, PartialEq, Eq)]
pub enum SharedOutcome {
    Delivered,
    /// Its members here left: send it to this shard instead, once.
    PassOn(usize, ShareTag),
    /// No member left anywhere this shard knows of (counted).
    Dropped,
}

impl Sessions {
    /// Record this shard's members of group (name, filter) as they are now
    /// and return them with this shard's id for the group, for peers.
    pub fn refresh_shared(&mut self, name: &str, filter: &str) -> (GroupId, Members) {
        let mut m = Members::default();
        for slot in self.shared.local_members(name, filter) {
            m.total += 1;
            m.online += self.registry.by_index(slot).is_some_and(|s| s.connected()) as u32;
        }
        let me = self.shard as usize;
        (self.shared.set_members(me, name, filter, 0, m), m)
    }

    /// Shard `from` has `m` members of group (name, filter), its id `id`.
    pub fn peer_shared(&mut self, from: usize, name: &str, filter: &str, id: GroupId, m: Members) {
        self.shared.set_members(from, name, filter, id, m);
    }

    /// Deliveries by group name (bounded), for the metrics board.
    pub fn shared_counters(&self) -> Vec<(String, u64)> {
        let c = self.shared.counters();
        c.map(|(n, v)| (n.to_string(), v)).collect()
    }

    /// A session's `$share/` filters: when it goes offline or comes back,
    /// its groups' online counts change.
    pub(super) fn shared_filters(&self, key: SessionKey) -> Vec<MqttStr> {
        let Some(s) = self.registry.get(key) else {
            return Vec::new();
        };
        let shared = s.subscriptions.keys().filter(|f| f.starts_with(PREFIX));
        shared.cloned().collect()
    }

    /// Give a message published on this shard to one member of each
    /// matching group: delivered here, or pushed onto `remote` as the shard
    /// that should deliver it and the tag to send. Returns the groups served.
    pub fn publish_shared(&mut self, msg: &Message, remote: &mut Vec<(usize, ShareTag)>) -> usize {
        if self.shared.is_empty() {
            return 0;
        }
        let mut hit = std::mem::take(&mut self.groups_hit);
        hit.clear();
        self.shared.matches(&msg.topic, &mut hit);
        let hint = if hit.is_empty() {
            0
        } else {
            self.sticky_hint(msg)
        };
        let me = self.shard as usize;
        let mut served = 0;
        for &id in &hit {
            match self.shared.pick_shard(id, hint, None) {
                Some((s, _)) if s == me => served += self.deliver_local(id, hint, msg) as usize,
                Some((s, group)) => {
                    let rerouted = false;
                    remote.push((
                        s,
                        ShareTag {
                            group,
                            hint,
                            rerouted,
                        },
                    ));
                    served += 1;
                }
                None => self.no_member(id),
            }
        }
        self.groups_hit = hit;
        served
    }

    /// Shared-group messages left unacknowledged by sessions that ended
    /// (see `Pending::share`): each goes to another member of its group,
    /// here or, pushed onto `remote` with its tag, on a peer.
    pub fn redistribute(&mut self, remote: &mut Vec<(usize, ShareTag, Message)>) {
        if self.orphans.is_empty() {
            return;
        }
        let me = self.shard as usize;
        for (id, msg) in std::mem::take(&mut self.orphans) {
            match self.shared.pick_shard(id, 0, None) {
                Some((s, _)) if s == me && self.deliver_local(id, 0, &msg) => {}
                Some((s, group)) if s != me => {
                    let tag = ShareTag {
                        group,
                        hint: 0,
                        rerouted: false,
                    };
                    remote.push((s, tag, msg));
                }
                _ => self.no_member(id),
            }
        }
    }

    /// A message a peer picked this shard for (tagged with our group id).
    pub fn deliver_shared(&mut self, msg: &Message, tag: ShareTag) -> SharedOutcome {
        if self.deliver_local(tag.group, tag.hint, msg) {
            return SharedOutcome::Delivered;
        }
        // Its members here left while the message was on its way.
        let me = Some(self.shard as usize);
        if !tag.rerouted {
            if let Some((s, group)) = self.shared.pick_shard(tag.group, tag.hint, me) {
                let tag = ShareTag {
                    group,
                    rerouted: true,
                    ..tag
                };
                return SharedOutcome::PassOn(s, tag);
            }
        }
        self.no_member(tag.group);
        SharedOutcome::Dropped
    }

    fn no_member(&mut self, id: GroupId) {
        ShardMetrics::inc(&self.metrics.dropped_shared_no_member);
        let group = self
            .shared
            .describe(id)
            .map(|(n, _)| n.as_str())
            .unwrap_or("?");
        debug!(
            group,
            "shared subscription: no member left for a message; dropped"
        );
    }

    /// One of this shard's members of group `id` gets `msg`, at its granted
    /// QoS; false if the group has none here.
    fn deliver_local(&mut self, id: GroupId, hint: u32, msg: &Message) -> bool {
        let registry = &self.registry;
        let online = |slot| registry.by_index(slot).is_some_and(|s| s.connected());
        let Some(p) = self.shared.pick_local(id, hint, online) else {
            return false;
        };
        let Some((key, s)) = self.registry.by_index_mut(p.slot) else {
            return false;
        };
        // Denied for the member picked: dropped, as Mosquitto does (counted).
        let covered = |g| p.sub.covered(g);
        if !self
            .acl
            .may_read(key, &s.client_id, &msg.topic, covered, &self.metrics)
        {
            return true;
        }
        let g = Grant {
            qos: msg.qos.min(p.sub.opts.qos),
            retain: p.sub.opts.retain_as_published && msg.retain,
            share: Some(id),
        };
        let id = p.sub.id.map(NonZeroU32::get);
        self.deliver(key, msg, g, id.as_slice());
        true
    }

    /// The sticky strategy's key: the publisher's client ID, hashed
    /// (FNV-1a). Only the publisher's shard knows it; 0 for the broker.
    fn sticky_hint(&self, msg: &Message) -> u32 {
        if self.shared.strategy() != SharedStrategy::Sticky {
            return 0;
        }
        let Origin::Session { shard, key } = msg.origin else {
            return 0;
        };
        let Some(s) = self.registry.get(key).filter(|_| shard == self.shard) else {
            return 0;
        };
        s.client_id.as_bytes().iter().fold(0x811c_9dc5u32, |h, &b| {
            (h ^ b as u32).wrapping_mul(0x0100_0193)
        })
    }
}
