//! Routing: topic rules, the subscription trie, the cross-shard interest
//! table, the retained store, and the functions that move a message from a
//! publisher to every subscriber.
//!
//! Per shard: `local` maps filters to this shard's sessions; `remote` is the
//! replicated interest table (filter → peer shards with at least one
//! subscriber); `retained` holds the retained messages of the topics whose
//! hash this shard owns.

pub mod filter_trie;
pub mod retained;
pub mod route;
#[cfg(test)]
mod test_rng;
pub mod topic;

pub use filter_trie::{FilterTrie, InsertOutcome, RemoveOutcome};
pub use retained::{RetainedMessage, RetainedStore, SetOutcome};
pub use topic::{has_wildcard, matches};

use crate::protocol::QoS;

/// The routing tables of one shard.
pub struct Router {
    /// Filter → (session slot index, granted QoS).
    pub local: FilterTrie<u32, QoS>,
    /// Filter → peer shards interested in it.
    pub remote: FilterTrie<u16, ()>,
    pub retained: RetainedStore,
    /// Reused per publish so matching allocates nothing in steady state.
    matches: Vec<(u32, QoS)>,
    shards: Vec<u16>,
}

impl Default for Router {
    fn default() -> Self {
        Router {
            local: FilterTrie::new(),
            remote: FilterTrie::new(),
            retained: RetainedStore::default(),
            matches: Vec::new(),
            shards: Vec::new(),
        }
    }
}

impl Router {
    /// Local sessions matching `topic`, one entry per session at the highest
    /// QoS granted by any of its matching filters. Return the vector with
    /// [`Router::give_back`] so its capacity is reused.
    pub fn match_local(&mut self, topic: &str) -> Vec<(u32, QoS)> {
        let mut m = std::mem::take(&mut self.matches);
        m.clear();
        self.local.for_each_match(topic, |k, q| m.push((*k, *q)));
        if m.len() > 1 {
            // Overlapping filters of one session: one copy, highest QoS.
            m.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            m.dedup_by_key(|e| e.0);
        }
        m
    }

    pub fn give_back(&mut self, m: Vec<(u32, QoS)>) {
        self.matches = m;
    }

    /// Peer shards with an interest in `topic`, each once.
    pub fn match_remote(&mut self, topic: &str) -> Vec<u16> {
        let mut s = std::mem::take(&mut self.shards);
        s.clear();
        if self.remote.is_empty() {
            // One shard, or no peer subscribes to anything: skip the walk.
            return s;
        }
        self.remote.for_each_match(topic, |k, _| s.push(*k));
        s.sort_unstable();
        s.dedup();
        s
    }

    pub fn give_back_shards(&mut self, s: Vec<u16>) {
        self.shards = s;
    }
}
