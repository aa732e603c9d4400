//! The password file (`[auth] password_file`): hashed passwords only
//! (argon2id from `shardmq passwd`, Mosquitto's `$6$`/`$7$` read as they
//! are), Mosquitto's semantics, SIGHUP reload, `shardmq passwd` as a
//! process, and refusals of bad files naming the line.

use crate::common::broker::{TempDir, SHARDMQ};
use crate::common::metrics::{metrics_addr, scrape, value, wait_for};
use crate::common::passwords::{
    bad_credentials, bad_credentials_v5, mosquitto_passwd, passwd_ok, shardmq_passwd,
};
use crate::common::v5::connect5;
use crate::common::*;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const ALICE: &[(&str, &str)] = &[("alice", "s3cret")];

/// 3.1.1 CONNECT with these credentials; the CONNACK return code.
fn code_v3(port: u16, user: Option<&str>, password: Option<&str>) -> u8 {
    let mut c = Connect::new("pw-c");
    if let Some(u) = user {
        c = c.user(u);
    }
    if let Some(p) = password {
        c = c.password(p);
    }
    let mut cl = Client::tcp(port, "pw-c");
    cl.send(&c.build());
    let (first, body) = cl.recv_packet();
    let got = packet(first, &body);
    assert_eq!(got[..3], [0x20, 0x02, 0x00], "not a CONNACK: {}", hex(&got));
    got[3]
}

/// MQTT 5 CONNECT with these credentials; the CONNACK reason code.
fn code_v5(port: u16, user: &str, password: &str) -> u8 {
    let (_c, ack) = Client::connect_v5(port, &Connect::v5("pw5").user(user).password(password));
    ack.reason
}

#[test]
fn right_and_wrong_passwords_over_3_1_1_and_5() {
    let b = Broker::start_with_users("[auth]\nallow_anonymous = false", ALICE);
    assert_eq!(code_v3(b.port, Some("alice"), Some("s3cret")), 0);
    assert_eq!(
        code_v3(b.port, Some("alice"), Some("wrong")),
        bad_credentials()
    );
    assert_eq!(code_v3(b.port, Some("alice"), None), bad_credentials());
    assert_eq!(
        code_v3(b.port, Some("bob"), Some("s3cret")),
        bad_credentials()
    );
    assert_eq!(code_v3(b.port, None, None), 5);
    connect5(b.port, &Connect::v5("pw5").user("alice").password("s3cret"));
    assert_eq!(code_v5(b.port, "alice", "S3cret"), bad_credentials_v5());
    assert_eq!(code_v5(b.port, "bob", "s3cret"), bad_credentials_v5());
    let (_c, ack) = Client::connect_v5(b.port, &Connect::v5("anon5"));
    assert_eq!(ack.reason, 0x87);
}

/// With a password file and anonymous access allowed: no user name gets
/// in, a user name must still match (Mosquitto's semantics).
#[test]
fn anonymous_allowed_beside_a_password_file() {
    let b = Broker::start_with_users("", ALICE);
    assert_eq!(code_v3(b.port, None, None), 0);
    assert_eq!(code_v3(b.port, Some("alice"), Some("s3cret")), 0);
    assert_eq!(
        code_v3(b.port, Some("mallory"), Some("x")),
        bad_credentials()
    );
    assert_eq!(code_v3(b.port, Some("alice"), Some("x")), bad_credentials());
}

