//! Retained messages across shards. Each topic's retained message lives on
//! the shard that owns the topic's partition; a PUBLISH with RETAIN set is
//! stored there (acknowledged once stored), and a new subscription asks the
//! owner (a literal filter) or every shard (a wildcard) for matches.

use super::mesh::send_control;
use super::messages::Control;
use crate::router::{has_wildcard, RetainedMessage};
use crate::session::{Message, Origin, SessionKey, Subscription};
use crate::shard::Shard;
use std::time::Instant;

/// Shard that stores the retained message of `topic`.
pub fn owner(shard: &Shard, topic: &str) -> usize {
    shard.partitions.owner(topic.as_bytes())
}

/// Store (or delete, empty payload) a retained message on its owner shard.
/// If that is a peer, returns it and the sequence number it will ack.
pub fn store(shard: &Shard, msg: &Message) -> Option<(usize, u64)> {
    let owner = owner(shard, &msg.topic);
    if owner == shard.id {
        store_local(shard, msg.clone());
        return None;
    }
    let seq = shard.acks.stamp(std::iter::once(owner));
    let set = Control::RetainSet {
        msg: msg.clone(),
        seq,
    };
    send_control(shard, owner, set);
    Some((owner, seq))
}

/// Store or delete a retained message this shard owns.
pub fn store_local(shard: &Shard, msg: Message) {
    let mut r = shard.router.borrow_mut();
    r.retained.set(RetainedMessage {
        topic: msg.topic,
        payload: msg.payload,
        qos: msg.qos,
        properties: msg.properties,
        stored_at: Instant::now(),
    });
    shard.metrics.retained_messages.set(r.retained.len() as u64);
}

/// Retained messages on this shard matching `filter`.
pub fn local_matches(shard: &Shard, filter: &str) -> Vec<Message> {
    let mut v = Vec::new();
    shard.router.borrow().retained.for_each_match(filter, |m| {
        v.push(Message {
            topic: m.topic.clone(),
            payload: m.payload.clone(),
            qos: m.qos,
            retain: true,
            properties: m.properties.clone(),
            origin: Origin::Broker,
            published_at: Instant::now(),
        })
    });
    v
}

/// After a SUBSCRIBE: send the session every retained message matching
/// `filter`, from whichever shards hold them; none for a shared one.
pub fn send_matching(shard: &Shard, key: SessionKey, filter: &str, sub: Subscription) {
    if filter.starts_with(crate::router::shared::PREFIX) {
        return; // no retained messages on a shared subscribe (MQTT 5 §4.8.2)
    }
    let owners: Vec<usize> = if has_wildcard(filter) {
        (0..shard.count).collect()
    } else {
        vec![owner(shard, filter)]
    };
    for o in owners {
        if o == shard.id {
            let msgs = local_matches(shard, filter);
            shard
                .sessions
                .borrow_mut()
                .deliver_retained(key, sub, &msgs);
        } else {
            let query = Control::RetainQuery {
                filter: filter.into(),
                target: key,
                sub,
            };
            send_control(shard, o, query);
        }
    }
}
