//! Messages owed to one client: the in-flight window of QoS 1/2 deliveries
//! waiting for acknowledgement, and the bounded queue behind it.
//!
//! Everything here hands [`Delivery`] records to an [`Outlet`] supplied by
//! the caller (the connection's encoder), so it is testable without sockets
//! and never deals in bytes.

use super::delivery::{Outlet, Pending};
use super::events::Stored;
use super::pressure::Press;
use crate::config::QueueOverflow;
use crate::protocol::QoS;
use std::collections::VecDeque;

/// What [`Outbound::pump`] did with one queued message.
#[derive(Debug)]
pub enum Pumped<'a> {
    /// Written with this packet id (0 for QoS 0).
    Sent(&'a Pending, u16),
    /// Its expiry interval had passed: dropped [MQTT-3.3.2-5].
    Expired,
    /// Larger than the client's maximum packet size: dropped [MQTT-3.1.2-25]
    /// (from the queue, or a held in-flight message).
    TooLarge(Stored),
}

/// Where an outgoing QoS 1/2 delivery is in its handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InflightState {
    /// QoS 1 PUBLISH sent, waiting for PUBACK.
    AwaitPubAck,
    /// QoS 2 PUBLISH sent, waiting for PUBREC.
    AwaitPubRec,
    /// PUBREL sent, waiting for PUBCOMP (the payload is no longer needed).
    AwaitPubComp,
}

#[derive(Debug)]
struct Inflight {
    packet_id: u16,
    state: InflightState,
    /// Not re-sent yet after a resume: the new connection's window was
    /// full (a lower Receive Maximum); goes out, with DUP, as acks make room.
    held: bool,
    msg: Option<Pending>,
}

/// What happened to a message offered to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    Queued,
    /// The queue was full and the new message was refused.
    DroppedNew,
    /// The queue was full and its oldest message made room.
    DroppedOldest,
}

/// The in-flight window and the queue of one session, allocated the first
/// time the session has a QoS 1/2 message or a queued one: an idle or
/// QoS 0-only client pays 8 bytes for it.
#[derive(Debug, Default)]
pub struct Outbound(Option<Box<Window>>);

impl Outbound {
    fn window(&mut self) -> &mut Window {
        self.0.get_or_insert_with(Default::default)
    }

    pub fn inflight_len(&self) -> usize {
        self.0.as_ref().map_or(0, |w| w.inflight.len())
    }

    pub fn queued_len(&self) -> usize {
        self.0.as_ref().map_or(0, |w| w.queue.len())
    }

    /// True when a new QoS 1/2 delivery may go straight to the wire.
    pub fn can_send(&self, window: u16) -> bool {
        self.0.as_ref().is_none_or(|w| w.can_send(window))
    }

    /// Would [`Outbound::enqueue`] refuse a new message outright?
    pub fn full(&self, max: usize, policy: QueueOverflow) -> bool {
        policy == QueueOverflow::DropNew && self.queued_len() >= max
    }

    /// Stopped holding publishers back: no acknowledgement for too long.
    pub fn stalled(&self) -> bool {
        self.0.as_ref().is_some_and(|w| w.press.stalled())
    }

    /// Holds at least one publisher back.
    pub fn holds_publishers(&self) -> bool {
        self.0.as_ref().is_some_and(|w| w.press.holds())
    }

    pub(super) fn press(&mut self) -> &mut Press {
        &mut self.window().press
    }

    pub(super) fn press_if_any(&mut self) -> Option<&mut Press> {
        self.0.as_mut().map(|w| &mut w.press)
    }

    /// The message last queued (the back of the queue).
    pub fn last_queued(&self) -> Option<&Pending> {
        self.0.as_ref()?.queue.back()
    }

    /// The message last put in flight.
    pub fn last_sent(&self) -> Option<&Pending> {
        self.0.as_ref()?.inflight.back()?.msg.as_ref()
    }

    /// In flight, in send order: packet id, state, message (none once
    /// PUBRECed), for the durable log's snapshot.
    pub fn inflight_view(&self) -> Vec<(u16, InflightState, Option<&Pending>)> {
        let Some(w) = &self.0 else { return Vec::new() };
        let each = w.inflight.iter();
        each.map(|f| (f.packet_id, f.state, f.msg.as_ref()))
            .collect()
    }

    pub fn queue_view(&self) -> Vec<&Pending> {
        self.0
            .as_ref()
            .map_or(Vec::new(), |w| w.queue.iter().collect())
    }

