//! MQTT 5 SUBSCRIBE and UNSUBSCRIBE end to end: SUBACK and UNSUBACK reason
//! codes, the subscription options (no local, retain as published, retain
//! handling) and subscription identifiers.

use crate::common::v5::{self, prop, sub_opts, Props};
use crate::common::*;

fn none() -> Props {
    Props::new()
}

#[test]
fn mqtt_3_9_3_suback_grants_each_requested_qos() {
    let b = Broker::start("");
    let mut c = b.connect_v5("granted", &none());
    let ack = c.subscribe_v5(&[("a", 0), ("b", 1), ("c", 2)], &none());
    assert_eq!(ack.codes, [0, 1, 2]);
}

#[test]
fn suback_0x97_beyond_the_subscription_limit() {
    let b = Broker::start("[limits]\nmax_subscriptions_per_session = 1");
    let mut c = b.connect_v5("limited", &none());
    let ack = c.subscribe_v5(&[("a", 1), ("b", 1), ("a", 2)], &none());
    assert_eq!(ack.codes, [1, 0x97, 2], "replacing is not adding");
}

#[test]
fn mqtt_3_11_3_unsuback_0x11_when_no_subscription_existed() {
    let b = Broker::start("");
    let mut c = b.connect_v5("unsub", &none());
    c.subscribe_v5(&[("x/+", 1)], &none());
    let pid = c.pid();
    c.send(&v5::unsubscribe(pid, &["x/+", "y", "x/+"], &none()));
    let (first, body) = c.recv_packet();
    let ack = v5::parse_suback(first, &body);
    assert_eq!((first, ack.pid), (0xb0, pid));
    assert_eq!(ack.codes, [0x00, 0x11, 0x11]);
}

#[test]
fn mqtt_3_8_3_3_no_local_skips_only_the_subscribers_own_messages() {
    let b = Broker::start("");
    let mut me = b.connect_v5(&id_on_shard("me", 0), &none());
    me.subscribe_v5(&[("nl/t", sub_opts(1, true, false, 0))], &none());
    let mut other = b.connect_v5(&id_on_shard("other", 1), &none());
    me.publish_v5("nl/t", b"mine", 1, false, &none());
    other.publish_v5("nl/t", b"theirs", 1, false, &none());
    me.expect_msg_v5("nl/t", b"theirs");
    me.expect_no_packet(QUIET);
}

#[test]
fn mqtt_3_3_1_12_retain_as_published() {
    let b = Broker::start("");
    let mut keep = b.connect_v5(&id_on_shard("rap", 1), &none());
    keep.subscribe_v5(&[("rap/t", sub_opts(1, false, true, 2))], &none());
    let mut clear = b.connect_v5(&id_on_shard("plain", 1), &none());
    clear.subscribe_v5(&[("rap/t", sub_opts(1, false, false, 2))], &none());
    let mut publ = b.connect_v5(&id_on_shard("p", 0), &none());
    publ.publish_v5("rap/t", b"r", 1, true, &none());
    assert!(keep.expect_msg_v5("rap/t", b"r").retain(), "as published");
    assert!(
        !clear.expect_msg_v5("rap/t", b"r").retain(),
        "[MQTT-3.3.1-9]"
    );
}

#[test]
fn mqtt_3_3_1_9_to_11_retain_handling_0_1_2() {
    let b = Broker::start("");
    let mut publ = b.connect_v5(&id_on_shard("p", 0), &none());
    publ.publish_v5("rh/t", b"kept", 1, true, &none());
    let mut c = b.connect_v5(&id_on_shard("s", 1), &none());
    // 0: on every SUBSCRIBE [MQTT-3.3.1-9].
    for _ in 0..2 {
        c.subscribe_v5(&[("rh/t", sub_opts(1, false, false, 0))], &none());
        assert!(c.expect_msg_v5("rh/t", b"kept").retain());
    }
    // 1: only when the subscription is new [MQTT-3.3.1-10].
    c.subscribe_v5(&[("rh/+", sub_opts(1, false, false, 1))], &none());
    assert!(c.expect_msg_v5("rh/t", b"kept").retain());
    c.subscribe_v5(&[("rh/+", sub_opts(1, false, false, 1))], &none());
    c.expect_no_packet(QUIET);
    // 2: never [MQTT-3.3.1-11].
    c.subscribe_v5(&[("rh/#", sub_opts(1, false, false, 2))], &none());
    c.expect_no_packet(QUIET);
}

#[test]
fn mqtt_3_8_2_1_subscription_identifier_on_retained_messages_too() {
    let b = Broker::start("");
    let mut publ = b.connect_v5(&id_on_shard("p", 1), &none());
    publ.publish_v5("sid/t", b"r", 0, true, &none());
    let mut c = b.connect_v5(&id_on_shard("s", 0), &none());
    let id = Props::new().varint(prop::SUBSCRIPTION_IDENTIFIER, 42);
    c.subscribe_v5(&[("sid/#", 1)], &id);
    let got = c.recv_publish_v5();
    assert_eq!((got.topic.as_str(), got.retain()), ("sid/t", true));
    assert_eq!(got.props.all_ints(prop::SUBSCRIPTION_IDENTIFIER), [42]);
}

#[test]
fn subscription_identifier_0_is_a_protocol_error() {
    let b = Broker::start("");
    let mut c = b.connect_v5("zero-id", &none());
    let id = Props::new().varint(prop::SUBSCRIPTION_IDENTIFIER, 0);
    c.send(&v5::subscribe(1, &[("z", 1)], &id));
    match c.try_recv(WAIT) {
        Recv::Packet(0xe0, body) => {
            let d = v5::parse_reasoned(0xe0, &body);
            assert!(matches!(d.reason, 0x81 | 0x82), "DISCONNECT {d:?}");
            c.expect_closed(WAIT);
        }
        Recv::Closed(_) => {} // closed without a DISCONNECT
        Recv::Packet(first, body) => panic!("expected a close, got {}", hex(&packet(first, &body))),
        Recv::Timeout => panic!("neither closed nor answered"),
    }
}
