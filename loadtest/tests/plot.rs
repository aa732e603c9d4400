//! `--plot` and `plot` end to end: shardmq-bench runs against a real
//! broker (Debian's mosquitto, so this test needs no shardmq build), draws
//! each run's chart, and draws the saved `--json` results together. The
//! SVGs are read back for their series: one percentile curve and one
//! legend label per run.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

#[path = "common/svg.rs"]
mod svg;
use svg::{polylines, texts};

const BENCH: &str = env!("CARGO_BIN_EXE_shardmq-bench");
/// The first colour of every chart (the first series).
const FIRST: &str = "#0072B2";
const SECOND: &str = "#D55E00";

struct Mosquitto {
    child: Child,
    port: u16,
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mosquitto(dir: &Path) -> Mosquitto {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = dir.join("mosquitto.conf");
    // `user root`: as root, do not switch to a user that cannot read `dir`
    // (ignored when not root).
    fs::write(
        &conf,
        format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n"),
    )
    .unwrap();
    let child = Command::new("mosquitto")
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mosquitto missing: apt-get install mosquitto (scripts/test.sh does)");
    let m = Mosquitto { child, port };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "mosquitto did not listen on {port}"
        );
        sleep(Duration::from_millis(20));
    }
    m
}

/// Runs shardmq-bench to completion within a minute.
fn bench(args: &[&str]) -> Output {
    let mut child = Command::new(BENCH)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("shardmq-bench {args:?} did not finish within a minute");
        }
        sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "shardmq-bench {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Lines of this colour with at least `min` points (curves, not legend
/// samples or ticks).
fn curves(svg: &str, colour: &str, min: usize) -> usize {
    polylines(svg)
        .iter()
        .filter(|(c, n)| c.eq_ignore_ascii_case(colour) && *n >= min)
        .count()
}

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

#[test]
fn a_run_draws_its_chart_and_saved_runs_draw_together() {
    let dir =
        Dir(std::env::temp_dir().join(format!("shardmq-bench-plot-it-{}", std::process::id())));
    fs::create_dir_all(&dir.0).unwrap();
    let d = |f: &str| dir.0.join(f).display().to_string();
    let m = mosquitto(&dir.0);
    let port = m.port.to_string();
    let common = ["--port", &port, "--drain", "1", "-q", "--json"];
    let fanin = bench(
        &[
            &[
                "fanin",
                "--publishers",
                "2",
                "--rate",
                "500",
                "--qos",
                "1",
                "--duration",
                "3",
            ][..],
            &common,
            &["--plot", &d("fanin.svg")],
        ]
        .concat(),
    );
    fs::write(d("fanin.json"), &fanin.stdout).unwrap();
    let p2p = bench(
        &[
            &["p2p", "--pairs", "2", "--rate", "500", "--duration", "1"][..],
            &common,
            &["--plot", &d("p2p.png")],
        ]
        .concat(),
    );
    fs::write(d("p2p.json"), &p2p.stdout).unwrap();

    // The run's own chart: its curve, its rates, its legend.
    let svg = fs::read_to_string(d("fanin.svg")).unwrap();
    assert_eq!(
        curves(&svg, FIRST, 20),
        1,
        "one percentile curve (48 points)"
    );
    assert!(curves(&svg, FIRST, 3) >= 2, "and the rates over >= 3 s");
    let label = format!("fanin 127.0.0.1:{port}");
    assert_eq!(texts(&svg).iter().filter(|t| **t == label).count(), 2);
    let png = fs::read(d("p2p.png")).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");

    // --json carries what `plot` needs.
    let j: serde_json::Value = serde_json::from_slice(&fanin.stdout).unwrap();
    assert!(j["latency_curve_us"].as_array().unwrap().len() >= 40);
    let timeline = j["timeline"].as_array().unwrap();
    assert!(
        timeline
            .iter()
            .any(|s| s["delivered_per_s"].as_f64() > Some(0.0)),
        "{timeline:?}"
    );

    // Both saved runs on one chart.
    let both = d("both.svg");
    bench(&[
        "plot",
        &format!("fan in={}", d("fanin.json")),
        &d("p2p.json"),
        "-o",
        &both,
    ]);
    let svg = fs::read_to_string(&both).unwrap();
    for (colour, label) in [(FIRST, "fan in"), (SECOND, "p2p")] {
        assert_eq!(curves(&svg, colour, 20), 1, "{label}: one curve");
        assert_eq!(
            texts(&svg).iter().filter(|t| *t == label).count(),
            2,
            "{label}: legends"
        );
    }
}
