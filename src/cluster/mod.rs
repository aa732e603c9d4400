//! Groundwork for cluster mode on NATS (issue "A shardmq cluster on NATS",
//! `../shared/research/cluster.md`): so far only [`subject`], the mapping of
//! MQTT topics and filters onto NATS subjects. Nothing in the broker uses it
//! yet; single-node shardmq has no dependency on NATS.

pub mod subject;
