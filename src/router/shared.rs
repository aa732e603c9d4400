//! Shared subscriptions (`$share/GROUP/FILTER`, MQTT 5 §4.8.2; also taken
//! from 3.1.1 clients) as plain data: parsing, the groups one shard knows
//! of, and the pickers that choose one member per message.
//!
//! Every shard keeps, per group (name, filter), the members on each shard
//! (online and total counts; peers' counts arrive over the mesh) and its own
//! members by session slot. A message is placed by the publisher's shard,
//! which picks a shard weighted by its member count; that shard picks one
//! of its own members. No I/O here: `session/shared.rs` delivers with it,
//! `plane/shared.rs` keeps the counts in step across shards.

use super::FilterTrie;
use crate::config::SharedStrategy;
use crate::protocol::MqttStr;
use std::collections::HashMap;

#[cfg(test)]
#[path = "shared_tests.rs"]
mod tests;

pub const PREFIX: &str = "$share/";

/// A group as one shard numbers it; never reused, so a message tagged with
/// the id of a group that went away finds nothing rather than another group.
pub type GroupId = u32;

/// Deliveries are counted per group name for at most this many names per
/// shard; the rest go to one `_other` series (bounded label cardinality).
pub const COUNTED_GROUPS: usize = 64;

/// Split `$share/NAME/FILTER`: `None` if `filter` is not a shared one,
/// `Some(None)` if it is but NAME is empty or holds `/`, `+` or `#`
/// [MQTT-4.8.2-1/-2], or no filter follows.
pub fn parse(filter: &str) -> Option<Option<(&str, &str)>> {
    let rest = filter.strip_prefix(PREFIX)?;
    Some(match rest.split_once('/') {
        Some((name, f)) if !name.is_empty() && !name.contains(['+', '#']) && !f.is_empty() => {
            Some((name, f))
        }
        _ => None,
    })
}

/// What a message sent to a peer for a shared group carries: the group as
/// that peer numbers it, the sticky hint, and whether a shard already
/// passed it on (it is passed on at most once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareTag {
    pub group: GroupId,
    pub hint: u32,
    pub rerouted: bool,
}

/// Members of a group on one shard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Members {
    /// Members whose session has a connection.
    pub online: u32,
    pub total: u32,
}

#[derive(Debug, Clone, Copy, Default)]
struct OnShard {
    /// That shard's id for the group (the tag of messages sent there).
    id: GroupId,
    m: Members,
}

struct Group<M> {
    name: MqttStr,
    filter: MqttStr,
    /// Members on this shard: session slot and subscription.
    local: Vec<(u32, M)>,
    local_next: usize,
    /// Per shard, this one included.
    shards: Vec<OnShard>,
    next: u64,
    /// Index into [`SharedGroups::counters`].
    counter: usize,
}

impl<M> Group<M> {
    /// Members of shard `s` as a pick counts them: none for `except`, and
    /// this shard's own as they are now (its recorded entry may lag).
    fn members(&self, s: usize, me: usize, except: Option<usize>) -> Members {
        let m = self.shards.get(s).map_or(Members::default(), |o| o.m);
        if Some(s) == except {
            Members::default()
        } else if s == me {
            Members {
                total: self.local.len() as u32,
                online: m.online.min(self.local.len() as u32),
            }
        } else {
            m
        }
    }

    fn weight(&self, s: usize, me: usize, except: Option<usize>, online: bool) -> u64 {
        let m = self.members(s, me, except);
        if online {
            m.online as u64
        } else {
            m.total as u64
        }
    }
}

/// The shared groups one shard knows of. `M` is what a member's
/// subscription carries (its options).
pub struct SharedGroups<M> {
    me: usize,
    strategy: SharedStrategy,
    groups: HashMap<GroupId, Group<M>>,
    by_name: HashMap<(MqttStr, MqttStr), GroupId>,
    trie: FilterTrie<GroupId, ()>,
    next_id: GroupId,
    rng: u64,
    /// Deliveries by group name, bounded by [`COUNTED_GROUPS`] + `_other`.
    counters: Vec<(MqttStr, u64)>,
}

/// A local member picked for a message.
pub struct Picked<M> {
    pub slot: u32,
    pub sub: M,
}

impl<M: Copy> SharedGroups<M> {
    pub fn new(me: usize, strategy: SharedStrategy) -> Self {
        SharedGroups {
            me,
            strategy,
            groups: HashMap::new(),
            by_name: HashMap::new(),
            trie: FilterTrie::new(),
            next_id: 0,
            rng: 0x9E37_79B9_7F4A_7C15 ^ me as u64,
            counters: Vec::new(),
        }
    }

