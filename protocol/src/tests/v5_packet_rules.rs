//! MQTT 5 decoding rules of packets (topics, options, CONNECT, CONNACK,
//! fixed header, direction-dependent PUBLISH rules), from bytes written by
//! hand, with reason codes and normative IDs; helpers from `v5_validation`.

use super::v5_validation::*;
use super::*;
use DecodeError::*;
use ProtocolVersion::V5;

#[test]
fn v5_topic_alias_and_empty_topic() {
    // An empty topic is allowed only with a Topic Alias (§3.3.2.1).
    expect_protocol_error(v5(&publish(b"", &[])), EmptyTopicWithoutAlias);
    expect_protocol_error(
        v5(&publish(b"", &[&[0x02, 0, 0, 0, 1]])),
        EmptyTopicWithoutAlias,
    );
    assert!(v5(&publish(b"", &[&[0x23, 0, 1]])).is_ok());
    assert!(v5(&publish(b"", &[&[0x02, 0, 0, 0, 1], &[0x23, 0, 1]])).is_ok());
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
    expect_protocol_error(v5(&subscribe(&[], b"t", 0x30)), InvalidRetainHandling(0x30));
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
    expect_protocol_error(v5(&[0x90, 3, 0, 1, 0]), SubAckWithoutCodes);
    expect_protocol_error(v5(&[0xB0, 3, 0, 1, 0]), UnsubAckWithoutCodes);
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
    assert_eq!((alias5.topic_alias, &alias5.properties), (Some(5), &None));
    assert_eq!(check_client_publish(&alias5, 5), Ok(()));
    let err = check_client_publish(&alias5, 4).unwrap_err();
    assert_eq!(err, TopicAliasAboveMaximum { alias: 5, max: 4 });
    assert_eq!(err.reason_code(), ReasonCode::TopicAliasInvalid);
    assert_eq!(err.normative_id(), Some("MQTT-3.3.2-9"));
    assert!(check_client_publish(&alias5, 0).is_err());
    // With other properties beside it, the alias is checked the same.
    let alias5_expiry = decoded(&[&[0x02, 0, 0, 0, 1], &[0x23, 0, 5]]);
    assert_eq!(alias5_expiry.topic_alias, Some(5));
    assert!(alias5_expiry.properties.is_some());
    assert!(check_client_publish(&alias5_expiry, 4).is_err());
    assert_eq!(check_client_publish(&decoded(&[]), 0), Ok(()));
}
