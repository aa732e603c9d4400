//! Applying what peers send on the control and data channels.

use super::messages::{Control, Envelope};
use super::{mesh::send_control, pressure, retained, shared};
use crate::connection;
use crate::metrics::ShardMetrics;
use crate::shard::Shard;
use std::rc::Rc;
use std::time::Instant;

/// Handle one control message from shard `from`.
pub fn control(shard: &Rc<Shard>, from: usize, msg: Control) {
    match msg {
        Control::HandOff(h) => connection::serve_handoff(shard.clone(), *h),
        Control::Interest { filter, add, seq } => {
            {
                let mut r = shard.router.borrow_mut();
                if add {
                    r.remote.insert(&filter, from as u16, ());
                } else {
                    r.remote.remove(&filter, &(from as u16));
                }
            }
            send_control(shard, from, Control::Ack { seq });
        }
        Control::Share {
            name,
            filter,
            id,
            members,
            seq,
        } => {
            let mut s = shard.sessions.borrow_mut();
            s.peer_shared(from, &name, &filter, id, members);
            drop(s);
            send_control(shard, from, Control::Ack { seq });
        }
        Control::Ack { seq } => shard.acks.ack(from, seq),
        Control::RetainSet { msg, seq } => {
            retained::store_local(shard, msg);
            send_control(shard, from, Control::Ack { seq });
        }
        Control::RetainQuery {
            filter,
            target,
            sub,
        } => {
            let msgs = retained::local_matches(shard, &filter);
            if !msgs.is_empty() {
                send_control(shard, from, Control::RetainReply { target, sub, msgs });
            }
        }
        Control::RetainReply { target, sub, msgs } => {
            shard
                .sessions
                .borrow_mut()
                .deliver_retained(target, sub, &msgs);
        }
        Control::Pressure { key, pause } => pressure::apply(shard, key, pause),
    }
    pressure::flush(shard);
}

/// Deliver a batch of messages published on a peer to local subscribers.
pub fn batch(shard: &Shard, batch: Vec<Envelope>) {
    ShardMetrics::add(&shard.metrics.cross_shard_in, batch.len() as u64);
    let now = Instant::now();
    {
        let mut h = shard.hist.borrow_mut();
        for r in &batch {
            h.cross_shard_hop
                .record(now.saturating_duration_since(r.msg.published_at));
        }
    }
    for r in batch {
        match r.share {
            None => {
                shard.sessions.borrow_mut().publish(&r.msg);
            }
            Some(tag) => shared::deliver(shard, r.msg, tag),
        }
    }
    pressure::flush(shard);
}
