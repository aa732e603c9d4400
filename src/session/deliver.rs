//! Matching a message against this shard's subscriptions and handing it to
//! each session: straight to the wire when possible, else into the bounded
//! queue, else dropped and counted by reason.

use super::delivery::{Delivery, Pending};
use super::events::Events;
use super::events::Stored;
use super::outbound::{Enqueued, Pumped};
use super::pressure::{queue_rule, Pressure, Publisher};
use super::{
    DropReason, Message, Origin, Session, SessionEvent, SessionKey, Sessions, Subscription,
};
use crate::config::Limits;
use crate::metrics::ShardMetrics;
use crate::protocol::QoS;
use crate::router::shared::GroupId;
use std::num::NonZeroU32;

/// How a session should receive one message, merged over every one of its
/// subscriptions that matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Grant {
    pub qos: QoS,
    pub retain: bool,
    /// For a shared group of this shard (see [`super::Pending::share`]).
    pub share: Option<GroupId>,
}

impl Sessions {
    /// Deliver a live message to every matching session of this shard;
    /// returns how many sessions it reached.
    pub fn publish(&mut self, msg: &Message) -> usize {
        if msg.expired_now() {
            // Waited too long on its way here (a congested peer channel).
            ShardMetrics::inc(&self.metrics.messages_expired);
            return 0;
        }
        let mut m = std::mem::take(&mut self.matches);
        m.clear();
        self.index
            .for_each_match(&msg.topic, |k, s| m.push((*k, *s)));
        if m.len() > 1 {
            // Overlapping filters of one session are next to each other.
            m.sort_unstable_by_key(|e| e.0);
        }
        let mut reached = 0;
        let mut rest = &m[..];
        while let Some(&(index, _)) = rest.first() {
            let run = rest.iter().take_while(|e| e.0 == index).count();
            reached += self.deliver_matched(index, &rest[..run], msg) as usize;
            rest = &rest[run..];
        }
        self.matches = m;
        reached
    }

    /// One session's matching subscriptions: one delivery at the highest
    /// granted QoS with every subscription identifier [MQTT-3.3.4-2/3];
    /// a no-local subscription does not match its own messages [MQTT-3.8.3-3].
    fn deliver_matched(&mut self, index: u32, run: &[(u32, Subscription)], msg: &Message) -> bool {
        let Sessions {
            registry,
            limits,
            metrics,
            events,
            shard,
            acl,
            signals,
            watch,
            ..
        } = self;
        let Some((key, s)) = registry.by_index_mut(index) else {
            return false;
        };
        let own = msg.origin == Origin::Session { shard: *shard, key };
        let wanted = |sub: &&(u32, Subscription)| !(own && sub.1.opts.no_local);
        // One covered subscription vouches for the topic; else one check
        // (none when no-local leaves nothing to deliver).
        let covered = |g| run.iter().filter(wanted).any(|e| e.1.covered(g));
        if !run.iter().any(|e| wanted(&e))
            || !acl.may_read(key, &s.client_id, &msg.topic, covered, metrics)
        {
            return false;
        }
        if let [(_, sub)] = run {
            // The common case, one matching subscription: no merging, and
            // the session already in hand.
            if own && sub.opts.no_local {
                return false;
            }
            let g = Grant {
                qos: msg.qos.min(sub.opts.qos),
                retain: sub.opts.retain_as_published && msg.retain,
                share: None,
            };
            let to = Target::new(key, *shard, limits, metrics, events, signals, watch);
            deliver_to(s, to, msg, g, sub.id.map(NonZeroU32::get).as_slice());
            return true;
        }
        let mut ids = std::mem::take(&mut self.ids);
        ids.clear();
        let mut grant: Option<Grant> = None;
        for (_, sub) in run.iter().filter(|(_, s)| !(own && s.opts.no_local)) {
            let g = grant.get_or_insert(Grant {
                qos: QoS::AtMostOnce,
                retain: false,
                share: None,
            });
            g.qos = g.qos.max(sub.opts.qos);
            g.retain |= sub.opts.retain_as_published && msg.retain;
            ids.extend(sub.id.map(|id| id.get()));
        }
        if let Some(g) = grant {
            let g = Grant {
                qos: msg.qos.min(g.qos),
                ..g
            };
            self.deliver(key, msg, g, &ids);
        }
        self.ids = ids;
        grant.is_some()
    }

