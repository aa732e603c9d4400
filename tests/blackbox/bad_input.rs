//! Malformed or forbidden input: the broker closes the offending connection
//! (EOF or reset within a bound) and other clients, on both shards, are
//! undisturbed. Nothing of the bad packet is delivered.

use crate::common::*;

use std::thread;

/// Subscribers on "t" owned by shard 0 and shard 1, connected before the
/// bad client, plus a helper to check they still work.
pub(crate) struct Bystanders {
    subs: Vec<Client>,
}

impl Bystanders {
    pub(crate) fn new(b: &Broker) -> Bystanders {
        let subs = (0..SHARDS)
            .map(|s| {
                let mut c = b.connect(&id_on_shard("bystander", s), true);
                c.subscribe("t", 1);
                c
            })
            .collect();
        Bystanders { subs }
    }

    /// A fresh publisher's message on "t" is the NEXT thing every
    /// bystander receives (so nothing of the bad input got through).
    pub(crate) fn still_work(&mut self, b: &Broker) {
        for shard in 0..SHARDS {
            let mut p = b.connect(&id_on_shard("good-pub", shard), true);
            let payload = format!("still alive {shard}");
            p.publish("t", payload.as_bytes(), 1, false);
            for s in &mut self.subs {
                s.expect_msg("t", payload.as_bytes(), 1);
            }
        }
        for s in &mut self.subs {
            s.expect_no_packet(QUIET);
        }
    }
}

/// Connects (unless `bytes` is the CONNECT itself), sends `bytes`, expects
/// the broker to close the connection without answering, then checks the
/// bystanders.
fn closes(config: &str, after_connect: bool, bytes: &[u8]) {
    let b = Broker::start(config);
    let mut others = Bystanders::new(&b);
    let mut bad = if after_connect {
        b.connect("bad", true)
    } else {
        b.tcp("bad")
    };
    bad.send_lenient(bytes);
    bad.expect_closed(WAIT);
    others.still_work(&b);
}

fn closes_after_connect(bytes: &[u8]) {
    closes("", true, bytes)
}

fn closes_as_first_packet(bytes: &[u8]) {
    closes("", false, bytes)
}

/// Spec 2.2.3: the remaining length has at most 4 bytes.
#[test]
fn remaining_length_of_five_bytes() {
    closes_after_connect(&[0x30, 0xff, 0xff, 0xff, 0xff, 0x01]);
}

#[test]
fn remaining_length_of_five_bytes_before_connect() {
    closes_as_first_packet(&[0x10, 0x80, 0x80, 0x80, 0x80, 0x01]);
}

/// [MQTT-3.8.1-1] SUBSCRIBE fixed-header flags must be 0010.
#[test]
fn subscribe_with_flags_0() {
    let mut p = subscribe(1, &[("t", 0)]);
    p[0] = 0x80;
    closes_after_connect(&p);
}

/// [MQTT-3.10.1-1] UNSUBSCRIBE fixed-header flags must be 0010.
#[test]
fn unsubscribe_with_flags_0() {
    let mut p = unsubscribe(1, &["t"]);
    p[0] = 0xa0;
    closes_after_connect(&p);
}

/// [MQTT-2.2.2-2] PINGREQ with reserved flags set.
#[test]
fn pingreq_with_flags() {
    if skip_on_mosquitto("mosquitto 2.0 ignores PINGREQ flags") {
        return;
    }
    closes_after_connect(&[0xc1, 0x00]);
}

/// [MQTT-3.6.1-1] PUBREL fixed-header flags must be 0010.
#[test]
fn pubrel_with_flags_0() {
    closes_after_connect(&[0x60, 0x02, 0x00, 0x01]);
}

/// [MQTT-1.5.3-1] ill-formed UTF-8 in a PUBLISH topic.
#[test]
fn publish_topic_invalid_utf8() {
    closes_after_connect(&publish_raw(0x30, b"t\xff\xfe", None, b"x"));
}

