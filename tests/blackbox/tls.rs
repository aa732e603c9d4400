//! MQTT over TLS (`transport = "tls"`): connect, publish and subscribe
//! across transports and shards, takeover across transports, parking,
//! client certificates (mTLS, identity as user name), certificates
//! re-read on SIGHUP, and every kind of bad handshake refused, counted and
//! harmless to everyone else.

use crate::common::certs::Certs;
use crate::common::client::{dial, tls_handshake};
use crate::common::metrics::*;
use crate::common::*;
use std::io::{Read, Write};

/// A TLS listener with these extra options, plus the metrics endpoint.
fn tls_broker(certs: &Certs, options: &str, extra: &str) -> Option<(Broker, String)> {
    if skip_on_mosquitto("the TLS listener config is shardmq's") {
        return None;
    }
    let cfg = format!(
        "{extra}\n[[listeners]]\nbind = \"127.0.0.1:0\"\ntransport = \"tls\"\n\
         certfile = {}\nkeyfile = {}\n{options}\n",
        certs.toml("server.pem"),
        certs.toml("server.key")
    );
    Some(broker_with_metrics(&cfg))
}

const MTLS: &str = "cafile = CA\nrequire_certificate = true\n";

fn mtls(certs: &Certs, more: &str) -> String {
    format!("{}{more}", MTLS.replace("CA", &certs.toml("ca.pem")))
}

/// CONNECT over `c`, expecting CONNACK 0.
fn connect(mut c: Client, id: &str) -> Client {
    c.send(&Connect::new(id).build());
    c.expect_packet(&connack(false, 0));
    c
}

fn failures(addr: &str, port: u16, cause: &str) -> f64 {
    let series = format!(
        "shardmq_listener_handshake_failures_total{{listener=\"tls:{port}\",cause=\"{cause}\"}}"
    );
    value(&scrape(addr), &series).unwrap_or(0.0)
}

fn wait_failure(addr: &str, port: u16, cause: &str) {
    wait_for(
        addr,
        &format!(
            "shardmq_listener_handshake_failures_total{{listener=\"tls:{port}\",cause=\"{cause}\"}}"
        ),
        1.0,
    );
}

#[test]
fn tls_and_tcp_clients_reach_each_other_on_every_shard() {
    let certs = Certs::new();
    let Some((b, addr)) = tls_broker(&certs, "", "") else {
        return;
    };
    let tls = b.port_of("tls");
    for shard in 0..SHARDS {
        let id = id_on_shard("tls-sub", shard);
        let mut sub = connect(Client::tls(tls, &id, certs.client(None)), &id);
        sub.subscribe("x/#", 1);
        let mut tcp_pub = b.connect(&id_on_shard("tcp-pub", 1 - shard), true);
        tcp_pub.publish("x/1", b"from tcp", 1, false);
        sub.expect_msg("x/1", b"from tcp", 1);

        let mut tcp_sub = b.connect(&id_on_shard("tcp-sub", shard), true);
        tcp_sub.subscribe("y/#", 0);
        let pid = id_on_shard("tls-pub", 1 - shard);
        let mut tls_pub = connect(Client::tls(tls, &pid, certs.client(None)), &pid);
        tls_pub.publish("y/1", b"from tls", 0, false);
        tcp_sub.expect_msg("y/1", b"from tls", 0);
        tls_pub.disconnect();
        sub.disconnect();
    }
    let text = wait_for(
        &addr,
        &format!("shardmq_listener_tls_handshakes_total{{listener=\"tls:{tls}\"}}"),
        (2 * SHARDS) as f64,
    );
    assert!(text.contains(&format!(
        "shardmq_listener_accepted_total{{listener=\"tcp:{}\"}}",
        b.port
    )));
}

#[test]
fn a_tls_connection_takes_over_a_tcp_one_and_back() {
    let certs = Certs::new();
    let Some((b, _)) = tls_broker(&certs, "", "") else {
        return;
    };
    let tls = b.port_of("tls");
    let mut first = b.connect("switcher", false);
    first.subscribe("s/#", 1);
    let mut second = Client::tls(tls, "switcher", certs.client(None));
    second.send(&Connect::new("switcher").clean(false).build());
    second.expect_packet(&connack(true, 0));
    first.expect_closed(WAIT);
    let mut p = b.connect("s-pub", true);
    p.publish("s/1", b"to tls", 1, false);
    second.expect_msg("s/1", b"to tls", 1);
    let (mut third, present) = connect_sp(b.port, "switcher", false);
    assert!(present);
    second.expect_closed(WAIT);
    p.publish("s/2", b"to tcp", 1, false);
    third.expect_msg("s/2", b"to tcp", 1);
}

