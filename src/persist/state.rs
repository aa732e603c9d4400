//! [`Persist`]: what a shard keeps of its durable log, and the confirms it
//! owes peers whose messages it logged (`fsync = "always"`).

use super::book::Book;
use super::durable::Points;
use super::writer::Log;
use crate::metrics::{ShardHistograms, ShardMetrics};
use crate::plane::notify::WaitList;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::task::Waker;

/// Log bytes appended and not yet written past which the shard stops
/// reading its clients' sockets until the disk catches up.
pub const MAX_BACKLOG: u64 = 64 << 20;

pub struct Persist {
    pub log: Rc<Log>,
    pub book: Rc<RefCell<Book>>,
    /// `fsync = "always"`: answers wait for [`Points`].
    pub always: bool,
    pub points: Rc<Points>,
    /// Per peer: how many of its messages this shard has applied.
    applied: Vec<Cell<u64>>,
    /// Per peer: a confirm waits for the log to settle; more arrived since.
    confirming: Vec<Cell<bool>>,
    dirty: Vec<Cell<bool>>,
    /// Connections paused while the log's backlog is over [`MAX_BACKLOG`].
    paused: Rc<WaitList>,
    /// A settle callback will wake them.
    draining: Rc<Cell<bool>>,
    /// Per peer: its log is unhealthy (`Control::LogHealth`).
    peer_down: Vec<Cell<bool>>,
    /// Keys of the QoS 2 messages delivered here and not yet released
    /// (`qos2.rs`).
    pub seen: RefCell<std::collections::HashSet<super::qos2::Key>>,
}

impl Persist {
    pub fn new(log: Rc<Log>, book: Book, always: bool, me: usize, shards: usize) -> Persist {
        let cells = || (0..shards).map(|_| Cell::new(0)).collect();
        let flags = || (0..shards).map(|_| Cell::new(false)).collect();
        Persist {
            points: Rc::new(Points::new(log.clone(), me, shards)),
            log,
            book: Rc::new(RefCell::new(book)),
            always,
            applied: cells(),
            confirming: flags(),
            dirty: flags(),
            paused: Rc::default(),
            draining: Rc::default(),
            peer_down: flags(),
            seen: RefCell::default(),
        }
    }

    pub fn set_peer_health(&self, peer: usize, healthy: bool) {
        self.peer_down[peer].set(!healthy);
    }

    /// Is the log of any of `peers` unable to keep what it is sent?
    pub fn any_peer_down(&self, peers: &[u16]) -> bool {
        peers.iter().any(|&p| self.peer_down[p as usize].get())
    }

    /// True while the disk is far behind the appends; registers `w` to be
    /// woken once what is appended now is written.
    pub fn congested(&self, w: &Waker) -> bool {
        if self.log.backlog() <= MAX_BACKLOG {
            return false;
        }
        self.paused.register(w);
        if !self.draining.replace(true) {
            let (paused, draining) = (self.paused.clone(), self.draining.clone());
            self.log.on_settled(Box::new(move |_| {
                draining.set(false);
                paused.wake_all();
            }));
        }
        true
    }

    /// `n` messages from peer `from` were applied. Returns the count to
    /// confirm to it once the log settles, unless a confirm is already
    /// waiting (it re-arms when it goes out: see [`Persist::confirmed`]).
    pub fn applied(&self, from: usize, n: u64) -> Option<u64> {
        let a = self.applied[from].get() + n;
        self.applied[from].set(a);
        if self.confirming[from].replace(true) {
            self.dirty[from].set(true);
            return None;
        }
        Some(a)
    }

    /// A confirm to `from` went out: the next one to send, if more
    /// messages were applied while it waited.
    pub fn confirmed(&self, from: usize) -> Option<u64> {
        if self.dirty[from].replace(false) {
            return Some(self.applied[from].get());
        }
        self.confirming[from].set(false);
        None
    }
}

impl Persist {
    /// Copy the log's counters into the shard's (the tick, before it posts
    /// them to the metrics board).
    pub fn report(&self, m: &ShardMetrics, h: &mut ShardHistograms) {
        let s = self.log.stats();
        m.log_bytes.set(s.bytes_written);
        m.log_fsyncs.set(s.fsyncs);
        m.log_records_discarded.set(s.discarded);
        m.log_write_errors.set(s.write_errors);
        m.log_disk_bytes.set(self.log.disk_bytes());
        m.log_healthy.set(self.log.healthy() as u64);
        h.log_fsync.merge(&self.log.take_fsync_latency());
        let commits = self.log.take_group_commits();
        let mut records = 0;
        for v in commits.iter_recorded() {
            let (size, n) = (v.value_iterated_to(), v.count_at_value());
            records += size * n;
            h.log_group_commit.record_value_n(size, n);
        }
        ShardMetrics::add(&m.log_commits, commits.len());
        ShardMetrics::add(&m.log_commit_records, records);
    }
}
