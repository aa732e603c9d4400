//! Which MQTT 5 reason code answers which [`DecodeError`] (§4.13): kept
//! apart from the error list so the mapping reads as one table.

use crate::error::DecodeError;
use crate::reason::ReasonCode;

impl DecodeError {
    /// The MQTT 5 reason code to answer this error with, in a CONNACK
    /// (while connecting) or a DISCONNECT (§4.13): 0x81 Malformed Packet
    /// where the bytes cannot be parsed as the packet, 0x82 Protocol Error
    /// where they parse but break a rule, and the specific codes the spec
    /// names (0x84, 0x94, 0x95, 0x8F, 0x90).
    pub fn reason_code(&self) -> ReasonCode {
        use DecodeError::*;
        match self {
            PacketTooLarge { .. } => ReasonCode::PacketTooLarge,
            UnsupportedProtocolLevel(_) | InvalidProtocolName => {
                ReasonCode::UnsupportedProtocolVersion
            }
            InvalidPropertyValue { id: 0x23, .. } | TopicAliasAboveMaximum { .. } => {
                ReasonCode::TopicAliasInvalid
            }
            WildcardInTopicName => ReasonCode::TopicNameInvalid,
            InvalidMultiLevelWildcard | InvalidSingleLevelWildcard => {
                ReasonCode::TopicFilterInvalid
            }
            ZeroPacketId { .. }
            | SessionPresentOnRefusal
            | SubscribeWithoutFilters
            | UnsubscribeWithoutFilters
            | InvalidSubscribeQoS(_)
            | SubAckWithoutCodes
            | UnsubAckWithoutCodes
            | InvalidSubAckCode(_)
            | EmptyTopic
            | DuplicateProperty { .. }
            | InvalidPropertyValue { .. }
            | AuthDataWithoutMethod { .. }
            | InvalidReasonCode { .. }
            | EmptyTopicWithoutAlias
            | InvalidRetainHandling(_)
            | NoLocalOnSharedSubscription
            | SubscriptionIdFromClient => ReasonCode::ProtocolError,
            FrameLengthMismatch { .. } => ReasonCode::ImplementationSpecificError,
            MalformedRemainingLength
            | ReservedPacketType(_)
            | InvalidHeaderFlags { .. }
            | InvalidPublishQoS
            | DupWithQoS0
            | ConnectReservedFlag
            | WillQoSWithoutWill
            | WillRetainWithoutWill
            | InvalidWillQoS
            | PasswordWithoutUsername
            | InvalidConnAckFlags(_)
            | InvalidConnectReturnCode(_)
            | InvalidUtf8
            | NullCharacter
            | Truncated { .. }
            | LengthPastEnd { .. }
            | TrailingBytes { .. }
            | InvalidRemainingLength { .. }
            | MalformedVarInt
            | NonMinimalVarInt
            | UnknownProperty { .. }
            | PropertyNotAllowed { .. }
            | SubscriptionOptionsReserved(_) => ReasonCode::MalformedPacket,
        }
    }
}
