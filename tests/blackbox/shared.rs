//! Shared subscriptions `$share/GROUP/FILTER` (MQTT 5 §4.8.2, also taken
//! from 3.1.1 clients): each message goes to exactly one member of each
//! group, members on both shards.

use crate::common::metrics::{broker_with_metrics, wait_for};
use crate::common::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// A member: connected, subscribed, named after its shard.
fn member(b: &Broker, name: &str, shard: usize, filter: &str, qos: u8) -> Client {
    let mut c = b.connect(&id_on_shard(name, shard), true);
    c.subscribe(filter, qos);
    c
}

/// QoS 1 publishes in windows of 100 (then their PUBACKs): fast, bounded.
fn publish_burst(c: &mut Client, topic: &str, payloads: &[String]) {
    for chunk in payloads.chunks(100) {
        let pids: Vec<u16> = chunk
            .iter()
            .map(|p| {
                let pid = c.pid();
                c.send(&publish(topic, p.as_bytes(), 1, false, pid));
                pid
            })
            .collect();
        for pid in pids {
            c.expect_packet(&puback(pid));
        }
    }
}

/// Reads and acknowledges PUBLISHes until `done` is set and nothing came
/// for 300 ms (or 30 s in all); returns the payloads.
fn drain(mut c: Client, done: Arc<AtomicBool>) -> thread::JoinHandle<Vec<String>> {
    thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut got = Vec::new();
        while Instant::now() < deadline {
            match c.try_recv(ms(300)) {
                Recv::Packet(first, body) => {
                    let p = Publish::parse(first, &body);
                    assert!(!p.dup() && !p.retain(), "[{}] {p:?}", c.name);
                    c.ack(&p);
                    got.push(p.payload_str());
                }
                Recv::Timeout if done.load(Ordering::SeqCst) => break,
                Recv::Timeout => {}
                Recv::Closed(how) => panic!("[{}] closed: {how}", c.name),
            }
        }
        got
    })
}

/// Collects `n` PUBLISHes (acknowledged) from one client.
fn take(c: &mut Client, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            let p = c.recv_publish();
            c.ack(&p);
            p.payload_str()
        })
        .collect()
}

fn payloads(tag: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{tag}-{i}")).collect()
}

/// Every payload exactly once over a group's members.
fn assert_exactly_once(group: &str, per_member: &[Vec<String>], sent: &[String]) {
    let mut seen = HashMap::new();
    for p in per_member.iter().flatten() {
        *seen.entry(p.as_str()).or_insert(0) += 1;
    }
    let dup: Vec<_> = seen.iter().filter(|(_, &n)| n > 1).take(5).collect();
    assert!(dup.is_empty(), "group {group}: duplicated {dup:?}");
    let lost: Vec<_> = sent
        .iter()
        .filter(|p| !seen.contains_key(p.as_str()))
        .take(5)
        .collect();
    assert!(lost.is_empty(), "group {group}: lost {lost:?}");
    assert_eq!(seen.len(), sent.len(), "group {group}: foreign payloads");
}

/// [MQTT-4.8.2]: 10,000 QoS 1 messages from publishers on both shards;
/// two groups with members on both shards: each message reaches exactly
/// one member of each group, none lost, none duplicated.
#[test]
fn mqtt_4_8_2_each_message_to_exactly_one_member_per_group() {
    // Publishers outrun acknowledging members: queues hold the burst (the
    // default 1,000 would drop, counted, which is not what this checks).
    let b = Broker::start("[limits]\nmax_queued_messages = 20000\nmax_inflight = 100\n");
    let done = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for g in ["A", "B"] {
        for shard in 0..SHARDS {
            let c = member(&b, &format!("m{g}"), shard, &format!("$share/{g}/eo/+"), 1);
            readers.push((g, drain(c, done.clone())));
        }
    }
    let sent: Vec<Vec<String>> = (0..SHARDS)
        .map(|s| payloads(&format!("p{s}"), 5_000))
        .collect();
    let pubs: Vec<_> = sent
        .iter()
        .enumerate()
        .map(|(s, p)| {
            let mut c = b.connect(&id_on_shard("eopub", s), true);
            let p = p.clone();
            thread::spawn(move || publish_burst(&mut c, &format!("eo/{s}"), &p))
        })
        .collect();
    pubs.into_iter().for_each(|t| t.join().unwrap());
    done.store(true, Ordering::SeqCst);
    let all: Vec<String> = sent.concat();
    let mut by_group: HashMap<&str, Vec<Vec<String>>> = HashMap::new();
    for (g, r) in readers {
        by_group.entry(g).or_default().push(r.join().unwrap());
    }
    for (g, members) in &by_group {
        assert_exactly_once(g, members, &all);
        for m in members {
            assert!(m.len() > 1_000, "group {g}: a member got only {}", m.len());
        }
    }
}

