//! Encode then decode every packet type in both 3.x versions, plus the
//! zero-copy and fast-path guarantees.

use super::*;
use ProtocolVersion::*;

fn samples(protocol: ProtocolVersion) -> Vec<Packet> {
    let full_connect = Connect {
        protocol,
        clean_session: false,
        keep_alive: 0xFFFF,
        client_id: s("client-ü"),
        will: Some(Will {
            topic: s("will/t"),
            payload: Bytes::from_static(&[0, 1, 2]),
            qos: QoS::ExactlyOnce,
            retain: false,
            properties: None,
        }),
        username: Some(s("user")),
        password: Some(Bytes::from_static(&[0xFF, 0xFE])),
        properties: None,
    };
    let bare_connect = Connect {
        will: None,
        username: Some(s("")),
        password: None,
        ..full_connect.clone()
    };
    let publish = |qos, dup, retain, packet_id, len| {
        Packet::Publish(Publish {
            dup,
            qos,
            retain,
            topic: s("a/b/c"),
            packet_id,
            payload: Bytes::from(vec![7u8; len]),
            topic_alias: None,
            properties: None,
        })
    };
    vec![
        Packet::Connect(Box::new(full_connect)),
        Packet::Connect(Box::new(bare_connect)),
        Packet::ConnAck(ConnAck {
            session_present: true,
            code: ConnectReturnCode::Accepted.to_reason(),
            properties: None,
        }),
        Packet::ConnAck(ConnAck {
            session_present: false,
            code: ConnectReturnCode::BadUserNameOrPassword.to_reason(),
            properties: None,
        }),
        publish(QoS::AtMostOnce, false, true, 0, 0),
        publish(QoS::AtLeastOnce, true, false, 1, 16),
        publish(QoS::ExactlyOnce, false, false, 65535, 1024),
        publish(QoS::AtLeastOnce, false, false, 3, 20_000),
        Packet::PubAck(Ack::new(1)),
        Packet::PubRec(Ack::new(2)),
        Packet::PubRel(Ack::new(3)),
        Packet::PubComp(Ack::new(4)),
        Packet::Subscribe(Subscribe {
            packet_id: 5,
            filters: vec![
                (s("#"), SubscriptionOptions::qos(QoS::AtMostOnce)),
                (s("a/+/c"), SubscriptionOptions::qos(QoS::AtLeastOnce)),
                (s("$SYS/#"), SubscriptionOptions::qos(QoS::ExactlyOnce)),
            ],
            properties: None,
        }),
        Packet::SubAck(SubAck {
            packet_id: 5,
            codes: vec![
                ReasonCode::UnspecifiedError,
                ReasonCode::granted(QoS::ExactlyOnce),
            ],
            properties: None,
        }),
        Packet::Unsubscribe(Unsubscribe {
            packet_id: 6,
            filters: vec![s("a/#"), s("+")],
            properties: None,
        }),
        Packet::UnsubAck(UnsubAck {
            packet_id: 6,
            codes: vec![],
            properties: None,
        }),
        Packet::PingReq,
        Packet::PingResp,
        Packet::Disconnect(Disconnect::NORMAL),
    ]
}

#[test]
fn every_packet_type_round_trips() {
    for version in [V3_1, V3_1_1] {
        for packet in samples(version) {
            let bytes = encode_vec(&packet, version);
            assert_eq!(
                bytes.len(),
                encoded_len(&packet, version),
                "{}",
                packet.name()
            );
            assert_eq!(
                decode_v(&bytes, version),
                Ok(packet.clone()),
                "{} {version:?}",
                packet.name()
            );
        }
    }
}

#[test]
fn every_packet_type_round_trips_through_bytes_mut() {
    // The broker encodes into BytesMut; its BufMut must give the same bytes.
    for packet in samples(V3_1_1) {
        let mut out = BytesMut::new();
        encode(&packet, V3_1_1, &mut out);
        assert_eq!(
            &out[..],
            &encode_vec(&packet, V3_1_1)[..],
            "{}",
            packet.name()
        );
        assert_eq!(decode_from(&mut out, V3_1_1, usize::MAX), Ok(Some(packet)));
    }
}

