//! A shard installs its recovered image: sessions offline with their
//! queues, in-flight messages and timers, their subscriptions through the
//! plane (peers learn the interest), retained messages; wills whose delay
//! ran out while the broker was down go out now.

use super::image::{Image, SessionImage};
use super::record::unix_ms;
use crate::metrics::ShardMetrics;
use crate::plane;
use crate::protocol::{Will, WillProperties};
use crate::router::RetainedMessage;
use crate::session::{Message, Origin, Restore, NEVER};
use crate::shard::Shard;
use std::rc::Rc;

/// Install `image` into this shard (persistence on, mesh connected).
pub fn install(shard: &Rc<Shard>, image: Image) {
    let p = shard.persist.as_ref().expect("persistence on");
    p.book.borrow_mut().muted = true;
    let mut due = Vec::new();
    let mut sessions: Vec<_> = image.sessions.into_iter().collect();
    sessions.sort_unstable_by_key(|(sid, _)| *sid);
    let count = sessions.len();
    for (sid, s) in sessions {
        session(shard, sid, s, &mut due);
    }
    for (_, (_, m)) in image.retained {
        retained(shard, m);
    }
    *p.seen.borrow_mut() = image.qos2_seen;
    p.book.borrow_mut().muted = false;
    ShardMetrics::add(&shard.metrics.records_replayed, image.records);
    for m in due {
        plane::publish(shard, m);
    }
    tracing::debug!(
        shard = shard.id,
        sessions = count,
        "recovered state installed"
    );
}

fn session(shard: &Rc<Shard>, sid: u64, s: SessionImage, due: &mut Vec<Message>) {
    let p = shard.persist.as_ref().expect("persistence on");
    let away = s.offline_ms.map_or(0, |t| unix_ms().saturating_sub(t));
    let will = s.will.and_then(|(delay, m)| {
        let left = (delay as u64 * 1000).saturating_sub(away);
        if left == 0 {
            due.push(m); // its delay ran out while the broker was down
            return None;
        }
        Some(will_of(m, left.div_ceil(1000) as u32))
    });
    let expiry = match s.expiry {
        NEVER => NEVER,
        e => match (e as u64 * 1000).saturating_sub(away) {
            0 => {
                // Expired while the broker was down; a waiting will goes
                // out with the session's end (§3.1.3.2.2).
                due.extend(will.map(|w| Message::from_will(w, Origin::Broker)));
                return;
            }
            left => left.div_ceil(1000) as u32,
        },
    };
    let r = Restore {
        client_id: s.client_id,
        expiry,
        will,
        qos2_in: s.qos2_in,
        inflight: (s.inflight.into_iter())
            .map(|f| (f.packet_id, f.state, f.msg))
            .collect(),
        queue: s.queue.into(),
    };
    let now = shard.elapsed_ms();
    let key = shard.sessions.borrow_mut().restore(r, now);
    p.book.borrow_mut().bind(key, sid, s.partition);
    for (filter, sub) in s.subs {
        plane::subscribe(shard, key, &filter, sub);
    }
}

/// A will again, from the message it was stored as, with `delay` seconds
/// left to wait.
fn will_of(m: Message, delay: u32) -> Will {
    let p = m.properties.as_deref().cloned().unwrap_or_default();
    Will {
        topic: m.topic,
        payload: m.payload,
        qos: m.qos,
        retain: m.retain,
        properties: Some(Box::new(WillProperties {
            will_delay_interval: Some(delay),
            payload_format_indicator: p.payload_format_indicator,
            message_expiry_interval: p.message_expiry_interval,
            content_type: p.content_type,
            response_topic: p.response_topic,
            correlation_data: p.correlation_data,
            user_properties: p.user_properties,
        })),
    }
}

fn retained(shard: &Shard, m: Message) {
    let mut r = shard.router.borrow_mut();
    r.retained.set(RetainedMessage {
        topic: m.topic,
        payload: m.payload,
        qos: m.qos,
        properties: m.properties,
        stored_at: m.published_at,
    });
    shard.metrics.retained_messages.set(r.retained.len() as u64);
}
