//! Bad WebSocket input: an upgrade without the `mqtt` subprotocol, on
//! another path, from an origin not allowed, not HTTP at all, too large or
//! too slow; after the upgrade an oversized, text, unmasked or reserved
//! frame. Each gets its HTTP status or close code (RFC 6455 §7.4.1), is
//! counted by cause on its listener, and nobody else notices.

use crate::common::certs::Certs;
use crate::common::client::{dial, Wire};
use crate::common::metrics::*;
use crate::common::ws::*;
use crate::common::*;
use std::io::{Read, Write};
use tungstenite::http::StatusCode;
use tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tungstenite::protocol::frame::Frame;
use tungstenite::Message;

const FAILURES: &str = "shardmq_listener_handshake_failures_total";
const REFUSED: &str = "shardmq_listener_websocket_refused_total";

/// Try an upgrade on `port`: `Ok` or the HTTP status of the refusal.
fn try_upgrade(port: u16, up: Upgrade) -> Result<(), Option<StatusCode>> {
    let mut sock: Box<dyn Wire> = Box::new(dial(port, "upgrade"));
    sock.set_read_timeout(Some(WAIT));
    upgrade(sock, port, &up).map(drop)
}

/// Send raw bytes to `port` and read everything until the broker closes.
fn raw_exchange(port: u16, bytes: &[u8]) -> String {
    let mut s = dial(port, "raw");
    s.set_read_timeout(Some(WAIT)).unwrap();
    let _ = s.write_all(bytes);
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got); // ECONNRESET after the answer is fine
    String::from_utf8_lossy(&got).into_owned()
}

/// Whoever connected before must still get messages.
fn still_served(b: &Broker, subs: &mut [Client], topic: &str) {
    let mut p = b.connect("still-pub", true);
    p.publish(topic, b"unharmed", 0, false);
    for s in subs {
        s.expect_msg(topic, b"unharmed", 0);
    }
    p.disconnect();
}

#[test]
fn bad_upgrades_get_their_http_status_and_are_counted() {
    let certs = Certs::new();
    let opts = "allowed_origins = [\"https://good.example\"]\n";
    let Some((b, addr)) = ws_broker(&certs, opts, "") else {
        return;
    };
    let ws = b.port_of("ws");
    let label = format!("ws:{ws}");
    let mut sub = connected(ws_client(ws, "bystander"), "bystander");
    sub.subscribe("u/#", 0);

    // [MQTT-6.0.0-3]: the client must offer mqtt.
    let none = Upgrade {
        protocols: None,
        ..Upgrade::default()
    };
    assert_eq!(try_upgrade(ws, none), Err(Some(StatusCode::BAD_REQUEST)));
    let others = Upgrade {
        protocols: Some("wamp, mqttv5"),
        ..Upgrade::default()
    };
    assert_eq!(try_upgrade(ws, others), Err(Some(StatusCode::BAD_REQUEST)));
    let s = format!("{FAILURES}{{listener=\"{label}\",cause=\"no_subprotocol\"}}");
    wait_for(&addr, &s, 2.0);

    let elsewhere = Upgrade {
        path: "/other",
        ..Upgrade::default()
    };
    assert_eq!(try_upgrade(ws, elsewhere), Err(Some(StatusCode::NOT_FOUND)));
    let evil = Upgrade {
        origin: Some("https://evil.example"),
        ..Upgrade::default()
    };
    assert_eq!(try_upgrade(ws, evil), Err(Some(StatusCode::FORBIDDEN)));
    // Not HTTP at all: MQTT bytes on the WebSocket port.
    let answer = raw_exchange(ws, &Connect::new("plain").build());
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer:?}");
    // Another WebSocket version.
    let v8 = "GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\
              Sec-WebSocket-Protocol: mqtt\r\n\r\n";
    let answer = raw_exchange(ws, v8.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 426"), "{answer:?}");
    assert!(answer.contains("sec-websocket-version: 13"), "{answer:?}");
    // A request header larger than 8 KiB.
    let huge = format!("GET /mqtt HTTP/1.1\r\nX-Pad: {}\r\n\r\n", "a".repeat(9000));
    let answer = raw_exchange(ws, huge.as_bytes());
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer:?}"
    );
    let s = format!("{FAILURES}{{listener=\"{label}\",cause=\"bad_upgrade\"}}");
    wait_for(&addr, &s, 5.0);

    // The allowed origin, no origin (not a browser), and mqttv3.1 pass.
    let good = Upgrade {
        origin: Some("https://good.example"),
        ..Upgrade::default()
    };
    assert_eq!(try_upgrade(ws, good), Ok(()));
    assert_eq!(try_upgrade(ws, Upgrade::default()), Ok(()));
    let v31 = Upgrade {
        protocols: Some("mqttv3.1"),
        ..Upgrade::default()
    };
    assert_eq!(try_upgrade(ws, v31), Ok(()));
    still_served(&b, &mut [sub], "u/1");
}

