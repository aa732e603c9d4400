//! MQTT 5 byte vectors written by hand from the spec's layouts (§3.x), not
//! produced by the encoder under test: each decodes to the expected packet
//! and the encoder writes exactly these bytes back.

use super::*;
use std::sync::Arc;
use ProtocolVersion::V5;

/// Decode `bytes` as MQTT 5, expect `packet`, and expect the encoder to
/// write `bytes` back.
fn both_ways(bytes: &[u8], packet: Packet) {
    assert_eq!(decode_v(bytes, V5).as_ref(), Ok(&packet), "{bytes:02x?}");
    assert_eq!(encode_vec(&packet, V5), bytes, "{packet:?}");
    assert_eq!(encoded_len(&packet, V5), bytes.len());
}

#[test]
fn v5_connect_minimal() {
    // §3.1.2: name, level 5, flags (clean start), keep alive 10, property
    // length 0, client id "c".
    let bytes = frame(
        0x10,
        &concat(&[&lp(b"MQTT"), &[5, 0x02, 0, 10, 0], &lp(b"c")]),
    );
    both_ways(
        &bytes,
        Packet::Connect(Box::new(Connect {
            protocol: V5,
            clean_session: true,
            keep_alive: 10,
            client_id: s("c"),
            will: None,
            username: None,
            password: None,
            properties: None,
        })),
    );
}

#[test]
fn v5_connect_with_properties_and_will() {
    // Session Expiry 0x11 = 120, Receive Maximum 0x21 = 20; will flag, will
    // QoS 1, will retain; will properties: Will Delay 0x18 = 5; will topic
    // "w", payload "x"; user name "u".
    let props = [0x11, 0, 0, 0, 120, 0x21, 0, 20];
    let will_props = [0x18, 0, 0, 0, 5];
    let body = concat(&[
        &lp(b"MQTT"),
        &[
            5,
            0x80 | 0x20 | 0x08 | 0x04 | 0x02,
            0,
            60,
            props.len() as u8,
        ],
        &props,
        &lp(b"id"),
        &[will_props.len() as u8],
        &will_props,
        &lp(b"w"),
        &lp(b"x"),
        &lp(b"u"),
    ]);
    both_ways(
        &frame(0x10, &body),
        Packet::Connect(Box::new(Connect {
            protocol: V5,
            clean_session: true,
            keep_alive: 60,
            client_id: s("id"),
            will: Some(Will {
                topic: s("w"),
                payload: b(b"x"),
                qos: QoS::AtLeastOnce,
                retain: true,
                properties: Some(Box::new(WillProperties {
                    will_delay_interval: Some(5),
                    ..Default::default()
                })),
            }),
            username: Some(s("u")),
            password: None,
            properties: Some(Box::new(ConnectProperties {
                session_expiry_interval: Some(120),
                receive_maximum: Some(20),
                ..Default::default()
            })),
        })),
    );
}

#[test]
fn v5_connack() {
    // Flags, reason code, property length 0 (§3.2.2).
    both_ways(
        &[0x20, 3, 1, 0, 0],
        Packet::ConnAck(ConnAck::new(true, ReasonCode::Success)),
    );
    both_ways(
        &[0x20, 3, 0, 0x87, 0],
        Packet::ConnAck(ConnAck::new(false, ReasonCode::NotAuthorized)),
    );
    // Topic Alias Maximum 0x22 = 10, Retain Available 0x25 = 0.
    both_ways(
        &[0x20, 8, 0, 0, 5, 0x25, 0, 0x22, 0, 10],
        Packet::ConnAck(ConnAck {
            session_present: false,
            code: ReasonCode::Success,
            properties: Some(Box::new(ConnAckProperties {
                retain_available: Some(false),
                topic_alias_maximum: Some(10),
                ..Default::default()
            })),
        }),
    );
}

#[test]
fn v5_publish() {
    // QoS 0, topic "a/b", property length 0, payload "hi" (§3.3.2).
    let mut expected = Publish {
        dup: false,
        qos: QoS::AtMostOnce,
        retain: false,
        topic: s("a/b"),
        packet_id: 0,
        payload: b(b"hi"),
        topic_alias: None,
        properties: None,
    };
    both_ways(
        &frame(0x30, &concat(&[&lp(b"a/b"), &[0], b"hi"])),
        Packet::Publish(expected.clone()),
    );
    // QoS 1, id 10, Message Expiry 0x02 = 9, Topic Alias 0x23 = 2.
    expected.qos = QoS::AtLeastOnce;
    expected.packet_id = 10;
    // The alias is the Publish's own, not one of its shared properties.
    expected.topic_alias = Some(2);
    expected.properties = Some(Arc::new(PublishProperties {
        message_expiry_interval: Some(9),
        ..Default::default()
    }));
    let props = [0x02, 0, 0, 0, 9, 0x23, 0, 2];
    both_ways(
        &frame(0x32, &concat(&[&lp(b"a/b"), &[0, 10, 8], &props, b"hi"])),
        Packet::Publish(expected.clone()),
    );
    // The same with an empty topic: the alias stands for it (§3.3.2.3.4).
    expected.topic = s("");
    both_ways(
        &frame(0x32, &concat(&[&lp(b""), &[0, 10, 8], &props, b"hi"])),
        Packet::Publish(expected.clone()),
    );
    // An alias and nothing else: no properties at all.
    expected.properties = None;
    both_ways(
        &frame(0x32, &concat(&[&lp(b""), &[0, 10, 3, 0x23, 0, 2], b"hi"])),
        Packet::Publish(expected),
    );
}

