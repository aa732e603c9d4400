//! Starts the broker under test (shardmq, or Mosquitto in validation mode)
//! on a loopback port, and stops it on drop.

use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use super::{client::Client, mosquitto_mode, SHARDS};

pub const SHARDMQ: &str = env!("CARGO_BIN_EXE_shardmq");

/// A scratch directory removed on drop (kept if the test failed).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir = std::env::temp_dir().join(format!(
            "shardmq-test-{tag}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !thread::panicking() {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

pub struct Broker {
    pub port: u16,
    /// Ports of the `[[listeners]]` of the config, in order, with their
    /// transport (`tls`, `ws`, ...).
    pub listeners: Vec<(String, u16)>,
    child: Child,
    exited: Option<ExitStatus>,
    stderr_path: PathBuf,
    /// Lines the broker printed on stdout after the ready line.
    pub stdout: Receiver<String>,
    /// How it was started, to start it again (`restart`).
    launch: Launch,
    /// Stderr logs of earlier runs (before a restart), oldest first.
    earlier_stderr: Vec<PathBuf>,
    /// Config and stderr log; removed when the broker is dropped.
    _dir: TempDir,
}

/// The command line of a shardmq run beyond `--listen` and `--config`:
/// shard count and extra arguments (e.g. `--data-dir DIR`).
#[derive(Clone, Debug)]
pub struct Launch {
    pub shards: usize,
    pub args: Vec<std::ffi::OsString>,
    config: PathBuf,
    /// `[[listeners]]` in the config (each prints a ready line).
    extra: usize,
}

/// A shardmq that did not start: its exit status (None: still running
/// when given up on, then killed) and everything it wrote on stderr.
#[derive(Debug)]
pub struct StartFailure {
    pub status: Option<ExitStatus>,
    pub stderr: String,
    pub what: String,
}

