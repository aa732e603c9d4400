//! Decoding of every MQTT 5 packet body except CONNECT (see
//! [`super::connect`]), for both directions: the broker reads client
//! packets, the load generator reads server packets.

use super::{props_decode as props, reasons};
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
        PUBACK => Packet::PubAck(decode_ack(&mut r)?),
        PUBREC => Packet::PubRec(decode_ack(&mut r)?),
        PUBREL => Packet::PubRel(decode_ack(&mut r)?),
        PUBCOMP => Packet::PubComp(decode_ack(&mut r)?),
        SUBSCRIBE => Packet::Subscribe(decode_subscribe(&mut r)?),
        SUBACK => Packet::SubAck(decode_suback(&mut r)?),
        UNSUBSCRIBE => Packet::Unsubscribe(decode_unsubscribe(&mut r)?),
        UNSUBACK => Packet::UnsubAck(decode_unsuback(&mut r)?),
        PINGREQ => empty(&r, Packet::PingReq)?,
        PINGRESP => empty(&r, Packet::PingResp)?,
        DISCONNECT => {
            let (reason, properties) = reason_and_props(&mut r, props::disconnect)?;
            Packet::Disconnect(Disconnect { reason, properties })
        }
        AUTH => {
            let (reason, properties) = reason_and_props(&mut r, props::auth)?;
            Packet::Auth(Auth { reason, properties })
        }
        // CONNECT is routed to `connect::decode_body` by the caller; type 0
        // never passes `check_first_byte`.
        other => return Err(DecodeError::ReservedPacketType(other)),
    };
    r.finish()?;
    Ok(packet)
}

fn empty(r: &Reader, packet: Packet) -> Result<Packet, DecodeError> {
    match r.remaining() {
        0 => Ok(packet),
        actual => Err(DecodeError::InvalidRemainingLength {
            packet_type: r.packet_type(),
            expected: 0,
            actual,
        }),
    }
}

/// The reason code of `r`'s packet type, checked against its list.
fn reason(r: &mut Reader) -> Result<ReasonCode, DecodeError> {
    let code = r.u8()?;
    reasons::check(r.packet_type(), code)
}

/// DISCONNECT and AUTH: no body means Success without properties, a reason
/// code alone means no properties (§3.14.2.1, §3.15.2.1).
fn reason_and_props<P>(
    r: &mut Reader,
    read_props: fn(&mut Reader) -> Result<Option<P>, DecodeError>,
) -> Result<(ReasonCode, Option<P>), DecodeError> {
    if !r.has_remaining() {
        return Ok((ReasonCode::Success, None));
    }
    let code = reason(r)?;
    if !r.has_remaining() {
        return Ok((code, None));
    }
    Ok((code, read_props(r)?))
}

/// PUBACK, PUBREC, PUBREL, PUBCOMP: remaining length 2 means Success
/// without properties, 3 a reason code without properties (§3.4.2.1).
fn decode_ack(r: &mut Reader) -> Result<Ack, DecodeError> {
    let packet_id = r.packet_id()?;
    let (reason, properties) = reason_and_props(r, props::ack)?;
    Ok(Ack {
        packet_id,
        reason,
        properties,
    })
}

fn decode_publish(flags: u8, mut r: Reader) -> Result<Packet, DecodeError> {
    let qos = QoS::from_u8((flags >> 1) & 0b11).ok_or(DecodeError::InvalidPublishQoS)?;
    let topic = r.string()?;
    let packet_id = match qos {
        QoS::AtMostOnce => 0,
        _ => r.packet_id()?,
    };
    let (properties, topic_alias) = props::publish(&mut r)?;
    // An empty topic stands for the one its Topic Alias maps to (§3.3.2.1).
    if topic.is_empty() {
        if topic_alias.is_none() {
            return Err(DecodeError::EmptyTopicWithoutAlias);
        }
    } else {
        validate_topic_name(&topic)?;
    }
    Ok(Packet::Publish(Publish {
        dup: flags & 0b1000 != 0,
        qos,
        retain: flags & 0b0001 != 0,
        topic,
        packet_id,
        payload: r.rest(),
        topic_alias,
        properties,
    }))
}

