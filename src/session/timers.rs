//! The timers of offline sessions: session expiry and delayed wills. One
//! coarse wheel per shard (512 one-second slots of session keys), checked
//! lazily like the keep-alive wheel (`shard/wheel.rs`): an entry only says
//! "look at this session then"; the session's own clock (`offline_since_ms`,
//! its expiry interval, its will's delay) decides, so an entry made stale by
//! a reconnect costs one lookup and nothing else. Only offline sessions with
//! something timed have entries; a 3.1.1 session that never expires has none.

use super::SessionKey;

const SLOTS: usize = 512;

pub(super) struct Timers {
    slots: Vec<Vec<SessionKey>>,
    /// Seconds of shard time already processed.
    cursor: u64,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            slots: (0..SLOTS).map(|_| Vec::new()).collect(),
            cursor: 0,
        }
    }
}

impl Timers {
    /// Look at `key` at shard time `due_ms` (rounded up to the second; a
    /// due time more than 512 s away comes round early and is re-slotted).
    pub fn schedule(&mut self, key: SessionKey, due_ms: u64) {
        let second = due_ms.div_ceil(1000).max(self.cursor + 1);
        self.slots[second as usize % SLOTS].push(key);
    }

    /// Keys whose slot came up by shard time `now_ms`.
    pub fn due(&mut self, now_ms: u64) -> Vec<SessionKey> {
        let mut out = Vec::new();
        let target = now_ms / 1000;
        if target - self.cursor.min(target) > SLOTS as u64 {
            // A whole turn or more behind: every slot is due (entries not
            // due yet are re-slotted by the caller).
            self.slots.iter_mut().for_each(|s| out.append(s));
            self.cursor = target;
        }
        while self.cursor < target {
            self.cursor += 1;
            out.append(&mut self.slots[self.cursor as usize % SLOTS]);
        }
        out
    }
}
