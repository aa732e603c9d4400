//! Shards: one pinned glommio executor per core.

mod hash;
pub use hash::{owner_shard, stable_hash};
