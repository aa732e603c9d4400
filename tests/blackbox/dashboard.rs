//! The Grafana dashboard (scripts/grafana/shardmq.json) against a real
//! Prometheus (Debian's `prometheus`) that scrapes a broker under a little
//! traffic every second: every query of the dashboard returns data.

use crate::common::broker::{free_port, wait_child, TempDir};
use crate::common::metrics::*;
use crate::common::*;
use serde_json::Value;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A Prometheus server, stopped on drop.
struct Prometheus {
    child: Child,
    addr: String,
    log: std::path::PathBuf,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if thread::panicking() {
            let log = fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!("--- prometheus log ---\n{}", tail(&log, 40));
        }
    }
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Scrapes `target` (host:port) every second; ready within 30 s.
fn prometheus(dir: &TempDir, target: &str) -> Prometheus {
    require_tool("prometheus", "--version", "apt-get install prometheus");
    let conf = dir.path().join("prometheus.yml");
    fs::write(
        &conf,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: shardmq\n    static_configs:\n      \
             - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    for attempt in 0..3 {
        let addr = format!("127.0.0.1:{}", free_port());
        let log = dir.path().join(format!("prometheus-{attempt}.log"));
        let mut child = Command::new("prometheus")
            .arg(format!("--config.file={}", conf.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if get(&addr, "/-/ready").is_some_and(|(code, _)| code == 200) {
                return Prometheus { child, addr, log };
            }
            if child.try_wait().unwrap().is_some() {
                break; // the port was taken meanwhile: another one
            }
            thread::sleep(ms(100));
        }
        let _ = child.kill();
        let _ = wait_child(&mut child, Duration::from_secs(5));
        eprintln!(
            "prometheus attempt {attempt}:\n{}",
            fs::read_to_string(&log).unwrap()
        );
    }
    panic!("prometheus did not become ready");
}

/// HTTP/1.0 GET (no chunked answer); None if nothing listens.
fn get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    let code = resp.split_whitespace().nth(1)?.parse().ok()?;
    let body = resp.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((code, body))
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// /api/v1/query: the `result` array.
fn query(p: &Prometheus, expr: &str) -> Result<Vec<Value>, String> {
    let (code, body) = get(
        &p.addr,
        &format!("/api/v1/query?query={}", url_encode(expr)),
    )
    .ok_or("prometheus did not answer")?;
    let v: Value = serde_json::from_str(&body).map_err(|e| format!("{code}: {e}: {body}"))?;
    if v["status"] != "success" {
        return Err(format!("{code}: {body}"));
    }
    Ok(v["data"]["result"].as_array().cloned().unwrap_or_default())
}

/// Every `expr` of the dashboard, with its panel's title.
fn exprs(v: &Value, panel: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            let title = m.get("title").and_then(Value::as_str).unwrap_or(panel);
            if let Some(Value::String(e)) = m.get("expr") {
                out.push((title.to_string(), e.clone()));
            }
            m.values().for_each(|c| exprs(c, title, out));
        }
        Value::Array(a) => a.iter().for_each(|c| exprs(c, panel, out)),
        _ => {}
    }
}

/// What Grafana would put in place of the dashboard's variables: every
/// job and instance, and `$__rate_interval` for a 1 s scrape interval.
fn grafana_vars(expr: &str) -> String {
    expr.replace("$__rate_interval", "5s")
        .replace("$job", ".+")
        .replace("$instance", ".+")
}

/// Publishes (QoS 0, 1, 2) to a subscriber until dropped.
fn traffic(b: &Broker) -> (Arc<AtomicBool>, thread::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let mut sub = b.connect(&id_on_shard("dash-sub", 0), true);
    sub.subscribe("dash/#", 2);
    let mut publ = b.connect(&id_on_shard("dash-pub", 1), true);
    let flag = stop.clone();
    let h = thread::spawn(move || {
        let mut n = 0u32;
        while !flag.load(Ordering::Relaxed) {
            let qos = (n % 3) as u8;
            publ.publish("dash/t", b"x", qos, false);
            sub.expect_msg("dash/t", b"x", qos);
            n += 1;
            thread::sleep(ms(50));
        }
    });
    (stop, h)
}

#[test]
fn every_dashboard_query_returns_data_from_a_real_prometheus() {
    if skip_on_mosquitto("shardmq's metrics") {
        return;
    }
    let text = fs::read_to_string(format!("{ROOT}/scripts/grafana/shardmq.json")).unwrap();
    let made = run_ok(
        Command::new("python3").arg(format!("{ROOT}/scripts/grafana/make_dashboard.py")),
        Duration::from_secs(30),
    );
    assert!(
        made.stdout == text.as_bytes(),
        "scripts/grafana/shardmq.json is not what make_dashboard.py writes: run it"
    );
    let dash: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let mut all = Vec::new();
    exprs(&dash["panels"], "", &mut all);
    assert!(all.len() >= 20, "only {} queries", all.len());
    let panels = dash["panels"].as_array().unwrap();
    let mut ids: Vec<u64> = panels.iter().map(|p| p["id"].as_u64().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), panels.len(), "panel ids are unique");
    assert!(panels.iter().all(|p| p["gridPos"]["w"].as_u64() > Some(0)));
    let vars = dash["templating"]["list"].as_array().unwrap();
    assert_eq!(
        vars[0]["type"], "datasource",
        "the data source is chosen at import"
    );

    let (b, metrics) = broker_with_metrics("");
    // A refused CONNECT (protocol level 6): a refusal reason with data.
    connect_with(
        b.port,
        &Connect::new("old").protocol(b"MQTT", 6),
        &connack(false, 1),
    );
    let (stop, load) = traffic(&b);
    let dir = TempDir::new("prometheus");
    let p = prometheus(&dir, &metrics);
    // rate() over 5 s needs two scrapes inside it: wait for four.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = query(&p, "count_over_time(shardmq_uptime_seconds[30s])").unwrap();
        let n = r
            .first()
            .and_then(|s| s["value"][1].as_str()?.parse::<f64>().ok());
        if n.is_some_and(|n| n >= 4.0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no 4 scrapes of {metrics} in 30 s: {r:?}"
        );
        thread::sleep(ms(250));
    }
    let mut empty = Vec::new();
    for (panel, expr) in &all {
        match query(&p, &grafana_vars(expr)) {
            Ok(r) if !r.is_empty() => {}
            Ok(_) => empty.push(format!("{panel}: {expr}: no data")),
            Err(e) => empty.push(format!("{panel}: {expr}: {e}")),
        }
    }
    // And the traffic is in the numbers, not only zeros.
    let inout = &all
        .iter()
        .find(|(t, _)| t == "Messages in and out")
        .unwrap()
        .1;
    let r = query(&p, &grafana_vars(inout)).unwrap();
    let rate: f64 = r[0]["value"][1].as_str().unwrap().parse().unwrap();
    stop.store(true, Ordering::Relaxed);
    load.join().unwrap();
    assert!(
        empty.is_empty(),
        "{} of {} queries failed:\n{}",
        empty.len(),
        all.len(),
        empty.join("\n")
    );
    assert!(rate > 0.0, "messages in/out rate {rate}");
    // The variables' queries name a metric that is there, with its labels.
    let up = query(&p, "shardmq_uptime_seconds").unwrap();
    assert!(up[0]["metric"]["job"].is_string() && up[0]["metric"]["instance"].is_string());
}
