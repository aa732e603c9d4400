//! Applying what peers send on the control and data channels.

use super::messages::{Control, Envelope};
use super::{mesh::send_control, pressure, retained, shared};
use crate::connection;
use crate::metrics::ShardMetrics;
use crate::persist::qos2::{self, Q2};
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
            match shard.persist.as_ref().filter(|p| p.always) {
                // The publisher's PUBACK waits for this: only once on disk.
                Some(p) => {
                    let s = shard.clone();
                    p.log.on_settled(Box::new(move |_| {
                        s.mesh.send_control_always(from, Control::Ack { seq })
                    }));
                }
                None => send_control(shard, from, Control::Ack { seq }),
            }
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
        Control::LogHealth { healthy } => {
            if let Some(p) = &shard.persist {
                p.set_peer_health(from, healthy);
            }
        }
        Control::Durable { upto, lost } => {
            if let Some(p) = &shard.persist {
                p.points.confirm(from, upto, lost);
            }
        }
    }
    pressure::flush(shard);
}

/// Deliver a batch of messages published on peer `from` to local subscribers.
pub fn batch(shard: &Rc<Shard>, from: usize, batch: Vec<Envelope>) {
    let n = batch.len() as u64;
    ShardMetrics::add(&shard.metrics.cross_shard_in, n);
    let now = Instant::now();
    {
        let mut h = shard.hist.borrow_mut();
        for r in &batch {
            h.cross_shard_hop
                .record(now.saturating_duration_since(r.msg.published_at));
        }
    }
    for r in batch {
        match (r.q2, r.share) {
            (Some(Q2::Forget(k)), _) => qos2::forget(shard, k),
            (Some(Q2::Deliver(k)), _) => {
                if qos2::first_time(shard, k) {
                    shard.sessions.borrow_mut().publish(&r.msg);
                    qos2::delivered(shard, k);
                }
            }
            (None, None) => {
                shard.sessions.borrow_mut().publish(&r.msg);
            }
            (None, Some(tag)) => shared::deliver(shard, r.msg, tag),
        }
    }
    pressure::flush(shard);
    crate::persist::durable::confirm_to(shard, from, n);
}
