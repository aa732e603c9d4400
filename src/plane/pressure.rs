//! Back-pressure on the publisher side (docs/backpressure.md): the pause
//! and resume signals sessions decide (`session/pressure.rs`), carried to
//! the publisher's shard, locally or over the control channel, and the
//! publishers held back on this shard.
//!
//! A publisher may be held back by several sessions at once, on several
//! shards; it goes on when the last one lets it go. Pause and resume travel
//! on one ordered channel per pair of shards, so they pair up. The count
//! is kept per session, not per connection: a client that reconnects while
//! held back is still held back.

use super::messages::Control;
use crate::metrics::ShardMetrics;
use crate::session::{SessionKey, Signal};
use crate::shard::Shard;
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Instant;

/// The publishers of this shard held back now, counted per session so that
/// a reconnect stays held back; connections read their handle's `held` flag.
#[derive(Default)]
pub struct Pauses {
    held: RefCell<HashMap<SessionKey, Paused>>,
}

struct Paused {
    /// Sessions holding it back.
    by: u32,
    since: Instant,
}

impl Pauses {
    /// Is the session at `key` held back?
    pub fn is_paused(&self, key: SessionKey) -> bool {
        self.held.borrow().contains_key(&key)
    }

    /// One more session holds `key` back; true if it was not held before.
    fn pause(&self, key: SessionKey) -> bool {
        let mut held = self.held.borrow_mut();
        let p = held.entry(key).or_insert(Paused {
            by: 0,
            since: Instant::now(),
        });
        p.by += 1;
        p.by == 1
    }

    /// One session let `key` go; when none is left, how long it was held.
    fn resume(&self, key: SessionKey) -> Option<std::time::Duration> {
        let mut held = self.held.borrow_mut();
        let p = held.get_mut(&key)?;
        p.by -= 1;
        if p.by > 0 {
            return None;
        }
        let since = p.since;
        held.remove(&key);
        Some(since.elapsed())
    }
}

/// Carry the signals this shard's sessions decided to their publishers.
pub fn flush(shard: &Shard) {
    if !shard.sessions.borrow().has_signals() {
        return;
    }
    let signals = shard.sessions.borrow_mut().take_signals();
    for Signal { to, pause } in signals {
        if to.shard as usize == shard.id {
            apply(shard, to.key, pause);
        } else {
            // Never dropped, unlike other control traffic: a lost resume
            // would hold a publisher back for good. Bounded by the pauses
            // in force (one per session and publisher).
            let msg = Control::Pressure { key: to.key, pause };
            shard.mesh.send_control_always(to.shard as usize, msg);
        }
    }
}

/// Pause or resume a publisher of this shard.
pub fn apply(shard: &Shard, key: SessionKey, pause: bool) {
    let m = &shard.metrics;
    if pause {
        if !shard.pauses.pause(key) {
            return;
        }
        ShardMetrics::inc(&m.publishers_paused);
        ShardMetrics::inc(&m.publisher_pauses);
        if let Some(h) = shard.sessions.borrow().handle(key) {
            h.hold();
        }
    } else if let Some(held_for) = shard.pauses.resume(key) {
        ShardMetrics::dec(&m.publishers_paused);
        shard.hist.borrow_mut().publisher_pause.record(held_for);
        let h = shard.sessions.borrow().handle(key).cloned();
        if let Some(h) = h {
            h.let_go(shard.now_ms());
        }
    }
}
