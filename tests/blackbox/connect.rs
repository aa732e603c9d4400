//! CONNECT / CONNACK: return codes, client IDs, authentication, MQTT 3.1,
//! the connect timeout and what may (not) come before/after CONNECT.

use crate::common::passwords::bad_credentials;
use crate::common::*;

use std::time::Duration;

#[test]
fn connack_0_accepted() {
    let b = Broker::start("");
    let mut c = connect_with(b.port, &Connect::new("c1"), &connack(false, 0));
    c.ping();
}

/// [MQTT-3.1.2-2] unsupported protocol level -> CONNACK 1, then close.
/// (Level 6, not 5: MQTT 5 may be accepted later.)
#[test]
fn connack_1_unacceptable_protocol_level() {
    let b = Broker::start("");
    let mut c = b.tcp("lvl6");
    c.send(&Connect::new("lvl6").protocol(b"MQTT", 6).build());
    c.expect_packet(&[0x20, 0x02, 0x00, 0x01]);
    c.expect_closed(WAIT);
}

/// [MQTT-3.1.3-8] empty client ID with clean session 0 -> CONNACK 2, close.
#[test]
fn connack_2_empty_client_id_without_clean_session() {
    let b = Broker::start("");
    let mut c = b.tcp("empty");
    c.send(&Connect::new("").clean(false).build());
    c.expect_packet(&[0x20, 0x02, 0x00, 0x02]);
    c.expect_closed(WAIT);
}

/// MQTT 3.1 limits client IDs to 23 characters: 24 -> CONNACK 2, close.
#[test]
fn connack_2_mqtt31_client_id_longer_than_23() {
    if skip_on_mosquitto("mosquitto 2.0 accepts long MQTT 3.1 client IDs") {
        return;
    }
    let b = Broker::start("");
    let long = "a".repeat(24);
    let mut c = b.tcp("long");
    c.send(&Connect::v31(&long).build());
    c.expect_packet(&[0x20, 0x02, 0x00, 0x02]);
    c.expect_closed(WAIT);
}

#[test]
fn mqtt31_client_id_of_23_accepted() {
    let b = Broker::start("");
    let ok = "b".repeat(23);
    let mut c = connect_with(b.port, &Connect::v31(&ok), &connack(false, 0));
    c.ping();
}

/// MQTT 3.1.1 has no such limit: a 100-character client ID is accepted.
#[test]
fn mqtt311_long_client_id_accepted() {
    let b = Broker::start("");
    let mut c = connect_with(b.port, &Connect::new(&"x".repeat(100)), &connack(false, 0));
    c.ping();
}

/// Beyond `max_connections` -> CONNACK 3 (server unavailable); a slot freed
/// by a disconnect can be used again.
#[test]
fn connack_3_max_connections() {
    if skip_on_mosquitto("mosquitto refuses at accept time without a CONNACK") {
        return;
    }
    let b = Broker::start("[limits]\nmax_connections = 2");
    // IDs on both shards: the limit is broker-wide.
    let c1 = b.connect(&id_on_shard("mc", 0), true);
    let _c2 = b.connect(&id_on_shard("mc", 1), true);
    for shard in 0..SHARDS {
        let id = id_on_shard("extra", shard);
        let mut c3 = b.tcp(&id);
        c3.send(&Connect::new(&id).build());
        c3.expect_packet(&[0x20, 0x02, 0x00, 0x03]);
        c3.expect_closed(WAIT);
    }
    c1.disconnect();
    // The freed slot becomes usable (release may be asynchronous: poll).
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let mut c = b.tcp("again");
        c.send(&Connect::new("again").build());
        let (first, body) = c.recv_packet();
        match packet(first, &body).as_slice() {
            [0x20, 0x02, 0x00, 0x00] => break,
            [0x20, 0x02, 0x00, 0x03] if std::time::Instant::now() < deadline => {
                std::thread::sleep(ms(20))
            }
            other => panic!("after a disconnect: {}", hex(other)),
        }
    }
}

const USERS: &[(&str, &str)] = &[("alice", "secret"), ("bob", "hunter2")];

#[test]
fn connack_4_wrong_password() {
    let b = Broker::start_with_users("", USERS);
    let mut c = b.tcp("alice");
    c.send(&Connect::new("c").user("alice").password("wrong").build());
    c.expect_packet(&[0x20, 0x02, 0x00, bad_credentials()]);
    c.expect_closed(WAIT);
}

#[test]
fn connack_4_user_name_without_password() {
    let b = Broker::start_with_users("", USERS);
    let mut c = b.tcp("alice");
    c.send(&Connect::new("c").user("alice").build());
    c.expect_packet(&[0x20, 0x02, 0x00, bad_credentials()]);
    c.expect_closed(WAIT);
}

/// A user name not in the password file -> 4, even with anonymous
/// access allowed.
#[test]
fn connack_4_unknown_user() {
    let b = Broker::start_with_users("", USERS);
    let mut c = b.tcp("mallory");
    c.send(&Connect::new("c").user("mallory").password("secret").build());
    c.expect_packet(&[0x20, 0x02, 0x00, bad_credentials()]);
    c.expect_closed(WAIT);
}

#[test]
fn good_credentials_accepted_and_anonymous_allowed() {
    let b = Broker::start_with_users("", USERS);
    let a = Connect::new("a").user("alice").password("secret");
    connect_with(b.port, &a, &connack(false, 0)).ping();
    let bob = Connect::new("b").user("bob").password("hunter2");
    connect_with(b.port, &bob, &connack(false, 0)).ping();
    // allow_anonymous defaults to true
    connect_with(b.port, &Connect::new("anon"), &connack(false, 0)).ping();
}