#[test]
fn publish_across_remaining_length_sizes() {
    // Topic "t" adds 3 bytes: these put the remaining length on each side
    // of every varint size boundary.
    let cases = [
        (0, 2),
        (124, 2),
        (125, 3),
        (16_380, 3),
        (16_381, 4),
        (2_097_148, 4),
        (2_097_149, 5),
    ];
    for (payload_len, header_len) in cases {
        let payload = vec![0x5A; payload_len];
        let p = PublishRef::new("t", &payload, QoS::AtMostOnce, 0);
        let mut out = Vec::new();
        encode_publish(&p, V3_1_1, &mut out);
        assert_eq!(out.len(), publish_len(&p, V3_1_1));
        assert_eq!(
            parse_frame_header(&out, usize::MAX)
                .unwrap()
                .unwrap()
                .header_len,
            header_len
        );
        match decode(&out) {
            Ok(Packet::Publish(p)) => assert_eq!(p.payload.len(), payload_len),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn encode_publish_matches_encode() {
    for packet in samples(V3_1_1) {
        let Packet::Publish(p) = &packet else {
            continue;
        };
        assert_fast_path(p, V3_1_1, &encode_vec(&packet, V3_1_1));
    }
}

/// A QoS 0 PUBLISH to "t" with an empty payload, to vary in tests.
fn publish_ref(qos: QoS) -> PublishRef<'static> {
    PublishRef::new("t", b"", qos, if qos == QoS::AtMostOnce { 0 } else { 1 })
}

#[test]
fn publish_len_examples() {
    // 1 header + 1 length + 2 + topic + payload (+ 2 id at QoS > 0).
    let len = |topic, payload, qos| {
        let p = PublishRef {
            topic,
            payload,
            ..publish_ref(qos)
        };
        publish_len(&p, V3_1_1)
    };
    assert_eq!(len("abc", b"xy", QoS::AtMostOnce), 9);
    assert_eq!(len("abc", b"xy", QoS::AtLeastOnce), 11);
    assert_eq!(len("", &[0; 125], QoS::AtMostOnce), 129);
    assert_eq!(len("", &[0; 126], QoS::AtMostOnce), 131);
}

#[test]
fn encode_publish_drops_dup_at_qos0() {
    let p = PublishRef {
        dup: true,
        ..publish_ref(QoS::AtMostOnce)
    };
    let mut out = Vec::new();
    encode_publish(&p, V3_1_1, &mut out);
    assert_eq!(out, [0x30, 3, 0, 1, b't']);
}

#[test]
fn decoded_publish_shares_the_frame() {
    let bytes = Bytes::from(publish_with_topic(b"zero/copy"));
    let header = parse_frame_header(&bytes, usize::MAX).unwrap().unwrap();
    let range = bytes.as_ptr_range();
    let Ok(Packet::Publish(p)) = decode_packet(bytes.clone(), &header, V3_1_1) else {
        panic!()
    };
    assert!(range.contains(&p.topic.as_bytes().as_ptr()));
    assert!(range.contains(&p.payload.as_ptr()));
    assert_eq!(p.payload, Bytes::from_static(b"payload"));
}

#[test]
fn decoded_connect_and_filters_share_the_frame() {
    let payload = concat(&[&lp(b"id"), &lp(b"w/t"), &lp(b"will-body")]);
    let bytes = Bytes::from(connect_frame(0x04, &payload));
    let header = parse_frame_header(&bytes, usize::MAX).unwrap().unwrap();
    let range = bytes.as_ptr_range();
    let Ok(Packet::Connect(c)) = decode_packet(bytes.clone(), &header, V3_1_1) else {
        panic!()
    };
    let will = c.will.unwrap();
    assert!(range.contains(&will.topic.as_bytes().as_ptr()));
    assert!(range.contains(&will.payload.as_ptr()));

    let bytes = Bytes::from(frame(0x82, &concat(&[&[0, 1], &lp(b"f/#"), &[1]])));
    let header = parse_frame_header(&bytes, usize::MAX).unwrap().unwrap();
    let range = bytes.as_ptr_range();
    let Ok(Packet::Subscribe(s)) = decode_packet(bytes.clone(), &header, V3_1_1) else {
        panic!()
    };
    assert!(range.contains(&s.filters[0].0.as_bytes().as_ptr()));
}
