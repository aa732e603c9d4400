//! CONNECT body after the protocol name and level (§3.1.2.3 onwards), and
//! the whole CONNECT on the way out. The name and level are read by the
//! version dispatcher, since they decide which codec reads the rest.

use crate::codec_util::{packet_type::CONNECT, put_fixed_header, put_prefixed, Reader};
use crate::error::DecodeError;
use crate::packet::*;
use crate::topic::validate_topic_name;
use bytes::BufMut;

// Connect flags (§3.1.2.3).
const RESERVED: u8 = 0x01;
const CLEAN_SESSION: u8 = 0x02;
const WILL: u8 = 0x04;
const WILL_QOS_SHIFT: u8 = 3;
const WILL_RETAIN: u8 = 0x20;
const PASSWORD: u8 = 0x40;
const USERNAME: u8 = 0x80;

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
    let will_qos = check_flags(flags)?;
    let keep_alive = r.u16()?;
    // The payload fields come in this fixed order, each present exactly when
    // its flag says so [MQTT-3.1.3-1].
    let client_id = r.string()?;
    let will = match will_qos {
        Some(qos) => {
            let topic = r.string()?;
            validate_topic_name(&topic)?;
            let payload = r.binary()?;
            Some(Will {
                topic,
                payload,
                qos,
                retain: flags & WILL_RETAIN != 0,
                properties: None,
            })
        }
        None => None,
    };
    let username = if flags & USERNAME != 0 {
        Some(r.string()?)
    } else {
        None
    };
    let password = if flags & PASSWORD != 0 {
        Some(r.binary()?)
    } else {
        None
    };
    r.finish()?;
    Ok(Packet::Connect(Box::new(Connect {
        protocol,
        clean_session: flags & CLEAN_SESSION != 0,
        keep_alive,
        client_id,
        will,
        username,
        password,
        properties: None,
    })))
}

/// Validate the connect flags; `Some(qos)` when a will follows.
fn check_flags(flags: u8) -> Result<Option<QoS>, DecodeError> {
    if flags & RESERVED != 0 {
        return Err(DecodeError::ConnectReservedFlag);
    }
    let qos_bits = (flags >> WILL_QOS_SHIFT) & 0b11;
    if flags & PASSWORD != 0 && flags & USERNAME == 0 {
        return Err(DecodeError::PasswordWithoutUsername);
    }
    if flags & WILL == 0 {
        if qos_bits != 0 {
            return Err(DecodeError::WillQoSWithoutWill);
        }
        if flags & WILL_RETAIN != 0 {
            return Err(DecodeError::WillRetainWithoutWill);
        }
        return Ok(None);
    }
    QoS::from_u8(qos_bits)
        .map(Some)
        .ok_or(DecodeError::InvalidWillQoS)
}

/// Remaining length of `c` encoded with its own protocol version.
pub fn remaining_len(c: &Connect) -> usize {
    let (name, _) = protocol_name_level(c.protocol);
    // name, level, flags, keep alive, client id
    let mut len = 2 + name.len() + 1 + 1 + 2 + 2 + c.client_id.len();
    if let Some(w) = &c.will {
        len += 2 + w.topic.len() + 2 + w.payload.len();
    }
    if let Some(u) = &c.username {
        len += 2 + u.len();
    }
    if let Some(p) = &c.password {
        len += 2 + p.len();
    }
    len
}

/// Write `c` as its own `protocol` says. Writes what it is given: a password
/// without a user name is the caller's protocol error to avoid. Connect and
/// will properties are MQTT 5's and left out.
pub fn encode<B: BufMut>(c: &Connect, out: &mut B) {
    let (name, level) = protocol_name_level(c.protocol);
    let mut flags = 0;
    if c.clean_session {
        flags |= CLEAN_SESSION;
    }
    if let Some(w) = &c.will {
        flags |= WILL | (w.qos as u8) << WILL_QOS_SHIFT;
        if w.retain {
            flags |= WILL_RETAIN;
        }
    }
    if c.username.is_some() {
        flags |= USERNAME;
    }
    if c.password.is_some() {
        flags |= PASSWORD;
    }
    put_fixed_header(out, CONNECT << 4, remaining_len(c));
    put_prefixed(out, name);
    out.put_u8(level);
    out.put_u8(flags);
    out.put_u16(c.keep_alive);
    put_prefixed(out, c.client_id.as_bytes());
    if let Some(w) = &c.will {
        put_prefixed(out, w.topic.as_bytes());
        put_prefixed(out, &w.payload);
    }
    if let Some(u) = &c.username {
        put_prefixed(out, u.as_bytes());
    }
    if let Some(p) = &c.password {
        put_prefixed(out, p);
    }
}
