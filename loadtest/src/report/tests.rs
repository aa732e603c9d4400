use super::*;
use crate::client::{PairResult, PubResult, SubResult};
use crate::stats::ThreadStats;

fn cfg(args: &str) -> Config {
    crate::config::from_args(args).unwrap()
}

/// One publisher that sent `sent` measured messages, one subscriber that
/// got `got` of them (`dups` more twice), all connected, 1 s measured.
fn run(sent: u64, got: u64, dups: u64) -> RunResult {
    let mut stats = ThreadStats::default();
    stats.counts.sent = sent;
    stats.counts.delivered = got + dups;
    stats.counts.received = got + dups;
    stats.counts.duplicated = dups;
    for v in 1..=got {
        stats.latency.record(v).unwrap();
    }
    RunResult {
        stats,
        pubs: vec![PubResult {
            pub_id: 0,
            win_sent: sent,
            unacked: 0,
            held: Default::default(),
        }],
        subs: vec![SubResult {
            index: 0,
            pairs: vec![PairResult {
                pub_id: 0,
                unique: got,
                missing: 0,
            }],
        }],
        connected: 2,
        failed: 0,
        dropped: 0,
        connect_ns: 1_000_000,
        measured_ns: 1_000_000_000,
        after_ns: 0,
        aborted: None,
        missing_threads: 0,
        cpu_ns: 100_000_000,
        wall_ns: 1_000_000_000,
        timeline: Vec::new(),
    }
}

const FANIN: &str = "fanin --publishers 1";

#[test]
fn clean_run_is_ok_with_rates() {
    let s = summarize(&cfg(&format!("{FANIN} --qos 1")), &run(1000, 1000, 0));
    assert_eq!(s.exit_code, EXIT_OK, "{:?}", s.problems);
    let t = s.throughput.unwrap();
    assert_eq!((t.in_msgs_per_s, t.out_msgs_per_s), (1000.0, 1000.0));
    assert_eq!(s.latency_us.unwrap().count, 1000);
}

#[test]
fn qos0_loss_is_reported_not_failed() {
    let s = summarize(&cfg(&format!("{FANIN} --qos 0")), &run(1000, 900, 0));
    assert_eq!(s.messages.as_ref().unwrap().lost, 100);
    assert_eq!(s.exit_code, EXIT_OK);
}

#[test]
fn qos1_loss_breaks_the_promise() {
    let s = summarize(&cfg(&format!("{FANIN} --qos 1")), &run(1000, 999, 0));
    assert_eq!(s.exit_code, EXIT_QOS);
    assert!(s.problems[0].contains("1 messages lost"));
}

#[test]
fn qos1_duplicates_are_allowed_qos2_are_not() {
    let s = summarize(&cfg(&format!("{FANIN} --qos 1")), &run(1000, 1000, 5));
    assert_eq!(s.exit_code, EXIT_OK);
    assert_eq!(s.messages.as_ref().unwrap().duplicated, 5);
    let s = summarize(&cfg(&format!("{FANIN} --qos 2")), &run(1000, 1000, 5));
    assert_eq!(s.exit_code, EXIT_QOS);
}

#[test]
fn promise_judged_at_the_granted_qos() {
    let mut r = run(1000, 990, 0);
    r.stats.granted = Some(0);
    let s = summarize(&cfg(&format!("{FANIN} --qos 1")), &r);
    assert_eq!(s.exit_code, EXIT_OK);
    assert!(s.problems.iter().any(|p| p.contains("granted QoS 0")));
}

#[test]
fn unacked_and_unsolicited_fail() {
    let mut r = run(10, 10, 0);
    r.stats.counts.unacked = 3;
    assert_eq!(
        summarize(&cfg(&format!("{FANIN} --qos 1")), &r).exit_code,
        EXIT_QOS
    );
    let mut r = run(10, 10, 0);
    r.stats.counts.unsolicited = 1;
    assert_eq!(
        summarize(&cfg(&format!("{FANIN} --qos 0")), &r).exit_code,
        EXIT_QOS
    );
}

#[test]
fn connection_trouble_outranks_qos() {
    let mut r = run(1000, 10, 0);
    r.dropped = 1;
    let s = summarize(&cfg(&format!("{FANIN} --qos 1")), &r);
    assert_eq!(s.exit_code, EXIT_CONNECTIONS);
    let mut r = run(0, 0, 0);
    r.failed = 1;
    r.aborted = Some("x".into());
    assert_eq!(summarize(&cfg(FANIN), &r).exit_code, EXIT_CONNECTIONS);
}

