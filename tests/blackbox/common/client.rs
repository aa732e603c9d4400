//! A raw MQTT client over a blocking `TcpStream`: send bytes, frame what
//! comes back, and assert on it. Every wait has a deadline.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::packets::*;
use super::WAIT;

/// Outcome of one bounded read of a packet.
#[derive(Debug)]
pub enum Recv {
    Packet(u8, Vec<u8>),
    /// EOF or connection reset/aborted.
    Closed(String),
    Timeout,
}

/// The byte stream under a test client: TCP, TLS, WebSocket.
pub trait Wire: Read + Write + Send {
    fn set_read_timeout(&mut self, t: Option<Duration>);
    fn shutdown(&mut self, how: Shutdown);
    /// Another handle on the same stream (TCP only).
    fn try_clone(&self) -> Box<dyn Wire>;
    /// The WebSocket, if the stream is one (for frames of a test's making).
    fn websocket(&mut self) -> Option<&mut super::ws::WsStream> {
        None
    }
}

impl Wire for TcpStream {
    fn set_read_timeout(&mut self, t: Option<Duration>) {
        TcpStream::set_read_timeout(self, t).unwrap();
    }
    fn shutdown(&mut self, how: Shutdown) {
        let _ = TcpStream::shutdown(self, how);
    }
    fn try_clone(&self) -> Box<dyn Wire> {
        Box::new(TcpStream::try_clone(self).unwrap())
    }
}

/// TLS with rustls over a blocking socket.
pub type TlsStream = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

impl Wire for TlsStream {
    fn set_read_timeout(&mut self, t: Option<Duration>) {
        self.sock.set_read_timeout(t).unwrap();
    }
    fn shutdown(&mut self, how: Shutdown) {
        if how != Shutdown::Read {
            self.conn.send_close_notify();
            let _ = self.conn.complete_io(&mut self.sock);
        }
        let _ = self.sock.shutdown(how);
    }
    fn try_clone(&self) -> Box<dyn Wire> {
        panic!("a TLS test client cannot be cloned")
    }
}

/// A TCP connection to the broker's loopback `port`.
pub fn dial(port: u16, name: &str) -> TcpStream {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let stream = TcpStream::connect_timeout(&addr, WAIT)
        .unwrap_or_else(|e| panic!("[{name}] cannot connect to {addr}: {e}"));
    stream.set_nodelay(true).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream
}

/// Complete a TLS handshake as a client over `sock` (bounded by WAIT).
pub fn tls_handshake(
    sock: TcpStream,
    config: Arc<rustls::ClientConfig>,
) -> Result<TlsStream, std::io::Error> {
    sock.set_read_timeout(Some(WAIT)).unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(config, name).unwrap();
    let mut s = rustls::StreamOwned::new(conn, sock);
    while s.conn.is_handshaking() {
        s.conn.complete_io(&mut s.sock)?;
    }
    // TLS 1.3: a client certificate is refused only after the client's
    // handshake ended; a read shows the alert.
    Ok(s)
}

pub struct Client {
    stream: Box<dyn Wire>,
    buf: Vec<u8>,
    /// Used in failure messages (usually the client ID).
    pub name: String,
    next_pid: u16,
}

impl Client {
    /// A bare TCP connection (nothing sent yet).
    pub fn tcp(port: u16, name: &str) -> Client {
        Client::over(Box::new(dial(port, name)), name)
    }

    /// A TLS connection (handshake done, nothing sent yet).
    pub fn tls(port: u16, name: &str, config: Arc<rustls::ClientConfig>) -> Client {
        let s = tls_handshake(dial(port, name), config)
            .unwrap_or_else(|e| panic!("[{name}] TLS handshake failed: {e}"));
        Client::over(Box::new(s), name)
    }

    /// A client over any stream.
    pub fn over(stream: Box<dyn Wire>, name: &str) -> Client {
        Client {
            stream,
            buf: Vec::new(),
            name: name.to_string(),
            next_pid: 0,
        }
    }

    /// The WebSocket under this client; panics if it is not one.
    pub fn websocket(&mut self) -> &mut super::ws::WsStream {
        let name = self.name.clone();
        self.stream
            .websocket()
            .unwrap_or_else(|| panic!("[{name}] not a WebSocket client"))
    }

