//! The record frame of the durable log (docs/persistence.md, "Log format"):
//!
//! ```text
//! u32 LE len        bytes after the crc (kind + partition + body), >= 3
//! u32 LE crc        CRC32C of those len bytes
//! u8     kind       0 is invalid
//! u16 LE partition  0..4095, or PARTITION_NONE for shard-wide records
//! body              kind-specific (src/persist/record.rs)
//! ```
//!
//! `len == 0` ends the data of a segment: the writer zero-pads the last
//! block, so the first unused byte reads as a zero length.

use crate::shard::PARTITIONS;
use std::fmt;

/// Kind of the first record of every segment (body: [`Header`]).
pub const KIND_HEADER: u8 = 1;
/// Kind of the record that ends a compaction snapshot (the shared design;
/// src/persist/record.rs encodes it). The scan needs it to tell a
/// complete snapshot segment.
pub const KIND_SNAP_END: u8 = 3;
/// Largest `len` a frame may have; anything larger is corruption. Well above
/// the largest MQTT packet (256 MiB), so a real record always fits.
pub const MAX_LEN: u32 = 512 << 20;
/// Partition of records that belong to the shard, not to one client ID or
/// retained topic (a message body, the header).
pub const PARTITION_NONE: u16 = 0xFFFF;
/// len + crc.
pub const FRAME_HEADER: usize = 8;
/// kind + partition: the smallest len.
const MIN_LEN: u32 = 3;

/// Header flag: a compaction snapshot starts in this segment, so older
/// segments may be gone.
pub const FLAG_SNAPSHOT: u8 = 1;
/// Header flag: the snapshot follows a write failure; records appended
/// before it may have been lost.
pub const FLAG_RESYNC: u8 = 2;
/// Format number in every segment header.
pub const FORMAT: u16 = 1;
/// Size of the header body: format, shard, segment, flags.
const HEADER_BODY: usize = 2 + 2 + 8 + 1;

/// Appends one frame to `buf`: reserves the 8-byte header, lets `body`
/// write after kind and partition, then fills in len and crc. Encoding in
/// place avoids a copy of every record.
pub fn put(buf: &mut Vec<u8>, kind: u8, partition: u16, body: impl FnOnce(&mut Vec<u8>)) {
    debug_assert!(kind != 0, "kind 0 is invalid");
    let start = buf.len();
    buf.extend_from_slice(&[0; FRAME_HEADER]);
    buf.push(kind);
    buf.extend_from_slice(&partition.to_le_bytes());
    body(buf);
    let len = buf.len() - start - FRAME_HEADER;
    assert!(len <= MAX_LEN as usize, "record of {len} bytes");
    let crc = crc32c::crc32c(&buf[start + FRAME_HEADER..]);
    buf[start..start + 4].copy_from_slice(&(len as u32).to_le_bytes());
    buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// One record read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Where the frame starts in its segment file.
    pub offset: u64,
    pub kind: u8,
    pub partition: u16,
    pub body: &'a [u8],
}

/// Why the bytes at `offset` are not a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bad {
    pub offset: u64,
    pub reason: String,
}

impl fmt::Display for Bad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "offset {}: {}", self.offset, self.reason)
    }
}

/// The frame at `at` in a segment's bytes and where the next one starts.
/// `Ok(None)`: the end of the data (end of `data`, or a zero length).
pub fn next(data: &[u8], at: usize) -> Result<Option<(Frame<'_>, usize)>, Bad> {
    parse(data, at).map_err(|why| bad(at, why.to_string()))
}

/// Whether a valid frame starts at `at` (a zero length is not one): the
/// forward search that tells a torn tail from corruption. Allocates
/// nothing, since the search tries every byte position.
pub fn valid_at(data: &[u8], at: usize) -> bool {
    matches!(parse(data, at), Ok(Some(_)))
}

/// Why bytes are not a frame, without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    Cut,
    Len(u32),
    PastEnd(u32),
    Crc(u32),
    Kind0,
    Partition(u16),
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::Cut => write!(f, "frame header cut by the end of the file"),
            Why::Len(n) => write!(f, "bad length {n}"),
            Why::PastEnd(n) => write!(f, "length {n} runs past the end of the file"),
            Why::Crc(n) => write!(f, "checksum mismatch (length {n})"),
            Why::Kind0 => write!(f, "record kind 0"),
            Why::Partition(p) => write!(f, "partition {p} out of range"),
        }
    }
}

fn parse(data: &[u8], at: usize) -> Result<Option<(Frame<'_>, usize)>, Why> {
    let rest = data.get(at..).unwrap_or(&[]);
    if rest.len() < 4 {
        return match rest.iter().all(|&b| b == 0) {
            true => Ok(None),
            false => Err(Why::Cut),
        };
    }
    let len = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes"));
    if len == 0 {
        return Ok(None);
    }
    if !(MIN_LEN..=MAX_LEN).contains(&len) {
        return Err(Why::Len(len));
    }
    let end = FRAME_HEADER + len as usize;
    if rest.len() < end {
        return Err(Why::PastEnd(len));
    }
    let payload = &rest[FRAME_HEADER..end];
    // Cheap field checks before the checksum, for the forward search.
    let partition = u16::from_le_bytes([payload[1], payload[2]]);
    if partition >= PARTITIONS && partition != PARTITION_NONE {
        return Err(Why::Partition(partition));
    }
    if payload[0] == 0 {
        return Err(Why::Kind0);
    }
    let crc = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes"));
    if crc32c::crc32c(payload) != crc {
        return Err(Why::Crc(len));
    }
    let frame = Frame {
        offset: at as u64,
        kind: payload[0],
        partition,
        body: &payload[3..],
    };
    Ok(Some((frame, at + end)))
}

