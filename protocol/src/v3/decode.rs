//! Decoding of every MQTT 3.1/3.1.1 packet body except CONNECT (see
//! [`super::connect`]), for both directions: the broker reads client
//! packets, the load generator reads server packets.

use crate::codec_util::{packet_type::*, Reader};
use crate::error::DecodeError;
use crate::packet::*;
use crate::packet_parts as parts;
use crate::topic::validate_topic_name;
use bytes::Bytes;

/// Decode the body (everything after the fixed header) of a non-CONNECT
/// packet whose first byte already passed `frame::check_first_byte`.
#[inline]
pub fn decode_body(first_byte: u8, body: Bytes) -> Result<Packet, DecodeError> {
    let packet_type = first_byte >> 4;
    let mut r = Reader::new(body, packet_type);
    let packet = match packet_type {
        PUBLISH => return decode_publish(first_byte & 0x0F, r),
        CONNACK => decode_connack(&mut r)?,
        PUBACK => Packet::PubAck(Ack::new(ack_id(&mut r)?)),
        PUBREC => Packet::PubRec(Ack::new(ack_id(&mut r)?)),
        PUBREL => Packet::PubRel(Ack::new(ack_id(&mut r)?)),
        PUBCOMP => Packet::PubComp(Ack::new(ack_id(&mut r)?)),
        UNSUBACK => Packet::UnsubAck(UnsubAck {
            packet_id: ack_id(&mut r)?,
            codes: Vec::new(),
            properties: None,
        }),
        SUBSCRIBE => Packet::Subscribe(decode_subscribe(&mut r)?),
        SUBACK => Packet::SubAck(decode_suback(&mut r)?),
        UNSUBSCRIBE => Packet::Unsubscribe(decode_unsubscribe(&mut r)?),
        PINGREQ => empty(&r, Packet::PingReq)?,
        PINGRESP => empty(&r, Packet::PingResp)?,
        DISCONNECT => empty(&r, Packet::Disconnect(Disconnect::NORMAL))?,
        // CONNECT is routed to `connect::decode_body` by the caller; type 0
        // never passes `check_first_byte`; AUTH (15) is MQTT 5 only.
        other => return Err(DecodeError::ReservedPacketType(other)),
    };
    r.finish()?;
    Ok(packet)
}

/// Packets whose body has exactly one size: a wrong one is malformed as a
/// whole rather than "truncated" or "trailing", which reads better in logs.
fn expect_len(r: &Reader, expected: usize) -> Result<(), DecodeError> {
    match r.remaining() {
        actual if actual == expected => Ok(()),
        actual => Err(DecodeError::InvalidRemainingLength {
            packet_type: r.packet_type(),
            expected,
            actual,
        }),
    }
}

/// PINGREQ, PINGRESP, DISCONNECT: no body at all.
fn empty(r: &Reader, packet: Packet) -> Result<Packet, DecodeError> {
    expect_len(r, 0)?;
    Ok(packet)
}

/// PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK: just a packet identifier.
fn ack_id(r: &mut Reader) -> Result<u16, DecodeError> {
    expect_len(r, 2)?;
    r.packet_id()
}

fn decode_publish(flags: u8, mut r: Reader) -> Result<Packet, DecodeError> {
    let qos = QoS::from_u8((flags >> 1) & 0b11).ok_or(DecodeError::InvalidPublishQoS)?;
    let topic = r.string()?;
    validate_topic_name(&topic)?;
    // QoS 0 carries no packet identifier at all (§3.3.2.2).
    let packet_id = match qos {
        QoS::AtMostOnce => 0,
        _ => r.packet_id()?,
    };
    Ok(Packet::Publish(Publish {
        dup: flags & 0b1000 != 0,
        qos,
        retain: flags & 0b0001 != 0,
        topic,
        packet_id,
        payload: r.rest(),
        topic_alias: None,
        properties: None,
    }))
}

fn decode_connack(r: &mut Reader) -> Result<Packet, DecodeError> {
    expect_len(r, 2)?;
    let flags = r.u8()?;
    if flags & 0xFE != 0 {
        return Err(DecodeError::InvalidConnAckFlags(flags));
    }
    let raw = r.u8()?;
    let code = ConnectReturnCode::from_u8(raw).ok_or(DecodeError::InvalidConnectReturnCode(raw))?;
    let session_present = flags == 1;
    if session_present && code != ConnectReturnCode::Accepted {
        return Err(DecodeError::SessionPresentOnRefusal);
    }
    Ok(Packet::ConnAck(ConnAck::new(
        session_present,
        code.to_reason(),
    )))
}

fn decode_subscribe(r: &mut Reader) -> Result<Subscribe, DecodeError> {
    let packet_id = r.packet_id()?;
    let filters = parts::topic_filters(r, DecodeError::SubscribeWithoutFilters, |r, filter| {
        // Bits 7..2 are reserved and QoS 3 does not exist [MQTT-3-8.3-4].
        let raw = r.u8()?;
        let qos = match raw & 0xFC {
            0 => QoS::from_u8(raw),
            _ => None,
        };
        let qos = qos.ok_or(DecodeError::InvalidSubscribeQoS(raw))?;
        Ok((filter, SubscriptionOptions::qos(qos)))
    })?;
    Ok(Subscribe {
        packet_id,
        filters,
        properties: None,
    })
}

fn decode_suback(r: &mut Reader) -> Result<SubAck, DecodeError> {
    let packet_id = r.packet_id()?;
    let mut codes = Vec::with_capacity(r.remaining());
    while r.has_remaining() {
        // MQTT 3.1 has no 0x80; accepting it there costs nothing.
        let code = match r.u8()? {
            0x80 => ReasonCode::UnspecifiedError,
            raw => {
                ReasonCode::granted(QoS::from_u8(raw).ok_or(DecodeError::InvalidSubAckCode(raw))?)
            }
        };
        codes.push(code);
    }
    if codes.is_empty() {
        return Err(DecodeError::SubAckWithoutCodes);
    }
    Ok(SubAck {
        packet_id,
        codes,
        properties: None,
    })
}

fn decode_unsubscribe(r: &mut Reader) -> Result<Unsubscribe, DecodeError> {
    let packet_id = r.packet_id()?;
    let filters = parts::topic_filters(r, DecodeError::UnsubscribeWithoutFilters, |_, f| Ok(f))?;
    Ok(Unsubscribe {
        packet_id,
        filters,
        properties: None,
    })
}
