//! Sessions: the session-present flag, persistent sessions (clean session
//! 0), offline queueing and its bounds, in-flight resend on reconnect.

use crate::common::*;

/// [MQTT-3.2.2-1..3] session present: clean 1 -> 0; first clean 0 -> 0;
/// reconnect clean 0 -> 1; after a clean-1 connection with that ID the next
/// clean 0 -> 0 (the clean session discarded the stored one).
#[test]
fn session_present_flag() {
    let b = Broker::start("");
    for shard in 0..SHARDS {
        let id = id_on_shard("sp", shard);
        let sp = |clean: bool, want: bool| {
            let c = connect_with(b.port, &Connect::new(&id).clean(clean), &connack(want, 0));
            c.disconnect();
        };
        sp(true, false);
        sp(false, false);
        sp(false, true);
        sp(false, true);
        sp(true, false);
        sp(false, false);
    }
}

/// Subscribe QoS 1 with clean 0, go offline, 5 QoS 1 messages are
/// published; on reconnect: session present 1 and all 5 arrive in order
/// without re-subscribing [MQTT-3.1.2-4/5].
#[test]
fn persistent_session_receives_queued_messages_in_order() {
    let b = Broker::start("");
    for (sub_shard, pub_shard) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        let id = id_on_shard(&format!("persist{pub_shard}"), sub_shard);
        let topic = format!("q/{sub_shard}{pub_shard}");
        let mut sub = b.connect(&id, false);
        sub.subscribe(&topic, 1);
        sub.disconnect();

        let mut p = b.connect(&id_on_shard("qpub", pub_shard), true);
        for i in 0..5 {
            p.publish(&topic, format!("m{i}").as_bytes(), 1, false);
        }

        let (mut sub, sp) = connect_sp(b.port, &id, false);
        assert!(sp, "session present must be 1 on reconnect");
        for i in 0..5 {
            let m = sub.recv_publish();
            assert_eq!(
                (m.topic.as_str(), m.payload_str(), m.qos()),
                (topic.as_str(), format!("m{i}"), 1)
            );
            sub.ack(&m);
        }
        sub.expect_no_packet(QUIET);
        // Live delivery continues on the resumed session.
        p.publish(&topic, b"live", 1, false);
        sub.expect_msg(&topic, b"live", 1);
        sub.disconnect();
    }
}

/// Only QoS 1/2 messages are queued for an offline session by default
/// (`queue_qos0 = false`): the QoS 0 one published while offline is lost.
#[test]
fn qos0_not_queued_while_offline() {
    let b = Broker::start("[limits]\nqueue_qos0 = false");
    let mut sub = b.connect("q0sub", false);
    sub.subscribe("q0", 1);
    sub.disconnect();
    let mut probe = probe(&b, "q0sub", "q0");
    let mut p = b.connect("q0pub", true);
    p.publish("q0", b"zero", 0, false);
    p.publish("q0", b"one", 1, false);
    probe.expect_msg("q0", b"zero", 0);
    probe.expect_msg("q0", b"one", 1);
    let (mut sub, sp) = connect_sp(b.port, "q0sub", false);
    assert!(sp);
    sub.expect_msg("q0", b"one", 1);
    sub.expect_no_packet(QUIET);
}

/// `queue_qos0 = true`: QoS 0 messages are queued for offline sessions too.
#[test]
fn qos0_queued_while_offline_when_enabled() {
    let b = Broker::start("[limits]\nqueue_qos0 = true");
    let mut sub = b.connect("q0sub", false);
    sub.subscribe("q0", 1);
    sub.disconnect();
    let mut p = b.connect("q0pub", true);
    p.publish("q0", b"zero", 0, false);
    p.publish("q0", b"one", 1, false);
    let (mut sub, sp) = connect_sp(b.port, "q0sub", false);
    assert!(sp);
    sub.expect_msg("q0", b"zero", 0);
    sub.expect_msg("q0", b"one", 1);
    sub.expect_no_packet(QUIET);
}

/// A subscriber to `topic` owned by the same shard as the session `id`.
/// Once it has received a message, that shard has routed it, also to the
/// offline session (so a message cannot arrive "late", after a reconnect,
/// and be delivered live instead of queued).
fn probe(b: &Broker, id: &str, topic: &str) -> Client {
    let shard = shardmq::shard::owner_shard(id.as_bytes(), SHARDS);
    let mut c = b.connect(&id_on_shard("probe", shard), true);
    c.subscribe(topic, 1);
    c
}

/// Publishes 20 QoS 1 messages to an offline session limited to 10 and
/// returns the payloads received on reconnect.
fn queue_20_into_10(config: &str) -> Vec<String> {
    let b = Broker::start(config);
    let id = id_on_shard("bounded", 0);
    let mut sub = b.connect(&id, false);
    sub.subscribe("bq", 1);
    sub.disconnect();
    let mut probe = probe(&b, &id, "bq");
    let mut p = b.connect(&id_on_shard("bpub", 1), true);
    for i in 0..20 {
        p.publish("bq", format!("{i}").as_bytes(), 1, false);
    }
    for i in 0..20 {
        probe.expect_msg("bq", format!("{i}").as_bytes(), 1);
    }
    let (mut sub, sp) = connect_sp(b.port, &id, false);
    assert!(sp);
    let mut got = Vec::new();
    while let Recv::Packet(first, body) = sub.try_recv(ms(500)) {
        let m = Publish::parse(first, &body);
        assert_eq!((m.topic.as_str(), m.qos()), ("bq", 1));
        sub.ack(&m);
        got.push(m.payload_str());
    }
    got
}

fn range(r: std::ops::Range<u32>) -> Vec<String> {
    r.map(|i| i.to_string()).collect()
}

