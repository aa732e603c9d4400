//! Running third-party clients (mosquitto_pub/_sub, python3) with bounds.

use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::thread;
use std::time::{Duration, Instant};

use super::broker::{line_reader, wait_child};

/// Fails (does not skip) when `program` cannot be run.
pub fn require_tool(program: &str, version_arg: &str, install: &str) {
    match Command::new(program)
        .arg(version_arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => {}
        Err(e) => panic!("`{program}` cannot be run ({e}): install it with `{install}`"),
    }
}

/// Runs a command to completion within `within` (killed and failed past it).
pub fn run(cmd: &mut Command, within: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let out = drain(child.stdout.take().unwrap());
    let err = drain(child.stderr.take().unwrap());
    let status = match wait_child(&mut child, within) {
        Some(st) => st,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{cmd:?} did not finish within {within:?}\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.join().unwrap()),
                String::from_utf8_lossy(&err.join().unwrap())
            );
        }
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Like `run`, and the command must exit 0.
pub fn run_ok(cmd: &mut Command, within: Duration) -> Output {
    let shown = format!("{cmd:?}");
    let out = run(cmd, within);
    assert!(
        out.status.success(),
        "{shown} failed ({})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn drain(mut r: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut v = Vec::new();
        let _ = r.read_to_end(&mut v);
        v
    })
}

/// A long-running child (e.g. `mosquitto_sub`) whose stdout is read line by
/// line; killed on drop.
pub struct Proc {
    pub child: Child,
    pub lines: Receiver<String>,
    seen: Vec<String>,
    name: String,
}

impl Proc {
    pub fn spawn(cmd: &mut Command) -> Proc {
        let name = format!("{cmd:?}");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {name}: {e}"));
        let lines = line_reader(child.stdout.take().unwrap());
        Proc {
            child,
            lines,
            seen: Vec::new(),
            name,
        }
    }

    /// Waits for a stdout line satisfying `pred`; returns it.
    pub fn expect_line(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + super::WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "{}: no stdout line {what} within {:?}; lines so far:\n{}",
                    self.name,
                    super::WAIT,
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Waits for the child to exit (bounded) and returns its status.
    pub fn wait(&mut self, within: Duration) -> std::process::ExitStatus {
        wait_child(&mut self.child, within)
            .unwrap_or_else(|| panic!("{} did not exit within {within:?}", self.name))
    }

    pub fn signal(&self, sig: i32) {
        super::broker::signal(self.child.id(), sig);
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
