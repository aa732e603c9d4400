//! Interoperability with the `mosquitto_pub` / `mosquitto_sub` clients
//! (Debian package `mosquitto-clients`). Missing tools FAIL the tests.

use crate::common::*;

use std::process::Command;
use std::time::Duration;

const TOOL_WAIT: Duration = Duration::from_secs(15);

fn tool(b: &Broker, program: &str) -> Command {
    tool_version(b, program, "mqttv311")
}

/// `version`: mosquitto's `-V` value (mqttv31, mqttv311, mqttv5).
fn tool_version(b: &Broker, program: &str, version: &str) -> Command {
    require_tool(program, "--help", "apt-get install mosquitto-clients");
    let mut cmd = Command::new(program);
    cmd.args(["-h", "127.0.0.1", "-p", &b.port.to_string(), "-V", version]);
    cmd
}

/// Same, with stdout line-buffered (`stdbuf -oL`, coreutils) so lines can
/// be read while the tool runs.
fn line_buffered(b: &Broker, program: &str, version: &str) -> Command {
    require_tool(program, "--help", "apt-get install mosquitto-clients");
    require_tool("stdbuf", "--version", "apt-get install coreutils");
    let mut cmd = Command::new("stdbuf");
    cmd.args(["-oL", program, "-h", "127.0.0.1", "-p", &b.port.to_string()]);
    cmd.args(["-V", version]);
    cmd
}

fn mosquitto_pub(b: &Broker, args: &[&str]) {
    run_ok(tool(b, "mosquitto_pub").args(args), TOOL_WAIT);
}

/// `mosquitto_sub -d -v ...` started and subscribed (SUBACK seen).
fn mosquitto_sub(b: &Broker, args: &[&str]) -> Proc {
    mosquitto_sub_version(b, "mqttv311", args)
}

fn mosquitto_sub_version(b: &Broker, version: &str, args: &[&str]) -> Proc {
    let mut p = Proc::spawn(
        line_buffered(b, "mosquitto_sub", version)
            .args(["-d", "-v"])
            .args(args),
    );
    p.expect_line("reporting the SUBACK", |l| l.contains("received SUBACK"));
    p
}

/// mosquitto_pub at QoS 0/1/2 (MQTT 3.1.1 and 3.1) -> raw subscriber.
#[test]
fn mosquitto_pub_to_raw_subscriber() {
    let b = Broker::start("");
    let mut sub = b.connect("raw-sub", true);
    sub.subscribe("ip/#", 2);
    for qos in 0..3u8 {
        let topic = format!("ip/{qos}");
        let payload = format!("hello at {qos}");
        mosquitto_pub(&b, &["-q", &qos.to_string(), "-t", &topic, "-m", &payload]);
        sub.expect_msg(&topic, payload.as_bytes(), qos);
    }
    run_ok(
        Command::new("mosquitto_pub")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &b.port.to_string(),
                "-V",
                "mqttv31",
            ])
            .args(["-q", "1", "-t", "ip/31", "-m", "via 3.1"]),
        TOOL_WAIT,
    );
    sub.expect_msg("ip/31", b"via 3.1", 1);
}

/// Raw publisher -> mosquitto_sub at QoS 0/1/2; mosquitto_sub reports the
/// QoS it received and exits 0 after one message (-C 1).
#[test]
fn raw_publisher_to_mosquitto_sub() {
    let b = Broker::start("");
    let mut p = b.connect("raw-pub", true);
    for qos in 0..3u8 {
        let topic = format!("is/{qos}");
        let mut s = mosquitto_sub(
            &b,
            &["-q", &qos.to_string(), "-t", &topic, "-C", "1", "-W", "10"],
        );
        p.publish(&topic, b"to mosquitto_sub", qos, false);
        s.expect_line("with the PUBLISH at the right QoS", |l| {
            l.contains("received PUBLISH") && l.contains(&format!("q{qos}, r0"))
        });
        s.expect_line("with the message", |l| {
            l == format!("{topic} to mosquitto_sub")
        });
        assert!(s.wait(WAIT).success());
    }
}

