//! The metrics endpoint seen from a test: start a broker with it, scrape,
//! read one series, wait until a series reaches a value.

use super::{ms, Broker};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Start a broker with the metrics listener; returns it and `host:port`.
pub fn broker_with_metrics(extra: &str) -> (Broker, String) {
    let b = Broker::start(&format!("metrics_listen = \"127.0.0.1:0\"\n{extra}"));
    let addr = metrics_addr(&b);
    (b, addr)
}

/// The `host:port` a broker started with `metrics_listen` printed.
pub fn metrics_addr(b: &Broker) -> String {
    let line = b
        .stdout
        .recv_timeout(Duration::from_secs(5))
        .expect("no metrics line on stdout");
    let addr = line
        .strip_prefix("shardmq metrics on http://")
        .and_then(|r| r.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("unexpected line {line:?}"))
        .to_string();
    addr
}

/// One raw HTTP request; returns (status code, body).
pub fn http(addr: &str, request: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let code = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("no status line");
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (code, body)
}

pub fn scrape(addr: &str) -> String {
    let (code, body) = http(addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(code, 200);
    body
}

pub fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Shards post their numbers once a second: poll until `series` reaches `min`.
pub fn wait_for(addr: &str, series: &str, min: f64) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = scrape(addr);
        if value(&text, series).is_some_and(|v| v >= min) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{series} never reached {min}:\n{text}"
        );
        std::thread::sleep(ms(200));
    }
}
