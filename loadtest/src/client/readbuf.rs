//! A connection's receive buffer: bytes come in from the socket, whole
//! packets leave as `Bytes` slices of the same allocation (no copy), which
//! is what `decode_packet` wants.
//!
//! Invariant: `buf[..filled]` is received data, `buf[filled..]` zeroed
//! scratch the next read may fill. Zeroing is done once per byte of buffer
//! space (when it is added), so reading never hands out uninitialised
//! memory and costs about one memset per byte received.

use bytes::BytesMut;
use shardmq_protocol::{
    decode_packet, parse_frame_header, DecodeError, Packet, ProtocolVersion, MAX_REMAINING_LEN,
};

/// Largest packet accepted: MQTT's own limit.
const MAX_PACKET: usize = MAX_REMAINING_LEN + 5;

pub struct ReadBuf {
    buf: BytesMut,
    filled: usize,
    /// How much scratch to add at a time.
    chunk: usize,
    /// Bytes still missing for the packet at the front (0: unknown/none).
    need: usize,
}

impl ReadBuf {
    /// `chunk`: small for connections that only see acks, large for
    /// subscribers, to keep 20k idle connections cheap.
    pub fn new(chunk: usize) -> ReadBuf {
        ReadBuf {
            buf: BytesMut::new(),
            filled: 0,
            chunk,
            need: 0,
        }
    }

    /// Scratch space for the next read, at least a quarter chunk or what
    /// the packet at the front still needs.
    pub fn spare(&mut self) -> &mut [u8] {
        let free = self.buf.len() - self.filled;
        let want = self.need.max(self.chunk / 4).max(1);
        if free < want {
            let grow = self.chunk.max(self.need);
            self.buf.resize(self.filled + grow, 0);
        }
        &mut self.buf[self.filled..]
    }

    /// `n` bytes of the last `spare()` were filled by a read.
    pub fn advance(&mut self, n: usize) {
        debug_assert!(self.filled + n <= self.buf.len());
        self.filled += n;
    }

    /// The next whole packet, decoded; `None` until it has fully arrived.
    pub fn next_packet(&mut self, version: ProtocolVersion) -> Result<Option<Packet>, DecodeError> {
        let Some(header) = parse_frame_header(&self.buf[..self.filled], MAX_PACKET)? else {
            self.need = 0;
            return Ok(None);
        };
        let total = header.total_len();
        if total > self.filled {
            self.need = total - self.filled;
            return Ok(None);
        }
        self.need = 0;
        let frame = self.buf.split_to(total).freeze();
        self.filled -= total;
        decode_packet(frame, &header, version).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shardmq_protocol::{encode_publish, PublishRef, QoS};

    fn feed(rb: &mut ReadBuf, mut data: &[u8], step: usize) -> Vec<Packet> {
        let mut out = Vec::new();
        while !data.is_empty() {
            let spare = rb.spare();
            let n = step.min(spare.len()).min(data.len());
            spare[..n].copy_from_slice(&data[..n]);
            rb.advance(n);
            data = &data[n..];
            while let Some(p) = rb.next_packet(ProtocolVersion::V3_1_1).unwrap() {
                out.push(p);
            }
        }
        out
    }

    fn publishes(n: usize, payload: usize) -> Vec<u8> {
        let mut wire = Vec::new();
        for i in 0..n {
            let body = vec![i as u8; payload];
            let p = PublishRef::new("a/b", &body, QoS::AtLeastOnce, i as u16 + 1);
            encode_publish(&p, ProtocolVersion::V3_1_1, &mut wire);
        }
        wire
    }

    #[test]
    fn packets_split_across_reads() {
        let wire = publishes(50, 10);
        for step in [1, 3, 7, 64, 4096] {
            let mut rb = ReadBuf::new(64);
            let got = feed(&mut rb, &wire, step);
            assert_eq!(got.len(), 50, "step {step}");
            let Packet::Publish(p) = &got[49] else {
                panic!()
            };
            assert_eq!(p.packet_id, 50);
            assert_eq!(&p.payload[..], &[49u8; 10]);
        }
    }

    #[test]
    fn packet_larger_than_chunk() {
        let wire = publishes(2, 100_000);
        let mut rb = ReadBuf::new(256);
        let got = feed(&mut rb, &wire, 10_000);
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn garbage_is_an_error() {
        let mut rb = ReadBuf::new(64);
        rb.spare()[0] = 0x00; // reserved packet type 0
        rb.advance(1);
        assert!(rb.next_packet(ProtocolVersion::V3_1_1).is_err());
    }
}
