//! shardmq: a thread-per-core MQTT broker on glommio.

pub mod protocol;
pub mod router;
pub mod shard;
