//! Routing: topic rules, the subscription trie, the retained store.

pub mod filter_trie;
pub mod retained;
pub mod topic;

pub use filter_trie::{FilterTrie, InsertOutcome, RemoveOutcome};
pub use retained::{RetainedMessage, RetainedStore, SetOutcome};
pub use topic::{has_wildcard, matches};
