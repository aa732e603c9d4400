//! MQTT 5 CONNECT (§3.1): the 3.1.1 layout plus connect properties after
//! the keep alive and will properties before the will topic. Unlike 3.1.1,
//! a password without a user name is allowed (§3.1.2.9).

use super::{props_decode, props_encode};
use crate::codec_util::{packet_type::CONNECT, put_fixed_header, put_prefixed, Reader};
use crate::error::DecodeError;
use crate::packet::*;
use crate::packet_parts::{self as parts, CLEAN_START};
use bytes::BufMut;

/// Decode flags, keep alive, properties and payload; `r` sits just after
/// the protocol level.
pub fn decode_body(mut r: Reader) -> Result<Packet, DecodeError> {
    let flags = r.u8()?;
    let will_qos = parts::check_connect_flags(flags, false)?;
    let keep_alive = r.u16()?;
    let properties = props_decode::connect(&mut r)?;
    let client_id = r.string()?;
    let will = match will_qos {
        Some(qos) => {
            let properties = props_decode::will(&mut r)?;
            Some(parts::read_will(&mut r, flags, qos, properties)?)
        }
        None => None,
    };
    let (username, password) = parts::read_credentials(&mut r, flags)?;
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
    let len = 2 + 4 + 1 + 1 + 2 + block_len(s.connect) + 2 + c.client_id.len();
    let will_props = c.will.as_ref().map_or(0, |_| block_len(s.will));
    len + will_props + parts::will_and_credentials_len(c)
}

/// Remaining length of `c` in MQTT 5.
pub fn remaining_len(c: &Connect) -> usize {
    body_len(c, &sizes(c))
}

/// Write `c` as MQTT 5, whatever `c.protocol` says.
pub fn encode<B: BufMut>(c: &Connect, out: &mut B) {
    let s = sizes(c);
    put_fixed_header(out, CONNECT << 4, body_len(c, &s));
    put_prefixed(out, b"MQTT");
    out.put_u8(5);
    out.put_u8(parts::connect_flags(c));
    out.put_u16(c.keep_alive);
    props_encode::put(out, c.properties.as_deref(), s.connect);
    put_prefixed(out, c.client_id.as_bytes());
    if let Some(w) = &c.will {
        props_encode::put(out, w.properties.as_deref(), s.will);
        parts::put_will(out, w);
    }
    parts::put_credentials(out, c);
}
