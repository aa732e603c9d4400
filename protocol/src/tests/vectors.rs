//! Byte-exact vectors written by hand from the 3.1/3.1.1 spec: each must
//! decode to the packet and the packet must encode back to the same bytes.

use super::*;
use ProtocolVersion::*;

fn check(bytes: &[u8], packet: Packet, version: ProtocolVersion) {
    assert_eq!(
        decode_v(bytes, version).as_ref(),
        Ok(&packet),
        "decode {bytes:02x?}"
    );
    assert_eq!(
        encode_vec(&packet, version),
        bytes,
        "encode {}",
        packet.name()
    );
    assert_eq!(
        encoded_len(&packet, version),
        bytes.len(),
        "encoded_len {}",
        packet.name()
    );
}

fn connect(protocol: ProtocolVersion, client_id: &'static str) -> Connect {
    Connect {
        protocol,
        clean_session: true,
        keep_alive: 60,
        client_id: MqttStr::from_static(client_id),
        will: None,
        username: None,
        password: None,
        properties: None,
    }
}

#[test]
fn connect_3_1_1_minimal() {
    let bytes = [
        0x10, 0x0D, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 60, 0, 1, b'a',
    ];
    check(
        &bytes,
        Packet::Connect(Box::new(connect(V3_1_1, "a"))),
        V3_1_1,
    );
}

#[test]
fn connect_3_1_minimal() {
    let bytes = [
        0x10, 0x0F, 0, 6, b'M', b'Q', b'I', b's', b'd', b'p', 3, 0x02, 0, 60, 0, 1, b'a',
    ];
    // CONNECT carries its own level: the version argument does not matter.
    check(
        &bytes,
        Packet::Connect(Box::new(connect(V3_1, "a"))),
        V3_1_1,
    );
}

#[test]
fn connect_with_empty_client_id() {
    let bytes = [
        0x10, 0x0C, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 60, 0, 0,
    ];
    check(
        &bytes,
        Packet::Connect(Box::new(connect(V3_1_1, ""))),
        V3_1_1,
    );
}

#[test]
fn connect_with_will_username_binary_password() {
    #[rustfmt::skip]
    let bytes = [
        0x10, 0x1D,
        0, 4, b'M', b'Q', b'T', b'T', 4,
        0xEE, // user, password, will retain, will QoS 1, will, clean session
        0, 10,
        0, 2, b'c', b'1',
        0, 1, b'w',
        0, 3, b'b', b'y', b'e',
        0, 1, b'u',
        0, 2, 0x00, 0xFF,
    ];
    let mut c = connect(V3_1_1, "c1");
    c.keep_alive = 10;
    c.will = Some(Will {
        topic: MqttStr::from_static("w"),
        payload: Bytes::from_static(b"bye"),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: None,
    });
    c.username = Some(MqttStr::from_static("u"));
    c.password = Some(Bytes::from_static(&[0x00, 0xFF]));
    check(&bytes, Packet::Connect(Box::new(c)), V3_1_1);
}

#[test]
fn connack() {
    let ack = |session_present, code| {
        Packet::ConnAck(ConnAck {
            session_present,
            code,
            properties: None,
        })
    };
    check(
        &[0x20, 2, 0, 0],
        ack(false, ConnectReturnCode::Accepted.to_reason()),
        V3_1_1,
    );
    check(
        &[0x20, 2, 1, 0],
        ack(true, ConnectReturnCode::Accepted.to_reason()),
        V3_1_1,
    );
    check(
        &[0x20, 2, 0, 1],
        ack(
            false,
            ConnectReturnCode::UnacceptableProtocolVersion.to_reason(),
        ),
        V3_1,
    );
    check(
        &[0x20, 2, 0, 5],
        ack(false, ConnectReturnCode::NotAuthorized.to_reason()),
        V3_1_1,
    );
}

fn publish(qos: QoS, dup: bool, retain: bool, packet_id: u16) -> Packet {
    Packet::Publish(Publish {
        dup,
        qos,
        retain,
        topic: MqttStr::from_static("a/b"),
        packet_id,
        payload: Bytes::from_static(b"hi"),
        topic_alias: None,
        properties: None,
    })
}

