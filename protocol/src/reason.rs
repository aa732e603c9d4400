//! MQTT 5 reason codes (§2.4) and how they map onto MQTT 3.1/3.1.1's
//! CONNACK return codes and SUBACK codes.
//!
//! The broker decides in reason codes whatever the client's version; the v3
//! encoder narrows them to what 3.1.1 can say. One enum serves every packet:
//! which codes a packet may carry is the v5 decoder's check, not the type's.

use crate::packet::{ConnectReturnCode, QoS};

/// Every reason code MQTT 5.0 defines (§2.4, table 2-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum ReasonCode {
    /// Success, Normal disconnection, Granted QoS 0.
    Success = 0x00,
    GrantedQoS1 = 0x01,
    GrantedQoS2 = 0x02,
    DisconnectWithWillMessage = 0x04,
    NoMatchingSubscribers = 0x10,
    NoSubscriptionExisted = 0x11,
    ContinueAuthentication = 0x18,
    ReAuthenticate = 0x19,
    UnspecifiedError = 0x80,
    MalformedPacket = 0x81,
    ProtocolError = 0x82,
    ImplementationSpecificError = 0x83,
    UnsupportedProtocolVersion = 0x84,
    ClientIdentifierNotValid = 0x85,
    BadUserNameOrPassword = 0x86,
    NotAuthorized = 0x87,
    ServerUnavailable = 0x88,
    ServerBusy = 0x89,
    Banned = 0x8A,
    ServerShuttingDown = 0x8B,
    BadAuthenticationMethod = 0x8C,
    KeepAliveTimeout = 0x8D,
    SessionTakenOver = 0x8E,
    TopicFilterInvalid = 0x8F,
    TopicNameInvalid = 0x90,
    PacketIdentifierInUse = 0x91,
    PacketIdentifierNotFound = 0x92,
    ReceiveMaximumExceeded = 0x93,
    TopicAliasInvalid = 0x94,
    PacketTooLarge = 0x95,
    MessageRateTooHigh = 0x96,
    QuotaExceeded = 0x97,
    AdministrativeAction = 0x98,
    PayloadFormatInvalid = 0x99,
    RetainNotSupported = 0x9A,
    QoSNotSupported = 0x9B,
    UseAnotherServer = 0x9C,
    ServerMoved = 0x9D,
    SharedSubscriptionsNotSupported = 0x9E,
    ConnectionRateExceeded = 0x9F,
    MaximumConnectTime = 0xA0,
    SubscriptionIdentifiersNotSupported = 0xA1,
    WildcardSubscriptionsNotSupported = 0xA2,
}

impl ReasonCode {
    /// Every code, in wire order (for tables, metrics labels and tests).
    pub const ALL: [ReasonCode; 43] = {
        use ReasonCode::*;
        [
            Success,
            GrantedQoS1,
            GrantedQoS2,
            DisconnectWithWillMessage,
            NoMatchingSubscribers,
            NoSubscriptionExisted,
            ContinueAuthentication,
            ReAuthenticate,
            UnspecifiedError,
            MalformedPacket,
            ProtocolError,
            ImplementationSpecificError,
            UnsupportedProtocolVersion,
            ClientIdentifierNotValid,
            BadUserNameOrPassword,
            NotAuthorized,
            ServerUnavailable,
            ServerBusy,
            Banned,
            ServerShuttingDown,
            BadAuthenticationMethod,
            KeepAliveTimeout,
            SessionTakenOver,
            TopicFilterInvalid,
            TopicNameInvalid,
            PacketIdentifierInUse,
            PacketIdentifierNotFound,
            ReceiveMaximumExceeded,
            TopicAliasInvalid,
            PacketTooLarge,
            MessageRateTooHigh,
            QuotaExceeded,
            AdministrativeAction,
            PayloadFormatInvalid,
            RetainNotSupported,
            QoSNotSupported,
            UseAnotherServer,
            ServerMoved,
            SharedSubscriptionsNotSupported,
            ConnectionRateExceeded,
            MaximumConnectTime,
            SubscriptionIdentifiersNotSupported,
            WildcardSubscriptionsNotSupported,
        ]
    };

    /// The code with this wire value, if MQTT 5 defines one.
    pub fn from_u8(v: u8) -> Option<ReasonCode> {
        // ALL is sorted by value: a binary search keeps this branch-light.
        ReasonCode::ALL
            .binary_search_by_key(&v, |c| *c as u8)
            .ok()
            .map(|i| ReasonCode::ALL[i])
    }

    /// The granted-QoS code of a SUBACK.
    #[inline]
    pub fn granted(qos: QoS) -> ReasonCode {
        match qos {
            QoS::AtMostOnce => ReasonCode::Success,
            QoS::AtLeastOnce => ReasonCode::GrantedQoS1,
            QoS::ExactlyOnce => ReasonCode::GrantedQoS2,
        }
    }

    /// 0x80 and above are failures (§2.4).
    #[inline]
    pub fn is_error(self) -> bool {
        self as u8 >= 0x80
    }