/// `libc::kill` wrapper.
pub fn signal(pid: u32, sig: i32) {
    // SAFETY: kill(2) takes plain integers and touches no memory of ours;
    // `pid` is a child this test started and has not reaped yet.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

/// Waits for `child` to exit within `within`.
pub fn wait_child(child: &mut Child, within: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return Some(st);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Reads `stdout` line by line on a thread; lines go to the channel.
pub fn line_reader(stdout: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Broker {
    /// Starts a broker with this TOML config (see the contract in
    /// `tests/README.md`). Unless given, `log` is `$SHARDMQ_TEST_LOG` or
    /// "debug", `limits.connect_timeout` is 0.5 s and `tuning.park_after`
    /// is `$SHARDMQ_TEST_PARK_AFTER` (scripts/test.sh runs the suite a second
    /// time with connections parking whenever they are idle for a moment).
    pub fn start(toml: &str) -> Broker {
        let table: toml::Table = toml.parse().expect("test config is not valid TOML");
        Broker::start_in(table, TempDir::new("shardmq"))
    }

    /// [`Broker::start`] with `auth.password_file` set to a file in the
    /// broker's directory ([`Broker::password_file`]) that holds these users
    /// (written by `shardmq passwd -b`, or `mosquitto_passwd -b` against
    /// mosquitto).
    pub fn start_with_users(toml: &str, users: &[(&str, &str)]) -> Broker {
        let mut table: toml::Table = toml.parse().expect("test config is not valid TOML");
        let dir = TempDir::new("shardmq");
        let file = dir.path().join("passwd");
        super::passwords::write_users(&file, users);
        table
            .entry("auth")
            .or_insert(toml::Value::Table(Default::default()))
            .as_table_mut()
            .expect("[auth] must be a table")
            .insert("password_file".into(), file.display().to_string().into());
        Broker::start_in(table, dir)
    }

    /// The password file of [`Broker::start_with_users`].
    pub fn password_file(&self) -> PathBuf {
        self._dir.path().join("passwd")
    }

    /// [`Broker::start`] with another shard count and extra command-line
    /// arguments (e.g. `--data-dir DIR`), for a start that may be refused.
    pub fn try_start_with(
        toml: &str,
        shards: usize,
        args: &[&std::ffi::OsStr],
    ) -> Result<Broker, StartFailure> {
        assert!(!mosquitto_mode(), "start_with is for shardmq only");
        let table: toml::Table = toml.parse().expect("test config is not valid TOML");
        let dir = TempDir::new("shardmq");
        let mut launch = Broker::write_config(table, &dir);
        launch.shards = shards;
        launch.args = args.iter().map(|a| a.to_os_string()).collect();
        Broker::launch(launch, dir, 0, Vec::new())
    }

    fn start_in(table: toml::Table, dir: TempDir) -> Broker {
        if mosquitto_mode() {
            return Broker::start_mosquitto(&table, dir);
        }
        let launch = Broker::write_config(table, &dir);
        Broker::launch(launch, dir, 0, Vec::new()).unwrap_or_else(|f| f.fail())
    }

    /// Completes the test config with the harness defaults and writes it.
    fn write_config(mut table: toml::Table, dir: &TempDir) -> Launch {
        let log = std::env::var("SHARDMQ_TEST_LOG").unwrap_or_else(|_| "debug".into());
        table.entry("log").or_insert(toml::Value::String(log));
        let limits = table
            .entry("limits")
            .or_insert(toml::Value::Table(Default::default()))
            .as_table_mut()
            .expect("[limits] must be a table");
        limits
            .entry("connect_timeout")
            .or_insert(toml::Value::Float(0.5));
        if let Ok(v) = std::env::var("SHARDMQ_TEST_PARK_AFTER") {
            let secs: f64 = v.parse().expect("SHARDMQ_TEST_PARK_AFTER is seconds");
            table
                .entry("tuning")
                .or_insert(toml::Value::Table(Default::default()))
                .as_table_mut()
                .expect("[tuning] must be a table")
                .entry("park_after")
                .or_insert(toml::Value::Float(secs));
        }
        let config = dir.path().join("shardmq.toml");
        fs::write(&config, toml::to_string(&table).unwrap()).unwrap();
        let extra = table
            .get("listeners")
            .and_then(|l| l.as_array())
            .map_or(0, |l| l.len());
        Launch {
            shards: SHARDS,
            args: Vec::new(),
            config,
            extra,
        }
    }

    /// Runs shardmq and wraps it in a `Broker`.
    fn launch(
        launch: Launch,
        dir: TempDir,
        port: u16,
        earlier_stderr: Vec<PathBuf>,
    ) -> Result<Broker, StartFailure> {
        let run = Run::start(&launch, dir.path(), port, earlier_stderr.len())?;
        Ok(Broker {
            port: run.port,
            listeners: run.listeners,
            child: run.child,
            exited: None,
            stderr_path: run.stderr_path,
            stdout: run.stdout,
            launch,
            earlier_stderr,
            _dir: dir,
        })
    }

    /// Validation mode: the same test against Debian's mosquitto.
    fn start_mosquitto(table: &toml::Table, dir: TempDir) -> Broker {
        let get = |section: &str, key: &str| -> Option<toml::Value> {
            table.get(section)?.as_table()?.get(key).cloned()
        };
        let int = |section: &str, key: &str, default: i64| -> i64 {
            get(section, key)
                .and_then(|v| v.as_integer())
                .unwrap_or(default)
        };
        let mut extra = String::new();
        let anon = get("auth", "allow_anonymous")
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        extra += &format!("allow_anonymous {anon}\n");
        if let Some(file) = get("auth", "password_file") {
            extra += &format!("password_file {}\n", file.as_str().unwrap());
        }
        if let Some(acl) = get("auth", "acl_file") {
            extra += &format!("acl_file {}\n", acl.as_str().expect("acl_file is a path"));
        }
        extra += &format!(
            "max_inflight_messages {}\n",
            int("limits", "max_inflight", 20)
        );
        extra += &format!(
            "max_queued_messages {}\n",
            int("limits", "max_queued_messages", 1000)
        );
        extra += &format!(
            "max_packet_size {}\n",
            int("limits", "max_packet_size", 1_048_576)
        );
        let q0 = get("limits", "queue_qos0")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        extra += &format!("queue_qos0_messages {q0}\n");
        let max_conn = int("limits", "max_connections", 0);
        let max_conn = if max_conn == 0 { -1 } else { max_conn };

        for _attempt in 0..5 {
            let port = free_port();
            let conf = dir.path().join("mosquitto.conf");
            fs::write(
                &conf,
                format!(
                    "listener {port} 127.0.0.1\nmax_connections {max_conn}\n\
                     persistence false\nuser root\nlog_dest stderr\nlog_type all\n\
                     log_timestamp_format %H:%M:%S\n{extra}"
                ),
            )
            .unwrap();
            let stderr_path = dir.path().join("stderr.log");
            let mut child = Command::new("mosquitto")
                .arg("-c")
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(File::create(&stderr_path).unwrap())
                .spawn()
                .expect("mosquitto missing: apt-get install mosquitto");
            let stdout = line_reader(child.stdout.take().unwrap());
            let deadline = Instant::now() + Duration::from_secs(15);
            loop {
                let log = fs::read_to_string(&stderr_path).unwrap_or_default();
                if log.contains(" running") {
                    return Broker {
                        listeners: Vec::new(),
                        port,
                        child,
                        exited: None,
                        stderr_path,
                        stdout,
                        launch: Launch {
                            shards: SHARDS,
                            args: Vec::new(),
                            config: conf,
                            extra: 0,
                        },
                        earlier_stderr: Vec::new(),
                        _dir: dir,
                    };
                }
                if child.try_wait().unwrap().is_some() || Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    eprintln!("mosquitto failed to start on port {port}:\n{log}");
                    break;
                }
                thread::sleep(Duration::from_millis(10));
            }
        }
        panic!("could not start mosquitto");
    }

    /// The port of the first listener of this transport.
    pub fn port_of(&self, kind: &str) -> u16 {
        self.listeners
            .iter()
            .find(|(k, _)| k == kind)
            .unwrap_or_else(|| panic!("no {kind} listener in {:?}", self.listeners))
            .1
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// A bare TCP connection to the broker.
    pub fn tcp(&self, name: &str) -> Client {
        Client::tcp(self.port, name)
    }

    /// `connect_ok` on this broker.
    pub fn connect(&self, id: &str, clean: bool) -> Client {
        super::connect_ok(self.port, id, clean)
    }

    pub fn signal(&self, sig: i32) {
        signal(self.pid(), sig);
    }

    /// Waits for the broker to exit.
    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = wait_child(&mut self.child, within);
        }
        self.exited
    }

    /// SIGKILL, and wait until it is gone.
    pub fn kill9(&mut self) {
        if self.exited.is_none() {
            self.signal(libc::SIGKILL);
            let st = self.wait_exit(Duration::from_secs(10));
            assert!(st.is_some(), "shardmq survived SIGKILL for 10 s");
        }
    }

    /// SIGTERM; it must exit 0 within 10 s.
    pub fn stop(&mut self) {
        assert!(self.exited.is_none(), "stop: the broker is not running");
        self.signal(libc::SIGTERM);
        let st = self.wait_exit(Duration::from_secs(10));
        assert!(
            st.is_some_and(|s| s.success()),
            "shardmq did not exit 0 within 10 s of SIGTERM: {st:?}\n--- broker stderr ---\n{}",
            tail(&self.stderr(), 100)
        );
    }

    /// Starts the stopped (or killed) broker again with the same config,
    /// arguments and shard count, on the same port.
    pub fn restart(&mut self) {
        let shards = self.launch.shards;
        self.restart_shards(shards);
    }

    /// [`Broker::restart`] with `shards` shards from now on.
    pub fn restart_shards(&mut self, shards: usize) {
        if let Err(f) = self.try_restart(shards) {
            f.fail()
        }
    }

    /// [`Broker::restart_shards`] for a start that may be refused; the
    /// broker stays stopped then (and may be restarted again).
    pub fn try_restart(&mut self, shards: usize) -> Result<(), StartFailure> {
        assert!(!mosquitto_mode(), "restart is for shardmq only");
        assert!(
            self.exited.is_some(),
            "restart: stop or kill the broker first"
        );
        let mut launch = self.launch.clone();
        launch.shards = shards;
        let runs = self.earlier_stderr.len() + 1;
        let run = Run::start_again(&launch, self._dir.path(), self.port, runs)?;
        self.earlier_stderr.push(run.stderr_path.clone());
        std::mem::swap(
            &mut self.stderr_path,
            self.earlier_stderr.last_mut().unwrap(),
        );
        self.child = run.child;
        self.stdout = run.stdout;
        self.listeners = run.listeners;
        self.port = run.port;
        self.launch = launch;
        self.exited = None;
        Ok(())
    }
}

impl StartFailure {
    /// Fails the test with what shardmq said.
    pub fn fail(self) -> ! {
        panic!(
            "shardmq did not print `shardmq listening on 127.0.0.1:PORT`: it {} \
             (exit status {:?})\n--- broker stderr ---\n{}",
            self.what,
            self.status,
            tail(&self.stderr, 200)
        )
    }
}

/// One run of the shardmq process, up to its ready lines.
struct Run {
    child: Child,
    stdout: Receiver<String>,
    stderr_path: PathBuf,
    port: u16,
    listeners: Vec<(String, u16)>,
}

impl Run {
    /// Runs shardmq on `port` (0: any) and waits for its ready lines; the
    /// `n`th run of a broker logs to `stderr.N.log` (the first to `stderr.log`).
    fn start(launch: &Launch, dir: &Path, port: u16, n: usize) -> Result<Run, StartFailure> {
        let stderr_path = dir.join(match n {
            0 => "stderr.log".to_string(),
            n => format!("stderr.{n}.log"),
        });
        let mut child = Command::new(SHARDMQ)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--shards")
            .arg(launch.shards.to_string())
            .arg("--config")
            .arg(&launch.config)
            .args(&launch.args)
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(&stderr_path).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {SHARDMQ}: {e}"));
        let stdout = line_reader(child.stdout.take().unwrap());
        let line = stdout.recv_timeout(Duration::from_secs(15));
        let got = line
            .as_deref()
            .ok()
            .and_then(|l| l.strip_prefix("shardmq listening on 127.0.0.1:"))
            .and_then(|p| p.trim().parse::<u16>().ok());
        if let Some(p) = got.filter(|&p| p != 0 && (port == 0 || p == port)) {
            let listeners = read_listeners(&stdout, launch.extra);
            return Ok(Run {
                child,
                stdout,
                stderr_path,
                port: p,
                listeners,
            });
        }
        let what = match &line {
            Ok(l) => format!("printed {l:?} instead"),
            Err(mpsc::RecvTimeoutError::Timeout) => "printed nothing within 15 s".into(),
            Err(mpsc::RecvTimeoutError::Disconnected) => "closed stdout (exited?)".into(),
        };
        let status = wait_child(&mut child, Duration::from_millis(500));
        if status.is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        Err(StartFailure {
            status,
            stderr: fs::read_to_string(&stderr_path).unwrap_or_default(),
            what,
        })
    }

    /// [`Run::start`] on the port of an earlier run. Between the runs the
    /// port was free and another test's socket may have taken it for a
    /// moment: a refusal for "address in use" is retried a few times.
    fn start_again(launch: &Launch, dir: &Path, port: u16, n: usize) -> Result<Run, StartFailure> {
        let mut tries = 0;
        loop {
            match Run::start(launch, dir, port, n) {
                Err(f) if tries < 5 && f.stderr.contains("Address already in use") => {
                    tries += 1;
                    thread::sleep(Duration::from_millis(200));
                }
                other => return other,
            }
        }
    }
}

/// After the first line: `shardmq listening on 127.0.0.1:PORT (KIND)` for
/// each of the config's `[[listeners]]`.
fn read_listeners(stdout: &Receiver<String>, n: usize) -> Vec<(String, u16)> {
    let mut out = Vec::new();
    for _ in 0..n {
        let line = stdout
            .recv_timeout(Duration::from_secs(5))
            .expect("a `shardmq listening on` line per listener");
        let rest = line
            .strip_prefix("shardmq listening on 127.0.0.1:")
            .unwrap_or_else(|| panic!("unexpected line {line:?}"));
        let (port, kind) = match rest.split_once(' ') {
            Some((p, k)) => (p, k.trim_matches(|c| c == '(' || c == ')')),
            None => (rest, "tcp"),
        };
        out.push((kind.to_string(), port.trim().parse().unwrap()));
    }
    out
}

/// Runs a shardmq command line that listens on `127.0.0.1:0` (stdout is
/// taken, stderr left as the caller set it): a client connects and leaves
/// with DISCONNECT, then SIGTERM. Panics (with `what`) unless it started,
/// served and exited 0 within bounds.
pub fn serve_once(cmd: &mut Command, what: &str) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let lines = line_reader(child.stdout.take().unwrap());
    let first = lines.recv_timeout(Duration::from_secs(15));
    let port = first
        .as_deref()
        .ok()
        .and_then(|l| l.strip_prefix("shardmq listening on 127.0.0.1:"))
        .and_then(|p| p.trim().parse::<u16>().ok());
    if let Some(port) = port {
        let mut c = super::connect_ok(port, "serve-once", true);
        c.send(&[0xe0, 0x00]); // DISCONNECT
        c.expect_closed(super::WAIT);
    }
    signal(child.id(), libc::SIGTERM);
    let st = wait_child(&mut child, Duration::from_secs(5));
    if st.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(
        port.is_some() && st.is_some_and(|s| s.success()),
        "{what} did not start, serve and stop cleanly ({first:?}, exit {st:?})"
    );
}