/// A file written by Debian's `mosquitto_passwd` (`$7$` PBKDF2 and `$6$`
/// SHA-512), with a comment, is read as it is.
#[test]
fn a_mosquitto_password_file_works_as_is() {
    require_tool("mosquitto_passwd", "-h", "apt-get install mosquitto");
    let dir = TempDir::new("mosqpw");
    let file = dir.path().join("passwd");
    std::fs::write(&file, "# moved from mosquitto\n").unwrap();
    mosquitto_passwd(&file, "sha512-pbkdf2", "alice", "pbkdf2 pass");
    mosquitto_passwd(&file, "sha512", "bob", "sha pass");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("alice:$7$") && text.contains("bob:$6$"),
        "{text}"
    );
    let conf = format!(
        "[auth]\nallow_anonymous = false\npassword_file = {:?}",
        file.display().to_string()
    );
    let b = Broker::start(&conf);
    assert_eq!(code_v3(b.port, Some("alice"), Some("pbkdf2 pass")), 0);
    assert_eq!(code_v3(b.port, Some("bob"), Some("sha pass")), 0);
    assert_eq!(
        code_v3(b.port, Some("alice"), Some("sha pass")),
        bad_credentials()
    );
    assert_eq!(code_v5(b.port, "bob", "pbkdf2 pass"), bad_credentials_v5());
}

/// Retry `code` until it gives `want` (a reload is in force on every shard
/// within a tick, 250 ms).
fn eventually(what: &str, want: u8, mut code: impl FnMut() -> u8) {
    let deadline = Instant::now() + WAIT;
    loop {
        let got = code();
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: still {got}, expected {want}"
        );
        std::thread::sleep(ms(50));
    }
}

fn wait_for_stderr(b: &Broker, needle: &str) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let log = b.stderr();
        if log.contains(needle) {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "no {needle:?} in the broker log:\n{log}"
        );
        std::thread::sleep(ms(20));
    }
}

#[test]
fn sighup_reloads_users_and_refuses_a_bad_file_keeping_the_old_one() {
    if skip_on_mosquitto("shardmq's reload refusal") {
        return;
    }
    let b = Broker::start_with_users("[auth]\nallow_anonymous = false", ALICE);
    let file = b.password_file();
    assert_eq!(code_v3(b.port, Some("carol"), Some("c")), 4);
    let file_s = file.to_str().unwrap();
    passwd_ok(&["-b", file_s, "carol", "c"]);
    b.signal(libc::SIGHUP);
    eventually("carol after reload", 0, || {
        code_v3(b.port, Some("carol"), Some("c"))
    });
    assert_eq!(code_v3(b.port, Some("alice"), Some("s3cret")), 0);

    let good = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{good}dave:plain-text\n")).unwrap();
    b.signal(libc::SIGHUP);
    let log = wait_for_stderr(&b, "reload refused");
    assert!(log.contains(&format!("{file_s}:3: user \"dave\"")), "{log}");
    std::thread::sleep(ms(600)); // two ticks: nothing must have changed
    assert_eq!(code_v3(b.port, Some("alice"), Some("s3cret")), 0);
    assert_eq!(code_v3(b.port, Some("carol"), Some("c")), 0);
    assert_eq!(code_v3(b.port, Some("dave"), Some("plain-text")), 4);
}

fn argon2_lines(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines().map(str::to_string).collect()
}

fn fails_saying(out: std::process::Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "succeeded; stderr: {err}");
    assert!(err.contains(needle), "{err:?} does not say {needle:?}");
}

