//! The Prometheus endpoint and `$SYS` topics: real traffic and real refusals
//! show up in `/metrics`, the output passes `promtool check metrics`, other
//! paths get 404, and a stuck scraper does not stall the broker.

use crate::common::metrics::*;
use crate::common::*;
use std::io::Write;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn traffic_and_refusals_are_counted() {
    let (b, addr) = broker_with_metrics("");
    let mut sub = b.connect(&id_on_shard("msub", 0), true);
    sub.subscribe("m/t", 1);
    let mut p = b.connect(&id_on_shard("mpub", 1), true);
    p.publish("m/t", b"hello", 1, false);
    sub.expect_msg("m/t", b"hello", 1);
    // A refused CONNECT (protocol level 6 → CONNACK 1) and a malformed packet.
    connect_with(
        b.port,
        &Connect::new("old").protocol(b"MQTT", 6),
        &connack(false, 1),
    );
    let mut bad = b.connect("bad", true);
    bad.send(&[0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    bad.expect_closed(Duration::from_secs(5));
    let text = wait_for(&addr, "shardmq_malformed_packets_total", 1.0);
    let text = if value(&text, "shardmq_messages_sent_total{qos=\"1\"}") >= Some(1.0) {
        text
    } else {
        wait_for(&addr, "shardmq_messages_sent_total{qos=\"1\"}", 1.0)
    };
    assert_eq!(
        value(&text, "shardmq_messages_received_total{qos=\"1\"}"),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            "shardmq_connections_refused_total{reason=\"protocol_version\"}"
        ),
        Some(1.0)
    );
    assert!(value(&text, "shardmq_connections_total") >= Some(3.0));
    assert!(value(&text, "shardmq_publish_to_delivery_seconds_count") >= Some(1.0));
    assert!(value(&text, "shardmq_connect_handshake_seconds_count") >= Some(3.0));
    assert_eq!(value(&text, "shardmq_subscriptions"), Some(1.0));
}

#[test]
fn promtool_accepts_the_output() {
    let (b, addr) = broker_with_metrics("");
    let mut c = b.connect("promtool", true);
    c.publish("p/t", b"x", 0, false);
    let text = wait_for(&addr, "shardmq_connections_total", 1.0);
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool missing: apt-get install prometheus (scripts/test.sh does)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn other_paths_methods_and_bodies() {
    let (_b, addr) = broker_with_metrics("");
    assert_eq!(http(&addr, "GET /nope HTTP/1.1\r\n\r\n").0, 404);
    assert_eq!(
        http(
            &addr,
            "POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
        )
        .0,
        405
    );
    let (code, body) = http(
        &addr,
        "GET /metrics?x=1 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert_eq!(code, 200, "a request body is ignored");
    assert!(body.contains("# TYPE shardmq_connections gauge"));
}

/// A scraper that connects and never sends its request holds only the
/// metrics thread (for its 2 s timeout), never a shard.
#[test]
fn stuck_scraper_does_not_stall_the_broker() {
    let (b, addr) = broker_with_metrics("");
    let _stuck = TcpStream::connect(&addr).unwrap();
    std::thread::sleep(ms(100));
    let start = Instant::now();
    let mut sub = b.connect("stuck-sub", true);
    sub.subscribe("s/t", 0);
    let mut p = b.connect("stuck-pub", true);
    p.publish("s/t", b"still here", 0, false);
    sub.expect_msg("s/t", b"still here", 0);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "MQTT waited for the scraper"
    );
    assert!(
        scrape(&addr).contains("shardmq_uptime_seconds"),
        "next scrape served after the timeout"
    );
}

/// `$SYS/broker/...` in Mosquitto's layout, retained, not matched by `#`.
#[test]
fn sys_topics_are_published() {
    let b = Broker::start("sys_interval = 0.3");
    let mut c = b.connect("sys", true);
    c.subscribe("$SYS/broker/version", 0);
    let deadline = Instant::now() + Duration::from_secs(5);
    let m = c.recv_publish_within(deadline - Instant::now());
    assert_eq!(m.topic, "$SYS/broker/version");
    assert!(
        m.payload_str().starts_with("shardmq "),
        "{}",
        m.payload_str()
    );
    // Retained: a later subscriber gets the last value at once.
    let mut late = b.connect("sys-late", true);
    late.subscribe("$SYS/broker/clients/+", 0);
    let m = late.recv_publish_within(Duration::from_secs(2));
    assert!(m.retain(), "$SYS topics are retained");
    assert!(m.topic.starts_with("$SYS/broker/clients/"));
    let mut all = b.connect("sys-hash", true);
    all.subscribe("#", 0);
    all.expect_no_packet(ms(800)); // [MQTT-4.7.2-1]
}

/// `limits.session_expiry`: an offline persistent session is forgotten once
/// it has been offline that long (observed through the expiry counter, since
/// reconnecting to check would renew it).
#[test]
fn offline_persistent_session_expires() {
    let (b, addr) = broker_with_metrics("[limits]\nsession_expiry = 1.0");
    let mut c = b.connect("expiring", false);
    c.subscribe("e/t", 1);
    c.disconnect();
    let (c, present) = connect_sp(b.port, "expiring", false);
    assert!(present, "kept while younger than the expiry");
    c.disconnect();
    wait_for(&addr, "shardmq_sessions_expired_total", 1.0);
    let (_c, present) = connect_sp(b.port, "expiring", false);
    assert!(!present, "expired session came back");
}
