//! MQTT 5 session lifetime: clean start, the Session Expiry Interval from
//! CONNECT (capped by `limits.session_expiry_max`) and from DISCONNECT.

use crate::common::v5::*;
use crate::common::*;
use std::time::Duration;

/// Publishes `payload` at QoS 1 on `topic` from a 3.1.1 client on `shard`.
fn publish_from(b: &Broker, shard: usize, topic: &str, payload: &[u8]) {
    let mut p = b.connect(&id_on_shard("pub", shard), true);
    p.publish(topic, payload, 1, false);
    p.disconnect();
}

/// Offline within its interval, the session keeps its subscription and
/// queues QoS 1; a reconnect with clean start 0 resumes it
/// [MQTT-3.2.2-3] and gets the message.
#[test]
fn mqtt_3_1_2_23_session_resumes_within_its_expiry_interval() {
    let b = Broker::start("");
    for shard in 0..SHARDS {
        let id = id_on_shard("resume", shard);
        let topic = format!("resume/{shard}");
        let (mut c, _) = connect5(b.port, &connect_expiry(&id, true, Some(60)));
        c.subscribe_v5(&[(&topic, 1)], &Props::new());
        c.send(&disconnect(0, &Props::new()));
        c.expect_closed(WAIT);
        publish_from(&b, 1 - shard, &topic, b"kept");
        let (mut c, ack) = connect5(b.port, &connect_expiry(&id, false, Some(60)));
        assert!(ack.session_present, "[MQTT-3.2.2-3]");
        let m = c.recv_publish_v5();
        assert_eq!(
            (m.topic.as_str(), &m.payload[..]),
            (topic.as_str(), &b"kept"[..])
        );
    }
}

/// Once its interval has passed offline, the session is gone.
#[test]
fn mqtt_3_1_2_23_session_ends_after_its_expiry_interval() {
    let b = Broker::start("");
    for shard in 0..SHARDS {
        let id = id_on_shard("expire", shard);
        let (c, _) = connect5(b.port, &connect_expiry(&id, true, Some(1)));
        c.close();
        std::thread::sleep(Duration::from_millis(2500));
        let (_c, ack) = connect5(b.port, &connect_expiry(&id, false, Some(1)));
        assert!(!ack.session_present, "expired after 1 s offline");
    }
}

/// No Session Expiry Interval means 0: the session ends with the network
/// connection even with clean start 0 (§3.1.2.11.2).
#[test]
fn mqtt_3_1_2_11_absent_expiry_ends_the_session_with_the_connection() {
    let b = Broker::start("");
    let id = id_on_shard("zero", 1);
    let (mut c, _) = connect5(b.port, &connect_expiry(&id, false, None));
    c.subscribe_v5(&[("zero/t", 1)], &Props::new());
    c.close();
    let (_c, ack) = connect5(b.port, &connect_expiry(&id, false, None));
    assert!(!ack.session_present);
}

/// Clean start 1 discards a stored session [MQTT-3.1.2-4].
#[test]
fn mqtt_3_1_2_4_clean_start_discards_the_session() {
    let b = Broker::start("");
    let id = id_on_shard("fresh", 0);
    let (c, _) = connect5(b.port, &connect_expiry(&id, false, Some(60)));
    c.close();
    let (_c, ack) = connect5(b.port, &connect_expiry(&id, true, Some(60)));
    assert!(!ack.session_present, "[MQTT-3.2.2-2]");
}

/// The cap applies: a client asking for an hour keeps its session only for
/// `session_expiry_max`.
#[test]
fn session_expiry_max_caps_the_interval() {
    let b = Broker::start("[limits]\nsession_expiry_max = 1");
    let id = id_on_shard("capped", 1);
    let (c, _) = connect5(b.port, &connect_expiry(&id, true, Some(3600)));
    c.close();
    std::thread::sleep(Duration::from_millis(2500));
    let (_c, ack) = connect5(b.port, &connect_expiry(&id, false, Some(3600)));
    assert!(!ack.session_present);
}

/// A DISCONNECT may not set an interval when the CONNECT's was 0: protocol
/// error, DISCONNECT 0x82 [MQTT-3.14.2-2].
#[test]
fn mqtt_3_14_2_2_disconnect_may_not_set_expiry_after_zero() {
    let b = Broker::start("");
    for shard in 0..SHARDS {
        let (mut c, _) = connect5(
            b.port,
            &connect_expiry(&id_on_shard("z", shard), true, None),
        );
        let props = Props::new().u32(prop::SESSION_EXPIRY_INTERVAL, 60);
        c.send(&disconnect(0, &props));
        c.expect_disconnect_v5(0x82);
    }
}

/// A DISCONNECT may shorten the interval to 0: the session ends now.
#[test]
fn mqtt_3_14_2_2_disconnect_sets_expiry_zero() {
    let b = Broker::start("");
    let id = id_on_shard("shorten", 0);
    let (mut c, _) = connect5(b.port, &connect_expiry(&id, true, Some(60)));
    c.send(&disconnect(
        0,
        &Props::new().u32(prop::SESSION_EXPIRY_INTERVAL, 0),
    ));
    c.expect_closed(WAIT);
    let (_c, ack) = connect5(b.port, &connect_expiry(&id, false, Some(60)));
    assert!(!ack.session_present);
}

/// ... or lengthen a non-zero one: the session outlives the CONNECT's 1 s.
#[test]
fn mqtt_3_14_2_2_disconnect_extends_expiry() {
    let b = Broker::start("");
    let id = id_on_shard("extend", 1);
    let (mut c, _) = connect5(b.port, &connect_expiry(&id, true, Some(1)));
    c.send(&disconnect(
        0,
        &Props::new().u32(prop::SESSION_EXPIRY_INTERVAL, 60),
    ));
    c.expect_closed(WAIT);
    std::thread::sleep(Duration::from_millis(2500));
    let (_c, ack) = connect5(b.port, &connect_expiry(&id, false, Some(60)));
    assert!(ack.session_present);
}

/// 3.1.1 and 5.0 share the client ID space: a 3.1.1 persistent session is
/// resumed by a v5 CONNECT with clean start 0.
#[test]
fn v3_session_resumed_by_v5_client() {
    let b = Broker::start("");
    let id = id_on_shard("mixed", 0);
    let mut c = b.connect(&id, false);
    c.subscribe("mixed/t", 1);
    c.disconnect();
    let (_c, ack) = connect5(b.port, &connect_expiry(&id, false, Some(10)));
    assert!(ack.session_present);
}
