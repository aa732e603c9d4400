//! MQTT 5 CONNECT and CONNACK (§3.1, §3.2): what the broker grants and
//! announces, and a reason code for every refusal.

use crate::common::passwords::bad_credentials_v5;
use crate::common::v5::*;
use crate::common::*;

/// Every CONNACK property the broker announces, from its configuration.
#[test]
fn mqtt_3_2_2_3_connack_announces_the_broker_limits_and_features() {
    let b = Broker::start(
        "[limits]\nreceive_maximum = 100\ntopic_alias_maximum = 5\nmax_packet_size = 65536",
    );
    for shard in 0..SHARDS {
        let (_c, ack) = connect5(b.port, &Connect::v5(&id_on_shard("feat", shard)));
        let p = &ack.props;
        assert_eq!(p.int(prop::RECEIVE_MAXIMUM), Some(100));
        assert_eq!(p.int(prop::TOPIC_ALIAS_MAXIMUM), Some(5));
        assert_eq!(p.int(prop::MAXIMUM_PACKET_SIZE), Some(65536));
        assert_eq!(p.int(prop::RETAIN_AVAILABLE), Some(1));
        assert_eq!(p.int(prop::WILDCARD_SUBSCRIPTION_AVAILABLE), Some(1));
        assert_eq!(p.int(prop::SUBSCRIPTION_IDENTIFIER_AVAILABLE), Some(1));
        assert_eq!(p.int(prop::SHARED_SUBSCRIPTION_AVAILABLE), Some(1));
        assert_eq!(p.int(prop::MAXIMUM_QOS), None, "absent means QoS 2");
        assert_eq!(
            p.int(prop::SESSION_EXPIRY_INTERVAL),
            None,
            "the client's own"
        );
        assert_eq!(p.int(prop::SERVER_KEEP_ALIVE), None, "no max_keepalive");
        assert_eq!(p.str(prop::ASSIGNED_CLIENT_IDENTIFIER), None);
        assert_eq!(p.str(prop::REASON_STRING), None);
        assert!(!ack.session_present);
    }
}

/// Topic alias maximum 0 turns aliases off: the CONNACK leaves it out
/// (absent means 0).
#[test]
fn mqtt_3_2_2_3_topic_alias_maximum_zero_is_not_announced() {
    let b = Broker::start("[limits]\ntopic_alias_maximum = 0");
    let (_c, ack) = connect5(b.port, &Connect::v5("no-alias"));
    assert_eq!(ack.props.int(prop::TOPIC_ALIAS_MAXIMUM), None);
}

/// An empty client ID gets one assigned, returned in the CONNACK, even with
/// clean start 0 [MQTT-3.2.2-16]; its session lives under that ID on the
/// shard that took the connection.
#[test]
fn mqtt_3_2_2_16_empty_client_id_gets_an_assigned_identifier() {
    let b = Broker::start("");
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..16 {
        let (c, ack) = connect5(b.port, &connect_expiry("", false, Some(60)));
        let id = ack
            .props
            .str(prop::ASSIGNED_CLIENT_IDENTIFIER)
            .expect("[MQTT-3.2.2-16] Assigned Client Identifier");
        assert!(!id.is_empty() && seen.insert(id.clone()), "unique: {id}");
        c.close();
        let (_c, ack) = connect5(b.port, &connect_expiry(&id, false, Some(60)));
        assert!(ack.session_present, "the session is kept under {id}");
        assert_eq!(ack.props.str(prop::ASSIGNED_CLIENT_IDENTIFIER), None);
    }
    let shards: std::collections::BTreeSet<_> = seen
        .iter()
        .map(|id| shardmq::shard::owner_shard(id.as_bytes(), SHARDS))
        .collect();
    // Connections land on either shard (SO_REUSEPORT); the IDs chosen on
    // both must stay there (else the resume above would have missed).
    assert_eq!(shards.len(), SHARDS, "16 connections all on one shard");
}

