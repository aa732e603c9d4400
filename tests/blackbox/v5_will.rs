//! MQTT 5 wills (§3.1.2.5, §3.1.3.2): will properties, the Will Delay
//! Interval, and DISCONNECT 0x04.

use crate::common::v5::*;
use crate::common::*;
use std::time::{Duration, Instant};

/// A v5 subscriber to `w/#` at QoS 0 on `shard`.
fn watcher(b: &Broker, shard: usize) -> Client {
    let (mut w, _) = connect5(b.port, &Connect::v5(&id_on_shard("watch5", shard)));
    w.subscribe_v5(&[("w/#", 0)], &Props::new());
    w
}

/// A v5 CONNECT with a will on `topic` and these will properties.
fn with_will(id: &str, topic: &str, expiry: u32, will: Props) -> Connect {
    connect_expiry(id, true, Some(expiry))
        .will(topic, b"gone", 0, false)
        .will_props(will.build())
}

fn delay(secs: u32) -> Props {
    Props::new().u32(prop::WILL_DELAY_INTERVAL, secs)
}

/// The will waits for its delay after the connection ends [MQTT-3.1.2-8].
#[test]
fn mqtt_3_1_2_8_will_waits_for_its_delay() {
    let b = Broker::start("");
    for shard in 0..SHARDS {
        let mut w = watcher(&b, 1 - shard);
        let c = with_will(&id_on_shard("late", shard), "w/late", 60, delay(1));
        let (c, _) = connect5(b.port, &c);
        let t0 = Instant::now();
        c.close();
        let m = w.recv_publish_v5();
        assert_eq!(m.topic, "w/late");
        let waited = t0.elapsed();
        assert!(waited >= Duration::from_millis(900), "after {waited:?}");
    }
}

/// A new connection with the client ID within the delay: no will
/// [MQTT-3.1.3-9].
#[test]
fn mqtt_3_1_3_9_reconnect_within_the_delay_suppresses_the_will() {
    let b = Broker::start("");
    let mut w = watcher(&b, 0);
    let id = id_on_shard("back", 1);
    let (c, _) = connect5(b.port, &with_will(&id, "w/back", 60, delay(2)));
    c.close();
    std::thread::sleep(ms(300));
    let (_c, ack) = connect5(b.port, &connect_expiry(&id, false, Some(60)));
    assert!(ack.session_present);
    w.expect_no_packet(Duration::from_secs(3));
}

/// The will goes out when the session ends, if that is before the delay
/// (§3.1.3.2.2).
#[test]
fn mqtt_3_1_3_9_will_goes_out_when_the_session_ends_first() {
    let b = Broker::start("");
    let mut w = watcher(&b, 1);
    let (c, _) = connect5(
        b.port,
        &with_will(&id_on_shard("ends", 0), "w/ends", 1, delay(600)),
    );
    c.close();
    let m = w.recv_publish_v5();
    assert_eq!(m.topic, "w/ends");
}

/// DISCONNECT 0x04 publishes the will, DISCONNECT 0x00 discards it
/// [MQTT-3.14.4-3].
#[test]
fn mqtt_3_14_4_3_disconnect_0x04_publishes_the_will_0x00_does_not() {
    let b = Broker::start("");
    for shard in 0..SHARDS {
        let mut w = watcher(&b, 1 - shard);
        let id = id_on_shard("bye", shard);
        let (mut c, _) = connect5(b.port, &with_will(&id, "w/normal", 0, Props::new()));
        c.send(&disconnect(0x00, &Props::new()));
        c.expect_closed(WAIT);
        w.expect_no_packet(QUIET);
        let (mut c, _) = connect5(b.port, &with_will(&id, "w/asked", 0, Props::new()));
        c.send(&disconnect(0x04, &Props::new()));
        c.expect_closed(WAIT);
        assert_eq!(w.recv_publish_v5().topic, "w/asked");
    }
}

/// Will properties travel with the will: a v5 subscriber sees them in the
/// PUBLISH, user properties in order (§3.1.3.2); a 3.1.1 one gets a plain
/// PUBLISH.
#[test]
fn mqtt_3_1_3_2_will_properties_are_forwarded() {
    let b = Broker::start("");
    let mut w5 = watcher(&b, 0);
    let mut w3 = b.connect(&id_on_shard("watch3", 1), true);
    w3.subscribe("w/#", 0);
    let props = Props::new()
        .byte(prop::PAYLOAD_FORMAT_INDICATOR, 1)
        .str(prop::CONTENT_TYPE, "text/plain")
        .str(prop::RESPONSE_TOPIC, "r/t")
        .bin(prop::CORRELATION_DATA, b"\x01\x02")
        .user("k", "1")
        .user("k", "2");
    let (c, _) = connect5(
        b.port,
        &with_will(&id_on_shard("props", 1), "w/props", 0, props),
    );
    c.close();
    let m = w5.recv_publish_v5();
    assert_eq!(m.props.int(prop::PAYLOAD_FORMAT_INDICATOR), Some(1));
    assert_eq!(
        m.props.str(prop::CONTENT_TYPE).as_deref(),
        Some("text/plain")
    );
    assert_eq!(m.props.str(prop::RESPONSE_TOPIC).as_deref(), Some("r/t"));
    assert_eq!(m.props.bin(prop::CORRELATION_DATA), Some(vec![1, 2]));
    let users = vec![("k".into(), "1".into()), ("k".into(), "2".into())];
    assert_eq!(m.props.users(), users);
    assert_eq!(
        m.props.int(prop::WILL_DELAY_INTERVAL),
        None,
        "not a PUBLISH property"
    );
    w3.expect_msg("w/props", b"gone", 0);
}

/// Takeover [MQTT-3.1.4-3]: the old connection's will goes out unless it
/// has a delay, which the new connection arrived within [MQTT-3.1.3-9].
#[test]
fn mqtt_3_1_3_9_takeover_publishes_an_undelayed_will_only() {
    let b = Broker::start("");
    for shard in 0..SHARDS {
        let mut w = watcher(&b, 1 - shard);
        let id = id_on_shard("taken", shard);
        let (_old, _) = connect5(b.port, &with_will(&id, "w/now", 60, Props::new()));
        let (_new, _) = connect5(b.port, &connect_expiry(&id, false, Some(60)));
        assert_eq!(w.recv_publish_v5().topic, "w/now");
        let id = id_on_shard("taken-later", shard);
        let (_old, _) = connect5(b.port, &with_will(&id, "w/later", 60, delay(1)));
        let (_new, _) = connect5(b.port, &connect_expiry(&id, false, Some(60)));
        w.expect_no_packet(Duration::from_millis(2500));
    }
}
