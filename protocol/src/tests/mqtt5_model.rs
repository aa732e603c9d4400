//! The MQTT 5 half of the packet model through the 3.x codec: decoding
//! fills it with `None`/defaults, encoding leaves it out.

use super::*;
use std::sync::Arc;
use ProtocolVersion::*;

fn user_properties() -> Vec<UserProperty> {
    vec![(s("k"), s("v")), (s("k"), s("again"))]
}

fn publish_properties() -> PublishProperties {
    PublishProperties {
        payload_format_indicator: Some(1),
        message_expiry_interval: Some(60),
        response_topic: Some(s("reply/to")),
        correlation_data: Some(Bytes::from_static(&[1, 2, 3])),
        user_properties: user_properties(),
        subscription_identifiers: vec![1, 268_435_455],
        content_type: Some(s("text/plain")),
    }
}

fn publish(qos: QoS, properties: Option<Arc<PublishProperties>>) -> Publish {
    Publish {
        dup: qos != QoS::AtMostOnce,
        qos,
        retain: true,
        topic: s("a/b"),
        packet_id: if qos == QoS::AtMostOnce { 0 } else { 7 },
        payload: Bytes::from_static(b"body"),
        // With the properties, an alias too: 3.x leaves both out.
        topic_alias: properties.as_ref().map(|_| 3),
        properties,
    }
}

#[test]
fn v3_subscribe_decodes_to_default_options() {
    for version in [V3_1, V3_1_1] {
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            let bytes = frame(0x82, &concat(&[&[0, 1], &lp(b"a/+"), &[qos as u8]]));
            let Ok(Packet::Subscribe(sub)) = decode_v(&bytes, version) else {
                panic!("{version:?} {qos:?}")
            };
            let (_, opts) = &sub.filters[0];
            assert_eq!(*opts, SubscriptionOptions::qos(qos));
            assert!(!opts.no_local && !opts.retain_as_published);
            assert_eq!(opts.retain_handling, RetainHandling::SendOnSubscribe);
            assert_eq!(sub.properties, None);
        }
    }
}

#[test]
fn v3_decode_leaves_properties_empty() {
    let bytes = encode_vec(&Packet::Publish(publish(QoS::AtLeastOnce, None)), V3_1_1);
    let Ok(Packet::Publish(p)) = decode(&bytes) else {
        panic!()
    };
    assert_eq!(p.properties, None);
    let payload = concat(&[&lp(b"id"), &lp(b"w/t"), &lp(b"bye")]);
    let Ok(Packet::Connect(c)) = decode(&connect_frame(0x04, &payload)) else {
        panic!()
    };
    assert_eq!(c.properties, None);
    assert_eq!(c.will.expect("will").properties, None);
}

#[test]
fn publish_properties_are_dropped_by_v3() {
    let props = Arc::new(publish_properties());
    for version in [V3_1, V3_1_1] {
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            let plain = Packet::Publish(publish(qos, None));
            let with = Packet::Publish(publish(qos, Some(props.clone())));
            let expected = encode_vec(&plain, version);
            assert_eq!(encode_vec(&with, version), expected, "{qos:?}");
            assert_eq!(encoded_len(&with, version), expected.len());

            let Packet::Publish(p) = &with else {
                unreachable!()
            };
            let view = PublishRef::from(p);
            assert!(std::ptr::eq(view.properties.unwrap(), &*props));
            assert_fast_path(p, version, &expected);
        }
    }
}

#[test]
fn connect_and_will_properties_are_dropped_by_v3() {
    let will = Will {
        topic: s("w/t"),
        payload: Bytes::from_static(b"bye"),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: None,
    };
    let plain = Connect {
        protocol: V3_1_1,
        clean_session: true,
        keep_alive: 30,
        client_id: s("c"),
        will: Some(will.clone()),
        username: Some(s("u")),
        password: Some(Bytes::from_static(b"p")),
        properties: None,
    };
    let with = Connect {
        will: Some(Will {
            properties: Some(Box::new(WillProperties {
                will_delay_interval: Some(5),
                payload_format_indicator: Some(0),
                message_expiry_interval: Some(10),
                content_type: Some(s("x")),
                response_topic: Some(s("r")),
                correlation_data: Some(Bytes::from_static(b"c")),
                user_properties: user_properties(),
            })),
            ..will
        }),
        properties: Some(Box::new(ConnectProperties {
            session_expiry_interval: Some(3600),
            receive_maximum: Some(10),
            maximum_packet_size: Some(1 << 20),
            topic_alias_maximum: Some(8),
            request_response_information: Some(true),
            request_problem_information: Some(false),
            user_properties: user_properties(),
            authentication_method: Some(s("SCRAM-SHA-1")),
            authentication_data: Some(Bytes::from_static(b"data")),
        })),
        ..plain.clone()
    };
    for protocol in [V3_1, V3_1_1] {
        let plain = Packet::Connect(Box::new(Connect {
            protocol,
            ..plain.clone()
        }));
        let with = Packet::Connect(Box::new(Connect {
            protocol,
            ..with.clone()
        }));
        let expected = encode_vec(&plain, protocol);
        assert_eq!(encode_vec(&with, protocol), expected, "{protocol:?}");
        assert_eq!(encoded_len(&with, protocol), expected.len());
    }
}

#[test]
fn v3_subscribe_writes_only_the_qos_of_the_options() {
    let sub = |opts, properties| {
        Packet::Subscribe(Subscribe {
            packet_id: 1,
            filters: vec![(s("a/#"), opts)],
            properties,
        })
    };
    let plain = sub(SubscriptionOptions::qos(QoS::ExactlyOnce), None);
    let with = sub(
        SubscriptionOptions {
            qos: QoS::ExactlyOnce,
            no_local: true,
            retain_as_published: true,
            retain_handling: RetainHandling::DoNotSend,
        },
        Some(Box::new(SubscribeProperties {
            subscription_identifier: Some(42),
            user_properties: user_properties(),
        })),
    );
    let expected = encode_vec(&plain, V3_1_1);
    assert_eq!(expected, [0x82, 8, 0, 1, 0, 3, b'a', b'/', b'#', 2]);
    assert_eq!(encode_vec(&with, V3_1_1), expected);
    assert_eq!(encoded_len(&with, V3_1_1), expected.len());
}

#[test]
fn retain_handling_values_are_the_wire_values() {
    for (v, rh) in [
        (0, RetainHandling::SendOnSubscribe),
        (1, RetainHandling::SendIfNew),
        (2, RetainHandling::DoNotSend),
    ] {
        assert_eq!(rh as u8, v);
        assert_eq!(RetainHandling::from_u8(v), Some(rh));
    }
    assert_eq!(RetainHandling::from_u8(3), None);
    assert_eq!(RetainHandling::default(), RetainHandling::SendOnSubscribe);
}
