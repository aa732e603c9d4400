//! MQTT 5 decoding rules, properties (§2.2.2): every property error the v5
//! decoder can return, from bytes written by hand, with the reason code the
//! broker answers it with and, where the spec numbers the rule, its
//! normative ID. Packet rules are in `v5_packet_rules`, which shares the
//! helpers here.

use super::*;
use DecodeError::*;
use ProtocolVersion::V5;

pub(super) fn v5(bytes: &[u8]) -> Result<Packet, DecodeError> {
    decode_v(bytes, V5)
}

/// A property block: varint length, then the properties.
pub(super) fn props(p: &[&[u8]]) -> Vec<u8> {
    let body = p.concat();
    let mut out = Vec::new();
    codec_util::put_remaining_len(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

/// A QoS 1 PUBLISH to `topic`, id 1, these properties, payload "x".
pub(super) fn publish(topic: &[u8], p: &[&[u8]]) -> Vec<u8> {
    frame(0x32, &concat(&[&lp(topic), &[0, 1], &props(p), b"x"]))
}

/// A level-5 CONNECT with these connect flags, properties and payload.
pub(super) fn connect(flags: u8, p: &[&[u8]], payload: &[u8]) -> Vec<u8> {
    frame(
        0x10,
        &concat(&[&lp(b"MQTT"), &[5, flags, 0, 60], &props(p), payload]),
    )
}

/// A SUBSCRIBE, id 1, with these properties and one filter.
pub(super) fn subscribe(p: &[&[u8]], filter: &[u8], options: u8) -> Vec<u8> {
    frame(
        0x82,
        &concat(&[&[0, 1], &props(p), &lp(filter), &[options]]),
    )
}

/// Expect `err` with this reason code and normative ID.
pub(super) fn expect(
    got: Result<Packet, DecodeError>,
    err: DecodeError,
    rc: ReasonCode,
    id: Option<&str>,
) {
    assert_eq!(got, Err(err.clone()));
    assert_eq!(err.reason_code(), rc, "{err:?}");
    assert_eq!(err.normative_id(), id, "{err:?}");
    if let Some(id) = id {
        assert!(err.to_string().starts_with(&format!("[{id}] ")), "{err}");
    }
}

/// The common case: a Protocol Error with no normative ID of its own.
pub(super) fn expect_protocol_error(got: Result<Packet, DecodeError>, err: DecodeError) {
    expect(got, err, PROTOCOL, None);
}

pub(super) const MALFORMED: ReasonCode = ReasonCode::MalformedPacket;
pub(super) const PROTOCOL: ReasonCode = ReasonCode::ProtocolError;

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
    expect_protocol_error(v5(&publish(b"t", &[expiry, expiry])), dup(3, 0x02));
    // The alias is kept apart from the other properties, but still once.
    let alias: &[u8] = &[0x23, 0, 1];
    expect_protocol_error(v5(&publish(b"t", &[alias, alias])), dup(3, 0x23));
    expect_protocol_error(v5(&publish(b"t", &[alias, expiry, alias])), dup(3, 0x23));
    let rm: &[u8] = &[0x21, 0, 5];
    expect_protocol_error(v5(&connect(0x02, &[rm, rm], &lp(b"c"))), dup(1, 0x21));
    let sub_id: &[u8] = &[0x0B, 1];
    expect_protocol_error(v5(&subscribe(&[sub_id, sub_id], b"t", 0)), dup(8, 0x0B));
    expect_protocol_error(
        v5(&[0xE0, 10, 0x80, 8, 0x1F, 0, 1, b'a', 0x1F, 0, 1, b'b']),
        dup(14, 0x1F),
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
    expect_protocol_error(v5(&publish(b"t", &[&[0x01, 2]])), bad(3, 0x01, 2));
    expect_protocol_error(
        v5(&connect(0x02, &[&[0x17, 2]], &lp(b"c"))),
        bad(1, 0x17, 2),
    );
    expect_protocol_error(
        v5(&connect(0x02, &[&[0x19, 0xFF]], &lp(b"c"))),
        bad(1, 0x19, 255),
    );
    // Receive Maximum 0, Maximum Packet Size 0 (§3.1.2.11.3, .4).
    expect_protocol_error(
        v5(&connect(0x02, &[&[0x21, 0, 0]], &lp(b"c"))),
        bad(1, 0x21, 0),
    );
    expect_protocol_error(
        v5(&connect(0x02, &[&[0x27, 0, 0, 0, 0]], &lp(b"c"))),
        bad(1, 0x27, 0),
    );
    // Topic Alias 0: its own reason code [MQTT-3.3.2-8].
    expect(
        v5(&publish(b"t", &[&[0x23, 0, 0]])),
        bad(3, 0x23, 0),
        ReasonCode::TopicAliasInvalid,
        Some("MQTT-3.3.2-8"),
    );
    // Subscription Identifier 0, on PUBLISH and SUBSCRIBE.
    expect_protocol_error(v5(&publish(b"t", &[&[0x0B, 0]])), bad(3, 0x0B, 0));
    expect_protocol_error(v5(&subscribe(&[&[0x0B, 0]], b"t", 0)), bad(8, 0x0B, 0));
    // CONNACK: Maximum QoS 2, the "available" bytes other than 0/1.
    for id in [0x24u8, 0x25, 0x28, 0x29, 0x2A] {
        expect_protocol_error(v5(&[0x20, 5, 0, 0, 2, id, 2]), bad(2, id, 2));
    }
    expect_protocol_error(v5(&[0x20, 6, 0, 0, 3, 0x21, 0, 0]), bad(2, 0x21, 0));
    // Will payload format indicator.
    let will = concat(&[&lp(b"c"), &props(&[&[0x01, 3]]), &lp(b"t"), &lp(b"p")]);
    expect_protocol_error(v5(&connect(0x06, &[], &will)), bad(1, 0x01, 3));
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
    expect_protocol_error(v5(&connect(0x02, &[data], &lp(b"c"))), err(1));
    expect_protocol_error(v5(&[0x20, 7, 0, 0, 4, 0x16, 0, 1, 7]), err(2));
    expect_protocol_error(v5(&[0xF0, 6, 0x18, 4, 0x16, 0, 1, 7]), err(15));
    let method = concat(&[&[0x15], &lp(b"m")]);
    assert!(v5(&connect(0x02, &[&method, data], &lp(b"c"))).is_ok());
}
