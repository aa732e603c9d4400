//! `[auth] acl_file`: Mosquitto's ACL syntax and semantics. SUBSCRIBE
//! refused (SUBACK 0x80 / 0x87), PUBLISH refused (3.1.1: acked and
//! dropped; MQTT 5: 0x87), deliveries filtered for filters broader than
//! the read grant (retained ones too), `%c`/`%u` patterns, the anonymous
//! section, wills, `$SYS`, SIGHUP reloads, bad files. Publishers and
//! subscribers sit on different shards, so the checks hold on both.
//!
//! Validated against Mosquitto 2.0 (`SHARDMQ_TEST_BROKER=mosquitto`),
//! except where shardmq differs on purpose: Mosquitto's acl_file grants
//! every SUBSCRIBE (and delivers nothing the client may not read), where
//! shardmq refuses a filter nothing of which is readable.

use crate::common::broker::TempDir;
use crate::common::metrics::{broker_with_metrics, wait_for};
use crate::common::v5::Props;
use crate::common::*;
use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// A broker enforcing `rules`, and the file to rewrite for a reload.
struct Acl {
    b: Broker,
    file: PathBuf,
    _dir: TempDir,
}

fn write_rules(rules: &str) -> (TempDir, PathBuf) {
    let dir = TempDir::new("acl");
    let file = dir.path().join("acl");
    fs::write(&file, rules).unwrap();
    (dir, file)
}

fn config(file: &std::path::Path, extra: &str) -> String {
    format!(
        "{extra}\n[auth]\nacl_file = {:?}\n",
        file.display().to_string()
    )
}

fn start(rules: &str) -> Acl {
    let (dir, file) = write_rules(rules);
    let b = Broker::start(&config(&file, ""));
    Acl { b, file, _dir: dir }
}

fn user(b: &Broker, id: &str, name: &str) -> Client {
    connect_with(b.port, &Connect::new(id).user(name), &connack(false, 0))
}

fn user_v5(b: &Broker, id: &str, name: &str) -> Client {
    b.connect_v5_with(Connect::v5(id).user(name))
}

#[test]
fn subscribe_nothing_readable_is_refused_0x80_and_v5_0x87() {
    if skip_on_mosquitto("Mosquitto's acl_file grants every SUBSCRIBE") {
        return;
    }
    let a = start("topic read open/#\ntopic write closed/#\n");
    let mut c = a.b.connect(&id_on_shard("s3", 0), true);
    let codes = c.subscribe_many(&[("open/x", 1), ("closed/x", 1), ("#", 0), ("nope/+", 0)]);
    assert_eq!(
        codes,
        [1, 0x80, 0, 0x80],
        "write-only and ungranted filters refused"
    );
    let mut v5 = a.b.connect_v5(&id_on_shard("s5", 1), &Props::new());
    let ack = v5.subscribe_v5(&[("closed/#", 0), ("open/#", 0)], &Props::new());
    assert_eq!(ack.codes, [0x87, 0], "MQTT 5: Not authorized");
    // The refused filter is not subscribed: nothing arrives on it.
    let mut w = a.b.connect(&id_on_shard("w", 1), true);
    w.send(&publish("closed/x", b"1", 0, false, 0));
    c.expect_no_packet(QUIET);
    v5.expect_no_packet(QUIET);
}

#[test]
fn publish_refused_v3_is_acked_and_dropped() {
    let a = start("topic read #\ntopic write ok/#\n");
    let mut sub = a.b.connect(&id_on_shard("sub", 1), true);
    sub.subscribe("#", 1);
    let mut p = a.b.connect(&id_on_shard("pub", 0), true);
    // Every QoS completes its handshake as if the message were taken.
    p.publish("no/0", b"x", 0, false);
    p.publish("no/1", b"x", 1, false);
    p.publish("no/2", b"x", 2, false);
    p.publish("ok/1", b"y", 1, false);
    sub.expect_msg("ok/1", b"y", 1);
    sub.expect_no_packet(QUIET);
    p.ping(); // still connected
}

#[test]
fn publish_refused_v5_gets_0x87() {
    let a = start("topic read #\ntopic write ok/#\n");
    let mut sub = a.b.connect(&id_on_shard("sub", 0), true);
    sub.subscribe("#", 1);
    let mut p = a.b.connect_v5(&id_on_shard("pub", 1), &Props::new());
    let none = Props::new();
    assert!(p.publish_v5("no/0", b"x", 0, false, &none).is_none());
    assert_eq!(
        p.publish_v5("no/1", b"x", 1, false, &none).unwrap().reason,
        0x87
    );
    assert_eq!(
        p.publish_v5("no/2", b"x", 2, false, &none).unwrap().reason,
        0x87
    );
    assert_eq!(
        p.publish_v5("no/r", b"x", 1, true, &none).unwrap().reason,
        0x87
    );
    assert_eq!(
        p.publish_v5("ok/1", b"y", 1, false, &none).unwrap().reason,
        0
    );
    sub.expect_msg("ok/1", b"y", 1);
    sub.expect_no_packet(QUIET);
    // A refused retained message was not stored either.
    let mut late = a.b.connect(&id_on_shard("late", 1), true);
    late.subscribe("no/#", 0);
    late.expect_no_packet(QUIET);
}

