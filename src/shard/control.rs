//! Applying what peers send on the control and data channels.

use super::messages::Control;
use super::state::Shard;
use crate::connection;
use crate::metrics::ShardMetrics;
use crate::router::route;
use crate::session::Message;
use std::rc::Rc;
use std::time::Instant;
use tracing::debug;

/// Handle one control message from shard `from`.
pub fn handle(shard: &Rc<Shard>, from: usize, msg: Control) {
    match msg {
        Control::HandOff(h) => {
            connection::serve_handoff(shard.clone(), *h);
        }
        Control::Interest { filter, add, seq } => {
            {
                let mut r = shard.router.borrow_mut();
                if add {
                    r.remote.insert(&filter, from as u16, ());
                } else {
                    r.remote.remove(&filter, &(from as u16));
                }
            }
            send(shard, from, Control::Ack { seq });
        }
        Control::Ack { seq } => shard.acks.ack(from, seq),
        Control::RetainSet { msg, seq } => {
            route::store_retained(shard, msg);
            send(shard, from, Control::Ack { seq });
        }
        Control::RetainQuery {
            filter,
            target,
            granted,
        } => {
            let msgs = route::local_retained(shard, &filter);
            if !msgs.is_empty() {
                send(
                    shard,
                    from,
                    Control::RetainReply {
                        target,
                        granted,
                        msgs,
                    },
                );
            }
        }
        Control::RetainReply {
            target,
            granted,
            msgs,
        } => route::deliver_retained(shard, target, granted, &msgs),
    }
}

/// Deliver a batch of messages published on shard `from` to local subscribers.
pub fn handle_batch(shard: &Shard, batch: Vec<Message>) {
    ShardMetrics::add(&shard.metrics.cross_shard_in, batch.len() as u64);
    let now = Instant::now();
    {
        let mut h = shard.hist.borrow_mut();
        for msg in &batch {
            h.cross_shard_hop
                .record(now.saturating_duration_since(msg.published_at));
        }
    }
    for msg in &batch {
        route::deliver_local(shard, msg);
    }
}

/// Queue a control message, counting it if the outbox is full.
pub fn send(shard: &Shard, to: usize, msg: Control) {
    if !shard.mesh.send_control(to, msg) {
        ShardMetrics::inc(&shard.metrics.control_dropped);
        debug!(shard = shard.id, to, "control outbox full: message dropped");
    }
}