/// Round robin (the default): one publisher's messages are spread evenly
/// over four members on two shards.
#[test]
fn shared_round_robin_spreads_over_members() {
    let b = Broker::start("");
    let mut ms_: Vec<Client> = (0..4)
        .map(|i| member(&b, &format!("rr{i}"), i % SHARDS, "$share/rr/rr", 0))
        .collect();
    let mut p = b.connect(&id_on_shard("rrpub", 0), true);
    for i in 0..400 {
        p.publish("rr", format!("{i}").as_bytes(), 0, false);
    }
    p.ping(); // the broker has routed all 400
    for m in &mut ms_ {
        let got = take(m, 100);
        assert_eq!(got.len(), 100);
        m.expect_no_packet(ms(100));
    }
}

/// Sticky: every message of one publisher goes to one member, and each
/// message to exactly one member.
#[test]
fn shared_sticky_keeps_a_publisher_on_one_member() {
    if skip_on_mosquitto("shardmq's shared_subscription_strategy") {
        return;
    }
    let b = Broker::start("[limits]\nshared_subscription_strategy = \"sticky\"\n");
    let mut members: Vec<Client> = (0..4)
        .map(|i| member(&b, &format!("st{i}"), i % SHARDS, "$share/st/st/#", 1))
        .collect();
    let mut owners: HashMap<String, usize> = HashMap::new();
    for (n, shard) in [0, 1, 0, 1, 1].into_iter().enumerate() {
        let mut p = b.connect(&id_on_shard(&format!("stpub{n}"), shard), true);
        publish_burst(&mut p, "st/x", &payloads(&format!("pub{n}"), 30));
        p.ping();
        let mut received = 0;
        for (i, m) in members.iter_mut().enumerate() {
            if let Recv::Packet(first, body) = m.try_recv(ms(100)) {
                let mut got = vec![Publish::parse(first, &body)];
                m.ack(&got[0]);
                got.extend((1..30).map(|_| {
                    let p = m.recv_publish();
                    m.ack(&p);
                    p
                }));
                assert!(got
                    .iter()
                    .all(|p| p.payload_str().starts_with(&format!("pub{n}-"))));
                owners.insert(format!("pub{n}"), i);
                received += 1;
            }
        }
        assert_eq!(received, 1, "publisher {n}: all to one member");
        for m in &mut members {
            m.expect_no_packet(ms(50));
        }
    }
    assert_eq!(owners.len(), 5);
}

/// [MQTT-4.8.2] retained messages are not sent when a shared subscription
/// is established; live messages still reach the member (RETAIN 0).
#[test]
fn mqtt_4_8_2_no_retained_messages_on_a_shared_subscribe() {
    let b = Broker::start("");
    let mut p = b.connect(&id_on_shard("rpub", 0), true);
    p.publish("ret/a", b"kept", 1, true);
    let mut plain = member(&b, "rplain", 1, "ret/#", 1);
    let got = plain.recv_publish();
    assert!(got.retain(), "the retained message exists: {got:?}");
    plain.ack(&got);
    for shard in 0..SHARDS {
        let mut m = member(&b, &format!("rshared{shard}"), shard, "$share/r/ret/#", 1);
        m.expect_no_packet(QUIET);
        p.publish("ret/a", b"live", 1, true);
        m.expect_msg("ret/a", b"live", 1);
        plain.expect_msg("ret/a", b"live", 1);
        m.disconnect();
    }
}

