//! MQTT 5 decoding rules: every error the v5 decoder can return, from bytes
//! written by hand, with the reason code the broker answers it with and,
//! where the spec numbers the rule, its normative ID.

use super::*;
use DecodeError::*;
use ProtocolVersion::V5;

fn v5(bytes: &[u8]) -> Result<Packet, DecodeError> {
    decode_v(bytes, V5)
}

/// A property block: varint length, then the properties.
fn props(p: &[&[u8]]) -> Vec<u8> {
    let body = p.concat();
    let mut out = Vec::new();
    codec_util::put_remaining_len(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

/// A QoS 1 PUBLISH to `topic`, id 1, these properties, payload "x".
fn publish(topic: &[u8], p: &[&[u8]]) -> Vec<u8> {
    frame(0x32, &concat(&[&lp(topic), &[0, 1], &props(p), b"x"]))
}

/// A level-5 CONNECT with these connect flags, properties and payload.
fn connect(flags: u8, p: &[&[u8]], payload: &[u8]) -> Vec<u8> {
    frame(
        0x10,
        &concat(&[&lp(b"MQTT"), &[5, flags, 0, 60], &props(p), payload]),
    )
}

/// A SUBSCRIBE, id 1, with these properties and one filter.
fn subscribe(p: &[&[u8]], filter: &[u8], options: u8) -> Vec<u8> {
    frame(
        0x82,
        &concat(&[&[0, 1], &props(p), &lp(filter), &[options]]),
    )
}

/// Expect `err` with this reason code and normative ID.
fn expect(got: Result<Packet, DecodeError>, err: DecodeError, rc: ReasonCode, id: Option<&str>) {
    assert_eq!(got, Err(err.clone()));
    assert_eq!(err.reason_code(), rc, "{err:?}");
    assert_eq!(err.normative_id(), id, "{err:?}");
    if let Some(id) = id {
        assert!(err.to_string().starts_with(&format!("[{id}] ")), "{err}");
    }
}

const MALFORMED: ReasonCode = ReasonCode::MalformedPacket;
const PROTOCOL: ReasonCode = ReasonCode::ProtocolError;

#[test]
fn v5_property_on_the_wrong_packet_is_malformed() {
    // Topic Alias (0x23) on CONNECT, Session Expiry (0x11) in a will,
    // Will Delay (0x18) on PUBLISH, Reason String (0x1F) on SUBSCRIBE.
    let err = |pt, id| PropertyNotAllowed {
        packet_type: pt,
        id,
    };
    expect(
        v5(&connect(0x02, &[&[0x23, 0, 1]], &lp(b"c"))),
        err(1, 0x23),
        MALFORMED,
        None,
    );
    let will = concat(&[
        &lp(b"c"),
        &props(&[&[0x11, 0, 0, 0, 1]]),
        &lp(b"t"),
        &lp(b"p"),
    ]);
    expect(
        v5(&connect(0x06, &[], &will)),
        err(1, 0x11),
        MALFORMED,
        None,
    );
    expect(
        v5(&publish(b"t", &[&[0x18, 0, 0, 0, 1]])),
        err(3, 0x18),
        MALFORMED,
        None,
    );
    expect(
        v5(&subscribe(&[&[0x1F, 0, 1, b'r']], b"t", 0)),
        err(8, 0x1F),
        MALFORMED,
        None,
    );
    // Session Expiry on an ack; Server Reference on UNSUBSCRIBE.
    expect(
        v5(&[0x40, 9, 0, 1, 0, 5, 0x11, 0, 0, 0, 1]),
        err(4, 0x11),
        MALFORMED,
        None,
    );
    let unsub = frame(
        0xA2,
        &concat(&[&[0, 1], &props(&[&[0x1C, 0, 1, b's']]), &lp(b"t")]),
    );
    expect(v5(&unsub), err(10, 0x1C), MALFORMED, None);
}

#[test]
fn v5_unknown_property_is_malformed() {
    for id in [0x00u8, 0x04, 0x0A, 0x14, 0x2B, 0x7F, 0x80, 0xFF] {
        expect(
            v5(&publish(b"t", &[&[id, 0, 0, 0, 0]])),
            UnknownProperty { packet_type: 3, id },
            MALFORMED,
            None,
        );
    }
}

#[test]
fn v5_duplicate_property_is_a_protocol_error() {
    let dup = |pt, id| DuplicateProperty {
        packet_type: pt,
        id,
    };
    let expiry: &[u8] = &[0x02, 0, 0, 0, 9];
    expect(
        v5(&publish(b"t", &[expiry, expiry])),
        dup(3, 0x02),
        PROTOCOL,
        None,
    );
    let rm: &[u8] = &[0x21, 0, 5];
    expect(
        v5(&connect(0x02, &[rm, rm], &lp(b"c"))),
        dup(1, 0x21),
        PROTOCOL,
        None,
    );
    let sub_id: &[u8] = &[0x0B, 1];
    expect(
        v5(&subscribe(&[sub_id, sub_id], b"t", 0)),
        dup(8, 0x0B),
        PROTOCOL,
        None,
    );
    expect(
        v5(&[0xE0, 10, 0x80, 8, 0x1F, 0, 1, b'a', 0x1F, 0, 1, b'b']),
        dup(14, 0x1F),
        PROTOCOL,
        None,
    );
}

#[test]
fn v5_repeatable_properties() {
    // User Property anywhere, Subscription Identifier on PUBLISH (one per
    // matching subscription, §3.3.2.3.8), in order.
    let user = |k: &[u8], v: &[u8]| concat(&[&[0x26], &lp(k), &lp(v)]);
    let bytes = publish(
        b"t",
        &[
            &user(b"a", b"1"),
            &[0x0B, 5],
            &user(b"a", b"2"),
            &[0x0B, 0x80, 0x01],
        ],
    );
    let Ok(Packet::Publish(p)) = v5(&bytes) else {
        panic!("{:?}", v5(&bytes))
    };
    let props = p.properties.expect("properties");
    assert_eq!(props.subscription_identifiers, [5, 128]);
    let pairs: Vec<_> = props
        .user_properties
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(pairs, [("a", "1"), ("a", "2")]);
}

#[test]
fn v5_property_values_out_of_range() {
    let bad = |pt, id, value| InvalidPropertyValue {
        packet_type: pt,
        id,
        value,
    };
    // 0/1 bytes: payload format, request problem/response information.
    expect(
        v5(&publish(b"t", &[&[0x01, 2]])),
        bad(3, 0x01, 2),
        PROTOCOL,
        None,
    );
    expect(
        v5(&connect(0x02, &[&[0x17, 2]], &lp(b"c"))),
        bad(1, 0x17, 2),
        PROTOCOL,
        None,
    );
    expect(
        v5(&connect(0x02, &[&[0x19, 0xFF]], &lp(b"c"))),
        bad(1, 0x19, 255),
        PROTOCOL,
        None,
    );
    // Receive Maximum 0, Maximum Packet Size 0 (§3.1.2.11.3, .4).
    expect(
        v5(&connect(0x02, &[&[0x21, 0, 0]], &lp(b"c"))),
        bad(1, 0x21, 0),
        PROTOCOL,
        None,
    );
    expect(
        v5(&connect(0x02, &[&[0x27, 0, 0, 0, 0]], &lp(b"c"))),
        bad(1, 0x27, 0),
        PROTOCOL,
        None,
    );
    // Topic Alias 0: its own reason code [MQTT-3.3.2-8].
    expect(
        v5(&publish(b"t", &[&[0x23, 0, 0]])),
        bad(3, 0x23, 0),
        ReasonCode::TopicAliasInvalid,
        Some("MQTT-3.3.2-8"),
    );
    // Subscription Identifier 0, on PUBLISH and SUBSCRIBE.
    expect(
        v5(&publish(b"t", &[&[0x0B, 0]])),
        bad(3, 0x0B, 0),
        PROTOCOL,
        None,
    );
    expect(
        v5(&subscribe(&[&[0x0B, 0]], b"t", 0)),
        bad(8, 0x0B, 0),
        PROTOCOL,
        None,
    );
    // CONNACK: Maximum QoS 2, the "available" bytes other than 0/1.
    for id in [0x24u8, 0x25, 0x28, 0x29, 0x2A] {
        expect(
            v5(&[0x20, 5, 0, 0, 2, id, 2]),
            bad(2, id, 2),
            PROTOCOL,
            None,
        );
    }
    expect(
        v5(&[0x20, 6, 0, 0, 3, 0x21, 0, 0]),
        bad(2, 0x21, 0),
        PROTOCOL,
        None,
    );
    // Will payload format indicator.
    let will = concat(&[&lp(b"c"), &props(&[&[0x01, 3]]), &lp(b"t"), &lp(b"p")]);
    expect(
        v5(&connect(0x06, &[], &will)),
        bad(1, 0x01, 3),
        PROTOCOL,
        None,
    );
}

#[test]
fn v5_subscription_identifier_range() {
    // 268435455 is the largest a 4-byte varint holds; a 5th byte is
    // malformed, a non-minimal encoding too [MQTT-1.5.5-1].
    let Ok(Packet::Subscribe(s)) = v5(&subscribe(&[&[0x0B, 0xFF, 0xFF, 0xFF, 0x7F]], b"t", 0))
    else {
        panic!()
    };
    assert_eq!(
        s.properties.unwrap().subscription_identifier,
        Some(268_435_455)
    );
    expect(
        v5(&subscribe(
            &[&[0x0B, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]],
            b"t",
            0,
        )),
        MalformedVarInt,
        MALFORMED,
        None,
    );
    expect(
        v5(&subscribe(&[&[0x0B, 0x81, 0x00]], b"t", 0)),
        NonMinimalVarInt,
        MALFORMED,
        Some("MQTT-1.5.5-1"),
    );
}

#[test]
fn v5_varint_lengths() {
    // Property length not minimal: 0x80 0x00 for 0.
    expect(
        v5(&frame(0x30, &concat(&[&lp(b"t"), &[0x80, 0x00], b"x"]))),
        NonMinimalVarInt,
        MALFORMED,
        Some("MQTT-1.5.5-1"),
    );
    // Remaining length not minimal (0x82 0x00 = 2): MQTT 5 refuses it,
    // 3.1.1 does not have the rule.
    let ack = [0x40, 0x82, 0x00, 0, 1];
    expect(v5(&ack), NonMinimalVarInt, MALFORMED, Some("MQTT-1.5.5-1"));
    assert_eq!(decode(&ack), Ok(Packet::PubAck(Ack::new(1))));
    // Property length past the end of the packet.
    expect(
        v5(&frame(0x30, &concat(&[&lp(b"t"), &[9, 0x01, 0]]))),
        LengthPastEnd {
            packet_type: 3,
            len: 9,
            available: 2,
        },
        MALFORMED,
        None,
    );
    // A property value running past the end of its block.
    expect(
        v5(&frame(
            0x30,
            &concat(&[&lp(b"t"), &[3, 0x02, 0, 0], b"xyz"]),
        )),
        Truncated { packet_type: 3 },
        MALFORMED,
        None,
    );
    expect(
        v5(&frame(
            0x30,
            &concat(&[&lp(b"t"), &[3, 0x03, 0, 5], b"xyz"]),
        )),
        LengthPastEnd {
            packet_type: 3,
            len: 5,
            available: 0,
        },
        MALFORMED,
        None,
    );
}

#[test]
fn v5_strings_in_properties() {
    // [MQTT-1.5.4-1] and -2 as for any string; both halves of a user
    // property pair are strings [MQTT-1.5.7-1].
    let user = |k: &[u8], v: &[u8]| concat(&[&[0x26], &lp(k), &lp(v)]);
    expect(
        v5(&publish(b"t", &[&user(b"\xC0\xAF", b"v")])),
        InvalidUtf8,
        MALFORMED,
        Some("MQTT-1.5.3-1"),
    );
    expect(
        v5(&publish(b"t", &[&user(b"k", b"a\0b")])),
        NullCharacter,
        MALFORMED,
        Some("MQTT-1.5.3-2"),
    );
    expect(
        v5(&publish(b"t", &[&concat(&[&[0x03], &lp(b"\xED\xA0\x80")])])),
        InvalidUtf8,
        MALFORMED,
        Some("MQTT-1.5.3-1"),
    );
    // Binary data is not a string: any bytes go.
    assert!(v5(&publish(b"t", &[&concat(&[&[0x09], &lp(b"\0\xFF")])])).is_ok());
}

#[test]
fn v5_authentication_data_needs_a_method() {
    let data: &[u8] = &[0x16, 0, 1, 7];
    let err = |pt| AuthDataWithoutMethod { packet_type: pt };
    expect(
        v5(&connect(0x02, &[data], &lp(b"c"))),
        err(1),
        PROTOCOL,
        None,
    );
    expect(
        v5(&[0x20, 7, 0, 0, 4, 0x16, 0, 1, 7]),
        err(2),
        PROTOCOL,
        None,
    );
    expect(
        v5(&[0xF0, 6, 0x18, 4, 0x16, 0, 1, 7]),
        err(15),
        PROTOCOL,
        None,
    );
    let method = concat(&[&[0x15], &lp(b"m")]);
    assert!(v5(&connect(0x02, &[&method, data], &lp(b"c"))).is_ok());
}

#[test]
fn v5_topic_alias_and_empty_topic() {
    // An empty topic is allowed only with a Topic Alias (§3.3.2.1).
    expect(
        v5(&publish(b"", &[])),
        EmptyTopicWithoutAlias,
        PROTOCOL,
        None,
    );
    expect(
        v5(&publish(b"", &[&[0x02, 0, 0, 0, 1]])),
        EmptyTopicWithoutAlias,
        PROTOCOL,
        None,
    );
    assert!(v5(&publish(b"", &[&[0x23, 0, 1]])).is_ok());
    // A non-empty topic is still validated, alias or not.
    expect(
        v5(&publish(b"a/+", &[&[0x23, 0, 1]])),
        WildcardInTopicName,
        ReasonCode::TopicNameInvalid,
        Some("MQTT-3.3.2-2"),
    );
    // 3.1.1 has no aliases: an empty topic is refused as before.
    assert_eq!(decode(&publish_with_topic(b"")), Err(EmptyTopic));
}

#[test]
fn v5_subscription_options() {
    expect(
        v5(&subscribe(&[], b"t", 0x40)),
        SubscriptionOptionsReserved(0x40),
        MALFORMED,
        Some("MQTT-3.8.3-5"),
    );
    expect(
        v5(&subscribe(&[], b"t", 0x80 | 0x01)),
        SubscriptionOptionsReserved(0x81),
        MALFORMED,
        Some("MQTT-3.8.3-5"),
    );
    expect(
        v5(&subscribe(&[], b"t", 0x30)),
        InvalidRetainHandling(0x30),
        PROTOCOL,
        None,
    );
    expect(
        v5(&subscribe(&[], b"t", 0x03)),
        InvalidSubscribeQoS(0x03),
        PROTOCOL,
        Some("MQTT-3-8.3-4"),
    );
    expect(
        v5(&subscribe(&[], b"$share/g/t", 0x04)),
        NoLocalOnSharedSubscription,
        PROTOCOL,
        Some("MQTT-3.8.3-4"),
    );
    // No Local on an ordinary filter is fine; so is a shared one without.
    assert!(v5(&subscribe(&[], b"t", 0x04)).is_ok());
    assert!(v5(&subscribe(&[], b"$share/g/t", 0x2A)).is_ok());
    expect(
        v5(&subscribe(&[], b"a/b#", 0)),
        InvalidMultiLevelWildcard,
        ReasonCode::TopicFilterInvalid,
        Some("MQTT-4.7.1-2"),
    );
    expect(
        v5(&subscribe(&[], b"a+", 0)),
        InvalidSingleLevelWildcard,
        ReasonCode::TopicFilterInvalid,
        Some("MQTT-4.7.1-3"),
    );
    expect(
        v5(&subscribe(&[], b"", 0)),
        EmptyTopic,
        PROTOCOL,
        Some("MQTT-4.7.3-1"),
    );
}

#[test]
fn v5_packets_without_their_lists() {
    expect(
        v5(&frame(0x82, &[0, 1, 0])),
        SubscribeWithoutFilters,
        PROTOCOL,
        Some("MQTT-3.8.3-3"),
    );
    expect(
        v5(&frame(0xA2, &[0, 1, 0])),
        UnsubscribeWithoutFilters,
        PROTOCOL,
        Some("MQTT-3.10.3-2"),
    );
    expect(v5(&[0x90, 3, 0, 1, 0]), SubAckWithoutCodes, PROTOCOL, None);
    expect(
        v5(&[0xB0, 3, 0, 1, 0]),
        UnsubAckWithoutCodes,
        PROTOCOL,
        None,
    );
    // SUBACK, UNSUBACK and CONNACK have no short form without properties.
    expect(
        v5(&[0x90, 2, 0, 1]),
        Truncated { packet_type: 9 },
        MALFORMED,
        None,
    );
    expect(
        v5(&[0x20, 2, 0, 0]),
        Truncated { packet_type: 2 },
        MALFORMED,
        None,
    );
}

#[test]
fn v5_connect_rules() {
    expect(
        v5(&connect(0x03, &[], &lp(b"c"))),
        ConnectReservedFlag,
        MALFORMED,
        Some("MQTT-3.1.2-3"),
    );
    expect(
        v5(&connect(0x02 | 0x08, &[], &lp(b"c"))),
        WillQoSWithoutWill,
        MALFORMED,
        Some("MQTT-3.1.2-13"),
    );
    expect(
        v5(&connect(0x02 | 0x20, &[], &lp(b"c"))),
        WillRetainWithoutWill,
        MALFORMED,
        Some("MQTT-3.1.2-15"),
    );
    let will = concat(&[&lp(b"c"), &[0], &lp(b"t"), &lp(b"p")]);
    expect(
        v5(&connect(0x02 | 0x04 | 0x18, &[], &will)),
        InvalidWillQoS,
        MALFORMED,
        Some("MQTT-3.1.2-14"),
    );
    // A password without a user name is MQTT 5 (§3.1.2.9), not 3.1.1.
    let Ok(Packet::Connect(c)) = v5(&connect(0x42, &[], &concat(&[&lp(b"c"), &lp(b"pw")]))) else {
        panic!()
    };
    assert_eq!(
        (c.username, c.password.as_deref()),
        (None, Some(&b"pw"[..]))
    );
    // Level 6 and a wrong name get CONNACK 0x84.
    let level6 = frame(0x10, &concat(&[&lp(b"MQTT"), &[6, 2, 0, 60, 0], &lp(b"c")]));
    expect(
        v5(&level6),
        UnsupportedProtocolLevel(6),
        ReasonCode::UnsupportedProtocolVersion,
        Some("MQTT-3.1.2-2"),
    );
    assert_eq!(
        InvalidProtocolName.reason_code(),
        ReasonCode::UnsupportedProtocolVersion
    );
    // Anything after the password is malformed.
    expect(
        v5(&connect(0x02, &[], &concat(&[&lp(b"c"), b"!"]))),
        TrailingBytes {
            packet_type: 1,
            extra: 1,
        },
        MALFORMED,
        None,
    );
}

#[test]
fn v5_connack_rules() {
    expect(
        v5(&[0x20, 3, 2, 0, 0]),
        InvalidConnAckFlags(2),
        MALFORMED,
        None,
    );
    expect(
        v5(&[0x20, 3, 1, 0x80, 0]),
        SessionPresentOnRefusal,
        PROTOCOL,
        Some("MQTT-3.2.2-4"),
    );
}

#[test]
fn v5_fixed_header_and_ids() {
    expect(v5(&[0x00, 0]), ReservedPacketType(0), MALFORMED, None);
    expect(
        v5(&[0x41, 2, 0, 1]),
        InvalidHeaderFlags {
            packet_type: 4,
            flags: 1,
        },
        MALFORMED,
        Some("MQTT-2.2.2-1"),
    );
    expect(
        v5(&[0x36, 0]),
        InvalidPublishQoS,
        MALFORMED,
        Some("MQTT-3.3.1-4"),
    );
    expect(v5(&[0x38, 0]), DupWithQoS0, MALFORMED, Some("MQTT-3.3.1-2"));
    expect(
        v5(&[0x40, 2, 0, 0]),
        ZeroPacketId { packet_type: 4 },
        PROTOCOL,
        Some("MQTT-2.3.1-1"),
    );
    expect(
        v5(&[0xC0, 1, 0]),
        InvalidRemainingLength {
            packet_type: 12,
            expected: 0,
            actual: 1,
        },
        MALFORMED,
        None,
    );
    expect(
        v5(&[0x40, 5, 0, 1, 0, 0, 9]),
        TrailingBytes {
            packet_type: 4,
            extra: 1,
        },
        MALFORMED,
        None,
    );
    let too_large = parse_frame_header(&[0x30, 0x7F], 10).unwrap_err();
    assert_eq!(too_large.reason_code(), ReasonCode::PacketTooLarge);
    let long = parse_frame_header(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF], usize::MAX).unwrap_err();
    assert_eq!(long, MalformedRemainingLength);
    assert_eq!(long.reason_code(), MALFORMED);
    let header = parse_frame_header(&[0xC0, 0], 10).unwrap().unwrap();
    let err = decode_packet(Bytes::from_static(&[0xC0]), &header, V5).unwrap_err();
    assert!(matches!(err, FrameLengthMismatch { .. }));
    assert_eq!(err.reason_code(), ReasonCode::ImplementationSpecificError);
}

#[test]
fn v5_client_publish_rules() {
    let decoded = |p: &[&[u8]]| match v5(&publish(b"t", p)) {
        Ok(Packet::Publish(p)) => p,
        other => panic!("{other:?}"),
    };
    // Server to client, several identifiers decode; from a client, none.
    let with_ids = decoded(&[&[0x0B, 1], &[0x0B, 2]]);
    let err = check_client_publish(&with_ids, 10).unwrap_err();
    assert_eq!(err, SubscriptionIdFromClient);
    assert_eq!(err.reason_code(), PROTOCOL);
    assert_eq!(err.normative_id(), Some("MQTT-3.3.4-6"));
    // Alias up to the maximum the server announced; 0 announced: none.
    let alias5 = decoded(&[&[0x23, 0, 5]]);
    assert_eq!(check_client_publish(&alias5, 5), Ok(()));
    let err = check_client_publish(&alias5, 4).unwrap_err();
    assert_eq!(err, TopicAliasAboveMaximum { alias: 5, max: 4 });
    assert_eq!(err.reason_code(), ReasonCode::TopicAliasInvalid);
    assert_eq!(err.normative_id(), Some("MQTT-3.3.2-9"));
    assert!(check_client_publish(&alias5, 0).is_err());
    assert_eq!(check_client_publish(&decoded(&[]), 0), Ok(()));
}