/// mosquitto_pub -r stores a retained message; mosquitto_sub gets it with
/// the retain flag; `-r -n` (empty) deletes it.
#[test]
fn retained_with_mosquitto_clients() {
    let b = Broker::start("");
    mosquitto_pub(&b, &["-r", "-q", "1", "-t", "ret/x", "-m", "kept"]);
    let mut s = mosquitto_sub(&b, &["-t", "ret/x", "-C", "1", "-W", "10"]);
    s.expect_line("with a retained PUBLISH", |l| {
        l.contains("received PUBLISH") && l.contains("r1")
    });
    s.expect_line("with the message", |l| l == "ret/x kept");
    assert!(s.wait(WAIT).success());

    mosquitto_pub(&b, &["-r", "-q", "1", "-t", "ret/x", "-n"]);
    let mut raw = b.connect("raw", true);
    raw.subscribe("ret/x", 0);
    raw.expect_no_packet(QUIET);
}

/// `--will-*`: mosquitto_sub killed (no DISCONNECT) -> its will is
/// published; exiting after -C 1 (clean DISCONNECT) -> no will.
#[test]
fn will_with_mosquitto_sub() {
    let b = Broker::start("");
    let mut w = b.connect("watcher", true);
    w.subscribe("will/#", 1);
    let will = [
        "--will-topic",
        "will/ms",
        "--will-payload",
        "bye",
        "--will-qos",
        "1",
    ];

    let s = mosquitto_sub(&b, &[&["-t", "dummy", "-i", "willer"][..], &will].concat());
    s.signal(libc::SIGKILL);
    w.expect_msg("will/ms", b"bye", 1);

    // -C 1: exits with a clean DISCONNECT after one message.
    let polite = ["-t", "polite", "-i", "polite", "-C", "1"];
    let mut s = mosquitto_sub(&b, &[&polite[..], &will].concat());
    b.connect("raw-pub", true)
        .publish("polite", b"go", 0, false);
    assert!(s.wait(WAIT).success());
    let mut p = b.connect("marker", true);
    p.publish("will/marker", b"m", 1, false);
    w.expect_msg("will/marker", b"m", 1);
    w.expect_no_packet(QUIET);

    // --will-retain
    let retain = [&will[..], &["--will-retain", "-t", "dummy", "-i", "ret"]].concat();
    mosquitto_sub(&b, &retain).signal(libc::SIGKILL);
    w.expect_msg("will/ms", b"bye", 1);
    let mut later = b.connect("later", true);
    later.subscribe("will/ms", 0);
    later.expect_packet(&publish("will/ms", b"bye", 0, true, 0));
}

