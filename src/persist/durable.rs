//! "Acknowledged means durable" (`fsync = "always"`): a PUBACK, PUBREC or
//! PUBCOMP waits until every record its packet caused is on disk, on this
//! shard and on every peer it sent messages to.
//!
//! A *point* is the state to wait for: this shard's log position and, per
//! peer, how many messages were sent to it. Points are numbered; a later
//! point needs at least what an earlier one does, so "done up to point n"
//! is one number. Peers confirm (`Control::Durable`) how many of our
//! messages they applied and made durable; the log settles its own part.
//! Consecutive publishes with nothing written in between share a point.

use super::writer::Log;
use crate::plane::notify::WaitList;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::Waker;

/// What became of a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pending,
    Durable,
    /// A record it needed could not be written (disk full, write error).
    Lost,
}

/// (number, log position, messages sent per peer).
type Point = (u64, u64, Box<[u64]>);

pub struct Points {
    log: Rc<Log>,
    me: usize,
    /// Per peer: messages sent to it (counted by the mesh) and confirmed.
    confirmed: Vec<Cell<u64>>,
    /// Per peer: a confirm with a write failure behind it arrived.
    peer_lost: Cell<bool>,
    /// Oldest first.
    open: RefCell<VecDeque<Point>>,
    last: Cell<u64>,
    done: Cell<u64>,
    /// Points that ended lost: (first, last).
    lost: RefCell<VecDeque<(u64, u64)>>,
    /// A settle callback is registered with the log.
    armed: Cell<bool>,
    waiters: WaitList,
}

impl Points {
    pub fn new(log: Rc<Log>, me: usize, shards: usize) -> Points {
        Points {
            log,
            me,
            confirmed: (0..shards).map(|_| Cell::new(0)).collect(),
            peer_lost: Cell::new(false),
            open: RefCell::new(VecDeque::new()),
            last: Cell::new(0),
            done: Cell::new(0),
            lost: RefCell::new(VecDeque::new()),
            armed: Cell::new(false),
            waiters: WaitList::default(),
        }
    }

    /// The point an answer must wait for now, given how many messages each
    /// peer has been sent; `None` when everything is already durable.
    pub fn point(self: &Rc<Self>, sent: &[u64]) -> Option<u64> {
        let lsn = self.log.appended();
        let needs_peer = sent
            .iter()
            .enumerate()
            .any(|(p, &n)| p != self.me && n > self.confirmed[p].get());
        if lsn <= self.log.settled() && !needs_peer && self.open.borrow().is_empty() {
            return None;
        }
        let mut open = self.open.borrow_mut();
        let same = open
            .back()
            .is_some_and(|(_, l, s)| *l == lsn && **s == *sent);
        if !same {
            let n = self.last.get() + 1;
            self.last.set(n);
            open.push_back((n, lsn, sent.into()));
        }
        drop(open);
        self.arm();
        Some(self.last.get())
    }

    pub fn outcome(&self, point: u64) -> Outcome {
        if self
            .lost
            .borrow()
            .iter()
            .any(|&(a, b)| (a..=b).contains(&point))
        {
            return Outcome::Lost;
        }
        match point <= self.done.get() {
            true => Outcome::Durable,
            false => Outcome::Pending,
        }
    }

    pub fn wait(&self, w: &Waker) {
        self.waiters.register(w);
    }

    /// Peer `p` applied and made durable our messages up to `upto`.
    pub fn confirm(self: &Rc<Self>, p: usize, upto: u64, lost: bool) {
        if upto > self.confirmed[p].get() {
            self.confirmed[p].set(upto);
        }
        if lost {
            self.peer_lost.set(true);
        }
        self.advance(false);
    }

    /// Ask the log to call back once what is appended now is settled.
    fn arm(self: &Rc<Self>) {
        if self.armed.replace(true) {
            return;
        }
        let me = self.clone();
        self.log.on_settled(Box::new(move |r| {
            me.armed.set(false);
            me.advance(r.is_err());
        }));
    }

    /// Close every point whose needs are met (or lost), oldest first.
    fn advance(self: &Rc<Self>, log_lost: bool) {
        let settled = self.log.settled();
        let lost_now = log_lost || self.peer_lost.replace(false);
        let mut open = self.open.borrow_mut();
        let first = open.front().map(|p| p.0);
        while let Some((n, lsn, sent)) = open.front() {
            let peers_ok = sent
                .iter()
                .enumerate()
                .all(|(p, &s)| p == self.me || self.confirmed[p].get() >= s);
            if !(lost_now || *lsn <= settled && peers_ok) {
                break;
            }
            self.done.set(*n);
            open.pop_front();
        }
        // Re-arm only for a point the log has yet to settle: the rest wait
        // for peers' confirms, which call back here (and a settled log would
        // answer at once, again and again).
        let more = open.iter().any(|p| p.1 > settled);
        drop(open);
        if let (true, Some(a)) = (lost_now, first) {
            let mut l = self.lost.borrow_mut();
            l.push_back((a, self.done.get()));
            if l.len() > 64 {
                l.pop_front();
            }
        }
        if more {
            self.arm();
        }
        self.waiters.wake_all();
    }
}

/// `n` more messages from peer `from` were applied here: once what they
/// caused is settled, tell `from` (one confirm in flight per peer; the
/// next one carries whatever arrived meanwhile).
pub fn confirm_to(shard: &Rc<crate::shard::Shard>, from: usize, n: u64) {
    let Some(p) = shard.persist.as_ref().filter(|p| p.always) else {
        return;
    };
    if let Some(upto) = p.applied(from, n) {
        send_confirm(shard.clone(), from, upto);
    }
}

fn send_confirm(shard: Rc<crate::shard::Shard>, from: usize, upto: u64) {
    let p = shard.persist.as_ref().expect("persistence on");
    let log = p.log.clone();
    log.on_settled(Box::new(move |r| {
        let lost = r.is_err();
        let msg = crate::plane::messages::Control::Durable { upto, lost };
        shard.mesh.send_control_always(from, msg);
        let p = shard.persist.as_ref().expect("persistence on");
        if let Some(next) = p.confirmed(from) {
            send_confirm(shard.clone(), from, next);
        }
    }));
}
