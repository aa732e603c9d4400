use super::*;
use crate::connection::OutBuf;
use crate::protocol::{decode_from, Publish};
use bytes::{Bytes, BytesMut};

const V: ProtocolVersion = ProtocolVersion::V3_1_1;

fn msg(n: u8, qos: QoS) -> Message {
    Message {
        topic: "t".into(),
        payload: Bytes::from(vec![n]),
        qos,
        retain: false,
        published_at: std::time::Instant::now(),
    }
}

fn packets(out: &mut Vec<u8>) -> Vec<Packet> {
    let mut buf = BytesMut::from(&out[..]);
    out.clear();
    let mut v = Vec::new();
    while let Some(p) = decode_from(&mut buf, V, 1 << 20).unwrap() {
        v.push(p);
    }
    assert!(buf.is_empty());
    v
}

fn publish(p: &Packet) -> &Publish {
    match p {
        Packet::Publish(p) => p,
        other => panic!("expected PUBLISH, got {other:?}"),
    }
}

#[test]
fn window_then_queue_then_pump_in_order() {
    let mut o = Outbound::default();
    let mut out = OutBuf::default();
    for i in 0..2 {
        assert!(o.can_send(2));
        o.send(msg(i, QoS::AtLeastOnce), V, &mut out);
    }
    assert!(!o.can_send(2));
    for i in 2..5 {
        assert_eq!(
            o.enqueue(msg(i, QoS::AtLeastOnce), 10, QueueOverflow::DropNew),
            Enqueued::Queued
        );
    }
    let sent = packets(&mut out.bytes);
    assert_eq!(sent.len(), 2);
    let first = publish(&sent[0]).packet_id;
    assert!(o.on_puback(first));
    assert!(!o.on_puback(first), "a second PUBACK matches nothing");
    assert_eq!(o.pump(2, V, &mut out, |_| ()), 1);
    let p = packets(&mut out.bytes);
    assert_eq!(publish(&p[0]).payload[..], [2]);
    assert_eq!(o.queued_len(), 2);
}

#[test]
fn overflow_policies() {
    let mut o = Outbound::default();
    for i in 0..3 {
        o.enqueue(msg(i, QoS::AtLeastOnce), 3, QueueOverflow::DropNew);
    }
    assert_eq!(
        o.enqueue(msg(9, QoS::AtLeastOnce), 3, QueueOverflow::DropNew),
        Enqueued::DroppedNew
    );
    assert_eq!(
        o.enqueue(msg(9, QoS::AtLeastOnce), 3, QueueOverflow::DropOldest),
        Enqueued::DroppedOldest
    );
    let mut out = OutBuf::default();
    o.pump(10, V, &mut out, |_| ());
    let got: Vec<u8> = packets(&mut out.bytes)
        .iter()
        .map(|p| publish(p).payload[0])
        .collect();
    assert_eq!(got, vec![1, 2, 9]);
    let mut empty = Outbound::default();
    assert_eq!(
        empty.enqueue(msg(1, QoS::AtLeastOnce), 0, QueueOverflow::DropOldest),
        Enqueued::DroppedNew
    );
}

#[test]
fn qos2_handshake_and_resend_with_dup() {
    let mut o = Outbound::default();
    let mut out = OutBuf::default();
    o.send(msg(1, QoS::ExactlyOnce), V, &mut out);
    o.send(msg(2, QoS::ExactlyOnce), V, &mut out);
    let ids: Vec<u16> = packets(&mut out.bytes)
        .iter()
        .map(|p| publish(p).packet_id)
        .collect();
    assert!(o.on_pubrec(ids[0], V, &mut out.bytes));
    assert_eq!(packets(&mut out.bytes), vec![Packet::PubRel(ids[0])]);
    // Reconnect: PUBREL for the first, PUBLISH with DUP for the second.
    assert_eq!(o.resend(V, &mut out.bytes), 2);
    let again = packets(&mut out.bytes);
    assert_eq!(again[0], Packet::PubRel(ids[0]));
    let p = publish(&again[1]);
    assert!(p.dup);
    assert_eq!(p.packet_id, ids[1]);
    assert!(o.on_pubcomp(ids[0]));
    assert!(
        !o.on_pubcomp(ids[1]),
        "PUBCOMP before PUBREC does not complete"
    );
    assert_eq!(o.inflight_len(), 1);
}

#[test]
fn packet_ids_skip_zero_and_ids_in_flight() {
    let mut o = Outbound(Some(Box::new(Window {
        next_id: 65534,
        ..Default::default()
    })));
    let mut out = OutBuf::default();
    o.send(msg(1, QoS::AtLeastOnce), V, &mut out);
    o.send(msg(2, QoS::AtLeastOnce), V, &mut out);
    let ids: Vec<u16> = packets(&mut out.bytes)
        .iter()
        .map(|p| publish(p).packet_id)
        .collect();
    assert_eq!(ids, vec![65535, 1]);
    o.0.as_mut().unwrap().next_id = 0;
    o.send(msg(3, QoS::AtLeastOnce), V, &mut out);
    assert_eq!(
        publish(&packets(&mut out.bytes)[0]).packet_id,
        2,
        "1 is still in flight"
    );
}
