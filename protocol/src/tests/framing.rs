//! Fixed header parsing: incremental input, remaining-length boundaries,
//! size limits, and the streaming helper.

use super::*;

fn sample_publish(payload_len: usize) -> (Packet, Vec<u8>) {
    let p = Packet::Publish(Publish {
        dup: false,
        qos: QoS::AtLeastOnce,
        retain: false,
        topic: MqttStr::from_static("t/1"),
        packet_id: 9,
        payload: Bytes::from(vec![0xA5; payload_len]),
        topic_alias: None,
        properties: None,
    });
    let bytes = encode_vec(&p, ProtocolVersion::V3_1_1);
    (p, bytes)
}

#[test]
fn header_fed_byte_by_byte() {
    // 200-byte payload: a 2-byte remaining length.
    let (_, bytes) = sample_publish(200);
    assert_eq!(parse_frame_header(&[], 1 << 20), Ok(None));
    for end in 1..3 {
        assert_eq!(
            parse_frame_header(&bytes[..end], 1 << 20),
            Ok(None),
            "prefix {end}"
        );
    }
    let want = FrameHeader {
        first_byte: 0x32,
        header_len: 3,
        remaining_len: bytes.len() - 3,
    };
    for end in 3..=bytes.len() {
        assert_eq!(
            parse_frame_header(&bytes[..end], 1 << 20),
            Ok(Some(want)),
            "prefix {end}"
        );
    }
    assert_eq!(want.total_len(), bytes.len());
    assert_eq!(want.packet_type(), 3);
    assert_eq!(want.flags(), 0b0010);
}

#[test]
fn decode_from_fed_byte_by_byte() {
    let (p1, b1) = sample_publish(300);
    let p2 = Packet::PingReq;
    let (p3, b3) = sample_publish(0);
    let stream = concat(&[&b1, &[0xC0, 0], &b3]);
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for &byte in &stream {
        buf.extend_from_slice(&[byte]);
        while let Some(p) = decode_from(&mut buf, ProtocolVersion::V3_1_1, 1 << 20).unwrap() {
            got.push(p);
        }
    }
    assert_eq!(got, vec![p1, p2, p3]);
    assert!(buf.is_empty());
}

#[test]
fn decode_from_takes_only_one_packet() {
    let mut buf = BytesMut::from(&[0xC0, 0, 0xD0, 0, 0xE0][..]);
    let v = ProtocolVersion::V3_1_1;
    assert_eq!(decode_from(&mut buf, v, 16), Ok(Some(Packet::PingReq)));
    assert_eq!(decode_from(&mut buf, v, 16), Ok(Some(Packet::PingResp)));
    assert_eq!(decode_from(&mut buf, v, 16), Ok(None));
    assert_eq!(&buf[..], &[0xE0]);
}

#[test]
fn remaining_length_boundaries() {
    #[rustfmt::skip]
    let cases: [(&[u8], usize); 8] = [
        (&[0x00], 0),
        (&[0x7F], 127),
        (&[0x80, 0x01], 128),
        (&[0xFF, 0x7F], 16_383),
        (&[0x80, 0x80, 0x01], 16_384),
        (&[0xFF, 0xFF, 0x7F], 2_097_151),
        (&[0x80, 0x80, 0x80, 0x01], 2_097_152),
        (&[0xFF, 0xFF, 0xFF, 0x7F], 268_435_455),
    ];
    for (encoded, len) in cases {
        let bytes = concat(&[&[0x30], encoded]);
        let header = parse_frame_header(&bytes, usize::MAX).unwrap().unwrap();
        assert_eq!(header.remaining_len, len);
        assert_eq!(header.header_len, 1 + encoded.len());
        // And the encoder produces exactly these bytes.
        let mut out = Vec::new();
        put_remaining_len(&mut out, len);
        assert_eq!(out, encoded, "encoding of {len}");
        // A prefix of the length never yields a header.
        for end in 1..bytes.len() {
            assert_eq!(parse_frame_header(&bytes[..end], usize::MAX), Ok(None));
        }
    }
    assert_eq!(MAX_REMAINING_LEN, 268_435_455);
}

#[test]
fn five_byte_remaining_length_is_malformed() {
    let err = Err(DecodeError::MalformedRemainingLength);
    assert_eq!(
        parse_frame_header(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], usize::MAX),
        err
    );
    // Known as soon as the 4th length byte says "more follows".
    assert_eq!(
        parse_frame_header(&[0x30, 0x80, 0x80, 0x80, 0x80], usize::MAX),
        err
    );
    assert_eq!(
        parse_frame_header(&[0x30, 0x80, 0x80, 0x80], usize::MAX),
        Ok(None)
    );
}

#[test]
fn max_packet_size_counts_the_whole_packet() {
    let (_, bytes) = sample_publish(200);
    let total = bytes.len();
    assert!(parse_frame_header(&bytes, total).unwrap().is_some());
    // Only the 3 header bytes are needed to refuse it.
    assert_eq!(
        parse_frame_header(&bytes[..3], total - 1),
        Err(DecodeError::PacketTooLarge {
            size: total,
            max: total - 1
        })
    );
    let huge = [0x30, 0xFF, 0xFF, 0xFF, 0x7F];
    assert_eq!(
        parse_frame_header(&huge, 1 << 20),
        Err(DecodeError::PacketTooLarge {
            size: 268_435_460,
            max: 1 << 20
        })
    );
    let mut buf = BytesMut::from(&bytes[..3]);
    assert!(matches!(
        decode_from(&mut buf, ProtocolVersion::V3_1_1, 16),
        Err(DecodeError::PacketTooLarge { .. })
    ));
    assert_eq!(
        parse_frame_header(&[0xC0, 0], 2),
        Ok(Some(FrameHeader {
            first_byte: 0xC0,
            header_len: 2,
            remaining_len: 0
        }))
    );
    assert!(parse_frame_header(&[0xC0, 0], 1).is_err());
}

#[test]
fn bad_first_byte_is_refused_before_the_length() {
    assert_eq!(
        parse_frame_header(&[0x00], 100),
        Err(DecodeError::ReservedPacketType(0))
    );
    assert_eq!(
        parse_frame_header(&[0x36], 100),
        Err(DecodeError::InvalidPublishQoS)
    );
}

#[test]
fn frame_must_match_its_header() {
    let header = FrameHeader {
        first_byte: 0xC0,
        header_len: 2,
        remaining_len: 0,
    };
    let frame = Bytes::from_static(&[0xC0, 0, 0]);
    assert_eq!(
        decode_packet(frame, &header, ProtocolVersion::V3_1_1),
        Err(DecodeError::FrameLengthMismatch {
            expected: 2,
            actual: 3
        })
    );
}

#[test]
fn decode_packet_rechecks_a_hand_made_header() {
    let header = FrameHeader {
        first_byte: 0xC1,
        header_len: 2,
        remaining_len: 0,
    };
    assert_eq!(
        decode_packet(
            Bytes::from_static(&[0xC1, 0]),
            &header,
            ProtocolVersion::V3_1_1
        ),
        Err(DecodeError::InvalidHeaderFlags {
            packet_type: 12,
            flags: 1
        })
    );
}
