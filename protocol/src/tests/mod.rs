//! Codec tests, split by concern. Vectors are written by hand from the spec
//! rather than produced by the encoder under test.

mod framing;
mod mqtt5_model;
mod roundtrip;
mod utf8;
mod v5_alloc;
mod v5_packet_rules;
mod v5_reasons;
mod v5_roundtrip;
mod v5_validation;
mod v5_vectors;
mod validation;
mod vectors;

use super::codec_util::put_remaining_len;
use super::*;

/// Decode one complete packet given as bytes, framing included.
fn decode_v(bytes: &[u8], version: ProtocolVersion) -> Result<Packet, DecodeError> {
    let header = parse_frame_header(bytes, usize::MAX)?.expect("test frame has a complete header");
    assert_eq!(
        header.total_len(),
        bytes.len(),
        "test frame length disagrees with its header"
    );
    decode_packet(Bytes::copy_from_slice(bytes), &header, version)
}

fn decode(bytes: &[u8]) -> Result<Packet, DecodeError> {
    decode_v(bytes, ProtocolVersion::V3_1_1)
}

fn encode_vec(packet: &Packet, version: ProtocolVersion) -> Vec<u8> {
    let mut out = Vec::new();
    encode(packet, version, &mut out);
    out
}

/// First byte, remaining length computed from `body`, then `body`.
fn frame(first_byte: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first_byte];
    put_remaining_len(&mut out, body.len());
    out.extend_from_slice(body);
    out
}

/// A 2-byte length-prefixed field.
fn lp(data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(data);
    out
}

/// A 3.1.1 CONNECT with these flags, keep alive 60, and `payload` after it.
fn connect_frame(flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut body = lp(b"MQTT");
    body.extend_from_slice(&[4, flags, 0, 60]);
    body.extend_from_slice(payload);
    frame(0x10, &body)
}

/// A QoS 0 PUBLISH whose topic is the raw bytes `topic`.
fn publish_with_topic(topic: &[u8]) -> Vec<u8> {
    let mut body = lp(topic);
    body.extend_from_slice(b"payload");
    frame(0x30, &body)
}

fn concat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn s(v: &'static str) -> MqttStr {
    MqttStr::from_static(v)
}

fn b(v: &'static [u8]) -> Bytes {
    Bytes::from_static(v)
}

/// The delivery fast path (`encode_publish`, `publish_len`) writes `p` in
/// `version` exactly as `expected`, what `encode` wrote for it.
fn assert_fast_path(p: &Publish, version: ProtocolVersion, expected: &[u8]) {
    let view = PublishRef::from(p);
    let mut fast = Vec::new();
    encode_publish(&view, version, &mut fast);
    assert_eq!(fast, expected, "encode_publish disagrees with encode");
    assert_eq!(publish_len(&view, version), expected.len());
}
