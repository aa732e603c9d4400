//! shardmq's MQTT codec: framing, decoding and encoding of MQTT 3.1 / 3.1.1
//! packets, with a packet model that already carries MQTT 5's properties.
//! It depends on `bytes` only, so the broker, the load generator
//! (`shardmq-bench`) and the fuzzer share it without pulling in a runtime.
//!
//! The broker reads into a per-shard scratch buffer, asks
//! [`parse_frame_header`] whether a whole packet is there, copies exactly that
//! packet into one `Bytes` and hands it to [`decode_packet`]; topic and payload
//! of a PUBLISH are slices of that one allocation.
//!
//! Modules:
//!
//! | module       | what it holds                                              |
//! |--------------|------------------------------------------------------------|
//! | `packet`     | the packet types, a superset of MQTT 5's                   |
//! | `properties` | MQTT 5 properties of CONNECT, will, PUBLISH, SUBSCRIBE     |
//! | `mqtt_str`   | [`MqttStr`] and its UTF-8 invariant                        |
//! | `frame`      | the fixed header, read incrementally ([`FrameHeader`])     |
//! | `codec_util` | remaining-length varint, string rules, zero-copy reader    |
//! | [`topic`]    | topic name and filter validation (§4.7)                    |
//! | `error`      | [`DecodeError`], one variant per rule, with its MUST's ID  |
//! | `v3`         | 3.1 and 3.1.1 bodies (decode, encode, CONNECT)             |
//!
//! A `v5` module goes beside `v3`; only the dispatch below needs to learn
//! about it.

// `MqttStr::as_str` skips the UTF-8 check; its justification must be
// written down next to it, and any future unsafe's too.

mod codec_util;
mod error;
mod frame;
mod mqtt_str;
mod packet;
mod properties;
mod reason;
pub mod topic;
mod v3;

#[cfg(test)]
mod tests;

pub use codec_util::{packet_type, MAX_REMAINING_LEN};
pub use error::DecodeError;
pub use frame::FrameHeader;
pub use packet::*;
pub use topic::{validate_topic_filter, validate_topic_name};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use codec_util::{packet_type::CONNECT, Reader};

/// Look at the start of `buf`. `Ok(None)`: the fixed header is not complete
/// yet. Errors: a first byte no packet may start with (reserved type, wrong
/// flags, PUBLISH QoS 3 or DUP at QoS 0) as soon as that byte is there; a
/// remaining length longer than 4 bytes (§2.2.3); the whole packet larger
/// than `max_packet_size`, as soon as the length is known. Does not need the
/// body.
#[inline]
pub fn parse_frame_header(
    buf: &[u8],
    max_packet_size: usize,
) -> Result<Option<FrameHeader>, DecodeError> {
    frame::parse_frame_header(buf, max_packet_size)
}

/// Decode exactly one packet; `frame.len() == header.total_len()`.
/// CONNECT reads its own protocol level; other packets use `version`.
/// Strings and payloads of the result are slices of `frame`.
#[inline]
pub fn decode_packet(
    mut frame: Bytes,
    header: &FrameHeader,
    version: ProtocolVersion,
) -> Result<Packet, DecodeError> {
    if frame.len() != header.total_len() {
        return Err(DecodeError::FrameLengthMismatch {
            expected: header.total_len(),
            actual: frame.len(),
        });
    }
    // The header is a plain struct the caller could have built by hand, so
    // the first byte is checked again; it costs one match.
    frame::check_first_byte(header.first_byte)?;
    frame.advance(header.header_len);
    if header.packet_type() == CONNECT {
        let mut r = Reader::new(frame, CONNECT);
        return match read_protocol(&mut r)? {
            v @ (ProtocolVersion::V3_1 | ProtocolVersion::V3_1_1) => v3::connect::decode_body(v, r),
            ProtocolVersion::V5 => Err(DecodeError::UnsupportedProtocolLevel(5)),
        };
    }
    match version {
        ProtocolVersion::V3_1 | ProtocolVersion::V3_1_1 => {
            v3::decode::decode_body(header.first_byte, frame)
        }
        ProtocolVersion::V5 => Err(DecodeError::UnsupportedProtocolLevel(5)),
    }
}

/// Protocol name and level of a CONNECT (§3.1.2.1, §3.1.2.2), which pick
/// the codec for everything after them.
fn read_protocol(r: &mut Reader) -> Result<ProtocolVersion, DecodeError> {
    // Compared as bytes: any name other than these two is refused anyway.
    let name = r.binary()?;
    let level = r.u8()?;
    match (&name[..], level) {
        (b"MQTT", 4) => Ok(ProtocolVersion::V3_1_1),
        (b"MQTT", 5) => Ok(ProtocolVersion::V5),
        (b"MQIsdp", 3) => Ok(ProtocolVersion::V3_1),
        (b"MQTT" | b"MQIsdp", other) => Err(DecodeError::UnsupportedProtocolLevel(other)),
        _ => Err(DecodeError::InvalidProtocolName),
    }
}

/// Stream helper for clients: split one complete packet off `buf` and decode
/// it. The packet's slices share `buf`'s allocation.
pub fn decode_from(
    buf: &mut BytesMut,
    version: ProtocolVersion,
    max_packet_size: usize,
) -> Result<Option<Packet>, DecodeError> {
    let Some(header) = parse_frame_header(buf, max_packet_size)? else {
        return Ok(None);
    };
    if buf.len() < header.total_len() {
        return Ok(None);
    }
    let frame = buf.split_to(header.total_len()).freeze();
    decode_packet(frame, &header, version).map(Some)
}

/// Encode any packet. CONNECT is written with its own `protocol`; `version`
/// applies to the others. MQTT 5 is not negotiated yet, so `V5` writes the
/// 3.1.1 format, which is also what a server answers an unsupported level
/// with (CONNACK 0x01, [MQTT-3.1.2-2]).
pub fn encode<B: BufMut>(packet: &Packet, version: ProtocolVersion, out: &mut B) {
    match version {
        ProtocolVersion::V3_1 | ProtocolVersion::V3_1_1 | ProtocolVersion::V5 => {
            v3::encode::encode(packet, out)
        }
    }
}

/// Bytes [`encode`] writes for `packet`, fixed header included.
pub fn encoded_len(packet: &Packet, version: ProtocolVersion) -> usize {
    match version {
        ProtocolVersion::V3_1 | ProtocolVersion::V3_1_1 | ProtocolVersion::V5 => {
            v3::encode::encoded_len(packet)
        }
    }
}

/// Fast path for deliveries: encode a PUBLISH from borrowed parts, without
/// building a `Publish`. Like [`encode`], `V5` still writes the 3.1.1 format
/// until MQTT 5 is negotiated; 3.1/3.1.1 cannot carry `p.properties` and
/// leave them out. The topic must be at most 65535 bytes.
#[inline]
pub fn encode_publish<B: BufMut>(p: &PublishRef, version: ProtocolVersion, out: &mut B) {
    match version {
        ProtocolVersion::V3_1 | ProtocolVersion::V3_1_1 | ProtocolVersion::V5 => {
            v3::encode::encode_publish(p, out)
        }
    }
}

/// Bytes [`encode_publish`] writes for `p` in `version`.
#[inline]
pub fn publish_len(p: &PublishRef, version: ProtocolVersion) -> usize {
    match version {
        ProtocolVersion::V3_1 | ProtocolVersion::V3_1_1 | ProtocolVersion::V5 => {
            v3::encode::publish_len(p)
        }
    }
}