/// A port that was free a moment ago (only for mosquitto, which has no
/// "port 0 + report" mode).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Drop for Broker {
    fn drop(&mut self) {
        let crashed = match self.exited {
            Some(st) => Some(st),
            None => self.child.try_wait().unwrap(),
        };
        if crashed.is_none() {
            self.signal(libc::SIGTERM);
            if wait_child(&mut self.child, Duration::from_secs(3)).is_none() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
        let failing = thread::panicking();
        if failing {
            for p in &self.earlier_stderr {
                eprintln!("--- earlier run's stderr: {} ---", p.display());
                eprintln!("{}", tail(&fs::read_to_string(p).unwrap_or_default(), 60));
            }
            eprintln!(
                "--- broker stderr ({}) ---\n{}--- end of broker stderr ---",
                self.stderr_path.display(),
                tail(&self.stderr(), 200)
            );
        }
        // A broker that died on its own during a test is a failure even if
        // every assertion passed.
        if let (None, Some(st)) = (self.exited, crashed) {
            if !failing {
                panic!(
                    "the broker exited by itself during the test ({st})\n--- broker stderr ---\n{}",
                    tail(&self.stderr(), 200)
                );
            }
        }
    }
}

fn tail(s: &str, lines: usize) -> String {
    let all: Vec<&str> = s.lines().collect();
    let from = all.len().saturating_sub(lines);
    let mut out = all[from..].join("\n");
    out.push('\n');
    out
}
