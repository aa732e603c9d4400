//! QoS 2 exactly once across a crash. A persistent publisher's QoS 2
//! message can be durable on the subscribers' shards while its PUBREC has
//! not gone out; after a crash the publisher sends it again, and the
//! broker, which must not refuse it (a shard may have lost its copy),
//! routes it again. Each shard therefore keeps the keys (publisher,
//! packet id) of the QoS 2 messages it delivered, written in the same
//! batch as the deliveries, and skips a message whose key it has. The
//! publisher's PUBREL ends the key on every shard, through the data channel
//! so that the PUBCOMP waits until every shard has it durably forgotten: a
//! key that outlived its PUBCOMP would swallow the publisher's next message
//! with that packet id.

use super::frame::PARTITION_NONE;
use super::record::{kind, Put};
use crate::session::{Message, Origin};
use crate::shard::Shard;
use bytes::Bytes;
use std::time::Instant;

/// A persistent publisher (its partition and stream session id, unique
/// across the shards' streams) and a packet id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub publisher: u64,
    pub packet_id: u16,
}

/// What a data-channel envelope says about QoS 2.
#[derive(Debug, Clone, Copy)]
pub enum Q2 {
    /// Deliver unless this shard delivered `Key` already.
    Deliver(Key),
    /// The publisher released it (PUBREL): forget the key.
    Forget(Key),
}

/// The key of inbound QoS 2 `packet_id` of the session at `key`, if the
/// publisher is persistent (a clean one never re-sends after a crash).
pub fn key_of(shard: &Shard, session: crate::session::SessionKey, packet_id: u16) -> Option<Key> {
    let p = shard.persist.as_ref()?;
    let (sid, partition) = p.book.borrow().sid(session)?;
    Some(Key {
        publisher: (partition as u64) << 48 | sid,
        packet_id,
    })
}

/// Should this shard deliver the message with `k`? Yes once: the key is
/// kept from now on (the caller delivers, then [`delivered`]).
pub fn first_time(shard: &Shard, k: Key) -> bool {
    let Some(p) = &shard.persist else { return true };
    !p.seen.borrow().contains(&k)
}

/// The message with `k` was delivered here: keep its key, in the log right
/// behind the deliveries.
pub fn delivered(shard: &Shard, k: Key) {
    let Some(p) = &shard.persist else { return };
    p.seen.borrow_mut().insert(k);
    p.log
        .append(kind::QOS2_SEEN, PARTITION_NONE, |b| put_key(b, k));
}

/// The publisher released `k`: forget it.
pub fn forget(shard: &Shard, k: Key) {
    let Some(p) = &shard.persist else { return };
    if p.seen.borrow_mut().remove(&k) {
        p.log
            .append(kind::QOS2_FORGET, PARTITION_NONE, |b| put_key(b, k));
    }
}

/// PUBREL of a persistent publisher's QoS 2 message: every shard forgets.
pub fn released(shard: &Shard, k: Key) {
    forget(shard, k);
    for peer in (0..shard.count).filter(|&q| q != shard.id) {
        shard
            .mesh
            .send_data(peer, placeholder(), Some(Q2::Forget(k)));
    }
}

pub fn put_key(b: &mut Vec<u8>, k: Key) {
    b.u64(k.publisher);
    b.u16(k.packet_id);
}

/// The message a `Forget` envelope carries: nothing.
fn placeholder() -> Message {
    Message {
        topic: "".into(),
        payload: Bytes::new(),
        qos: crate::protocol::QoS::AtMostOnce,
        retain: false,
        properties: None,
        origin: Origin::Broker,
        published_at: Instant::now(),
    }
}
