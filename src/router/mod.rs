//! Routing: topic rules, the subscription trie, the retained store.

pub mod filter_trie;
pub mod retained;
pub mod topic;