/// A session with a shared and a non-shared subscription matching one
/// topic gets both deliveries: they are different subscriptions.
#[test]
fn shared_and_plain_subscription_of_one_session_both_deliver() {
    let b = Broker::start("");
    let mut c = b.connect(&id_on_shard("both", 1), true);
    let codes = c.subscribe_many(&[("both/+", 1), ("$share/g/both/+", 1)]);
    assert_eq!(codes, [1, 1]);
    let mut p = b.connect(&id_on_shard("bothpub", 0), true);
    p.publish("both/x", b"1", 1, false);
    let got = take(&mut c, 2);
    assert_eq!(got, ["1", "1"]);
    c.expect_no_packet(QUIET);
}

/// UNSUBSCRIBE `$share/G/F` ends the membership: the other member gets
/// every later message.
#[test]
fn shared_unsubscribe_removes_the_membership() {
    let b = Broker::start("");
    let mut stay = member(&b, "ustay", 0, "$share/u/u", 1);
    let mut leave = member(&b, "uleave", 1, "$share/u/u", 1);
    leave.unsubscribe("$share/u/u");
    let mut p = b.connect(&id_on_shard("upub", 1), true);
    let sent = payloads("u", 40);
    publish_burst(&mut p, "u", &sent);
    assert_eq!(
        take(&mut stay, 40),
        sent,
        "in order, all to the remaining member"
    );
    leave.expect_no_packet(QUIET);
}

/// A member whose (clean) session ends leaves its group: the remaining
/// members, on both shards, share every later message exactly once.
#[test]
fn shared_member_leaving_remaining_members_get_everything() {
    let b = Broker::start("");
    let mut rest = vec![
        member(&b, "lv0", 0, "$share/lv/lv", 1),
        member(&b, "lv1", 1, "$share/lv/lv", 1),
    ];
    let gone = member(&b, "lvgone", 1, "$share/lv/lv", 1);
    gone.disconnect();
    let mut p = b.connect(&id_on_shard("lvpub", 0), true);
    let sent = payloads("lv", 60);
    publish_burst(&mut p, "lv", &sent);
    p.ping();
    let mut got = Vec::new();
    for m in &mut rest {
        let mut mine = Vec::new();
        while let Recv::Packet(first, body) = m.try_recv(ms(300)) {
            let pb = Publish::parse(first, &body);
            m.ack(&pb);
            mine.push(pb.payload_str());
        }
        assert!(
            !mine.is_empty(),
            "[{}] a remaining member got nothing",
            m.name
        );
        got.push(mine);
    }
    assert_exactly_once("lv", &got, &sent);
}

/// [MQTT-4.8.2-1] [MQTT-4.8.2-2]: a ShareName is at least one character and
/// holds no `/`, `+` or `#`, and a filter follows: SUBACK 0x80 (3.1.1) for
/// each bad one, the good ones in the same SUBSCRIBE granted, and the
/// connection stays up.
#[test]
fn mqtt_4_8_2_1_invalid_share_names_refused() {
    if skip_on_mosquitto("mosquitto closes on some of these") {
        return;
    }
    let b = Broker::start("");
    let mut c = b.connect(&id_on_shard("bad", 0), true);
    let codes = c.subscribe_many(&[
        ("$share//a", 1),
        ("$share/+/a", 1),
        ("$share/g", 1),
        ("$share/ok/a", 1),
        ("$share/g/", 1),
    ]);
    // `$share/g/`: the filter after the share name is empty.
    assert_eq!(codes, [0x80, 0x80, 0x80, 1, 0x80]);
    c.ping();
}

/// Per-group delivery counters, and messages for a group left without
/// members counted as dropped.
#[test]
fn shared_deliveries_counted_per_group() {
    if skip_on_mosquitto("shardmq metrics") {
        return;
    }
    let (b, addr) = broker_with_metrics("");
    let mut m0 = member(&b, "met0", 0, "$share/metered/met", 1);
    let mut m1 = member(&b, "met1", 1, "$share/metered/met", 1);
    let mut p = b.connect(&id_on_shard("metpub", 1), true);
    publish_burst(&mut p, "met", &payloads("m", 10));
    let mut n = 0;
    for m in [&mut m0, &mut m1] {
        while let Recv::Packet(first, body) = m.try_recv(ms(300)) {
            m.ack(&Publish::parse(first, &body));
            n += 1;
        }
    }
    assert_eq!(n, 10);
    wait_for(
        &addr,
        "shardmq_shared_deliveries_total{group=\"metered\"}",
        10.0,
    );
}

