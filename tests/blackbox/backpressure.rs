//! Back-pressure (issue 12): a QoS 1/2 publisher that outruns its
//! subscribers is held back instead of having its messages dropped, a
//! stalled subscriber holds it back at most `stall_timeout` at a time, and
//! other clients of the same shards keep their latency. Publishers run on
//! shard 0, subscribers on shard 1, so every pause crosses the mesh.

use crate::common::flow::*;
use crate::common::metrics::*;
use crate::common::*;
use std::time::{Duration, Instant};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A subscriber clearly slower than a full-speed publisher: at most 5,000
/// messages a second.
const SLOW: Pace = Pace {
    start_after: Duration::ZERO,
    every: 5,
    sleep: Duration::from_millis(1),
};

fn subscriber(b: &Broker, name: &str, topic: &str, qos: u8) -> Client {
    let mut c = b.connect(&id_on_shard(name, 1), true);
    c.subscribe(topic, qos);
    c
}

fn publisher(b: &Broker, name: &str, load: Load) -> Publisher {
    Publisher::start(b.port, &id_on_shard(name, 0), load)
}

fn assert_clean_run(r: &PubReport, count: u32) {
    eprintln!(
        "publisher: {} acknowledged in {:?}, longest wait {:?}",
        r.acked, r.elapsed, r.longest_gap
    );
    assert!(
        r.error.is_none() && r.acked == count,
        "publisher: {} of {count} acknowledged: {r:?}",
        r.acked
    );
}

/// One full-speed QoS `qos` publisher, one slow subscriber: every message
/// arrives once, in order. Returns the broker's peak RSS growth in bytes.
fn p2p(qos: u8, count: u32, payload_len: usize) -> u64 {
    let b = Broker::start("");
    let mut sub = subscriber(&b, "bp-sub", "bp/p2p", qos);
    let (rss0, _) = rss(b.pid());
    let mut load = Load::new("bp/p2p", qos, count);
    load.payload_len = payload_len;
    let p = publisher(&b, "bp-pub", load);
    let got = read_paced(&mut sub, count as usize, SLOW, secs(3), secs(25));
    let report = p.join();
    let (_, peak) = rss(b.pid());
    assert_all_in_order(&got, 1, count);
    assert_clean_run(&report, count);
    peak.saturating_sub(rss0)
}

/// 20,000 x 4 KiB QoS 1 into a slower subscriber: nothing lost, in order,
/// and the broker's memory stays bounded (a queue of 1,000 messages holds
/// 4 MiB; keeping all 80 MiB would blow the 40 MiB bound).
#[test]
fn p2p_qos1_slow_subscriber_loses_nothing_in_bounded_memory() {
    if skip_on_mosquitto("back-pressure is shardmq's") {
        return;
    }
    let grew = p2p(1, 20_000, 4096);
    eprintln!("broker RSS grew by {} KiB", grew >> 10);
    assert!(
        grew < 40 << 20,
        "broker RSS grew by {} MiB while 80 MiB went through it",
        grew >> 20
    );
}

/// The same at QoS 2, both handshakes pipelined: exactly once, in order.
#[test]
fn p2p_qos2_slow_subscriber_exactly_once_in_order() {
    if skip_on_mosquitto("back-pressure is shardmq's") {
        return;
    }
    p2p(2, 10_000, 256);
}

/// Fan-in: 4 full-speed QoS 1 publishers into one slow subscriber; each
/// publisher's messages all arrive, in its order.
#[test]
fn fan_in_qos1_loses_nothing_keeps_each_publishers_order() {
    if skip_on_mosquitto("back-pressure is shardmq's") {
        return;
    }
    let (pubs, count) = (4, 4_000);
    let b = Broker::start("");
    let mut sub = subscriber(&b, "bp-fsub", "bp/fan", 1);
    let publishers: Vec<Publisher> = (0..pubs)
        .map(|tag| {
            let mut load = Load::new("bp/fan", 1, count);
            load.tag = tag;
            publisher(&b, &format!("bp-fpub{tag}"), load)
        })
        .collect();
    let got = read_paced(&mut sub, (pubs * count) as usize, SLOW, secs(3), secs(25));
    for p in publishers {
        assert_clean_run(&p.join(), count);
    }
    assert_all_in_order(&got, pubs, count);
}

