//! One coarse timer wheel per shard for keep-alive: 512 one-second slots of
//! weak connection handles. A packet only stores the shard clock into its
//! handle (`last_seen_ms`); the wheel re-checks lazily when a slot comes due
//! and re-slots live connections. No timer object per connection.

use crate::connection::{CloseReason, ConnHandle};
use std::rc::{Rc, Weak};

const SLOTS: usize = 512;

pub struct Wheel {
    slots: Vec<Vec<Weak<ConnHandle>>>,
    /// Seconds of shard time already processed.
    cursor: u64,
}

impl Default for Wheel {
    fn default() -> Self {
        Wheel {
            slots: (0..SLOTS).map(|_| Vec::new()).collect(),
            cursor: 0,
        }
    }
}

impl Wheel {
    /// Watch a connection (keep-alive 0 connections are not added).
    pub fn add(&mut self, conn: &Rc<ConnHandle>) {
        if conn.expiry_ms == 0 {
            return;
        }
        let due = self.due_second(conn);
        self.slots[due % SLOTS].push(Rc::downgrade(conn));
    }

    /// Second at which `conn` would expire if it stays silent, rounded up.
    fn due_second(&self, conn: &ConnHandle) -> usize {
        // last_seen is a wrapping u32 ms clock; work relative to the cursor.
        let cursor_ms = (self.cursor * 1000) as u32;
        let since = cursor_ms.wrapping_sub(conn.last_seen_ms.get()) as i32 as i64;
        let left_ms = (conn.expiry_ms as i64 - since).max(0) as u64;
        (self.cursor + left_ms.div_ceil(1000)).max(self.cursor + 1) as usize
    }

    /// Advance to shard time `now_ms`: expire silent connections (kick them)
    /// and re-slot the others. Returns how many were kicked.
    pub fn advance(&mut self, now_ms: u64) -> usize {
        let mut kicked = 0;
        let target = now_ms / 1000;
        while self.cursor < target {
            self.cursor += 1;
            let slot = std::mem::take(&mut self.slots[self.cursor as usize % SLOTS]);
            for weak in slot {
                let Some(conn) = weak.upgrade() else { continue };
                if conn.close_reason().is_some() {
                    continue;
                }
                if conn.expired(now_ms as u32) {
                    conn.kick(CloseReason::KeepAliveTimeout);
                    kicked += 1;
                } else {
                    let due = self.due_second(&conn);
                    self.slots[due % SLOTS].push(weak);
                }
            }
        }
        kicked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ProtocolVersion;

    fn conn(ka: u16, now: u32) -> Rc<ConnHandle> {
        Rc::new(ConnHandle::new(1, ProtocolVersion::V3_1_1, ka, now))
    }

    #[test]
    fn expires_after_one_and_a_half_keepalives_not_before() {
        let mut w = Wheel::default();
        let c = conn(2, 0); // 3 s
        w.add(&c);
        assert_eq!(w.advance(2_999), 0);
        assert!(c.close_reason().is_none());
        assert_eq!(w.advance(4_000), 1);
        assert_eq!(c.close_reason(), Some(CloseReason::KeepAliveTimeout));
    }

    #[test]
    fn activity_postpones_and_dead_entries_vanish() {
        let mut w = Wheel::default();
        let c = conn(1, 0);
        w.add(&c);
        c.last_seen_ms.set(1_200);
        assert_eq!(w.advance(2_000), 0, "re-slotted after activity");
        assert_eq!(w.advance(3_000), 1);
        let gone = conn(1, 0);
        w.add(&gone);
        drop(gone);
        assert_eq!(w.advance(10_000), 0);
    }

    #[test]
    fn long_keepalives_wrap_the_wheel() {
        let mut w = Wheel::default();
        let c = conn(600, 0); // 900 s > 512 slots
        w.add(&c);
        assert_eq!(w.advance(899_000), 0);
        assert_eq!(w.advance(901_000), 1);
    }
}
