//! QoS 0/1/2 flows in both directions, QoS downgrade, exactly-once for
//! inbound QoS 2, the outbound in-flight window and message order.

use crate::common::*;

/// QoS 0 in, QoS 0 out: exact bytes on the wire.
#[test]
fn qos0_exact_bytes() {
    let b = Broker::start("");
    let mut sub = b.connect("sub", true);
    sub.subscribe("a/b", 0);
    let mut p = b.connect("pub", true);
    p.send(&publish("a/b", b"hi", 0, false, 0));
    sub.expect_packet(&[0x30, 0x07, 0x00, 0x03, b'a', b'/', b'b', b'h', b'i']);
}

/// QoS 1 publish -> PUBACK `40 02 pid` [MQTT-4.3.2-2]; delivered at QoS 1
/// (`32`) with a non-zero packet id.
#[test]
fn qos1_flow() {
    let b = Broker::start("");
    let mut sub = b.connect("sub", true);
    sub.subscribe("q1", 1);
    let mut p = b.connect("pub", true);
    p.send(&publish("q1", b"one", 1, false, 0x1234));
    p.expect_packet(&[0x40, 0x02, 0x12, 0x34]);
    let m = sub.expect_publish("q1", b"one", 1);
    assert_eq!(m.first, 0x32);
    sub.send(&puback(m.pid.unwrap()));
    sub.expect_no_packet(QUIET);
}

/// Inbound QoS 2: PUBLISH -> PUBREC, PUBREL -> PUBCOMP [MQTT-4.3.3-2].
/// Outbound QoS 2: PUBLISH `34`, PUBREC -> PUBREL `62`, PUBCOMP.
#[test]
fn qos2_flow_both_directions() {
    let b = Broker::start("");
    let mut sub = b.connect("sub", true);
    sub.subscribe("q2", 2);
    let mut p = b.connect("pub", true);
    p.send(&publish("q2", b"two", 2, false, 0x0102));
    p.expect_packet(&[0x50, 0x02, 0x01, 0x02]);
    p.send(&pubrel(0x0102));
    p.expect_packet(&[0x70, 0x02, 0x01, 0x02]);

    let m = sub.expect_publish("q2", b"two", 2);
    assert_eq!(m.first, 0x34);
    let pid = m.pid.unwrap();
    sub.send(&pubrec(pid));
    sub.expect_packet(&pubrel(pid));
    sub.send(&pubcomp(pid));
    sub.expect_no_packet(QUIET);
    // A second round trip reuses the machinery cleanly.
    p.publish("q2", b"again", 2, false);
    sub.expect_msg("q2", b"again", 2);
}

/// Delivered at min(publish QoS, granted QoS) for all 9 combinations.
#[test]
fn delivered_at_minimum_of_publish_and_subscription_qos() {
    let b = Broker::start("");
    let mut subs: Vec<Client> = (0..3u8)
        .map(|q| {
            let mut c = b.connect(&format!("sub{q}"), true);
            c.subscribe("m", q);
            c
        })
        .collect();
    let mut p = b.connect("pub", true);
    for pq in 0..3u8 {
        let payload = format!("published at {pq}");
        p.publish("m", payload.as_bytes(), pq, false);
        for (sq, s) in subs.iter_mut().enumerate() {
            s.expect_msg("m", payload.as_bytes(), pq.min(sq as u8));
        }
    }
}

/// Inbound QoS 2 is exactly once: the same PUBLISH resent with DUP before
/// PUBREL is answered with PUBREC again but delivered only once; after
/// PUBCOMP the packet id starts a new message.
#[test]
fn inbound_qos2_duplicate_delivered_once() {
    let b = Broker::start("");
    let mut sub = b.connect("sub", true);
    sub.subscribe("x2", 1);
    let mut p = b.connect("pub", true);
    p.send(&publish("x2", b"once", 2, false, 7));
    p.expect_packet(&pubrec(7));
    let mut dup = publish("x2", b"once", 2, false, 7);
    dup[0] |= 0x08;
    p.send(&dup);
    p.expect_packet(&pubrec(7));
    p.send(&pubrel(7));
    p.expect_packet(&pubcomp(7));
    sub.expect_msg("x2", b"once", 1);
    sub.expect_no_packet(QUIET);

    p.send(&publish("x2", b"new message, same id", 2, false, 7));
    p.expect_packet(&pubrec(7));
    p.send(&pubrel(7));
    p.expect_packet(&pubcomp(7));
    sub.expect_msg("x2", b"new message, same id", 1);
    sub.expect_no_packet(QUIET);
}

/// PUBREL for an unknown packet id is still answered with PUBCOMP
/// [MQTT-4.3.3-2] (the PUBCOMP may have been lost before a reconnect).
#[test]
fn pubrel_for_unknown_id_gets_pubcomp() {
    let b = Broker::start("");
    let mut p = b.connect("pub", true);
    p.send(&pubrel(99));
    p.expect_packet(&pubcomp(99));
}

