//! Hashers for the router's maps.
//!
//! Two kinds of keys, two choices:
//!
//! * Entry keys (`K`: session keys, shard indexes) are small integers the
//!   broker assigns itself. No client can choose them, so a fast
//!   multiply-rotate hash with a fixed seed is safe, and being deterministic
//!   keeps iteration order reproducible from run to run.
//! * Topic levels are strings chosen by clients (filters they subscribe to,
//!   topics they retain on). A fixed, public hash lets a client precompute
//!   thousands of colliding levels under one node and turn every lookup there
//!   into a linear probe (hash flooding). They therefore use std's SipHash
//!   with a per-map random key. Nothing depends on the order of these maps.
//!
//! Cost, measured with `benches/topic_match.rs` against this file's
//! `IntHasher` in their place: matching a topic against 100k filters is
//! bound by cache misses and shows no difference beyond noise (~220-280 ns
//! either way); a retained `device/+/status` query over 50k topics, which
//! hashes one level per child, is ~40-60% slower (19 ms vs 12 ms) but runs
//! once per SUBSCRIBE, not per PUBLISH.

use std::hash::{BuildHasherDefault, Hasher};

/// Odd 64-bit constant with well-spread bits (derived from the golden ratio).
const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

/// Word-at-a-time multiply-rotate hasher for broker-assigned integer keys.
#[derive(Default, Clone, Copy)]
pub(crate) struct IntHasher {
    state: u64,
}

impl IntHasher {
    #[inline]
    fn mix(&mut self, word: u64) {
        self.state = (self.state.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }
}

impl Hasher for IntHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.mix(u64::from_le_bytes(chunk.try_into().expect("8-byte chunk")));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        // The length keeps "a" and "a\0" apart.
        self.mix(u64::from_le_bytes(tail) ^ ((rest.len() as u64) << 56));
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.mix(i as u64);
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.mix(i as u64);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.mix(i as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        // The multiply leaves its best bits at the top, while hashbrown picks
        // buckets with the low bits: fold the top half down.
        self.state ^ (self.state >> 32)
    }
}

/// Build hasher for maps keyed by broker-assigned integers.
pub(crate) type IntBuildHasher = BuildHasherDefault<IntHasher>;

/// Build hasher for maps keyed by client-chosen topic levels.
pub(crate) type LevelBuildHasher = std::collections::hash_map::RandomState;

/// Children of a trie node, by literal level.
pub(crate) type LevelMap<V> = std::collections::HashMap<Box<str>, V, LevelBuildHasher>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn hash_of<T: Hash>(value: T) -> u64 {
        IntBuildHasher::default().hash_one(value)
    }

    #[test]
    fn int_hash_is_deterministic_and_spreads_low_bits() {
        assert_eq!(hash_of(42u32), hash_of(42u32));
        // Sequential keys must land in distinct buckets of a small table.
        let mut buckets = [0u32; 64];
        for k in 0u32..6400 {
            buckets[(hash_of(k) & 63) as usize] += 1;
        }
        assert!(
            buckets.iter().all(|&n| (50..=150).contains(&n)),
            "{buckets:?}"
        );
        assert_ne!(hash_of("a"), hash_of("a\0"));
    }
}
