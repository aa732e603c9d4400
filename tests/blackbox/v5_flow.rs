//! MQTT 5 flow control (§4.9) and packet size limits: the client's Receive
//! Maximum and Maximum Packet Size honoured towards it, the broker's Receive
//! Maximum enforced on it.

use crate::common::metrics::{broker_with_metrics, wait_for};
use crate::common::v5::{self, ack_packet, prop, Props};
use crate::common::*;
use std::collections::VecDeque;

fn none() -> Props {
    Props::new()
}

#[test]
fn mqtt_3_3_4_9_receive_maximum_never_exceeded() {
    let b = Broker::start("");
    let rm = Props::new().u16(prop::RECEIVE_MAXIMUM, 2);
    let mut sub = b.connect_v5(&id_on_shard("s", 1), &rm);
    sub.subscribe_v5(&[("flow/#", 2)], &none());
    let mut publ = b.connect_v5(&id_on_shard("p", 0), &none());
    for n in 0..8u8 {
        publ.publish_v5("flow/x", &[n], 1 + n % 2, false, &none());
    }
    // Unacknowledged: a QoS 1 until its PUBACK, a QoS 2 until its PUBCOMP
    // (§4.9). Acks go out only when the broker has gone quiet, so it could
    // send more if it would.
    let mut open: VecDeque<v5::Publish> = VecDeque::new();
    let mut rec_sent: Vec<u16> = Vec::new();
    let mut next = 0u8;
    while next < 8 || !open.is_empty() {
        match sub.try_recv(QUIET) {
            Recv::Packet(first, body) if first >> 4 == 3 => {
                let p = v5::parse_publish(first, &body);
                assert_eq!(p.payload, [next], "in order");
                next += 1;
                open.push_back(p);
                assert!(
                    open.len() <= 2,
                    "more than the Receive Maximum unacknowledged"
                );
            }
            Recv::Packet(0x62, body) => {
                let pid = v5::parse_reasoned(0x62, &body).pid.unwrap();
                assert!(rec_sent.contains(&pid), "PUBREL for a PUBREC'd id");
                open.retain(|p| p.pid != Some(pid));
                rec_sent.retain(|&r| r != pid); // the id may come back
                sub.send(&ack_packet(0x70, pid));
            }
            Recv::Timeout => {
                assert!(next == 8 || open.len() == 2, "the broker stalled at {next}");
                let p = open.iter().find(|p| !rec_sent.contains(&p.pid.unwrap()));
                let p = p.expect("something to acknowledge").clone();
                if p.qos() == 1 {
                    sub.send(&ack_packet(0x40, p.pid.unwrap()));
                    open.retain(|o| o.pid != p.pid);
                } else {
                    sub.send(&ack_packet(0x50, p.pid.unwrap()));
                    rec_sent.push(p.pid.unwrap());
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn mqtt_3_3_4_8_more_unacknowledged_qos2_than_the_receive_maximum_gets_0x93() {
    let (b, addr) = broker_with_metrics("[limits]\nreceive_maximum = 2");
    let mut publ = b.connect_v5("greedy", &none());
    let mut bystander = b.connect(&id_on_shard("by", 0), true);
    for pid in [1, 2] {
        publ.send(&v5::publish("q/x", b"x", 2, false, pid, &none()));
        assert_eq!(publ.recv_reasoned(0x50).pid, Some(pid));
    }
    // A re-send of a pending one holds no new place.
    let mut dup = v5::publish("q/x", b"x", 2, false, 2, &none());
    dup[0] |= 0x08;
    publ.send(&dup);
    assert_eq!(publ.recv_reasoned(0x50).pid, Some(2));
    publ.send(&v5::publish("q/x", b"x", 2, false, 3, &none()));
    publ.expect_disconnect_v5(0x93);
    wait_for(&addr, "shardmq_receive_maximum_exceeded_total", 1.0);
    bystander.ping();
}

#[test]
fn the_receive_quota_comes_back_with_pubrel() {
    let b = Broker::start("[limits]\nreceive_maximum = 1");
    let mut publ = b.connect_v5("steady", &none());
    for _ in 0..5 {
        publ.publish_v5("q/x", b"x", 2, false, &none()); // PUBREC, PUBREL, PUBCOMP
        publ.publish_v5("q/y", b"y", 1, false, &none()); // QoS 1 is answered at once
    }
    publ.ping();
}

#[test]
fn mqtt_3_1_2_24_larger_than_the_clients_maximum_is_dropped_and_counted() {
    let (b, addr) = broker_with_metrics("");
    let small = Props::new().u32(prop::MAXIMUM_PACKET_SIZE, 64);
    let mut sub = b.connect_v5(&id_on_shard("small", 1), &small);
    sub.subscribe_v5(&[("big/#", 1)], &none());
    let mut publ = b.connect_v5(&id_on_shard("p", 0), &none());
    publ.publish_v5("big/a", &[b'x'; 100], 1, false, &none());
    publ.publish_v5("big/a", &[b'y'; 100], 0, false, &none());
    publ.publish_v5("big/b", b"fits", 1, false, &none());
    let (first, body) = sub.recv_packet();
    assert!(
        body.len() + 2 <= 64,
        "never larger than the client's maximum"
    );
    let got = v5::parse_publish(first, &body);
    assert_eq!(got.payload, b"fits");
    sub.send(&ack_packet(0x40, got.pid.unwrap()));
    sub.expect_no_packet(QUIET);
    wait_for(&addr, "shardmq_packets_dropped_client_maximum_total", 2.0);
}

#[test]
fn a_dropped_oversize_delivery_does_not_hold_a_place_in_the_window() {
    let b = Broker::start("");
    let props = Props::new()
        .u32(prop::MAXIMUM_PACKET_SIZE, 64)
        .u16(prop::RECEIVE_MAXIMUM, 1);
    let mut sub = b.connect_v5(&id_on_shard("s", 0), &props);
    sub.subscribe_v5(&[("w/#", 1)], &none());
    let mut publ = b.connect_v5(&id_on_shard("p", 1), &none());
    for n in 0..3u8 {
        publ.publish_v5("w/big", &[n; 80], 1, false, &none());
    }
    publ.publish_v5("w/ok", b"1", 1, false, &none());
    publ.publish_v5("w/ok", b"2", 1, false, &none());
    sub.expect_msg_v5("w/ok", b"1");
    sub.expect_msg_v5("w/ok", b"2");
}

#[test]
fn mqtt_3_3_2_5_a_message_expiring_behind_the_window_is_not_sent() {
    let (b, addr) = broker_with_metrics("");
    let rm = Props::new().u16(prop::RECEIVE_MAXIMUM, 1);
    let mut sub = b.connect_v5(&id_on_shard("slow", 0), &rm);
    sub.subscribe_v5(&[("late/#", 1)], &none());
    let mut publ = b.connect_v5(&id_on_shard("p", 1), &none());
    let expiry = Props::new().u32(prop::MESSAGE_EXPIRY_INTERVAL, 1);
    publ.publish_v5("late/a", b"first", 1, false, &none());
    publ.publish_v5("late/a", b"short-lived", 1, false, &expiry);
    publ.publish_v5("late/a", b"last", 1, false, &none());
    let first = sub.recv_publish_v5();
    assert_eq!(first.payload, b"first");
    std::thread::sleep(ms(1500)); // the window stays full meanwhile
    sub.ack_v5(&first);
    sub.expect_msg_v5("late/a", b"last");
    sub.expect_no_packet(QUIET);
    wait_for(&addr, "shardmq_messages_expired_total", 1.0);
}

/// A session resumed by a client that now allows fewer unacknowledged
/// PUBLISHes than were in flight: only that many come again (DUP, same
/// packet ids), the rest as PUBACKs make room [MQTT-3.3.4-9].
#[test]
fn mqtt_3_3_4_9_resume_with_a_lower_receive_maximum() {
    let b = Broker::start("");
    let id = id_on_shard("resume-rm", 1);
    let persist = |rm: u16| {
        let props = Props::new()
            .u32(prop::SESSION_EXPIRY_INTERVAL, 60)
            .u16(prop::RECEIVE_MAXIMUM, rm);
        Connect::v5(&id).clean(false).props(props.build())
    };
    let mut sub = b.connect_v5_with(persist(3));
    sub.subscribe_v5(&[("rm/#", 1)], &none());
    let mut publ = b.connect_v5(&id_on_shard("rm-pub", 0), &none());
    for n in 0..3u8 {
        publ.publish_v5("rm/x", &[n], 1, false, &none());
    }
    let first: Vec<v5::Publish> = (0..3).map(|_| sub.recv_publish_v5()).collect();
    sub.close(); // none acknowledged
    let mut sub = b.connect_v5_with(persist(1));
    for (n, want) in first.iter().enumerate() {
        let p = sub.recv_publish_v5();
        assert_eq!(
            (p.pid, &p.payload[..], p.dup()),
            (want.pid, &[n as u8][..], true)
        );
        sub.expect_no_packet(QUIET); // one at a time
        sub.send(&ack_packet(0x40, p.pid.unwrap()));
    }
}
