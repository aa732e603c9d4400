//! MQTT 5 PUBLISH through the broker: properties passed through, message
//! expiry (live, queued, retained), PUBACK/PUBREC reason codes, the payload
//! format check, and v5 ↔ 3.1.1 exchanges. Publisher and subscriber sit on
//! different shards wherever routing matters.

use crate::common::metrics::{broker_with_metrics, wait_for};
use crate::common::v5::{self, prop, Props};
use crate::common::*;
use std::thread::sleep;

/// A persistent v5 session (clean start 0, 300 s expiry).
fn persistent(id: &str) -> Connect {
    let props = Props::new().u32(prop::SESSION_EXPIRY_INTERVAL, 300);
    Connect::v5(id).clean(false).props(props.build())
}

fn none() -> Props {
    Props::new()
}

#[test]
fn mqtt_3_3_2_17_properties_pass_through_unchanged_and_in_order() {
    if skip_on_mosquitto("shardmq MQTT 5") {
        return;
    }
    let b = Broker::start("");
    let mut sub = b.connect_v5(&id_on_shard("sub", 1), &none());
    sub.subscribe_v5(&[("p/t", 1)], &none());
    let mut publ = b.connect_v5(&id_on_shard("pub", 0), &none());
    let props = Props::new()
        .byte(prop::PAYLOAD_FORMAT_INDICATOR, 1)
        .str(prop::CONTENT_TYPE, "text/plain")
        .str(prop::RESPONSE_TOPIC, "reply/here")
        .bin(prop::CORRELATION_DATA, &[0, 1, 2, 0xff])
        .user("k", "1")
        .user("a", "2")
        .user("k", "3");
    let ack = publ.publish_v5("p/t", b"hello", 1, false, &props).unwrap();
    assert_eq!(ack.reason, 0);
    let got = sub.expect_msg_v5("p/t", b"hello");
    let p = &got.props;
    assert_eq!(p.int(prop::PAYLOAD_FORMAT_INDICATOR), Some(1));
    assert_eq!(p.str(prop::CONTENT_TYPE).as_deref(), Some("text/plain"));
    assert_eq!(p.str(prop::RESPONSE_TOPIC).as_deref(), Some("reply/here"));
    assert_eq!(p.bin(prop::CORRELATION_DATA), Some(vec![0, 1, 2, 0xff]));
    let users: Vec<(String, String)> = [("k", "1"), ("a", "2"), ("k", "3")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(p.users(), users, "user properties in order [MQTT-3.3.2-18]");
    assert!(p.get(prop::MESSAGE_EXPIRY_INTERVAL).is_none());
    assert!(p.get(prop::TOPIC_ALIAS).is_none());
}

#[test]
fn v5_publisher_with_properties_reaches_a_311_subscriber_as_plain_311() {
    let b = Broker::start("");
    let mut sub = b.connect(&id_on_shard("old", 0), true);
    sub.subscribe("mix/a", 1);
    let mut publ = b.connect_v5(&id_on_shard("new", 1), &none());
    let props = Props::new()
        .u32(prop::MESSAGE_EXPIRY_INTERVAL, 60)
        .str(prop::CONTENT_TYPE, "x")
        .user("u", "v");
    publ.publish_v5("mix/a", b"data", 1, false, &props);
    let (first, body) = sub.recv_packet();
    let pid = u16::from_be_bytes([body[7], body[8]]);
    let mut want = vec![0x32, 0x0d, 0x00, 0x05];
    want.extend(b"mix/a");
    want.extend(pid.to_be_bytes());
    want.extend(b"data");
    assert_eq!(hex(&packet(first, &body)), hex(&want), "3.1.1 bytes only");
    sub.send(&puback(pid));
}

#[test]
fn v311_publisher_reaches_a_v5_subscriber_without_properties() {
    let b = Broker::start("");
    let mut sub = b.connect_v5(&id_on_shard("new", 0), &none());
    sub.subscribe_v5(&[("mix/b", 2)], &none());
    let mut publ = b.connect(&id_on_shard("old", 1), true);
    publ.publish("mix/b", b"plain", 2, false);
    let got = sub.expect_msg_v5("mix/b", b"plain");
    assert_eq!(got.qos(), 2);
    assert!(got.props.0.is_empty(), "no properties: {:?}", got.props);
}

#[test]
fn mqtt_3_3_4_3_every_matching_subscription_identifier_once() {
    let b = Broker::start("");
    let mut sub = b.connect_v5(&id_on_shard("ids", 1), &none());
    let with_id = |id| Props::new().varint(prop::SUBSCRIPTION_IDENTIFIER, id);
    sub.subscribe_v5(&[("id/+", 1)], &with_id(7));
    sub.subscribe_v5(&[("id/#", 0)], &with_id(300));
    sub.subscribe_v5(&[("id/x", 1)], &none());
    let mut publ = b.connect_v5(&id_on_shard("idp", 0), &none());
    publ.publish_v5("id/x", b"1", 1, false, &none());
    let got = sub.expect_msg_v5("id/x", b"1");
    assert_eq!(got.qos(), 1, "the highest granted QoS [MQTT-3.3.4-2]");
    let mut ids = got.props.all_ints(prop::SUBSCRIPTION_IDENTIFIER);
    ids.sort_unstable();
    assert_eq!(ids, [7, 300]);
    sub.expect_no_packet(QUIET);
}

#[test]
fn puback_0x10_when_no_subscriber_matches_on_any_shard() {
    if skip_on_mosquitto("mosquitto answers 0x10 as well, but not across shards") {
        return;
    }
    let b = Broker::start("");
    let mut publ = b.connect_v5(&id_on_shard("lonely", 0), &none());
    let ack = publ.publish_v5("nobody/here", b"x", 1, false, &none());
    assert_eq!(ack.unwrap().reason, 0x10);
    let rec = publ.publish_v5("nobody/here", b"x", 2, false, &none());
    assert_eq!(rec.unwrap().reason, 0x10, "PUBREC too; the flow completes");
    // A subscriber on the other shard: success.
    let mut sub = b.connect_v5(&id_on_shard("far", 1), &none());
    sub.subscribe_v5(&[("nobody/+", 0)], &none());
    let ack = publ.publish_v5("nobody/here", b"y", 1, false, &none());
    assert_eq!(ack.unwrap().reason, 0);
    sub.expect_msg_v5("nobody/here", b"y");
    // And a 3.1.1 publisher still gets its short PUBACK.
    let mut old = b.connect(&id_on_shard("old", 0), true);
    old.publish("none/at/all", b"z", 1, false);
}

#[test]
fn mqtt_3_3_2_4_payload_not_utf8_gets_0x99_and_goes_nowhere() {
    let b = Broker::start("");
    let mut sub = b.connect_v5(&id_on_shard("s", 1), &none());
    sub.subscribe_v5(&[("fmt/#", 2)], &none());
    let mut publ = b.connect_v5(&id_on_shard("p", 0), &none());
    let utf8 = Props::new().byte(prop::PAYLOAD_FORMAT_INDICATOR, 1);
    let bad = [0xc3, 0x28];
    let ack = publ.publish_v5("fmt/a", &bad, 1, false, &utf8).unwrap();
    assert_eq!(ack.reason, 0x99);
    assert!(ack.props.str(prop::REASON_STRING).is_some());
    let rec = publ.publish_v5("fmt/a", &bad, 2, false, &utf8).unwrap();
    assert_eq!(rec.reason, 0x99);
    // Bytes with indicator 0 are anyone's business; valid UTF-8 passes.
    publ.publish_v5("fmt/b", &bad, 1, false, &none());
    sub.expect_msg_v5("fmt/b", &bad);
    publ.publish_v5("fmt/c", "é".as_bytes(), 2, false, &utf8);
    sub.expect_msg_v5("fmt/c", "é".as_bytes());
    sub.expect_no_packet(QUIET);
}

#[test]
fn mqtt_3_1_2_29_no_reason_string_without_request_problem_information() {
    let b = Broker::start("");
    let quiet = Props::new().byte(prop::REQUEST_PROBLEM_INFORMATION, 0);
    let mut publ = b.connect_v5("quiet", &quiet);
    let utf8 = Props::new().byte(prop::PAYLOAD_FORMAT_INDICATOR, 1);
    let ack = publ.publish_v5("fmt/a", &[0xff], 1, false, &utf8).unwrap();
    assert_eq!(ack.reason, 0x99);
    assert!(ack.props.0.is_empty(), "{:?}", ack.props);
}

#[test]
fn qos0_payload_not_utf8_gets_disconnect_0x99() {
    let b = Broker::start("");
    let mut publ = b.connect_v5("q0", &none());
    let utf8 = Props::new().byte(prop::PAYLOAD_FORMAT_INDICATOR, 1);
    publ.send(&v5::publish("fmt/a", &[0xff, 0xfe], 0, false, 0, &utf8));
    publ.expect_disconnect_v5(0x99);
}

#[test]
fn mqtt_3_3_2_6_expiry_interval_forwarded_minus_the_time_queued() {
    let b = Broker::start("");
    let sid = id_on_shard("offline", 1);
    let mut sub = b.connect_v5_with(persistent(&sid));
    sub.subscribe_v5(&[("exp/#", 1)], &none());
    sub.send(&v5::disconnect(0, &none()));
    sub.expect_closed(WAIT);
    let mut publ = b.connect_v5(&id_on_shard("p", 0), &none());
    let expiry = |s| Props::new().u32(prop::MESSAGE_EXPIRY_INTERVAL, s);
    publ.publish_v5("exp/long", b"stays", 1, false, &expiry(30));
    publ.publish_v5("exp/short", b"goes", 1, false, &expiry(1));
    publ.publish_v5("exp/none", b"forever", 1, false, &none());
    sleep(ms(2100));
    let mut sub = b.connect_v5_with(persistent(&sid));
    let got = sub.expect_msg_v5("exp/long", b"stays");
    let left = got.props.int(prop::MESSAGE_EXPIRY_INTERVAL).unwrap();
    assert!((20..=28).contains(&left), "30 s minus ~2 s queued: {left}");
    // The expired one is gone [MQTT-3.3.2-5]; the next is the one without.
    let got = sub.expect_msg_v5("exp/none", b"forever");
    assert!(got.props.get(prop::MESSAGE_EXPIRY_INTERVAL).is_none());
    sub.expect_no_packet(QUIET);
}

#[test]
fn mqtt_3_3_2_5_expired_retained_message_is_not_sent_and_its_interval_counts_down() {
    let (b, addr) = broker_with_metrics("");
    let mut publ = b.connect_v5(&id_on_shard("p", 0), &none());
    let expiry = |s| Props::new().u32(prop::MESSAGE_EXPIRY_INTERVAL, s);
    publ.publish_v5("ret/short", b"old", 1, true, &expiry(1));
    publ.publish_v5("ret/long", b"kept", 1, true, &expiry(60));
    sleep(ms(2100));
    let mut sub = b.connect_v5(&id_on_shard("s", 1), &none());
    sub.subscribe_v5(&[("ret/#", 1)], &none());
    let got = sub.recv_publish_v5();
    assert_eq!((got.topic.as_str(), got.retain()), ("ret/long", true));
    let left = got.props.int(prop::MESSAGE_EXPIRY_INTERVAL).unwrap();
    assert!((50..=58).contains(&left), "60 s minus ~2 s stored: {left}");
    sub.ack_v5(&got);
    sub.expect_no_packet(QUIET);
    wait_for(&addr, "shardmq_messages_expired_total", 1.0);
}

#[test]
fn v5_and_311_clients_exchange_both_ways_across_shards() {
    let b = Broker::start("");
    let mut new = b.connect_v5(&id_on_shard("v5", 0), &none());
    let mut old = b.connect(&id_on_shard("v3", 1), true);
    new.subscribe_v5(&[("chat/v3", 1)], &none());
    old.subscribe("chat/v5", 1);
    let props = Props::new().user("from", "v5");
    new.publish_v5("chat/v5", b"hi old", 1, false, &props);
    old.expect_msg("chat/v5", b"hi old", 1);
    old.publish("chat/v3", b"hi new", 1, false);
    let got = new.expect_msg_v5("chat/v3", b"hi new");
    assert!(got.props.0.is_empty());
}

#[test]
fn mosquitto_v5_clients_exchange_with_311_clients() {
    require_tool(
        "mosquitto_pub",
        "--help",
        "apt-get install mosquitto-clients",
    );
    require_tool("stdbuf", "--version", "apt-get install coreutils");
    let b = Broker::start("");
    let port = b.port.to_string();
    let mut new = b.connect_v5(&id_on_shard("v5s", 1), &none());
    new.subscribe_v5(&[("mq/a", 1)], &none());
    let mut old = b.connect(&id_on_shard("v3s", 0), true);
    old.subscribe("mq/a", 1);
    let mut publ = std::process::Command::new("mosquitto_pub");
    publ.args(["-h", "127.0.0.1", "-p", &port, "-V", "mqttv5", "-q", "1"]);
    publ.args(["-t", "mq/a", "-m", "from v5"]);
    publ.args(["-D", "publish", "user-property", "k", "v"]);
    publ.args(["-D", "publish", "content-type", "text/x"]);
    run_ok(&mut publ, WAIT * 3);
    let got = new.expect_msg_v5("mq/a", b"from v5");
    assert_eq!(got.props.users(), [("k".to_string(), "v".to_string())]);
    assert_eq!(got.props.str(prop::CONTENT_TYPE).as_deref(), Some("text/x"));
    old.expect_msg("mq/a", b"from v5", 1);
    // The other way: mosquitto_sub speaking MQTT 5, a 3.1.1 publisher.
    let mut sub = std::process::Command::new("stdbuf");
    sub.args(["-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", &port]);
    sub.args(["-V", "mqttv5", "-d", "-v", "-q", "1", "-t", "mq/b"]);
    let mut sub = Proc::spawn(&mut sub);
    sub.expect_line("reporting the SUBACK", |l| l.contains("received SUBACK"));
    old.publish("mq/b", b"from v3", 1, false);
    sub.expect_line("with the message", |l| l == "mq/b from v3");
}