/// `shardmq passwd` as an operator runs it: -c with the prompt (fed by a
/// pipe), -b, -D; the broker uses the result; the refusals are clear.
#[test]
fn shardmq_passwd_writes_files_the_broker_uses() {
    if skip_on_mosquitto("shardmq's own tool") {
        return;
    }
    let dir = TempDir::new("passwd-cli");
    let file = dir.path().join("passwd");
    let f = file.to_str().unwrap();
    fails_saying(
        shardmq_passwd(&["-b", f, "alice", "x"], ""),
        "-c creates it",
    );
    let out = shardmq_passwd(&["-c", f, "alice"], "first pw\nfirst pw\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    passwd_ok(&["-b", f, "bob", "second pw"]);
    let lines = argon2_lines(&file);
    assert_eq!(lines.len(), 2);
    assert!(
        lines
            .iter()
            .all(|l| l.contains(":$argon2id$v=19$m=19456,t=2,p=1$")),
        "{lines:?}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    fails_saying(shardmq_passwd(&[f, "carol"], "one\ntwo\n"), "do not match");
    fails_saying(shardmq_passwd(&["-b", f, "a:b", "x"], ""), "':'");
    fails_saying(
        shardmq_passwd(&["-D", f, "nobody"], ""),
        "\"nobody\" is not in",
    );
    fails_saying(
        shardmq_passwd(&["-c", "-D", f, "bob"], ""),
        "cannot be used with",
    );
    assert_eq!(
        argon2_lines(&file),
        lines,
        "a refused command changed the file"
    );

    let conf = format!("[auth]\nallow_anonymous = false\npassword_file = {f:?}");
    let b = Broker::start(&conf);
    assert_eq!(code_v3(b.port, Some("alice"), Some("first pw")), 0);
    assert_eq!(code_v3(b.port, Some("bob"), Some("second pw")), 0);
    passwd_ok(&["-D", f, "alice"]);
    assert_eq!(argon2_lines(&file), lines[1..]);
    b.signal(libc::SIGHUP);
    eventually("alice deleted", 4, || {
        code_v3(b.port, Some("alice"), Some("first pw"))
    });
    assert_eq!(code_v3(b.port, Some("bob"), Some("second pw")), 0);
}

/// Runs the broker with this config; it must refuse to start. Its stderr.
fn refused_start(config: &str) -> String {
    let dir = TempDir::new("refused");
    let path = dir.path().join("shardmq.toml");
    std::fs::write(&path, config).unwrap();
    let mut cmd = Command::new(SHARDMQ);
    cmd.args(["--listen", "127.0.0.1:0", "--config"]).arg(&path);
    let out = run(&mut cmd, Duration::from_secs(10));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "started: {err}");
    err
}

#[test]
fn a_malformed_line_refuses_start_up_naming_it() {
    if skip_on_mosquitto("shardmq's start-up check") {
        return;
    }
    let dir = TempDir::new("badpw");
    let file = dir.path().join("passwd");
    let f = file.to_str().unwrap();
    passwd_ok(&["-c", "-b", f, "alice", "pw"]);
    let good = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("# users\n{good}bob secret\n")).unwrap();
    let err = refused_start(&format!("[auth]\npassword_file = {f:?}"));
    assert!(err.contains(&format!("{f}:3: expected user:hash")), "{err}");
}

#[test]
fn the_clear_text_users_table_is_refused_with_what_to_do() {
    if skip_on_mosquitto("shardmq's config") {
        return;
    }
    let err = refused_start("[auth.users]\nalice = \"secret\"\n");
    assert!(
        err.contains("shardmq passwd") && err.contains("password_file"),
        "{err}"
    );
}

/// Checks are counted; a client that reconnects with the same credentials
/// is answered from its shard's cache (at most one hash per shard).
#[test]
fn checks_are_counted_and_successes_cached() {
    if skip_on_mosquitto("shardmq's metrics") {
        return;
    }
    let b = Broker::start_with_users("metrics_listen = \"127.0.0.1:0\"", ALICE);
    let addr = metrics_addr(&b);
    for _ in 0..6 {
        assert_eq!(code_v3(b.port, Some("alice"), Some("s3cret")), 0);
    }
    assert_eq!(code_v3(b.port, Some("alice"), Some("nope")), 4);
    // Shards post their numbers once a second: poll until all 7 show.
    let deadline = Instant::now() + WAIT;
    let (text, checked, hits) = loop {
        let text = scrape(&addr);
        let checked = value(&text, "shardmq_auth_verifications_total").unwrap_or(0.0);
        let hits = value(&text, "shardmq_auth_cache_hits_total").unwrap_or(0.0);
        if checked + hits >= 7.0 || Instant::now() > deadline {
            break (text, checked, hits);
        }
        std::thread::sleep(ms(100));
    };
    assert_eq!(checked + hits, 7.0, "{text}");
    let refused = "shardmq_connections_refused_total{reason=\"bad_credentials\"}";
    wait_for(&addr, refused, 1.0);
    assert!(
        checked <= (SHARDS + 1) as f64,
        "one hash per shard, then the cache: {text}"
    );
    assert!(value(&text, "shardmq_auth_slot_waits_total").is_some());
}