#[test]
fn parked_tls_connections_answer_pings_and_wake_for_traffic() {
    let certs = Certs::new();
    let park = "[tuning]\npark_after = 0.05\n";
    let Some((b, addr)) = tls_broker(&certs, "", park) else {
        return;
    };
    let tls = b.port_of("tls");
    let mut subs: Vec<Client> = (0..SHARDS)
        .map(|s| {
            let id = id_on_shard("ptls", s);
            let mut c = connect(Client::tls(tls, &id, certs.client(None)), &id);
            c.subscribe("p/#", 1);
            c
        })
        .collect();
    subs[1].subscribe("o/#", 1);
    std::thread::sleep(ms(1100));
    wait_for(&addr, "shardmq_connections_parked", SHARDS as f64);
    for c in &mut subs {
        c.ping(); // decrypted and answered while parked
    }
    wait_for(&addr, "shardmq_pings_while_parked_total", SHARDS as f64);
    let mut p = b.connect("ptls-pub", true);
    p.publish("p/1", b"wake up", 1, false);
    for c in &mut subs {
        c.expect_msg("p/1", b"wake up", 1);
    }
    // Parked again, then woken by the client's own PUBLISH.
    std::thread::sleep(ms(1100));
    wait_for(&addr, "shardmq_connections_parked", SHARDS as f64);
    subs[0].send(&publish("o/2", b"from parked tls", 1, false, 9));
    subs[0].expect_packet(&puback(9));
    subs[1].expect_msg("o/2", b"from parked tls", 1);
}

#[test]
fn client_certificates_are_required_and_checked() {
    let certs = Certs::new();
    let Some((b, addr)) = tls_broker(&certs, &mtls(&certs, ""), "") else {
        return;
    };
    let tls = b.port_of("tls");
    connect(
        Client::tls(tls, "with-cert", certs.client(Some("alice"))),
        "with-cert",
    );
    for (cert, what) in [
        (None, "no certificate"),
        (Some("expired"), "expired"),
        (Some("untrusted"), "another CA"),
    ] {
        let refused = tls_handshake(dial(tls, what), certs.client(cert)).and_then(|mut s| {
            // TLS 1.3: the server's verdict arrives after the client's Finished.
            s.write_all(&Connect::new("x").build())?;
            let mut buf = [0u8; 16];
            match s.read(&mut buf)? {
                0 => Err(std::io::ErrorKind::UnexpectedEof.into()),
                _ => Ok(()),
            }
        });
        assert!(refused.is_err(), "a client with {what} got in");
    }
    wait_for(
        &addr,
        &format!(
            "shardmq_listener_handshake_failures_total{{listener=\"tls:{tls}\",cause=\"client_certificate\"}}"
        ),
        3.0,
    );
    // Nobody else noticed.
    connect(
        Client::tls(tls, "after", certs.client(Some("bob"))),
        "after",
    );
}

#[test]
fn the_certificate_names_the_user() {
    let certs = Certs::new();
    let opts = mtls(&certs, "use_identity_as_username = true\n");
    let Some((b, _)) = tls_broker(&certs, &opts, "[auth]\nallow_anonymous = false\n") else {
        return;
    };
    let tls = b.port_of("tls");
    // No user name or password in the CONNECT: the certificate is enough.
    connect(
        Client::tls(tls, "by-cert", certs.client(Some("alice"))),
        "by-cert",
    );
    // Anonymous over plain TCP is still refused.
    let mut c = b.tcp("anon");
    c.send(&Connect::new("anon").build());
    c.expect_packet(&connack(false, 5));
    // A certificate without a CN names nobody.
    let r = tls_handshake(dial(tls, "no-cn"), certs.client(Some("no-cn"))).and_then(|mut s| {
        s.write_all(&Connect::new("no-cn").build())?;
        let mut buf = [0u8; 4];
        s.read_exact(&mut buf)
    });
    assert!(r.is_err(), "a certificate without CN got a CONNACK");
}

#[test]
fn certificates_are_reread_on_sighup_without_dropping_connections() {
    let certs = Certs::new();
    let Some((b, _)) = tls_broker(&certs, "", "") else {
        return;
    };
    let tls = b.port_of("tls");
    let mut old = connect(Client::tls(tls, "old", certs.client(None)), "old");
    old.subscribe("r/#", 0);
    let fresh = Certs::new(); // another CA and server certificate
    for f in ["server.pem", "server.key"] {
        std::fs::copy(fresh.path(f), certs.path(f)).unwrap();
    }
    b.signal(libc::SIGHUP);
    // Within a tick every shard uses the new certificate.
    let deadline = std::time::Instant::now() + WAIT;
    while tls_handshake(dial(tls, "probe"), fresh.client(None)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "new certificate not in use"
        );
        std::thread::sleep(ms(100));
    }
    for _ in 0..2 * SHARDS {
        assert!(tls_handshake(dial(tls, "stale"), certs.client(None)).is_err());
    }
    let mut p = b.connect("r-pub", true);
    p.publish("r/1", b"still here", 0, false);
    old.expect_msg("r/1", b"still here", 0);
    assert!(b.stderr().contains("reloaded"), "{}", b.stderr());
}

