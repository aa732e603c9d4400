//! MQTT 5 properties (§2.2.2), one struct per packet family. The 3.1/3.1.1
//! codec never fills them and drops them on the way out.
//!
//! Each field is `None`/empty when the property is absent, which the spec
//! often gives a meaning of its own (no expiry, default maximum, ...), so
//! absence is kept distinct from any value. Only the properties a packet may
//! carry are fields of its struct, so a property on the wrong packet has
//! nowhere to go: the v5 decoder refuses it.

use crate::mqtt_str::MqttStr;
use bytes::Bytes;

/// A User Property (0x26): a name/value pair the spec gives no meaning to,
/// kept in order and allowed to repeat.
pub type UserProperty = (MqttStr, MqttStr);

/// Properties of a PUBLISH (§3.3.2.3), the ones a message keeps when it
/// is forwarded. The Topic Alias (0x23) stands for the topic on one
/// connection only and is never forwarded [MQTT-3.3.2-7], so it is
/// [`crate::Publish::topic_alias`] instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishProperties {
    /// 0x01: 0 unspecified bytes, 1 UTF-8 payload.
    pub payload_format_indicator: Option<u8>,
    /// 0x02: seconds; absent means the message does not expire.
    pub message_expiry_interval: Option<u32>,
    /// 0x08.
    pub response_topic: Option<MqttStr>,
    /// 0x09.
    pub correlation_data: Option<Bytes>,
    /// 0x26.
    pub user_properties: Vec<UserProperty>,
    /// 0x0B: server to client only, one per matching subscription that had
    /// an identifier.
    pub subscription_identifiers: Vec<u32>,
    /// 0x03.
    pub content_type: Option<MqttStr>,
}

/// Will properties of a CONNECT (§3.1.3.2): the PUBLISH ones that make sense
/// for a message the server publishes later, plus the delay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WillProperties {
    /// 0x18: seconds to wait after the connection ends before publishing.
    pub will_delay_interval: Option<u32>,
    /// 0x01.
    pub payload_format_indicator: Option<u8>,
    /// 0x02.
    pub message_expiry_interval: Option<u32>,
    /// 0x03.
    pub content_type: Option<MqttStr>,
    /// 0x08.
    pub response_topic: Option<MqttStr>,
    /// 0x09.
    pub correlation_data: Option<Bytes>,
    /// 0x26.
    pub user_properties: Vec<UserProperty>,
}

/// Properties of a CONNECT (§3.1.2.11).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectProperties {
    /// 0x11: seconds; absent means 0, the session ends with the connection.
    pub session_expiry_interval: Option<u32>,
    /// 0x21: absent means 65535.
    pub receive_maximum: Option<u16>,
    /// 0x27: absent means no limit beyond the protocol's.
    pub maximum_packet_size: Option<u32>,
    /// 0x22: absent means 0, no topic aliases towards the client.
    pub topic_alias_maximum: Option<u16>,
    /// 0x19: a 0/1 byte on the wire; absent means false.
    pub request_response_information: Option<bool>,
    /// 0x17: a 0/1 byte on the wire; absent means true.
    pub request_problem_information: Option<bool>,
    /// 0x26.
    pub user_properties: Vec<UserProperty>,
    /// 0x15: enhanced authentication (§4.12).
    pub authentication_method: Option<MqttStr>,
    /// 0x16.
    pub authentication_data: Option<Bytes>,
}

/// Properties of a SUBSCRIBE (§3.8.2.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscribeProperties {
    /// 0x0B: 1..=268435455, echoed in the PUBLISHes this subscription
    /// matches.
    pub subscription_identifier: Option<u32>,
    /// 0x26.
    pub user_properties: Vec<UserProperty>,
}

/// Properties of an UNSUBSCRIBE (§3.10.2.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnsubscribeProperties {
    /// 0x26.
    pub user_properties: Vec<UserProperty>,
}

/// Properties of PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK and UNSUBACK: a
/// reason string and user properties, nothing else (§3.4.2.2 and siblings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AckProperties {
    /// 0x1F: human-readable, for diagnostics only.
    pub reason_string: Option<MqttStr>,
    /// 0x26.
    pub user_properties: Vec<UserProperty>,
}

/// Properties of a CONNACK (§3.2.2.3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnAckProperties {
    /// 0x11: the interval the server uses, when not the client's.
    pub session_expiry_interval: Option<u32>,
    /// 0x21: absent means 65535.
    pub receive_maximum: Option<u16>,
    /// 0x24: 0 or 1; absent means 2.
    pub maximum_qos: Option<u8>,
    /// 0x25: a 0/1 byte; absent means true.
    pub retain_available: Option<bool>,
    /// 0x27: absent means no limit beyond the protocol's.
    pub maximum_packet_size: Option<u32>,
    /// 0x12: the client identifier the server chose for an empty one.
    pub assigned_client_identifier: Option<MqttStr>,
    /// 0x22: absent means 0, no topic aliases from the client.
    pub topic_alias_maximum: Option<u16>,
    /// 0x1F.
    pub reason_string: Option<MqttStr>,
    /// 0x26.
    pub user_properties: Vec<UserProperty>,
    /// 0x28: absent means true.
    pub wildcard_subscription_available: Option<bool>,
    /// 0x29: absent means true.
    pub subscription_identifiers_available: Option<bool>,
    /// 0x2A: absent means true.
    pub shared_subscription_available: Option<bool>,
    /// 0x13: the keep alive the client must use instead of its own.
    pub server_keep_alive: Option<u16>,
    /// 0x1A.
    pub response_information: Option<MqttStr>,
    /// 0x1C.
    pub server_reference: Option<MqttStr>,
    /// 0x15.
    pub authentication_method: Option<MqttStr>,
    /// 0x16.
    pub authentication_data: Option<Bytes>,
}

/// Properties of a DISCONNECT (§3.14.2.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisconnectProperties {
    /// 0x11: client to server only; may not turn 0 into non-zero.
    pub session_expiry_interval: Option<u32>,
    /// 0x1F.
    pub reason_string: Option<MqttStr>,
    /// 0x26.
    pub user_properties: Vec<UserProperty>,
    /// 0x1C: server to client only.
    pub server_reference: Option<MqttStr>,
}

/// Properties of an AUTH (§3.15.2.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthProperties {
    /// 0x15.
    pub authentication_method: Option<MqttStr>,
    /// 0x16.
    pub authentication_data: Option<Bytes>,
    /// 0x1F.
    pub reason_string: Option<MqttStr>,
    /// 0x26.
    pub user_properties: Vec<UserProperty>,
}
