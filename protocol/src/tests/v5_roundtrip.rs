//! MQTT 5: every packet, with and without every property its struct has,
//! survives encode -> decode unchanged, and `encoded_len`/`publish_len`
//! match what is written.

use super::*;
use std::sync::Arc;
use ProtocolVersion::V5;

pub(super) fn users() -> Vec<UserProperty> {
    vec![(s("k"), s("v")), (s("k"), s("again")), (s(""), s(""))]
}

pub(super) fn full_publish_properties() -> PublishProperties {
    PublishProperties {
        payload_format_indicator: Some(1),
        message_expiry_interval: Some(60),
        response_topic: Some(s("reply/to")),
        correlation_data: Some(b(&[1, 2, 3])),
        user_properties: users(),
        subscription_identifiers: vec![1, 127, 128, 16_384, 268_435_455],
        content_type: Some(s("text/plain")),
    }
}

pub(super) fn full_connect(will: bool) -> Connect {
    Connect {
        protocol: V5,
        clean_session: true,
        keep_alive: 30,
        client_id: s("client"),
        will: will.then(|| Will {
            topic: s("w/t"),
            payload: b(b"bye"),
            qos: QoS::ExactlyOnce,
            retain: true,
            properties: Some(Box::new(WillProperties {
                will_delay_interval: Some(5),
                payload_format_indicator: Some(0),
                message_expiry_interval: Some(10),
                content_type: Some(s("x")),
                response_topic: Some(s("r")),
                correlation_data: Some(b(b"c")),
                user_properties: users(),
            })),
        }),
        username: None,
        // MQTT 5 allows a password without a user name (§3.1.2.9).
        password: Some(b(b"secret")),
        properties: Some(Box::new(ConnectProperties {
            session_expiry_interval: Some(3600),
            receive_maximum: Some(10),
            maximum_packet_size: Some(1 << 20),
            topic_alias_maximum: Some(8),
            request_response_information: Some(true),
            request_problem_information: Some(false),
            user_properties: users(),
            authentication_method: Some(s("SCRAM-SHA-1")),
            authentication_data: Some(b(b"data")),
        })),
    }
}

fn full_connack() -> ConnAckProperties {
    ConnAckProperties {
        session_expiry_interval: Some(0),
        receive_maximum: Some(100),
        maximum_qos: Some(1),
        retain_available: Some(false),
        maximum_packet_size: Some(65_536),
        assigned_client_identifier: Some(s("auto-1")),
        topic_alias_maximum: Some(10),
        reason_string: Some(s("why")),
        user_properties: users(),
        wildcard_subscription_available: Some(true),
        subscription_identifiers_available: Some(false),
        shared_subscription_available: Some(true),
        server_keep_alive: Some(120),
        response_information: Some(s("resp")),
        server_reference: Some(s("other:1883")),
        authentication_method: Some(s("m")),
        authentication_data: Some(b(b"d")),
    }
}

fn ack_props() -> Option<Box<AckProperties>> {
    Some(Box::new(AckProperties {
        reason_string: Some(s("because")),
        user_properties: users(),
    }))
}

fn publishes() -> Vec<Packet> {
    let mut out = Vec::new();
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let full = Some(Arc::new(full_publish_properties()));
        for (props, alias) in [
            (None, None),
            (None, Some(3)),
            (full.clone(), None),
            (full, Some(3)),
        ] {
            for (topic, payload_len) in [("a/b", 0), ("a/b", 300), ("", 5)] {
                if topic.is_empty() && alias.is_none() {
                    continue; // an empty topic needs a Topic Alias
                }
                out.push(Packet::Publish(Publish {
                    dup: qos != QoS::AtMostOnce,
                    qos,
                    retain: true,
                    topic: s(topic),
                    packet_id: if qos == QoS::AtMostOnce { 0 } else { 9 },
                    payload: Bytes::from(vec![7; payload_len]),
                    topic_alias: alias,
                    properties: props.clone(),
                }));
            }
        }
    }
    out
}

