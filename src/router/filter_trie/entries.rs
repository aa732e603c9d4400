//! The (key, data) entries subscribed on one filter.
//!
//! Most filters have one or a handful of subscribers, for which a short
//! vector scanned linearly beats any map in both memory and speed. A few
//! (`news/#` with 100k subscribers) have many, and those must not make
//! subscribe or unsubscribe O(n): past `SMALL_MAX` entries they move to a map.

use super::hasher::IntBuildHasher;
use std::collections::HashMap;
use std::hash::Hash;

/// Largest entry count kept in the vector form.
const SMALL_MAX: usize = 16;
/// A map shrinking to this many entries goes back to a vector. Well below
/// `SMALL_MAX` so a set hovering around the threshold does not flip back
/// and forth on every call.
const BACK_TO_SMALL: usize = SMALL_MAX / 4;

pub(super) enum Entries<K, D> {
    Small(Vec<(K, D)>),
    Large(HashMap<K, D, IntBuildHasher>),
}

impl<K, D> Default for Entries<K, D> {
    fn default() -> Self {
        Entries::Small(Vec::new())
    }
}

impl<K, D> Entries<K, D> {
    pub(super) fn len(&self) -> usize {
        match self {
            Entries::Small(v) => v.len(),
            Entries::Large(m) => m.len(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K: Copy + Eq + Hash, D> Entries<K, D> {
    pub(super) fn get(&self, key: &K) -> Option<&D> {
        match self {
            Entries::Small(v) => v.iter().find(|(k, _)| k == key).map(|(_, d)| d),
            Entries::Large(m) => m.get(key),
        }
    }

    /// Insert or replace; returns the replaced data.
    pub(super) fn insert(&mut self, key: K, data: D) -> Option<D> {
        let vec = match self {
            Entries::Large(m) => return m.insert(key, data),
            Entries::Small(v) => v,
        };
        if let Some(slot) = vec.iter_mut().find(|(k, _)| *k == key) {
            return Some(std::mem::replace(&mut slot.1, data));
        }
        if vec.len() < SMALL_MAX {
            vec.push((key, data));
            return None;
        }
        let mut map = HashMap::with_capacity_and_hasher(2 * SMALL_MAX, IntBuildHasher::default());
        map.extend(vec.drain(..));
        map.insert(key, data);
        *self = Entries::Large(map);
        None
    }

    pub(super) fn remove(&mut self, key: &K) -> Option<D> {
        match self {
            Entries::Small(v) => {
                let pos = v.iter().position(|(k, _)| k == key)?;
                Some(v.swap_remove(pos).1)
            }
            Entries::Large(m) => {
                let removed = m.remove(key)?;
                if m.len() <= BACK_TO_SMALL {
                    *self = Entries::Small(m.drain().collect());
                } else if m.len() < m.capacity() / 4 {
                    // Give memory back after a mass unsubscribe; amortised
                    // O(1) since the map must shrink 4x again to get here.
                    m.shrink_to_fit();
                }
                Some(removed)
            }
        }
    }

    pub(super) fn for_each(&self, f: &mut impl FnMut(&K, &D)) {
        match self {
            Entries::Small(v) => v.iter().for_each(|(k, d)| f(k, d)),
            Entries::Large(m) => m.iter().for_each(|(k, d)| f(k, d)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_into_a_map_and_shrinks_back() {
        let mut e: Entries<u32, u32> = Entries::default();
        for k in 0..100 {
            assert_eq!(e.insert(k, k), None);
        }
        assert!(matches!(e, Entries::Large(_)));
        assert_eq!(e.insert(7, 70), Some(7));
        assert_eq!(e.get(&7), Some(&70));
        assert_eq!(e.len(), 100);
        for k in 0..98 {
            assert!(e.remove(&k).is_some());
        }
        assert_eq!(e.remove(&0), None);
        assert!(matches!(&e, Entries::Small(v) if v.len() == 2));
        assert_eq!(e.get(&99), Some(&99));
        let mut seen = Vec::new();
        e.for_each(&mut |k, _| seen.push(*k));
        seen.sort();
        assert_eq!(seen, [98, 99]);
    }
}
