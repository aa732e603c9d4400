//! MQTT.js (the npm `mqtt` package, its browser bundle) in headless
//! Chromium: a test page served from loopback connects over ws:// and
//! wss://, subscribes, and reports to the test's HTTP server; the test
//! then publishes from a TCP client and waits for the page to report the
//! message. The bundle is installed with npm into a scratch directory
//! (kept between runs); the wss listener's test CA is accepted with
//! `--ignore-certificate-errors`. Every wait is bounded.

use crate::common::broker::TempDir;
use crate::common::certs::Certs;
use crate::common::ws::ws_broker;
use crate::common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Sender};
use std::time::{Duration, Instant};

/// The npm package and version the page loads.
const MQTT_JS: &str = "mqtt@5";

/// The test page: one MQTT.js client per URL; each reports `subscribed`,
/// then the first message it gets, or why it has none (error, closed).
const PAGE: &str = r#"<!doctype html><html><head><title>shardmq</title>
<script src="/mqtt.min.js"></script></head><body><script>
function report(what, text) {
  fetch("/" + what, { method: "POST", body: text });
}
for (const [name, url] of Object.entries(URLS)) {
  let done = false;
  const fin = (text) => { if (!done) { done = true; report("result", name + " " + text); } };
  const c = mqtt.connect(url, { clientId: "browser-" + name, reconnectPeriod: 0 });
  c.on("connect", () => c.subscribe("browser/" + name, { qos: 1 }, (err) =>
    err ? fin("suback error " + err) : report("subscribed", name)));
  c.on("message", (topic, payload) => {
    fin(topic + " " + payload.toString());
    c.end();
  });
  c.on("error", (e) => fin("error " + e.message));
  c.on("close", () => fin("closed"));
}
</script></body></html>"#;

/// What the page told the test server.
enum Said {
    Subscribed(String),
    Result(String),
}

#[test]
fn mqtt_js_in_chromium_over_ws_and_wss() {
    let certs = Certs::new();
    let Some((b, _)) = ws_broker(&certs, "", "") else {
        return;
    };
    require_tool("chromium", "--version", "apt-get install chromium");
    let bundle = std::fs::read(mqtt_js_bundle()).expect("mqtt.min.js");
    let urls = format!(
        "const URLS = {{ ws: \"ws://127.0.0.1:{}/mqtt\", wss: \"wss://localhost:{}/mqtt\" }};",
        b.port_of("ws"),
        b.port_of("wss")
    );
    let page = PAGE.replace("<script>\nfunction", &format!("<script>\n{urls}\nfunction"));
    let (tx, rx) = mpsc::channel();
    let site = serve(page, bundle, tx);
    let profile = TempDir::new("chromium");
    let mut browser = Browser(
        Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox", // tests run as root
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--ignore-certificate-errors", // the wss listener's test CA
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("http://127.0.0.1:{site}/"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start chromium"),
    );
    let mut publisher = b.connect("browser-pub", true);
    let mut results = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while results.len() < 2 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Said::Subscribed(name)) => {
                let msg = format!("hello {name} from tcp");
                publisher.publish(&format!("browser/{name}"), msg.as_bytes(), 1, false);
            }
            Ok(Said::Result(r)) => results.push(r),
            Err(_) => panic!("the page reported only {results:?} within 60 s"),
        }
    }
    results.sort();
    assert_eq!(
        results,
        [
            "ws browser/ws hello ws from tcp",
            "wss browser/wss hello wss from tcp"
        ]
    );
    let _ = browser.0.kill();
}

/// Kills chromium when the test ends, however it ends.
struct Browser(Child);

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// MQTT.js's browser bundle, installed with npm on first use into a
/// directory kept between runs.
fn mqtt_js_bundle() -> PathBuf {
    let dir = std::env::temp_dir().join("shardmq-test-mqttjs");
    let bundle = dir.join("node_modules/mqtt/dist/mqtt.min.js");
    if !bundle.exists() {
        require_tool("npm", "--version", "apt-get install npm");
        std::fs::create_dir_all(&dir).unwrap();
        run_ok(
            Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
                .arg(&dir)
                .arg(MQTT_JS),
            Duration::from_secs(300),
        );
    }
    bundle
}

/// A loopback HTTP server for the page: `/` the page, `/mqtt.min.js` the
/// bundle, `POST /subscribed` and `POST /result` what the page says.
/// Returns its port; it serves until the process ends.
fn serve(page: String, bundle: Vec<u8>, tx: Sender<Said>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            if answer(conn, &page, &bundle, &tx).is_err() {
                continue;
            }
        }
    });
    port
}

fn answer(
    mut conn: TcpStream,
    page: &str,
    bundle: &[u8],
    tx: &Sender<Said>,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(WAIT))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut length = 0;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let body = String::from_utf8_lossy(&body).into_owned();
    let (kind, content): (&str, &[u8]) = match path.as_str() {
        "/" => ("text/html", page.as_bytes()),
        "/mqtt.min.js" => ("text/javascript", bundle),
        "/subscribed" => {
            let _ = tx.send(Said::Subscribed(body));
            ("text/plain", b"")
        }
        "/result" => {
            let _ = tx.send(Said::Result(body));
            ("text/plain", b"")
        }
        _ => ("text/plain", b""),
    };
    write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        content.len()
    )?;
    conn.write_all(content)
}
