//! Decoding errors, one variant per rule a packet can break.
//!
//! Every variant knows the spec section it comes from and, where the spec
//! numbers the rule, its normative statement ID (MQTT 3.1.1's for the rules
//! both versions share, MQTT 5's for the MQTT 5 ones), so logs and protocol
//! tests can say exactly which MUST a peer violated. For MQTT 5 each also
//! knows the reason code to answer with ([`DecodeError::reason_code`], in
//! `error_reason.rs`).

use std::fmt;

/// Why a packet could not be decoded. All of them are protocol violations
/// after which the broker closes the connection: a 3.1.1 client without a
/// word, except [`DecodeError::UnsupportedProtocolLevel`], which it answers
/// with CONNACK 0x01 first; an MQTT 5 client after a CONNACK or DISCONNECT
/// with [`DecodeError::reason_code`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Remaining length continues past its 4th byte (§2.2.3).
    MalformedRemainingLength,
    /// Whole packet (fixed header included) larger than the configured limit.
    PacketTooLarge { size: usize, max: usize },
    /// CONNECT protocol level we do not speak: answer CONNACK 1 [MQTT-3.1.2-2].
    UnsupportedProtocolLevel(u8),
    /// CONNECT protocol name is neither `MQTT` nor `MQIsdp` [MQTT-3.1.2-1].
    InvalidProtocolName,
    /// Packet type 0 or 15, both reserved (§2.2.1).
    ReservedPacketType(u8),
    /// Fixed-header flags other than the ones the packet type prescribes
    /// [MQTT-2.2.2-1]; PUBREL, SUBSCRIBE, UNSUBSCRIBE have their own IDs.
    InvalidHeaderFlags { packet_type: u8, flags: u8 },
    /// PUBLISH with both QoS bits set [MQTT-3.3.1-4].
    InvalidPublishQoS,
    /// PUBLISH with DUP set at QoS 0 [MQTT-3.3.1-2].
    DupWithQoS0,
    /// Packet identifier 0 where one is required [MQTT-2.3.1-1].
    ZeroPacketId { packet_type: u8 },
    /// CONNECT flags bit 0 is set [MQTT-3.1.2-3].
    ConnectReservedFlag,
    /// Will flag 0 but will QoS non-zero [MQTT-3.1.2-13] (also -11).
    WillQoSWithoutWill,
    /// Will flag 0 but will retain set [MQTT-3.1.2-15] (also -11).
    WillRetainWithoutWill,
    /// Will QoS 3 [MQTT-3.1.2-14].
    InvalidWillQoS,
    /// Password flag set without user name flag [MQTT-3.1.2-22].
    PasswordWithoutUsername,
    /// CONNACK acknowledge flags with reserved bits 7..1 set (§3.2.2.1).
    InvalidConnAckFlags(u8),
    /// CONNACK return code 6..=255, reserved (§3.2.2.3).
    InvalidConnectReturnCode(u8),
    /// CONNACK refusing the connection yet saying a session is present
    /// [MQTT-3.2.2-4].
    SessionPresentOnRefusal,
    /// SUBSCRIBE without any topic filter [MQTT-3.8.3-3].
    SubscribeWithoutFilters,
    /// SUBSCRIBE requested-QoS byte with reserved bits set or QoS 3
    /// [MQTT-3-8.3-4] (the spec's own spelling of the ID).
    InvalidSubscribeQoS(u8),
    /// SUBACK without any return code (§3.9.3).
    SubAckWithoutCodes,
    /// SUBACK return code other than 0, 1, 2, 0x80 [MQTT-3.9.3-2].
    InvalidSubAckCode(u8),
    /// UNSUBSCRIBE without any topic filter [MQTT-3.10.3-2].
    UnsubscribeWithoutFilters,
    /// String that is not well-formed UTF-8 or encodes a surrogate
    /// [MQTT-1.5.3-1].
    InvalidUtf8,
    /// String containing U+0000 [MQTT-1.5.3-2].
    NullCharacter,
    /// Topic name or filter of zero length [MQTT-4.7.3-1].
    EmptyTopic,
    /// Topic name (not filter) containing `+` or `#` [MQTT-3.3.2-2].
    WildcardInTopicName,
    /// `#` not alone in the last level of a filter [MQTT-4.7.1-2].
    InvalidMultiLevelWildcard,
    /// `+` sharing its level with other characters [MQTT-4.7.1-3].
    InvalidSingleLevelWildcard,
    /// A fixed-size field (byte, u16) runs past the remaining length (§2.2.3).
    Truncated { packet_type: u8 },
    /// A length prefix promises more bytes than the packet has (§1.5.3).
    LengthPastEnd {
        packet_type: u8,
        len: usize,
        available: usize,
    },
    /// Bytes left after the last field of a variable-size packet (§2.2.3).
    TrailingBytes { packet_type: u8, extra: usize },
    /// Fixed-size packet (CONNACK, acks, PINGs, DISCONNECT) with the wrong
    /// remaining length (§2.2.3 and the packet's own section).
    InvalidRemainingLength {
        packet_type: u8,
        expected: usize,
        actual: usize,
    },
    /// API misuse: the frame handed to `decode_packet` is not the length its
    /// header announces.
    FrameLengthMismatch { expected: usize, actual: usize },

    // ---- MQTT 5 only ----
    /// Variable Byte Integer continuing past its 4th byte (§1.5.5).
    MalformedVarInt,
    /// Variable Byte Integer not in its shortest form [MQTT-1.5.5-1].
    NonMinimalVarInt,
    /// Property identifier MQTT 5 does not define (§2.2.2.2).
    UnknownProperty { packet_type: u8, id: u8 },
    /// A property this packet may not carry (§2.2.2.2). Will properties
    /// report `packet_type` CONNECT.
    PropertyNotAllowed { packet_type: u8, id: u8 },
    /// A property that may appear once appears again (every property but
    /// User Property, and Subscription Identifier on PUBLISH; §3.x.2.x of
    /// each property: "It is a Protocol Error to include ... more than once").
    DuplicateProperty { packet_type: u8, id: u8 },
    /// A property value outside its range: a 0/1 byte that is neither,
    /// Maximum QoS above 1, Receive Maximum 0, Maximum Packet Size 0,
    /// Subscription Identifier 0, Topic Alias 0 [MQTT-3.3.2-8].
    InvalidPropertyValue { packet_type: u8, id: u8, value: u32 },
    /// Authentication Data without Authentication Method (§3.1.2.11.10).
    AuthDataWithoutMethod { packet_type: u8 },
    /// A reason code this packet may not carry (§2.4, and each packet's
    /// "MUST use one of the ... Reason Codes").
    InvalidReasonCode { packet_type: u8, code: u8 },
    /// PUBLISH with an empty topic name and no Topic Alias (§3.3.2.1).
    EmptyTopicWithoutAlias,
    /// SUBSCRIBE options with reserved bits 7..6 set [MQTT-3.8.3-5].
    SubscriptionOptionsReserved(u8),
    /// SUBSCRIBE Retain Handling 3 (§3.8.3.1).
    InvalidRetainHandling(u8),
    /// No Local set on a shared subscription [MQTT-3.8.3-4].
    NoLocalOnSharedSubscription,
    /// UNSUBACK without any reason code (§3.11.3).
    UnsubAckWithoutCodes,
    /// PUBLISH from a client carrying a Subscription Identifier
    /// [MQTT-3.3.4-6] (see [`crate::check_client_publish`]).
    SubscriptionIdFromClient,
    /// PUBLISH from a client with a Topic Alias above the maximum the server
    /// announced [MQTT-3.3.2-9] (see [`crate::check_client_publish`]).
    TopicAliasAboveMaximum { alias: u16, max: u16 },
}

