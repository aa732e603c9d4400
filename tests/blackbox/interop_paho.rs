//! Interoperability with Python paho-mqtt 2.x: each `tests/blackbox/paho/*.py`
//! script gets the port as its argument and exits non-zero on failure.
//! A missing python3 or paho-mqtt FAILS the tests.

use crate::common::*;

use std::process::Command;
use std::time::Duration;

fn paho(script: &str) {
    paho_with(script, &[]);
}

/// Run a script with extra arguments after the port.
fn paho_with(script: &str, extra: &[String]) {
    let b = Broker::start("");
    let mut args = vec![b.port.to_string()];
    args.extend_from_slice(extra);
    paho_on(&b, script, &args);
}

/// Run a script against a running broker with these arguments.
pub fn paho_on(_broker: &Broker, script: &str, args: &[String]) {
    require_tool("python3", "--version", "apt-get install python3");
    let probe = run(
        Command::new("python3").args(["-c", "import paho.mqtt.client"]),
        Duration::from_secs(15),
    );
    assert!(
        probe.status.success(),
        "python3 cannot import paho.mqtt: install it with `pip install 'paho-mqtt>=2,<3'`\n{}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let path = format!(
        "{}/tests/blackbox/paho/{script}",
        env!("CARGO_MANIFEST_DIR")
    );
    run_ok(
        Command::new("python3")
            .arg(&path)
            .args(args)
            .env("PYTHONDONTWRITEBYTECODE", "1"),
        Duration::from_secs(60),
    );
}

/// QoS 0/1/2 publish/subscribe, MQTT 3.1.1 and 3.1.
#[test]
fn paho_pubsub() {
    paho("pubsub.py");
}

/// Retained: stored, replaced, deleted; retain flag on delivery.
#[test]
fn paho_retained() {
    paho("retained.py");
}

/// Will on a dropped connection, none after DISCONNECT, will retain.
#[test]
fn paho_will() {
    paho("will.py");
}

/// Persistent session: session present, queued QoS 1 in order. The script
/// gets a probe client ID owned by the same shard as the session: once the
/// probe has every message, that shard handled them while the session was
/// offline (a QoS 0 publish completes on the client before any broker has
/// routed it, so reconnecting right away could legitimately overtake it).
#[test]
fn paho_session() {
    let shard = shardmq::shard::owner_shard(b"paho-persist", SHARDS);
    paho_with("session.py", &[id_on_shard("paho-probe", shard)]);
}

/// Takeover: the older connection with the same client ID is closed.
#[test]
fn paho_takeover() {
    paho("takeover.py");
}

/// MQTT 5: properties, subscription identifiers and topic aliases between
/// paho v5 clients, and v5 ↔ 3.1.1 both ways.
#[test]
fn paho_v5_publish() {
    paho("v5_publish.py");
}

/// MQTT 5: topic aliases from the publisher, session expiry with an
/// offline queue, assigned client identifiers.
#[test]
fn paho_v5_session() {
    paho("v5_session.py");
}