#[test]
fn a_bad_certificate_on_sighup_keeps_the_old_one() {
    let certs = Certs::new();
    let Some((b, _)) = tls_broker(&certs, "", "") else {
        return;
    };
    let tls = b.port_of("tls");
    std::fs::write(certs.path("server.pem"), "not a certificate").unwrap();
    b.signal(libc::SIGHUP);
    std::thread::sleep(ms(500));
    connect(Client::tls(tls, "still-ok", certs.client(None)), "still-ok");
    assert!(b.stderr().contains("reload refused"), "{}", b.stderr());
}

#[test]
fn plain_mqtt_on_the_tls_port_and_tls_on_the_tcp_port_are_refused() {
    let certs = Certs::new();
    let Some((b, addr)) = tls_broker(&certs, "", "") else {
        return;
    };
    let tls = b.port_of("tls");
    let mut plain = dial(tls, "plain-on-tls");
    plain.write_all(&Connect::new("plain").build()).unwrap();
    plain.set_read_timeout(Some(WAIT)).unwrap();
    // An alert at most, then the close.
    let mut got = Vec::new();
    assert!(plain.read_to_end(&mut got).is_ok(), "not closed in time");
    assert!(got.is_empty() || got[0] == 0x15, "not a TLS alert: {got:?}");
    wait_failure(&addr, tls, "not_tls");
    // A ClientHello on the TCP port: its first byte (0x16) reads as a
    // CONNECT with reserved flags set, malformed [MQTT-2.2.2-2].
    let r = tls_handshake(dial(b.port, "tls-on-tcp"), certs.client(None));
    assert!(r.is_err());
    wait_for(&addr, "shardmq_malformed_packets_total", 1.0);
    connect(Client::tls(tls, "fine", certs.client(None)), "fine");
}

#[test]
fn stalled_and_truncated_handshakes_are_closed_in_time() {
    let certs = Certs::new();
    let Some((b, addr)) = tls_broker(&certs, "", "") else {
        return;
    };
    let tls = b.port_of("tls");
    // Slowloris: the first bytes of a record header, then nothing.
    let mut slow = Client::tcp(tls, "slowloris");
    slow.send(&[0x16, 0x03, 0x01]);
    slow.expect_closed(ms(3000)); // connect timeout 0.5 s in tests
    wait_failure(&addr, tls, "timeout");
    // A truncated record after a good handshake: the connection ends at
    // the connect timeout without a CONNECT.
    let mut s = tls_handshake(dial(tls, "truncated"), certs.client(None)).unwrap();
    s.sock
        .write_all(&[0x17, 0x03, 0x03, 0x00, 0x40, 1, 2, 3])
        .unwrap();
    let mut buf = [0u8; 8];
    let t0 = std::time::Instant::now();
    assert!(!matches!(s.read(&mut buf), Ok(n) if n > 0));
    assert!(t0.elapsed() < ms(3000));
    // Garbage in a record: a decrypt failure closes at once.
    let mut g = tls_handshake(dial(tls, "garbage"), certs.client(None)).unwrap();
    g.sock.write_all(&[0x17, 0x03, 0x03, 0x00, 0x20]).unwrap();
    g.sock.write_all(&[0xAB; 0x20]).unwrap();
    assert!(!matches!(g.read(&mut buf), Ok(n) if n > 0));
    let before = failures(&addr, tls, "not_tls");
    connect(Client::tls(tls, "unharmed", certs.client(None)), "unharmed");
    assert_eq!(failures(&addr, tls, "not_tls"), before);
}

#[test]
fn alpn_mqtt_is_accepted_and_a_foreign_protocol_refused() {
    let certs = Certs::new();
    let Some((b, addr)) = tls_broker(&certs, "", "") else {
        return;
    };
    let tls = b.port_of("tls");
    let with_alpn = |protos: &[&[u8]]| {
        let mut cfg = (*certs.client(None)).clone();
        cfg.alpn_protocols = protos.iter().map(|p| p.to_vec()).collect();
        std::sync::Arc::new(cfg)
    };
    let s = tls_handshake(dial(tls, "alpn"), with_alpn(&[b"mqtt"])).unwrap();
    assert_eq!(s.conn.alpn_protocol(), Some(&b"mqtt"[..]));
    let mut c = Client::over(Box::new(s), "alpn");
    c.send(&Connect::new("alpn").build());
    c.expect_packet(&connack(false, 0));
    let r = tls_handshake(dial(tls, "h2"), with_alpn(&[b"h2"]));
    assert!(r.is_err(), "a client speaking only h2 got in");
    wait_failure(&addr, tls, "tls_protocol");
}