    /// Deliver retained messages to one session after its SUBSCRIBE (with
    /// RETAIN set [MQTT-3.3.1-8]); nothing if the session is gone.
    pub fn deliver_retained(&mut self, key: SessionKey, sub: Subscription, msgs: &[Message]) {
        let id = sub.id.map(NonZeroU32::get);
        for m in msgs {
            let Some(s) = self.registry.get(key) else {
                return;
            };
            let covered = |g| sub.covered(g);
            if !self
                .acl
                .may_read(key, &s.client_id, &m.topic, covered, &self.metrics)
            {
                continue;
            }
            let g = Grant {
                qos: m.qos.min(sub.opts.qos),
                retain: true,
                share: None,
            };
            // Stored long ago: its publisher is not the one to slow down.
            if let (Some(s), mut to) = self.parts(key) {
                to.live = false;
                deliver_to(s, to, m, g, id.as_slice());
            }
        }
    }

    /// Hand one message to one session at its grant.
    pub(super) fn deliver(&mut self, key: SessionKey, msg: &Message, g: Grant, ids: &[u32]) {
        if let (Some(s), to) = self.parts(key) {
            deliver_to(s, to, msg, g, ids);
        }
    }

    /// Fill the in-flight window from the queue (after an ack or a resume),
    /// dropping what expired while it waited.
    pub(super) fn pump(&mut self, key: SessionKey) {
        let (
            s,
            Target {
                limits, m, events, ..
            },
        ) = self.parts(key);
        let Some(Session { conn, outbound, .. }) = s else {
            return;
        };
        let Some(c) = conn else { return };
        let window = c.send_window(limits.max_inflight);
        c.with_outlet(|o| {
            outbound.pump(window, o, |p| match p {
                Pumped::Sent(p, packet_id) => {
                    // Queued messages are counted out by the QoS they leave with.
                    ShardMetrics::inc(m.messages_out(p.msg.qos));
                    events.emit(SessionEvent::Sent {
                        key,
                        packet_id,
                        msg: &p.msg,
                        ids: p.subscription_ids.as_deref().unwrap_or(&[]),
                        from_queue: true,
                    });
                }
                Pumped::Expired => {
                    count_drop(m, events, key, DropReason::Expired, Stored::QueueFront)
                }
                Pumped::TooLarge(from) => {
                    count_drop(m, events, key, DropReason::TooLargeForClient, from)
                }
            })
        });
    }
}

impl Sessions {
    /// One session and, borrowed beside it, what delivering to it needs.
    fn parts(&mut self, key: SessionKey) -> (Option<&mut Session>, Target<'_>) {
        let Sessions {
            registry,
            limits,
            metrics,
            events,
            signals,
            watch,
            shard,
            ..
        } = self;
        let to = Target::new(key, *shard, limits, metrics, events, signals, watch);
        (registry.get_mut(key), to)
    }
}

/// Where a delivery goes and what it is counted against.
struct Target<'a> {
    key: SessionKey,
    limits: &'a Limits,
    m: &'a ShardMetrics,
    events: &'a mut Events,
    /// Where holding a publisher back is decided.
    pressure: Pressure<'a>,
    /// The receiving session as a publisher (it never holds itself back).
    me: Publisher,
    /// A message being published now, whose publisher a full queue may
    /// hold back (not a retained one sent on subscribe).
    live: bool,
}

impl<'a> Target<'a> {
    /// A live delivery to session `key` of shard `shard`.
    fn new(
        key: SessionKey,
        shard: u16,
        limits: &'a Limits,
        m: &'a ShardMetrics,
        events: &'a mut Events,
        signals: &'a mut Vec<super::Signal>,
        watch: &'a mut Vec<super::pressure::Watch>,
    ) -> Target<'a> {
        Target {
            key,
            limits,
            m,
            events,
            pressure: Pressure { signals, watch },
            me: Publisher { shard, key },
            live: true,
        }
    }
}