/// No password file + anonymous allowed: a user name is accepted as
/// anonymous.
#[test]
fn user_name_accepted_when_no_users_configured() {
    let b = Broker::start("");
    let c = Connect::new("u").user("whoever").password("anything");
    connect_with(b.port, &c, &connack(false, 0)).ping();
}

/// `allow_anonymous = false` and no user name -> CONNACK 5.
#[test]
fn connack_5_anonymous_not_allowed() {
    let b = Broker::start_with_users("[auth]\nallow_anonymous = false", USERS);
    let mut c = b.tcp("anon");
    c.send(&Connect::new("anon").build());
    c.expect_packet(&[0x20, 0x02, 0x00, 0x05]);
    c.expect_closed(WAIT);
    let a = Connect::new("a").user("alice").password("secret");
    connect_with(b.port, &a, &connack(false, 0)).ping();
}

/// MQTT 3.1 ("MQIsdp", level 3) is accepted and can publish and subscribe.
#[test]
fn mqtt31_connect_and_pubsub() {
    let b = Broker::start("");
    let mut sub = connect_with(b.port, &Connect::v31("sub31"), &connack(false, 0));
    sub.subscribe("t/31", 1);
    let mut publ = connect_with(b.port, &Connect::v31("pub31"), &connack(false, 0));
    publ.publish("t/31", b"hello 3.1", 1, false);
    sub.expect_msg("t/31", b"hello 3.1", 1);
    publ.publish("t/31", b"qos0", 0, false);
    sub.expect_msg("t/31", b"qos0", 0);
}

/// [MQTT-3.1.3-6] empty client ID + clean session 1 -> accepted, session
/// present 0; two such clients get distinct IDs (no takeover).
#[test]
fn empty_client_id_with_clean_session_gets_own_identity() {
    let b = Broker::start("");
    let mut one = connect_with(b.port, &Connect::new(""), &connack(false, 0));
    let mut two = connect_with(b.port, &Connect::new(""), &connack(false, 0));
    one.subscribe("e/1", 0);
    two.subscribe("e/2", 0);
    let mut p = b.connect("pub", true);
    p.publish("e/1", b"to one", 1, false);
    p.publish("e/2", b"to two", 1, false);
    one.expect_msg("e/1", b"to one", 0);
    two.expect_msg("e/2", b"to two", 0);
    one.ping();
    two.ping();
}

/// A socket that sends nothing is closed once connect_timeout (0.5 s) passes.
#[test]
fn connect_timeout_silent_socket() {
    if skip_on_mosquitto("mosquitto has no connect timeout setting") {
        return;
    }
    let b = Broker::start("[limits]\nconnect_timeout = 0.5");
    let mut c = b.tcp("silent");
    let took = c.time_until_closed(Duration::from_secs(3));
    assert!(took >= ms(300), "closed after {took:?}, before the timeout");
}

/// A CONNECT that never completes is closed by the connect timeout too.
#[test]
fn connect_timeout_partial_connect() {
    if skip_on_mosquitto("mosquitto has no connect timeout setting") {
        return;
    }
    let b = Broker::start("[limits]\nconnect_timeout = 0.5");
    let mut c = b.tcp("partial");
    let full = Connect::new("partial").build();
    c.send(&full[..full.len() - 3]);
    let took = c.time_until_closed(Duration::from_secs(3));
    assert!(took >= ms(300), "closed after {took:?}, before the timeout");
}

/// A CONNECT trickled in byte by byte (within the timeout) is accepted, and
/// the connect timeout no longer applies after CONNACK.
#[test]
fn connect_in_pieces_then_timeout_does_not_apply() {
    let b = Broker::start("[limits]\nconnect_timeout = 0.8");
    let mut c = b.tcp("pieces");
    for byte in Connect::new("pieces").keepalive(0).build() {
        c.send(&[byte]);
        std::thread::sleep(ms(5));
    }
    c.expect_packet(&connack(false, 0));
    c.expect_no_packet(Duration::from_millis(1200));
    c.ping();
}

/// [MQTT-3.1.0-1] the first packet must be CONNECT: PINGREQ -> closed, no
/// CONNACK.
#[test]
fn first_packet_pingreq_closes() {
    let b = Broker::start("");
    let mut c = b.tcp("ping-first");
    c.send(&PINGREQ);
    c.expect_closed(WAIT);
}

/// [MQTT-3.1.0-1] PUBLISH before CONNECT -> closed, and nothing is routed.
#[test]
fn first_packet_publish_closes() {
    let b = Broker::start("");
    let mut sub = b.connect("sub", true);
    sub.subscribe("t", 0);
    let mut c = b.tcp("pub-first");
    c.send_lenient(&publish("t", b"sneaky", 0, false, 0));
    c.expect_closed(WAIT);
    let mut p = b.connect("pub", true);
    p.publish("t", b"legit", 0, false);
    sub.expect_msg("t", b"legit", 0);
}

/// [MQTT-3.1.0-2] a second CONNECT on a connection is a protocol violation.
#[test]
fn second_connect_closes() {
    let b = Broker::start("");
    let mut c = b.connect("twice", true);
    c.send_lenient(&Connect::new("twice").build());
    c.expect_closed(WAIT);
}
