//! Each packet's properties: which identifiers it accepts, with which value
//! rules. An identifier not matched here is refused ([`Props::refuse`]);
//! one matched twice is refused by [`Props::set`] unless the spec lets it
//! repeat (User Property everywhere, Subscription Identifier on PUBLISH).
//! An empty block decodes to `None`, so packets without properties allocate
//! nothing.

use super::props::{id::*, Props};
use crate::codec_util::Reader;
use crate::error::DecodeError;
use crate::packet::*;
use std::sync::Arc;

pub fn connect(r: &mut Reader) -> Result<Option<Box<ConnectProperties>>, DecodeError> {
    let Some(mut p) = Props::read(r)? else {
        return Ok(None);
    };
    let mut c = ConnectProperties::default();
    while let Some(id) = p.next_id()? {
        match id {
            SESSION_EXPIRY_INTERVAL => {
                let v = p.u32()?;
                p.set(&mut c.session_expiry_interval, id, v)?
            }
            RECEIVE_MAXIMUM => {
                let v = p.nonzero_u16(id)?;
                p.set(&mut c.receive_maximum, id, v)?
            }
            MAXIMUM_PACKET_SIZE => {
                let v = p.nonzero_u32(id)?;
                p.set(&mut c.maximum_packet_size, id, v)?
            }
            TOPIC_ALIAS_MAXIMUM => {
                let v = p.u16()?;
                p.set(&mut c.topic_alias_maximum, id, v)?
            }
            REQUEST_RESPONSE_INFORMATION => {
                let v = p.flag(id)?;
                p.set(&mut c.request_response_information, id, v)?
            }
            REQUEST_PROBLEM_INFORMATION => {
                let v = p.flag(id)?;
                p.set(&mut c.request_problem_information, id, v)?
            }
            USER_PROPERTY => c.user_properties.push(p.pair()?),
            AUTHENTICATION_METHOD => {
                let v = p.string()?;
                p.set(&mut c.authentication_method, id, v)?
            }
            AUTHENTICATION_DATA => {
                let v = p.binary()?;
                p.set(&mut c.authentication_data, id, v)?
            }
            _ => return Err(p.refuse(id)),
        }
    }
    p.check_auth(&c.authentication_method, &c.authentication_data)?;
    Ok(Some(Box::new(c)))
}

pub fn will(r: &mut Reader) -> Result<Option<Box<WillProperties>>, DecodeError> {
    let Some(mut p) = Props::read(r)? else {
        return Ok(None);
    };
    let mut w = WillProperties::default();
    while let Some(id) = p.next_id()? {
        match id {
            WILL_DELAY_INTERVAL => {
                let v = p.u32()?;
                p.set(&mut w.will_delay_interval, id, v)?
            }
            PAYLOAD_FORMAT_INDICATOR => {
                let v = u8::from(p.flag(id)?);
                p.set(&mut w.payload_format_indicator, id, v)?
            }
            MESSAGE_EXPIRY_INTERVAL => {
                let v = p.u32()?;
                p.set(&mut w.message_expiry_interval, id, v)?
            }
            CONTENT_TYPE => {
                let v = p.string()?;
                p.set(&mut w.content_type, id, v)?
            }
            RESPONSE_TOPIC => {
                let v = p.string()?;
                p.set(&mut w.response_topic, id, v)?
            }
            CORRELATION_DATA => {
                let v = p.binary()?;
                p.set(&mut w.correlation_data, id, v)?
            }
            USER_PROPERTY => w.user_properties.push(p.pair()?),
            _ => return Err(p.refuse(id)),
        }
    }
    Ok(Some(Box::new(w)))
}

