//! Who owns a client ID (and a retained topic): stable hash → fixed
//! partition → shard.
//!
//! The hash must give the same answer across restarts, builds and machines,
//! since persisted sessions are found again by it: FNV-1a 64 over the bytes
//! with the standard offset basis, finished with the murmur3 64-bit mixer so
//! that IDs differing only in their last byte still spread. Never std's
//! `RandomState`.
//!
//! The hash picks one of [`PARTITIONS`] fixed partitions, and partitions are
//! mapped onto shards. Stored state is keyed by partition, so restarting with
//! another shard count re-homes whole partitions instead of re-hashing every
//! session (`hash % shards` would move almost all of them); a cluster later
//! maps the same partitions onto nodes × shards. This file is the only place
//! that mapping lives.

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Stable 64-bit hash of `bytes`.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h = FNV_OFFSET;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(FNV_PRIME);
    }
    fmix64(h)
}

fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

/// Fixed number of partitions. Part of the on-disk contract: never change
/// it. 4,096 spreads evenly over any realistic shard count (at most one
/// partition of imbalance per shard) and keeps a per-partition table small.
pub const PARTITIONS: u16 = 4096;

/// One of the [`PARTITIONS`] fixed partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Partition(u16);

impl Partition {
    /// The partition of a client ID or retained topic.
    pub fn of(key: &[u8]) -> Partition {
        Partition((stable_hash(key) % PARTITIONS as u64) as u16)
    }

    pub fn index(self) -> u16 {
        self.0
    }
}

/// How partitions map onto the shards of this process. Round robin: shard
/// `s` of `n` owns partitions `s, s + n, s + 2n …`, so every shard owns
/// `PARTITIONS / n` of them, give or take one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionMap {
    shards: u16,
}

impl PartitionMap {
    pub fn new(shards: usize) -> PartitionMap {
        assert!(
            (1..=PARTITIONS as usize).contains(&shards),
            "1 to {PARTITIONS} shards"
        );
        PartitionMap {
            shards: shards as u16,
        }
    }

    pub fn shard_of(self, p: Partition) -> usize {
        (p.0 % self.shards) as usize
    }

    /// The shard of partition number `p` as stored in the durable log.
    pub fn shard_of_partition(self, p: u16) -> usize {
        (p % PARTITIONS % self.shards) as usize
    }

    /// The partitions shard `shard` owns, in order.
    pub fn partitions_of(self, shard: usize) -> impl Iterator<Item = Partition> {
        (shard as u16..PARTITIONS)
            .step_by(self.shards as usize)
            .map(Partition)
    }

    /// The shard that owns `key` (a client ID or a retained topic).
    pub fn owner(self, key: &[u8]) -> usize {
        self.shard_of(Partition::of(key))
    }
}

/// The shard that owns `client_id` among `shards` shards.
pub fn owner_shard(client_id: &[u8], shards: usize) -> usize {
    PartitionMap::new(shards).owner(client_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_pinned() {
        // These values are part of the on-disk contract: never change them.
        assert_eq!(stable_hash(b""), 0xefd0_1f60_ba99_2926);
        assert_eq!(stable_hash(b"a"), 0x82a2_a958_a9be_ce5b);
        assert_eq!(stable_hash(b"client-1"), 0xf93b_d2c1_6ac6_882d);
        assert_eq!(owner_shard(b"sensor/42", 2), 0);
        assert_eq!(owner_shard(b"client-1", 2), 1);
        let spread: Vec<usize> = (0..64)
            .map(|i| owner_shard(format!("c{i}").as_bytes(), 4))
            .collect();
        for s in 0..4 {
            assert!(spread.iter().filter(|&&x| x == s).count() > 4, "{spread:?}");
        }
    }

    #[test]
    fn partitions_are_pinned() {
        // Part of the on-disk contract too.
        assert_eq!(Partition::of(b"").index(), 0x2926 % 4096);
        assert_eq!(Partition::of(b"client-1").index(), (0x882d % 4096) as u16);
        assert_eq!(PARTITIONS, 4096);
    }

    #[test]
    fn every_partition_has_exactly_one_shard() {
        for n in [1, 2, 3, 7, 64] {
            let map = PartitionMap::new(n);
            let mut owned = vec![0u32; n];
            let mut seen = vec![false; PARTITIONS as usize];
            for (s, count) in owned.iter_mut().enumerate() {
                for p in map.partitions_of(s) {
                    assert_eq!(map.shard_of(p), s);
                    assert!(!std::mem::replace(&mut seen[p.index() as usize], true));
                    *count += 1;
                }
            }
            assert!(
                seen.iter().all(|&x| x),
                "{n} shards leave a partition unowned"
            );
            let (lo, hi) = (owned.iter().min().unwrap(), owned.iter().max().unwrap());
            assert!(hi - lo <= 1, "{n} shards: {owned:?}");
        }
    }

    #[test]
    fn a_new_shard_count_moves_partitions_not_keys() {
        // A client keeps its partition whatever the shard count; only the
        // partition's shard changes.
        let ids: Vec<String> = (0..1000).map(|i| format!("client-{i}")).collect();
        for id in &ids {
            let p = Partition::of(id.as_bytes());
            for n in [1, 2, 3, 5] {
                assert_eq!(
                    PartitionMap::new(n).owner(id.as_bytes()),
                    PartitionMap::new(n).shard_of(p)
                );
            }
        }
        // Powers of two below PARTITIONS agree with the old `hash % shards`.
        for id in &ids {
            let h = stable_hash(id.as_bytes());
            assert_eq!(owner_shard(id.as_bytes(), 4), (h % 4) as usize);
        }
    }
}
