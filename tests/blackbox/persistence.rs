//! Durable sessions (issue 11): shardmq started with `--data-dir` and
//! `[persistence] fsync = "always"` keeps, across a SIGTERM or a SIGKILL
//! and a restart on the same data directory, every persistent session
//! (3.1.1 clean session 0, v5 clean start 0 with an expiry), its
//! subscriptions, queued and in-flight messages, inbound QoS 2 ids,
//! retained messages and delayed wills. With fsync "always", a PUBACK or
//! PUBREC means every record the PUBLISH caused is on disk, so a message
//! acknowledged to its publisher is never lost (no waiting, no probe).
//! Other files: `persistence_kill9.rs` (SIGKILL under load),
//! `persistence_reshard.rs` (other shard counts, parked connections,
//! takeover), `persistence_disk.rs` (corruption, read-only dir, full disk).

use crate::common::durable::*;
use crate::common::metrics::*;
use crate::common::v5::{connect5, connect_expiry, prop, Props};
use crate::common::*;
use crate::persistence_sess::{Msg, Pkt, Sess};
use std::time::{Duration, Instant};

fn sigterm(b: &mut Broker) {
    b.stop();
}

fn sigkill(b: &mut Broker) {
    b.kill9();
}

/// (topic, payload, qos) published while the sessions are offline:
/// alternating QoS 1 and QoS 2 topics, so that order is checked across both.
fn offline_batch(tag: &str) -> Vec<(&'static str, String, u8)> {
    (0..6)
        .map(|i| match i % 2 {
            0 => ("rs/one", format!("{tag}{i}"), 1),
            _ => ("rs/two", format!("{tag}{i}"), 2),
        })
        .collect()
}

/// Sessions of both versions on both shards, offline with QoS 1 and QoS 2
/// messages queued; the broker is stopped with `stop` and restarted.
/// Resumed: session present 1, the queue in publish order (DUP 0: never
/// sent before), QoS 2 once; new messages arrive without re-subscribing.
/// Once everything is acknowledged and made durable, another stop and
/// restart sends nothing again.
fn sessions_survive(stop: fn(&mut Broker)) {
    if skip_on_mosquitto("shardmq's --data-dir") {
        return;
    }
    let (mut b, _data) = durable("");
    let sync = Sync::new(&b);
    let sessions = Sess::both_on_every_shard("rs");
    for s in &sessions {
        let mut c = s.create(b.port);
        s.subscribe(&mut c, &[("rs/one", 1), ("rs/two", 2)]);
        s.leave(c);
    }
    let batch = offline_batch("m");
    let mut p = b.connect("rs-pub", true);
    for (topic, payload, qos) in &batch {
        p.publish(topic, payload.as_bytes(), *qos, false);
    }
    p.disconnect();

    stop(&mut b);
    b.restart();
    let mut clients: Vec<Client> = sessions.iter().map(|s| s.resume(b.port)).collect();
    for (s, c) in sessions.iter().zip(&mut clients) {
        for (topic, payload, qos) in &batch {
            s.expect(c, topic, payload, *qos);
        }
        s.quiet(c);
    }
    let mut p = b.connect("rs-pub", true);
    p.publish("rs/two", b"live2", 2, false);
    p.publish("rs/one", b"live1", 1, false);
    for (s, c) in sessions.iter().zip(&mut clients) {
        s.expect(c, "rs/two", "live2", 2);
        s.expect(c, "rs/one", "live1", 1);
        s.quiet(c);
    }
    for (s, c) in sessions.iter().zip(clients) {
        s.leave(c);
    }
    sync.sync(&b);

    stop(&mut b);
    b.restart();
    for s in &sessions {
        let mut c = s.resume(b.port);
        s.quiet(&mut c);
        s.leave(c);
    }
}

#[test]
fn sessions_and_queues_survive_sigterm() {
    sessions_survive(sigterm);
}

#[test]
fn sessions_and_queues_survive_sigkill() {
    sessions_survive(sigkill);
}

