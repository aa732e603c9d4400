//! The stable client-ID hash that picks a connection's owner shard.
//!
//! It must give the same answer across restarts, builds and machines, since
//! persisted sessions are found again by it: FNV-1a 64 over the bytes with the
//! standard offset basis, finished with the murmur3 64-bit mixer so that IDs
//! differing only in their last byte still spread over shards. Never std's
//! `RandomState`.

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

/// The shard that owns `client_id` among `shards` shards.
pub fn owner_shard(client_id: &[u8], shards: usize) -> usize {
    debug_assert!(shards > 0);
    (stable_hash(client_id) % shards as u64) as usize
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
}
