//! Real clients over TLS: `mosquitto_pub`/`mosquitto_sub` with `--cafile`,
//! `--cert`/`--key`, and paho-mqtt with `tls_set`. Missing tools FAIL.

use crate::common::certs::Certs;
use crate::common::*;
use std::process::Command;
use std::time::Duration;

const TOOL_WAIT: Duration = Duration::from_secs(15);

/// A broker with a TLS listener that asks for (but does not require) a
/// client certificate.
fn broker(certs: &Certs, extra: &str) -> Broker {
    Broker::start(&format!(
        "[[listeners]]\nbind = \"127.0.0.1:0\"\ntransport = \"tls\"\n\
         certfile = {}\nkeyfile = {}\ncafile = {}\n{extra}",
        certs.toml("server.pem"),
        certs.toml("server.key"),
        certs.toml("ca.pem"),
    ))
}

/// `program` against the TLS port, trusting the test CA.
fn tool(b: &Broker, certs: &Certs, program: &str) -> Command {
    require_tool(program, "--help", "apt-get install mosquitto-clients");
    let mut cmd = Command::new(program);
    cmd.args(["-h", "localhost", "-p", &b.port_of("tls").to_string()]);
    cmd.arg("--cafile").arg(certs.path("ca.pem"));
    cmd
}

fn with_cert(cmd: &mut Command, certs: &Certs, name: &str) {
    cmd.arg("--cert").arg(certs.path(&format!("{name}.pem")));
    cmd.arg("--key").arg(certs.path(&format!("{name}.key")));
}

#[test]
fn mosquitto_clients_over_tls_and_mtls() {
    if skip_on_mosquitto("TLS listener config is shardmq's") {
        return;
    }
    let certs = Certs::new();
    let b = broker(&certs, "");
    let mut sub = b.connect("raw-sub", true);
    sub.subscribe("mt/#", 1);
    for v in ["mqttv311", "mqttv5"] {
        let m = format!("tls {v}");
        run_ok(
            tool(&b, &certs, "mosquitto_pub").args(["-V", v, "-q", "1", "-t", "mt/a", "-m", &m]),
            TOOL_WAIT,
        );
        sub.expect_msg("mt/a", m.as_bytes(), 1);
    }
    let mut pub_cert = tool(&b, &certs, "mosquitto_pub");
    with_cert(&mut pub_cert, &certs, "alice");
    run_ok(
        pub_cert.args(["-q", "1", "-t", "mt/b", "-m", "mtls"]),
        TOOL_WAIT,
    );
    sub.expect_msg("mt/b", b"mtls", 1);
    // mosquitto_sub over TLS receives a message published over TCP.
    require_tool("stdbuf", "--version", "apt-get install coreutils");
    let mut cmd = Command::new("stdbuf");
    cmd.args(["-oL", "mosquitto_sub", "-h", "localhost", "-d", "-v"]);
    cmd.args(["-p", &b.port_of("tls").to_string(), "-t", "mt/c"]);
    cmd.arg("--cafile").arg(certs.path("ca.pem"));
    let mut msub = Proc::spawn(&mut cmd);
    msub.expect_line("reporting the SUBACK", |l| l.contains("received SUBACK"));
    b.connect("tcp-pub", true)
        .publish("mt/c", b"to mosquitto_sub", 0, false);
    msub.expect_line("with the message", |l| l == "mt/c to mosquitto_sub");
}

/// paho-mqtt with `tls_set`, server-only and with a client certificate.
#[test]
fn paho_over_tls_and_mtls() {
    if skip_on_mosquitto("TLS listener config is shardmq's") {
        return;
    }
    let certs = Certs::new();
    let b = broker(&certs, "");
    crate::interop_paho::paho_on(
        &b,
        "tls.py",
        &[
            b.port_of("tls").to_string(),
            b.port.to_string(),
            certs.path("").display().to_string(),
        ],
    );
}