    /// No group at all: the publish path skips everything.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    pub fn strategy(&self) -> SharedStrategy {
        self.strategy
    }

    fn id_or_insert(&mut self, name: &str, filter: &str) -> GroupId {
        let k = (MqttStr::from(name), MqttStr::from(filter));
        if let Some(&id) = self.by_name.get(&k) {
            return id;
        }
        self.next_id = self.next_id.wrapping_add(1);
        let id = self.next_id;
        self.trie.insert(filter, id, ());
        let counter = self.counter_for(&k.0);
        let g = Group {
            name: k.0.clone(),
            filter: k.1.clone(),
            local: Vec::new(),
            local_next: 0,
            shards: Vec::new(),
            next: 0,
            counter,
        };
        self.groups.insert(id, g);
        self.by_name.insert(k, id);
        id
    }

    fn counter_for(&mut self, name: &MqttStr) -> usize {
        if let Some(i) = self.counters.iter().position(|(n, _)| n == name) {
            return i;
        }
        if self.counters.len() < COUNTED_GROUPS {
            self.counters.push((name.clone(), 0));
            return self.counters.len() - 1;
        }
        if self.counters.len() == COUNTED_GROUPS {
            self.counters.push((MqttStr::from("_other"), 0));
        }
        COUNTED_GROUPS
    }

    /// Add (or replace the options of) a member on this shard; true if new.
    pub fn join(&mut self, name: &str, filter: &str, slot: u32, sub: M) -> bool {
        let id = self.id_or_insert(name, filter);
        let g = self.groups.get_mut(&id).expect("just inserted");
        match g.local.iter_mut().find(|(s, _)| *s == slot) {
            Some(e) => {
                e.1 = sub;
                false
            }
            None => {
                g.local.push((slot, sub));
                true
            }
        }
    }

    /// Remove a member on this shard; true if it was one.
    pub fn leave(&mut self, name: &str, filter: &str, slot: u32) -> bool {
        let k = (MqttStr::from(name), MqttStr::from(filter));
        let Some(g) = self.by_name.get(&k).and_then(|id| self.groups.get_mut(id)) else {
            return false;
        };
        let before = g.local.len();
        g.local.retain(|(s, _)| *s != slot);
        before != g.local.len()
    }

    /// This shard's members of a group (to count the online ones).
    pub fn local_members(&self, name: &str, filter: &str) -> impl Iterator<Item = u32> + '_ {
        let k = (MqttStr::from(name), MqttStr::from(filter));
        let g = self.by_name.get(&k).and_then(|id| self.groups.get(id));
        g.into_iter().flat_map(|g| g.local.iter().map(|(s, _)| *s))
    }

    /// Record the members `shard` has in group (name, filter), and its id for
    /// it; this shard's own entry too (`shard == me`, `id` ignored). Returns
    /// this shard's id for the group, which is forgotten once no shard has
    /// a member left.
    pub fn set_members(
        &mut self,
        shard: usize,
        name: &str,
        filter: &str,
        id: GroupId,
        m: Members,
    ) -> GroupId {
        let own = self.id_or_insert(name, filter);
        let g = self.groups.get_mut(&own).expect("present");
        if g.shards.len() <= shard.max(self.me) {
            g.shards.resize(shard.max(self.me) + 1, OnShard::default());
        }
        let id = if shard == self.me { own } else { id };
        g.shards[shard] = OnShard { id, m };
        if g.local.is_empty() && g.shards.iter().all(|s| s.m.total == 0) {
            self.groups.remove(&own);
            self.by_name.remove(&(name.into(), filter.into()));
            self.trie.remove(filter, &own);
        }
        own
    }

    /// Groups whose filter matches `topic`.
    pub fn matches(&self, topic: &str, out: &mut Vec<GroupId>) {
        self.trie.for_each_match(topic, |id, _| out.push(*id));
    }

    /// The shard that should deliver a message of group `id`, and that
    /// shard's id for the group. Weighted by member count, online members
    /// preferred: offline members get messages only when no shard has an
    /// online one. `except` is left out (a shard passing a message on).
    pub fn pick_shard(
        &mut self,
        id: GroupId,
        hint: u32,
        except: Option<usize>,
    ) -> Option<(usize, GroupId)> {
        let me = self.me;
        let g = self.groups.get_mut(&id)?;
        let n = g.shards.len().max(me + 1);
        let online = (0..n).any(|s| g.members(s, me, except).online > 0);
        let total: u64 = (0..n).map(|s| g.weight(s, me, except, online)).sum();
        if total == 0 {
            return None;
        }
        let mut i = match self.strategy {
            SharedStrategy::RoundRobin => {
                g.next = g.next.wrapping_add(1);
                g.next % total
            }
            SharedStrategy::Random => next_rand(&mut self.rng) % total,
            SharedStrategy::Sticky => hint as u64 % total,
        };
        for s in 0..n {
            let w = g.weight(s, me, except, online);
            if i < w {
                let their = if s == me { id } else { g.shards[s].id };
                return Some((s, their));
            }
            i -= w;
        }
        unreachable!("i < total")
    }

    /// One member of group `id` on this shard, online ones preferred; the
    /// delivery is counted for the group. `None` if it has none here.
    pub fn pick_local(
        &mut self,
        id: GroupId,
        hint: u32,
        online: impl Fn(u32) -> bool,
    ) -> Option<Picked<M>> {
        let g = self.groups.get_mut(&id)?;
        let n = g.local.len();
        if n == 0 {
            return None;
        }
        let start = match self.strategy {
            SharedStrategy::RoundRobin => {
                g.local_next = (g.local_next + 1) % n;
                g.local_next
            }
            SharedStrategy::Random => (next_rand(&mut self.rng) % n as u64) as usize,
            SharedStrategy::Sticky => hint as usize % n,
        };
        let i = (0..n)
            .map(|k| (start + k) % n)
            .find(|&i| online(g.local[i].0))
            .unwrap_or(start);
        self.counters[g.counter].1 += 1;
        let (slot, sub) = g.local[i];
        Some(Picked { slot, sub })
    }

    /// Deliveries by group name (bounded), for metrics.
    pub fn counters(&self) -> impl Iterator<Item = (&str, u64)> {
        self.counters.iter().map(|(n, c)| (n.as_str(), *c))
    }

    /// Name and filter of a group this shard knows.
    pub fn describe(&self, id: GroupId) -> Option<(&MqttStr, &MqttStr)> {
        self.groups.get(&id).map(|g| (&g.name, &g.filter))
    }
}

/// xorshift64: the `random` strategy needs spread, not quality.
fn next_rand(s: &mut u64) -> u64 {
    let mut x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    x
}