/// `max_queued_messages = 10`, `queue_overflow = "drop_new"`: the first 10
/// are kept.
#[test]
fn offline_queue_bound_drop_new() {
    let got = queue_20_into_10("[limits]\nmax_queued_messages = 10\nqueue_overflow = \"drop_new\"");
    assert_eq!(got, range(0..10));
}

/// `queue_overflow = "drop_oldest"`: the last 10 are kept.
#[test]
fn offline_queue_bound_drop_oldest() {
    if skip_on_mosquitto("mosquitto can only drop new messages") {
        return;
    }
    let got =
        queue_20_into_10("[limits]\nmax_queued_messages = 10\nqueue_overflow = \"drop_oldest\"");
    assert_eq!(got, range(10..20));
}

/// A clean-session-1 client's subscriptions end with its connection.
#[test]
fn clean_session_subscriptions_do_not_survive() {
    let b = Broker::start("");
    let mut sub = b.connect("cs", true);
    sub.subscribe("cs/t", 1);
    sub.disconnect();
    let (mut sub, sp) = connect_sp(b.port, "cs", false);
    assert!(!sp);
    let mut p = b.connect("cspub", true);
    p.publish("cs/t", b"nobody", 1, false);
    // Marker: a topic the new session does subscribe to. It must be the
    // first thing to arrive.
    sub.subscribe("cs/marker", 1);
    p.publish("cs/marker", b"m", 1, false);
    sub.expect_msg("cs/marker", b"m", 1);
    sub.expect_no_packet(QUIET);
}

/// Connecting with clean 1 discards a stored session and its queue.
#[test]
fn clean_session_discards_stored_session() {
    let b = Broker::start("");
    let mut sub = b.connect("disc", false);
    sub.subscribe("d/t", 1);
    sub.disconnect();
    let mut p = b.connect("dpub", true);
    p.publish("d/t", b"queued", 1, false);
    b.connect("disc", true).disconnect();
    let (mut sub, sp) = connect_sp(b.port, "disc", false);
    assert!(
        !sp,
        "the clean-1 connection must have discarded the session"
    );
    sub.expect_no_packet(QUIET);
    p.publish("d/t", b"after", 1, false);
    sub.expect_no_packet(QUIET);
}

/// [MQTT-4.4.0-1] QoS 1 messages delivered but not acknowledged are resent
/// on reconnect with DUP set (`3a`) and the same packet ids.
#[test]
fn unacked_qos1_resent_with_dup_on_reconnect() {
    let b = Broker::start("");
    for shard in 0..SHARDS {
        let id = id_on_shard("noack", shard);
        let mut sub = b.connect(&id, false);
        sub.subscribe("r1", 1);
        let mut p = b.connect(&id_on_shard("r1pub", 1 - shard), true);
        for i in 0..3 {
            p.publish("r1", format!("m{i}").as_bytes(), 1, false);
        }
        let first: Vec<Publish> = (0..3)
            .map(|i| sub.expect_publish("r1", format!("m{i}").as_bytes(), 1))
            .collect();
        sub.disconnect();

        let (mut sub, sp) = connect_sp(b.port, &id, false);
        assert!(sp);
        for orig in &first {
            let again = sub.recv_publish();
            assert_eq!(
                again.first, 0x3a,
                "resend must be QoS 1 with DUP: {again:?}"
            );
            assert_eq!(
                (&again.topic, again.pid, &again.payload),
                (&orig.topic, orig.pid, &orig.payload)
            );
            sub.ack(&again);
        }
        sub.expect_no_packet(QUIET);
        sub.disconnect();
        // Acknowledged now: not sent a third time.
        let (mut sub, _) = connect_sp(b.port, &id, false);
        sub.expect_no_packet(QUIET);
        sub.unsubscribe("r1");
    }
}

/// [MQTT-4.4.0-1] QoS 2: PUBREC sent but no PUBCOMP -> on reconnect the
/// broker resends PUBREL (`62 02 ..`), not the PUBLISH.
#[test]
fn unfinished_qos2_resends_pubrel_on_reconnect() {
    let b = Broker::start("");
    let mut sub = b.connect("q2sub", false);
    sub.subscribe("r2", 2);
    let mut p = b.connect("q2pub", true);
    p.publish("r2", b"two", 2, false);
    let m = sub.expect_publish("r2", b"two", 2);
    let pid = m.pid.unwrap();
    sub.send(&pubrec(pid));
    sub.expect_packet(&pubrel(pid));
    sub.disconnect();

    let (mut sub, sp) = connect_sp(b.port, "q2sub", false);
    assert!(sp);
    sub.expect_packet(&pubrel(pid));
    sub.send(&pubcomp(pid));
    sub.expect_no_packet(QUIET);
    // The session is fully usable afterwards.
    p.publish("r2", b"next", 2, false);
    sub.expect_msg("r2", b"next", 2);
}

/// QoS 2 PUBLISH received but not PUBREC'd -> on reconnect the PUBLISH is
/// resent with DUP (`3c`) and the same packet id.
#[test]
fn unacked_qos2_publish_resent_with_dup() {
    let b = Broker::start("");
    let mut sub = b.connect("q2sub", false);
    sub.subscribe("r2", 2);
    let mut p = b.connect("q2pub", true);
    p.publish("r2", b"two", 2, false);
    let m = sub.expect_publish("r2", b"two", 2);
    sub.disconnect();
    let (mut sub, sp) = connect_sp(b.port, "q2sub", false);
    assert!(sp);
    let again = sub.recv_publish();
    assert_eq!(
        again.first, 0x3c,
        "resend must be QoS 2 with DUP: {again:?}"
    );
    assert_eq!((again.pid, again.payload.as_slice()), (m.pid, &b"two"[..]));
    sub.ack(&again);
    sub.expect_no_packet(QUIET);
}
