//! shardmq's MQTT codec: framing, decoding and encoding of MQTT 3.1, 3.1.1
//! and 5.0 packets, with one packet model (MQTT 5's) for all of them.
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
//! | `properties` | MQTT 5 properties, one struct per packet family            |
//! | `reason`     | MQTT 5 reason codes and their 3.1.1 narrowing              |
//! | `mqtt_str`   | [`MqttStr`] and its UTF-8 invariant                        |
//! | `frame`      | the fixed header, read incrementally ([`FrameHeader`])     |
//! | `codec_util` | remaining-length varint, string rules, zero-copy reader    |
//! | `packet_parts` | what 3.1.1 and 5.0 lay out alike: CONNECT flags, will, |
//! |              | credentials; SUBSCRIBE and UNSUBSCRIBE filter lists        |
//! | [`topic`]    | topic name and filter validation (§4.7)                    |
//! | `error`      | [`DecodeError`], one variant per rule, with its MUST's ID  |
//! |              | and the MQTT 5 reason code to answer it with               |
//! | `v3`         | 3.1 and 3.1.1 bodies (decode, encode, CONNECT)             |
//! | `v5`         | 5.0 bodies: properties (shared reader/writer), reason      |
//! |              | codes per packet, short forms, CONNECT, AUTH               |
//!
//! Only the dispatch below knows both; the frame header is version-free
//! (AUTH, type 15, passes it and the 3.1.1 body decoder refuses it).

// `MqttStr::as_str` skips the UTF-8 check; its justification must be
// written down next to it, and any future unsafe's too.

mod codec_util;
mod error;
mod error_reason;
mod frame;
mod mqtt_str;
mod packet;
mod packet_parts;
mod properties;
mod reason;
pub mod topic;
mod v3;
mod v5;

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
            ProtocolVersion::V5 => {
                check_minimal_len(header)?;
                v5::connect::decode_body(r)
            }
        };
    }
    match version {
        ProtocolVersion::V3_1 | ProtocolVersion::V3_1_1 => {
            v3::decode::decode_body(header.first_byte, frame)
        }
        ProtocolVersion::V5 => {
            check_minimal_len(header)?;
            v5::decode::decode_body(header.first_byte, frame)
        }
    }
}

/// MQTT 5 wants every Variable Byte Integer in its shortest form, the
/// remaining length included [MQTT-1.5.5-1]; 3.1.1 has no such rule.
#[inline]
fn check_minimal_len(header: &FrameHeader) -> Result<(), DecodeError> {
    if header.header_len != 1 + codec_util::remaining_len_size(header.remaining_len) {
        return Err(DecodeError::NonMinimalVarInt);
    }
    Ok(())
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

/// The rules of an MQTT 5 PUBLISH that depend on who sent it, for the
/// broker to apply to a decoded client PUBLISH (the decoder does not know
/// the direction): no Subscription Identifier [MQTT-3.3.4-6], a Topic Alias
/// at most the `topic_alias_maximum` the server announced in its CONNACK
/// (0: none allowed) [MQTT-3.3.2-9]. Alias 0 is already a decode error.
pub fn check_client_publish(p: &Publish, topic_alias_maximum: u16) -> Result<(), DecodeError> {
    if let Some(props) = &p.properties {
        if !props.subscription_identifiers.is_empty() {
            return Err(DecodeError::SubscriptionIdFromClient);
        }
    }
    match p.topic_alias {
        Some(alias) if alias > topic_alias_maximum => Err(DecodeError::TopicAliasAboveMaximum {
            alias,
            max: topic_alias_maximum,
        }),
        _ => Ok(()),
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

/// The codec that writes `packet` for a `version` peer: CONNECT goes by
/// its own `protocol`, everything else by `version`.
#[inline]
fn writes_v5(packet: &Packet, version: ProtocolVersion) -> bool {
    match packet {
        Packet::Connect(c) => c.protocol == ProtocolVersion::V5,
        _ => version == ProtocolVersion::V5,
    }
}

/// Encode any packet. CONNECT is written with its own `protocol`; `version`
/// applies to the others. 3.1/3.1.1 leave out what they cannot carry
/// (properties) and narrow reason codes; a server answering an unsupported
/// level writes its CONNACK as 3.1.1 (0x01, [MQTT-3.1.2-2]).
pub fn encode<B: BufMut>(packet: &Packet, version: ProtocolVersion, out: &mut B) {
    if writes_v5(packet, version) {
        v5::encode::encode(packet, out)
    } else {
        v3::encode::encode(packet, out)
    }
}

/// Bytes [`encode`] writes for `packet`, fixed header included.
pub fn encoded_len(packet: &Packet, version: ProtocolVersion) -> usize {
    if writes_v5(packet, version) {
        v5::encode::encoded_len(packet)
    } else {
        v3::encode::encoded_len(packet)
    }
}

/// Fast path for deliveries: encode a PUBLISH from borrowed parts, without
/// building a `Publish`. 3.1/3.1.1 cannot carry `p.properties`,
/// `p.topic_alias` or `p.subscription_ids` and leave them out. The topic
/// must be at most 65535 bytes.
#[inline]
pub fn encode_publish<B: BufMut>(p: &PublishRef, version: ProtocolVersion, out: &mut B) {
    match version {
        ProtocolVersion::V3_1 | ProtocolVersion::V3_1_1 => v3::encode::encode_publish(p, out),
        ProtocolVersion::V5 => v5::encode::encode_publish(p, out),
    }
}

/// Bytes [`encode_publish`] writes for `p` in `version`.
#[inline]
pub fn publish_len(p: &PublishRef, version: ProtocolVersion) -> usize {
    match version {
        ProtocolVersion::V3_1 | ProtocolVersion::V3_1_1 => v3::encode::publish_len(p),
        ProtocolVersion::V5 => v5::encode::publish_len(p),
    }
}