    /// A second handle on the same socket (e.g. a reader thread).
    pub fn try_clone(&self) -> Client {
        Client {
            stream: self.stream.try_clone(),
            buf: Vec::new(),
            name: self.name.clone(),
            next_pid: 0,
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        if let Err(e) = self.stream.write_all(bytes) {
            panic!("[{}] send of {} failed: {e}", self.name, hex(bytes));
        }
    }

    /// Like `send`, but the broker may already have closed the connection
    /// (bad-input tests): returns whether the write went through.
    pub fn send_lenient(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).is_ok()
    }

    /// The next packet id to use (1, 2, ..., skipping 0).
    pub fn pid(&mut self) -> u16 {
        self.next_pid = self.next_pid.wrapping_add(1).max(1);
        self.next_pid
    }

    fn take_frame(&mut self) -> Option<(u8, Vec<u8>)> {
        let mut len = 0usize;
        let mut mult = 1usize;
        let mut i = 1;
        loop {
            let b = *self.buf.get(i)?;
            len += (b & 0x7f) as usize * mult;
            i += 1;
            if b & 0x80 == 0 {
                break;
            }
            mult *= 128;
            assert!(
                i <= 4,
                "[{}] broker sent a remaining length over 4 bytes: {}",
                self.name,
                hex(&self.buf)
            );
        }
        if self.buf.len() < i + len {
            return None;
        }
        let first = self.buf[0];
        let body = self.buf[i..i + len].to_vec();
        self.buf.drain(..i + len);
        Some((first, body))
    }