/// A keep alive above `limits.max_keepalive` is replaced: the CONNACK says
/// which [MQTT-3.2.2-21] and the broker holds the client to it.
#[test]
fn mqtt_3_2_2_21_server_keep_alive_replaces_a_longer_one() {
    let b = Broker::start("[limits]\nmax_keepalive = 1");
    let (mut c, ack) = connect5(b.port, &Connect::v5(&id_on_shard("ka", 1)).keepalive(60));
    assert_eq!(ack.props.int(prop::SERVER_KEEP_ALIVE), Some(1));
    // Silent for 1.5 × 1 s: closed with DISCONNECT 0x8D.
    let d = c.recv_reasoned(0xe0);
    assert_eq!(d.reason, 0x8d, "{d:?}");
    c.expect_closed(WAIT);
}

/// Keep alive 0 (none) is not allowed when the broker has a maximum
/// (§3.2.2.3.14); a keep alive within the maximum stays the client's.
#[test]
fn mqtt_3_1_2_10_keep_alive_zero_gets_the_server_keep_alive() {
    let b = Broker::start("[limits]\nmax_keepalive = 30");
    let (_c, ack) = connect5(b.port, &Connect::v5("ka0").keepalive(0));
    assert_eq!(ack.props.int(prop::SERVER_KEEP_ALIVE), Some(30));
    let (_c, ack) = connect5(b.port, &Connect::v5("ka20").keepalive(20));
    assert_eq!(ack.props.int(prop::SERVER_KEEP_ALIVE), None);
}

/// `limits.session_expiry_max` caps the interval; the CONNACK says the one
/// used when it is not the client's (§3.2.2.3.2).
#[test]
fn mqtt_3_2_2_3_2_capped_session_expiry_is_announced() {
    let b = Broker::start("[limits]\nsession_expiry_max = 10");
    let (_c, ack) = connect5(b.port, &connect_expiry("long", true, Some(3600)));
    assert_eq!(ack.props.int(prop::SESSION_EXPIRY_INTERVAL), Some(10));
    let (_c, ack) = connect5(b.port, &connect_expiry("short", true, Some(5)));
    assert_eq!(ack.props.int(prop::SESSION_EXPIRY_INTERVAL), None);
}

/// No enhanced authentication here: any Authentication Method gets CONNACK
/// 0x8C, with a reason string, then the close (§4.12).
#[test]
fn mqtt_4_12_0_1_unsupported_authentication_method_gets_0x8c() {
    let b = Broker::start("");
    for shard in 0..SHARDS {
        let props = Props::new().str(prop::AUTHENTICATION_METHOD, "SCRAM-SHA-1");
        let c = Connect::v5(&id_on_shard("scram", shard)).props(props.build());
        let (mut c, ack) = Client::connect_v5(b.port, &c);
        assert_eq!(ack.reason, 0x8c);
        assert!(ack.props.str(prop::REASON_STRING).is_some());
        assert!(!ack.session_present, "[MQTT-3.2.2-6]");
        c.expect_closed(WAIT);
    }
}

/// Request Problem Information 0: no Reason String, even on a refusal
/// [MQTT-3.1.2-29] (CONNACK may carry one, we choose not to).
#[test]
fn mqtt_3_1_2_29_no_reason_string_without_problem_information() {
    let b = Broker::start("");
    let props = Props::new()
        .byte(prop::REQUEST_PROBLEM_INFORMATION, 0)
        .str(prop::AUTHENTICATION_METHOD, "GS2-KRB5");
    let (mut c, ack) = Client::connect_v5(b.port, &Connect::v5("quiet").props(props.build()));
    assert_eq!(ack.reason, 0x8c);
    assert_eq!(ack.props.str(prop::REASON_STRING), None);
    c.expect_closed(WAIT);
}

/// A reason string that would take the CONNACK over the client's Maximum
/// Packet Size is left out [MQTT-3.2.2-19].
#[test]
fn mqtt_3_2_2_19_no_reason_string_beyond_the_client_maximum_packet_size() {
    let b = Broker::start("");
    let props = |max| {
        Props::new()
            .u32(prop::MAXIMUM_PACKET_SIZE, max)
            .str(prop::AUTHENTICATION_METHOD, "x")
            .build()
    };
    let (_c, ack) = Client::connect_v5(b.port, &Connect::v5("tiny").props(props(10)));
    assert_eq!(ack.reason, 0x8c);
    assert_eq!(ack.props.str(prop::REASON_STRING), None);
    let (_c, ack) = Client::connect_v5(b.port, &Connect::v5("roomy").props(props(1000)));
    assert!(ack.props.str(prop::REASON_STRING).is_some());
}

