//! The HTTP upgrade that starts a WebSocket (RFC 6455 §4), parsed and
//! answered by tungstenite: the listener's path, a valid upgrade, the
//! origin allow-list, and the MQTT subprotocol [MQTT-6.0.0-3]. Runs under
//! the connect timeout (the caller's), reads at most [`MAX_REQUEST`]
//! bytes, and answers a refusal with its HTTP status before closing.

use super::{WsTransport, FRAME_SLACK};
use crate::config::ListenerConfig;
use crate::metrics::Failure;
use crate::transport::Transport;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use tracing::debug;
use tungstenite::handshake::machine::TryParse;
use tungstenite::handshake::server::{create_response, write_response, Request, Response};
use tungstenite::http::{HeaderValue, StatusCode};

/// Longest upgrade request taken (request line and headers).
const MAX_REQUEST: usize = 8 * 1024;

/// Subprotocols we speak, preferred first: `mqtt` (MQTT 3.1.1 and 5,
/// [MQTT-6.0.0-4]) and `mqttv3.1`, which MQTT 3.1 clients offer.
const SUBPROTOCOLS: [&str; 2] = ["mqtt", "mqttv3.1"];

/// Why an upgrade is refused: the HTTP answer and the counted cause.
struct Refused {
    status: StatusCode,
    why: Failure,
    detail: &'static str,
}

fn refused(status: StatusCode, detail: &'static str) -> Refused {
    Refused {
        status,
        why: Failure::BadUpgrade,
        detail,
    }
}

/// Upgrade `inner` (a TCP or TLS transport) to a WebSocket, or answer the
/// refusal, close and say why. Frames may carry up to `max_packet` bytes
/// plus [`FRAME_SLACK`].
pub async fn accept(
    mut inner: Transport,
    cfg: &ListenerConfig,
    max_packet: usize,
) -> Result<WsTransport, Failure> {
    let (request, rest) = match read_request(&mut inner).await? {
        Ok(got) => got,
        Err(r) => return refuse(inner, r).await,
    };
    let (mut response, protocol) = match check(&request, cfg) {
        Ok(ok) => ok,
        Err(r) => return refuse(inner, r).await,
    };
    response
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(protocol));
    let mut head = Vec::new();
    write_response(&mut head, &response).map_err(|_| Failure::BadUpgrade)?;
    inner.write_all(&head).await.map_err(|_| Failure::Closed)?;
    inner.flush().await.map_err(|_| Failure::Closed)?;
    Ok(WsTransport::new(inner, rest, max_packet + FRAME_SLACK))
}

/// The request, and the bytes the client sent behind it.
async fn read_request(
    inner: &mut Transport,
) -> Result<Result<(Request, Vec<u8>), Refused>, Failure> {
    let mut buf = Vec::new();
    let mut at = 0usize;
    loop {
        // Parsed again only once the end of the headers may be there (or
        // on the first bytes, to refuse what is not HTTP at once): a client
        // dripping bytes must not make us parse its request every time.
        let end = buf[at.saturating_sub(3)..]
            .windows(4)
            .any(|w| w == b"\r\n\r\n");
        let parsed = match at == 0 || end || buf.len() >= MAX_REQUEST {
            true => Request::try_parse(&buf),
            false => Ok(None),
        };
        match parsed {
            Ok(Some((end, request))) => return Ok(Ok((request, buf[end..].to_vec()))),
            Ok(None) if buf.len() >= MAX_REQUEST => {
                let too_large = StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;
                return Ok(Err(refused(too_large, "request larger than 8 KiB")));
            }
            Ok(None) => {}
            Err(_) => {
                let bad = "not an HTTP GET request (or too many headers)";
                return Ok(Err(refused(StatusCode::BAD_REQUEST, bad)));
            }
        }
        at = buf.len();
        buf.resize(MAX_REQUEST, 0);
        let n = inner
            .read(&mut buf[at..])
            .await
            .map_err(|_| Failure::Closed)?;
        buf.truncate(at + n);
        if n == 0 {
            return Err(Failure::Closed);
        }
    }
}

/// The 101 response to a request we take, and the subprotocol chosen.
fn check(request: &Request, cfg: &ListenerConfig) -> Result<(Response, &'static str), Refused> {
    if request.uri().path() != cfg.path {
        return Err(refused(StatusCode::NOT_FOUND, "not the listener's path"));
    }
    let response = create_response(request).map_err(|_| {
        if request
            .headers()
            .get("Sec-WebSocket-Version")
            .is_some_and(|v| v != "13")
        {
            refused(
                StatusCode::UPGRADE_REQUIRED,
                "WebSocket version other than 13",
            )
        } else {
            refused(StatusCode::BAD_REQUEST, "not a WebSocket upgrade")
        }
    })?;
    if !origin_allowed(request, &cfg.allowed_origins) {
        return Err(refused(StatusCode::FORBIDDEN, "Origin not allowed"));
    }
    let Some(protocol) = subprotocol(request) else {
        return Err(Refused {
            status: StatusCode::BAD_REQUEST,
            why: Failure::NoSubprotocol,
            detail: "[MQTT-6.0.0-3] subprotocol mqtt not offered",
        });
    };
    Ok((response, protocol))
}

/// Browsers always send `Origin` with a WebSocket upgrade; the allow-list
/// keeps other sites' pages out. A client without one is not a browser,
/// and could claim any origin it liked, so it is let through.
fn origin_allowed(request: &Request, allowed: &[String]) -> bool {
    if allowed.is_empty() {
        return true;
    }
    match request.headers().get("Origin") {
        None => true,
        Some(o) => o
            .to_str()
            .is_ok_and(|o| allowed.iter().any(|a| a.eq_ignore_ascii_case(o))),
    }
}

/// The subprotocol to answer with, of those the client offers.
fn subprotocol(request: &Request) -> Option<&'static str> {
    let offered: Vec<&str> = request
        .headers()
        .get_all("Sec-WebSocket-Protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    SUBPROTOCOLS.into_iter().find(|p| offered.contains(p))
}

/// Answer a refused upgrade with its status and close. Not waiting for the
/// client to go: its cause is counted now, not as a timeout.
async fn refuse(mut inner: Transport, r: Refused) -> Result<WsTransport, Failure> {
    debug!(
        status = r.status.as_u16(),
        cause = r.why.name(),
        "WebSocket upgrade refused: {}",
        r.detail
    );
    let mut answer = Response::builder()
        .status(r.status)
        .header("Connection", "close")
        .header("Content-Length", "0");
    if r.status == StatusCode::UPGRADE_REQUIRED {
        answer = answer.header("Sec-WebSocket-Version", "13");
    }
    let mut head = Vec::new();
    if let Ok(answer) = answer.body(()) {
        let _ = write_response(&mut head, &answer);
    }
    let _ = inner.write_all(&head).await;
    let _ = inner.close().await;
    Err(r.why)
}

#[cfg(test)]
mod tests;
