//! The list of MQTT 5 bad input, each case on its own broker: the
//! offending client gets the CONNACK or DISCONNECT reason code the spec
//! names, the broker counts it by that code, and clients on both shards
//! (3.1.1 and 5.0) go on undisturbed.

use crate::bad_input::Bystanders;
use crate::common::metrics::{broker_with_metrics, wait_for};
use crate::common::v5::{self, ack, auth, connect5, prop, Props};
use crate::common::*;

/// An MQTT 5 subscriber on "t" per shard, beside the 3.1.1 bystanders.
struct Witnesses {
    v3: Bystanders,
    v5: Vec<Client>,
}

impl Witnesses {
    fn new(b: &Broker) -> Witnesses {
        let v5 = (0..SHARDS)
            .map(|s| {
                let (mut c, _) = connect5(b.port, &Connect::v5(&id_on_shard("witness5", s)));
                let ack = c.subscribe_v5(&[("t", 1)], &Props::new());
                assert_eq!(ack.codes, [1]);
                c
            })
            .collect();
        Witnesses {
            v3: Bystanders::new(b),
            v5,
        }
    }

    /// Every bystander gets the next two messages and nothing else.
    fn still_work(&mut self, b: &Broker) {
        self.v3.still_work(b);
        for c in &mut self.v5 {
            for shard in 0..SHARDS {
                let p = c.recv_publish_v5();
                assert_eq!((p.topic.as_str(), p.qos()), ("t", 1));
                assert_eq!(p.payload, format!("still alive {shard}").as_bytes());
                c.send(&ack(0x40, p.pid.unwrap(), 0, &Props::new()));
            }
            c.expect_no_packet(QUIET);
        }
    }
}

/// A CONNECT with these properties is refused with `reason` (and `name`
/// counted); the bad client is on each shard in turn.
fn connack_refuses(props: Props, reason: u8, name: &str) {
    if skip_on_mosquitto("shardmq's reason-code counters") {
        return;
    }
    let series = format!("shardmq_connack_total{{reason=\"{name}\"}}");
    let (b, addr) = broker_with_metrics("");
    let mut others = Witnesses::new(&b);
    for shard in 0..SHARDS {
        let id = id_on_shard("bad", shard);
        let (mut bad, ack) = Client::connect_v5(b.port, &Connect::v5(&id).props(props.build()));
        assert_eq!(
            (ack.reason, ack.session_present),
            (reason, false),
            "{ack:?}"
        );
        bad.expect_closed(WAIT);
    }
    wait_for(&addr, &series, SHARDS as f64);
    others.still_work(&b);
}

/// A connected v5 client (on each shard in turn) sends `bytes` and gets
/// DISCONNECT `reason`, counted as `name`.
fn disconnects(config: &str, bytes: &[u8], reason: u8, name: &str) {
    if skip_on_mosquitto("shardmq's reason-code counters") {
        return;
    }
    let series = format!("shardmq_disconnect_total{{direction=\"sent\",reason=\"{name}\"}}");
    let (b, addr) = broker_with_metrics(config);
    let mut others = Witnesses::new(&b);
    for shard in 0..SHARDS {
        let (mut bad, _) = connect5(b.port, &Connect::v5(&id_on_shard("bad", shard)));
        bad.send_lenient(bytes);
        bad.expect_disconnect_v5(reason);
    }
    wait_for(&addr, &series, SHARDS as f64);
    others.still_work(&b);
}

fn publish_with(props: Props) -> Vec<u8> {
    v5::publish("t", b"bad", 1, false, 1, &props)
}

#[test]
fn mqtt_3_1_2_11_duplicate_connect_property_gets_connack_0x82() {
    let dup = Props::new()
        .u32(prop::SESSION_EXPIRY_INTERVAL, 1)
        .u32(prop::SESSION_EXPIRY_INTERVAL, 2);
    connack_refuses(dup, 0x82, "protocol_error");
}