    /// Reads one packet, waiting at most `within`.
    pub fn try_recv(&mut self, within: Duration) -> Recv {
        let deadline = Instant::now() + within;
        loop {
            if let Some((first, body)) = self.take_frame() {
                return Recv::Packet(first, body);
            }
            let now = Instant::now();
            if now >= deadline {
                return Recv::Timeout;
            }
            let left = (deadline - now).max(Duration::from_millis(1));
            self.stream.set_read_timeout(Some(left));
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Recv::Closed(self.closed_what("EOF")),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Recv::Closed(self.closed_what(&e.to_string())),
            }
        }
    }

    fn closed_what(&self, how: &str) -> String {
        if self.buf.is_empty() {
            how.to_string()
        } else {
            format!("{how} (after partial packet {})", hex(&self.buf))
        }
    }

    /// Next packet within `within`; panics on timeout or close.
    pub fn recv_within(&mut self, within: Duration) -> (u8, Vec<u8>) {
        match self.try_recv(within) {
            Recv::Packet(f, b) => (f, b),
            Recv::Closed(how) => panic!(
                "[{}] connection closed ({how}) while waiting for a packet",
                self.name
            ),
            Recv::Timeout => panic!("[{}] no packet within {within:?}", self.name),
        }
    }

    /// Next packet within the default bound.
    pub fn recv_packet(&mut self) -> (u8, Vec<u8>) {
        self.recv_within(WAIT)
    }

    /// The next packet must be exactly `bytes`.
    pub fn expect_packet(&mut self, bytes: &[u8]) {
        let (first, body) = self.recv_packet();
        let got = packet(first, &body);
        assert_eq!(
            hex(&got),
            hex(bytes),
            "[{}] unexpected packet (left: got, right: expected)",
            self.name
        );
    }

    /// The broker must close the connection within `within`, sending no
    /// packet first. EOF and ECONNRESET both count as closed.
    pub fn expect_closed(&mut self, within: Duration) {
        match self.try_recv(within) {
            Recv::Closed(_) => {}
            Recv::Packet(f, b) => panic!(
                "[{}] expected the connection to be closed, got packet {}",
                self.name,
                hex(&packet(f, &b))
            ),
            Recv::Timeout => panic!("[{}] connection still open after {within:?}", self.name),
        }
    }

    /// Like `expect_closed`, and returns how long it took.
    pub fn time_until_closed(&mut self, within: Duration) -> Duration {
        let t0 = Instant::now();
        self.expect_closed(within);
        t0.elapsed()
    }

    /// Nothing may arrive for `dur`, and the connection must stay open.
    pub fn expect_no_packet(&mut self, dur: Duration) {
        match self.try_recv(dur) {
            Recv::Timeout => {}
            Recv::Packet(f, b) => panic!(
                "[{}] expected no packet for {dur:?}, got {}",
                self.name,
                hex(&packet(f, &b))
            ),
            Recv::Closed(how) => panic!(
                "[{}] connection closed ({how}), expected it to stay open",
                self.name
            ),
        }
    }

    /// Next packet must be a PUBLISH.
    pub fn recv_publish(&mut self) -> Publish {
        self.recv_publish_within(WAIT)
    }

    pub fn recv_publish_within(&mut self, within: Duration) -> Publish {
        let (first, body) = self.recv_within(within);
        assert_eq!(
            first >> 4,
            3,
            "[{}] expected a PUBLISH, got {}",
            self.name,
            hex(&packet(first, &body))
        );
        Publish::parse(first, &body)
    }

    /// Next packet must be a PUBLISH with this topic, payload and QoS
    /// (DUP and RETAIN clear). Does not acknowledge it.
    pub fn expect_publish(&mut self, topic: &str, payload: &[u8], qos: u8) -> Publish {
        let p = self.recv_publish();
        let want = (topic.to_string(), payload.to_vec(), qos, false, false);
        let got = (
            p.topic.clone(),
            p.payload.clone(),
            p.qos(),
            p.dup(),
            p.retain(),
        );
        assert_eq!(
            got, want,
            "[{}] unexpected PUBLISH (topic, payload, qos, dup, retain): got {p:?}",
            self.name
        );
        p
    }

    /// Completes the receiver side of the QoS flow for `p`.
    pub fn ack(&mut self, p: &Publish) {
        match p.qos() {
            0 => {}
            1 => self.send(&puback(p.pid.unwrap())),
            _ => {
                let pid = p.pid.unwrap();
                self.send(&pubrec(pid));
                self.expect_packet(&pubrel(pid));
                self.send(&pubcomp(pid));
            }
        }
    }

    /// `expect_publish` then `ack`.
    pub fn expect_msg(&mut self, topic: &str, payload: &[u8], qos: u8) -> Publish {
        let p = self.expect_publish(topic, payload, qos);
        self.ack(&p);
        p
    }

    /// Publishes and completes the sender side of the QoS flow. The
    /// acknowledgements must be the next packets on this connection.
    pub fn publish(&mut self, topic: &str, payload: &[u8], qos: u8, retain: bool) {
        let pid = if qos > 0 { self.pid() } else { 0 };
        self.send(&publish(topic, payload, qos, retain, pid));
        match qos {
            0 => {}
            1 => self.expect_packet(&puback(pid)),
            _ => {
                self.expect_packet(&pubrec(pid));
                self.send(&pubrel(pid));
                self.expect_packet(&pubcomp(pid));
            }
        }
    }

    /// SUBSCRIBE to several filters; returns the SUBACK return codes.
    pub fn subscribe_many(&mut self, filters: &[(&str, u8)]) -> Vec<u8> {
        let pid = self.pid();
        self.send(&subscribe(pid, filters));
        let (first, body) = self.recv_packet();
        assert_eq!(
            first,
            0x90,
            "[{}] expected SUBACK, got {}",
            self.name,
            hex(&packet(first, &body))
        );
        assert_eq!(
            &body[..2],
            &pid.to_be_bytes(),
            "[{}] SUBACK packet id",
            self.name
        );
        assert_eq!(
            body.len(),
            2 + filters.len(),
            "[{}] SUBACK length: {}",
            self.name,
            hex(&body)
        );
        body[2..].to_vec()
    }

    /// SUBSCRIBE to one filter; the granted QoS must equal the requested.
    pub fn subscribe(&mut self, filter: &str, qos: u8) {
        let codes = self.subscribe_many(&[(filter, qos)]);
        assert_eq!(codes, [qos], "[{}] SUBACK for {filter:?}", self.name);
    }

    pub fn unsubscribe(&mut self, filter: &str) {
        let pid = self.pid();
        self.send(&unsubscribe(pid, &[filter]));
        self.expect_packet(&unsuback(pid));
    }

    pub fn ping(&mut self) {
        self.send(&PINGREQ);
        self.expect_packet(&PINGRESP);
    }

    /// Clean end: DISCONNECT, half-close, then wait for the broker to close
    /// its side (so the broker has processed the DISCONNECT on return).
    pub fn disconnect(mut self) {
        self.send(&DISCONNECT);
        self.stream.shutdown(Shutdown::Write);
        self.expect_closed(WAIT);
    }

    /// Abrupt end: drop the socket without DISCONNECT.
    pub fn close(mut self) {
        self.stream.shutdown(Shutdown::Both);
    }
}