/// Subscription Identifiers may repeat: a server sends one per matching
/// subscription. Whether a client may send any is the receiver's check
/// ([MQTT-3.3.4-6]); the decoder does not know the direction.
pub fn publish(r: &mut Reader) -> Result<Option<Arc<PublishProperties>>, DecodeError> {
    let Some(mut p) = Props::read(r)? else {
        return Ok(None);
    };
    let mut m = PublishProperties::default();
    while let Some(id) = p.next_id()? {
        match id {
            PAYLOAD_FORMAT_INDICATOR => {
                let v = u8::from(p.flag(id)?);
                p.set(&mut m.payload_format_indicator, id, v)?
            }
            MESSAGE_EXPIRY_INTERVAL => {
                let v = p.u32()?;
                p.set(&mut m.message_expiry_interval, id, v)?
            }
            TOPIC_ALIAS => {
                let v = p.nonzero_u16(id)?;
                p.set(&mut m.topic_alias, id, v)?
            }
            RESPONSE_TOPIC => {
                let v = p.string()?;
                p.set(&mut m.response_topic, id, v)?
            }
            CORRELATION_DATA => {
                let v = p.binary()?;
                p.set(&mut m.correlation_data, id, v)?
            }
            USER_PROPERTY => m.user_properties.push(p.pair()?),
            SUBSCRIPTION_IDENTIFIER => m.subscription_identifiers.push(p.subscription_id()?),
            CONTENT_TYPE => {
                let v = p.string()?;
                p.set(&mut m.content_type, id, v)?
            }
            _ => return Err(p.refuse(id)),
        }
    }
    Ok(Some(Arc::new(m)))
}

pub fn subscribe(r: &mut Reader) -> Result<Option<Box<SubscribeProperties>>, DecodeError> {
    let Some(mut p) = Props::read(r)? else {
        return Ok(None);
    };
    let mut s = SubscribeProperties::default();
    while let Some(id) = p.next_id()? {
        match id {
            SUBSCRIPTION_IDENTIFIER => {
                let v = p.subscription_id()?;
                p.set(&mut s.subscription_identifier, id, v)?
            }
            USER_PROPERTY => s.user_properties.push(p.pair()?),
            _ => return Err(p.refuse(id)),
        }
    }
    Ok(Some(Box::new(s)))
}

pub fn unsubscribe(r: &mut Reader) -> Result<Option<Box<UnsubscribeProperties>>, DecodeError> {
    let Some(mut p) = Props::read(r)? else {
        return Ok(None);
    };
    let mut u = UnsubscribeProperties::default();
    while let Some(id) = p.next_id()? {
        match id {
            USER_PROPERTY => u.user_properties.push(p.pair()?),
            _ => return Err(p.refuse(id)),
        }
    }
    Ok(Some(Box::new(u)))
}

/// PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK.
pub fn ack(r: &mut Reader) -> Result<Option<Box<AckProperties>>, DecodeError> {
    let Some(mut p) = Props::read(r)? else {
        return Ok(None);
    };
    let mut a = AckProperties::default();
    while let Some(id) = p.next_id()? {
        match id {
            REASON_STRING => {
                let v = p.string()?;
                p.set(&mut a.reason_string, id, v)?
            }
            USER_PROPERTY => a.user_properties.push(p.pair()?),
            _ => return Err(p.refuse(id)),
        }
    }
    Ok(Some(Box::new(a)))
}

pub fn disconnect(r: &mut Reader) -> Result<Option<Box<DisconnectProperties>>, DecodeError> {
    let Some(mut p) = Props::read(r)? else {
        return Ok(None);
    };
    let mut d = DisconnectProperties::default();
    while let Some(id) = p.next_id()? {
        match id {
            SESSION_EXPIRY_INTERVAL => {
                let v = p.u32()?;
                p.set(&mut d.session_expiry_interval, id, v)?
            }
            REASON_STRING => {
                let v = p.string()?;
                p.set(&mut d.reason_string, id, v)?
            }
            USER_PROPERTY => d.user_properties.push(p.pair()?),
            SERVER_REFERENCE => {
                let v = p.string()?;
                p.set(&mut d.server_reference, id, v)?
            }
            _ => return Err(p.refuse(id)),
        }
    }
    Ok(Some(Box::new(d)))
}