/// Persistent session: `mosquitto_sub -c -i id` subscribes and exits; a
/// message published while it is offline is delivered when it comes back.
#[test]
fn persistent_session_with_mosquitto_sub() {
    let b = Broker::start("");
    let args = ["-c", "-i", "ms-persist", "-q", "1", "-t", "ps/t"];
    run_ok(tool(&b, "mosquitto_sub").args(args).arg("-E"), TOOL_WAIT);
    let mut p = b.connect("raw-pub", true);
    p.publish("ps/t", b"while offline", 1, false);
    let out = run_ok(
        tool(&b, "mosquitto_sub")
            .args(args)
            .args(["-v", "-C", "1", "-W", "10"]),
        TOOL_WAIT,
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ps/t while offline\n");
}

/// Takeover: mosquitto_pub with the client ID of a connected raw client
/// takes over; the raw client is closed and the message is routed.
#[test]
fn takeover_by_mosquitto_pub() {
    let b = Broker::start("");
    let mut sub = b.connect("raw-sub", true);
    sub.subscribe("tk", 1);
    for shard in 0..SHARDS {
        let id = id_on_shard("tk", shard);
        let mut old = b.connect(&id, true);
        mosquitto_pub(&b, &["-i", &id, "-q", "1", "-t", "tk", "-m", &id]);
        old.expect_closed(WAIT);
        sub.expect_msg("tk", id.as_bytes(), 1);
    }
}

/// 20 QoS 1 messages from successive mosquitto_pub runs reach one
/// mosquitto_sub -C 20 in order.
#[test]
fn ordered_stream_between_mosquitto_clients() {
    let b = Broker::start("");
    let mut s = mosquitto_sub(&b, &["-q", "1", "-t", "st", "-C", "20", "-W", "20"]);
    for i in 0..20 {
        mosquitto_pub(&b, &["-q", "1", "-t", "st", "-m", &i.to_string()]);
    }
    for i in 0..20 {
        let line = s.expect_line("with a message", |l| l.starts_with("st "));
        assert_eq!(line, format!("st {i}"));
    }
    assert!(s.wait(WAIT).success());
}

/// MQTT 5: mosquitto_pub -V mqttv5 with properties -> mosquitto_sub -V
/// mqttv5 sees them, and a raw 3.1.1 subscriber gets the same message as a
/// plain 3.1.1 PUBLISH (no properties on the wire).
#[test]
fn mosquitto_v5_properties_reach_v5_and_v311_subscribers() {
    let b = Broker::start("");
    let mut raw = b.connect("raw-311", true);
    raw.subscribe("v5i/#", 1);
    let fmt = ["-F", "%t|%p|%C|%R|%P"];
    let mut s = mosquitto_sub_version(
        &b,
        "mqttv5",
        &[&["-q", "1", "-t", "v5i/#", "-C", "1", "-W", "10"][..], &fmt].concat(),
    );
    let props = [
        "-D",
        "publish",
        "user-property",
        "k",
        "v",
        "-D",
        "publish",
        "content-type",
        "text/x",
        "-D",
        "publish",
        "response-topic",
        "v5i/reply",
    ];
    run_ok(
        tool_version(&b, "mosquitto_pub", "mqttv5")
            .args(["-q", "1", "-t", "v5i/a", "-m", "hello"])
            .args(props),
        TOOL_WAIT,
    );
    s.expect_line("with the message and its properties", |l| {
        l == "v5i/a|hello|text/x|v5i/reply|k:v"
    });
    assert!(s.wait(WAIT).success());
    raw.expect_msg("v5i/a", b"hello", 1);
}

/// MQTT 5 subscriber, 3.1.1 publisher (raw) and 3.1 publisher (mosquitto).
/// QoS 1 throughout: mosquitto_sub prints a QoS 2 message only at PUBREL,
/// which would reorder the lines.
#[test]
fn v311_publishers_to_mosquitto_v5_subscriber() {
    let b = Broker::start("");
    let mut s = mosquitto_sub_version(
        &b,
        "mqttv5",
        &["-q", "1", "-t", "mix/#", "-C", "2", "-W", "10"],
    );
    b.connect("raw-pub", true)
        .publish("mix/311", b"from 3.1.1", 1, false);
    run_ok(
        tool_version(&b, "mosquitto_pub", "mqttv31")
            .args(["-q", "1", "-t", "mix/31", "-m", "from 3.1"]),
        TOOL_WAIT,
    );
    s.expect_line("with the 3.1.1 message", |l| l == "mix/311 from 3.1.1");
    s.expect_line("with the 3.1 message", |l| l == "mix/31 from 3.1");
    assert!(s.wait(WAIT).success());
}

/// MQTT 5 persistent session with an expiry interval (`-c -x 60`): a
/// message published while the subscriber is offline is delivered when it
/// comes back.
#[test]
fn mosquitto_v5_session_expiry_keeps_offline_queue() {
    let b = Broker::start("");
    let args = [
        "-c",
        "-x",
        "60",
        "-i",
        "ms5-persist",
        "-q",
        "1",
        "-t",
        "ps5/t",
    ];
    run_ok(
        tool_version(&b, "mosquitto_sub", "mqttv5")
            .args(args)
            .arg("-E"),
        TOOL_WAIT,
    );
    b.connect("raw-pub", true)
        .publish("ps5/t", b"while offline", 1, false);
    let out = run_ok(
        tool_version(&b, "mosquitto_sub", "mqttv5")
            .args(args)
            .args(["-v", "-C", "1", "-W", "10"]),
        TOOL_WAIT,
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ps5/t while offline\n"
    );
}
