//! Packet types shared by the MQTT 3.1, 3.1.1 and 5.0 codecs.
//!
//! Strings are [`MqttStr`]: validated UTF-8 backed by `Bytes`, so a topic or
//! payload decoded from a frame shares that frame's single allocation and is
//! shared again, without copying, by every delivery on every shard.
//!
//! The model is MQTT 5's, a superset of 3.1.1's: reason codes and properties
//! are here for every packet, `None` or defaults when decoded from 3.1/3.1.1,
//! and left out (or narrowed, see [`ReasonCode`]) when encoded to it.

pub use crate::mqtt_str::MqttStr;
pub use crate::properties::*;
pub use crate::reason::ReasonCode;
use bytes::Bytes;
use std::sync::Arc;

/// Protocol level carried in CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolVersion {
    /// MQTT 3.1: protocol name `MQIsdp`, level 3.
    V3_1,
    /// MQTT 3.1.1: protocol name `MQTT`, level 4.
    V3_1_1,
    /// MQTT 5.0: protocol name `MQTT`, level 5.
    V5,
}

impl ProtocolVersion {
    #[inline]
    pub fn level(self) -> u8 {
        match self {
            ProtocolVersion::V3_1 => 3,
            ProtocolVersion::V3_1_1 => 4,
            ProtocolVersion::V5 => 5,
        }
    }
}

/// Quality of service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum QoS {
    AtMostOnce = 0,
    AtLeastOnce = 1,
    ExactlyOnce = 2,
}

impl QoS {
    #[inline]
    pub fn from_u8(v: u8) -> Option<QoS> {
        match v {
            0 => Some(QoS::AtMostOnce),
            1 => Some(QoS::AtLeastOnce),
            2 => Some(QoS::ExactlyOnce),
            _ => None,
        }
    }
}

/// Will message carried by CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Will {
    pub topic: MqttStr,
    pub payload: Bytes,
    pub qos: QoS,
    pub retain: bool,
    /// MQTT 5 only. Boxed: a will is rare and a `None` costs one word.
    pub properties: Option<Box<WillProperties>>,
}

/// CONNECT (§3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    pub protocol: ProtocolVersion,
    pub clean_session: bool,
    pub keep_alive: u16,
    /// May be empty; whether that is allowed is the broker's decision.
    pub client_id: MqttStr,
    pub will: Option<Will>,
    pub username: Option<MqttStr>,
    pub password: Option<Bytes>,
    /// MQTT 5 only.
    pub properties: Option<Box<ConnectProperties>>,
}

/// CONNACK return codes of MQTT 3.1/3.1.1 (§3.2.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ConnectReturnCode {
    Accepted = 0,
    UnacceptableProtocolVersion = 1,
    IdentifierRejected = 2,
    ServerUnavailable = 3,
    BadUserNameOrPassword = 4,
    NotAuthorized = 5,
}

impl ConnectReturnCode {
    pub fn from_u8(v: u8) -> Option<ConnectReturnCode> {
        use ConnectReturnCode::*;
        Some(match v {
            0 => Accepted,
            1 => UnacceptableProtocolVersion,
            2 => IdentifierRejected,
            3 => ServerUnavailable,
            4 => BadUserNameOrPassword,
            5 => NotAuthorized,
            _ => return None,
        })
    }
}

/// CONNACK (§3.2). `code` is MQTT 5's; 3.1.1 gets
/// [`ReasonCode::to_v3_connack`] of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnAck {
    pub session_present: bool,
    pub code: ReasonCode,
    /// MQTT 5 only.
    pub properties: Option<Box<ConnAckProperties>>,
}

impl ConnAck {
    /// A CONNACK without properties.
    pub fn new(session_present: bool, code: ReasonCode) -> ConnAck {
        ConnAck {
            session_present,
            code,
            properties: None,
        }
    }
}

/// PUBACK, PUBREC, PUBREL, PUBCOMP (§3.4–§3.7): a packet identifier and, in
/// MQTT 5, a reason code and properties. 16 bytes, so the acks stay cheap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub packet_id: u16,
    pub reason: ReasonCode,
    /// MQTT 5 only.
    pub properties: Option<Box<AckProperties>>,
}

