//! The header every benchmark message starts with, then padding.
//!
//! Layout (little endian), 16 bytes, so a 16-byte payload is all header:
//!
//! | bytes  | field                                                        |
//! |--------|--------------------------------------------------------------|
//! | 0      | magic `0xB5`                                                 |
//! | 1      | run id (low 8 bits of the `%r` run tag)                      |
//! | 2..6   | publisher id, u32                                            |
//! | 6..10  | sequence, low 32 bits                                        |
//! | 10..16 | send time, low 48 bits of CLOCK_MONOTONIC ns                 |
//!
//! What each field buys, and why the narrow ones are enough:
//! - The magic tells our messages from anything else on the topic
//!   (retained messages, other tools) instead of decoding garbage as
//!   latency. `0xB5` is a UTF-8 continuation byte, so no text payload
//!   (JSON, plain strings) can start with it.
//! - The send time is cut to 48 bits and restored by the receiver from its
//!   own clock (see [`read_header`]): exact to the nanosecond for any
//!   latency under 2^48 ns (78 hours), and needing no epoch, so a `sub`
//!   process still times a `pub` process's messages. The restored time also
//!   screens out other runs: nothing this process's publishers sent is older
//!   than the process ([`read_ours`]), so a previous run's backlog is
//!   rejected whatever its run id.
//! - The run id is left for what time cannot tell apart: two runs at once on
//!   the same topics, and, in a `sub` process (which takes every run),
//!   which run a publisher id belongs to.
//! - The sequence is cut to 32 bits and widened again per (run, publisher)
//!   by the receiver ([`crate::stats::seq::SeqTracker::extend`]), so a
//!   publisher may send more than 4 G messages; only a jump of 2^31 or more
//!   between two deliveries of one publisher would be misread.

pub const HEADER_LEN: usize = 16;
const MAGIC: u8 = 0xB5;
/// The send time on the wire: its low 48 bits.
const TS_MASK: u64 = (1 << 48) - 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub run: u8,
    pub pub_id: u32,
    /// Low 32 bits of the publisher's sequence number.
    pub seq: u32,
    /// Send time, CLOCK_MONOTONIC ns. Only its low 48 bits travel;
    /// [`read_header`] restores the rest.
    pub ts_ns: u64,
}

/// A payload of `size` bytes (at least [`HEADER_LEN`]); the padding is a
/// fixed non-zero pattern so nothing on the path can shortcut runs of zeros.
pub fn new_payload(size: usize) -> Vec<u8> {
    assert!(size >= HEADER_LEN, "payload smaller than the header");
    let mut p: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
    p[0] = MAGIC;
    p
}

/// Stamp `h` into the first [`HEADER_LEN`] bytes of `payload`.
pub fn write_header(payload: &mut [u8], h: &Header) {
    payload[0] = MAGIC;
    payload[1] = h.run;
    payload[2..6].copy_from_slice(&h.pub_id.to_le_bytes());
    payload[6..10].copy_from_slice(&h.seq.to_le_bytes());
    payload[10..16].copy_from_slice(&(h.ts_ns & TS_MASK).to_le_bytes()[..6]);
}

/// The header of a payload received at `now` (CLOCK_MONOTONIC ns); `None`
/// when it is not one of ours (too short or wrong magic).
///
/// The send time comes back whole: the latest instant at or before `now`
/// with the 48 bits on the wire, which is the true send time whenever the
/// message took less than 78 hours (sender and receiver share the clock).
pub fn read_header(payload: &[u8], now: u64) -> Option<Header> {
    if payload.len() < HEADER_LEN || payload[0] != MAGIC {
        return None;
    }
    let mut ts = [0u8; 8];
    ts[..6].copy_from_slice(&payload[10..16]);
    let age = now.wrapping_sub(u64::from_le_bytes(ts)) & TS_MASK;
    Some(Header {
        run: payload[1],
        pub_id: u32::from_le_bytes(payload[2..6].try_into().unwrap()),
        seq: u32::from_le_bytes(payload[6..10].try_into().unwrap()),
        ts_ns: now.saturating_sub(age),
    })
}

