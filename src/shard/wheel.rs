//! One coarse timer wheel per shard for keep-alive and idle parking: 512
//! one-second slots of weak connection handles. A packet only stores the
//! shard clock into its handle (`last_seen_ms`, `last_active_ms`); the wheel
//! re-checks lazily when a slot comes due and re-slots live connections. No
//! timer object per connection.

use crate::connection::{CloseReason, ConnHandle};
use std::rc::{Rc, Weak};

const SLOTS: usize = 512;

/// Connections asked to park per second at most. Parking costs the shard
/// ~15 µs per connection (dup, epoll_ctl, dropping the glommio stream) and
/// every parked task runs in the same queue as the live ones: after a
/// connection storm, 19,000 parks at once stalled the shard for tens of ms.
/// 1,024 per second bounds that to ~15 ms a second; the rest wait their turn.
pub const PARK_BUDGET: usize = 1024;

/// A handle has one live entry; re-adding it bumps `wheel_gen` and the older
/// entry is dropped when its slot comes up.
struct Entry {
    conn: Weak<ConnHandle>,
    gen: u32,
}

pub struct Wheel {
    slots: Vec<Vec<Entry>>,
    /// Seconds of shard time already processed.
    cursor: u64,
    /// Idle time after which a connection is asked to park (0: never).
    park_after_ms: u32,
}

impl Wheel {
    pub fn new(park_after_ms: u32) -> Wheel {
        Wheel {
            slots: (0..SLOTS).map(|_| Vec::new()).collect(),
            cursor: 0,
            park_after_ms,
        }
    }

    pub fn park_after_ms(&self) -> u32 {
        self.park_after_ms
    }

    /// Stop asking connections to park (parking is unavailable).
    pub fn disable_parking(&mut self) {
        self.park_after_ms = 0;
    }

    /// Watch a connection, replacing its previous entry. Called when it
    /// connects and when it leaves the parking lot (its next idle check may
    /// be much earlier than its keep-alive entry).
    pub fn add(&mut self, conn: &Rc<ConnHandle>) {
        let gen = conn.wheel_gen.get().wrapping_add(1);
        conn.wheel_gen.set(gen);
        if let Some(due) = self.due_second(conn) {
            let conn = Rc::downgrade(conn);
            self.slots[due % SLOTS].push(Entry { conn, gen });
        }
    }

    /// Next second at which `conn` needs a look (keep-alive expiry, or the
    /// end of its idle time while it is not parked), rounded up; `None` when
    /// nothing about it is timed.
    fn due_second(&self, conn: &ConnHandle) -> Option<usize> {
        let keep_alive =
            (conn.expiry_ms != 0).then(|| self.left_ms(conn.last_seen_ms.get(), conn.expiry_ms));
        let park = (self.park_after_ms != 0 && !conn.parked())
            .then(|| self.left_ms(conn.last_active_ms.get(), self.park_after_ms));
        let left = match (keep_alive, park) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        Some((self.cursor + left.div_ceil(1000)).max(self.cursor + 1) as usize)
    }

    /// Milliseconds from the cursor until `since + span` (0 if past).
    fn left_ms(&self, since_ms: u32, span_ms: u32) -> u64 {
        // The handle clocks are wrapping u32 ms; work relative to the cursor.
        let cursor_ms = (self.cursor * 1000) as u32;
        let elapsed = cursor_ms.wrapping_sub(since_ms) as i32 as i64;
        (span_ms as i64 - elapsed).max(0) as u64
    }

    /// Advance to shard time `now_ms`: expire silent connections (kick
    /// them), ask idle ones to park, re-slot the others. Returns how many
    /// were kicked.
    pub fn advance(&mut self, now_ms: u64) -> usize {
        let mut kicked = 0;
        let mut parks = 0;
        let now = now_ms as u32;
        let target = now_ms / 1000;
        while self.cursor < target {
            self.cursor += 1;
            let slot = std::mem::take(&mut self.slots[self.cursor as usize % SLOTS]);
            for e in slot {
                let Some(conn) = e.conn.upgrade() else {
                    continue;
                };
                if conn.wheel_gen.get() != e.gen || conn.close_reason().is_some() {
                    continue;
                }
                if conn.expired(now) {
                    conn.kick(CloseReason::KeepAliveTimeout);
                    kicked += 1;
                    continue;
                }
                // Over budget: due again next second (`due_second`).
                let idle = !conn.parked() && conn.idle_for(self.park_after_ms, now);
                if idle && parks < PARK_BUDGET {
                    parks += 1;
                    conn.request_park();
                }
                if let Some(due) = self.due_second(&conn) {
                    self.slots[due % SLOTS].push(e);
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
        let mut w = Wheel::new(0);
        let c = conn(2, 0); // 3 s
        w.add(&c);
        assert_eq!(w.advance(2_999), 0);
        assert!(c.close_reason().is_none());
        assert_eq!(w.advance(4_000), 1);
        assert_eq!(c.close_reason(), Some(CloseReason::KeepAliveTimeout));
    }

    #[test]
    fn activity_postpones_and_dead_entries_vanish() {
        let mut w = Wheel::new(0);
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
        let mut w = Wheel::new(0);
        let c = conn(600, 0); // 900 s > 512 slots
        w.add(&c);
        assert_eq!(w.advance(899_000), 0);
        assert_eq!(w.advance(901_000), 1);
    }

    #[test]
    fn idle_connections_are_asked_to_park_pings_do_not_count() {
        let mut w = Wheel::new(2_000);
        let c = conn(0, 0); // no keep-alive: only the idle clock
        w.add(&c);
        w.advance(1_000);
        assert!(!c.park_requested());
        c.last_seen_ms.set(1_500); // a PINGREQ: seen, not active
        w.advance(2_000);
        assert!(c.park_requested(), "idle 2 s despite the ping");
    }

    #[test]
    fn parked_connections_keep_only_their_keepalive_entry() {
        let mut w = Wheel::new(1_000);
        let c = conn(4, 0); // 6 s
        w.add(&c);
        w.advance(1_000);
        assert!(c.park_requested());
        c.set_parked(Some(0));
        assert_eq!(w.advance(5_000), 0);
        assert!(!c.park_requested(), "no new request while parked");
        assert_eq!(
            w.advance(6_000),
            1,
            "keep-alive still expires a parked connection"
        );
    }

    #[test]
    fn re_adding_replaces_the_old_entry() {
        let mut w = Wheel::new(0);
        let c = conn(1, 0);
        for _ in 0..5 {
            w.add(&c);
        }
        let entries: usize = w.slots.iter().map(Vec::len).sum();
        assert_eq!(entries, 5);
        assert_eq!(w.advance(2_000), 1, "kicked once, stale entries dropped");
        assert_eq!(w.slots.iter().map(Vec::len).sum::<usize>(), 0);
    }

    #[test]
    fn parks_are_requested_at_most_a_budget_a_second() {
        let mut w = Wheel::new(1_000);
        let conns: Vec<_> = (0..PARK_BUDGET + 10).map(|_| conn(0, 0)).collect();
        conns.iter().for_each(|c| w.add(c));
        w.advance(1_000);
        let asked = |cs: &[Rc<ConnHandle>]| cs.iter().filter(|c| c.park_requested()).count();
        assert_eq!(asked(&conns), PARK_BUDGET);
        conns
            .iter()
            .filter(|c| c.park_requested())
            .for_each(|c| c.set_parked(Some(0)));
        w.advance(2_000);
        assert_eq!(asked(&conns), 10, "the rest the next second");
    }
}
