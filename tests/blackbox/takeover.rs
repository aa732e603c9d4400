//! Session takeover [MQTT-3.1.4-2]: a new connection with a client ID that
//! is already connected gets CONNACK and the old connection is closed.
//! Connections land on a random accepting shard (SO_REUSEPORT), so looping
//! exercises both the local and the cross-shard hand-off to the owner.

use crate::common::*;

use std::collections::{BTreeSet, HashMap};
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

#[test]
fn second_connection_takes_over() {
    let b = Broker::start("");
    for shard in 0..SHARDS {
        let id = id_on_shard("dup", shard);
        let mut first = b.connect(&id, true);
        let mut second = b.connect(&id, true);
        first.expect_closed(WAIT);
        second.ping();
    }
}

/// Clean 0 both times: session present 1 on the second connection and the
/// subscription made by the first still delivers to the second.
#[test]
fn takeover_keeps_persistent_session() {
    let b = Broker::start("");
    for shard in 0..SHARDS {
        let id = id_on_shard("keep", shard);
        let topic = format!("keep/{shard}");
        let mut first = b.connect(&id, false);
        first.subscribe(&topic, 1);
        let (mut second, sp) = connect_sp(b.port, &id, false);
        assert!(sp, "session present must be 1 after a clean-0 takeover");
        first.expect_closed(WAIT);
        let mut p = b.connect(&id_on_shard("kpub", 1 - shard), true);
        p.publish(&topic, b"to second", 1, false);
        second.expect_msg(&topic, b"to second", 1);
    }
}

/// Ten takeovers in a row for IDs of each shard; every time the previous
/// connection is closed, the new one gets session present 1 and the
/// subscription keeps delivering, to the newest connection only.
#[test]
fn repeated_takeovers() {
    let b = Broker::start("");
    for shard in 0..SHARDS {
        let id = id_on_shard("loop", shard);
        let topic = format!("loop/{shard}");
        let mut p = b.connect(&id_on_shard("lpub", shard), true);
        let mut cur = b.connect(&id, false);
        cur.subscribe(&topic, 1);
        for round in 0..10 {
            let (next, sp) = connect_sp(b.port, &id, false);
            assert!(sp, "round {round}: session present");
            cur.expect_closed(WAIT);
            cur = next;
            let payload = format!("round {round}");
            p.publish(&topic, payload.as_bytes(), 1, false);
            cur.expect_msg(&topic, payload.as_bytes(), 1);
        }
        cur.expect_no_packet(QUIET);
    }
}

/// A clean-1 takeover replaces the session: session present 0 and the old
/// subscription is gone.
#[test]
fn clean_takeover_drops_subscriptions() {
    let b = Broker::start("");
    let mut first = b.connect("ct", false);
    first.subscribe("ct/t", 1);
    let mut second = b.connect("ct", true);
    first.expect_closed(WAIT);
    let mut p = b.connect("ctpub", true);
    p.publish("ct/t", b"old sub", 1, false);
    second.subscribe("ct/marker", 0);
    p.publish("ct/marker", b"m", 0, false);
    second.expect_msg("ct/marker", b"m", 0);
    second.expect_no_packet(QUIET);
}

/// A QoS 1 publisher taken over mid-stream: every message it got a PUBACK
/// for is delivered exactly once to a subscriber; none is duplicated.
#[test]
fn qos1_publisher_taken_over_mid_stream() {
    let b = Broker::start("");
    for shard in 0..SHARDS {
        let id = id_on_shard("midstream", shard);
        let topic = format!("ms/{shard}");
        let mut sub = b.connect(&id_on_shard("mssub", 1 - shard), true);
        sub.subscribe(&topic, 1);

        let mut publ = b.connect(&id, true);
        let mut reader = publ.try_clone();
        let (ack_tx, ack_rx) = mpsc::channel::<u16>();
        let reader = thread::spawn(move || {
            // PUBACKs until the takeover closes the connection.
            let mut acked = BTreeSet::new();
            loop {
                match reader.try_recv(WAIT) {
                    Recv::Packet(0x40, body) => {
                        let pid = u16::from_be_bytes([body[0], body[1]]);
                        acked.insert(pid);
                        let _ = ack_tx.send(pid);
                    }
                    Recv::Packet(f, b) => panic!("publisher got {}", hex(&packet(f, &b))),
                    Recv::Closed(_) => return acked,
                    Recv::Timeout => panic!("publisher connection neither acked nor closed"),
                }
            }
        });
        let t2 = topic.clone();
        let writer = thread::spawn(move || {
            for i in 1..=1000u16 {
                if !publ.send_lenient(&publish(&t2, &i.to_be_bytes(), 1, false, i)) {
                    break;
                }
                thread::sleep(ms(2));
            }
        });
        // Take over once 20 PUBACKs arrived.
        for _ in 0..20 {
            ack_rx.recv_timeout(WAIT).expect("publisher got no PUBACKs");
        }
        let mut newer = b.connect(&id, true);
        let acked = reader.join().unwrap();
        writer.join().unwrap();
        newer.ping();
        assert!(
            acked.len() >= 20 && acked.len() < 1000,
            "not mid-stream: {}",
            acked.len()
        );

        let mut seen: HashMap<u16, usize> = HashMap::new();
        let deadline = Instant::now() + WAIT;
        while !acked.iter().all(|p| seen.contains_key(p)) {
            assert!(Instant::now() < deadline, "acked messages missing");
            let m = sub.recv_publish();
            sub.ack(&m);
            let n = u16::from_be_bytes([m.payload[0], m.payload[1]]);
            *seen.entry(n).or_default() += 1;
        }
        while let Recv::Packet(f, body) = sub.try_recv(QUIET) {
            let m = Publish::parse(f, &body);
            sub.ack(&m);
            let n = u16::from_be_bytes([m.payload[0], m.payload[1]]);
            *seen.entry(n).or_default() += 1;
        }
        let dups: Vec<_> = seen.iter().filter(|(_, &c)| c > 1).collect();
        assert!(dups.is_empty(), "delivered more than once: {dups:?}");
    }
}
