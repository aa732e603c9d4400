//! One test per rule: each malformed packet must fail with its own variant.

use super::*;
use DecodeError::*;

#[test]
fn reserved_packet_types() {
    assert_eq!(decode(&[0x00, 0]), Err(ReservedPacketType(0)));
    assert_eq!(decode(&[0xF0, 0]), Err(ReservedPacketType(15)));
}

#[test]
fn fixed_header_flags() {
    // (type, the only valid flags, normative ID of a wrong value)
    let rules = [
        (1, 0, "MQTT-2.2.2-1"),
        (2, 0, "MQTT-2.2.2-1"),
        (4, 0, "MQTT-2.2.2-1"),
        (5, 0, "MQTT-2.2.2-1"),
        (6, 2, "MQTT-3.6.1-1"),
        (7, 0, "MQTT-2.2.2-1"),
        (8, 2, "MQTT-3.8.1-1"),
        (9, 0, "MQTT-2.2.2-1"),
        (10, 2, "MQTT-3.10.1-1"),
        (11, 0, "MQTT-2.2.2-1"),
        (12, 0, "MQTT-2.2.2-1"),
        (13, 0, "MQTT-2.2.2-1"),
        (14, 0, "MQTT-2.2.2-1"),
    ];
    for (packet_type, valid, id) in rules {
        for flags in (0..16u8).filter(|f| *f != valid) {
            let err = parse_frame_header(&[packet_type << 4 | flags], 100).unwrap_err();
            assert_eq!(err, InvalidHeaderFlags { packet_type, flags });
            assert_eq!(err.normative_id(), Some(id));
        }
    }
}

#[test]
fn publish_qos_3() {
    assert_eq!(decode(&[0x36, 3, 0, 1, b'a']), Err(InvalidPublishQoS));
    assert_eq!(InvalidPublishQoS.normative_id(), Some("MQTT-3.3.1-4"));
}

#[test]
fn publish_dup_at_qos_0() {
    assert_eq!(decode(&[0x38, 3, 0, 1, b'a']), Err(DupWithQoS0));
    assert_eq!(DupWithQoS0.normative_id(), Some("MQTT-3.3.1-2"));
}

#[test]
fn zero_packet_ids() {
    let publish_q1 = frame(0x32, &concat(&[&lp(b"t"), &[0, 0]]));
    let subscribe = frame(0x82, &concat(&[&[0, 0], &lp(b"t"), &[0]]));
    let unsubscribe = frame(0xA2, &concat(&[&[0, 0], &lp(b"t")]));
    let cases: [(&[u8], u8); 9] = [
        (&publish_q1, 3),
        (&[0x40, 2, 0, 0], 4),
        (&[0x50, 2, 0, 0], 5),
        (&[0x62, 2, 0, 0], 6),
        (&[0x70, 2, 0, 0], 7),
        (&subscribe, 8),
        (&[0x90, 3, 0, 0, 0], 9),
        (&unsubscribe, 10),
        (&[0xB0, 2, 0, 0], 11),
    ];
    for (bytes, packet_type) in cases {
        assert_eq!(decode(bytes), Err(ZeroPacketId { packet_type }));
    }
    assert_eq!(
        ZeroPacketId { packet_type: 3 }.normative_id(),
        Some("MQTT-2.3.1-1")
    );
    // QoS 0 has no packet id, so there is nothing to be zero.
    assert!(decode(&publish_with_topic(b"t")).is_ok());
}

#[test]
fn connect_flags() {
    let id = lp(b"c");
    let cases = [
        (0x03, ConnectReservedFlag, "MQTT-3.1.2-3"),
        (0x0A, WillQoSWithoutWill, "MQTT-3.1.2-13"),
        (0x12, WillQoSWithoutWill, "MQTT-3.1.2-13"),
        (0x22, WillRetainWithoutWill, "MQTT-3.1.2-15"),
        (0x1E, InvalidWillQoS, "MQTT-3.1.2-14"),
        (0x42, PasswordWithoutUsername, "MQTT-3.1.2-22"),
    ];
    for (flags, err, normative) in cases {
        assert_eq!(
            decode(&connect_frame(flags, &id)),
            Err(err.clone()),
            "flags {flags:#04x}"
        );
        assert_eq!(err.normative_id(), Some(normative));
    }
}