/// A v5 member, subscribed with these options (see `v5::sub_opts`).
fn member_v5(b: &Broker, name: &str, shard: usize, filter: &str, opts: u8) -> Client {
    let id = id_on_shard(name, shard);
    let (mut c, ack) = Client::connect_v5(b.port, &Connect::v5(&id));
    assert_eq!(ack.reason, 0, "[{id}] CONNACK {ack:?}");
    let s = c.subscribe_v5(&[(filter, opts)], &v5::Props::new());
    assert_eq!(s.codes, [opts & 3], "[{id}] SUBACK {s:?}");
    c
}

/// MQTT 5 and 3.1.1 members in one group, on both shards: each message of a
/// v5 and of a 3.1.1 publisher reaches exactly one of them.
#[test]
fn mqtt_4_8_2_v5_and_v3_members_share_one_group() {
    let b = Broker::start("");
    let f = "$share/mixed/mx/#";
    let mut v5m = member_v5(&b, "mx5", 0, f, v5::sub_opts(1, false, false, 0));
    let mut v3m = member(&b, "mx3", 1, f, 1);
    let (mut p5, _) = Client::connect_v5(b.port, &Connect::v5(&id_on_shard("mxp5", 1)));
    let mut p3 = b.connect(&id_on_shard("mxp3", 0), true);
    for i in 0..20u16 {
        p5.send(&v5::publish(
            "mx/5",
            &format!("5-{i}").into_bytes(),
            1,
            false,
            i + 1,
            &v5::Props::new(),
        ));
        p5.recv_reasoned(0x40);
    }
    publish_burst(&mut p3, "mx/3", &payloads("3", 20));
    let mut got = Vec::new();
    while let Some((first, body)) = v5m.next_within(ms(300)) {
        let p = v5::parse_publish(first, &body);
        v5m.send(&puback(p.pid.unwrap()));
        got.push(String::from_utf8(p.payload).unwrap());
    }
    let n5 = got.len();
    while let Recv::Packet(first, body) = v3m.try_recv(ms(300)) {
        let p = Publish::parse(first, &body);
        v3m.ack(&p);
        got.push(p.payload_str());
    }
    assert!(
        n5 > 0 && got.len() > n5,
        "both members served: {n5} of {}",
        got.len()
    );
    let sent = [payloads("5", 20), payloads("3", 20)].concat();
    assert_exactly_once("mixed", &[got], &sent);
}

/// [MQTT-4.8.2-2] v5: a bad share name gets SUBACK 0x8F (Topic Filter
/// invalid), the good filter beside it is granted.
#[test]
fn mqtt_4_8_2_2_v5_invalid_share_name_suback_0x8f() {
    let b = Broker::start("");
    let (mut c, _) = Client::connect_v5(b.port, &Connect::v5(&id_on_shard("bad5", 1)));
    // (`$share/a+b/x` is no well-formed filter at all: malformed packet.)
    let filters = [("$share/+/x", 1), ("$share/ok/x", 1), ("$share//x", 0)];
    let s = c.subscribe_v5(&filters, &v5::Props::new());
    assert_eq!(s.codes, [0x8f, 1, 0x8f]);
    c.send(&PINGREQ);
    c.expect_packet(&PINGRESP);
}

/// [MQTT-3.8.3-4] No Local on a shared subscription is a protocol error:
/// the connection closes (DISCONNECT 0x82 first once server DISCONNECTs
/// carry reason codes); other clients carry on.
#[test]
fn mqtt_3_8_3_4_no_local_on_a_shared_subscription_is_a_protocol_error() {
    let b = Broker::start("");
    let mut other = member(&b, "nlother", 0, "$share/nl/nl", 1);
    let (mut c, _) = Client::connect_v5(b.port, &Connect::v5(&id_on_shard("nl", 1)));
    let pid = c.pid();
    let opts = v5::sub_opts(1, true, false, 0);
    c.send(&v5::subscribe(
        pid,
        &[("$share/nl/nl", opts)],
        &v5::Props::new(),
    ));
    match c.try_recv(WAIT) {
        Recv::Closed(_) => {}
        Recv::Packet(0xe0, body) => {
            assert_eq!(body.first(), Some(&0x82), "DISCONNECT reason");
            c.expect_closed(WAIT);
        }
        other => panic!("expected DISCONNECT 0x82 or a close, got {other:?}"),
    }
    let mut p = b.connect(&id_on_shard("nlpub", 1), true);
    p.publish("nl", b"still", 1, false);
    other.expect_msg("nl", b"still", 1);
}