/// Hand one message to one session at its grant: straight to the wire when
/// possible, else into the bounded queue, else dropped and counted.
#[inline]
fn deliver_to(s: &mut Session, to: Target<'_>, msg: &Message, g: Grant, ids: &[u32]) {
    let (key, limits, m) = (to.key, to.limits, to.m);
    match (&s.conn, g.qos) {
        (Some(c), QoS::AtMostOnce) => {
            if c.pending_bytes() >= limits.max_outbound_bytes {
                return count_drop(m, to.events, key, DropReason::SlowSubscriber, NOWHERE);
            }
            // Encoded straight from the shared message: no clone.
            let written = c.deliver(&Delivery {
                msg,
                qos: g.qos,
                packet_id: 0,
                dup: false,
                retain: g.retain,
                subscription_ids: ids,
            });
            if !written {
                return count_drop(m, to.events, key, DropReason::TooLargeForClient, NOWHERE);
            }
            count_out(m, g.qos, msg.payload.len());
            to.events.emit(SessionEvent::Sent {
                key,
                packet_id: 0,
                msg,
                ids,
                from_queue: false,
            });
        }
        (Some(c), _) if s.outbound.can_send(c.send_window(limits.max_inflight)) => {
            let p = pending(msg, g, ids);
            let Session { outbound, .. } = s;
            let Some(packet_id) = c.with_outlet(|o| outbound.send(p, o)) else {
                return count_drop(m, to.events, key, DropReason::TooLargeForClient, NOWHERE);
            };
            count_out(m, g.qos, msg.payload.len());
            if let Some(p) = outbound.last_sent() {
                to.events.emit(SessionEvent::Sent {
                    key,
                    packet_id,
                    msg: &p.msg,
                    ids,
                    from_queue: false,
                });
            }
        }
        (None, QoS::AtMostOnce) if !(s.persistent() && limits.queue_qos0) => {
            count_drop(m, to.events, key, DropReason::OfflineQos0, NOWHERE)
        }
        _ => enqueue(s, to, msg, g, ids),
    }
}

/// Queue a message behind the window, by the session's queue rule: drop
/// it, make room, or hold its publisher back (`pressure.rs`).
fn enqueue(s: &mut Session, mut to: Target<'_>, msg: &Message, g: Grant, ids: &[u32]) {
    let rule = queue_rule(s, to.limits);
    let (key, m) = (to.key, to.m);
    if s.outbound.full(rule.bound, rule.policy) {
        // Refused before the copy: at saturation most messages for a slow
        // subscriber end here, and the copy's reference counts are atomic.
        return count_drop(m, to.events, key, rule.reason, NOWHERE);
    }
    let p = pending(msg, g, ids);
    let queued = match s.outbound.enqueue(p, rule.bound, rule.policy) {
        Enqueued::Queued => true,
        Enqueued::DroppedNew => {
            count_drop(m, to.events, key, rule.reason, NOWHERE);
            false
        }
        Enqueued::DroppedOldest => {
            count_drop(m, to.events, key, rule.reason, Stored::QueueFront);
            true
        }
    };
    if let Some(p) = s.outbound.last_queued().filter(|_| queued) {
        to.events.emit(SessionEvent::Queued { key, p });
    }
    if rule.press && to.live {
        let max = to.limits.max_queued_messages;
        to.pressure.queued(s, to.me, msg.origin, max);
    }
}

/// The session's own copy of a message, at its delivery QoS and RETAIN.
#[inline]
fn pending(msg: &Message, g: Grant, ids: &[u32]) -> Pending {
    let kept = Message {
        qos: g.qos,
        retain: g.retain,
        ..msg.clone()
    };
    let mut p = Pending::new(kept, ids);
    p.share = g.share;
    p
}

const NOWHERE: Stored = Stored::Nowhere;

/// Count a message dropped for one session and tell the log where it was.
pub(super) fn count_drop(
    m: &ShardMetrics,
    events: &mut Events,
    key: SessionKey,
    reason: DropReason,
    from: Stored,
) {
    ShardMetrics::inc(match reason {
        DropReason::SlowSubscriber => &m.dropped_slow_subscriber,
        DropReason::OfflineQos0 => &m.dropped_offline_qos0,
        DropReason::QueueFull => &m.dropped_queue_full,
        DropReason::Stalled => &m.dropped_stalled,
        DropReason::Expired => &m.messages_expired,
        DropReason::TooLargeForClient => &m.packets_dropped_client_maximum,
    });
    events.emit(SessionEvent::Dropped { key, reason, from });
}

fn count_out(m: &ShardMetrics, qos: QoS, payload_len: usize) {
    ShardMetrics::inc(m.messages_out(qos));
    ShardMetrics::add(&m.bytes_out, payload_len as u64);
}
