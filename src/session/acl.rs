//! The ACL on the session side: the rules in force on this shard, the user
//! name of each session (for `%u` and its section), the read check of a
//! delivery, and the marks that let covered subscriptions skip it.
//!
//! A subscription's `acl` mark is the generation of the rules under which
//! every topic its filter matches was readable by its session's client
//! ([`crate::auth::acl::Coverage::Covered`]); 0 or an older generation means
//! each delivery is checked. After a reload every mark is stale, so nothing
//! is delivered that the new rules deny; the shard's tick re-marks the
//! subscriptions, a millisecond's worth at a time ([`Sessions::remark`]),
//! and the common case costs nothing per message again. A session resumed under
//! another user name is re-marked at once.
//!
//! The user names live beside the sessions, not in them: only brokers with
//! an `acl_file` need them, and a field would grow every session.

use super::{SessionKey, Sessions, Subscription};
use crate::auth::acl::{Access, Acl, Coverage, Who};
use crate::metrics::ShardMetrics;
use crate::protocol::MqttStr;
use crate::router::filter_trie::IntBuildHasher;
use crate::router::shared;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::debug;

/// Subscriptions judged between two looks at the clock in [`Sessions::remark`].
const CLOCK_EVERY: usize = 64;

#[derive(Default)]
pub(super) struct SessionAcl {
    rules: Option<Arc<Acl>>,
    /// Slot → (generation, user name) of sessions whose client sent one.
    users: HashMap<u32, (u32, Box<str>), IntBuildHasher>,
    /// Next slot the re-marking after a reload looks at; `None`: done.
    cursor: Option<u32>,
}

impl SessionAcl {
    fn user(&self, key: SessionKey) -> Option<&str> {
        let (generation, name) = self.users.get(&key.index)?;
        (*generation == key.generation).then_some(&**name)
    }

    /// True when `covered` (a matching subscription is marked for the rules
    /// in force), when there are no rules, or when the client may read `topic`.
    #[inline]
    pub(super) fn may_read(
        &self,
        key: SessionKey,
        client_id: &str,
        msg_topic: &str,
        covered: impl Fn(u32) -> bool,
        m: &ShardMetrics,
    ) -> bool {
        let Some(rules) = &self.rules else {
            return true;
        };
        if covered(rules.generation()) {
            return true;
        }
        let who = Who {
            client_id,
            user: self.user(key),
        };
        if rules.allows(who, msg_topic, Access::Read) {
            return true;
        }
        ShardMetrics::inc(&m.acl_denied_delivery);
        debug!(%client_id, topic = msg_topic, "ACL: not delivered, no read access");
        false
    }
}

impl Subscription {
    /// Marked covered under the rules of generation `g`.
    #[inline]
    pub(super) fn covered(&self, g: u32) -> bool {
        self.acl == g
    }
}

impl Sessions {
    /// The rules this shard enforces from now on (`None`: no `acl_file`).
    /// Every subscription is re-judged over the next ticks.
    pub fn set_acl(&mut self, rules: Option<Arc<Acl>>) {
        self.acl.cursor = rules.is_some().then_some(0);
        self.acl.rules = rules;
    }

    /// The rules in force, if there is an `acl_file`.
    pub fn acl(&self) -> Option<&Arc<Acl>> {
        self.acl.rules.as_ref()
    }

    /// Who the client of session `key` is, for the rules.
    pub fn who(&self, key: SessionKey) -> Option<Who<'_>> {
        let s = self.registry.get(key)?;
        Some(Who {
            client_id: s.client_id.as_str(),
            user: self.acl.user(key),
        })
    }

    /// May the client of session `key` do `access` on `topic`? True when
    /// there are no rules.
    pub fn acl_allows(&self, key: SessionKey, topic: &str, access: Access) -> bool {
        let Some(rules) = &self.acl.rules else {
            return true;
        };
        self.who(key)
            .is_some_and(|who| rules.allows(who, topic, access))
    }

    /// The connection of session `key` came with user name `user`. A session
    /// resumed under another name has its subscriptions judged again.
    pub fn set_user(&mut self, key: SessionKey, user: Option<&str>) {
        if self.acl.rules.is_none() || self.acl.user(key) == user {
            return;
        }
        match user {
            Some(u) => self.acl.users.insert(key.index, (key.generation, u.into())),
            None => self.acl.users.remove(&key.index),
        };
        self.remark_session(key);
    }

    /// A session ended: forget its user name.
    pub(super) fn forget_user(&mut self, key: SessionKey) {
        if self.acl.user(key).is_some() {
            self.acl.users.remove(&key.index);
        }
    }

    /// Judge `filter` (the filter of a `$share/` one) for session `key`;
    /// `None` without rules.
    pub fn judge(&self, key: SessionKey, filter: &str) -> Option<Coverage> {
        let rules = self.acl.rules.as_ref()?;
        let f = match shared::parse(filter) {
            Some(Some((_, f))) => f,
            _ => filter,
        };
        let who = self.who(key)?;
        Some(rules.subscription(who, f))
    }

    /// After a reload: re-judge subscriptions where the last call stopped,
    /// for about `budget` of time (judging scans the client's rules, so a
    /// count would not bound the stall). True while some are left.
    pub fn remark(&mut self, budget: Duration) -> bool {
        let Some(mut slot) = self.acl.cursor else {
            return false;
        };
        let started = Instant::now();
        let mut since_clock = 0;
        while (slot as usize) < self.registry.slot_count() {
            since_clock += match self.registry.key_at(slot) {
                Some(key) => self.remark_session(key).max(1),
                None => 1,
            };
            slot += 1;
            if since_clock >= CLOCK_EVERY {
                since_clock = 0;
                if started.elapsed() >= budget {
                    self.acl.cursor = Some(slot);
                    return true;
                }
            }
        }
        self.acl.cursor = None;
        false
    }

    /// Mark each subscription of session `key` for the rules in force;
    /// returns how many were judged.
    fn remark_session(&mut self, key: SessionKey) -> usize {
        let Some(s) = self.registry.get(key) else {
            return 0;
        };
        let filters: Vec<(MqttStr, Subscription)> = s
            .subscriptions
            .iter()
            .map(|(f, s)| (f.clone(), *s))
            .collect();
        let n = filters.len();
        let g = self.acl.rules.as_ref().map_or(0, |r| r.generation());
        for (filter, mut sub) in filters {
            let mark = match self.judge(key, &filter) {
                Some(Coverage::Covered) => g,
                _ => 0,
            };
            if sub.acl != mark {
                sub.acl = mark;
                self.replace_subscription(key, &filter, sub);
            }
        }
        n
    }
}
