//! Routing data structures: topic rules, the subscription trie, the
//! cross-shard interest table and the retained store. No I/O and no shard
//! state: `plane/` moves messages with them, and `session/` keeps its own
//! subscription index in a [`FilterTrie`].
//!
//! Per shard: `remote` is the replicated interest table (filter → peer
//! shards with at least one subscriber); `retained` holds the retained
//! messages of the topics whose partition this shard owns.

pub mod filter_trie;
pub mod retained;
pub mod shared;
#[cfg(test)]
mod test_rng;
pub mod topic;

pub use filter_trie::{FilterTrie, InsertOutcome, RemoveOutcome};
pub use retained::{RetainedMessage, RetainedStore, SetOutcome};
pub use shared::SharedGroups;
pub use topic::{has_wildcard, matches};

/// The cross-shard routing tables of one shard.
pub struct Router {
    /// Filter → peer shards interested in it.
    pub remote: FilterTrie<u16, ()>,
    pub retained: RetainedStore,
    /// Reused per publish so matching allocates nothing in steady state.
    shards: Vec<u16>,
}

impl Default for Router {
    fn default() -> Self {
        Router {
            remote: FilterTrie::new(),
            retained: RetainedStore::default(),
            shards: Vec::new(),
        }
    }
}

impl Router {
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
