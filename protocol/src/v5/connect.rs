//! MQTT 5 CONNECT (§3.1): the 3.1.1 layout plus connect properties after
//! the keep alive and will properties before the will topic. Unlike 3.1.1,
//! a password without a user name is allowed (§3.1.2.9).

use super::{props_decode, props_encode};
use crate::codec_util::{packet_type::CONNECT, put_fixed_header, put_prefixed, Reader};
use crate::error::DecodeError;
use crate::packet::*;
use crate::topic::validate_topic_name;
use bytes::BufMut;

// Connect flags (§3.1.2.3).
const RESERVED: u8 = 0x01;
const CLEAN_START: u8 = 0x02;
const WILL: u8 = 0x04;
const WILL_QOS_SHIFT: u8 = 3;
const WILL_RETAIN: u8 = 0x20;
const PASSWORD: u8 = 0x40;
const USERNAME: u8 = 0x80;

/// Decode flags, keep alive, properties and payload; `r` sits just after
/// the protocol level.
pub fn decode_body(mut r: Reader) -> Result<Packet, DecodeError> {
    let flags = r.u8()?;
    let will_qos = check_flags(flags)?;
    let keep_alive = r.u16()?;
    let properties = props_decode::connect(&mut r)?;
    let client_id = r.string()?;
    let will = match will_qos {
        Some(qos) => {
            let properties = props_decode::will(&mut r)?;
            let topic = r.string()?;
            validate_topic_name(&topic)?;
            let payload = r.binary()?;
            Some(Will {
                topic,
                payload,
                qos,
                retain: flags & WILL_RETAIN != 0,
                properties,
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
        protocol: ProtocolVersion::V5,
        clean_session: flags & CLEAN_START != 0,
        keep_alive,
        client_id,
        will,
        username,
        password,
        properties,
    })))
}

/// Validate the connect flags; `Some(qos)` when a will follows.
fn check_flags(flags: u8) -> Result<Option<QoS>, DecodeError> {
    // A Malformed Packet [MQTT-3.1.2-3].
    if flags & RESERVED != 0 {
        return Err(DecodeError::ConnectReservedFlag);
    }
    let qos_bits = (flags >> WILL_QOS_SHIFT) & 0b11;
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

/// Property block sizes (without prefix) of the connect and will
/// properties, computed once for both the length and the write.
struct Sizes {
    connect: usize,
    will: usize,
}

fn sizes(c: &Connect) -> Sizes {
    Sizes {
        connect: props_encode::len(c.properties.as_deref()),
        will: c
            .will
            .as_ref()
            .map_or(0, |w| props_encode::len(w.properties.as_deref())),
    }
}

fn body_len(c: &Connect, s: &Sizes) -> usize {
    use super::props::block_len;
    // name, level, flags, keep alive, properties, client id
    let mut len = 2 + 4 + 1 + 1 + 2 + block_len(s.connect) + 2 + c.client_id.len();
    if let Some(w) = &c.will {
        len += block_len(s.will) + 2 + w.topic.len() + 2 + w.payload.len();
    }
    if let Some(u) = &c.username {
        len += 2 + u.len();
    }
    if let Some(p) = &c.password {
        len += 2 + p.len();
    }
    len
}

/// Remaining length of `c` in MQTT 5.
pub fn remaining_len(c: &Connect) -> usize {
    body_len(c, &sizes(c))
}

/// Write `c` as MQTT 5, whatever `c.protocol` says.
pub fn encode<B: BufMut>(c: &Connect, out: &mut B) {
    let s = sizes(c);
    let mut flags = 0;
    if c.clean_session {
        flags |= CLEAN_START;
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
    put_fixed_header(out, CONNECT << 4, body_len(c, &s));
    put_prefixed(out, b"MQTT");
    out.put_u8(5);
    out.put_u8(flags);
    out.put_u16(c.keep_alive);
    props_encode::put(out, c.properties.as_deref(), s.connect);
    put_prefixed(out, c.client_id.as_bytes());
    if let Some(w) = &c.will {
        props_encode::put(out, w.properties.as_deref(), s.will);
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
