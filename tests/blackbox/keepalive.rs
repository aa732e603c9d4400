//! Keep-alive [MQTT-3.1.2-24]: silence longer than 1.5 x keep-alive closes
//! the connection; PINGREQ keeps it open; keep-alive 0 disables the check.

use crate::common::*;

use std::time::{Duration, Instant};

fn connect_keepalive(b: &Broker, id: &str, secs: u16) -> Client {
    connect_with(
        b.port,
        &Connect::new(id).keepalive(secs),
        &connack(false, 0),
    )
}

/// [MQTT-3.1.2-24] keep-alive 1 s, silence after CONNACK -> closed after
/// about 1.5 s (accepted window 1.4 s .. 3.5 s).
#[test]
fn silence_past_one_and_a_half_keepalive_closes() {
    let b = Broker::start("");
    let mut c = connect_keepalive(&b, "quiet", 1);
    let took = c.time_until_closed(keepalive_1s_close_bound());
    assert!(
        took >= Duration::from_millis(1400),
        "closed too early: {took:?}"
    );
}

/// PINGREQ every 0.5 s keeps a keep-alive 1 s connection open for 3 s, each
/// answered with PINGRESP `d0 00` [MQTT-3.12.4-1].
#[test]
fn pingreq_keeps_connection_open() {
    let b = Broker::start("");
    let mut c = connect_keepalive(&b, "pinger", 1);
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(3) {
        c.send(&PINGREQ);
        c.expect_packet(&PINGRESP);
        c.expect_no_packet(Duration::from_millis(500));
    }
}

/// Any control packet counts as activity, not only PINGREQ: QoS 0 PUBLISH
/// every 0.5 s keeps the connection open too.
#[test]
fn publish_traffic_keeps_connection_open() {
    let b = Broker::start("");
    let mut c = connect_keepalive(&b, "talker", 1);
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(3) {
        c.send(&publish("chatter", b"x", 0, false, 0));
        c.expect_no_packet(Duration::from_millis(500));
    }
    c.ping();
}

/// Keep-alive 0 turns the mechanism off: still open after 3 s of silence.
#[test]
fn keepalive_zero_never_times_out() {
    let b = Broker::start("");
    let mut c = connect_keepalive(&b, "forever", 0);
    c.expect_no_packet(Duration::from_secs(3));
    c.ping();
}

/// Keep-alive is per connection: a timed-out client does not affect one
/// with keep-alive 0 on the other shard.
#[test]
fn keepalive_timeout_is_per_connection() {
    let b = Broker::start("");
    let mut quiet = connect_keepalive(&b, &id_on_shard("quiet", 0), 1);
    let mut other = connect_keepalive(&b, &id_on_shard("other", 1), 0);
    quiet.expect_closed(keepalive_1s_close_bound());
    other.ping();
}