/// [MQTT-1.5.3-1] UTF-16 surrogate (encoded) in a topic is ill-formed.
#[test]
fn publish_topic_encoded_surrogate() {
    closes_after_connect(&publish_raw(0x30, b"t/\xed\xa0\x80", None, b"x"));
}

/// [MQTT-1.5.3-2] U+0000 in a PUBLISH topic.
#[test]
fn publish_topic_with_nul() {
    closes_after_connect(&publish_raw(0x30, b"t\x00", None, b"x"));
}

/// [MQTT-1.5.3-2] U+0000 in a SUBSCRIBE filter.
#[test]
fn subscribe_filter_with_nul() {
    closes_after_connect(&subscribe(1, &[("t\0", 0)]));
}

/// [MQTT-3.3.2-2] wildcards are not allowed in a PUBLISH topic.
#[test]
fn publish_topic_with_plus_wildcard() {
    closes_after_connect(&publish("+", b"x", 0, false, 0));
}

#[test]
fn publish_topic_with_hash_wildcard() {
    closes_after_connect(&publish("t/#", b"x", 1, false, 1));
}

/// [MQTT-4.7.3-1] a topic must be at least one character long.
#[test]
fn publish_empty_topic() {
    closes_after_connect(&publish("", b"x", 0, false, 0));
}

/// [MQTT-3.3.1-4] QoS 3 PUBLISH.
#[test]
fn publish_qos3() {
    closes_after_connect(&publish_raw(0x36, b"t", Some(1), b"x"));
}

/// [MQTT-2.3.1-1] QoS 1 PUBLISH with packet id 0.
#[test]
fn publish_qos1_packet_id_0() {
    closes_after_connect(&publish("t", b"x", 1, false, 0));
}

/// [MQTT-2.3.1-1] SUBSCRIBE with packet id 0.
#[test]
fn subscribe_packet_id_0() {
    closes_after_connect(&subscribe(0, &[("t", 0)]));
}

/// A PUBLISH whose topic length runs past the end of the packet.
#[test]
fn publish_topic_length_overruns_packet() {
    closes_after_connect(&packet(0x30, &[0x00, 0x10, b't']));
}

/// A packet larger than `max_packet_size` (1024) closes the connection, and
/// it is not delivered.
#[test]
fn packet_larger_than_max_packet_size() {
    let big = publish("t", &[b'x'; 2000], 0, false, 0);
    closes("[limits]\nmax_packet_size = 1024", true, &big);
}

/// The limit counts the whole packet; one just under it still passes.
#[test]
fn packet_just_under_max_packet_size_passes() {
    let b = Broker::start("[limits]\nmax_packet_size = 1024");
    let mut sub = b.connect("sub", true);
    sub.subscribe("t", 0);
    let mut p = b.connect("pub", true);
    let payload = vec![b'y'; 900];
    p.publish("t", &payload, 0, false);
    sub.expect_msg("t", &payload, 0);
}

/// [MQTT-3.8.3-3] SUBSCRIBE with no topic filter.
#[test]
fn subscribe_without_filters() {
    closes_after_connect(&[0x82, 0x02, 0x00, 0x01]);
}

/// [MQTT-3.10.3-2] UNSUBSCRIBE with no topic filter.
#[test]
fn unsubscribe_without_filters() {
    closes_after_connect(&[0xa2, 0x02, 0x00, 0x01]);
}

/// [MQTT-4.7.1-2] `#` must be the last character of a filter.
#[test]
fn subscribe_filter_hash_not_last() {
    closes_after_connect(&subscribe(1, &[("a/#/b", 0)]));
}

/// [MQTT-4.7.1-3] `+` must occupy a whole level.
#[test]
fn subscribe_filter_plus_inside_level() {
    closes_after_connect(&subscribe(1, &[("a/b+", 0)]));
}

/// [MQTT-3.8.3-4] requested QoS 3.
#[test]
fn subscribe_requested_qos_3() {
    closes_after_connect(&subscribe(1, &[("t", 3)]));
}

/// [MQTT-3.1.2-3] CONNECT reserved flag (bit 0) set.
#[test]
fn connect_reserved_flag() {
    closes_as_first_packet(&Connect::new("bad").flags_or(0x01).build());
}