pub fn auth(r: &mut Reader) -> Result<Option<Box<AuthProperties>>, DecodeError> {
    let Some(mut p) = Props::read(r)? else {
        return Ok(None);
    };
    let mut a = AuthProperties::default();
    while let Some(id) = p.next_id()? {
        match id {
            AUTHENTICATION_METHOD => {
                let v = p.string()?;
                p.set(&mut a.authentication_method, id, v)?
            }
            AUTHENTICATION_DATA => {
                let v = p.binary()?;
                p.set(&mut a.authentication_data, id, v)?
            }
            REASON_STRING => {
                let v = p.string()?;
                p.set(&mut a.reason_string, id, v)?
            }
            USER_PROPERTY => a.user_properties.push(p.pair()?),
            _ => return Err(p.refuse(id)),
        }
    }
    p.check_auth(&a.authentication_method, &a.authentication_data)?;
    Ok(Some(Box::new(a)))
}

pub fn connack(r: &mut Reader) -> Result<Option<Box<ConnAckProperties>>, DecodeError> {
    let Some(mut p) = Props::read(r)? else {
        return Ok(None);
    };
    let mut c = ConnAckProperties::default();
    while let Some(id) = p.next_id()? {
        match id {
            SESSION_EXPIRY_INTERVAL => {
                let v = p.u32()?;
                p.set(&mut c.session_expiry_interval, id, v)?
            }
            RECEIVE_MAXIMUM => {
                let v = p.nonzero_u16(id)?;
                p.set(&mut c.receive_maximum, id, v)?
            }
            MAXIMUM_QOS => {
                let v = u8::from(p.flag(id)?);
                p.set(&mut c.maximum_qos, id, v)?
            }
            RETAIN_AVAILABLE => {
                let v = p.flag(id)?;
                p.set(&mut c.retain_available, id, v)?
            }
            MAXIMUM_PACKET_SIZE => {
                let v = p.nonzero_u32(id)?;
                p.set(&mut c.maximum_packet_size, id, v)?
            }
            ASSIGNED_CLIENT_IDENTIFIER => {
                let v = p.string()?;
                p.set(&mut c.assigned_client_identifier, id, v)?
            }
            TOPIC_ALIAS_MAXIMUM => {
                let v = p.u16()?;
                p.set(&mut c.topic_alias_maximum, id, v)?
            }
            REASON_STRING => {
                let v = p.string()?;
                p.set(&mut c.reason_string, id, v)?
            }
            USER_PROPERTY => c.user_properties.push(p.pair()?),
            WILDCARD_SUBSCRIPTION_AVAILABLE => {
                let v = p.flag(id)?;
                p.set(&mut c.wildcard_subscription_available, id, v)?
            }
            SUBSCRIPTION_IDENTIFIER_AVAILABLE => {
                let v = p.flag(id)?;
                p.set(&mut c.subscription_identifiers_available, id, v)?
            }
            SHARED_SUBSCRIPTION_AVAILABLE => {
                let v = p.flag(id)?;
                p.set(&mut c.shared_subscription_available, id, v)?
            }
            SERVER_KEEP_ALIVE => {
                let v = p.u16()?;
                p.set(&mut c.server_keep_alive, id, v)?
            }
            RESPONSE_INFORMATION => {
                let v = p.string()?;
                p.set(&mut c.response_information, id, v)?
            }
            SERVER_REFERENCE => {
                let v = p.string()?;
                p.set(&mut c.server_reference, id, v)?
            }
            AUTHENTICATION_METHOD => {
                let v = p.string()?;
                p.set(&mut c.authentication_method, id, v)?
            }
            AUTHENTICATION_DATA => {
                let v = p.binary()?;
                p.set(&mut c.authentication_data, id, v)?
            }
            _ => return Err(p.refuse(id)),
        }
    }
    p.check_auth(&c.authentication_method, &c.authentication_data)?;
    Ok(Some(Box::new(c)))
}
