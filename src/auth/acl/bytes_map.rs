//! A map from byte strings (topic levels, user names) to values, tuned for
//! the checks: a string under 8 bytes is keyed by its packed bytes, so a
//! lookup is one integer hash and one integer compare, with no `memcmp`
//! and no byte-by-byte hashing; longer ones are keyed by their bytes. Up to
//! [`SMALL`] entries live in a vector scanned by packed key.
//!
//! The keys come from the operator's file, never from clients, so the
//! fixed fast hash cannot be flooded; clients only look keys up.

use crate::router::filter_trie::IntBuildHasher;
use std::collections::HashMap;

const SMALL: usize = 8;

/// `s`'s length and first 7 bytes in one word: equal words mean equal
/// strings when `s` is under 8 bytes.
#[inline]
pub fn pack(s: &[u8]) -> u64 {
    let mut t = (s.len() as u64) << 56;
    for (i, &b) in s.iter().take(7).enumerate() {
        t |= (b as u64) << (8 * i);
    }
    t
}

pub enum BytesMap<V> {
    Small(Vec<(u64, Box<[u8]>, V)>),
    Map {
        short: HashMap<u64, V, IntBuildHasher>,
        long: HashMap<Box<[u8]>, V, IntBuildHasher>,
    },
}

impl<V> Default for BytesMap<V> {
    fn default() -> Self {
        BytesMap::Small(Vec::new())
    }
}

impl<V> BytesMap<V> {
    #[inline]
    pub fn is_empty(&self) -> bool {
        matches!(self, BytesMap::Small(v) if v.is_empty())
    }

    #[inline]
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        match self {
            BytesMap::Small(v) if v.is_empty() => None,
            BytesMap::Small(v) => {
                let p = pack(key);
                let hit = v
                    .iter()
                    .find(|e| e.0 == p && (key.len() < 8 || *e.1 == *key));
                hit.map(|e| &e.2)
            }
            BytesMap::Map { short, long } if key.len() < 8 => short.get(&pack(key)),
            BytesMap::Map { long, .. } => long.get(key),
        }
    }

    /// Insert `key` unless present; its value either way.
    pub fn get_or_insert(&mut self, key: &[u8], value: impl FnOnce() -> V) -> &mut V {
        if let BytesMap::Small(v) = self {
            if v.len() >= SMALL && !v.iter().any(|e| *e.1 == *key) {
                let mut m = BytesMap::Map {
                    short: HashMap::default(),
                    long: HashMap::default(),
                };
                for (_, k, val) in std::mem::take(v) {
                    m.insert(k, val);
                }
                *self = m;
            }
        }
        match self {
            BytesMap::Small(v) => {
                let at = match v.iter().position(|e| *e.1 == *key) {
                    Some(at) => at,
                    None => {
                        v.push((pack(key), key.into(), value()));
                        v.len() - 1
                    }
                };
                &mut v[at].2
            }
            BytesMap::Map { short, .. } if key.len() < 8 => {
                short.entry(pack(key)).or_insert_with(value)
            }
            BytesMap::Map { long, .. } => long.entry(key.into()).or_insert_with(value),
        }
    }

    fn insert(&mut self, key: Box<[u8]>, value: V) {
        match self {
            BytesMap::Map { short, .. } if key.len() < 8 => {
                short.insert(pack(&key), value);
            }
            BytesMap::Map { long, .. } => {
                long.insert(key, value);
            }
            BytesMap::Small(v) => v.push((pack(&key), key, value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_long_small_and_large() {
        let mut m = BytesMap::default();
        let keys: Vec<String> = (0..40)
            .map(|i| match i % 3 {
                0 => format!("{i}"),
                1 => format!("level-number-{i}"),
                _ => format!("1234567{i}"), // 8+ bytes sharing 7
            })
            .collect();
        for (i, k) in keys.iter().enumerate() {
            *m.get_or_insert(k.as_bytes(), || 0) += i;
            assert_eq!(m.get(k.as_bytes()), Some(&i), "{k}");
            *m.get_or_insert(k.as_bytes(), || 99) += 0; // present: kept
        }
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(m.get(k.as_bytes()), Some(&i), "{k}");
        }
        for miss in ["", "x", "12345670", "level-number-", "1234567"] {
            assert_eq!(m.get(miss.as_bytes()), None, "{miss}");
        }
        assert_ne!(pack(b"a"), pack(b"a\0"));
    }
}
