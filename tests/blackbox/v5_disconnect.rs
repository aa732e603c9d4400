//! The broker's DISCONNECT to MQTT 5 clients (§3.14, §4.13): the reason
//! code is written before the socket closes; 3.1.1 clients are closed
//! without one. Counted by reason code.

use crate::common::metrics::{broker_with_metrics, wait_for};
use crate::common::v5::{self, *};
use crate::common::*;

/// A new connection with the same client ID: the old one hears 0x8E
/// [MQTT-3.1.4-3].
#[test]
fn mqtt_3_1_4_3_takeover_sends_disconnect_0x8e() {
    let b = Broker::start("");
    for shard in 0..SHARDS {
        let id = id_on_shard("twice", shard);
        let (mut old, _) = connect5(b.port, &Connect::v5(&id));
        let (mut new, _) = connect5(b.port, &Connect::v5(&id));
        old.expect_disconnect_v5(0x8e);
        new.send(&[0xc0, 0x00]);
        new.expect_packet(&[0xd0, 0x00]);
    }
}

/// The old connection was parked (idle) when taken over: it still hears
/// 0x8E, in MQTT 5 format.
#[test]
fn mqtt_3_1_4_3_parked_connection_taken_over_gets_0x8e() {
    let b = Broker::start("[tuning]\npark_after = 0.05");
    for shard in 0..SHARDS {
        let id = id_on_shard("parked", shard);
        let (mut old, _) = connect5(b.port, &Connect::v5(&id));
        std::thread::sleep(ms(1500)); // idle: parked by the wheel
        let (_new, _) = connect5(b.port, &Connect::v5(&id));
        old.expect_disconnect_v5(0x8e);
    }
}

/// No packet within 1.5 × keep alive: DISCONNECT 0x8D, then the close
/// [MQTT-3.1.2-22].
#[test]
fn mqtt_3_1_2_22_keep_alive_timeout_sends_disconnect_0x8d() {
    let b = Broker::start("");
    for shard in 0..SHARDS {
        let c = Connect::v5(&id_on_shard("silent", shard)).keepalive(1);
        let (mut c, _) = connect5(b.port, &c);
        let d = c.recv_reasoned(0xe0);
        assert_eq!(d.reason, 0x8d, "{d:?}");
        c.expect_closed(WAIT);
    }
}

/// A packet that does not decode: DISCONNECT 0x81 (malformed) [MQTT-4.13.1-1].
#[test]
fn mqtt_4_13_1_1_malformed_packet_gets_disconnect_0x81() {
    let b = Broker::start("");
    for shard in 0..SHARDS {
        let (mut c, _) = connect5(b.port, &Connect::v5(&id_on_shard("qos3", shard)));
        // PUBLISH with both QoS bits set [MQTT-3.3.1-4].
        c.send(&publish_raw(0x36, b"t", Some(1), b"x"));
        c.expect_disconnect_v5(0x81);
    }
}

/// A protocol error: DISCONNECT 0x82. A second CONNECT [MQTT-3.1.0-2],
/// and a PUBLISH with a property twice.
#[test]
fn mqtt_4_13_1_protocol_error_gets_disconnect_0x82() {
    let b = Broker::start("");
    for shard in 0..SHARDS {
        let id = id_on_shard("again", shard);
        let (mut c, _) = connect5(b.port, &Connect::v5(&id));
        c.send(&Connect::v5(&id).build());
        c.expect_disconnect_v5(0x82);
        let (mut c, _) = connect5(b.port, &Connect::v5(&id));
        let twice = Props::new()
            .byte(prop::PAYLOAD_FORMAT_INDICATOR, 0)
            .byte(prop::PAYLOAD_FORMAT_INDICATOR, 0);
        c.send(&v5::publish("t", b"x", 0, false, 0, &twice));
        c.expect_disconnect_v5(0x82);
    }
}

/// AUTH without an Authentication Method in the CONNECT is a protocol
/// error (§4.12): DISCONNECT 0x82.
#[test]
fn mqtt_4_12_0_auth_without_a_method_gets_disconnect_0x82() {
    let b = Broker::start("");
    let (mut c, _) = connect5(b.port, &Connect::v5(&id_on_shard("auth", 0)));
    let props = Props::new().str(prop::AUTHENTICATION_METHOD, "x");
    c.send(&auth(0x19, &props));
    c.expect_disconnect_v5(0x82);
}

/// A packet over `limits.max_packet_size`: DISCONNECT 0x95 (§3.2.2.3.6).
#[test]
fn mqtt_3_2_2_3_6_packet_over_the_maximum_gets_disconnect_0x95() {
    let b = Broker::start("[limits]\nmax_packet_size = 128");
    for shard in 0..SHARDS {
        let (mut c, _) = connect5(b.port, &Connect::v5(&id_on_shard("big", shard)));
        c.send(&v5::publish("t", &[0u8; 500], 0, false, 0, &Props::new()));
        c.expect_disconnect_v5(0x95);
    }
}

/// SIGTERM: every MQTT 5 client hears 0x8B before the broker exits; a
/// 3.1.1 client is just closed.
#[test]
fn mqtt_4_13_2_shutdown_sends_disconnect_0x8b() {
    if skip_on_mosquitto("shardmq's shutdown") {
        return;
    }
    let mut b = Broker::start("");
    let mut v5: Vec<Client> = (0..SHARDS)
        .map(|s| connect5(b.port, &Connect::v5(&id_on_shard("stay", s))).0)
        .collect();
    let mut v3 = b.connect(&id_on_shard("stay3", 0), true);
    b.signal(libc::SIGTERM);
    for c in &mut v5 {
        c.expect_disconnect_v5(0x8b);
    }
    v3.expect_closed(WAIT);
    assert!(b.wait_exit(WAIT).is_some_and(|s| s.success()));
}

/// 3.1.1 has no server DISCONNECT: a taken-over 3.1.1 connection is closed
/// without a packet.
#[test]
fn v3_connection_taken_over_is_closed_without_disconnect() {
    let b = Broker::start("");
    let id = id_on_shard("v3twice", 1);
    let mut old = b.connect(&id, true);
    let _new = b.connect(&id, true);
    old.expect_closed(WAIT);
}

/// CONNACK and DISCONNECT counters by reason code, both directions.
#[test]
fn connack_and_disconnect_reason_codes_are_counted() {
    if skip_on_mosquitto("shardmq's metrics") {
        return;
    }
    let (b, addr) = broker_with_metrics("");
    let id = id_on_shard("counted", 1);
    let (mut old, _) = connect5(b.port, &Connect::v5(&id));
    let (mut new, _) = connect5(b.port, &Connect::v5(&id));
    old.expect_disconnect_v5(0x8e);
    new.send(&disconnect(0x04, &Props::new()));
    new.expect_closed(WAIT);
    let auth = Props::new().str(prop::AUTHENTICATION_METHOD, "x");
    Client::connect_v5(b.port, &Connect::v5("refused").props(auth.build()));
    let sent = "shardmq_disconnect_total{direction=\"sent\",reason=\"session_taken_over\"}";
    wait_for(&addr, sent, 1.0);
    let got =
        "shardmq_disconnect_total{direction=\"received\",reason=\"disconnect_with_will_message\"}";
    wait_for(&addr, got, 1.0);
    wait_for(&addr, "shardmq_connack_total{reason=\"success\"}", 2.0);
    wait_for(
        &addr,
        "shardmq_connack_total{reason=\"bad_authentication_method\"}",
        1.0,
    );
}