/// A subscriber that never reads after its SUBACK, beside one that reads,
/// `stall_timeout = 1`: the reader gets every message; the publisher is held
/// back (the stalled session is marked and drops, counted) but never for
/// much longer than `stall_timeout` at a time.
#[test]
fn stalled_subscriber_holds_the_publisher_back_at_most_stall_timeout() {
    if skip_on_mosquitto("back-pressure is shardmq's") {
        return;
    }
    let count = 5_000;
    let (b, addr) =
        broker_with_metrics("[limits]\nstall_timeout = 1.0\nmax_queued_messages = 100\n");
    let _stalled = subscriber(&b, "bp-stalled", "bp/stall", 1);
    let mut reader = subscriber(&b, "bp-reader", "bp/stall", 1);
    let p = publisher(&b, "bp-spub", Load::new("bp/stall", 1, count));
    let got = read_paced(
        &mut reader,
        count as usize,
        Pace::FULL_SPEED,
        secs(3),
        secs(20),
    );
    let report = p.join();
    assert_all_in_order(&got, 1, count);
    assert_clean_run(&report, count);
    assert!(
        report.longest_gap < Duration::from_millis(2500),
        "the publisher was held back for {:?} at once (stall_timeout 1 s)",
        report.longest_gap
    );
    // Counters only grow: the last scrape still shows the stall.
    wait_for(&addr, "shardmq_sessions_stalled_total", 1.0);
    let text = wait_for(
        &addr,
        "shardmq_messages_dropped_total{reason=\"stalled\"}",
        1.0,
    );
    assert!(
        value(&text, "shardmq_publisher_pauses_total") >= Some(1.0),
        "the publisher was never paused:\n{text}"
    );
}

/// P1 (shard 0) is held back by a subscriber on shard 1 that does not read;
/// meanwhile P2 (shard 0) → S2 (shard 1), sharing both shards, keeps its
/// latency: p99 of 300 QoS 1 publish-to-delivery times under 50 ms, while
/// P1 stays paused throughout (no acknowledgement, gauge at 1).
#[test]
fn a_paused_publisher_does_not_delay_others_on_its_shards() {
    if skip_on_mosquitto("back-pressure is shardmq's") {
        return;
    }
    let count = 1_000;
    let (b, addr) =
        broker_with_metrics("[limits]\nstall_timeout = 60.0\nmax_queued_messages = 100\n");
    let mut s1 = subscriber(&b, "bp-s1", "bp/slow", 1);
    let mut s2 = subscriber(&b, "bp-s2", "bp/fast", 1);
    let p1 = publisher(&b, "bp-p1", Load::new("bp/slow", 1, count));
    let mut p2 = b.connect(&id_on_shard("bp-p2", 0), true);
    wait_for(&addr, "shardmq_publishers_paused", 1.0);
    let held_at = p1.acked();
    let mut lat: Vec<Duration> = (0..300u32)
        .map(|i| {
            let payload = seq_payload(9, i, 24);
            let t0 = Instant::now();
            p2.publish("bp/fast", &payload, 1, false);
            s2.expect_msg("bp/fast", &payload, 1);
            let took = t0.elapsed();
            std::thread::sleep(ms(3));
            took
        })
        .collect();
    let held = p1.acked() - held_at;
    let text = scrape(&addr);
    lat.sort();
    let (p50, p99) = (lat[lat.len() / 2], lat[lat.len() * 99 / 100]);
    eprintln!(
        "p2->s2 while p1 paused: p50 {p50:?} p99 {p99:?} max {:?}",
        lat[lat.len() - 1]
    );
    assert_eq!(held, 0, "P1 got acknowledgements while it should be paused");
    assert!(
        value(&text, "shardmq_publishers_paused") >= Some(1.0),
        "P1 not paused at the end of the measurement:\n{text}"
    );
    assert!(
        p99 < ms(50),
        "p99 {p99:?} (p50 {p50:?}) while P1 was paused"
    );
    // S1 catches up: P1 resumes and loses nothing.
    let got = read_paced(&mut s1, count as usize, Pace::FULL_SPEED, secs(3), secs(20));
    assert_clean_run(&p1.join(), count);
    assert_all_in_order(&got, 1, count);
}

