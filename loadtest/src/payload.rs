//! The header every benchmark message starts with, then padding.
//!
//! Layout (little endian), 24 bytes:
//! `magic "SB" | run u16 | publisher id u32 | sequence u64 | send time u64
//! (ns, CLOCK_MONOTONIC)`. The magic lets a subscriber tell our messages
//! from anything else on the topic (retained messages, other tools) instead
//! of decoding garbage as latency; the run id tells this run's publisher 3
//! from the previous run's, whose backlog a broker may still be delivering.

pub const HEADER_LEN: usize = 24;
const MAGIC: [u8; 2] = *b"SB";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub run: u16,
    pub pub_id: u32,
    pub seq: u64,
    pub ts_ns: u64,
}

/// A payload of `size` bytes (at least [`HEADER_LEN`]); the padding is a
/// fixed non-zero pattern so nothing on the path can shortcut runs of zeros.
pub fn new_payload(size: usize) -> Vec<u8> {
    assert!(size >= HEADER_LEN, "payload smaller than the header");
    let mut p: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
    p[..2].copy_from_slice(&MAGIC);
    p
}

/// Stamp `h` into the first [`HEADER_LEN`] bytes of `payload`.
pub fn write_header(payload: &mut [u8], h: &Header) {
    payload[..2].copy_from_slice(&MAGIC);
    payload[2..4].copy_from_slice(&h.run.to_le_bytes());
    payload[4..8].copy_from_slice(&h.pub_id.to_le_bytes());
    payload[8..16].copy_from_slice(&h.seq.to_le_bytes());
    payload[16..24].copy_from_slice(&h.ts_ns.to_le_bytes());
}

/// `None` when the payload is not one of ours (too short or wrong magic).
pub fn read_header(payload: &[u8]) -> Option<Header> {
    if payload.len() < HEADER_LEN || payload[..2] != MAGIC {
        return None;
    }
    let u64_at = |i: usize| u64::from_le_bytes(payload[i..i + 8].try_into().unwrap());
    Some(Header {
        run: u16::from_le_bytes([payload[2], payload[3]]),
        pub_id: u32::from_le_bytes(payload[4..8].try_into().unwrap()),
        seq: u64_at(8),
        ts_ns: u64_at(16),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut p = new_payload(100);
        let h = Header {
            run: 0xBEEF,
            pub_id: 0xDEAD_BEEF,
            seq: u64::MAX - 1,
            ts_ns: 123_456_789_012,
        };
        write_header(&mut p, &h);
        assert_eq!(p.len(), 100);
        assert_eq!(read_header(&p), Some(h));
    }

    #[test]
    fn exactly_header_sized() {
        let mut p = new_payload(HEADER_LEN);
        let h = Header {
            run: 0,
            pub_id: 7,
            seq: 1,
            ts_ns: 2,
        };
        write_header(&mut p, &h);
        assert_eq!(read_header(&p), Some(h));
    }

    #[test]
    fn foreign_payloads_are_rejected() {
        assert_eq!(read_header(b"hello"), None);
        assert_eq!(read_header(&[0u8; 64]), None);
        let p = new_payload(30);
        assert_eq!(read_header(&p[..HEADER_LEN - 1]), None);
    }

    #[test]
    fn padding_is_not_zero() {
        let p = new_payload(64);
        assert!(p[HEADER_LEN..].iter().all(|&b| b != 0));
    }

    #[test]
    #[should_panic]
    fn too_small_payload_panics() {
        new_payload(10);
    }
}
