//! MQTT 5 topic aliases (§3.3.2.3.4): the ones a client sets towards the
//! broker (checked, resolved, never forwarded) and the ones the broker
//! assigns towards clients that allow them.

use crate::common::metrics::{broker_with_metrics, wait_for};
use crate::common::v5::{self, prop, Props};
use crate::common::*;

fn none() -> Props {
    Props::new()
}

fn alias(a: u16) -> Props {
    Props::new().u16(prop::TOPIC_ALIAS, a)
}

/// A v5 client allowing `n` topic aliases from the broker.
fn allowing(b: &Broker, id: &str, n: u16) -> Client {
    b.connect_v5(id, &Props::new().u16(prop::TOPIC_ALIAS_MAXIMUM, n))
}

#[test]
fn mqtt_3_3_2_12_inbound_alias_is_resolved_and_not_forwarded() {
    let b = Broker::start("");
    let mut sub = b.connect_v5(&id_on_shard("s", 1), &none());
    sub.subscribe_v5(&[("al/#", 1)], &none());
    let mut old = b.connect(&id_on_shard("old", 1), true);
    old.subscribe("al/#", 0);
    let mut publ = b.connect_v5(&id_on_shard("p", 0), &none());
    publ.publish_v5("al/one", b"1", 1, false, &alias(3));
    publ.publish_v5("", b"2", 1, false, &alias(3));
    publ.publish_v5("al/two", b"3", 0, false, &alias(3)); // re-mapped
    publ.publish_v5("", b"4", 1, false, &alias(3));
    for (topic, payload) in [
        ("al/one", b"1"),
        ("al/one", b"2"),
        ("al/two", b"3"),
        ("al/two", b"4"),
    ] {
        let got = sub.expect_msg_v5(topic, payload);
        assert!(
            got.props.0.is_empty(),
            "alias not forwarded [MQTT-3.3.2-7]: {:?}",
            got.props
        );
        old.expect_publish(topic, payload, 0);
    }
}

#[test]
fn mqtt_3_3_2_8_topic_alias_0_gets_disconnect_0x94() {
    let (b, addr) = broker_with_metrics("");
    let mut publ = b.connect_v5("zero", &none());
    let mut bystander = b.connect(&id_on_shard("by", 1), true);
    publ.send(&v5::publish("al/x", b"x", 0, false, 0, &alias(0)));
    publ.expect_disconnect_v5(0x94);
    wait_for(&addr, "shardmq_topic_alias_errors_total", 1.0);
    bystander.ping();
}

#[test]
fn mqtt_3_3_2_9_topic_alias_above_the_maximum_gets_disconnect_0x94() {
    let b = Broker::start("[limits]\ntopic_alias_maximum = 4");
    let mut publ = b.connect_v5("high", &none());
    publ.publish_v5("al/x", b"x", 1, false, &alias(4));
    publ.send(&v5::publish("al/x", b"x", 1, false, 9, &alias(5)));
    publ.expect_disconnect_v5(0x94);
}

#[test]
fn empty_topic_with_an_unknown_alias_gets_disconnect_0x82() {
    let b = Broker::start("");
    let mut publ = b.connect_v5("unknown", &none());
    publ.publish_v5("al/x", b"x", 1, false, &alias(1));
    publ.send(&v5::publish("", b"x", 1, false, 7, &alias(2)));
    publ.expect_disconnect_v5(0x82);
}

#[test]
fn mqtt_3_3_2_7_inbound_aliases_do_not_outlive_the_connection() {
    let b = Broker::start("");
    let id = id_on_shard("again", 0);
    let mut publ = b.connect_v5(&id, &none());
    publ.publish_v5("al/x", b"x", 1, false, &alias(1));
    publ.send(&v5::disconnect(0, &none()));
    publ.expect_closed(WAIT);
    let mut publ = b.connect_v5(&id, &none());
    publ.send(&v5::publish("", b"x", 1, false, 5, &alias(1)));
    publ.expect_disconnect_v5(0x82);
}

#[test]
fn inbound_and_outbound_aliases_survive_parking() {
    let (b, addr) = broker_with_metrics("[tuning]\npark_after = 0.05");
    let mut sub = allowing(&b, &id_on_shard("s", 0), 5);
    sub.subscribe_v5(&[("park/#", 1)], &none());
    let mut publ = b.connect_v5(&id_on_shard("p", 1), &none());
    publ.publish_v5("park/a", b"1", 1, false, &alias(2));
    let got = sub.expect_msg_v5("park/a", b"1");
    let a = got.props.int(prop::TOPIC_ALIAS).expect("an alias assigned");
    // Both park (the wheel looks every second).
    wait_for(&addr, "shardmq_connections_parked", 2.0);
    publ.publish_v5("", b"2", 1, false, &alias(2));
    let got = sub.expect_msg_v5("", b"2");
    assert_eq!(got.props.int(prop::TOPIC_ALIAS), Some(a));
}

#[test]
fn mqtt_3_3_2_11_outbound_aliases_up_to_the_clients_maximum() {
    let b = Broker::start("");
    let mut sub = allowing(&b, &id_on_shard("s", 1), 2);
    sub.subscribe_v5(&[("out/+", 0)], &none());
    let mut publ = b.connect_v5(&id_on_shard("p", 0), &none());
    for t in ["out/a", "out/b", "out/c", "out/a", "out/b", "out/c"] {
        publ.publish_v5(t, t.as_bytes(), 1, false, &none());
    }
    let mut seen = std::collections::HashMap::new();
    for (i, t) in ["out/a", "out/b", "out/c", "out/a", "out/b", "out/c"]
        .iter()
        .enumerate()
    {
        let got = sub.recv_publish_v5();
        assert_eq!(got.payload, t.as_bytes());
        let a = got.props.int(prop::TOPIC_ALIAS);
        match (i < 3, *t == "out/c") {
            (_, true) => assert_eq!((got.topic.as_str(), a), (*t, None), "no alias left"),
            (true, false) => {
                let a = a.expect("first use: topic and alias");
                assert!((1..=2).contains(&a), "within the client's maximum: {a}");
                assert_eq!(got.topic, *t);
                assert!(seen.insert(a, *t).is_none(), "aliases are distinct");
            }
            (false, false) => {
                assert_eq!(got.topic, "", "later: the alias alone");
                assert_eq!(a.and_then(|a| seen.get(&a).copied()), Some(*t));
            }
        }
    }
}

#[test]
fn outbound_aliases_can_be_turned_off_and_are_per_connection() {
    let b = Broker::start("[limits]\noutbound_topic_aliases = false");
    let mut sub = allowing(&b, "off", 10);
    sub.subscribe_v5(&[("o/t", 0)], &none());
    for _ in 0..2 {
        sub.publish_v5("o/t", b"x", 0, false, &none());
        let got = sub.recv_publish_v5();
        assert_eq!(
            (got.topic.as_str(), got.props.int(prop::TOPIC_ALIAS)),
            ("o/t", None)
        );
    }
    let b = Broker::start("");
    for _ in 0..2 {
        // A new connection starts with no aliases [MQTT-3.3.2-7].
        let mut sub = allowing(&b, "on", 10);
        sub.subscribe_v5(&[("o/t", 0)], &none());
        sub.publish_v5("o/t", b"x", 0, false, &none());
        let got = sub.recv_publish_v5();
        assert_eq!(got.topic, "o/t");
        assert!(got.props.int(prop::TOPIC_ALIAS).is_some());
        sub.send(&v5::disconnect(0, &none()));
        sub.expect_closed(WAIT);
    }
}
