//! A WebSocket test client (tungstenite's client side) as a `Wire`, so the
//! raw-byte `Client` runs over ws and wss: each write is one binary frame,
//! reads return the payloads of binary frames in order. The bad-input
//! tests also send frames of their own making through it.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::sync::Arc;
use std::time::Duration;

use tungstenite::client::IntoClientRequest;
use tungstenite::http::StatusCode;
use tungstenite::protocol::frame::Frame;
use tungstenite::{Error, HandshakeError, Message, WebSocket};

use super::client::{dial, tls_handshake, Client, Wire};

/// A WebSocket over any test stream.
pub struct WsStream {
    pub ws: WebSocket<Box<dyn Wire>>,
    /// Payload received and not read yet.
    pending: Vec<u8>,
}

/// What the upgrade request carries.
pub struct Upgrade<'a> {
    pub path: &'a str,
    /// `Sec-WebSocket-Protocol`, if any.
    pub protocols: Option<&'a str>,
    pub origin: Option<&'a str>,
}

impl Default for Upgrade<'_> {
    fn default() -> Self {
        Upgrade {
            path: "/mqtt",
            protocols: Some("mqtt"),
            origin: None,
        }
    }
}

/// Upgrade `stream` to a WebSocket; a refusal gives its HTTP status.
pub fn upgrade(
    stream: Box<dyn Wire>,
    port: u16,
    up: &Upgrade,
) -> Result<WsStream, Option<StatusCode>> {
    let url = format!("ws://127.0.0.1:{port}{}", up.path);
    let mut req = url.into_client_request().unwrap();
    let h = req.headers_mut();
    if let Some(p) = up.protocols {
        h.insert("Sec-WebSocket-Protocol", p.parse().unwrap());
    }
    if let Some(o) = up.origin {
        h.insert("Origin", o.parse().unwrap());
    }
    match tungstenite::client::client(req, stream) {
        Ok((ws, _)) => Ok(WsStream {
            ws,
            pending: Vec::new(),
        }),
        Err(HandshakeError::Failure(Error::Http(resp))) => Err(Some(resp.status())),
        Err(_) => Err(None),
    }
}

/// A WebSocket connection to `port` (upgrade done, nothing sent yet).
pub fn ws_stream(port: u16, name: &str) -> WsStream {
    let mut sock: Box<dyn Wire> = Box::new(dial(port, name));
    sock.set_read_timeout(Some(super::WAIT));
    upgrade(sock, port, &Upgrade::default())
        .unwrap_or_else(|e| panic!("[{name}] WebSocket upgrade refused: {e:?}"))
}

/// A secure WebSocket connection to `port`.
pub fn wss_stream(port: u16, name: &str, config: Arc<rustls::ClientConfig>) -> WsStream {
    let tls = tls_handshake(dial(port, name), config)
        .unwrap_or_else(|e| panic!("[{name}] TLS handshake failed: {e}"));
    upgrade(Box::new(tls), port, &Upgrade::default())
        .unwrap_or_else(|e| panic!("[{name}] WebSocket upgrade refused: {e:?}"))
}

/// A raw MQTT client over ws.
pub fn ws_client(port: u16, name: &str) -> Client {
    Client::over(Box::new(ws_stream(port, name)), name)
}

/// A raw MQTT client over wss.
pub fn wss_client(port: u16, name: &str, config: Arc<rustls::ClientConfig>) -> Client {
    Client::over(Box::new(wss_stream(port, name, config)), name)
}

impl WsStream {
    /// Send one frame as it is (tungstenite masks it, as a client must).
    pub fn send_frame(&mut self, f: Frame) -> Result<(), Error> {
        self.ws.send(Message::Frame(f))
    }

    /// The socket under the WebSocket, for bytes tungstenite would not send.
    pub fn raw(&mut self) -> &mut Box<dyn Wire> {
        self.ws.get_mut()
    }

    /// The next message, within the read timeout.
    pub fn next_message(&mut self, within: Duration) -> Result<Message, Error> {
        self.ws.get_mut().set_read_timeout(Some(within));
        self.ws.read()
    }
}

impl Read for WsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pending.is_empty() {
            match self.ws.read() {
                Ok(Message::Binary(b)) => self.pending.extend_from_slice(&b),
                Ok(Message::Text(t)) => {
                    return Err(io::Error::other(format!("text frame from the broker: {t}")))
                }
                Ok(Message::Close(_)) => return Ok(0),
                Ok(_) => {} // pings (answered by tungstenite), pongs
                Err(Error::Io(e)) => return Err(e),
                Err(Error::ConnectionClosed | Error::AlreadyClosed) => return Ok(0),
                Err(e) => return Err(io::Error::other(e)),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

impl Write for WsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.ws.send(Message::Binary(buf.to_vec().into())) {
            Ok(()) => Ok(buf.len()),
            Err(Error::Io(e)) => Err(e),
            Err(e) => Err(io::Error::other(e)),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.ws.flush().map_err(io::Error::other)
    }
}

impl Wire for WsStream {
    fn set_read_timeout(&mut self, t: Option<Duration>) {
        self.ws.get_mut().set_read_timeout(t);
    }
    fn shutdown(&mut self, how: Shutdown) {
        if how != Shutdown::Read {
            let _ = self.ws.close(None);
            let _ = self.ws.flush();
        }
        self.ws.get_mut().shutdown(how);
    }
    fn try_clone(&self) -> Box<dyn Wire> {
        panic!("a WebSocket test client cannot be cloned")
    }
    fn websocket(&mut self) -> Option<&mut WsStream> {
        Some(self)
    }
}

/// A broker with a ws and a wss listener (these options on both) and the
/// metrics endpoint; `None` against mosquitto.
pub fn ws_broker(
    certs: &super::certs::Certs,
    options: &str,
    extra: &str,
) -> Option<(super::Broker, String)> {
    if super::skip_on_mosquitto("the WebSocket listener config is shardmq's") {
        return None;
    }
    let cfg = format!(
        "{extra}\n[[listeners]]\nbind = \"127.0.0.1:0\"\ntransport = \"ws\"\n{options}\n\
         [[listeners]]\nbind = \"127.0.0.1:0\"\ntransport = \"wss\"\n\
         certfile = {}\nkeyfile = {}\n{options}\n",
        certs.toml("server.pem"),
        certs.toml("server.key")
    );
    Some(super::metrics::broker_with_metrics(&cfg))
}

/// CONNECT over `c`, expecting CONNACK 0.
pub fn connected(mut c: Client, id: &str) -> Client {
    c.send(&super::Connect::new(id).build());
    c.expect_packet(&super::connack(false, 0));
    c
}

/// Wait until `series{listener=..,cause=..}` is at least 1.
pub fn wait_cause(addr: &str, series: &str, listener: &str, cause: &str) {
    let s = format!("{series}{{listener=\"{listener}\",cause=\"{cause}\"}}");
    super::metrics::wait_for(addr, &s, 1.0);
}