pub(super) fn all_packets() -> Vec<Packet> {
    let opts = |qos, no_local, rap, rh| SubscriptionOptions {
        qos,
        no_local,
        retain_as_published: rap,
        retain_handling: rh,
    };
    let mut v = vec![
        Packet::Connect(Box::new(full_connect(true))),
        Packet::Connect(Box::new(full_connect(false))),
        Packet::Connect(Box::new(Connect {
            properties: None,
            will: None,
            username: Some(s("u")),
            ..full_connect(false)
        })),
        Packet::ConnAck(ConnAck::new(true, ReasonCode::Success)),
        Packet::ConnAck(ConnAck::new(false, ReasonCode::QuotaExceeded)),
        Packet::ConnAck(ConnAck {
            session_present: false,
            code: ReasonCode::Success,
            properties: Some(Box::new(full_connack())),
        }),
        Packet::Subscribe(Subscribe {
            packet_id: 3,
            filters: vec![
                (
                    s("a/+"),
                    opts(
                        QoS::AtMostOnce,
                        false,
                        false,
                        RetainHandling::SendOnSubscribe,
                    ),
                ),
                (
                    s("#"),
                    opts(QoS::ExactlyOnce, true, true, RetainHandling::DoNotSend),
                ),
                (
                    s("$share/g/x"),
                    opts(QoS::AtLeastOnce, false, true, RetainHandling::SendIfNew),
                ),
            ],
            properties: Some(Box::new(SubscribeProperties {
                subscription_identifier: Some(268_435_455),
                user_properties: users(),
            })),
        }),
        Packet::Subscribe(Subscribe {
            packet_id: 4,
            filters: vec![(s("x"), SubscriptionOptions::qos(QoS::AtLeastOnce))],
            properties: None,
        }),
        Packet::SubAck(SubAck {
            packet_id: 3,
            codes: vec![
                ReasonCode::GrantedQoS2,
                ReasonCode::SharedSubscriptionsNotSupported,
            ],
            properties: ack_props(),
        }),
        Packet::Unsubscribe(Unsubscribe {
            packet_id: 5,
            filters: vec![s("a/+"), s("#")],
            properties: Some(Box::new(UnsubscribeProperties {
                user_properties: users(),
            })),
        }),
        Packet::UnsubAck(UnsubAck {
            packet_id: 5,
            codes: vec![ReasonCode::Success, ReasonCode::NoSubscriptionExisted],
            properties: None,
        }),
        Packet::PingReq,
        Packet::PingResp,
        Packet::Disconnect(Disconnect::NORMAL),
        Packet::Disconnect(Disconnect::with_reason(
            ReasonCode::DisconnectWithWillMessage,
        )),
        Packet::Disconnect(Disconnect {
            reason: ReasonCode::ServerMoved,
            properties: Some(Box::new(DisconnectProperties {
                session_expiry_interval: Some(1),
                reason_string: Some(s("bye")),
                user_properties: users(),
                server_reference: Some(s("elsewhere")),
            })),
        }),
        Packet::Auth(Auth {
            reason: ReasonCode::Success,
            properties: None,
        }),
        Packet::Auth(Auth {
            reason: ReasonCode::ContinueAuthentication,
            properties: Some(Box::new(AuthProperties {
                authentication_method: Some(s("SCRAM-SHA-1")),
                authentication_data: Some(b(b"challenge")),
                reason_string: Some(s("more")),
                user_properties: users(),
            })),
        }),
    ];
    for (reason, props) in [
        (ReasonCode::Success, None),
        (ReasonCode::NoMatchingSubscribers, None),
        (ReasonCode::Success, ack_props()),
    ] {
        let a = Ack {
            packet_id: 77,
            reason,
            properties: props,
        };
        v.push(Packet::PubAck(a.clone()));
        v.push(Packet::PubRec(a.clone()));
        let rel = Ack {
            reason: match reason {
                ReasonCode::Success => reason,
                _ => ReasonCode::PacketIdentifierNotFound,
            },
            ..a
        };
        v.push(Packet::PubRel(rel.clone()));
        v.push(Packet::PubComp(rel));
    }
    v.extend(publishes());
    v
}