fn bad(at: usize, reason: String) -> Bad {
    Bad {
        offset: at as u64,
        reason,
    }
}

/// The body of a segment's first record (kind [`KIND_HEADER`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub shard: u16,
    pub segment: u64,
    pub flags: u8,
}

impl Header {
    /// Appends the whole HEADER frame.
    pub fn put(&self, buf: &mut Vec<u8>) {
        put(buf, KIND_HEADER, PARTITION_NONE, |b| {
            b.extend_from_slice(&FORMAT.to_le_bytes());
            b.extend_from_slice(&self.shard.to_le_bytes());
            b.extend_from_slice(&self.segment.to_le_bytes());
            b.push(self.flags);
        });
    }

    /// Decodes a HEADER frame's body.
    pub fn decode(body: &[u8]) -> Result<Header, String> {
        if body.len() != HEADER_BODY {
            return Err(format!("header body of {} bytes", body.len()));
        }
        let format = u16::from_le_bytes([body[0], body[1]]);
        if format != FORMAT {
            return Err(format!("unknown log format {format}"));
        }
        Ok(Header {
            shard: u16::from_le_bytes([body[2], body[3]]),
            segment: u64::from_le_bytes(body[4..12].try_into().expect("8 bytes")),
            flags: body[12],
        })
    }

    pub fn snapshot(&self) -> bool {
        self.flags & FLAG_SNAPSHOT != 0
    }

    pub fn resync(&self) -> bool {
        self.flags & FLAG_RESYNC != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_frames() -> Vec<u8> {
        let mut buf = Vec::new();
        put(&mut buf, 10, 7, |b| b.extend_from_slice(b"hello"));
        put(&mut buf, 30, PARTITION_NONE, |_| {});
        buf
    }

    #[test]
    fn round_trip() {
        let buf = two_frames();
        let (f, at) = next(&buf, 0).unwrap().unwrap();
        assert_eq!(
            (f.offset, f.kind, f.partition, f.body),
            (0, 10, 7, &b"hello"[..])
        );
        assert_eq!(at, 8 + 3 + 5);
        let (g, end) = next(&buf, at).unwrap().unwrap();
        assert_eq!((g.kind, g.partition, g.body.len()), (30, PARTITION_NONE, 0));
        assert_eq!(end, buf.len());
        assert_eq!(next(&buf, end), Ok(None));
    }

    #[test]
    fn zero_padding_ends_the_data() {
        let mut buf = two_frames();
        let end = buf.len();
        buf.resize(4096, 0);
        let (_, at) = next(&buf, 0).unwrap().unwrap();
        let (_, at) = next(&buf, at).unwrap().unwrap();
        assert_eq!(at, end);
        assert_eq!(next(&buf, at), Ok(None));
        assert_eq!(next(&buf, 4094), Ok(None));
    }

    #[test]
    fn flipped_bit_is_a_checksum_mismatch() {
        let mut buf = two_frames();
        buf[12] ^= 0x20;
        let e = next(&buf, 0).unwrap_err();
        assert_eq!(e.offset, 0);
        assert!(e.reason.contains("checksum"), "{e}");
    }

    #[test]
    fn bad_lengths() {
        let mut buf = two_frames();
        buf.truncate(buf.len() - 1);
        let (_, at) = next(&buf, 0).unwrap().unwrap();
        assert!(next(&buf, at).unwrap_err().reason.contains("past the end"));
        let huge = (MAX_LEN + 1).to_le_bytes();
        assert!(next(&[huge[0], huge[1], huge[2], huge[3], 0, 0, 0, 0], 0).is_err());
        assert!(next(&[2, 0, 0, 0, 0, 0, 0, 0, 1, 2], 0).is_err());
        assert!(next(&[0, 0, 1], 0).is_err());
    }

    #[test]
    fn kind_zero_and_partition_out_of_range_are_bad() {
        let mut buf = Vec::new();
        put(&mut buf, 5, 4096, |_| {});
        assert!(next(&buf, 0).unwrap_err().reason.contains("partition"));
        assert!(!valid_at(&buf, 0));
    }

    #[test]
    fn header_round_trip() {
        let h = Header {
            shard: 3,
            segment: 42,
            flags: FLAG_SNAPSHOT | FLAG_RESYNC,
        };
        let mut buf = Vec::new();
        h.put(&mut buf);
        let (f, _) = next(&buf, 0).unwrap().unwrap();
        assert_eq!((f.kind, f.partition), (KIND_HEADER, PARTITION_NONE));
        let back = Header::decode(f.body).unwrap();
        assert_eq!(back, h);
        assert!(back.snapshot() && back.resync());
        assert!(Header::decode(&f.body[1..]).is_err());
    }
}
