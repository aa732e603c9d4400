use super::*;

fn cfg(args: &str) -> Result<Config, String> {
    from_args(args)
}

fn err(args: &str) -> String {
    cfg(args).expect_err(args)
}

#[test]
fn defaults_of_fanin() {
    let c = cfg("fanin").unwrap();
    assert_eq!((c.publishers, c.subscribers), (10, 1));
    assert_eq!(c.topic, "bench/%i/t");
    assert_eq!(c.filter, "bench/+/t");
    assert_eq!(c.expect, Expect::AllToAll);
    assert_eq!(c.load.qos, QoS::AtMostOnce);
    assert_eq!(c.load.drain_ns, 2_000_000_000);
    assert_eq!(c.load.inflight, 100);
    assert_eq!(c.version, ProtocolVersion::V3_1_1);
    assert_eq!(c.addr, "127.0.0.1:1883".parse().unwrap());
}

#[test]
fn defaults_of_fanout_and_p2p() {
    let c = cfg("fanout --subscribers 3").unwrap();
    assert_eq!((c.publishers, c.subscribers), (1, 3));
    assert_eq!(c.filter, "bench/fanout");
    let c = cfg("p2p --pairs 4 --qos 2").unwrap();
    assert_eq!(
        (c.publishers, c.subscribers, c.expect),
        (4, 4, Expect::Pairs)
    );
    assert_eq!(c.load.qos, QoS::ExactlyOnce);
}

#[test]
fn shared_group_subscribes_to_share_and_expects_once_per_group() {
    let c = cfg("fanout --subscribers 4 --shared-group workers").unwrap();
    assert_eq!(c.filter, "$share/workers/bench/fanout");
    assert_eq!(c.expect, Expect::OncePerGroup);
    let c = cfg("fanin --shared-group g --qos 1").unwrap();
    assert_eq!(c.filter, "$share/g/bench/+/t");
    assert!(err("fanin --shared-group a+b").contains("share name"));
}

#[test]
fn small_payload_is_refused() {
    assert!(err("fanin --payload 15").contains("16-byte header"));
    assert_eq!(cfg("fanin --payload 16").unwrap().load.payload, 16);
}

#[test]
fn impossible_numbers_are_refused() {
    assert!(err("fanin --qos 3").contains("--qos"));
    assert!(err("fanin --rate 0").contains("--rate"));
    assert!(err("fanin --rate=-5").contains("--rate"));
    assert!(err("fanin --duration 0").contains("--duration"));
    assert!(err("fanin --warmup=-1").contains("--warmup"));
    assert!(err("fanin --inflight 0").contains("--inflight"));
    assert!(err("fanin --inflight 70000").contains("--inflight"));
    assert!(err("fanin --publishers 0").contains("--publishers"));
    assert!(err("conn --rate 0").contains("--rate"));
    assert!(err("conn -n 0").contains("--count"));
}

#[test]
fn unknown_options_are_refused() {
    assert!(err("fanin --bogus 1").contains("--bogus"));
    assert!(err("conn --payload 64").contains("--payload"));
    assert!(err("nosuchscenario").contains("nosuchscenario"));
}

#[test]
fn mqtt_versions() {
    assert!(err("conn --mqtt 4.0").contains("3.1.1"));
    assert_eq!(
        cfg("conn --mqtt 3.1").unwrap().version,
        ProtocolVersion::V3_1
    );
}

#[test]
fn mqtt31_client_ids_must_fit_23_chars() {
    let long = "conn --mqtt 3.1 --client-id a-very-long-client-id-%i";
    assert!(err(long).contains("23"));
    assert!(cfg("conn --mqtt 3.1 -n 100").is_ok());
}

#[test]
fn client_ids_must_be_unique() {
    assert!(err("fanin --client-id c%i").contains("%R"));
    assert!(err("conn -n 2 --client-id same").contains("%i"));
    assert!(cfg("conn -n 1 --client-id same").is_ok());
    assert!(err("conn --client-id x%q").contains("%q"));
}

