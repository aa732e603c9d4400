//! MQTT 5 delivery rules at the session level: message expiry in the
//! queue and on arrival, the client's Receive Maximum as the window, and
//! the client's Maximum Packet Size.

use super::test_util::msg;
use super::*;
use crate::config::Limits;
use crate::connection::{ConnHandle, OutBuf};
use crate::metrics::ShardMetrics;
use crate::protocol::{ProtocolVersion, PublishProperties, QoS};
use bytes::Bytes;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn setup(
    limits: Limits,
    version: ProtocolVersion,
) -> (Sessions, Rc<ShardMetrics>, Rc<ConnHandle>, SessionKey) {
    let metrics = Rc::new(ShardMetrics::default());
    let mut s = Sessions::new(0, limits, metrics.clone());
    let h = Rc::new(ConnHandle::new(1, version, 60, 0));
    let key = s.open(&"c".into(), false, None, &h).key;
    s.subscribe(key, &"t".into(), Subscription::qos(QoS::AtLeastOnce));
    (s, metrics, h, key)
}

/// A QoS 1 message with this expiry interval, published `ago` before now.
fn expiring(n: u8, secs: u32, ago: Duration) -> Message {
    let mut m = msg(n, QoS::AtLeastOnce);
    m.properties = Some(Arc::new(PublishProperties {
        message_expiry_interval: Some(secs),
        ..Default::default()
    }));
    m.published_at = Instant::now() - ago;
    m
}

fn drain(h: &ConnHandle) -> usize {
    h.take_out(OutBuf::default()).bytes.len()
}

#[test]
fn mqtt_3_3_2_5_an_expired_message_is_not_delivered() {
    let (mut s, metrics, h, _) = setup(Limits::default(), ProtocolVersion::V3_1_1);
    assert_eq!(s.publish(&expiring(1, 2, Duration::from_secs(3))), 0);
    assert_eq!(metrics.messages_expired.get(), 1);
    assert_eq!(drain(&h), 0, "nothing written");
    assert_eq!(
        s.publish(&expiring(2, 5, Duration::from_secs(3))),
        1,
        "2 s left"
    );
    assert_eq!(
        s.publish(&expiring(3, 0, Duration::from_secs(9))),
        1,
        "0: no expiry"
    );
}

#[test]
fn mqtt_3_3_2_5_a_queued_message_that_expires_is_dropped_not_sent() {
    let limits = Limits {
        max_inflight: 1,
        ..Limits::default()
    };
    let (mut s, metrics, h, key) = setup(limits, ProtocolVersion::V3_1_1);
    s.publish(&msg(1, QoS::AtLeastOnce));
    // 1 s lifetime, 900 ms of it spent: queued behind the window, it
    // expires while it waits.
    s.publish(&expiring(2, 1, Duration::from_millis(900)));
    s.publish(&msg(3, QoS::AtLeastOnce));
    assert_eq!(s.get(key).unwrap().queued_len(), 2);
    drain(&h);
    std::thread::sleep(Duration::from_millis(150));
    let first = 1; // the session's first packet id
    s.puback(key, first);
    assert_eq!(metrics.messages_expired.get(), 1);
    let sess = s.get(key).unwrap();
    assert_eq!((sess.inflight_len(), sess.queued_len()), (1, 0), "3 went");
    assert!(drain(&h) > 0);
}

#[test]
fn mqtt_3_3_4_9_the_window_is_the_clients_receive_maximum() {
    let (mut s, _, h, key) = setup(Limits::default(), ProtocolVersion::V5);
    h.set_receive_maximum(2);
    for n in 1..=5 {
        s.publish(&msg(n, QoS::AtLeastOnce));
    }
    let sess = s.get(key).unwrap();
    assert_eq!((sess.inflight_len(), sess.queued_len()), (2, 3));
    s.puback(key, 1);
    let sess = s.get(key).unwrap();
    assert_eq!((sess.inflight_len(), sess.queued_len()), (2, 2));
}

#[test]
fn mqtt_3_1_2_25_too_large_for_the_client_is_dropped_and_the_window_moves_on() {
    let limits = Limits {
        max_inflight: 1,
        ..Limits::default()
    };
    let (mut s, metrics, h, key) = setup(limits, ProtocolVersion::V5);
    h.v5(|v| v.max_packet = 64).unwrap();
    let mut big = msg(1, QoS::AtLeastOnce);
    big.payload = Bytes::from(vec![b'x'; 100]);
    s.publish(&big);
    assert_eq!(metrics.packets_dropped_client_maximum.get(), 1);
    assert_eq!(
        s.get(key).unwrap().inflight_len(),
        0,
        "nothing waits for an ack"
    );
    assert_eq!(drain(&h), 0);
    s.publish(&msg(2, QoS::AtLeastOnce));
    assert_eq!(s.get(key).unwrap().inflight_len(), 1);
    // Queued behind the window, then too large when its turn comes.
    s.publish(&big);
    s.publish(&msg(3, QoS::AtLeastOnce));
    let sent = drain(&h);
    assert!(sent > 0 && sent < 64);
    s.puback(key, 1);
    assert_eq!(metrics.packets_dropped_client_maximum.get(), 2);
    let sess = s.get(key).unwrap();
    assert_eq!((sess.inflight_len(), sess.queued_len()), (1, 0), "3 went");
}
