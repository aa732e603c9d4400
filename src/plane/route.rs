//! The path of a message: from a publisher (or a will) on this shard to the
//! sessions subscribed on every shard; and subscription changes, which move
//! the interest table of every peer.

use super::messages::Control;
use super::retained;
use crate::metrics::ShardMetrics;
use crate::protocol::MqttStr;
use crate::session::{Message, SessionKey, Subscribed, Subscription};
use crate::shard::Shard;

/// What [`publish`] did with a message.
#[derive(Debug, Clone, Copy, Default)]
pub struct Routed {
    /// A retained message stored by another shard: that shard and the
    /// sequence number it will acknowledge once the message is stored.
    pub stored_elsewhere: Option<(usize, u64)>,
    /// A session of this shard took it, or a peer shard has interest in
    /// its topic (MQTT 5 PUBACK 0x10 when neither).
    pub matched: bool,
}

/// Route a message published by a client of this shard (or its will).
pub fn publish(shard: &Shard, msg: Message) -> Routed {
    let stored_elsewhere = if msg.retain {
        retained::store(shard, &msg)
    } else {
        None
    };
    let local = shard.sessions.borrow_mut().publish(&msg);
    let peers = shard.router.borrow_mut().match_remote(&msg.topic);
    for &p in &peers {
        shard.mesh.send_data(p as usize, msg.clone());
    }
    ShardMetrics::add(&shard.metrics.cross_shard_out, peers.len() as u64);
    let matched = local > 0 || !peers.is_empty();
    if !matched {
        ShardMetrics::inc(&shard.metrics.dropped_no_subscriber);
    }
    shard.router.borrow_mut().give_back_shards(peers);
    Routed {
        stored_elsewhere,
        matched,
    }
}

/// Add or replace a subscription of a session of this shard; the first
/// subscriber on a filter makes every peer route it here.
pub fn subscribe(
    shard: &Shard,
    key: SessionKey,
    filter: &MqttStr,
    sub: Subscription,
) -> Subscribed {
    let r = shard.sessions.borrow_mut().subscribe(key, filter, sub);
    if matches!(
        r,
        Subscribed::Granted {
            first_on_filter: true,
            ..
        }
    ) {
        broadcast_interest(shard, filter.clone(), true);
    }
    r
}

/// Remove a subscription; false if the session did not have it.
pub fn unsubscribe(shard: &Shard, key: SessionKey, filter: &str) -> bool {
    let r = shard.sessions.borrow_mut().unsubscribe(key, filter);
    if r == Some(true) {
        broadcast_interest(shard, filter.into(), false);
    }
    r.is_some()
}

/// Filters this shard no longer subscribes to (a session ended): peers stop
/// routing them here.
pub fn forget_interest(shard: &Shard, lost: Vec<MqttStr>) {
    for f in lost {
        broadcast_interest(shard, f, false);
    }
}

fn broadcast_interest(shard: &Shard, filter: MqttStr, add: bool) {
    if shard.count == 1 {
        return;
    }
    let seq = shard.acks.stamp(shard.peers());
    for p in shard.peers() {
        let msg = Control::Interest {
            filter: filter.clone(),
            add,
            seq,
        };
        super::mesh::send_control(shard, p, msg);
    }
}
