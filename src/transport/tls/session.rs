//! What a TLS connection is besides its socket: rustls's unbuffered
//! server connection plus the bytes in transit. rustls's buffered API keeps
//! a 4 KiB receive buffer in every connection forever (about 4 KB of the
//! ~8 KB an idle buffered session costs, docs/benchmarks.md); with the
//! unbuffered API the buffers are ours, and an idle connection holds none:
//! `incoming`, `outgoing` and `plain` are empty without capacity between
//! bursts, and ciphertext goes through a per-thread scratch buffer.
//!
//! No I/O here: [`TlsSession::absorb`] takes ciphertext and yields
//! plaintext and records to send; [`TlsSession::seal`] encrypts. The
//! transport (`mod.rs`), the handshake and the parked listener move the
//! bytes.

use rustls::server::UnbufferedServerConnection;
use rustls::unbuffered::{ConnectionState, EncodeError, EncryptError, InsufficientSizeError};
use rustls::{CommonState, Error, ServerConfig};
use std::sync::Arc;

/// A TLS session in any state, sendable to another shard or the lot.
pub struct TlsSession {
    conn: UnbufferedServerConnection,
    /// Ciphertext of a record not yet whole.
    pub(super) incoming: Vec<u8>,
    /// Records encrypted but not yet written to the socket, in order.
    pub(super) outgoing: Vec<u8>,
    /// Plaintext decrypted but not yet taken by the reader.
    pub(super) plain: Vec<u8>,
    /// The peer sent close_notify.
    pub(super) peer_closed: bool,
    /// The handshake is over (application data both ways).
    pub(super) established: bool,
}

impl std::fmt::Debug for TlsSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSession")
            .field("incoming", &self.incoming.len())
            .field("outgoing", &self.outgoing.len())
            .field("plain", &self.plain.len())
            .field("established", &self.established)
            .finish()
    }
}

impl TlsSession {
    pub fn new(config: Arc<ServerConfig>) -> Result<TlsSession, Error> {
        Ok(TlsSession {
            conn: UnbufferedServerConnection::new(config)?,
            incoming: Vec::new(),
            outgoing: Vec::new(),
            plain: Vec::new(),
            peer_closed: false,
            established: false,
        })
    }

    /// Certificates, protocol version, ALPN: what the handshake agreed.
    pub fn state(&self) -> &CommonState {
        &self.conn
    }

    /// Run rustls over `input` (whole or partial records): plaintext goes
    /// to `sink`, records to send (handshake, alerts, key updates) to
    /// `outgoing`. Returns how many bytes of `input` were consumed; the
    /// rest is the start of a record that is not whole yet.
    pub fn absorb(
        &mut self,
        input: &mut [u8],
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<usize, Error> {
        let mut used = 0;
        loop {
            let status = self.conn.process_tls_records(&mut input[used..]);
            let mut discard = status.discard;
            let state = match status.state {
                Ok(s) => s,
                Err(e) => {
                    self.queue_alert();
                    return Err(e);
                }
            };
            let more = match state {
                ConnectionState::ReadTraffic(mut r) => {
                    while let Some(rec) = r.next_record() {
                        let rec = rec?;
                        sink(rec.payload);
                        discard += rec.discard;
                    }
                    true
                }
                ConnectionState::EncodeTlsData(mut e) => {
                    encode_into(&mut self.outgoing, |out| e.encode(out))?;
                    true
                }
                // The records are in `outgoing`, which the transport sends
                // before anything encrypted later.
                ConnectionState::TransmitTlsData(t) => {
                    t.done();
                    true
                }
                ConnectionState::WriteTraffic(_) => {
                    self.established = true;
                    false
                }
                ConnectionState::PeerClosed | ConnectionState::Closed => {
                    self.peer_closed = true;
                    false
                }
                ConnectionState::BlockedHandshake => false,
                // 0-RTT is not enabled (`max_early_data_size` is 0).
                ConnectionState::ReadEarlyData(_) => true,
                _ => false,
            };
            used += discard;
            if !more {
                return Ok(used);
            }
        }
    }

    /// Encrypt `data` into `out` (appended). Only once established.
    pub fn seal(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        loop {
            let status = self.conn.process_tls_records(&mut []);
            match status.state? {
                ConnectionState::WriteTraffic(mut w) => {
                    return encrypt_into(out, room_for(data.len()), |o| w.encrypt(data, o));
                }
                ConnectionState::EncodeTlsData(mut e) => {
                    encode_into(&mut self.outgoing, |o| e.encode(o))?;
                }
                ConnectionState::TransmitTlsData(t) => t.done(),
                _ => return Err(Error::General("TLS session not writable".into())),
            }
        }
    }

    /// close_notify into `outgoing`.
    pub fn close(&mut self) {
        let status = self.conn.process_tls_records(&mut []);
        if let Ok(ConnectionState::WriteTraffic(mut w)) = status.state {
            let _ = encrypt_into(&mut self.outgoing, 64, |o| w.queue_close_notify(o));
        }
    }

    /// After an error rustls may have an alert to send; best effort.
    fn queue_alert(&mut self) {
        let status = self.conn.process_tls_records(&mut []);
        if let Ok(ConnectionState::EncodeTlsData(mut e)) = status.state {
            let _ = encode_into(&mut self.outgoing, |o| e.encode(o));
        }
    }

    /// Holds nothing in transit (what parking requires).
    pub fn is_quiet(&self) -> bool {
        self.incoming.is_empty() && self.outgoing.is_empty() && self.plain.is_empty()
    }
}

/// Room for `len` plaintext bytes as TLS records: 16 KiB records, each
/// with at most 5 bytes of header and 256 of type, padding and tag.
fn room_for(len: usize) -> usize {
    len + (len / 16384 + 1) * 261
}

fn encode_into(
    out: &mut Vec<u8>,
    f: impl FnMut(&mut [u8]) -> Result<usize, EncodeError>,
) -> Result<(), Error> {
    grow_into(out, 512, f, |e| match e {
        EncodeError::InsufficientSize(InsufficientSizeError { required_size }) => {
            Some(*required_size)
        }
        _ => None,
    })
}

fn encrypt_into(
    out: &mut Vec<u8>,
    hint: usize,
    f: impl FnMut(&mut [u8]) -> Result<usize, EncryptError>,
) -> Result<(), Error> {
    grow_into(out, hint, f, |e| match e {
        EncryptError::InsufficientSize(InsufficientSizeError { required_size }) => {
            Some(*required_size)
        }
        _ => None,
    })
}

/// Append what `f` writes to `out`, starting with `hint` bytes of room and
/// growing to what `f` says it needs (`needs`) until it fits.
fn grow_into<E: std::fmt::Display>(
    out: &mut Vec<u8>,
    hint: usize,
    mut f: impl FnMut(&mut [u8]) -> Result<usize, E>,
    needs: impl Fn(&E) -> Option<usize>,
) -> Result<(), Error> {
    let start = out.len();
    let mut want = hint;
    loop {
        out.resize(start + want, 0);
        match f(&mut out[start..]) {
            Ok(n) => {
                out.truncate(start + n);
                return Ok(());
            }
            Err(e) => match needs(&e) {
                Some(n) if n > want => want = n,
                _ => {
                    out.truncate(start);
                    return Err(Error::General(e.to_string()));
                }
            },
        }
    }
}