/// A session of a clean (non-persistent) client does not come back.
#[test]
fn clean_sessions_do_not_come_back() {
    if skip_on_mosquitto("shardmq's --data-dir") {
        return;
    }
    let (mut b, _data) = durable("");
    let mut c = b.connect("rs-clean", true);
    c.subscribe("rs/clean", 1);
    let (c5, _) = connect5(b.port, &connect_expiry("rs-clean5", true, Some(0)));
    let mut p = b.connect("rs-pub", true);
    p.publish("rs/clean", b"x", 1, false);
    c.expect_msg("rs/clean", b"x", 1);
    b.kill9();
    b.restart();
    let (_c, present) = connect_sp(b.port, "rs-clean", false);
    assert!(!present, "a clean session 1 session came back");
    drop(c5);
    let (_c5, ack) = connect5(b.port, &connect_expiry("rs-clean5", false, Some(60)));
    assert!(!ack.session_present, "an expiry-0 v5 session came back");
}

/// A subscriber got QoS 1 and QoS 2 PUBLISHes and acknowledged none but
/// one QoS 2 (PUBREC sent, PUBREL received, no PUBCOMP); the log is made
/// durable and the broker killed. Resumed: the PUBLISHes again, in order,
/// with DUP 1 and their packet ids, and PUBREL (not the PUBLISH) for the
/// PUBRECed one [MQTT-4.4.0-1].
#[test]
fn in_flight_messages_resent_with_dup_after_sigkill() {
    if skip_on_mosquitto("shardmq's --data-dir") {
        return;
    }
    let (mut b, _data) = durable("");
    let sync = Sync::new(&b);
    let sessions = Sess::both_on_every_shard("infl");
    let mut clients = Vec::new();
    for s in &sessions {
        let mut c = s.create(b.port);
        s.subscribe(&mut c, &[("if/one", 1), ("if/two", 2)]);
        clients.push(c);
    }
    let mut p = b.connect("if-pub", true);
    let sent = [
        ("if/one", "a0", 1),
        ("if/two", "b0", 2),
        ("if/one", "a1", 1),
        ("if/two", "b1", 2),
    ];
    for (topic, payload, qos) in sent {
        p.publish(topic, payload.as_bytes(), qos, false);
    }
    let mut firsts: Vec<Vec<Msg>> = Vec::new();
    for (s, c) in sessions.iter().zip(&mut clients) {
        let got: Vec<Msg> = sent.iter().map(|_| s.recv(c)).collect();
        for (m, (topic, payload, qos)) in got.iter().zip(sent) {
            assert_eq!(
                (m.topic.as_str(), m.text().as_str(), m.qos, m.dup),
                (topic, payload, qos, false)
            );
        }
        // b0 (QoS 2): PUBREC, and the broker answers PUBREL.
        let b0 = got[1].pid.unwrap();
        c.send(&pubrec(b0));
        match s.next(c, WAIT) {
            Pkt::Pubrel(pid) => assert_eq!(pid, b0, "[{}] PUBREL packet id", s.id),
            other => panic!("[{}] expected PUBREL {b0}, got {other:?}", s.id),
        }
        firsts.push(got);
    }
    sync.sync(&b);
    b.kill9();
    drop(clients);
    b.restart();

    let mut clients: Vec<Client> = sessions.iter().map(|s| s.resume(b.port)).collect();
    for ((s, first), c) in sessions.iter().zip(&firsts).zip(&mut clients) {
        let mut publishes = Vec::new();
        let mut pubrels = Vec::new();
        for _ in 0..4 {
            match s.next(c, WAIT) {
                Pkt::Publish(m) => publishes.push(m),
                Pkt::Pubrel(pid) => pubrels.push(pid),
            }
        }
        assert_eq!(
            pubrels,
            [first[1].pid.unwrap()],
            "[{}] PUBREL for the PUBRECed b0 only",
            s.id
        );
        let want: Vec<Msg> = [&first[0], &first[2], &first[3]]
            .iter()
            .map(|m| Msg {
                dup: true,
                ..(*m).clone()
            })
            .collect();
        assert_eq!(
            publishes, want,
            "[{}] resent in order, DUP 1, same packet ids",
            s.id
        );
        c.send(&pubcomp(first[1].pid.unwrap()));
        for m in &publishes {
            s.ack(c, m);
        }
        s.quiet(c);
    }
    // The sessions go on: a new message, once.
    let mut p = b.connect("if-pub", true);
    p.publish("if/two", b"after", 2, false);
    for (s, c) in sessions.iter().zip(&mut clients) {
        s.expect(c, "if/two", "after", 2);
        s.quiet(c);
    }
}

