//! Ordering of subscription-interest changes across shards.
//!
//! When a shard gains its first subscriber on a filter it tells every peer,
//! which adds the filter to its replicated interest table and acknowledges.
//! A SUBACK is held until every peer has acknowledged the changes made so
//! far: once the client sees its SUBACK, a message published on any shard is
//! routed to it. (Without this, a publish racing the interest update on
//! another shard would be lost.)

use super::notify::WaitList;
use std::cell::Cell;
use std::task::Waker;

pub struct InterestSync {
    me: usize,
    /// Sequence number of the last change this shard broadcast.
    seq: Cell<u64>,
    /// Per peer: the highest sequence number it acknowledged.
    acked: Vec<Cell<u64>>,
    waiters: WaitList,
}

impl InterestSync {
    pub fn new(me: usize, n: usize) -> Self {
        InterestSync {
            me,
            seq: Cell::new(0),
            acked: (0..n).map(|_| Cell::new(0)).collect(),
            waiters: WaitList::default(),
        }
    }

    /// Number the next broadcast.
    pub fn next_seq(&self) -> u64 {
        self.seq.set(self.seq.get() + 1);
        self.seq.get()
    }

    /// The sequence a new SUBACK must wait for.
    pub fn current(&self) -> u64 {
        self.seq.get()
    }

    pub fn ack(&self, peer: usize, seq: u64) {
        let a = &self.acked[peer];
        if seq > a.get() {
            a.set(seq);
            self.waiters.wake_all();
        }
    }

    /// Have all peers applied every change up to `seq`?
    pub fn done(&self, seq: u64) -> bool {
        self.acked
            .iter()
            .enumerate()
            .all(|(p, a)| p == self.me || a.get() >= seq)
    }

    pub fn wait(&self, w: &Waker) {
        self.waiters.register(w);
    }

    /// Wake every waiter so it can re-check its deadline.
    pub fn wake_all(&self) {
        self.waiters.wake_all();
    }
}
