//! Each packet's properties: which identifiers it accepts, with which value
//! rules. An identifier not matched here is refused ([`Props::refuse`]);
//! one matched twice is refused by [`Props::set`] (through the typed
//! `*_into` readers, one line per arm) unless the spec lets it repeat (User
//! Property everywhere, Subscription Identifier on PUBLISH).
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
            SESSION_EXPIRY_INTERVAL => p.u32_into(&mut c.session_expiry_interval, id)?,
            RECEIVE_MAXIMUM => p.nonzero_u16_into(&mut c.receive_maximum, id)?,
            MAXIMUM_PACKET_SIZE => p.nonzero_u32_into(&mut c.maximum_packet_size, id)?,
            TOPIC_ALIAS_MAXIMUM => p.u16_into(&mut c.topic_alias_maximum, id)?,
            REQUEST_RESPONSE_INFORMATION => p.flag_into(&mut c.request_response_information, id)?,
            REQUEST_PROBLEM_INFORMATION => p.flag_into(&mut c.request_problem_information, id)?,
            USER_PROPERTY => c.user_properties.push(p.pair()?),
            AUTHENTICATION_METHOD => p.string_into(&mut c.authentication_method, id)?,
            AUTHENTICATION_DATA => p.binary_into(&mut c.authentication_data, id)?,
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
            WILL_DELAY_INTERVAL => p.u32_into(&mut w.will_delay_interval, id)?,
            PAYLOAD_FORMAT_INDICATOR => p.flag_byte_into(&mut w.payload_format_indicator, id)?,
            MESSAGE_EXPIRY_INTERVAL => p.u32_into(&mut w.message_expiry_interval, id)?,
            CONTENT_TYPE => p.string_into(&mut w.content_type, id)?,
            RESPONSE_TOPIC => p.string_into(&mut w.response_topic, id)?,
            CORRELATION_DATA => p.binary_into(&mut w.correlation_data, id)?,
            USER_PROPERTY => w.user_properties.push(p.pair()?),
            _ => return Err(p.refuse(id)),
        }
    }
    Ok(Some(Box::new(w)))
}

/// The properties of a PUBLISH and, apart from them, its Topic Alias.
pub type PublishProps = (Option<Arc<PublishProperties>>, Option<u16>);

/// Subscription Identifiers may repeat: a server sends one per matching
/// subscription. Whether a client may send any is the receiver's check
/// ([MQTT-3.3.4-6]); the decoder does not know the direction.
/// The Topic Alias is returned on its own (it is the connection's, never
/// forwarded), so a block holding only an alias allocates nothing.
pub fn publish(r: &mut Reader) -> Result<PublishProps, DecodeError> {
    let Some(mut p) = Props::read(r)? else {
        return Ok((None, None));
    };
    let mut m = PublishProperties::default();
    let mut alias = None;
    // Whether any property other than the alias was read.
    let mut any = false;
    while let Some(id) = p.next_id()? {
        match id {
            TOPIC_ALIAS => {
                p.nonzero_u16_into(&mut alias, id)?;
                continue;
            }
            PAYLOAD_FORMAT_INDICATOR => p.flag_byte_into(&mut m.payload_format_indicator, id)?,
            MESSAGE_EXPIRY_INTERVAL => p.u32_into(&mut m.message_expiry_interval, id)?,
            RESPONSE_TOPIC => p.string_into(&mut m.response_topic, id)?,
            CORRELATION_DATA => p.binary_into(&mut m.correlation_data, id)?,
            USER_PROPERTY => m.user_properties.push(p.pair()?),
            SUBSCRIPTION_IDENTIFIER => m.subscription_identifiers.push(p.subscription_id()?),
            CONTENT_TYPE => p.string_into(&mut m.content_type, id)?,
            _ => return Err(p.refuse(id)),
        }
        any = true;
    }
    Ok((any.then(|| Arc::new(m)), alias))
}

pub fn subscribe(r: &mut Reader) -> Result<Option<Box<SubscribeProperties>>, DecodeError> {
    let Some(mut p) = Props::read(r)? else {
        return Ok(None);
    };
    let mut s = SubscribeProperties::default();
    while let Some(id) = p.next_id()? {
        match id {
            SUBSCRIPTION_IDENTIFIER => {
                p.subscription_id_into(&mut s.subscription_identifier, id)?
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
            REASON_STRING => p.string_into(&mut a.reason_string, id)?,
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
            SESSION_EXPIRY_INTERVAL => p.u32_into(&mut d.session_expiry_interval, id)?,
            REASON_STRING => p.string_into(&mut d.reason_string, id)?,
            USER_PROPERTY => d.user_properties.push(p.pair()?),
            SERVER_REFERENCE => p.string_into(&mut d.server_reference, id)?,
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
            AUTHENTICATION_METHOD => p.string_into(&mut a.authentication_method, id)?,
            AUTHENTICATION_DATA => p.binary_into(&mut a.authentication_data, id)?,
            REASON_STRING => p.string_into(&mut a.reason_string, id)?,
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
            SESSION_EXPIRY_INTERVAL => p.u32_into(&mut c.session_expiry_interval, id)?,
            RECEIVE_MAXIMUM => p.nonzero_u16_into(&mut c.receive_maximum, id)?,
            MAXIMUM_QOS => p.flag_byte_into(&mut c.maximum_qos, id)?,
            RETAIN_AVAILABLE => p.flag_into(&mut c.retain_available, id)?,
            MAXIMUM_PACKET_SIZE => p.nonzero_u32_into(&mut c.maximum_packet_size, id)?,
            ASSIGNED_CLIENT_IDENTIFIER => p.string_into(&mut c.assigned_client_identifier, id)?,
            TOPIC_ALIAS_MAXIMUM => p.u16_into(&mut c.topic_alias_maximum, id)?,
            REASON_STRING => p.string_into(&mut c.reason_string, id)?,
            USER_PROPERTY => c.user_properties.push(p.pair()?),
            WILDCARD_SUBSCRIPTION_AVAILABLE => {
                p.flag_into(&mut c.wildcard_subscription_available, id)?
            }
            SUBSCRIPTION_IDENTIFIER_AVAILABLE => {
                p.flag_into(&mut c.subscription_identifiers_available, id)?
            }
            SHARED_SUBSCRIPTION_AVAILABLE => {
                p.flag_into(&mut c.shared_subscription_available, id)?
            }
            SERVER_KEEP_ALIVE => p.u16_into(&mut c.server_keep_alive, id)?,
            RESPONSE_INFORMATION => p.string_into(&mut c.response_information, id)?,
            SERVER_REFERENCE => p.string_into(&mut c.server_reference, id)?,
            AUTHENTICATION_METHOD => p.string_into(&mut c.authentication_method, id)?,
            AUTHENTICATION_DATA => p.binary_into(&mut c.authentication_data, id)?,
            _ => return Err(p.refuse(id)),
        }
    }
    p.check_auth(&c.authentication_method, &c.authentication_data)?;
    Ok(Some(Box::new(c)))
}