#[test]
fn publish_each_qos() {
    let q0 = [0x30, 7, 0, 3, b'a', b'/', b'b', b'h', b'i'];
    check(&q0, publish(QoS::AtMostOnce, false, false, 0), V3_1_1);
    let q1 = [0x3B, 9, 0, 3, b'a', b'/', b'b', 0, 10, b'h', b'i'];
    check(&q1, publish(QoS::AtLeastOnce, true, true, 10), V3_1_1);
    let q2 = [0x34, 9, 0, 3, b'a', b'/', b'b', 0xAB, 0xCD, b'h', b'i'];
    check(&q2, publish(QoS::ExactlyOnce, false, false, 0xABCD), V3_1);
}

#[test]
fn publish_empty_payload() {
    let bytes = [0x31, 3, 0, 1, b'x'];
    let p = Packet::Publish(Publish {
        dup: false,
        qos: QoS::AtMostOnce,
        retain: true,
        topic: MqttStr::from_static("x"),
        packet_id: 0,
        payload: Bytes::new(),
        topic_alias: None,
        properties: None,
    });
    check(&bytes, p, V3_1_1);
}

#[test]
fn acks() {
    check(&[0x40, 2, 0, 1], Packet::PubAck(Ack::new(1)), V3_1_1);
    check(
        &[0x50, 2, 0x12, 0x34],
        Packet::PubRec(Ack::new(0x1234)),
        V3_1_1,
    );
    check(
        &[0x62, 2, 0xFF, 0xFF],
        Packet::PubRel(Ack::new(0xFFFF)),
        V3_1_1,
    );
    check(&[0x70, 2, 0, 7], Packet::PubComp(Ack::new(7)), V3_1);
    check(
        &[0xB0, 2, 0, 2],
        Packet::UnsubAck(UnsubAck {
            packet_id: 2,
            codes: vec![],
            properties: None,
        }),
        V3_1_1,
    );
}

#[test]
fn subscribe() {
    let bytes = [0x82, 12, 0, 1, 0, 3, b'a', b'/', b'#', 1, 0, 1, b'+', 2];
    let s = Subscribe {
        packet_id: 1,
        filters: vec![
            (
                MqttStr::from_static("a/#"),
                SubscriptionOptions::qos(QoS::AtLeastOnce),
            ),
            (
                MqttStr::from_static("+"),
                SubscriptionOptions::qos(QoS::ExactlyOnce),
            ),
        ],
        properties: None,
    };
    check(&bytes, Packet::Subscribe(s), V3_1_1);
}

#[test]
fn suback() {
    let bytes = [0x90, 5, 0, 1, 0, 1, 0x80];
    let codes = vec![
        ReasonCode::granted(QoS::AtMostOnce),
        ReasonCode::granted(QoS::AtLeastOnce),
        ReasonCode::UnspecifiedError,
    ];
    check(
        &bytes,
        Packet::SubAck(SubAck {
            packet_id: 1,
            codes: codes.clone(),
            properties: None,
        }),
        V3_1_1,
    );
    // 3.1 has no failure code; it is written anyway.
    check(
        &bytes,
        Packet::SubAck(SubAck {
            packet_id: 1,
            codes,
            properties: None,
        }),
        V3_1,
    );
}

#[test]
fn unsubscribe() {
    let bytes = [0xA2, 10, 0, 2, 0, 3, b'a', b'/', b'#', 0, 1, b'b'];
    let u = Unsubscribe {
        packet_id: 2,
        filters: vec![MqttStr::from_static("a/#"), MqttStr::from_static("b")],
        properties: None,
    };
    check(&bytes, Packet::Unsubscribe(u), V3_1_1);
}

#[test]
fn empty_packets() {
    check(&[0xC0, 0], Packet::PingReq, V3_1_1);
    check(&[0xD0, 0], Packet::PingResp, V3_1_1);
    check(&[0xE0, 0], Packet::Disconnect(Disconnect::NORMAL), V3_1);
}

#[test]
fn non_minimal_remaining_length_is_accepted() {
    // 3.1.1 does not require the shortest encoding from senders.
    assert_eq!(decode(&[0xC0, 0x80, 0x00]), Ok(Packet::PingReq));
}
