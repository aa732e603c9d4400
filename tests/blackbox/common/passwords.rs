//! Password files for the tests: written by `shardmq passwd` (the tool
//! under test) or, against mosquitto, by `mosquitto_passwd`.

use super::broker::{wait_child, SHARDMQ};
use super::{mosquitto_mode, run_ok};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Bound on one `shardmq passwd` (argon2id in a debug build included).
const PASSWD_WITHIN: Duration = Duration::from_secs(20);

/// A password file at `file` with exactly these users (empty: an empty file).
pub fn write_users(file: &Path, users: &[(&str, &str)]) {
    std::fs::write(file, "").unwrap();
    let tool = if mosquitto_mode() {
        "mosquitto_passwd"
    } else {
        SHARDMQ
    };
    for (user, password) in users {
        let mut cmd = Command::new(tool);
        if !mosquitto_mode() {
            cmd.arg("passwd");
        }
        run_ok(
            cmd.arg("-b").arg(file).args([user, password]),
            PASSWD_WITHIN,
        );
    }
}

/// Add a user with `mosquitto_passwd -H HASH -b` (Debian's `mosquitto`):
/// `hash` is `sha512` (`$6$`) or `sha512-pbkdf2` (`$7$`).
pub fn mosquitto_passwd(file: &Path, hash: &str, user: &str, password: &str) {
    let mut cmd = Command::new("mosquitto_passwd");
    cmd.args(["-H", hash, "-b"])
        .arg(file)
        .args([user, password]);
    run_ok(&mut cmd, PASSWD_WITHIN);
}

/// CONNACK return code for bad credentials over 3.1.1: 4 (bad user name or
/// password); mosquitto 2.0 answers 5 (not authorized) instead.
pub fn bad_credentials() -> u8 {
    if mosquitto_mode() {
        5
    } else {
        4
    }
}

/// The same over MQTT 5: 0x86; mosquitto 2.0 answers 0x87.
pub fn bad_credentials_v5() -> u8 {
    if mosquitto_mode() {
        0x87
    } else {
        0x86
    }
}

/// `shardmq passwd ARGS` with `stdin` fed through a pipe; its output.
pub fn shardmq_passwd(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(SHARDMQ)
        .arg("passwd")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run shardmq passwd");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    if wait_child(&mut child, PASSWD_WITHIN).is_none() {
        let _ = child.kill();
        panic!("shardmq passwd {args:?} did not finish within {PASSWD_WITHIN:?}");
    }
    child.wait_with_output().unwrap()
}

/// `shardmq passwd ARGS`, which must succeed.
pub fn passwd_ok(args: &[&str]) {
    let out = shardmq_passwd(args, "");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "shardmq passwd {args:?}: {err}");
}