#[test]
fn a_slowloris_upgrade_is_closed_at_the_connect_timeout() {
    let certs = Certs::new();
    let Some((b, addr)) = ws_broker(&certs, "", "") else {
        return;
    };
    let ws = b.port_of("ws");
    let mut sub = connected(ws_client(ws, "patient"), "patient");
    sub.subscribe("l/#", 0);
    let mut slow = Client::tcp(ws, "slowloris");
    slow.send(b"GET /mqtt HTTP/1.1\r\nHost: x\r\n");
    std::thread::sleep(ms(200));
    slow.send(b"Upgrade: websocket\r\n"); // and never the end
    slow.expect_closed(ms(3000)); // connect timeout 0.5 s in tests
    wait_cause(&addr, FAILURES, &format!("ws:{ws}"), "timeout");
    still_served(&b, &mut [sub], "l/1");
}

/// After the upgrade: each bad frame gets the close frame with its code.
#[test]
fn bad_frames_get_their_close_code_and_are_counted() {
    let certs = Certs::new();
    let limits = "[limits]\nmax_packet_size = 1024\n";
    let Some((b, addr)) = ws_broker(&certs, "", limits) else {
        return;
    };
    let (ws, wss) = (b.port_of("ws"), b.port_of("wss"));
    let mut subs = vec![
        connected(ws_client(ws, "calm-ws"), "calm-ws"),
        connected(wss_client(wss, "calm-wss", certs.client(None)), "calm-wss"),
    ];
    for s in &mut subs {
        s.subscribe("f/#", 0);
    }
    let expect_close = |c: &mut Client, code: CloseCode| match c.websocket().next_message(WAIT) {
        Ok(Message::Close(Some(f))) => assert_eq!(f.code, code, "[{}]", c.name),
        other => panic!("[{}] expected close {code}, got {other:?}", c.name),
    };
    // Over the limit (1024 + 16 KiB slack), one frame: 1009, ws and wss.
    let big = vec![0u8; 1024 + 16 * 1024 + 1];
    for mut c in [
        connected(ws_client(ws, "big-ws"), "big-ws"),
        connected(wss_client(wss, "big-wss", certs.client(None)), "big-wss"),
    ] {
        let _ = c.websocket().ws.send(Message::Binary(big.clone().into()));
        expect_close(&mut c, CloseCode::Size);
    }
    wait_cause(&addr, REFUSED, &format!("wss:{wss}"), "too_big");
    // ... or fragments adding up to more.
    let mut c = connected(ws_client(ws, "frag"), "frag");
    let half = vec![0u8; 9 * 1024];
    let ws_ = c.websocket();
    let _ = ws_.send_frame(Frame::message(
        half.clone(),
        OpCode::Data(Data::Binary),
        false,
    ));
    let _ = ws_.send_frame(Frame::message(half, OpCode::Data(Data::Continue), true));
    expect_close(&mut c, CloseCode::Size);
    let label = format!("ws:{ws}");
    let s = format!("{REFUSED}{{listener=\"{label}\",cause=\"too_big\"}}");
    wait_for(&addr, &s, 2.0);

    // A text frame, even before CONNECT [MQTT-6.0.0-1]: 1003.
    let mut c = Client::over(Box::new(ws_stream(ws, "text")), "text");
    let _ = c.websocket().ws.send(Message::Text("CONNECT?".into()));
    expect_close(&mut c, CloseCode::Unsupported);
    wait_cause(&addr, REFUSED, &label, "not_binary");

    // An unmasked client frame (RFC 6455 §5.1): 1002.
    let mut c = connected(ws_client(ws, "bare"), "bare");
    let _ = c.websocket().raw().write_all(&[0x82, 0x02, 0xC0, 0x00]);
    expect_close(&mut c, CloseCode::Protocol);
    wait_cause(&addr, REFUSED, &label, "unmasked");

    // A reserved opcode: 1002.
    let mut c = connected(ws_client(ws, "odd"), "odd");
    let odd = Frame::message(vec![0xC0, 0], OpCode::Data(Data::Reserved(3)), true);
    let _ = c.websocket().send_frame(odd);
    expect_close(&mut c, CloseCode::Protocol);
    wait_cause(&addr, REFUSED, &label, "protocol");

    still_served(&b, &mut subs, "f/1");
}
