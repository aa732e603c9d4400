//! Routing between shards: publisher and subscriber client IDs chosen with
//! `shardmq::shard::owner_shard` so that every (publisher shard,
//! subscriber shard) pair is exercised at every QoS.

use crate::common::*;

const PAIRS: [(usize, usize); 4] = [(0, 0), (0, 1), (1, 0), (1, 1)];

/// Every shard pair, every publish QoS x subscription QoS.
#[test]
fn pubsub_all_shard_pairs_all_qos() {
    let b = Broker::start("");
    for (ps, ss) in PAIRS {
        let mut subs: Vec<Client> = (0..3u8)
            .map(|q| {
                let mut c = b.connect(&id_on_shard(&format!("sub{ps}q{q}"), ss), true);
                c.subscribe(&format!("x/{ps}{ss}"), q);
                c
            })
            .collect();
        let mut p = b.connect(&id_on_shard(&format!("pub{ss}"), ps), true);
        for pq in 0..3u8 {
            let payload = format!("{ps}->{ss} at {pq}");
            p.publish(&format!("x/{ps}{ss}"), payload.as_bytes(), pq, false);
            for (sq, s) in subs.iter_mut().enumerate() {
                s.expect_msg(&format!("x/{ps}{ss}"), payload.as_bytes(), pq.min(sq as u8));
            }
        }
        for s in &mut subs {
            s.expect_no_packet(ms(100));
        }
    }
}

/// Exact bytes of a cross-shard QoS 2 delivery, handshake on both sides.
#[test]
fn qos2_exact_bytes_across_shards() {
    let b = Broker::start("");
    let mut sub = b.connect(&id_on_shard("s", 1), true);
    sub.subscribe("q", 2);
    let mut p = b.connect(&id_on_shard("p", 0), true);
    p.send(&publish("q", b"x", 2, false, 1));
    p.expect_packet(&pubrec(1));
    p.send(&pubrel(1));
    p.expect_packet(&pubcomp(1));
    let (first, body) = sub.recv_packet();
    assert!(body.len() == 6, "unexpected {}", hex(&packet(first, &body)));
    let pid = u16::from_be_bytes([body[3], body[4]]);
    assert_ne!(pid, 0);
    let [hi, lo] = pid.to_be_bytes();
    let want = [0x34, 0x06, 0x00, 0x01, b'q', hi, lo, b'x'];
    assert_eq!(hex(&packet(first, &body)), hex(&want));
    sub.send(&pubrec(pid));
    sub.expect_packet(&pubrel(pid));
    sub.send(&pubcomp(pid));
    sub.expect_no_packet(QUIET);
}

/// One publish fans out to subscribers on both shards through wildcard and
/// exact filters; each gets exactly one copy.
#[test]
fn fan_out_to_both_shards() {
    let b = Broker::start("");
    let filters = ["f/a/b", "f/+/b", "f/#", "#", "+/a/+"];
    let mut subs: Vec<Client> = Vec::new();
    for shard in 0..SHARDS {
        for (i, f) in filters.iter().enumerate() {
            let mut c = b.connect(&id_on_shard(&format!("fan{i}"), shard), true);
            c.subscribe(f, 1);
            subs.push(c);
        }
    }
    for ps in 0..SHARDS {
        let mut p = b.connect(&id_on_shard("fanpub", ps), true);
        let payload = format!("from shard {ps}");
        p.publish("f/a/b", payload.as_bytes(), 1, false);
        for s in &mut subs {
            s.expect_msg("f/a/b", payload.as_bytes(), 1);
        }
    }
    for s in &mut subs {
        s.expect_no_packet(ms(100));
    }
}

/// Unsubscribing on one shard stops cross-shard deliveries.
#[test]
fn unsubscribe_across_shards() {
    let b = Broker::start("");
    let mut sub = b.connect(&id_on_shard("s", 0), true);
    sub.subscribe("u", 1);
    sub.subscribe("marker", 1);
    let mut p = b.connect(&id_on_shard("p", 1), true);
    p.publish("u", b"1", 1, false);
    sub.expect_msg("u", b"1", 1);
    sub.unsubscribe("u");
    p.publish("u", b"2", 1, false);
    p.publish("marker", b"m", 1, false);
    sub.expect_msg("marker", b"m", 1);
    sub.expect_no_packet(QUIET);
}

/// Several publishers on both shards to one subscriber: each publisher's
/// messages arrive complete and in that publisher's order.
#[test]
fn many_publishers_per_publisher_order() {
    let b = Broker::start("");
    let mut sub = b.connect(&id_on_shard("sink", 0), true);
    sub.subscribe("mp/+", 1);
    let mut pubs: Vec<Client> = (0..4)
        .map(|i| b.connect(&id_on_shard(&format!("mp{i}"), i % SHARDS), true))
        .collect();
    for n in 0..25 {
        for (i, p) in pubs.iter_mut().enumerate() {
            p.publish(&format!("mp/{i}"), format!("{n}").as_bytes(), 1, false);
        }
    }
    let mut next = [0u32; 4];
    for _ in 0..100 {
        let m = sub.recv_publish();
        sub.ack(&m);
        let i: usize = m.topic["mp/".len()..].parse().unwrap();
        assert_eq!(
            m.payload_str(),
            next[i].to_string(),
            "publisher {i} out of order"
        );
        next[i] += 1;
    }
    sub.expect_no_packet(ms(100));
}
