//! Log output: plain text without ANSI escapes when stderr is not a
//! terminal (here a file, as under systemd or a log shipper), and JSON
//! lines (`log_format = "json"`, `--log-format json`) that parse and carry
//! the same fields.

use crate::common::broker::{serve_once, TempDir, SHARDMQ};
use crate::common::*;
use std::fs::{self, File};
use std::process::Command;
use std::time::Duration;

/// Runs shardmq with this config and these flags (stderr to a file), lets
/// a client connect and leave, stops it; returns what it logged.
fn logged(config: &str, flags: &[&str]) -> String {
    let dir = TempDir::new("logs");
    let conf = dir.path().join("shardmq.toml");
    fs::write(&conf, format!("log = \"debug\"\n{config}")).unwrap();
    let err = dir.path().join("stderr.log");
    let mut cmd = Command::new(SHARDMQ);
    cmd.args(["--listen", "127.0.0.1:0", "--shards", "2", "--config"])
        .arg(&conf)
        .args(flags)
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stderr(File::create(&err).unwrap());
    let served = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        serve_once(&mut cmd, "shardmq")
    }));
    let log = fs::read_to_string(&err).unwrap();
    assert!(served.is_ok(), "broker log:\n{log}");
    log
}

fn assert_text(log: &str) {
    assert!(!log.contains('\x1b'), "ANSI escape in a log file:\n{log}");
    let ready = log
        .lines()
        .find(|l| l.contains("shardmq ready"))
        .unwrap_or_else(|| panic!("no `shardmq ready` line:\n{log}"));
    assert!(
        ready.contains(" INFO ") && ready.contains("shards=2"),
        "{ready}"
    );
    assert!(!log.trim_start().starts_with('{'), "JSON instead of text");
}

/// Every line is one JSON object with a timestamp, a level, a target and
/// the fields (message included); returns them.
fn assert_json(log: &str) -> Vec<serde_json::Value> {
    assert!(!log.contains('\x1b'), "ANSI escape in a JSON log:\n{log}");
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for v in &lines {
        for key in ["timestamp", "level", "target"] {
            assert!(v[key].is_string(), "no {key}: {v}");
        }
        assert!(v["fields"]["message"].is_string(), "no message: {v}");
    }
    let ready = lines
        .iter()
        .find(|v| v["fields"]["message"] == "shardmq ready")
        .unwrap_or_else(|| panic!("no `shardmq ready` event:\n{log}"));
    assert_eq!(ready["level"], "INFO");
    assert_eq!(ready["fields"]["shards"], 2);
    assert!(ready["target"].as_str().unwrap().starts_with("shardmq"));
    lines
}

#[test]
fn text_logs_to_a_file_have_no_colours() {
    if skip_on_mosquitto("shardmq's log format") {
        return;
    }
    assert_text(&logged("", &[]));
}

#[test]
fn json_logs_from_the_config_parse_line_by_line() {
    if skip_on_mosquitto("shardmq's log format") {
        return;
    }
    let lines = assert_json(&logged("log_format = \"json\"", &[]));
    // Debug events carry their own fields as JSON values.
    assert!(
        lines
            .iter()
            .any(|v| v["level"] == "DEBUG" && v["fields"]["shard"].is_u64()),
        "no debug event with a shard field"
    );
}

#[test]
fn the_command_line_chooses_the_format() {
    if skip_on_mosquitto("shardmq's log format") {
        return;
    }
    assert_json(&logged("", &["--log-format", "json"]));
    assert_text(&logged("log_format = \"json\"", &["--log-format", "text"]));
    let out = run(
        Command::new(SHARDMQ).args(["--log-format", "xml"]),
        Duration::from_secs(10),
    );
    assert_eq!(out.status.code(), Some(2), "clap refuses an unknown format");
}
