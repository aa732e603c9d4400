//! Idle connections park (`tuning.park_after`): their task and io_uring
//! state are freed and an epoll set watches the socket. A parked connection
//! must behave exactly like a live one: deliveries reach it at every QoS,
//! its own packets are read, keep-alive, wills, takeover and DISCONNECT all
//! work. Each test first waits until the metrics show the connections parked.

use crate::common::metrics::*;
use crate::common::*;

/// Connections park after 50 ms idle (the wheel looks once a second).
const PARKING: &str = "[tuning]\npark_after = 0.05\n";

fn broker(extra: &str) -> Option<(Broker, String)> {
    if skip_on_mosquitto("parking is shardmq's") {
        return None;
    }
    Some(broker_with_metrics(&format!("{PARKING}{extra}")))
}

/// Wait until at least `n` connections are parked. Shards post their
/// numbers once a second: first let the board catch up with what we did.
fn parked(addr: &str, n: usize) {
    std::thread::sleep(ms(1100));
    wait_for(addr, "shardmq_connections_parked", n as f64);
}

#[test]
fn parked_subscribers_get_deliveries_at_every_qos() {
    let Some((b, addr)) = broker("") else { return };
    let mut subs: Vec<Client> = (0..SHARDS)
        .map(|s| {
            let mut c = b.connect(&id_on_shard("psub", s), true);
            c.subscribe("p/#", 2);
            c
        })
        .collect();
    for qos in 0..=2 {
        parked(&addr, SHARDS);
        let mut p = b.connect(&format!("ppub{qos}"), true);
        p.publish("p/q", format!("at {qos}").as_bytes(), qos, false);
        for s in &mut subs {
            s.expect_msg("p/q", format!("at {qos}").as_bytes(), qos);
        }
        p.disconnect();
    }
    wait_for(&addr, "shardmq_unparks_total", 3.0 * SHARDS as f64);
}

#[test]
fn a_parked_publisher_is_read_when_it_sends() {
    let Some((b, addr)) = broker("") else { return };
    for shard in 0..SHARDS {
        let mut sub = b.connect(&id_on_shard("rsub", 1 - shard), true);
        sub.subscribe("r/#", 1);
        let mut p = b.connect(&id_on_shard("rpub", shard), true);
        parked(&addr, 2);
        p.send(&publish("r/x", b"woken", 1, false, 7));
        p.expect_packet(&puback(7));
        sub.expect_msg("r/x", b"woken", 1);
        sub.close();
        p.disconnect();
    }
}

#[test]
fn pings_are_answered_without_waking_and_keep_it_alive() {
    let Some((b, addr)) = broker("") else { return };
    let ka = Connect::new("pinger").keepalive(2); // closed after 3 s of silence
    let mut c = connect_with(b.port, &ka, &connack(false, 0));
    parked(&addr, 1);
    for _ in 0..4 {
        c.ping(); // expects the PINGRESP
        std::thread::sleep(ms(1000));
    }
    wait_for(&addr, "shardmq_pings_while_parked_total", 4.0);
    let text = scrape(&addr);
    assert_eq!(value(&text, "shardmq_unparks_total"), Some(0.0), "{text}");
    assert_eq!(value(&text, "shardmq_keepalive_timeouts_total"), Some(0.0));
    // Two pings in one read, then a PUBLISH behind a ping: both handled.
    c.send(&[0xC0, 0, 0xC0, 0]);
    c.expect_packet(&[0xD0, 0]);
    c.expect_packet(&[0xD0, 0]);
    c.subscribe("ping/#", 0);
    std::thread::sleep(ms(1500));
    c.send(&[&[0xC0, 0][..], &publish("ping/x", b"after", 0, false, 0)].concat());
    c.expect_packet(&[0xD0, 0]);
    c.expect_msg("ping/x", b"after", 0);
}

#[test]
fn acks_from_a_parked_subscriber_release_the_next_message() {
    let Some((b, addr)) = broker("[limits]\nmax_inflight = 1\n") else {
        return;
    };
    let mut sub = b.connect(&id_on_shard("asub", 1), true);
    sub.subscribe("a/#", 1);
    let mut p = b.connect(&id_on_shard("apub", 0), true);
    p.publish("a/1", b"one", 1, false);
    p.publish("a/2", b"two", 1, false);
    let first = sub.expect_publish("a/1", b"one", 1);
    sub.expect_no_packet(QUIET); // the window of 1 holds the second
    parked(&addr, 2);
    sub.ack(&first);
    let second = sub.expect_msg("a/2", b"two", 1);
    assert!(!second.dup());
}

#[test]
fn keep_alive_closes_a_parked_connection() {
    let Some((b, addr)) = broker("") else { return };
    let mut c = connect_with(
        b.port,
        &Connect::new("sleeper").keepalive(2),
        &connack(false, 0),
    );
    parked(&addr, 1);
    // 1.5 × 2 s after CONNACK, plus the wheel's second and slack.
    let t = c.time_until_closed(ms(5500));
    assert!(t < ms(5000), "closed after {t:?}");
    wait_for(&addr, "shardmq_keepalive_timeouts_total", 1.0);
}

#[test]
fn will_published_when_a_parked_client_vanishes_not_after_disconnect() {
    let Some((b, addr)) = broker("") else { return };
    let mut w = b.connect(&id_on_shard("pwatch", 0), true);
    w.subscribe("will/#", 1);
    let will = |id: &str, payload: &[u8]| {
        let c = Connect::new(&id_on_shard(id, 1)).will("will/x", payload, 1, false);
        connect_with(b.port, &c, &connack(false, 0))
    };
    let gone = will("pgone", b"vanished");
    let polite = will("ppolite", b"never");
    parked(&addr, 3);
    polite.disconnect();
    gone.close();
    w.expect_msg("will/x", b"vanished", 1);
    w.expect_no_packet(QUIET);
}

#[test]
fn takeover_of_a_parked_connection() {
    let Some((b, addr)) = broker("") else { return };
    for shard in 0..SHARDS {
        let id = id_on_shard("ptake", shard);
        let mut old = b.connect(&id, false);
        old.subscribe("t/#", 1);
        parked(&addr, 1);
        let (mut new, present) = connect_sp(b.port, &id, false);
        assert!(present, "the session survives the takeover");
        old.expect_closed(WAIT);
        let mut p = b.connect("ptake-pub", true);
        p.publish("t/x", b"to the new one", 1, false);
        new.expect_msg("t/x", b"to the new one", 1);
        new.disconnect();
        p.disconnect();
    }
}

#[test]
fn hundreds_of_parked_subscribers_all_get_a_broadcast() {
    let Some((b, addr)) = broker("") else { return };
    let n = 300;
    let mut subs: Vec<Client> = (0..n)
        .map(|i| {
            let mut c = b.connect(&format!("many-{i}"), true);
            c.subscribe("all/news", 0);
            c
        })
        .collect();
    parked(&addr, n);
    let mut p = b.connect("many-pub", true);
    p.publish("all/news", b"hello", 0, false);
    for s in &mut subs {
        s.expect_msg("all/news", b"hello", 0);
    }
}
