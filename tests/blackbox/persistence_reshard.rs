//! Persistence with another shard count at restart (the log is keyed by
//! partition, so a re-home moves partitions, not sessions), and with the
//! connection machinery that moves sessions around: parked connections and
//! takeover.

use crate::common::durable::*;
use crate::common::metrics::*;
use crate::common::*;
use crate::persistence_sess::Sess;
use shardmq::shard::owner_shard;

/// Sessions (both versions) and retained topics that land on every shard
/// for each of `counts`.
fn spread(prefix: &str, counts: &[usize]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in 0.. {
        let covered = counts.iter().all(|&n| {
            (0..n).all(|s| {
                out.iter()
                    .filter(|id| owner_shard(id.as_bytes(), n) == s)
                    .count()
                    >= 2
            })
        });
        if covered {
            return out;
        }
        out.push(format!("{prefix}-{i}"));
    }
    unreachable!()
}

/// Start with 2 shards; restart with 1, 3, then 2 again (SIGTERM and
/// SIGKILL alternating). Every time: each session is present with its
/// subscriptions (a message published before the restart is queued for
/// it, in order, and one published after arrives live), and every retained
/// message is there.
#[test]
fn sessions_queues_and_retained_survive_other_shard_counts() {
    if skip_on_mosquitto("shardmq's --data-dir") {
        return;
    }
    let counts = [2, 1, 3, 2];
    let (mut b, _data) = durable("");
    let sync = Sync::new(&b);
    let ids = spread("rh", &counts);
    let sessions: Vec<Sess> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            if i % 2 == 0 {
                Sess::v3(id)
            } else {
                Sess::v5(id)
            }
        })
        .collect();
    for (i, s) in sessions.iter().enumerate() {
        let mut c = s.create(b.port);
        s.subscribe(&mut c, &[(&format!("rh/{i}"), 1), ("rh/all", 2)]);
        s.leave(c);
    }
    let topics = spread("rr/t", &counts);
    let mut p = b.connect("rh-pub", true);
    for t in &topics {
        p.publish(t, t.as_bytes(), 1, true);
    }
    p.disconnect();
    for (stage, &n) in counts.iter().enumerate().skip(1) {
        let mut p = b.connect("rh-pub", true);
        for (i, _) in sessions.iter().enumerate() {
            p.publish(
                &format!("rh/{i}"),
                format!("s{stage}-own").as_bytes(),
                1,
                false,
            );
        }
        p.publish("rh/all", format!("s{stage}-all").as_bytes(), 2, false);
        p.disconnect();
        if stage % 2 == 1 {
            b.stop();
        } else {
            b.kill9();
        }
        b.restart_shards(n);
        eprintln!("stage {stage}: restarted with {n} shards");
        for (i, s) in sessions.iter().enumerate() {
            let mut c = s.resume(b.port);
            s.expect(&mut c, &format!("rh/{i}"), &format!("s{stage}-own"), 1);
            s.expect(&mut c, "rh/all", &format!("s{stage}-all"), 2);
            s.quiet(&mut c);
            let mut p = b.connect("rh-live", true);
            p.publish(&format!("rh/{i}"), b"live", 1, false);
            s.expect(&mut c, &format!("rh/{i}"), "live", 1);
            p.disconnect();
            s.leave(c);
        }
        let mut r = b.connect("rh-reader", true);
        r.subscribe("rr/#", 1);
        let mut got = Vec::new();
        while let Recv::Packet(f, body) = r.try_recv(ms(500)) {
            let m = Publish::parse(f, &body);
            r.ack(&m);
            got.push(m.payload_str());
        }
        got.sort();
        let mut want = topics.clone();
        want.sort();
        assert_eq!(got, want, "stage {stage} ({n} shards): retained messages");
        r.disconnect();
        // The acks above are on disk before the next kill.
        sync.sync(&b);
    }
}