#[test]
fn connect_protocol_name_and_level() {
    let with = |name: &[u8], level: u8| {
        let body = concat(&[&lp(name), &[level, 0x02, 0, 60], &lp(b"c")]);
        decode(&frame(0x10, &body))
    };
    assert!(with(b"MQTT", 4).is_ok());
    assert!(with(b"MQIsdp", 3).is_ok());
    // Level 5 has a property length after the keep alive.
    let v5 = concat(&[&lp(b"MQTT"), &[5, 0x02, 0, 60, 0], &lp(b"c")]);
    assert!(decode(&frame(0x10, &v5)).is_ok());
    assert_eq!(with(b"MQTT", 3), Err(UnsupportedProtocolLevel(3)));
    assert_eq!(with(b"MQTT", 6), Err(UnsupportedProtocolLevel(6)));
    assert_eq!(with(b"MQIsdp", 4), Err(UnsupportedProtocolLevel(4)));
    for name in [&b"MQTX"[..], b"mqtt", b"", b"MQIsdp\0", b"\xFF"] {
        assert_eq!(with(name, 4), Err(InvalidProtocolName), "{name:?}");
    }
    assert!(UnsupportedProtocolLevel(5).is_unsupported_protocol_level());
    assert_eq!(
        UnsupportedProtocolLevel(5).normative_id(),
        Some("MQTT-3.1.2-2")
    );
    assert_eq!(InvalidProtocolName.normative_id(), Some("MQTT-3.1.2-1"));
}

#[test]
fn auth_is_mqtt_5_only() {
    assert_eq!(
        decode_v(&[0xC0, 0], ProtocolVersion::V5),
        Ok(Packet::PingReq)
    );
    assert!(matches!(
        decode_v(&[0xF0, 0], ProtocolVersion::V5),
        Ok(Packet::Auth(_))
    ));
    for v in [ProtocolVersion::V3_1, ProtocolVersion::V3_1_1] {
        assert_eq!(decode_v(&[0xF0, 0], v), Err(ReservedPacketType(15)));
    }
    // AUTH's reserved flags are checked like any other packet's.
    assert!(matches!(
        decode_v(&[0xF1, 0], ProtocolVersion::V5),
        Err(InvalidHeaderFlags {
            packet_type: 15,
            ..
        })
    ));
}

#[test]
fn subscribe_rules() {
    assert_eq!(decode(&[0x82, 2, 0, 1]), Err(SubscribeWithoutFilters));
    assert_eq!(SubscribeWithoutFilters.normative_id(), Some("MQTT-3.8.3-3"));
    for qos in [3u8, 4, 0x81, 0xFC, 0xFF] {
        let bytes = frame(0x82, &concat(&[&[0, 1], &lp(b"a"), &[qos]]));
        assert_eq!(decode(&bytes), Err(InvalidSubscribeQoS(qos)));
    }
    assert_eq!(InvalidSubscribeQoS(3).normative_id(), Some("MQTT-3-8.3-4"));
}

#[test]
fn unsubscribe_without_filters() {
    assert_eq!(decode(&[0xA2, 2, 0, 1]), Err(UnsubscribeWithoutFilters));
    assert_eq!(
        UnsubscribeWithoutFilters.normative_id(),
        Some("MQTT-3.10.3-2")
    );
}

#[test]
fn topics_are_validated_where_they_appear() {
    assert_eq!(decode(&publish_with_topic(b"")), Err(EmptyTopic));
    assert_eq!(
        decode(&publish_with_topic(b"a/+")),
        Err(WildcardInTopicName)
    );
    assert_eq!(decode(&publish_with_topic(b"#")), Err(WildcardInTopicName));
    let will = concat(&[&lp(b"c"), &lp(b"a/#"), &lp(b"x")]);
    assert_eq!(
        decode(&connect_frame(0x06, &will)),
        Err(WildcardInTopicName)
    );
    let will = concat(&[&lp(b"c"), &lp(b""), &lp(b"x")]);
    assert_eq!(decode(&connect_frame(0x06, &will)), Err(EmptyTopic));
    let sub = |f: &[u8]| frame(0x82, &concat(&[&[0, 1], &lp(f), &[0]]));
    assert_eq!(decode(&sub(b"a#")), Err(InvalidMultiLevelWildcard));
    assert_eq!(decode(&sub(b"a/+b")), Err(InvalidSingleLevelWildcard));
    assert_eq!(decode(&sub(b"")), Err(EmptyTopic));
    let unsub = |f: &[u8]| frame(0xA2, &concat(&[&[0, 1], &lp(f)]));
    assert_eq!(decode(&unsub(b"#/a")), Err(InvalidMultiLevelWildcard));
    assert_eq!(decode(&unsub(b"+a")), Err(InvalidSingleLevelWildcard));
    assert_eq!(decode(&unsub(b"")), Err(EmptyTopic));
}

#[test]
fn length_prefix_past_the_packet() {
    assert_eq!(
        decode(&[0x30, 3, 0, 5, b'a']),
        Err(LengthPastEnd {
            packet_type: 3,
            len: 5,
            available: 1
        })
    );
    // Password length running past the end.
    let payload = concat(&[&lp(b"c"), &lp(b"u"), &[0, 9, 1]]);
    assert_eq!(
        decode(&connect_frame(0xC2, &payload)),
        Err(LengthPastEnd {
            packet_type: 1,
            len: 9,
            available: 1
        })
    );
    let sub = frame(0x82, &[0, 1, 0, 2, b'a']);
    assert_eq!(
        decode(&sub),
        Err(LengthPastEnd {
            packet_type: 8,
            len: 2,
            available: 1
        })
    );
}

