use super::*;
use std::net::SocketAddr;

fn listener(origins: &[&str]) -> ListenerConfig {
    let mut l = ListenerConfig::tcp(SocketAddr::from(([127, 0, 0, 1], 0)));
    l.transport = crate::config::TransportKind::Ws;
    l.allowed_origins = origins.iter().map(|o| o.to_string()).collect();
    l
}

/// The RFC 6455 §1.3 example request, on `path`, with `extra` headers.
fn request(path: &str, extra: &str) -> Request {
    let raw = format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    );
    let (n, r) = Request::try_parse(raw.as_bytes()).unwrap().unwrap();
    assert_eq!(n, raw.len());
    r
}

fn status(r: Result<(Response, &'static str), Refused>) -> (StatusCode, Failure) {
    let r = r.expect_err("refused");
    (r.status, r.why)
}

#[test]
fn mqtt_is_chosen_and_the_key_answered() {
    let l = listener(&[]);
    let (resp, p) = check(
        &request("/mqtt", "Sec-WebSocket-Protocol: mqttv3.1, mqtt\r\n"),
        &l,
    )
    .ok()
    .unwrap();
    assert_eq!(p, "mqtt");
    assert_eq!(resp.status(), StatusCode::SWITCHING_PROTOCOLS);
    let accept = resp.headers().get("Sec-WebSocket-Accept").unwrap();
    assert_eq!(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="); // RFC 6455 §1.3
                                                        // MQTT 3.1 clients offer only mqttv3.1, in any header line.
    let two = "Sec-WebSocket-Protocol: wamp\r\nSec-WebSocket-Protocol: mqttv3.1\r\n";
    let (_, p) = check(&request("/mqtt?k=v", two), &l).ok().unwrap();
    assert_eq!(p, "mqttv3.1");
}

#[test]
fn an_upgrade_without_mqtt_is_refused() {
    let l = listener(&[]);
    for extra in ["", "Sec-WebSocket-Protocol: wamp, MQTT5\r\n"] {
        let got = status(check(&request("/mqtt", extra), &l));
        assert_eq!(got, (StatusCode::BAD_REQUEST, Failure::NoSubprotocol));
    }
}

#[test]
fn path_upgrade_and_version_are_checked() {
    let l = listener(&[]);
    let mqtt = "Sec-WebSocket-Protocol: mqtt\r\n";
    let got = status(check(&request("/other", mqtt), &l));
    assert_eq!(got, (StatusCode::NOT_FOUND, Failure::BadUpgrade));
    let raw = "GET /mqtt HTTP/1.1\r\nHost: x\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n";
    let (_, plain_get) = Request::try_parse(raw.as_bytes()).unwrap().unwrap();
    let got = status(check(&plain_get, &l));
    assert_eq!(got, (StatusCode::BAD_REQUEST, Failure::BadUpgrade));
    let v8 = request("/mqtt", mqtt);
    let mut v8 = v8;
    v8.headers_mut()
        .insert("Sec-WebSocket-Version", HeaderValue::from_static("8"));
    let got = status(check(&v8, &l));
    assert_eq!(got, (StatusCode::UPGRADE_REQUIRED, Failure::BadUpgrade));
}

#[test]
fn origins_are_checked_against_the_allow_list() {
    let l = listener(&["https://app.example", "http://localhost:8080"]);
    let with = |o: &str| format!("Sec-WebSocket-Protocol: mqtt\r\nOrigin: {o}\r\n");
    assert!(check(&request("/mqtt", &with("https://APP.example")), &l).is_ok());
    assert!(check(&request("/mqtt", &with("http://localhost:8080")), &l).is_ok());
    let got = status(check(&request("/mqtt", &with("https://evil.example")), &l));
    assert_eq!(got, (StatusCode::FORBIDDEN, Failure::BadUpgrade));
    // Not a browser: nothing to check.
    assert!(check(&request("/mqtt", "Sec-WebSocket-Protocol: mqtt\r\n"), &l).is_ok());
    // No allow-list: any origin.
    let any = listener(&[]);
    assert!(check(&request("/mqtt", &with("https://evil.example")), &any).is_ok());
}