/// Connections park after 50 ms idle; a parked persistent subscriber gets
/// QoS 1 and 2 messages; some it leaves unacknowledged; SIGKILL, restart:
/// session present 1, the unacknowledged ones again (DUP), nothing lost,
/// and it parks and receives again.
#[test]
fn parked_persistent_sessions_across_sigkill() {
    if skip_on_mosquitto("shardmq's --data-dir and parking") {
        return;
    }
    let config = "metrics_listen = \"127.0.0.1:0\"\n[tuning]\npark_after = 0.05\n";
    let (mut b, _data) = durable(config);
    let mut addr = metrics_addr(&b);
    let sessions = Sess::both_on_every_shard("park");
    let mut clients: Vec<Client> = sessions
        .iter()
        .map(|s| {
            let mut c = s.create(b.port);
            s.subscribe(&mut c, &[("pk/#", 2)]);
            c
        })
        .collect();
    let parked = |addr: &str, n: usize| {
        std::thread::sleep(ms(1100));
        wait_for(addr, "shardmq_connections_parked", n as f64);
    };
    parked(&addr, sessions.len());
    let mut p = b.connect("park-pub", true);
    p.publish("pk/a", b"acked", 1, false);
    p.publish("pk/b", b"unacked1", 1, false);
    p.publish("pk/c", b"unacked2", 2, false);
    p.disconnect();
    let mut unacked = Vec::new();
    for (s, c) in sessions.iter().zip(&mut clients) {
        s.expect(c, "pk/a", "acked", 1);
        let m1 = s.recv(c);
        let m2 = s.recv(c);
        assert_eq!(
            (m1.text(), m2.text()),
            ("unacked1".into(), "unacked2".into())
        );
        unacked.push((m1, m2));
    }
    // A later message for them waits behind nothing: make all durable.
    let sync = Sync::new(&b);
    sync.sync(&b);
    b.kill9();
    drop(clients);
    b.restart();
    addr = metrics_addr(&b);
    let mut clients = Vec::new();
    for (s, (m1, m2)) in sessions.iter().zip(&unacked) {
        let mut c = s.resume(b.port);
        for m in [m1, m2] {
            let again = s.recv(&mut c);
            assert_eq!(
                (&again.topic, &again.payload, again.pid, again.dup),
                (&m.topic, &m.payload, m.pid, true),
                "[{}] resent with DUP and the same packet id",
                s.id
            );
            s.ack(&mut c, &again);
        }
        s.quiet(&mut c);
        clients.push(c);
    }
    parked(&addr, sessions.len());
    let mut p = b.connect("park-pub", true);
    p.publish("pk/d", b"after", 2, false);
    for (s, c) in sessions.iter().zip(&mut clients) {
        s.expect(c, "pk/d", "after", 2);
        s.quiet(c);
    }
}

/// Takeover with persistence on: a second connection with the client ID
/// takes the session (present 1) with its unacknowledged messages (resent
/// with DUP) and queue; SIGKILL; a third connection after the restart has
/// the session again and nothing is lost or delivered twice at QoS 2.
#[test]
fn takeover_with_persistence_across_sigkill() {
    if skip_on_mosquitto("shardmq's --data-dir") {
        return;
    }
    let (mut b, _data) = durable("");
    let sync = Sync::new(&b);
    for shard in 0..SHARDS {
        let s = Sess::v3(&id_on_shard("tko", shard));
        let topic = format!("tko/{shard}");
        let mut first = s.create(b.port);
        s.subscribe(&mut first, &[(&topic, 2)]);
        let mut p = b.connect(&id_on_shard("tko-pub", 1 - shard), true);
        p.publish(&topic, b"one", 2, false);
        let m = s.recv(&mut first);
        assert_eq!(m.text(), "one");
        let mut second = s.resume(b.port);
        first.expect_closed(WAIT);
        let again = s.recv(&mut second);
        assert_eq!(
            (again.text(), again.pid, again.dup),
            ("one".into(), m.pid, true)
        );
        s.ack(&mut second, &again);
        p.publish(&topic, b"two", 2, false);
        let two = s.recv(&mut second);
        assert_eq!(two.text(), "two");
        // "two" left unacknowledged; "three" queued behind it.
        p.publish(&topic, b"three", 1, false);
        sync.sync(&b);
        b.kill9();
        drop(second);
        b.restart();
        let mut third = s.resume(b.port);
        let two_again = s.recv(&mut third);
        assert_eq!(
            (two_again.text(), two_again.pid, two_again.dup),
            ("two".into(), two.pid, true)
        );
        s.ack(&mut third, &two_again);
        let m3 = s.recv(&mut third);
        assert_eq!((m3.text(), m3.qos), ("three".into(), 1));
        s.ack(&mut third, &m3);
        s.quiet(&mut third);
        // A takeover after the restart keeps the session as well.
        let mut fourth = s.resume(b.port);
        third.expect_closed(WAIT);
        let mut p = b.connect(&id_on_shard("tko-pub", 1 - shard), true);
        p.publish(&topic, b"four", 2, false);
        s.expect(&mut fourth, &topic, "four", 2);
        s.quiet(&mut fourth);
        s.leave(fourth);
    }
}
