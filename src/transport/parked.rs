//! What a parked connection's client said, in application bytes: the only
//! thing answered without bringing the connection back is PINGREQ. An idle
//! client pings every keep-alive; waking it for that (new task, new glommio
//! stream, then parking again) cost ~45 µs of shard CPU per ping and came in
//! bursts that delayed everyone else (docs/benchmarks.md).
//!
//! Each transport reads its socket and decodes (TLS, WebSocket) itself, then
//! asks [`classify`] about the plaintext and sends [`answer`] encoded its way.

use crate::protocol::packet_type::{PINGREQ, PINGRESP};

/// The whole packets, fixed header only (§3.12, §3.13).
const PING_REQUEST: [u8; 2] = [PINGREQ << 4, 0];
const PING_RESPONSE: [u8; 2] = [PINGRESP << 4, 0];

/// What a parked socket had to say.
#[derive(Debug, PartialEq, Eq)]
pub enum Heard {
    /// Only whole PINGREQs, this many, all answered.
    Pings(usize),
    /// Nothing after all (a spurious wake-up).
    Nothing,
    /// Anything else: these bytes, already read; the connection must handle
    /// them first.
    Wake(Vec<u8>),
    /// End of stream, or the socket failed.
    Closed,
}

/// `Pings` if `got` is only whole PINGREQs, `Wake` with the bytes otherwise.
pub fn classify(got: &[u8]) -> Heard {
    if got.is_empty() {
        Heard::Nothing
    } else if got.len() % 2 != 0 || got.chunks(2).any(|p| p != PING_REQUEST) {
        Heard::Wake(got.to_vec())
    } else {
        Heard::Pings(got.len() / 2)
    }
}

/// The PINGRESPs for `pings` PINGREQs.
pub fn answer(pings: usize) -> Vec<u8> {
    PING_RESPONSE.repeat(pings)
}
