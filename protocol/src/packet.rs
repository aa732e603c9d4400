//! Packet types shared by the MQTT 3.1, 3.1.1 (and later 5.0) codecs.
//!
//! Strings are [`MqttStr`]: validated UTF-8 backed by `Bytes`, so a topic or
//! payload decoded from a frame shares that frame's single allocation and is
//! shared again, without copying, by every delivery on every shard.

use bytes::Bytes;
use std::fmt;

/// Protocol level carried in CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolVersion {
    /// MQTT 3.1: protocol name `MQIsdp`, level 3.
    V3_1,
    /// MQTT 3.1.1: protocol name `MQTT`, level 4.
    V3_1_1,
    /// MQTT 5.0: protocol name `MQTT`, level 5 (not accepted yet).
    V5,
}

impl ProtocolVersion {
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
    pub fn from_u8(v: u8) -> Option<QoS> {
        match v {
            0 => Some(QoS::AtMostOnce),
            1 => Some(QoS::AtLeastOnce),
            2 => Some(QoS::ExactlyOnce),
            _ => None,
        }
    }
}

/// A UTF-8 string that passed MQTT's string rules ([MQTT-1.5.3-1],
/// [MQTT-1.5.3-2]), stored as `Bytes` so clones are reference counts.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct MqttStr(Bytes);

// By hand, not derived: `Borrow<str>` promises the same hash as `str`
// (Bytes hashes like `[u8]`, with a length prefix), or maps keyed by
// `MqttStr` would never find a `&str`.
impl std::hash::Hash for MqttStr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl MqttStr {
    /// Wrap bytes the caller has already validated as UTF-8.
    ///
    /// # Safety (logical, not memory)
    /// Callers must have checked UTF-8; `as_str` relies on it.
    pub fn from_validated(b: Bytes) -> MqttStr {
        debug_assert!(std::str::from_utf8(&b).is_ok());
        MqttStr(b)
    }
    pub fn from_static(s: &'static str) -> MqttStr {
        MqttStr(Bytes::from_static(s.as_bytes()))
    }
    pub fn as_str(&self) -> &str {
        // Constructed only from validated UTF-8 (from_validated/From<String>/from_static).
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    pub fn bytes(&self) -> &Bytes {
        &self.0
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for MqttStr {
    fn from(s: String) -> MqttStr {
        MqttStr(Bytes::from(s.into_bytes()))
    }
}

impl From<&str> for MqttStr {
    fn from(s: &str) -> MqttStr {
        MqttStr(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl std::ops::Deref for MqttStr {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for MqttStr {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for MqttStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for MqttStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Will message carried by CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Will {
    pub topic: MqttStr,
    pub payload: Bytes,
    pub qos: QoS,
    pub retain: bool,
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

/// CONNACK (§3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnAck {
    pub session_present: bool,
    pub code: ConnectReturnCode,
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
}

/// SUBSCRIBE (§3.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    pub packet_id: u16,
    pub filters: Vec<(MqttStr, QoS)>,
}

/// One SUBACK return code (§3.9.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubackCode {
    Granted(QoS),
    Failure,
}

impl SubackCode {
    pub fn to_u8(self) -> u8 {
        match self {
            SubackCode::Granted(q) => q as u8,
            SubackCode::Failure => 0x80,
        }
    }
}

/// SUBACK (§3.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAck {
    pub packet_id: u16,
    pub codes: Vec<SubackCode>,
}

/// UNSUBSCRIBE (§3.10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    pub packet_id: u16,
    pub filters: Vec<MqttStr>,
}

/// Every MQTT 3.1/3.1.1 control packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    Connect(Box<Connect>),
    ConnAck(ConnAck),
    Publish(Publish),
    PubAck(u16),
    PubRec(u16),
    PubRel(u16),
    PubComp(u16),
    Subscribe(Subscribe),
    SubAck(SubAck),
    Unsubscribe(Unsubscribe),
    UnsubAck(u16),
    PingReq,
    PingResp,
    Disconnect,
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
            Packet::Disconnect => "DISCONNECT",
        }
    }
}