impl Ack {
    /// Success, no properties: the only ack 3.1.1 has.
    #[inline]
    pub fn new(packet_id: u16) -> Ack {
        Ack::with_reason(packet_id, ReasonCode::Success)
    }

    #[inline]
    pub fn with_reason(packet_id: u16, reason: ReasonCode) -> Ack {
        Ack {
            packet_id,
            reason,
            properties: None,
        }
    }
}

/// PUBLISH (§3.3). `packet_id` is 0 for QoS 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    pub dup: bool,
    pub qos: QoS,
    pub retain: bool,
    pub topic: MqttStr,
    pub packet_id: u16,
    pub payload: Bytes,
    /// MQTT 5 only: Topic Alias (0x23), 1..=the receiver's maximum. Kept
    /// out of `properties` because it belongs to this connection and is
    /// never forwarded [MQTT-3.3.2-7]; a PUBLISH whose only property is an
    /// alias decodes with `properties: None`, without allocating.
    pub topic_alias: Option<u16>,
    /// MQTT 5 only. An `Arc` because the broker hands one copy to every
    /// delivery; `None` keeps decoding free of allocations.
    pub properties: Option<Arc<PublishProperties>>,
}

/// A PUBLISH to encode, borrowed from wherever the broker keeps the message
/// (see [`crate::encode_publish`]). `packet_id` is only written at QoS > 0;
/// `dup` is ignored at QoS 0 [MQTT-3.3.1-2].
///
/// MQTT 5: `properties` is the message's, shared by all its deliveries;
/// the two per-delivery properties come from `topic_alias` and
/// `subscription_ids` instead, and the `subscription_identifiers` inside
/// `properties` are never written. So a
/// connection can add its alias (with an empty `topic`) and the identifiers
/// of the subscriptions that matched without cloning the shared properties.
/// 3.1/3.1.1 write none of the three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishRef<'a> {
    /// Empty only with a `topic_alias` the receiver already knows (MQTT 5).
    pub topic: &'a str,
    pub payload: &'a [u8],
    pub qos: QoS,
    pub retain: bool,
    pub dup: bool,
    pub packet_id: u16,
    pub properties: Option<&'a PublishProperties>,
    /// MQTT 5: Topic Alias to send (1..=the client's maximum).
    pub topic_alias: Option<u16>,
    /// MQTT 5: Subscription Identifiers to send, each 1..=268435455.
    pub subscription_ids: &'a [u32],
}

impl<'a> PublishRef<'a> {
    /// A plain PUBLISH: not retained, not a duplicate, nothing of MQTT 5
    /// (fields can be set after, `PublishRef { retain: true, ..new }`).
    #[inline]
    pub fn new(topic: &'a str, payload: &'a [u8], qos: QoS, packet_id: u16) -> PublishRef<'a> {
        PublishRef {
            topic,
            payload,
            qos,
            retain: false,
            dup: false,
            packet_id,
            properties: None,
            topic_alias: None,
            subscription_ids: &[],
        }
    }
}

impl<'a> From<&'a Publish> for PublishRef<'a> {
    #[inline]
    fn from(p: &'a Publish) -> PublishRef<'a> {
        PublishRef {
            topic: &p.topic,
            payload: &p.payload,
            qos: p.qos,
            retain: p.retain,
            dup: p.dup,
            packet_id: p.packet_id,
            properties: p.properties.as_deref(),
            topic_alias: p.topic_alias,
            subscription_ids: p
                .properties
                .as_ref()
                .map_or(&[], |p| &p.subscription_identifiers[..]),
        }
    }
}

/// What a subscription asks for (§3.8.3.1). MQTT 3.1/3.1.1 only has the
/// QoS; the rest then takes the values that behave like 3.1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscriptionOptions {
    /// Maximum QoS the subscriber accepts.
    pub qos: QoS,
    /// Do not send the subscriber its own publications.
    pub no_local: bool,
    /// Forward the RETAIN flag as published instead of clearing it.
    pub retain_as_published: bool,
    pub retain_handling: RetainHandling,
}