/// `max_inflight = 2`: a QoS 1 subscriber that does not acknowledge gets
/// exactly 2 messages; each PUBACK releases the next, in order.
#[test]
fn inflight_window() {
    let b = Broker::start("[limits]\nmax_inflight = 2");
    let mut sub = b.connect("slow", true);
    sub.subscribe("w", 1);
    let mut p = b.connect("pub", true);
    for i in 0..5 {
        p.publish("w", format!("{i}").as_bytes(), 1, false);
    }
    let m0 = sub.expect_publish("w", b"0", 1);
    let m1 = sub.expect_publish("w", b"1", 1);
    sub.expect_no_packet(QUIET);
    if skip_on_mosquitto("mosquitto 2.0.11 releases two messages per PUBACK (3 in flight)") {
        return;
    }
    sub.send(&puback(m0.pid.unwrap()));
    let m2 = sub.expect_publish("w", b"2", 1);
    sub.expect_no_packet(QUIET);
    sub.send(&puback(m1.pid.unwrap()));
    sub.send(&puback(m2.pid.unwrap()));
    sub.expect_msg("w", b"3", 1);
    sub.expect_msg("w", b"4", 1);
    sub.expect_no_packet(QUIET);
}

/// The window counts QoS 2 messages too, until their PUBCOMP.
#[test]
fn inflight_window_qos2() {
    let b = Broker::start("[limits]\nmax_inflight = 1");
    let mut sub = b.connect("slow", true);
    sub.subscribe("w", 2);
    let mut p = b.connect("pub", true);
    p.publish("w", b"a", 2, false);
    p.publish("w", b"b", 2, false);
    let m = sub.expect_publish("w", b"a", 2);
    sub.expect_no_packet(QUIET);
    let pid = m.pid.unwrap();
    sub.send(&pubrec(pid));
    sub.expect_packet(&pubrel(pid));
    sub.expect_no_packet(QUIET);
    sub.send(&pubcomp(pid));
    sub.expect_msg("w", b"b", 2);
}

/// QoS 0 messages are not held back by a full QoS 1 window.
#[test]
fn qos0_not_blocked_by_full_window() {
    let b = Broker::start("[limits]\nmax_inflight = 1");
    let mut sub = b.connect("slow", true);
    sub.subscribe("w", 1);
    let mut p = b.connect("pub", true);
    p.publish("w", b"held", 1, false);
    let held = sub.expect_publish("w", b"held", 1);
    p.publish("w", b"zero", 0, false);
    sub.expect_publish("w", b"zero", 0);
    sub.ack(&held);
}

/// 200 QoS 1 messages from one publisher arrive in order, publisher and
/// subscriber on the same and on different shards [MQTT-4.6.0-6].
#[test]
fn order_of_200_qos1_messages() {
    let b = Broker::start("");
    for (ps, ss) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        let topic = format!("order/{ps}{ss}");
        let mut sub = b.connect(&id_on_shard(&format!("osub{ps}"), ss), true);
        sub.subscribe(&topic, 1);
        let mut p = b.connect(&id_on_shard(&format!("opub{ss}"), ps), true);
        for i in 1..=200u16 {
            p.send(&publish(&topic, format!("{i}").as_bytes(), 1, false, i));
        }
        for i in 1..=200u16 {
            sub.expect_msg(&topic, format!("{i}").as_bytes(), 1);
        }
        let mut acked = Vec::new();
        for _ in 1..=200 {
            let (f, body) = p.recv_packet();
            assert_eq!((f, body.len()), (0x40, 2), "expected PUBACK");
            acked.push(u16::from_be_bytes([body[0], body[1]]));
        }
        acked.sort();
        assert_eq!(acked, (1..=200).collect::<Vec<u16>>());
        sub.expect_no_packet(ms(100));
    }
}

/// QoS 0 from one publisher is ordered too.
#[test]
fn order_of_200_qos0_messages_across_shards() {
    let b = Broker::start("");
    let mut sub = b.connect(&id_on_shard("o0sub", 1), true);
    sub.subscribe("o0", 0);
    let mut p = b.connect(&id_on_shard("o0pub", 0), true);
    for i in 0..200 {
        p.send(&publish("o0", format!("{i}").as_bytes(), 0, false, 0));
    }
    for i in 0..200 {
        sub.expect_msg("o0", format!("{i}").as_bytes(), 0);
    }
}

/// A publisher subscribed to its own topic receives its own message (no
/// "no local" in MQTT 3.1.1).
#[test]
fn publisher_receives_own_message() {
    let b = Broker::start("");
    let mut c = b.connect("self", true);
    c.subscribe("me", 1);
    c.send(&publish("me", b"echo", 1, false, 5));
    // PUBACK and the delivery may come in either order.
    let mut got_ack = false;
    let mut got_msg = false;
    for _ in 0..2 {
        let (f, body) = c.recv_packet();
        if f == 0x40 {
            assert_eq!(body, [0, 5]);
            got_ack = true;
        } else {
            let m = Publish::parse(f, &body);
            assert_eq!(
                (m.topic.as_str(), m.payload.as_slice(), m.qos()),
                ("me", &b"echo"[..], 1)
            );
            c.ack(&m);
            got_msg = true;
        }
    }
    assert!(got_ack && got_msg);
}

/// Empty payloads and payloads needing 2- and 3-byte remaining lengths
/// pass through unchanged.
#[test]
fn payload_sizes() {
    let b = Broker::start("");
    let mut sub = b.connect("sub", true);
    sub.subscribe("size", 1);
    let mut p = b.connect("pub", true);
    for len in [0usize, 1, 127, 128, 16_383, 16_384, 200_000] {
        let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        p.publish("size", &payload, 1, false);
        sub.expect_msg("size", &payload, 1);
    }
}