/// `queue_overflow = "drop_new"` keeps the old trade-off: a subscriber that
/// does not read for a second loses what its queue cannot hold, and every
/// lost message is counted as queue_full.
#[test]
fn drop_new_still_drops_and_counts() {
    if skip_on_mosquitto("shardmq's metrics") {
        return;
    }
    let count = 2_000;
    let (b, addr) =
        broker_with_metrics("[limits]\nqueue_overflow = \"drop_new\"\nmax_queued_messages = 100\n");
    let mut sub = subscriber(&b, "bp-dsub", "bp/drop", 1);
    let p = publisher(&b, "bp-dpub", Load::new("bp/drop", 1, count));
    let late = Pace {
        start_after: secs(1),
        ..Pace::FULL_SPEED
    };
    let got = read_paced(&mut sub, count as usize, late, secs(1), secs(20));
    assert_clean_run(&p.join(), count);
    let lost = count as usize - got.len();
    assert!(lost > 0, "nothing dropped: the publisher was held back");
    let series = "shardmq_messages_dropped_total{reason=\"queue_full\"}";
    let text = wait_for(&addr, series, lost as f64);
    assert_eq!(value(&text, series), Some(lost as f64), "{text}");
}

/// A publisher with keep-alive 2 s, held back for about 5 s by a
/// subscriber that reads nothing meanwhile (no stall: `stall_timeout` 60):
/// the broker does not close it for keep-alive [MQTT-3.1.2-24] while it is
/// the one not reading; every message then goes through.
#[test]
fn a_paused_publisher_is_not_closed_for_keep_alive() {
    if skip_on_mosquitto("back-pressure is shardmq's") {
        return;
    }
    let count = 200;
    let b = Broker::start("[limits]\nstall_timeout = 60.0\nmax_queued_messages = 10\n");
    let mut sub = subscriber(&b, "bp-ksub", "bp/ka", 1);
    let mut load = Load::new("bp/ka", 1, count);
    load.keepalive = 2;
    load.window = 5;
    let p = publisher(&b, "bp-kpub", load);
    let late = Pace {
        start_after: secs(5),
        ..Pace::FULL_SPEED
    };
    let got = read_paced(&mut sub, count as usize, late, secs(3), secs(20));
    let report = p.join();
    assert_clean_run(&report, count);
    assert!(
        report.longest_gap > Duration::from_millis(4000),
        "the publisher was not held back longer than 1.5 x keep-alive: {report:?}"
    );
    assert_all_in_order(&got, 1, count);
}

/// A real client: `mosquitto_pub -q 1 -l` pushes 5,000 lines as fast as
/// the broker lets it into a slow subscriber; all arrive, in order.
#[test]
fn mosquitto_pub_is_held_back_not_dropped() {
    if skip_on_mosquitto("back-pressure is shardmq's") {
        return;
    }
    require_tool(
        "mosquitto_pub",
        "--help",
        "apt-get install mosquitto-clients",
    );
    let count = 5_000;
    let b = Broker::start("[limits]\nmax_queued_messages = 100\n");
    let mut sub = subscriber(&b, "bp-msub", "bp/mosq", 1);
    let dir = crate::common::broker::TempDir::new("bp-lines");
    let lines = dir.path().join("lines");
    let text: Vec<u8> = (0..count)
        .flat_map(|i| [seq_payload(0, i, 24), b"\n".to_vec()].concat())
        .collect();
    std::fs::write(&lines, text).unwrap();
    let id = id_on_shard("bp-mpub", 0);
    let port = b.port.to_string();
    let mut child = std::process::Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &port, "-V", "mqttv311", "-i", &id])
        .args(["-q", "1", "-t", "bp/mosq", "-l"])
        .stdin(std::fs::File::open(&lines).unwrap())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("cannot run mosquitto_pub");
    let got = read_paced(&mut sub, count as usize, SLOW, secs(3), secs(20));
    let status = crate::common::broker::wait_child(&mut child, secs(5));
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(
        status.is_some_and(|s| s.success()),
        "mosquitto_pub: {status:?}"
    );
    assert_all_in_order(&got, 1, count);
}