impl DecodeError {
    /// The MQTT 3.1.1 normative statement this error violates, if the spec
    /// numbers the rule.
    pub fn normative_id(&self) -> Option<&'static str> {
        use DecodeError::*;
        Some(match self {
            UnsupportedProtocolLevel(_) => "MQTT-3.1.2-2",
            InvalidProtocolName => "MQTT-3.1.2-1",
            InvalidHeaderFlags { packet_type, .. } => match packet_type {
                6 => "MQTT-3.6.1-1",
                8 => "MQTT-3.8.1-1",
                10 => "MQTT-3.10.1-1",
                _ => "MQTT-2.2.2-1",
            },
            InvalidPublishQoS => "MQTT-3.3.1-4",
            DupWithQoS0 => "MQTT-3.3.1-2",
            ZeroPacketId { .. } => "MQTT-2.3.1-1",
            ConnectReservedFlag => "MQTT-3.1.2-3",
            WillQoSWithoutWill => "MQTT-3.1.2-13",
            WillRetainWithoutWill => "MQTT-3.1.2-15",
            InvalidWillQoS => "MQTT-3.1.2-14",
            PasswordWithoutUsername => "MQTT-3.1.2-22",
            SessionPresentOnRefusal => "MQTT-3.2.2-4",
            SubscribeWithoutFilters => "MQTT-3.8.3-3",
            InvalidSubscribeQoS(_) => "MQTT-3-8.3-4",
            InvalidSubAckCode(_) => "MQTT-3.9.3-2",
            UnsubscribeWithoutFilters => "MQTT-3.10.3-2",
            InvalidUtf8 => "MQTT-1.5.3-1",
            NullCharacter => "MQTT-1.5.3-2",
            EmptyTopic => "MQTT-4.7.3-1",
            WildcardInTopicName => "MQTT-3.3.2-2",
            InvalidMultiLevelWildcard => "MQTT-4.7.1-2",
            InvalidSingleLevelWildcard => "MQTT-4.7.1-3",
            NonMinimalVarInt => "MQTT-1.5.5-1",
            InvalidPropertyValue { id: 0x23, .. } => "MQTT-3.3.2-8",
            InvalidReasonCode { packet_type, .. } => match packet_type {
                2 => "MQTT-3.2.2-8",
                4 => "MQTT-3.4.2-1",
                5 => "MQTT-3.5.2-1",
                6 => "MQTT-3.6.2-1",
                7 => "MQTT-3.7.2-1",
                9 => "MQTT-3.9.3-2",
                11 => "MQTT-3.11.3-2",
                14 => "MQTT-3.14.2-1",
                15 => "MQTT-3.15.2-1",
                _ => return None,
            },
            SubscriptionOptionsReserved(_) => "MQTT-3.8.3-5",
            NoLocalOnSharedSubscription => "MQTT-3.8.3-4",
            SubscriptionIdFromClient => "MQTT-3.3.4-6",
            TopicAliasAboveMaximum { .. } => "MQTT-3.3.2-9",
            MalformedVarInt
            | UnknownProperty { .. }
            | PropertyNotAllowed { .. }
            | DuplicateProperty { .. }
            | InvalidPropertyValue { .. }
            | AuthDataWithoutMethod { .. }
            | EmptyTopicWithoutAlias
            | InvalidRetainHandling(_)
            | UnsubAckWithoutCodes
            | MalformedRemainingLength
            | PacketTooLarge { .. }
            | ReservedPacketType(_)
            | InvalidConnAckFlags(_)
            | InvalidConnectReturnCode(_)
            | SubAckWithoutCodes
            | Truncated { .. }
            | LengthPastEnd { .. }
            | TrailingBytes { .. }
            | InvalidRemainingLength { .. }
            | FrameLengthMismatch { .. } => return None,
        })
    }

    /// The broker answers this one with CONNACK 0x01 before closing
    /// [MQTT-3.1.2-2]; every other error just closes the connection.
    pub fn is_unsupported_protocol_level(&self) -> bool {
        matches!(self, DecodeError::UnsupportedProtocolLevel(_))
    }

    /// The peer sent something the spec forbids (as opposed to a packet
    /// merely larger than our limit, or a caller bug).
    pub fn is_protocol_violation(&self) -> bool {
        !matches!(
            self,
            DecodeError::PacketTooLarge { .. } | DecodeError::FrameLengthMismatch { .. }
        )
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DecodeError::*;
        match self {
            MalformedRemainingLength => {
                f.write_str("remaining length longer than 4 bytes (§2.2.3)")
            }
            PacketTooLarge { size, max } => {
                write!(f, "packet of {size} bytes exceeds maximum {max}")
            }
            UnsupportedProtocolLevel(l) => write!(f, "unsupported protocol level {l}"),
            InvalidProtocolName => f.write_str("CONNECT protocol name is not MQTT or MQIsdp"),
            ReservedPacketType(t) => write!(f, "reserved packet type {t} (§2.2.1)"),
            InvalidHeaderFlags { packet_type, flags } => {
                write!(
                    f,
                    "{} fixed header flags {flags:#06b} are invalid",
                    type_name(*packet_type)
                )
            }
            InvalidPublishQoS => f.write_str("PUBLISH QoS is 3"),
            DupWithQoS0 => f.write_str("PUBLISH DUP flag set with QoS 0"),
            ZeroPacketId { packet_type } => {
                write!(f, "{} packet identifier is 0", type_name(*packet_type))
            }
            ConnectReservedFlag => f.write_str("CONNECT reserved flag is not 0"),
            WillQoSWithoutWill => f.write_str("CONNECT will QoS set without will flag"),
            WillRetainWithoutWill => f.write_str("CONNECT will retain set without will flag"),
            InvalidWillQoS => f.write_str("CONNECT will QoS is 3"),
            PasswordWithoutUsername => {
                f.write_str("CONNECT password flag set without user name flag")
            }
            InvalidConnAckFlags(b) => write!(f, "CONNACK reserved flags set: {b:#04x} (§3.2.2.1)"),
            InvalidConnectReturnCode(c) => {
                write!(f, "CONNACK return code {c} is reserved (§3.2.2.3)")
            }
            SessionPresentOnRefusal => f.write_str("CONNACK refuses but sets session present"),
            SubscribeWithoutFilters => f.write_str("SUBSCRIBE has no topic filter"),
            InvalidSubscribeQoS(b) => write!(f, "SUBSCRIBE requested QoS byte {b:#04x} is invalid"),
            SubAckWithoutCodes => f.write_str("SUBACK has no return code (§3.9.3)"),
            InvalidSubAckCode(c) => write!(f, "SUBACK return code {c:#04x} is reserved"),
            UnsubscribeWithoutFilters => f.write_str("UNSUBSCRIBE has no topic filter"),
            InvalidUtf8 => f.write_str("string is not well-formed UTF-8"),
            NullCharacter => f.write_str("string contains U+0000"),
            EmptyTopic => f.write_str("topic is empty"),
            WildcardInTopicName => f.write_str("topic name contains a wildcard"),
            InvalidMultiLevelWildcard => f.write_str("'#' is not alone in the last topic level"),
            InvalidSingleLevelWildcard => f.write_str("'+' is not alone in its topic level"),
            Truncated { packet_type } => write!(
                f,
                "{} ends inside a field (§2.2.3)",
                type_name(*packet_type)
            ),
            LengthPastEnd {
                packet_type,
                len,
                available,
            } => write!(
                f,
                "{} field length {len} exceeds the {available} bytes left (§1.5.3)",
                type_name(*packet_type)
            ),
            TrailingBytes { packet_type, extra } => {
                write!(
                    f,
                    "{} has {extra} bytes after its last field (§2.2.3)",
                    type_name(*packet_type)
                )
            }
            InvalidRemainingLength {
                packet_type,
                expected,
                actual,
            } => write!(
                f,
                "{} remaining length is {actual}, must be {expected} (§2.2.3)",
                type_name(*packet_type)
            ),
            FrameLengthMismatch { expected, actual } => {
                write!(f, "frame is {actual} bytes but its header says {expected}")
            }
            MalformedVarInt => f.write_str("variable byte integer longer than 4 bytes (§1.5.5)"),
            NonMinimalVarInt => f.write_str("variable byte integer not in its shortest form"),
            UnknownProperty { packet_type, id } => write!(
                f,
                "{} has unknown property {id:#04x} (§2.2.2.2)",
                type_name(*packet_type)
            ),
            PropertyNotAllowed { packet_type, id } => write!(
                f,
                "{} may not carry property {id:#04x} (§2.2.2.2)",
                type_name(*packet_type)
            ),
            DuplicateProperty { packet_type, id } => write!(
                f,
                "{} has property {id:#04x} more than once",
                type_name(*packet_type)
            ),
            InvalidPropertyValue {
                packet_type,
                id,
                value,
            } => write!(
                f,
                "{} property {id:#04x} has invalid value {value}",
                type_name(*packet_type)
            ),
            AuthDataWithoutMethod { packet_type } => write!(
                f,
                "{} has authentication data without authentication method",
                type_name(*packet_type)
            ),
            InvalidReasonCode { packet_type, code } => write!(
                f,
                "{} may not carry reason code {code:#04x}",
                type_name(*packet_type)
            ),
            EmptyTopicWithoutAlias => {
                f.write_str("PUBLISH has an empty topic and no topic alias (§3.3.2.1)")
            }
            SubscriptionOptionsReserved(b) => {
                write!(f, "SUBSCRIBE options {b:#04x} have reserved bits set")
            }
            InvalidRetainHandling(b) => {
                write!(f, "SUBSCRIBE options {b:#04x} have retain handling 3")
            }
            NoLocalOnSharedSubscription => {
                f.write_str("SUBSCRIBE sets no local on a shared subscription")
            }
            UnsubAckWithoutCodes => f.write_str("UNSUBACK has no reason code (§3.11.3)"),
            SubscriptionIdFromClient => {
                f.write_str("PUBLISH from a client carries a subscription identifier")
            }
            TopicAliasAboveMaximum { alias, max } => {
                write!(f, "PUBLISH topic alias {alias} exceeds the maximum {max}")
            }
        }
    }
}

/// Packet type name for messages; decoding only ever reports types 1..=15.
fn type_name(packet_type: u8) -> &'static str {
    const NAMES: [&str; 16] = [
        "RESERVED",
        "CONNECT",
        "CONNACK",
        "PUBLISH",
        "PUBACK",
        "PUBREC",
        "PUBREL",
        "PUBCOMP",
        "SUBSCRIBE",
        "SUBACK",
        "UNSUBSCRIBE",
        "UNSUBACK",
        "PINGREQ",
        "PINGRESP",
        "DISCONNECT",
        "AUTH",
    ];
    NAMES[usize::from(packet_type & 0x0F)]
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(id) = self.normative_id() {
            write!(f, "[{id}] ")?;
        }
        self.describe(f)
    }
}

impl std::error::Error for DecodeError {}