#[test]
fn conn_has_no_message_section_and_renders() {
    let c = cfg("conn -n 2");
    let mut r = run(0, 0, 0);
    r.stats.connack.record(150).unwrap();
    let s = summarize(&c, &r);
    assert!(s.messages.is_none() && s.throughput.is_none());
    assert_eq!(s.connections.connack_us.as_ref().unwrap().p50, 150);
    let text = table::render(&s);
    assert!(
        text.contains("CONNACK") && text.contains("result       OK"),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(json["connections"]["established"], 2);
    assert!(json["messages"].is_null());
}

#[test]
fn notes_warn_without_failing() {
    let mut r = run(500, 500, 0);
    r.cpu_ns = r.wall_ns;
    let s = summarize(&cfg(&format!("{FANIN} --rate 1000 --threads 1")), &r);
    assert_eq!(s.exit_code, EXIT_OK);
    assert!(
        s.problems.iter().any(|p| p.contains("100% of its threads")),
        "{:?}",
        s.problems
    );
    assert!(
        s.problems
            .iter()
            .any(|p| p.contains("500 msg/s of the 1000")),
        "{:?}",
        s.problems
    );
}

#[test]
fn misrouted_deliveries_fail() {
    // p2p: subscriber 1 hears publisher 0, whose topic it never subscribed.
    let mut r = run(10, 10, 0);
    r.pubs.push(PubResult {
        pub_id: 1,
        win_sent: 10,
        unacked: 0,
        held: Default::default(),
    });
    r.subs.push(SubResult {
        index: 1,
        pairs: vec![
            PairResult {
                pub_id: 1,
                unique: 10,
                missing: 0,
            },
            PairResult {
                pub_id: 0,
                unique: 4,
                missing: 0,
            },
        ],
    });
    let s = summarize(&cfg("p2p --pairs 2"), &r);
    assert_eq!(s.messages.as_ref().unwrap().unexpected, 4);
    assert_eq!(s.exit_code, EXIT_QOS);
}

#[test]
fn connect_rate_reports_connections_per_second() {
    let c = cfg("connect-rate -n 100 -c 4");
    let mut r = run(0, 0, 0);
    r.connected = 100;
    r.connect_ns = 2_000_000_000;
    r.stats.connack.record(900).unwrap();
    let s = summarize(&c, &r);
    assert_eq!(s.exit_code, EXIT_OK, "{:?}", s.problems);
    assert!(s.messages.is_none() && s.throughput.is_none() && !s.tls);
    assert_eq!(s.connections.requested, 100);
    assert_eq!(s.connections.connect_rate_per_s, 50.0);
    assert!(table::render(&s).contains("connect-rate: 100 new connections"));
    // Stopped by the time limit: a note, not a failure.
    r.connected = 60;
    let s = summarize(&c, &r);
    assert_eq!(s.exit_code, EXIT_OK);
    assert!(s.problems.iter().any(|p| p.contains("after 60 of 100")));
    // A refused handshake is connection trouble.
    r.failed = 1;
    assert_eq!(summarize(&c, &r).exit_code, EXIT_CONNECTIONS);
}

#[test]
fn tls_shows_in_the_result() {
    let s = summarize(&cfg("conn -n 2 --tls --insecure"), &run(0, 0, 0));
    assert!(s.tls);
    assert!(table::render(&s).contains("(TLS, MQTT 3.1.1)"));
}

#[test]
fn held_back_publishers_show_in_table_and_json() {
    use crate::stats::held::Held;
    let mut r = run(1000, 1000, 0);
    // 250 ms, then a 5 ms wait that is too short to count.
    let mut held = Held::default();
    held.wait(0);
    held.progress(250_000_000);
    held.wait(300_000_000);
    held.progress(305_000_000);
    r.pubs[0].held = held;
    r.pubs.push(PubResult {
        pub_id: 1,
        win_sent: 0,
        unacked: 0,
        held: Held::default(),
    });
    let s = summarize(&cfg("fanin --publishers 2 --qos 1 --warmup 0"), &r);
    let h = s.held_back.unwrap();
    assert_eq!((h.publishers, h.stretches), (1, 1));
    let text = table::render(&s);
    assert!(
        text.contains("held back    1 of 2 publishers, 250.00ms in all (12.5% of their time), longest 250.00ms, 1 wait >= 10 ms"),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(json["held_back"]["publishers"], 1);
    assert_eq!(json["held_back"]["total_s"], 0.25);
    assert_eq!(json["held_back"]["threshold_ms"], 10);
    // Nobody held back: said so, with the threshold.
    let s = summarize(&cfg(&format!("{FANIN} --qos 1")), &run(10, 10, 0));
    assert!(table::render(&s).contains("held back    0 of 1 publisher (no wait >= 10 ms)"));
    // No publishers, no line.
    let s = summarize(&cfg("conn -n 2"), &run(0, 0, 0));
    assert!(s.held_back.is_none() && !table::render(&s).contains("held back"));
}