fn decode_connack(r: &mut Reader) -> Result<Packet, DecodeError> {
    let flags = r.u8()?;
    if flags & 0xFE != 0 {
        return Err(DecodeError::InvalidConnAckFlags(flags));
    }
    let code = reason(r)?;
    let session_present = flags == 1;
    if session_present && code != ReasonCode::Success {
        return Err(DecodeError::SessionPresentOnRefusal);
    }
    Ok(Packet::ConnAck(ConnAck {
        session_present,
        code,
        properties: props::connack(r)?,
    }))
}

/// Subscription options byte (§3.8.3.1): QoS in bits 1..0, No Local bit 2,
/// Retain As Published bit 3, Retain Handling bits 5..4, 7..6 reserved.
fn subscription_options(raw: u8) -> Result<SubscriptionOptions, DecodeError> {
    if raw & 0xC0 != 0 {
        return Err(DecodeError::SubscriptionOptionsReserved(raw));
    }
    let qos = QoS::from_u8(raw & 0b11).ok_or(DecodeError::InvalidSubscribeQoS(raw))?;
    let retain_handling = RetainHandling::from_u8((raw >> 4) & 0b11)
        .ok_or(DecodeError::InvalidRetainHandling(raw))?;
    Ok(SubscriptionOptions {
        qos,
        no_local: raw & 0b0100 != 0,
        retain_as_published: raw & 0b1000 != 0,
        retain_handling,
    })
}

fn decode_subscribe(r: &mut Reader) -> Result<Subscribe, DecodeError> {
    let packet_id = r.packet_id()?;
    let properties = props::subscribe(r)?;
    let filters = parts::topic_filters(r, DecodeError::SubscribeWithoutFilters, |r, filter| {
        let opts = subscription_options(r.u8()?)?;
        if opts.no_local && filter.starts_with("$share/") {
            return Err(DecodeError::NoLocalOnSharedSubscription);
        }
        Ok((filter, opts))
    })?;
    Ok(Subscribe {
        packet_id,
        filters,
        properties,
    })
}

fn decode_unsubscribe(r: &mut Reader) -> Result<Unsubscribe, DecodeError> {
    let packet_id = r.packet_id()?;
    let properties = props::unsubscribe(r)?;
    let filters = parts::topic_filters(r, DecodeError::UnsubscribeWithoutFilters, |_, f| Ok(f))?;
    Ok(Unsubscribe {
        packet_id,
        filters,
        properties,
    })
}

/// Packet id, properties and codes of a SUBACK or UNSUBACK.
type IdPropsCodes = (u16, Option<Box<AckProperties>>, Vec<ReasonCode>);

/// SUBACK and UNSUBACK: packet id, properties, one code per filter.
fn id_props_codes(r: &mut Reader) -> Result<IdPropsCodes, DecodeError> {
    let packet_id = r.packet_id()?;
    let properties = props::ack(r)?;
    let mut codes = Vec::with_capacity(r.remaining());
    while r.has_remaining() {
        codes.push(reason(r)?);
    }
    Ok((packet_id, properties, codes))
}

fn decode_suback(r: &mut Reader) -> Result<SubAck, DecodeError> {
    let (packet_id, properties, codes) = id_props_codes(r)?;
    if codes.is_empty() {
        return Err(DecodeError::SubAckWithoutCodes);
    }
    Ok(SubAck {
        packet_id,
        codes,
        properties,
    })
}

fn decode_unsuback(r: &mut Reader) -> Result<UnsubAck, DecodeError> {
    let (packet_id, properties, codes) = id_props_codes(r)?;
    if codes.is_empty() {
        return Err(DecodeError::UnsubAckWithoutCodes);
    }
    Ok(UnsubAck {
        packet_id,
        codes,
        properties,
    })
}