#[test]
fn mqtt_3_1_2_11_will_delay_on_a_connect_without_will_gets_connack_0x81() {
    // Will Delay Interval belongs in the will properties: in the CONNECT's
    // own properties it is a property on the wrong packet (§2.2.2.2).
    connack_refuses(
        Props::new().u32(prop::WILL_DELAY_INTERVAL, 5),
        0x81,
        "malformed_packet",
    );
}

#[test]
fn mqtt_3_1_2_11_receive_maximum_0_gets_connack_0x82() {
    connack_refuses(
        Props::new().u16(prop::RECEIVE_MAXIMUM, 0),
        0x82,
        "protocol_error",
    );
}

#[test]
fn mqtt_4_12_0_1_unknown_authentication_method_gets_connack_0x8c() {
    let auth = Props::new().str(prop::AUTHENTICATION_METHOD, "SCRAM-SHA-512");
    connack_refuses(auth, 0x8c, "bad_authentication_method");
}

#[test]
fn mqtt_1_5_4_1_malformed_utf8_user_property_on_connect_gets_connack_0x81() {
    // A user property name with a lone continuation byte.
    let bad = Props::new().raw(&[prop::USER_PROPERTY, 0, 1, 0x80, 0, 1, b'v']);
    connack_refuses(bad, 0x81, "malformed_packet");
}

#[test]
fn mqtt_2_2_2_2_duplicate_publish_property_gets_disconnect_0x82() {
    let dup = Props::new()
        .byte(prop::PAYLOAD_FORMAT_INDICATOR, 0)
        .byte(prop::PAYLOAD_FORMAT_INDICATOR, 0);
    disconnects("", &publish_with(dup), 0x82, "protocol_error");
}

#[test]
fn mqtt_2_2_2_2_property_on_the_wrong_packet_gets_disconnect_0x81() {
    let wrong = Props::new().u32(prop::SESSION_EXPIRY_INTERVAL, 10);
    disconnects("", &publish_with(wrong), 0x81, "malformed_packet");
}

#[test]
fn mqtt_3_3_2_9_topic_alias_above_the_maximum_gets_disconnect_0x94() {
    let alias = Props::new().u16(prop::TOPIC_ALIAS, 11); // default maximum 10
    disconnects("", &publish_with(alias), 0x94, "topic_alias_invalid");
}

#[test]
fn mqtt_3_2_2_3_6_packet_over_the_maximum_gets_disconnect_0x95() {
    let big = v5::publish("t", &[b'x'; 2000], 0, false, 0, &Props::new());
    disconnects(
        "[limits]\nmax_packet_size = 1024\n",
        &big,
        0x95,
        "packet_too_large",
    );
}

#[test]
fn mqtt_4_12_0_auth_with_an_unknown_method_gets_disconnect_0x82() {
    // The CONNECT had no method, so no AUTH exchange may follow [MQTT-4.12.0-7].
    let auth_packet = auth(
        0x18,
        &Props::new().str(prop::AUTHENTICATION_METHOD, "SCRAM-SHA-1"),
    );
    disconnects("", &auth_packet, 0x82, "protocol_error");
}

#[test]
fn mqtt_1_5_4_1_malformed_utf8_user_property_on_publish_gets_disconnect_0x81() {
    let bad = Props::new().raw(&[prop::USER_PROPERTY, 0, 1, b'k', 0, 2, 0xC3, 0x28]);
    disconnects("", &publish_with(bad), 0x81, "malformed_packet");
}

#[test]
fn mqtt_3_8_2_1_subscription_identifier_0_gets_disconnect_0x82() {
    let sub = v5::subscribe(
        1,
        &[("t", 1)],
        &Props::new().varint(prop::SUBSCRIPTION_IDENTIFIER, 0),
    );
    disconnects("", &sub, 0x82, "protocol_error");
}

#[test]
fn mqtt_3_3_4_6_subscription_identifier_from_a_client_gets_disconnect_0x82() {
    let ids = Props::new().varint(prop::SUBSCRIPTION_IDENTIFIER, 7);
    disconnects("", &publish_with(ids), 0x82, "protocol_error");
}
