//! What the tasks of one executor thread share: configuration, counters,
//! and the start/end events the thread's watcher fires.

use crate::config::Config;
use crate::stats::{Live, Shared, ThreadStats};
use crate::sync::Event;
use std::cell::{Cell, RefCell};
use std::sync::Arc;

pub struct ThreadCtx {
    pub id: usize,
    pub cfg: Arc<Config>,
    pub shared: Arc<Shared>,
    pub stats: RefCell<ThreadStats>,
    /// Every client of every thread is connected and subscribed; the phase
    /// times below are known.
    pub go: Event,
    /// Close everything now.
    pub end: Event,
    start_ns: Cell<u64>,
}

/// Phase boundaries of a run, CLOCK_MONOTONIC ns.
#[derive(Debug, Clone, Copy)]
pub struct Phases {
    /// Publishers start.
    pub start: u64,
    /// Messages sent from here on are measured.
    pub measure: u64,
    /// Publishers stop; nothing sent at or after this exists.
    pub stop: u64,
}

impl Phases {
    pub fn in_window(&self, ts_ns: u64) -> bool {
        ts_ns >= self.measure && ts_ns < self.stop
    }
}

impl ThreadCtx {
    pub fn new(id: usize, cfg: Arc<Config>, shared: Arc<Shared>) -> ThreadCtx {
        ThreadCtx {
            id,
            cfg,
            shared,
            stats: RefCell::new(ThreadStats::default()),
            go: Event::default(),
            end: Event::default(),
            start_ns: Cell::new(0),
        }
    }

    pub fn live(&self) -> &Live {
        &self.shared.threads[self.id]
    }

    /// Called by the watcher when the coordinator published the start.
    pub fn start(&self, start_ns: u64) {
        self.start_ns.set(start_ns);
        self.go.set();
    }

    /// `None` before the start is known.
    pub fn phases(&self) -> Option<Phases> {
        let start = self.start_ns.get();
        if start == 0 {
            return None;
        }
        let measure = start + self.cfg.load.warmup_ns;
        Some(Phases {
            start,
            measure,
            stop: measure + self.cfg.load.duration_ns,
        })
    }
}
