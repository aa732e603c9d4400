//! Will messages [MQTT-3.1.2-8..17]: published when the network connection
//! ends without DISCONNECT, discarded after DISCONNECT.

use crate::common::*;

/// A subscriber to `w/#` at QoS 2 on the given shard.
fn watcher(b: &Broker, shard: usize) -> Client {
    let mut w = b.connect(&id_on_shard("watcher", shard), true);
    w.subscribe("w/#", 2);
    w
}

fn with_will(b: &Broker, id: &str, topic: &str, payload: &[u8], qos: u8, retain: bool) -> Client {
    let c = Connect::new(id).will(topic, payload, qos, retain);
    connect_with(b.port, &c, &connack(false, 0))
}

/// Socket closed without DISCONNECT -> will published [MQTT-3.1.2-8].
#[test]
fn will_on_socket_close() {
    let b = Broker::start("");
    for shard in 0..SHARDS {
        let mut w = watcher(&b, 1 - shard);
        let c = with_will(
            &b,
            &id_on_shard("dies", shard),
            "w/close",
            b"gone",
            0,
            false,
        );
        c.close();
        w.expect_msg("w/close", b"gone", 0);
        w.expect_no_packet(QUIET);
    }
}

/// Keep-alive expiry -> will published.
#[test]
fn will_on_keepalive_timeout() {
    let b = Broker::start("");
    let mut w = watcher(&b, 0);
    let c =
        Connect::new(&id_on_shard("sleepy", 1))
            .keepalive(1)
            .will("w/ka", b"timed out", 1, false);
    let mut c = connect_with(b.port, &c, &connack(false, 0));
    let m = w.recv_publish_within(keepalive_1s_close_bound());
    assert_eq!(
        (m.topic.as_str(), m.payload.as_slice(), m.qos()),
        ("w/ka", &b"timed out"[..], 1)
    );
    w.ack(&m);
    c.expect_closed(WAIT);
}

/// The server closing the connection for a protocol violation -> will.
#[test]
fn will_on_protocol_violation() {
    let b = Broker::start("");
    let mut w = watcher(&b, 1);
    let mut c = with_will(&b, &id_on_shard("rude", 0), "w/err", b"violated", 0, false);
    c.send_lenient(&[0xf0, 0x00]);
    c.expect_closed(WAIT);
    w.expect_msg("w/err", b"violated", 0);
}

/// Takeover by a new connection with the same ID -> the old connection's
/// will is published (the server closed it).
#[test]
fn will_on_takeover() {
    let b = Broker::start("");
    for shard in 0..SHARDS {
        let mut w = watcher(&b, 1 - shard);
        let id = id_on_shard("taken", shard);
        let mut old = with_will(&b, &id, "w/takeover", b"replaced", 1, false);
        let mut new = b.connect(&id, true);
        old.expect_closed(WAIT);
        w.expect_msg("w/takeover", b"replaced", 1);
        new.ping();
        w.expect_no_packet(QUIET);
    }
}

/// [MQTT-3.1.2-10] after DISCONNECT the will is discarded: the next thing
/// the watcher gets is a marker published afterwards.
#[test]
fn no_will_after_disconnect() {
    let b = Broker::start("");
    for shard in 0..SHARDS {
        let mut w = watcher(&b, shard);
        let c = with_will(
            &b,
            &id_on_shard("polite", shard),
            "w/bye",
            b"should not",
            1,
            false,
        );
        c.disconnect();
        let mut p = b.connect(&id_on_shard("marker", shard), true);
        p.publish("w/marker", b"m", 0, false);
        w.expect_msg("w/marker", b"m", 0);
        w.expect_no_packet(QUIET);
    }
}

/// The will QoS is respected: delivered at min(will QoS, granted QoS).
#[test]
fn will_qos_respected() {
    let b = Broker::start("");
    let mut w = watcher(&b, 0);
    let mut w1 = b.connect(&id_on_shard("w1", 1), true);
    w1.subscribe("w/q/+", 1);
    for qos in 0..3u8 {
        let topic = format!("w/q/{qos}");
        let c = with_will(&b, &format!("q{qos}"), &topic, b"will", qos, false);
        c.close();
        w.expect_msg(&topic, b"will", qos);
        w1.expect_msg(&topic, b"will", qos.min(1));
    }
}

/// Will retain=1 -> stored as retained: a later subscriber gets it with
/// RETAIN=1 [MQTT-3.1.2-17]; live subscribers get RETAIN=0.
#[test]
fn will_retained() {
    let b = Broker::start("");
    let mut w = watcher(&b, 0);
    let c = with_will(&b, &id_on_shard("ret", 1), "w/ret", b"last words", 1, true);
    c.close();
    w.expect_msg("w/ret", b"last words", 1);
    let mut later = b.connect(&id_on_shard("later", 1), true);
    later.subscribe("w/ret", 1);
    let m = later.recv_publish();
    assert_eq!((m.first, m.payload.as_slice()), (0x33, &b"last words"[..]));
    later.ack(&m);
}

/// A will from an MQTT 3.1 client works the same.
#[test]
fn will_mqtt31() {
    let b = Broker::start("");
    let mut w = watcher(&b, 0);
    let c = Connect::v31("old31").will("w/31", b"v31", 1, false);
    let c = connect_with(b.port, &c, &connack(false, 0));
    c.close();
    w.expect_msg("w/31", b"v31", 1);
}

/// A will published to a topic with no subscribers is harmless; the
/// persistent session survives it.
#[test]
fn will_without_subscribers_and_persistent_session() {
    let b = Broker::start("");
    let c = Connect::new("nobody")
        .clean(false)
        .will("w/none", b"x", 2, false);
    connect_with(b.port, &c, &connack(false, 0)).close();
    let (mut again, sp) = connect_sp(b.port, "nobody", false);
    assert!(sp);
    again.ping();
}
