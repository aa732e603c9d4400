//! Back-pressure on the session side (`queue_overflow = "backpressure"`,
//! docs/backpressure.md): a connected session whose queue reaches
//! `max_queued_messages` holds back the publishers of what it queues,
//! instead of dropping, until it drains to half of it. A session that
//! acknowledges nothing for `stall_timeout` stops holding anyone back.
//!
//! Sessions only decide. Each decision is a [`Signal`] the plane takes
//! (`Sessions::take_signals`) and carries to the publisher's shard, so a
//! publisher is paused once per episode, never once per message.

use super::{DropReason, Origin, Session, SessionKey, Sessions};
use crate::config::{Limits, QueueOverflow};
use crate::metrics::ShardMetrics;

/// A publishing session, wherever it lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Publisher {
    pub shard: u16,
    pub key: SessionKey,
}

/// Pause or resume one publisher: from a session that queues its messages
/// (or stopped doing so) to the publisher's shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal {
    pub to: Publisher,
    pub pause: bool,
}

/// What a session that holds publishers back keeps (in its boxed window:
/// sessions without QoS 1/2 traffic pay nothing).
#[derive(Debug, Default)]
pub struct Press {
    /// The publishers it paused, each once.
    held: Vec<Publisher>,
    /// Acknowledgements received: progress, for the stall check.
    acks: u32,
    /// No acknowledgement for `stall_timeout` while holding publishers back:
    /// it drops instead, until the client acknowledges something.
    stalled: bool,
}

impl Press {
    /// An acknowledgement from the client: progress, and the end of a stall.
    pub fn acked(&mut self) {
        self.acks = self.acks.wrapping_add(1);
        self.stalled = false;
    }

    pub fn stalled(&self) -> bool {
        self.stalled
    }

    pub fn holds(&self) -> bool {
        !self.held.is_empty()
    }

    /// Let every publisher it holds back go: a resume signal for each.
    fn release_into(&mut self, signals: &mut Vec<Signal>) {
        signals.extend(self.held.drain(..).map(|to| Signal { to, pause: false }));
    }
}

/// A pressing session the shard tick watches for stalls.
#[derive(Debug)]
pub(super) struct Watch {
    key: SessionKey,
    /// `Press::acks` at the last look, and the shard time (ms) it last
    /// changed; `None` until the first tick sees it.
    seen: Option<(u32, u64)>,
}

/// How a session's queue takes one more message.
pub(super) struct QueueRule {
    /// Messages the queue may hold.
    pub bound: usize,
    pub policy: QueueOverflow,
    /// Why a message beyond `bound` is dropped.
    pub reason: DropReason,
    /// Hold the message's publisher back once the queue is at the limit.
    pub press: bool,
}

/// The rule for `s` under `limits`. With back-pressure, a connected session
/// that is not stalled takes every message: past `max_queued_messages` only
/// what was already on its way before its publishers paused arrives, and
/// that is bounded where it comes from (the PUBLISH in hand per local
/// publisher; the mesh's bounded outbox and channel per peer shard), all of
/// it already acknowledged. Offline and stalled sessions drop new messages
/// at the limit.
pub(super) fn queue_rule(s: &Session, limits: &Limits) -> QueueRule {
    let max = limits.max_queued_messages;
    let drop_new = |reason| QueueRule {
        bound: max,
        policy: QueueOverflow::DropNew,
        reason,
        press: false,
    };
    match limits.queue_overflow {
        QueueOverflow::Backpressure if s.conn.is_none() => drop_new(DropReason::QueueFull),
        QueueOverflow::Backpressure if s.outbound.stalled() => drop_new(DropReason::Stalled),
        QueueOverflow::Backpressure => QueueRule {
            bound: usize::MAX,
            policy: QueueOverflow::DropNew,
            reason: DropReason::QueueFull,
            press: true,
        },
        policy => QueueRule {
            policy,
            ..drop_new(DropReason::QueueFull)
        },
    }
}

/// Where a session's pressure decisions go.
pub(super) struct Pressure<'a> {
    pub signals: &'a mut Vec<Signal>,
    pub watch: &'a mut Vec<Watch>,
}

impl Pressure<'_> {
    /// `s` (the session `me`) just queued a message from `origin`: hold that
    /// publisher back if the queue is at `max`. A client never holds itself
    /// back (it may subscribe to its own topic), nor does the broker's own
    /// traffic.
    pub fn queued(&mut self, s: &mut Session, me: Publisher, origin: Origin, max: usize) {
        let Origin::Session { shard, key } = origin else {
            return;
        };
        let p = Publisher { shard, key };
        if p == me || s.outbound.queued_len() < max.max(1) {
            return;
        }
        let press = s.outbound.press();
        if press.held.contains(&p) {
            return;
        }
        if press.held.is_empty() && !self.watch.iter().any(|w| w.key == me.key) {
            // Watched until it lets go (released, ended or stalled).
            self.watch.push(Watch {
                key: me.key,
                seen: None,
            });
        }
        press.held.push(p);
        self.signals.push(Signal { to: p, pause: true });
    }

    /// Let every publisher `s` holds back go.
    pub fn release(&mut self, s: &mut Session) {
        if let Some(press) = s.outbound.press_if_any() {
            press.release_into(self.signals);
        }
    }
}

impl Sessions {
    /// Pause and resume signals decided since the last call, for the plane
    /// to deliver (`plane::pressure::flush`).
    pub fn take_signals(&mut self) -> Vec<Signal> {
        std::mem::take(&mut self.signals)
    }

    /// True when signals wait for [`Sessions::take_signals`].
    pub fn has_signals(&self) -> bool {
        !self.signals.is_empty()
    }

    /// After the queue of `key` shrank: at half the limit or below, its
    /// publishers may go on.
    pub(super) fn maybe_release(&mut self, key: SessionKey) {
        let low = self.limits.max_queued_messages / 2;
        let drained = self
            .registry
            .get(key)
            .is_some_and(|s| s.outbound.holds_publishers() && s.outbound.queued_len() <= low);
        if drained {
            self.release_publishers(key);
        }
    }

    /// Let every publisher `key` holds back go (it drained, went offline or
    /// ended).
    pub(super) fn release_publishers(&mut self, key: SessionKey) {
        let Sessions {
            registry,
            signals,
            watch,
            ..
        } = self;
        if let Some(s) = registry.get_mut(key) {
            Pressure { signals, watch }.release(s);
        }
    }

    /// The shard tick: a pressing session that acknowledged nothing for
    /// `stall_ms` is stalled: it lets its publishers go and drops instead
    /// (`dropped_stalled`) until the client acknowledges something.
    pub fn check_stalls(&mut self, now_ms: u64, stall_ms: u64) {
        let mut watch = std::mem::take(&mut self.watch);
        watch.retain_mut(|w| {
            let Some(s) = self.registry.get_mut(w.key) else {
                return false;
            };
            let Some(press) = s.outbound.press_if_any().filter(|p| !p.held.is_empty()) else {
                return false; // released
            };
            match w.seen {
                Some((acks, since)) if acks == press.acks => {
                    if now_ms.saturating_sub(since) < stall_ms {
                        return true;
                    }
                    press.stalled = true;
                    ShardMetrics::inc(&self.metrics.sessions_stalled);
                    press.release_into(&mut self.signals);
                    false
                }
                _ => {
                    w.seen = Some((press.acks, now_ms));
                    true
                }
            }
        });
        watch.append(&mut self.watch); // none: nothing queues during the tick
        self.watch = watch;
    }
}
