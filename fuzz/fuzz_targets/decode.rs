//! Arbitrary bytes through the codec as a stream of packets, in every
//! protocol version (3.1, 3.1.1 and 5.0, whose bodies differ from type 2
//! on): nothing may panic, and whatever decodes must survive encode ->
//! decode unchanged.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use shardmq_protocol::{
    decode_packet, encode, encode_publish, encoded_len, parse_frame_header, publish_len, Packet,
    ProtocolVersion, PublishRef,
};

const VERSIONS: [ProtocolVersion; 3] = [
    ProtocolVersion::V3_1,
    ProtocolVersion::V3_1_1,
    ProtocolVersion::V5,
];

// Small enough that the size check triggers on fuzzed lengths too.
const MAX_PACKET_SIZE: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    for version in VERSIONS {
        decode_stream(data, version);
    }
});

fn decode_stream(mut data: &[u8], version: ProtocolVersion) {
    loop {
        let header = match parse_frame_header(data, MAX_PACKET_SIZE) {
            Ok(Some(header)) => header,
            Ok(None) => return,
            Err(err) => {
                let _ = (err.to_string(), err.reason_code());
                return;
            }
        };
        // Framing is incremental: a shorter prefix never yields a header.
        assert_eq!(
            parse_frame_header(&data[..header.header_len - 1], MAX_PACKET_SIZE),
            Ok(None)
        );
        if header.total_len() > data.len() {
            return;
        }
        let (frame, rest) = data.split_at(header.total_len());
        match decode_packet(Bytes::copy_from_slice(frame), &header, version) {
            Ok(packet) => check_round_trip(&packet, version),
            Err(err) => {
                let _ = (err.to_string(), err.normative_id(), err.reason_code());
            }
        }
        data = rest;
    }
}

fn check_round_trip(packet: &Packet, version: ProtocolVersion) {
    let mut out = Vec::new();
    encode(packet, version, &mut out);
    assert_eq!(out.len(), encoded_len(packet, version));
    let header = parse_frame_header(&out, usize::MAX)
        .expect("re-encoded header parses")
        .expect("re-encoded header is complete");
    assert_eq!(header.total_len(), out.len());
    if let Packet::Publish(p) = packet {
        let view = PublishRef::from(p);
        let mut fast = Vec::new();
        encode_publish(&view, version, &mut fast);
        assert_eq!(fast, out, "encode_publish disagrees with encode");
        assert_eq!(fast.len(), publish_len(&view, version));
    }
    let again =
        decode_packet(Bytes::from(out), &header, version).expect("re-encoded packet decodes");
    assert_eq!(&again, packet);
}