#[test]
fn topics_and_filters() {
    let c = cfg("fanin --topic x/%r/%i").unwrap();
    assert_eq!(c.filter, "x/%r/+");
    assert!(err("fanin --topic x/t%i").contains("--filter"));
    assert!(cfg("fanin --topic x/t%i --filter x/#").is_ok());
    assert!(err("fanin --filter other/+").contains("does not match"));
    assert!(err("fanin --topic a/+/%i").contains("--topic"));
    assert!(err("p2p --topic same").contains("%i"));
    assert!(err("sub --topic a/#/b").contains("filter"));
    assert!(err("fanout --filter f/%i").contains("%i"));
}

#[test]
fn password_needs_username() {
    assert!(err("conn --password x").contains("--username"));
    assert!(cfg("conn --username u --password x").is_ok());
}

#[test]
fn conn_options() {
    let c = cfg("conn -n 2000 --rate 1000 --hold 3").unwrap();
    assert_eq!(
        (c.idle, c.conn_rate, c.hold_ns),
        (2000, 1000.0, 3_000_000_000)
    );
    assert_eq!(c.ping_ns, 30_000_000_000, "keepalive/2");
    assert!(err("conn --keepalive 10 --ping-interval 20").contains("--keepalive"));
}

#[test]
fn source_ips() {
    let ips = parse::ip_list("127.0.0.2-127.0.0.4, 127.0.1.1").unwrap();
    let want: Vec<IpAddr> = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.1.1"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(ips, want);
    assert!(parse::ip_list("127.0.0.9-127.0.0.2").is_err());
    assert!(parse::ip_list("10.0.0.0-10.255.255.255").is_err());
    assert!(parse::ip_list("localhost").is_err());
    assert!(err("conn --source-ips ::1").contains("family"));
}

#[test]
fn threads_and_pinning() {
    let c = cfg("conn --cpus 0").unwrap();
    assert_eq!((c.threads, c.cpus.clone()), (1, Some(vec![0])));
    let c = cfg("conn --threads 1 --pin").unwrap();
    assert_eq!(c.cpus, Some(vec![0]));
    assert!(err("conn --cpus 9999").contains("9999"));
    assert!(err("conn --threads 0").contains("--threads"));
    assert_eq!(parse::cpu_list("0,2-3").unwrap(), vec![0, 2, 3]);
}

#[test]
fn filter_matches_follows_the_topic_rules() {
    use super::parse::filter_matches as m;
    for (f, t) in [
        ("a/b", "a/b"),
        ("a/+", "a/b"),
        ("+/+", "/x"),
        ("a/#", "a"),
        ("a/#", "a/b/c"),
        ("#", "a/b"),
        ("a/+/c", "a//c"),
        ("$SYS/#", "$SYS/x"),
    ] {
        assert!(m(f, t), "{f} should match {t}");
    }
    for (f, t) in [
        ("a/b", "a"),
        ("a", "a/b"),
        ("a/+", "a"),
        ("a/+", "a/b/c"),
        ("+/x", "$SYS/x"),
        ("#", "$SYS"),
        ("a/b", "a/c"),
    ] {
        assert!(!m(f, t), "{f} should not match {t}");
    }
}

#[test]
fn mqtt_5_and_topic_aliases() {
    assert_eq!(
        cfg("conn --mqtt-version 5").unwrap().version,
        ProtocolVersion::V5
    );
    let c = cfg("p2p --mqtt-version 5 --topic-alias").unwrap();
    assert!(c.topic_alias);
    assert!(cfg("p2p --topic-alias")
        .unwrap_err()
        .contains("--mqtt-version 5"));
}

