//! What shards say to each other.

use crate::protocol::{Connect, MqttStr};
use crate::router::shared::{GroupId, Members, ShareTag};
use crate::session::{Message, SessionKey, Subscription};
use crate::transport::Detached;

/// Published messages bound for one shard, in publish order.
pub type Batch = Vec<Envelope>;

/// A message on the data channel: for every matching subscriber on the
/// receiving shard, or (`share`) for one member of one shared group there.
#[derive(Debug)]
pub struct Envelope {
    pub msg: Message,
    pub share: Option<ShareTag>,
    /// A QoS 2 message of a persistent publisher, or the end of one
    /// (`persist/qos2.rs`); `None` for everything else.
    pub q2: Option<crate::persist::qos2::Q2>,
}

/// A socket whose CONNECT named a client ID owned by another shard.
#[derive(Debug)]
pub struct HandOff {
    /// The connection's transport, off the sender's ring; the receiver
    /// attaches it to its own. Dropped undelivered, it closes the socket.
    pub conn: Detached,
    pub connect: Connect,
    /// Application bytes read past the CONNECT (clients may pipeline).
    pub rest: Vec<u8>,
    pub arrival: crate::connection::Arrival,
}

/// Control traffic between shards: rare, latency-sensitive, kept apart from
/// the bulk data channel.
#[derive(Debug)]
pub enum Control {
    HandOff(Box<HandOff>),
    /// The sender gained its first (`add`) or lost its last subscriber on `filter`.
    Interest {
        filter: MqttStr,
        add: bool,
        seq: u64,
    },
    /// The sender now has `members` in shared group (name, filter), which
    /// it numbers `id` (the tag of messages for that group sent to it).
    Share {
        name: MqttStr,
        filter: MqttStr,
        id: GroupId,
        members: Members,
        seq: u64,
    },
    /// The receiver has applied the sender's sequenced messages up to `seq`.
    Ack {
        seq: u64,
    },
    /// Store (or, with an empty payload, delete) a retained message on its
    /// owner shard, then acknowledge `seq`.
    RetainSet {
        msg: Message,
        seq: u64,
    },
    /// Send back the retained messages matching `filter`.
    RetainQuery {
        filter: MqttStr,
        target: SessionKey,
        sub: Subscription,
    },
    RetainReply {
        target: SessionKey,
        sub: Subscription,
        msgs: Vec<Message>,
    },
    /// A session of the sender holds the receiver's publisher `key` back
    /// (`pause`) or lets it go (`plane/pressure.rs`).
    Pressure {
        key: SessionKey,
        pause: bool,
    },
    /// With `fsync = "always"`: the sender applied the receiver's first
    /// `upto` messages and made what they caused durable (`lost`: a write
    /// failed on the way, `persist/durable.rs`).
    Durable {
        upto: u64,
        lost: bool,
    },
    /// The sender's durable log turned unhealthy (a write failed, the disk
    /// is full) or healthy again: QoS 1/2 messages routed to it are
    /// refused meanwhile.
    LogHealth {
        healthy: bool,
    },
}