/// [MQTT-4.8.2] A member whose (clean) session ends with QoS 1 messages
/// unacknowledged or queued: they go to another member of the group, so
/// none is lost (the persistent-session case keeps them instead).
#[test]
fn mqtt_4_8_2_unacked_messages_of_a_leaving_member_go_to_another() {
    if skip_on_mosquitto("shardmq redistributes; mosquitto drops them") {
        return;
    }
    let b = Broker::start("[limits]\nmax_inflight = 5\n");
    let mut stays = member(&b, "ostay", 0, "$share/o/o", 1);
    let mut leaves = member(&b, "oleave", 1, "$share/o/o", 1);
    let mut p = b.connect(&id_on_shard("opub", 0), true);
    let sent = payloads("o", 40);
    publish_burst(&mut p, "o", &sent);
    // The leaving member reads what it was sent (5 in flight, the rest
    // queued behind them) and acknowledges nothing.
    let mut unacked = Vec::new();
    while let Recv::Packet(first, body) = leaves.try_recv(ms(300)) {
        unacked.push(Publish::parse(first, &body).payload_str());
    }
    assert_eq!(unacked.len(), 5, "the in-flight window");
    leaves.close();
    let mut got = Vec::new();
    while let Recv::Packet(first, body) = stays.try_recv(ms(500)) {
        let pb = Publish::parse(first, &body);
        stays.ack(&pb);
        got.push(pb.payload_str());
    }
    assert_exactly_once("o", &[got], &sent);
}

/// A persistent member that goes offline stays a member and keeps what it
/// owed (sent again with DUP when it resumes); while it is offline the
/// online member gets every new message.
#[test]
fn shared_offline_persistent_member_keeps_its_messages() {
    if skip_on_mosquitto("shardmq prefers online members") {
        return;
    }
    let b = Broker::start("[limits]\nmax_inflight = 5\n");
    let pid = id_on_shard("kpers", 1);
    let mut pm = b.connect(&pid, false);
    pm.subscribe("$share/k/k", 1);
    let mut om = member(&b, "konline", 0, "$share/k/k", 1);
    let mut p = b.connect(&id_on_shard("kpub", 0), true);
    publish_burst(&mut p, "k", &payloads("a", 10));
    let owed = take(&mut om, 5);
    let unacked: Vec<Publish> = (0..5).map(|_| pm.recv_publish()).collect();
    pm.close();
    std::thread::sleep(ms(300)); // the broker sees the socket close
    let later = payloads("b", 10);
    publish_burst(&mut p, "k", &later);
    assert_eq!(take(&mut om, 10), later, "the online member gets them all");
    om.expect_no_packet(QUIET);
    let (mut back, present) = connect_sp(b.port, &pid, false);
    assert!(present);
    for u in &unacked {
        let again = back.recv_publish();
        assert!(again.dup(), "resent with DUP: {again:?}");
        assert_eq!(again.payload, u.payload);
        back.ack(&again);
    }
    back.expect_no_packet(QUIET);
    let mut all: Vec<String> = owed;
    all.extend(unacked.iter().map(|u| u.payload_str()));
    all.sort();
    let mut want = payloads("a", 10);
    want.sort();
    assert_eq!(all, want);
}

/// A message that only a shared subscription matches has a matching
/// subscriber: the v5 PUBACK is 0x00, not 0x10 (No matching subscribers).
#[test]
fn mqtt_3_4_2_1_shared_member_counts_as_a_matching_subscriber() {
    let b = Broker::start("");
    let mut m = member(&b, "pa", 1, "$share/pa/pa", 1);
    let (mut p, _) = Client::connect_v5(b.port, &Connect::v5(&id_on_shard("papub", 0)));
    p.send(&v5::publish("pa", b"x", 1, false, 1, &v5::Props::new()));
    assert_eq!(p.recv_reasoned(0x40).reason, 0x00);
    m.expect_msg("pa", b"x", 1);
    p.send(&v5::publish("nobody", b"x", 1, false, 2, &v5::Props::new()));
    assert_eq!(
        p.recv_reasoned(0x40).reason,
        0x10,
        "sanity: no subscriber at all"
    );
}