/// How the publisher finishes its QoS 2 flow after the restart.
#[derive(Clone, Copy, Debug)]
enum Finish {
    /// Re-sends the PUBLISH (DUP 1, same packet id), gets PUBREC again.
    ResendPublish,
    /// Goes straight on with PUBREL (it had the PUBREC).
    Pubrel,
}

/// Inbound QoS 2: the publisher got PUBREC, the broker is killed and
/// restarted; the publisher resumes (session present 1) and finishes the
/// flow: PUBCOMP, and the offline subscriber gets the message exactly once
/// [MQTT-4.3.3-10] [MQTT-4.4.0-1].
#[test]
fn inbound_qos2_exactly_once_across_sigkill() {
    if skip_on_mosquitto("shardmq's --data-dir") {
        return;
    }
    let (mut b, _data) = durable("");
    let mut cases = Vec::new();
    for shard in 0..SHARDS {
        for finish in [Finish::ResendPublish, Finish::Pubrel] {
            let topic = format!("in2/{shard}/{finish:?}");
            let sub = Sess::v3(&id_on_shard(&format!("in2sub-{finish:?}"), 1 - shard));
            let mut c = sub.create(b.port);
            sub.subscribe(&mut c, &[(&topic, 2)]);
            sub.leave(c);
            let publisher = id_on_shard(&format!("in2pub-{finish:?}"), shard);
            let mut p = b.connect(&publisher, false);
            p.send(&publish(&topic, b"once", 2, false, 7));
            p.expect_packet(&pubrec(7));
            cases.push((topic, sub, publisher, finish, p));
        }
    }
    b.kill9();
    b.restart();
    for (topic, sub, publisher, finish, old) in cases {
        drop(old);
        let (mut p, present) = connect_sp(b.port, &publisher, false);
        assert!(
            present,
            "[{publisher}] the publisher's session holds packet id 7"
        );
        if let Finish::ResendPublish = finish {
            p.send(&publish_raw(0x3c, topic.as_bytes(), Some(7), b"once"));
            p.expect_packet(&pubrec(7));
        }
        p.send(&pubrel(7));
        p.expect_packet(&pubcomp(7));
        p.disconnect();
        let mut c = sub.resume(b.port);
        sub.expect(&mut c, &topic, "once", 2);
        sub.quiet(&mut c);
        sub.leave(c);
    }
}

/// Retained topics owned by both shards: set, replaced, deleted (empty
/// retained PUBLISH) at QoS 1 and 2, then SIGKILL and restart: a new
/// subscriber gets exactly the live ones, RETAIN set; a deletion after the
/// restart also survives the next kill.
#[test]
fn retained_messages_survive_sigkill() {
    if skip_on_mosquitto("shardmq's --data-dir") {
        return;
    }
    let (mut b, _data) = durable("");
    let topics: Vec<String> = (0..8).map(|i| format!("ret/{i}")).collect();
    let owners: std::collections::BTreeSet<usize> = topics
        .iter()
        .map(|t| shardmq::shard::owner_shard(t.as_bytes(), SHARDS))
        .collect();
    assert_eq!(owners.len(), SHARDS, "retained topics on every shard");
    let mut p = b.connect("ret-pub", true);
    for (i, t) in topics.iter().enumerate() {
        p.publish(t, format!("v1-{i}").as_bytes(), 1 + (i % 2) as u8, true);
    }
    for (i, t) in topics.iter().enumerate() {
        match i % 4 {
            0 => p.publish(t, format!("v2-{i}").as_bytes(), 2, true),
            1 | 3 => p.publish(t, b"", 1 + (i / 4) as u8, true),
            _ => {}
        }
    }
    p.disconnect();
    let expected = |deleted: &[usize]| -> Vec<(String, String)> {
        (0..8)
            .filter(|i| i % 2 == 0 && !deleted.contains(i))
            .map(|i| {
                (
                    format!("ret/{i}"),
                    format!("v{}-{i}", if i % 4 == 0 { 2 } else { 1 }),
                )
            })
            .collect()
    };
    b.kill9();
    b.restart();
    assert_eq!(retained(&b, "ret/#"), expected(&[]));
    let mut p = b.connect("ret-pub", true);
    p.publish("ret/2", b"", 1, true);
    p.disconnect();
    b.kill9();
    b.restart();
    assert_eq!(retained(&b, "ret/#"), expected(&[2]));
}

