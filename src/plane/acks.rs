//! Acknowledged control messages: ordering across shards where a client can
//! observe it.
//!
//! Some control messages carry a sequence number (shard-wide, increasing)
//! and the receiving peer answers `Ack { seq }` once it has applied them.
//! Channels are FIFO, so "peer p acked s" means p applied everything this
//! shard sent it up to s. Two client-visible promises rest on this:
//!
//! - **SUBACK after interest.** A shard that gains its first subscriber on a
//!   filter tells every peer; the SUBACK waits until they all applied it, so
//!   a message published on any shard after the client saw its SUBACK is
//!   routed to it.
//! - **PUBACK after retained store.** A retained PUBLISH whose topic another
//!   shard owns is acknowledged to the publisher only once the owner stored
//!   it, so any later SUBSCRIBE sees it.

use super::notify::WaitList;
use std::cell::Cell;
use std::task::Waker;

pub struct PeerAcks {
    me: usize,
    /// Last sequence number handed out.
    seq: Cell<u64>,
    /// Per peer: the last sequence number sent to it.
    sent: Vec<Cell<u64>>,
    /// Per peer: the highest sequence number it acknowledged.
    acked: Vec<Cell<u64>>,
    waiters: WaitList,
}

impl PeerAcks {
    pub fn new(me: usize, n: usize) -> Self {
        let cells = || (0..n).map(|_| Cell::new(0)).collect();
        PeerAcks {
            me,
            seq: Cell::new(0),
            sent: cells(),
            acked: cells(),
            waiters: WaitList::default(),
        }
    }

    /// Number a message that goes to `peers`.
    pub fn stamp(&self, peers: impl Iterator<Item = usize>) -> u64 {
        let seq = self.seq.get() + 1;
        self.seq.set(seq);
        for p in peers {
            self.sent[p].set(seq);
        }
        seq
    }

    /// The point a new SUBACK must wait for: everything sent so far.
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

    /// Has every peer applied what it was sent up to `seq`?
    pub fn done(&self, seq: u64) -> bool {
        (0..self.acked.len()).all(|p| p == self.me || self.done_for(p, seq))
    }

    /// Has `peer` applied what it was sent up to `seq`?
    pub fn done_for(&self, peer: usize, seq: u64) -> bool {
        self.acked[peer].get() >= seq.min(self.sent[peer].get())
    }

    pub fn wait(&self, w: &Waker) {
        self.waiters.register(w);
    }

    /// Wake every waiter so it can re-check its deadline.
    pub fn wake_all(&self) {
        self.waiters.wake_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_only_for_what_each_peer_was_sent() {
        let s = PeerAcks::new(0, 3);
        let all = s.stamp([1, 2].into_iter()); // interest broadcast
        let retained = s.stamp([1].into_iter()); // retained store on shard 1 only
        let barrier = s.current();
        assert!(!s.done(barrier));
        s.ack(1, retained);
        assert!(s.done_for(1, retained));
        assert!(!s.done(barrier), "shard 2 has not acked the broadcast");
        s.ack(2, all);
        assert!(s.done(barrier), "shard 2 was never sent the retained store");
    }
}
