//! Retained messages [MQTT-3.3.1-5..12]. Setup publishes use QoS 1 and wait
//! for the PUBACK: the tests assume a retained message is stored once its
//! PUBACK was sent.

use crate::common::*;

use std::collections::BTreeMap;

/// Receives `n` PUBLISHes (any order), acknowledging them; returns
/// topic -> (payload, first byte).
fn collect(c: &mut Client, n: usize) -> BTreeMap<String, (String, u8)> {
    let mut got = BTreeMap::new();
    for _ in 0..n {
        let m = c.recv_publish();
        c.ack(&m);
        let dup = got.insert(m.topic.clone(), (m.payload_str(), m.first));
        assert!(dup.is_none(), "{} delivered twice", m.topic);
    }
    got
}

/// A retained message is sent to a new subscriber with RETAIN=1
/// [MQTT-3.3.1-6]: `31` when granted QoS 0, `33` at QoS 1.
#[test]
fn retained_delivered_on_subscribe() {
    let b = Broker::start("");
    let mut p = b.connect("p", true);
    p.publish("r/t", b"kept", 1, true);
    let mut s0 = b.connect(&id_on_shard("s0", 0), true);
    s0.subscribe("r/t", 0);
    s0.expect_packet(&publish("r/t", b"kept", 0, true, 0));
    let mut s1 = b.connect(&id_on_shard("s1", 1), true);
    s1.subscribe("r/t", 1);
    let m = s1.recv_publish();
    assert_eq!(
        (m.first, m.topic.as_str(), m.payload.as_slice()),
        (0x33, "r/t", &b"kept"[..])
    );
    s1.ack(&m);
    s1.expect_no_packet(QUIET);
}

/// Retained messages on many topics (spread over the shards) are all found
/// by wildcard filters, each once with RETAIN=1, and by exact filters.
#[test]
fn retained_many_topics_wildcard_and_exact() {
    let b = Broker::start("");
    let mut p = b.connect("p", true);
    for i in 0..20 {
        p.publish(&format!("many/{i}"), format!("v{i}").as_bytes(), 1, true);
    }
    p.publish("other/x", b"not matched", 1, true);
    for (shard, filter) in [(0, "many/+"), (1, "many/#")] {
        let mut s = b.connect(&id_on_shard(filter, shard), true);
        s.subscribe(filter, 1);
        let got = collect(&mut s, 20);
        for i in 0..20 {
            let (payload, first) = &got[&format!("many/{i}")];
            assert_eq!(
                (payload.as_str(), *first & 0x01),
                (format!("v{i}").as_str(), 1)
            );
        }
        s.expect_no_packet(QUIET);
    }
    for i in [0, 7, 19] {
        let mut s = b.connect(&format!("exact{i}"), true);
        let topic = format!("many/{i}");
        s.subscribe(&topic, 0);
        s.expect_packet(&publish(&topic, format!("v{i}").as_bytes(), 0, true, 0));
        s.expect_no_packet(QUIET);
    }
}

/// A newer retained message replaces the older one [MQTT-3.3.1-5].
#[test]
fn retained_replaced_by_newer() {
    let b = Broker::start("");
    let mut p = b.connect("p", true);
    p.publish("rep", b"old", 1, true);
    p.publish("rep", b"new", 1, true);
    let mut s = b.connect("s", true);
    s.subscribe("rep", 0);
    s.expect_packet(&publish("rep", b"new", 0, true, 0));
    s.expect_no_packet(QUIET);
}

/// An empty retained payload deletes the retained message
/// [MQTT-3.3.1-10/11]; it is still delivered live to current subscribers.
#[test]
fn retained_deleted_by_empty_payload() {
    let b = Broker::start("");
    let mut live = b.connect("live", true);
    live.subscribe("del", 0);
    let mut p = b.connect("p", true);
    p.publish("del", b"v", 1, true);
    live.expect_msg("del", b"v", 0);
    p.publish("del", b"", 1, true);
    live.expect_msg("del", b"", 0);
    let mut s = b.connect("s", true);
    s.subscribe("del", 0);
    s.subscribe("del/#", 0);
    s.expect_no_packet(QUIET);
}

/// Live deliveries of a retained PUBLISH to existing subscribers have
/// RETAIN=0 [MQTT-3.3.1-9].
#[test]
fn live_delivery_has_retain_clear() {
    let b = Broker::start("");
    let mut s = b.connect(&id_on_shard("s", 1), true);
    s.subscribe("live/#", 1);
    let mut p = b.connect(&id_on_shard("p", 0), true);
    p.publish("live/a", b"x", 1, true);
    let m = s.recv_publish();
    assert_eq!(
        (m.first & 0x0f, m.topic.as_str()),
        (0x02, "live/a"),
        "{m:?}"
    );
    s.ack(&m);
    p.publish("live/b", b"y", 0, true);
    s.expect_packet(&publish("live/b", b"y", 0, false, 0));
}

/// A non-retained PUBLISH neither stores nor deletes the retained message
/// [MQTT-3.3.1-12].
#[test]
fn non_retained_publish_leaves_retained_alone() {
    let b = Broker::start("");
    let mut p = b.connect("p", true);
    p.publish("nr", b"kept", 1, true);
    p.publish("nr", b"transient", 1, false);
    p.publish("nr", b"", 1, false);
    let mut s = b.connect("s", true);
    s.subscribe("nr", 0);
    s.expect_packet(&publish("nr", b"kept", 0, true, 0));
    s.expect_no_packet(QUIET);
}

/// Re-subscribing to an existing filter sends the retained messages again
/// [MQTT-3.8.4-3].
#[test]
fn resubscribe_resends_retained() {
    let b = Broker::start("");
    let mut p = b.connect("p", true);
    p.publish("again", b"r", 1, true);
    let mut s = b.connect("s", true);
    s.subscribe("again", 0);
    s.expect_packet(&publish("again", b"r", 0, true, 0));
    s.subscribe("again", 0);
    s.expect_packet(&publish("again", b"r", 0, true, 0));
}

/// Retained message delivered at min(stored QoS, granted QoS): stored at
/// QoS 0 -> delivered at QoS 0 even to a QoS 2 subscriber.
#[test]
fn retained_qos_is_minimum() {
    let b = Broker::start("");
    let mut p = b.connect("p", true);
    p.send(&publish("rq", b"zero", 0, true, 0));
    p.publish("rq2", b"two", 2, true); // also proves "rq" was processed
    let mut s = b.connect("s", true);
    s.subscribe("rq", 2);
    s.expect_packet(&publish("rq", b"zero", 0, true, 0));
    s.subscribe("rq2", 1);
    let m = s.recv_publish();
    assert_eq!((m.first, m.payload.as_slice()), (0x33, &b"two"[..]));
    s.ack(&m);
}
