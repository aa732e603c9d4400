//! Real WebSocket clients: paho-mqtt with `transport="websockets"` (plain
//! and over TLS), and MQTT.js in a real browser (headless Chromium) over
//! ws:// and wss://. A missing python3/paho, node/npm or chromium FAILS
//! the tests (scripts/test.sh installs them). The browser test is in
//! `websocket_browser.rs`.

use crate::common::certs::Certs;
use crate::common::ws::ws_broker;
use crate::common::*;
use std::process::Command;
use std::time::Duration;

#[test]
fn paho_over_websocket_and_secure_websocket() {
    require_tool("python3", "--version", "apt-get install python3");
    let certs = Certs::new();
    let Some((b, _)) = ws_broker(&certs, "", "") else {
        return;
    };
    let script = format!(
        "{}/tests/blackbox/paho/websocket.py",
        env!("CARGO_MANIFEST_DIR")
    );
    run_ok(
        Command::new("python3")
            .arg(&script)
            .arg(b.port.to_string())
            .arg(b.port_of("ws").to_string())
            .arg(b.port_of("wss").to_string())
            .arg(certs.path("ca.pem"))
            .env("PYTHONDONTWRITEBYTECODE", "1"),
        Duration::from_secs(60),
    );
}
