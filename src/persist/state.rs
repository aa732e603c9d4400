//! [`Persist`]: what a shard keeps of its durable log, and the confirms it
//! owes peers whose messages it logged (`fsync = "always"`).

use super::book::Book;
use super::durable::Points;
use super::writer::Log;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

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
        }
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