/// Bad credentials: 0x86; no credentials where they are required: 0x87.
#[test]
fn mqtt_3_2_2_2_credentials_refused_with_0x86_and_0x87() {
    let b = Broker::start_with_users("[auth]\nallow_anonymous = false", &[("alice", "secret")]);
    let bad = Connect::v5("alice-c").user("alice").password("wrong");
    let (mut c, ack) = Client::connect_v5(b.port, &bad);
    assert_eq!(ack.reason, bad_credentials_v5());
    c.expect_closed(WAIT);
    let (mut c, ack) = Client::connect_v5(b.port, &Connect::v5("anon"));
    assert_eq!(ack.reason, 0x87);
    c.expect_closed(WAIT);
    let good = Connect::v5("alice-c").user("alice").password("secret");
    connect5(b.port, &good);
}

/// Over `limits.max_connections`: 0x89 server busy (3.1.1 gets 3).
#[test]
fn mqtt_3_2_2_2_over_max_connections_gets_0x89() {
    let b = Broker::start("[limits]\nmax_connections = 1");
    let _first = connect5(b.port, &Connect::v5("only"));
    let (mut c, ack) = Client::connect_v5(b.port, &Connect::v5("second"));
    assert_eq!(ack.reason, 0x89);
    c.expect_closed(WAIT);
    let v3 = Connect::new("second-v3");
    let mut c = connect_with(b.port, &v3, &connack(false, 3));
    c.expect_closed(WAIT);
}

/// A protocol level we do not speak gets the 3.1.1 CONNACK 0x01: the
/// client may understand no other format [MQTT-3.1.2-2].
#[test]
fn mqtt_3_1_2_2_unknown_protocol_level_gets_a_3_1_1_connack() {
    let b = Broker::start("");
    let c = Connect::v5("six").protocol(b"MQTT", 6);
    let mut c = connect_with(b.port, &c, &connack(false, 1));
    c.expect_closed(WAIT);
}

/// A level 5 CONNECT that breaks a rule gets a CONNACK with the reason
/// code, in MQTT 5 format: a property twice is a protocol error (0x82), a
/// property block that runs past the packet is malformed (0x81).
#[test]
fn mqtt_3_1_4_1_bad_v5_connect_gets_connack_0x81_or_0x82() {
    let b = Broker::start("");
    let dup = Props::new()
        .u32(prop::SESSION_EXPIRY_INTERVAL, 1)
        .u32(prop::SESSION_EXPIRY_INTERVAL, 2);
    let (mut c, ack) = Client::connect_v5(b.port, &Connect::v5("dup").props(dup.build()));
    assert_eq!(ack.reason, 0x82, "{ack:?}");
    c.expect_closed(WAIT);
    // The block says 5 bytes; a u32 property needs 5 but gets 3.
    let short = Connect::v5("short").props(vec![5, prop::SESSION_EXPIRY_INTERVAL, 0, 0]);
    let (mut c, ack) = Client::connect_v5(b.port, &short);
    assert_eq!(ack.reason, 0x81, "{ack:?}");
    c.expect_closed(WAIT);
}

/// A CONNECT over `limits.max_packet_size` gets CONNACK 0x95.
#[test]
fn mqtt_3_2_2_2_oversized_connect_gets_0x95() {
    let b = Broker::start("[limits]\nmax_packet_size = 256");
    let c = Connect::v5("big").will("w/big", &[7u8; 1000], 0, false);
    let (mut c, ack) = Client::connect_v5(b.port, &c);
    assert_eq!(ack.reason, 0x95, "{ack:?}");
    c.expect_closed(WAIT);
}

/// User properties and Request Response Information are accepted; the
/// broker sends no Response Information (it may not, §3.1.2.11.7).
#[test]
fn mqtt_3_1_2_11_user_properties_and_response_information_request_accepted() {
    let b = Broker::start("");
    let props = Props::new()
        .user("region", "eu")
        .user("region", "us")
        .byte(prop::REQUEST_RESPONSE_INFORMATION, 1);
    let (mut c, ack) = connect5(b.port, &Connect::v5("props").props(props.build()));
    assert_eq!(ack.props.str(prop::RESPONSE_INFORMATION), None);
    c.send(&[0xc0, 0x00]);
    c.expect_packet(&[0xd0, 0x00]);
}