/// (topic, payload) of the retained messages a new subscriber to `filter`
/// gets, sorted; each must have RETAIN set.
fn retained(b: &Broker, filter: &str) -> Vec<(String, String)> {
    let mut c = b.connect("ret-reader", true);
    c.subscribe(filter, 1);
    let mut got = Vec::new();
    while let Recv::Packet(first, body) = c.try_recv(ms(500)) {
        let m = Publish::parse(first, &body);
        assert!(m.retain(), "retained message without RETAIN: {m:?}");
        c.ack(&m);
        got.push((m.topic.clone(), m.payload_str()));
    }
    c.disconnect();
    got.sort();
    got
}

/// Waits until the broker counts `n` connections (the shards post their
/// numbers once a second), i.e. it has seen the others close.
fn connections_settle(addr: &str, n: f64) {
    std::thread::sleep(ms(1100));
    let ok = eventually(Duration::from_secs(5), || {
        value(&scrape(addr), "shardmq_connections") == Some(n)
    });
    assert!(
        ok,
        "shardmq_connections never came to {n}:\n{}",
        scrape(addr)
    );
}

/// v5 wills with a Will Delay Interval of 3 s (session expiry 60) of
/// clients on both shards that vanished (no DISCONNECT) just before a
/// SIGKILL: after the restart each will is published once, when its delay
/// has run out (not before), to a persistent watcher [MQTT-3.1.2-8].
#[test]
fn delayed_will_published_once_after_sigkill() {
    if skip_on_mosquitto("shardmq's --data-dir") {
        return;
    }
    let (mut b, _data) = durable("metrics_listen = \"127.0.0.1:0\"\n");
    let addr = metrics_addr(&b);
    let sync = Sync::new(&b);
    let watcher = Sess::v3("wd-watcher");
    let mut w = watcher.create(b.port);
    watcher.subscribe(&mut w, &[("wd/#", 1)]);
    watcher.leave(w);
    let clients: Vec<Client> = (0..SHARDS)
        .map(|shard| {
            let id = id_on_shard("wd", shard);
            let connect = connect_expiry(&id, true, Some(60))
                .will(&format!("wd/{shard}"), b"gone", 1, false)
                .will_props(Props::new().u32(prop::WILL_DELAY_INTERVAL, 3).build());
            connect5(b.port, &connect).0
        })
        .collect();
    // Before the first close: no will may come earlier than 3 s after it.
    let closed = Instant::now();
    clients.into_iter().for_each(Client::close);
    connections_settle(&addr, 0.0);
    sync.sync(&b);
    b.kill9();
    b.restart();
    let mut w = watcher.resume(b.port);
    let mut got = Vec::new();
    let deadline = closed + Duration::from_secs(15);
    while got.len() < SHARDS {
        let left = deadline.saturating_duration_since(Instant::now());
        match w.try_recv(left) {
            Recv::Packet(first, body) => {
                let m = Publish::parse(first, &body);
                w.ack(&m);
                got.push((m.topic.clone(), m.payload_str(), closed.elapsed()));
            }
            other => panic!("wills so far {got:?}, then {other:?} (15 s after the close)"),
        }
    }
    w.expect_no_packet(Duration::from_secs(1));
    got.sort();
    for (shard, (topic, payload, after)) in got.iter().enumerate() {
        assert_eq!(
            (topic.as_str(), payload.as_str()),
            (format!("wd/{shard}").as_str(), "gone")
        );
        assert!(
            *after >= ms(2900),
            "will {topic} published {after:?} after the close, delay 3 s"
        );
    }
}

