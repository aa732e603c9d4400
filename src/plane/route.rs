//! The path of a message: from a publisher (or a will) on this shard to the
//! sessions subscribed on every shard; and subscription changes, which move
//! the interest table of every peer.

use super::messages::Control;
use super::{retained, shared};
use crate::metrics::ShardMetrics;
use crate::persist::qos2::{self, Key, Q2};
use crate::protocol::MqttStr;
use crate::router::shared::parse as parse_shared;
use crate::session::{Message, SessionKey, Subscribed, Subscription};
use crate::shard::Shard;
use tracing::debug;

/// What [`publish`] did with a message.
#[derive(Debug, Clone, Copy, Default)]
pub struct Routed {
    /// A retained message stored by another shard: that shard and the
    /// sequence number it will acknowledge once the message is stored.
    pub stored_elsewhere: Option<(usize, u64)>,
    /// A session of this shard took it, or a peer shard has interest in
    /// its topic (MQTT 5 PUBACK 0x10 when neither).
    pub matched: bool,
    /// A peer it went to cannot keep it: its durable log is unhealthy.
    pub peer_log_down: bool,
}

/// Route a message published by a client of this shard (or its will).
pub fn publish(shard: &Shard, msg: Message) -> Routed {
    publish_keyed(shard, msg, None)
}

/// [`publish`] for a persistent publisher's QoS 2 message, with its key:
/// a shard that delivered it before (the publisher re-sent it after a
/// crash) skips it (`persist/qos2.rs`).
pub fn publish_keyed(shard: &Shard, msg: Message, q2: Option<Key>) -> Routed {
    let stored_elsewhere = if msg.retain {
        retained::store(shard, &msg)
    } else {
        None
    };
    let fresh = q2.is_none_or(|k| qos2::first_time(shard, k));
    let (mut local, mut groups) = (0, 0);
    if fresh {
        local = shard.sessions.borrow_mut().publish(&msg);
        groups = shared::publish(shard, &msg);
    }
    if let (true, Some(k)) = (fresh, q2) {
        qos2::delivered(shard, k);
    }
    let peers = shard.router.borrow_mut().match_remote(&msg.topic);
    for &p in &peers {
        shard
            .mesh
            .send_data(p as usize, msg.clone(), q2.map(Q2::Deliver));
    }
    ShardMetrics::add(&shard.metrics.cross_shard_out, peers.len() as u64);
    let matched = local > 0 || !peers.is_empty() || groups > 0;
    let peer_log_down = (shard.persist.as_ref()).is_some_and(|p| p.any_peer_down(&peers));
    if !matched {
        ShardMetrics::inc(&shard.metrics.dropped_no_subscriber);
    }
    shard.router.borrow_mut().give_back_shards(peers);
    // A session here may have filled up: hold this publisher back now,
    // before its next PUBLISH is read.
    super::pressure::flush(shard);
    Routed {
        stored_elsewhere,
        matched,
        peer_log_down,
    }
}

/// Add or replace a subscription of a session of this shard; the first
/// subscriber on a filter makes every peer route it here. A `$share/`
/// filter joins its group, which every peer learns.
pub fn subscribe(
    shard: &Shard,
    key: SessionKey,
    filter: &MqttStr,
    sub: Subscription,
) -> Subscribed {
    let is_shared = match parse_shared(filter) {
        None => false,
        Some(None) => {
            debug!(%filter, "[MQTT-4.8.2-1] [MQTT-4.8.2-2] invalid shared subscription filter");
            return Subscribed::InvalidFilter;
        }
        Some(Some(_)) if sub.opts.no_local => {
            debug!(%filter, "[MQTT-3.8.3-4] no local on a shared subscription");
            return Subscribed::SharedNoLocal;
        }
        Some(Some(_)) => true,
    };
    let r = shard.sessions.borrow_mut().subscribe(key, filter, sub);
    match r {
        Subscribed::Granted { .. } if is_shared => shared::changed(shard, filter),
        Subscribed::Granted {
            first_on_filter: true,
            ..
        } => broadcast_interest(shard, filter.clone(), true),
        _ => {}
    }
    r
}

/// Remove a subscription; false if the session did not have it.
pub fn unsubscribe(shard: &Shard, key: SessionKey, filter: &str) -> bool {
    let r = shard.sessions.borrow_mut().unsubscribe(key, filter);
    if r == Some(true) {
        forget_interest(shard, vec![filter.into()]);
    }
    r.is_some()
}

/// Filters this shard no longer subscribes to (a session ended): peers stop
/// routing them here. `$share/` filters among them: their group's members
/// here changed (left, went offline, came back), and peers learn the count;
/// what an ended member still owed its groups goes to other members.
pub fn forget_interest(shard: &Shard, lost: Vec<MqttStr>) {
    for f in lost {
        if parse_shared(&f).is_some() {
            shared::changed(shard, &f);
        } else {
            broadcast_interest(shard, f, false);
        }
    }
    // After the counts changed, so the ended member is not picked. Also when
    // it had left its groups before (what it owed them is still owed).
    shared::redistribute(shard);
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