    /// A recovered window: in flight (sent before the restart; each goes
    /// out again with DUP on resume) and queued.
    pub fn restore(
        &mut self,
        inflight: Vec<(u16, InflightState, Option<Pending>)>,
        queue: Vec<Pending>,
    ) {
        if inflight.is_empty() && queue.is_empty() {
            return;
        }
        let w = self.window();
        w.next_id = inflight.last().map_or(0, |f| f.0);
        let each = inflight.into_iter();
        w.inflight = each
            .map(|(packet_id, state, msg)| Inflight {
                packet_id,
                state,
                held: false,
                msg,
            })
            .collect();
        w.queue = queue.into();
    }

    /// Queue a message (already at its delivery QoS) behind the window.
    pub fn enqueue(&mut self, msg: Pending, max: usize, policy: QueueOverflow) -> Enqueued {
        self.window().enqueue(msg, max, policy)
    }

    /// Put a QoS 1/2 message (at its delivery QoS) on the wire and track it;
    /// returns its packet id, or `None` if the outlet refused it (larger
    /// than the client's maximum packet size): then nothing is in flight.
    pub fn send(&mut self, msg: Pending, out: &mut impl Outlet) -> Option<u16> {
        self.window().send(msg, out)
    }

    /// Move queued messages onto the wire while the window has room,
    /// skipping the ones that expired [MQTT-3.3.2-5] (the clock is read only
    /// for messages with an expiry interval: this runs on every ack); `on`
    /// hears what happened to each. Returns the number written.
    pub fn pump(
        &mut self,
        window: u16,
        out: &mut impl Outlet,
        on: impl FnMut(Pumped<'_>),
    ) -> usize {
        self.0.as_mut().map_or(0, |w| w.pump(window, out, on))
    }

    /// PUBACK from the client: true if it matched a QoS 1 delivery.
    pub fn on_puback(&mut self, id: u16) -> bool {
        self.0
            .as_mut()
            .is_some_and(|w| w.remove_in_state(id, InflightState::AwaitPubAck))
    }

    /// PUBREC from the client: answer PUBREL either way (the client may be
    /// repeating itself after a reconnect), move a matching delivery on.
    pub fn on_pubrec(&mut self, id: u16, out: &mut impl Outlet) -> bool {
        out.pubrel(id);
        self.0.as_mut().is_some_and(|w| w.on_pubrec(id))
    }

    /// PUBCOMP from the client.
    pub fn on_pubcomp(&mut self, id: u16) -> bool {
        self.0
            .as_mut()
            .is_some_and(|w| w.remove_in_state(id, InflightState::AwaitPubComp))
    }

    /// Take every unacknowledged or queued message that was delivered for a
    /// shared group (its session is ending; another member gets it). A
    /// QoS 2 message already PUBRECed stays: the client has it.
    pub fn take_shared(&mut self) -> Vec<Pending> {
        let Some(w) = self.0.as_mut() else {
            return Vec::new();
        };
        let sent = w.inflight.iter_mut().filter_map(|i| match &i.msg {
            Some(p) if p.share.is_some() && i.state != InflightState::AwaitPubComp => i.msg.take(),
            _ => None,
        });
        let mut v: Vec<Pending> = sent.collect();
        let (shared, rest): (VecDeque<_>, VecDeque<_>) =
            w.queue.drain(..).partition(|p| p.share.is_some());
        w.queue = rest;
        v.extend(shared);
        v
    }

    /// After a session resumes: every unacknowledged PUBLISH again with DUP
    /// set [MQTT-4.4.0-1], every pending PUBREL again, in the original order
    /// — PUBLISHes only up to `window` (the client's Receive Maximum may be
    /// lower than before [MQTT-3.3.4-9]); the rest are held and `pump` sends
    /// them first. Returns the packet ids of the PUBLISHes the outlet
    /// refused (the new connection's maximum packet size); those are no
    /// longer in flight.
    pub fn resend(&mut self, window: u16, out: &mut impl Outlet) -> Vec<u16> {
        self.0
            .as_mut()
            .map_or(Vec::new(), |w| w.resend(window, out))
    }
}

#[derive(Debug, Default)]
struct Window {
    next_id: u16,
    inflight: VecDeque<Inflight>,
    queue: VecDeque<Pending>,
    /// The publishers this session holds back (`queue_overflow =
    /// "backpressure"`) and its progress.
    press: Press,
}

impl Window {
    fn can_send(&self, window: u16) -> bool {
        self.queue.is_empty() && self.inflight.len() < window as usize
    }

    fn enqueue(&mut self, msg: Pending, max: usize, policy: QueueOverflow) -> Enqueued {
        if self.queue.len() < max {
            self.queue.push_back(msg);
            return Enqueued::Queued;
        }
        match policy {
            // Back-pressure's bounds are the caller's (`pressure::queue_rule`).
            QueueOverflow::DropNew | QueueOverflow::Backpressure => Enqueued::DroppedNew,
            QueueOverflow::DropOldest => {
                if self.queue.pop_front().is_none() {
                    return Enqueued::DroppedNew; // max == 0: nothing can be queued
                }
                self.queue.push_back(msg);
                Enqueued::DroppedOldest
            }
        }
    }

