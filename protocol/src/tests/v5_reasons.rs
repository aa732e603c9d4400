//! Reason codes per packet (§2.4, table 2-6), written out here by name from
//! the spec's table; every byte 0..=255 is tried on every packet that has a
//! reason code, and decodes exactly when the table lists it.

use super::*;
use ProtocolVersion::V5;
use ReasonCode::*;

fn allowed(packet_type: u8) -> Vec<ReasonCode> {
    match packet_type {
        2 => vec![
            Success,
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
            BadAuthenticationMethod,
            TopicNameInvalid,
            PacketTooLarge,
            QuotaExceeded,
            PayloadFormatInvalid,
            RetainNotSupported,
            QoSNotSupported,
            UseAnotherServer,
            ServerMoved,
            ConnectionRateExceeded,
        ],
        4 | 5 => vec![
            Success,
            NoMatchingSubscribers,
            UnspecifiedError,
            ImplementationSpecificError,
            NotAuthorized,
            TopicNameInvalid,
            PacketIdentifierInUse,
            QuotaExceeded,
            PayloadFormatInvalid,
        ],
        6 | 7 => vec![Success, PacketIdentifierNotFound],
        9 => vec![
            Success,
            GrantedQoS1,
            GrantedQoS2,
            UnspecifiedError,
            ImplementationSpecificError,
            NotAuthorized,
            TopicFilterInvalid,
            PacketIdentifierInUse,
            QuotaExceeded,
            SharedSubscriptionsNotSupported,
            SubscriptionIdentifiersNotSupported,
            WildcardSubscriptionsNotSupported,
        ],
        11 => vec![
            Success,
            NoSubscriptionExisted,
            UnspecifiedError,
            ImplementationSpecificError,
            NotAuthorized,
            TopicFilterInvalid,
            PacketIdentifierInUse,
        ],
        14 => vec![
            Success,
            DisconnectWithWillMessage,
            UnspecifiedError,
            MalformedPacket,
            ProtocolError,
            ImplementationSpecificError,
            NotAuthorized,
            ServerBusy,
            ServerShuttingDown,
            KeepAliveTimeout,
            SessionTakenOver,
            TopicFilterInvalid,
            TopicNameInvalid,
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
        ],
        15 => vec![Success, ContinueAuthentication, ReAuthenticate],
        _ => unreachable!(),
    }
}

/// A packet of `packet_type` whose only reason code is `code`.
fn with_code(packet_type: u8, code: u8) -> Vec<u8> {
    match packet_type {
        2 => vec![0x20, 3, 0, code, 0],
        4 | 5 | 7 => vec![packet_type << 4, 3, 0, 1, code],
        6 => vec![0x62, 3, 0, 1, code],
        9 | 11 => vec![packet_type << 4, 4, 0, 1, 0, code],
        14 | 15 => vec![packet_type << 4, 1, code],
        _ => unreachable!(),
    }
}

#[test]
fn v5_each_packet_accepts_only_its_reason_codes() {
    for packet_type in [2u8, 4, 5, 6, 7, 9, 11, 14, 15] {
        let table = allowed(packet_type);
        for code in 0..=255u8 {
            let got = decode_v(&with_code(packet_type, code), V5);
            let listed = table.iter().any(|c| *c as u8 == code);
            if listed {
                assert!(got.is_ok(), "type {packet_type} code {code:#04x}: {got:?}");
            } else {
                let err = DecodeError::InvalidReasonCode { packet_type, code };
                assert_eq!(got, Err(err.clone()), "type {packet_type} code {code:#04x}");
                assert_eq!(err.reason_code(), ProtocolError);
                assert!(err.normative_id().is_some(), "{err:?}");
            }
        }
    }
}

#[test]
fn v5_reason_code_normative_ids() {
    let id = |packet_type| {
        DecodeError::InvalidReasonCode {
            packet_type,
            code: 0x03,
        }
        .normative_id()
    };
    assert_eq!(id(2), Some("MQTT-3.2.2-8"));
    assert_eq!(id(4), Some("MQTT-3.4.2-1"));
    assert_eq!(id(6), Some("MQTT-3.6.2-1"));
    assert_eq!(id(9), Some("MQTT-3.9.3-2"));
    assert_eq!(id(11), Some("MQTT-3.11.3-2"));
    assert_eq!(id(14), Some("MQTT-3.14.2-1"));
    assert_eq!(id(15), Some("MQTT-3.15.2-1"));
}
