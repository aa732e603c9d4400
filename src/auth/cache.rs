//! A shard's cache of recent successful password checks, so a client that
//! reconnects with the same user name and password does not pay argon2
//! again. Only successes are kept: a wrong password always costs a full
//! verification (bounded per shard, `verify.rs`).
//!
//! Entries are keyed by a keyed hash (SHA-512 under a random per-shard key,
//! truncated to 128 bits) of user name and password, never the password:
//! a memory dump does not give a fast hash to brute-force. An entry lives
//! `ttl` from its verification (not refreshed by hits), the cache holds at
//! most `capacity` entries (the oldest goes first), and a reload of the
//! password file empties it.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha512};
use std::collections::{HashMap, VecDeque};

pub struct SuccessCache {
    secret: [u8; 32],
    ttl_ms: u64,
    capacity: usize,
    /// key → expiry (ms on the shard clock).
    live: HashMap<u128, u64>,
    /// Insertion order = expiry order (one TTL for all).
    order: VecDeque<(u128, u64)>,
    /// Moves on every clear, so a check that started before a reload does
    /// not cache its result after it.
    generation: u64,
}

impl SuccessCache {
    /// `ttl_ms` 0 turns the cache off.
    pub fn new(ttl_ms: u64, capacity: usize) -> SuccessCache {
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut secret);
        SuccessCache {
            secret,
            ttl_ms,
            capacity,
            live: HashMap::new(),
            order: VecDeque::new(),
            generation: 0,
        }
    }

    /// The cache key of a user name and password.
    pub fn key(&self, user: &str, password: &[u8]) -> u128 {
        let mut d = Sha512::new();
        d.update(self.secret);
        // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
        d.update((user.len() as u64).to_le_bytes());
        d.update(user.as_bytes());
        d.update(password);
        let out = d.finalize();
        u128::from_le_bytes(out[..16].try_into().expect("SHA-512 is 64 bytes"))
    }

    /// True if `key` was verified less than the TTL ago.
    pub fn hit(&mut self, key: u128, now_ms: u64) -> bool {
        self.expire(now_ms);
        self.live.get(&key).is_some_and(|&until| until > now_ms)
    }

    /// Remember a success, unless the cache was cleared since `generation`.
    pub fn insert(&mut self, key: u128, now_ms: u64, generation: u64) {
        if self.ttl_ms == 0 || self.capacity == 0 || generation != self.generation {
            return;
        }
        self.expire(now_ms);
        while self.live.len() >= self.capacity {
            self.pop_oldest();
        }
        let until = now_ms + self.ttl_ms;
        self.live.insert(key, until);
        self.order.push_back((key, until));
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Forget everything (the password file was reloaded).
    pub fn clear(&mut self) {
        self.live.clear();
        self.order.clear();
        self.generation += 1;
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.live.len()
    }

    fn expire(&mut self, now_ms: u64) {
        while self
            .order
            .front()
            .is_some_and(|&(_, until)| until <= now_ms)
        {
            self.pop_oldest();
        }
    }

    fn pop_oldest(&mut self) {
        let Some((key, until)) = self.order.pop_front() else {
            return;
        };
        // A key inserted again has a later entry further back: keep it.
        if self.live.get(&key) == Some(&until) {
            self.live.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_success_is_remembered_until_its_ttl() {
        let mut c = SuccessCache::new(1000, 8);
        let k = c.key("alice", b"secret");
        assert!(!c.hit(k, 0));
        c.insert(k, 0, c.generation());
        assert!(c.hit(k, 999));
        assert!(!c.hit(k, 1000));
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn keys_separate_user_and_password() {
        let c = SuccessCache::new(1000, 8);
        assert_ne!(c.key("ab", b"c"), c.key("a", b"bc"));
        assert_ne!(c.key("alice", b"secret"), c.key("alice", b"secreT"));
        assert_eq!(c.key("alice", b"secret"), c.key("alice", b"secret"));
        // Keyed: another shard's cache has another key for the same pair.
        let other = SuccessCache::new(1000, 8);
        assert_ne!(c.key("alice", b"secret"), other.key("alice", b"secret"));
    }

    #[test]
    fn bounded_the_oldest_goes_first() {
        let mut c = SuccessCache::new(10_000, 2);
        let (a, b, d) = (c.key("a", b""), c.key("b", b""), c.key("d", b""));
        c.insert(a, 0, 0);
        c.insert(b, 1, 0);
        c.insert(a, 2, 0); // again: a is now the newest
        c.insert(d, 3, 0);
        assert_eq!(c.len(), 2);
        assert!(!c.hit(b, 4), "the oldest entry was evicted");
        assert!(c.hit(a, 4) && c.hit(d, 4));
    }

    #[test]
    fn a_clear_forgets_and_refuses_checks_started_before_it() {
        let mut c = SuccessCache::new(1000, 8);
        let k = c.key("alice", b"secret");
        let started = c.generation();
        c.insert(k, 0, started);
        c.clear();
        assert!(!c.hit(k, 1));
        c.insert(k, 1, started);
        assert!(!c.hit(k, 2), "a check from before the reload is not cached");
        c.insert(k, 1, c.generation());
        assert!(c.hit(k, 2));
    }

    #[test]
    fn ttl_zero_is_off() {
        let mut c = SuccessCache::new(0, 8);
        let k = c.key("alice", b"secret");
        c.insert(k, 0, c.generation());
        assert!(!c.hit(k, 0));
    }
}