#[test]
fn a_broad_subscription_receives_only_what_it_may_read_live_and_retained() {
    let a = start("topic write #\nuser watcher\ntopic read a/#\ntopic deny a/secret\n");
    let mut p = a.b.connect(&id_on_shard("pub", 0), true);
    p.publish("a/r", b"ar", 1, true);
    p.publish("b/r", b"br", 1, true);
    p.publish("a/secret", b"sr", 1, true);
    let mut w = user(&a.b, &id_on_shard("watch", 1), "watcher");
    w.subscribe("#", 1);
    let r = w.recv_publish();
    assert_eq!((r.topic.as_str(), r.payload_str().as_str()), ("a/r", "ar"));
    w.ack(&r);
    w.expect_no_packet(QUIET);
    for t in ["a/1", "b/1", "a/secret", "a/2"] {
        p.publish(t, t.as_bytes(), 1, false);
    }
    w.expect_msg("a/1", b"a/1", 1);
    w.expect_msg("a/2", b"a/2", 1);
    w.expect_no_packet(QUIET);
}

#[test]
fn patterns_substitute_the_client_id_and_the_user_name() {
    let a = start("topic write inbox/#\npattern readwrite dev/%c/#\npattern read inbox/%u/#\n");
    let (c1, c2) = (id_on_shard("c1", 0), id_on_shard("c2", 1));
    let mut one = a.b.connect(&c1, true);
    one.subscribe("dev/#", 0);
    let mut two = a.b.connect(&c2, true);
    two.publish(&format!("dev/{c2}/x"), b"mine", 0, false);
    two.publish(&format!("dev/{c1}/x"), b"forged", 0, false);
    one.publish(&format!("dev/{c1}/y"), b"own", 0, false);
    one.expect_msg(&format!("dev/{c1}/y"), b"own", 0);
    one.expect_no_packet(QUIET);

    let mut ann = user(&a.b, &id_on_shard("ann", 1), "ann");
    ann.subscribe("inbox/#", 0);
    let mut anon = a.b.connect(&id_on_shard("anon", 0), true);
    // %u never matches a client without one: nothing there is readable.
    let refused = if mosquitto_mode() { 0 } else { 0x80 };
    assert_eq!(anon.subscribe_many(&[("inbox/#", 0)]), [refused]);
    two.publish("inbox/bob/m", b"b", 0, false);
    two.publish("inbox/ann/m", b"a", 0, false);
    ann.expect_msg("inbox/ann/m", b"a", 0);
    ann.expect_no_packet(QUIET);
    anon.expect_no_packet(QUIET);
}

#[test]
fn the_anonymous_section_is_only_for_clients_without_a_user_name() {
    let a = start("topic readwrite anon/#\nuser alice\ntopic readwrite alice/#\n");
    let mut anon = a.b.connect(&id_on_shard("anon", 0), true);
    anon.subscribe("#", 0);
    let mut alice = user_v5(&a.b, &id_on_shard("alice", 1), "alice");
    let none = Props::new();
    assert_eq!(
        alice
            .publish_v5("anon/x", b"1", 1, false, &none)
            .unwrap()
            .reason,
        0x87
    );
    assert_eq!(
        alice
            .publish_v5("alice/x", b"2", 1, false, &none)
            .unwrap()
            .reason,
        0
    );
    let mut anon2 = a.b.connect(&id_on_shard("anon2", 1), true);
    anon2.publish("anon/y", b"3", 1, false);
    anon.expect_msg("anon/y", b"3", 0);
    anon.expect_no_packet(QUIET);
    // A user with no section of its own has nothing (no patterns here).
    let mut bob = user_v5(&a.b, &id_on_shard("bob", 0), "bob");
    assert_eq!(
        bob.publish_v5("anon/z", b"4", 1, false, &none)
            .unwrap()
            .reason,
        0x87
    );
}

#[test]
fn a_will_the_client_may_not_publish_is_dropped() {
    let a = start("topic readwrite ok/#\ntopic read will/#\n");
    let mut sub = a.b.connect(&id_on_shard("sub", 0), true);
    sub.subscribe("will/#", 0);
    sub.subscribe("ok/#", 0);
    for (id, topic) in [("w1", "will/x"), ("w2", "ok/w")] {
        let conn = Connect::new(&id_on_shard(id, 1)).will(topic, b"gone", 0, false);
        let c = connect_with(a.b.port, &conn, &connack(false, 0));
        c.close();
    }
    // Only the will on a writable topic goes out; the CONNECT was accepted.
    sub.expect_msg("ok/w", b"gone", 0);
    sub.expect_no_packet(QUIET);
}

