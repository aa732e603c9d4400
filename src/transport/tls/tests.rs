//! The session against a rustls client in memory: the handshake and
//! application data in any split, large writes, key updates, close.

use super::session::TlsSession;
use rcgen::{CertificateParams, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use std::io::{Read, Write};
use std::sync::Arc;

fn configs() -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let der = CertificateDer::from(cert.der().to_vec());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![der.clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), Arc::new(client))
}

/// A server session and a client, and the plaintext the server got.
struct Pair {
    s: TlsSession,
    c: rustls::ClientConnection,
    got: Vec<u8>,
    /// Ciphertext from the client not yet absorbed (a partial record).
    pending: Vec<u8>,
}

impl Pair {
    fn new() -> Pair {
        let (sc, cc) = configs();
        let name = ServerName::try_from("localhost").unwrap();
        Pair {
            s: TlsSession::new(sc).unwrap(),
            c: rustls::ClientConnection::new(cc, name).unwrap(),
            got: Vec::new(),
            pending: Vec::new(),
        }
    }

    /// Client → server, `chunk` bytes at a time.
    fn client_sends(&mut self, chunk: usize) {
        let mut wire = Vec::new();
        while self.c.wants_write() {
            self.c.write_tls(&mut wire).unwrap();
        }
        for piece in wire.chunks(chunk) {
            self.pending.extend_from_slice(piece);
            let got = &mut self.got;
            let used = self
                .s
                .absorb(&mut self.pending, &mut |p| got.extend_from_slice(p))
                .unwrap();
            self.pending.drain(..used);
        }
    }

    /// Server → client: everything the session queued.
    fn server_sends(&mut self) {
        let out = std::mem::take(&mut self.s.outgoing);
        let mut wire = &out[..];
        while !wire.is_empty() {
            self.c.read_tls(&mut wire).unwrap();
            self.c.process_new_packets().unwrap();
        }
    }

    fn handshake(&mut self, chunk: usize) {
        for _ in 0..10 {
            self.client_sends(chunk);
            self.server_sends();
            if self.s.established && !self.c.is_handshaking() {
                return;
            }
        }
        panic!("no handshake");
    }
}

#[test]
fn handshake_and_data_in_one_byte_pieces() {
    let mut p = Pair::new();
    p.handshake(1);
    p.c.writer().write_all(b"\x10\x0cconnect-ish!").unwrap();
    p.client_sends(1);
    assert_eq!(p.got, b"\x10\x0cconnect-ish!");
    assert!(p.pending.is_empty());
    let mut out = Vec::new();
    p.s.seal(b"\x20\x02\x00\x00", &mut out).unwrap();
    p.c.read_tls(&mut &out[..]).unwrap();
    p.c.process_new_packets().unwrap();
    let mut back = [0u8; 4];
    p.c.reader().read_exact(&mut back).unwrap();
    assert_eq!(back, [0x20, 2, 0, 0]);
}

#[test]
fn data_with_the_last_handshake_flight_is_kept() {
    let mut p = Pair::new();
    p.client_sends(4096);
    p.server_sends();
    // The client's Finished and its first bytes leave together.
    p.c.writer().write_all(b"early").unwrap();
    p.client_sends(4096);
    assert!(p.s.established);
    assert_eq!(p.got, b"early");
}

#[test]
fn large_writes_split_into_records_and_arrive_whole() {
    let mut p = Pair::new();
    p.handshake(4096);
    let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
    let mut out = Vec::new();
    p.s.seal(&big, &mut out).unwrap();
    let mut got = Vec::new();
    let mut wire = &out[..];
    while !wire.is_empty() {
        p.c.read_tls(&mut wire).unwrap(); // takes what fits
        p.c.process_new_packets().unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n) = p.c.reader().read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
    }
    assert_eq!(got, big);
}

#[test]
fn key_updates_are_answered_and_data_flows_on() {
    let mut p = Pair::new();
    p.handshake(4096);
    p.c.refresh_traffic_keys().unwrap();
    p.c.writer().write_all(b"after update").unwrap();
    p.client_sends(7);
    assert_eq!(p.got, b"after update");
    let mut out = Vec::new();
    p.s.seal(b"reply", &mut out).unwrap();
    p.server_sends(); // the server's own key update, if it queued one
    p.c.read_tls(&mut &out[..]).unwrap();
    p.c.process_new_packets().unwrap();
    let mut back = [0u8; 5];
    p.c.reader().read_exact(&mut back).unwrap();
    assert_eq!(&back, b"reply");
}

#[test]
fn close_notify_both_ways() {
    let mut p = Pair::new();
    p.handshake(4096);
    p.c.send_close_notify();
    p.client_sends(4096);
    assert!(p.s.peer_closed);
    p.s.close();
    assert!(!p.s.outgoing.is_empty(), "our close_notify");
}

#[test]
fn garbage_is_an_error() {
    let mut p = Pair::new();
    let mut junk = *b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c";
    assert!(p.s.absorb(&mut junk, &mut |_| {}).is_err());
}

#[test]
fn an_idle_session_holds_no_buffers() {
    let mut p = Pair::new();
    p.handshake(4096);
    p.c.writer().write_all(b"x").unwrap();
    p.client_sends(4096);
    p.server_sends();
    assert!(p.s.is_quiet());
    assert_eq!(p.s.incoming.capacity() + p.s.plain.capacity(), 0);
}
