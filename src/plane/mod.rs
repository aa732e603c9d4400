//! The message plane: how a message and the shard-to-shard traffic around
//! it move. Sending to a peer, receiving its batches and applying them live
//! here together.
//!
//! - `route.rs`: a PUBLISH (or a will) from this shard to every matching
//!   session on every shard, and subscription changes with the interest
//!   broadcast they cause.
//! - `retained.rs`: retained messages on their owner shard: store, query on
//!   subscribe, replies.
//! - `mesh.rs`: the bounded channels between shards, the per-peer outboxes,
//!   the sender tasks and the receiver tasks.
//! - `apply.rs`: what a shard does with what its peers send.
//! - `shared.rs`: shared subscription groups across shards (member counts,
//!   which shard delivers a group's message).
//! - `acks.rs`: acknowledged control messages (SUBACK after interest,
//!   PUBACK after a remote retained store).
//! - `messages.rs`: what shards say to each other.
//! - `pressure.rs`: back-pressure signals carried to publishers' shards,
//!   and the publishers held back on this one.

pub mod acks;
mod apply;
pub mod mesh;
pub mod messages;
pub(crate) mod notify;
pub mod pressure;
pub mod retained;
pub mod route;
mod shared;
#[cfg(test)]
mod tests;

pub use mesh::Mesh;
pub use notify::{Notify, WaitList};
pub use route::{forget_interest, publish, publish_keyed, subscribe, unsubscribe};
