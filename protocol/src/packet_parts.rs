//! Packet parts whose layout MQTT 3.1/3.1.1 and 5.0 share, so that `v3/`
//! and `v5/` differ only where the versions do: the CONNECT flags, will,
//! user name and password (MQTT 5 adds property blocks between them), and
//! the filter lists of SUBSCRIBE and UNSUBSCRIBE.

use crate::codec_util::{put_prefixed, Reader};
use crate::error::DecodeError;
use crate::packet::*;
use crate::topic::{validate_topic_filter, validate_topic_name};
use bytes::{BufMut, Bytes};

// Connect flags (§3.1.2.3); MQTT 5 calls bit 1 Clean Start.
pub const RESERVED: u8 = 0x01;
pub const CLEAN_START: u8 = 0x02;
pub const WILL: u8 = 0x04;
pub const WILL_QOS_SHIFT: u8 = 3;
pub const WILL_RETAIN: u8 = 0x20;
pub const PASSWORD: u8 = 0x40;
pub const USERNAME: u8 = 0x80;

/// Validate the connect flags; `Some(qos)` when a will follows. 3.1.1
/// refuses a password without a user name [MQTT-3.1.2-22], MQTT 5 allows
/// it (§3.1.2.9): `password_needs_username` says which.
pub fn check_connect_flags(
    flags: u8,
    password_needs_username: bool,
) -> Result<Option<QoS>, DecodeError> {
    // A Malformed Packet [MQTT-3.1.2-3].
    if flags & RESERVED != 0 {
        return Err(DecodeError::ConnectReservedFlag);
    }
    if password_needs_username && flags & PASSWORD != 0 && flags & USERNAME == 0 {
        return Err(DecodeError::PasswordWithoutUsername);
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

/// The will's topic and payload; MQTT 5 reads its `properties` before them.
pub fn read_will(
    r: &mut Reader,
    flags: u8,
    qos: QoS,
    properties: Option<Box<WillProperties>>,
) -> Result<Will, DecodeError> {
    let topic = r.string()?;
    validate_topic_name(&topic)?;
    let payload = r.binary()?;
    Ok(Will {
        topic,
        payload,
        qos,
        retain: flags & WILL_RETAIN != 0,
        properties,
    })
}

/// User name and password, the end of the CONNECT payload, each present
/// exactly when its flag says so [MQTT-3.1.3-1].
pub fn read_credentials(
    r: &mut Reader,
    flags: u8,
) -> Result<(Option<MqttStr>, Option<Bytes>), DecodeError> {
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
    Ok((username, password))
}

/// The connect flags `c` is written with. Writes what it is given: a
/// password without a user name is the caller's choice to make.
pub fn connect_flags(c: &Connect) -> u8 {
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
    flags
}

/// Bytes of the will's topic and payload, the user name and the password:
/// the CONNECT payload after the client id, property blocks left out.
pub fn will_and_credentials_len(c: &Connect) -> usize {
    let mut len = 0;
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

/// The will's topic and payload (after its properties in MQTT 5).
pub fn put_will<B: BufMut>(out: &mut B, w: &Will) {
    put_prefixed(out, w.topic.as_bytes());
    put_prefixed(out, &w.payload);
}

/// User name and password, whichever `c` has.
pub fn put_credentials<B: BufMut>(out: &mut B, c: &Connect) {
    if let Some(u) = &c.username {
        put_prefixed(out, u.as_bytes());
    }
    if let Some(p) = &c.password {
        put_prefixed(out, p);
    }
}

/// The topic filters of a SUBSCRIBE or UNSUBSCRIBE, up to the end of the
/// packet: each filter is validated, then `each` reads what follows it
/// (SUBSCRIBE's options byte) and makes the entry. At least one is
/// required; `empty` is the error when there is none.
pub fn topic_filters<T>(
    r: &mut Reader,
    empty: DecodeError,
    mut each: impl FnMut(&mut Reader, MqttStr) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    let mut filters = Vec::new();
    while r.has_remaining() {
        let filter = r.string()?;
        validate_topic_filter(&filter)?;
        filters.push(each(r, filter)?);
    }
    if filters.is_empty() {
        return Err(empty);
    }
    Ok(filters)
}
