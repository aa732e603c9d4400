//! The command line around the broker: `shardmq --version` (version, git
//! commit, glommio version) and `shardmq check-config FILE` (exit 0, or
//! every problem named and exit 1).

use crate::common::broker::{TempDir, SHARDMQ};
use crate::common::certs::Certs;
use crate::common::passwords::write_users;
use crate::common::*;
use std::process::{Command, Output};
use std::time::Duration;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn shardmq(args: &[&str]) -> Output {
    run(Command::new(SHARDMQ).args(args), Duration::from_secs(20))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The version of `name` in the workspace's Cargo.lock.
fn locked(name: &str) -> String {
    let lock: toml::Table = std::fs::read_to_string(format!("{ROOT}/Cargo.lock"))
        .unwrap()
        .parse()
        .unwrap();
    let pkgs = lock["package"].as_array().unwrap();
    let p = pkgs.iter().find(|p| p["name"].as_str() == Some(name));
    p.unwrap()["version"].as_str().unwrap().to_string()
}

#[test]
fn version_names_the_commit_and_glommio() {
    let git = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(ROOT)
        .output();
    let commit = match git {
        Ok(o) if o.status.success() => text(&o.stdout).trim().to_string(),
        _ => "unknown".into(),
    };
    let want = format!(
        "shardmq {} (commit {commit}, glommio {})",
        env!("CARGO_PKG_VERSION"),
        locked("glommio")
    );
    for flag in ["--version", "-V"] {
        let out = shardmq(&[flag]);
        assert!(out.status.success());
        assert_eq!(text(&out.stdout).trim(), want);
    }
}

#[test]
fn check_config_accepts_a_good_file() {
    let certs = Certs::new();
    let dir = TempDir::new("check");
    let passwd = dir.path().join("passwd");
    write_users(&passwd, &[("alice", "secret")]);
    let acl = dir.path().join("acl");
    std::fs::write(&acl, "user alice\ntopic readwrite a/#\n").unwrap();
    let file = dir.path().join("good.toml");
    std::fs::write(
        &file,
        format!(
            "listen = \"127.0.0.1:1883\"\nlog_format = \"json\"\n\
             [[listeners]]\nbind = \"127.0.0.1:8883\"\ntransport = \"tls\"\n\
             certfile = {}\nkeyfile = {}\ncafile = {}\n\
             [auth]\nallow_anonymous = false\npassword_file = {:?}\nacl_file = {:?}\n",
            certs.toml("server.pem"),
            certs.toml("server.key"),
            certs.toml("ca.pem"),
            passwd.display().to_string(),
            acl.display().to_string()
        ),
    )
    .unwrap();
    let out = shardmq(&["check-config", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), format!("{}: ok", file.display()));
}

#[test]
fn check_config_names_every_problem() {
    let certs = Certs::new();
    let dir = TempDir::new("check");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let passwd = dir.path().join("passwd");
    std::fs::write(&passwd, "alice:not-a-hash\n").unwrap();
    let acl = dir.path().join("acl");
    std::fs::write(&acl, "topic readwrite a/#\nfrobnicate b\n").unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        format!(
            "shards = 5000\n\
             [limits]\nmax_inflight = 0\n\
             [tuning]\nring_depth = 1000\n\
             [[listeners]]\nbind = \"127.0.0.1:8883\"\ntransport = \"tls\"\n\
             certfile = {:?}\nkeyfile = {}\n\
             [[listeners]]\nbind = \"127.0.0.1:8083\"\ntransport = \"ws\"\npath = \"mqtt\"\n\
             [auth]\npassword_file = {:?}\nacl_file = {:?}\n",
            garbage.display().to_string(),
            certs.toml("server.key"),
            passwd.display().to_string(),
            acl.display().to_string()
        ),
    )
    .unwrap();
    let out = shardmq(&["check-config", file.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for named in [
        "shards must be at most 1024",
        "limits.max_inflight",
        "tuning.ring_depth",
        "path must start with '/'",
        "garbage.pem",
        "auth.password_file",
        "acl:2",
        "7 problems",
    ] {
        assert!(err.contains(named), "{named:?} not named:\n{err}");
    }
    assert!(out.stdout.is_empty());
    // The broker refuses to start on the same file, naming them too.
    let start = shardmq(&["--config", file.to_str().unwrap()]);
    let err = text(&start.stderr);
    assert_eq!(start.status.code(), Some(2), "{err}");
    assert!(
        err.contains("max_inflight") && err.contains("ring_depth"),
        "{err}"
    );
}

#[test]
fn check_config_of_a_missing_or_unparsable_file() {
    let dir = TempDir::new("check");
    let missing = dir.path().join("nope.toml");
    let out = shardmq(&["check-config", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot read config"));
    let typo = dir.path().join("typo.toml");
    std::fs::write(&typo, "[limits]\nmax_inflihgt = 3\n").unwrap();
    let out = shardmq(&["check-config", typo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("max_inflihgt"), "names the key");
}