#[test]
fn fields_past_the_remaining_length() {
    // QoS 1 PUBLISH whose packet id is cut after one byte.
    assert_eq!(
        decode(&[0x32, 4, 0, 1, b'a', 0]),
        Err(Truncated { packet_type: 3 })
    );
    // Topic length cut.
    assert_eq!(decode(&[0x30, 1, 0]), Err(Truncated { packet_type: 3 }));
    // CONNECT ending after its flags.
    let connect = frame(0x10, &concat(&[&lp(b"MQTT"), &[4, 2, 0]]));
    assert_eq!(decode(&connect), Err(Truncated { packet_type: 1 }));
    // CONNECT flags announce a user name that is not there.
    assert_eq!(
        decode(&connect_frame(0x82, &lp(b"c"))),
        Err(Truncated { packet_type: 1 })
    );
    // SUBSCRIBE filter without its QoS byte.
    assert_eq!(
        decode(&frame(0x82, &concat(&[&[0, 1], &lp(b"a")]))),
        Err(Truncated { packet_type: 8 })
    );
    assert_eq!(decode(&[0x82, 1, 0]), Err(Truncated { packet_type: 8 }));
    assert_eq!(decode(&[0x30, 0]), Err(Truncated { packet_type: 3 }));
}

#[test]
fn trailing_bytes_after_the_last_field() {
    let connect = connect_frame(0x02, &concat(&[&lp(b"c"), &[0]]));
    assert_eq!(
        decode(&connect),
        Err(TrailingBytes {
            packet_type: 1,
            extra: 1
        })
    );
    // Will flag 0 but a will topic present [MQTT-3.1.2-11].
    let connect = connect_frame(0x02, &concat(&[&lp(b"c"), &lp(b"w"), &lp(b"m")]));
    assert_eq!(
        decode(&connect),
        Err(TrailingBytes {
            packet_type: 1,
            extra: 6
        })
    );
}

#[test]
fn fixed_size_packets_with_wrong_length() {
    let cases: [(&[u8], u8, usize, usize); 10] = [
        (&[0xC0, 1, 0], 12, 0, 1),
        (&[0xD0, 1, 0], 13, 0, 1),
        (&[0xE0, 2, 0, 0], 14, 0, 2),
        (&[0x20, 3, 0, 0, 0], 2, 2, 3),
        (&[0x20, 1, 0], 2, 2, 1),
        (&[0x40, 3, 0, 1, 0], 4, 2, 3),
        (&[0x50, 1, 1], 5, 2, 1),
        (&[0x62, 0], 6, 2, 0),
        (&[0x70, 4, 0, 1, 0, 1], 7, 2, 4),
        (&[0xB0, 3, 0, 1, 0], 11, 2, 3),
    ];
    for (bytes, packet_type, expected, actual) in cases {
        assert_eq!(
            decode(bytes),
            Err(InvalidRemainingLength {
                packet_type,
                expected,
                actual
            })
        );
    }
}

#[test]
fn connack_rules() {
    assert_eq!(decode(&[0x20, 2, 2, 0]), Err(InvalidConnAckFlags(2)));
    assert_eq!(decode(&[0x20, 2, 0x81, 0]), Err(InvalidConnAckFlags(0x81)));
    assert_eq!(decode(&[0x20, 2, 0, 6]), Err(InvalidConnectReturnCode(6)));
    assert_eq!(decode(&[0x20, 2, 1, 5]), Err(SessionPresentOnRefusal));
    assert_eq!(SessionPresentOnRefusal.normative_id(), Some("MQTT-3.2.2-4"));
}

#[test]
fn suback_rules() {
    assert_eq!(decode(&[0x90, 2, 0, 1]), Err(SubAckWithoutCodes));
    for code in [3u8, 0x40, 0x81, 0xFF] {
        assert_eq!(decode(&[0x90, 3, 0, 1, code]), Err(InvalidSubAckCode(code)));
    }
    assert_eq!(InvalidSubAckCode(3).normative_id(), Some("MQTT-3.9.3-2"));
}

#[test]
fn display_names_the_rule() {
    assert_eq!(
        ConnectReservedFlag.to_string(),
        "[MQTT-3.1.2-3] CONNECT reserved flag is not 0"
    );
    assert_eq!(
        InvalidHeaderFlags {
            packet_type: 8,
            flags: 0
        }
        .to_string(),
        "[MQTT-3.8.1-1] SUBSCRIBE fixed header flags 0b0000 are invalid"
    );
    assert_eq!(
        MalformedRemainingLength.to_string(),
        "remaining length longer than 4 bytes (§2.2.3)"
    );
    assert_eq!(MalformedRemainingLength.normative_id(), None);
    assert!(!PacketTooLarge { size: 2, max: 1 }.is_protocol_violation());
    assert!(InvalidUtf8.is_protocol_violation());
}