impl SubscriptionOptions {
    /// A 3.1.1 subscription: this QoS, everything else as 3.1.1 behaves.
    #[inline]
    pub const fn qos(qos: QoS) -> SubscriptionOptions {
        SubscriptionOptions {
            qos,
            no_local: false,
            retain_as_published: false,
            retain_handling: RetainHandling::SendOnSubscribe,
        }
    }
}

/// When retained messages are sent for a new subscription (§3.8.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum RetainHandling {
    /// On every SUBSCRIBE, as 3.1.1 does.
    #[default]
    SendOnSubscribe = 0,
    /// Only if the subscription did not exist yet.
    SendIfNew = 1,
    DoNotSend = 2,
}

impl RetainHandling {
    pub fn from_u8(v: u8) -> Option<RetainHandling> {
        match v {
            0 => Some(RetainHandling::SendOnSubscribe),
            1 => Some(RetainHandling::SendIfNew),
            2 => Some(RetainHandling::DoNotSend),
            _ => None,
        }
    }
}

/// SUBSCRIBE (§3.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    pub packet_id: u16,
    pub filters: Vec<(MqttStr, SubscriptionOptions)>,
    /// MQTT 5 only.
    pub properties: Option<Box<SubscribeProperties>>,
}

/// SUBACK (§3.9): one code per filter, in order; granted QoS is
/// [`ReasonCode::granted`], 3.1.1 narrows failures to 0x80.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAck {
    pub packet_id: u16,
    pub codes: Vec<ReasonCode>,
    /// MQTT 5 only.
    pub properties: Option<Box<AckProperties>>,
}

/// UNSUBSCRIBE (§3.10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    pub packet_id: u16,
    pub filters: Vec<MqttStr>,
    /// MQTT 5 only.
    pub properties: Option<Box<UnsubscribeProperties>>,
}

/// UNSUBACK (§3.11). 3.1.1 has no codes: they are left out of its bytes
/// and empty when decoded from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubAck {
    pub packet_id: u16,
    pub codes: Vec<ReasonCode>,
    /// MQTT 5 only.
    pub properties: Option<Box<AckProperties>>,
}

/// DISCONNECT (§3.14). 3.1.1's has no body: `Success` and no properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disconnect {
    pub reason: ReasonCode,
    /// MQTT 5 only.
    pub properties: Option<Box<DisconnectProperties>>,
}

impl Disconnect {
    /// Normal disconnection, no properties.
    pub const NORMAL: Disconnect = Disconnect::with_reason(ReasonCode::Success);

    pub const fn with_reason(reason: ReasonCode) -> Disconnect {
        Disconnect {
            reason,
            properties: None,
        }
    }
}

/// AUTH (§3.15), MQTT 5 only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    pub reason: ReasonCode,
    pub properties: Option<Box<AuthProperties>>,
}

/// Every MQTT control packet (AUTH is MQTT 5 only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    Connect(Box<Connect>),
    ConnAck(ConnAck),
    Publish(Publish),
    PubAck(Ack),
    PubRec(Ack),
    PubRel(Ack),
    PubComp(Ack),
    Subscribe(Subscribe),
    SubAck(SubAck),
    Unsubscribe(Unsubscribe),
    UnsubAck(UnsubAck),
    PingReq,
    PingResp,
    Disconnect(Disconnect),
    Auth(Auth),
}

impl Packet {
    /// Name for logs and metrics labels.
    pub fn name(&self) -> &'static str {
        match self {
            Packet::Connect(_) => "CONNECT",
            Packet::ConnAck(_) => "CONNACK",
            Packet::Publish(_) => "PUBLISH",
            Packet::PubAck(_) => "PUBACK",
            Packet::PubRec(_) => "PUBREC",
            Packet::PubRel(_) => "PUBREL",
            Packet::PubComp(_) => "PUBCOMP",
            Packet::Subscribe(_) => "SUBSCRIBE",
            Packet::SubAck(_) => "SUBACK",
            Packet::Unsubscribe(_) => "UNSUBSCRIBE",
            Packet::UnsubAck(_) => "UNSUBACK",
            Packet::PingReq => "PINGREQ",
            Packet::PingResp => "PINGRESP",
            Packet::Disconnect(_) => "DISCONNECT",
            Packet::Auth(_) => "AUTH",
        }
    }
}