#[test]
fn nobody_writes_sys_and_wildcards_do_not_reach_it() {
    let a = start("topic readwrite #\ntopic readwrite $SYS/#\ntopic readwrite $app/#\n");
    let mut sub = a.b.connect(&id_on_shard("sub", 0), true);
    sub.subscribe("$app/#", 0);
    let mut p = a.b.connect_v5(&id_on_shard("pub", 1), &Props::new());
    let none = Props::new();
    assert_eq!(
        p.publish_v5("$SYS/fake", b"x", 1, false, &none)
            .unwrap()
            .reason,
        0x87
    );
    assert_eq!(
        p.publish_v5("$app/x", b"y", 1, false, &none)
            .unwrap()
            .reason,
        0
    );
    sub.expect_msg("$app/x", b"y", 0);
}

/// Publish `b/probe` until `reader` receives it: the reload reached the
/// reader's shard (bounded).
fn wait_until_readable(writer: &mut Client, reader: &mut Client) {
    let deadline = Instant::now() + WAIT;
    loop {
        writer.publish("b/probe", b"p", 0, false);
        if let Recv::Packet(0x30, _) = reader.try_recv(ms(200)) {
            return;
        }
        assert!(Instant::now() < deadline, "the reload never took effect");
    }
}

#[test]
fn sighup_reloads_the_rules_and_a_bad_file_keeps_the_old_ones() {
    let rules = |read: &str| format!("topic read {read}\nuser writer\ntopic write #\n");
    let a = start(&rules("a/#"));
    let mut reader = a.b.connect(&id_on_shard("reader", 0), true);
    reader.subscribe_many(&[("a/#", 0), ("#", 0)]);
    let mut writer = user(&a.b, &id_on_shard("writer", 1), "writer");
    writer.publish("a/1", b"1", 0, false);
    reader.expect_msg("a/1", b"1", 0);

    fs::write(&a.file, rules("b/#")).unwrap();
    a.b.signal(libc::SIGHUP);
    wait_until_readable(&mut writer, &mut reader);
    // `a/#` was covered by the old rules; that must not outlive them.
    writer.publish("a/2", b"2", 0, false);
    writer.publish("b/2", b"3", 0, false);
    reader.expect_msg("b/2", b"3", 0);
    reader.expect_no_packet(QUIET);
    if skip_on_mosquitto("a bad file on reload leaves Mosquitto with part of it") {
        return;
    }
    fs::write(&a.file, "topic read a/#\nbogus line\n").unwrap();
    a.b.signal(libc::SIGHUP);
    let deadline = Instant::now() + WAIT;
    while !a.b.stderr().contains(":2: unknown keyword \"bogus\"") {
        assert!(
            Instant::now() < deadline,
            "no refusal logged:\n{}",
            a.b.stderr()
        );
        std::thread::sleep(ms(20));
    }
    writer.publish("a/3", b"4", 0, false);
    writer.publish("b/3", b"5", 0, false);
    reader.expect_msg("b/3", b"5", 0);
    reader.expect_no_packet(QUIET);
}

#[test]
fn a_bad_file_at_start_up_refuses_to_start_naming_file_line_and_reason() {
    if skip_on_mosquitto("shardmq's start-up") {
        return;
    }
    let (dir, file) = write_rules("# ok\ntopic read a\ntopic sideways b\n");
    let conf = dir.path().join("shardmq.toml");
    fs::write(&conf, config(&file, "")).unwrap();
    let out = run(
        Command::new(broker::SHARDMQ)
            .args(["--listen", "127.0.0.1:0", "--shards", "2", "--config"])
            .arg(&conf),
        WAIT,
    );
    assert!(!out.status.success(), "started with a bad acl_file");
    let err = String::from_utf8_lossy(&out.stderr);
    let want = format!("{}:3: unknown access \"sideways\"", file.display());
    assert!(err.contains(&want), "stderr lacks {want:?}:\n{err}");
}

#[test]
fn denials_are_counted_by_kind() {
    if skip_on_mosquitto("shardmq metrics") {
        return;
    }
    let (_dir, file) = write_rules("topic read a/#\ntopic write a/#\ntopic write b/#\n");
    let (b, addr) = broker_with_metrics(&config(&file, ""));
    let mut c = b.connect(&id_on_shard("c", 0), true);
    assert_eq!(c.subscribe_many(&[("b/#", 0), ("#", 0)]), [0x80, 0]);
    let mut p = b.connect(&id_on_shard("p", 1), true);
    p.publish("c/x", b"1", 1, false); // no write access
    p.publish("b/x", b"2", 1, false); // c may not read it
    p.publish("a/x", b"3", 1, false);
    c.expect_msg("a/x", b"3", 0);
    c.expect_no_packet(QUIET);
    for kind in ["subscribe", "publish", "delivery"] {
        wait_for(
            &addr,
            &format!("shardmq_acl_denials_total{{kind=\"{kind}\"}}"),
            1.0,
        );
    }
    // The refused SUBSCRIBE and PUBLISH, on the listener they came in on.
    let listener = format!(
        "shardmq_listener_acl_denials_total{{listener=\"tcp:{}\"}}",
        b.port
    );
    wait_for(&addr, &listener, 2.0);
}
