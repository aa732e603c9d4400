//! Retained messages across shards. Each topic's retained message lives on
//! the shard that owns the topic's partition; a PUBLISH with RETAIN set is
//! stored there (acknowledged once stored), and a new subscription asks the
//! owner (a literal filter) or every shard (a wildcard) for matches.

use super::mesh::send_control;
use super::messages::Control;
use crate::metrics::ShardMetrics;
use crate::router::{has_wildcard, RetainedMessage, SetOutcome};
use crate::session::{with_expiry, Message, Origin, SessionKey, Subscription};
use crate::shard::Shard;
use bytes::Bytes;
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

/// Store or delete a retained message this shard owns. `stored_at` is when
/// it was published: its expiry interval counts from then.
pub fn store_local(shard: &Shard, msg: Message) {
    let m = RetainedMessage {
        topic: msg.topic,
        payload: msg.payload,
        qos: msg.qos,
        properties: msg.properties,
        stored_at: msg.published_at,
    };
    // The log hears it in the same call; a deletion only if there was
    // something to delete.
    let persist = shard.persist.as_ref();
    let deleting = persist.and(m.payload.is_empty().then(|| m.topic.clone()));
    if let Some(p) = persist.filter(|_| !m.payload.is_empty()) {
        crate::persist::snapshot::retained(&p.book.borrow(), &m);
    }
    let mut r = shard.router.borrow_mut();
    let outcome = r.retained.set(m);
    shard.metrics.retained_messages.set(r.retained.len() as u64);
    if let (SetOutcome::Deleted, Some(p), Some(topic)) = (outcome, persist, deleting) {
        crate::persist::snapshot::unretained(&p.book.borrow(), &topic);
    }
}

/// A stored retained message as a message (RETAIN set, the broker as its
/// origin, published when it was stored).
pub fn as_message(m: &RetainedMessage) -> Message {
    Message {
        topic: m.topic.clone(),
        payload: m.payload.clone(),
        qos: m.qos,
        retain: true,
        properties: m.properties.clone(),
        origin: Origin::Broker,
        published_at: m.stored_at,
    }
}

/// Retained messages on this shard matching `filter`, their expiry
/// interval reduced by the time they were stored [MQTT-3.3.2-6]; expired
/// ones are deleted instead [MQTT-3.3.2-5].
pub fn local_matches(shard: &Shard, filter: &str) -> Vec<Message> {
    let now = Instant::now();
    let (mut v, mut expired) = (Vec::new(), Vec::new());
    shard.router.borrow().retained.for_each_match(filter, |m| {
        let mut msg = as_message(m);
        match msg.remaining_secs(now) {
            Some(0) => return expired.push(msg),
            Some(left) if left != msg.expiry_secs().unwrap_or(0) => {
                let p = msg.properties.as_deref().expect("has an expiry");
                msg.properties = Some(std::sync::Arc::new(with_expiry(p, left)));
            }
            _ => {}
        }
        // From now on it is a new delivery: its latency starts here.
        msg.published_at = now;
        v.push(msg)
    });
    ShardMetrics::add(&shard.metrics.messages_expired, expired.len() as u64);
    for mut m in expired {
        m.payload = Bytes::new(); // an empty payload deletes
        store_local(shard, m);
    }
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