/// A client whose delayed will was pending at the kill reconnects (clean
/// start 0) after the restart, before the delay ran out: session present 1
/// and the will is never published [MQTT-3.1.3-9].
#[test]
fn delayed_will_cancelled_by_reconnect_after_sigkill() {
    if skip_on_mosquitto("shardmq's --data-dir") {
        return;
    }
    let (mut b, _data) = durable("metrics_listen = \"127.0.0.1:0\"\n");
    let addr = metrics_addr(&b);
    let sync = Sync::new(&b);
    let watcher = Sess::v3("wc-watcher");
    let mut w = watcher.create(b.port);
    watcher.subscribe(&mut w, &[("wc/#", 1)]);
    watcher.leave(w);
    let delay = 6;
    let ids: Vec<String> = (0..SHARDS).map(|s| id_on_shard("wc", s)).collect();
    for id in &ids {
        let connect = connect_expiry(id, true, Some(60))
            .will("wc/x", b"must not", 1, false)
            .will_props(Props::new().u32(prop::WILL_DELAY_INTERVAL, delay).build());
        let (c, _) = connect5(b.port, &connect);
        c.close();
    }
    let closed = Instant::now();
    connections_settle(&addr, 0.0);
    sync.sync(&b);
    b.kill9();
    b.restart();
    let _back: Vec<Client> = ids
        .iter()
        .map(|id| {
            let (c, ack) = connect5(b.port, &connect_expiry(id, false, Some(60)));
            assert!(
                ack.session_present,
                "[{id}] session present after the restart"
            );
            c
        })
        .collect();
    if closed.elapsed() >= Duration::from_secs(delay as u64) {
        eprintln!("inconclusive: the restart took longer than the will delay");
        return;
    }
    let mut w = watcher.resume(b.port);
    w.expect_no_packet(Duration::from_secs(delay as u64 + 1));
}

/// After persistent traffic and a restart, `/metrics` has the log's
/// series: bytes, fsyncs, the fsync latency histogram, group commits (their
/// number and the records they carried: the mean group size), compactions
/// (one at every start), recovery time (a histogram, one observation per
/// start) and records replayed.
#[test]
fn log_metrics_are_exported() {
    if skip_on_mosquitto("shardmq's --data-dir") {
        return;
    }
    let (mut b, _data) = durable("metrics_listen = \"127.0.0.1:0\"\n");
    let addr = metrics_addr(&b);
    let s = Sess::v3("met-sub");
    let mut c = s.create(b.port);
    s.subscribe(&mut c, &[("met/t", 2)]);
    s.leave(c);
    let mut p = b.connect("met-pub", true);
    for i in 0..20 {
        p.publish("met/t", format!("{i}").as_bytes(), 1 + i % 2, false);
    }
    p.disconnect();
    let text = wait_for(&addr, "shardmq_log_commit_records_total", 20.0);
    let at_least = |series: &str, min: f64| {
        assert!(
            value(&text, series) >= Some(min),
            "{series} < {min}:\n{text}"
        );
    };
    at_least("shardmq_log_bytes_total", 1.0);
    at_least("shardmq_log_fsyncs_total", 1.0);
    at_least("shardmq_log_fsync_seconds_count", 1.0);
    at_least("shardmq_log_commits_total", 1.0);
    at_least("shardmq_compactions_total", 1.0);
    at_least("shardmq_recovery_seconds_count", 1.0);
    assert!(
        text.contains("# TYPE shardmq_log_fsync_seconds histogram"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE shardmq_recovery_seconds histogram"),
        "{text}"
    );
    b.kill9();
    b.restart();
    let addr = metrics_addr(&b);
    wait_for(&addr, "shardmq_records_replayed_total", 20.0);
    let mut c = s.resume(b.port);
    for i in 0..20 {
        s.expect(&mut c, "met/t", &format!("{i}"), 1 + i % 2);
    }
}

/// `fsync = "interval"` and `"never"` keep everything across a SIGTERM (a
/// clean stop writes and syncs what it has).
#[test]
fn other_fsync_policies_survive_sigterm() {
    if skip_on_mosquitto("shardmq's --data-dir") {
        return;
    }
    for policy in ["interval", "never"] {
        let config = format!("[persistence]\nfsync = \"{policy}\"\nfsync_interval = 0.2\n");
        let (mut b, _data) = durable(&config);
        let s = Sess::v5(&format!("pol-{policy}"));
        let mut c = s.create(b.port);
        s.subscribe(&mut c, &[("pol/t", 2)]);
        s.leave(c);
        let mut p = b.connect("pol-pub", true);
        for i in 0..10 {
            p.publish("pol/t", format!("{i}").as_bytes(), 1 + (i % 2) as u8, true);
        }
        p.disconnect();
        b.stop();
        b.restart();
        let mut c = s.resume(b.port);
        for i in 0..10 {
            s.expect(&mut c, "pol/t", &format!("{i}"), 1 + (i % 2) as u8);
        }
        s.quiet(&mut c);
        s.leave(c);
        assert_eq!(
            retained(&b, "pol/t"),
            [("pol/t".to_string(), "9".to_string())]
        );
    }
}