#[test]
fn v5_every_packet_round_trips() {
    for packet in all_packets() {
        let bytes = encode_vec(&packet, V5);
        assert_eq!(bytes.len(), encoded_len(&packet, V5), "{packet:?}");
        let back = decode_v(&bytes, V5).unwrap_or_else(|e| panic!("{e}: {packet:?}"));
        assert_eq!(back, packet);
        if let Packet::Publish(p) = &packet {
            assert_fast_path(p, V5, &bytes);
        }
    }
}

#[test]
fn v5_connect_is_written_by_its_own_protocol() {
    // A level-5 CONNECT is MQTT 5 bytes whatever version the caller names.
    let c = Packet::Connect(Box::new(full_connect(true)));
    let bytes = encode_vec(&c, V5);
    for v in [ProtocolVersion::V3_1, ProtocolVersion::V3_1_1] {
        assert_eq!(encode_vec(&c, v), bytes);
        assert_eq!(encoded_len(&c, v), bytes.len());
        assert_eq!(decode_v(&bytes, v).as_ref(), Ok(&c));
    }
}

#[test]
fn v5_empty_properties_are_written_as_absent() {
    let empty = Packet::PubAck(Ack {
        packet_id: 1,
        reason: ReasonCode::Success,
        properties: Some(Box::default()),
    });
    assert_eq!(encode_vec(&empty, V5), [0x40, 2, 0, 1]);
    assert_eq!(
        decode_v(&[0x40, 2, 0, 1], V5),
        Ok(Packet::PubAck(Ack::new(1)))
    );
}

#[test]
fn v5_publish_ref_alias_and_ids_replace_the_shared_ones() {
    // The shared properties carry inbound identifiers: the delivery writes
    // its own instead, and its alias with an empty topic.
    let shared = full_publish_properties();
    let ids = [42u32];
    let p = PublishRef {
        topic: "",
        payload: b"x",
        qos: QoS::AtMostOnce,
        retain: false,
        dup: false,
        packet_id: 0,
        properties: Some(&shared),
        topic_alias: Some(9),
        subscription_ids: &ids,
    };
    let mut bytes = Vec::new();
    encode_publish(&p, V5, &mut bytes);
    assert_eq!(bytes.len(), publish_len(&p, V5));
    let Ok(Packet::Publish(got)) = decode_v(&bytes, V5) else {
        panic!()
    };
    assert_eq!(got.topic.as_str(), "");
    assert_eq!(got.topic_alias, Some(9));
    let got = got.properties.expect("properties");
    assert_eq!(got.subscription_identifiers, [42]);
    assert_eq!(got.user_properties, shared.user_properties);
    assert_eq!(got.content_type, shared.content_type);
    // Neither set: no alias, and the shared identifiers are not written.
    let plain = PublishRef {
        topic: "t",
        topic_alias: None,
        subscription_ids: &[],
        ..p
    };
    let mut bytes = Vec::new();
    encode_publish(&plain, V5, &mut bytes);
    let Ok(Packet::Publish(got)) = decode_v(&bytes, V5) else {
        panic!()
    };
    assert_eq!(got.topic_alias, None);
    let got = got.properties.expect("properties");
    assert_eq!(got.subscription_identifiers.len(), 0);
    // Only the per-delivery fields: still a property block.
    let only = PublishRef {
        properties: None,
        ..p
    };
    let mut bytes = Vec::new();
    encode_publish(&only, V5, &mut bytes);
    assert_eq!(bytes, [0x30, 9, 0, 0, 5, 0x23, 0, 9, 0x0B, 42, b'x']);
}

#[test]
fn v5_publish_without_properties_is_v3_plus_one_byte() {
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce] {
        let p = PublishRef {
            retain: true,
            ..PublishRef::new("a/b", b"xyz", qos, 5)
        };
        let (mut v3, mut v5) = (Vec::new(), Vec::new());
        encode_publish(&p, ProtocolVersion::V3_1_1, &mut v3);
        encode_publish(&p, V5, &mut v5);
        let at = v3.len() - 3;
        v3.insert(at, 0);
        v3[1] += 1;
        assert_eq!(v5, v3);
    }
}
