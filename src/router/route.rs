//! The path of a message: from a publisher (or a will) on one shard to the
//! sessions subscribed on every shard, and the retained-message traffic.

use super::retained::RetainedMessage;
use super::topic::has_wildcard;
use crate::metrics::ShardMetrics;
use crate::protocol::{MqttStr, QoS};
use crate::session::{Message, SessionKey};
use crate::shard::control::send;
use crate::shard::messages::Control;
use crate::shard::{owner_shard, Shard};
use std::time::Instant;

/// Shard that stores the retained message of `topic`: the same stable hash
/// that places client IDs.
pub fn retained_owner(shard: &Shard, topic: &str) -> usize {
    owner_shard(topic.as_bytes(), shard.count)
}

/// Route a message published by a client of this shard (or its will).
/// For a retained message stored by another shard, returns that shard and
/// the sequence number it will acknowledge once the message is stored.
pub fn publish(shard: &Shard, mut msg: Message) -> Option<(usize, u64)> {
    let mut pending = None;
    if msg.retain {
        let owner = retained_owner(shard, &msg.topic);
        if owner == shard.id {
            store_retained(shard, msg.clone());
        } else {
            let seq = shard.acks.stamp(std::iter::once(owner));
            send(
                shard,
                owner,
                Control::RetainSet {
                    msg: msg.clone(),
                    seq,
                },
            );
            pending = Some((owner, seq));
        }
        // Live deliveries do not carry the flag [MQTT-3.3.1-9].
        msg.retain = false;
    }
    let local = deliver_local(shard, &msg);
    let peers = shard.router.borrow_mut().match_remote(&msg.topic);
    for &p in &peers {
        shard.mesh.send_data(p as usize, msg.clone());
    }
    ShardMetrics::add(&shard.metrics.cross_shard_out, peers.len() as u64);
    if local == 0 && peers.is_empty() {
        ShardMetrics::inc(&shard.metrics.dropped_no_subscriber);
    }
    shard.router.borrow_mut().give_back_shards(peers);
    pending
}

/// Deliver to this shard's subscribers; returns how many sessions matched.
pub fn deliver_local(shard: &Shard, msg: &Message) -> usize {
    let matches = shard.router.borrow_mut().match_local(&msg.topic);
    let n = matches.len();
    if n > 0 {
        let mut sessions = shard.sessions.borrow_mut();
        for &(index, granted) in &matches {
            if let Some(s) = sessions.by_index_mut(index) {
                s.deliver(msg, msg.qos.min(granted), &shard.cfg.limits, &shard.metrics);
            }
        }
    }
    shard.router.borrow_mut().give_back(matches);
    n
}

/// Add or replace a subscription of a session of this shard.
pub fn subscribe(shard: &Shard, key: SessionKey, filter: MqttStr, granted: QoS) {
    let first = shard
        .router
        .borrow_mut()
        .local
        .insert(&filter, key.index, granted)
        .first_on_filter;
    if let Some(s) = shard.sessions.borrow_mut().get_mut(key) {
        if s.subscriptions.insert(filter.clone(), granted).is_none() {
            ShardMetrics::add(&shard.metrics.subscriptions, 1);
        }
    }
    if first {
        broadcast_interest(shard, filter, true);
    }
}

/// Remove a subscription; false if the session did not have it.
pub fn unsubscribe(shard: &Shard, key: SessionKey, filter: &str) -> bool {
    let had = shard
        .sessions
        .borrow_mut()
        .get_mut(key)
        .and_then(|s| s.subscriptions.remove(filter))
        .is_some();
    if had {
        ShardMetrics::dec(&shard.metrics.subscriptions);
        let out = shard.router.borrow_mut().local.remove(filter, &key.index);
        if out.filter_now_empty {
            broadcast_interest(shard, filter.into(), false);
        }
    }
    had
}

/// Remove every subscription of a session that is going away.
pub fn unsubscribe_all(shard: &Shard, key: SessionKey) {
    let filters: Vec<MqttStr> = match shard.sessions.borrow().get(key) {
        Some(s) => s.subscriptions.keys().cloned().collect(),
        None => return,
    };
    for f in filters {
        unsubscribe(shard, key, &f);
    }
}

fn broadcast_interest(shard: &Shard, filter: MqttStr, add: bool) {
    if shard.count == 1 {
        return;
    }
    let seq = shard.acks.stamp(shard.peers());
    for p in shard.peers() {
        send(
            shard,
            p,
            Control::Interest {
                filter: filter.clone(),
                add,
                seq,
            },
        );
    }
}

/// Store or delete (empty payload) a retained message this shard owns.
pub fn store_retained(shard: &Shard, msg: Message) {
    let mut r = shard.router.borrow_mut();
    r.retained.set(RetainedMessage {
        topic: msg.topic,
        payload: msg.payload,
        qos: msg.qos,
        stored_at: Instant::now(),
    });
    shard.metrics.retained_messages.set(r.retained.len() as u64);
}

/// Retained messages on this shard matching `filter`.
pub fn local_retained(shard: &Shard, filter: &str) -> Vec<Message> {
    let mut v = Vec::new();
    shard.router.borrow().retained.for_each_match(filter, |m| {
        v.push(Message {
            topic: m.topic.clone(),
            payload: m.payload.clone(),
            qos: m.qos,
            retain: true,
            published_at: Instant::now(),
        })
    });
    v
}

/// After a SUBSCRIBE: send the session every retained message matching
/// `filter`, from whichever shards hold them.
pub fn send_retained(shard: &Shard, key: SessionKey, filter: &MqttStr, granted: QoS) {
    let owners: Vec<usize> = if has_wildcard(filter) {
        (0..shard.count).collect()
    } else {
        vec![retained_owner(shard, filter)]
    };
    for owner in owners {
        if owner == shard.id {
            let msgs = local_retained(shard, filter);
            deliver_retained(shard, key, granted, &msgs);
        } else {
            send(
                shard,
                owner,
                Control::RetainQuery {
                    filter: filter.clone(),
                    target: key,
                    granted,
                },
            );
        }
    }
}

/// Deliver retained messages to one session (if it still exists).
pub fn deliver_retained(shard: &Shard, key: SessionKey, granted: QoS, msgs: &[Message]) {
    let mut sessions = shard.sessions.borrow_mut();
    let Some(s) = sessions.get_mut(key) else {
        return;
    };
    for m in msgs {
        s.deliver(m, m.qos.min(granted), &shard.cfg.limits, &shard.metrics);
    }
}