#[test]
fn connect_rate_options() {
    let c = cfg("connect-rate").unwrap();
    assert_eq!(
        (c.kind, c.cycles, c.concurrency),
        (Kind::ConnectRate, 1000, 10)
    );
    assert_eq!(c.time_limit_ns, 60_000_000_000);
    assert_eq!(
        (c.connections(), c.handshakes()),
        (10, 1000),
        "fds vs handshakes"
    );
    assert_eq!(c.ping_ns, 0);
    let c = cfg("connect-rate --connections 500 --concurrency 50 --time-limit 2.5").unwrap();
    assert_eq!(
        (c.cycles, c.concurrency, c.time_limit_ns),
        (500, 50, 2_500_000_000)
    );
    assert!(err("connect-rate -n 0").contains("--connections"));
    assert!(err("connect-rate -c 0").contains("--concurrency"));
    assert!(err("connect-rate -n 5 -c 6").contains("--concurrency 6"));
    assert!(err("connect-rate --time-limit 0").contains("--time-limit"));
    assert!(err("connect-rate -n 2 -c 1 --client-id same").contains("%i"));
    assert!(err("connect-rate --qos 1").contains("--qos"));
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, as
/// PEM files in a fresh directory (made here, never committed).
fn pki() -> std::path::PathBuf {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("shardmq-bench-pki-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    let key = KeyPair::generate().unwrap();
    let client = CertificateParams::new(vec!["client".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    std::fs::write(dir.join("client.pem"), client.pem()).unwrap();
    std::fs::write(dir.join("client.key"), key.serialize_pem()).unwrap();
    dir
}

#[test]
fn tls_needs_a_trust_decision() {
    assert!(cfg("fanin").unwrap().tls.is_none());
    assert!(err("fanin --tls").contains("--cafile FILE"));
    let c = cfg("p2p --tls --insecure").unwrap();
    let tls = c.tls.unwrap();
    assert_eq!(tls.server_name, "127.0.0.1".try_into().unwrap());
    assert!(!tls.config.client_auth_cert_resolver.has_certs());
    let dir = pki();
    let ca = dir.join("ca.pem");
    let ca = ca.display();
    assert!(cfg(&format!("conn --tls --cafile {ca}")).is_ok());
    assert!(err(&format!("conn --tls --cafile {ca} --insecure")).contains("contradict"));
}

#[test]
fn tls_options_need_tls() {
    for opt in [
        "--cafile ca.pem",
        "--insecure",
        "--cert c.pem",
        "--key c.key",
        "--server-name x",
    ] {
        let name = opt.split(' ').next().unwrap();
        assert_eq!(err(&format!("fanin {opt}")), format!("{name} needs --tls"));
    }
}

#[test]
fn tls_files_are_read_and_checked() {
    let dir = pki();
    let f = |name: &str| dir.join(name).display().to_string();
    let missing = err("conn --tls --cafile /nonexistent/ca.pem");
    assert!(
        missing.contains("--cafile /nonexistent/ca.pem"),
        "{missing}"
    );
    let key_as_ca = err(&format!("conn --tls --cafile {}", f("client.key")));
    assert!(key_as_ca.contains("no PEM certificate"), "{key_as_ca}");
    let mtls = format!(
        "conn --tls --cafile {} --cert {} --key {}",
        f("ca.pem"),
        f("client.pem"),
        f("client.key")
    );
    let tls = cfg(&mtls).unwrap().tls.unwrap();
    assert!(tls.config.client_auth_cert_resolver.has_certs());
    assert!(err(&format!("conn --tls --insecure --cert {}", f("client.pem"))).contains("--key"));
    assert!(err(&format!("conn --tls --insecure --key {}", f("client.key"))).contains("--cert"));
    let no_key = err(&format!(
        "conn --tls --insecure --cert {} --key {}",
        f("client.pem"),
        f("ca.pem")
    ));
    assert!(no_key.contains("no usable private key"), "{no_key}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tls_server_name() {
    let c = cfg("fanin --tls --insecure --server-name broker.example").unwrap();
    assert_eq!(
        c.tls.unwrap().server_name,
        "broker.example".try_into().unwrap()
    );
    assert!(err("fanin --tls --insecure --server-name bad_name!").contains("--server-name"));
    assert!(err("fanin --tls --insecure --host localhost --server-name ..").contains(".."));
}
