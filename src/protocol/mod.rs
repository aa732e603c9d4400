//! MQTT codec: framing, decoding and encoding of MQTT 3.1 / 3.1.1 packets,
//! shaped so MQTT 5 properties and reason codes slot in beside them.
//!
//! The broker reads into a per-shard scratch buffer, asks
//! [`parse_frame_header`] whether a whole packet is there, copies exactly that
//! packet into one `Bytes` and hands it to [`decode_packet`]; topic and payload
//! of a PUBLISH are slices of that one allocation.

mod error;
mod packet;

pub use error::DecodeError;
pub use packet::*;

use bytes::{BufMut, Bytes, BytesMut};

/// Fixed header of one packet: first byte and the remaining length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub first_byte: u8,
    /// Bytes taken by the fixed header (1 + 1..=4).
    pub header_len: usize,
    pub remaining_len: usize,
}

impl FrameHeader {
    pub fn total_len(&self) -> usize {
        self.header_len + self.remaining_len
    }
    pub fn packet_type(&self) -> u8 {
        self.first_byte >> 4
    }
}

/// Look at the start of `buf`. `Ok(None)`: the fixed header is not complete
/// yet. Errors: remaining length longer than 4 bytes [MQTT-1.5.5-1]... or the
/// whole packet larger than `max_packet_size`. Does not need the body.
pub fn parse_frame_header(_buf: &[u8], _max_packet_size: usize) -> Result<Option<FrameHeader>, DecodeError> {
    todo!("codec")
}

/// Decode exactly one packet; `frame.len() == header.total_len()`.
/// CONNECT reads its own protocol level; other packets use `version`.
pub fn decode_packet(_frame: Bytes, _header: &FrameHeader, _version: ProtocolVersion) -> Result<Packet, DecodeError> {
    todo!("codec")
}

/// Stream helper for clients: split one complete packet off `buf` and decode it.
pub fn decode_from(_buf: &mut BytesMut, _version: ProtocolVersion, _max_packet_size: usize) -> Result<Option<Packet>, DecodeError> {
    todo!("codec")
}

/// Encode any packet.
pub fn encode<B: BufMut>(_packet: &Packet, _version: ProtocolVersion, _out: &mut B) {
    todo!("codec")
}

/// Fast path for deliveries: encode a PUBLISH without building a `Publish`.
pub fn encode_publish<B: BufMut>(
    _out: &mut B,
    _topic: &str,
    _payload: &[u8],
    _qos: QoS,
    _retain: bool,
    _dup: bool,
    _packet_id: u16,
) {
    todo!("codec")
}

/// Size on the wire of a PUBLISH with this topic and payload.
pub fn publish_len(_topic_len: usize, _payload_len: usize, _qos: QoS) -> usize {
    todo!("codec")
}