/// [MQTT-3.1.2-22] password flag without user name flag.
#[test]
fn connect_password_without_user_name() {
    let mut c = Connect::new("bad");
    c.password = Some(b"pw".to_vec());
    closes_as_first_packet(&c.build());
}

/// [MQTT-3.1.2-13] will QoS set without the will flag.
#[test]
fn connect_will_qos_without_will_flag() {
    closes_as_first_packet(&Connect::new("bad").flags_or(0x08).build());
}

/// [MQTT-3.1.2-14] will QoS 3.
#[test]
fn connect_will_qos_3() {
    closes_as_first_packet(&Connect::new("bad").will("w", b"x", 3, false).build());
}

/// [MQTT-3.1.2-15] will retain set without the will flag.
#[test]
fn connect_will_retain_without_will_flag() {
    closes_as_first_packet(&Connect::new("bad").flags_or(0x20).build());
}

/// [MQTT-3.1.2-1] wrong protocol name: the server may disconnect at once;
/// a CONNACK 1 (unacceptable protocol) first is tolerated.
#[test]
fn connect_wrong_protocol_name() {
    let b = Broker::start("");
    let mut others = Bystanders::new(&b);
    let mut bad = b.tcp("bad");
    bad.send(&Connect::new("bad").protocol(b"HTTP", 4).build());
    match bad.try_recv(WAIT) {
        Recv::Closed(_) => {}
        Recv::Packet(0x20, body) if body == [0x00, 0x01] => bad.expect_closed(WAIT),
        other => panic!("expected close (or CONNACK 1 then close), got {other:?}"),
    }
    others.still_work(&b);
}

/// A CONNECT whose client ID length runs past the packet end.
#[test]
fn connect_truncated_payload() {
    let mut full = Connect::new("truncated").build();
    full.truncate(full.len() - 4);
    full[1] -= 4;
    closes_as_first_packet(&full);
}

/// Server-to-client packet types sent by a client.
#[test]
fn client_sends_connack() {
    closes_after_connect(&[0x20, 0x02, 0x00, 0x00]);
}

#[test]
fn client_sends_suback() {
    if skip_on_mosquitto("mosquitto 2.0 ignores SUBACK/PINGRESP from clients") {
        return;
    }
    closes_after_connect(&[0x90, 0x03, 0x00, 0x01, 0x00]);
}

#[test]
fn client_sends_pingresp() {
    if skip_on_mosquitto("mosquitto 2.0 ignores SUBACK/PINGRESP from clients") {
        return;
    }
    closes_after_connect(&PINGRESP);
}

/// Packet type 0 and 15 are reserved.
#[test]
fn reserved_packet_types() {
    closes_after_connect(&[0xf0, 0x00]);
}

#[test]
fn garbage_as_first_packet() {
    closes_as_first_packet(b"\x00\x01\x02\x03GET / HTTP/1.1\r\n\r\n");
}

#[test]
fn http_request_as_first_packet() {
    closes_as_first_packet(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
}

/// 50 clients send garbage in parallel (some before, some after CONNECT);
/// all are closed and normal pub/sub still works on both shards.
#[test]
fn fifty_garbage_clients_in_parallel() {
    let b = Broker::start("");
    let mut others = Bystanders::new(&b);
    let port = b.port;
    let handles: Vec<_> = (0..50)
        .map(|i| {
            thread::spawn(move || {
                let id = format!("garbage-{i}");
                let mut c = if i % 2 == 0 {
                    connect_ok(port, &id, true)
                } else {
                    Client::tcp(port, &id)
                };
                // Pseudo-random bytes framed as one complete packet of the
                // reserved type 15 (so even a broker that reads whole
                // frames before validating must react).
                let mut junk: Vec<u8> = (0..64u32).map(|k| (k * 37 + i * 11) as u8).collect();
                junk[0] = 0xf0 | (i as u8 & 0x0f);
                junk[1] = 62;
                c.send_lenient(&junk);
                c.expect_closed(WAIT);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    others.still_work(&b);
}