    fn send(&mut self, msg: Pending, out: &mut impl Outlet) -> Option<u16> {
        let id = self.alloc_id();
        if !out.publish(&msg.delivery(id, false)) {
            self.next_id = id.wrapping_sub(1); // unused: the next one may have it
            return None;
        }
        let state = match msg.msg.qos {
            QoS::ExactlyOnce => InflightState::AwaitPubRec,
            _ => InflightState::AwaitPubAck,
        };
        self.inflight.push_back(Inflight {
            packet_id: id,
            state,
            held: false,
            msg: Some(msg),
        });
        Some(id)
    }

    fn pump(
        &mut self,
        window: u16,
        out: &mut impl Outlet,
        mut on: impl FnMut(Pumped<'_>),
    ) -> usize {
        let mut n = self.release_held(window, out, &mut on);
        while self.inflight.len() < window as usize {
            let Some(msg) = self.queue.pop_front() else {
                break;
            };
            if msg.msg.expired_now() {
                on(Pumped::Expired);
            } else if msg.msg.qos == QoS::AtMostOnce {
                if !out.publish(&msg.delivery(0, false)) {
                    on(Pumped::TooLarge(Stored::QueueFront));
                    continue;
                }
                on(Pumped::Sent(&msg, 0));
                n += 1;
            } else if let Some(id) = self.send(msg, out) {
                let f = self.inflight.back().expect("just sent");
                on(Pumped::Sent(
                    f.msg.as_ref().expect("in flight with its message"),
                    id,
                ));
                n += 1;
            } else {
                on(Pumped::TooLarge(Stored::QueueFront));
            }
        }
        n
    }

    fn on_pubrec(&mut self, id: u16) -> bool {
        match self.inflight.iter_mut().find(|f| f.packet_id == id) {
            Some(f) if f.state == InflightState::AwaitPubRec => {
                f.state = InflightState::AwaitPubComp;
                f.msg = None;
                self.press.acked();
                true
            }
            _ => false,
        }
    }

    fn resend(&mut self, window: u16, out: &mut impl Outlet) -> Vec<u16> {
        let mut refused = Vec::new();
        let mut sent = 0;
        self.inflight.retain_mut(|f| match (&f.msg, f.state) {
            (Some(m), InflightState::AwaitPubAck | InflightState::AwaitPubRec) => {
                f.held = sent >= window;
                if f.held {
                    return true;
                }
                sent += 1;
                let ok = out.publish(&m.delivery(f.packet_id, true));
                if !ok {
                    refused.push(f.packet_id);
                }
                ok
            }
            _ => {
                out.pubrel(f.packet_id);
                true
            }
        });
        refused
    }

    /// Held PUBLISHes (see `resend`) again, with DUP, while fewer than
    /// `window` are unacknowledged. Returns how many went out.
    fn release_held(
        &mut self,
        window: u16,
        out: &mut impl Outlet,
        on: &mut impl FnMut(Pumped<'_>),
    ) -> usize {
        let unacked = |f: &Inflight| !f.held && f.msg.is_some();
        let mut open = self.inflight.iter().filter(|f| unacked(f)).count();
        let mut n = 0;
        self.inflight.retain_mut(|f| {
            if !f.held || open >= window as usize {
                return true;
            }
            f.held = false;
            let m = f.msg.as_ref().expect("held with its message");
            if !out.publish(&m.delivery(f.packet_id, true)) {
                on(Pumped::TooLarge(Stored::Inflight(f.packet_id)));
                return false;
            }
            open += 1;
            n += 1;
            true
        });
        n
    }

    fn remove_in_state(&mut self, id: u16, state: InflightState) -> bool {
        match self
            .inflight
            .iter()
            .position(|f| f.packet_id == id && f.state == state)
        {
            Some(pos) => {
                self.inflight.remove(pos);
                self.press.acked();
                true
            }
            None => false,
        }
    }

    /// Next packet id not in flight; ids are 1..=65535 [MQTT-2.3.1-1].
    fn alloc_id(&mut self) -> u16 {
        loop {
            self.next_id = self.next_id.wrapping_add(1);
            if self.next_id == 0 {
                continue;
            }
            let id = self.next_id;
            if !self.inflight.iter().any(|f| f.packet_id == id) {
                return id;
            }
        }
    }
}

#[cfg(test)]
#[path = "outbound_tests.rs"]
mod tests;
