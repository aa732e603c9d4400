//! What docs/deploy.md tells an operator to use: the systemd unit in
//! scripts/ and the example configuration with the four usual ports.

use crate::common::certs::Certs;
use crate::common::*;
use std::process::Command;
use std::time::Duration;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn the_systemd_unit_verifies_and_sets_the_limits() {
    let unit = std::fs::read_to_string(format!("{ROOT}/scripts/shardmq.service")).unwrap();
    for needed in [
        "LimitNOFILE=",
        "LimitMEMLOCK=infinity",
        "AmbientCapabilities=CAP_NET_BIND_SERVICE",
        "ExecReload=/bin/kill -HUP $MAINPID",
    ] {
        assert!(unit.contains(needed), "the unit lacks {needed}");
    }
    require_tool("systemd-analyze", "--version", "apt-get install systemd");
    // Point it at the binary under test, so the check covers ExecStart too.
    let dir = crate::common::broker::TempDir::new("unit");
    let path = dir.path().join("shardmq.service");
    let bin = crate::common::broker::SHARDMQ;
    std::fs::write(&path, unit.replace("/usr/bin/shardmq", bin)).unwrap();
    let out = run(
        Command::new("systemd-analyze").arg("verify").arg(&path),
        Duration::from_secs(30),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    // Only the unit's own lines count (a container may lack other units).
    let ours: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("shardmq.service"))
        .collect();
    assert!(out.status.success() && ours.is_empty(), "{err}");
}

/// The first ```toml block of docs/deploy.md after `## 2. Ports`.
fn deploy_example() -> String {
    let doc = std::fs::read_to_string(format!("{ROOT}/docs/deploy.md")).unwrap();
    let from = doc.find("## 2. Ports").unwrap();
    let block = doc[from..].split("```toml\n").nth(1).unwrap();
    block.split("```").next().unwrap().to_string()
}

#[test]
fn the_four_port_example_starts_and_serves_tcp_and_tls() {
    if skip_on_mosquitto("shardmq's config") {
        return;
    }
    let certs = Certs::new();
    let cfg = deploy_example()
        .replace("0.0.0.0:1883", "127.0.0.1:0")
        .replace("0.0.0.0:8883", "127.0.0.1:0")
        .replace("0.0.0.0:8083", "127.0.0.1:0")
        .replace("0.0.0.0:8084", "127.0.0.1:0")
        .replace("metrics_listen = \"127.0.0.1:9883\"", "")
        .replace(
            "\"/etc/shardmq/certs/server.pem\"",
            &certs.toml("server.pem"),
        )
        .replace(
            "\"/etc/shardmq/certs/server.key\"",
            &certs.toml("server.key"),
        )
        .lines()
        // The [auth] files are covered by their own tests.
        .filter(|l| !l.starts_with("password_file") && !l.starts_with("acl_file"))
        .collect::<Vec<_>>()
        .join("\n");
    let b = Broker::start(&cfg);
    let kinds: Vec<&str> = b.listeners.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["tcp", "tls", "ws", "wss"]);
    let tcp = b.port_of("tcp");
    let mut c = Client::tcp(tcp, "deploy-tcp");
    // allow_anonymous = false in the example.
    c.send(&Connect::new("deploy-tcp").build());
    c.expect_packet(&connack(false, 5));
    let mut t = Client::tls(b.port_of("tls"), "deploy-tls", certs.client(None));
    t.send(&Connect::new("deploy-tls").build());
    t.expect_packet(&connack(false, 5));
}
