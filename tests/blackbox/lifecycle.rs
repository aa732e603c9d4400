//! Process lifecycle: ready line, clean shutdown on SIGTERM/SIGINT, failure
//! to bind the listen address.

use crate::common::{self, *};

use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

/// SIGTERM/SIGINT -> exit status 0 within 5 s, with clients connected on
/// both shards (which are closed).
fn clean_exit_on(sig: i32) {
    let mut b = Broker::start("");
    let mut clients: Vec<Client> = (0..SHARDS)
        .map(|s| {
            let mut c = b.connect(&id_on_shard("lc", s), false);
            c.subscribe("t", 1);
            c
        })
        .collect();
    b.signal(sig);
    let st = b.wait_exit(Duration::from_secs(5));
    assert!(
        st.is_some_and(|s| s.success()),
        "exit status after signal {sig}: {st:?}\n{}",
        b.stderr()
    );
    for c in &mut clients {
        c.expect_closed(WAIT);
    }
}

#[test]
fn sigterm_exits_zero() {
    clean_exit_on(libc::SIGTERM);
}

#[test]
fn sigint_exits_zero() {
    clean_exit_on(libc::SIGINT);
}

/// An idle broker (no client ever connected) also exits 0.
#[test]
fn sigterm_idle_broker() {
    let mut b = Broker::start("");
    b.signal(libc::SIGTERM);
    let st = b.wait_exit(Duration::from_secs(5));
    assert!(st.is_some_and(|s| s.success()), "{st:?}");
}

/// Port already in use -> non-zero exit, stderr names the address and the
/// OS error.
#[test]
fn listen_address_in_use() {
    if skip_on_mosquitto("shardmq binary and message") {
        return;
    }
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let out = run(
        Command::new(common::broker::SHARDMQ).args([
            "--listen",
            &addr.to_string(),
            "--shards",
            "2",
        ]),
        Duration::from_secs(10),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "exit status {}", out.status);
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "stderr lacks `cannot listen on {addr}`:\n{stderr}"
    );
    assert!(
        stderr.contains("Address already in use") || stderr.contains("os error 98"),
        "stderr lacks the OS error:\n{stderr}"
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("listening"),
        "printed a ready line anyway"
    );
}

/// `listen` and `shards` taken from the config file when not on the command
/// line; the ready line is printed once and the port works.
#[test]
fn listen_from_config_file() {
    if skip_on_mosquitto("shardmq binary") {
        return;
    }
    let dir = common::broker::TempDir::new("cfg");
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\nshards = 2\n[limits]\nconnect_timeout = 0.5\n",
    )
    .unwrap();
    let mut child = Command::new(common::broker::SHARDMQ)
        .arg("--config")
        .arg(&config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    let lines = common::broker::line_reader(child.stdout.take().unwrap());
    let line = lines.recv_timeout(Duration::from_secs(15));
    let port: Option<u16> = line
        .as_deref()
        .ok()
        .and_then(|l| l.strip_prefix("shardmq listening on 127.0.0.1:"))
        .and_then(|p| p.parse().ok());
    let outcome = std::panic::catch_unwind(|| {
        let port = port.unwrap_or_else(|| panic!("no ready line: {line:?}"));
        connect_ok(port, "cfg", true).ping();
    });
    common::broker::signal(child.id(), libc::SIGTERM);
    let st = common::broker::wait_child(&mut child, Duration::from_secs(5));
    if st.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    outcome.unwrap();
    assert!(st.is_some_and(|s| s.success()), "exit status {st:?}");
    assert!(lines.try_recv().is_err(), "more than one ready line");
}

/// The ready line is printed only when the port accepts connections: a
/// connection right after it succeeds on every try.
#[test]
fn ready_line_means_ready() {
    for _ in 0..3 {
        let b = Broker::start("");
        connect_ok(b.port, "first", true).ping();
    }
}

/// A shard that cannot start (here: io_uring cannot lock memory) stops the
/// broker with the cause and the fix; it never runs with fewer shards.
#[test]
fn shard_start_failure_names_cause_and_fix() {
    if skip_on_mosquitto("shardmq start-up") {
        return;
    }
    let script = format!(
        "ulimit -l 64 && exec {} --listen 127.0.0.1:0 --shards 2",
        common::broker::SHARDMQ
    );
    let out = Command::new("capsh")
        .args(["--drop=cap_ipc_lock", "--", "-c", &script])
        .output()
        .expect("capsh missing: apt-get install libcap2-bin");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "started without locked memory: {stderr}"
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("listening"),
        "printed ready"
    );
    assert!(stderr.contains("MemLock"), "cause not named: {stderr}");
    assert!(
        stderr.contains("ulimit -l") && stderr.contains("LimitMEMLOCK"),
        "fix not named: {stderr}"
    );
}
