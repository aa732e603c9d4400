//! Each property struct as a list of writes to a [`Sink`]: run against
//! `Len` it sizes the block, against `Put` it writes it. Absent properties
//! write nothing.

use super::props::{block_len, id::*, Len, Put, Sink};
use crate::packet::*;
use bytes::BufMut;

/// A property struct that can be written.
pub trait Visit {
    fn visit<S: Sink>(&self, s: &mut S);
}

/// Size of `p`'s properties without the length prefix; 0 for `None`.
#[inline]
pub fn len<P: Visit>(p: Option<&P>) -> usize {
    let mut n = Len(0);
    if let Some(p) = p {
        p.visit(&mut n);
    }
    n.0
}

/// Size with the length prefix: what the packet needs for its block.
#[inline]
pub fn full_len<P: Visit>(p: Option<&P>) -> usize {
    block_len(len(p))
}

/// Write the length prefix `n` (from [`len`]) and then the properties.
#[inline]
pub fn put<P: Visit, B: BufMut>(out: &mut B, p: Option<&P>, n: usize) {
    let mut put = Put(out);
    put.varint(n as u32);
    if let Some(p) = p {
        p.visit(&mut put);
    }
}

impl Visit for ConnectProperties {
    fn visit<S: Sink>(&self, s: &mut S) {
        s.u32(SESSION_EXPIRY_INTERVAL, self.session_expiry_interval);
        s.u16(RECEIVE_MAXIMUM, self.receive_maximum);
        s.u32(MAXIMUM_PACKET_SIZE, self.maximum_packet_size);
        s.u16(TOPIC_ALIAS_MAXIMUM, self.topic_alias_maximum);
        s.flag(
            REQUEST_RESPONSE_INFORMATION,
            self.request_response_information,
        );
        s.flag(
            REQUEST_PROBLEM_INFORMATION,
            self.request_problem_information,
        );
        s.users(&self.user_properties);
        s.str(AUTHENTICATION_METHOD, self.authentication_method.as_ref());
        s.bin(AUTHENTICATION_DATA, self.authentication_data.as_ref());
    }
}

impl Visit for WillProperties {
    fn visit<S: Sink>(&self, s: &mut S) {
        s.u32(WILL_DELAY_INTERVAL, self.will_delay_interval);
        s.byte(PAYLOAD_FORMAT_INDICATOR, self.payload_format_indicator);
        s.u32(MESSAGE_EXPIRY_INTERVAL, self.message_expiry_interval);
        s.str(CONTENT_TYPE, self.content_type.as_ref());
        s.str(RESPONSE_TOPIC, self.response_topic.as_ref());
        s.bin(CORRELATION_DATA, self.correlation_data.as_ref());
        s.users(&self.user_properties);
    }
}

/// A PUBLISH's properties as the delivery path writes them: the shared
/// message properties minus their subscription identifiers, plus the topic
/// alias; alias and identifiers are per connection and come from
/// `PublishRef`.
pub struct PublishView<'a> {
    pub props: Option<&'a PublishProperties>,
    pub topic_alias: Option<u16>,
    pub subscription_ids: &'a [u32],
}

impl Visit for PublishView<'_> {
    fn visit<S: Sink>(&self, s: &mut S) {
        if let Some(p) = self.props {
            s.byte(PAYLOAD_FORMAT_INDICATOR, p.payload_format_indicator);
            s.u32(MESSAGE_EXPIRY_INTERVAL, p.message_expiry_interval);
        }
        s.u16(TOPIC_ALIAS, self.topic_alias);
        if let Some(p) = self.props {
            s.str(RESPONSE_TOPIC, p.response_topic.as_ref());
            s.bin(CORRELATION_DATA, p.correlation_data.as_ref());
            s.users(&p.user_properties);
        }
        for &id in self.subscription_ids {
            s.subscription_id(id);
        }
        if let Some(p) = self.props {
            s.str(CONTENT_TYPE, p.content_type.as_ref());
        }
    }
}

impl Visit for SubscribeProperties {
    fn visit<S: Sink>(&self, s: &mut S) {
        if let Some(id) = self.subscription_identifier {
            s.subscription_id(id);
        }
        s.users(&self.user_properties);
    }
}

impl Visit for UnsubscribeProperties {
    fn visit<S: Sink>(&self, s: &mut S) {
        s.users(&self.user_properties);
    }
}

impl Visit for AckProperties {
    fn visit<S: Sink>(&self, s: &mut S) {
        s.str(REASON_STRING, self.reason_string.as_ref());
        s.users(&self.user_properties);
    }
}

impl Visit for ConnAckProperties {
    fn visit<S: Sink>(&self, s: &mut S) {
        s.u32(SESSION_EXPIRY_INTERVAL, self.session_expiry_interval);
        s.u16(RECEIVE_MAXIMUM, self.receive_maximum);
        s.byte(MAXIMUM_QOS, self.maximum_qos);
        s.flag(RETAIN_AVAILABLE, self.retain_available);
        s.u32(MAXIMUM_PACKET_SIZE, self.maximum_packet_size);
        s.str(
            ASSIGNED_CLIENT_IDENTIFIER,
            self.assigned_client_identifier.as_ref(),
        );
        s.u16(TOPIC_ALIAS_MAXIMUM, self.topic_alias_maximum);
        s.str(REASON_STRING, self.reason_string.as_ref());
        s.users(&self.user_properties);
        s.flag(
            WILDCARD_SUBSCRIPTION_AVAILABLE,
            self.wildcard_subscription_available,
        );
        s.flag(
            SUBSCRIPTION_IDENTIFIER_AVAILABLE,
            self.subscription_identifiers_available,
        );
        s.flag(
            SHARED_SUBSCRIPTION_AVAILABLE,
            self.shared_subscription_available,
        );
        s.u16(SERVER_KEEP_ALIVE, self.server_keep_alive);
        s.str(RESPONSE_INFORMATION, self.response_information.as_ref());
        s.str(SERVER_REFERENCE, self.server_reference.as_ref());
        s.str(AUTHENTICATION_METHOD, self.authentication_method.as_ref());
        s.bin(AUTHENTICATION_DATA, self.authentication_data.as_ref());
    }
}

impl Visit for DisconnectProperties {
    fn visit<S: Sink>(&self, s: &mut S) {
        s.u32(SESSION_EXPIRY_INTERVAL, self.session_expiry_interval);
        s.str(REASON_STRING, self.reason_string.as_ref());
        s.users(&self.user_properties);
        s.str(SERVER_REFERENCE, self.server_reference.as_ref());
    }
}

impl Visit for AuthProperties {
    fn visit<S: Sink>(&self, s: &mut S) {
        s.str(AUTHENTICATION_METHOD, self.authentication_method.as_ref());
        s.bin(AUTHENTICATION_DATA, self.authentication_data.as_ref());
        s.str(REASON_STRING, self.reason_string.as_ref());
        s.users(&self.user_properties);
    }
}
