//! CONNECT body after the protocol name and level (§3.1.2.3 onwards), and
//! the whole CONNECT on the way out. The name and level are read by the
//! version dispatcher, since they decide which codec reads the rest.

use crate::codec_util::{packet_type::CONNECT, put_fixed_header, put_prefixed, Reader};
use crate::error::DecodeError;
use crate::packet::*;
use crate::packet_parts::{self as parts, CLEAN_START};
use bytes::BufMut;

/// Protocol name and level as written on the wire (§3.1.2.1, §3.1.2.2).
pub fn protocol_name_level(protocol: ProtocolVersion) -> (&'static [u8], u8) {
    match protocol {
        ProtocolVersion::V3_1 => (b"MQIsdp", 3),
        ProtocolVersion::V3_1_1 => (b"MQTT", 4),
        ProtocolVersion::V5 => (b"MQTT", 5),
    }
}

/// Decode flags, keep alive and payload; `r` sits just after the level.
pub fn decode_body(protocol: ProtocolVersion, mut r: Reader) -> Result<Packet, DecodeError> {
    let flags = r.u8()?;
    let will_qos = parts::check_connect_flags(flags, true)?;
    let keep_alive = r.u16()?;
    // The payload fields come in this fixed order, each present exactly when
    // its flag says so [MQTT-3.1.3-1].
    let client_id = r.string()?;
    let will = match will_qos {
        Some(qos) => Some(parts::read_will(&mut r, flags, qos, None)?),
        None => None,
    };
    let (username, password) = parts::read_credentials(&mut r, flags)?;
    r.finish()?;
    Ok(Packet::Connect(Box::new(Connect {
        protocol,
        clean_session: flags & CLEAN_START != 0,
        keep_alive,
        client_id,
        will,
        username,
        password,
        properties: None,
    })))
}

/// Remaining length of `c` encoded with its own protocol version.
pub fn remaining_len(c: &Connect) -> usize {
    let (name, _) = protocol_name_level(c.protocol);
    // name, level, flags, keep alive, client id
    2 + name.len() + 1 + 1 + 2 + 2 + c.client_id.len() + parts::will_and_credentials_len(c)
}

/// Write `c` as its own `protocol` says. Writes what it is given: a password
/// without a user name is the caller's protocol error to avoid. Connect and
/// will properties are MQTT 5's and left out.
pub fn encode<B: BufMut>(c: &Connect, out: &mut B) {
    let (name, level) = protocol_name_level(c.protocol);
    put_fixed_header(out, CONNECT << 4, remaining_len(c));
    put_prefixed(out, name);
    out.put_u8(level);
    out.put_u8(parts::connect_flags(c));
    out.put_u16(c.keep_alive);
    put_prefixed(out, c.client_id.as_bytes());
    if let Some(w) = &c.will {
        parts::put_will(out, w);
    }
    parts::put_credentials(out, c);
}