#[test]
fn v5_ack_short_forms() {
    // Remaining length 2: Success, no properties (§3.4.2.1).
    for (first, wrap) in [
        (0x40, Packet::PubAck as fn(Ack) -> Packet),
        (0x50, Packet::PubRec),
        (0x62, Packet::PubRel),
        (0x70, Packet::PubComp),
    ] {
        both_ways(&[first, 2, 0, 7], wrap(Ack::new(7)));
    }
    // Remaining length 3: a reason code without properties.
    both_ways(
        &[0x40, 3, 0, 7, 0x10],
        Packet::PubAck(Ack::with_reason(7, ReasonCode::NoMatchingSubscribers)),
    );
    both_ways(
        &[0x62, 3, 0, 7, 0x92],
        Packet::PubRel(Ack::with_reason(7, ReasonCode::PacketIdentifierNotFound)),
    );
    // Remaining length 4 with an empty property block decodes like 2.
    assert_eq!(
        decode_v(&[0x40, 4, 0, 7, 0, 0], V5),
        Ok(Packet::PubAck(Ack::new(7)))
    );
    // A reason string 0x1F "r".
    both_ways(
        &[0x50, 8, 0, 7, 0x80, 4, 0x1F, 0, 1, b'r'],
        Packet::PubRec(Ack {
            packet_id: 7,
            reason: ReasonCode::UnspecifiedError,
            properties: Some(Box::new(AckProperties {
                reason_string: Some(s("r")),
                user_properties: vec![],
            })),
        }),
    );
}

#[test]
fn v5_subscribe_options_byte() {
    // Options 0b0010_1110: retain handling 2, RAP, no local, QoS 2.
    // Subscription Identifier 0x0B = 200 (varint 0xC8 0x01).
    let body = concat(&[&[0, 1, 3, 0x0B, 0xC8, 0x01], &lp(b"a/#"), &[0b0010_1110]]);
    both_ways(
        &frame(0x82, &body),
        Packet::Subscribe(Subscribe {
            packet_id: 1,
            filters: vec![(
                s("a/#"),
                SubscriptionOptions {
                    qos: QoS::ExactlyOnce,
                    no_local: true,
                    retain_as_published: true,
                    retain_handling: RetainHandling::DoNotSend,
                },
            )],
            properties: Some(Box::new(SubscribeProperties {
                subscription_identifier: Some(200),
                user_properties: vec![],
            })),
        }),
    );
}

#[test]
fn v5_suback_unsubscribe_unsuback() {
    both_ways(
        &[0x90, 5, 0, 1, 0, 0x01, 0xA2],
        Packet::SubAck(SubAck {
            packet_id: 1,
            codes: vec![
                ReasonCode::GrantedQoS1,
                ReasonCode::WildcardSubscriptionsNotSupported,
            ],
            properties: None,
        }),
    );
    both_ways(
        &frame(0xA2, &concat(&[&[0, 2, 0], &lp(b"a")])),
        Packet::Unsubscribe(Unsubscribe {
            packet_id: 2,
            filters: vec![s("a")],
            properties: None,
        }),
    );
    both_ways(
        &[0xB0, 4, 0, 2, 0, 0x11],
        Packet::UnsubAck(UnsubAck {
            packet_id: 2,
            codes: vec![ReasonCode::NoSubscriptionExisted],
            properties: None,
        }),
    );
}

#[test]
fn v5_disconnect_and_auth_short_forms() {
    // Remaining length 0: normal disconnection (§3.14.2.1).
    both_ways(&[0xE0, 0], Packet::Disconnect(Disconnect::NORMAL));
    both_ways(
        &[0xE0, 1, 0x8E],
        Packet::Disconnect(Disconnect::with_reason(ReasonCode::SessionTakenOver)),
    );
    assert_eq!(
        decode_v(&[0xE0, 2, 0x04, 0], V5),
        Ok(Packet::Disconnect(Disconnect::with_reason(
            ReasonCode::DisconnectWithWillMessage
        )))
    );
    // Session Expiry Interval 0x11 = 0.
    both_ways(
        &[0xE0, 7, 0, 5, 0x11, 0, 0, 0, 0],
        Packet::Disconnect(Disconnect {
            reason: ReasonCode::Success,
            properties: Some(Box::new(DisconnectProperties {
                session_expiry_interval: Some(0),
                ..Default::default()
            })),
        }),
    );
    both_ways(
        &[0xF0, 0],
        Packet::Auth(Auth {
            reason: ReasonCode::Success,
            properties: None,
        }),
    );
    // Continue authentication, method "m" (§3.15.2).
    both_ways(
        &[0xF0, 6, 0x18, 4, 0x15, 0, 1, b'm'],
        Packet::Auth(Auth {
            reason: ReasonCode::ContinueAuthentication,
            properties: Some(Box::new(AuthProperties {
                authentication_method: Some(s("m")),
                ..Default::default()
            })),
        }),
    );
}

#[test]
fn v5_ping() {
    both_ways(&[0xC0, 0], Packet::PingReq);
    both_ways(&[0xD0, 0], Packet::PingResp);
}