    /// The 3.1/3.1.1 CONNACK return code closest to this refusal. 3.1.1 has
    /// five; everything without its own goes to "server unavailable" (3) or,
    /// for refusals of who the client is, "not authorized" (5).
    pub fn to_v3_connack(self) -> ConnectReturnCode {
        use ReasonCode::*;
        match self {
            Success => ConnectReturnCode::Accepted,
            UnsupportedProtocolVersion => ConnectReturnCode::UnacceptableProtocolVersion,
            ClientIdentifierNotValid => ConnectReturnCode::IdentifierRejected,
            BadUserNameOrPassword => ConnectReturnCode::BadUserNameOrPassword,
            NotAuthorized | Banned | BadAuthenticationMethod => ConnectReturnCode::NotAuthorized,
            _ => ConnectReturnCode::ServerUnavailable,
        }
    }

    /// The 3.1.1 SUBACK byte: granted QoS as is, any failure as 0x80.
    #[inline]
    pub fn to_v3_suback(self) -> u8 {
        match self {
            ReasonCode::Success | ReasonCode::GrantedQoS1 | ReasonCode::GrantedQoS2 => self as u8,
            _ => 0x80,
        }
    }

    /// Name for logs and metrics labels, snake case.
    pub fn name(self) -> &'static str {
        use ReasonCode::*;
        match self {
            Success => "success",
            GrantedQoS1 => "granted_qos1",
            GrantedQoS2 => "granted_qos2",
            DisconnectWithWillMessage => "disconnect_with_will_message",
            NoMatchingSubscribers => "no_matching_subscribers",
            NoSubscriptionExisted => "no_subscription_existed",
            ContinueAuthentication => "continue_authentication",
            ReAuthenticate => "re_authenticate",
            UnspecifiedError => "unspecified_error",
            MalformedPacket => "malformed_packet",
            ProtocolError => "protocol_error",
            ImplementationSpecificError => "implementation_specific_error",
            UnsupportedProtocolVersion => "unsupported_protocol_version",
            ClientIdentifierNotValid => "client_identifier_not_valid",
            BadUserNameOrPassword => "bad_user_name_or_password",
            NotAuthorized => "not_authorized",
            ServerUnavailable => "server_unavailable",
            ServerBusy => "server_busy",
            Banned => "banned",
            ServerShuttingDown => "server_shutting_down",
            BadAuthenticationMethod => "bad_authentication_method",
            KeepAliveTimeout => "keep_alive_timeout",
            SessionTakenOver => "session_taken_over",
            TopicFilterInvalid => "topic_filter_invalid",
            TopicNameInvalid => "topic_name_invalid",
            PacketIdentifierInUse => "packet_identifier_in_use",
            PacketIdentifierNotFound => "packet_identifier_not_found",
            ReceiveMaximumExceeded => "receive_maximum_exceeded",
            TopicAliasInvalid => "topic_alias_invalid",
            PacketTooLarge => "packet_too_large",
            MessageRateTooHigh => "message_rate_too_high",
            QuotaExceeded => "quota_exceeded",
            AdministrativeAction => "administrative_action",
            PayloadFormatInvalid => "payload_format_invalid",
            RetainNotSupported => "retain_not_supported",
            QoSNotSupported => "qos_not_supported",
            UseAnotherServer => "use_another_server",
            ServerMoved => "server_moved",
            SharedSubscriptionsNotSupported => "shared_subscriptions_not_supported",
            ConnectionRateExceeded => "connection_rate_exceeded",
            MaximumConnectTime => "maximum_connect_time",
            SubscriptionIdentifiersNotSupported => "subscription_identifiers_not_supported",
            WildcardSubscriptionsNotSupported => "wildcard_subscriptions_not_supported",
        }
    }
}

impl ConnectReturnCode {
    /// The MQTT 5 reason code a 3.1.1 CONNACK return code stands for.
    pub fn to_reason(self) -> ReasonCode {
        match self {
            ConnectReturnCode::Accepted => ReasonCode::Success,
            ConnectReturnCode::UnacceptableProtocolVersion => {
                ReasonCode::UnsupportedProtocolVersion
            }
            ConnectReturnCode::IdentifierRejected => ReasonCode::ClientIdentifierNotValid,
            ConnectReturnCode::ServerUnavailable => ReasonCode::ServerUnavailable,
            ConnectReturnCode::BadUserNameOrPassword => ReasonCode::BadUserNameOrPassword,
            ConnectReturnCode::NotAuthorized => ReasonCode::NotAuthorized,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_sorted_and_round_trips() {
        for w in ReasonCode::ALL.windows(2) {
            assert!((w[0] as u8) < (w[1] as u8));
        }
        for v in 0..=255u8 {
            if let Some(c) = ReasonCode::from_u8(v) {
                assert_eq!(c as u8, v);
            }
        }
        assert_eq!(ReasonCode::from_u8(0x03), None);
        assert_eq!(ReasonCode::from_u8(0xA3), None);
    }

    #[test]
    fn v3_mappings() {
        for rc in [1u8, 2, 3, 4, 5] {
            let c = ConnectReturnCode::from_u8(rc).unwrap();
            assert_eq!(c.to_reason().to_v3_connack(), c);
        }
        assert_eq!(
            ReasonCode::QuotaExceeded.to_v3_connack(),
            ConnectReturnCode::ServerUnavailable
        );
        assert_eq!(ReasonCode::GrantedQoS2.to_v3_suback(), 2);
        assert_eq!(ReasonCode::TopicFilterInvalid.to_v3_suback(), 0x80);
    }
}