/// [`read_header`], keeping only what this process's run may have sent:
/// run id `run` (`None`: any run, for `sub`) and sent at or after
/// `epoch_ns`, when the process began. Anything older is a previous run's
/// backlog (or not a timestamp at all), whatever its run id says.
pub fn read_ours(payload: &[u8], now: u64, run: Option<u8>, epoch_ns: u64) -> Option<Header> {
    read_header(payload, now)
        .filter(|h| run.is_none_or(|r| r == h.run))
        .filter(|h| h.ts_ns >= epoch_ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 5_000_000_000_000;

    fn stamped(size: usize, h: &Header) -> Vec<u8> {
        let mut p = new_payload(size);
        write_header(&mut p, h);
        p
    }

    fn header(run: u8, ts_ns: u64) -> Header {
        Header {
            run,
            pub_id: 0xDEAD_BEEF,
            seq: u32::MAX - 1,
            ts_ns,
        }
    }

    #[test]
    fn round_trip() {
        let h = header(0xBE, NOW - 123_456_789);
        let p = stamped(100, &h);
        assert_eq!(p.len(), 100);
        assert_eq!(read_header(&p, NOW), Some(h));
    }

    #[test]
    fn sixteen_byte_payload_is_all_header() {
        assert_eq!(HEADER_LEN, 16);
        let h = Header {
            run: 0,
            pub_id: 7,
            seq: 1,
            ts_ns: NOW - 2,
        };
        let p = stamped(16, &h);
        assert_eq!(read_header(&p, NOW), Some(h));
        assert_eq!(read_ours(&p, NOW, Some(0), NOW - 10), Some(h));
    }

    #[test]
    fn send_time_is_exact_to_the_nanosecond() {
        for latency in [0, 1, 999, 1_000, 123_456_789, (1 << 48) - 1] {
            let p = stamped(16, &header(1, NOW + (1 << 50) - latency));
            let h = read_header(&p, NOW + (1 << 50)).unwrap();
            assert_eq!(NOW + (1 << 50) - h.ts_ns, latency);
        }
    }

    #[test]
    fn send_time_survives_the_48_bit_wrap() {
        let sent = (1 << 48) - 10;
        let p = stamped(16, &header(1, sent));
        assert_eq!(read_header(&p, (1 << 48) + 100).unwrap().ts_ns, sent);
        // A receiver early in the clock's life cannot see a time before 0.
        let p = stamped(16, &header(1, 500));
        assert_eq!(read_header(&p, 100).unwrap().ts_ns, 0);
    }

    #[test]
    fn foreign_payloads_are_rejected() {
        assert_eq!(read_header(b"hello", NOW), None);
        assert_eq!(read_header(&[0u8; 64], NOW), None);
        assert_eq!(read_header(b"{\"temperature\": 21.5}", NOW), None);
        assert_eq!(read_header("µs since boot, in text".as_bytes(), NOW), None);
        let p = new_payload(30);
        assert_eq!(read_header(&p[..HEADER_LEN - 1], NOW), None);
    }

    #[test]
    fn wrong_run_is_rejected_unless_any_run() {
        let p = stamped(16, &header(3, NOW - 1_000));
        assert_eq!(read_ours(&p, NOW, Some(4), 0), None);
        assert!(read_ours(&p, NOW, Some(3), 0).is_some());
        assert!(read_ours(&p, NOW, None, 0).is_some());
    }

    #[test]
    fn sent_before_this_process_is_rejected_even_with_our_run_id() {
        let epoch = NOW - 1_000_000;
        // A previous run that happened to draw the same run id.
        let old = stamped(16, &header(3, epoch - 1));
        assert_eq!(read_ours(&old, NOW, Some(3), epoch), None);
        assert_eq!(read_ours(&old, NOW, None, epoch), None);
        let new = stamped(16, &header(3, epoch));
        assert!(read_ours(&new, NOW, Some(3), epoch).is_some());
    }

    #[test]
    fn padding_is_not_zero() {
        let p = new_payload(64);
        assert!(p[HEADER_LEN..].iter().all(|&b| b != 0));
    }

    #[test]
    #[should_panic]
    fn too_small_payload_panics() {
        new_payload(HEADER_LEN - 1);
    }
}
